"""What the service runs on, opened once: the node and the deployed suite (`Client`), the index (kept current
by the service unless told otherwise), the participant directory checked against it, the service's own
database, and the signing keys of the participants the service acts for.

Keys are decrypted once at start (passwords from the variables the configuration names) and handed out only
through `signer_for(account)`, which the routes call with the account the request authenticated as.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine

from .. import directory as directories
from .. import keys
from ..client import Client
from ..errors import InvalidInput, SignerError
from ..index import Indexer, Queries, checked_directory, open_index
from ..index import store as index_store
from ..index.sync import SyncReport
from . import store
from .config import ServiceConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _DirectoryCache:
    key: tuple[int, int, int]
    directory: directories.Directory


class Platform:
    """The platform's parts for the routes and the workers (one per process)."""

    def __init__(self, config: ServiceConfig, client: Client | None = None) -> None:
        self.config = config
        self.client = client or Client.connect(config.rpc_url, network=config.network, deployments=config.deployments,
                                               chain_id=config.chain_id)
        self.chain = self.client.chain
        self.chain_id = self.chain.chain_id
        self.deployment = self.client.deployment  # verified against the chain here, before anything is served
        self.registry = self.deployment.address("BillOfLadingRegistry")
        self.db: Engine = store.open_database(config.database or store.default_url(self.chain_id))
        store.bind(self.db, self.chain_id, self.registry)
        self._instance = store.InstanceLock(self.db)
        index_url = config.index_url or index_store.default_url(self.chain_id)
        self.index_writer = open_index(index_url, writer=True)
        self.indexer = Indexer(self.chain, self.deployment, self.index_writer)
        self._index_lock = threading.Lock()
        self.sync_index()
        self.index = open_index(index_url)
        self.directory_path: Path | None = config.directory_path(self.chain_id)
        self._directory: _DirectoryCache | None = None
        self._signers = {a.account: self._load(a.account, a.keystore, a.password()) for a in config.participants}
        #: one issuance decision and one surrender bookkeeping at a time (see issuance.accept, surrender.scan)
        self.issuance_lock = threading.Lock()
        self.surrender_lock = threading.Lock()

    def close(self) -> None:
        """Let another service work the database (the process ending does the same) and close the
        connections to it and to the index."""
        self._instance.release()
        for engine in (self.db, self.index_writer, self.index):
            engine.dispose()

    @staticmethod
    def _load(account: str, keystore: Path, password: str) -> LocalAccount:
        signer = keys.from_keystore(keystore, password)
        if signer.address != account:
            raise SignerError(f"keystore {keystore} holds the key of {signer.address}, not of {account}")
        return signer

    # --- signing ------------------------------------------------------------------------------------------

    def acts_for(self, account: str) -> bool:
        return account in self._signers

    def signer_for(self, account: str) -> LocalAccount:
        """The key of `account`, the participant a request authenticated as (or whose request a worker
        carries out); SignerError when this service holds none."""
        signer = self._signers.get(account)
        if signer is None:
            raise SignerError(f"this service holds no signing key for {account}")
        return signer

    # --- the index and the directory ------------------------------------------------------------------

    def sync_index(self, until: int | None = None) -> SyncReport | None:
        """Bring the index up to `until` (default the head), unless the configuration leaves it to another
        process; one sync at a time."""
        if not self.config.index_sync:
            return None
        with self._index_lock:
            return self.indexer.sync(until)

    def directory(self) -> directories.Directory:
        """The directory file checked against the index's identifier hashes (re-read when the file or the
        index's participants change)."""
        path = self.directory_path
        try:
            stat = path.stat() if path is not None else None
        except OSError as exc:
            raise InvalidInput(f"cannot read the directory {path}: {exc.strerror or exc}") from None
        queries = Queries(self.index)
        key = (stat.st_mtime_ns if stat else 0, stat.st_size if stat else 0, queries.status().last_block)
        cached = self._directory
        if cached is None or cached.key != key:
            checked = checked_directory(self.index, path, chain_id=self.chain_id)
            for refusal in checked.refused:
                log.warning("directory entry %s (%s) refused: %s", refusal.account, refusal.legal_name, refusal.reason)
            cached = self._directory = _DirectoryCache(key, checked)
        return cached.directory

    def queries(self) -> Queries:
        return Queries(self.index, self.directory())
