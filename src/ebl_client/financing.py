"""Facade over FinancingEscrow and the invoice fingerprint that stops double financing.

`fingerprint(invoice, key)` normalises the invoice fields (case, whitespace, amount as integer minor
units of its ISO 4217 currency by `money.parse`, ISO date) and takes HMAC-SHA256 under the consortium's
key, so two spellings of one invoice collide while nobody without the key can test guesses against the
chain. The escrow refuses a fingerprint that was ever financed, by any financier.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from datetime import date, datetime
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.logs import DISCARD as _DISCARD

from . import money
from .bills import Bills, parse_token_id
from .chain import Chain, ContractFacade, to_address
from .errors import EblError, InvalidInput
from .hashing import canonical_json
from .models import Financing, FinancingState, Offer

CONTRACT = "FinancingEscrow"
FINGERPRINT_KEY_ENV = "EBL_FINGERPRINT_KEY"
#: The normalised amount is a JSON number, exact in RFC 8785 only below 2**53 (90 trillion HKD in cents).
MAX_INVOICE_MINOR_UNITS = 2**53 - 1
ZERO = "0x" + "00" * 20
FIELDS = ("sellerId", "buyerId", "invoiceNumber", "currency", "amount", "issueDate")


# --- invoice fingerprints -----------------------------------------------------------------------------


def _identifier(value: Any, what: str) -> str:
    text = re.sub(r"[\s\-./]", "", str(value)).upper()
    if not text or not text.isalnum():
        raise InvalidInput(f"invoice {what} {value!r} must contain letters or digits")
    return text


def minor_units(amount: Any, currency: str) -> int:
    """`"1,846,000.50"` HKD -> 184600050: `money.parse` (its rules refuse ambiguous text, floats and more
    decimals than the currency's ISO 4217 minor unit), positive and small enough to fingerprint."""
    try:
        units = money.parse(amount, currency)
    except InvalidInput as exc:
        raise InvalidInput(f"invoice {exc}") from None
    if units == 0:
        raise InvalidInput(f"invoice amount {amount!r} must be positive")
    if units > MAX_INVOICE_MINOR_UNITS:
        raise InvalidInput(f"invoice amount {amount!r} is too large to fingerprint (at most 2**53 - 1 minor units)")
    return units


def _iso_date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%Y.%m.%d"):
        try:
            return datetime.strptime(text[:10] if fmt == "%Y-%m-%d" else text, fmt).date().isoformat()
        except ValueError:
            continue
    raise InvalidInput(f"invoice issue date {value!r} is not a year-first date (2026-11-18)")


def normalise_invoice(invoice: dict[str, Any]) -> dict[str, Any]:
    """The invoice fields that identify it, in one spelling: what the fingerprint is taken over."""
    missing = [f for f in FIELDS if invoice.get(f) in (None, "")]
    if missing:
        raise InvalidInput(f"invoice lacks {', '.join(missing)} (needs {', '.join(FIELDS)})")
    try:
        currency = money.currency_code(invoice["currency"])
    except InvalidInput as exc:
        raise InvalidInput(f"invoice {exc}") from None
    return {
        "sellerId": _identifier(invoice["sellerId"], "seller id"),
        "buyerId": _identifier(invoice["buyerId"], "buyer id"),
        "invoiceNumber": _identifier(invoice["invoiceNumber"], "number"),
        "currency": currency,
        "amount": minor_units(invoice["amount"], currency),
        "issueDate": _iso_date(invoice["issueDate"]),
    }


def fingerprint_key(value: str | bytes | None = None) -> bytes:
    """The consortium's fingerprint key: given, or hex in $EBL_FINGERPRINT_KEY; at least 16 bytes."""
    raw = value if value is not None else os.environ.get(FINGERPRINT_KEY_ENV)
    if raw is None:
        raise InvalidInput(f"no invoice fingerprint key: set ${FINGERPRINT_KEY_ENV} (hex, shared by the consortium)")
    if isinstance(raw, str):
        try:
            raw = bytes.fromhex(raw.removeprefix("0x"))
        except ValueError:
            raise InvalidInput("the invoice fingerprint key is not hex") from None
    if len(raw) < 16:
        raise InvalidInput("the invoice fingerprint key must be at least 16 bytes")
    return raw


def fingerprint(invoice: dict[str, Any], key: bytes | str | None = None) -> bytes:
    """HMAC-SHA256(consortium key, RFC 8785 JSON of the normalised invoice): 32 bytes for the escrow."""
    return hmac.new(fingerprint_key(key), canonical_json(normalise_invoice(invoice)), hashlib.sha256).digest()


# --- the escrow -----------------------------------------------------------------------------------------


class Financings(ContractFacade):
    CONTRACT = CONTRACT

    def __init__(self, chain: Chain, address: str, bills: Bills) -> None:
        super().__init__(chain, address)
        self.bills = bills

    @classmethod
    def of(cls, chain: Chain, deployment: Any) -> Financings:
        return cls(chain, deployment.address(CONTRACT), Bills.of(chain, deployment))

    def token(self, address: str) -> Any:
        return self.chain.contract("TestStablecoin", address)  # any ERC-20: only the standard functions are used

    # --- exporter --------------------------------------------------------------------------------------

    def request(self, signer: LocalAccount, token_id: int | str, importer: str, amount: int, settlement_token: str,
                maturity: int, invoice_fingerprint: bytes) -> Financing:
        """Pledge the bill (move it to the escrow as holder and beneficiary) and request financing.

        Two transactions: if the request is refused after the move, the bill is taken back (`reclaim`)
        before the error is raised, so a refused request leaves the bill where it was."""
        token = parse_token_id(token_id)
        terms = (token, to_address(importer, what="importer"), to_address(settlement_token, what="token"),
                 _amount(amount), maturity, _fingerprint(invoice_fingerprint))
        self.bills.transfer_owners(signer, token, self.address, self.address, "pledged for financing")
        try:
            receipt = self.chain.transact(signer, self.contract, "request", terms)
        except EblError:
            self.chain.transact(signer, self.contract, "reclaim", token)
            raise
        return self.get(self._financing_id(receipt, "Requested"))

    def accept(self, signer: LocalAccount, financing_id: int, financier: str) -> Financing:
        self.chain.transact(signer, self.contract, "accept", financing_id, to_address(financier, what="financier"))
        return self.get(financing_id)

    def cancel(self, signer: LocalAccount, financing_id: int) -> Financing:
        self.chain.transact(signer, self.contract, "cancel", financing_id)
        return self.get(financing_id)

    # --- financier ---------------------------------------------------------------------------------------

    def offer(self, signer: LocalAccount, financing_id: int, principal: int, fee: int, maturity: int) -> Offer:
        self.chain.transact(signer, self.contract, "offer", financing_id, _amount(principal), int(fee), maturity)
        return self.offer_of(financing_id, signer.address)

    def fund(self, signer: LocalAccount, financing_id: int) -> Financing:
        """Approve the escrow for the principal, then fund: the principal goes to the exporter."""
        f = self.get(financing_id)
        self._approve(signer, f.token, f.principal)
        self.chain.transact(signer, self.contract, "fund", financing_id)
        return self.get(financing_id)

    def claim(self, signer: LocalAccount, financing_id: int) -> Financing:
        self.chain.transact(signer, self.contract, "claim", financing_id)
        return self.get(financing_id)

    def withdraw(self, signer: LocalAccount, settlement_token: str) -> int:
        """Withdraw everything the escrow owes the signer in `settlement_token`; returns the amount."""
        amount = self.withdrawable(signer.address, settlement_token)
        self.chain.transact(signer, self.contract, "withdraw", to_address(settlement_token, what="token"))
        return amount

    # --- anyone ------------------------------------------------------------------------------------------

    def repay(self, signer: LocalAccount, financing_id: int, amount: int) -> Financing:
        """Approve and repay (capped at what is outstanding); the full repayment releases the bill."""
        f = self.get(financing_id)
        self._approve(signer, f.token, _amount(amount))
        self.chain.transact(signer, self.contract, "repay", financing_id, _amount(amount))
        return self.get(financing_id)

    def redeliver(self, signer: LocalAccount, financing_id: int) -> Financing:
        self.chain.transact(signer, self.contract, "redeliver", financing_id)
        return self.get(financing_id)

    # --- admin -------------------------------------------------------------------------------------------

    def allow_token(self, signer: LocalAccount, settlement_token: str, allowed: bool = True) -> bool:
        self.chain.transact(signer, self.contract, "setTokenAllowed", to_address(settlement_token), allowed)
        return self.is_allowed_token(settlement_token)

    # --- reads -------------------------------------------------------------------------------------------

    def get(self, financing_id: int) -> Financing:
        raw: Any = self.chain.call(self.contract, "financing", int(financing_id))
        (exporter, state, maturity, delivered, importer, principal, financier, fee, token, repaid, token_id,
         invoice_fingerprint) = raw
        if FinancingState(state) is FinancingState.NONE:
            raise InvalidInput(f"no financing {financing_id}")
        return Financing(
            financing_id=int(financing_id), state=FinancingState(state), exporter=to_address(exporter),
            importer=to_address(importer), financier=None if int(financier, 16) == 0 else to_address(financier),
            token=to_address(token), principal=int(principal), fee=int(fee), repaid=int(repaid),
            outstanding=int(self.chain.call(self.contract, "outstanding", int(financing_id))),
            maturity=int(maturity), bill=int(token_id), delivered=bool(delivered),
            invoice_fingerprint="0x" + bytes(invoice_fingerprint).hex(),
        )

    def list(self) -> list[Financing]:
        count = int(self.chain.call(self.contract, "financingCount"))
        return [self.get(i) for i in range(1, count + 1)]

    def offer_of(self, financing_id: int, financier: str) -> Offer:
        principal, fee, maturity = self.chain.call(self.contract, "offerOf", int(financing_id), to_address(financier))
        return Offer(int(financing_id), to_address(financier), int(principal), int(fee), int(maturity))

    def withdrawable(self, account: str, settlement_token: str) -> int:
        return int(self.chain.call(self.contract, "withdrawable", to_address(account), to_address(settlement_token)))

    def owed(self, settlement_token: str) -> int:
        return int(self.chain.call(self.contract, "owed", to_address(settlement_token)))

    def is_allowed_token(self, settlement_token: str) -> bool:
        return bool(self.chain.call(self.contract, "isAllowedToken", to_address(settlement_token)))

    def fingerprint_status(self, invoice_fingerprint: bytes) -> str:
        status = int(self.chain.call(self.contract, "fingerprintStatus", _fingerprint(invoice_fingerprint)))
        return ("none", "reserved", "financed")[status]

    # --- internals ---------------------------------------------------------------------------------------

    def _approve(self, signer: LocalAccount, token: str, amount: int) -> None:
        erc20 = self.token(token)
        if int(self.chain.call(erc20, "allowance", signer.address, self.address)) < amount:
            self.chain.transact(signer, erc20, "approve", self.address, amount)

    def _financing_id(self, receipt: Any, event: str) -> int:
        for log in self.contract.events[event]().process_receipt(receipt, errors=_DISCARD):
            return int(log["args"]["financingId"])
        raise EblError(f"no {event} event in the transaction")


def _amount(value: int) -> int:
    if not isinstance(value, int) or value <= 0 or value >= 1 << 96:
        raise InvalidInput(f"amount {value!r} must be a positive whole number of minor units below 2**96")
    return value


def _fingerprint(value: bytes | str) -> bytes:
    raw = bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)
    if len(raw) != 32 or raw == b"\0" * 32:
        raise InvalidInput("an invoice fingerprint is 32 non-zero bytes (see financing.fingerprint)")
    return raw

