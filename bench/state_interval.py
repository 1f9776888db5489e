"""What a crash of Anvil (kill -9) loses with its periodic state dumps, measured on the embedded node.

    python bench/state_interval.py [--repeat N] [--intervals 1,2]

For each dump interval and each delay, a node with a state file mines one transaction (at phases spread
evenly over the interval, `--repeat` of them), waits the delay
after the receipt, is killed with -9, and the state file (after `AnvilNode.stop` put the last complete dump
in place) is checked for the transaction's block. Also printed: how long after a receipt the dump first
held its block, and how long Anvil takes to serialize the chain of a deployed suite (anvil_dumpState).
Wall-clock and machine-dependent: printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ebl_client import deployment, keys, node
from ebl_client.chain import Chain
from ebl_client.node import AnvilNode, dev_keys, dump_path, saved_block

DELAYS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5)


def kill_after(state: Path, delay: float, phase: float) -> tuple[bool, float | None]:
    """Whether the block of a transaction sent `phase` s after the node started survives a kill -9 `delay` s
    after its receipt; and the seconds after the receipt at which the dump first held the block (None if not
    before the kill). Anvil dumps every interval from its start, so the phase places the transaction in it."""
    anvil = AnvilNode(state_file=state, fresh=True).start()
    try:
        w3 = Chain.connect(anvil.url).w3
        time.sleep(phase)
        sender, receiver = w3.eth.accounts[:2]
        tx = w3.eth.send_transaction({"from": sender, "to": receiver, "value": 1})
        block = w3.eth.wait_for_transaction_receipt(tx, timeout=30)["blockNumber"]
        receipt_at = time.monotonic()
        dumped_after = None
        while (elapsed := time.monotonic() - receipt_at) < delay:
            if dumped_after is None and (saved_block(dump_path(state)) or -1) >= block:
                dumped_after = elapsed
            time.sleep(0.005)
        assert anvil.pid is not None
        os.kill(anvil.pid, signal.SIGKILL)
    finally:
        anvil.stop()
    return (saved_block(state) or -1) >= block, dumped_after


def serialize_time(work: Path) -> tuple[int, float]:
    """Bytes of the state file of a chain with the suite deployed, and seconds of one anvil_dumpState."""
    state = work / "suite.json"
    admin = keys.from_private_key(dev_keys(1)[0])
    with AnvilNode(state_file=state, fresh=True) as anvil:
        chain = Chain.connect(anvil.url)
        deployment.deploy_suite(chain, admin, work / "deployments", test_stablecoin=True)
        times = []
        for _ in range(5):
            started = time.perf_counter()
            chain.w3.provider.make_request("anvil_dumpState", [])  # type: ignore[arg-type]
            times.append(time.perf_counter() - started)
    return state.stat().st_size, statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--intervals", default="1,2", help="dump intervals (whole seconds) to compare")
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        size, seconds = serialize_time(work)
        console.print(f"chain with the suite deployed: state file {size / 1024:.0f} KiB, "
                      f"anvil_dumpState {seconds * 1000:.1f} ms (median of 5)")
        for interval in (int(i) for i in args.intervals.split(",")):
            node.STATE_INTERVAL = interval  # read by AnvilNode.command at each start
            table = Table(title=f"--state-interval {interval}: kill -9 after a receipt", title_justify="left")
            table.add_column("delay after receipt (s)", justify="right")
            table.add_column("block kept", justify="right")
            table.add_column("dump held it after (s)", justify="right")
            for delay in DELAYS:
                phases = [(k + 0.5) / args.repeat * interval for k in range(args.repeat)]
                runs = [kill_after(work / "chain.json", delay, phase) for phase in phases]
                seen = [f"{after:.2f}" for _, after in runs if after is not None]
                table.add_row(f"{delay:g}", f"{sum(kept for kept, _ in runs)}/{len(runs)}", " ".join(seen) or "-")
            console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
