"""Facade over ParticipantRegistry: onboard, re-role, suspend, reinstate, look up and list participants."""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount

from .chain import ContractFacade, to_address
from .errors import InvalidInput, NotOnboarded
from .hashing import text_hash
from .models import Participant, ParticipantStatus, Role

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
    CONTRACT = CONTRACT

    def onboard(
        self,
        signer: LocalAccount,
        account: str,
        roles: Role,
        jurisdiction: str,
        identifier_hash: bytes | str,
        institution: str | None = None,
    ) -> Participant:
        """Onboard `account` (admin only). Raises AlreadyOnboarded, InvalidInstitution, ... by name."""
        request = (
            to_address(account, what="account"),
            int(Role(roles)),
            jurisdiction_code(jurisdiction),
            _identifier_hash(identifier_hash),
            to_address(institution, what="institution") if institution else ZERO_ADDRESS,
        )
        self.chain.transact(signer, self.contract, "onboard", request)
        return self.get(request[0])

    def update_roles(
        self, signer: LocalAccount, account: str, roles: Role, institution: str | None = None
    ) -> Participant:
        address = to_address(account, what="account")
        inst = to_address(institution, what="institution") if institution else ZERO_ADDRESS
        self.chain.transact(signer, self.contract, "updateRoles", address, int(Role(roles)), inst)
        return self.get(address)

    def suspend(self, signer: LocalAccount, account: str, reason: str = "") -> Participant:
        """Suspend; the reason stays off chain, its keccak256 goes into the event."""
        address = to_address(account, what="account")
        self.chain.transact(signer, self.contract, "suspend", address, text_hash(reason))
        return self.get(address)

    def reinstate(self, signer: LocalAccount, account: str) -> Participant:
        address = to_address(account, what="account")
        self.chain.transact(signer, self.contract, "reinstate", address)
        return self.get(address)

    def get(self, account: str) -> Participant:
        """The participant record; NotOnboarded when the account was never onboarded."""
        address = to_address(account, what="account")
        raw = self.chain.call(self.contract, "participant", address)
        if raw[2] == ParticipantStatus.NONE:
            raise NotOnboarded(account=address)
        return _participant(address, raw)

    def list(self) -> list[Participant]:
        """Every onboarded participant, in onboarding order."""
        count = int(self.chain.call(self.contract, "participantCount"))
        accounts = [self.chain.call(self.contract, "accountAt", i) for i in range(count)]
        return [_participant(a, self.chain.call(self.contract, "participant", a)) for a in accounts]

    def is_active(self, account: str, role: Role) -> bool:
        return bool(self.chain.call(self.contract, "isActive", to_address(account), int(role)))

    def is_verifier_of(self, officer: str, financier: str) -> bool:
        return bool(self.chain.call(self.contract, "isVerifierOf", to_address(officer), to_address(financier)))

    def is_admin(self, account: str) -> bool:
        return bool(self.chain.call(self.contract, "hasRole", DEFAULT_ADMIN_ROLE, to_address(account)))


def _participant(address: str, raw: Any) -> Participant:
    roles, jurisdiction, status, onboarded_at, institution, identifier_hash = raw
    return Participant(
        address=to_address(address),
        roles=Role(roles),
        jurisdiction=bytes(jurisdiction).decode("ascii", errors="replace"),
        status=ParticipantStatus(status),
        onboarded_at=int(onboarded_at),
        institution=None if int(institution, 16) == 0 else to_address(institution),
        identifier_hash="0x" + bytes(identifier_hash).hex(),
    )
