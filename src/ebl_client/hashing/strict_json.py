"""Strict JSON reading for everything that gets hashed: duplicate keys and NaN/Infinity are refused,
because two readers could take a different value from the same bytes and hash different things; and nothing
nested deeper than MAX_DEPTH is parsed at all.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import InvalidInput


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise InvalidInput(f"duplicate key {key!r} in JSON object")
        seen[key] = value
    return seen


def _no_constant(name: str) -> Any:
    raise InvalidInput(f"non-finite number {name} is not valid JSON")


#: JSON that gets read (documents, reports, commitments, invoices, directories, API request bodies) is at most this
#: deep: DCSA's transport document is about 6 levels. The depth is measured before parsing: the C parser recurses,
#: and deep enough input exhausts the stack (a crash, not an exception) once the recursion limit is high, as
#: py_ecc, which web3 imports, sets it to 100,000.
MAX_DEPTH = 64

#: a string (an unclosed one runs to the end of the text) or a bracket; possessive, so one linear pass over any
#: text: a backtracking pattern took quadratic time on an unclosed string full of escaped quotes
_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\Z)|[\[\]{}]', re.DOTALL)


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON text nests arrays and objects more than `limit` deep (brackets in strings do not count),
    without parsing it, in one pass."""
    depth = 0
    for token in _TOKEN.finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif bracket in ("]", "}"):
            depth -= 1
    return False


def parse_json(text: str | bytes, *, what: str = "document") -> Any:
    """Parse JSON strictly: duplicate keys and NaN/Infinity are refused (they make hashes ambiguous), bytes must
    be valid UTF-8 (or UTF-16/32, as JSON allows), and more than MAX_DEPTH levels of nesting is refused before
    parsing. Every refusal is InvalidInput naming `what`."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode(json.detect_encoding(text))
        except (UnicodeDecodeError, LookupError) as exc:
            raise InvalidInput(f"{what} is not valid JSON ({exc})") from None
    if too_deep(text):
        raise InvalidInput(f"{what} is nested more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except InvalidInput as exc:
        raise InvalidInput(f"{what}: {exc}") from None
    except ValueError as exc:
        raise InvalidInput(f"{what} is not valid JSON ({exc})") from None


def load_json_file(path: Path, *, what: str | None = None) -> Any:
    """Read and strictly parse a JSON file; an unreadable file is InvalidInput naming `what` (or the path)."""
    label = what or str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {label}: {exc.strerror or exc}") from None
    return parse_json(raw, what=label)
