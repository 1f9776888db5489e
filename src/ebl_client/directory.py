"""The consortium's participant directory: legal names, identifiers and DCSA party codes for accounts, each
entry proved by the salted identifier hash the participant registry holds.

The chain stores no names. The consortium publishes a JSON file:

    {
      "format": "ebl-participant-directory/1",
      "chainId": 31337,
      "publishedBy": "GBA eBL pilot consortium",
      "participants": [
        {
          "account": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
          "legalName": "Pearl River Electronics Ltd",
          "jurisdiction": "HK",
          "identifier": {"scheme": "LEI", "value": "5493001KJTIIGC8Y1R12"},
          "salt": "0x<32 bytes hex>",
          "identifyingCodes": [{"codeListProvider": "GLEIF", "partyCode": "5493001KJTIIGC8Y1R12",
                                "codeListName": "LEI"}],
          "carrier": {"callbackUrl": "https://docs.carrier.example/dcsa",
                      "signingKey": {"kty": "EC", "crv": "P-256", "x": "...", "y": "..."}}
        }
      ]
    }

`identifyingCodes` are DCSA eBL 3.0 `IdentifyingCode`s. `carrier` (optional, carriers only) serves `ebl serve`:
`callbackUrl` is the base URL of the carrier's DCSA endpoints (the platform POSTs to
`<callbackUrl>/v3/ebl-issuance-responses` and `<callbackUrl>/v3/ebl-surrender-requests`), and `signingKey` is
the public key that verifies the carrier's issuance manifests: a public JWK (an object, or its JSON text) or a
PEM public key, RSA, EC or Ed25519 (`service.manifest.public_key`; a private or symmetric key is refused).

An entry is accepted only when `hashing.identifier_hash(identifier, salt)` equals the account's identifier hash
on chain and the jurisdictions agree; otherwise it is listed as refused, with the reason, and its name is never
shown. Names then replace bare addresses in history, inboxes, books and exports.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .chain import to_address
from .errors import EblError, InvalidInput
from .hashing import identifier_hash, load_json_file, normalise_identifier

FORMAT = "ebl-participant-directory/1"
DIRECTORY_ENV = "EBL_DIRECTORY"


def default_path(chain_id: int, directory: Path = Path(".ebl")) -> Path:
    """Where the demo writes the directory, and the CLI looks for it: `.ebl/directory-<chainId>.json`."""
    return directory / f"directory-{chain_id}.json"


@dataclass(frozen=True)
class OnChain:
    """What the participant registry says of an account (from the index or `Participants.get`)."""

    identifier_hash: str
    jurisdiction: str


@dataclass(frozen=True)
class Entry:
    """An accepted directory entry."""

    account: str
    legal_name: str
    jurisdiction: str
    identifier_scheme: str
    identifier: str
    identifying_codes: tuple[dict[str, str], ...] = ()
    callback_url: str | None = None
    signing_key: str | None = None


@dataclass(frozen=True)
class Refusal:
    """An entry the chain does not back: its account (as written) and why."""

    account: str
    legal_name: str
    reason: str


@dataclass
class Directory:
    """Accepted entries by account, and the refused ones. `name(account)` is the legal name or None."""

    entries: dict[str, Entry] = field(default_factory=dict)
    refused: list[Refusal] = field(default_factory=list)
    #: names the platform itself gives (the escrow contract); never from the file
    builtin: dict[str, str] = field(default_factory=dict)

    def name(self, account: str | None) -> str | None:
        """The legal name of `account`'s accepted entry, else the platform's own name for it, else None."""
        if not account:
            return None
        entry = self.entries.get(account)
        return entry.legal_name if entry else self.builtin.get(account)

    def label(self, account: str | None) -> str:
        """The legal name, else the address: what a table shows."""
        return self.name(account) or (account or "")


def identifier_scheme(identifier: str) -> str:
    """LEI (ISO 17442: 20 characters) or USCC (China's unified social credit code: 18); OTHER otherwise."""
    text = normalise_identifier(identifier)
    return {20: "LEI", 18: "USCC"}.get(len(text), "OTHER")


def entry(account: str, legal_name: str, jurisdiction: str, identifier: str, salt: bytes, *,
          identifying_codes: Iterable[Mapping[str, str]] = (), callback_url: str | None = None,
          signing_key: str | None = None) -> dict[str, Any]:
    """One participant as the directory file holds it."""
    scheme = identifier_scheme(identifier)
    codes = list(identifying_codes) or ([{"codeListProvider": "GLEIF", "partyCode": normalise_identifier(identifier),
                                          "codeListName": "LEI"}] if scheme == "LEI" else [])
    item: dict[str, Any] = {
        "account": to_address(account, what="account"), "legalName": legal_name,
        "jurisdiction": jurisdiction.upper(),
        "identifier": {"scheme": scheme, "value": normalise_identifier(identifier)},
        "salt": "0x" + salt.hex(), "identifyingCodes": [dict(c) for c in codes],
    }
    if callback_url or signing_key:
        item["carrier"] = {k: v for k, v in (("callbackUrl", callback_url), ("signingKey", signing_key)) if v}
    return item


def write(path: Path, entries: Iterable[dict[str, Any]], *, chain_id: int,
          published_by: str = "eBL consortium") -> Path:
    """Write a directory file atomically (a reader sees the old file or the new one)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"format": FORMAT, "chainId": chain_id, "publishedBy": published_by, "participants": list(entries)}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_for_demo(path: Path, chain_id: int, members: Iterable[tuple[Any, str, bytes]]) -> Path:
    """The demo's consortium as a directory: `members` are (demo.Member, account, salt used at onboarding)."""
    return write(path, (entry(account, member.label, member.jurisdiction, member.identifier, salt)
                        for member, account, salt in members),
                 chain_id=chain_id, published_by="eBL demo consortium (development keys)")


def load(path: Path) -> dict[str, Any]:
    """A directory file as published (InvalidInput when it is not one)."""
    data = load_json_file(Path(path), what=f"directory {path}")
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("participants"), list):
        raise InvalidInput(f"{path} is not a participant directory ({FORMAT})")
    return data


def check(data: Mapping[str, Any], on_chain: Mapping[str, OnChain], *, chain_id: int | None = None) -> Directory:
    """Accept each entry the chain backs (salted identifier hash and jurisdiction), refuse the others."""
    result = Directory()
    if chain_id is not None and data.get("chainId") not in (None, chain_id):
        raise InvalidInput(f"the directory is for chain {data.get('chainId')}, not chain {chain_id}")
    for raw in data.get("participants", []):
        try:
            accepted = _check_one(raw, on_chain)
        except (EblError, KeyError, TypeError, ValueError, AttributeError) as exc:
            account = str(raw.get("account", "")) if isinstance(raw, dict) else ""
            name = str(raw.get("legalName", "")) if isinstance(raw, dict) else ""
            reason = str(exc) if isinstance(exc, EblError) else f"malformed entry ({type(exc).__name__}: {exc})"
            result.refused.append(Refusal(account, name, reason))
            continue
        if accepted.account in result.entries:
            result.refused.append(Refusal(accepted.account, accepted.legal_name, "the account appears twice"))
            del result.entries[accepted.account]
            continue
        result.entries[accepted.account] = accepted
    return result


def _check_one(raw: Mapping[str, Any], on_chain: Mapping[str, OnChain]) -> Entry:
    account = to_address(str(raw["account"]), what="account")
    legal_name = str(raw["legalName"]).strip()
    if not legal_name:
        raise InvalidInput("the legal name is empty")
    identifier = normalise_identifier(str(raw["identifier"]["value"]))
    try:
        salt = bytes.fromhex(str(raw["salt"]).removeprefix("0x"))
    except ValueError:
        raise InvalidInput("the salt is not hex") from None
    participant = on_chain.get(account)
    if participant is None:
        raise InvalidInput(f"{account} is not an onboarded participant")
    if "0x" + identifier_hash(identifier, salt).hex() != participant.identifier_hash:
        raise InvalidInput("the identifier and salt do not hash to the account's identifier hash on chain")
    jurisdiction = str(raw.get("jurisdiction", participant.jurisdiction)).upper()
    if jurisdiction != participant.jurisdiction:
        raise InvalidInput(f"jurisdiction {jurisdiction} differs from {participant.jurisdiction} on chain")
    carrier = raw.get("carrier") or {}
    codes = tuple({str(k): str(v) for k, v in c.items()} for c in raw.get("identifyingCodes", []))
    return Entry(account=account, legal_name=legal_name, jurisdiction=jurisdiction,
                 identifier_scheme=str(raw["identifier"].get("scheme", identifier_scheme(identifier))),
                 identifier=identifier, identifying_codes=codes, callback_url=carrier.get("callbackUrl"),
                 signing_key=carrier.get("signingKey"))
