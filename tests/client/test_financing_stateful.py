"""Random financing sequences with the escrow's invariants checked after every step.

Random parties try random steps (requests on random bills and invoices, offers, accepts, funding,
partial and over-large repayments, withdrawals, claims, cancels, and time passing). Whatever is refused
must be refused with a named contract error; after every step:
- the escrow's stablecoin balance equals exactly what it owes (`owed`), and the sum of what each party
  may withdraw;
- an invoice fingerprint is financed at most once, ever;
- every open financing's bill is held by the escrow, and no bill is in two open financings.
"""

from __future__ import annotations

from typing import ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from ebl_client import deployment, errors, hashing, samples
from ebl_client.models import FinancingState

from .conftest import trade_finance_world, travel

DAY = 86_400
OPEN = {FinancingState.REQUESTED, FinancingState.ACCEPTED, FinancingState.FUNDED}
PARTIES = ["exporter", "importer", "bank_a", "bank_b", "payer"]
INVOICES = [hashing.text_hash(f"invoice {i}") for i in range(3)]
AMOUNT = st.integers(min_value=1, max_value=3 * 10**9)


def mostly(right: str, others: list[str]) -> st.SearchStrategy[str]:
    """The party that may act, most of the time; any other party often enough to test the refusals."""
    return st.sampled_from([right] * 4 + others)


class EscrowMachine(RuleBasedStateMachine):
    world: dict  # set by the test
    steps_run = 0
    states_seen: ClassVar[set] = set()  # across examples: what the walks reached

    def __init__(self) -> None:
        super().__init__()
        self.snap = self.world["chain"].w3.provider.make_request("evm_snapshot", [])["result"]

    def teardown(self) -> None:
        assert self.world["chain"].w3.provider.make_request("evm_revert", [self.snap])["result"] is True

    def attempt(self, action, *args) -> None:
        type(self).steps_run += 1
        try:
            action(*args)
        except (errors.ContractRevert, errors.InvalidInput):
            pass  # a refusal must be named (by the contract, or by the client before sending); else the test fails
            pass  # a refusal must be named (by the contract, or by the client before sending); else the test fails

    def signer(self, who: str):
        return self.world["p"][who]

    def some_financing(self, n: int) -> int:
        count = int(self.world["chain"].call(self.world["fin"].contract, "financingCount"))
        return 1 + n % count if count else 1

    @initialize()
    def start(self) -> None:
        pass

    @rule(bill=st.integers(0, 2), invoice=st.integers(0, 2), amount=AMOUNT)
    def request(self, bill: int, invoice: int, amount: int) -> None:
        w = self.world
        self.attempt(w["fin"].request, self.signer("exporter"), w["bills_ids"][bill], self.signer("importer").address,
                     amount, w["coin"], w["now"]() + 30 * DAY, INVOICES[invoice])

    @rule(n=st.integers(0, 5), bank=mostly("bank_a", ["bank_b"]), principal=AMOUNT,
          fee=st.integers(0, 10**8))
    def offer(self, n: int, bank: str, principal: int, fee: int) -> None:
        w = self.world
        self.attempt(w["fin"].offer, self.signer(bank), self.some_financing(n), principal, fee,
                     w["now"]() + 30 * DAY)

    @rule(n=st.integers(0, 5), who=mostly("exporter", PARTIES), bank=mostly("bank_a", ["bank_b"]))
    def accept(self, n: int, who: str, bank: str) -> None:
        self.attempt(self.world["fin"].accept, self.signer(who), self.some_financing(n), self.signer(bank).address)

    @rule(n=st.integers(0, 5), who=mostly("bank_a", ["bank_b", "exporter"]))
    def fund(self, n: int, who: str) -> None:
        self.attempt(self.world["fin"].fund, self.signer(who), self.some_financing(n))

    @rule(n=st.integers(0, 5), who=mostly("importer", ["payer", "exporter"]),
          amount=st.one_of(st.just("outstanding"), AMOUNT))
    def repay(self, n: int, who: str, amount: int | str) -> None:
        fid = self.some_financing(n)
        if amount == "outstanding":
            amount = int(self.world["chain"].call(self.world["fin"].contract, "outstanding", fid)) or 1
        self.attempt(self.world["fin"].repay, self.signer(who), fid, amount)

    @rule(who=st.sampled_from(PARTIES))
    def withdraw(self, who: str) -> None:
        self.attempt(self.world["fin"].withdraw, self.signer(who), self.world["coin"])

    @rule(n=st.integers(0, 5), who=mostly("bank_a", PARTIES))
    def claim(self, n: int, who: str) -> None:
        self.attempt(self.world["fin"].claim, self.signer(who), self.some_financing(n))

    @rule(n=st.integers(0, 5), who=mostly("exporter", PARTIES))
    def cancel(self, n: int, who: str) -> None:
        self.attempt(self.world["fin"].cancel, self.signer(who), self.some_financing(n))

    @rule(n=st.integers(0, 5))
    def progress(self, n: int) -> None:
        self.next_step(n)

    # Hypothesis draws rules uniformly: two more rules make the natural next step three times as likely.
    @rule(n=st.integers(0, 5))
    def progress_b(self, n: int) -> None:
        self.next_step(n)

    @rule(n=st.integers(0, 5))
    def progress_c(self, n: int) -> None:
        self.next_step(n)

    def next_step(self, n: int) -> None:
        """Advance a financing along the repayment path by the party that takes the step, so that walks
        move money; cancels, defaults and wrong parties come from the random rules around it."""
        w, fid = self.world, self.some_financing(n)
        try:
            f = w["fin"].get(fid)
        except errors.InvalidInput:
            return
        if f.state is FinancingState.REQUESTED:
            self.attempt(w["fin"].offer, self.signer("bank_a"), fid, f.principal, 10**6, w["now"]() + 30 * DAY)
            self.attempt(w["fin"].accept, self.signer("exporter"), fid, self.signer("bank_a").address)
        elif f.state is FinancingState.ACCEPTED:
            self.attempt(w["fin"].fund, self.signer("bank_a"), fid)
        elif f.state is FinancingState.FUNDED:  # half first, then the rest
            self.attempt(w["fin"].repay, self.signer("importer"), fid,
                         f.outstanding if f.repaid else max(1, f.outstanding // 2))

    @rule(days=st.sampled_from([1, 20, 50]))
    def time_passes(self, days: int) -> None:
        travel(self.world["chain"], days * DAY)

    @invariant()
    def escrow_owes_exactly_what_it_holds(self) -> None:
        w = self.world
        fin, chain = w["fin"], w["chain"]
        held = int(chain.call(w["stable"], "balanceOf", fin.address))
        assert held == fin.owed(w["coin"])
        assert held == sum(fin.withdrawable(p.address, w["coin"]) for p in w["p"].values())

    @invariant()
    def no_double_financing_and_bills_in_custody(self) -> None:
        w = self.world
        financings = w["fin"].list()
        type(self).states_seen.update(f.state for f in financings)
        financed = [f.invoice_fingerprint for f in financings
                    if f.state in (FinancingState.FUNDED, FinancingState.REPAID, FinancingState.DEFAULTED)]
        assert len(financed) == len(set(financed))
        open_bills = [f.bill for f in financings if f.state in OPEN]
        assert len(open_bills) == len(set(open_bills))
        for bill in open_bills:
            assert w["bills"].get(bill).holder == w["fin"].address


@pytest.fixture
def world(chain, admin, signers, tmp_path, snapshot):
    w = trade_finance_world(chain, admin, signers, deployment.deploy_suite(chain, admin, tmp_path,
                                                                            test_stablecoin=True), days=3650)
    doc = hashing.load_json_file(samples.TRANSPORT_DOCUMENT)
    w["bills_ids"] = [w["bills"].issue(w["p"]["carrier"], {**doc, "transportDocumentReference": f"VHSL-FIN-{i}"},
                                       w["p"]["exporter"].address).token_id for i in range(3)]
    w["p"] = {k: v for k, v in w["p"].items() if k in PARTIES}
    return w


def test_escrow_invariants_hold_under_random_steps(world):
    EscrowMachine.world = world
    EscrowMachine.steps_run = 0
    EscrowMachine.states_seen = set()
    run_state_machine_as_test(EscrowMachine, settings=settings(
        max_examples=60, stateful_step_count=15, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    ))
    assert EscrowMachine.steps_run >= 60 * 3
    # the random walks really reached money movements, not only refusals
    reached = {FinancingState.FUNDED, FinancingState.REPAID}
    assert reached <= EscrowMachine.states_seen, EscrowMachine.states_seen
