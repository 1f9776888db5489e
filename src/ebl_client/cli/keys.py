"""`ebl keys`: create and inspect eth-account keystore files (the key itself is never printed)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from .. import keys
from ..errors import InvalidInput
from .app import Context, pass_ctx, signer_options
from .output import emit_json


@click.group("keys")
def keys_group() -> None:
    """Create and inspect eth-account keystore files."""


@keys_group.command("new")
@click.argument("path", type=click.Path(path_type=Path))
@pass_ctx
def keys_new(ctx: Context, path: Path) -> None:
    """Create a new key encrypted to PATH (password from $EBL_KEYSTORE_PASSWORD or a prompt)."""
    from eth_account import Account

    if path.exists():
        raise InvalidInput(f"{path} already exists; refusing to overwrite a keystore")
    password = os.environ.get(keys.PASSWORD_ENV) or click.prompt(
        "New keystore password", hide_input=True, confirmation_prompt=True)
    account = Account.create()
    keys.write_keystore(account, path, password)
    if ctx.as_json:
        emit_json({"address": account.address, "keystore": str(path)})
    else:
        click.echo(f"{account.address} -> {path}")


@keys_group.command("address")
@signer_options
@pass_ctx
def keys_address(ctx: Context) -> None:
    """Print the address of the configured key (never the key)."""
    address = ctx.signer().address
    if ctx.as_json:
        emit_json({"address": address})
    else:
        click.echo(address)
