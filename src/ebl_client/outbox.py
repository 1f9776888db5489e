"""The outbox: a durable journal of every transaction the client signs, written (and fsync'd) before the
transaction is sent, looked up on the chain on connect and by `ebl tx resend`, and resent byte for byte when
a node lost it. Nothing signed is lost; nothing is applied twice (a resend has the same hash and nonce).

Layout: one journal per chain and sender, `<outbox dir>/<chainId>/<sender>.jsonl` (default outbox dir
`.ebl/outbox`, or `$EBL_OUTBOX`), appended under an exclusive `flock` on `<sender>.jsonl.lock`, so two
processes signing for one sender never interleave lines or pick the same nonce. One JSON object a line:

    {"record": "journal", "format": 1, "chainId": 31337, "genesis": "0x..", "sender": "0x..", "created": ".."}
    {"record": "signed", "hash": "0x..", "nonce": 7, "label": "BillOfLadingRegistry.issue HKG123",
     "to": "0x..", "raw": "0x02f8..", "batch": null, "item": null, "at": ".."}      (fsync'd before sending)
    {"record": "sent", "hash": "0x..", "resend": false, "at": ".."}
    {"record": "mined", "hash": "0x..", "status": 1, "block": 12, "blockHash": "0x..", "gasUsed": 151234, "at": ".."}
    {"record": "lost", "hash": "0x..", "detail": "..", "at": ".."}       (mined, then gone: pending again)
    {"record": "conflict" | "refused" | "superseded", "hash": "0x..", "detail": "..", "at": ".."}

An entry's state is the fold of its records: pending (signed; perhaps sent) until mined (status 1) or
reverted (status 0), or final without reaching the chain: conflict (its nonce was used by another
transaction: reported, never papered over), refused (the node refused it, so it never entered the pool) or
superseded (signed but never sent, re-signed under another nonce). Only `signed` records are fsync'd: every
later record is an observation of the chain that reconciliation can make again.

The chain is identified by its chain id and genesis block hash (the journal's first line). A node restarted
empty (same chain id, new genesis) is refused with `ChainReplaced` while the journal holds pending entries;
`ebl tx forget --chain-replaced` moves such journals to `<chainId>/archive/` (never deletes them). A journal
for a replaced chain with nothing pending is archived by itself.

A `kill -9` at any point leaves at worst a torn last line: it is detected, ignored with a warning, and
terminated by the next writer. Compaction: finished entries are kept; once a journal holds
`ROTATE_AFTER` entries, nothing is pending and the chain has confirmed every nonce in it, reconciliation
moves it to `<chainId>/archive/<sender>-<UTC time>.jsonl` and the next transaction starts a new journal.
"""

from __future__ import annotations

import enum
import fcntl
import json
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from eth_utils import to_checksum_address

from .errors import LocalStateError, WrongChain
from .rpc import RpcError

OUTBOX_ENV = "EBL_OUTBOX"
DEFAULT_DIR = Path(".ebl/outbox")
FORMAT = 1
#: a journal with this many entries, nothing pending and every nonce confirmed is moved to archive/
ROTATE_AFTER = 1000
#: seconds to wait for another process's lock on a journal
LOCK_TIMEOUT = 60.0
#: TEST ONLY: `EBL_TEST_KILL_AT=<point>` makes the process SIGKILL itself at that point of the send path
#: (`journaled`: signed records fsync'd, nothing sent; `sent`: sent, no receipt yet; `torn`: half-way through
#: writing the signed records). Used by tests/client/test_faults.py; never set it anywhere else.
KILL_ENV = "EBL_TEST_KILL_AT"


def default_dir() -> Path:
    """$EBL_OUTBOX, else .ebl/outbox (relative to the working directory)."""
    return Path(os.environ.get(OUTBOX_ENV) or DEFAULT_DIR)


def kill_point(name: str) -> None:
    """TEST ONLY: SIGKILL this process when $EBL_TEST_KILL_AT is `name` (simulates a crash at that point)."""
    if os.environ.get(KILL_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class OutboxError(LocalStateError):
    """The outbox cannot be read or written (permissions, disk full, a lock held too long)."""


class ChainReplaced(WrongChain):
    """The node serves another chain under the same chain id (restarted empty): the journal's pending
    transactions never reached it. `ebl tx forget --chain-replaced` archives the journal."""

    def __init__(self, journal: Path, chain_id: int, recorded: str, actual: str, pending: int, others: int) -> None:
        self.journal, self.chain_id, self.recorded, self.actual = journal, chain_id, recorded, actual
        self.pending = pending
        more = f" (and {others} more journal{'s' if others > 1 else ''})" if others else ""
        super().__init__(
            f"the journal {journal}{more} was written for chain {chain_id} with genesis {recorded}; this node's "
            f"genesis is {actual}: {pending} transaction{'s' if pending != 1 else ''} never reached this chain. "
            f"If that chain is gone for good, `ebl tx forget --chain-replaced` archives the journal (nothing is "
            f"deleted); otherwise connect to a node of that chain"
        )


class State(enum.Enum):
    """Where a journalled transaction stands: pending until the chain says mined, reverted, or a nonce conflict."""

    PENDING = "pending"
    MINED = "mined"
    REVERTED = "reverted"
    CONFLICT = "conflict"
    REFUSED = "refused"
    SUPERSEDED = "superseded"

    @property
    def final(self) -> bool:
        """Whether nothing more will happen to the entry by itself (every state but PENDING)."""
        return self is not State.PENDING


_FINAL_RECORDS = {"conflict": State.CONFLICT, "refused": State.REFUSED, "superseded": State.SUPERSEDED}


@dataclass
class Entry:
    """One signed transaction and what became of it."""

    hash: str
    nonce: int
    sender: str
    chain_id: int
    label: str
    raw: str
    to: str | None
    signed_at: str
    batch: str | None = None
    item: int | None = None
    #: digest of (to, data, value): how a resumed batch recognises its items
    call: str | None = None
    state: State = State.PENDING
    sends: int = 0
    sent_at: str | None = None
    status: int | None = None
    block: int | None = None
    block_hash: str | None = None
    gas_used: int | None = None
    detail: str = ""
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def sent(self) -> bool:
        """Whether the transaction was sent to a node at least once."""
        return self.sends > 0

    def apply(self, record: dict[str, Any]) -> None:
        """Fold one journal record (sent, mined, lost, conflict, refused, superseded) into the entry's state; other
        kinds are only kept in `records`."""
        kind = record.get("record")
        self.records.append(record)
        if kind == "sent":
            self.sends += 1
            self.sent_at = record.get("at")
        elif kind == "mined":
            self.status, self.block = int(record["status"]), int(record["block"])
            self.block_hash, self.gas_used = record.get("blockHash"), int(record.get("gasUsed", 0))
            self.state = State.MINED if self.status == 1 else State.REVERTED
            self.detail = str(record.get("detail", ""))
        elif kind == "lost":
            self.state, self.block, self.block_hash, self.status = State.PENDING, None, None, None
            self.detail = str(record.get("detail", ""))
        elif kind in _FINAL_RECORDS:
            self.state = _FINAL_RECORDS[str(kind)]
            self.detail = str(record.get("detail", ""))

    def snapshot(self) -> Entry:
        """A copy that later records do not change."""
        return replace(self, records=list(self.records))


def signed_record(*, hash: str, nonce: int, label: str, to: str | None, raw: str, call: str | None = None,
                  batch: str | None = None, item: int | None = None) -> dict[str, Any]:
    """The `signed` journal record of a transaction (its raw bytes, nonce and label), stamped with the current
    UTC time: the record that is fsync'd before the transaction is sent."""
    return {"record": "signed", "hash": hash, "nonce": nonce, "label": label, "to": to, "raw": raw, "call": call,
            "batch": batch, "item": item, "at": _now()}


def record(kind: str, hash: str, **values: Any) -> dict[str, Any]:
    """A journal record of `kind` about transaction `hash`, with `values` and the current UTC time."""
    return {"record": kind, "hash": hash, **values, "at": _now()}


class Journal:
    """One sender's journal on one chain. Read it, and append to it, inside `with journal.locked():`.

    The in-memory view follows the file incrementally: entering the lock reads only what other processes
    appended since."""

    def __init__(self, path: Path, chain_id: int, sender: str) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.chain_id = chain_id
        self.sender = sender
        self.header: dict[str, Any] | None = None
        self.entries: dict[str, Entry] = {}
        self.warnings: list[str] = []
        self._offset = 0
        self._lines = 0
        self._inode: int | None = None
        #: the unterminated bytes after `_offset` (a torn write), ended by the next append
        self._tail = b""
        self._thread_lock = threading.RLock()
        self._lock_fd: int | None = None
        self._depth = 0

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    # --- locking ----------------------------------------------------------------------------------------

    @contextmanager
    def locked(self, *, shared: bool = False, timeout: float = LOCK_TIMEOUT) -> Iterator[Journal]:
        """Hold the journal's lock (exclusive, or `shared` for reading only); re-entrant in one thread."""
        with self._thread_lock:
            if self._depth == 0:
                self._acquire(fcntl.LOCK_SH if shared else fcntl.LOCK_EX, timeout)
            self._depth += 1
            try:
                if self._depth == 1:  # what other processes appended while we did not hold the lock
                    self.refresh()
                yield self
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._release()

    def _acquire(self, mode: int, timeout: float) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise OutboxError(f"cannot open the outbox lock {self.lock_path}: {exc.strerror or exc}") from None
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                self._lock_fd = fd
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise OutboxError(f"another process has held {self.lock_path} for {timeout:g} s") from None
                time.sleep(0.005)

    def _release(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    # --- reading ----------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read what was appended since the last read (everything, when the file was replaced)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._reset()
            return
        except OSError as exc:
            raise OutboxError(f"cannot read the outbox journal {self.path}: {exc.strerror or exc}") from None
        if st.st_ino != self._inode or st.st_size < self._offset:
            self._reset()
            self._inode = st.st_ino
        if st.st_size == self._offset:
            return
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self._offset)
                data = fh.read()
        except OSError as exc:
            raise OutboxError(f"cannot read the outbox journal {self.path}: {exc.strerror or exc}") from None
        self._consume(data)

    def _consume(self, data: bytes) -> None:
        """Parse the bytes that follow `_offset` in the file: its complete lines, and the unterminated tail
        (read under the lock, no writer is half-way through: a torn write)."""
        complete, _, tail = data.rpartition(b"\n")
        if complete or data.startswith(b"\n"):
            for raw_line in (complete + b"\n").split(b"\n")[:-1]:
                self._lines += 1
                self._parse(raw_line, self._lines)
            self._offset += len(complete) + 1
        self._tail = tail
        if tail:
            self._warn(f"line {self._lines + 1} of {self.path} is torn (a write cut short by a crash): ignored")

    def _reset(self) -> None:
        self.header, self.entries, self._offset, self._lines, self._inode = None, {}, 0, 0, None
        self._tail = b""

    def _warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def _parse(self, raw_line: bytes, number: int) -> None:
        if not raw_line.strip():
            return
        try:
            rec = json.loads(raw_line)
            if not isinstance(rec, dict) or not isinstance(rec.get("record"), str):
                raise ValueError("not a record")
        except (ValueError, UnicodeDecodeError):
            self._warn(f"line {number} of {self.path} is torn (a write cut short by a crash): ignored")
            return
        kind = rec["record"]
        if kind == "archived":
            return
        if kind == "journal":
            if self.header is None:
                self.header = rec
            return
        if kind == "signed":
            try:
                entry = Entry(hash=str(rec["hash"]), nonce=int(rec["nonce"]), sender=self.sender,
                              chain_id=self.chain_id, label=str(rec.get("label", "")), raw=str(rec["raw"]),
                              to=rec.get("to"), signed_at=str(rec.get("at", "")), batch=rec.get("batch"),
                              item=rec.get("item"), call=rec.get("call"), records=[rec])
            except (KeyError, TypeError, ValueError):
                self._warn(f"line {number} of {self.path} is not a valid signed record: ignored")
                return
            known = self.entries.get(entry.hash)
            if known is None:
                self.entries[entry.hash] = entry
            elif known.state in (State.SUPERSEDED, State.REFUSED):
                # the same bytes signed again (an identical call re-signed at that nonce): pending once more
                known.records.append(rec)
                known.state, known.label, known.batch, known.item = State.PENDING, entry.label, entry.batch, entry.item
            return
        known = self.entries.get(str(rec.get("hash")))
        if known is None:
            self._warn(f"line {number} of {self.path} names a transaction the journal never signed: ignored")
            return
        known.apply(rec)

    @property
    def genesis(self) -> str | None:
        """The genesis block hash the journal was written for; None before its header is read or written."""
        return None if self.header is None else str(self.header.get("genesis"))

    def pending(self) -> list[Entry]:
        """The entries not yet mined, reverted or otherwise final."""
        return [e for e in self.entries.values() if e.state is State.PENDING]

    def by_item(self, batch: str) -> dict[int, Entry]:
        """The live (not superseded, refused or conflicting) entries of a batch, by item number."""
        found: dict[int, Entry] = {}
        for e in self.entries.values():
            if e.batch == batch and e.item is not None and e.state in (State.PENDING, State.MINED, State.REVERTED):
                found[int(e.item)] = e
        return found

    # --- writing ----------------------------------------------------------------------------------------

    def append(self, records: Sequence[dict[str, Any]], *, genesis: str, durable: bool = False) -> None:
        """Append `records` (one write; fsync'd when `durable`). Call inside `locked()`. The first write of a
        journal starts with its header; a torn tail left by a crash is terminated first, so it stays one
        ignored line instead of swallowing the next record."""
        if self._lock_fd is None:
            raise RuntimeError("journal appended to without its lock")  # a bug in the caller: exit 70, never a user's
        lines: list[bytes] = []
        if self._tail:
            lines.append(b"")
        if self.header is None:
            header = {"record": "journal", "format": FORMAT, "chainId": self.chain_id, "genesis": genesis,
                      "sender": self.sender, "created": _now()}
            lines.append(_encode(header))
        lines.extend(_encode(r) for r in records)
        data = b"\n".join(lines) + b"\n"
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                st = os.fstat(fd)
                created = st.st_size == 0
                if os.environ.get(KILL_ENV) == "torn" and any(r.get("record") == "signed" for r in records):
                    os.write(fd, data[: len(data) // 2])  # TEST ONLY: a crash half-way through the write
                    os.fsync(fd)
                    kill_point("torn")
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                if durable:
                    _sync(fd)
            finally:
                os.close(fd)
            if created:
                _fsync_dir(self.path.parent)
        except OSError as exc:
            raise OutboxError(f"cannot write the outbox journal {self.path}: {exc.strerror or exc}; nothing was "
                              "sent") from None
        if st.st_ino != self._inode or st.st_size != self._offset + len(self._tail):
            self.refresh()  # not the file we had read to its end (a new one): read it all
        else:  # we hold the lock and knew the file to its end: what follows is exactly what we wrote
            self._consume(self._tail + data)


def _encode(rec: dict[str, Any]) -> bytes:
    return json.dumps(rec, separators=(",", ":"), ensure_ascii=True).encode()


def _sync(fd: int) -> None:
    """The appended bytes on disk (fdatasync: the data and the file size, not the access times)."""
    (os.fdatasync if hasattr(os, "fdatasync") else os.fsync)(fd)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Outbox:
    """The journals under one folder (`default_dir()` unless given)."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_dir()
        self._journals: dict[tuple[int, str], Journal] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Outbox({str(self.directory)!r})"

    def chain_dir(self, chain_id: int) -> Path:
        """The folder of chain `chain_id`'s journals: `<outbox dir>/<chainId>`."""
        return self.directory / str(int(chain_id))

    def journal(self, chain_id: int, sender: str) -> Journal:
        """The journal of `sender` on chain `chain_id` (created on first write)."""
        sender = to_checksum_address(sender)
        with self._lock:
            key = (int(chain_id), sender)
            if key not in self._journals:
                self._journals[key] = Journal(self.chain_dir(chain_id) / f"{sender}.jsonl", int(chain_id), sender)
            return self._journals[key]

    def chain_ids(self) -> list[int]:
        """The chain ids that have a folder in the outbox, in ascending order."""
        if not self.directory.is_dir():
            return []
        return sorted(int(p.name) for p in self.directory.iterdir() if p.is_dir() and p.name.isdigit())

    def journals(self, chain_id: int) -> list[Journal]:
        """The journals present for chain `chain_id`, by sender."""
        folder = self.chain_dir(chain_id)
        if not folder.is_dir():
            return []
        found = []
        for path in sorted(folder.glob("*.jsonl")):
            try:
                found.append(self.journal(chain_id, path.stem))
            except ValueError:
                continue  # not one of ours
        return found

    def archive(self, journal: Journal, reason: str) -> Path:
        """Move `journal` to `<chainId>/archive/<sender>-<UTC time>.jsonl` (call inside its lock): kept for
        the audit trail, out of the live outbox. Returns the new path."""
        folder = journal.path.parent / "archive"
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = folder / f"{journal.sender}-{stamp}.jsonl"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with open(journal.path, "ab") as fh:
                fh.write(_encode(record("archived", "", detail=reason)) + b"\n")
            os.rename(journal.path, target)
            _fsync_dir(folder)
            _fsync_dir(journal.path.parent)
        except OSError as exc:
            raise OutboxError(f"cannot archive {journal.path}: {exc.strerror or exc}") from None
        journal.refresh()
        return target


# --- reconciliation: each pending entry looked up on the chain ------------------------------------------------


class Node(Protocol):
    """What reconciliation needs from a connection (chain.Chain provides it)."""

    url: str

    @property
    def chain_id(self) -> int:
        """The node's chain id."""
        ...

    @property
    def genesis_hash(self) -> str:
        """The hash of the chain's block 0 (with the chain id, what identifies the chain)."""
        ...

    def rpc_batch(self, requests: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Raw JSON-RPC requests in batches: each one's raw result or its RpcError, in order."""
        ...

    def wait_receipts(self, hashes: Sequence[str], timeout: float | None = None) -> dict[str, dict[str, Any]]:
        """The raw receipts, by hash, of those of `hashes` that get mined; gives up `timeout` seconds (default: the
        connection's receipt timeout) after the last one arrived."""
        ...


@dataclass(frozen=True)
class Finding:
    """What reconciliation found (and did) for one journal entry."""

    entry: Entry
    #: mined | reverted | resent | in the pool | conflict | could not resend | lost
    action: str
    detail: str = ""


@dataclass
class Reconciliation:
    """What reconciling the outbox with the chain found: each entry's outcome, journals archived, warnings."""

    findings: list[Finding] = field(default_factory=list)
    archived: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def resent(self) -> list[Finding]:
        """The findings of entries sent again."""
        return [f for f in self.findings if f.action == "resent"]

    @property
    def conflicts(self) -> list[Finding]:
        """The findings of entries whose nonce another transaction used."""
        return [f for f in self.findings if f.action == "conflict"]


def _is_nonce_too_low(error: RpcError) -> bool:
    text = error.message.lower()
    return "nonce too low" in text or "nonce is too low" in text or "old nonce" in text


def is_already_known(error: RpcError) -> bool:
    """Whether a node's refusal of a raw transaction says it already has it (pooled or imported): not a failure."""
    text = error.message.lower()
    return "already known" in text or "already imported" in text or "known transaction" in text or (
        "already in" in text and "pool" in text)


def mined_record(receipt: dict[str, Any], detail: str = "") -> dict[str, Any]:
    """The `mined` journal record of a raw receipt: status, block, block hash and gas used."""
    extra = {"detail": detail} if detail else {}
    return record("mined", str(receipt["transactionHash"]), status=_int(receipt["status"]),
                  block=_int(receipt["blockNumber"]), blockHash=str(receipt["blockHash"]),
                  gasUsed=_int(receipt["gasUsed"]), **extra)


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def check_chain(outbox: Outbox, node: Node) -> list[Journal]:
    """The chain's journals, after the chain-identity check: a journal written for another genesis is
    archived when nothing in it is pending; ChainReplaced when something is."""
    journals = outbox.journals(node.chain_id)
    if not journals:
        return []
    genesis = node.genesis_hash
    replaced: list[tuple[Journal, int]] = []
    live = []
    for journal in journals:
        with journal.locked():
            if journal.genesis is None or journal.genesis == genesis:
                live.append(journal)
                continue
            pending = len(journal.pending())
            if pending:
                replaced.append((journal, pending))
            else:
                outbox.archive(journal, f"chain {node.chain_id} replaced: genesis {journal.genesis} -> {genesis}")
    if replaced:
        journal, pending = replaced[0]
        raise ChainReplaced(journal.path, node.chain_id, str(journal.genesis), genesis, pending, len(replaced) - 1)
    return live


def forget_replaced(outbox: Outbox, node: Node) -> list[tuple[Path, int]]:
    """Archive every journal of this chain id written for another genesis; (new path, pending count) each."""
    genesis = node.genesis_hash
    moved = []
    for journal in outbox.journals(node.chain_id):
        with journal.locked():
            if journal.genesis is not None and journal.genesis != genesis:
                pending = len(journal.pending())
                moved.append((outbox.archive(journal, f"forgotten: chain {node.chain_id} replaced (genesis "
                                                      f"{journal.genesis} -> {genesis}), {pending} pending"),
                              pending))
    return moved


def reconcile(outbox: Outbox, node: Node, *, senders: Sequence[str] | None = None, wait: bool = True,
              rotate_after: int = ROTATE_AFTER) -> Reconciliation:
    """Look every pending entry (and every mined entry the chain no longer counts) up on the chain: mined ->
    recorded with its receipt; unknown to the node -> the identical signed bytes sent again, in the order they
    were first signed, one original block at a time (a transaction that depended on another one is resent
    after it); its nonce used by another transaction -> a conflict. ChainReplaced when the node serves another
    chain under the same chain id. Holds every journal's lock while it works."""
    result = Reconciliation()
    journals = check_chain(outbox, node)
    if senders is not None:
        wanted = {to_checksum_address(s) for s in senders}
        journals = [j for j in journals if j.sender in wanted]
    if not journals:
        return result
    with _all_locked(journals):
        for j in journals:
            result.warnings.extend(j.warnings)
        active = [j for j in journals if j.entries]
        counts = node.rpc_batch([("eth_getTransactionCount", [j.sender, "latest"]) for j in active])
        confirmed = {j.sender: _int(c) for j, c in zip(active, counts, strict=True) if not isinstance(c, RpcError)}
        to_check: list[tuple[Journal, Entry]] = []
        lost: list[tuple[Journal, Entry]] = []
        for j in active:
            count = confirmed.get(j.sender)
            for e in j.entries.values():
                if e.state is State.PENDING:
                    to_check.append((j, e))
                elif e.state in (State.MINED, State.REVERTED) and count is not None and e.nonce >= count:
                    lost.append((j, e))
        for j, e in lost:
            j.append([record("lost", e.hash, detail=f"mined in block {e.block}, but the node now counts only "
                                                   f"{confirmed[j.sender]} transactions from {j.sender}")],
                     genesis=node.genesis_hash)
            to_check.append((j, e))
        resend = _look_up(node, to_check, confirmed, result)
        if resend:
            _resend(node, resend, result, wait=wait)
        for j in active:
            count = confirmed.get(j.sender)
            if (len(j.entries) >= rotate_after and not j.pending() and count is not None
                    and all(e.nonce < count for e in j.entries.values() if e.state in (State.MINED, State.REVERTED))):
                result.archived.append(outbox.archive(j, f"rotated after {len(j.entries)} finished entries"))
    return result


@contextmanager
def _all_locked(journals: Sequence[Journal]) -> Iterator[None]:
    held: list[Any] = []
    try:
        for j in sorted(journals, key=lambda j: str(j.path)):  # one order everywhere: no deadlock
            cm = j.locked()
            cm.__enter__()
            held.append(cm)
        yield
    finally:
        for cm in reversed(held):
            cm.__exit__(None, None, None)


def _look_up(node: Node, items: list[tuple[Journal, Entry]], confirmed: dict[str, int],
             result: Reconciliation) -> list[tuple[Journal, Entry]]:
    """Receipts and pool presence of `items`; records what is known; returns those to resend."""
    if not items:
        return []
    replies = node.rpc_batch([r for _, e in items for r in (("eth_getTransactionReceipt", [e.hash]),
                                                             ("eth_getTransactionByHash", [e.hash]))])
    resend = []
    for n, (j, e) in enumerate(items):
        receipt, tx = replies[2 * n], replies[2 * n + 1]
        if isinstance(receipt, dict) and receipt.get("blockNumber") is not None:
            j.append([mined_record(receipt)], genesis=node.genesis_hash)
            result.findings.append(Finding(j.entries[e.hash].snapshot(),
                                           "mined" if _int(receipt["status"]) == 1 else "reverted"))
        elif isinstance(tx, dict):
            result.findings.append(Finding(e.snapshot(), "in the pool", "sent; waiting to be mined"))
        elif isinstance(receipt, RpcError) or isinstance(tx, RpcError):
            error = receipt if isinstance(receipt, RpcError) else tx
            result.findings.append(Finding(e.snapshot(), "could not look up", str(error)))
        elif e.sender in confirmed and e.nonce < confirmed[e.sender]:
            detail = (f"nonce {e.nonce} of {e.sender} was used by another transaction (the node counts "
                      f"{confirmed[e.sender]}); this one was never applied and will not be sent")
            j.append([record("conflict", e.hash, detail=detail)], genesis=node.genesis_hash)
            result.findings.append(Finding(j.entries[e.hash].snapshot(), "conflict", detail))
        else:
            resend.append((j, e))
    return resend


def _resend(node: Node, items: list[tuple[Journal, Entry]], result: Reconciliation, *, wait: bool) -> None:
    """Send the identical bytes again, one wave per original block (never mined: one last wave), in the order
    they were signed; wait for each wave's receipts before the next, so dependent transactions keep their order."""
    def wave_of(entry: Entry) -> float:
        lost_from = [int(r["block"]) for r in entry.records if r.get("record") == "mined" and "block" in r]
        return float(lost_from[-1]) if lost_from else float("inf")

    items = sorted(items, key=lambda je: (wave_of(je[1]), je[1].signed_at, je[1].nonce))
    waves: list[list[tuple[Journal, Entry]]] = []
    for je in items:
        if waves and wave_of(waves[-1][0][1]) == wave_of(je[1]):
            waves[-1].append(je)
        else:
            waves.append([je])
    for wave in waves:
        replies = node.rpc_batch([("eth_sendRawTransaction", [e.raw]) for _, e in wave])
        sent: list[tuple[Journal, Entry]] = []
        used: list[tuple[Journal, Entry]] = []
        for (j, e), reply in zip(wave, replies, strict=True):
            if isinstance(reply, RpcError) and not is_already_known(reply):
                if _is_nonce_too_low(reply):
                    used.append((j, e))  # mined meanwhile, or a conflict: its receipt decides
                else:
                    result.findings.append(Finding(e.snapshot(), "could not resend", f"the node refused it: {reply}"))
                continue
            j.append([record("sent", e.hash, resend=True)], genesis=node.genesis_hash)
            sent.append((j, e))
        if used:
            lookups = node.rpc_batch([("eth_getTransactionReceipt", [e.hash]) for _, e in used])
            for (j, e), receipt in zip(used, lookups, strict=True):
                if isinstance(receipt, dict) and receipt.get("blockNumber") is not None:
                    j.append([mined_record(receipt)], genesis=node.genesis_hash)
                    result.findings.append(Finding(j.entries[e.hash].snapshot(), "mined"))
                else:
                    detail = (f"nonce {e.nonce} of {e.sender} was used by another transaction; this one was "
                              "never applied and will not be sent")
                    j.append([record("conflict", e.hash, detail=detail)], genesis=node.genesis_hash)
                    result.findings.append(Finding(j.entries[e.hash].snapshot(), "conflict", detail))
        if not sent or not wait:
            result.findings.extend(Finding(e.snapshot(), "resent", "waiting to be mined") for _, e in sent)
            continue
        receipts = node.wait_receipts([e.hash for _, e in sent])
        for j, e in sent:
            receipt = receipts.get(e.hash)
            if receipt is not None:
                j.append([mined_record(receipt, detail="resent from the outbox")], genesis=node.genesis_hash)
                result.findings.append(Finding(j.entries[e.hash].snapshot(), "resent",
                                               f"mined in block {_int(receipt['blockNumber'])}"
                                               + ("" if _int(receipt["status"]) == 1 else " (reverted)")))
            else:
                result.findings.append(Finding(e.snapshot(), "resent", "not mined yet: still pending"))
