"""RFC 8785 (JCS) canonical JSON and the document digest built on it: the same bytes, and so the same
hash, for every holder of a document whatever its key order or number spelling.
"""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785

from ..errors import InvalidInput


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) canonical form; InvalidInput for values JCS cannot represent."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.FloatDomainError as exc:
        # rfc8785 raises it for NaN and +-Infinity only ("nan is not representable in JCS")
        raise InvalidInput(f"non-finite number ({exc}): JSON has no NaN or Infinity (RFC 8785)") from None
    except rfc8785.IntegerDomainError as exc:
        raise InvalidInput(f"integer too large to hash ({exc}): RFC 8785 numbers are exact only up to 2**53-1; "
                           "send large amounts as strings") from None
    except rfc8785.CanonicalizationError as exc:
        raise InvalidInput(f"value cannot be canonicalised (RFC 8785): {exc}") from None


def document_digest(document: Any) -> bytes:
    """SHA-256 of the RFC 8785 canonical JSON: DCSA's documentChecksum. Same bytes for every holder."""
    return hashlib.sha256(canonical_json(document)).digest()
