"""Opening the service's database: SQLite by default (`.ebl/service-<chainId>.sqlite`), PostgreSQL given a
URL, brought to the current Alembic revision in place (its own version table, so it may share a database
with the index), and tied to one chain and deployment.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from sqlalchemy import Connection, Engine, insert, select, text

from ..database import Migrations, engine_for, sqlite_url
from ..errors import EblError
from . import tables as t

DEFAULT_DIR = Path(".ebl")
MIGRATIONS = Migrations("ebl_client.service:migrations", version_table=t.VERSION_TABLE)


class ServiceDatabaseError(EblError):
    """The service database cannot be used (unreachable, or it holds another chain's records)."""


def default_url(chain_id: int, directory: Path = DEFAULT_DIR) -> str:
    """`sqlite:///.ebl/service-<chainId>.sqlite`: nothing to install."""
    return sqlite_url(directory / f"service-{chain_id}.sqlite")


def open_database(url: str, *, create: bool = True) -> Engine:
    """The engine of the service database at `url`, upgraded to the code's schema (every transaction takes
    SQLite's write lock at BEGIN: the service's threads take turns instead of failing half-way). With
    `create=False` (listing keys or callbacks, revoking, retrying) a database that does not exist yet, or has no
    schema, is ServiceDatabaseError, so a mistyped URL never leaves an empty database behind; one at an older
    schema is upgraded as `ebl serve` would."""
    hint = ": `ebl serve` (or `ebl serve keys add`) creates it; check the configured database URL"
    missing = None if create else ServiceDatabaseError(
        f"there is no service database at {url.removeprefix('sqlite:///')}{hint}")
    engine = engine_for(url, writer=True, what="service database", missing=missing)
    MIGRATIONS.bring_to_head(engine, what="service database", error=ServiceDatabaseError, empty_ok=create, hint=hint)
    return engine


class InstanceLock:
    """Held by the one `ebl serve` that works a service database: its workers assume they are alone (two would
    both decide a request and send its callback). SQLite: an flock on `<database>.lock`; PostgreSQL: an
    advisory lock on a connection of its own. Both go with the process, however it ends."""

    def __init__(self, engine: Engine) -> None:
        self._file: int | None = None
        self._connection: Connection | None = None
        where = engine.url.render_as_string(hide_password=True)
        if engine.dialect.name == "sqlite":
            database = engine.url.database
            if not database or database == ":memory:":
                return
            self._file = os.open(f"{database}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(self._file)
                self._file = None
                raise ServiceDatabaseError(f"another ebl serve works the service database {where}") from None
        else:
            self._connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if not self._connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": _LOCK_KEY}).scalar():
                self._connection.close()
                self._connection = None
                raise ServiceDatabaseError(f"another ebl serve works the service database {where}")

    def release(self) -> None:
        if self._file is not None:
            os.close(self._file)  # closing the descriptor drops the flock
            self._file = None
        if self._connection is not None:
            self._connection.close()  # the session's advisory locks go with it
            self._connection = None


#: the advisory lock's key: "eblserve" as a 64-bit number
_LOCK_KEY = int.from_bytes(b"eblserve", "big") & (2**63 - 1)


def bind(engine: Engine, chain_id: int, registry: str) -> None:
    """Tie the database to `chain_id` and the title registry at `registry` on first use; refuse another."""
    with engine.begin() as conn:
        row = conn.execute(select(t.service_state).where(t.service_state.c.id == 1)).mappings().first()
        if row is None:
            conn.execute(insert(t.service_state).values(id=1, chain_id=chain_id, registry=registry,
                                                        created_at=time.time(), last_event_id=0))
        elif (row["chain_id"], row["registry"]) != (chain_id, registry):
            raise ServiceDatabaseError(
                f"the service database holds the records of chain {row['chain_id']} (registry {row['registry']}), "
                f"not of chain {chain_id} (registry {registry}): give this deployment its own database")
