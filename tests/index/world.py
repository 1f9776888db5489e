"""A trade-finance world on a real Anvil, built with the real client: every kind of event the index follows,
and the situations the inbox, the book and the audit report must find.

Parties (development keys): admin 0, carrier 1, exporter 2 (HK), importer 3 (CN), bank A 4 (HK), bank B 5
(CN), credit provider 6 (CN), bank A's officers 7 (maker) and 8 (checker), endorsee 9 (CN), regulator 10.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from ebl_client import Client, deployment, hashing, keys, samples
from ebl_client.financing import fingerprint
from ebl_client.hashing import identifier_hash
from ebl_client.models import Offer, Role
from ebl_client.node import dev_keys

DAY = 86_400
COIN = 10**6
KEY = bytes(range(32))
#: (handle, key index, roles, jurisdiction, legal name, identifier, financier handle for an officer)
PARTIES: tuple[tuple[str, int, Role, str, str, str, str | None], ...] = (
    ("carrier", 1, Role.CARRIER, "HK", "Victoria Harbour Shipping Line", "549300VHSL0CARR1ER7", None),
    ("exporter", 2, Role.TRADER, "HK", "Pearl River Electronics Ltd", "5493001KJTIIGC8Y1R12", None),
    ("importer", 3, Role.TRADER, "CN", "Shanghai Huaxin Trading Co", "91310000MA1FL4B24G", None),
    ("bank_a", 4, Role.FINANCIER, "HK", "Harbour Bank HK", "2138009HARBOURBANK51", None),
    ("bank_b", 5, Role.FINANCIER, "CN", "Bank of Pudong", "91310000PUDONGBANK9X", None),
    ("provider", 6, Role.CREDIT_PROVIDER, "CN", "Shanghai Credit Reference Center", "91310000SCRC00001Q", None),
    ("maker", 7, Role.VERIFIER, "HK", "Harbour Bank officer A", "HKBANKOFFICERA", "bank_a"),
    ("checker", 8, Role.VERIFIER, "HK", "Harbour Bank officer B", "HKBANKOFFICERB", "bank_a"),
    ("endorsee", 9, Role.TRADER, "CN", "Guangzhou Nansha Imports", "91440101NANSHA0001", None),
    ("regulator", 10, Role.REGULATOR, "HK", "Hong Kong Monetary Authority", "HKMAREGULATOR01", None),
)


def salt_of(index: int) -> bytes:
    return bytes([index]) * 32


def document(reference: str) -> dict[str, Any]:
    doc: dict[str, Any] = copy.deepcopy(json.loads(samples.TRANSPORT_DOCUMENT.read_text()))
    doc["transportDocumentReference"] = reference
    return doc


def invoice(number: str) -> bytes:
    data = json.loads(samples.INVOICE.read_text())
    data["invoiceNumber"] = number
    return fingerprint(data, KEY)


@dataclass
class World:
    client: Client
    p: dict[str, Any]
    coin: str
    bills: dict[str, int] = field(default_factory=dict)
    financings: dict[str, int] = field(default_factory=dict)

    def address(self, handle: str) -> str:
        return str(self.p[handle].address)


def travel(client: Client, seconds: int) -> None:
    client.chain.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
    client.chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def build(url: str, deployments_dir: Any) -> World:
    """Deploy and play the story on the node at `url` (takes a few seconds)."""
    client = Client.connect(url, deployments=deployments_dir)
    signers = [keys.from_private_key(k) for k in dev_keys(12)]
    admin = signers[0]
    suite = deployment.deploy_suite(client.chain, admin, deployments_dir, test_stablecoin=True)
    p = {handle: signers[i] for handle, i, *_ in PARTIES}
    w = World(client, p, suite.address("TestStablecoin"))
    for handle, i, role, jurisdiction, _name, identifier, institution in PARTIES:
        client.participants.onboard(w.address(handle), role, jurisdiction, identifier_hash(identifier, salt_of(i)),
                                    w.address(institution) if institution else None, sender=admin)
    stable = client.chain.contract("TestStablecoin", w.coin)
    for who in ("bank_a", "bank_b", "importer"):
        client.chain.transact(admin, stable, "mint", w.address(who), 10**15)
    credit, bills, fin = client.credit, client.bills, client.finance
    now = client.now

    # credit: the exporter verified by bank A (maker, checker); the endorsee recorded, waiting for the checker
    report = hashing.commit(hashing.load_json_file(samples.CREDIT_REPORT))
    other = hashing.commit(hashing.load_json_file(samples.CREDIT_REPORT))
    provider = w.address("provider")
    credit.anchor(w.address("exporter"), report, now() + 300 * DAY, sender=p["provider"])
    credit.anchor_batch([(w.address("endorsee"), other.root), (w.address("importer"), other.root)],
                        other.schema_id, now() + 300 * DAY, sender=p["provider"])
    credit.grant_consent(provider, report.root, w.address("bank_a"), now() + 200 * DAY, sender=p["exporter"])
    credit.record_verification(w.address("bank_a"), w.address("exporter"), provider, report.root, sender=p["maker"])
    credit.approve_verification(w.address("bank_a"), w.address("exporter"), sender=p["checker"])
    credit.grant_consent(provider, other.root, w.address("bank_b"), now() + 200 * DAY, sender=p["importer"])
    credit.withdraw_consent(provider, other.root, w.address("bank_b"), sender=p["importer"])
    credit.revoke_as_supervisor(provider, w.address("importer"), other.root, "disputed", sender=p["regulator"])

    # bill 1: financed by bank A (bank B offered and withdrew), repaid in two parts, released to the importer,
    # who surrenders it for delivery: waiting for the carrier
    b1 = bills.issue(document("VHSL-IDX-0001"), w.address("exporter"), sender=p["carrier"]).value.token_id
    f1 = fin.request(b1, w.address("importer"), 1_000_000 * COIN, w.coin, now() + 60 * DAY, invoice("INV-1"),
                     sender=p["exporter"]).value.financing_id
    fin.offer(f1, 800_000 * COIN, 12_000 * COIN, now() + 60 * DAY, sender=p["bank_b"])
    terms = fin.offer(f1, 900_000 * COIN, 13_500 * COIN, now() + 60 * DAY, sender=p["bank_a"]).value
    fin.withdraw_offer(f1, sender=p["bank_b"])
    fin.accept(f1, w.address("bank_a"), terms=terms, sender=p["exporter"])
    fin.fund(f1, sender=p["bank_a"])
    fin.repay(f1, 400_000 * COIN, sender=p["importer"])
    fin.repay(f1, 513_500 * COIN, sender=p["importer"])
    fin.withdraw(w.coin, sender=p["bank_a"])
    bills.surrender(b1, "delivery", sender=p["importer"])

    # bill 2: nominate, transfer, endorse to the nominee, who may still reject it
    b2 = bills.issue(document("VHSL-IDX-0002"), w.address("exporter"), sender=p["carrier"]).value.token_id
    bills.nominate(b2, w.address("endorsee"), sender=p["exporter"])
    bills.transfer(b2, w.address("importer"), sender=p["exporter"])
    bills.endorse(b2, w.address("endorsee"), sender=p["importer"])

    # bill 3: surrendered for amendment and amended (a successor, generation 1); then blank-endorsed
    b3 = bills.issue(document("VHSL-IDX-0003"), w.address("exporter"), sender=p["carrier"]).value.token_id
    bills.surrender(b3, "amendment", sender=p["exporter"])
    b3s = bills.amend(b3, document("VHSL-IDX-0003") | {"shippedOnBoardDate": "2026-11-20"},
                      sender=p["carrier"]).value.token_id
    bills.blank_endorse(b3s, sender=p["exporter"])

    # bills 4 and 5: funded with maturities 8 and 20 days; 23 days later the first is claimed (defaulted),
    # the second overdue
    b4 = bills.issue(document("VHSL-IDX-0004"), w.address("exporter"), sender=p["carrier"]).value.token_id
    b5 = bills.issue(document("VHSL-IDX-0005"), w.address("exporter"), sender=p["carrier"]).value.token_id
    f4 = _financed(w, b4, "INV-4", 8)
    f5 = _financed(w, b5, "INV-5", 20)
    travel(client, 23 * DAY)
    fin.claim(f4, sender=p["bank_a"])

    # bill 6: requested under a 2-day reservation, bank B offers: the exporter may accept, the reservation lapses
    fin.set_reservation_period(2 * DAY, sender=admin)
    b6 = bills.issue(document("VHSL-IDX-0006"), w.address("exporter"), sender=p["carrier"]).value.token_id
    f6 = fin.request(b6, w.address("importer"), 500_000 * COIN, w.coin, now() + 30 * DAY, invoice("INV-6"),
                     sender=p["exporter"]).value.financing_id
    fin.offer(f6, 450_000 * COIN, 5_000 * COIN, now() + 30 * DAY, sender=p["bank_b"])

    # the endorsee: a consent to bank A about to expire, a verification waiting for bank A's checker
    credit.grant_consent(provider, other.root, w.address("bank_a"), now() + 3 * DAY, sender=p["endorsee"])
    credit.record_verification(w.address("bank_a"), w.address("endorsee"), provider, other.root, sender=p["maker"])

    # bill 7: issued to the endorsee, who is then suspended while holding it
    b7 = bills.issue(document("VHSL-IDX-0007"), w.address("endorsee"), sender=p["carrier"]).value.token_id
    client.participants.suspend(w.address("endorsee"), "sanctions screening", sender=admin)

    w.bills = {"b1": b1, "b2": b2, "b3": b3, "b3s": b3s, "b4": b4, "b5": b5, "b6": b6, "b7": b7}
    w.financings = {"f1": f1, "f4": f4, "f5": f5, "f6": f6}
    return w


def _financed(w: World, token: int, number: str, days: int) -> int:
    fin, p, now = w.client.finance, w.p, w.client.now
    fid = fin.request(token, w.address("importer"), 100_000 * COIN, w.coin, now() + days * DAY, invoice(number),
                      sender=p["exporter"]).value.financing_id
    offer: Offer = fin.offer(fid, 90_000 * COIN, 1_000 * COIN, now() + days * DAY, sender=p["bank_a"]).value
    fin.accept(fid, w.address("bank_a"), terms=offer, sender=p["exporter"])
    fin.fund(fid, sender=p["bank_a"])
    if days == 20:
        fin.repay(fid, 30_000 * COIN, sender=p["importer"])
    return fid
