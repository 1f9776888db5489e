"""Compiled ABI and bytecode of the suite, generated from contracts/ by `make artifacts`.

Checked in so the client runs without a compiler; tests/test_artifacts.py fails when they are stale.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str


@cache
def load(name: str) -> Artifact:
    """The artifact of contract `name` (e.g. "ParticipantRegistry")."""
    text = resources.files(__name__).joinpath(f"{name}.json").read_text()
    data = json.loads(text)
    return Artifact(name=data["contractName"], abi=data["abi"], bytecode=data["bytecode"])


@cache
def index() -> dict[str, Any]:
    """The build index: source digest, compiler version, settings and contract names."""
    result: dict[str, Any] = json.loads(resources.files(__name__).joinpath("index.json").read_text())
    return result


def names() -> list[str]:
    return list(index()["contracts"])
