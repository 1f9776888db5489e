"""DCSA parties and the platform's accounts, both ways, through the participant directory.

A party names itself by identifying codes. This platform reads two kinds:

- its own: `codeListProvider` = the platform code (`GBAE` by default), `partyCode` = the account address;
- any code the directory lists for an account (`identifyingCodes` of its entry), e.g. GLEIF LEIs, matched
  on provider and code (and on the code list name when both give one).

The other way, an account is shown to carriers as a DCSA party: its legal name from the directory (the
address when the directory does not name it) and its codes, the platform's own first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from ..chain import to_address
from ..directory import Directory
from ..errors import InvalidInput
from .dcsa import IdentifyingCode, Party

#: the code list name under which the platform lists accounts
ACCOUNT_CODE_LIST = "ACCOUNT"


@dataclass(frozen=True)
class Resolution:
    """The accounts a party's codes point to, and the codes that matched nothing."""

    accounts: frozenset[str]
    unmatched: tuple[dict[str, str], ...]


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").strip().upper() == (b or "").strip().upper()


def resolve(codes: Iterable[IdentifyingCode | Mapping[str, Any]], directory: Directory, platform: str) -> Resolution:
    """The accounts named by `codes` (a DCSA party's identifyingCodes)."""
    found: set[str] = set()
    unmatched: list[dict[str, str]] = []
    for raw in codes:
        code = raw if isinstance(raw, IdentifyingCode) else IdentifyingCode.model_validate(dict(raw), strict=False)
        hits: set[str] = set()
        if _same(code.codeListProvider, platform):
            with suppress(InvalidInput):  # not an account: the other codes may still name the party
                hits.add(to_address(code.partyCode.strip(), what="party code"))
        for entry in directory.entries.values():
            for listed in entry.identifying_codes:
                if (_same(listed.get("codeListProvider"), code.codeListProvider)
                        and listed.get("partyCode", "").strip() == code.partyCode.strip()
                        and (not code.codeListName or not listed.get("codeListName")
                             or _same(listed.get("codeListName"), code.codeListName))):
                    hits.add(entry.account)
        if hits:
            found |= hits
        else:
            unmatched.append(code.dump())
    return Resolution(frozenset(found), tuple(unmatched))


def party(account: str, directory: Directory, platform: str) -> Party:
    """`account` as a DCSA party (actor or recipient of an endorsement chain entry)."""
    name = directory.name(account) or account
    codes = [IdentifyingCode(codeListProvider=platform, partyCode=account, codeListName=ACCOUNT_CODE_LIST)]
    entry = directory.entries.get(account)
    if entry is not None:
        for listed in entry.identifying_codes:
            if listed.get("codeListProvider") and listed.get("partyCode"):
                codes.append(IdentifyingCode.model_validate(
                    {k: str(listed[k])[:limit] for k, limit in (("codeListProvider", 100), ("partyCode", 150),
                                                                ("codeListName", 100)) if listed.get(k)}))
    return Party(eblPlatform=platform, partyName=_name(name), identifyingCodes=codes)


def _name(text: str) -> str:
    """A legal name as DCSA's partyName (at most 70 characters, no blanks at either end)."""
    clipped = " ".join(text.split())[:70].strip()
    return clipped or "unnamed party"


def carrier_scac(account: str, directory: Directory) -> str | None:
    """The carrier's SCAC (or SMDG) code from its directory entry, for `carrierSCACCode`."""
    entry = directory.entries.get(account)
    for listed in entry.identifying_codes if entry else ():
        code = str(listed.get("partyCode", ""))
        if listed.get("codeListProvider") in ("NMFTA", "SMDG") and 0 < len(code) <= 4 and " " not in code:
            return code
    return None
