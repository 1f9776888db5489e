"""Financing facade and invoice fingerprints on a real chain: the cross-border story, the pledge-and-request
in one transaction, offers accepted by the terms the exporter saw, bounded invoice reservations, the
admin's settings and pause, double financing refused (same bill, same invoice in another spelling through
another bill and bank), refusals by name."""


import pytest
from web3.logs import DISCARD

from ebl_client import deployment, errors, hashing, samples
from ebl_client.financing import fingerprint, minor_units, normalise_invoice
from ebl_client.models import FinancingState, FingerprintStatus, Offer, TitleAction
from ebl_client.participants import Participants

from .conftest import trade_finance_world, travel

KEY = bytes(range(32))
DAY = 86_400
INVOICE = {"sellerId": "5493001KJTIIGC8Y1R12", "buyerId": "91310000MA1FL4B24G", "invoiceNumber": "PRE-2026-0412",
           "currency": "HKD", "amount": "1846000.00", "issueDate": "2026-11-18"}
FP = fingerprint(INVOICE, KEY)


@pytest.fixture
def world(chain, admin, signers, tmp_path, snapshot):
    """A suite with the test stablecoin, the parties onboarded, a bill for the exporter and bank A verified."""
    suite = deployment.deploy_suite(chain, admin, tmp_path, test_stablecoin=True)
    w = trade_finance_world(chain, admin, signers, suite)
    w["bill"] = issue(w, "VHSL2611HKGSHA0007")
    w["admin"], w["suite"] = admin, suite
    return w


def issue(w, reference: str, holder: str = "exporter") -> int:
    doc = hashing.load_json_file(samples.TRANSPORT_DOCUMENT)
    return w["bills"].issue({**doc, "transportDocumentReference": reference}, w["p"][holder].address,
                            sender=w["p"]["carrier"]).value.token_id


def request(w, bill=None, fp=FP, amount=10**12, days=60, exporter="exporter"):
    """`exporter` pledges `bill` (default the world's) and asks for financing; the financing."""
    return w["fin"].request(bill or w["bill"], w["p"]["importer"].address, amount, w["coin"], w["now"]() + days * DAY,
                            fp, sender=w["p"][exporter]).value


def offer_and_accept(w, fid, bank="bank_a", principal=10**11, fee=10**9, days=60):
    w["fin"].offer(fid, principal, fee, w["now"]() + days * DAY, sender=w["p"][bank])
    terms = w["fin"].offer_of(fid, w["p"][bank].address)
    return w["fin"].accept(fid, w["p"][bank].address, terms=terms, sender=w["p"]["exporter"]).value


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
    assert fingerprint({**INVOICE, "invoiceNumber": 20260412}, KEY) == fingerprint(
        {**INVOICE, "invoiceNumber": "20260412"}, KEY)  # a JSON number is the invoice number it spells
    assert minor_units("1200", "JPY") == 1200 and minor_units("1.234", "KWD") == 1234


@pytest.mark.parametrize("bad, message", [
    ({**INVOICE, "amount": "12.345"}, "more than 2 decimals"),
    ({**INVOICE, "amount": "-5"}, "positive"),
    ({**INVOICE, "currency": "HK$"}, "ISO 4217"),
    ({**INVOICE, "issueDate": "18/11/2026"}, "year-first"),
    ({k: v for k, v in INVOICE.items() if k != "buyerId"}, "lacks buyerId"),
    ({**INVOICE, "invoiceNumber": 1000.0}, "number must be text, not float"),
    ({**INVOICE, "sellerId": True}, "seller id must be text, not bool"),
    ({**INVOICE, "buyerId": ["91310000MA1FL4B24G"]}, "buyer id must be text, not list"),
])
def test_fingerprint_refuses_bad_invoices(bad, message):
    with pytest.raises(errors.InvalidInput, match=message):
        fingerprint(bad, KEY)


def test_the_financing_story(world):
    w, p, fin = world, world["p"], world["fin"]
    exporter, importer = p["exporter"].address, p["importer"].address
    f, tx = fin.request(w["bill"], importer, 1_000_000 * 10**6, w["coin"], w["now"]() + 60 * DAY, FP,
                        sender=p["exporter"])
    assert f.state is FinancingState.REQUESTED and f.exporter == exporter and f.importer == importer
    assert f.bill == w["bill"] and f.invoice_fingerprint == "0x" + FP.hex() and f.financier is None
    assert w["bills"].get(w["bill"]).holder == fin.address and tx.sender == exporter
    assert fin.fingerprint_status(FP) == "reserved"
    fin.offer(f.financing_id, 950_000 * 10**6, 12_000 * 10**6, w["now"]() + 60 * DAY, sender=p["bank_a"])
    fin.offer(f.financing_id, 960_000 * 10**6, 15_000 * 10**6, w["now"]() + 60 * DAY, sender=p["bank_b"])
    terms = fin.offer_of(f.financing_id, p["bank_a"].address)
    assert terms.exists and terms.principal == 950_000 * 10**6
    accepted = fin.accept(f.financing_id, p["bank_a"].address, terms=terms, sender=p["exporter"]).value
    assert accepted.financier == p["bank_a"].address and accepted.state is FinancingState.ACCEPTED
    assert (accepted.principal, accepted.fee, accepted.maturity) == (terms.principal, terms.fee, terms.maturity)
    assert accepted.outstanding == 962_000 * 10**6
    before = balance(w, exporter)
    funded = fin.fund(f.financing_id, sender=p["bank_a"]).value
    assert funded.state is FinancingState.FUNDED and balance(w, exporter) - before == 950_000 * 10**6
    assert fin.fingerprint_status(FP) == "financed"
    assert fin.owed(w["coin"]) == balance(w, fin.address) == 0

    fin.repay(f.financing_id, 400_000 * 10**6, sender=p["importer"])
    assert fin.owed(w["coin"]) == balance(w, fin.address) == 400_000 * 10**6
    done = fin.repay(f.financing_id, 10_000_000 * 10**6, sender=p["importer"]).value  # capped at the outstanding
    assert done.state is FinancingState.REPAID and done.outstanding == 0 and done.delivered
    bill = w["bills"].get(w["bill"])
    assert bill.holder == bill.beneficiary == importer
    assert fin.withdraw(w["coin"], sender=p["bank_a"]).value == 962_000 * 10**6
    assert fin.owed(w["coin"]) == balance(w, fin.address) == 0
    assert [x.financing_id for x in fin.list()] == [f.financing_id]


def test_request_is_one_pledge_transaction(world):
    """The exporter signs one transaction: the registry moves the bill to the escrow and the escrow opens the
    financing inside it (no transfer first, nothing to reclaim)."""
    w, p, fin, chain = world, world["p"], world["fin"], world["chain"]
    exporter = p["exporter"].address
    block, nonce = chain.w3.eth.block_number, chain.w3.eth.get_transaction_count(exporter)
    f, tx = fin.request(w["bill"], p["importer"].address, 10**12, w["coin"], w["now"]() + 60 * DAY, FP,
                        sender=p["exporter"])
    assert chain.w3.eth.block_number == block + 1 == tx.block
    assert chain.w3.eth.get_transaction_count(exporter) == nonce + 1
    receipt = chain.w3.eth.get_transaction_receipt(tx.hash)
    assert receipt["to"] == w["bills"].address  # sent to the title registry, which calls the escrow
    (requested,) = fin.contract.events.Requested().process_receipt(receipt, errors=DISCARD)
    assert requested["args"]["financingId"] == f.financing_id and requested["args"]["tokenId"] == w["bill"]
    pledge = w["bills"].history(w["bill"])[-1]
    assert pledge.action is TitleAction.PLEDGE and pledge.tx_hash == tx.hash and pledge.actor == exporter
    assert pledge.holder == pledge.beneficiary == fin.address
    reservation = fin.reservation(FP)
    assert reservation.status is FingerprintStatus.RESERVED and reservation.financing_id == f.financing_id
    assert reservation.reserved_until == chain.block_time(tx.block) + 30 * DAY == requested["args"]["reservedUntil"]
    assert w["bills"].balance_of(fin.address) == 1 and w["bills"].balance_of(exporter) == 0


def test_double_financing_is_refused(world):
    w, p, fin = world, world["p"], world["fin"]
    importer = p["importer"].address
    f = request(w)
    # The same invoice, spelt differently, pledged through a second bill: refused while reserved, bill kept.
    second = issue(w, "VHSL2611HKGSHA0008")
    respelt = fingerprint({**INVOICE, "invoiceNumber": "pre-2026-0412", "amount": "1,846,000"}, KEY)
    assert respelt == FP
    with pytest.raises(errors.InvoiceReserved) as caught:
        request(w, second, respelt)
    assert caught.value.financingId == f.financing_id
    assert caught.value.reservedUntil == fin.reservation(FP).reserved_until
    assert w["bills"].get(second).holder == p["exporter"].address  # the refused pledge never happened
    # funded: refused for ever, through any bill and any bank
    offer_and_accept(w, f.financing_id)
    fin.fund(f.financing_id, sender=p["bank_a"])
    travel(w["chain"], 40 * DAY)  # long past any reservation period
    with pytest.raises(errors.DuplicateFinancing):
        request(w, second, respelt)
    # The same bill again: it is in escrow, the exporter no longer holds it.
    with pytest.raises(errors.NotHolder):
        w["fin"].request(w["bill"], importer, 10**12, w["coin"], w["now"]() + 60 * DAY,
                         fingerprint({**INVOICE, "invoiceNumber": "X-1"}, KEY), sender=p["exporter"])
    assert fin.get(f.financing_id).state is FinancingState.FUNDED


def test_a_reservation_lapses_and_another_request_may_take_it_over(world):
    """A reservation is bounded: once it lapses another party's request takes the invoice over, and the
    lapsed financing can no longer be funded."""
    w, p, fin = world, world["p"], world["fin"]
    first = request(w, days=90)
    travel(w["chain"], 30 * DAY)
    assert fin.fingerprint_status(FP) == "none"  # lapsed: free again
    assert fin.reservation(FP).financing_id == first.financing_id  # still attributable to who held it
    second = request(w, issue(w, "VHSL2611HKGSHA0008", "payer"), exporter="payer")
    assert fin.reservation(FP).financing_id == second.financing_id
    assert fin.fingerprint_status(FP) == "reserved"
    offer_and_accept(w, first.financing_id)
    with pytest.raises(errors.ReservationLost) as caught:  # the lapsed financing can no longer be funded
        fin.fund(first.financing_id, sender=p["bank_a"])
    assert caught.value.financingId == first.financing_id
    fin.cancel(first.financing_id, sender=p["exporter"])  # ending the old one does not free the new reservation
    assert fin.fingerprint_status(FP) == "reserved" and fin.reservation(FP).financing_id == second.financing_id
    assert w["bills"].get(w["bill"]).holder == p["exporter"].address


def test_the_admin_releases_a_disputed_reservation(world):
    w, p, fin, admin = world, world["p"], world["fin"], world["admin"]
    f = request(w)
    with pytest.raises(errors.AccessControlUnauthorizedAccount):
        fin.release_reservation(FP, "not the exporter's invoice", sender=p["exporter"])
    released, tx = fin.release_reservation(FP, "buyer's complaint 2026-88: not the exporter's invoice", sender=admin)
    assert released.status is FingerprintStatus.NONE and released.financing_id is None
    (event,) = fin.contract.events.ReservationReleased().get_logs(from_block=tx.block, to_block=tx.block)
    assert event["args"]["financingId"] == f.financing_id
    assert event["args"]["reasonHash"] == hashing.text_hash("buyer's complaint 2026-88: not the exporter's invoice")
    with pytest.raises(errors.NotReserved):
        fin.release_reservation(FP, "again", sender=admin)
    offer_and_accept(w, f.financing_id)
    with pytest.raises(errors.ReservationLost):
        fin.fund(f.financing_id, sender=p["bank_a"])
    # a financed fingerprint is never released
    financed = fingerprint({**INVOICE, "invoiceNumber": "PRE-2026-0413"}, KEY)
    g = request(w, issue(w, "VHSL2611HKGSHA0008"), financed)
    offer_and_accept(w, g.financing_id)
    fin.fund(g.financing_id, sender=p["bank_a"])
    with pytest.raises(errors.DuplicateFinancing):
        fin.release_reservation(financed, "too late", sender=admin)


def test_offers_can_be_withdrawn_and_accept_names_the_terms(world):
    w, p, fin = world, world["p"], world["fin"]
    f = request(w)
    fin.offer(f.financing_id, 10**11, 10**9, w["now"]() + 60 * DAY, sender=p["bank_b"])
    terms = fin.offer_of(f.financing_id, p["bank_b"].address)
    withdrawn, tx = fin.withdraw_offer(f.financing_id, sender=p["bank_b"])
    assert not withdrawn.exists and tx.sender == p["bank_b"].address
    with pytest.raises(errors.OfferNotFound):
        fin.withdraw_offer(f.financing_id, sender=p["bank_b"])
    with pytest.raises(errors.OfferNotFound):  # the withdrawn offer cannot be accepted, not even as it was
        fin.accept(f.financing_id, p["bank_b"].address, terms=terms, sender=p["exporter"])
    accepted = offer_and_accept(w, f.financing_id)
    with pytest.raises(errors.WrongState):  # once accepted, offers are frozen
        fin.withdraw_offer(f.financing_id, sender=p["bank_a"])
    assert accepted.state is FinancingState.ACCEPTED


def test_accept_refuses_terms_read_for_another_offer(world):
    """`terms` is an `Offer` read for one financier on one financing; passed with another financier (or for
    another financing) it must be refused before sending, not accepted because two banks quoted alike."""
    w, p, fin = world, world["p"], world["fin"]
    f = request(w)
    maturity = w["now"]() + 60 * DAY
    for bank in ("bank_a", "bank_b"):  # the same quote from both banks
        fin.offer(f.financing_id, 10**11, 10**9, maturity, sender=p[bank])
    approved = fin.offer_of(f.financing_id, p["bank_b"].address)  # the officer approved bank B's offer
    block = w["chain"].w3.eth.block_number
    with pytest.raises(errors.InvalidInput):
        fin.accept(f.financing_id, p["bank_a"].address, terms=approved, sender=p["exporter"])
    other = request(w, issue(w, "VHSL2611HKGSHA0008"), fingerprint({**INVOICE, "invoiceNumber": "2"}, KEY))
    with pytest.raises(errors.InvalidInput):
        fin.accept(other.financing_id, p["bank_b"].address, terms=approved, sender=p["exporter"])
    assert w["chain"].w3.eth.block_number == block + 2  # the second bill's issue and request only
    assert fin.get(f.financing_id).state is FinancingState.REQUESTED


def test_refusals_are_named(world):
    w, p, fin = world, world["p"], world["fin"]
    f = request(w)
    for not_a_financier in ("exporter", "importer"):
        with pytest.raises(errors.FinancierNotActive):
            fin.offer(f.financing_id, 10**11, 10**9, w["now"]() + 60 * DAY, sender=p[not_a_financier])
    fin.offer(f.financing_id, 10**11, 10**9, w["now"]() + 60 * DAY, sender=p["bank_b"])
    terms = fin.offer_of(f.financing_id, p["bank_b"].address)
    with pytest.raises(errors.NotExporter):
        fin.accept(f.financing_id, p["bank_b"].address, terms=terms, sender=p["importer"])
    with pytest.raises(errors.OfferNotFound):  # bank A made no offer: what the exporter read of it is empty
        fin.accept(f.financing_id, p["bank_a"].address, terms=fin.offer_of(f.financing_id, p["bank_a"].address),
                   sender=p["exporter"])
    fin.accept(f.financing_id, p["bank_b"].address, terms=terms, sender=p["exporter"])
    with pytest.raises(errors.CreditNotVerified) as caught:  # bank B never verified the exporter
        fin.fund(f.financing_id, sender=p["bank_b"])
    assert caught.value.financier == p["bank_b"].address
    with pytest.raises(errors.NotAcceptedFinancier):
        fin.fund(f.financing_id, sender=p["bank_a"])
    with pytest.raises(errors.NotExporter):
        fin.cancel(f.financing_id, sender=p["importer"])
    cancelled = fin.cancel(f.financing_id, sender=p["exporter"]).value
    assert cancelled.state is FinancingState.CANCELLED and cancelled.delivered
    assert w["bills"].get(w["bill"]).holder == p["exporter"].address
    assert fin.fingerprint_status(FP) == "none"  # released: never financed
    with pytest.raises(errors.WrongState):
        fin.cancel(f.financing_id, sender=p["exporter"])


def test_request_refusals(world, admin, chain):
    w, p, fin = world, world["p"], world["fin"]
    other_coin = chain.deploy(admin, "TestStablecoin", "Other", "OTH", admin.address)["contractAddress"]
    cases = {
        errors.NotAllowedToken: lambda: fin.request(w["bill"], p["importer"].address, 10**12, other_coin,
                                                    w["now"]() + 60 * DAY, FP, sender=p["exporter"]),
        errors.InvalidImporter: lambda: fin.request(w["bill"], p["exporter"].address, 10**12, w["coin"],
                                                    w["now"]() + 60 * DAY, FP, sender=p["exporter"]),
        errors.TraderNotActive: lambda: fin.request(w["bill"], p["bank_a"].address, 10**12, w["coin"],
                                                    w["now"]() + 60 * DAY, FP, sender=p["exporter"]),
        errors.TenorTooShort: lambda: request(w, days=6),
        errors.InvalidMaturity: lambda: fin.request(w["bill"], p["importer"].address, 10**12, w["coin"],
                                                    w["now"]() - 1, FP, sender=p["exporter"]),
    }
    for error, attempt in cases.items():
        with pytest.raises(error):
            attempt()
    for bad in ({"amount": 0}, {"amount": 2**96}, {"fp": b"\0" * 32}, {"fp": "0x12"}):
        with pytest.raises(errors.InvalidInput):
            request(w, **bad)
    assert w["bills"].get(w["bill"]).holder == p["exporter"].address and fin.list() == []


def test_minimum_tenor_and_reservation_period_are_admin_settings(world):
    w, p, fin, admin = world, world["p"], world["fin"], world["admin"]
    assert (fin.min_tenor(), fin.reservation_period()) == (7 * DAY, 30 * DAY)
    with pytest.raises(errors.TenorTooShort) as caught:
        request(w, days=6)
    assert caught.value.maturity < caught.value.earliest
    f = request(w, days=10)
    with pytest.raises(errors.TenorTooShort):  # no "maturity in two minutes" offer either
        fin.offer(f.financing_id, 10**11, 10**9, w["now"]() + 120, sender=p["bank_a"])
    for setter in (fin.set_min_tenor, fin.set_reservation_period):
        with pytest.raises(errors.AccessControlUnauthorizedAccount):
            setter(DAY, sender=p["bank_a"])
    assert fin.set_min_tenor(0, sender=admin).value == 0
    fin.offer(f.financing_id, 10**11, 10**9, w["now"]() + 120, sender=p["bank_a"])
    assert fin.set_reservation_period(5 * DAY, sender=admin).value == 5 * DAY
    g = request(w, issue(w, "VHSL2611HKGSHA0008"), fingerprint({**INVOICE, "invoiceNumber": "2"}, KEY))
    assert fin.reservation(g.invoice_fingerprint).reserved_until == w["now"]() + 5 * DAY
    assert fin.reservation(FP).reserved_until > w["now"]() + 25 * DAY  # earlier reservations keep theirs
    for setter, bad in ((fin.set_min_tenor, 366 * DAY), (fin.set_reservation_period, DAY - 1),
                        (fin.set_reservation_period, 366 * DAY)):
        with pytest.raises(errors.InvalidSetting) as caught:
            setter(bad, sender=admin)
        assert caught.value.value == bad


def test_pause_stops_the_escrow_and_so_does_the_registrys(world):
    w, p, fin, admin = world, world["p"], world["fin"], world["admin"]
    f = request(w)
    with pytest.raises(errors.AccessControlUnauthorizedAccount):
        fin.pause(sender=p["bank_a"])
    assert fin.pause(sender=admin).value is True and fin.paused()
    with pytest.raises(errors.EnforcedPause):
        fin.offer(f.financing_id, 10**11, 10**9, w["now"]() + 60 * DAY, sender=p["bank_a"])
    with pytest.raises(errors.EnforcedPause):  # the pledge reaches the paused escrow and is undone
        request(w, issue(w, "VHSL2611HKGSHA0008"), fingerprint({**INVOICE, "invoiceNumber": "2"}, KEY))
    assert fin.unpause(sender=admin).value is False
    w["bills"].pause(sender=admin)
    with pytest.raises(errors.TitleRegistryPaused):
        fin.offer(f.financing_id, 10**11, 10**9, w["now"]() + 60 * DAY, sender=p["bank_a"])
    with pytest.raises(errors.TitleRegistryPaused):
        fin.cancel(f.financing_id, sender=p["exporter"])
    assert not fin.paused()  # its own pause is off: it stops with the registry's
    w["bills"].unpause(sender=admin)
    assert offer_and_accept(w, f.financing_id).state is FinancingState.ACCEPTED


def test_default_and_claim(world):
    w, p, fin = world, world["p"], world["fin"]
    f = request(w, days=30)
    offer_and_accept(w, f.financing_id, days=30)
    fin.fund(f.financing_id, sender=p["bank_a"])
    fin.repay(f.financing_id, 10**10, sender=p["importer"])
    with pytest.raises(errors.NotMatured):
        fin.claim(f.financing_id, sender=p["bank_a"])
    travel(w["chain"], 45 * DAY)  # maturity + 14 days' grace
    with pytest.raises(errors.NotAcceptedFinancier):
        fin.claim(f.financing_id, sender=p["bank_b"])
    claimed = fin.claim(f.financing_id, sender=p["bank_a"]).value
    assert claimed.state is FinancingState.DEFAULTED and claimed.delivered
    assert w["bills"].get(w["bill"]).holder == p["bank_a"].address  # the pledgee bank holds the bill now
    assert fin.withdraw(w["coin"], sender=p["bank_a"]).value == 10**10  # the partial repayment stays the bank's
    assert fin.owed(w["coin"]) == balance(w, fin.address) == 0
    with pytest.raises(errors.NothingToWithdraw):
        fin.withdraw(w["coin"], sender=p["bank_a"])


def test_a_capped_repayment_leaves_no_allowance_behind(world):
    """`repay` approves the escrow before repaying; the escrow takes at most what is outstanding, so the
    client must approve at most that: an over-large amount must not leave a standing allowance to the escrow
    (nor may an exact one)."""
    w, p, fin = world, world["p"], world["fin"]
    f = request(w)
    offer_and_accept(w, f.financing_id)
    fin.fund(f.financing_id, sender=p["bank_a"])
    outstanding = fin.get(f.financing_id).outstanding
    before = balance(w, p["importer"].address)
    repaid = fin.repay(f.financing_id, 100 * outstanding, sender=p["importer"]).value
    assert repaid.state is FinancingState.REPAID and before - balance(w, p["importer"].address) == outstanding
    assert int(w["chain"].call(w["stable"], "allowance", p["importer"].address, fin.address)) == 0


def test_a_refused_release_waits_for_redelivery(world):
    """Full repayment while the importer is suspended: the financing is repaid all the same, the bill waits in
    the escrow, and anyone may redeliver it once the importer can receive again."""
    w, p, fin, admin = world, world["p"], world["fin"], world["admin"]
    registry = Participants.of(w["chain"], w["suite"])
    f = request(w)
    offer_and_accept(w, f.financing_id)
    fin.fund(f.financing_id, sender=p["bank_a"])
    registry.suspend(p["importer"].address, "sanctions screening", sender=admin)
    repaid = fin.repay(f.financing_id, 2 * 10**11, sender=p["payer"]).value
    assert repaid.state is FinancingState.REPAID and not repaid.delivered
    assert w["bills"].get(w["bill"]).holder == fin.address
    with pytest.raises(errors.RecipientNotActive):
        fin.redeliver(f.financing_id, sender=p["payer"])
    registry.reinstate(p["importer"].address, sender=admin)
    delivered = fin.redeliver(f.financing_id, sender=p["payer"]).value
    assert delivered.delivered and w["bills"].get(w["bill"]).holder == p["importer"].address
    with pytest.raises(errors.NothingToRedeliver):
        fin.redeliver(f.financing_id, sender=p["payer"])


def test_a_bill_rejected_back_into_the_escrow_is_redelivered(world):
    """After a cancel the exporter may reject the returned bill as its next action: the bill goes back to the
    escrow (a restoration, the only other way in besides a pledge), which has custody again until anyone
    redelivers it."""
    w, p, fin, bills = world, world["p"], world["fin"], world["bills"]
    f = request(w)
    with pytest.raises(errors.WrongState):  # still requested: the financing has not ended
        fin.redeliver(f.financing_id, sender=p["payer"])
    fin.cancel(f.financing_id, sender=p["exporter"])
    returned = bills.reject(w["bill"], sender=p["exporter"], remark="wrong bill").value
    assert returned.holder == returned.beneficiary == fin.address and bills.balance_of(fin.address) == 1
    assert int(w["chain"].call(fin.contract, "custodyOf", w["bill"])) == f.financing_id
    redelivered = fin.redeliver(f.financing_id, sender=p["payer"]).value
    assert redelivered.state is FinancingState.CANCELLED and redelivered.delivered
    assert bills.get(w["bill"]).holder == p["exporter"].address and bills.balance_of(fin.address) == 0
    assert [e.action for e in bills.history(w["bill"])][-4:] == [
        TitleAction.PLEDGE, TitleAction.TRANSFER_OWNERS, TitleAction.REJECT, TitleAction.TRANSFER_OWNERS]


def test_get_of_an_unknown_financing_is_financing_not_found(world):
    with pytest.raises(errors.FinancingNotFound) as caught:
        world["fin"].get(7)
    assert isinstance(caught.value, errors.NotFound)
    assert world["fin"].offer_of(7, world["p"]["bank_a"].address) == Offer(7, world["p"]["bank_a"].address, 0, 0, 0)
    assert world["fin"].reservation(FP).status is FingerprintStatus.NONE
    with pytest.raises(errors.InvalidInput):
        world["fin"].get(0)
