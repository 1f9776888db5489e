"""Random financing sequences with a model of the invoice reservations and the escrow's invariants checked
after every step.

Random parties try random steps (pledge-and-request on random bills and invoices, offers, offer withdrawals,
accepts with the terms the exporter read and with terms that changed since, funding, partial and over-large
repayments, withdrawals, claims, cancels, the admin's release of a reservation, and time passing). Whatever
is refused must be refused with a named error. A Python model of the reservations predicts, step by step,
what the escrow must say about an invoice fingerprint: reserved by one financing until a time, lapsed (then
free for another request, and the lapsed financing can no longer be funded), released by the admin or by a
cancel, financed for ever. After every step:
- the chain's reservation of each invoice equals the model's;
- the escrow's stablecoin balance equals exactly what it owes (`owed`), and the sum of what each party
  may withdraw;
- an invoice fingerprint is financed at most once, ever;
- a bill is in the escrow exactly while a financing of it is open (a refused pledge never left it there),
  and no bill is in two open financings.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from ebl_client import deployment, errors, hashing, samples
from ebl_client.models import FinancingState, FingerprintStatus

from .conftest import trade_finance_world, travel

DAY = 86_400
OPEN = {FinancingState.REQUESTED, FinancingState.ACCEPTED, FinancingState.FUNDED}
PARTIES = ["exporter", "importer", "bank_a", "bank_b", "payer"]
INVOICES = [hashing.text_hash(f"invoice {i}") for i in range(3)]
AMOUNT = st.integers(min_value=1, max_value=3 * 10**9)
RESERVATION = 30 * DAY
ANY = "any named refusal or success"  # `attempt`'s expectation when the model does not predict the outcome


def mostly(right: str, others: list[str]) -> st.SearchStrategy[str]:
    """The party that may act, most of the time; any other party often enough to test the refusals."""
    return st.sampled_from([right] * 4 + others)


@dataclass(frozen=True)
class Held:
    """The model of one fingerprint's stored reservation (absent from the model: none stored)."""

    status: FingerprintStatus
    financing_id: int
    reserved_until: int = 0
    exporter: str = ""


class Reservations:
    """The escrow's double-financing rules for invoice fingerprints, as the exporter's lawyer reads them: one
    reservation (or financing) per invoice at a time, and per exporter and invoice runs of reservations that
    last one period from the first, each followed by a period of waiting (an admin release starts it)."""

    def __init__(self) -> None:
        self.held: dict[bytes, Held] = {}
        self.deadlines: dict[tuple[bytes, str], int] = {}

    def effective(self, fp: bytes, now: int) -> FingerprintStatus:
        h = self.held.get(fp)
        if h is None or (h.status is FingerprintStatus.RESERVED and now >= h.reserved_until):
            return FingerprintStatus.NONE  # never reserved, released, or lapsed
        return h.status

    def request_refusal(self, fp: bytes, exporter: str, now: int) -> str | None:
        status = self.effective(fp, now)
        if status is FingerprintStatus.FINANCED:
            return "DuplicateFinancing"
        if status is FingerprintStatus.RESERVED:
            return "InvoiceReserved"
        deadline = self.deadlines.get((fp, exporter), 0)
        if deadline and deadline <= now < deadline + RESERVATION:
            return "ReservationExhausted"
        return None

    def holds(self, fp: bytes, financing_id: int, now: int) -> bool:
        h = self.held.get(fp)
        return (h is not None and h.status is FingerprintStatus.RESERVED and h.financing_id == financing_id
                and now < h.reserved_until)

    def release_refusal(self, fp: bytes) -> str | None:
        h = self.held.get(fp)
        if h is not None and h.status is FingerprintStatus.FINANCED:
            return "DuplicateFinancing"
        return None if h is not None else "NotReserved"  # a lapsed reservation may still be released

    def reserve(self, fp: bytes, financing_id: int, exporter: str, at: int) -> None:
        """A request mined at time `at`: it continues the exporter's run, or starts one."""
        deadline = self.deadlines.get((fp, exporter), 0)
        if at >= deadline:
            deadline = self.deadlines[fp, exporter] = at + RESERVATION
        self.held[fp] = Held(FingerprintStatus.RESERVED, financing_id, deadline, exporter)

    def finance(self, fp: bytes, financing_id: int) -> None:
        self.held[fp] = Held(FingerprintStatus.FINANCED, financing_id)

    def cancel(self, fp: bytes, financing_id: int, now: int) -> None:
        if self.holds(fp, financing_id, now):
            del self.held[fp]

    def release(self, fp: bytes, at: int) -> None:
        """The admin's release at time `at`: the released exporter's wait starts at once."""
        self.deadlines[fp, self.held[fp].exporter] = at
        del self.held[fp]


class EscrowMachine(RuleBasedStateMachine):
    world: dict  # set by the test
    steps_run = 0
    states_seen: ClassVar[set] = set()  # across examples: what the walks reached
    outcomes: ClassVar[Counter[tuple[str, str | None]]] = Counter()  # (step, refusal or None)

    def __init__(self) -> None:
        super().__init__()
        self.snap = self.world["chain"].w3.provider.make_request("evm_snapshot", [])["result"]
        self.model = Reservations()

    def teardown(self) -> None:
        assert self.world["chain"].w3.provider.make_request("evm_revert", [self.snap])["result"] is True

    def attempt(self, step: str, action, *args, expected: str | None = ANY, **kwargs):
        """Run `action`; a refusal must be named (by the contract, or by the client before sending: bad input, or
        an unknown financing that `fund` and `repay` read first). When the
        model predicts the outcome (`expected`: an error name or None), the chain must agree. Returns the
        action's value, or None when refused."""
        type(self).steps_run += 1
        try:
            value = action(*args, **kwargs)
            got = None
        except (errors.ContractRevert, errors.InvalidInput, errors.NotFound) as exc:
            value, got = None, type(exc).__name__
        type(self).outcomes[step, got] += 1
        if expected != ANY:
            assert got == expected, f"{step}: chain said {got}, model said {expected}"
        return value

    def signer(self, who: str):
        return self.world["p"][who]

    def now(self) -> int:
        return self.world["chain"].block_time()

    def some_financing(self, n: int) -> int:
        count = int(self.world["chain"].call(self.world["fin"].contract, "financingCount"))
        return 1 + n % count if count else 1

    @initialize()
    def start(self) -> None:
        pass

    @rule(bill=st.integers(0, 2), invoice=st.integers(0, 2), amount=AMOUNT)
    def request(self, bill: int, invoice: int, amount: int) -> None:
        self.pledge_and_request(bill, invoice, amount)

    # a second rule: requests twice as likely, so that invoices meet their reservations often
    @rule(bill=st.integers(0, 2), invoice=st.integers(0, 2), amount=AMOUNT)
    def request_b(self, bill: int, invoice: int, amount: int) -> None:
        self.pledge_and_request(bill, invoice, amount)

    def pledge_and_request(self, bill: int, invoice: int, amount: int) -> None:
        """The exporter pledges a bill and asks for financing of an invoice, in one transaction."""
        w, fp, token = self.world, INVOICES[invoice], self.world["bills_ids"][bill]
        holds_bill = w["chain"].call(w["bills"].contract, "bill", token).holder == self.signer("exporter").address
        exporter = self.signer("exporter").address
        expected = self.model.request_refusal(fp, exporter, self.now()) if holds_bill else "NotHolder"
        result = self.attempt("request", w["fin"].request, token, self.signer("importer").address, amount,
                              w["coin"], self.now() + 30 * DAY, fp, sender=self.signer("exporter"), expected=expected)
        if result is not None:
            f, tx = result
            self.model.reserve(fp, f.financing_id, exporter, w["chain"].block_time(tx.block))

    @rule(n=st.integers(0, 5), bank=mostly("bank_a", ["bank_b"]), principal=AMOUNT, fee=st.integers(0, 10**8))
    def offer(self, n: int, bank: str, principal: int, fee: int) -> None:
        w = self.world
        self.attempt("offer", w["fin"].offer, self.some_financing(n), principal, fee, self.now() + 30 * DAY,
                     sender=self.signer(bank))

    @rule(n=st.integers(0, 5), bank=mostly("bank_a", ["bank_b"]))
    def withdraw_offer(self, n: int, bank: str) -> None:
        self.attempt("withdraw_offer", self.world["fin"].withdraw_offer, self.some_financing(n),
                     sender=self.signer(bank))

    @rule(n=st.integers(0, 5), who=mostly("exporter", PARTIES), bank=mostly("bank_a", ["bank_b"]))
    def accept(self, n: int, who: str, bank: str) -> None:
        """`who` accepts the offer as it reads it now."""
        fin, fid = self.world["fin"], self.some_financing(n)
        terms = fin.offer_of(fid, self.signer(bank).address)
        if terms.exists:
            self.attempt("accept", fin.accept, fid, self.signer(bank).address, terms=terms, sender=self.signer(who))

    @rule(n=st.integers(0, 5), bank=mostly("bank_a", ["bank_b"]), cut=st.integers(1, 10**6))
    def accept_after_a_re_offer(self, n: int, bank: str, cut: int) -> None:
        """The bank offers, the exporter reads the offer, the bank re-offers less in front of the exporter's
        accept: the accept of the terms read is refused (OfferChanged). On one of the requested financings."""
        fin = self.world["fin"]
        requested = [f for f in fin.list() if f.state is FinancingState.REQUESTED]
        if not requested:
            return
        f = requested[n % len(requested)]
        fid = f.financing_id
        offered = self.attempt("offer", fin.offer, fid, f.principal, 10**6, self.now() + 30 * DAY,
                               sender=self.signer(bank), expected=None)
        seen = offered.value
        if seen.principal > cut:
            self.attempt("re-offer", fin.offer, fid, seen.principal - cut, seen.fee, seen.maturity,
                         sender=self.signer(bank), expected=None)
            self.attempt("accept stale terms", fin.accept, fid, self.signer(bank).address, terms=seen,
                         sender=self.signer("exporter"), expected="OfferChanged")

    @rule(n=st.integers(0, 5), who=mostly("bank_a", ["bank_b", "exporter"]))
    def fund(self, n: int, who: str) -> None:
        self.fund_as(self.some_financing(n), who)

    def fund_as(self, fid: int, who: str) -> None:
        """Predicts the reservation rule of `fund` where every check before it passes: funding needs the
        financing to hold its invoice's live reservation (else ReservationLost)."""
        fin = self.world["fin"]
        expected: str | None = ANY
        try:
            f = fin.get(fid)
        except errors.FinancingNotFound:
            f = None
        now = self.now()
        fp = bytes.fromhex(f.invoice_fingerprint[2:]) if f else b""
        if (f is not None and f.state is FinancingState.ACCEPTED and who == "bank_a"
                and f.financier == self.signer("bank_a").address and now + 60 < f.maturity):
            expected = None if self.model.holds(fp, fid, now) else "ReservationLost"
        if self.attempt("fund", fin.fund, fid, sender=self.signer(who), expected=expected) is not None:
            self.model.finance(fp, fid)

    @rule(n=st.integers(0, 5), who=mostly("importer", ["payer", "exporter"]),
          amount=st.one_of(st.just("outstanding"), AMOUNT))
    def repay(self, n: int, who: str, amount: int | str) -> None:
        fid = self.some_financing(n)
        if amount == "outstanding":
            amount = int(self.world["chain"].call(self.world["fin"].contract, "outstanding", fid)) or 1
        self.attempt("repay", self.world["fin"].repay, fid, amount, sender=self.signer(who))

    @rule(who=st.sampled_from(PARTIES))
    def withdraw(self, who: str) -> None:
        self.attempt("withdraw", self.world["fin"].withdraw, self.world["coin"], sender=self.signer(who))

    @rule(n=st.integers(0, 5), who=mostly("bank_a", PARTIES))
    def claim(self, n: int, who: str) -> None:
        self.attempt("claim", self.world["fin"].claim, self.some_financing(n), sender=self.signer(who))

    @rule(n=st.integers(0, 5), who=mostly("exporter", PARTIES))
    def cancel(self, n: int, who: str) -> None:
        fin, fid = self.world["fin"], self.some_financing(n)
        now = self.now()
        result = self.attempt("cancel", fin.cancel, fid, sender=self.signer(who))
        if result is not None:
            self.model.cancel(bytes.fromhex(result.value.invoice_fingerprint[2:]), fid, now)

    @rule(invoice=st.sampled_from(["reserved", "reserved", 0, 1, 2]), who=mostly("admin", ["exporter", "bank_a"]))
    def release_reservation(self, invoice: int | str, who: str) -> None:
        """The admin releases a disputed reservation (a lapsed one too; never a financed one). "reserved": an
        invoice the model says is reserved, when there is one."""
        w = self.world
        reserved = [fp for fp, h in self.model.held.items() if h.status is FingerprintStatus.RESERVED]
        fp = (reserved[0] if reserved else INVOICES[0]) if invoice == "reserved" else INVOICES[int(invoice)]
        expected = self.model.release_refusal(fp) if who == "admin" else "AccessControlUnauthorizedAccount"
        signer = w["admin"] if who == "admin" else self.signer(who)
        result = self.attempt("release", w["fin"].release_reservation, fp, "dispute", sender=signer,
                              expected=expected)
        if result is not None:
            self.model.release(fp, w["chain"].block_time(result.tx.block))

    @rule(n=st.integers(0, 5))
    def progress(self, n: int) -> None:
        self.next_step(n)

    # Hypothesis draws rules uniformly: three more rules make the natural next step four times as likely.
    @rule(n=st.integers(0, 5))
    def progress_b(self, n: int) -> None:
        self.next_step(n)

    @rule(n=st.integers(0, 5))
    def progress_d(self, n: int) -> None:
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
        except errors.FinancingNotFound:
            return
        if f.state is FinancingState.REQUESTED:
            offered = self.attempt("offer", w["fin"].offer, fid, f.principal, 10**6, self.now() + 30 * DAY,
                                   sender=self.signer("bank_a"))
            if offered is not None:
                self.attempt("accept", w["fin"].accept, fid, self.signer("bank_a").address, terms=offered.value,
                             sender=self.signer("exporter"), expected=None)
        elif f.state is FinancingState.ACCEPTED:
            self.fund_as(fid, "bank_a")
        elif f.state is FinancingState.FUNDED:  # half first, then the rest
            self.attempt("repay", w["fin"].repay, fid, f.outstanding if f.repaid else max(1, f.outstanding // 2),
                         sender=self.signer("importer"))

    @rule(days=st.sampled_from([1, 20, 50]))
    def time_passes(self, days: int) -> None:
        travel(self.world["chain"], days * DAY)

    @invariant()
    def chain_agrees_with_the_model_and_the_escrow_balances(self) -> None:
        """Every invariant, from one snapshot of the chain read in two batched requests."""
        w = self.world
        fin, chain, c = w["fin"], w["chain"], w["fin"].contract.functions
        count = int(chain.call(fin.contract, "financingCount"))
        parties = list(w["p"].values())
        with chain.w3.batch_requests() as batch:
            for fp in INVOICES:
                batch.add(c.reservation(fp))
                batch.add(c.fingerprintStatus(fp))
            batch.add(w["stable"].functions.balanceOf(fin.address))
            batch.add(c.owed(w["coin"]))
            for p in parties:
                batch.add(c.withdrawable(p.address, w["coin"]))
            for fid in range(1, count + 1):
                batch.add(c.financing(fid))
            for bill in w["bills_ids"]:
                batch.add(w["bills"].contract.functions.bill(bill))
            answers = iter(batch.execute())
        now = self.now()

        # the reservations are the model's: what the escrow keeps, and what it answers now (lapsed: none)
        for fp in INVOICES:
            stored, status = next(answers), FingerprintStatus(next(answers))
            h = self.model.held.get(fp)
            expected = (h.status, h.financing_id, h.reserved_until) if h else (FingerprintStatus.NONE, 0, 0)
            assert (FingerprintStatus(stored.status), stored.financingId, stored.reservedUntil) == expected
            assert status is self.model.effective(fp, now)

        # the escrow owes exactly what it holds, and that is what the parties may withdraw
        held, owed = next(answers), next(answers)
        withdrawable = [next(answers) for _ in parties]
        assert held == owed == sum(withdrawable)

        # an invoice is financed at most once; a bill is in the escrow exactly while a financing of it is open
        financings = [next(answers) for _ in range(count)]
        states = [FinancingState(f.state) for f in financings]
        type(self).states_seen.update(states)
        financed = [f.invoiceFingerprint for f, state in zip(financings, states, strict=True)
                    if state in (FinancingState.FUNDED, FinancingState.REPAID, FinancingState.DEFAULTED)]
        assert len(financed) == len(set(financed))
        open_bills = [f.tokenId for f, state in zip(financings, states, strict=True) if state in OPEN]
        assert len(open_bills) == len(set(open_bills))
        for token in w["bills_ids"]:  # every party stays active here, so every ended financing delivered
            assert (next(answers).holder == fin.address) == (token in open_bills)


@pytest.fixture
def world(chain, admin, signers, tmp_path, snapshot):
    settings_ = deployment.Settings(max_validity_days=3650)  # the credit record outlives every walk's travel
    suite = deployment.deploy_suite(chain, admin, tmp_path, test_stablecoin=True, settings=settings_)
    w = trade_finance_world(chain, admin, signers, suite, days=3650)
    doc = hashing.load_json_file(samples.TRANSPORT_DOCUMENT)
    w["bills_ids"] = [w["bills"].issue({**doc, "transportDocumentReference": f"VHSL-FIN-{i}"},
                                       w["p"]["exporter"].address, sender=w["p"]["carrier"]).value.token_id
                      for i in range(3)]
    w["p"] = {k: v for k, v in w["p"].items() if k in PARTIES}
    w["admin"] = admin
    return w


def test_escrow_invariants_hold_under_random_steps(world):
    EscrowMachine.world = world
    EscrowMachine.steps_run = 0
    EscrowMachine.states_seen = set()
    EscrowMachine.outcomes = Counter()
    run_state_machine_as_test(EscrowMachine, settings=settings(
        max_examples=60, stateful_step_count=20, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    ))
    assert EscrowMachine.steps_run >= 60 * 3
    # the random walks really reached money movements and the reservation rules, not only refusals
    reached = {FinancingState.FUNDED, FinancingState.REPAID}
    assert reached <= EscrowMachine.states_seen, EscrowMachine.states_seen
    seen = EscrowMachine.outcomes
    assert seen["request", None] and seen["fund", None] and seen["release", None], dict(seen)
    outcomes = str(sorted(seen.items(), key=str))
    assert seen["request", "InvoiceReserved"] + seen["request", "DuplicateFinancing"] > 0, outcomes
    assert seen["accept stale terms", "OfferChanged"] > 0, outcomes
