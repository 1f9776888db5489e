"""Hashes the client computes off chain: RFC 8785 canonical JSON and document digests, salted Merkle
commitments of credit reports with single-field disclosure, and salted participant identifiers.

Merkle rule (the same as OpenZeppelin's StandardMerkleTree, so `MerkleProof` verifies on chain):
leaf = keccak256(keccak256(abi.encode(string path, bytes canonicalValue, bytes32 salt))), parents hash
the sorted pair. Field paths are RFC 6901 JSON Pointers ("/company/rating"). No clear data goes on chain.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rfc8785
from eth_abi import encode as abi_encode
from eth_utils import keccak

from .errors import InvalidInput

SALT_BYTES = 32
DEFAULT_SCHEMA = "gba-credit-report/v1"


def new_salt() -> bytes:
    """32 random bytes from the OS CSPRNG."""
    return os.urandom(SALT_BYTES)


# --- strict JSON ------------------------------------------------------------------------------------


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
    label = what or str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {label}: {exc.strerror or exc}") from None
    return parse_json(raw, what=label)


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) canonical form; InvalidInput for values JCS cannot represent."""
    _check_finite(value)
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise InvalidInput(f"value cannot be canonicalised (RFC 8785): {exc}") from None


def _check_finite(value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(f"non-finite number {value} is not valid JSON")
    if isinstance(value, dict):
        for v in value.values():
            _check_finite(v)
    elif isinstance(value, list):
        for v in value:
            _check_finite(v)


def document_digest(document: Any) -> bytes:
    """SHA-256 of the RFC 8785 canonical JSON: DCSA's documentChecksum. Same bytes for every holder."""
    return hashlib.sha256(canonical_json(document)).digest()


# --- salted Merkle commitments ----------------------------------------------------------------------


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
    return keccak(keccak(abi_encode(["string", "bytes", "bytes32"], [path, canonical_json(value), salt])))


def _parent(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a <= b else keccak(b + a)


def _layers(leaves: list[bytes]) -> list[list[bytes]]:
    """Bottom-up layers over the sorted leaves; an odd node is carried up unchanged."""
    layer = sorted(leaves)
    layers = [layer]
    while len(layer) > 1:
        layer = [_parent(layer[i], layer[i + 1]) if i + 1 < len(layer) else layer[i] for i in range(0, len(layer), 2)]
        layers.append(layer)
    return layers


def merkle_root(leaves: list[bytes]) -> bytes:
    if not leaves:
        raise InvalidInput("a commitment needs at least one field")
    return _layers(leaves)[-1][0]


def merkle_proof(leaves: list[bytes], leaf: bytes) -> list[bytes]:
    layers = _layers(leaves)
    try:
        index = layers[0].index(leaf)
    except ValueError:
        raise InvalidInput("leaf is not in the tree") from None
    proof = []
    for layer in layers[:-1]:
        sibling = index ^ 1
        if sibling < len(layer):
            proof.append(layer[sibling])
        index //= 2
    return proof


def process_proof(leaf: bytes, proof: list[bytes]) -> bytes:
    node = leaf
    for sibling in proof:
        node = _parent(node, sibling)
    return node


@dataclass(frozen=True)
class Commitment:
    """What the subject keeps next to its report: the root, and each field's salt and leaf."""

    root: bytes
    schema: str
    salts: dict[str, bytes]
    leaves: dict[str, bytes] = field(compare=False)

    @property
    def schema_id(self) -> bytes:
        return keccak(text=self.schema)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "schema": self.schema,
            "root": "0x" + self.root.hex(),
            "fields": {p: {"salt": "0x" + self.salts[p].hex(), "leaf": "0x" + self.leaves[p].hex()}
                       for p in sorted(self.salts)},
        }

    @classmethod
    def from_json(cls, data: Any) -> Commitment:
        try:
            fields = data["fields"]
            salts = {p: _bytes32(f["salt"], f"salt of {p}") for p, f in fields.items()}
            leaves = {p: _bytes32(f["leaf"], f"leaf of {p}") for p, f in fields.items()}
            commitment = cls(_bytes32(data["root"], "root"), str(data["schema"]), salts, leaves)
        except (KeyError, TypeError, AttributeError) as exc:
            raise InvalidInput(f"not a commitment file (missing {exc})") from None
        if merkle_root(list(leaves.values())) != commitment.root:
            raise InvalidInput("commitment file is inconsistent: its leaves do not make its root")
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
        return cls.from_json(load_json_file(path, what=f"commitment {path}"))


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
    """Salt and hash every field of `report`; `salts` (for test vectors) fixes them, otherwise random."""
    fields = _report_fields(report)
    chosen = {path: (salts[path] if salts and path in salts else new_salt()) for path in fields}
    leaves = {path: leaf_hash(path, value, chosen[path]) for path, value in fields.items()}
    return Commitment(merkle_root(list(leaves.values())), schema, chosen, leaves)


def recompute_root(report: Any, commitment: Commitment) -> bytes:
    """The root that `report` makes with the commitment's salts. InvalidInput when the fields differ."""
    fields = _report_fields(report)
    if set(fields) != set(commitment.salts):
        missing = sorted(set(commitment.salts) - set(fields))
        extra = sorted(set(fields) - set(commitment.salts))
        raise InvalidInput(f"report fields differ from the commitment (missing {missing}, extra {extra})")
    return merkle_root([leaf_hash(p, v, commitment.salts[p]) for p, v in fields.items()])


def matches(report: Any, commitment: Commitment) -> bool:
    """True when the report reproduces the commitment's root (every field, every salt)."""
    try:
        return recompute_root(report, commitment) == commitment.root
    except InvalidInput:
        return False


@dataclass(frozen=True)
class Disclosure:
    """One field revealed with its salt and proof; nothing about the other fields but their hashes."""

    root: bytes
    path: str
    value: Any
    salt: bytes
    proof: list[bytes]

    @property
    def leaf(self) -> bytes:
        return leaf_hash(self.path, self.value, self.salt)

    def verify(self) -> bool:
        """Off-chain check: the leaf and the proof lead to the root."""
        return process_proof(self.leaf, self.proof) == self.root

    def to_json(self) -> dict[str, Any]:
        return {"root": "0x" + self.root.hex(), "path": self.path, "value": self.value,
                "salt": "0x" + self.salt.hex(), "proof": ["0x" + p.hex() for p in self.proof]}

    @classmethod
    def from_json(cls, data: Any) -> Disclosure:
        try:
            return cls(_bytes32(data["root"], "root"), str(data["path"]), data["value"],
                       _bytes32(data["salt"], "salt"), [_bytes32(p, "proof element") for p in data["proof"]])
        except (KeyError, TypeError) as exc:
            raise InvalidInput(f"not a disclosure file (missing {exc})") from None


def disclose(report: Any, commitment: Commitment, path: str) -> Disclosure:
    """Reveal the field at JSON Pointer `path` of `report`, checked against the commitment first."""
    fields = _report_fields(report)
    if path not in fields:
        raise InvalidInput(f"no field {path!r} in the report (fields: {', '.join(sorted(fields))})")
    if not matches(report, commitment):
        raise InvalidInput("the report does not match the commitment; nothing to disclose")
    leaves = list(commitment.leaves.values())
    return Disclosure(commitment.root, path, fields[path], commitment.salts[path],
                      merkle_proof(leaves, commitment.leaves[path]))


# --- identifiers and remarks --------------------------------------------------------------------------


def normalise_identifier(identifier: str) -> str:
    """LEI / unified social credit codes are case-insensitive alphanumerics: trim and upper-case."""
    text = identifier.strip().upper()
    if not text or not text.isalnum() or not text.isascii():
        raise InvalidInput(f"legal identifier {identifier!r} must be non-empty ASCII letters and digits")
    return text


def identifier_hash(identifier: str, salt: bytes) -> bytes:
    """keccak256(salt || normalised identifier): what the participant registry stores."""
    if len(salt) != SALT_BYTES:
        raise InvalidInput("the identifier salt must be 32 bytes")
    return keccak(salt + normalise_identifier(identifier).encode("ascii"))


def text_hash(text: str) -> bytes:
    """keccak256 of UTF-8 text: remarks and reasons are kept off chain and referenced by this hash."""
    return keccak(text.encode("utf-8")) if text else b"\0" * 32
