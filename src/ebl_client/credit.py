"""Facade over CreditHashRegistry: anchor and revoke commitments, check reports and disclosed fields
against the chain, consent, and the maker-checker verification of a financier's officers.

The report itself never leaves the caller: only `hashing.commit(report).root` is anchored.
"""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount

from .chain import ContractFacade, to_address
from .errors import InvalidInput
from .hashing import Commitment, Disclosure, text_hash
from .models import ConsentRecord, CreditRecord, CreditVerification, VerificationStatus

CONTRACT = "CreditHashRegistry"
MAX_UINT40 = (1 << 40) - 1


def _root(value: bytes | str) -> bytes:
    raw = bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)
    if len(raw) != 32:
        raise InvalidInput("a commitment root is 32 bytes (64 hex digits)")
    return raw


def _timestamp(value: int, what: str) -> int:
    if not 0 < value <= MAX_UINT40:
        raise InvalidInput(f"{what} {value} is not a unix time")
    return value


def _hex(raw: bytes) -> str:
    return "0x" + bytes(raw).hex()


def _address_or_none(value: str) -> str | None:
    return None if int(value, 16) == 0 else to_address(value)


class Credit(ContractFacade):
    CONTRACT = CONTRACT

    # --- credit provider ------------------------------------------------------------------------------

    def anchor(self, signer: LocalAccount, subject: str, commitment: Commitment, expires_at: int) -> CreditRecord:
        """Anchor a commitment's root for `subject` until `expires_at` (unix time). Provider only."""
        subject = to_address(subject, what="subject")
        self.chain.transact(signer, self.contract, "anchor", subject, commitment.root, commitment.schema_id,
                            _timestamp(expires_at, "expiry"))
        return self.record(subject, commitment.root)

    def anchor_batch(self, signer: LocalAccount, items: list[tuple[str, bytes]], schema_id: bytes,
                     expires_at: int) -> list[CreditRecord]:
        """Anchor many (subject, root) pairs in one transaction; all or nothing."""
        subjects = [to_address(s, what="subject") for s, _ in items]
        roots = [_root(r) for _, r in items]
        self.chain.transact(signer, self.contract, "anchorBatch", subjects, roots, schema_id,
                            _timestamp(expires_at, "expiry"))
        return [self.record(s, r) for s, r in zip(subjects, roots, strict=True)]

    def revoke(self, signer: LocalAccount, subject: str, root: bytes | str, reason: str = "") -> CreditRecord:
        subject = to_address(subject, what="subject")
        self.chain.transact(signer, self.contract, "revoke", subject, _root(root), text_hash(reason))
        return self.record(subject, root)

    # --- subject ---------------------------------------------------------------------------------------

    def grant_consent(self, signer: LocalAccount, root: bytes | str, financier: str, expires_at: int) -> ConsentRecord:
        financier = to_address(financier, what="financier")
        self.chain.transact(signer, self.contract, "grantConsent", _root(root), financier,
                            _timestamp(expires_at, "consent expiry"))
        return self.consent(signer.address, root, financier)

    def withdraw_consent(self, signer: LocalAccount, root: bytes | str, financier: str) -> ConsentRecord:
        financier = to_address(financier, what="financier")
        self.chain.transact(signer, self.contract, "withdrawConsent", _root(root), financier)
        return self.consent(signer.address, root, financier)

    # --- financier's verifier officers ----------------------------------------------------------------

    def record_verification(self, signer: LocalAccount, financier: str, subject: str,
                            root: bytes | str) -> CreditVerification:
        """Maker: the officer checked the subject's report against the anchored root."""
        financier, subject = to_address(financier, what="financier"), to_address(subject, what="subject")
        self.chain.transact(signer, self.contract, "recordVerification", financier, subject, _root(root))
        return self.verification(financier, subject)

    def approve_verification(self, signer: LocalAccount, financier: str, subject: str) -> CreditVerification:
        """Checker: a second officer of the same financier approves."""
        financier, subject = to_address(financier, what="financier"), to_address(subject, what="subject")
        self.chain.transact(signer, self.contract, "approveVerification", financier, subject)
        return self.verification(financier, subject)

    # --- reads ------------------------------------------------------------------------------------------

    def record(self, subject: str, root: bytes | str) -> CreditRecord:
        subject, raw_root = to_address(subject, what="subject"), _root(root)
        provider, anchored_at, expires_at, revoked = self.chain.call(self.contract, "record", subject, raw_root)
        return CreditRecord(
            subject=subject, root=_hex(raw_root), provider=_address_or_none(provider),
            anchored_at=int(anchored_at), expires_at=int(expires_at), revoked=bool(revoked),
            valid=self.is_valid(subject, raw_root),
        )

    def is_valid(self, subject: str, root: bytes | str) -> bool:
        return bool(self.chain.call(self.contract, "isValid", to_address(subject, what="subject"), _root(root)))

    def verify_field(self, subject: str, disclosure: Disclosure) -> bool:
        """On chain: the disclosed field's leaf is in the tree of a valid record of `subject`."""
        return bool(self.chain.call(self.contract, "verifyField", to_address(subject, what="subject"),
                                    disclosure.root, disclosure.leaf, disclosure.proof))

    def field_leaf(self, path: str, canonical_value: bytes, salt: bytes) -> bytes:
        """The contract's own leaf computation (used to check the client's against it)."""
        return bytes(self.chain.call(self.contract, "fieldLeaf", path, canonical_value, salt))

    def consent(self, subject: str, root: bytes | str, financier: str) -> ConsentRecord:
        subject, financier, raw_root = to_address(subject), to_address(financier), _root(root)
        granted_at, expires_at, withdrawn = self.chain.call(self.contract, "consent", subject, raw_root, financier)
        live = bool(self.chain.call(self.contract, "hasConsent", subject, raw_root, financier))
        return ConsentRecord(subject, _hex(raw_root), financier, int(granted_at), int(expires_at), bool(withdrawn),
                             live)

    def verification(self, financier: str, subject: str) -> CreditVerification:
        financier, subject = to_address(financier), to_address(subject)
        raw: Any = self.chain.call(self.contract, "verification", financier, subject)
        root, maker, status, recorded_at, checker, approved_at = raw
        status = VerificationStatus(status)
        return CreditVerification(
            financier=financier, subject=subject, root=None if status is VerificationStatus.NONE else _hex(root),
            status=status, maker=_address_or_none(maker), recorded_at=int(recorded_at),
            checker=_address_or_none(checker), approved_at=int(approved_at),
            approved_and_valid=self.has_approved_verification(financier, subject),
        )

    def has_approved_verification(self, financier: str, subject: str) -> bool:
        return bool(self.chain.call(self.contract, "hasApprovedVerification", to_address(financier),
                                    to_address(subject)))
