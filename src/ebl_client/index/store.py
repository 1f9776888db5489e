"""Opening the index database: the URL (SQLite by default, PostgreSQL given one), the engine, and its
schema brought to the current Alembic revision.

`open_index(url)` upgrades in place (`alembic upgrade head`): a deployed index survives a new release of
the client. Readers use `open_index(url, upgrade=False)`, which refuses a database whose schema is not the
code's (`IndexError` asking for `ebl index sync`, which upgrades).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from ..errors import EblError, InvalidInput

DEFAULT_DIR = Path(".ebl")


class IndexUnavailable(EblError):
    """The index database cannot be used as it is (unreachable, empty, behind the code)."""


def default_url(chain_id: int, directory: Path = DEFAULT_DIR) -> str:
    """`sqlite:///.ebl/index-<chainId>.sqlite`: nothing to install."""
    return f"sqlite:///{directory / f'index-{chain_id}.sqlite'}"


def _alembic_config(engine_connection: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", "ebl_client.index:migrations")
    config.attributes["connection"] = engine_connection
    return config


def head_revision() -> str:
    script = ScriptDirectory.from_config(_alembic_config(None))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the migrations up to `revision` (default the newest)."""
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), revision)


def create(url: str, *, writer: bool = False) -> Engine:
    """An engine for `url`. SQLite: the folder is created, WAL journal (readers never block the indexer),
    foreign keys on; a `writer` engine takes the write lock at BEGIN, so two indexers on one file take
    turns instead of failing half-way through a page."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInput(f"index URL {url!r} is not a database URL (sqlite:///path or postgresql://...)") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            if not writer and not Path(parsed.database).exists():  # a reader never creates an empty index
                raise IndexUnavailable(f"there is no index at {parsed.database}: run `ebl index sync`")
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30})
        _sqlite_pragmas(engine, writer)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise InvalidInput(f"index URL {url!r}: only sqlite and postgresql are supported")
    return create_engine(parsed, pool_pre_ping=True)


def _sqlite_pragmas(engine: Engine, writer: bool) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


def open_index(url: str, *, writer: bool = False) -> Engine:
    """The engine of the index at `url`, its schema at the code's revision: a `writer` (the indexer)
    upgrades it in place; a reader gets IndexUnavailable instead."""
    engine = create(url, writer=writer)
    try:
        current = current_revision(engine)
    except OperationalError as exc:
        raise IndexUnavailable(f"cannot open the index at {engine.url.render_as_string(hide_password=True)}: "
                          f"{str(exc.orig).splitlines()[0]}") from None
    if current != head_revision():
        if not writer:
            raise IndexUnavailable(f"the index at {engine.url.render_as_string(hide_password=True)} is "
                              f"{'empty' if current is None else 'at schema ' + current}: run `ebl index sync`")
        upgrade(engine)
    return engine
