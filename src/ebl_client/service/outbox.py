"""The callback outbox: every message the platform owes a carrier (issuance responses, surrender requests) is a
row of the service database, written in the same transaction as the decision it reports, and sent from
there until the carrier acknowledges it with a 2xx. A failed attempt waits (doubling from
`initial_backoff` up to `max_backoff`) and is tried again, across restarts of the service; after
`max_attempts` the row is kept as `dead` for the operator (`ebl serve callbacks`), never dropped.

Callbacks to one carrier go out in the order they were written. The carrier's endpoints are its directory
entry's `carrier.callbackUrl` (the base URL) followed by the DCSA path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Connection, Engine, insert, select, update

from ..errors import NotFound
from . import tables as t
from .config import CallbackSettings

log = logging.getLogger(__name__)

ISSUANCE_RESPONSE = "issuance-response"
SURRENDER_REQUEST = "surrender-request"
PATHS = {ISSUANCE_RESPONSE: "/v3/ebl-issuance-responses", SURRENDER_REQUEST: "/v3/ebl-surrender-requests"}
#: DCSA's API-Version request header carries the major version only
API_VERSION = "3"


@dataclass(frozen=True)
class Callback:
    id: int
    carrier: str
    operation: str
    url: str
    subject: str
    body: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: float
    last_error: str | None
    created_at: float
    delivered_at: float | None


def url_for(base: str, operation: str) -> str:
    return base.rstrip("/") + PATHS[operation]


def enqueue(conn: Connection, carrier: str, base_url: str, operation: str, subject: str,
            body: dict[str, Any]) -> int:
    """Write a callback in the caller's transaction (so it exists exactly when the decision does)."""
    now = time.time()
    missing = not base_url  # kept for the operator: the directory gives the carrier no callback URL
    result = conn.execute(insert(t.callbacks).values(
        carrier=carrier, operation=operation, url=url_for(base_url, operation) if base_url else "", subject=subject,
        body=body, status="dead" if missing else "pending", attempts=0, next_attempt_at=now,
        last_error="the directory gives no callback URL for this carrier" if missing else None, created_at=now,
        delivered_at=None))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def listed(engine: Engine, *, status: str | None = None, carrier: str | None = None) -> list[Callback]:
    query = select(t.callbacks).order_by(t.callbacks.c.id)
    if status:
        query = query.where(t.callbacks.c.status == status)
    if carrier:
        query = query.where(t.callbacks.c.carrier == carrier)
    with engine.connect() as conn:
        return [Callback(**dict(r)) for r in conn.execute(query).mappings()]


class Sender:
    """Delivers due callbacks. `deliver_due()` once (the worker calls it in a loop); `token_for(carrier)` gives
    the Authorization header value configured for that carrier, if any."""

    def __init__(self, engine: Engine, settings: CallbackSettings,
                 token_for: Callable[[str], str | None] = lambda carrier: None,
                 client: httpx.Client | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.token_for = token_for
        self.http = client or httpx.Client(timeout=settings.timeout, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def next_due(self) -> float | None:
        """When the next pending callback is due (unix time), or None."""
        with self.engine.connect() as conn:
            due = conn.execute(select(t.callbacks.c.next_attempt_at).where(t.callbacks.c.status == "pending")
                               .order_by(t.callbacks.c.next_attempt_at).limit(1)).scalar()
        return float(due) if due is not None else None

    def deliver_due(self, stop: Callable[[], bool] = lambda: False) -> int:
        """Send every callback that is due, oldest first; how many were delivered. A carrier whose earlier
        callback fails gets no later one in this round, so its callbacks arrive in order."""
        now = time.time()
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.callbacks).where(t.callbacks.c.status == "pending")
                                .order_by(t.callbacks.c.id)).mappings().all()
        delivered = 0
        blocked: set[str] = set()
        for row in rows:
            if stop():
                break
            if row["carrier"] in blocked:
                continue
            if row["next_attempt_at"] > now:
                blocked.add(row["carrier"])
                continue
            if self._attempt(Callback(**dict(row))):
                delivered += 1
            else:
                blocked.add(row["carrier"])
        return delivered

    def _attempt(self, callback: Callback) -> bool:
        headers = {"Content-Type": "application/json", "API-Version": API_VERSION}
        token = self.token_for(callback.carrier)
        if token:
            headers["Authorization"] = token
        error: str | None = None
        try:
            response = self.http.post(callback.url, json=callback.body, headers=headers)
            if 200 <= response.status_code < 300:
                self._mark(callback, delivered=True)
                log.info("callback %s %s to %s delivered", callback.operation, callback.subject, callback.url)
                return True
            error = f"HTTP {response.status_code}: {response.text[:200]}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {str(exc)[:200] or 'no answer'}"
        self._mark(callback, delivered=False, error=error)
        log.warning("callback %s %s to %s failed (attempt %d): %s", callback.operation, callback.subject,
                    callback.url, callback.attempts + 1, error)
        return False

    def _mark(self, callback: Callback, *, delivered: bool, error: str | None = None) -> None:
        attempts = callback.attempts + 1
        now = time.time()
        if delivered:
            values: dict[str, Any] = {"status": "delivered", "attempts": attempts, "delivered_at": now,
                                      "last_error": None}
        else:
            dead = attempts >= self.settings.max_attempts
            values = {"status": "dead" if dead else "pending", "attempts": attempts, "last_error": (error or "")[:500],
                      "next_attempt_at": now + self.settings.backoff(attempts)}
        with self.engine.begin() as conn:
            conn.execute(update(t.callbacks).where(t.callbacks.c.id == callback.id).values(**values))


def retry(engine: Engine, callback_id: int) -> Callback:
    """Put a dead (or pending) callback back in line, due now, with its attempts counted from zero."""
    with engine.begin() as conn:
        conn.execute(update(t.callbacks).where(t.callbacks.c.id == callback_id, t.callbacks.c.status != "delivered")
                     .values(status="pending", attempts=0, next_attempt_at=time.time()))
        row = conn.execute(select(t.callbacks).where(t.callbacks.c.id == callback_id)).mappings().first()
    if row is None:
        raise NotFound(f"no callback #{callback_id}")
    return Callback(**dict(row))
