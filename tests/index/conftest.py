"""Index tests run on real parts: an Anvil they start, the real client building the chain state, SQLite in a
temporary file and a throwaway PostgreSQL server started for the session (`index.pgserver`, run as the
`postgres` user when the tests run as root). PostgreSQL that cannot start fails the session: nothing is skipped.

`index_url` is parametrized over both back ends, so every test that takes it runs on each.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ebl_client.errors import EblError
from ebl_client.index import store, sync
from ebl_client.index.pgserver import PostgresServer
from ebl_client.node import AnvilNode

from . import world


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the session. One that cannot start fails the tests: none is skipped."""
    try:
        server = PostgresServer().start()
    except EblError as exc:
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def index_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'index.sqlite'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()


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
