"""What the `ebl` commands print: JSON (`--json`, every value whole) or tables that fit the terminal
(`ebl_client.tables`, shared with the demo report)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import click

from .. import tables
from ..models import jsonable
from .app import Context


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


def yes(flag: bool) -> str:
    return "yes" if flag else "NO"
