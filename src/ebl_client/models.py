"""Typed values the facades return to callers (and the CLI renders)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


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
        return [r.name.lower() for r in type(self) if r.name and r in self]


class ParticipantStatus(enum.IntEnum):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2


@dataclass(frozen=True)
class Participant:
    address: str
    roles: Role
    jurisdiction: str
    status: ParticipantStatus
    onboarded_at: int
    institution: str | None
    identifier_hash: str
    #: a human label known to this client (the demo's names); never stored on chain
    label: str | None = None

    @property
    def active(self) -> bool:
        return self.status is ParticipantStatus.ACTIVE


class VerificationStatus(enum.IntEnum):
    NONE = 0
    RECORDED = 1
    APPROVED = 2


@dataclass(frozen=True)
class CreditRecord:
    """An anchored commitment as the chain holds it (no report data: there is none on chain)."""

    subject: str
    root: str
    provider: str | None
    anchored_at: int
    expires_at: int
    revoked: bool
    valid: bool

    @property
    def exists(self) -> bool:
        return self.provider is not None


@dataclass(frozen=True)
class ConsentRecord:
    subject: str
    root: str
    financier: str
    granted_at: int
    expires_at: int
    withdrawn: bool
    live: bool


@dataclass(frozen=True)
class CreditVerification:
    financier: str
    subject: str
    root: str | None
    status: VerificationStatus
    maker: str | None
    recorded_at: int
    checker: str | None
    approved_at: int
    approved_and_valid: bool
