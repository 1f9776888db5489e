"""Hashes the client computes off chain, one module per concern: strict JSON reading (`strict_json`),
RFC 8785 canonical JSON and document digests (`canonical`), salted Merkle commitments of credit reports
and their disclosures (`commitments`, over the tree layouts in `merkle`), and salted identifiers, remark
hashes and salts (`identifiers`). The names below are the public surface: `from ebl_client.hashing import ...`.
"""

from .canonical import canonical_json, document_digest
from .commitments import (
    COMMITMENT_VERSION,
    DEFAULT_SCHEMA,
    LEAF_ENCODING,
    Commitment,
    Disclosure,
    commit,
    disclose,
    flatten,
    leaf_hash,
    matches,
    recompute_root,
)
from .identifiers import SALT_BYTES, identifier_hash, new_salt, normalise_identifier, text_hash
from .merkle import (
    MultiProof,
    merkle_proof,
    merkle_root,
    multi_proof,
    node_hash,
    process_multi_proof,
    process_proof,
    standard_tree,
)
from .strict_json import load_json_file, parse_json

__all__ = [
    "COMMITMENT_VERSION",
    "DEFAULT_SCHEMA",
    "LEAF_ENCODING",
    "SALT_BYTES",
    "Commitment",
    "Disclosure",
    "MultiProof",
    "canonical_json",
    "commit",
    "disclose",
    "document_digest",
    "flatten",
    "identifier_hash",
    "leaf_hash",
    "load_json_file",
    "matches",
    "merkle_proof",
    "merkle_root",
    "multi_proof",
    "new_salt",
    "node_hash",
    "normalise_identifier",
    "parse_json",
    "process_multi_proof",
    "process_proof",
    "recompute_root",
    "standard_tree",
    "text_hash",
]
