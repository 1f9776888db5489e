"""Index tests run on real parts: an Anvil they start, the real client building the chain state, SQLite in a
temporary file and a throwaway PostgreSQL server started for the session (as the `postgres` user when the
tests run as root). PostgreSQL that cannot start fails the session: nothing is skipped.

`index_url` is parametrized over both back ends, so every test that takes it runs on each.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ebl_client.index import store, sync
from ebl_client.node import AnvilNode, free_port

from . import world

PG_BIN_ENV = "EBL_TEST_PG_BIN"
DEFAULT_PG_BIN = "/usr/lib/postgresql/15/bin"


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the `postgres` user then."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL server for the session; its base URL (database `postgres`)."""
    bin_dir = Path(os.environ.get(PG_BIN_ENV, DEFAULT_PG_BIN))
    if not (bin_dir / "initdb").exists():
        pytest.fail(f"PostgreSQL is not installed ({bin_dir}/initdb missing): apt-get install -y postgresql, "
                    f"or set ${PG_BIN_ENV}")
    base = Path(tempfile.mkdtemp(prefix="ebl-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    port = free_port()
    data, log = base / "data", base / "log"

    def run(*args: str) -> None:
        done = subprocess.run(_as_postgres([str(bin_dir / args[0]), *args[1:]]), capture_output=True, text=True,
                              timeout=120)
        if done.returncode != 0:
            extra = log.read_text() if log.exists() else ""
            pytest.fail(f"{args[0]} failed: {done.stdout}{done.stderr}{extra}")

    run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres")
    run("pg_ctl", "-D", str(data), "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "-l", str(log),
        "-w", "start")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
                       capture_output=True, timeout=120)
        shutil.rmtree(base, ignore_errors=True)


_databases = itertools.count()


def new_database(server: str) -> str:
    """A new empty database on the session's server; its URL."""
    from sqlalchemy import create_engine, text

    name = f"ebl_index_{os.getpid()}_{next(_databases)}"
    engine = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{server}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def index_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'index.sqlite'}"
    return new_database(request.getfixturevalue("postgres_server"))


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilNode]:
    with AnvilNode() as node:
        yield node


@pytest.fixture(scope="session")
def trade(anvil: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> world.World:
    """The trade-finance world of `world.build` on the session's Anvil (built once; tests only read it)."""
    return world.build(anvil.url, tmp_path_factory.mktemp("deployments"))


@pytest.fixture
def indexed(trade: world.World, index_url: str) -> sync.Indexer:
    """The session's world indexed into a new database of each back end, with a small page size."""
    indexer = sync.Indexer(trade.client.chain, trade.client.deployment, store.open_index(index_url, writer=True),
                           page_size=7)
    indexer.sync()
    return indexer
