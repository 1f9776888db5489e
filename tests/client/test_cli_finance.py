"""`ebl finance ...`: the exporter's, the banks' and the importer's commands, one-line refusals."""

import json

import pytest

from ebl_client import deployment, samples

from .conftest import one_error_line, trade_finance_world

KEY = "0x" + "42" * 32
INVOICE = {"sellerId": "5493001KJTIIGC8Y1R12", "buyerId": "91310000MA1FL4B24G", "invoiceNumber": "PRE-2026-0412",
           "currency": "HKD", "amount": "1846000.00", "issueDate": "2026-11-18"}


@pytest.fixture
def market(run, chain, admin, signers, tmp_path):
    assert run("deploy", "--test-stablecoin").exit_code == 0
    w = trade_finance_world(chain, admin, signers, deployment.load(run.manifest.parent, 31337))
    p, coin = w["p"], w["coin"]
    bill = w["bills"].issue(p["carrier"], samples.TRANSPORT_DOCUMENT, p["exporter"].address).token_id
    invoice = tmp_path / "invoice.json"
    invoice.write_text(json.dumps(INVOICE))

    def as_(who, *args, **env):
        return run(*args, key=p[who].key.to_0x_hex(), **{"EBL_FINGERPRINT_KEY": KEY, **env})

    return {"as": as_, "p": p, "coin": coin, "bill": hex(bill), "invoice": invoice, "run": run}


def test_the_financing_story_through_the_cli(market):
    m, p = market, market["p"]
    fp = json.loads(m["as"]("exporter", "--json", "finance", "fingerprint", str(m["invoice"])).stdout)
    requested = m["as"]("exporter", "--json", "finance", "request", m["bill"], "--importer", p["importer"].address,
                        "--amount", "1,000,000", "--token", m["coin"], "--invoice", str(m["invoice"]), "--days", "60")
    assert requested.exit_code == 0, requested.stderr
    f = json.loads(requested.stdout)
    assert f["state"] == "requested" and f["invoice_fingerprint"] == fp["fingerprint"]
    fid = str(f["financing_id"])
    assert m["as"]("bank_a", "finance", "offer", fid, "--principal", "950000", "--fee", "12000.50",
                   "--days", "60").exit_code == 0
    assert m["as"]("exporter", "finance", "accept", fid, "--financier", p["bank_a"].address).exit_code == 0
    funded = json.loads(m["as"]("bank_a", "--json", "finance", "fund", fid).stdout)
    assert funded["state"] == "funded" and funded["principal"] == 950_000 * 10**6
    part = json.loads(m["as"]("importer", "--json", "finance", "repay", fid, "--amount", "500000").stdout)
    assert part["outstanding"] == 462_000_500_000
    done = json.loads(m["as"]("importer", "--json", "finance", "repay", fid, "--amount", "462000.5").stdout)
    assert done["state"] == "repaid" and done["delivered"] is True
    withdrawn = json.loads(m["as"]("bank_a", "--json", "finance", "withdraw", "--token", m["coin"]).stdout)
    assert withdrawn["withdrawn"] == 962_000_500_000
    listed = m["run"]("finance", "list")
    assert "repaid" in listed.stdout
    shown = m["run"]("finance", "show", fid)
    assert "bill delivered" in shown.stdout


def test_refusals_are_one_line(market, tmp_path):
    m, p = market, market["p"]
    request = ("finance", "request", m["bill"], "--importer", p["importer"].address, "--amount", "1000",
               "--token", m["coin"], "--invoice", str(m["invoice"]), "--days", "60")
    one_error_line(m["as"]("exporter", *request, EBL_FINGERPRINT_KEY=""), "fingerprint key")
    one_error_line(m["as"]("importer", *request), "NotHolder")
    assert m["as"]("exporter", *request).exit_code == 0
    one_error_line(m["as"]("bank_b", "finance", "fund", "1"), "NotAcceptedFinancier")
    m["as"]("bank_b", "finance", "offer", "1", "--principal", "900", "--fee", "9", "--days", "60")
    m["as"]("exporter", "finance", "accept", "1", "--financier", p["bank_b"].address)
    one_error_line(m["as"]("bank_b", "finance", "fund", "1"), "CreditNotVerified")
    one_error_line(m["as"]("bank_b", "finance", "offer", "1", "--principal", "0.0000001", "--fee", "1",
                           "--days", "9"), "at most 6 decimals")
    one_error_line(m["run"]("finance", "show", "99"), "no financing 99")
