"""Money: amounts in currency units parsed exactly into ISO 4217 minor units and formatted back; every
ambiguous or unsafe spelling refused by name; invoice normalisation and fingerprints built on it."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from iso4217 import Currency

from ebl_client import money
from ebl_client.errors import InvalidInput
from ebl_client.financing import fingerprint, minor_units, normalise_invoice

ACTIVE = sorted(c.code for c in Currency if c.exponent is not None)
KEY = bytes(range(32))
INVOICE = {"sellerId": "5493001KJTIIGC8Y1R12", "buyerId": "91310000MA1FL4B24G", "invoiceNumber": "PRE-2026-0412",
           "currency": "HKD", "amount": "1846000.00", "issueDate": "2026-11-18"}


# --- currencies -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code, exponent", [
    ("HKD", 2), ("CNY", 2), ("USD", 2), ("EUR", 2), ("JPY", 0), ("KRW", 0), ("KWD", 3), ("BHD", 3),
    ("CLF", 4), ("UYW", 4), ("XOF", 0), ("XAF", 0), ("UGX", 0), ("XCG", 2),
])
def test_minor_unit_exponents_are_iso_4217(code, exponent):
    assert money.minor_unit_exponent(code) == exponent


def test_the_whole_iso_4217_table_is_known():
    assert len(ACTIVE) > 150 and money.ISO4217_PUBLISHED.year >= 2026
    assert all(money.minor_unit_exponent(code) in (0, 2, 3, 4) for code in ACTIVE)
    # the twelve codes the client knew before the table agree with ISO 4217
    before = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3,
              "LYD": 3, "IQD": 3}
    assert {code: money.minor_unit_exponent(code) for code in before} == before


def test_currency_codes_are_normalised():
    assert money.currency_code(" hkd ") == "HKD"
    assert money.parse("1", "jpy") == 1


@pytest.mark.parametrize("code, message", [
    ("HK$", "not an ISO 4217 code"),
    ("", "not an ISO 4217 code"),
    ("HKDD", "not an ISO 4217 code"),
    ("ABC", "ABC is not an active ISO 4217 code"),
    ("HRK", "HRK is not an active ISO 4217 code"),  # withdrawn when Croatia adopted the euro
    ("\uff28\uff2b\uff24", "not an ISO 4217 code"),  # full-width HKD
    ("XAU", r"XAU \(Gold\) has no minor unit"),
    ("XDR", "has no minor unit"),
    ("XTS", "has no minor unit"),
    ("XXX", "has no minor unit"),
])
def test_unknown_currencies_are_refused(code, message):
    for use in (lambda: money.currency_code(code), lambda: money.parse("1", code), lambda: money.format(1, code)):
        with pytest.raises(InvalidInput, match=message):
            use()


# --- parsing ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("amount, currency, units", [
    ("1846000.50", "HKD", 184600050),
    ("1,846,000.50", "HKD", 184600050),
    ("1,846,000", "HKD", 184600000),  # two commas: grouping, never a decimal comma
    ("1,000.5", "HKD", 100050),
    ("12.5", "HKD", 1250),
    ("  12.50\n", "HKD", 1250),  # surrounding whitespace only
    ("0", "HKD", 0),
    ("0.00", "HKD", 0),
    ("007.10", "HKD", 710),
    ("1200", "JPY", 1200),
    ("1,234,567", "JPY", 1234567),
    ("1.234", "KWD", 1234),
    ("0.001", "BHD", 1),
    ("1.2345", "CLF", 12345),
    ("1000", "XOF", 1000),
    (Decimal("12.5"), "HKD", 1250),
    (Decimal("12.500"), "HKD", 1250),  # a Decimal's value counts, not its written precision
    (Decimal("1E+3"), "JPY", 1000),
    (Decimal("0E-10"), "HKD", 0),
    (Decimal("-0"), "HKD", 0),
    (1846000, "HKD", 184600000),  # int: whole currency units
    (0, "JPY", 0),
])
def test_amounts_parse_to_minor_units(amount, currency, units):
    assert money.parse(amount, currency) == units


@pytest.mark.parametrize("amount, currency, message", [
    # ambiguous separators
    ("1,000", "HKD", r"'1,000' is ambiguous: a thousands separator or a decimal comma\? Write 1000 or 1,000.00"),
    ("1,000", "JPY", r"ambiguous.*Write 1000 if"),
    ("12,345", "USD", "ambiguous"),
    ("1.000,5", "EUR", "ambiguous: a comma after the decimal point"),
    ("1.000.000,50", "EUR", "ambiguous: a comma after the decimal point"),
    ("1,000.000,5", "EUR", "ambiguous: a comma after the decimal point"),
    ("10,5", "EUR", "comma that is not a thousands separator"),
    ("1,00,000", "INR", "comma that is not a thousands separator"),
    ("1,0000", "HKD", "comma that is not a thousands separator"),
    (",100", "HKD", "comma that is not a thousands separator"),
    ("1 000", "HKD", "is not an amount"),
    ("1'000", "CHF", "is not an amount"),
    ("1_000", "HKD", "is not an amount"),
    # more decimals than the currency has (trailing zeros too: 1.000 JPY may mean a thousand)
    ("12.345", "HKD", "more than 2 decimals for HKD"),
    ("12.500", "HKD", "more than 2 decimals for HKD"),
    ("1.000", "JPY", "more than 0 decimals for JPY"),
    ("0.0001", "KWD", "more than 3 decimals for KWD"),
    (Decimal("12.345"), "HKD", "more than 2 decimals for HKD"),
    (Decimal("1E-999999"), "JPY", "more than 0 decimals"),
    # signs, exponents, non-finite numbers
    ("-5", "HKD", "negative: amounts are positive, written without a sign"),
    ("-0.01", "HKD", "negative"),
    ("+5", "HKD", "has a sign"),
    (Decimal("-1"), "HKD", "negative"),
    (-1, "HKD", "negative"),
    ("1e3", "HKD", "exponent notation"),
    ("1E+3", "HKD", "exponent notation"),
    ("1.5e-2", "HKD", "exponent notation"),
    ("NaN", "HKD", "not a finite number"),
    ("inf", "HKD", "not a finite number"),
    ("-Infinity", "HKD", "not a finite number"),
    (Decimal("NaN"), "HKD", "not a finite number"),
    (Decimal("sNaN"), "HKD", "not a finite number"),
    (Decimal("Infinity"), "HKD", "not a finite number"),
    # malformed text and types
    ("", "HKD", "is not an amount"),
    (".5", "HKD", "is not an amount"),
    ("5.", "HKD", "is not an amount"),
    ("HKD 5", "HKD", "is not an amount"),
    ("\u0661\u0662\u0663", "HKD", "is not an amount"),  # Arabic-Indic 123, which Decimal() would read
    ("\uff11\uff12\uff13", "HKD", "is not an amount"),  # full-width 123, which Decimal() would read
    ("1" * 65, "HKD", "too long"),
    (1.5, "HKD", r"binary floating-point.*give it as text \('1.5'\) or a Decimal"),
    (0.1, "HKD", "binary floating-point"),
    (True, "HKD", "not bool"),
    (None, "HKD", "not NoneType"),
    # bounded below 2**96 minor units
    (str(2**96 // 100 + 1), "HKD", r"too large: at most 2\*\*96 - 1 minor units \(for HKD\)"),
    (str(2**96), "JPY", "too large"),
    (2**96, "JPY", "too large"),
    (10**100, "HKD", "too large"),
    (Decimal("1E+999999"), "JPY", "too large"),
    (Decimal(2**96), "JPY", "too large"),
])
def test_bad_amounts_are_refused_by_name(amount, currency, message):
    with pytest.raises(InvalidInput, match=message):
        money.parse(amount, currency)


def test_the_bound_is_2_to_the_96_minor_units():
    top = 2**96 - 1
    assert money.parse(money.plain(top, "HKD"), "HKD") == top
    assert money.parse(str(top), "JPY") == money.parse(Decimal(top), "JPY") == money.parse(top, "JPY") == top
    assert money.parse(Decimal(f"{top}E-2"), "HKD") == top  # exact: 29 digits, no rounding at Decimal's 28
    whole, cents = divmod(2**96, 100)
    with pytest.raises(InvalidInput, match="too large"):
        money.parse(f"{whole}.{cents:02d}", "HKD")


def test_parse_units_for_token_decimals():
    assert money.parse_units("950,000.50", 6) == 950_000_500_000
    assert money.parse_units("1", 18) == 10**18
    with pytest.raises(InvalidInput, match="more than 6 decimals for a 6-decimal unit"):
        money.parse_units("0.0000001", 6)
    for bad in (-1, 37, True, 2.0):
        with pytest.raises(InvalidInput, match="decimals"):
            money.parse_units("1", bad)


# --- formatting ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("units, currency, shown, plain", [
    (123456789, "HKD", "HKD 1,234,567.89", "1234567.89"),
    (184600050, "HKD", "HKD 1,846,000.50", "1846000.50"),
    (5, "HKD", "HKD 0.05", "0.05"),
    (0, "HKD", "HKD 0.00", "0.00"),
    (1200, "JPY", "JPY 1,200", "1200"),
    (5, "KWD", "KWD 0.005", "0.005"),
    (12345, "CLF", "CLF 1.2345", "1.2345"),
    (2**96 - 1, "USD", "USD 792,281,625,142,643,375,935,439,503.35", "792281625142643375935439503.35"),
])
def test_format_and_plain(units, currency, shown, plain):
    assert money.format(units, currency) == shown
    assert money.plain(units, currency) == plain
    assert money.parse(plain, currency) == units


@pytest.mark.parametrize("units", [-1, 2**96, 1.5, True, "100", Decimal(100)])
def test_format_refuses_what_is_not_minor_units(units):
    with pytest.raises(InvalidInput, match="not a whole number of minor units"):
        money.format(units, "HKD")
    with pytest.raises(InvalidInput, match="not a whole number of minor units"):
        money.plain(units, "HKD")


@given(st.integers(min_value=0, max_value=2**96 - 1), st.sampled_from(ACTIVE))
def test_plain_and_formatted_amounts_read_back(units, currency):
    assert money.parse(money.plain(units, currency), currency) == units
    grouped = money.format(units, currency).removeprefix(currency + " ")
    if grouped.count(",") != 1 or "." in grouped:  # "1,000" alone is refused as ambiguous, by design
        assert money.parse(grouped, currency) == units


# --- invoices ---------------------------------------------------------------------------------------------


def test_invoice_fingerprints_of_existing_vectors_are_unchanged():
    """Values computed with the client before money.py (its own 12-currency table): HKD, JPY, KWD and USD
    invoices keep their fingerprints, so invoices already reserved or financed on chain stay matched."""
    assert fingerprint(INVOICE, KEY).hex() == "c78cbb322fa5addb86045f7e4fcc71ece5ea930bd73005a4d5a020b1e7c2fb5d"
    respelled = {**INVOICE, "invoiceNumber": "pre 2026 0412", "currency": "hkd", "amount": "1,846,000"}
    assert fingerprint(respelled, KEY) == fingerprint(INVOICE, KEY)
    assert fingerprint({**INVOICE, "currency": "JPY", "amount": "1200"}, KEY).hex() == (
        "f860f7f833b22d1eb4cec4be2c6bb711845c7a2d57e4cc9f600f10fe858aa4ca")
    assert fingerprint({**INVOICE, "currency": "KWD", "amount": "1.234"}, KEY).hex() == (
        "a2d4610ddb14be7a7cd8a72eb1bd3b3f335e87109b49f5b239c328a2f4cbc1f8")
    assert fingerprint({**INVOICE, "currency": "USD", "amount": "1,846,000.50"}, KEY).hex() == (
        "b1976f85c8857f6a0581cd11020e008c73fdab4b415ca8a68078ab78b97c471c")


def test_invoice_amounts_use_the_iso_minor_unit():
    # XOF has no minor unit: 1000 francs are 1000 units (the old table scaled every unlisted code by 100)
    assert normalise_invoice({**INVOICE, "currency": "XOF", "amount": "1000"})["amount"] == 1000
    assert normalise_invoice({**INVOICE, "currency": "CLF", "amount": "1.2345"})["amount"] == 12345
    assert minor_units("1,846,000.50", "HKD") == 184600050


@pytest.mark.parametrize("amount, currency, message", [
    ("0", "HKD", "invoice amount '0' must be positive"),
    ("-5", "HKD", "invoice amount '-5' is negative"),
    ("1,000", "HKD", "invoice amount '1,000' is ambiguous"),
    (1846000.5, "HKD", "invoice amount 1846000.5 is a binary floating-point number"),
    (str(2**53), "JPY", r"too large to fingerprint \(at most 2\*\*53 - 1 minor units\)"),
    ("1", "ABC", "invoice currency ABC is not an active ISO 4217 code"),
    ("1", "XAU", "invoice currency XAU .* has no minor unit"),
])
def test_bad_invoice_amounts_and_currencies_are_refused(amount, currency, message):
    with pytest.raises(InvalidInput, match=message):
        normalise_invoice({**INVOICE, "currency": currency, "amount": amount})
