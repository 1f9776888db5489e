"""Salted Merkle commitments of credit reports and single-field disclosures, with the commitment file
format (versioned: the tree layout is the version's, see `merkle`).

Leaf of one field: keccak256(keccak256(abi.encode(string path, bytes canonicalValue, bytes32 salt))), i.e.
an OpenZeppelin StandardMerkleTree with leaf encoding ["string", "bytes", "bytes32"]. Field paths are
RFC 6901 JSON Pointers ("/company/rating"); values are RFC 8785 canonical JSON. No clear data goes on chain.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import keccak

from ..errors import InvalidInput
from .canonical import canonical_json
from .identifiers import SALT_BYTES, new_salt
from .merkle import CURRENT_VERSION, check_version, merkle_proof, merkle_root, process_proof
from .strict_json import load_json_file

DEFAULT_SCHEMA = "gba-credit-report/v1"
COMMITMENT_VERSION = CURRENT_VERSION
"""The version new commitments are written in (2: OpenZeppelin StandardMerkleTree layout)."""
LEAF_ENCODING = ("string", "bytes", "bytes32")
"""The StandardMerkleTree leaf encoding of a field: (JSON Pointer, canonical value, salt)."""


def _pointer_token(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def flatten(report: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf value of a JSON document by its JSON Pointer. Empty objects and arrays are leaves too,
    so the commitment also binds the document's shape."""
    if isinstance(report, dict) and report:
        out: dict[str, Any] = {}
        for key, value in report.items():
            out.update(flatten(value, f"{prefix}/{_pointer_token(key)}"))
        return out
    if isinstance(report, list) and report:
        out = {}
        for index, value in enumerate(report):
            out.update(flatten(value, f"{prefix}/{index}"))
        return out
    return {prefix: report}


def leaf_hash(path: str, value: Any, salt: bytes) -> bytes:
    """The leaf of one field: double keccak of abi.encode(path, canonical value, salt)."""
    if len(salt) != SALT_BYTES:
        raise InvalidInput(f"salt for {path} must be {SALT_BYTES} bytes")
    return keccak(keccak(abi_encode(list(LEAF_ENCODING), [path, canonical_json(value), salt])))


def _version_of(data: dict[str, Any], what: str) -> int:
    # Files written before versions existed cannot be version 2: every version-2 file names its version.
    try:
        return check_version(data.get("version", 1))
    except InvalidInput as exc:
        raise InvalidInput(f"{what}: {exc}") from None


@dataclass(frozen=True)
class Commitment:
    """What the subject keeps next to its report: the root, and each field's salt and leaf. `version`
    says which tree layout made the root (1: before OpenZeppelin's layout, 2: OpenZeppelin's)."""

    root: bytes
    schema: str
    salts: dict[str, bytes]
    leaves: dict[str, bytes] = field(compare=False)
    version: int = COMMITMENT_VERSION

    @property
    def schema_id(self) -> bytes:
        """keccak256 of the schema name: the schema id anchored on chain with the root."""
        return keccak(text=self.schema)

    def proof(self, path: str) -> list[bytes]:
        """The Merkle proof of the field at `path`, in this commitment's tree layout."""
        if path not in self.leaves:
            raise InvalidInput(f"no field {path!r} in the commitment")
        return merkle_proof(list(self.leaves.values()), self.leaves[path], version=self.version)

    def to_json(self) -> dict[str, Any]:
        """The commitment file's JSON: version, schema, root, and each field's salt and leaf (0x-hex), by path."""
        return {
            "version": self.version,
            "schema": self.schema,
            "root": "0x" + self.root.hex(),
            "fields": {p: {"salt": "0x" + self.salts[p].hex(), "leaf": "0x" + self.leaves[p].hex()}
                       for p in sorted(self.salts)},
        }

    @classmethod
    def from_json(cls, data: Any) -> Commitment:
        """Read a commitment file of any known version (no "version": version 1), checking that its
        leaves make its root in that version's layout."""
        version = _version_of(_object(data, "commitment file"), "commitment file")
        try:
            fields = data["fields"]
            salts = {p: _bytes32(f["salt"], f"salt of {p}") for p, f in fields.items()}
            leaves = {p: _bytes32(f["leaf"], f"leaf of {p}") for p, f in fields.items()}
            commitment = cls(_bytes32(data["root"], "root"), str(data["schema"]), salts, leaves, version)
        except KeyError as exc:
            raise InvalidInput(f"not a commitment file (missing {exc})") from None
        except (TypeError, AttributeError) as exc:
            raise InvalidInput(f"not a commitment file ({exc})") from None
        if merkle_root(list(leaves.values()), version=version) != commitment.root:
            raise InvalidInput(f"commitment file is inconsistent: its leaves do not make its root "
                               f"(version {version} tree)")
        return commitment

    def save(self, path: Path) -> Path:
        """Write to `path`, refusing to overwrite (a commitment's salts cannot be regenerated)."""
        path = Path(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(self.to_json(), fh, indent=2)
            fh.write("\n")
        return path

    @classmethod
    def load(cls, path: Path) -> Commitment:
        """Read and check the commitment file at `path` (see `from_json`); InvalidInput when it is unreadable, not a
        commitment file or inconsistent."""
        return cls.from_json(load_json_file(path, what=f"commitment {path}"))


def _object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput(f"not a {what} (a JSON object expected)")
    return data


def _bytes32(value: str, what: str) -> bytes:
    try:
        raw = bytes.fromhex(str(value).removeprefix("0x"))
    except ValueError:
        raise InvalidInput(f"{what} is not hex") from None
    if len(raw) != 32:
        raise InvalidInput(f"{what} must be 32 bytes")
    return raw


def _report_fields(report: Any) -> dict[str, Any]:
    if not isinstance(report, dict) or not report:
        raise InvalidInput("a credit report must be a non-empty JSON object")
    return flatten(report)


def commit(report: Any, *, schema: str = DEFAULT_SCHEMA, salts: dict[str, bytes] | None = None) -> Commitment:
    """Salt and hash every field of `report` into a version-2 commitment (OpenZeppelin tree layout);
    `salts` (for test vectors) fixes them, otherwise they are random."""
    fields = _report_fields(report)
    chosen = {path: (salts[path] if salts and path in salts else new_salt()) for path in fields}
    leaves = {path: leaf_hash(path, value, chosen[path]) for path, value in fields.items()}
    return Commitment(merkle_root(list(leaves.values()), version=COMMITMENT_VERSION), schema, chosen, leaves,
                      COMMITMENT_VERSION)


def recompute_root(report: Any, commitment: Commitment) -> bytes:
    """The root that `report` makes with the commitment's salts, in the commitment's tree layout.
    InvalidInput when the fields differ."""
    fields = _report_fields(report)
    if set(fields) != set(commitment.salts):
        missing = sorted(set(commitment.salts) - set(fields))
        extra = sorted(set(fields) - set(commitment.salts))
        raise InvalidInput(f"report fields differ from the commitment (missing {missing}, extra {extra})")
    return merkle_root([leaf_hash(p, v, commitment.salts[p]) for p, v in fields.items()],
                       version=commitment.version)


def matches(report: Any, commitment: Commitment) -> bool:
    """True when the report reproduces the commitment's root (every field, every salt)."""
    try:
        return recompute_root(report, commitment) == commitment.root
    except InvalidInput:
        return False


@dataclass(frozen=True)
class Disclosure:
    """One field revealed with its salt and proof; nothing about the other fields but their hashes.
    `version` is the commitment's (the proof follows its tree layout; checking it is the same for all)."""

    root: bytes
    path: str
    value: Any
    salt: bytes
    proof: list[bytes]
    version: int = COMMITMENT_VERSION

    @property
    def leaf(self) -> bytes:
        """The leaf of the disclosed field, recomputed from its path, value and salt."""
        return leaf_hash(self.path, self.value, self.salt)

    def verify(self) -> bool:
        """Off-chain check: the leaf and the proof lead to the root."""
        return process_proof(self.leaf, self.proof) == self.root

    def to_json(self) -> dict[str, Any]:
        """The disclosure file's JSON: version, root, path, value, salt and proof (bytes as 0x-hex)."""
        return {"version": self.version, "root": "0x" + self.root.hex(), "path": self.path, "value": self.value,
                "salt": "0x" + self.salt.hex(), "proof": ["0x" + p.hex() for p in self.proof]}

    @classmethod
    def from_json(cls, data: Any) -> Disclosure:
        """Read a disclosure file; one without "version" was made from a version-1 commitment."""
        version = _version_of(_object(data, "disclosure file"), "disclosure file")
        try:
            return cls(_bytes32(data["root"], "root"), str(data["path"]), data["value"],
                       _bytes32(data["salt"], "salt"), [_bytes32(p, "proof element") for p in data["proof"]],
                       version)
        except KeyError as exc:
            raise InvalidInput(f"not a disclosure file (missing {exc})") from None
        except (TypeError, AttributeError) as exc:
            raise InvalidInput(f"not a disclosure file ({exc})") from None


def disclose(report: Any, commitment: Commitment, path: str) -> Disclosure:
    """Reveal the field at JSON Pointer `path` of `report`, checked against the commitment first."""
    fields = _report_fields(report)
    if path not in fields:
        raise InvalidInput(f"no field {path!r} in the report (fields: {', '.join(sorted(fields))})")
    if not matches(report, commitment):
        raise InvalidInput("the report does not match the commitment; nothing to disclose")
    return Disclosure(commitment.root, path, fields[path], commitment.salts[path], commitment.proof(path),
                      commitment.version)
