"""The indexer: follows every event of the deployed suite into the index database, page by page.

A page is a range of at most `page_size` blocks (real nodes bound `eth_getLogs`: Besu's
`--rpc-max-logs-range` defaults to 1,000 blocks; a range the node still refuses is halved). Each page is
written in ONE database transaction together with the checkpoint (last block, its hash), so a sync killed
at any point resumes from the last whole page and gives the same tables as one clean run.

Before each page the indexer checks that the chain under it is the one it indexed: the new page's first
block must have the stored last block as parent. When it does not, `_recover` compares the stored block
hashes with the node's, newest first: a reorganisation rolls the index back to the last block both agree
on (events above it deleted, derived tables replayed from the event log); a replaced chain (an Anvil
restarted `--fresh`: not even the deployment's block agrees) empties the index and starts again. A
different deployment on the same chain (a redeploy) also starts again; another chain id is refused.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy import Connection, Engine, delete, insert, select, update

from ..chain import Chain
from ..deployment import Deployment
from ..errors import ConnectionFailed, EblError, InvalidInput
from . import events as ev
from . import projector
from . import schema as s
from .store import IndexUnavailable

log = logging.getLogger(__name__)

#: Besu's default `--rpc-max-logs-range`
DEFAULT_PAGE_SIZE = 1000
#: JSON-RPC requests per HTTP batch (block headers and bodies)
RPC_BATCH = 100
#: after indexing this many events in one sync, PostgreSQL's planner statistics are refreshed (ANALYZE):
#: autovacuum would get to it later, and until then queries on a freshly loaded index plan as on empty tables
ANALYZE_AFTER = 5000


class NodeAnswerError(EblError):
    """The node answered a JSON-RPC request with an error."""


@dataclass
class SyncReport:
    """What one `sync` did."""

    chain_id: int
    from_block: int
    to_block: int
    pages: int = 0
    events: int = 0
    #: why the index was emptied or rolled back first ("" when it was not)
    recovered: str = ""
    replayed: int = 0


def _hex_int(value: str) -> int:
    return int(value, 16)


class Rpc:
    """Raw JSON-RPC through the chain's provider: web3's result formatters cost more than the indexing."""

    def __init__(self, chain: Chain) -> None:
        self.provider: Any = chain.w3.provider
        self.url = chain.url

    @staticmethod
    def _result(response: Any, method: str) -> Any:
        if "error" in response:
            error = response["error"]
            raise NodeAnswerError(f"{method}: {error.get('message', error) if isinstance(error, dict) else error}")
        return response["result"]

    def _unreachable(self, exc: Exception) -> ConnectionFailed:
        return ConnectionFailed(f"cannot reach the node at {self.url or 'the provider'}: "
                                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")

    def call(self, method: str, *params: Any) -> Any:
        """One request's raw result; NodeAnswerError for an error reply, ConnectionFailed for an unreachable node."""
        try:
            response = self.provider.make_request(method, list(params))
        except (requests.RequestException, OSError) as exc:
            raise self._unreachable(exc) from exc
        return self._result(response, method)

    def batch(self, method: str, calls: list[list[Any]]) -> list[Any]:
        """The raw results of `method` for each params list in `calls`, in order, sent in batches of RPC_BATCH;
        NodeAnswerError for any error reply, ConnectionFailed when the node is unreachable."""
        results: list[Any] = []
        for i in range(0, len(calls), RPC_BATCH):
            chunk = [(method, params) for params in calls[i:i + RPC_BATCH]]
            try:
                responses = self.provider.make_batch_request(chunk)
            except (requests.RequestException, OSError) as exc:
                raise self._unreachable(exc) from exc
            if not isinstance(responses, list):
                self._result(responses, method)
            results.extend(self._result(r, method) for r in responses)
        return results

    def blocks(self, numbers: list[int], full: set[int] | frozenset[int] = frozenset()) -> dict[int, dict[str, Any]]:
        """Blocks by number (with their transactions for those in `full`); NodeAnswerError for a missing one."""
        found = self.batch("eth_getBlockByNumber", [[hex(n), n in full] for n in numbers])
        result: dict[int, dict[str, Any]] = {}
        for n, block in zip(numbers, found, strict=True):
            if block is None:
                raise NodeAnswerError(f"the node has no block {n}")
            result[n] = block
        return result


class Indexer:
    """Indexes the suite of `deployment` on `chain` into `engine` (opened with `store.open_index(url,
    writer=True)`). `sync()` once; `watch()` until told to stop."""

    def __init__(self, chain: Chain, deployment: Deployment, engine: Engine, *, page_size: int = DEFAULT_PAGE_SIZE,
                 confirmations: int = 0) -> None:
        if page_size < 1:
            raise InvalidInput(f"page size {page_size} must be at least one block")
        self.chain = chain
        self.deployment = deployment
        self.engine = engine
        self.page_size = page_size
        self.confirmations = confirmations
        self.rpc = Rpc(chain)
        self.contracts: dict[str, str] = {ev.checksummed(deployment.address(n)): n for n in ev.CONTRACTS}
        #: what the checkpoint records of the deployment it indexes (manifest name -> address)
        self.addresses = {n: deployment.address(n) for n in ev.CONTRACTS}
        self.start_block = min(deployment.contracts[n].block for n in ev.CONTRACTS)

    # --- the checkpoint ----------------------------------------------------------------------------------

    def _state(self, conn: Connection, *, lock: bool = False) -> dict[str, Any] | None:
        query = select(s.index_state).where(s.index_state.c.id == 1)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).mappings().first()
        return dict(row) if row is not None else None

    def _initial_state(self) -> dict[str, Any]:
        escrow = self.chain.contract("FinancingEscrow", self.deployment.address("FinancingEscrow"))
        return {"id": 1, "chain_id": self.chain.chain_id, "contracts": self.addresses,
                "start_block": self.start_block, "last_block": self.start_block - 1, "last_hash": None,
                "last_time": 0, "grace_period": int(self.chain.call(escrow, "gracePeriod")),
                "projection": projector.VERSION}

    def _reset(self, conn: Connection) -> None:
        """Forget everything indexed: the log, the blocks, the derived state, the checkpoint."""
        for table in reversed(s.DERIVED):
            conn.execute(delete(table))
        for table in (s.event_parties, s.events, s.blocks, s.tokens, s.index_state):
            conn.execute(delete(table))
        conn.execute(insert(s.index_state).values(self._initial_state()))

    def _prepare(self, report: SyncReport) -> dict[str, Any]:
        """The checkpoint, after refusing another chain, restarting for another deployment and replaying
        derived tables built by an older projector."""
        with self.engine.begin() as conn:
            state = self._state(conn, lock=True)
            if state is not None and state["chain_id"] != self.chain.chain_id:
                raise IndexUnavailable(
                    f"this index holds chain {state['chain_id']}, but the node serves chain {self.chain.chain_id}: "
                    "give the index of this chain (--index)")
            if state is None or state["contracts"] != self.addresses:
                if state is not None:
                    report.recovered = "the suite was deployed again: the index starts over"
                    log.warning(report.recovered)
                self._reset(conn)
            elif state["projection"] != projector.VERSION:
                report.replayed = projector.replay(conn)
                conn.execute(update(s.index_state).values(projection=projector.VERSION))
            state = self._state(conn)
            assert state is not None
            return state

    # --- syncing -----------------------------------------------------------------------------------------

    def head(self) -> int:
        """The newest block to index: the node's latest block number less the confirmations (never below 0)."""
        return max(_hex_int(self.rpc.call("eth_blockNumber")) - self.confirmations, 0)

    def sync(self, until: int | None = None, *, stop: Callable[[], bool] = lambda: False) -> SyncReport:
        """Index every block up to `until` (default: the node's head less the confirmations)."""
        state = self._prepare(report := SyncReport(self.chain.chain_id, 0, 0))
        if state["last_hash"] is not None and not self._still_there(state["last_block"], state["last_hash"]):
            report.recovered = self._recover()
            log.warning(report.recovered)
            with self.engine.connect() as conn:
                state = self._state(conn) or state
        report.from_block = report.to_block = state["last_block"]
        target = self.head() if until is None else until
        while state["last_block"] < target and not stop():
            first = state["last_block"] + 1
            last = min(first + self.page_size - 1, target)
            page = self._page(first, last, state["last_hash"])
            if page is None:  # the chain under the index changed
                report.recovered = self._recover()
                log.warning(report.recovered)
            else:
                report.pages += 1
                report.events += page
            with self.engine.connect() as conn:
                state = self._state(conn) or state
            report.to_block = state["last_block"]
        if report.events >= ANALYZE_AFTER and self.engine.dialect.name == "postgresql":
            with self.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        return report

    def _still_there(self, number: int, block_hash: str) -> bool:
        """Whether the node's block `number` is the one indexed (a node restarted on a fresh chain may not
        even have reached that height)."""
        block = self.rpc.call("eth_getBlockByNumber", hex(number), False)
        return block is not None and block["hash"] == block_hash

    def watch(self, *, interval: float = 1.0, stop: Callable[[], bool] = lambda: False,
              on_sync: Callable[[SyncReport], None] = lambda r: None,
              on_error: Callable[[EblError], None] = lambda e: None) -> None:
        """Follow new blocks until `stop()` is true; `on_sync` sees each sync that indexed something. A node
        that cannot be reached (restarting, say) is tried again every `interval`; `on_error` hears of it."""
        while not stop():
            try:
                report = self.sync(stop=stop)
            except ConnectionFailed as exc:
                on_error(exc)
            else:
                if report.events or report.pages or report.recovered:
                    on_sync(report)
            deadline = time.monotonic() + interval
            while not stop() and time.monotonic() < deadline:
                time.sleep(min(0.1, interval))

    def _logs(self, first: int, last: int) -> list[dict[str, Any]]:
        """The suite's logs in [first, last], halving a range the node refuses."""
        try:
            found: list[dict[str, Any]] = self.rpc.call("eth_getLogs", {
                "fromBlock": hex(first), "toBlock": hex(last), "address": list(self.contracts)})
            return found
        except NodeAnswerError:
            if first == last:
                raise
            middle = (first + last) // 2
            return self._logs(first, middle) + self._logs(middle + 1, last)

    def _page(self, first: int, last: int, parent_hash: str | None) -> int | None:
        """Index blocks [first, last] in one transaction; the number of events, or None when the node's
        block `first` does not follow the indexed chain."""
        logs = self._logs(first, last)
        event_blocks = {_hex_int(entry["blockNumber"]) for entry in logs}
        blocks = self.rpc.blocks(sorted(event_blocks | {first, last}), full=event_blocks)
        if parent_hash is not None and blocks[first]["parentHash"] != parent_hash:
            return None
        senders = {tx["hash"]: ev.checksummed(tx["from"])
                   for n in event_blocks for tx in blocks[n]["transactions"]}
        rows: list[projector.Row] = []
        for entry in logs:
            n = _hex_int(entry["blockNumber"])
            if entry.get("removed") or entry["blockHash"] != blocks[n]["hash"]:
                return None  # the node reorganised between the two requests: check, then retry
            decoded = ev.decode(self.contracts[ev.checksummed(entry["address"])], entry)
            if decoded is None:
                continue
            rows.append(projector.Row(
                id=s.event_id(decoded.block, decoded.log_index), block=n, time=_hex_int(blocks[n]["timestamp"]),
                tx_hash=decoded.tx_hash, tx_from=senders[decoded.tx_hash], log_index=decoded.log_index,
                contract=decoded.contract, event=decoded.event, args=decoded.args))
        rows.sort(key=lambda r: r.id)
        with self.engine.begin() as conn:
            state = self._state(conn, lock=True)
            if state is None or state["last_block"] != first - 1:
                return 0  # another indexer wrote this page meanwhile
            self._write(conn, rows, blocks, event_blocks, last)
        return len(rows)

    def _write(self, conn: Connection, rows: list[projector.Row], blocks: dict[int, dict[str, Any]],
               event_blocks: set[int], last: int) -> None:
        derived = projector.Rows(conn)
        projector.apply(derived, rows)
        records: list[dict[str, Any]] = []
        parties: list[dict[str, Any]] = []
        for r in rows:
            token, financing = projector.bill_of(derived, r.event, r.args)
            records.append({"id": r.id, "block": r.block, "log_index": r.log_index, "time": r.time,
                            "tx_hash": r.tx_hash, "tx_from": r.tx_from, "contract": r.contract,
                            "event": r.event, "args": r.args, "actor": projector.actor(r.event, r.args, r.tx_from),
                            "token_id": token, "financing_id": financing})
            parties.extend({"event_id": r.id, "account": account, "role": role}
                           for account, role in projector.parties(r.event, r.args, r.tx_from).items())
        if records:
            conn.execute(insert(s.events), records)
            conn.execute(insert(s.event_parties), parties)
        derived.flush()
        self._remember_tokens(conn, rows)
        kept = sorted(event_blocks | {last})
        existing = set(conn.execute(select(s.blocks.c.number).where(s.blocks.c.number.in_(kept))).scalars())
        new_blocks = [{"number": n, "hash": blocks[n]["hash"], "time": _hex_int(blocks[n]["timestamp"])}
                      for n in kept if n not in existing]
        if new_blocks:
            conn.execute(insert(s.blocks), new_blocks)
        conn.execute(update(s.index_state).values(last_block=last, last_hash=blocks[last]["hash"],
                                                  last_time=_hex_int(blocks[last]["timestamp"])))

    def _remember_tokens(self, conn: Connection, rows: list[projector.Row]) -> None:
        """Symbol and decimals of each settlement token seen for the first time (no event carries them)."""
        seen = {r.args["token"] for r in rows if r.event in ("TokenAllowed", "Requested", "Withdrawn")}
        if not seen:
            return
        known = set(conn.execute(select(s.tokens.c.address).where(s.tokens.c.address.in_(seen))).scalars())
        for address in sorted(seen - known):
            contract = self.chain.contract("TestStablecoin", address)  # any ERC-20: standard views only
            try:
                symbol, decimals = str(self.chain.call(contract, "symbol")), int(self.chain.call(contract, "decimals"))
            except Exception:  # a token without the optional metadata: shown by address, amounts in units
                symbol, decimals = address, 0
            conn.execute(insert(s.tokens).values(address=address, symbol=symbol[:32], decimals=decimals))

    # --- a changed chain -------------------------------------------------------------------------------------

    def _recover(self) -> str:
        """Roll back to the newest stored block the node agrees on (replaying the derived tables), or start
        over when none agrees (the chain was replaced). Returns what happened."""
        with self.engine.connect() as conn:
            stored = conn.execute(select(s.blocks.c.number, s.blocks.c.hash).order_by(s.blocks.c.number.desc())).all()
        head = _hex_int(self.rpc.call("eth_blockNumber"))
        fork: tuple[int, str] | None = None
        for i in range(0, len(stored), RPC_BATCH):
            chunk = [(n, h) for n, h in stored[i:i + RPC_BATCH] if n <= head]
            if not chunk:
                continue
            answers = self.rpc.batch("eth_getBlockByNumber", [[hex(n), False] for n, _ in chunk])
            fork = next(((n, h) for (n, h), b in zip(chunk, answers, strict=True) if b and b["hash"] == h), None)
            if fork is not None:
                break
        with self.engine.begin() as conn:
            state = self._state(conn, lock=True)
            if fork is None or fork[0] < self.start_block:
                self._reset(conn)
                return "the chain under the index was replaced (its blocks no longer match): the index starts over"
            number, block_hash = fork
            for table in (s.event_parties, s.events):
                column = table.c.event_id if table is s.event_parties else table.c.id
                conn.execute(delete(table).where(column >= s.event_id(number + 1, 0)))
            conn.execute(delete(s.blocks).where(s.blocks.c.number > number))
            time_of = conn.execute(select(s.blocks.c.time).where(s.blocks.c.number == number)).scalar_one()
            conn.execute(update(s.index_state).values(last_block=number, last_hash=block_hash, last_time=time_of))
            replayed = projector.replay(conn)
            assert state is not None
            return (f"the chain reorganised below block {state['last_block']}: rolled back to block {number} and "
                    f"replayed {replayed} events")
