"""Pipelined sending under load: mixed batches (valid items, items refused before sending, items that revert
on chain because an earlier item of the same batch changed the state) report each item's outcome as the chain
has it; no nonce gap stalls the sender; the chain holds exactly what the successful items say. Batched reads
answer as the one-by-one reads do. On a Besu-like node only methods Besu serves are used."""

from __future__ import annotations

import dataclasses

import pytest
import rlp

from ebl_client import deployment, errors, hashing, samples
from ebl_client.bills import Bills, IssueItem
from ebl_client.chain import Call, Chain, Outcome
from ebl_client.client import Client
from ebl_client.credit import AnchorItem, CreditRecords
from ebl_client.financing import Financings
from ebl_client.networks import ANVIL, BESU
from ebl_client.node import BESU_LIKE, AnvilNode
from ebl_client.outbox import Outbox, State
from ebl_client.participants import Participants

from .conftest import DAY
from .test_demo import BESU_SERVES
from .test_outbox import CARRIER, CONSIGNEE, SHIPPER, connect, document, onboard_parties


@pytest.fixture
def world(anvil, chain, suite, admin, signers, deployments_dir, tmp_path, snapshot):
    onboard_parties(chain, suite, admin, signers)
    client = connect(anvil.url, deployments_dir, tmp_path / "outbox")
    return {"client": client, "carrier": signers[CARRIER], "shipper": signers[SHIPPER].address,
            "consignee": signers[CONSIGNEE].address, "outsider": signers[9].address, "chain": chain,
            "outbox": tmp_path / "outbox"}


def nonce_of(chain: Chain, account) -> int:
    return chain.w3.eth.get_transaction_count(account.address)


def test_a_mixed_batch_reports_each_outcome_as_the_chain_has_it(world):
    client, carrier, chain = world["client"], world["carrier"], world["chain"]
    bad = document("BADDOC0001")
    bad["isToOrder"] = "yes"  # not a boolean: may not become title
    items = [
        IssueItem(document("MIX0000001"), world["shipper"]),  # 0 mined
        IssueItem(bad, world["shipper"]),  # 1 refused before sending: the document is not valid title
        IssueItem(document("MIX0000002"), world["shipper"], remark="second"),  # 2 mined
        IssueItem(document("MIX0000001"), world["consignee"]),  # 3 reverts on chain: item 0 took the reference
        IssueItem(document("MIX0000003"), world["outsider"]),  # 4 refused before sending: not a participant
        IssueItem(document("MIX0000004"), "0xnot-an-address"),  # 5 refused before sending: bad input
        IssueItem(document("MIX0000005"), world["shipper"]),  # 6 mined
    ]
    start = nonce_of(chain, carrier)
    results = client.bills.issue_many(items, sender=carrier)

    assert [r.index for r in results] == list(range(7))
    assert [r.outcome for r in results] == [Outcome.MINED, Outcome.REFUSED, Outcome.MINED, Outcome.REVERTED,
                                           Outcome.REFUSED, Outcome.REFUSED, Outcome.MINED]
    assert isinstance(results[1].error, errors.InvalidDocument)
    assert isinstance(results[3].error, errors.BillAlreadyIssued)  # decoded from the mined failure
    assert isinstance(results[4].error, errors.RecipientNotActive)
    assert isinstance(results[5].error, errors.InvalidInput)
    assert all(r.tx_hash is None and r.receipt is None for r in results if r.outcome is Outcome.REFUSED)

    # what the results say is what the chain holds
    for r in results:
        if r.outcome is Outcome.MINED:
            assert r.value == client.bills.get(r.value.token_id) and r.tx.hash == r.tx_hash
            assert chain.w3.eth.get_transaction_receipt(r.tx_hash)["status"] == 1
    reverted = chain.w3.eth.get_transaction_receipt(results[3].tx_hash)
    assert reverted["status"] == 0
    assert client.bills.balance_of(world["shipper"]) == 3 and client.bills.balance_of(world["consignee"]) == 0
    assert client.bills.get(client.bills.token_of(carrier.address, "MIX0000001")).holder == world["shipper"]
    assert nonce_of(chain, carrier) == start + 4  # refused items never took a nonce: no gap

    # every sent item is journaled with its outcome; the sender goes on at once
    journal = client.chain.outbox.journal(31337, carrier.address)
    with journal.locked(shared=True):
        assert [e.state for e in journal.entries.values()] == [State.MINED, State.MINED, State.REVERTED,
                                                             State.MINED]
    client.bills.issue(document("MIX0000006"), world["shipper"], sender=carrier)
    assert nonce_of(chain, carrier) == start + 5


def test_one_failure_never_hides_the_others_in_a_long_batch(world):
    client, carrier = world["client"], world["carrier"]
    items = [IssueItem(document(f"LONG{n:06d}"), world["shipper"] if n % 7 else world["outsider"])
             for n in range(60)]
    results = client.bills.issue_many(items, sender=carrier)
    assert [r.outcome for r in results] == [Outcome.MINED if n % 7 else Outcome.REFUSED for n in range(60)]
    assert len({r.tx_hash for r in results if r.ok}) == 60 - 9
    assert client.bills.balance_of(world["shipper"]) == 60 - 9


def test_an_item_the_node_refuses_leaves_no_gap_a_gap_filler_takes_its_nonce(world):
    client, carrier, chain = world["client"], world["carrier"], world["chain"]
    start = nonce_of(chain, carrier)
    everything = chain.w3.eth.get_balance(carrier.address)
    calls = [Call(world["shipper"], b"", "transfer 1", value=1),
             # its gas estimate passes (Anvil's eth_estimateGas does not weigh the balance); the node refuses it
             Call(world["shipper"], b"\1", "more than the balance", value=everything),
             Call(world["shipper"], b"", "transfer 2", value=3)]
    results = client.chain.send_many(calls, sender=carrier)
    assert [r.outcome for r in results] == [Outcome.MINED, Outcome.NOT_SENT, Outcome.MINED]
    assert "the node refused the transaction" in str(results[1].error)
    assert nonce_of(chain, carrier) == start + 3  # item 2 was sent with item 1: a gap filler took its nonce
    journal = client.chain.outbox.journal(31337, carrier.address)
    with journal.locked(shared=True):
        labels = {e.label: e.state for e in journal.entries.values()}
    assert labels["more than the balance"] is State.REFUSED
    assert labels[f"gap filler for nonce {start + 1} (a refused item)"] is State.MINED
    client.bills.issue(document("AFTERGAP01"), world["shipper"], sender=carrier)


def test_an_item_refused_before_the_rest_is_sent_shifts_their_nonces(anvil, deployments_dir, world):
    one_by_one = dataclasses.replace(ANVIL, max_in_flight=1)  # each item its own chunk: nothing sent ahead
    client = Client.connect(anvil.url, network=one_by_one, deployments=deployments_dir, outbox=world["outbox"])
    carrier, chain = world["carrier"], world["chain"]
    start = nonce_of(chain, carrier)
    everything = chain.w3.eth.get_balance(carrier.address)
    calls = [Call(world["shipper"], b"", "a", value=1), Call(world["shipper"], b"\1", "b", value=everything),
             Call(world["shipper"], b"", "c", value=3), Call(world["shipper"], b"", "d", value=4)]
    results = client.chain.send_many(calls, sender=carrier)
    assert [r.outcome for r in results] == [Outcome.MINED, Outcome.NOT_SENT, Outcome.MINED, Outcome.MINED]
    assert [chain.w3.eth.get_transaction(r.tx_hash)["nonce"] for r in results if r.ok] == [start, start + 1,
                                                                                             start + 2]
    journal = Outbox(world["outbox"]).journal(31337, carrier.address)
    with journal.locked(shared=True):
        states = [(e.label, e.state) for e in journal.entries.values()]
    assert states == [("a", State.MINED), ("b", State.REFUSED), ("c", State.SUPERSEDED), ("d", State.SUPERSEDED),
                      ("c", State.MINED), ("d", State.MINED)]  # no gap filler: c and d were not sent yet


def test_a_chunk_never_holds_more_gas_than_a_block(world):
    """Anvil's automine leaves what does not fit in its block until more arrives: a chunk is one block's gas,
    and an item above the block gas limit goes alone (and is refused, without a gap)."""
    client, carrier, chain = world["client"], world["carrier"], world["chain"]
    start = nonce_of(chain, carrier)
    calls = [Call(world["shipper"], b"", f"big {n}", value=n + 1, gas=12_000_000) for n in range(5)]
    calls.insert(2, Call(world["shipper"], b"", "above the block", value=9, gas=10**9))
    results = client.chain.send_many(calls, sender=carrier)
    assert [r.outcome for r in results] == [Outcome.MINED] * 2 + [Outcome.NOT_SENT] + [Outcome.MINED] * 3
    assert "gas" in str(results[2].error)
    assert nonce_of(chain, carrier) == start + 5  # the refused one's nonce went to the next item, re-signed
    blocks = [int(r.receipt["blockNumber"]) for r in results if r.ok]
    assert all(blocks.count(b) <= 2 for b in blocks)  # 12 M gas each: two to a 30 M block


def test_anchor_many_and_the_batched_checks(world, signers):
    client, chain = world["client"], world["chain"]
    provider, subject = signers[6], signers[7].address
    now = chain.block_time()
    report = hashing.load_json_file(samples.CREDIT_REPORT)
    commitments = [hashing.commit(report) for _ in range(5)]
    items = [AnchorItem(subject, c, now + 30 * DAY) for c in commitments]
    items.insert(2, AnchorItem(subject, commitments[0], now + 30 * DAY))  # reverts: item 0 anchored it
    items.append(AnchorItem(subject, commitments[1].root, now - 1))  # refused: expiry in the past
    results = client.credit.anchor_many(items, sender=provider)
    assert [r.outcome for r in results] == [Outcome.MINED, Outcome.MINED, Outcome.REVERTED] + [Outcome.MINED] * 3 + [
        Outcome.REFUSED]
    assert type(results[2].error).__name__ == "AlreadyAnchored"
    for r in results:
        if r.ok:
            assert r.value == client.credit.get(provider.address, subject, r.value.root)
    records = [(provider.address, subject, c.root) for c in commitments] + [(provider.address, subject, b"\1" * 32)]
    assert client.credit.is_valid_many(records) == [True] * 5 + [False]
    assert client.credit.is_valid_many(records) == [client.credit.is_valid(*r) for r in records]


def test_list_views_and_history_read_in_batches_match_one_by_one_reads(world, chain, suite):
    client, carrier = world["client"], world["carrier"]
    participants = Participants.of(chain, suite)
    listed = participants.list()
    assert listed == [participants.get(p.address) for p in listed] and len(listed) >= 6
    bill, _ = client.bills.issue(document("HIST000001"), world["shipper"], sender=carrier)
    chain.w3.provider.make_request("evm_mine", [])
    history = Bills.of(chain, suite).history(bill.token_id)
    assert [e.timestamp for e in history] == [chain.block_time(e.block) for e in history]
    assert Financings.of(chain, suite).list() == []


def test_a_pipelined_send_on_the_besu_profile_uses_only_methods_besu_serves(admin, signers, tmp_path):
    calls = []
    with AnvilNode(**BESU_LIKE) as node:
        chain = Chain.connect(node.url, BESU)
        suite = deployment.deploy_suite(chain, admin, tmp_path / "deployments")
        onboard_parties(chain, suite, admin, signers)
        client = Client.connect(node.url, network="besu", deployments=tmp_path / "deployments",
                                outbox=tmp_path / "outbox", make_request_hook=lambda m, p: calls.append((m, p)))
        items = [IssueItem(document(f"BESU{n:06d}"), signers[SHIPPER].address) for n in range(20)]
        results = client.bills.issue_many(items, sender=signers[CARRIER])
        assert [r.outcome for r in results] == [Outcome.MINED] * 20
        assert client.credit.is_valid_many([(signers[6].address, signers[7].address, b"\1" * 32)] * 3) == [False] * 3
        client.participants.list()
        client.bills.history(results[0].value.token_id)
    methods = {m for m, _ in calls}
    assert sorted(methods - BESU_SERVES) == []
    assert "eth_maxPriorityFeePerGas" not in methods
    for m, params in calls:
        if m == "eth_sendRawTransaction":
            fields = rlp.decode(bytes.fromhex(params[0].removeprefix("0x")))
            assert int.from_bytes(fields[1], "big") == 0 and (int.from_bytes(fields[6], "big") - 35) // 2 == 1337


def test_a_batch_from_a_chain_without_outbox_still_reports_per_item(chain, suite, admin, signers, snapshot):
    onboard_parties(chain, suite, admin, signers)
    bills = Bills.of(chain, suite)
    results = bills.issue_many([IssueItem(document("NOBOX00001"), signers[SHIPPER].address),
                                IssueItem(document("NOBOX00001"), signers[SHIPPER].address)], sender=signers[CARRIER])
    assert [r.outcome for r in results] == [Outcome.MINED, Outcome.REVERTED]
    bill, tx = results[0].result()
    assert bill == bills.get(bill.token_id) and tx.hash == results[0].tx_hash
    with pytest.raises(errors.BillAlreadyIssued):
        results[1].result()
    assert CreditRecords.of(chain, suite).is_valid_many([]) == []


def test_the_lean_codec_encodes_and_decodes_as_web3_does(world, chain, suite, signers):
    """Chain.function encodes with eth-abi directly (web3 resolves the whole ABI on every call): the bytes and the
    decoded results must be web3's, structs (named tuples) and arrays included."""
    client, carrier, shipper = world["client"], world["carrier"], world["shipper"]
    bill, _ = client.bills.issue(document("CODEC00001"), shipper, sender=carrier)
    bills = Bills.of(chain, suite)
    credit = CreditRecords.of(chain, suite)
    registry = Participants.of(chain, suite)
    root, schema = b"\x42" * 32, b"\x07" * 32
    cases = [
        (bills.contract, "issue", ((b"REF".ljust(32, b"\0"), b"\1" * 32, shipper, shipper, True), b"\0" * 32)),
        (bills.contract, "transferHolder", (bill.token_id, shipper, "0x" + "ab" * 32)),  # hex text for bytes32
        (credit.contract, "anchorBatch", ([shipper, carrier.address], [root, schema], schema, 2**40 - 1)),
        (credit.contract, "isValid", (signers[6].address, shipper, root)),
        (registry.contract, "onboard", ((shipper, 3, b"HK", b"\5" * 32, "0x" + "00" * 20),)),
        (registry.contract, "updateRoles", (shipper, 2**16 - 1, carrier.address)),
    ]
    for contract, fn, args in cases:
        assert chain.function(contract, fn).encode(args) == bytes.fromhex(contract.encode_abi(fn, args=list(args))[2:])
    reads = [(bills.contract, "bill", (bill.token_id,)), (registry.contract, "participant", (shipper,)),
             (registry.contract, "accountAt", (0,)), (credit.contract, "record", (signers[6].address, shipper, root)),
             (bills.contract, "tokenOf", (carrier.address, b"CODEC00001".ljust(32, b"\0")))]
    for (contract, fn, args), value in zip(reads, chain.call_many(reads), strict=True):
        assert value == contract.functions[fn](*args).call(), fn
    assert chain.call_many(reads)[0]._fields == bills.contract.functions.bill(bill.token_id).call()._fields
    with pytest.raises(errors.InvalidInput, match="takes 1 arguments"):
        chain.function(bills.contract, "bill").encode(())


def test_the_single_action_path_is_lean(anvil, deployments_dir, world):
    """A warm issue: one eth_call (the check that names a refusal) with the nonce in the same batch, one
    eth_sendRawTransaction, receipt polls; no read-back (the bill comes from the receipt's events), no
    eth_chainId, no second estimate (the gas of the call shape is known)."""
    calls: list[str] = []
    client = connect(anvil.url, deployments_dir, world["outbox"], make_request_hook=lambda m, p: calls.append(m))
    client.bills.issue(document("LEAN000001"), world["shipper"], sender=world["carrier"])  # cold: estimates
    calls.clear()
    bill, tx = client.bills.issue(document("LEAN000002"), world["shipper"], sender=world["carrier"])
    assert calls[:3] == ["eth_call", "eth_getTransactionCount", "eth_sendRawTransaction"]
    assert set(calls[3:]) == {"eth_getTransactionReceipt"}
    assert bill == client.bills.get(bill.token_id) and tx.hash
