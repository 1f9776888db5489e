"""A staged run of the demo: the node (the embedded Anvil, or the one at --rpc-url), the story, its report, and
the files it leaves, put in place only once the whole story succeeded; the command line of
`python -m ebl_client.demo` (and, through `run_and_report`, of `ebl demo`).

Every file is written to a staging place first (a `.staging-*` folder in the work dir, or a `.staging-<pid>`
name next to its destination) and checked; then each is swapped in by an atomic rename. A failure before that
leaves the previous run's files exactly as they were.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from .. import deployment as deployments
from .. import directory as directories
from .. import samples, tables
from ..chain import Chain
from ..errors import EblError, NodeError
from ..index import store as index_store
from ..networks import ANVIL, BESU, profile
from ..node import (
    BESU_LIKE,
    BESU_LIKE_STATE_FILE,
    STATE_FILE,
    AnvilNode,
    StateLock,
    default_state_file,
    log_path,
    saved_block,
)
from . import report as reports
from .recorder import DemoError
from .steps import StagedFiles, Story


@dataclass(frozen=True)
class Options:
    state_file: Path | None = None  # default: STATE_FILE, or BESU_LIKE_STATE_FILE with besu_like
    deployments_dir: Path = field(default_factory=deployments.default_dir)
    work_dir: Path = Path(".ebl/demo")
    rpc_url: str | None = None  # None: start the embedded Anvil
    network: str = "anvil"  # profile for rpc_url
    chain_id: int | None = None  # with rpc_url: refuse to run unless the node serves this chain
    besu_like: bool = False  # embedded Anvil started Besu-like, driven with the besu profile

    @property
    def chain_state_file(self) -> Path:
        return self.state_file or default_state_file(self.besu_like)

    @property
    def chain_files_dir(self) -> Path:
        """Where the chain's directory and index go: beside its state file (`.ebl/` by default, where the `ebl`
        command looks for them)."""
        return self.chain_state_file.parent


def run(options: Options, console: Console,
        make_request_hook: Callable[[str, Any], None] | None = None) -> dict[str, Any]:
    """Run the story on a fresh chain and return the report.

    The run is staged and put in place only when the whole story succeeded: the node's state file is written
    next to its destination and checked to hold the story's last block; the directory and the index are
    written next to theirs, the commitment, the service's database and keystore and the audit trail in the
    work directory; then they are swapped in one after the other with atomic renames. A failure before that
    leaves the previous run's files as they were. While it runs the demo holds the state file's lock, so it
    refuses to start while `ebl node` serves that chain (and `ebl node` refuses to start on it meanwhile)."""
    started = time.monotonic()
    state_file = options.chain_state_file
    try:
        with ExitStack() as stack:
            if not options.rpc_url:
                stack.enter_context(StateLock(state_file))
            options.work_dir.mkdir(parents=True, exist_ok=True)
            staged = StagedFiles(Path(tempfile.mkdtemp(dir=options.work_dir, prefix=".staging-")))
            stack.callback(shutil.rmtree, staged.root, ignore_errors=True)
            # next to the destination, so that the final rename is atomic
            staged_state = _beside(state_file, stack)
            stack.callback(staged_state.with_name(staged_state.name + ".lock").unlink, missing_ok=True)
            report, story = _play(options, console, make_request_hook, staged_state, staged)
            files = _put_in_place(options, report, story, staged, staged_state, stack)
    except OSError as exc:
        raise DemoError(f"cannot write the demo's files: {exc}") from None
    report["credit"]["commitmentFile"] = files["commitment"]
    report["credit"]["reportFile"] = files["creditReport"]
    report["stateFile"] = files["stateFile"]
    report["manifest"] = files["manifest"]
    report["files"] = files
    report["explore"] = _explore(options, report)
    report["seconds"] = round(time.monotonic() - started, 1)
    return report


def _beside(destination: Path, stack: ExitStack) -> Path:
    """A staging name next to `destination` (removed however the run ends)."""
    staged = destination.with_name(f".{destination.name}.staging-{os.getpid()}")
    stack.callback(staged.unlink, missing_ok=True)
    return staged


def _play(options: Options, console: Console, make_request_hook: Callable[[str, Any], None] | None,
          staged_state: Path, staged: StagedFiles) -> tuple[dict[str, Any], Story]:
    """The story on the embedded Anvil (state in `staged_state`) or on the node at options.rpc_url."""
    with ExitStack() as stack:
        progress = stack.enter_context(Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=console, transient=True))
        if options.rpc_url:
            url, net = options.rpc_url, profile(options.network)
        else:
            # Anvil's output goes to the log of the chain's own state file, which `ebl node` appends to later
            node = stack.enter_context(AnvilNode(state_file=staged_state, fresh=True,
                                                 log_file=log_path(options.chain_state_file),
                                                 **(BESU_LIKE if options.besu_like else {})))
            url, net = node.url, BESU if options.besu_like else ANVIL
        chain = Chain.connect(url, net, expected_chain_id=options.chain_id, make_request_hook=make_request_hook)
        story = Story(chain, staged, progress)
        story.run()
        report = reports.build(story)
    # the embedded node has stopped: its state file must hold the whole story
    last_block = max(t["block"] for step in report["steps"] for t in step["transactions"])
    if not options.rpc_url and (saved_block(staged_state) or -1) < last_block:
        raise NodeError(f"anvil did not save the chain up to block {last_block} in {staged_state}; "
                        "the previous demo chain is kept")
    return report, story


def _put_in_place(options: Options, report: dict[str, Any], story: Story, staged: StagedFiles, staged_state: Path,
                  stack: ExitStack) -> dict[str, str | None]:
    """Prepare every file beside its destination, then swap them in; where each one went."""
    chain_id = int(report["chainId"])
    chain_dir = options.work_dir / str(chain_id)
    directory_file = directories.default_path(chain_id, options.chain_files_dir)
    index_file = Path(index_store.default_url(chain_id, options.chain_files_dir).removeprefix("sqlite:///"))
    reference = report["bill"]["transport_document_reference"]
    # in the work dir, the staging folder is beside the destinations; the chain's own files get names beside theirs
    story.commitment.save(staged.commitment)
    shutil.copyfile(samples.CREDIT_REPORT, staged.root / "credit_report.json")
    _sqlite_copy(staged.service_database, staged.root / "service.final.sqlite")
    staged_index = _beside(index_file, stack)
    _sqlite_copy(staged.index, staged_index)
    staged_directory = _beside(directory_file, stack)
    shutil.copyfile(staged.directory, staged_directory)
    manifest = deployments.load(staged.deployments, chain_id)

    moves = [
        (staged.commitment, chain_dir / "commitment.json"),
        (staged.root / "credit_report.json", chain_dir / "credit_report.json"),
        (staged.audit_trail, chain_dir / f"audit-{reference}.csv"),
        (staged.root / "service.final.sqlite", chain_dir / "service.sqlite"),
        (staged.keystore, chain_dir / "keystores" / "carrier.json"),
        (staged_directory, directory_file),
        (staged_index, index_file),
    ]
    if not options.rpc_url:
        os.replace(staged_state, options.chain_state_file)
    manifest_file = deployments.save(manifest, options.deployments_dir)
    for source, destination in moves:
        destination.parent.mkdir(parents=True, exist_ok=True)
        if destination.suffix == ".sqlite":  # another database's journal must not be read as this one's
            for journal in ("-wal", "-shm"):
                destination.with_name(destination.name + journal).unlink(missing_ok=True)
        os.replace(source, destination)
    return {
        "stateFile": None if options.rpc_url else str(options.chain_state_file), "manifest": str(manifest_file),
        "directory": str(directory_file), "index": str(index_file),
        "creditReport": str(chain_dir / "credit_report.json"), "commitment": str(chain_dir / "commitment.json"),
        "auditTrail": str(chain_dir / f"audit-{reference}.csv"), "serviceDatabase": str(chain_dir / "service.sqlite"),
        "carrierKeystore": str(chain_dir / "keystores" / "carrier.json"),
    }


def _sqlite_copy(source: Path, destination: Path) -> None:
    """A complete, self-contained copy of the SQLite database at `source` (what its write-ahead log holds
    included), whoever still has it open."""
    destination.unlink(missing_ok=True)
    connection = sqlite3.connect(source)
    try:
        connection.execute("VACUUM INTO ?", (str(destination),))
    except sqlite3.Error as exc:
        raise OSError(f"cannot copy the database {source}: {exc}") from None
    finally:
        connection.close()


def _explore(options: Options, report: dict[str, Any]) -> dict[str, Any]:
    """The commands that show this run's chain afterwards (`ebl node ...`, then `ebl ...`)."""
    if options.rpc_url:
        node, ebl = None, f"ebl --rpc-url {options.rpc_url} --network {options.network}"
    else:
        node = "ebl node" + (" --besu-like" if options.besu_like else "") + \
            (f" --state-file {options.state_file}" if options.state_file else "")
        ebl = "ebl" + (" --network besu" if options.besu_like else "")
    if options.deployments_dir != deployments.default_dir():
        ebl += f" --deployments {options.deployments_dir}"
    files = report["files"]
    reads = "" if options.chain_files_dir == index_store.DEFAULT_DIR else \
        f" --index sqlite:///{files['index']} --directory {files['directory']}"
    people = {p["handle"]: p["address"] for p in report["participants"]}
    token = report["bill"]["token_id"]
    return {"node": node, "commands": [
        f"{ebl} bill history {token}",
        f"{ebl} finance show {report['financing']['financing_id']}",
        f"{ebl} inbox --as {people['exporter']}{reads}",
        f"{ebl} audit report --as {people['regulator']}{reads}",
        f"{ebl} audit export --bill {token} --format csv --as {people['regulator']}{reads}",
    ]}


# --- the command line -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    from . import __doc__ as description

    parser = argparse.ArgumentParser(prog="python -m ebl_client.demo", description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the report as JSON (progress goes to stderr)")
    parser.add_argument("--state-file", type=Path, default=None,
                        help=f"embedded Anvil state (default {STATE_FILE}; {BESU_LIKE_STATE_FILE} with --besu-like); "
                             "the directory and the index go beside it")
    parser.add_argument("--deployments", type=Path, default=deployments.default_dir(),
                        help="manifest directory (default deployments/ or $EBL_DEPLOYMENTS)")
    parser.add_argument("--work-dir", type=Path, default=Options.work_dir,
                        help="where the commitment, the service's database and keystore and the audit trail are "
                             "kept, in <work dir>/<chain id>/ (default .ebl/demo)")
    parser.add_argument("--besu-like", action="store_true",
                        help="start the embedded Anvil Besu-like (chain 1337, free gas, 1 s blocks) and use the "
                             "besu profile")
    parser.add_argument("--rpc-url", help="run against this node instead of the embedded Anvil (e.g. networks/besu); "
                                          "deploys a new suite there")
    parser.add_argument("--network", default="anvil", help="profile for --rpc-url: anvil or besu")
    parser.add_argument("--chain-id", type=int, help="refuse to run unless the node serves this chain id")
    args = parser.parse_args(argv)
    options = Options(state_file=args.state_file, deployments_dir=args.deployments, work_dir=args.work_dir,
                      rpc_url=args.rpc_url, network=args.network, chain_id=args.chain_id, besu_like=args.besu_like)
    problem = option_conflict(options)
    if problem:
        parser.error(problem)
    return run_and_report(options, as_json=args.json)


def option_conflict(options: Options) -> str | None:
    """Why these options cannot go together, or None (the same check for `make demo` and `ebl demo`)."""
    if options.rpc_url and options.besu_like:
        return "--besu-like starts its own node; leave out --rpc-url (or use --network besu with it)"
    if options.network != "anvil" and not options.rpc_url:
        return "--network applies to --rpc-url; the embedded node takes --besu-like"
    return None


def run_and_report(options: Options, as_json: bool = False) -> int:
    """Run the story and print the report (as JSON on stdout, progress on stderr, with `as_json`); the exit
    code: 1 with one `error:` line on stderr when the story failed."""
    console = tables.console(stderr=as_json)
    try:
        report = run(options, console)
    except EblError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        reports.print_report(report, console)
    return 0
