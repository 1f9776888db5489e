"""Tables that fit the terminal, shared by the `ebl` command and the demo report (rich only, no click).

A table wider than its console shortens its 32-byte hashes, then its addresses, to `0x1234…abcd`;
output to a pipe or a file (no terminal, no COLUMNS) keeps every value whole. JSON output never shortens.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sys
from collections.abc import Collection, Iterable, Sequence
from typing import IO, Any

from rich.console import Console
from rich.table import Table

#: 32-byte values shown as hex: transaction, document and identifier hashes, roots, bill token ids
HASH = re.compile(r"0x[0-9a-fA-F]{41,64}")
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
SHORTENED = re.compile(r"0x[0-9a-fA-F]{4}…[0-9a-fA-F]{4}")
#: the width of a console that writes to a pipe or a file: lines are as long as their content
NO_LIMIT = 10_000


def short_hex(value: str) -> str:
    """`0x1234…abcd`: enough to recognise a hash or an address, not to copy it (use --json for that)."""
    return f"{value[:6]}…{value[-4:]}"


def terminal_width(stream: IO[str]) -> int | None:
    """$COLUMNS when set, else the width of the terminal `stream` writes to, else None (a pipe or a file)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        if stream.isatty():
            return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):  # a captured stream without a file descriptor
        pass
    return None


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """The reader of the output went away (`ebl ... | head`). rich would exit 1, which `ebl` means as "the
        answer is no"; this stops writing as rich does, then raises the EPIPE that `ebl` ends as a program killed
        by SIGPIPE (exit 141), quietly."""
        self.quiet = True
        with contextlib.suppress(OSError, ValueError):  # a stream without a descriptor (a test's capture)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        raise BrokenPipeError(errno.EPIPE, "the reader of the output went away")


def console(stderr: bool = False) -> Console:
    """A console as wide as the terminal (or $COLUMNS) it writes to; unlimited for a pipe or a file."""
    return _Console(stderr=stderr, width=terminal_width(sys.stderr if stderr else sys.stdout) or NO_LIMIT)


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], width: int, *,
          no_wrap: Collection[str] = (), show_header: bool = True, total: Sequence[Any] | None = None) -> Table:
    """A table of `rows` (None shows as empty) at most `width` wide: when its values do not fit whole,
    hashes are shortened first, then addresses, then text columns wrap. `total` is a last row after a rule.
    Columns without names (a list of names and values) get no header row."""
    show_header = show_header and any(columns)
    cells = [[_text(v) for v in row] for row in rows]
    last = [_text(v) for v in total] if total is not None else None
    built = _build(title, columns, cells, last, no_wrap, show_header)
    for pattern in (HASH, ADDRESS):
        if _natural_width(built) <= width:
            break
        cells = [[short_hex(c) if pattern.fullmatch(c) else c for c in row] for row in cells]
        built = _build(title, columns, cells, last, no_wrap, show_header)
    return built


def print_table(out: Console, title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
                no_wrap: Collection[str] = (), show_header: bool = True, total: Sequence[Any] | None = None) -> None:
    """Print `table(...)` of `rows` to `out`, fitted to its width."""
    out.print(table(title, columns, rows, out.width, no_wrap=no_wrap, show_header=show_header, total=total))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _is_hex(cell: str) -> bool:
    return any(pattern.fullmatch(cell) for pattern in (HASH, ADDRESS, SHORTENED))


def _build(title: str, columns: Sequence[str], cells: list[list[str]], total: list[str] | None,
           no_wrap: Collection[str], show_header: bool) -> Table:
    built = Table(title=title, title_justify="left", title_style="bold", header_style="bold",
                  show_header=show_header)
    for i, column in enumerate(columns):
        values = [row[i] for row in cells if i < len(row) and row[i]]
        # a column of hashes and addresses is not folded mid-value while text columns can wrap instead
        hex_only = bool(values) and all(_is_hex(v) for v in values)
        built.add_column(column, overflow="fold", no_wrap=column in no_wrap or hex_only)
    for row in cells:
        built.add_row(*row)
    if total is not None:
        built.add_section()
        built.add_row(*total)
    return built


def _natural_width(built: Table) -> int:
    """The width the table takes when nothing wraps."""
    measuring = Console(width=NO_LIMIT)
    return measuring.measure(built).maximum
