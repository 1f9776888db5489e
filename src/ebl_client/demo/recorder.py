"""How the demo records its steps: each step's title, who acted, what came of it or why it was refused, and
the receipts of the transactions it caused (the client's own, journaled by the `Chain`, and those another
program sent for it, such as the platform's service, adopted by hash), with progress on the console."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from hexbytes import HexBytes
from rich.progress import Progress
from web3.types import TxReceipt

from ..chain import Chain
from ..errors import EblError
from ..models import utc_time

T = TypeVar("T")


class DemoError(EblError):
    """The story did not go as the rules say it must (e.g. a refusal that did not happen)."""


class Recorder:
    """The story's steps as they happen: `do` an action, expect one `refused`, `adopt` a transaction another
    program sent for the current step. `steps` is the record the report shows (JSON-ready dicts)."""

    def __init__(self, chain: Chain, progress: Progress, total: int, name: Callable[[str | None], str]) -> None:
        self.chain = chain
        self.progress = progress
        self.total = total
        self.name = name
        self.task = progress.add_task("starting", total=total)
        self.steps: list[dict[str, Any]] = []
        self._adopted: list[TxReceipt] | None = None

    @contextmanager
    def step(self, actor: str, title: str) -> Iterator[dict[str, Any]]:
        """One step by `actor` (an address): the record to fill in (`outcome`, `refused`)."""
        self.progress.update(self.task, description=title)
        record: dict[str, Any] = {"n": len(self.steps) + 1, "title": title, "actor": self.name(actor),
                                  "account": actor, "outcome": "", "refused": None}
        adopted: list[TxReceipt] = []
        self._adopted = adopted
        try:
            with self.chain.journal() as receipts:
                yield record
        finally:
            self._adopted = None
        # the service may send through this very connection (its journal has it already): count each once
        mined = list({r["transactionHash"]: r for r in [*receipts, *adopted]}.values())
        record["transactions"] = [{"hash": r["transactionHash"].to_0x_hex(), "block": int(r["blockNumber"]),
                                   "gasUsed": int(r["gasUsed"]), "status": int(r["status"]), "sender": r["from"]}
                                  for r in mined]
        record["gasUsed"] = sum(t["gasUsed"] for t in record["transactions"])
        last = max((t["block"] for t in record["transactions"]), default=None)
        record["block"] = last
        record["time"] = utc_time(self.chain.block_time(last)) if last is not None else ""
        self.steps.append(record)
        self.progress.advance(self.task)
        mark = f"refused ({record['refused']})" if record["refused"] else "done" if mined else "done, nothing sent"
        self.progress.console.print(f"[dim]{record['n']:>2}/{self.total}[/dim] {title}: {mark}, "
                                    f"{len(mined)} tx, {record['gasUsed']:,} gas", highlight=False)

    def do(self, actor: str, title: str, action: Callable[[], T], outcome: Callable[[T], str] | None = None) -> T:
        """Run `action` as one step; `outcome` says in a line what came of it."""
        with self.step(actor, title) as record:
            result = action()
            record["outcome"] = outcome(result) if outcome else ""
        return result

    def refused(self, actor: str, title: str, action: Callable[[], Any], expected: type[EblError]) -> EblError:
        """Run an action the rules must refuse with `expected`; DemoError if it is not refused."""
        with self.step(actor, title) as record:
            try:
                action()
            except expected as exc:
                record["refused"] = type(exc).__name__
                record["outcome"] = str(exc)
                return exc
        raise DemoError(f"step {record['n']} ({title}) should have been refused with {expected.__name__}")

    def adopt(self, tx_hash: str) -> TxReceipt:
        """Count the transaction `tx_hash`, sent by another program (the platform's service) for the current
        step, in this step; its receipt."""
        if self._adopted is None:
            raise DemoError("a transaction can be adopted only during a step")
        receipt = self.chain.wait(HexBytes(tx_hash))
        self._adopted.append(receipt)
        return receipt

    def refusal(self, error: str) -> str:
        """What the step refused with `error` said."""
        return str(next(s["outcome"] for s in self.steps if s["refused"] == error))
