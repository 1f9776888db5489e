"""Crashes, for real: Anvil killed with SIGKILL after a confirmed issue and restarted from its lagging state
file; the client process killed between signing and sending, between sending and the receipt, and half-way
through writing its journal (the test-only $EBL_TEST_KILL_AT hook); a node restarted empty under the same
chain id. After each, the next connection reconciles: nothing signed is lost, nothing is applied twice."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from ebl_client import deployment, keys
from ebl_client.bills import Bills
from ebl_client.chain import Chain, Outcome
from ebl_client.node import AnvilNode, dev_keys, dump_path, saved_block
from ebl_client.outbox import KILL_ENV, ChainReplaced, Outbox, State, forget_replaced

from .test_outbox import CARRIER, SHIPPER, connect, document, onboard_parties, run_client

SIGKILL_EXIT = -9


@pytest.fixture(scope="module")
def signers():
    return [keys.from_private_key(k) for k in dev_keys(10)]


def deploy_world(url: str, directory, signers) -> Chain:
    chain = Chain.connect(url)
    suite = deployment.deploy_suite(chain, signers[0], directory)
    onboard_parties(chain, suite, signers[0], signers)
    return chain


def wait_for_state(node: AnvilNode, chain: Chain, timeout: float = 20) -> None:
    """Until Anvil's dump (written every second, node.STATE_INTERVAL) holds the latest block."""
    assert node.state_file is not None
    head = chain.w3.eth.block_number
    deadline = time.monotonic() + timeout
    while (saved_block(dump_path(node.state_file)) or -1) < head:
        assert time.monotonic() < deadline, "anvil never wrote its state"
        time.sleep(0.1)


def kill9(node: AnvilNode) -> None:
    """SIGKILL the Anvil process (no state written on the way out); stop() then puts its last complete dump in
    place of the state file, as the next start would."""
    assert node.pid is not None
    os.kill(node.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while node.poll() is None:
        assert time.monotonic() < deadline, "anvil survived SIGKILL"
        time.sleep(0.01)
    node.stop()


ISSUE = """
import json, os
from ebl_client import keys, samples
from ebl_client.bills import IssueItem
from ebl_client.client import Client

def document(reference):
    doc = json.loads(samples.TRANSPORT_DOCUMENT.read_text())
    doc["transportDocumentReference"] = reference
    return doc

client = Client.connect(os.environ["URL"], deployments=os.environ["DEPLOYMENTS"], outbox=os.environ["OUTBOX"])
carrier = keys.from_private_key(os.environ["CARRIER_KEY"])
refs = os.environ["REFS"].split()
if len(refs) == 1:
    client.bills.issue(document(refs[0]), os.environ["HOLDER"], sender=carrier)
else:
    items = [IssueItem(document(r), os.environ["HOLDER"]) for r in refs]
    for item in client.bills.issue_many(items, sender=carrier, batch="faults"):
        print(item.outcome.value, item.tx_hash)
"""


def issue_in_a_process(url, deployments, outbox, signers, *refs, kill_at: str | None = None):
    """`bills.issue` (one reference) or `bills.issue_many` (several, batch "faults") in a client process."""
    env = {"URL": url, "DEPLOYMENTS": str(deployments), "OUTBOX": str(outbox), "REFS": " ".join(refs),
           "CARRIER_KEY": signers[CARRIER].key.to_0x_hex(), "HOLDER": signers[SHIPPER].address}
    if kill_at:
        env[KILL_ENV] = kill_at
    return run_client(ISSUE, env=env)


def pending_entries(outbox, sender) -> list:
    journal = Outbox(outbox).journal(31337, sender)
    with journal.locked(shared=True):
        return journal.pending()


# --- (a) the node dies after a confirmed issue; its state file lags ---------------------------------------


def test_a_node_killed_after_a_confirmed_issue_gets_it_back_from_the_outbox(tmp_path, signers):
    state, deployments, outbox = tmp_path / "state.json", tmp_path / "deployments", tmp_path / "outbox"
    node = AnvilNode(state_file=state).start()
    try:
        chain = deploy_world(node.url, deployments, signers)
        wait_for_state(node, chain)
        client = connect(node.url, deployments, outbox)
        for attempt in range(3):  # the state file must not have caught the issue before the kill
            bill, tx = client.bills.issue(document(f"KILLNODE{attempt:02d}"), signers[SHIPPER].address,
                                          sender=signers[CARRIER])
            kill9(node)
            if (saved_block(state) or -1) < tx.block:
                break
            node = AnvilNode(state_file=state).start()
            client = connect(node.url, deployments, outbox)
        else:
            pytest.fail("anvil saved its state right after the issue three times in a row")
    finally:
        node.stop()

    with AnvilNode(state_file=state) as restarted:
        chain = Chain.connect(restarted.url)
        assert chain.w3.eth.block_number < tx.block  # the restarted node lost the issue
        again = connect(restarted.url, deployments, outbox)  # any command: connecting reconciles
        resent = [f for f in again.reconciled.findings if f.action == "resent"]
        assert [f.entry.hash for f in resent] == [tx.hash]
        assert again.bills.get(bill.token_id) == bill  # the bill exists ...
        assert again.bills.balance_of(signers[SHIPPER].address) == 1  # ... issued once
        assert again.bills.token_of(signers[CARRIER].address, bill.transport_document_reference) == bill.token_id
        assert chain.w3.eth.get_transaction_receipt(tx.hash)["status"] == 1  # the very same transaction
        assert again.reconciled.conflicts == []


# --- (b) the client dies -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node(tmp_path_factory, signers):
    deployments = tmp_path_factory.mktemp("faults") / "deployments"
    with AnvilNode() as n:
        deploy_world(n.url, deployments, signers)
        yield n, deployments


@pytest.fixture
def world(node, tmp_path):
    anvil, deployments = node
    return {"url": anvil.url, "deployments": deployments, "outbox": tmp_path / "outbox",
            "chain": Chain.connect(anvil.url)}


@pytest.mark.parametrize("point", ["journaled", "sent"])
def test_a_client_killed_between_signing_and_the_receipt_loses_nothing_and_sends_nothing_twice(world, signers,
                                                                                            point):
    chain, carrier = world["chain"], signers[CARRIER]
    nonce = chain.w3.eth.get_transaction_count(carrier.address)
    ref = f"KILL{point.upper()[:8]}"
    done = issue_in_a_process(world["url"], world["deployments"], world["outbox"], signers, ref, kill_at=point)
    assert done.returncode == SIGKILL_EXIT, done.stderr
    [entry] = pending_entries(world["outbox"], carrier.address)
    assert entry.label == f"BillOfLadingRegistry.issue {ref}"
    on_chain = chain.w3.eth.get_transaction_count(carrier.address)
    assert on_chain == nonce + (1 if point == "sent" else 0)  # killed before sending: nothing left the process

    again = connect(world["url"], world["deployments"], world["outbox"])
    [finding] = again.reconciled.findings
    assert finding.entry.hash == entry.hash and finding.action == ("resent" if point == "journaled" else "mined")
    assert chain.w3.eth.get_transaction_count(carrier.address) == nonce + 1  # one transaction per entry
    assert chain.w3.eth.get_transaction_receipt(entry.hash)["status"] == 1
    bills = Bills.of(chain, deployment.load(world["deployments"], 31337))
    assert bills.token_of(carrier.address, ref) is not None
    assert pending_entries(world["outbox"], carrier.address) == []  # every entry reconciled


def test_a_batch_killed_before_sending_is_resent_on_connect_and_resumed_without_signing_again(world, signers):
    chain, carrier = world["chain"], signers[CARRIER]
    nonce = chain.w3.eth.get_transaction_count(carrier.address)
    refs = [f"BATCHKILL{n:02d}" for n in range(5)]
    done = issue_in_a_process(world["url"], world["deployments"], world["outbox"], signers, *refs,
                              kill_at="journaled")
    assert done.returncode == SIGKILL_EXIT, done.stderr
    assert len(pending_entries(world["outbox"], carrier.address)) == 5
    assert chain.w3.eth.get_transaction_count(carrier.address) == nonce

    rerun = issue_in_a_process(world["url"], world["deployments"], world["outbox"], signers, *refs)
    assert rerun.returncode == 0, rerun.stderr
    lines = [line.split() for line in rerun.stdout.splitlines()]
    assert [outcome for outcome, _ in lines] == ["mined"] * 5
    journal = Outbox(world["outbox"]).journal(31337, carrier.address)
    with journal.locked(shared=True):
        assert [h for _, h in lines] == [e.hash for e in journal.entries.values()]  # the journaled ones, not new
        assert all(e.state is State.MINED and e.sends == 1 for e in journal.entries.values())
    assert chain.w3.eth.get_transaction_count(carrier.address) == nonce + 5


def test_an_interrupted_batch_resumes_from_the_journal(world, signers):
    """Killed after sending: the same batch run again follows the journaled transactions to their receipts."""
    chain, carrier = world["chain"], signers[CARRIER]
    nonce = chain.w3.eth.get_transaction_count(carrier.address)
    refs = [f"RESUME{n:02d}" for n in range(4)]
    killed = issue_in_a_process(world["url"], world["deployments"], world["outbox"], signers, *refs, kill_at="sent")
    assert killed.returncode == SIGKILL_EXIT
    from ebl_client.bills import IssueItem
    from ebl_client.client import Client

    client = Client.connect(world["url"], deployments=world["deployments"], outbox=world["outbox"], reconcile=False)
    items = [IssueItem(document(r), signers[SHIPPER].address) for r in refs]
    results = client.bills.issue_many(items, sender=carrier, batch="faults")
    assert [(r.outcome, r.resumed) for r in results] == [(Outcome.MINED, True)] * 4
    assert [r.value.transport_document_reference for r in results] == refs
    assert chain.w3.eth.get_transaction_count(carrier.address) == nonce + 4


def test_a_client_killed_half_way_through_its_journal_write_leaves_a_torn_line_and_nothing_sent(world, signers):
    chain, carrier = world["chain"], signers[CARRIER]
    nonce = chain.w3.eth.get_transaction_count(carrier.address)
    done = issue_in_a_process(world["url"], world["deployments"], world["outbox"], signers, "TORNWRITE1",
                              kill_at="torn")
    assert done.returncode == SIGKILL_EXIT
    again = connect(world["url"], world["deployments"], world["outbox"])
    assert again.reconciled.findings == [] and any("torn" in w for w in again.reconciled.warnings)
    assert chain.w3.eth.get_transaction_count(carrier.address) == nonce  # the torn record was never sent
    again.bills.issue(document("TORNWRITE1"), signers[SHIPPER].address, sender=carrier)
    path = world["outbox"] / "31337" / f"{carrier.address}.jsonl"
    parsed = []
    for line in path.read_text().splitlines():
        try:
            parsed.append(json.loads(line)["record"])
        except ValueError:
            parsed.append("torn")
    assert parsed.count("torn") == 1 and parsed[-3:] == ["signed", "sent", "mined"]


# --- (c) a node restarted empty under the same chain id ---------------------------------------------------


def test_a_node_restarted_empty_is_refused_while_the_journal_holds_pending_transactions(tmp_path, signers):
    state, deployments, outbox = tmp_path / "state.json", tmp_path / "deployments", tmp_path / "outbox"
    with AnvilNode(state_file=state) as old:
        deploy_world(old.url, deployments, signers)
        old_genesis = Chain.connect(old.url).genesis_hash
        done = issue_in_a_process(old.url, deployments, outbox, signers, "REPLACED01", kill_at="journaled")
        assert done.returncode == SIGKILL_EXIT
    time.sleep(1.1)  # Anvil's genesis carries the start time: a new second, a new genesis
    with AnvilNode(state_file=state, fresh=True) as new:  # `ebl node --fresh`: chain id 31337, empty
        new_genesis = Chain.connect(new.url).genesis_hash
        assert new_genesis != old_genesis
        with pytest.raises(ChainReplaced) as refused:
            connect(new.url, deployments, outbox)
        message = str(refused.value)
        journal = outbox / "31337" / f"{signers[CARRIER].address}.jsonl"
        assert f"the journal {journal} was written for chain 31337 with genesis {old_genesis}" in message
        assert f"this node's genesis is {new_genesis}: 1 transaction never reached this chain" in message
        assert "ebl tx forget --chain-replaced" in message

        [(archived, pending)] = forget_replaced(Outbox(outbox), Chain.connect(new.url))
        assert pending == 1 and archived.parent == outbox / "31337" / "archive" and not journal.exists()
        assert "REPLACED01" in archived.read_text()  # kept, never deleted
        assert connect(new.url, deployments, outbox).reconciled.findings == []


def test_a_replaced_chain_with_nothing_pending_is_archived_by_itself(tmp_path, signers):
    deployments, outbox = tmp_path / "deployments", tmp_path / "outbox"
    with AnvilNode() as old:
        deploy_world(old.url, deployments, signers)
        connect(old.url, deployments, outbox).bills.issue(document("ARCHIVE01"), signers[SHIPPER].address,
                                                          sender=signers[CARRIER])
    time.sleep(1.1)
    with AnvilNode() as new:
        client = connect(new.url, deployments, outbox)
        assert client.reconciled.findings == []
        assert [p.name.split("-")[0] for p in (outbox / "31337" / "archive").iterdir()] == [signers[CARRIER].address]
