"""bench/gas.py runs, names its figures as the issues ask, and every gas target holds. Gas is
deterministic (same code, same inputs, same EVM rules), unlike time, which is never asserted."""

import importlib.util
import json
from pathlib import Path

import pytest
from rich.console import Console

BENCH = Path(__file__).parents[1] / "bench"
spec = importlib.util.spec_from_file_location("bench_gas", BENCH / "gas.py")
bench_gas = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_gas)

#: the operations the security fixes added or changed, each measured under this name
NEW_OPERATIONS = {
    "BillOfLadingRegistry.pledge(+request)", "FinancingEscrow.withdrawOffer", "FinancingEscrow.releaseReservation",
    "CreditHashRegistry.revokeAsSupervisor", "CreditHashRegistry.revokeAsSupervisor(regulator)",
    "BillOfLadingRegistry.transferHolder(both hold other bills)", "FinancingEscrow.accept",
    "BillOfLadingRegistry.switchToPaper", "BillOfLadingRegistry.amend",
}


def test_targets_are_the_security_issues_budgets():
    t = bench_gas.TARGETS
    assert t["BillOfLadingRegistry.issue"] == 160_000 and t["lifecycle.total"] == 500_000
    assert t["CreditHashRegistry.anchor"] == 60_000 and t["CreditHashRegistry.anchorBatch.perRoot"] == 25_000
    assert t["BillOfLadingRegistry.transferHolder"] == 75_000
    assert t["BillOfLadingRegistry.pledge(+request)"] == 325_000
    assert t["BillOfLadingRegistry.surrenderForDelivery"] == 70_000
    assert "optimizer 10,000 runs" in bench_gas.TITLE


def test_gas_targets_hold_and_keys_are_named(capsys):
    assert bench_gas.main(["--json"]) == 0
    gas = json.loads(capsys.readouterr().out)
    for key, target in bench_gas.TARGETS.items():
        assert gas[key] <= target, f"{key}: {gas[key]} > {target}"
    assert all(k.split(".")[0] in {"ParticipantRegistry", "CreditHashRegistry", "BillOfLadingRegistry",
                                   "FinancingEscrow", "lifecycle"} for k in gas)
    assert gas["CreditHashRegistry.anchorBatch.perRoot"] == gas["CreditHashRegistry.anchorBatch"] // bench_gas.BATCH
    assert gas.keys() >= NEW_OPERATIONS
    assert "FinancingEscrow.request" not in gas  # no request without its pledge any more
    lifecycle = ("issue", "endorse", "transferHolder", "endorse(second)", "transferHolder(second)",
                 "surrenderForDelivery", "acceptSurrender")
    assert gas["lifecycle.total"] == sum(gas[f"BillOfLadingRegistry.{step}"] for step in lifecycle)
    # a move to a party that holds no bill pays for its ERC-721 balance slot; between holders of bills it does not
    between_holders = gas["BillOfLadingRegistry.transferHolder(both hold other bills)"]
    assert gas["BillOfLadingRegistry.transferHolder"] > between_holders


def test_the_recorded_figures_are_named_like_a_run():
    """The before/after files in bench/results hold what `--json` prints, and the after file meets the targets."""
    before = json.loads((BENCH / "results" / "gas-before-issue-10.json").read_text())
    after = json.loads((BENCH / "results" / "gas-after-issue-10.json").read_text())
    assert "FinancingEscrow.request" in before and after.keys() >= NEW_OPERATIONS
    for key, target in bench_gas.TARGETS.items():
        assert after[key] <= target, key


def test_comparison_pairs_old_and_new_figures():
    old = {"A.f": 100, "A.gone": 7, "FinancingEscrow.request": 200, "BillOfLadingRegistry.transferOwners": 50}
    new = {"A.f": 110, "A.new": 5, "BillOfLadingRegistry.pledge(+request)": 260,
           "BillOfLadingRegistry.transferOwners": 55}
    rows = bench_gas.comparison(old, new)
    assert rows == [("A.f", 100, 110, 10), ("A.new", None, 5, None),
                    ("BillOfLadingRegistry.pledge(+request)", 250, 260, 10),  # the two transactions it replaced
                    ("BillOfLadingRegistry.transferOwners", 50, 55, 5), ("A.gone", 7, None, None)]
    console = Console(width=160, record=True)
    bench_gas.print_comparison(old, new, console, before="old.json")
    text = " ".join(console.export_text().split())  # the notes wrap at the console's width
    assert "optimizer 10,000 runs" in text and "+10" in text and "+10.0%" in text and "(gone)" in text
    assert "FinancingEscrow.request 200 + BillOfLadingRegistry.transferOwners 50" in text


def test_compare_and_json_are_exclusive(tmp_path):
    old = tmp_path / "old.json"
    old.write_text("{}")
    with pytest.raises(SystemExit):
        bench_gas.main(["--json", "--compare", str(old)])
