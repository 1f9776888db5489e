"""Facade over CreditHashRegistry: anchor and revoke commitments, check reports and disclosed fields
against the chain, consent, and the maker-checker verification of a financier's officers.

The report itself never leaves the caller: only `hashing.commit(report).root` is anchored. A record is
identified by (provider, subject, root) and counts only while its provider is an active credit provider.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.types import TxReceipt

from .chain import Call, ContractFacade, ItemResult, to_address
from .errors import CreditRecordNotFound, EblError, InvalidInput
from .hashing import DEFAULT_SCHEMA, Commitment, Disclosure, canonical_json, text_hash
from .models import ConsentRecord, CreditRecord, CreditVerification, Result, VerificationStatus

CONTRACT = "CreditHashRegistry"
MAX_UINT40 = (1 << 40) - 1


def root_bytes(value: bytes | str) -> bytes:
    """A commitment root (32 bytes, or 64 hex digits with or without 0x)."""
    try:
        raw = bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)
    except ValueError:
        raise InvalidInput(f"commitment root {value!r} is not hex") from None
    if len(raw) != 32:
        raise InvalidInput("a commitment root is 32 bytes (64 hex digits)")
    return raw


def _timestamp(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_UINT40:
        raise InvalidInput(f"{what} {value!r} is not a unix time")
    return value


@dataclass(frozen=True)
class AnchorItem:
    """One anchor of an `anchor_many`: the subject's account, the commitment (a Commitment, a commitment file,
    or just its root as bytes or hex, with the report schema's name) and the expiry (unix time)."""

    subject: str
    commitment: Commitment | Path | bytes | str
    expires_at: int
    schema: str = DEFAULT_SCHEMA

    def root_and_schema(self) -> tuple[bytes, bytes]:
        """The root and schema id to anchor; InvalidInput for an unreadable file or a malformed root."""
        commitment = Commitment.load(self.commitment) if isinstance(self.commitment, Path) else self.commitment
        if isinstance(commitment, Commitment):
            return commitment.root, commitment.schema_id
        return root_bytes(commitment), keccak(text=self.schema)


def _hex(raw: bytes) -> str:
    return "0x" + bytes(raw).hex()


def _address_or_none(value: str) -> str | None:
    return None if int(value, 16) == 0 else to_address(value)


class CreditRecords(ContractFacade):
    """The credit-hash registry. Writes take the signer as `sender=` and return a `Result`; reads return
    models. Every record is named by its provider, subject and root."""

    CONTRACT = CONTRACT

    # --- credit provider ------------------------------------------------------------------------------

    def anchor(self, subject: str, commitment: Commitment, expires_at: int, *,
               sender: LocalAccount) -> Result[CreditRecord]:
        """Anchor a commitment's root for `subject` until `expires_at` (unix time, within the registry's
        `max_validity`). Caller: an active credit provider, who owns the record."""
        subject = to_address(subject, what="subject")
        expiry = _timestamp(expires_at, "expiry")
        receipt = self._send(sender, "anchor", subject, commitment.root, commitment.schema_id, expiry, label=subject)
        return self._result(self._anchored(receipt, subject, commitment.root, expiry, self._block_times([receipt])),
                            receipt)

    def anchor_many(self, items: Iterable[AnchorItem], *, sender: LocalAccount,
                    batch: str | None = None) -> list[ItemResult[CreditRecord]]:
        """Anchor many commitments, one `anchor` transaction each, pipelined (see Bills.issue_many): every item
        checked first in one batch (a refusal is named and never sent), the rest sent in one batch and
        confirmed together; one ItemResult per item, in order, with its CreditRecord when mined. Unlike
        `anchor_batch` (one all-or-nothing transaction), one bad item never holds back the others.
        Caller: an active credit provider."""
        requests: list[tuple[str, bytes, int] | EblError] = []
        calls: list[Call | EblError] = []
        for item in items:
            try:
                subject = to_address(item.subject, what="subject")
                root, schema = item.root_and_schema()
                expiry = _timestamp(item.expires_at, "expiry")
            except EblError as exc:
                requests.append(exc)
                calls.append(exc)
                continue
            requests.append((subject, root, expiry))
            calls.append(self._call("anchor", subject, root, schema, expiry, label=subject))
        results: list[ItemResult[CreditRecord]] = self._send_many(calls, sender, None, batch=batch)
        times = self._block_times([r.receipt for r in results if r.ok and r.receipt is not None])
        done: list[ItemResult[CreditRecord]] = []
        for r in results:
            request = requests[r.index]
            if r.ok and r.receipt is not None and not isinstance(request, EblError):
                r = replace(r, value=self._anchored(r.receipt, *request, times))
            done.append(r)
        return done

    def _block_times(self, receipts: Sequence[TxReceipt]) -> dict[int, int]:
        """Block timestamps of mined receipts: from the receipt when the node includes it, else one batch."""
        stamped: list[Any] = [r for r in receipts if r.get("blockTimestamp")]  # newer nodes (Anvil) include it
        times = {int(r["blockNumber"]): int(r["blockTimestamp"]) for r in stamped}
        missing = [int(r["blockNumber"]) for r in receipts if int(r["blockNumber"]) not in times]
        if missing:
            times.update(self.chain.block_times(missing))
        return times

    @staticmethod
    def _anchored(receipt: TxReceipt, subject: str, root: bytes, expires_at: int,
                  times: dict[int, int]) -> CreditRecord:
        """The record an anchor created, from the request and its block: no read-back. Valid: the anchor
        succeeded, so its provider was active and the expiry in the future."""
        return CreditRecord(provider=to_address(receipt["from"]), subject=subject, root=_hex(root),
                            anchored_at=times[int(receipt["blockNumber"])], expires_at=expires_at, revoked=False,
                            valid=True)

    def anchor_batch(self, items: list[tuple[str, bytes]], schema_id: bytes, expires_at: int, *,
                     sender: LocalAccount) -> Result[list[CreditRecord]]:
        """Anchor many (subject, root) pairs in one transaction, all or nothing. Caller: a credit provider."""
        subjects = [to_address(s, what="subject") for s, _ in items]
        roots = [root_bytes(r) for _, r in items]
        receipt = self._send(sender, "anchorBatch", subjects, roots, schema_id, _timestamp(expires_at, "expiry"))
        return self._result([self.get(sender.address, s, r) for s, r in zip(subjects, roots, strict=True)], receipt)

    def revoke(self, subject: str, root: bytes | str, reason: str = "", *,
               sender: LocalAccount) -> Result[CreditRecord]:
        """Revoke one of the caller's own records. Caller: the provider that anchored it, still active."""
        subject = to_address(subject, what="subject")
        receipt = self._send(sender, "revoke", subject, root_bytes(root), text_hash(reason))
        return self._result(self.get(sender.address, subject, root), receipt)

    # --- supervision ---------------------------------------------------------------------------------

    def revoke_as_supervisor(self, provider: str, subject: str, root: bytes | str, reason: str, *,
                             sender: LocalAccount) -> Result[CreditRecord]:
        """Revoke any provider's record (a disputed one, or one a struck-off provider can no longer revoke).
        Caller: the registry admin or an active regulator. `reason` stays off chain; its hash is in the event."""
        provider, subject = to_address(provider, what="provider"), to_address(subject, what="subject")
        receipt = self._send(sender, "revokeAsSupervisor", provider, subject, root_bytes(root), text_hash(reason))
        return self._result(self.get(provider, subject, root), receipt)

    def set_max_validity(self, seconds: int, *, sender: LocalAccount) -> Result[int]:
        """Set the longest validity of new anchors (one day to ten years). Caller: the registry admin."""
        receipt = self._send(sender, "setMaxValidity", _timestamp(seconds, "validity"))
        return self._result(self.max_validity(), receipt)

    # --- subject ---------------------------------------------------------------------------------------

    def grant_consent(self, provider: str, root: bytes | str, financier: str, expires_at: int, *,
                      sender: LocalAccount) -> Result[ConsentRecord]:
        """The subject (the caller, an active trader) consents to `financier` relying on `provider`'s record
        of it until `expires_at`."""
        provider, financier = to_address(provider, what="provider"), to_address(financier, what="financier")
        receipt = self._send(sender, "grantConsent", provider, root_bytes(root), financier,
                             _timestamp(expires_at, "consent expiry"))
        return self._result(self.get_consent(provider, sender.address, root, financier), receipt)

    def withdraw_consent(self, provider: str, root: bytes | str, financier: str, *,
                         sender: LocalAccount) -> Result[ConsentRecord]:
        """The subject (the caller) withdraws its consent to `financier`."""
        provider, financier = to_address(provider, what="provider"), to_address(financier, what="financier")
        receipt = self._send(sender, "withdrawConsent", provider, root_bytes(root), financier)
        return self._result(self.get_consent(provider, sender.address, root, financier), receipt)

    # --- financier's verifier officers ----------------------------------------------------------------

    def record_verification(self, financier: str, subject: str, provider: str, root: bytes | str, *,
                            sender: LocalAccount) -> Result[CreditVerification]:
        """Maker: an officer of `financier` records that the subject's report matched `provider`'s record
        `root` (valid, with the subject's live consent)."""
        financier, subject = to_address(financier, what="financier"), to_address(subject, what="subject")
        receipt = self._send(sender, "recordVerification", financier, subject, to_address(provider, what="provider"),
                             root_bytes(root))
        return self._result(self.get_verification(financier, subject), receipt)

    def approve_verification(self, financier: str, subject: str, *,
                             sender: LocalAccount) -> Result[CreditVerification]:
        """Checker: a second officer of the same financier approves the recorded verification."""
        financier, subject = to_address(financier, what="financier"), to_address(subject, what="subject")
        receipt = self._send(sender, "approveVerification", financier, subject)
        return self._result(self.get_verification(financier, subject), receipt)

    # --- reads ------------------------------------------------------------------------------------------

    def get(self, provider: str, subject: str, root: bytes | str) -> CreditRecord:
        """`provider`'s record of `root` for `subject`; CreditRecordNotFound when it anchored none."""
        provider, subject, raw_root = (to_address(provider, what="provider"), to_address(subject, what="subject"),
                                       root_bytes(root))
        r, valid = self.chain.call_many([(self.contract, "record", (provider, subject, raw_root)),
                                         (self.contract, "isValid", (provider, subject, raw_root))])
        if int(r.provider, 16) == 0:
            raise CreditRecordNotFound(f"{provider} anchored no record {_hex(raw_root)} for subject {subject}")
        return CreditRecord(
            provider=provider, subject=subject, root=_hex(raw_root), anchored_at=int(r.anchoredAt),
            expires_at=int(r.expiresAt), revoked=bool(r.revoked), valid=bool(valid),
        )

    def providers_of(self, subject: str, root: bytes | str) -> list[str]:
        """Every provider that anchored `root` for `subject` (from the Anchored and BatchAnchored events), in
        the order they did: how a verifier finds the record behind a commitment file."""
        subject, raw_root = to_address(subject, what="subject"), root_bytes(root)
        found: list[str] = []
        single = self.contract.events.Anchored()
        for log in self.chain.w3.eth.get_logs({
            "address": self.address, "fromBlock": self.deployed_block, "toBlock": "latest",
            "topics": [single.topic, "0x" + bytes(12).hex() + subject[2:].lower(), _hex(raw_root)],
        }):
            found.append(to_address(single.process_log(log)["args"]["provider"]))
        batch = self.contract.events.BatchAnchored()
        for log in self.chain.w3.eth.get_logs({
            "address": self.address, "fromBlock": self.deployed_block, "toBlock": "latest",
            "topics": [batch.topic],
        }):
            args = batch.process_log(log)["args"]
            if any(to_address(s) == subject and bytes(r) == raw_root
                   for s, r in zip(args["subjects"], args["roots"], strict=True)):
                found.append(to_address(args["provider"]))
        return list(dict.fromkeys(found))

    def is_valid(self, provider: str, subject: str, root: bytes | str) -> bool:
        """Whether the record exists, is not revoked or expired, and its provider is active."""
        return bool(self.chain.call(self.contract, "isValid", to_address(provider, what="provider"),
                                    to_address(subject, what="subject"), root_bytes(root)))

    def is_valid_many(self, records: Iterable[tuple[str, str, bytes | str]]) -> list[bool]:
        """`is_valid` of many (provider, subject, root) records, in JSON-RPC batches of eth_call: how a
        verifier checks a whole portfolio at once. InvalidInput names the first malformed record."""
        calls = [(self.contract, "isValid", (to_address(p, what="provider"), to_address(s, what="subject"),
                                             root_bytes(r))) for p, s, r in records]
        return [bool(v) for v in self.chain.call_many(calls)]

    def verify_field(self, provider: str, subject: str, disclosure: Disclosure) -> bool:
        """On chain: the disclosed field (path, value, salt) is in the tree of `provider`'s valid record of
        `subject`; the contract computes the leaf itself."""
        return bool(self.chain.call(
            self.contract, "verifyField", to_address(provider, what="provider"), to_address(subject, what="subject"),
            disclosure.root, disclosure.path, canonical_json(disclosure.value), disclosure.salt, disclosure.proof))

    def field_leaf(self, path: str, canonical_value: bytes, salt: bytes) -> bytes:
        """The contract's own leaf computation (used to check the client's against it)."""
        return bytes(self.chain.call(self.contract, "fieldLeaf", path, canonical_value, salt))

    def get_consent(self, provider: str, subject: str, root: bytes | str, financier: str) -> ConsentRecord:
        """The subject's consent to `financier` on `provider`'s record (granted_at 0: never granted)."""
        provider, subject, financier, raw_root = (to_address(provider, what="provider"),
                                                  to_address(subject, what="subject"),
                                                  to_address(financier, what="financier"), root_bytes(root))
        c, live = self.chain.call_many([(self.contract, "consent", (provider, subject, raw_root, financier)),
                                        (self.contract, "hasConsent", (provider, subject, raw_root, financier))])
        return ConsentRecord(provider, subject, _hex(raw_root), financier, int(c.grantedAt), int(c.expiresAt),
                             bool(c.withdrawn), bool(live))

    def get_verification(self, financier: str, subject: str) -> CreditVerification:
        """`financier`'s verification of `subject` (status NONE when there is none)."""
        financier, subject = to_address(financier, what="financier"), to_address(subject, what="subject")
        v, approved = self.chain.call_many([(self.contract, "verification", (financier, subject)),
                                            (self.contract, "hasApprovedVerification", (financier, subject))])
        status = VerificationStatus(v.status)
        none = status is VerificationStatus.NONE
        return CreditVerification(
            financier=financier, subject=subject, provider=None if none else to_address(v.provider),
            root=None if none else _hex(v.root), status=status, maker=_address_or_none(v.maker),
            recorded_at=int(v.recordedAt), checker=_address_or_none(v.checker), approved_at=int(v.approvedAt),
            approved_and_valid=bool(approved),
        )

    def has_approved_verification(self, financier: str, subject: str) -> bool:
        """What the escrow asks before funding: an approved verification whose record and consent still hold."""
        return bool(self.chain.call(self.contract, "hasApprovedVerification", to_address(financier),
                                    to_address(subject)))

    def max_validity(self) -> int:
        """The longest validity, in seconds, a new anchor may have."""
        return int(self.chain.call(self.contract, "maxValidity"))
