"""Salts and the hashes that stand for clear text on chain: a participant's salted legal-identifier
hash, and the keccak of remarks and reasons that stay off chain.
"""

from __future__ import annotations

import os

from eth_utils import keccak

from ..errors import InvalidInput

SALT_BYTES = 32


def new_salt() -> bytes:
    """32 random bytes from the OS CSPRNG."""
    return os.urandom(SALT_BYTES)


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
