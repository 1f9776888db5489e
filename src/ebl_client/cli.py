"""The `ebl` command: run a node, deploy the suite, manage participants (bills, credit and financing
commands join as their contracts land). Human tables by default, `--json` for machines.

Every failure the client knows of prints one line `error: ...` on stderr and exits 1; nothing is
written (manifest, keystore) unless the action succeeded.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.table import Table

from . import deployment as deployments
from . import keys
from .chain import Chain, to_address
from .errors import EblError, InvalidInput
from .hashing import identifier_hash, new_salt
from .models import Participant, Role
from .networks import PROFILES, profile
from .node import AnvilNode
from .participants import Participants

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_STATE_FILE = Path(".ebl/anvil-state.json")


@dataclass
class Context:
    rpc_url: str | None
    network: str
    chain_id: int | None
    deployments_dir: Path
    as_json: bool
    _chain: Chain | None = None

    def chain(self) -> Chain:
        if self._chain is None:
            self._chain = Chain.connect(self.rpc_url, profile(self.network), expected_chain_id=self.chain_id)
        return self._chain

    def deployment(self) -> deployments.Deployment:
        return deployments.load_for(self.chain(), self.deployments_dir)

    def participants(self) -> Participants:
        return Participants.of(self.chain(), self.deployment())


pass_ctx = click.make_pass_decorator(Context)


class EblGroup(click.Group):
    """Turns every EblError into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EblError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


def signer_options(fn: F) -> F:
    """--keystore / --key-env: where the signing key comes from. The key is never printed."""
    fn = click.option(
        "--key-env", default=keys.DEFAULT_KEY_ENV, show_default=True, metavar="NAME",
        help="Environment variable holding the hex private key (used when no --keystore).",
    )(fn)
    fn = click.option(
        "--keystore", type=click.Path(path_type=Path), envvar="EBL_KEYSTORE", default=None,
        help=f"eth-account keystore file; password from ${keys.PASSWORD_ENV} or a prompt. [env: EBL_KEYSTORE]",
    )(fn)
    return fn


def load_signer(keystore: Path | None, key_env: str) -> LocalAccount:
    if keystore is not None:
        password = os.environ.get(keys.PASSWORD_ENV)
        if password is None and sys.stdin.isatty():
            password = click.prompt(f"Password for {keystore}", hide_input=True)
        return keys.from_keystore(keystore, password)
    return keys.from_env(key_env)


# --- output -----------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, enum.Flag):
        return value.names() if isinstance(value, Role) else value.value
    if isinstance(value, enum.Enum):
        return value.name.lower()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def emit_json(value: Any) -> None:
    click.echo(json.dumps(_jsonable(value), indent=2, sort_keys=True))


ADDRESS_COLUMNS = {"account", "address", "institution", "holder", "beneficiary"}


def emit_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column in ADDRESS_COLUMNS)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console(width=max(160, Console().width)).print(table)


def participant_row(p: Participant, name: str | None = None) -> list[Any]:
    return [
        *([name] if name is not None else []),
        p.address, ", ".join(p.roles.names()), p.jurisdiction, p.status.name.lower(), p.institution or "",
        p.identifier_hash[:18] + "...",
    ]


PARTICIPANT_COLUMNS = ["account", "roles", "jurisdiction", "status", "institution", "identifier hash"]


def show_participants(ctx: Context, title: str, items: list[Participant]) -> None:
    if ctx.as_json:
        emit_json(items if len(items) != 1 or title != "participant" else items[0])
    else:
        emit_table(title, PARTICIPANT_COLUMNS, (participant_row(p) for p in items))


# --- commands ---------------------------------------------------------------------------------------


@click.group(cls=EblGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--rpc-url", envvar="EBL_RPC_URL", default=None,
              help="Node JSON-RPC URL (default http://127.0.0.1:8545). [env: EBL_RPC_URL]")
@click.option("--network", type=click.Choice(sorted(PROFILES)), envvar="EBL_NETWORK", default="anvil",
              show_default=True, help="Network profile: fees, tx type, PoA, timeouts. [env: EBL_NETWORK]")
@click.option("--chain-id", type=int, envvar="EBL_CHAIN_ID", default=None,
              help="Refuse to act unless the node serves this chain id. [env: EBL_CHAIN_ID]")
@click.option("--deployments", "deployments_dir", type=click.Path(path_type=Path), envvar=deployments.DIR_ENV,
              default=deployments.DEFAULT_DIR, show_default=True,
              help=f"Folder of deployment manifests (<chainId>.json). [env: {deployments.DIR_ENV}]")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.pass_context
def cli(ctx: click.Context, rpc_url: str | None, network: str, chain_id: int | None, deployments_dir: Path,
        as_json: bool) -> None:
    """eBL title registry, cross-border credit verification and BL-backed financing on an EVM chain."""
    ctx.obj = Context(rpc_url, network, chain_id, deployments_dir, as_json)


@cli.command()
@click.option("--port", type=int, default=8545, show_default=True)
@click.option("--state-file", type=click.Path(path_type=Path), default=DEFAULT_STATE_FILE, show_default=True,
              help="Anvil state: loaded at start, written back on stop, so a restart keeps the chain.")
@click.option("--fresh", is_flag=True, help="Start an empty chain (deletes the state file first).")
@click.option("--besu-like", is_flag=True,
              help="Chain id 1337, gas price 0, base fee 0, a block every second (test the besu profile).")
@pass_ctx
def node(ctx: Context, port: int, state_file: Path, fresh: bool, besu_like: bool) -> None:
    """Run the embedded Anvil in the foreground until Ctrl-C."""
    if fresh:
        state_file.unlink(missing_ok=True)
    settings: dict[str, Any] = {"chain_id": 1337, "gas_price": 0, "base_fee": 0, "block_time": 1} if besu_like else {}
    anvil = AnvilNode(port=port, state_file=state_file, **settings).start()
    info = {"url": anvil.url, "chainId": anvil.chain_id, "stateFile": str(state_file)}
    if ctx.as_json:
        emit_json(info)
    else:
        click.echo(f"anvil listening on {anvil.url} (chain id {anvil.chain_id}), state in {state_file}; Ctrl-C stops")
    try:
        anvil.wait()
    except KeyboardInterrupt:
        pass
    finally:
        anvil.stop()


@cli.command()
@click.option("--admin", default=None, help="Account that receives the consortium admin role (default: the signer).")
@click.option("--redeploy", is_flag=True, help="Replace an existing live deployment on this chain.")
@signer_options
@pass_ctx
def deploy(ctx: Context, admin: str | None, redeploy: bool, keystore: Path | None, key_env: str) -> None:
    """Deploy the suite and write the manifest <deployments>/<chainId>.json."""
    signer = load_signer(keystore, key_env)
    result = deployments.deploy_suite(ctx.chain(), signer, ctx.deployments_dir, admin=admin, redeploy=redeploy)
    if ctx.as_json:
        emit_json(result)
        return
    emit_table(
        f"deployed on chain {result.chain_id} ({result.network}); admin {result.admin}",
        ["contract", "address", "block", "transaction"],
        ([name, c.address, c.block, c.tx_hash] for name, c in result.contracts.items()),
    )
    click.echo(f"manifest: {deployments.manifest_path(ctx.deployments_dir, result.chain_id)}")


@cli.group()
def participants() -> None:
    """Onboard, list, suspend and reinstate consortium participants (admin actions need the admin key)."""


@participants.command("add")
@click.argument("account")
@click.option("--roles", required=True, help="Comma-separated: " + ", ".join(r.name.lower() for r in Role if r.name))
@click.option("--jurisdiction", required=True, help="ISO 3166-1 alpha-2 code, e.g. HK, CN.")
@click.option("--identifier", default=None,
              help="Legal identifier (LEI, unified social credit code); only its salted hash goes on chain.")
@click.option("--salt", default=None,
              help="32-byte hex salt for --identifier (default: a new random salt, printed once).")
@click.option("--identifier-hash", "identifier_hash_hex", default=None,
              help="A precomputed salted identifier hash (32-byte hex).")
@click.option("--institution", default=None, help="For a verifier officer: the financier it works for.")
@signer_options
@pass_ctx
def participants_add(ctx: Context, account: str, roles: str, jurisdiction: str, identifier: str | None,
                     salt: str | None, identifier_hash_hex: str | None, institution: str | None,
                     keystore: Path | None, key_env: str) -> None:
    """Onboard ACCOUNT with roles, jurisdiction and a salted identifier hash."""
    role_bits = Role.parse(roles)
    account = to_address(account, what="account")
    if institution:
        institution = to_address(institution, what="institution")
    salt_bytes: bytes | None = None
    if identifier_hash_hex and identifier:
        raise InvalidInput("give --identifier or --identifier-hash, not both")
    if identifier:
        salt_bytes = _hex32(salt, "--salt") if salt else new_salt()
        id_hash: bytes = identifier_hash(identifier, salt_bytes)
    elif identifier_hash_hex:
        id_hash = _hex32(identifier_hash_hex, "--identifier-hash")
    else:
        raise InvalidInput("give --identifier (hashed with a salt) or --identifier-hash")
    signer = load_signer(keystore, key_env)
    result = ctx.participants().onboard(signer, account, role_bits, jurisdiction, id_hash, institution)
    if ctx.as_json:
        emit_json({**_jsonable(result), **({"salt": "0x" + salt_bytes.hex()} if salt_bytes else {})})
        return
    show_participants(ctx, "onboarded", [result])
    if salt_bytes is not None and not salt:
        click.echo(f"identifier salt (keep it with the participant's file to prove the identifier later): "
                   f"0x{salt_bytes.hex()}")


def _hex32(value: str, what: str) -> bytes:
    try:
        raw = bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        raise InvalidInput(f"{what} is not hex") from None
    if len(raw) != 32:
        raise InvalidInput(f"{what} must be 32 bytes (64 hex digits)")
    return raw


@participants.command("list")
@pass_ctx
def participants_list(ctx: Context) -> None:
    """Every onboarded participant, in onboarding order."""
    show_participants(ctx, "participants", ctx.participants().list())


@participants.command("show")
@click.argument("account")
@pass_ctx
def participants_show(ctx: Context, account: str) -> None:
    """One participant's record."""
    show_participants(ctx, "participant", [ctx.participants().get(account)])


@participants.command("set-roles")
@click.argument("account")
@click.option("--roles", required=True, help="The new complete set of roles, comma-separated.")
@click.option("--institution", default=None, help="For a verifier officer: the financier it works for.")
@signer_options
@pass_ctx
def participants_set_roles(ctx: Context, account: str, roles: str, institution: str | None,
                           keystore: Path | None, key_env: str) -> None:
    """Replace ACCOUNT's roles (admin)."""
    role_bits = Role.parse(roles)
    signer = load_signer(keystore, key_env)
    show_participants(ctx, "participant", [ctx.participants().update_roles(signer, account, role_bits, institution)])


@participants.command("suspend")
@click.argument("account")
@click.option("--reason", default="", help="Why; kept off chain, its hash goes into the event.")
@signer_options
@pass_ctx
def participants_suspend(ctx: Context, account: str, reason: str, keystore: Path | None, key_env: str) -> None:
    """Suspend ACCOUNT (admin): it can no longer act or receive anything."""
    signer = load_signer(keystore, key_env)
    show_participants(ctx, "participant", [ctx.participants().suspend(signer, account, reason)])


@participants.command("reinstate")
@click.argument("account")
@signer_options
@pass_ctx
def participants_reinstate(ctx: Context, account: str, keystore: Path | None, key_env: str) -> None:
    """Reinstate a suspended ACCOUNT (admin)."""
    signer = load_signer(keystore, key_env)
    show_participants(ctx, "participant", [ctx.participants().reinstate(signer, account)])


@cli.group("keys")
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
def keys_address(ctx: Context, keystore: Path | None, key_env: str) -> None:
    """Print the address of the configured key (never the key)."""
    address = load_signer(keystore, key_env).address
    emit_json({"address": address}) if ctx.as_json else click.echo(address)


def main() -> None:
    cli(prog_name="ebl")

