"""Facade over ParticipantRegistry: onboard, re-role, suspend, reinstate, look up and list participants."""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount

from .chain import ContractFacade, to_address
from .errors import InvalidInput, ParticipantNotFound
from .hashing import text_hash
from .models import Participant, ParticipantStatus, Result, Role

CONTRACT = "ParticipantRegistry"
ZERO_ADDRESS = "0x" + "00" * 20
DEFAULT_ADMIN_ROLE = b"\0" * 32


def jurisdiction_code(code: str) -> bytes:
    """ISO 3166-1 alpha-2 as the contract's bytes2 ("hk" -> b"HK"); InvalidInput otherwise."""
    text = code.strip().upper()
    if len(text) != 2 or not ("A" <= text[0] <= "Z" and "A" <= text[1] <= "Z"):
        raise InvalidInput(f"jurisdiction {code!r} is not a two-letter ISO 3166-1 code (e.g. HK, CN)")
    return text.encode("ascii")


def _identifier_hash(value: bytes | str) -> bytes:
    raw = bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else value
    if len(raw) != 32 or raw == b"\0" * 32:
        raise InvalidInput("the identifier hash must be 32 non-zero bytes (see hashing.identifier_hash)")
    return raw


class Participants(ContractFacade):
    """The participant registry. Writes (the consortium admin's) take the signer as `sender=` and return a
    `Result`; reads return `Participant` models."""

    CONTRACT = CONTRACT

    def onboard(
        self,
        account: str,
        roles: Role,
        jurisdiction: str,
        identifier_hash: bytes | str,
        institution: str | None = None,
        *,
        sender: LocalAccount,
    ) -> Result[Participant]:
        """Onboard `account` with `roles`, an ISO 3166 `jurisdiction` and the salted hash of its legal
        identifier (`hashing.identifier_hash`); a verifier officer names its `institution` (a financier).
        Caller: the consortium admin. Refusals raise AlreadyOnboarded, InvalidInstitution, ... by name."""
        request = (
            to_address(account, what="account"),
            int(Role(roles)),
            jurisdiction_code(jurisdiction),
            _identifier_hash(identifier_hash),
            to_address(institution, what="institution") if institution else ZERO_ADDRESS,
        )
        receipt = self._send(sender, "onboard", request)
        return self._result(self.get(request[0]), receipt)

    def update_roles(
        self, account: str, roles: Role, institution: str | None = None, *, sender: LocalAccount
    ) -> Result[Participant]:
        """Replace `account`'s roles (and a verifier's institution). Caller: the consortium admin."""
        address = to_address(account, what="account")
        inst = to_address(institution, what="institution") if institution else ZERO_ADDRESS
        receipt = self._send(sender, "updateRoles", address, int(Role(roles)), inst)
        return self._result(self.get(address), receipt)

    def suspend(self, account: str, reason: str = "", *, sender: LocalAccount) -> Result[Participant]:
        """Suspend `account`: it can no longer issue, anchor, consent, verify or receive, and its credit
        records stop counting; the reason stays off chain, its keccak256 goes into the event. Caller: the
        consortium admin."""
        address = to_address(account, what="account")
        receipt = self._send(sender, "suspend", address, text_hash(reason))
        return self._result(self.get(address), receipt)

    def reinstate(self, account: str, *, sender: LocalAccount) -> Result[Participant]:
        """Reinstate a suspended participant. Caller: the consortium admin."""
        address = to_address(account, what="account")
        receipt = self._send(sender, "reinstate", address)
        return self._result(self.get(address), receipt)

    def get(self, account: str) -> Participant:
        """The participant record; ParticipantNotFound when the account was never onboarded."""
        address = to_address(account, what="account")
        raw = self.chain.call(self.contract, "participant", address)
        if raw.status == ParticipantStatus.NONE:
            raise ParticipantNotFound(f"account {address} is not onboarded")
        return _participant(address, raw)

    def list(self) -> list[Participant]:
        """Every onboarded participant, in onboarding order (the escrow contract included)."""
        count = int(self.chain.call(self.contract, "participantCount"))
        accounts = self.chain.call_many([(self.contract, "accountAt", (i,)) for i in range(count)])
        records = self.chain.call_many([(self.contract, "participant", (a,)) for a in accounts])
        return [_participant(a, p) for a, p in zip(accounts, records, strict=True)]

    def is_active(self, account: str, role: Role) -> bool:
        """Whether `account` is active and holds every bit of `role`."""
        return bool(self.chain.call(self.contract, "isActive", to_address(account), int(role)))

    def is_verifier_of(self, officer: str, financier: str) -> bool:
        """Whether `officer` is an active verifier working for `financier`, an active financier."""
        return bool(self.chain.call(self.contract, "isVerifierOf", to_address(officer), to_address(financier)))

    def is_admin(self, account: str) -> bool:
        """Whether `account` holds the consortium admin role of the participant registry."""
        return bool(self.chain.call(self.contract, "hasRole", DEFAULT_ADMIN_ROLE, to_address(account)))


def _participant(address: str, p: Any) -> Participant:
    return Participant(
        address=to_address(address),
        roles=Role(p.roles),
        jurisdiction=bytes(p.jurisdiction).decode("ascii", errors="replace"),
        status=ParticipantStatus(p.status),
        onboarded_at=int(p.onboardedAt),
        institution=None if int(p.institution, 16) == 0 else to_address(p.institution),
        identifier_hash="0x" + bytes(p.identifierHash).hex(),
    )
