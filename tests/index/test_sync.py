"""The indexer on real chains, on SQLite and PostgreSQL: the derived state equals what the contracts answer,
pages are idempotent, a replaced chain is rebuilt, a reorganisation rolled back, another chain refused."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select

from ebl_client import Client, deployment, keys
from ebl_client.index import projector, store, sync
from ebl_client.index import schema as s
from ebl_client.index.events import CONTRACTS
from ebl_client.index.store import IndexUnavailable
from ebl_client.models import Role
from ebl_client.node import AnvilNode, dev_keys

from .world import World, document

ZERO = "0x" + "00" * 20


def dump(engine: Engine, *, blocks: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    """Every table but the checkpoint as sorted tuples, for comparing two indexes; `blocks=False` leaves out
    the block hashes kept for reorganisations, which include each page's last block."""
    tables = (s.events, s.event_parties, *((s.blocks,) if blocks else ()), s.tokens, *s.DERIVED)
    with engine.connect() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in tables}


def test_the_index_equals_what_the_chain_answers(trade: World, indexed: sync.Indexer) -> None:
    client = trade.client
    with indexed.engine.connect() as conn:
        bills = {r.token_id: r for r in conn.execute(select(s.bills))}
        financings = {r.financing_id: r for r in conn.execute(select(s.financings))}
        participants = {r.account: r for r in conn.execute(select(s.participants))}
        verifications = {(r.financier, r.subject): r for r in conn.execute(select(s.verifications))}
        balances = {(r.account, r.settlement_token): r.owed for r in conn.execute(select(s.balances))}
        state = conn.execute(select(s.index_state)).one()
    assert len(bills) == len(trade.bills) and len(financings) == len(trade.financings)
    for token in trade.bills.values():
        b, row = client.bills.get(token), bills[s.token_key(token)]
        assert (row.carrier, row.beneficiary, row.nominee, row.status, row.straight, row.reference, row.document_hash,
                row.generation, row.issued_block) == (
            b.carrier, b.beneficiary, b.nominee, b.status.name.lower(), b.straight, b.transport_document_reference,
            b.document_hash, b.generation, b.issued_block)
        if b.live:  # a burned bill's holder is the registry's business; the index keeps the last one
            assert row.holder == b.holder
        assert row.predecessor == (s.token_key(b.predecessor) if b.predecessor else None)
        assert row.successor == (s.token_key(b.successor) if b.successor else None)
    for fid in trade.financings.values():
        f, row = client.finance.get(fid), financings[fid]
        assert (row.state, row.exporter, row.importer, row.financier, row.settlement_token, row.principal, row.fee,
                row.repaid, row.outstanding, row.maturity, row.token_id, row.delivered, row.invoice_fingerprint) == (
            f.state.name.lower(), f.exporter, f.importer, f.financier, f.token, f.principal, f.fee, f.repaid,
            f.outstanding, f.maturity, s.token_key(f.bill), f.delivered, f.invoice_fingerprint)
    on_chain = client.participants.list()
    assert set(participants) == {p.address for p in on_chain}
    for p in on_chain:
        row = participants[p.address]
        assert (row.roles, row.jurisdiction, row.status, row.identifier_hash, row.institution) == (
            int(p.roles), p.jurisdiction, p.status.name.lower(), p.identifier_hash, p.institution)
    for (financier, subject), row in verifications.items():
        v = client.credit.get_verification(financier, subject)
        assert (row.status, row.maker, row.checker, row.root, row.provider) == (
            v.status.name.lower(), v.maker, v.checker, v.root, v.provider)
    for (account, token), owed in balances.items():
        assert owed == client.finance.withdrawable(account, token)
    assert state.last_block == client.chain.w3.eth.block_number
    assert state.last_hash == client.chain.w3.eth.get_block(state.last_block)["hash"].to_0x_hex()


def test_every_event_is_in_the_log_with_its_parties(trade: World, indexed: sync.Indexer) -> None:
    client = trade.client
    with indexed.engine.connect() as conn:
        names = set(conn.execute(select(s.events.c.event).distinct()).scalars())
        history = conn.execute(select(s.title_events).where(s.title_events.c.token_id == s.token_key(
            trade.bills["b2"])).order_by(s.title_events.c.event_id)).all()
        regulator_revocation = conn.execute(
            select(s.events.c.actor).where(s.events.c.event == "Revoked")).scalar_one()
        pledged = conn.execute(select(s.events.c.event).where(
            s.events.c.token_id == s.token_key(trade.bills["b1"])).order_by(s.events.c.id)).scalars().all()
    assert {"ParticipantOnboarded", "ParticipantSuspended", "BillIssued", "TitleAction", "Transfer", "Anchored",
            "BatchAnchored", "Revoked", "ConsentGranted", "ConsentWithdrawn", "VerificationRecorded",
            "VerificationApproved", "Requested", "Offered", "OfferWithdrawn", "Accepted", "Funded", "Repaid",
            "Released", "Claimed", "Withdrawn", "TokenAllowed", "ReservationPeriodChanged"} <= names
    on_chain = client.bills.history(trade.bills["b2"])
    assert [(h.action, h.actor, h.holder, h.beneficiary, h.tx_hash, h.block) for h in history] == [
        (e.action.name.lower(), e.actor, e.holder, e.beneficiary, e.tx_hash, e.block) for e in on_chain]
    assert regulator_revocation == trade.address("regulator")
    # the bill's audit trail holds its financing's events too
    assert {"Requested", "Offered", "Accepted", "Funded", "Repaid", "Released"} <= set(pledged)


def test_syncing_again_changes_nothing_and_pages_do_not_matter(trade: World, indexed: sync.Indexer,
                                                                tmp_path: Any) -> None:
    before = dump(indexed.engine)
    again = indexed.sync()
    assert again.events == 0 and again.pages == 0
    assert dump(indexed.engine) == before
    whole = sync.Indexer(trade.client.chain, trade.client.deployment,
                         store.open_index(f"sqlite:///{tmp_path / 'whole.sqlite'}", writer=True), page_size=100_000)
    whole.sync()
    assert dump(whole.engine, blocks=False) == dump(indexed.engine, blocks=False)


def test_replaying_the_log_rebuilds_the_same_state(indexed: sync.Indexer) -> None:
    before = dump(indexed.engine)
    with indexed.engine.begin() as conn:
        conn.execute(s.index_state.update().values(projection=0))
    assert indexed.sync().replayed == len(before["events"])
    assert dump(indexed.engine) == before


def test_a_page_the_node_refuses_is_halved(trade: World, index_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    indexer = sync.Indexer(trade.client.chain, trade.client.deployment, store.open_index(index_url, writer=True),
                           page_size=1000)
    original = indexer.rpc.call
    ranges: list[int] = []

    def besu_like(method: str, *params: Any) -> Any:
        if method == "eth_getLogs":
            span = int(params[0]["toBlock"], 16) - int(params[0]["fromBlock"], 16) + 1
            ranges.append(span)
            if span > 16:
                raise sync.NodeAnswerError("eth_getLogs: requested range exceeds the maximum of 16 blocks")
        return original(method, *params)

    monkeypatch.setattr(indexer.rpc, "call", besu_like)
    report = indexer.sync()
    assert report.events > 0 and max(ranges) > 16
    with indexer.engine.connect() as conn:
        assert conn.execute(select(s.index_state.c.last_block)).scalar_one() == trade.client.chain.w3.eth.block_number


# --- chains that change under the index ---------------------------------------------------------------------


def small_world(url: str, deployments_dir: Any) -> Client:
    """A deployment with one carrier, one trader and one bill. No outbox: these tests replace the chain under
    the same chain id, sometimes within one second (an identical genesis), which a journal would take for the
    old chain having lost its blocks and resend its transactions (the outbox has its own tests of that)."""
    client = Client.connect(url, deployments=deployments_dir, outbox=False)
    signers = [keys.from_private_key(k) for k in dev_keys(3)]
    deployment.deploy_suite(client.chain, signers[0], deployments_dir, redeploy=True)
    for i, role in ((1, Role.CARRIER), (2, Role.TRADER)):
        client.participants.onboard(signers[i].address, role, "HK", bytes([i]) * 32, sender=signers[0])
    client.bills.issue(document("SMALL-0001"), signers[2].address, sender=signers[1])
    return client


def test_a_replaced_chain_is_indexed_again_not_mixed(tmp_path: Any, index_url: str) -> None:
    state = tmp_path / "anvil-state.json"
    node = AnvilNode(state_file=state).start()
    try:
        client = small_world(node.url, tmp_path / "deployments")
        indexer = sync.Indexer(client.chain, client.deployment, store.open_index(index_url, writer=True), page_size=3)
        indexer.sync()
        old_engine = store.open_index(f"sqlite:///{tmp_path / 'old.sqlite'}", writer=True)
        sync.Indexer(client.chain, client.deployment, old_engine, page_size=3).sync()
    finally:
        node.stop()
    # the same addresses on a new chain: same deployer, same nonces; other blocks and times
    node = AnvilNode(port=node.port, state_file=state, fresh=True).start()
    try:
        # an empty first block: within the same second the new chain's blocks could otherwise hash exactly
        # like the old one's (same transactions, same timestamps), which is a reorganisation, not a new chain
        Client.connect(node.url).chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        client = small_world(node.url, tmp_path / "deployments")
        indexer = sync.Indexer(client.chain, client.deployment, indexer.engine, page_size=3)
        report = indexer.sync()
        assert "replaced" in report.recovered
        fresh = sync.Indexer(client.chain, client.deployment,
                             store.open_index(f"sqlite:///{tmp_path / 'fresh.sqlite'}", writer=True))
        fresh.sync()
        assert dump(indexer.engine, blocks=False) == dump(fresh.engine, blocks=False) != dump(old_engine, blocks=False)
    finally:
        node.stop()


def test_a_reorganisation_is_rolled_back_and_replayed(tmp_path: Any, index_url: str) -> None:
    with AnvilNode() as node:
        client = small_world(node.url, tmp_path / "deployments")
        chain = client.chain
        snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
        signers = [keys.from_private_key(k) for k in dev_keys(3)]
        client.bills.issue(document("SMALL-0002"), signers[2].address, sender=signers[1])
        indexer = sync.Indexer(chain, client.deployment, store.open_index(index_url, writer=True), page_size=2)
        indexer.sync()
        assert chain.w3.provider.make_request("evm_revert", [snapshot])["result"]  # type: ignore[arg-type]
        client.bills.issue(document("SMALL-0003"), signers[2].address, sender=signers[1])
        report = indexer.sync()
        assert "reorganised" in report.recovered
        with indexer.engine.connect() as conn:
            references = set(conn.execute(select(s.bills.c.reference)).scalars())
        assert references == {"SMALL-0001", "SMALL-0003"}
        fresh = sync.Indexer(chain, client.deployment,
                             store.open_index(f"sqlite:///{tmp_path / 'fresh.sqlite'}", writer=True))
        fresh.sync()
        assert dump(indexer.engine, blocks=False) == dump(fresh.engine, blocks=False)


def test_an_index_of_another_chain_is_refused(tmp_path: Any, indexed: sync.Indexer) -> None:
    with AnvilNode(chain_id=1337) as node:
        client = small_world(node.url, tmp_path / "deployments")
        with pytest.raises(IndexUnavailable, match="holds chain 31337, but the node serves chain 1337"):
            sync.Indexer(client.chain, client.deployment, indexed.engine).sync()


def test_a_redeployment_starts_the_index_over(tmp_path: Any, index_url: str) -> None:
    with AnvilNode() as node:
        client = small_world(node.url, tmp_path / "deployments")
        engine = store.open_index(index_url, writer=True)
        sync.Indexer(client.chain, client.deployment, engine).sync()
        client = small_world(node.url, tmp_path / "deployments")
        report = sync.Indexer(client.chain, client.deployment, engine).sync()
        assert "deployed again" in report.recovered
        with engine.connect() as conn:
            assert conn.execute(select(s.bills.c.reference)).scalars().all() == ["SMALL-0001"]
            assert conn.execute(select(s.index_state.c.contracts)).scalar_one() == {
                n: client.deployment.address(n) for n in CONTRACTS}


def test_parties_name_every_account_an_event_concerns() -> None:
    a, b, c = ("0x" + f"{i:040x}" for i in (1, 2, 3))
    assert projector.parties("TitleAction", {"actor": a, "holder": b, "beneficiary": ZERO, "tokenId": "0x1"},
                             c) == {a: "actor", b: "party"}
    assert projector.parties("Requested", {"exporter": a, "importer": b, "token": c}, a) == {a: "actor", b: "party"}
    assert projector.parties("TokenAllowed", {"token": b, "allowed": True}, c) == {c: "actor"}
