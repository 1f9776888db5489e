"""The index commands as a user types them: sync, status, history --verify, bill list, inbox, finance book, audit
export and report, with names from the directory; bad input is one `error:` line; `index watch` follows new
blocks and stops cleanly on Ctrl-C."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from ebl_client import Client, keys
from ebl_client.cli import audit
from ebl_client.cli import cli as root
from ebl_client.errors import ExitCode
from ebl_client.index import schema as s
from ebl_client.index import store
from ebl_client.node import AnvilNode, dev_keys

from ..clirunner import cli_runner
from .test_queries import directory_file
from .test_sync import small_world
from .world import World, document


@pytest.fixture
def ebl(trade: World, tmp_path: Path) -> Any:
    """ebl(*args, as_=handle) -> click Result, with a fresh SQLite index and the world's directory."""
    runner = cli_runner()
    index = f"sqlite:///{tmp_path / 'index.sqlite'}"
    env = {"EBL_RPC_URL": trade.client.chain.url, "EBL_DEPLOYMENTS": str(trade.client.deployments_dir),
           "EBL_INDEX": index, "EBL_DIRECTORY": str(directory_file(trade, tmp_path / "directory.json")),
           "COLUMNS": None, keys.DEFAULT_KEY_ENV: None, "EBL_AS": None}

    def run(*args: str, as_: str | None = None) -> Result:
        extra = {"EBL_AS": trade.address(as_)} if as_ else {}
        return runner.invoke(root, list(args), env={**env, **extra}, catch_exceptions=False)

    assert run("index", "sync", "--page-size", "50").exit_code == 0
    return run


def one_error(result: Result, code: ExitCode, fragment: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], result.stderr


def test_sync_and_status(trade: World, ebl: Any) -> None:
    again = ebl("index", "sync")
    assert again.exit_code == 0 and "the index is current" in again.stdout
    status = json.loads(ebl("--json", "index", "status").stdout)
    assert status["last_block"] == trade.client.chain.w3.eth.block_number and status["events"] > 90


def test_bill_list_and_history_with_names(trade: World, ebl: Any) -> None:
    listed = json.loads(ebl("--json", "bill", "list", "--status", "issued", as_="endorsee").stdout)
    assert {b["token_id"] for b in listed} == {hex(trade.bills["b2"]), hex(trade.bills["b7"])}
    assert {b["carrierName"] for b in listed} == {"Victoria Harbour Shipping Line"}
    table = ebl("bill", "list", as_="exporter")
    assert table.exit_code == 0 and "Pearl River Electronics Ltd" in table.stdout and "(blank endorsed)" in table.stdout
    history = ebl("index", "history", hex(trade.bills["b1"]), "--verify", as_="importer")
    assert history.exit_code == 0, history.stderr
    assert "verified: the index's 4 actions are the chain's" in history.stderr
    assert "Financing escrow" in history.stdout and "surrender_for_delivery" in history.stdout
    one_error(ebl("index", "history", hex(trade.bills["b1"]), as_="bank_b"), ExitCode.INVALID, "not a party to bill")


def test_inbox_and_book(trade: World, ebl: Any) -> None:
    carrier = ebl("inbox", as_="carrier")
    assert f"ebl bill accept-surrender {hex(trade.bills['b1'])}" in carrier.stdout
    assert "Shanghai Huaxin Trading Co" in carrier.stdout
    tasks = json.loads(ebl("--json", "inbox", as_="exporter").stdout)["tasks"]
    assert {t["kind"] for t in tasks} >= {"offer", "reservation", "repay"}
    assert ebl("inbox", as_="provider").stdout.startswith("nothing waits for Shanghai Credit Reference Center")
    regulator_view = ebl("inbox", trade.address("checker"), as_="regulator")
    assert "approve-verification" in regulator_view.stdout
    one_error(ebl("inbox", trade.address("checker"), as_="exporter"), ExitCode.INVALID, "may read only its own inbox")
    book = ebl("finance", "book", as_="bank_a")
    assert book.exit_code == 0 and "overdue: #" in book.stdout and "tHKD 61,000.00" in book.stdout
    assert json.loads(ebl("--json", "finance", "book", as_="bank_a").stdout)["exposure"] == {"tHKD": 61_000 * 10**6}


def test_audit_export_and_report(trade: World, ebl: Any, tmp_path: Path) -> None:
    exported = ebl("audit", "export", "--all", "--format", "csv", as_="regulator")
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) > 90 and list(rows[0]) == list(audit.COLUMNS)
    assert [int(r["block"]) for r in rows] == sorted(int(r["block"]) for r in rows)
    assert any(r["actorName"] == "Hong Kong Monetary Authority" and r["event"] == "Revoked" for r in rows)
    out = tmp_path / "bill.json"
    written = ebl("audit", "export", "--bill", hex(trade.bills["b1"]), "--format", "json", "--output", str(out),
                  as_="exporter")
    assert written.exit_code == 0 and "actions written" in written.stderr
    assert {r["event"] for r in json.loads(out.read_text())} >= {"BillIssued", "Requested", "Funded", "Released"}
    today = ebl("audit", "export", "--participant", trade.address("exporter"), "--format", "json", "--from",
                "2999-01-01", as_="exporter")
    assert json.loads(today.stdout) == []
    one_error(ebl("audit", "export", "--all", "--format", "csv", as_="exporter"), ExitCode.INVALID, "only a regulator")
    one_error(ebl("audit", "export", "--format", "csv", as_="regulator"), ExitCode.INVALID, "exactly one of")
    report = ebl("audit", "report", as_="regulator")
    assert report.exit_code == 0 and "Guangzhou Nansha Imports" in report.stdout and "HK->CN" in report.stdout
    one_error(ebl("audit", "report", as_="bank_a"), ExitCode.INVALID, "for regulators")


def test_bad_input_is_one_error_line(trade: World, ebl: Any, tmp_path: Path) -> None:
    one_error(ebl("bill", "list", "--status", "lost", as_="exporter"), ExitCode.INVALID, "is not one of")
    one_error(ebl("bill", "list", "--holder", "0x1234", as_="exporter"), ExitCode.INVALID, "not a 20-byte hex address")
    one_error(ebl("bill", "list"), ExitCode.USAGE, "give --as ACCOUNT")
    one_error(ebl("inbox", "--as", "nothex"), ExitCode.USAGE, "not a 20-byte hex address")
    one_error(ebl("inbox", "nothex", as_="exporter"), ExitCode.USAGE, "not a 20-byte hex address")
    one_error(ebl("bill", "list", "--index", "mysql://db/ebl", as_="exporter"), ExitCode.INVALID,
              "only sqlite and postgresql")
    one_error(ebl("inbox", "--index", f"sqlite:///{tmp_path / 'none.sqlite'}", as_="exporter"), ExitCode.INVALID,
              "run `ebl index sync`")
    one_error(ebl("index", "history", "zz", as_="exporter"), ExitCode.USAGE, "not a number")
    one_error(ebl("--rpc-url", "http://127.0.0.1:9", "bill", "list", "--index", "", as_="exporter"), ExitCode.NODE,
              "give --index URL or --chain-id")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    one_error(ebl("index", "directory", str(bad)), ExitCode.INVALID, "")


def indexed_references(index: str, wanted: str, watcher: subprocess.Popen[str]) -> set[str]:
    """The references the watcher's index holds once `wanted` is among them (or a minute has passed)."""
    deadline, references = time.monotonic() + 60, set()
    while wanted not in references and time.monotonic() < deadline and watcher.poll() is None:
        time.sleep(0.1)
        try:
            engine = store.create(index)
        except Exception:  # the watcher has not created the index yet
            continue
        try:
            with engine.connect() as conn:
                references = set(conn.execute(s.bills.select().with_only_columns(s.bills.c.reference)).scalars())
        except Exception:  # nor its tables
            continue
        finally:
            engine.dispose()
    return references


def test_an_index_of_a_replaced_chain_is_never_read_as_the_register(tmp_path: Path) -> None:
    """The node restarted on a fresh chain where the same deployment addresses hold a bill of the same token id
    with another history: the old index (its last block no longer the node's) is refused by every read, `bill
    history` reads the chain instead, and `ebl index sync` starts the index over."""
    state = tmp_path / "anvil-state.json"
    node = AnvilNode(state_file=state).start()
    deployments = tmp_path / "deployments"
    env = {"EBL_RPC_URL": node.url, "EBL_DEPLOYMENTS": str(deployments), "EBL_INDEX": f"sqlite:///{tmp_path / 'i.db'}",
           "COLUMNS": None, keys.DEFAULT_KEY_ENV: None, "EBL_AS": None}
    runner = cli_runner()

    def ebl(*args: str) -> Result:
        return runner.invoke(root, list(args), env=env, catch_exceptions=False)

    carrier, trader = (keys.from_private_key(k) for k in dev_keys(3)[1:])
    try:
        client = small_world(node.url, deployments)
        token = client.bills.token_of(carrier.address, "SMALL-0001")
        assert token is not None
        client.bills.surrender(token, sender=trader)  # the old chain's bill was surrendered; the new one's is not
        assert ebl("index", "sync").exit_code == 0
    finally:
        node.stop()
    node = AnvilNode(port=node.port, state_file=state, fresh=True).start()
    try:
        # an empty first block: the new chain's blocks never hash like the old one's
        Client.connect(node.url, outbox=False).chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        client = small_world(node.url, deployments)
        assert client.bills.token_of(carrier.address, "SMALL-0001") == token
        status = json.loads(ebl("--json", "index", "status").stdout)
        assert "no longer has" in status["foreign"] and status["current"] is False
        one_error(ebl("inbox", "--as", trader.address), ExitCode.INVALID, "holds a chain the node no longer has")
        one_error(ebl("bill", "list", "--as", trader.address), ExitCode.INVALID, "run `ebl index sync`")
        history = ebl("--json", "bill", "history", hex(token))
        assert history.exit_code == 0 and "reading the chain" in history.stderr
        assert [e["action"] for e in json.loads(history.stdout)] == ["issue"]  # not the old chain's surrender
        assert ebl("index", "sync").exit_code == 0
        assert json.loads(ebl("--json", "index", "status").stdout)["current"] is True
        assert ebl("inbox", "--as", trader.address).exit_code == 0
    finally:
        node.stop()


def test_watch_follows_new_blocks_through_a_node_restart_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    state = tmp_path / "anvil-state.json"
    node = AnvilNode(state_file=state).start()
    deployments = tmp_path / "deployments"
    index = f"sqlite:///{tmp_path / 'watch.sqlite'}"
    signers = [keys.from_private_key(k) for k in dev_keys(3)]
    try:
        small_world(node.url, deployments)
        env = {**os.environ, "EBL_RPC_URL": node.url, "EBL_DEPLOYMENTS": str(deployments), "EBL_INDEX": index}
        ebl_program = os.path.join(os.path.dirname(sys.executable), "ebl")
        watcher = subprocess.Popen([ebl_program, "index", "watch", "--interval", "0.2"], cwd=tmp_path, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            client = Client.connect(node.url, deployments=deployments)
            client.bills.issue(document("SMALL-0009"), signers[2].address, sender=signers[1])
            assert indexed_references(index, "SMALL-0009", watcher) == {"SMALL-0001", "SMALL-0009"}
            node.stop()  # the node goes away under the watcher, and comes back with its chain
            time.sleep(1)
            node = AnvilNode(port=node.port, state_file=state).start()
            client = Client.connect(node.url, deployments=deployments)
            client.bills.issue(document("SMALL-0010"), signers[2].address, sender=signers[1])
            assert "SMALL-0010" in indexed_references(index, "SMALL-0010", watcher)
            watcher.send_signal(signal.SIGINT)
            _out, err = watcher.communicate(timeout=60)
        finally:
            if watcher.poll() is None:
                watcher.kill()
    finally:
        node.stop()
    assert watcher.returncode == 0, err
    assert "cannot reach the node" in err and "trying again" in err
    assert "stopped at block" in err and "Traceback" not in err
