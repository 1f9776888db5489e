"""Opening the service's database: SQLite by default (`.ebl/service-<chainId>.sqlite`), PostgreSQL given a
URL, brought to the current Alembic revision in place (its own version table, so it may share a database
with the index), and tied to one chain and deployment.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import OperationalError

from ..errors import EblError
from ..index import store as index_store
from . import tables as t

DEFAULT_DIR = Path(".ebl")


class ServiceDatabaseError(EblError):
    """The service database cannot be used (unreachable, or it holds another chain's records)."""


def default_url(chain_id: int, directory: Path = DEFAULT_DIR) -> str:
    return f"sqlite:///{directory / f'service-{chain_id}.sqlite'}"


def _alembic_config(connection: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", "ebl_client.service:migrations")
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config(None)).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn, opts={"version_table": t.VERSION_TABLE}).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), revision)


def open_database(url: str) -> Engine:
    """The engine of the service database at `url`, upgraded to the code's schema (every transaction takes
    SQLite's write lock at BEGIN: the service's threads take turns instead of failing half-way)."""
    engine = index_store.create(url, writer=True)
    try:
        current = current_revision(engine)
    except OperationalError as exc:
        raise ServiceDatabaseError(f"cannot open the service database at "
                                   f"{engine.url.render_as_string(hide_password=True)}: "
                                   f"{str(exc.orig).splitlines()[0]}") from None
    if current != head_revision():
        upgrade(engine)
    return engine


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
