"""Money as whole numbers of minor units: amounts written in currency units (text or Decimal, never a
binary float) parsed exactly by the ISO 4217 minor unit of their currency, and formatted back.

The minor units come from the ISO 4217 maintenance agency's table as packaged by `iso4217` (edition in
`ISO4217_PUBLISHED`, pinned by the exact sets in requirements/): invoice fingerprints agree across a consortium only
when every member scales amounts by the same table. Text is refused where a reader could take another
number from it than the writer meant: `1,000` (a thousand, or one with three decimals?), `1.000,5`,
`1e3`, a sign, more decimals than the currency has.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from iso4217 import Currency, __published__

from .errors import InvalidInput

ISO4217_PUBLISHED: datetime.date = __published__
"""Edition of the ISO 4217 table in use; members of one consortium must use the same."""
MAX_MINOR_UNITS = 2**96
"""Amounts are below 2**96 minor units: the escrow stores amounts as uint96."""
_MAX_TEXT = 64  # longer than any amount below 2**96 with grouping and decimals

# Digits with optional comma grouping (1-3 digits, then groups of exactly 3), optional decimal point with
# digits after it. ASCII digits only: Decimal() would also read Arabic-Indic or full-width digits.
_AMOUNT = re.compile(r"(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<fraction>[0-9]+))?", re.ASCII)


def currency_code(code: str) -> str:
    """The upper-cased ISO 4217 code; InvalidInput when it is not an active code or has no minor unit
    (precious metals, SDR, fund and test units: XAU, XDR, XTS, ...)."""
    text = str(code).strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", text, re.ASCII):
        raise InvalidInput(f"currency {code!r} is not an ISO 4217 code (three letters, e.g. HKD)")
    try:
        currency = Currency(text)
    except ValueError:
        raise InvalidInput(f"currency {text} is not an active ISO 4217 code "
                           f"(table published {ISO4217_PUBLISHED.isoformat()})") from None
    if currency.exponent is None:
        raise InvalidInput(f"currency {text} ({currency.currency_name}) has no minor unit in ISO 4217: "
                           "it cannot be an amount of money here")
    return text


def minor_unit_exponent(code: str) -> int:
    """Decimals of the currency's minor unit by ISO 4217: HKD 2, JPY 0, KWD 3, CLF 4."""
    exponent = Currency(currency_code(code)).exponent
    assert exponent is not None  # currency_code refused the codes without one
    return exponent


def parse(amount: str | Decimal | int, currency: str) -> int:
    """An amount in units of `currency` as integer minor units: `"1,846,000.50"` HKD -> 184600050.

    Text: ASCII digits, commas only as thousands grouping (refused where they could be a decimal comma:
    `1,000`, `1.000,5`), a decimal point with at most as many decimals as the currency has (`12.500` HKD is
    refused even though it equals 12.50: it hints at another convention), no sign, no exponent, no spaces
    inside. Decimal: any finite, non-negative value with no more precision than the minor unit. int: whole
    currency units. Zero is allowed; at most 2**96 - 1 minor units."""
    code = currency_code(currency)
    return _to_minor_units(amount, minor_unit_exponent(code), f"for {code}")


def parse_units(amount: str | Decimal | int, decimals: int) -> int:
    """The same rules as `parse` for a unit with `decimals` decimals (e.g. a 6-decimal stablecoin)."""
    if type(decimals) is not int or not 0 <= decimals <= 36:
        raise InvalidInput(f"decimals {decimals!r} must be a whole number from 0 to 36")
    return _to_minor_units(amount, decimals, f"for a {decimals}-decimal unit")


def format(minor_units: int, currency: str) -> str:
    """`184600050, "HKD"` -> `"HKD 1,846,000.50"`: for people (grouped, with the code)."""
    code = currency_code(currency)
    whole, fraction = _split(minor_units, minor_unit_exponent(code))
    return f"{code} {whole:,}" + (f".{fraction}" if fraction else "")


def plain(minor_units: int, currency: str) -> str:
    """`184600050, "HKD"` -> `"1846000.50"`: for JSON and files (no grouping, no code); `parse` reads it back."""
    whole, fraction = _split(minor_units, minor_unit_exponent(currency_code(currency)))
    return f"{whole}" + (f".{fraction}" if fraction else "")


def format_units(units: int, decimals: int, symbol: str = "", *, min_decimals: int = 0) -> str:
    """A token amount for people: `11519040000000, 6, "tHKD"` -> `"tHKD 11,519,040"`; grouped, the
    fraction's trailing zeros dropped down to `min_decimals` (2 shows cents: `"tHKD 11,519,040.00"`). Exact:
    nothing is rounded."""
    whole, fraction = _split(units, decimals)
    fraction = fraction.rstrip("0").ljust(min(min_decimals, decimals), "0")
    text = f"{whole:,}" + (f".{fraction}" if fraction else "")
    return f"{symbol} {text}" if symbol else text


def _ten_to(power: int) -> int:
    return int(10**power)  # int ** int is typed Any (a negative power gives a float); power is never negative


def _split(minor_units: int, exponent: int) -> tuple[int, str]:
    if type(minor_units) is not int or not 0 <= minor_units < MAX_MINOR_UNITS:
        raise InvalidInput(f"{minor_units!r} is not a whole number of minor units from 0 to 2**96 - 1")
    if exponent == 0:
        return minor_units, ""
    whole, fraction = divmod(minor_units, _ten_to(exponent))
    return whole, f"{fraction:0{exponent}d}"


def _to_minor_units(amount: object, decimals: int, unit: str) -> int:
    if isinstance(amount, str):
        units = _from_text(amount, decimals, unit)
    elif isinstance(amount, Decimal):
        units = _from_decimal(amount, decimals, unit)
    elif type(amount) is int:
        if amount < 0:
            raise InvalidInput(f"amount {amount} is negative: amounts are positive, written without a sign")
        units = amount * _ten_to(decimals) if amount < MAX_MINOR_UNITS else MAX_MINOR_UNITS
    elif isinstance(amount, float):
        raise InvalidInput(f"amount {amount!r} is a binary floating-point number, which cannot hold every "
                           f"decimal amount exactly: give it as text ({str(amount)!r}) or a Decimal")
    else:
        raise InvalidInput(f"amount {amount!r} must be text, a Decimal or an int, not {type(amount).__name__}")
    if units >= MAX_MINOR_UNITS:
        shown = repr(amount) if isinstance(amount, str) else str(amount)
        raise InvalidInput(f"amount {shown} is too large: at most 2**96 - 1 minor units ({unit})")
    return units


def _from_text(amount: str, decimals: int, unit: str) -> int:
    text = amount.strip()
    if len(text) > _MAX_TEXT:
        raise InvalidInput(f"amount {text[:20]!r}... is too long ({len(text)} characters) to be an amount")
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise InvalidInput(_why_not_an_amount(amount, text))
    whole, fraction = match["whole"], match["fraction"] or ""
    if whole.count(",") == 1 and not fraction:
        digits = whole.replace(",", "")
        spelled = f"{digits} or {whole}.{'0' * decimals}" if decimals else digits
        raise InvalidInput(f"amount {amount!r} is ambiguous: a thousands separator or a decimal comma? "
                           f"Write {spelled} if you mean {digits}")
    if len(fraction) > decimals:
        raise InvalidInput(f"amount {amount!r} has more than {decimals} decimals {unit}")
    return int(whole.replace(",", "")) * _ten_to(decimals) + int(fraction.ljust(decimals, "0") or "0")


def _why_not_an_amount(amount: str, text: str) -> str:
    lowered = text.lower()
    if lowered.lstrip("+-") in ("nan", "snan", "inf", "infinity"):
        return f"amount {amount!r} is not a finite number"
    if text.startswith("-"):
        return f"amount {amount!r} is negative: amounts are positive, written without a sign"
    if text.startswith("+"):
        return f"amount {amount!r} has a sign: amounts are written without one"
    if "e" in lowered and re.fullmatch(r"[0-9.,]+e[+-]?[0-9]+", lowered, re.ASCII):
        return f"amount {amount!r} uses exponent notation: write the digits out"
    if "," in text and "." in text and text.rfind(",") > text.find("."):
        return (f"amount {amount!r} is ambiguous: a comma after the decimal point reads as a decimal comma "
                "(1.000,50); use a decimal point and commas only between thousands (1,000.50)")
    if "," in text and re.fullmatch(r"[0-9,]+(\.[0-9]+)?", text, re.ASCII):
        return (f"amount {amount!r} has a comma that is not a thousands separator (a decimal comma?): use a "
                "decimal point, and commas only between groups of three digits (1,846,000.50)")
    return (f"amount {amount!r} is not an amount: digits with an optional decimal point "
            "(1846000.50, or 1,846,000.50 with thousands separators)")


def _from_decimal(amount: Decimal, decimals: int, unit: str) -> int:
    if not amount.is_finite():
        raise InvalidInput(f"amount {amount} is not a finite number")
    if amount < 0:
        raise InvalidInput(f"amount {amount} is negative: amounts are positive, written without a sign")
    _, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # finite
    number = int("".join(map(str, digits)) or "0")
    if number == 0:
        return 0
    shift = exponent + decimals
    if shift >= 0:
        # exact and bounded: refuse before building a huge integer (Decimal("1E+999999"))
        if len(str(number)) + shift > len(str(MAX_MINOR_UNITS)):
            raise InvalidInput(f"amount {amount} is too large: at most 2**96 - 1 minor units ({unit})")
        return number * _ten_to(shift)
    if -shift > len(digits) or number % _ten_to(-shift):
        raise InvalidInput(f"amount {amount} has more than {decimals} decimals {unit}")
    return number // _ten_to(-shift)
