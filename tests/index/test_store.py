"""The index database: Alembic migrations create exactly the schema the code uses and go down and up again;
a sync killed with SIGKILL in the middle of a page and restarted gives the tables of one clean run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from ebl_client.errors import InvalidInput, NodeError
from ebl_client.index import pgserver, schema, store, sync
from ebl_client.index.store import IndexUnavailable

from .test_sync import dump
from .world import World


def test_upgrade_head_on_an_empty_database_creates_the_schema_of_the_code(index_url: str) -> None:
    engine = store.create(index_url, writer=True)
    assert store.MIGRATIONS.current(engine) is None
    store.MIGRATIONS.upgrade(engine)
    assert store.MIGRATIONS.current(engine) == store.MIGRATIONS.head()
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []
    store.MIGRATIONS.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    store.MIGRATIONS.upgrade(engine)
    assert set(schema.metadata.tables) <= set(inspect(engine).get_table_names())


def test_a_reader_refuses_an_index_that_is_not_at_the_code_s_schema(index_url: str) -> None:
    with pytest.raises(IndexUnavailable, match="run `ebl index sync`"):
        store.open_index(index_url)
    if index_url.startswith("sqlite"):  # a reader does not leave an empty file behind
        assert not Path(index_url.removeprefix("sqlite:///")).exists()
        with store.create(index_url, writer=True).connect():  # an empty database file
            pass
        with pytest.raises(IndexUnavailable, match="empty: run `ebl index sync`"):
            store.open_index(index_url)
    store.open_index(index_url, writer=True)  # the indexer upgrades in place
    store.open_index(index_url)


def test_bad_index_urls_are_refused() -> None:
    with pytest.raises(InvalidInput, match="not a database URL"):
        store.create("not a url")
    with pytest.raises(InvalidInput, match="only sqlite and postgresql"):
        store.create("mysql://localhost/ebl")


def test_a_postgres_server_that_cannot_start_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pgserver.BIN_ENV, "/nonexistent/bin")
    with pytest.raises(NodeError, match="has no initdb"):
        pgserver.PostgresServer().start()


CHILD = textwrap.dedent("""
    import sys, time
    from ebl_client import Client
    from ebl_client.index import projector, store, sync

    rpc, deployments, url = sys.argv[1:4]
    flush = projector.Rows.flush

    def slow_flush(self):  # the page's rows are written, its checkpoint not yet: the window a kill must hit
        flush(self)
        time.sleep(0.05)

    projector.Rows.flush = slow_flush
    client = Client.connect(rpc, deployments=deployments)
    sync.Indexer(client.chain, client.deployment, store.open_index(url, writer=True), page_size=2).sync()
""")


def test_a_sync_killed_mid_page_resumes_to_the_tables_of_one_clean_run(trade: World, anvil: object, index_url: str,
                                                                        tmp_path: Path) -> None:
    engine = store.open_index(index_url, writer=True)
    child = subprocess.Popen([sys.executable, "-c", CHILD, trade.client.chain.url, str(trade.client.deployments_dir),
                              index_url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        indexed = -1
        while indexed < 20 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
            with engine.connect() as conn:
                indexed = conn.execute(select(schema.index_state.c.last_block)).scalar() or -1
        assert child.poll() is None, child.communicate()[0].decode()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL
    with engine.connect() as conn:
        interrupted_at = conn.execute(select(schema.index_state.c.last_block)).scalar_one()
    assert 20 <= interrupted_at < trade.client.chain.w3.eth.block_number
    resumed = sync.Indexer(trade.client.chain, trade.client.deployment, store.open_index(index_url, writer=True),
                           page_size=2)
    report = resumed.sync()
    assert report.from_block == interrupted_at and not report.recovered
    clean = sync.Indexer(trade.client.chain, trade.client.deployment,
                         store.open_index(f"sqlite:///{tmp_path / 'clean.sqlite'}", writer=True), page_size=2)
    clean.sync()
    assert dump(resumed.engine) == dump(clean.engine)
