"""What the `ebl` commands print: JSON (`--json`, every value whole) or tables that fit the terminal
(`ebl_client.tables`, shared with the demo report).

A command that sends a transaction prints one shape (`show_sent`): in JSON an object with the value under
the name of what the command acted on and the transaction under `transaction`,

    {"bill": {...}, "transaction": {"hash": "0x...", "block": 12, "gas_used": 51234, "sender": "0x..."}}

and as a table the value's rows followed by the transaction's hash and block.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import click

from .. import tables
from ..models import Result, Transaction, jsonable
from .app import Context

DAY = 86_400


def emit_json(value: Any) -> None:
    click.echo(json.dumps(jsonable(value), indent=2, sort_keys=True))


def emit_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    tables.print_table(tables.console(), title, columns, rows)


def show_pairs(ctx: Context, title: str, value: Any, rows: list[tuple[str, Any]]) -> None:
    """`value` as JSON, or `rows` as a two-column table."""
    if ctx.as_json:
        emit_json(value)
    else:
        emit_table(title, ["", ""], rows)


def show_info(ctx: Context, title: str, info: Mapping[str, Any]) -> None:
    """A result made of named values: the same names in JSON and in the table."""
    show_pairs(ctx, title, info, list(info.items()))


def transaction_rows(tx: Transaction) -> list[tuple[str, Any]]:
    return [("transaction", tx.hash), ("block", tx.block)]


def show_sent(ctx: Context, title: str, key: str, value: Any, rows: list[tuple[str, Any]], tx: Transaction,
              **extra: Any) -> None:
    """What a sending command printed: `{key: value, **extra, "transaction": tx}` as JSON, or `rows` and the
    transaction's hash and block as a two-column table."""
    if ctx.as_json:
        emit_json({key: value, **extra, "transaction": tx})
    else:
        emit_table(title, ["", ""], [*rows, *transaction_rows(tx)])


def yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def days(seconds: int) -> str:
    """A duration in seconds as days: `7 days`, `1.5 days`."""
    value = seconds / 86_400
    shown = f"{value:g}"
    return f"{shown} day" if shown == "1" else f"{shown} days"


def sent_pause(contract: str) -> Callable[[Context, Result[bool]], None]:
    """The renderer of `pause` / `unpause` of `contract`: `{"pause": {"contract", "paused"}, "transaction"}`."""

    def render(ctx: Context, result: Result[bool]) -> None:
        info = {"contract": contract, "paused": result.value}
        show_sent(ctx, f"{contract} {'paused' if result.value else 'running'}", "pause", info,
                  [("contract", contract), ("paused", "yes" if result.value else "no")], result.tx)

    return render


def sent_setting(contract: str, name: str) -> Callable[[Context, Result[int]], None]:
    """The renderer of an admin setting in seconds: `{"setting": {"contract", "name", "seconds", "days"}, ...}`."""

    def render(ctx: Context, result: Result[int]) -> None:
        info = {"contract": contract, "name": name, "seconds": result.value, "days": result.value / DAY}
        show_sent(ctx, name.replace("_", " "), "setting", info,
                  [("contract", contract), (name.replace("_", " "), days(result.value))], result.tx)

    return render
