"""The read model: an indexer that follows every event of the deployed suite into SQLite (default,
`.ebl/index-<chainId>.sqlite`) or PostgreSQL, and the queries every party needs over it, each enforcing
who may see what.

    from ebl_client import index

    engine = index.open_index(index.default_url(chain.chain_id), writer=True)
    index.Indexer(chain, deployment, engine).sync()            # or .watch(stop=...)
    q = index.Queries(index.open_index(url), index.checked_directory(engine, path, chain_id=chain.chain_id))
    q.inbox(q.viewer(account)); q.book(...); q.audit(...); q.report(q.viewer(regulator))

Modules: `schema` (tables), `migrations` (Alembic), `store` (opening and upgrading), `events` (log
decoding), `projector` (events to state), `sync` (the indexer), `queries` (reads and access rules),
`pgserver` (a throwaway PostgreSQL for tests and trials).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from .. import directory as directories
from ..chain import Chain, to_address
from ..deployment import Deployment
from . import schema
from .queries import AccessDenied, AuditRecord, BillView, Book, BookLine, Queries, Task, Viewer, compare_history
from .store import IndexUnavailable, default_url, open_index
from .sync import DEFAULT_PAGE_SIZE, Indexer, SyncReport

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "AccessDenied",
    "AuditRecord",
    "BillView",
    "Book",
    "BookLine",
    "IndexUnavailable",
    "Indexer",
    "Queries",
    "SyncReport",
    "Task",
    "Viewer",
    "checked_directory",
    "compare_history",
    "default_url",
    "open_index",
    "synced",
]


def checked_directory(engine: Engine, path: Path | None, *, chain_id: int) -> directories.Directory:
    """The directory file at `path` checked against the identifier hashes the index holds (no node needed);
    an empty directory when `path` is None. The escrow contract is named "Financing escrow"."""
    with engine.connect() as conn:
        contracts = conn.execute(select(schema.index_state.c.contracts)).scalar() or {}
        on_chain = {r.account: directories.OnChain(r.identifier_hash, r.jurisdiction)
                    for r in conn.execute(select(schema.participants.c.account, schema.participants.c.identifier_hash,
                                                 schema.participants.c.jurisdiction))}
    checked = directories.check(directories.load(path), on_chain, chain_id=chain_id) if path else \
        directories.Directory()
    if "FinancingEscrow" in contracts:
        checked.builtin = {to_address(contracts["FinancingEscrow"]): "Financing escrow"}
    return checked


def synced(chain: Chain, deployment: Deployment, url: str | None = None, *, directory: Path | None = None,
           page_size: int = DEFAULT_PAGE_SIZE) -> Queries:
    """Bring the index of `chain` (default `.ebl/index-<chainId>.sqlite`) up to the chain's head and return
    its queries, names from the `directory` file when given: what the demo calls for the regulator's report."""
    url = url or default_url(chain.chain_id)
    engine = open_index(url, writer=True)
    try:
        Indexer(chain, deployment, engine, page_size=page_size).sync()
        checked = checked_directory(engine, directory, chain_id=chain.chain_id)
    finally:
        engine.dispose()
    return Queries(open_index(url), checked)
