"""The client's send path next to the node's ceiling, measured in the same run on the same node.

    python bench/throughput.py                   a table
    python bench/throughput.py --json            the figures as one JSON object
    python bench/throughput.py --gas --out F     also run `bench/gas.py --json` and write everything to F
                                                 (`make bench`: bench/results/<YYYY-MM-DD>.json)

On an embedded Anvil (automine), for `BillOfLadingRegistry.issue`, `CreditHashRegistry.anchor` and the read
`isValid`:
- raw loop: the same transactions pre-signed, one eth_sendRawTransaction request after another (reads: the
  same eth_call requests pre-encoded, one after another);
- raw batch: the same pre-signed transactions (pre-encoded calls) in one JSON-RPC batch;
- client pipelined: Bills.issue_many / CreditRecords.anchor_many / CreditRecords.is_valid_many, everything
  included (document validation, checks, signing, the outbox's fsync, receipts, results);
- client single: Bills.issue / CreditRecords.anchor / CreditRecords.is_valid one at a time.
Then, on a Besu-like Anvil (chain 1337, gas price 0, a block every second), 100 issues through the client
next to 100 pre-signed ones in one batch: wall time and the blocks they spanned.

Wall-clock figures depend on the machine and its load: they are printed and kept, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from rich.console import Console
from rich.table import Table

from ebl_client import deployment, hashing, keys, rpc, samples
from ebl_client.bills import IssueItem, reference_bytes
from ebl_client.chain import Chain
from ebl_client.client import Client
from ebl_client.credit import AnchorItem
from ebl_client.hashing import document_digest, identifier_hash
from ebl_client.models import Role
from ebl_client.networks import BESU
from ebl_client.node import BESU_LIKE, AnvilNode, dev_keys
from ebl_client.participants import Participants

HERE = Path(__file__).resolve().parent
PIPELINED = 500
SINGLE = 100
READS = 1000
#: each figure is the median of this many rounds (the machine may be busy with other work: see "load")
ROUNDS = 3
BESU_ISSUES = 100
DAY = 86_400
#: the issues' targets, as ratios of the raw ceiling measured in the same run (never asserted: see docstring)
TARGETS = {"pipelined": 0.80, "single": 0.25, "reads": 0.50, "besuBlocks": 3}
CARRIER, SHIPPER, PROVIDER = 1, 2, 3
SUBJECTS = range(4, 12)


def document(reference: str) -> dict[str, Any]:
    doc = json.loads(samples.TRANSPORT_DOCUMENT.read_text())
    doc["transportDocumentReference"] = reference
    return doc


class World:
    """The suite on one node, its parties onboarded, a client with its own outbox."""

    def __init__(self, node: AnvilNode, signers: list[LocalAccount], folder: Path, network: str = "anvil") -> None:
        profile = BESU if network == "besu" else None
        self.chain = Chain.connect(node.url, profile) if profile else Chain.connect(node.url)
        suite = deployment.deploy_suite(self.chain, signers[0], folder / "deployments")
        registry = Participants.of(self.chain, suite)
        parties = [(CARRIER, Role.CARRIER), (SHIPPER, Role.TRADER), (PROVIDER, Role.CREDIT_PROVIDER),
                   *((i, Role.TRADER) for i in SUBJECTS)]
        for i, role in parties:
            registry.onboard(signers[i].address, role, "HK", identifier_hash(f"BENCH{i:06d}", bytes([i]) * 32),
                             sender=signers[0])
        self.client = Client.connect(node.url, network=network, deployments=folder / "deployments",
                                     outbox=folder / "outbox")
        self.signers = signers
        self.carrier, self.shipper, self.provider = signers[CARRIER], signers[SHIPPER], signers[PROVIDER]
        self.provider_rpc = self.chain.w3.provider
        self.counter = 0
        self.gas, self.block_gas_limit = 0, 0

    def references(self, n: int) -> list[str]:
        start, self.counter = self.counter, self.counter + n
        return [f"BENCH{start + k:08d}" for k in range(n)]

    def subject(self, n: int) -> str:
        return self.signers[SUBJECTS[n % len(SUBJECTS)]].address

    # --- pre-signed transactions: the ceiling ------------------------------------------------------------

    def presign(self, signer: LocalAccount, datas: Sequence[bytes], to: str) -> list[str]:
        """The transactions signed ahead (not timed): one estimate with the client's margin, consecutive
        nonces, the fees the client would pay."""
        w3 = self.chain.w3
        gas = int(w3.eth.estimate_gas({"from": signer.address, "to": to, "data": datas[0]})) * 6 // 5  # type: ignore[typeddict-item]
        self.gas, self.block_gas_limit = gas, int(w3.eth.get_block("latest")["gasLimit"])
        if self.chain.profile.tx_type == "legacy":
            fees: dict[str, Any] = {"gasPrice": 0}
        else:
            base = int(w3.eth.get_block("latest").get("baseFeePerGas", 0))
            tip = int(w3.eth.max_priority_fee)
            fees = {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip, "type": 2}
        nonce = int(w3.eth.get_transaction_count(signer.address, "pending"))
        return [signer.sign_transaction({"to": to, "data": d, "gas": gas, "nonce": nonce + k, "value": 0,
                                         "chainId": self.chain.chain_id, **fees}).raw_transaction.to_0x_hex()
                for k, d in enumerate(datas)]

    def issue_datas(self, n: int) -> list[bytes]:
        bills = self.client.bills
        remark = keccak(text="bench")
        return [bytes.fromhex(bills.contract.encode_abi("issue", args=[(
            reference_bytes(ref), document_digest(document(ref)), self.shipper.address, self.shipper.address, False),
            remark])[2:]) for ref in self.references(n)]

    def anchor_datas(self, n: int, expires: int) -> list[bytes]:
        credit = self.client.credit
        schema = keccak(text=hashing.DEFAULT_SCHEMA)
        return [bytes.fromhex(credit.contract.encode_abi("anchor", args=[
            self.subject(k), keccak(text=f"raw {ref}"), schema, expires])[2:])
            for k, ref in enumerate(self.references(n))]

    def send_loop(self, raws: Sequence[str]) -> float:
        """Seconds from the first eth_sendRawTransaction to the last receipt, one request after another."""
        started = time.perf_counter()
        hashes = [self.provider_rpc.make_request("eth_sendRawTransaction", [raw])["result"] for raw in raws]  # type: ignore[arg-type]
        self.wait_all(hashes)
        return time.perf_counter() - started

    def send_batch(self, raws: Sequence[str]) -> tuple[float, list[str]]:
        """Seconds from the first JSON-RPC batch of eth_sendRawTransaction to the last receipt: one batch per
        block's worth of gas (Anvil's automine leaves what does not fit in its block until more arrives)."""
        per_block = max(1, self.block_gas_limit // self.gas) if self.gas else len(raws)
        started = time.perf_counter()
        hashes: list[str] = []
        for start in range(0, len(raws), per_block):
            chunk = raws[start:start + per_block]
            replies = rpc.batch(self.provider_rpc, [("eth_sendRawTransaction", [raw]) for raw in chunk])  # type: ignore[arg-type]
            failed = [r for r in replies if isinstance(r, rpc.RpcError)]
            if failed:
                raise RuntimeError(f"the node refused {len(failed)} pre-signed transactions: {failed[0]}")
            hashes += [str(h) for h in replies]
            self.wait_all(hashes[start:])
        return time.perf_counter() - started, hashes

    def wait_all(self, hashes: Sequence[str]) -> None:
        """Until every receipt is there: polled in batches every millisecond (the ceiling's own best)."""
        waiting = list(hashes)
        deadline = time.monotonic() + 120
        while waiting:
            replies = rpc.batch(self.provider_rpc, [("eth_getTransactionReceipt", [h]) for h in waiting])  # type: ignore[arg-type]
            waiting = [h for h, r in zip(waiting, replies, strict=True) if not (isinstance(r, dict) and r)]
            if waiting:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{len(waiting)} pre-signed transactions never mined")
                time.sleep(0.001)


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def check_all_ok(results: Sequence[Any], what: str) -> None:
    failed = [r for r in results if not r.ok]
    if failed:
        raise RuntimeError(f"{what}: {len(failed)} items failed, first: {failed[0].outcome.value} {failed[0].error}")


def bench_anvil(signers: list[LocalAccount], folder: Path) -> dict[str, Any]:
    """Each operation on its own node; every figure measured from the same chain state (see bench_writes)."""
    return {"issue": bench_writes(signers, folder / "issue", "issue"),
            "anchor": bench_writes(signers, folder / "anchor", "anchor"),
            "isValid": bench_reads(signers, folder / "reads")}


def bench_writes(signers: list[LocalAccount], folder: Path, what: str) -> dict[str, Any]:
    with AnvilNode() as node:
        w = World(node, signers, folder)
        client = w.client
        expires = w.chain.block_time() + 300 * DAY
        signer = w.carrier if what == "issue" else w.provider
        target = client.bills.address if what == "issue" else client.credit.address

        def datas(n: int) -> list[bytes]:
            return w.issue_datas(n) if what == "issue" else w.anchor_datas(n, expires)

        def pipelined(n: int) -> list[Any]:
            if what == "issue":
                return client.bills.issue_many([IssueItem(document(r), w.shipper.address) for r in w.references(n)],
                                               sender=signer)
            return client.credit.anchor_many([AnchorItem(w.subject(k), keccak(text=f"client {r}"), expires)
                                              for k, r in enumerate(w.references(n))], sender=signer)

        def single(n: int) -> None:
            for k, r in enumerate(w.references(n)):
                if what == "issue":
                    client.bills.issue(document(r), w.shipper.address, sender=signer)
                else:
                    client.credit.anchor(w.subject(k), _commitment(keccak(text=f"single {r}")), expires, sender=signer)

        single(1)  # warm-up: the gas of the call shape is known, as in any running client

        def from_the_same_state(measure: Callable[[], float]) -> float:
            """Seconds of `measure`, run on the chain as it was after the warm-up (an Anvil snapshot, reverted
            afterwards): each new bill makes Anvil's blocks dearer, so figures taken one after another on a
            growing chain would not be comparable. (Test-only Anvil methods: the bench's own node.)"""
            snapshot = w.provider_rpc.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
            try:
                return measure()
            finally:
                w.provider_rpc.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]

        def client_many() -> float:
            seconds, results = timed(lambda: pipelined(PIPELINED))
            check_all_ok(results, f"{what}_many")
            return seconds

        rounds = []
        for _ in range(ROUNDS):
            loop = from_the_same_state(lambda: w.send_loop(w.presign(signer, datas(PIPELINED), target)))
            batch = from_the_same_state(lambda: w.send_batch(w.presign(signer, datas(PIPELINED), target))[0])
            many = from_the_same_state(client_many)
            one = from_the_same_state(lambda: timed(lambda: single(SINGLE))[0])
            rounds.append((rate(PIPELINED, loop), rate(PIPELINED, batch), rate(PIPELINED, many), rate(SINGLE, one)))
    return _figures(PIPELINED, rounds)


def bench_reads(signers: list[LocalAccount], folder: Path) -> dict[str, Any]:
    """isValid of READS records, half of them anchored."""
    with AnvilNode() as node:
        w = World(node, signers, folder)
        credit = w.client.credit
        expires = w.chain.block_time() + 300 * DAY
        anchors = [AnchorItem(w.subject(k), keccak(text=f"read {k}"), expires) for k in range(READS // 2)]
        check_all_ok(credit.anchor_many(anchors, sender=w.provider), "anchor_many")
        records = [(w.provider.address, a.subject, bytes(a.commitment)) for a in anchors]  # type: ignore[arg-type]
        records += [(w.provider.address, w.subject(k), keccak(text=f"never {k}")) for k in range(READS - len(records))]
        requests = [("eth_call", [{"to": credit.address, "data": credit.contract.encode_abi("isValid", args=[
            p, s, r])}, "latest"]) for p, s, r in records]

        def raw_loop() -> None:
            for method, params in requests:
                w.provider_rpc.make_request(method, params)  # type: ignore[arg-type]

        rounds = []
        for _ in range(ROUNDS):
            loop, _ = timed(raw_loop)
            single, _ = timed(lambda: [credit.is_valid(*r) for r in records[:SINGLE * 2]])
            batch, _ = timed(lambda: rpc.batch(w.provider_rpc, requests))  # type: ignore[arg-type]
            pipelined, valid = timed(lambda: credit.is_valid_many(records))
            again, _ = timed(lambda: rpc.batch(w.provider_rpc, requests))  # type: ignore[arg-type]
            assert sum(valid) == len(anchors)
            rounds.append((rate(READS, loop), rate(2 * READS, batch + again), rate(READS, pipelined),
                           rate(SINGLE * 2, single)))
    return _figures(READS, rounds, reads=True)


def _commitment(root: bytes) -> hashing.Commitment:
    """A commitment of which only the root matters here (what `anchor` sends)."""
    return hashing.Commitment(root, hashing.DEFAULT_SCHEMA, {}, {})


def _figures(n: int, rounds: Sequence[tuple[float, float, float, float]], *, reads: bool = False) -> dict[str, Any]:
    """Each round's rates (raw loop, raw batch, client pipelined, client single) and ratios; the medians."""
    def median(values: Sequence[float]) -> float:
        return round(statistics.median(values), 3)

    loop, batch, pipelined, single = (median([r[k] for r in rounds]) for k in range(4))
    return {
        "n": n, "rounds": len(rounds), "unit": "calls/s" if reads else "tx/s",
        "rawLoop": round(loop, 1), "rawBatch": round(batch, 1), "clientPipelined": round(pipelined, 1),
        "clientSingle": round(single, 1),
        # the median of each round's ratio: both sides of a ratio were measured side by side
        "pipelinedVsRawLoop": median([r[2] / r[0] for r in rounds]),
        "pipelinedVsRawBatch": median([r[2] / r[1] for r in rounds]),
        "singleVsRawLoop": median([r[3] / r[0] for r in rounds]),
        "perRound": [{"rawLoop": round(a, 1), "rawBatch": round(b, 1), "clientPipelined": round(c, 1),
                      "clientSingle": round(d, 1)} for a, b, c, d in rounds],
    }


def bench_besu_like(signers: list[LocalAccount], folder: Path) -> dict[str, Any]:
    with AnvilNode(**BESU_LIKE) as node:
        w = World(node, signers, folder, network="besu")
        items = [IssueItem(document(ref), w.shipper.address) for ref in w.references(BESU_ISSUES)]
        seconds, results = timed(lambda: w.client.bills.issue_many(items, sender=w.carrier))
        check_all_ok(results, "issue_many (Besu-like)")
        blocks = sorted({int(r.receipt["blockNumber"]) for r in results})
        raws = w.presign(w.carrier, w.issue_datas(BESU_ISSUES), w.client.bills.address)
        raw_seconds, hashes = w.send_batch(raws)
        raw_blocks = sorted({int(w.chain.w3.eth.get_transaction_receipt(h)["blockNumber"]) for h in hashes})
    return {
        "issues": BESU_ISSUES, "blockTime": BESU_LIKE["block_time"],
        "client": {"seconds": round(seconds, 2), "firstBlock": blocks[0], "lastBlock": blocks[-1],
                   "blocksSpanned": blocks[-1] - blocks[0] + 1},
        "preSigned": {"seconds": round(raw_seconds, 2), "firstBlock": raw_blocks[0], "lastBlock": raw_blocks[-1],
                      "blocksSpanned": raw_blocks[-1] - raw_blocks[0] + 1},
    }


def gas_figures() -> dict[str, Any]:
    """`bench/gas.py --json`, run as it is."""
    done = subprocess.run([sys.executable, str(HERE / "gas.py"), "--json"], capture_output=True, text=True,
                          timeout=900)
    if done.returncode not in (0, 1):  # 1: ran, some figure over its target
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"error": f"bench/gas.py exited with {done.returncode}: " + " | ".join(tail)}
    try:
        return {"gas": json.loads(done.stdout), "overTarget": done.returncode == 1}
    except ValueError:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": f"bench/gas.py printed no JSON (exit {done.returncode}): {tail[0]}"}


def run(with_gas: bool) -> dict[str, Any]:
    signers = [keys.from_private_key(k) for k in dev_keys(12)]
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"), "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": _cpus(), "loadBefore": _load()},
        "anvil": _anvil_version(), "targets": TARGETS,
    }
    with tempfile.TemporaryDirectory() as tmp:
        report["anvil_automine"] = bench_anvil(signers, Path(tmp) / "anvil")
        report["besuLike"] = bench_besu_like(signers, Path(tmp) / "besu")
    report["machine"]["loadAfter"] = _load()
    if with_gas:
        report["gas"] = gas_figures()
    return report


def _load() -> list[float]:
    """The 1, 5 and 15 minute load averages: other work on the machine slows the node and the client alike."""
    return [round(x, 2) for x in os.getloadavg()]


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 0)


def _anvil_version() -> str:
    from ebl_client.node import find_anvil

    try:
        return subprocess.run([find_anvil(), "--version"], capture_output=True, text=True, timeout=10).stdout.split(
            "\n")[0].strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def print_report(report: dict[str, Any], console: Console) -> None:
    gas = report.get("gas")
    if gas is not None:
        table = Table(title="gas per function (bench/gas.py --json)", title_justify="left")
        table.add_column("function")
        table.add_column("gas", justify="right")
        if "error" in gas:
            table.add_row("(not measured)", gas["error"])
        for name, used in (gas.get("gas") or {}).items():
            table.add_row(name, f"{used:,}")
        console.print(table)

    machine = report["machine"]
    table = Table(title=f"client next to the raw ceiling, same node, same run (Anvil automine, {machine['cpus']} "
                        f"CPUs, load {machine['loadBefore'][0]:.1f} -> {machine['loadAfter'][0]:.1f}; medians of "
                        f"{ROUNDS} rounds)", title_justify="left")
    for column in ("operation", "n", "raw loop", "raw batch", "client pipelined", "client single",
                   "pipelined / raw loop", "single / raw loop"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    names = {"issue": "BillOfLadingRegistry.issue", "anchor": "CreditHashRegistry.anchor",
             "isValid": "CreditHashRegistry.isValid (read)"}
    for key, f in report["anvil_automine"].items():
        if key == "isValid":
            ratio = f"{f['pipelinedVsRawBatch']:.0%} of raw batch " + _mark(f["pipelinedVsRawBatch"], TARGETS["reads"])
        else:
            ratio = f"{f['pipelinedVsRawLoop']:.0%} " + _mark(f["pipelinedVsRawLoop"], TARGETS["pipelined"])
        single = f"{f['singleVsRawLoop']:.0%}" + ("" if key == "isValid" else " " + _mark(f["singleVsRawLoop"],
                                                                                           TARGETS["single"]))
        table.add_row(names[key], str(f["n"]), f"{f['rawLoop']:,.0f} {f['unit']}", f"{f['rawBatch']:,.0f}",
                      f"{f['clientPipelined']:,.0f}", f"{f['clientSingle']:,.0f}", ratio, single)
    console.print(table)

    b = report["besuLike"]
    table = Table(title=f"Besu-like Anvil (chain 1337, gas price 0, a block every {b['blockTime']} s): "
                        f"{b['issues']} issues", title_justify="left")
    for column in ("sender", "wall time", "first block", "last block", "blocks spanned", "target"):
        table.add_column(column, justify="left" if column == "sender" else "right")
    c, r = b["client"], b["preSigned"]
    table.add_row("client (Bills.issue_many)", f"{c['seconds']:.2f} s", str(c["firstBlock"]), str(c["lastBlock"]),
                  str(c["blocksSpanned"]), f"<= {TARGETS['besuBlocks']} " + _mark(
                      TARGETS["besuBlocks"] - c["blocksSpanned"] + 1, 1))
    table.add_row("pre-signed, one batch", f"{r['seconds']:.2f} s", str(r["firstBlock"]), str(r["lastBlock"]),
                  str(r["blocksSpanned"]), "")
    console.print(table)


def _mark(value: float, target: float) -> str:
    return "(ok)" if value >= target else "(BELOW TARGET)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--gas", action="store_true", help="also run bench/gas.py --json and include its figures")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON figures to this file")
    args = parser.parse_args(argv)
    report = run(args.gas)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report, Console(width=160))
        if args.out is not None:
            print(f"figures written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
