"""The outbox: every signed transaction journaled (fsync'd) before it is sent, looked up on connect, resent
byte for byte when the node lost it, a nonce used by another transaction reported as a conflict; the journal
survives torn writes and two processes appending at once. Real Anvil, real files, real processes.

The helpers at the top (a carrier and a shipper onboarded, documents with fresh references, a client with its
own outbox) serve test_faults.py and test_pipeline.py too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from eth_utils import keccak

from ebl_client import errors, samples
from ebl_client.bills import Bills
from ebl_client.chain import Call, Chain
from ebl_client.client import Client
from ebl_client.models import Role
from ebl_client.outbox import OUTBOX_ENV, Journal, Outbox, State, reconcile, signed_record
from ebl_client.participants import Participants

from .conftest import sample_hash

CARRIER, SHIPPER, CONSIGNEE, PROVIDER, SUBJECT = 1, 2, 3, 6, 7
REPO = Path(__file__).resolve().parents[2]


def document(reference: str) -> dict:
    """The sample DCSA transport document under another reference."""
    doc = json.loads(samples.TRANSPORT_DOCUMENT.read_text())
    doc["transportDocumentReference"] = reference
    return doc


def onboard_parties(chain: Chain, suite, admin, signers) -> None:
    """Carrier 1, traders 2 and 3, credit provider 6, trader 7 (a credit subject)."""
    registry = Participants.of(chain, suite)
    for i, role in ((CARRIER, Role.CARRIER), (SHIPPER, Role.TRADER), (CONSIGNEE, Role.TRADER),
                    (PROVIDER, Role.CREDIT_PROVIDER), (SUBJECT, Role.TRADER)):
        registry.onboard(signers[i].address, role, "HK", sample_hash(i), sender=admin)


def connect(url: str, deployments: Path, outbox: Path, **kwargs) -> Client:
    return Client.connect(url, deployments=deployments, outbox=outbox, **kwargs)


def journal_lines(outbox: Path, chain_id: int, sender: str) -> list[dict]:
    path = outbox / str(chain_id) / f"{sender}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def run_client(script: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """A real client process (the same interpreter and source tree)."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env={**os.environ, **(env or {})})


@pytest.fixture
def parties(chain, suite, admin, signers, snapshot):
    onboard_parties(chain, suite, admin, signers)
    return {"carrier": signers[CARRIER], "shipper": signers[SHIPPER], "consignee": signers[CONSIGNEE],
            "provider": signers[PROVIDER], "subject": signers[SUBJECT], "outsider": signers[9]}


@pytest.fixture
def outbox_dir(tmp_path):
    return tmp_path / "outbox"


@pytest.fixture
def client(anvil, deployments_dir, outbox_dir, parties):
    return connect(anvil.url, deployments_dir, outbox_dir)


# --- journaled before sent ---------------------------------------------------------------------------------


def test_every_signed_transaction_is_journaled_before_it_is_sent(anvil, deployments_dir, outbox_dir, parties):
    carrier = parties["carrier"]
    journal = outbox_dir / "31337" / f"{carrier.address}.jsonl"
    seen_at_send: list[list[dict]] = []

    def hook(method, params):
        if method == "eth_sendRawTransaction":  # what the journal holds at the moment the bytes leave
            seen_at_send.append([json.loads(line) for line in journal.read_text().splitlines()])

    client = connect(anvil.url, deployments_dir, outbox_dir, make_request_hook=hook)
    bill, tx = client.bills.issue(document("OUTBOX0001"), parties["shipper"].address, sender=carrier)

    [at_send] = seen_at_send
    header, signed = at_send
    assert header == {**header, "record": "journal", "format": 1, "chainId": 31337,
                      "genesis": client.chain.genesis_hash, "sender": carrier.address}
    assert signed["record"] == "signed" and signed["hash"] == tx.hash
    assert signed["label"] == "BillOfLadingRegistry.issue OUTBOX0001"
    assert "0x" + keccak(bytes.fromhex(signed["raw"][2:])).hex() == tx.hash  # the exact bytes that were sent
    assert signed["nonce"] == client.chain.w3.eth.get_transaction(tx.hash)["nonce"]

    records = journal_lines(outbox_dir, 31337, carrier.address)
    assert [r["record"] for r in records] == ["journal", "signed", "sent", "mined"]
    mined = records[-1]
    assert (mined["status"], mined["block"], mined["gasUsed"]) == (1, tx.block, tx.gas_used)
    assert bill == client.bills.get(bill.token_id)  # built from the receipt, equal to what the chain says


def test_a_refused_action_is_named_and_never_journaled(client, parties, outbox_dir):
    with pytest.raises(errors.CarrierNotActive):
        client.bills.issue(document("OUTBOX0002"), parties["shipper"].address, sender=parties["outsider"])
    assert not (outbox_dir / "31337" / f"{parties['outsider'].address}.jsonl").exists()


def test_outbox_folder_from_the_environment(anvil, deployments_dir, tmp_path, parties, monkeypatch):
    monkeypatch.setenv(OUTBOX_ENV, str(tmp_path / "from-env"))
    client = Client.connect(anvil.url, deployments=deployments_dir)
    client.bills.issue(document("OUTBOX0003"), parties["shipper"].address, sender=parties["carrier"])
    assert (tmp_path / "from-env" / "31337" / f"{parties['carrier'].address}.jsonl").is_file()


# --- torn lines and concurrent writers ---------------------------------------------------------------------


def test_a_torn_last_line_is_ignored_with_a_warning_and_the_next_write_goes_on(client, parties, outbox_dir):
    carrier, shipper = parties["carrier"], parties["shipper"].address
    client.bills.issue(document("TORN0001"), shipper, sender=carrier)
    path = outbox_dir / "31337" / f"{carrier.address}.jsonl"
    with open(path, "ab") as fh:  # what a kill -9 half-way through a write leaves
        fh.write(b'{"record":"signed","hash":"0xdead","non')

    reader = Outbox(outbox_dir).journal(31337, carrier.address)
    with reader.locked(shared=True):
        assert [e.label for e in reader.entries.values()] == ["BillOfLadingRegistry.issue TORN0001"]
        assert len(reader.warnings) == 1 and "line 5" in reader.warnings[0] and "torn" in reader.warnings[0]

    client.bills.issue(document("TORN0002"), shipper, sender=carrier)  # the next writer ends the torn line first
    lines = path.read_bytes().split(b"\n")
    assert lines[4] == b'{"record":"signed","hash":"0xdead","non' and lines[-1] == b""
    fresh = Outbox(outbox_dir).journal(31337, carrier.address)
    with fresh.locked(shared=True):
        assert [(e.label, e.state) for e in fresh.entries.values()] == [
            ("BillOfLadingRegistry.issue TORN0001", State.MINED), ("BillOfLadingRegistry.issue TORN0002", State.MINED)]
        assert len(fresh.warnings) == 1 and "line 5" in fresh.warnings[0]


APPENDER = """
import sys
from ebl_client.outbox import Outbox, signed_record
journal = Outbox(sys.argv[1]).journal(31337, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
for n in range(int(sys.argv[3])):
    with journal.locked():
        rec = signed_record(hash=f"0x{sys.argv[2]}{n:060x}", nonce=n, label="x" * 300, to=None, raw="0x" + "ab" * 400)
        journal.append([rec], genesis="0x" + "11" * 32, durable=n % 10 == 0)
"""


def test_two_processes_appending_to_one_journal_keep_it_valid(tmp_path):
    writers = [subprocess.Popen([sys.executable, "-c", APPENDER, str(tmp_path), tag, "300"], cwd=REPO)
               for tag in ("aa", "bb")]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    path = tmp_path / "31337" / "0x70997970C51812dc3A010C7d01b50e0d17dc79C8.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]  # every line whole JSON
    assert [r["record"] for r in records].count("journal") == 1 and records[0]["record"] == "journal"
    journal = Journal(path, 31337, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    with journal.locked(shared=True):
        assert journal.warnings == [] and len(journal.entries) == 600
        for tag in ("aa", "bb"):
            assert [e.nonce for e in journal.entries.values() if e.hash.startswith(f"0x{tag}")] == list(range(300))


# --- reconciliation -----------------------------------------------------------------------------------------


def test_a_transaction_the_node_lost_is_resent_with_the_same_bytes(client, anvil, deployments_dir, outbox_dir,
                                                                    parties, chain):
    carrier = parties["carrier"]
    before = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    bill, tx = client.bills.issue(document("LOST0001"), parties["shipper"].address, sender=carrier)
    # the node forgets the block (what a restart from a lagging state file does; test (a) does it for real)
    assert chain.w3.provider.make_request("evm_revert", [before])["result"] is True
    assert chain.w3.eth.get_transaction_count(carrier.address) == tx_nonce(chain, outbox_dir, carrier, tx.hash)

    again = connect(anvil.url, deployments_dir, outbox_dir)
    [finding] = again.reconciled.findings
    assert (finding.action, finding.entry.hash) == ("resent", tx.hash)
    assert again.bills.get(bill.token_id).holder == parties["shipper"].address
    assert chain.w3.eth.get_transaction_receipt(tx.hash)["status"] == 1  # the same transaction, mined again
    assert again.bills.balance_of(parties["shipper"].address) == 1
    records = [r["record"] for r in journal_lines(outbox_dir, 31337, carrier.address)]
    assert records == ["journal", "signed", "sent", "mined", "lost", "sent", "mined"]

    assert connect(anvil.url, deployments_dir, outbox_dir).reconciled.findings == []  # nothing left to do


def tx_nonce(chain, outbox_dir, signer, tx_hash) -> int:
    return next(r["nonce"] for r in journal_lines(outbox_dir, 31337, signer.address) if r.get("hash") == tx_hash)


def test_a_nonce_used_by_another_transaction_is_a_conflict_never_sent(client, anvil, deployments_dir, outbox_dir,
                                                                      parties, chain):
    carrier = parties["carrier"]
    nonce = chain.w3.eth.get_transaction_count(carrier.address)
    bills = client.bills
    call = Call(bills.address, bytes.fromhex(bills.contract.encode_abi(
        "issue", args=[(b"CONFLICT1".ljust(32, b"\0"), b"\1" * 32, parties["shipper"].address,
                        parties["shipper"].address, False), b"\0" * 32])[2:]), "BillOfLadingRegistry.issue CONFLICT1")
    signed = carrier.sign_transaction({"to": call.to, "data": call.data, "gas": 300_000, "nonce": nonce,
                                       "chainId": 31337, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 1})
    journal = client.chain.outbox.journal(31337, carrier.address)
    with journal.locked():  # journaled, then the process died before sending it
        journal.append([signed_record(hash=signed.hash.to_0x_hex(), nonce=nonce, label=call.label, to=call.to,
                                      raw=signed.raw_transaction.to_0x_hex())],
                       genesis=client.chain.genesis_hash, durable=True)
    # meanwhile another wallet of the carrier (no outbox) used that nonce
    chain.send(carrier, {"to": parties["shipper"].address, "data": b"", "value": 1})

    again = connect(anvil.url, deployments_dir, outbox_dir)
    [conflict] = again.reconciled.conflicts
    assert conflict.entry.hash == signed.hash.to_0x_hex() and f"nonce {nonce}" in conflict.detail
    assert "used by another transaction" in conflict.detail
    with pytest.raises(Exception, match="not found"):
        chain.w3.eth.get_transaction(signed.hash)  # never sent: the conflict is reported, not papered over
    state = Outbox(outbox_dir).journal(31337, carrier.address)
    with state.locked(shared=True):
        assert state.entries[signed.hash.to_0x_hex()].state is State.CONFLICT
    assert connect(anvil.url, deployments_dir, outbox_dir).reconciled.findings == []
    client.bills.issue(document("CONFLICT2"), parties["shipper"].address, sender=carrier)  # no stall


def test_a_full_journal_with_nothing_pending_is_rotated_into_the_archive(client, anvil, outbox_dir, parties):
    carrier, shipper = parties["carrier"], parties["shipper"].address
    for n in range(3):
        client.bills.issue(document(f"ROTATE{n:04d}"), shipper, sender=carrier)
    result = reconcile(client.chain.outbox, client.chain, rotate_after=3)
    [archived] = result.archived
    assert archived.parent == outbox_dir / "31337" / "archive" and archived.name.startswith(carrier.address)
    kept = [json.loads(line) for line in archived.read_text().splitlines()]
    assert [r["record"] for r in kept].count("mined") == 3 and kept[-1]["record"] == "archived"
    assert not (outbox_dir / "31337" / f"{carrier.address}.jsonl").exists()
    client.bills.issue(document("ROTATE0003"), shipper, sender=carrier)  # a new journal, with its own header
    assert [r["record"] for r in journal_lines(outbox_dir, 31337, carrier.address)] == [
        "journal", "signed", "sent", "mined"]


def test_bills_facade_without_an_outbox_sends_as_before(chain, suite, parties, outbox_dir):
    bills = Bills.of(chain, suite)  # a Chain built without an outbox journals nothing
    bill, _ = bills.issue(document("NOBOX0001"), parties["shipper"].address, sender=parties["carrier"])
    assert bills.get(bill.token_id) == bill and not outbox_dir.exists()
