"""Random lifecycle sequences against a small Python model of the eBL rules.

Hypothesis drives random actions by random parties (the carrier, active traders, a trader who gets
suspended and reinstated, an outsider, another carrier) on one bill, and after every step compares the
chain's holder, beneficiary, nominee, status and ERC-721 balances with the model, and the refusal (by
exception name) when the model expects one. Amendments switch to the successor bill. At least 200 examples
run in CI, derandomized.

The rules of the security fixes are in the model: the financing escrow receives a bill only by `pledge`
(every other move to it is refused), and the pledge and the escrow's acceptance are one transaction (a
request the escrow refuses leaves the bill where it was); the exporter's `cancel` of the financing delivers
the bill back, which the exporter may reject and anyone may `redeliver`; a nomination does not close the
recipient's reject window; a carrier voids a bill (switch to paper, amend) only after the holder surrendered
it for amendment, and only while an active carrier; a restoration may return a bill to the escrow.
"""

from __future__ import annotations

import copy
import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from eth_abi import encode as abi_encode
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from ebl_client import deployment, errors
from ebl_client.bills import Bills, reference_bytes
from ebl_client.financing import REQUEST_TYPES, Financings
from ebl_client.hashing import text_hash
from ebl_client.models import BillStatus, Role
from ebl_client.participants import Participants

from .conftest import sample_hash

ZERO = "0x" + "00" * 20
DAY = 86_400
CARRIER, T1, T2, T3, FLAKY, OUTSIDER, OTHER_CARRIER = range(1, 8)
ESCROW = 100  # the suite's FinancingEscrow: a contract, never a signer
PARTIES = [CARRIER, T1, T2, T3, FLAKY, OUTSIDER, OTHER_CARRIER, ESCROW]
TRADERS = [T1, T2, T3, FLAKY]
HOLDER, BENEFICIARY, OWNERS, OWNERS_FROM_BEARER = "holder", "beneficiary", "owners", "owners_from_bearer"
REFERENCE = reference_bytes("HYP-0001")
DOCS = [bytes([i]) * 32 for i in range(1, 5)]


@dataclass
class Financing:
    """The escrow's side of a pledge, as far as the bill is concerned."""

    financing_id: int
    exporter: int
    cancelled: bool = False
    delivered: bool = False


@dataclass
class Model:
    """The rules of BillOfLadingRegistry for one bill (and of the escrow for its custody), as a carrier's
    lawyer would state them."""

    holder: int
    beneficiary: int | None  # None: zero address (blank endorsed)
    straight: bool
    status: BillStatus = BillStatus.ISSUED
    nominee: int | None = None
    previous: int | None = None
    last_move: str | None = None
    paused: bool = False
    flaky_active: bool = True
    carrier_active: bool = True
    financing: Financing | None = None

    def eligible(self, party: int | None) -> bool:
        """May receive a new position (holder, beneficiary, nominee): an active trader. Never the escrow."""
        return party in (T1, T2, T3) or (party == FLAKY and self.flaky_active)

    def restorable(self, party: int | None) -> bool:
        """May get a bill back by a restoration (reject, rejected surrender, amendment): also the escrow."""
        return self.eligible(party) or party == ESCROW

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
            "paper": {BillStatus.SURRENDERED_FOR_AMENDMENT},  # only after the holder's surrender
        }.get(action, {BillStatus.ISSUED})
        if self.status not in allowed:
            return "InvalidStatus"
        if action in ("accept", "reject_surrender", "amend", "paper"):
            if actor != CARRIER:
                return "NotCarrier"
            if action in ("amend", "paper") and not self.carrier_active:
                return "CarrierNotActive"
            return None
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
        if self.straight and action in ("endorse", "transfer_owners", "blank_endorse", "nominate", "pledge"):
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
        if not self.eligible(new_holder):
            return "RecipientNotActive"
        if new_beneficiary != new_holder and not self.eligible(new_beneficiary):
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
        self.nominee = nominee  # the last move stays open: the nomination changed nothing its recipient got
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
            if restored is not None and move == BENEFICIARY and not self.restorable(restored):
                return "RecipientNotActive"
            self.set_beneficiary(restored)
        if move != BENEFICIARY:
            if not self.restorable(previous):
                return "RecipientNotActive"
            self.holder = previous  # type: ignore[assignment]
        self.last_move = None
        return None

    def pledge(self, actor: int, importer: int) -> str | None:
        """Into the escrow with a well-formed request for `importer`: the escrow accepts unless the exporter
        is no active trader, and then the whole pledge is undone."""
        if error := self.authorize("pledge", actor):
            return error
        if not self.holds_title():
            return "HolderWithoutTitle"
        if not self.eligible(actor):  # the escrow's own check of the exporter, inside the same transaction
            return "TraderNotActive"
        assert importer != actor and self.eligible(importer)
        self.previous = self.holder
        self.set_beneficiary(ESCROW)
        self.holder = ESCROW
        self.last_move = None  # the escrow accepted: nothing to reject
        return None

    def deliver(self, to: int) -> bool:
        """The escrow's transferOwners(to, to) of a bill it holds; False when the registry refuses."""
        if self.paused or self.status is not BillStatus.ISSUED or self.holder != ESCROW or not self.eligible(to):
            return False
        self.previous = ESCROW
        self.set_beneficiary(to)
        self.holder, self.last_move = to, OWNERS
        return True

    def cancel(self, actor: int) -> str | None:
        f = self.financing
        assert f is not None
        if self.paused:
            return "TitleRegistryPaused"
        if actor != f.exporter:
            return "NotExporter"
        if f.cancelled:
            return "WrongState"
        f.cancelled = True
        f.delivered = self.deliver(f.exporter)  # a refused delivery does not undo the cancel
        return None

    def redeliver(self, actor: int) -> str | None:
        f = self.financing
        assert f is not None
        if self.paused:
            return "TitleRegistryPaused"
        if not f.cancelled:
            return "WrongState"
        in_custody = not f.delivered or (self.status is BillStatus.ISSUED and self.holder == ESCROW
                                         and self.last_move is None)
        if not in_custody:
            return "NothingToRedeliver"
        if not self.deliver(f.exporter):
            return "RecipientNotActive"  # unlike the first delivery, a refused redelivery reverts
        f.delivered = True
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
        if not self.restorable(self.previous):
            return "RecipientNotActive"
        self.status, self.holder = BillStatus.ISSUED, self.previous  # type: ignore[assignment]
        return None

    def paper(self, actor: int) -> str | None:
        if error := self.authorize("paper", actor):
            return error
        self.status = BillStatus.VOIDED
        return None

    def amend(self, actor: int, right_reference: bool) -> tuple[str | None, Model | None]:
        """Voids this bill; the successor goes to the surrendering holder and the same beneficiary."""
        if error := self.authorize("amend", actor):
            return error, None
        if not right_reference:
            return "ReferenceMismatch", None
        holder, beneficiary = self.previous, self.beneficiary
        if not self.restorable(holder):
            return "RecipientNotActive", None
        if beneficiary != holder and beneficiary is not None and not self.restorable(beneficiary):
            return "RecipientNotActive", None
        self.status = BillStatus.VOIDED
        successor = Model(holder=holder, beneficiary=beneficiary, straight=self.straight,  # type: ignore[arg-type]
                          paused=self.paused, flaky_active=self.flaky_active, carrier_active=self.carrier_active)
        return None, successor

    @property
    def live(self) -> bool:
        return self.status in (BillStatus.ISSUED, BillStatus.SURRENDERED_FOR_DELIVERY,
                               BillStatus.SURRENDERED_FOR_AMENDMENT)


@dataclass
class World:
    chain: Any
    bills: Bills
    fin: Financings
    participants: Participants
    admin: Any
    coin: str
    signers: list = field(default_factory=list)


trader = st.sampled_from(TRADERS)
#: Actors and targets are drawn mostly as roles resolved against the current state, so that most steps are
#: meaningful (the holder acting, the recipient rejecting) while wrong parties still appear often.
ROLES = ["holder", "holder", "holder", "beneficiary", "beneficiary", "nominee", "previous", "previous"]
party = st.sampled_from(ROLES + PARTIES)
#: fresh invoice fingerprints: every pledge asks for a new invoice (reservations are the escrow tests' topic)
INVOICES = itertools.count(1)


class BillLifecycle(RuleBasedStateMachine):
    world: World  # set by the test before running
    steps_run = 0
    pledges = 0  # successful pledges, across examples: the walks really reached the escrow
    escrow_outcomes: ClassVar[Counter[tuple[str, str | None]]] = Counter()  # (cancel/redeliver, refusal)

    def __init__(self) -> None:
        super().__init__()
        w = self.world
        self.snapshot = w.chain.w3.provider.make_request("evm_snapshot", [])["result"]
        self.token = 0
        self.model: Model | None = None

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

    def actor(self, who: int | str) -> int:
        """Who signs: the escrow is a contract, so a step "by the escrow" is tried by the outsider."""
        resolved = self.resolve(who)
        return OUTSIDER if resolved in (None, ESCROW) else resolved  # type: ignore[return-value]

    def address(self, party: int | None) -> str:
        if party is None:
            return ZERO
        return self.world.fin.address if party == ESCROW else self.world.signers[party].address

    def act(self, actor: int, fn: str, *args: object) -> str | None:
        w = self.world
        try:
            w.chain.transact(w.signers[actor], w.bills.contract, fn, self.token, *args, text_hash("step"))
        except errors.ContractRevert as exc:
            return type(exc).__name__
        return None

    def expect(self, expected: str | None, got: str | None, before: Model) -> None:
        assert got == expected, f"chain said {got}, model said {expected}; state before: {before}"

    def step(self, who: int | str, fn: str, model_fn: str, *args: int | str | None) -> None:
        assert self.model is not None
        type(self).steps_run += 1
        actor = self.actor(who)
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

    @initialize(holder=trader, beneficiary=st.sampled_from(["holder", "holder", *TRADERS]),
                straight=st.sampled_from([False, False, True]), pledged=st.sampled_from([False, False, True]))
    def issue(self, holder: int, beneficiary: int | str, straight: bool, pledged: bool) -> None:
        """Issue the walk's bill: to order of its holder half the time (so the holder may pledge it), and
        start some walks with the bill pledged, so that the escrow's custody gets walked too."""
        w = self.world
        beneficiary = holder if beneficiary == "holder" else beneficiary
        if straight and beneficiary == holder:
            beneficiary = T3 if holder != T3 else T1
        request = (REFERENCE, DOCS[0], self.address(holder), self.address(beneficiary), straight)
        receipt = w.chain.transact(w.signers[CARRIER], w.bills.contract, "issue", request, b"\0" * 32)
        self.token = w.bills._issued_token(receipt)
        self.model = Model(holder=holder, beneficiary=beneficiary, straight=straight)
        if pledged:
            self.pledge_into_escrow(holder)

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

    # The reject window: while a move is open, its recipient rejecting, and the beneficiary nominating first
    # (which must not close the window), are drawn far more often than chance would.
    @precondition(lambda self: self.model is not None and self.model.last_move is not None)
    @rule()
    def the_recipient_rejects(self) -> None:
        assert self.model is not None
        self.step("beneficiary" if self.model.last_move == BENEFICIARY else "holder", "reject", "reject")

    @precondition(lambda self: self.model is not None and self.model.last_move is not None
                  and self.model.beneficiary not in (None, ESCROW))
    @rule(nominee=st.one_of(st.none(), party))
    def the_beneficiary_nominates_in_the_reject_window(self, nominee: int | None) -> None:
        self.step("beneficiary", "nominate", "nominate", nominee)

    @rule(actor=st.sampled_from(["holder", "holder", "beneficiary", *TRADERS]))
    def pledge(self, actor: int | str) -> None:
        self.pledge_into_escrow(actor)

    # Hypothesis draws rules uniformly: a second rule makes the pledge, the escrow's only way in, twice as likely.
    @rule(actor=st.sampled_from(["holder", "holder", "beneficiary", *TRADERS]))
    def pledge_b(self, actor: int | str) -> None:
        self.pledge_into_escrow(actor)

    def pledge_into_escrow(self, actor: int | str) -> None:
        """Pledge into the escrow with a well-formed financing request (a fresh invoice each time)."""
        assert self.model is not None
        w = self.world
        type(self).steps_run += 1
        signer = self.actor(actor)
        importer = T3 if signer != T3 else T1
        data = abi_encode(REQUEST_TYPES, [(self.address(importer), w.coin, 10**9, w.chain.block_time() + 30 * DAY,
                                           text_hash(f"invoice {next(INVOICES)}"))])
        before, trial = copy.deepcopy(self.model), copy.deepcopy(self.model)
        expected = trial.pledge(signer, importer)
        got = self.act(signer, "pledge", w.fin.address, data)
        self.expect(expected, got, before)
        if expected is None:
            trial.financing = Financing(int(w.chain.call(w.fin.contract, "financingCount")), exporter=signer)
            self.model = trial
            type(self).pledges += 1

    def escrow_step(self, actor: int, fn: str) -> None:
        assert self.model is not None and self.model.financing is not None
        type(self).steps_run += 1
        w = self.world
        before, trial = copy.deepcopy(self.model), copy.deepcopy(self.model)
        expected = getattr(trial, fn)(actor)
        try:
            w.chain.transact(w.signers[actor], w.fin.contract, fn, self.model.financing.financing_id)
            got = None
        except errors.ContractRevert as exc:
            got = type(exc).__name__
        self.expect(expected, got, before)
        type(self).escrow_outcomes[fn, got] += 1
        if expected is None:
            self.model = trial

    # Hypothesis draws rules uniformly among those whose precondition holds: while a financing exists its
    # steps come more often than any other rule, and a redelivery most often while the escrow holds the bill.
    @precondition(lambda self: self.model is not None and self.model.financing is not None)
    @rule(actor=st.sampled_from(["exporter", "exporter", T1, T2]))
    def cancel_financing(self, actor: int | str) -> None:
        self.cancel(actor)

    @precondition(lambda self: self.model is not None and self.model.financing is not None)
    @rule(actor=st.sampled_from(["exporter", "exporter", T1, T2]))
    def cancel_financing_b(self, actor: int | str) -> None:
        self.cancel(actor)

    @precondition(lambda self: self.model is not None and self.model.financing is not None)
    @rule(actor=st.sampled_from([T1, OUTSIDER]))
    def redeliver(self, actor: int) -> None:
        self.escrow_step(actor, "redeliver")

    @precondition(lambda self: self.model is not None and self.model.financing is not None
                  and self.model.financing.cancelled and self.model.holder == ESCROW)
    @rule(actor=st.sampled_from([T1, OUTSIDER]))
    def redeliver_from_custody(self, actor: int) -> None:
        self.escrow_step(actor, "redeliver")


    @precondition(lambda self: self.model is not None and self.model.financing is not None
                  and self.model.financing.cancelled and self.model.holder == self.model.financing.exporter)
    @rule()
    def exporter_rejects_the_returned_bill(self) -> None:
        """The bill the escrow delivered back may be rejected as the exporter's next action: it returns to the
        escrow, whose cancelled financing has custody again (redeliver)."""
        assert self.model is not None and self.model.financing is not None
        self.step(self.model.financing.exporter, "reject", "reject")

    def cancel(self, actor: int | str) -> None:
        """The exporter ends its financing before funding: the escrow delivers the bill back (or tries)."""
        assert self.model is not None and self.model.financing is not None
        self.escrow_step(self.model.financing.exporter if actor == "exporter" else actor, "cancel")  # type: ignore

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

    @rule(actor=st.sampled_from([CARRIER, CARRIER, OTHER_CARRIER]))
    def switch_to_paper(self, actor: int) -> None:
        self.step(actor, "switchToPaper", "paper")

    @rule(actor=st.sampled_from([CARRIER, CARRIER, OTHER_CARRIER, T1]), doc=st.sampled_from(DOCS[1:]),
          right_reference=st.sampled_from([True, True, True, False]))
    def amend(self, actor: int, doc: bytes, right_reference: bool) -> None:
        assert self.model is not None
        type(self).steps_run += 1
        before = copy.deepcopy(self.model)
        trial = copy.deepcopy(self.model)
        expected, successor = trial.amend(actor, right_reference)
        reference = REFERENCE if right_reference else reference_bytes("HYP-0002")
        got = self.act(actor, "amend", reference, doc)
        self.expect(expected, got, before)
        if expected is None:
            self.token = int(self.world.chain.call(self.world.bills.contract, "bill", self.token).successor)
            self.model = successor

    @rule(pause=st.booleans())
    def pause_or_unpause(self, pause: bool) -> None:
        assert self.model is not None
        w = self.world
        expected = None if pause != self.model.paused else ("EnforcedPause" if pause else "ExpectedPause")
        try:
            (w.bills.pause if pause else w.bills.unpause)(sender=w.admin)
            got = None
        except errors.ContractRevert as exc:
            got = type(exc).__name__
        assert got == expected
        if expected is None:
            self.model.paused = pause

    @rule(who=st.sampled_from([FLAKY, FLAKY, CARRIER]), suspend=st.booleans())
    def suspend_or_reinstate(self, who: int, suspend: bool) -> None:
        assert self.model is not None
        active = self.model.flaky_active if who == FLAKY else self.model.carrier_active
        if suspend != active:
            return  # already in that state: the registry's own refusals are tested elsewhere
        w = self.world
        if suspend:
            w.participants.suspend(self.address(who), "hypothesis", sender=w.admin)
        else:
            w.participants.reinstate(self.address(who), sender=w.admin)
        if who == FLAKY:
            self.model.flaky_active = not suspend
        else:
            self.model.carrier_active = not suspend

    @invariant()
    def chain_matches_model(self) -> None:
        if self.model is None:
            return
        w = self.world
        raw = w.chain.call(w.bills.contract, "bill", self.token)
        m = self.model
        assert BillStatus(raw.status) is m.status
        assert raw.holder == self.address(m.holder)
        assert raw.beneficiary == self.address(m.beneficiary)
        assert raw.nominee == self.address(m.nominee)
        if m.live:
            assert w.chain.call(w.bills.contract, "ownerOf", self.token) == raw.holder
        # ERC-721 balances: the one live bill counts for its holder, for nobody else (one batched request)
        holders = (CARRIER, T1, T2, T3, FLAKY, ESCROW)
        with w.chain.w3.batch_requests() as batch:
            for p in holders:
                batch.add(w.bills.contract.functions.balanceOf(self.address(p)))
            balances = batch.execute()
        assert [int(b) for b in balances] == [int(m.live and m.holder == p) for p in holders]
        if m.financing is not None:
            f = w.fin.get(m.financing.financing_id)
            assert f.state.name == ("CANCELLED" if m.financing.cancelled else "REQUESTED")
            assert f.delivered == m.financing.delivered and f.bill == self.token


@pytest.fixture
def world(chain, admin, signers, tmp_path, snapshot):
    suite = deployment.deploy_suite(chain, admin, tmp_path, test_stablecoin=True)
    participants = Participants.of(chain, suite)
    for i, role in ((CARRIER, Role.CARRIER), (OTHER_CARRIER, Role.CARRIER), (T1, Role.TRADER), (T2, Role.TRADER),
                    (T3, Role.TRADER), (FLAKY, Role.TRADER)):
        participants.onboard(signers[i].address, role, "HK", sample_hash(i), sender=admin)
    bills = Bills.of(chain, suite)
    return World(chain=chain, bills=bills, fin=Financings(chain, suite.address("FinancingEscrow"), bills),
                 participants=participants, admin=admin, coin=suite.address("TestStablecoin"), signers=signers)


def test_random_lifecycles_follow_the_model(world):
    BillLifecycle.world = world
    BillLifecycle.steps_run = 0
    BillLifecycle.pledges = 0
    BillLifecycle.escrow_outcomes = Counter()
    run_state_machine_as_test(BillLifecycle, settings=settings(
        max_examples=200, stateful_step_count=12, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    ))
    assert BillLifecycle.steps_run >= 200 * 3  # the machine really ran: examples x steps
    # and pledged into the escrow often enough to test its rules, and got bills back out of it
    outcomes = BillLifecycle.escrow_outcomes
    assert BillLifecycle.pledges >= 10 and outcomes["cancel", None] >= 3, (BillLifecycle.pledges, dict(outcomes))
