"""Financing facade and invoice fingerprints on a real chain: the cross-border story, double financing
refused (same bill, same invoice in another spelling through another bill and bank), refusals by name."""


import pytest

from ebl_client import deployment, errors, hashing, samples
from ebl_client.financing import fingerprint, minor_units, normalise_invoice
from ebl_client.models import FinancingState

from .conftest import trade_finance_world, travel

KEY = bytes(range(32))
DAY = 86_400
INVOICE = {"sellerId": "5493001KJTIIGC8Y1R12", "buyerId": "91310000MA1FL4B24G", "invoiceNumber": "PRE-2026-0412",
           "currency": "HKD", "amount": "1846000.00", "issueDate": "2026-11-18"}


@pytest.fixture
def world(chain, admin, signers, tmp_path, snapshot):
    """A suite with the test stablecoin, the parties onboarded, a bill for the exporter and bank A verified."""
    w = trade_finance_world(chain, admin, signers, deployment.deploy_suite(chain, admin, tmp_path,
                                                                            test_stablecoin=True))
    w["bill"] = w["bills"].issue(w["p"]["carrier"], samples.TRANSPORT_DOCUMENT,
                                 w["p"]["exporter"].address).token_id
    w["now"] = w["now"]()
    return w


def balance(w, who):
    return int(w["chain"].call(w["stable"], "balanceOf", who))


def test_fingerprint_normalises_spellings():
    other_spelling = {"sellerId": " 5493001kjtiigc8y1r12 ", "buyerId": "91310000-ma1fl4b24g",
                      "invoiceNumber": "pre 2026 0412", "currency": "hkd", "amount": "1,846,000",
                      "issueDate": "20261118"}
    assert fingerprint(INVOICE, KEY) == fingerprint(other_spelling, KEY)
    assert fingerprint(INVOICE, KEY) != fingerprint({**INVOICE, "amount": "1846000.01"}, KEY)
    assert fingerprint(INVOICE, KEY) != fingerprint(INVOICE, bytes(32))  # keyed: no key, no guessing
    assert normalise_invoice(INVOICE)["amount"] == 184600000
    assert minor_units("1200", "JPY") == 1200 and minor_units("1.234", "KWD") == 1234


@pytest.mark.parametrize("bad, message", [
    ({**INVOICE, "amount": "12.345"}, "more than 2 decimals"),
    ({**INVOICE, "amount": "-5"}, "positive"),
    ({**INVOICE, "currency": "HK$"}, "ISO 4217"),
    ({**INVOICE, "issueDate": "18/11/2026"}, "year-first"),
    ({k: v for k, v in INVOICE.items() if k != "buyerId"}, "lacks buyerId"),
])
def test_fingerprint_refuses_bad_invoices(bad, message):
    with pytest.raises(errors.InvalidInput, match=message):
        fingerprint(bad, KEY)


def test_the_financing_story(world):
    w, p, fin = world, world["p"], world["fin"]
    exporter, importer = p["exporter"].address, p["importer"].address
    f = fin.request(p["exporter"], w["bill"], importer, 1_000_000 * 10**6, w["coin"], w["now"] + 60 * DAY,
                    fingerprint(INVOICE, KEY))
    assert f.state is FinancingState.REQUESTED and w["bills"].get(w["bill"]).holder == fin.address
    assert fin.fingerprint_status(fingerprint(INVOICE, KEY)) == "reserved"
    fin.offer(p["bank_a"], f.financing_id, 950_000 * 10**6, 12_000 * 10**6, w["now"] + 60 * DAY)
    fin.offer(p["bank_b"], f.financing_id, 960_000 * 10**6, 15_000 * 10**6, w["now"] + 60 * DAY)
    assert fin.accept(p["exporter"], f.financing_id, p["bank_a"].address).financier == p["bank_a"].address
    before = balance(w, exporter)
    funded = fin.fund(p["bank_a"], f.financing_id)
    assert funded.state is FinancingState.FUNDED and balance(w, exporter) - before == 950_000 * 10**6
    assert fin.fingerprint_status(fingerprint(INVOICE, KEY)) == "financed"
    assert fin.owed(w["coin"]) == balance(w, fin.address) == 0

    fin.repay(p["importer"], f.financing_id, 400_000 * 10**6)
    assert fin.owed(w["coin"]) == balance(w, fin.address) == 400_000 * 10**6
    done = fin.repay(p["importer"], f.financing_id, 10_000_000 * 10**6)  # capped at what is outstanding
    assert done.state is FinancingState.REPAID and done.outstanding == 0 and done.delivered
    bill = w["bills"].get(w["bill"])
    assert bill.holder == bill.beneficiary == importer
    assert fin.withdraw(p["bank_a"], w["coin"]) == 962_000 * 10**6
    assert fin.owed(w["coin"]) == balance(w, fin.address) == 0


def test_double_financing_is_refused(world):
    w, p, fin = world, world["p"], world["fin"]
    importer = p["importer"].address
    f = fin.request(p["exporter"], w["bill"], importer, 10**12, w["coin"], w["now"] + 60 * DAY,
                    fingerprint(INVOICE, KEY))
    # The same invoice, spelt differently, pledged through a second bill for bank B: refused, bill kept.
    doc = hashing.load_json_file(samples.TRANSPORT_DOCUMENT)
    second = w["bills"].issue(p["carrier"], {**doc, "transportDocumentReference": "VHSL2611HKGSHA0008"},
                              p["exporter"].address).token_id
    respelt = {**INVOICE, "invoiceNumber": "pre-2026-0412", "amount": "1,846,000"}
    with pytest.raises(errors.DuplicateFinancing):
        fin.request(p["exporter"], second, importer, 10**12, w["coin"], w["now"] + 60 * DAY, fingerprint(respelt, KEY))
    assert w["bills"].get(second).holder == p["exporter"].address  # the refused pledge was taken back
    # The same bill again: it is in escrow, the exporter no longer holds it.
    with pytest.raises(errors.NotHolder):
        fin.request(p["exporter"], w["bill"], importer, 10**12, w["coin"], w["now"] + 60 * DAY,
                    fingerprint({**INVOICE, "invoiceNumber": "X-1"}, KEY))
    assert fin.get(f.financing_id).state is FinancingState.REQUESTED


def test_refusals_are_named(world):
    w, p, fin = world, world["p"], world["fin"]
    f = fin.request(p["exporter"], w["bill"], p["importer"].address, 10**12, w["coin"], w["now"] + 60 * DAY,
                    fingerprint(INVOICE, KEY))
    fin.offer(p["bank_b"], f.financing_id, 10**11, 10**9, w["now"] + 60 * DAY)
    with pytest.raises(errors.NotExporter):
        fin.accept(p["importer"], f.financing_id, p["bank_b"].address)
    with pytest.raises(errors.OfferNotFound):
        fin.accept(p["exporter"], f.financing_id, p["bank_a"].address)
    fin.accept(p["exporter"], f.financing_id, p["bank_b"].address)
    with pytest.raises(errors.CreditNotVerified) as caught:  # bank B never verified the exporter
        fin.fund(p["bank_b"], f.financing_id)
    assert caught.value.financier == p["bank_b"].address
    with pytest.raises(errors.NotAcceptedFinancier):
        fin.fund(p["bank_a"], f.financing_id)
    cancelled = fin.cancel(p["exporter"], f.financing_id)
    assert cancelled.state is FinancingState.CANCELLED
    assert w["bills"].get(w["bill"]).holder == p["exporter"].address
    assert fin.fingerprint_status(fingerprint(INVOICE, KEY)) == "none"  # released: never financed


def test_default_and_claim(world):
    w, p, fin = world, world["p"], world["fin"]
    f = fin.request(p["exporter"], w["bill"], p["importer"].address, 10**12, w["coin"], w["now"] + 30 * DAY,
                    fingerprint(INVOICE, KEY))
    fin.offer(p["bank_a"], f.financing_id, 10**11, 10**9, w["now"] + 30 * DAY)
    fin.accept(p["exporter"], f.financing_id, p["bank_a"].address)
    fin.fund(p["bank_a"], f.financing_id)
    fin.repay(p["importer"], f.financing_id, 10**10)
    with pytest.raises(errors.NotMatured):
        fin.claim(p["bank_a"], f.financing_id)
    travel(w["chain"], 45 * DAY)  # maturity + 14 days' grace
    claimed = fin.claim(p["bank_a"], f.financing_id)
    assert claimed.state is FinancingState.DEFAULTED
    assert w["bills"].get(w["bill"]).holder == p["bank_a"].address  # the pledgee bank holds the bill now
    assert fin.withdraw(p["bank_a"], w["coin"]) == 10**10  # the partial repayment stays the bank's
    assert fin.owed(w["coin"]) == balance(w, fin.address) == 0
