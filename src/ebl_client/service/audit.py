"""The service's audit log: every API call that changes something (who, what, on which subject, the answer)
and every transaction the platform sent for it, with its hash. Participants read their own lines; the
regulator reads all (GET /v1/audit).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, select

from . import tables as t


@dataclass(frozen=True)
class Entry:
    id: int
    time: float
    account: str
    key_id: str | None
    action: str
    subject: str
    status: int
    detail: str | None
    tx_hash: str | None
    correlation: str


def record(conn: Connection, *, account: str, action: str, subject: str, status: int, correlation: str,
           key_id: str | None = None, detail: str | None = None, tx_hash: str | None = None) -> None:
    """One line, in the caller's transaction."""
    conn.execute(insert(t.audit_log).values(
        time=time.time(), account=account, key_id=key_id, action=action[:40], subject=subject[:100], status=status,
        detail=detail[:500] if detail else None, tx_hash=tx_hash, correlation=correlation[:40]))


def entries(engine: Engine, account: str | None = None, *, limit: int = 500) -> list[Entry]:
    """The newest lines first: one account's, or everyone's (`account` None)."""
    query = select(t.audit_log).order_by(t.audit_log.c.id.desc()).limit(limit)
    if account is not None:
        query = query.where(t.audit_log.c.account == account)
    with engine.connect() as conn:
        return [Entry(**dict(r)) for r in conn.execute(query).mappings()]
