"""Queries over the indexed trade-finance world, on SQLite and PostgreSQL: each party sees its own world (bills,
inbox, book, audit trail), the regulator sees everything, names come from the checked directory."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from ebl_client import directory, index
from ebl_client.index import queries, sync
from ebl_client.index.queries import AccessDenied, Queries

from .world import PARTIES, World, salt_of


def directory_file(trade: World, path: Path) -> Path:
    entries = [directory.entry(trade.address(handle), name, jurisdiction, identifier, salt_of(i))
               for handle, i, _role, jurisdiction, name, identifier, _inst in PARTIES]
    return directory.write(path, entries, chain_id=trade.client.chain.chain_id)


@pytest.fixture
def q(trade: World, indexed: sync.Indexer, tmp_path: Path) -> Queries:
    on_chain = {p.address: directory.OnChain(p.identifier_hash, p.jurisdiction)
                for p in trade.client.participants.list()}
    checked = directory.check(directory.load(directory_file(trade, tmp_path / "directory.json")), on_chain)
    return Queries(indexed.engine, checked)


def tokens(views: list[queries.BillView]) -> set[int]:
    return {v.bill.token_id for v in views}


def test_each_party_lists_the_bills_it_holds_or_held(trade: World, q: Queries) -> None:
    b = trade.bills
    exporter, endorsee = q.viewer(trade.address("exporter")), q.viewer(trade.address("endorsee"))
    regulator, provider = q.viewer(trade.address("regulator")), q.viewer(trade.address("provider"))
    assert regulator.regulator and not exporter.regulator
    assert tokens(q.bills(regulator)) == set(b.values())
    assert tokens(q.bills(exporter)) == set(b.values()) - {b["b7"]}
    assert tokens(q.bills(endorsee)) == {b["b2"], b["b7"]}
    assert q.bills(provider) == []
    assert tokens(q.bills(exporter, holder=trade.address("importer"))) == {b["b2"]}
    assert tokens(q.bills(regulator, status="surrendered-for-delivery")) == {b["b1"]}
    assert tokens(q.bills(regulator, status="voided")) == {b["b3"]}
    assert tokens(q.bills(regulator, carrier=trade.address("carrier"), beneficiary=trade.address("endorsee"))) == {
        b["b2"], b["b7"]}
    with pytest.raises(queries.InvalidInput, match="not one of"):
        q.bills(regulator, status="lost")


def test_the_history_from_the_index_is_the_chain_s(trade: World, q: Queries) -> None:
    regulator = q.viewer(trade.address("regulator"))
    for token in trade.bills.values():
        assert queries.compare_history(q.history(regulator, token), trade.client.bills.history(token)) == []
    forged = q.history(regulator, trade.bills["b2"])[:-1]
    assert "the index has 3 actions, the chain 4" in queries.compare_history(
        forged, trade.client.bills.history(trade.bills["b2"]))[-1]
    with pytest.raises(AccessDenied, match="not a party to bill"):
        q.history(q.viewer(trade.address("bank_b")), trade.bills["b2"])


def kinds(tasks: list[queries.Task]) -> set[tuple[str, str]]:
    return {(t.kind, t.subject) for t in tasks}


def test_every_party_finds_what_waits_for_it(trade: World, q: Queries) -> None:
    b, f = {k: hex(v) for k, v in trade.bills.items()}, {k: f"#{v}" for k, v in trade.financings.items()}

    def inbox(handle: str) -> list[queries.Task]:
        return q.inbox(q.viewer(trade.address(handle)))

    carrier = inbox("carrier")
    assert kinds(carrier) == {("surrender", b["b1"])}
    assert carrier[0].command == f"ebl bill accept-surrender {b['b1']} | ebl bill reject-surrender {b['b1']}"
    assert carrier[0].counterparty == trade.address("importer")
    assert ("reject window", b["b2"]) in kinds(inbox("endorsee"))
    exporter = inbox("exporter")
    assert {("offer", f["f6"]), ("reservation", f["f6"]), ("repay", f["f5"])} <= kinds(exporter)
    offer = next(t for t in exporter if t.kind == "offer")
    assert offer.command == f"ebl finance accept {trade.financings['f6']} --financier {trade.address('bank_b')}"
    assert "Bank of Pudong offers tHKD 450,000.00" in offer.summary
    importer = inbox("importer")
    repay = next(t for t in importer if t.kind == "repay")
    assert repay.command == f"ebl finance repay {trade.financings['f5']} --amount 61000"
    assert "(overdue)" in repay.summary
    bank_a = kinds(inbox("bank_a"))
    assert {("reject window", b["b4"]), ("withdraw", trade.coin)} <= bank_a
    assert any(kind == "consent" for kind, _ in bank_a)
    checker = inbox("checker")
    assert kinds(checker) == {("verification", trade.address("endorsee"))}
    assert checker[0].command == (f"ebl credit approve-verification --financier {trade.address('bank_a')} "
                                  f"--subject {trade.address('endorsee')}")
    assert inbox("maker") == []  # the maker cannot be its own checker
    assert kinds(inbox("bank_b")) == {("offer", f["f6"])}
    assert any(t.kind == "consent" for t in inbox("endorsee"))
    assert [t.due for t in exporter if t.due] == sorted(t.due for t in exporter if t.due)
    # a participant reads only its own inbox; the regulator any
    with pytest.raises(AccessDenied):
        q.inbox(q.viewer(trade.address("bank_b")), trade.address("exporter"))
    assert q.inbox(q.viewer(trade.address("regulator")), trade.address("carrier")) == carrier


def test_the_book_shows_exposure_maturities_overdue_and_defaulted(trade: World, q: Queries) -> None:
    f = trade.financings
    bank_a = q.book(q.viewer(trade.address("bank_a")), financier=trade.address("bank_a"))
    assert {line.financing_id: line.standing for line in bank_a.lines} == {f["f4"]: "defaulted", f["f5"]: "overdue"}
    assert bank_a.exposure == {"tHKD": 61_000 * 10**6}
    assert bank_a.overdue == [f["f5"]] and bank_a.defaulted == [f["f4"]]
    assert bank_a.by_exporter == {trade.address("exporter"): {"tHKD": 61_000 * 10**6}}
    assert next(line for line in bank_a.lines if line.financing_id == f["f4"]).outstanding == 91_000 * 10**6
    # bank B sees the request it offered on (and the market of open requests), none of bank A's financings
    assert {line.financing_id for line in q.book(q.viewer(trade.address("bank_b"))).lines} == {f["f6"]}
    assert {line.financing_id for line in q.book(q.viewer(trade.address("carrier"))).lines} == set()
    everything = q.book(q.viewer(trade.address("regulator")))
    assert {line.financing_id for line in everything.lines} == {f["f4"], f["f5"], f["f6"]}
    assert everything.by_financier == {trade.address("bank_a"): {"tHKD": 61_000 * 10**6}}


def test_the_audit_trail_per_participant_per_bill_and_whole(trade: World, q: Queries) -> None:
    exporter, regulator = q.viewer(trade.address("exporter")), q.viewer(trade.address("regulator"))
    own = q.audit(exporter, participant=trade.address("exporter"))
    assert own and all(trade.address("exporter") in (r.actor, *r.counterparties) for r in own)
    everything = q.audit(regulator, everything=True)
    assert len(everything) > len(own) and [r.event_id for r in everything] == sorted(r.event_id for r in everything)
    bill = q.audit(exporter, token=trade.bills["b1"])
    assert [r.event for r in bill if r.contract == "FinancingEscrow"][:3] == ["Requested", "Offered", "Offered"]
    rows = q.audit_rows(bill)
    issue = next(r for r in rows if r["event"] == "TitleAction")
    assert issue["actorName"] == "Victoria Harbour Shipping Line"
    assert "Pearl River Electronics Ltd" in issue["counterpartyNames"]
    middle = everything[len(everything) // 2].time
    assert all(r.time >= middle for r in q.audit(regulator, everything=True, since=middle))
    assert all(r.time <= middle for r in q.audit(regulator, everything=True, until=middle))
    with pytest.raises(AccessDenied):
        q.audit(exporter, everything=True)
    with pytest.raises(AccessDenied):
        q.audit(exporter, participant=trade.address("importer"))
    with pytest.raises(AccessDenied):
        q.audit(q.viewer(trade.address("bank_b")), token=trade.bills["b2"])
    with pytest.raises(queries.InvalidInput, match="exactly one"):
        q.audit(regulator)


def test_the_supervisor_s_report(trade: World, q: Queries) -> None:
    report = q.report(q.viewer(trade.address("regulator")))
    assert report["billsByStatusAndJurisdiction"]["surrendered_for_delivery"] == {"HK": 1}
    assert report["exposureByBank"] == {trade.address("bank_a"): {"name": "Harbour Bank HK",
                                                                  "exposure": {"tHKD": 61_000 * 10**6}}}
    assert report["exposureByJurisdictionPair"] == {"HK->CN": {"tHKD": 61_000 * 10**6}}
    assert report["defaulted"] == [trade.financings["f4"]] and report["overdue"] == [trade.financings["f5"]]
    assert report["verificationsByBank"][trade.address("bank_a")] == {"name": "Harbour Bank HK", "approved": 1,
                                                                      "recorded": 1}
    (suspended,) = report["suspendedParticipants"]
    assert suspended["name"] == "Guangzhou Nansha Imports" and suspended["billsHeld"] == [hex(trade.bills["b7"])]
    with pytest.raises(AccessDenied, match="for regulators"):
        q.report(q.viewer(trade.address("bank_a")))


def test_the_directory_names_only_what_the_chain_backs(trade: World, tmp_path: Path) -> None:
    on_chain = {p.address: directory.OnChain(p.identifier_hash, p.jurisdiction)
                for p in trade.client.participants.list()}
    data = directory.load(directory_file(trade, tmp_path / "d.json"))
    good = directory.check(data, on_chain, chain_id=trade.client.chain.chain_id)
    assert len(good.entries) == len(PARTIES) and good.refused == []
    assert good.name(trade.address("exporter")) == "Pearl River Electronics Ltd"
    assert good.entries[trade.address("exporter")].identifier_scheme == "LEI"
    assert good.entries[trade.address("importer")].identifier_scheme == "USCC"
    forged = dict(data, participants=[
        dict(data["participants"][1], legalName="Someone Else Ltd", identifier={"scheme": "LEI",
                                                                                 "value": "5493001KJTIIGC8Y1R99"}),
        dict(data["participants"][2], jurisdiction="SG"),
        dict(data["participants"][3], account="0x" + "12" * 20),
        dict(data["participants"][4], salt="zz"),
        {"legalName": "no account"},
    ])
    checked = directory.check(forged, on_chain)
    assert checked.entries == {}
    reasons = [r.reason for r in checked.refused]
    assert "do not hash to the account's identifier hash" in reasons[0]
    assert "jurisdiction SG differs from CN" in reasons[1]
    assert "is not an onboarded participant" in reasons[2]
    assert "salt is not hex" in reasons[3]
    assert "malformed entry" in reasons[4]
    assert checked.label(trade.address("exporter")) == trade.address("exporter")  # refused: never a name
    with pytest.raises(directory.InvalidInput, match="for chain 31337, not chain 1"):
        directory.check(data, on_chain, chain_id=1)


def test_the_helpers_the_demo_calls(trade: World, tmp_path: Path) -> None:
    members = [(SimpleNamespace(label=name, jurisdiction=jurisdiction, identifier=identifier), trade.address(handle),
                salt_of(i)) for handle, i, _role, jurisdiction, name, identifier, _inst in PARTIES]
    chain_id = trade.client.chain.chain_id
    path = directory.write_for_demo(directory.default_path(chain_id, tmp_path), chain_id, members)
    q = index.synced(trade.client.chain, trade.client.deployment, f"sqlite:///{tmp_path / 'demo.sqlite'}",
                     directory=path)
    assert q.directory.refused == [] and len(q.directory.entries) == len(PARTIES)
    report = q.report(q.viewer(trade.address("regulator")))
    assert report["suspendedParticipants"][0]["name"] == "Guangzhou Nansha Imports"
    assert q.directory.name(trade.client.deployment.address("FinancingEscrow")) == "Financing escrow"
