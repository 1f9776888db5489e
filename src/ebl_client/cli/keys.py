"""`ebl keys`: create and inspect eth-account keystore files (the key itself is never printed)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from .. import keys
from ..errors import LocalFileError, SignerError
from .app import Context, pass_ctx, signer_options
from .files import checked_folder, write_text
from .output import emit_json


@click.group("keys")
def keys_group() -> None:
    """Create and inspect eth-account keystore files."""


@keys_group.command("new")
@click.argument("path", type=click.Path(path_type=Path))
@pass_ctx
def keys_new(ctx: Context, path: Path) -> None:
    """Create a new key encrypted to PATH (password from $EBL_KEYSTORE_PASSWORD or a prompt). PATH must not
    exist; its folder is made when missing. The file is written whole (mode 0600) or not at all."""
    from eth_account import Account

    refusal = "it already exists; refusing to overwrite a keystore"
    if path.exists() or path.is_symlink():
        raise LocalFileError(path, refusal, "write", "keystore")
    checked_folder(path.parent, "keystore folder")
    password = os.environ.get(keys.PASSWORD_ENV)
    if not password:
        if not sys.stdin.isatty():
            raise SignerError(f"a new keystore needs a password: set ${keys.PASSWORD_ENV} (no terminal to ask on)")
        password = click.prompt("New keystore password", hide_input=True, confirmation_prompt=True)
    account = Account.create()
    keyfile = Account.encrypt(account.key, password)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LocalFileError.of(exc, path, "write", "keystore") from None
    write_text(path, json.dumps(keyfile), what="keystore", mode=0o600, refusal=refusal)
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
