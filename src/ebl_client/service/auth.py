"""Per-participant API keys: `ebl serve keys add ACCOUNT` makes one and shows it once; the database keeps its
SHA-256 only. A key reads `ebl_<key id>_<secret>`: the id finds the row, the secret is compared in constant
time. Callers send it as `Authorization: Bearer <key>` (or `X-API-Key: <key>`).

Secrets are 256 random bits, so a plain SHA-256 is enough at rest: a slow password hash protects guessable
secrets, and these cannot be guessed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update

from ..chain import to_address
from ..errors import InvalidInput, NotFound
from . import tables as t

PREFIX = "ebl"
KEY = re.compile(r"ebl_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    account: str
    label: str
    created_at: float
    revoked_at: float | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class Caller:
    """Who a request authenticated as: the account, and the key it used."""

    account: str
    key_id: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def add_key(engine: Engine, account: str, label: str = "") -> tuple[ApiKey, str]:
    """A new key for `account`: the record and the key itself (shown once, never stored)."""
    address = to_address(account, what="account")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    now = time.time()
    with engine.begin() as conn:
        conn.execute(insert(t.api_keys).values(key_id=key_id, account=address, secret_hash=_digest(secret),
                                               label=label[:100], created_at=now, revoked_at=None))
    return ApiKey(key_id, address, label[:100], now, None), f"{PREFIX}_{key_id}_{secret}"


def list_keys(engine: Engine, account: str | None = None) -> list[ApiKey]:
    query = select(t.api_keys).order_by(t.api_keys.c.created_at)
    if account:
        query = query.where(t.api_keys.c.account == to_address(account, what="account"))
    with engine.connect() as conn:
        return [ApiKey(r.key_id, r.account, r.label, r.created_at, r.revoked_at) for r in conn.execute(query)]


def revoke_key(engine: Engine, key_id: str) -> ApiKey:
    """Revoke a key at once (NotFound for an unknown id); a revoked key stays listed."""
    key_id = key_id.strip()
    with engine.begin() as conn:
        row = conn.execute(select(t.api_keys).where(t.api_keys.c.key_id == key_id)).first()
        if row is None:
            raise NotFound(f"no API key {key_id!r}")
        revoked = row.revoked_at or time.time()
        conn.execute(update(t.api_keys).where(t.api_keys.c.key_id == key_id).values(revoked_at=revoked))
    return ApiKey(row.key_id, row.account, row.label, row.created_at, revoked)


def authenticate(engine: Engine, presented: str) -> Caller | None:
    """The caller a presented key belongs to, or None (malformed, unknown or revoked)."""
    match = KEY.fullmatch(presented.strip())
    if match is None:
        return None
    key_id, secret = match.groups()
    with engine.connect() as conn:
        row = conn.execute(select(t.api_keys.c.account, t.api_keys.c.secret_hash, t.api_keys.c.revoked_at)
                           .where(t.api_keys.c.key_id == key_id)).first()
    expected = row.secret_hash if row is not None else _digest("x" * 43)  # compare anyway: same time either way
    if not hmac.compare_digest(expected, _digest(secret)) or row is None or row.revoked_at is not None:
        return None
    return Caller(row.account, key_id)


def presented_key(authorization: str | None, api_key: str | None) -> str | None:
    """The key from `Authorization: Bearer <key>` or `X-API-Key`; InvalidInput for another scheme."""
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise InvalidInput("the Authorization header must be: Bearer <API key>")
        return value.strip()
    return api_key.strip() if api_key else None
