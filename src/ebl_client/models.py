"""Typed values the facades return to callers (and the CLI renders).

Reads return a model (`Bill`, `Financing`, ...); writes return a `Result`: the model after the action and
the `Transaction` that made it (`bill, tx = client.bills.issue(...)`).
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, NamedTuple, TypeVar

T = TypeVar("T")


def utc_time(timestamp: int) -> str:
    """A chain timestamp as `2026-11-21 09:30:05 UTC`; "" for 0 (unset)."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if timestamp else ""


@dataclass(frozen=True)
class Transaction:
    """A mined transaction of a write: where an audit trail finds it, and what it cost."""

    hash: str
    block: int
    gas_used: int
    sender: str


class Result(NamedTuple, Generic[T]):
    """What a write returns: `value`, the model after the action, and `tx`, the transaction that made it.

    Unpacks like a pair: `bill, tx = client.bills.issue(document, holder, sender=carrier)`."""

    value: T
    tx: Transaction


class Role(enum.IntFlag):
    """Participant role bits; must match contracts/access/Roles.sol."""

    CARRIER = 1 << 0
    TRADER = 1 << 1
    FINANCIER = 1 << 2
    CREDIT_PROVIDER = 1 << 3
    VERIFIER = 1 << 4
    REGULATOR = 1 << 5
    ESCROW = 1 << 6

    @classmethod
    def parse(cls, names: str | list[str]) -> Role:
        """`"trader,financier"` or `["trader", "financier"]` -> Role.TRADER | Role.FINANCIER."""
        from .errors import InvalidInput

        items = names.split(",") if isinstance(names, str) else names
        result = cls(0)
        for item in (i.strip().upper().replace("-", "_") for i in items):
            if not item:
                continue
            try:
                result |= cls[item]
            except KeyError:
                known = ", ".join(r.name.lower() for r in cls if r.name)
                raise InvalidInput(f"unknown role {item.lower()!r} (known: {known})") from None
        if not result:
            raise InvalidInput("at least one role is needed")
        return result

    def names(self) -> list[str]:
        """The lower-case names of the roles set, in bit order: TRADER | FINANCIER -> ["trader", "financier"]."""
        return [r.name.lower() for r in type(self) if r.name and r in self]


class ParticipantStatus(enum.IntEnum):
    """A participant's standing in the registry (the Solidity enum of the same name)."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2


@dataclass(frozen=True)
class Participant:
    """A consortium member as the participant registry holds it: roles, jurisdiction, status, identifier hash."""

    address: str
    roles: Role
    jurisdiction: str
    status: ParticipantStatus
    onboarded_at: int
    institution: str | None
    identifier_hash: str

    @property
    def active(self) -> bool:
        """Whether the participant's status is ACTIVE (not unregistered or suspended)."""
        return self.status is ParticipantStatus.ACTIVE


class VerificationStatus(enum.IntEnum):
    """Where a bank's credit verification stands: recorded by a maker, approved by a checker (Solidity enum)."""

    NONE = 0
    RECORDED = 1
    APPROVED = 2


@dataclass(frozen=True)
class CreditRecord:
    """An anchored commitment as the chain holds it (no report data: there is none on chain). `valid` also
    requires its provider to be an active credit provider now."""

    provider: str
    subject: str
    root: str
    anchored_at: int
    expires_at: int
    revoked: bool
    valid: bool



@dataclass(frozen=True)
class ConsentRecord:
    """The subject's consent to a financier relying on one provider's record."""

    provider: str
    subject: str
    root: str
    financier: str
    granted_at: int
    expires_at: int
    withdrawn: bool
    live: bool


@dataclass(frozen=True)
class CreditVerification:
    """A financier's maker-checker verification of a subject's record (`provider`, `root`)."""

    financier: str
    subject: str
    provider: str | None
    root: str | None
    status: VerificationStatus
    maker: str | None
    recorded_at: int
    checker: str | None
    approved_at: int
    approved_and_valid: bool


class BillStatus(enum.IntEnum):
    """Must match IBillOfLadingRegistry.Status."""

    NONE = 0
    ISSUED = 1
    SURRENDERED_FOR_DELIVERY = 2
    SURRENDERED_FOR_AMENDMENT = 3
    ACCOMPLISHED = 4
    VOIDED = 5


class TitleAction(enum.IntEnum):
    """Must match IBillOfLadingRegistry.Action; `dcsa` gives the DCSA eBL 3.0 action code."""

    ISSUE = 0
    TRANSFER = 1
    ENDORSE = 2
    TRANSFER_OWNERS = 3
    BLANK_ENDORSE = 4
    SURRENDER_FOR_DELIVERY = 5
    SURRENDER_FOR_AMENDMENT = 6
    NOMINATE = 7
    REJECT = 8
    SURRENDER_ACCEPTED = 9
    SURRENDER_REJECTED = 10
    AMEND = 11
    SWITCH_TO_PAPER = 12
    PLEDGE = 13

    @property
    def dcsa(self) -> str:
        """The DCSA eBL 3.0 action code of this action ("TRNS", "SURR(DELIVERY)", ...)."""
        return _DCSA_CODES[self]


_DCSA_CODES = {
    TitleAction.ISSUE: "ISSU", TitleAction.TRANSFER: "TRNS", TitleAction.ENDORSE: "ENDO",
    TitleAction.TRANSFER_OWNERS: "ENDO+TRNS", TitleAction.BLANK_ENDORSE: "BLNK",
    TitleAction.SURRENDER_FOR_DELIVERY: "SURR(DELIVERY)", TitleAction.SURRENDER_FOR_AMENDMENT: "SURR(AMENDMENT)",
    TitleAction.NOMINATE: "NOMINATE", TitleAction.REJECT: "RJCT", TitleAction.SURRENDER_ACCEPTED: "SACC",
    TitleAction.SURRENDER_REJECTED: "SREJ", TitleAction.AMEND: "AMND", TitleAction.SWITCH_TO_PAPER: "SWTP",
    TitleAction.PLEDGE: "ENDO+TRNS(PLEDGE)",
}


@dataclass(frozen=True)
class Bill:
    """An electronic bill of lading as the title registry holds it: parties, status and document hash."""

    token_id: int
    transport_document_reference: str
    carrier: str
    holder: str
    beneficiary: str | None  # None: blank-endorsed (bearer)
    nominee: str | None
    status: BillStatus
    straight: bool
    blank_endorsed: bool
    issued_block: int
    document_hash: str
    generation: int
    predecessor: int | None
    successor: int | None

    @property
    def live(self) -> bool:
        """Whether the bill is still in force: issued, or surrendered and awaiting the carrier's answer."""
        return self.status in (BillStatus.ISSUED, BillStatus.SURRENDERED_FOR_DELIVERY,
                               BillStatus.SURRENDERED_FOR_AMENDMENT)


@dataclass(frozen=True)
class TitleEvent:
    """One line of the chain of title, rebuilt from a TitleAction event."""

    token_id: int
    action: TitleAction
    actor: str
    holder: str
    beneficiary: str | None
    remark_hash: str | None
    block: int
    tx_hash: str
    log_index: int
    #: the block's time (seconds since 1970, UTC)
    timestamp: int = 0


class FinancingState(enum.IntEnum):
    """Must match IFinancingEscrow.State."""

    NONE = 0
    REQUESTED = 1
    ACCEPTED = 2
    FUNDED = 3
    REPAID = 4
    DEFAULTED = 5
    CANCELLED = 6


@dataclass(frozen=True)
class Financing:
    """One BL-backed financing. Amounts are integer minor units of the settlement token."""

    financing_id: int
    state: FinancingState
    exporter: str
    importer: str
    financier: str | None  # set when an offer is accepted
    token: str
    principal: int  # requested amount until an offer is accepted, then the offer's principal
    fee: int
    repaid: int
    outstanding: int
    maturity: int
    bill: int  # the pledged bill's token id
    delivered: bool  # the bill reached its final recipient (importer, financier or exporter)
    invoice_fingerprint: str


@dataclass(frozen=True)
class Offer:
    """A financier's standing offer (principal 0: none, or withdrawn)."""

    financing_id: int
    financier: str
    principal: int
    fee: int
    maturity: int

    @property
    def exists(self) -> bool:
        """Whether the offer stands (principal 0: none was made, or it was withdrawn)."""
        return self.principal > 0


@dataclass(frozen=True)
class Token:
    """A settlement token as people see amounts of it: its symbol and how many decimals its units have."""

    address: str
    symbol: str
    decimals: int


class FingerprintStatus(enum.IntEnum):
    """Must match IFinancingEscrow.FingerprintStatus."""

    NONE = 0
    RESERVED = 1
    FINANCED = 2


@dataclass(frozen=True)
class Reservation:
    """Who holds an invoice fingerprint: `financing_id` reserved it until `reserved_until`, or financed it.
    `status` is what the escrow answers now (a lapsed reservation reads NONE)."""

    invoice_fingerprint: str
    status: FingerprintStatus
    financing_id: int | None
    reserved_until: int


#: fields that hold 256-bit bill token ids: hex strings in JSON, so JavaScript and other readers keep every digit
TOKEN_ID_FIELDS = {"token_id", "predecessor", "successor", "bill"}


def jsonable(value: Any) -> Any:
    """Dataclasses, enums and containers of them as plain JSON values (roles as name lists, states lower-case)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: (hex(v) if k in TOKEN_ID_FIELDS and isinstance(v, int) else jsonable(v))
                for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, enum.Flag):
        return value.names() if isinstance(value, Role) else value.value
    if isinstance(value, enum.Enum):
        return value.name.lower()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


#: The client's mirror of each Solidity enum (by its canonical name in the contracts). The values must match
#: the Solidity order: tests/test_artifacts.py checks them against the enums solc reports in the artifacts.
SOLIDITY_ENUMS: dict[str, type[enum.IntEnum]] = {
    "IParticipantRegistry.Status": ParticipantStatus,
    "IBillOfLadingRegistry.Status": BillStatus,
    "IBillOfLadingRegistry.Action": TitleAction,
    "ICreditHashRegistry.VerificationStatus": VerificationStatus,
    "IFinancingEscrow.State": FinancingState,
    "IFinancingEscrow.FingerprintStatus": FingerprintStatus,
}
