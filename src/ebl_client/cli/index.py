"""`ebl index`: the read model. `sync` once, `watch` until Ctrl-C, `status`, `history` of a bill from the index
(`--verify` against the chain), `directory` to check a directory file; and the options and helpers every
command that reads the index shares (`ebl inbox`, `ebl bill list`, `ebl finance book`, `ebl audit`).

These commands read only the root options `rpc_url`, `network`, `chain_id`, `deployments_dir` and `as_json` of
the object the root group passes (`cli.app.Context`), so they work with any root that provides them.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Protocol, TypeVar

import click
from sqlalchemy import Engine
from web3.types import RPCEndpoint

from .. import deployment as deployments
from .. import directory as directories
from .. import keys, tables
from ..chain import Chain
from ..client import Client
from ..errors import ConnectionFailed, EblError, InvalidInput, LocalFileError, NotFound, VerificationFailed
from ..index import checked_directory, queries, store, sync
from ..models import TitleEvent, jsonable, utc_time
from ..networks import profile
from .files import checked_folder, read_json
from .values import TOKEN_ID, Address, FiniteRange

F = TypeVar("F", bound=Callable[..., Any])
INDEX_ENV = "EBL_INDEX"
AS_ENV = "EBL_AS"


class RootOptions(Protocol):
    """What the root `ebl` group's context object offers these commands."""

    rpc_url: str | None
    network: str
    chain_id: int | None
    deployments_dir: Path
    as_json: bool


@dataclass
class Reader:
    """A read command's view of the index: the queries, who is asking, and how to print."""

    q: queries.Queries
    viewer: queries.Viewer
    as_json: bool

    def label(self, account: str | None) -> str:
        return self.q.directory.label(account)


# --- shared options and helpers -------------------------------------------------------------------------------


def index_option(fn: F) -> F:
    return click.option("--index", "index_url", envvar=INDEX_ENV, default=None, metavar="URL",
                        help="Index database: sqlite:///FILE or postgresql://... (default "
                             f"sqlite:///.ebl/index-<chainId>.sqlite). [env: {INDEX_ENV}]")(fn)


def reader_options(fn: F) -> F:
    """--index, --as, --directory on a command that reads the index."""
    fn = click.option("--directory", "directory_file", type=click.Path(path_type=Path),
                      envvar=directories.DIRECTORY_ENV, default=None,
                      help="The consortium's participant directory (default .ebl/directory-<chainId>.json when "
                           f"present). [env: {directories.DIRECTORY_ENV}]")(fn)
    fn = click.option("--as", "as_account", envvar=AS_ENV, default=None, metavar="ACCOUNT",
                      type=Address("account"),
                      help=f"Read as this account (default: the signer's, from ${keys.DEFAULT_KEY_ENV}); reads "
                           f"need no key. [env: {AS_ENV}]")(fn)
    return index_option(fn)


def _connect(root: RootOptions) -> Chain:
    return Chain.connect(root.rpc_url, profile(root.network), expected_chain_id=root.chain_id)


def resolve_chain_id(root: RootOptions) -> int:
    if root.chain_id is not None:
        return root.chain_id
    try:
        return _connect(root).chain_id
    except ConnectionFailed as exc:
        raise ConnectionFailed(f"{exc}; give --index URL or --chain-id to read the index without the node") \
            from None


def resolve_url(root: RootOptions, index_url: str | None) -> str:
    return index_url or store.default_url(resolve_chain_id(root))


def open_reader(root: RootOptions, index_url: str | None, as_account: str | None, directory_file: Path | None,
                *, check_node: bool = True) -> Reader:
    """The index at --index (or the chain's default), the viewer (--as or the signer) and the directory."""
    engine = store.open_index(resolve_url(root, index_url))
    status = _status(engine)
    account = as_account or _signer_address()
    q = queries.Queries(engine, _directory(engine, status.chain_id, directory_file))
    if check_node:
        _check_standing(root, status)
    return Reader(q, q.viewer(account), root.as_json)


def _status(engine: Engine) -> queries.IndexStatus:
    try:
        return queries.Queries(engine).status()
    except EblError as exc:
        raise InvalidInput(str(exc)) from None


def _signer_address() -> str:
    try:
        return str(keys.from_env(keys.DEFAULT_KEY_ENV).address)
    except EblError:
        raise click.UsageError(f"give --as ACCOUNT (or set ${keys.DEFAULT_KEY_ENV}): reads show what concerns one "
                               "account") from None


def _directory(engine: Engine, chain_id: int, path: Path | None) -> directories.Directory:
    """--directory, else .ebl/directory-<chainId>.json when present; refused entries noted on stderr."""
    chosen = path or directories.default_path(chain_id)
    if path or chosen.exists():
        read_json(chosen, "directory")  # readable, and not nested past reason (errors name the file)
    checked = checked_directory(engine, chosen if path or chosen.exists() else None, chain_id=chain_id)
    for refusal in checked.refused:
        click.echo(f"note: directory entry {refusal.account or '?'} ({refusal.legal_name or 'no name'}) refused: "
                   f"{refusal.reason}", err=True)
    return checked


def standing(chain: Chain, status: queries.IndexStatus) -> queries.Standing:
    """Where the index stands against the node `chain` reaches (its chain id, head and block hashes)."""
    def block_hash_at(number: int) -> str | None:
        block = chain.w3.provider.make_request(RPCEndpoint("eth_getBlockByNumber"), [hex(number), False]).get("result")
        return str(block["hash"]) if block else None

    return status.standing(chain.chain_id, chain.w3.eth.block_number, block_hash_at)


def _check_standing(root: RootOptions, status: queries.IndexStatus) -> None:
    """Reads need no node; when one answers, an index of another chain (or of blocks the node no longer has) is
    refused rather than shown as the register, and an index behind the node is noted."""
    try:
        found = standing(_connect(root), status)
    except Exception:  # the node is optional for reads: unreachable, or not answering as a node
        return
    if found.foreign:
        raise store.IndexUnavailable(f"the index {found.foreign}: run `ebl index sync`, which starts it over on "
                                     "the node's chain")
    if found.behind:
        click.echo(f"note: the index is at block {status.last_block}, the node at {found.head}: run `ebl index sync` "
                   "for the latest", err=True)


def emit_json(value: Any, directory: directories.Directory | None = None) -> None:
    plain = jsonable(value)
    click.echo(json.dumps(with_names(plain, directory) if directory else plain, indent=2, sort_keys=True))


def with_names(value: Any, directory: directories.Directory) -> Any:
    """JSON with `<key>Name` beside every address the directory names."""
    if isinstance(value, dict):
        named = {k: with_names(v, directory) for k, v in value.items()}
        for k, v in value.items():
            if isinstance(v, str) and len(v) == 42 and v.startswith("0x") and directory.name(v):
                named[f"{k}Name"] = directory.name(v)
        return named
    if isinstance(value, list):
        return [with_names(v, directory) for v in value]
    return value


def emit_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    tables.print_table(tables.console(), title, columns, rows)


def pass_root(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.pass_obj(fn)


# --- ebl index ----------------------------------------------------------------------------------------------------


@click.group("index")
def index() -> None:
    """The read model: follow the chain into SQLite or PostgreSQL for lists, inboxes, books and audits."""


def _indexer(root: RootOptions, index_url: str | None, page_size: int, confirmations: int) -> sync.Indexer:
    chain = _connect(root)
    manifest = deployments.load_for(chain, checked_folder(root.deployments_dir, "deployments folder"))
    url = index_url or store.default_url(chain.chain_id)
    try:
        engine = store.open_index(url, writer=True)
    except OSError as exc:  # the SQLite file's folder cannot be made (a file in the way, no permission)
        raise LocalFileError.of(exc, action="write", what="the index in") from None
    return sync.Indexer(chain, manifest, engine, page_size=page_size, confirmations=confirmations)


def sync_options(fn: F) -> F:
    fn = click.option("--confirmations", type=click.IntRange(min=0, max=100_000), default=0, show_default=True,
                      help="Stay this many blocks behind the head (Besu QBFT has instant finality: 0).")(fn)
    fn = click.option("--page-size", type=click.IntRange(min=1, max=100_000), default=sync.DEFAULT_PAGE_SIZE,
                      show_default=True,
                      help="Blocks per eth_getLogs request (Besu's --rpc-max-logs-range defaults to 1000).")(fn)
    return index_option(fn)


def _show_report(root: RootOptions, report: sync.SyncReport) -> None:
    if root.as_json:
        emit_json(report)
        return
    if report.recovered:
        click.echo(f"note: {report.recovered}", err=True)
    click.echo(f"chain {report.chain_id}: indexed blocks {report.from_block + 1}-{report.to_block}, "
               f"{report.events} events in {report.pages} pages" if report.to_block > report.from_block
               else f"chain {report.chain_id}: the index is current at block {report.to_block}")


@index.command("sync")
@sync_options
@pass_root
def index_sync(root: RootOptions, index_url: str | None, page_size: int, confirmations: int) -> None:
    """Index every new block of the deployed suite once, then exit."""
    _show_report(root, _indexer(root, index_url, page_size, confirmations).sync())


@index.command("watch")
@sync_options
@click.option("--interval", type=FiniteRange(min=0.1, max=3600), default=2.0, show_default=True,
              help="Seconds between polls for new blocks.")
@pass_root
def index_watch(root: RootOptions, index_url: str | None, page_size: int, confirmations: int,
                interval: float) -> None:
    """Follow new blocks until Ctrl-C (or SIGTERM); a page in progress is finished or rolled back, never half
    written."""
    indexer = _indexer(root, index_url, page_size, confirmations)
    stopping: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if not root.as_json:
            click.echo(f"watching chain {indexer.chain.chain_id} every {interval:g} s (Ctrl-C to stop)", err=True)
        indexer.watch(interval=interval, stop=lambda: bool(stopping), on_sync=lambda r: _show_report(root, r),
                      on_error=lambda e: click.echo(f"note: {e}; trying again", err=True))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    status = _status(indexer.engine)
    if not root.as_json:
        click.echo(f"stopped at block {status.last_block}", err=True)


@index.command("status")
@index_option
@pass_root
def index_status(root: RootOptions, index_url: str | None) -> None:
    """Where the index stands: chain, deployment, last block and its time, events."""
    engine = store.open_index(resolve_url(root, index_url))
    status, events = _status(engine), queries.Queries(engine).event_count()
    try:
        found: queries.Standing | None = standing(_connect(root), status)
    except Exception:  # the status of the index alone, when no node answers
        found = None
    against = ({"nodeHead": found.head, "current": found.current, "foreign": found.foreign} if found
               else {"nodeHead": None, "current": None, "foreign": None})
    if root.as_json:
        emit_json({**jsonable(status), "events": events, **against})
        return
    node = ("unreachable" if found is None else f"block {found.head}: " + (
        f"the index {found.foreign}" if found.foreign else "the index is current" if found.current
        else f"{found.behind} blocks behind"))
    emit_table("index", ["", ""], [("chain id", status.chain_id), ("last block", status.last_block),
                                   ("last block time", utc_time(status.last_time)), ("events", events),
                                   ("node", node),
                                   *((name, address) for name, address in status.contracts.items())])


@index.command("history")
@click.argument("token", type=TOKEN_ID)
@click.option("--verify", is_flag=True, help="Compare with the chain of title the chain itself answers; exit 1 "
                                             "when they differ.")
@reader_options
@pass_root
def index_history(root: RootOptions, token: int, verify: bool, index_url: str | None, as_account: str | None,
                  directory_file: Path | None) -> None:
    """The chain of title of bill TOKEN from the index, names instead of addresses."""
    r = open_reader(root, index_url, as_account, directory_file)
    events = r.q.history(r.viewer, token)
    if verify:
        verify_history(Client(_connect(root), checked_folder(root.deployments_dir, "deployments folder")), events,
                       token)
    if r.as_json:
        emit_json(events, r.q.directory)
        return
    emit_table(f"chain of title of bill {hex(token)} (index)",
               ["#", "block", "time", "action", "DCSA", "actor", "holder", "beneficiary", "transaction"],
               ([i + 1, e.block, utc_time(e.timestamp), e.action.name.lower(), e.action.dcsa, r.label(e.actor),
                 r.label(e.holder), r.label(e.beneficiary) if e.beneficiary else "", e.tx_hash]
                for i, e in enumerate(events)))


#: the chain of title is what the chain answers anyone (`Bills.history` needs no key): read from the index, it
#: is shown to anyone too, as to a viewer who sees every bill
PUBLIC = queries.Viewer("0x" + "00" * 20, regulator=True)


def public_history(client: Client, index_url: str | None, token: int, *, current_only: bool) -> list[TitleEvent] | None:
    """The chain of title of bill `token` from the index at `index_url` (default: the chain's), as the chain
    answers it. `current_only`: None unless the index is current (it holds the node's head block, for the
    client's deployment), so that the caller reads the chain instead; a note on stderr says why when the
    index was named (--index, $EBL_INDEX). Otherwise the index as it stands (none: IndexUnavailable)."""
    chain = client.chain
    url = index_url or store.default_url(chain.chain_id)
    try:
        engine = store.open_index(url)
        status = queries.Queries(engine).status()
    except (store.IndexUnavailable, NotFound) as exc:
        if not current_only:
            raise
        if index_url:
            click.echo(f"note: {exc}; reading the chain", err=True)
        return None
    if current_only:
        registry = client.deployment.address("BillOfLadingRegistry")
        found = standing(chain, status)
        behind = (found.foreign
                  or ("indexes another deployment" if status.contracts.get("BillOfLadingRegistry") != registry
                      else f"is at block {status.last_block}, the node at {found.head}" if found.behind else ""))
        if behind:
            if index_url:
                click.echo(f"note: the index {behind}: reading the chain (`ebl index sync` to catch up)", err=True)
            return None
    return queries.Queries(engine).history(PUBLIC, token)


def verify_history(client: Client, events: list[TitleEvent], token: int) -> None:
    """Compare the index's chain of title of bill `token` with the chain's (`queries.compare_history`):
    VerificationFailed (exit 1) naming each difference; a note on stderr when they agree."""
    differences = queries.compare_history(events, client.bills.history(token))
    if differences:
        raise VerificationFailed("the index's chain of title differs from the chain's: " + "; ".join(differences),
                                 tokenId=hex(token), differences=differences)
    click.echo(f"verified: the index's {len(events)} actions are the chain's", err=True)


@index.command("directory")
@click.argument("file", type=click.Path(path_type=Path), required=False)
@index_option
@pass_root
def index_directory(root: RootOptions, file: Path | None, index_url: str | None) -> None:
    """Check a participant directory FILE against the on-chain identifier hashes the index holds."""
    engine = store.open_index(resolve_url(root, index_url))
    status = _status(engine)
    path = file or directories.default_path(status.chain_id)
    if not path.exists():
        raise LocalFileError(path, "No such file or directory", "read", "directory file")
    checked = _directory(engine, status.chain_id, path)
    if root.as_json:
        emit_json({"accepted": list(checked.entries.values()), "refused": checked.refused})
        return
    emit_table(f"directory {path}: accepted", ["account", "legal name", "jurisdiction", "identifier"],
               ([e.account, e.legal_name, e.jurisdiction, f"{e.identifier_scheme} {e.identifier}"]
                for e in checked.entries.values()))
    if checked.refused:
        emit_table("refused", ["account", "legal name", "reason"],
                   ([x.account, x.legal_name, x.reason] for x in checked.refused))
