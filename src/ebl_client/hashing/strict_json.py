"""Strict JSON reading for everything that gets hashed: duplicate keys and NaN/Infinity are refused,
because two readers could take a different value from the same bytes and hash different things.
"""

from __future__ import annotations

import json
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


def parse_json(text: str | bytes, *, what: str = "document") -> Any:
    """Parse JSON strictly: duplicate keys and NaN/Infinity are refused (they make hashes ambiguous)."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except InvalidInput as exc:
        raise InvalidInput(f"{what}: {exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{what} is not valid JSON ({exc})") from None


def load_json_file(path: Path, *, what: str | None = None) -> Any:
    """Read and strictly parse a JSON file; an unreadable file is InvalidInput naming `what` (or the path)."""
    label = what or str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {label}: {exc.strerror or exc}") from None
    return parse_json(raw, what=label)
