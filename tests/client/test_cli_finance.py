"""`ebl finance ...`: the exporter's, the banks' and the importer's commands, acceptance naming the terms,
invoice reservations, the admin's settings and pause, one-line refusals."""

import json

import pytest

from ebl_client import deployment, keys, samples
from ebl_client.errors import ExitCode

from .conftest import DAY, trade_finance_world
from .test_cli import one_error_line, sent, shows_transaction

KEY = "0x" + "42" * 32
INVOICE = {"sellerId": "5493001KJTIIGC8Y1R12", "buyerId": "91310000MA1FL4B24G", "invoiceNumber": "PRE-2026-0412",
           "currency": "HKD", "amount": "1846000.00", "issueDate": "2026-11-18"}
UNITS = 10**6  # the test stablecoin's 6 decimals


@pytest.fixture
def market(run, chain, admin, signers, tmp_path):
    assert run("deploy", "--test-stablecoin").exit_code == 0
    w = trade_finance_world(chain, admin, signers, deployment.load(run.manifest.parent, 31337))
    p, coin = w["p"], w["coin"]
    bill = w["bills"].issue(samples.TRANSPORT_DOCUMENT, p["exporter"].address, sender=p["carrier"]).value.token_id
    invoice = tmp_path / "invoice.json"
    invoice.write_text(json.dumps(INVOICE))

    def as_(who, *args, **env):
        return run(*args, key=p[who].key.to_0x_hex(), **{"EBL_FINGERPRINT_KEY": KEY, **env})

    def request(*extra, days="60"):
        """The exporter pledges the bill and requests 1,000,000 against the invoice; the financing as JSON."""
        result = as_("exporter", "--json", "finance", "request", hex(bill), "--importer", p["importer"].address,
                     "--amount", "1,000,000", "--token", coin, "--invoice", str(invoice), "--days", days, *extra)
        return sent(result, "financing", sender=p["exporter"].address), json.loads(result.stdout)["transaction"]

    return {"as": as_, "p": p, "coin": coin, "bill": hex(bill), "invoice": invoice, "run": run, "w": w,
            "request": request, "chain": chain}


def offer(m, fid, bank="bank_a", principal="950000", fee="12000.50", days="60"):
    return sent(m["as"](bank, "--json", "finance", "offer", str(fid), "--principal", principal, "--fee", fee,
                        "--days", days), "offer", sender=m["p"][bank].address)


def test_the_financing_story_through_the_cli(market):
    m, p = market, market["p"]
    fp = json.loads(m["as"]("exporter", "--json", "finance", "fingerprint", str(m["invoice"])).stdout)
    f, tx = m["request"]()
    assert f["state"] == "requested" and f["invoice_fingerprint"] == fp["fingerprint"]
    # one transaction: the pledge in the chain of title is the request's own transaction
    history = json.loads(m["run"]("--json", "bill", "history", m["bill"]).stdout)
    assert [(h["action"], h["tx_hash"]) for h in history] == [("issue", history[0]["tx_hash"]), ("pledge", tx["hash"])]
    assert json.loads(m["run"]("--json", "bill", "show", m["bill"]).stdout)["holder"] == m["w"]["fin"].address
    fid = str(f["financing_id"])
    made = offer(m, fid)
    assert (made["principal"], made["fee"]) == (950_000 * UNITS, 12_000_500_000)
    shown = json.loads(m["run"]("--json", "finance", "show-offer", fid, "--financier", p["bank_a"].address).stdout)
    assert shown == made
    ambiguous = m["as"]("exporter", "finance", "accept", fid, "--financier", p["bank_a"].address,
                        "--principal", "950,000")  # 950 thousand, or 950 with three decimals?
    one_error_line(ambiguous, ExitCode.INVALID, "950,000")
    accepted = m["as"]("exporter", "finance", "accept", fid, "--financier", p["bank_a"].address,
                       "--principal", "950000", "--fee", "12000.5", "--days", "60")
    assert (f"accepting {p['bank_a'].address}'s offer on financing {fid}: principal tHKD 950,000.00, "
            f"fee tHKD 12,000.50") in accepted.stdout
    shows_transaction(accepted)
    funded = sent(m["as"]("bank_a", "--json", "finance", "fund", fid), "financing", sender=p["bank_a"].address)
    assert funded["state"] == "funded" and funded["principal"] == 950_000 * UNITS
    part = sent(m["as"]("importer", "--json", "finance", "repay", fid, "--amount", "500000"), "financing")
    assert part["outstanding"] == 462_000_500_000
    done = sent(m["as"]("importer", "--json", "finance", "repay", fid, "--amount", "462000.5"), "financing")
    assert done["state"] == "repaid" and done["delivered"] is True
    withdrawn = sent(m["as"]("bank_a", "--json", "finance", "withdraw", "--token", m["coin"]), "withdrawal")
    assert withdrawn == {"account": p["bank_a"].address, "token": m["coin"], "amount": 962_000_500_000}
    listed = m["run"]("finance", "list")
    assert "repaid" in listed.stdout
    shown = m["run"]("finance", "show", fid)
    assert "bill delivered" in shown.stdout
    reservation = json.loads(m["as"]("exporter", "--json", "finance", "reservation", str(m["invoice"])).stdout)
    assert (reservation["status"], reservation["financing_id"]) == ("financed", 1)


def test_accept_sends_exactly_the_terms_it_read_and_refuses_others(market):
    m, p, chain = market, market["p"], market["chain"]
    f, _ = m["request"]()
    fid, bank = str(f["financing_id"]), p["bank_a"].address
    accept = ("finance", "accept", fid, "--financier", bank)
    one_error_line(m["as"]("exporter", *accept), ExitCode.INVALID, "has no offer", "nothing sent")
    made = offer(m, fid)
    height = chain.w3.eth.block_number
    for terms, differ in ((("--principal", "900000"), "principal"), (("--fee", "12000"), "fee"),
                          (("--days", "61"), "maturity"), (("--maturity", "2030-01-01"), "maturity"),
                          (("--principal", "900000", "--fee", "1"), "principal and fee")):
        line = one_error_line(m["as"]("exporter", *accept, *terms), ExitCode.INVALID,
                              "not the terms you named", f"its {differ} differ",
                              "principal tHKD 950,000.00, fee tHKD 12,000.50", "nothing sent")
        assert "accepting" not in line
    one_error_line(m["as"]("exporter", *accept, "--principal", "abc"), ExitCode.INVALID, "is not an amount")
    assert m["as"]("exporter", *accept, "--days", "60", "--maturity", "2030-01-01").exit_code == ExitCode.INVALID
    assert chain.w3.eth.block_number == height
    # the maturity's date names it too
    from datetime import UTC, datetime

    day = datetime.fromtimestamp(made["maturity"], UTC).strftime("%Y-%m-%d")
    accepted = m["as"]("exporter", "--json", *accept, "--maturity", day, "--principal", "950000")
    financing = sent(accepted, "financing", sender=p["exporter"].address)
    assert "accepting" in accepted.stderr  # the terms go to stderr with --json, stdout stays JSON
    assert (financing["state"], financing["financier"]) == ("accepted", bank)
    assert (financing["principal"], financing["fee"], financing["maturity"]) == (
        made["principal"], made["fee"], made["maturity"])


def test_accept_is_refused_when_the_bank_revises_its_offer_meanwhile(market, monkeypatch):
    """The exporter read the offer; the bank revises it before the exporter's transaction: OfferChanged."""
    m, p, chain = market, market["p"], market["chain"]
    f, _ = m["request"]()
    fid = f["financing_id"]
    offer(m, fid)
    fin = m["w"]["fin"]
    real = keys.from_env

    def bank_revises_while_the_key_loads(name):
        fin.offer(fid, 950_000 * UNITS, 30_000 * UNITS, chain.block_time() + 60 * DAY, sender=p["bank_a"])
        return real(name)

    monkeypatch.setattr(keys, "from_env", bank_revises_while_the_key_loads)
    height = chain.w3.eth.block_number
    result = m["as"]("exporter", "finance", "accept", str(fid), "--financier", p["bank_a"].address,
                     "--principal", "950000", "--fee", "12000.50")
    assert "accepting" in result.stdout and "fee tHKD 12,000.50" in result.stdout  # the terms it read and sent
    one_error_line(result, ExitCode.REFUSED, "OfferChanged", p["bank_a"].address, "fee 30000000000")
    assert chain.w3.eth.block_number == height + 1  # the bank's revision only
    assert fin.get(fid).state.name == "REQUESTED"


def test_withdraw_offer(market, chain):
    m, p = market, market["p"]
    f, _ = m["request"]()
    fid = str(f["financing_id"])
    offer(m, fid)
    height = chain.w3.eth.block_number
    one_error_line(m["as"]("bank_b", "finance", "withdraw-offer", fid), ExitCode.REFUSED,
                   "OfferNotFound", p["bank_b"].address)
    one_error_line(m["as"]("bank_a", "finance", "withdraw-offer", "99"), ExitCode.INVALID, "no financing 99")
    assert chain.w3.eth.block_number == height
    gone = sent(m["as"]("bank_a", "--json", "finance", "withdraw-offer", fid), "offer", sender=p["bank_a"].address)
    assert gone["principal"] == 0 and gone["financier"] == p["bank_a"].address
    one_error_line(m["as"]("exporter", "finance", "accept", fid, "--financier", p["bank_a"].address), ExitCode.INVALID,
                   "has no offer")
    table = m["run"]("finance", "show-offer", fid, "--financier", p["bank_a"].address)
    assert "(no offer)" in table.stdout


def test_reservations_and_their_release(market, chain, admin):
    m, p = market, market["p"]
    fp = json.loads(m["as"]("exporter", "--json", "finance", "fingerprint", str(m["invoice"])).stdout)["fingerprint"]
    free = json.loads(m["run"]("--json", "finance", "reservation", fp).stdout)
    assert free == {"invoice_fingerprint": fp, "status": "none", "financing_id": None, "reserved_until": 0}
    f, tx = m["request"]()
    held = json.loads(m["run"]("--json", "finance", "reservation", fp).stdout)
    assert (held["status"], held["financing_id"]) == ("reserved", f["financing_id"])
    assert held["reserved_until"] == chain.w3.eth.get_block(tx["block"])["timestamp"] + 30 * DAY  # the default
    # by invoice file (fingerprinted with the consortium key) as well as by fingerprint
    assert json.loads(m["as"]("importer", "--json", "finance", "reservation", str(m["invoice"])).stdout) == held
    assert "reserved" in m["run"]("finance", "reservation", fp).stdout
    one_error_line(m["run"]("finance", "reservation", "0x1234"), ExitCode.INVALID, "must be 32 non-zero bytes")
    one_error_line(m["run"]("finance", "reservation", "no-such-invoice.json"), ExitCode.INVALID,
                   "neither an invoice fingerprint")

    height = chain.w3.eth.block_number
    release = ("finance", "release-reservation", fp, "--reason", "invoice disputed by the buyer")
    one_error_line(m["as"]("exporter", *release), ExitCode.REFUSED,
                   "AccessControlUnauthorizedAccount", p["exporter"].address)
    one_error_line(m["run"]("finance", "release-reservation", fp, "--reason", " "), ExitCode.INVALID, "--reason")
    assert chain.w3.eth.block_number == height
    released = sent(m["run"]("--json", *release), "reservation", sender=admin.address)
    assert released["status"] == "none" and released["invoice_fingerprint"] == fp
    one_error_line(m["run"](*release), ExitCode.REFUSED, "NotReserved")
    # the financing that held it can no longer be funded
    offer(m, f["financing_id"])
    assert m["as"]("exporter", "finance", "accept", str(f["financing_id"]), "--financier",
                   p["bank_a"].address).exit_code == 0
    one_error_line(m["as"]("bank_a", "finance", "fund", str(f["financing_id"])), ExitCode.REFUSED, "ReservationLost")


def test_admin_settings_tenor_and_reservation_period(market, chain, admin):
    m, p = market, market["p"]
    height = chain.w3.eth.block_number
    one_error_line(m["as"]("bank_a", "finance", "set-min-tenor", "--days", "30"), ExitCode.REFUSED,
                   "AccessControlUnauthorizedAccount")
    one_error_line(m["as"]("exporter", "finance", "set-reservation-period", "--days", "10"), ExitCode.REFUSED,
                   "AccessControlUnauthorizedAccount")
    for command, days in (("set-min-tenor", "366"), ("set-min-tenor", "-1"), ("set-reservation-period", "0"),
                          ("set-reservation-period", "366")):
        assert m["run"]("finance", command, "--days", days).exit_code == 2
    assert chain.w3.eth.block_number == height

    # the default minimum tenor is 7 days
    one_error_line(m["as"]("exporter", "finance", "request", m["bill"], "--importer", p["importer"].address,
                           "--amount", "1000", "--token", m["coin"], "--invoice", str(m["invoice"]), "--days", "3"),
                   ExitCode.REFUSED, "TenorTooShort")
    tenor = sent(m["run"]("--json", "finance", "set-min-tenor", "--days", "30"), "setting", sender=admin.address)
    assert tenor == {"contract": "FinancingEscrow", "name": "min_tenor", "seconds": 30 * DAY, "days": 30}
    period = m["run"]("finance", "set-reservation-period", "--days", "10")
    shows_transaction(period)
    assert "10 days" in period.stdout
    one_error_line(m["as"]("exporter", "finance", "request", m["bill"], "--importer", p["importer"].address,
                           "--amount", "1000", "--token", m["coin"], "--invoice", str(m["invoice"]), "--days", "20"),
                   ExitCode.REFUSED, "TenorTooShort")
    f, tx = m["request"](days="45")
    fp = f["invoice_fingerprint"]
    held = json.loads(m["run"]("--json", "finance", "reservation", fp).stdout)
    assert held["reserved_until"] == chain.w3.eth.get_block(tx["block"])["timestamp"] + 10 * DAY
    one_error_line(m["as"]("bank_a", "finance", "offer", str(f["financing_id"]), "--principal", "900", "--fee", "9",
                           "--days", "29"), ExitCode.REFUSED, "TenorTooShort")
    settings = json.loads(m["run"]("--json", "finance", "settings").stdout)
    assert (settings["min_tenor"], settings["reservation_period"]) == (30 * DAY, 10 * DAY)


def test_pause_stops_the_escrow_and_so_does_the_title_registry(market, chain, admin):
    m, p = market, market["p"]
    f, _ = m["request"]()
    fid = str(f["financing_id"])
    height = chain.w3.eth.block_number
    one_error_line(m["as"]("bank_a", "finance", "pause"), ExitCode.REFUSED,
                   "AccessControlUnauthorizedAccount", p["bank_a"].address)
    assert chain.w3.eth.block_number == height
    paused = sent(m["run"]("--json", "finance", "pause"), "pause", sender=admin.address)
    assert paused == {"contract": "FinancingEscrow", "paused": True}
    assert json.loads(m["run"]("--json", "finance", "settings").stdout)["paused"] is True
    one_error_line(m["as"]("bank_a", "finance", "offer", fid, "--principal", "900", "--fee", "9", "--days", "60"),
                   ExitCode.REFUSED, "EnforcedPause")
    one_error_line(m["as"]("exporter", "finance", "unpause"), ExitCode.REFUSED, "AccessControlUnauthorizedAccount")
    assert sent(m["run"]("--json", "finance", "unpause"), "pause")["paused"] is False
    offer(m, fid)
    # the title registry's pause stops the escrow with it
    assert m["run"]("bill", "pause").exit_code == 0
    assert json.loads(m["run"]("--json", "finance", "settings").stdout)["title_registry_paused"] is True
    one_error_line(m["as"]("exporter", "finance", "accept", fid, "--financier", p["bank_a"].address), ExitCode.REFUSED,
                   "TitleRegistryPaused")
    assert m["run"]("bill", "unpause").exit_code == 0
    assert m["as"]("exporter", "finance", "accept", fid, "--financier", p["bank_a"].address).exit_code == 0


def test_refusals_are_one_line(market, tmp_path):
    m, p = market, market["p"]
    request = ("finance", "request", m["bill"], "--importer", p["importer"].address, "--amount", "1000",
               "--token", m["coin"], "--invoice", str(m["invoice"]), "--days", "60")
    one_error_line(m["as"]("exporter", *request, EBL_FINGERPRINT_KEY=""), ExitCode.INVALID, "fingerprint key")
    one_error_line(m["as"]("importer", *request), ExitCode.REFUSED, "NotHolder")
    assert m["as"]("exporter", *request).exit_code == 0
    one_error_line(m["as"]("bank_b", "finance", "fund", "1"), ExitCode.REFUSED, "NotAcceptedFinancier")
    m["as"]("bank_b", "finance", "offer", "1", "--principal", "900", "--fee", "9", "--days", "60")
    m["as"]("exporter", "finance", "accept", "1", "--financier", p["bank_b"].address)
    one_error_line(m["as"]("bank_b", "finance", "fund", "1"), ExitCode.REFUSED, "CreditNotVerified")
    one_error_line(m["as"]("bank_b", "finance", "offer", "1", "--principal", "0.0000001", "--fee", "1",
                           "--days", "9"), ExitCode.INVALID, "more than 6 decimals")
    one_error_line(m["run"]("finance", "show", "99"), ExitCode.INVALID, "no financing 99")
    one_error_line(m["run"]("finance", "show", "0"), ExitCode.USAGE, "financing id 0 must be positive")


@pytest.mark.parametrize("amount", ["nan", "sNaN", "-5", "0", "1e999999999", "1e30", "12abc", "Infinity", "1e-7"])
def test_bad_amounts_are_one_line_never_a_traceback(market, chain, amount):
    m, p = market, market["p"]
    height = chain.w3.eth.block_number
    result = m["as"]("exporter", "finance", "request", m["bill"], "--importer", p["importer"].address,
                     "--amount", amount, "--token", m["coin"], "--invoice", str(m["invoice"]), "--days", "60")
    one_error_line(result, ExitCode.INVALID, "amount")
    assert chain.w3.eth.block_number == height


@pytest.mark.parametrize("days", ["nan", "inf", "-inf", "0", "1e9"])
def test_bad_day_counts_are_usage_errors(market, days):
    m, p = market, market["p"]
    result = m["as"]("exporter", "finance", "request", m["bill"], "--importer", p["importer"].address,
                     "--amount", "1000", "--token", m["coin"], "--invoice", str(m["invoice"]), "--days", days)
    assert result.exit_code == 2 and "--days" in result.stderr and "Traceback" not in result.stderr


def test_refused_funding_and_repayment_send_nothing_not_even_an_approval(market, chain):
    m, p = market, market["p"]
    f, _ = m["request"]()
    fid = str(f["financing_id"])
    height = chain.w3.eth.block_number
    one_error_line(m["as"]("payer", "finance", "repay", fid, "--amount", "10"), ExitCode.REFUSED,
                   "WrongState", "requested")
    offer(m, fid, bank="bank_b")
    assert m["as"]("exporter", "finance", "accept", fid, "--financier", p["bank_b"].address).exit_code == 0
    height = chain.w3.eth.block_number
    one_error_line(m["as"]("bank_a", "finance", "fund", fid), ExitCode.REFUSED,
                   "NotAcceptedFinancier", p["bank_a"].address)
    one_error_line(m["as"]("bank_b", "finance", "fund", fid), ExitCode.REFUSED,
                   "CreditNotVerified", p["bank_b"].address)
    one_error_line(m["as"]("payer", "finance", "repay", fid, "--amount", "10"), ExitCode.REFUSED,
                   "WrongState", "accepted")
    assert chain.w3.eth.block_number == height  # no ERC-20 approval left behind either
    stable = m["w"]["stable"]
    assert int(stable.functions.allowance(p["bank_b"].address, m["w"]["fin"].address).call()) == 0


def test_repayment_beyond_the_payers_balance_sends_nothing(market, chain):
    m, p = market, market["p"]
    f, _ = m["request"]()
    fid = str(f["financing_id"])
    offer(m, fid)
    assert m["as"]("exporter", "finance", "accept", fid, "--financier", p["bank_a"].address).exit_code == 0
    assert m["as"]("bank_a", "finance", "fund", fid).exit_code == 0
    height = chain.w3.eth.block_number
    # the exporter holds only the principal it received: not enough for principal and fee
    one_error_line(m["as"]("exporter", "finance", "repay", fid, "--amount", "962000.5"), ExitCode.REFUSED,
                   "ERC20InsufficientBalance",
                   "950000000000", "962000500000")
    assert chain.w3.eth.block_number == height
