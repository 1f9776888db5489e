"""The shipment's numbers: the invoice and the financing's terms, the credit report's validity, the fields
disclosed to the bank, the second shipment's references, and how stablecoin amounts are shown (exactly, in
integer minor units: never a float)."""

from __future__ import annotations

from decimal import Decimal

from eth_utils import keccak

from ..money import format_units

DAY = 86_400
#: the fingerprint key the demo uses when $EBL_FINGERPRINT_KEY is not set: public, so demo only
DEMO_FINGERPRINT_KEY = keccak(text="ebl demo consortium invoice fingerprint key (public: demo only)")
#: the test stablecoin has 6 decimals, like most fiat-backed stablecoins, and tracks the Hong Kong dollar
COIN_DECIMALS = 6
COIN = 10**COIN_DECIMALS
CURRENCY = "HKD"
#: the financing: 80 % of the HKD 14,398,800.00 invoice, a 1.5 % flat fee, 90 days
INVOICE_UNITS = 14_398_800 * COIN
ADVANCE_PERCENT, FEE_PERCENT = 80, Decimal("1.5")
PRINCIPAL = INVOICE_UNITS * ADVANCE_PERCENT // 100
FEE = int(PRINCIPAL * FEE_PERCENT / 100)  # exact: Decimal, and a whole number of units
TENOR_DAYS = 90
#: what the stablecoin issuer mints before the story, by member handle
MINTED = {"hk_bank": 50_000_000 * COIN, "cn_bank": 50_000_000 * COIN, "importer": 20_000_000 * COIN}
#: the credit report's anchor is valid for a year (the registry allows at most 400 days by default)
CREDIT_VALIDITY_DAYS = 365
#: how long the exporter's consent to the bank lasts
CONSENT_DAYS = 180
#: disclosed to the bank's maker officer, and checked against the anchor on chain, before verifying
DISCLOSED_FIELDS = ("/rating/grade", "/paymentHistory/defaults24m", "/sanctionsScreening/result")
#: the exporter's next shipment: its transport document differs from the first in these references
SECOND_SHIPMENT = {"transportDocumentReference": "VHSL2611HKGSHA0008",
                   "shippingInstructionsReference": "SI-PRE-2026-11-0419"}
#: the same invoice as presented to the second bank: spelled differently, the same fingerprint
RESPELLED_INVOICE = {"invoiceNumber": "pre inv 2026 0412", "amount": "14,398,800", "issueDate": "2026/11/18"}


def money(units: int) -> str:
    """Stablecoin units as `HKD 11,519,040.00`, a decrease as `-HKD 11,519,040.00` (`money.format_units`, the
    formatting the `ebl` command uses)."""
    return ("-" if units < 0 else "") + format_units(abs(units), COIN_DECIMALS, CURRENCY, min_decimals=2)
