"""Random lifecycle sequences against a small Python model of the eBL rules.

Hypothesis drives random actions by random parties (the carrier, active traders, a trader who gets
suspended and reinstated, an outsider, another carrier) on one bill, and after every step compares the
chain's holder, beneficiary, nominee and status with the model, and the refusal (by exception name) when
the model expects one. Amendments switch to the successor bill. At least 200 examples run in CI.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from ebl_client import errors
from ebl_client.bills import Bills
from ebl_client.hashing import text_hash
from ebl_client.models import BillStatus, Role

from .conftest import sample_hash

ZERO = "0x" + "00" * 20
CARRIER, T1, T2, T3, FLAKY, OUTSIDER, OTHER_CARRIER = range(1, 8)
PARTIES = [CARRIER, T1, T2, T3, FLAKY, OUTSIDER, OTHER_CARRIER]
TRADERS = [T1, T2, T3, FLAKY]
HOLDER, BENEFICIARY, OWNERS, OWNERS_FROM_BEARER = "holder", "beneficiary", "owners", "owners_from_bearer"
DOCS = [bytes([i]) * 32 for i in range(1, 5)]


@dataclass
class Model:
    """The rules of BillOfLadingRegistry for one bill, as a carrier's lawyer would state them."""

    holder: int
    beneficiary: int | None  # None: zero address (blank endorsed)
    straight: bool
    status: BillStatus = BillStatus.ISSUED
    nominee: int | None = None
    previous: int | None = None
    last_move: str | None = None
    paused: bool = False
    flaky_active: bool = True

    def eligible(self, party: int | None) -> bool:
        return party in (T1, T2, T3) or (party == FLAKY and self.flaky_active)

    def set_beneficiary(self, party: int | None) -> None:
        self.beneficiary = party
        self.nominee = None  # every change of beneficiary lapses the nomination

    def authorize(self, action: str, actor: int) -> str | None:
        """The common checks, in the contract's order; the error name or None."""
        if self.paused:
            return "EnforcedPause"
        allowed = {
            "accept": {BillStatus.SURRENDERED_FOR_DELIVERY},
            "reject_surrender": {BillStatus.SURRENDERED_FOR_DELIVERY, BillStatus.SURRENDERED_FOR_AMENDMENT},
            "amend": {BillStatus.SURRENDERED_FOR_AMENDMENT},
            "paper": {BillStatus.ISSUED, BillStatus.SURRENDERED_FOR_AMENDMENT},
        }.get(action, {BillStatus.ISSUED})
        if self.status not in allowed:
            return "InvalidStatus"
        if action in ("accept", "reject_surrender", "amend", "paper"):
            return None if actor == CARRIER else "NotCarrier"
        if action == "nominate":
            if actor != self.beneficiary:
                return "NotBeneficiary"
        elif action == "reject":
            if self.last_move is None:
                return "NothingToReject"
            recipient = self.beneficiary if self.last_move == BENEFICIARY else self.holder
            if actor != recipient:
                return "NotLastRecipient"
        elif actor != self.holder:
            return "NotHolder"
        if self.straight and action in ("endorse", "transfer_owners", "blank_endorse", "nominate"):
            return "StraightBillNotEndorsable"
        return None

    def holds_title(self) -> bool:
        return self.beneficiary in (self.holder, None)

    # Each action returns the expected error name, or None after applying its effects.

    def transfer(self, actor: int, to: int) -> str | None:
        if error := self.authorize("transfer", actor):
            return error
        if to == self.holder:
            return "SameParty"
        if self.straight and to != self.beneficiary:
            return "NotConsignee"
        if not self.eligible(to):
            return "RecipientNotActive"
        self.previous, self.last_move, self.holder = self.holder, HOLDER, to
        return None

    def endorse(self, actor: int, to: int) -> str | None:
        if error := self.authorize("endorse", actor):
            return error
        if not self.holds_title() and to != self.nominee:
            return "NotNominee"
        if not self.eligible(to):
            return "RecipientNotActive"
        if to == self.beneficiary:
            return "SameParty"
        self.previous = self.beneficiary
        self.set_beneficiary(to)
        self.last_move = BENEFICIARY
        return None

    def transfer_owners(self, actor: int, new_holder: int, new_beneficiary: int) -> str | None:
        if error := self.authorize("transfer_owners", actor):
            return error
        if not self.holds_title():
            return "HolderWithoutTitle"
        if new_holder == self.holder:
            return "SameParty"
        if new_beneficiary != new_holder and not self.eligible(new_beneficiary):
            return "RecipientNotActive"
        if not self.eligible(new_holder):
            return "RecipientNotActive"
        self.last_move = OWNERS_FROM_BEARER if self.beneficiary is None else OWNERS
        self.previous = self.holder
        self.set_beneficiary(new_beneficiary)
        self.holder = new_holder
        return None

    def nominate(self, actor: int, nominee: int | None) -> str | None:
        if error := self.authorize("nominate", actor):
            return error
        if nominee is not None:
            if nominee == actor:
                return "SameParty"
            if not self.eligible(nominee):
                return "RecipientNotActive"
        self.nominee, self.last_move = nominee, None
        return None

    def blank_endorse(self, actor: int) -> str | None:
        if error := self.authorize("blank_endorse", actor):
            return error
        if not self.holds_title():
            return "HolderWithoutTitle"
        if self.beneficiary is None:
            return "AlreadyBlankEndorsed"
        self.set_beneficiary(None)
        self.last_move = None
        return None

    def reject(self, actor: int) -> str | None:
        if error := self.authorize("reject", actor):
            return error
        move, previous = self.last_move, self.previous
        if move != HOLDER:
            restored = None if move == OWNERS_FROM_BEARER else previous
            if restored is not None and move == BENEFICIARY and not self.eligible(restored):
                return "RecipientNotActive"
            if move != BENEFICIARY and not self.eligible(previous):
                return "RecipientNotActive"
            self.set_beneficiary(restored)
        elif not self.eligible(previous):
            return "RecipientNotActive"
        if move != BENEFICIARY:
            self.holder = previous  # type: ignore[assignment]
        self.last_move = None
        return None

    def surrender(self, actor: int, purpose: str) -> str | None:
        if error := self.authorize(f"surrender_{purpose}", actor):
            return error
        if purpose == "delivery" and not self.holds_title():
            return "HolderWithoutTitle"
        self.previous, self.last_move, self.holder = self.holder, None, CARRIER
        self.status = (BillStatus.SURRENDERED_FOR_DELIVERY if purpose == "delivery"
                       else BillStatus.SURRENDERED_FOR_AMENDMENT)
        return None

    def accept(self, actor: int) -> str | None:
        if error := self.authorize("accept", actor):
            return error
        self.status = BillStatus.ACCOMPLISHED
        return None

    def reject_surrender(self, actor: int) -> str | None:
        if error := self.authorize("reject_surrender", actor):
            return error
        if not self.eligible(self.previous):
            return "RecipientNotActive"
        self.status, self.holder = BillStatus.ISSUED, self.previous  # type: ignore[assignment]
        return None

    def paper(self, actor: int) -> str | None:
        if error := self.authorize("paper", actor):
            return error
        self.status = BillStatus.VOIDED
        return None

    def amend(self, actor: int) -> tuple[str | None, Model | None]:
        """Voids this bill; the successor goes to the surrendering holder and the same beneficiary."""
        if error := self.authorize("amend", actor):
            return error, None
        holder, beneficiary = self.previous, self.beneficiary
        if beneficiary != holder and beneficiary is not None and not self.eligible(beneficiary):
            return "RecipientNotActive", None
        if not self.eligible(holder):
            return "RecipientNotActive", None
        self.status = BillStatus.VOIDED
        successor = Model(holder=holder, beneficiary=beneficiary, straight=self.straight,  # type: ignore[arg-type]
                          paused=self.paused, flaky_active=self.flaky_active)
        return None, successor


@dataclass
class World:
    chain: object
    bills: Bills
    participants: object
    admin: object
    signers: list = field(default_factory=list)
    base_snapshot: str = ""


trader = st.sampled_from(TRADERS)
#: Actors and targets are drawn mostly as roles resolved against the current state, so that most steps are
#: meaningful (the holder acting, the recipient rejecting) while wrong parties still appear often.
ROLES = ["holder", "holder", "holder", "beneficiary", "beneficiary", "nominee", "previous", "previous"]
party = st.sampled_from(ROLES + PARTIES)


class BillLifecycle(RuleBasedStateMachine):
    world: World  # set by the test before running
    steps_run = 0

    def __init__(self) -> None:
        super().__init__()
        w = self.world
        self.snapshot = w.chain.w3.provider.make_request("evm_snapshot", [])["result"]
        self.token = 0
        self.model: Model | None = None
        self.reference = 0

    def teardown(self) -> None:
        assert self.world.chain.w3.provider.make_request("evm_revert", [self.snapshot])["result"] is True

    def resolve(self, who: int | str | None) -> int | None:
        """A role name ("holder", ...) as the party holding it now; a party number as itself."""
        if not isinstance(who, str):
            return who
        assert self.model is not None
        current = {"holder": self.model.holder, "beneficiary": self.model.beneficiary,
                   "nominee": self.model.nominee, "previous": self.model.previous}[who]
        return OUTSIDER if current is None else current

    def address(self, party: int | None) -> str:
        return ZERO if party is None else self.world.signers[party].address

    def act(self, actor: int, fn: str, *args: object) -> str | None:
        w = self.world
        try:
            w.chain.transact(w.signers[actor], w.bills.contract, fn, self.token, *args, text_hash("step"))
        except errors.ContractRevert as exc:
            return type(exc).__name__
        return None

    def expect(self, expected: str | None, got: str | None, before: Model) -> None:
        assert got == expected, f"chain said {got}, model said {expected}; state before: {before}"

    def step(self, actor: int | str, fn: str, model_fn: str, *args: int | str | None) -> None:
        assert self.model is not None
        type(self).steps_run += 1
        actor = self.resolve(actor)  # type: ignore[assignment]
        args = tuple(self.resolve(a) if a not in ("delivery", "amendment") else a for a in args)
        before = copy.deepcopy(self.model)
        trial = copy.deepcopy(self.model)
        expected = getattr(trial, model_fn)(actor, *args)
        chain_args = [self.address(a) if isinstance(a, int) or a is None else a for a in args]
        if fn.startswith("surrender"):
            chain_args = []
        got = self.act(actor, fn, *chain_args)
        self.expect(expected, got, before)
        if expected is None:
            self.model = trial

    @initialize(holder=trader, beneficiary=trader, straight=st.booleans())
    def issue(self, holder: int, beneficiary: int, straight: bool) -> None:
        w = self.world
        if straight and beneficiary == holder:
            beneficiary = T3 if holder != T3 else T1
        request = (b"HYP-0001".ljust(32, b"\0"), DOCS[0], self.address(holder), self.address(beneficiary),
                   straight)
        receipt = w.chain.transact(w.signers[CARRIER], w.bills.contract, "issue", request, b"\0" * 32)
        self.token = w.bills._token_of_action(receipt, _ISSUE)
        self.model = Model(holder=holder, beneficiary=beneficiary, straight=straight)

    @rule(actor=party, to=party)
    def transfer(self, actor: int, to: int) -> None:
        self.step(actor, "transferHolder", "transfer", to)

    @rule(actor=party, to=party)
    def endorse(self, actor: int, to: int) -> None:
        self.step(actor, "endorse", "endorse", to)

    @rule(actor=party, new_holder=party, new_beneficiary=party)
    def transfer_owners(self, actor: int, new_holder: int, new_beneficiary: int) -> None:
        self.step(actor, "transferOwners", "transfer_owners", new_holder, new_beneficiary)

    @rule(actor=party, nominee=st.one_of(st.none(), party, party))
    def nominate(self, actor: int, nominee: int | None) -> None:
        self.step(actor, "nominate", "nominate", nominee)

    @rule(actor=party)
    def blank_endorse(self, actor: int) -> None:
        self.step(actor, "blankEndorse", "blank_endorse")

    @rule(actor=party)
    def reject(self, actor: int) -> None:
        self.step(actor, "reject", "reject")

    @rule(actor=party, purpose=st.sampled_from(["delivery", "amendment"]))
    def surrender(self, actor: int, purpose: str) -> None:
        fn = "surrenderForDelivery" if purpose == "delivery" else "surrenderForAmendment"
        self.step(actor, fn, "surrender", purpose)

    @rule(actor=st.sampled_from([CARRIER, OTHER_CARRIER, T1]))
    def accept_surrender(self, actor: int) -> None:
        self.step(actor, "acceptSurrender", "accept")

    @rule(actor=st.sampled_from([CARRIER, OTHER_CARRIER, T1]))
    def reject_surrender(self, actor: int) -> None:
        self.step(actor, "rejectSurrender", "reject_surrender")

    @rule(actor=st.sampled_from([CARRIER, OTHER_CARRIER]))
    def switch_to_paper(self, actor: int) -> None:
        self.step(actor, "switchToPaper", "paper")

    @rule(actor=st.sampled_from([CARRIER, OTHER_CARRIER, T1]), doc=st.sampled_from(DOCS[1:]))
    def amend(self, actor: int, doc: bytes) -> None:
        assert self.model is not None
        before = copy.deepcopy(self.model)
        trial = copy.deepcopy(self.model)
        expected, successor = trial.amend(actor)
        got = self.act(actor, "amend", doc)
        self.expect(expected, got, before)
        if expected is None:
            self.token = int(self.world.chain.call(self.world.bills.contract, "bill", self.token)[11])
            self.model = successor

    @rule(pause=st.booleans())
    def pause_or_unpause(self, pause: bool) -> None:
        assert self.model is not None
        w = self.world
        expected = None if pause != self.model.paused else ("EnforcedPause" if pause else "ExpectedPause")
        try:
            w.chain.transact(w.admin, w.bills.contract, "pause" if pause else "unpause")
            got = None
        except errors.ContractRevert as exc:
            got = type(exc).__name__
        assert got == expected
        if expected is None:
            self.model.paused = pause

    @rule(suspend=st.booleans())
    def suspend_or_reinstate_the_flaky_trader(self, suspend: bool) -> None:
        assert self.model is not None
        if suspend != self.model.flaky_active:
            return  # already in that state: the registry's own refusals are tested elsewhere
        w = self.world
        if suspend:
            w.participants.suspend(w.admin, self.address(FLAKY), "hypothesis")
        else:
            w.participants.reinstate(w.admin, self.address(FLAKY))
        self.model.flaky_active = not suspend

    @invariant()
    def chain_matches_model(self) -> None:
        if self.model is None:
            return
        w = self.world
        raw = w.chain.call(w.bills.contract, "bill", self.token)
        holder, beneficiary, nominee, status = raw[1], raw[2], raw[3], raw[4]
        m = self.model
        assert BillStatus(status) is m.status
        assert holder == self.address(m.holder)
        assert beneficiary == self.address(m.beneficiary)
        assert nominee == self.address(m.nominee)
        if m.status in (BillStatus.ISSUED, BillStatus.SURRENDERED_FOR_DELIVERY,
                        BillStatus.SURRENDERED_FOR_AMENDMENT):
            assert w.chain.call(w.bills.contract, "ownerOf", self.token) == holder


_ISSUE = __import__("ebl_client.models", fromlist=["TitleAction"]).TitleAction.ISSUE


@pytest.fixture
def world(chain, suite, registry, admin, signers):
    for i, role in ((CARRIER, Role.CARRIER), (OTHER_CARRIER, Role.CARRIER), (T1, Role.TRADER), (T2, Role.TRADER),
                    (T3, Role.TRADER), (FLAKY, Role.TRADER)):
        registry.onboard(admin, signers[i].address, role, "HK", sample_hash(i))
    return World(chain=chain, bills=Bills.of(chain, suite), participants=registry, admin=admin, signers=signers)


def test_random_lifecycles_follow_the_model(world):
    BillLifecycle.world = world
    BillLifecycle.steps_run = 0
    run_state_machine_as_test(BillLifecycle, settings=settings(
        max_examples=200, stateful_step_count=12, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    ))
    assert BillLifecycle.steps_run >= 200 * 3  # the machine really ran: examples x steps
