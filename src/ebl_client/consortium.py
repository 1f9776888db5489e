"""The sample consortium of the demo and of the Besu dev network: who its members are, their roles, their
jurisdictions, sample legal identifiers and DCSA party codes, how they are onboarded, and the participant
directory the consortium publishes for them. A neutral module, so the network generator and the directory
need not import the demo.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount

from . import directory
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
    #: DCSA identifying codes (codeListProvider, partyCode, codeListName) besides the LEI's GLEIF code, as
    #: the transport document names the party
    codes: tuple[tuple[str, str, str], ...] = ()

    @property
    def label(self) -> str:
        """The name without the part in brackets: `Harbour Bank HK`."""
        return self.name.split(" (")[0]


#: The sample consortium, in onboarding order (financiers before their officers). Account i+1 of the
#: development mnemonic belongs to member i; account 0 is the consortium admin that deploys.
CONSORTIUM: tuple[Member, ...] = (
    Member("exporter", "Pearl River Electronics Ltd (HK exporter)", Role.TRADER, "HK", "5493001KJTIIGC8Y1R12"),
    Member("importer", "Shanghai Huaxin Trading Co (importer)", Role.TRADER, "CN", "91310000MA1FL4B24G",
           codes=(("SAMR", "91310000MA1FL4B24G", "USCC"),)),
    Member("carrier", "Victoria Harbour Shipping Line (carrier)", Role.CARRIER, "HK", "549300VHSL0CARR1ER7",
           codes=(("SMDG", "VHSL", "LCL"),)),
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


def directory_entries(onboarded: Iterable[Onboarded], *, callback_urls: Mapping[str, str] | None = None,
                      signing_keys: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The consortium's participant directory for `directory.write`: every onboarded member under its legal name,
    with its identifier and the salt it was onboarded with (so anyone can check the entry against the chain) and
    its DCSA codes; a carrier also with the URL of its DCSA endpoint and the public key of its issuance manifests
    (`callback_urls`, `signing_keys`: by member key)."""
    urls, signing = callback_urls or {}, signing_keys or {}
    entries = []
    for o in onboarded:
        m = o.member
        codes = [{"codeListProvider": provider, "partyCode": code, "codeListName": name}
                 for provider, code, name in m.codes]
        if directory.identifier_scheme(m.identifier) == "LEI":
            codes.insert(0, {"codeListProvider": "GLEIF", "partyCode": m.identifier, "codeListName": "LEI"})
        entries.append(directory.entry(o.participant.address, m.label, m.jurisdiction, m.identifier, o.salt,
                                       identifying_codes=codes, callback_url=urls.get(m.key),
                                       signing_key=signing.get(m.key)))
    return entries
