"""The project's own databases, the index (`index.store`) and the platform service's records (`service.store`):
an engine for a URL (SQLite by default, a file and nothing to install; PostgreSQL given a URL), and a schema
that Alembic migrations keep at the code's revision, each database with its own migrations and version table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from .errors import EblError, InvalidInput


def engine_for(url: str, *, writer: bool, what: str, missing: EblError | None = None) -> Engine:
    """An engine for the `what` database at `url` ("index", "service database"). SQLite: the folder is created,
    WAL journal (readers never block the writer), foreign keys on; a `writer` engine takes the write lock at
    BEGIN, so two writers on one file take turns instead of failing half-way. Given `missing`, a SQLite file
    that does not exist raises it instead of being created (a reader, or a command that only makes sense on a
    database in use, never leaves an empty one behind). A URL that is not sqlite or postgresql is InvalidInput."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInput(f"{what} URL {url!r} is not a database URL (sqlite:///path or postgresql://...)") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            if missing is not None and not Path(parsed.database).exists():
                raise missing
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30})
        _sqlite_pragmas(engine, writer)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise InvalidInput(f"{what} URL {url!r}: only sqlite and postgresql are supported")
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


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file (relative paths stay relative to the working directory)."""
    return f"sqlite:///{path}"


def where(engine: Engine) -> str:
    """The engine's URL as an error message shows it: without the password."""
    return engine.url.render_as_string(hide_password=True)


@dataclass(frozen=True)
class Migrations:
    """One database's Alembic migrations: `script_location` ("ebl_client.index:migrations"), and the table that
    records its revision (its own, so two of the project's databases may share one PostgreSQL database)."""

    script_location: str
    version_table: str = "alembic_version"

    def _config(self, connection: Any) -> Config:
        config = Config()
        config.set_main_option("script_location", self.script_location)
        config.attributes["connection"] = connection
        return config

    def head(self) -> str:
        """The newest revision: the schema the code reads and writes."""
        head = ScriptDirectory.from_config(self._config(None)).get_current_head()
        assert head is not None
        return head

    def current(self, engine: Engine) -> str | None:
        """The revision the database is at; None when it has no schema yet."""
        with engine.connect() as conn:
            return MigrationContext.configure(conn, opts={"version_table": self.version_table}).get_current_revision()

    def upgrade(self, engine: Engine, revision: str = "head") -> None:
        """Run the migrations up to `revision` (default the newest), in one transaction."""
        with engine.begin() as conn:
            command.upgrade(self._config(conn), revision)

    def downgrade(self, engine: Engine, revision: str) -> None:
        """Run the migrations down to `revision` ("base": no schema at all), in one transaction."""
        with engine.begin() as conn:
            command.downgrade(self._config(conn), revision)

    def bring_to_head(self, engine: Engine, *, what: str, error: type[EblError], upgrade: bool = True,
                      empty_ok: bool = True, hint: str = "") -> None:
        """Leave the database at the newest revision, upgraded in place; instead `error`, saying what it is at and
        `hint`, with `upgrade=False` (a reader) for anything but the newest, and with `empty_ok=False` for a
        database with no schema at all. An unreachable database is `error` naming it."""
        try:
            current = self.current(engine)
        except OperationalError as exc:
            raise error(f"cannot open the {what} at {where(engine)}: {str(exc.orig).splitlines()[0]}") from None
        if current == self.head():
            return
        if not upgrade or (current is None and not empty_ok):
            state = "empty" if current is None else f"at schema {current}"
            raise error(f"the {what} at {where(engine)} is {state}{hint}")
        self.upgrade(engine)
