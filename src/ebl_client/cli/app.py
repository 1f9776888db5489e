"""The root of the `ebl` command: global options, the Context every command gets (one `Client`), the signing
key, the one pattern for a command that sends a transaction (`sends`), and the entry point that makes errors
one line.

Every failure the client knows of prints one line `error: ...` on stderr and exits 1 (2 for a usage
mistake); nothing is written (manifest, keystore) unless the action succeeded.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import click
from eth_account.signers.local import LocalAccount

from .. import artifacts, keys
from .. import deployment as deployments
from ..chain import Chain
from ..client import Client
from ..errors import EblError
from ..models import Result
from ..networks import PROFILES

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
P = ParamSpec("P")

#: what a sending command prepares: the chain action, run once the signer is loaded; it returns the facade's
#: `Result` (the value after the action, and the transaction that made it)
Action = Callable[[LocalAccount], Result[T]]


@dataclass
class Context:
    rpc_url: str | None
    network: str
    chain_id: int | None
    deployments_dir: Path
    as_json: bool
    # set by --keystore / --key-env on the commands that sign (see signer_options)
    keystore: Path | None = None
    key_env: str = keys.DEFAULT_KEY_ENV
    _client: Client | None = None

    def client(self) -> Client:
        """The one connection of the command: the node (contacted here, first time only) and the suite deployed
        on it, verified on first use of a facade (`client.bills`, `.credit`, `.finance`, `.participants`)."""
        if self._client is None:
            self._client = Client.connect(self.rpc_url, network=self.network, deployments=self.deployments_dir,
                                          chain_id=self.chain_id)
        return self._client

    def chain(self) -> Chain:
        return self.client().chain

    def now(self) -> int:
        """The chain's clock (latest block time): expiries are judged against it, not the laptop's."""
        return self.client().now()

    def signer(self) -> LocalAccount:
        """The signing key: the --keystore file (password from $EBL_KEYSTORE_PASSWORD, else a prompt on a
        terminal) or the hex key in the variable named by --key-env. The key is never printed."""
        if self.keystore is not None:
            password = os.environ.get(keys.PASSWORD_ENV)
            if password is None and sys.stdin.isatty():
                password = click.prompt(f"Password for {self.keystore}", hide_input=True)
            return keys.from_keystore(self.keystore, password)
        return keys.from_env(self.key_env)


pass_ctx = click.make_pass_decorator(Context)


class EblGroup(click.Group):
    """Turns every EblError into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EblError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


def _keep_on_context(click_ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Option callback: store the value on the Context (as its attribute of the option's name)."""
    obj = click_ctx.find_object(Context)
    if obj is not None:  # None only while shell completion parses
        setattr(obj, str(param.name), value)


def signer_options(fn: F) -> F:
    """--keystore / --key-env on a command that signs; ctx.signer() reads them."""
    fn = click.option(
        "--key-env", default=keys.DEFAULT_KEY_ENV, show_default=True, metavar="NAME", expose_value=False,
        callback=_keep_on_context, help="Environment variable holding the hex private key (used when no --keystore).",
    )(fn)
    fn = click.option(
        "--keystore", type=click.Path(path_type=Path), envvar="EBL_KEYSTORE", default=None, expose_value=False,
        callback=_keep_on_context,
        help=f"eth-account keystore file; password from ${keys.PASSWORD_ENV} or a prompt. [env: EBL_KEYSTORE]",
    )(fn)
    return fn


def sends(render: Callable[[Context, Result[T]], None]) -> Callable[
        [Callable[Concatenate[Context, P], Action[T]]], Callable[P, None]]:
    """A command that sends a transaction. The decorated function checks its input and returns the action;
    then the signer is loaded (--keystore / --key-env, added here), the action runs and `render` shows its
    `Result`: the value and the transaction (`output.show_sent`: `{"<what>": ..., "transaction": ...}` in
    JSON). Bad input therefore fails before any password prompt and sends nothing. Use it innermost:

        @bill.command("transfer")
        @click.argument("token", callback=_token_id)
        @click.option("--to", required=True)
        @sends(sent_bill)
        def bill_transfer(ctx: Context, token: int, to: str) -> Action[Bill]:
            return lambda signer: ctx.client().bills.transfer(token, to, sender=signer)
    """

    def decorate(prepare: Callable[Concatenate[Context, P], Action[T]]) -> Callable[P, None]:
        @functools.wraps(prepare)
        def command(ctx: Context, /, *args: P.args, **kwargs: P.kwargs) -> None:
            action = prepare(ctx, *args, **kwargs)
            render(ctx, action(ctx.signer()))

        return signer_options(pass_ctx(command))

    return decorate


def version() -> str:
    """The package version, and the digest of the contract sources (and solc) the artifacts were built from."""
    try:
        package = metadata.version("ebl-client")
    except metadata.PackageNotFoundError:
        package = "(not installed)"
    build = artifacts.index()
    return f"ebl {package} (contracts {build['sourceDigest']}, solc {build['solc']})"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(version())
        ctx.exit()


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
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Print the version and the contract source digest, then exit.")
@click.pass_context
def cli(ctx: click.Context, rpc_url: str | None, network: str, chain_id: int | None, deployments_dir: Path,
        as_json: bool) -> None:
    """eBL title registry, cross-border credit verification and BL-backed financing on an EVM chain."""
    ctx.obj = Context(rpc_url, network, chain_id, deployments_dir, as_json)


def main() -> None:
    """Entry point: usage mistakes, like every other error, are one line on stderr (exit 2 for usage).
    `--json` is accepted anywhere on the line (`ebl bill show 0x.. --json`), as users type it."""
    args = sys.argv[1:]
    if "--json" in args[1:]:
        args = ["--json", *(a for a in args if a != "--json")]
    try:
        code = cli.main(args, prog_name="ebl", standalone_mode=False)  # returns the code of ctx.exit(...)
        sys.exit(code if isinstance(code, int) else 0)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(1)
    except click.UsageError as exc:
        where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        click.echo(f"error: {exc.format_message()}{where}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
