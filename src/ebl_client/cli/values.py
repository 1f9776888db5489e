"""Option values shared by the command groups: durations in days, expiry and maturity dates.

Bad values are refused as usage mistakes (exit 2) or bad input (exit 1), never with a traceback: `--days
nan` and `--days inf` included.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import click

from ..errors import InvalidInput
from .app import Context, F

DAY = 86_400
#: the longest duration a `--days`-like option takes (a hundred years): beyond it no contract accepts it
MAX_DAYS = 36_500


class Days(click.FloatRange):
    """A positive, finite number of days (fractions allowed), at most MAX_DAYS."""

    name = "days"

    def __init__(self) -> None:
        super().__init__(min=0, min_open=True, max=MAX_DAYS)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        converted = super().convert(value, param, ctx)
        if not math.isfinite(converted):
            self.fail(f"{value!r} is not a finite number of days", param, ctx)
        return converted


DAYS = Days()
DATE = click.DateTime(formats=["%Y-%m-%d"])


def expiry_options(fn: F) -> F:
    fn = click.option("--valid-days", type=DAYS, default=None,
                      help="Valid for this many days from the chain's current time.")(fn)
    fn = click.option("--expires", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), default=None,
                      help="Expiry (UTC), e.g. 2027-05-31.")(fn)
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
        return ctx.now() + int(valid_days * DAY)
    assert expires is not None
    return int(expires.replace(tzinfo=UTC).timestamp())


def resolve_maturity(ctx: Context, maturity: datetime | None, valid_days: float | None) -> int:
    return resolve_expiry(ctx, maturity, valid_days, ("--maturity DATE", "--days N"))


def utc_date(timestamp: int) -> str:
    """The UTC date of a unix time, `2027-02-16`."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
