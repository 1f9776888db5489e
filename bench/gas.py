"""Gas per operation of the suite, measured on an embedded Anvil (Cancun rules, optimizer on, 10,000 runs),
and the client's throughput on that node.

    python bench/gas.py                                  a table
    python bench/gas.py --json                           one JSON object {"Contract.function": gas, ...}
    python bench/gas.py --compare OLD.json [--save NEW.json]
                                                         old vs new per operation, with the difference

Gas comes from the receipts of real transactions sent through the client (the same path `ebl` uses).
Throughput is wall-clock and machine-dependent: it is printed, never asserted. The figures before the
security fixes are kept in bench/results/gas-before-issue-10.json and after them in gas-after-issue-10.json:

    python bench/gas.py --compare bench/results/gas-before-issue-10.json \\
        --save bench/results/gas-after-issue-10.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from rich.console import Console
from rich.table import Table

from ebl_client import deployment, keys
from ebl_client.chain import Chain
from ebl_client.financing import REQUEST_TYPES
from ebl_client.hashing import identifier_hash
from ebl_client.models import Role
from ebl_client.node import AnvilNode, dev_keys

ZERO = "0x" + "00" * 20
DAY = 86_400
BATCH = 100
TITLE = "gas per operation (Anvil, Cancun, solc 0.8.37, optimizer 10,000 runs)"
#: keccak256("Transfer(address,address,uint256)"): the ERC-721 mint of an issue carries the new token id
TRANSFER_TOPIC = keccak(text="Transfer(address,address,uint256)")

#: Targets from the issues; the table marks each figure against its target. The security issue's budget for
#: a bill's whole lifecycle includes the ERC-721 balances: a move to a party that holds no bill pays 22,100
#: for its balance slot, hence the higher per-move targets.
TARGETS: dict[str, int] = {
    "BillOfLadingRegistry.issue": 160_000,
    "BillOfLadingRegistry.transferHolder": 75_000,
    "BillOfLadingRegistry.endorse": 50_000,
    "BillOfLadingRegistry.surrenderForDelivery": 70_000,
    "BillOfLadingRegistry.acceptSurrender": 50_000,
    "lifecycle.total": 500_000,
    # one transaction instead of the two it replaces (request 242,110 + transferOwners 57,298 = 299,408)
    "BillOfLadingRegistry.pledge(+request)": 325_000,
    "CreditHashRegistry.anchor": 60_000,
    "CreditHashRegistry.anchorBatch.perRoot": 25_000,
}

#: Operations whose old figure is under other names: the old transactions that did the same step, summed.
RENAMED: dict[str, tuple[str, ...]] = {
    # before: the exporter moved the bill to the escrow with transferOwners(escrow, escrow), then called request
    "BillOfLadingRegistry.pledge(+request)": ("FinancingEscrow.request", "BillOfLadingRegistry.transferOwners"),
}


class Bench:
    def __init__(self, chain: Chain, signers: list[LocalAccount], suite: deployment.Deployment) -> None:
        self.chain, self.signers, self.suite = chain, signers, suite
        self.gas: dict[str, int] = {}
        self.throughput: dict[str, float] = {}
        self.contracts = {name: chain.contract(name, c.address) for name, c in suite.contracts.items()}

    def send(self, key: str | None, signer: LocalAccount, contract: str, fn: str, *args: Any) -> int:
        used = int(self.chain.transact(signer, self.contracts[contract], fn, *args)["gasUsed"])
        if key is not None:
            self.gas[key] = used
        return used

    def now(self) -> int:
        return self.chain.block_time()

    def travel(self, seconds: int) -> None:
        self.chain.w3.provider.make_request("evm_increaseTime", [seconds])  # bench-only clock move (Anvil)
        self.chain.w3.provider.make_request("evm_mine", [])

    def timed(self, key: str, count: int, action: Callable[[int], object]) -> None:
        started = time.perf_counter()
        for i in range(count):
            action(i)
        self.throughput[key] = count / (time.perf_counter() - started)


def onboard_request(account: str, roles: Role, n: int, institution: str = ZERO) -> tuple[Any, ...]:
    return (account, int(roles), b"HK", identifier_hash(f"BENCH{n:06d}", n.to_bytes(32, "big")), institution)


def reference(text: str) -> bytes:
    return text.encode().ljust(32, b"\0")


def issued_token(receipt: Any) -> int:
    """The token id of an issue: the ERC-721 Transfer (mint) it emitted, topic 3."""
    for log in receipt["logs"]:
        if bytes(log["topics"][0]) == TRANSFER_TOPIC and int(bytes(log["topics"][1]).hex(), 16) == 0:
            return int(bytes(log["topics"][3]).hex(), 16)
    raise RuntimeError("no mint in the issue's receipt")


def bench_participants(b: Bench) -> None:
    admin, s = b.signers[0], b.signers
    pr = "ParticipantRegistry"
    b.send(f"{pr}.onboard", admin, pr, "onboard", onboard_request(s[1].address, Role.TRADER, 1))
    for i, role in ((2, Role.CREDIT_PROVIDER), (3, Role.FINANCIER), (6, Role.TRADER), (12, Role.REGULATOR)):
        b.send(None, admin, pr, "onboard", onboard_request(s[i].address, role, i))
    b.send(None, admin, pr, "onboard", onboard_request(s[4].address, Role.VERIFIER, 4, s[3].address))
    b.send(f"{pr}.onboard(verifier)", admin, pr, "onboard",
           onboard_request(s[5].address, Role.VERIFIER, 5, s[3].address))
    b.send(f"{pr}.suspend", admin, pr, "suspend", s[6].address, keccak(text="bench"))
    b.send(f"{pr}.reinstate", admin, pr, "reinstate", s[6].address)
    b.send(f"{pr}.updateRoles", admin, pr, "updateRoles", s[6].address, int(Role.TRADER | Role.FINANCIER), ZERO)


def bench_bills(b: Bench) -> None:
    """One full lifecycle (issue; endorse + transfer twice; surrender for delivery; accept), then the other
    actions on further bills. Remarks are non-zero hashes, as a real client sends them."""
    admin, s = b.signers[0], b.signers
    carrier, shipper, bank, importer = s[7], s[1], s[8], s[9]
    pr, bl = "ParticipantRegistry", "BillOfLadingRegistry"
    b.send(None, admin, pr, "onboard", onboard_request(carrier.address, Role.CARRIER, 7))
    for who, n in ((bank, 8), (importer, 9)):
        b.send(None, admin, pr, "onboard", onboard_request(who.address, Role.TRADER, n))
    remark = keccak(text="bench remark")
    doc = keccak(text="transport document")

    def issue(ref: str, holder: LocalAccount, beneficiary: LocalAccount | None = None, key: str | None = None,
              straight: bool = False) -> int:
        request = (reference(ref), doc, holder.address, (beneficiary or holder).address, straight)
        receipt = b.chain.transact(carrier, b.contracts[bl], "issue", request, remark)
        if key:
            b.gas[key] = int(receipt["gasUsed"])
        return issued_token(receipt)

    lifecycle = [0]

    def step(key: str, signer: LocalAccount, fn: str, *args: Any) -> None:
        lifecycle[0] += b.send(key, signer, bl, fn, *args)

    # every party of the lifecycle holds no other bill: each move pays for a fresh balance slot
    token = issue("BENCH-LIFECYCLE", shipper, key=f"{bl}.issue")
    lifecycle[0] += b.gas[f"{bl}.issue"]
    step(f"{bl}.endorse", shipper, "endorse", token, bank.address, remark)
    step(f"{bl}.transferHolder", shipper, "transferHolder", token, bank.address, remark)
    step(f"{bl}.endorse(second)", bank, "endorse", token, importer.address, remark)
    step(f"{bl}.transferHolder(second)", bank, "transferHolder", token, importer.address, remark)
    step(f"{bl}.surrenderForDelivery", importer, "surrenderForDelivery", token, remark)
    step(f"{bl}.acceptSurrender", carrier, "acceptSurrender", token, remark)
    b.gas["lifecycle.total"] = lifecycle[0]

    # ERC-721 balances: the same move when both parties keep other bills (no slot created or emptied)
    kept_by_shipper, kept_by_bank = issue("BENCH-KEPT-1", shipper), issue("BENCH-KEPT-2", bank)
    moved = issue("BENCH-MOVED", shipper)
    b.send(f"{bl}.transferHolder(both hold other bills)", shipper, bl, "transferHolder", moved, bank.address, remark)
    assert int(b.chain.call(b.contracts[bl], "balanceOf", bank.address)) == 2 and kept_by_shipper and kept_by_bank

    other = issue("BENCH-OTHER", shipper)
    b.send(f"{bl}.nominate", shipper, bl, "nominate", other, bank.address, remark)
    b.send(f"{bl}.transferOwners", shipper, bl, "transferOwners", other, bank.address, importer.address, remark)
    b.send(f"{bl}.reject", bank, bl, "reject", other, remark)
    b.send(f"{bl}.blankEndorse", shipper, bl, "blankEndorse", other, remark)
    b.send(f"{bl}.surrenderForAmendment", shipper, bl, "surrenderForAmendment", other, remark)
    b.send(f"{bl}.rejectSurrender", carrier, bl, "rejectSurrender", other, remark)
    b.send(None, shipper, bl, "surrenderForAmendment", other, remark)
    b.send(f"{bl}.amend", carrier, bl, "amend", other, reference("BENCH-OTHER"), keccak(text="amended document"),
           remark)
    issue("BENCH-STRAIGHT", shipper, importer, key=f"{bl}.issue(straight)", straight=True)
    paper = issue("BENCH-PAPER", shipper)
    b.send(None, shipper, bl, "surrenderForAmendment", paper, keccak(text="please issue a paper original"))
    b.send(f"{bl}.switchToPaper", carrier, bl, "switchToPaper", paper, keccak(text="holder asked for paper"))
    b.send(f"{bl}.pause", admin, bl, "pause")
    b.send(f"{bl}.unpause", admin, bl, "unpause")
    counter = [0]

    def issue_one(_: int) -> None:
        counter[0] += 1
        issue(f"BENCH-T{counter[0]:05d}", shipper)

    b.timed(f"{bl}.issue (client, sequential)", 50, issue_one)


def bench_credit(b: Bench) -> None:
    provider, subject, bank, maker, checker, regulator = (b.signers[i] for i in (2, 1, 3, 4, 5, 12))
    admin, ch = b.signers[0], "CreditHashRegistry"
    schema, expires = keccak(text="gba-credit-report/v1"), b.now() + 365 * DAY
    root = keccak(text="bench root 0")
    b.send(f"{ch}.anchor", provider, ch, "anchor", subject.address, root, schema, expires)
    subjects = [b.signers[10 + i % 10].address for i in range(BATCH)]
    roots = [keccak(text=f"bench batch root {i}") for i in range(BATCH)]
    batch = b.send(f"{ch}.anchorBatch", provider, ch, "anchorBatch", subjects, roots, schema, expires)
    b.gas[f"{ch}.anchorBatch.perRoot"] = batch // BATCH
    b.send(f"{ch}.grantConsent", subject, ch, "grantConsent", provider.address, root, bank.address,
           b.now() + 30 * DAY)
    b.send(f"{ch}.recordVerification", maker, ch, "recordVerification", bank.address, subject.address,
           provider.address, root)
    b.send(f"{ch}.approveVerification", checker, ch, "approveVerification", bank.address, subject.address)
    b.send(f"{ch}.withdrawConsent", subject, ch, "withdrawConsent", provider.address, root, bank.address)
    b.send(f"{ch}.revoke", provider, ch, "revoke", subject.address, root, keccak(text="superseded"))
    b.send(f"{ch}.revokeAsSupervisor", admin, ch, "revokeAsSupervisor", provider.address, subjects[0], roots[0],
           keccak(text="court order"))
    b.send(f"{ch}.revokeAsSupervisor(regulator)", regulator, ch, "revokeAsSupervisor", provider.address,
           subjects[1], roots[1], keccak(text="regulator's notice"))
    b.send(f"{ch}.setMaxValidity", admin, ch, "setMaxValidity", 400 * DAY)
    b.timed("CreditHashRegistry.anchor (client, sequential)", 50, lambda i: b.send(
        None, provider, ch, "anchor", subject.address, keccak(text=f"throughput {i}"), schema, expires))


def bench_financing(b: Bench) -> None:
    """One financing end to end (pledge-and-request, two offers, one withdrawn, accept with the terms, fund,
    partial and full repayment, withdraw), then a cancel, a reservation the admin releases, and a default with
    claim. Needs bench_bills' parties and bench_credit's provider and officers."""
    admin, s = b.signers[0], b.signers
    carrier, exporter, importer, bank, bank_b = s[7], s[1], s[9], s[3], s[11]
    pr, bl, fe, st = "ParticipantRegistry", "BillOfLadingRegistry", "FinancingEscrow", "TestStablecoin"
    b.send(None, admin, pr, "onboard", onboard_request(bank_b.address, Role.FINANCIER, 11))
    escrow, coin = b.contracts[fe].address, b.contracts[st].address
    for who in (bank, bank_b, importer):
        b.send(None, admin, st, "mint", who.address, 10**15)
        b.send(None, who, st, "approve", escrow, 10**15)
    remark = keccak(text="pledge")
    maturity = b.now() + 60 * DAY
    provider, maker, checker, ch = s[2], s[4], s[5], "CreditHashRegistry"
    root = keccak(text="exporter report for financing")  # a fresh verification: bench_credit revoked its own
    b.send(None, provider, ch, "anchor", exporter.address, root, keccak(text="gba-credit-report/v1"),
           b.now() + 365 * DAY)
    b.send(None, exporter, ch, "grantConsent", provider.address, root, bank.address, b.now() + 90 * DAY)
    b.send(None, maker, ch, "recordVerification", bank.address, exporter.address, provider.address, root)
    b.send(None, checker, ch, "approveVerification", bank.address, exporter.address)

    def issued(ref: str) -> int:
        request = (reference(ref), keccak(text=ref), exporter.address, exporter.address, False)
        return issued_token(b.chain.transact(carrier, b.contracts[bl], "issue", request, remark))

    def pledge(token: int, invoice: str, key: str | None = None, until: int = maturity) -> int:
        """The exporter's one transaction: pledge the bill with the financing request as its data."""
        data = abi_encode(REQUEST_TYPES, [(importer.address, coin, 10**12, until, keccak(text=invoice))])
        b.send(key, exporter, bl, "pledge", token, escrow, data, remark)
        return int(b.chain.call(b.contracts[fe], "financingCount"))

    def accept(fid: int, financier: LocalAccount, key: str | None = None) -> None:
        terms = b.chain.call(b.contracts[fe], "offerOf", fid, financier.address)
        b.send(key, exporter, fe, "accept", fid, financier.address, (terms.principal, terms.fee, terms.maturity))

    fid = pledge(issued("FIN-1"), "invoice 1", f"{bl}.pledge(+request)")
    b.send(f"{fe}.offer", bank, fe, "offer", fid, 9 * 10**11, 10**10, maturity)
    b.send(None, bank_b, fe, "offer", fid, 95 * 10**10, 2 * 10**10, maturity)
    b.send(f"{fe}.withdrawOffer", bank_b, fe, "withdrawOffer", fid)
    accept(fid, bank, f"{fe}.accept")
    b.send(f"{fe}.fund", bank, fe, "fund", fid)
    b.send(f"{fe}.repay(partial)", importer, fe, "repay", fid, 4 * 10**11)
    b.send(f"{fe}.repay(full)", importer, fe, "repay", fid, 51 * 10**10)
    b.send(f"{fe}.withdraw", bank, fe, "withdraw", coin)

    cancelled = pledge(issued("FIN-2"), "invoice 2")
    b.send(f"{fe}.cancel", exporter, fe, "cancel", cancelled)

    disputed = pledge(issued("FIN-4"), "invoice 4")
    b.send(f"{fe}.releaseReservation", admin, fe, "releaseReservation", keccak(text="invoice 4"),
           keccak(text="not the exporter's invoice"))
    b.send(None, exporter, fe, "cancel", disputed)
    b.send(f"{fe}.setMinTenor", admin, fe, "setMinTenor", 7 * DAY)
    b.send(f"{fe}.setReservationPeriod", admin, fe, "setReservationPeriod", 30 * DAY)

    short = b.now() + 8 * DAY  # the shortest tenor the escrow takes is 7 days
    defaulted = pledge(issued("FIN-3"), "invoice 3", until=short)
    b.send(None, bank, fe, "offer", defaulted, 9 * 10**11, 10**10, short)
    accept(defaulted, bank)
    b.send(None, bank, fe, "fund", defaulted)
    b.travel(23 * DAY)  # maturity + 14 days' grace
    b.send(f"{fe}.claim", bank, fe, "claim", defaulted)


def run() -> Bench:
    signers = [keys.from_private_key(k) for k in dev_keys(20)]
    with AnvilNode() as node, tempfile.TemporaryDirectory() as tmp:
        chain = Chain.connect(node.url)
        suite = deployment.deploy_suite(chain, signers[0], Path(tmp), test_stablecoin=True,
                                        settings=deployment.Settings())
        bench = Bench(chain, signers, suite)
        bench_participants(bench)
        bench_bills(bench)
        bench_credit(bench)
        bench_financing(bench)
    return bench


def print_table(b: Bench, console: Console) -> None:
    table = Table(title=TITLE, title_justify="left")
    for column in ("operation", "gas", "target", ""):
        table.add_column(column, justify="right" if column in ("gas", "target") else "left")
    for name, gas in b.gas.items():
        target = TARGETS.get(name)
        mark = "" if target is None else ("ok" if gas <= target else "OVER")
        table.add_row(name, f"{gas:,}", f"{target:,}" if target else "", mark)
    console.print(table)
    print_throughput(b, console)


def print_throughput(b: Bench, console: Console) -> None:
    tput = Table(title="client throughput (one key, send-and-wait, this machine)", title_justify="left")
    tput.add_column("operation")
    tput.add_column("tx/s", justify="right")
    for name, rate in b.throughput.items():
        tput.add_row(name, f"{rate:.1f}")
    console.print(tput)


def comparison(old: dict[str, int], new: dict[str, int]) -> list[tuple[str, int | None, int | None, int | None]]:
    """(operation, old gas, new gas, new - old) for every operation of either run, in the new run's order
    then the operations that are gone; an operation that replaced old transactions (`RENAMED`) is compared
    with their sum."""
    rows: list[tuple[str, int | None, int | None, int | None]] = []
    for name, gas in new.items():
        before_names = RENAMED.get(name, (name,))
        before = sum(old[n] for n in before_names) if all(n in old for n in before_names) else None
        rows.append((name, before, gas, None if before is None else gas - before))
    replaced = {n for name, names in RENAMED.items() if name in new for n in names if n not in new}
    rows += [(name, gas, None, None) for name, gas in old.items() if name not in new and name not in replaced]
    return rows


def print_comparison(old: dict[str, int], new: dict[str, int], console: Console, *, before: str) -> None:
    table = Table(title=f"{TITLE}: before ({before}) and after", title_justify="left")
    for column in ("operation", "before", "after", "difference", "%", "target"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    for name, was, now, diff in comparison(old, new):
        shown = "" if diff is None else f"{diff:+,}"
        percent = "" if diff is None or not was else f"{100 * diff / was:+.1f}%"
        target = TARGETS.get(name)
        mark = "" if target is None or now is None else f"{target:,} {'ok' if now <= target else 'OVER'}"
        table.add_row(name, "" if was is None else f"{was:,}", "(gone)" if now is None else f"{now:,}", shown,
                      percent, mark)
    console.print(table)
    for name, old_names in RENAMED.items():
        if name in new and all(n in old for n in old_names):
            console.print(f"{name} is one transaction; before it is the sum of the transactions it replaces: "
                          f"{' + '.join(f'{n} {old[n]:,}' for n in old_names)} (the old transferOwners row "
                          "moved a bill to a trader, as the exporter moved it to the escrow).")
    console.print("New rows (no before figure) measure functions the security fixes added.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print {operation: gas} as one JSON object")
    parser.add_argument("--compare", metavar="FILE", type=Path,
                        help="print the figures of FILE (a --json output) and this run's side by side")
    parser.add_argument("--save", metavar="FILE", type=Path, help="also write this run's figures to FILE as JSON")
    args = parser.parse_args(argv)
    if args.json and args.compare:
        parser.error("--json and --compare print different things: use --compare with --save")
    old = json.loads(args.compare.read_text()) if args.compare else None  # fail before the run, not after it
    bench = run()
    if args.save:
        args.save.write_text(json.dumps(bench.gas, indent=2) + "\n")
    console = Console(width=140)
    if args.json:
        print(json.dumps(bench.gas, indent=2))
    elif old is not None:
        print_comparison(old, bench.gas, console, before=args.compare.name)
        print_throughput(bench, console)
    else:
        print_table(bench, console)
    over = [k for k, target in TARGETS.items() if k in bench.gas and bench.gas[k] > target]
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
