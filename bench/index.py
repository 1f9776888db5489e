"""Index throughput and query times at scale: N bills with full lifecycles on an embedded Anvil, indexed into
SQLite and into a throwaway PostgreSQL server.

    python bench/index.py                    10,000 bills (about 130,000 events), JSON on stdout
    python bench/index.py --bills 2000       smaller
    python bench/index.py --no-postgres      SQLite only

Each bill: issue -> pledge and request financing -> offer -> accept -> fund -> repay in full (released to the
importer) -> surrender for delivery -> accept surrender. The chain is filled fast: every transaction is signed
locally with consecutive nonces and sent raw in JSON-RPC batches to an Anvil that mines only when told
(free gas, Besu-like), never through the client's send-and-wait path. The setup (deployment, onboarding,
credit verifications, allowances) uses the client.

Reported: sync time, events per second, database size, and the time of `inbox` (several parties) and `book`
queries at that size (median of repeated runs). Times are wall-clock and machine-dependent: printed, never
asserted. Targets: sync >= 2,000 events/s on SQLite; inbox under 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from sqlalchemy import text

from ebl_client import Client, deployment, hashing, keys, samples
from ebl_client.bills import reference_bytes
from ebl_client.errors import EblError
from ebl_client.financing import REQUEST_TYPES
from ebl_client.hashing import identifier_hash
from ebl_client.index import queries, store, sync
from ebl_client.index.pgserver import PostgresServer
from ebl_client.models import Role
from ebl_client.node import AnvilNode, dev_keys

DAY = 86_400
COIN = 10**6
GAS = 600_000
BATCH = 500
TARGET_EVENTS_PER_SECOND = 2000
TARGET_INBOX_MS = 50
EXPORTERS, IMPORTERS, BANKS = 8, 4, 3


class Filler:
    """Signs with local nonces and sends raw transactions in JSON-RPC batches; mines when told."""

    def __init__(self, client: Client, url: str) -> None:
        self.client, self.url = client, url
        self.session = requests.Session()
        self.nonces: dict[str, int] = {}
        self.pending: list[str] = []
        self.sent = 0

    def rpc(self, method: str, *params: Any) -> Any:
        answer = self.session.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                                   "params": list(params)}, timeout=600).json()
        if "error" in answer:
            raise EblError(f"{method}: {answer['error']}")
        return answer["result"]

    def add(self, signer: LocalAccount, to: str, data: str | bytes) -> None:
        address = signer.address
        if address not in self.nonces:
            self.nonces[address] = int(self.rpc("eth_getTransactionCount", address, "pending"), 16)
        tx = {"to": to, "data": data, "gas": GAS, "gasPrice": 0, "nonce": self.nonces[address],
              "chainId": self.client.chain.chain_id, "value": 0}
        self.nonces[address] += 1
        self.pending.append(signer.sign_transaction(tx).raw_transaction.to_0x_hex())

    def flush(self) -> None:
        """Send everything signed, in batches, then mine until the pool is empty."""
        for i in range(0, len(self.pending), BATCH):
            batch = [{"jsonrpc": "2.0", "id": n, "method": "eth_sendRawTransaction", "params": [raw]}
                     for n, raw in enumerate(self.pending[i:i + BATCH])]
            for answer in self.session.post(self.url, json=batch, timeout=600).json():
                if "error" in answer:
                    raise EblError(f"eth_sendRawTransaction: {answer['error']}")
        self.sent += len(self.pending)
        self.pending.clear()
        while True:
            self.rpc("evm_mine")
            status = self.rpc("txpool_status")
            if int(status["pending"], 16) == 0 and int(status["queued"], 16) == 0:
                return


def token_id(carrier: str, reference: str) -> int:
    h = int.from_bytes(keccak(abi_encode(["bytes32"], [reference_bytes(reference)])), "big") & ((1 << 96) - 1)
    return h << 160 | int(carrier, 16)


def fill(url: str, deployments_dir: Path, bills: int, progress: Callable[[str], None]) -> tuple[Client, dict[str, Any]]:
    """Deploy, onboard and play `bills` lifecycles; the client and the parties."""
    client = Client.connect(url, deployments=deployments_dir)
    signers = [keys.from_private_key(k) for k in dev_keys(1 + 1 + EXPORTERS + IMPORTERS + 3 * BANKS + 2)]
    admin, carrier, rest = signers[0], signers[1], signers[2:]
    exporters, rest = rest[:EXPORTERS], rest[EXPORTERS:]
    importers, rest = rest[:IMPORTERS], rest[IMPORTERS:]
    banks, rest = rest[:BANKS], rest[BANKS:]
    officers, rest = rest[:2 * BANKS], rest[2 * BANKS:]
    provider, regulator = rest[0], rest[1]
    suite = deployment.deploy_suite(client.chain, admin, deployments_dir, test_stablecoin=True)
    coin = suite.address("TestStablecoin")
    onboard = [(carrier, Role.CARRIER, None), *((e, Role.TRADER, None) for e in exporters),
               *((i, Role.TRADER, None) for i in importers), *((b, Role.FINANCIER, None) for b in banks),
               *((o, Role.VERIFIER, banks[n // 2]) for n, o in enumerate(officers)),
               (provider, Role.CREDIT_PROVIDER, None), (regulator, Role.REGULATOR, None)]
    for n, (who, role, bank) in enumerate(onboard):
        client.participants.onboard(who.address, role, "HK" if n % 2 else "CN", identifier_hash(f"BENCH{n:06d}",
                                    bytes([n + 1]) * 32), bank.address if bank else None, sender=admin)
    progress("onboarded")
    stable = client.chain.contract("TestStablecoin", coin)
    escrow = suite.address("FinancingEscrow")
    for who in (*banks, *importers):
        client.chain.transact(admin, stable, "mint", who.address, 10**30)
        client.chain.transact(who, stable, "approve", escrow, 2**256 - 1)
    expiry = client.now() + 300 * DAY
    for exporter in exporters:
        root = hashing.commit(hashing.load_json_file(samples.CREDIT_REPORT))
        client.credit.anchor(exporter.address, root, expiry, sender=provider)
        for b, bank in enumerate(banks):
            client.credit.grant_consent(provider.address, root.root, bank.address, expiry, sender=exporter)
            client.credit.record_verification(bank.address, exporter.address, provider.address, root.root,
                                              sender=officers[2 * b])
            client.credit.approve_verification(bank.address, exporter.address, sender=officers[2 * b + 1])
    progress("credit verified")

    filler = Filler(client, url)
    filler.rpc("evm_setAutomine", False)  # from here on the filler mines when its batches are in
    registry = client.bills.contract
    fin = client.finance.contract
    document_hash = bytes(range(1, 33))
    maturity = client.now() + 60 * DAY
    plan = []
    for n in range(bills):
        reference = f"BENCH{n:012d}"
        plan.append({"n": n, "reference": reference, "token": token_id(carrier.address, reference),
                     "exporter": exporters[n % EXPORTERS], "importer": importers[n % IMPORTERS],
                     "bank": banks[n % BANKS]})

    def phase(name: str, build: Callable[[dict[str, Any]], tuple[LocalAccount, str, str]]) -> None:
        started = time.perf_counter()
        for item in plan:
            signer, to, data = build(item)
            filler.add(signer, to, data)
        filler.flush()
        progress(f"{name}: {len(plan)} transactions in {time.perf_counter() - started:.1f} s")

    phase("issue", lambda i: (carrier, registry.address, registry.encode_abi("issue", args=[
        (reference_bytes(i["reference"]), document_hash, i["exporter"].address, i["exporter"].address, False),
        b"\0" * 32])))
    phase("pledge and request", lambda i: (i["exporter"], registry.address, registry.encode_abi("pledge", args=[
        i["token"], escrow, abi_encode(REQUEST_TYPES, [(i["importer"].address, coin, 1_000_000 * COIN, maturity,
                                                        keccak(text=i["reference"]))]), b"\0" * 32])))
    ids = _financing_ids(client, escrow)
    for item in plan:
        item["financing"] = ids[item["token"]]
    terms = (900_000 * COIN, 13_500 * COIN, maturity)
    phase("offer", lambda i: (i["bank"], fin.address, fin.encode_abi("offer", args=[i["financing"], *terms])))
    phase("accept", lambda i: (i["exporter"], fin.address, fin.encode_abi("accept", args=[
        i["financing"], i["bank"].address, terms])))
    phase("fund", lambda i: (i["bank"], fin.address, fin.encode_abi("fund", args=[i["financing"]])))
    phase("repay", lambda i: (i["importer"], fin.address, fin.encode_abi("repay", args=[
        i["financing"], terms[0] + terms[1]])))
    phase("surrender", lambda i: (i["importer"], registry.address, registry.encode_abi(
        "surrenderForDelivery", args=[i["token"], b"\0" * 32])))
    phase("accept surrender", lambda i: (carrier, registry.address, registry.encode_abi(
        "acceptSurrender", args=[i["token"], b"\0" * 32])))
    parties = {"carrier": carrier, "exporter": exporters[0], "importer": importers[0], "bank": banks[0],
               "officer": officers[1], "regulator": regulator, "transactions": filler.sent}
    return client, parties


def _financing_ids(client: Client, escrow: str) -> dict[int, int]:
    event = client.finance.contract.events.Requested()
    logs = client.chain.w3.eth.get_logs({"address": escrow, "fromBlock": 0, "toBlock": "latest",
                                         "topics": [event.topic]})
    return {int.from_bytes(log["topics"][2], "big"): int.from_bytes(log["topics"][1], "big") for log in logs}


def timed(fn: Callable[[], Any], runs: int = 15) -> float:
    """Median milliseconds of `runs` calls (after one warm-up)."""
    fn()
    samples_ms = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples_ms.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples_ms), 2)


def measure(client: Client, url: str, parties: dict[str, Any], page_size: int) -> dict[str, Any]:
    engine = store.open_index(url, writer=True)
    indexer = sync.Indexer(client.chain, client.deployment, engine, page_size=page_size)
    started = time.perf_counter()
    report = indexer.sync()
    seconds = time.perf_counter() - started
    q = queries.Queries(store.open_index(url))
    with engine.connect() as conn:
        accomplished = conn.execute(text("select count(*) from bills where status = 'accomplished'")).scalar_one()
        if engine.dialect.name == "postgresql":
            size = int(conn.execute(text("select pg_database_size(current_database())")).scalar_one())
    engine.dispose()
    if engine.dialect.name == "sqlite":
        path = engine.url.database or ""
        with sqlite3.connect(path) as raw:  # fold the write-ahead log into the file before measuring it
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = os.path.getsize(path)
    viewers = {k: q.viewer(parties[k].address) for k in ("carrier", "exporter", "importer", "bank", "officer",
                                                          "regulator")}
    return {
        "events": report.events, "blocks": report.to_block - report.from_block, "pages": report.pages,
        "syncSeconds": round(seconds, 2), "eventsPerSecond": round(report.events / seconds),
        "databaseBytes": size, "billsAccomplished": int(accomplished),
        "inboxMs": {k: timed(lambda v=v: q.inbox(v)) for k, v in viewers.items()},
        "bookMs": {"bank": timed(lambda: q.book(viewers["bank"], financier=parties["bank"].address)),
                   "regulator": timed(lambda: q.book(viewers["regulator"]))},
        "billListMs": {"exporter": timed(lambda: q.bills(viewers["exporter"], limit=50)),
                       "regulator": timed(lambda: q.bills(viewers["regulator"], limit=50))},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bills", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=sync.DEFAULT_PAGE_SIZE)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)

    def progress(message: str) -> None:
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    result: dict[str, Any] = {"bills": args.bills, "pageSize": args.page_size,
                              "targets": {"sqliteEventsPerSecond": TARGET_EVENTS_PER_SECOND,
                                          "inboxMs": TARGET_INBOX_MS}}
    with tempfile.TemporaryDirectory() as tmp, AnvilNode(gas_price=0, base_fee=0, accounts=30) as node:
        started = time.perf_counter()
        client, parties = fill(node.url, Path(tmp) / "deployments", args.bills, progress)
        result["fillSeconds"] = round(time.perf_counter() - started, 1)
        result["transactions"] = parties.pop("transactions")
        progress("indexing into SQLite")
        result["sqlite"] = measure(client, f"sqlite:///{Path(tmp) / 'index.sqlite'}", parties, args.page_size)
        progress(json.dumps(result["sqlite"]))
        if not args.no_postgres:
            with PostgresServer() as pg:
                progress("indexing into PostgreSQL")
                result["postgresql"] = measure(client, pg.new_database(), parties, args.page_size)
                progress(json.dumps(result["postgresql"]))
    result["sqliteMeetsTarget"] = result["sqlite"]["eventsPerSecond"] >= TARGET_EVENTS_PER_SECOND
    result["inboxMeetsTarget"] = all(ms < TARGET_INBOX_MS for backend in ("sqlite", "postgresql") if backend in result
                                     for ms in result[backend]["inboxMs"].values())
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
