"""Compiled ABI, bytecode and NatSpec of the suite, generated from contracts/ by `make artifacts`.

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
    #: creation code (constructor + runtime)
    bytecode: str
    #: runtime code as compiled, immutables zeroed (see `immutable_references`)
    deployed_bytecode: str
    #: solc's immutableReferences: {ast id: [{"start": byte offset, "length": bytes}, ...]}
    immutable_references: dict[str, list[dict[str, int]]]
    #: solc's userdoc: the `@notice` of each function, event and error
    userdoc: dict[str, Any]


@cache
def load(name: str) -> Artifact:
    """The artifact of contract `name` (e.g. "ParticipantRegistry")."""
    text = resources.files(__name__).joinpath(f"{name}.json").read_text()
    data = json.loads(text)
    return Artifact(
        name=data["contractName"], abi=data["abi"], bytecode=data["bytecode"],
        deployed_bytecode=data["deployedBytecode"], immutable_references=data.get("immutableReferences", {}),
        userdoc=data.get("userdoc", {}),
    )


@cache
def index() -> dict[str, Any]:
    """The build index: source digest, compiler version, settings and contract names."""
    result: dict[str, Any] = json.loads(resources.files(__name__).joinpath("index.json").read_text())
    return result


def names() -> list[str]:
    return list(index()["contracts"])
