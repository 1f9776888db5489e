"""The sample consortium of the demo and of the Besu dev network: who its members are, their roles, their
jurisdictions and sample legal identifiers, and how they are onboarded. A neutral module, so the network
generator and the directory need not import the demo.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from .hashing import identifier_hash, new_salt
from .models import Participant, Role
from .participants import Participants


@dataclass(frozen=True)
class Member:
    key: str  # short handle used by the story
    name: str
    roles: Role
    jurisdiction: str
    identifier: str  # sample LEI (HK) or unified social credit code (CN); only a salted hash goes on chain
    institution: str | None = None  # handle of the financier a verifier officer works for

    @property
    def label(self) -> str:
        """The name without the part in brackets: `Harbour Bank HK`."""
        return self.name.split(" (")[0]


#: The sample consortium, in onboarding order (financiers before their officers). Account i+1 of the
#: development mnemonic belongs to member i; account 0 is the consortium admin that deploys.
CONSORTIUM: tuple[Member, ...] = (
    Member("exporter", "Pearl River Electronics Ltd (HK exporter)", Role.TRADER, "HK", "5493001KJTIIGC8Y1R12"),
    Member("importer", "Shanghai Huaxin Trading Co (importer)", Role.TRADER, "CN", "91310000MA1FL4B24G"),
    Member("carrier", "Victoria Harbour Shipping Line (carrier)", Role.CARRIER, "HK", "549300VHSL0CARR1ER7"),
    Member("hk_bank", "Harbour Bank HK (financier)", Role.FINANCIER, "HK", "2138009HARBOURBANK51"),
    Member("cn_bank", "Bank of Pudong (financier)", Role.FINANCIER, "CN", "91310000PUDONGBANK9X"),
    Member("credit_provider", "Shanghai Credit Reference Center (credit provider)", Role.CREDIT_PROVIDER, "CN",
           "91310000SCRC00001Q"),
    Member("hk_maker", "Harbour Bank officer A (verifier)", Role.VERIFIER, "HK", "HKBANKOFFICERA", "hk_bank"),
    Member("hk_checker", "Harbour Bank officer B (verifier)", Role.VERIFIER, "HK", "HKBANKOFFICERB", "hk_bank"),
    Member("cn_maker", "Bank of Pudong officer A (verifier)", Role.VERIFIER, "CN", "CNBANKOFFICERA", "cn_bank"),
    Member("cn_checker", "Bank of Pudong officer B (verifier)", Role.VERIFIER, "CN", "CNBANKOFFICERB", "cn_bank"),
    Member("regulator", "Hong Kong Monetary Authority (regulator)", Role.REGULATOR, "HK", "HKMAREGULATOR01"),
)
MEMBERS = {m.key: m for m in CONSORTIUM}


@dataclass(frozen=True)
class Onboarded:
    """A member as onboarded: its participant record and the salt of its identifier hash (which the
    consortium's directory publishes so anyone can check the identifier against the chain)."""

    member: Member
    participant: Participant
    salt: bytes


def onboard_consortium(admin: LocalAccount, accounts: dict[str, LocalAccount],
                       registry: Participants) -> list[Onboarded]:
    """Onboard every member (`accounts`: member key -> its account), each with a fresh random salt."""
    done = []
    for member in CONSORTIUM:
        institution = accounts[member.institution].address if member.institution else None
        salt = new_salt()
        participant = registry.onboard(
            accounts[member.key].address, member.roles, member.jurisdiction,
            identifier_hash(member.identifier, salt), institution, sender=admin,
        ).value
        done.append(Onboarded(member, participant, salt))
    return done
