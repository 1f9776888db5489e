"""Gas per operation of the suite, measured on an embedded Anvil (Cancun rules, optimizer on), and the
client's throughput on that node.

    python bench/gas.py            a table
    python bench/gas.py --json     one JSON object {"Contract.function": gas, ...}

Gas comes from the receipts of real transactions sent through the client (the same path `ebl` uses).
Throughput is wall-clock and machine-dependent: it is printed, never asserted.
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

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from rich.console import Console
from rich.table import Table

from ebl_client import deployment, keys
from ebl_client.chain import Chain
from ebl_client.hashing import identifier_hash
from ebl_client.models import Role
from ebl_client.node import AnvilNode, dev_keys

ZERO = "0x" + "00" * 20
DAY = 86_400
BATCH = 100

#: Targets from the issues; the table marks each figure against its target.
TARGETS: dict[str, int] = {
    "BillOfLadingRegistry.issue": 160_000,
    "BillOfLadingRegistry.transferHolder": 70_000,
    "BillOfLadingRegistry.endorse": 50_000,
    "BillOfLadingRegistry.surrenderForDelivery": 60_000,
    "BillOfLadingRegistry.acceptSurrender": 50_000,
    "lifecycle.total": 450_000,
    "CreditHashRegistry.anchor": 60_000,
    "CreditHashRegistry.anchorBatch.perRoot": 25_000,
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

    def timed(self, key: str, count: int, action: Callable[[int], object]) -> None:
        started = time.perf_counter()
        for i in range(count):
            action(i)
        self.throughput[key] = count / (time.perf_counter() - started)


def onboard_request(account: str, roles: Role, n: int, institution: str = ZERO) -> tuple[Any, ...]:
    return (account, int(roles), b"HK", identifier_hash(f"BENCH{n:06d}", n.to_bytes(32, "big")), institution)


def bench_participants(b: Bench) -> None:
    admin, s = b.signers[0], b.signers
    pr = "ParticipantRegistry"
    b.send(f"{pr}.onboard", admin, pr, "onboard", onboard_request(s[1].address, Role.TRADER, 1))
    for i, role in ((2, Role.CREDIT_PROVIDER), (3, Role.FINANCIER), (6, Role.TRADER)):
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

    def issue(reference: str, holder: LocalAccount, beneficiary: LocalAccount | None = None, key: str | None = None,
              straight: bool = False) -> int:
        request = (reference.encode().ljust(32, b"\0"), doc, holder.address, (beneficiary or holder).address, straight)
        receipt = b.chain.transact(carrier, b.contracts[bl], "issue", request, remark)
        if key:
            b.gas[key] = int(receipt["gasUsed"])
        return int(receipt["logs"][0]["topics"][3].hex(), 16)  # Transfer(from, to, tokenId)

    lifecycle = [0]

    def step(key: str, signer: LocalAccount, fn: str, *args: Any) -> None:
        lifecycle[0] += b.send(key, signer, bl, fn, *args)

    token = issue("BENCH-LIFECYCLE", shipper, key=f"{bl}.issue")
    lifecycle[0] += b.gas[f"{bl}.issue"]
    step(f"{bl}.endorse", shipper, "endorse", token, bank.address, remark)
    step(f"{bl}.transferHolder", shipper, "transferHolder", token, bank.address, remark)
    step(f"{bl}.endorse(second)", bank, "endorse", token, importer.address, remark)
    step(f"{bl}.transferHolder(second)", bank, "transferHolder", token, importer.address, remark)
    step(f"{bl}.surrenderForDelivery", importer, "surrenderForDelivery", token, remark)
    step(f"{bl}.acceptSurrender", carrier, "acceptSurrender", token, remark)
    b.gas["lifecycle.total"] = lifecycle[0]

    other = issue("BENCH-OTHER", shipper)
    b.send(f"{bl}.nominate", shipper, bl, "nominate", other, bank.address, remark)
    b.send(f"{bl}.transferOwners", shipper, bl, "transferOwners", other, bank.address, importer.address, remark)
    b.send(f"{bl}.reject", bank, bl, "reject", other, remark)
    b.send(f"{bl}.blankEndorse", shipper, bl, "blankEndorse", other, remark)
    b.send(f"{bl}.surrenderForAmendment", shipper, bl, "surrenderForAmendment", other, remark)
    b.send(f"{bl}.rejectSurrender", carrier, bl, "rejectSurrender", other, remark)
    b.send(None, shipper, bl, "surrenderForAmendment", other, remark)
    b.send(f"{bl}.amend", carrier, bl, "amend", other, keccak(text="amended document"), remark)
    issue("BENCH-STRAIGHT", shipper, importer, key=f"{bl}.issue(straight)", straight=True)
    paper = issue("BENCH-PAPER", shipper)
    b.send(f"{bl}.switchToPaper", carrier, bl, "switchToPaper", paper, keccak(text="holder asked for paper"))
    b.send(f"{bl}.pause", admin, bl, "pause")
    b.send(f"{bl}.unpause", admin, bl, "unpause")
    counter = [0]

    def issue_one(_: int) -> None:
        counter[0] += 1
        issue(f"BENCH-T{counter[0]:05d}", shipper)

    b.timed(f"{bl}.issue (client, sequential)", 50, issue_one)


def bench_credit(b: Bench) -> None:
    provider, subject, bank, maker, checker = (b.signers[i] for i in (2, 1, 3, 4, 5))
    ch = "CreditHashRegistry"
    schema, expires = keccak(text="gba-credit-report/v1"), b.now() + 365 * DAY
    root = keccak(text="bench root 0")
    b.send(f"{ch}.anchor", provider, ch, "anchor", subject.address, root, schema, expires)
    subjects = [b.signers[10 + i % 10].address for i in range(BATCH)]
    roots = [keccak(text=f"bench batch root {i}") for i in range(BATCH)]
    batch = b.send(f"{ch}.anchorBatch", provider, ch, "anchorBatch", subjects, roots, schema, expires)
    b.gas[f"{ch}.anchorBatch.perRoot"] = batch // BATCH
    b.send(f"{ch}.grantConsent", subject, ch, "grantConsent", root, bank.address, b.now() + 30 * DAY)
    b.send(f"{ch}.recordVerification", maker, ch, "recordVerification", bank.address, subject.address, root)
    b.send(f"{ch}.approveVerification", checker, ch, "approveVerification", bank.address, subject.address)
    b.send(f"{ch}.withdrawConsent", subject, ch, "withdrawConsent", root, bank.address)
    b.send(f"{ch}.revoke", provider, ch, "revoke", subject.address, root, keccak(text="superseded"))
    b.timed("CreditHashRegistry.anchor (client, sequential)", 50, lambda i: b.send(
        None, provider, ch, "anchor", subject.address, keccak(text=f"throughput {i}"), schema, expires))


def bench_financing(b: Bench) -> None:
    """One financing end to end (request, two offers, accept, fund, partial and full repayment, withdraw),
    then a cancel and a default with claim. Needs bench_bills' parties and bench_credit's verification."""
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
    b.send(None, exporter, ch, "grantConsent", root, bank.address, b.now() + 90 * DAY)
    b.send(None, maker, ch, "recordVerification", bank.address, exporter.address, root)
    b.send(None, checker, ch, "approveVerification", bank.address, exporter.address)

    def pledged(reference: str) -> int:
        request = (reference.encode().ljust(32, b"\0"), keccak(text=reference), exporter.address, exporter.address,
                   False)
        receipt = b.chain.transact(carrier, b.contracts[bl], "issue", request, remark)
        token = int(receipt["logs"][0]["topics"][3].hex(), 16)
        b.send(None, exporter, bl, "transferOwners", token, escrow, escrow, remark)
        return token

    def request(token: int, invoice: str, key: str | None = None) -> int:
        b.send(key, exporter, fe, "request", (token, importer.address, coin, 10**12, maturity, keccak(text=invoice)))
        return int(b.chain.call(b.contracts[fe], "financingCount"))

    fid = request(pledged("FIN-1"), "invoice 1", f"{fe}.request")
    b.send(f"{fe}.offer", bank, fe, "offer", fid, 9 * 10**11, 10**10, maturity)
    b.send(None, bank_b, fe, "offer", fid, 95 * 10**10, 2 * 10**10, maturity)
    b.send(f"{fe}.accept", exporter, fe, "accept", fid, bank.address)
    b.send(f"{fe}.fund", bank, fe, "fund", fid)
    b.send(f"{fe}.repay(partial)", importer, fe, "repay", fid, 4 * 10**11)
    b.send(f"{fe}.repay(full)", importer, fe, "repay", fid, 51 * 10**10)
    b.send(f"{fe}.withdraw", bank, fe, "withdraw", coin)

    cancelled = request(pledged("FIN-2"), "invoice 2")
    b.send(f"{fe}.cancel", exporter, fe, "cancel", cancelled)

    defaulted = request(pledged("FIN-3"), "invoice 3")
    b.send(None, bank, fe, "offer", defaulted, 9 * 10**11, 10**10, b.now() + DAY)
    b.send(None, exporter, fe, "accept", defaulted, bank.address)
    b.send(None, bank, fe, "fund", defaulted)
    b.chain.w3.provider.make_request("evm_increaseTime", [20 * DAY])  # bench-only clock move (Anvil)
    b.chain.w3.provider.make_request("evm_mine", [])
    b.send(f"{fe}.claim", bank, fe, "claim", defaulted)


def run() -> Bench:
    signers = [keys.from_private_key(k) for k in dev_keys(20)]
    with AnvilNode() as node, tempfile.TemporaryDirectory() as tmp:
        chain = Chain.connect(node.url)
        suite = deployment.deploy_suite(chain, signers[0], Path(tmp), test_stablecoin=True)
        bench = Bench(chain, signers, suite)
        bench_participants(bench)
        bench_bills(bench)
        bench_credit(bench)
        bench_financing(bench)
    return bench


def print_table(b: Bench, console: Console) -> None:
    table = Table(title="gas per operation (Anvil, Cancun, solc 0.8.37, optimizer 200 runs)", title_justify="left")
    for column in ("operation", "gas", "target", ""):
        table.add_column(column, justify="right" if column in ("gas", "target") else "left")
    for name, gas in b.gas.items():
        target = TARGETS.get(name)
        mark = "" if target is None else ("ok" if gas <= target else "OVER")
        table.add_row(name, f"{gas:,}", f"{target:,}" if target else "", mark)
    console.print(table)
    tput = Table(title="client throughput (one key, send-and-wait, this machine)", title_justify="left")
    tput.add_column("operation")
    tput.add_column("tx/s", justify="right")
    for name, rate in b.throughput.items():
        tput.add_row(name, f"{rate:.1f}")
    console.print(tput)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print {operation: gas} as one JSON object")
    args = parser.parse_args(argv)
    bench = run()
    if args.json:
        print(json.dumps(bench.gas, indent=2))
    else:
        print_table(bench, Console(width=120))
    over = [k for k, target in TARGETS.items() if k in bench.gas and bench.gas[k] > target]
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
