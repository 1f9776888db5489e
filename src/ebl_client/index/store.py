"""Opening the index database: the URL (SQLite by default, PostgreSQL given one), the engine, and its
schema brought to the current Alembic revision.

`open_index(url)` upgrades in place (`alembic upgrade head`): a deployed index survives a new release of
the client. Readers use `open_index(url, upgrade=False)`, which refuses a database whose schema is not the
code's (`IndexError` asking for `ebl index sync`, which upgrades).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from ..database import Migrations, engine_for, sqlite_url
from ..errors import EblError

DEFAULT_DIR = Path(".ebl")
MIGRATIONS = Migrations("ebl_client.index:migrations")


class IndexUnavailable(EblError):
    """The index database cannot be used as it is (unreachable, empty, behind the code)."""


def default_url(chain_id: int, directory: Path = DEFAULT_DIR) -> str:
    """`sqlite:///.ebl/index-<chainId>.sqlite`: nothing to install."""
    return sqlite_url(directory / f"index-{chain_id}.sqlite")


def create(url: str, *, writer: bool = False) -> Engine:
    """An engine for the index at `url` (`database.engine_for`); a reader never creates an empty index file."""
    missing = None if writer else IndexUnavailable(f"there is no index at {url.removeprefix('sqlite:///')}: "
                                                   "run `ebl index sync`")
    return engine_for(url, writer=writer, what="index", missing=missing)


def open_index(url: str, *, writer: bool = False) -> Engine:
    """The engine of the index at `url`, its schema at the code's revision: a `writer` (the indexer)
    upgrades it in place; a reader gets IndexUnavailable instead."""
    engine = create(url, writer=writer)
    MIGRATIONS.bring_to_head(engine, what="index", error=IndexUnavailable, upgrade=writer,
                             hint=": run `ebl index sync`")
    return engine
