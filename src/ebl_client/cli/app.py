"""The root of the `ebl` command: global options, the Context every command gets (one `Client`), the signing
key, the one pattern for a command that sends a transaction (`sends`), and the entry point that makes every
failure one line.

Every failure prints one line on stderr, `error: ...` (under `--json`, anywhere on the line, one JSON object
`{"error": {"code": "<name>", "exit": N, "message": "...", "details": {...}}}`), and exits with the code of its
category: `errors.ExitCode`, mapped from the exception by `errors.exit_code` (README, "Exit codes"). A bug
prints `error: internal error: <type>: <message> (please report ...)` and exits 70: never a traceback.
Nothing is written (manifest, keystore, commitment) unless the action succeeded.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TextIO, TypeVar, cast
from urllib.parse import urlsplit

import click
from eth_account.signers.local import LocalAccount

from .. import artifacts, errors, keys
from .. import deployment as deployments
from ..chain import Chain
from ..client import Client
from ..errors import ExitCode
from ..models import Result
from ..networks import PROFILES
from ..outbox import OUTBOX_ENV, Reconciliation
from .files import checked_folder, read_json
from .values import ParamType, UInt

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
    #: the folder of the transaction journals (--outbox, $EBL_OUTBOX; None: .ebl/outbox)
    outbox: Path | None = None
    # set by --keystore / --key-env on the commands that sign (see signer_options)
    keystore: Path | None = None
    key_env: str = keys.DEFAULT_KEY_ENV
    _client: Client | None = None

    def client(self) -> Client:
        """The one connection of the command: the node (contacted here, first time only) and the suite deployed
        on it, verified on first use of a facade (`client.bills`, `.credit`, `.finance`, `.participants`)."""
        if self._client is None:
            self._client = Client.connect(self.rpc_url, network=self.network,
                                          deployments=checked_folder(self.deployments_dir, "deployments folder"),
                                          chain_id=self.chain_id, outbox=self.outbox if self.outbox else True)
            report_reconciliation(self._client.reconciled)
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
            try:  # readable JSON, not nested past reason: what eth-account's reader cannot promise
                read_json(self.keystore, "keystore")
            except errors.InvalidInput as exc:
                raise errors.SignerError(str(exc)) from None
            password = os.environ.get(keys.PASSWORD_ENV)
            if password is None and sys.stdin.isatty():
                password = click.prompt(f"Password for {self.keystore}", hide_input=True)
            return keys.from_keystore(self.keystore, password)
        return keys.from_env(self.key_env)


pass_ctx = click.make_pass_decorator(Context)


#: how long an error line may get: messages that quote a huge input are cut in the middle
MAX_MESSAGE = 2000
REPORT = "please report it with the command line, at the project's issue tracker"


class _PipeGone:
    """A stream whose reader went away: flushing it no longer raises (what click's own `main` does, with a
    wrapper click 8.5 no longer exports)."""

    def __init__(self, wrapped: TextIO) -> None:
        self.wrapped = wrapped

    def flush(self) -> None:
        try:
            self.wrapped.flush()
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


class EblGroup(click.Group):
    """The root group: `main` runs the command and turns whatever it raised into one line and an exit code
    (`report`), the same from the console script and from click's test runner."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise
            # the reader of stdout went away (`ebl ... | head`): quiet, as a program killed by SIGPIPE
            sys.stdout = cast(TextIO, _PipeGone(sys.stdout))
            sys.stderr = cast(TextIO, _PipeGone(sys.stderr))
            ctx.exit(ExitCode.PIPE)

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        argv = json_first(list(sys.argv[1:] if args is None else args))
        try:
            # always "ebl" (click's test runner would name it after the function)
            result = super().main(argv, "ebl", complete_var, standalone_mode=False, **extra)
            code = result if isinstance(result, int) and not isinstance(result, bool) else 0
        except SystemExit as exc:  # click's own exit on a broken pipe, or a library calling sys.exit
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else ExitCode.INTERNAL
        except BaseException as exc:  # everything becomes one line: that is the point
            code = report(exc, as_json="--json" in options_of(argv))
        if standalone_mode:
            sys.exit(code)
        return code


def options_of(argv: Sequence[str]) -> list[str]:
    """The words before `--` (after it everything is an argument)."""
    return list(argv[:argv.index("--")]) if "--" in argv else list(argv)


def json_first(argv: list[str]) -> list[str]:
    """`--json` is accepted anywhere on the line (`ebl bill show 0x.. --json`), as users type it: moved to the
    front, where the root group reads it (never past `--`)."""
    options = options_of(argv)
    if "--json" not in options[1:]:
        return argv
    return ["--json", *(a for a in options if a != "--json"), *argv[len(options):]]


def classify(exc: BaseException) -> tuple[ExitCode, str, dict[str, Any]]:
    """The exit code, the one-line message and the details of anything a command raised: click's usage
    mistakes are USAGE, the client's errors by `errors.exit_code`, anything else INTERNAL."""
    if isinstance(exc, click.exceptions.Abort | KeyboardInterrupt | EOFError):
        return ExitCode.INTERRUPTED, "interrupted", {}
    if isinstance(exc, click.UsageError):
        where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        found: dict[str, Any] = {"command": exc.ctx.command_path} if exc.ctx else {}
        if isinstance(exc, click.BadParameter) and exc.param is not None:
            found["parameter"] = (exc.param.opts[0] if isinstance(exc.param, click.Option)
                                  else exc.param.human_readable_name)
        elif isinstance(exc, click.NoSuchOption | click.BadOptionUsage):
            found["option"] = exc.option_name
        return ExitCode.USAGE, exc.format_message() + where, found
    if isinstance(exc, click.FileError):  # a click.File it could not open
        return ExitCode.LOCAL, exc.format_message(), {"path": exc.ui_filename}
    if isinstance(exc, click.ClickException):  # click's other errors
        return ExitCode.INVALID, exc.format_message(), {}
    code = errors.exit_code(exc)
    if code is ExitCode.INTERNAL:
        message = f"internal error: {type(exc).__name__}: {exc} ({REPORT})"
        return code, message, {"type": f"{type(exc).__module__}.{type(exc).__qualname__}"}
    if isinstance(exc, errors.EblError):
        return code, str(exc), errors.details(exc)
    assert isinstance(exc, OSError)  # one that escaped the commands' own checks: about a path, or the network
    if code is ExitCode.NODE:
        return code, f"the node did not answer: {type(exc).__name__}: {exc}", {"type": type(exc).__name__}
    return code, f"cannot use {exc.filename}: {exc.strerror or type(exc).__name__}", errors.details(exc)


def report(exc: BaseException, *, as_json: bool) -> int:
    """Print `exc` as one line on stderr (JSON under --json) and return its exit code."""
    code, message, found = classify(exc)
    # one line, whatever the message quoted; bytes that were not UTF-8 on the command line shown escaped
    message = " ".join(message.split()).encode("utf-8", "backslashreplace").decode("utf-8")
    if len(message) > MAX_MESSAGE:
        half = MAX_MESSAGE // 2
        message = f"{message[:half]} … {message[-half:]}"
    if as_json:
        line = json.dumps({"error": {"code": code.label, "exit": int(code), "message": message, "details": found}},
                          default=str)
    else:
        line = f"error: {message}"
    try:
        click.echo(line, err=True)
    except OSError as exc2:  # stderr itself is gone: the exit code still says it
        if exc2.errno != errno.EPIPE:
            raise
    return int(code)


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


class RpcUrl(ParamType):
    """A node's JSON-RPC URL: http(s), a host, a port from 1 to 65535 when given; printable ASCII only (an
    internationalised host in its xn-- form)."""

    name = "url"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        if len(text) > 2048:
            self.fail(f"a URL of {len(text)} characters is not a node URL", param, ctx)
        if not text.isascii() or not text.isprintable() or " " in text:
            self.fail(f"{text!r} is not a URL (printable ASCII without spaces)", param, ctx)
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError as exc:
            self.fail(f"{text!r} is not a URL: {exc}", param, ctx)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.fail(f"{text!r} is not an http(s) URL with a host, e.g. http://127.0.0.1:8545", param, ctx)
        if port == 0:
            self.fail(f"{text!r}: port 0 is not a port a node listens on", param, ctx)
        return text


#: chain ids are at most 2**64 - 1 (EIP-2294 keeps them far below)
CHAIN_ID = UInt("chain id", maximum=2**64 - 1, bound="at most 2**64 - 1")


def outbox_option(fn: F) -> F:
    """`--outbox DIR` ($EBL_OUTBOX): the folder of the transaction journals, on the root and on the commands that
    use the outbox (`ebl tx`, the bulk sends). A file there is a usage mistake; a folder not made yet is an
    empty outbox (sending makes it)."""
    return click.option("--outbox", "outbox_dir", type=click.Path(file_okay=False, path_type=Path),
                        envvar=OUTBOX_ENV, default=None,
                        help=f"Folder of the transaction journals (default .ebl/outbox). [env: {OUTBOX_ENV}]")(fn)


@click.group(cls=EblGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--rpc-url", type=RpcUrl(), envvar="EBL_RPC_URL", default=None,
              help="Node JSON-RPC URL (default http://127.0.0.1:8545). [env: EBL_RPC_URL]")
@click.option("--network", type=click.Choice(sorted(PROFILES)), envvar="EBL_NETWORK", default="anvil",
              show_default=True, help="Network profile: fees, tx type, PoA, timeouts. [env: EBL_NETWORK]")
@click.option("--chain-id", type=CHAIN_ID, envvar="EBL_CHAIN_ID", default=None,
              help="Refuse to act unless the node serves this chain id. [env: EBL_CHAIN_ID]")
@click.option("--deployments", "deployments_dir", type=click.Path(path_type=Path), envvar=deployments.DIR_ENV,
              default=deployments.DEFAULT_DIR, show_default=True,
              help=f"Folder of deployment manifests (<chainId>.json). [env: {deployments.DIR_ENV}]")
@outbox_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Print the version and the contract source digest, then exit.")
@click.pass_context
def cli(ctx: click.Context, rpc_url: str | None, network: str, chain_id: int | None, deployments_dir: Path,
        outbox_dir: Path | None, as_json: bool) -> None:
    """eBL title registry, cross-border credit verification and BL-backed financing on an EVM chain."""
    ctx.obj = Context(rpc_url, network, chain_id, deployments_dir, as_json, outbox=outbox_dir)


def report_reconciliation(found: Reconciliation) -> None:
    """What the outbox did on connect, as `warning:` lines on stderr: transactions a restarted node had lost
    and that were sent again, nonce conflicts (never sent), torn journal lines, journals archived."""
    for finding in found.resent:
        click.echo(f"warning: resent {finding.entry.label} ({finding.entry.hash}), which the node no longer knew",
                   err=True)
    for finding in found.conflicts:
        click.echo(f"warning: {finding.entry.label} ({finding.entry.hash}) conflicts with another transaction "
                   f"of nonce {finding.entry.nonce}: {finding.detail or 'not sent'}; see `ebl tx show`", err=True)
    for text in found.warnings:
        click.echo(f"warning: {text}", err=True)
    for path in found.archived:
        click.echo(f"note: archived the journal {path}", err=True)


def main() -> None:
    """Entry point of the console script (`EblGroup.main` does the work: one line and an exit code)."""
    cli.main(prog_name="ebl")
