"""Option values shared by the command groups, each a click type bounded by what the chain stores: token and
financing ids (uint256), durations in days and dates (the resulting unix time fits uint40), ports, addresses,
32-byte hex values. A value out of its bounds is a usage mistake (one `error:` line, exit 2) before anything
else happens: `--days nan`, `--days 1e12`, a token id above 2**256 or written in full-width digits included.
Amounts are parsed by `money` once the token's decimals are known (uint96; `1,000` refused as ambiguous).

Also the expiry and maturity options and how they resolve against the chain's clock.

This module imports nothing of `cli.app` at run time: the index commands use its types too.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from ..chain import to_address
from ..errors import InvalidInput

if TYPE_CHECKING:  # no import of cli.app at run time: the index commands use these types too
    from .app import Context, F

    # click 8.2+ types ParamType by the value it converts to and its input; the click 8.1 of the Ape test
    # environment cannot subscript it at run time, so the subscript exists for the type checker only
    ParamType = click.ParamType[Any, Any]
else:
    ParamType = click.ParamType

DAY = 86_400
#: the longest duration a `--days`-like option takes (a hundred years): beyond it no contract accepts it, and
#: the chain's clock plus it stays far inside uint40
MAX_DAYS = 36_500
MAX_UINT256 = 2**256 - 1
MAX_UINT40 = 2**40 - 1
#: longest value quoted whole in an error line
_SHOWN = 60


def shown(value: object) -> str:
    """A value as an error line quotes it: repr, cut to a readable length."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN - 10]}…{text[-6:]} ({len(str(value))} characters)"


class UInt(ParamType):
    """A whole number from `minimum` to `maximum`, in ASCII decimal (or 0x-hex with `hex_ok`): the integers the
    contracts store. `int()` would also take full-width digits, `1_000` and thousands of digits; this takes none."""

    name = "integer"

    def __init__(self, what: str, *, minimum: int = 1, maximum: int = MAX_UINT256, hex_ok: bool = False,
                 bound: str | None = None) -> None:
        self.what, self.minimum, self.maximum, self.hex_ok = what, minimum, maximum, hex_ok
        self.bound = bound or ("below 2**256" if maximum == MAX_UINT256 else f"at most {maximum}")
        self._pattern = re.compile(r"0[xX][0-9a-fA-F]{1,64}|-?[0-9]{1,80}" if hex_ok else r"-?[0-9]{1,80}", re.ASCII)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            text = str(value).strip()
            if not self._pattern.fullmatch(text):
                form = "decimal or 0x-hex" if self.hex_ok else "decimal digits"
                self.fail(f"{self.what} {shown(value)} is not a number ({form})", param, ctx)
            number = int(text, 16) if text[:2].lower() == "0x" else int(text)
        written = shown(str(value).strip()).strip("'")  # a number: quoted as written, without quotes
        if number < self.minimum:
            self.fail(f"{self.what} {written} must be " +
                      ("positive" if self.minimum == 1 else f"at least {self.minimum}"), param, ctx)
        if number > self.maximum:
            self.fail(f"{self.what} {written} must be {self.bound}", param, ctx)
        return number


#: a bill's token id (uint256), decimal or 0x-hex
TOKEN_ID = UInt("token id", hex_ok=True)
#: a financing's id (uint256)
FINANCING_ID = UInt("financing id", hex_ok=True)
#: a TCP port to listen on or connect to
PORT = UInt("port", minimum=1, maximum=65_535, bound="from 1 to 65535")


class Address(ParamType):
    """An account or contract address, EIP-55 checksummed on the way in (a mixed-case address must carry a
    valid checksum)."""

    name = "address"

    def __init__(self, what: str = "account") -> None:
        self.what = what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        if len(text) > 100:
            self.fail(f"{self.what} {shown(value)} is not a 20-byte hex address", param, ctx)
        try:
            return to_address(text, what=self.what)
        except InvalidInput as exc:
            self.fail(str(exc), param, ctx)


class Text(ParamType):
    """Free text (a remark, a reason, an identifier, a label): valid UTF-8, at most `max_length` characters.
    Bytes on the command line that are not UTF-8 reach Python as lone surrogates, which no hash or database
    can take: refused here, as a usage mistake."""

    name = "text"

    def __init__(self, max_length: int = 10_000) -> None:
        self.max_length = max_length

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            self.fail(f"{shown(text)} is not UTF-8 text (the command line held bytes that are not UTF-8)", param, ctx)
        if len(text) > self.max_length:
            self.fail(f"{shown(text)} is longer than {self.max_length} characters", param, ctx)
        return text


TEXT = Text()


class Hex32(ParamType):
    """32 bytes as 64 hex digits, with or without 0x (a commitment root, a salt, a hash)."""

    name = "hex32"

    def __init__(self, what: str) -> None:
        self.what = what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, bytes) and len(value) == 32:
            return value
        text = str(value).strip()
        if not re.fullmatch(r"(0[xX])?[0-9a-fA-F]{64}", text, re.ASCII):
            self.fail(f"{self.what} {shown(value)} is not 32 bytes of hex (64 hex digits)", param, ctx)
        return bytes.fromhex(text[2:] if text[:2].lower() == "0x" else text)


class FiniteRange(click.FloatRange):
    """A FloatRange that also refuses nan (which compares false with every bound) and infinities."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        converted = super().convert(value, param, ctx)
        if not math.isfinite(converted):
            self.fail(f"{shown(value)} is not a finite number", param, ctx)
        return converted


class Days(click.FloatRange):
    """A positive, finite number of days (fractions allowed), at most MAX_DAYS."""

    name = "days"

    def __init__(self) -> None:
        super().__init__(min=0, min_open=True, max=MAX_DAYS)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        converted = super().convert(value, param, ctx)
        if not math.isfinite(converted):
            self.fail(f"{shown(value)} is not a finite number of days", param, ctx)
        return converted


class UnixDate(click.DateTime):
    """A date (and time) in UTC that a contract can store: after 1970-01-01T00:00:00 (a positive unix time);
    the format's four-digit year keeps it within uint40."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        converted: datetime = super().convert(value, param, ctx)
        if converted.replace(tzinfo=UTC).timestamp() <= 0:
            self.fail(f"{shown(value)} is not after 1970-01-01 (a positive unix time)", param, ctx)
        return converted


DAYS = Days()
DATE = UnixDate(formats=["%Y-%m-%d"])
DATE_TIME = UnixDate(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"])


def expiry_options(fn: F) -> F:
    fn = click.option("--valid-days", type=DAYS, default=None,
                      help="Valid for this many days from the chain's current time.")(fn)
    fn = click.option("--expires", type=DATE_TIME, default=None, help="Expiry (UTC), e.g. 2027-05-31.")(fn)
    return fn


def maturity_options(fn: F) -> F:
    fn = click.option("--days", "valid_days", type=DAYS, default=None,
                      help="Maturity this many days from the chain's current time.")(fn)
    fn = click.option("--maturity", "expires", type=DATE, default=None, help="Maturity date (UTC).")(fn)
    return fn


def resolve_expiry(ctx: Context, expires: datetime | None, valid_days: float | None,
                   names: tuple[str, str] = ("--expires DATE", "--valid-days N")) -> int:
    """A unix time from a date (UTC) or a number of days from the chain's clock: exactly one of them."""
    if (expires is None) == (valid_days is None):
        raise InvalidInput(f"give exactly one of {names[0]} and {names[1]}")
    if valid_days is not None:
        return ctx.now() + max(1, int(valid_days * DAY))
    assert expires is not None
    return int(expires.replace(tzinfo=UTC).timestamp())


def resolve_maturity(ctx: Context, maturity: datetime | None, valid_days: float | None) -> int:
    return resolve_expiry(ctx, maturity, valid_days, ("--maturity DATE", "--days N"))


def utc_date(timestamp: int) -> str:
    """The UTC date of a unix time, `2027-02-16`."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
