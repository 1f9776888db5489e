"""Facade over FinancingEscrow and the invoice fingerprint that stops double financing.

`fingerprint(invoice, key)` normalises the invoice fields (case, whitespace, amount as integer minor
units of its ISO 4217 currency by `money.parse`, ISO date) and takes HMAC-SHA256 under the consortium's
key, so two spellings of one invoice collide while nobody without the key can test guesses against the
chain. The escrow refuses a fingerprint that was ever financed, by any financier.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
from datetime import date, datetime
from typing import Any

from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from web3.logs import DISCARD as _DISCARD

from . import money
from .bills import Bills
from .chain import Chain, ContractFacade, to_address
from .errors import EblError, ERC20InsufficientAllowance, ERC20InsufficientBalance, FinancingNotFound, InvalidInput
from .hashing import canonical_json, text_hash
from .models import Financing, FinancingState, FingerprintStatus, Offer, Reservation, Result, Token

CONTRACT = "FinancingEscrow"
FINGERPRINT_KEY_ENV = "EBL_FINGERPRINT_KEY"
#: The normalised amount is a JSON number, exact in RFC 8785 only below 2**53 (90 trillion HKD in cents).
MAX_INVOICE_MINOR_UNITS = 2**53 - 1
ZERO = "0x" + "00" * 20
FIELDS = ("sellerId", "buyerId", "invoiceNumber", "currency", "amount", "issueDate")


# --- invoice fingerprints -----------------------------------------------------------------------------


def _identifier(value: Any, what: str) -> str:
    """An identifier in one spelling: text (or a whole number, as JSON may carry an invoice number) without
    spaces, dashes, dots or slashes, upper case. A float, a boolean, a list or an object is refused: their text
    (`1000.0`, `True`) would fingerprint as an identifier nobody wrote."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInput(f"invoice {what} must be text, not {type(value).__name__}")
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

#: The escrow's FinancingRequest, the `data` of a pledge: (importer, token, amount, maturity, fingerprint).
REQUEST_TYPES = ["(address,address,uint96,uint40,bytes32)"]


class Financings(ContractFacade):
    """The financing escrow. Writes take the signer as `sender=` and return a `Result` (the financing after
    the action, and the transaction); reads return models. Amounts are integer minor units of the token."""

    CONTRACT = CONTRACT

    def __init__(self, chain: Chain, address: str, bills: Bills, *, deployed_block: int = 0) -> None:
        super().__init__(chain, address, deployed_block=deployed_block)
        self.bills = bills
        self._tokens: dict[str, Token] = {}

    @classmethod
    def of(cls, chain: Chain, deployment: Any) -> Financings:
        """The escrow of `deployment`, with the title registry it takes pledges from."""
        return cls(chain, deployment.address(CONTRACT), Bills.of(chain, deployment),
                   deployed_block=deployment.contracts[CONTRACT].block)

    def token(self, address: str) -> Any:
        """A settlement token as a contract (any ERC-20: only the standard functions are used)."""
        return self.chain.contract("TestStablecoin", address)

    def token_info(self, address: str) -> Token:
        """The token's symbol and decimals (read once per token: ERC-20 metadata does not change)."""
        address = to_address(address, what="token")
        if address not in self._tokens:
            erc20 = self.token(address)
            self._tokens[address] = Token(address, str(self.chain.call(erc20, "symbol")),
                                          int(self.chain.call(erc20, "decimals")))
        return self._tokens[address]

    # --- exporter --------------------------------------------------------------------------------------

    def request(self, token_id: int | str, importer: str, amount: int, settlement_token: str, maturity: int,
                invoice_fingerprint: bytes | str, *, sender: LocalAccount) -> Result[Financing]:
        """Pledge the bill into the escrow and request financing of the invoice, in one transaction: the
        title registry moves the bill and the escrow opens the financing or refuses, undoing the pledge.
        Caller: the exporter, holder with title of a live to-order bill. `maturity` must be at least the
        escrow's minimum tenor away; the invoice fingerprint is reserved for the reservation period."""
        data = abi_encode(REQUEST_TYPES, [(to_address(importer, what="importer"),
                                           to_address(settlement_token, what="token"), _amount(amount),
                                           _timestamp(maturity, "maturity"), _fingerprint(invoice_fingerprint))])
        receipt = self.bills.send_pledge(token_id, self.address, data, sender=sender, remark="pledged for financing")
        return self._result(self.get(self._financing_id(receipt, "Requested")), receipt)

    def accept(self, financing_id: int, financier: str, *, terms: Offer,
               sender: LocalAccount) -> Result[Financing]:
        """Accept `financier`'s offer exactly as `terms` (what the exporter saw): an offer revised or
        withdrawn since reverts (OfferChanged, OfferNotFound). Caller: the exporter."""
        financier = to_address(financier, what="financier")
        if terms.financing_id != financing_id or to_address(terms.financier) != financier:
            raise InvalidInput(f"the terms given are {terms.financier}'s offer on financing {terms.financing_id}, "
                               f"not {financier}'s on financing {financing_id}; nothing sent")
        receipt = self._send(sender, "accept", _id(financing_id), financier,
                             (_uint96(terms.principal, "principal"), _uint96(terms.fee, "fee"),
                              _uint40(terms.maturity, "maturity")))
        return self._result(self.get(financing_id), receipt)

    def cancel(self, financing_id: int, *, sender: LocalAccount) -> Result[Financing]:
        """End a financing before funding: the bill goes back, the invoice reservation is released. Caller:
        the exporter."""
        receipt = self._send(sender, "cancel", _id(financing_id))
        return self._result(self.get(financing_id), receipt)

    # --- financier ---------------------------------------------------------------------------------------

    def offer(self, financing_id: int, principal: int, fee: int, maturity: int, *,
              sender: LocalAccount) -> Result[Offer]:
        """Make or revise the caller's offer (principal paid to the exporter, fee on top, maturity at least
        the minimum tenor away). Caller: an active financier other than the exporter."""
        receipt = self._send(sender, "offer", _id(financing_id), _amount(principal), _uint96(fee, "fee"),
                             _timestamp(maturity, "maturity"))
        return self._result(self.offer_of(financing_id, sender.address), receipt)

    def withdraw_offer(self, financing_id: int, *, sender: LocalAccount) -> Result[Offer]:
        """Withdraw the caller's offer while the financing is requested. Caller: the financier."""
        receipt = self._send(sender, "withdrawOffer", _id(financing_id))
        return self._result(self.offer_of(financing_id, sender.address), receipt)

    def fund(self, financing_id: int, *, sender: LocalAccount) -> Result[Financing]:
        """Approve the escrow for the principal (when the allowance is short), then fund: the principal goes
        to the exporter. Caller: the accepted financier, with an approved credit verification of the exporter."""
        f = self.get(financing_id)
        self._check_before_approval(sender, "fund", f, f.principal)
        self._approve(sender, f.token, f.principal)
        receipt = self._send(sender, "fund", _id(financing_id))
        return self._result(self.get(financing_id), receipt)

    def claim(self, financing_id: int, *, sender: LocalAccount) -> Result[Financing]:
        """After maturity plus the grace period, take the bill of an unpaid financing. Caller: its financier."""
        receipt = self._send(sender, "claim", _id(financing_id))
        return self._result(self.get(financing_id), receipt)

    def withdraw(self, settlement_token: str, *, sender: LocalAccount) -> Result[int]:
        """Withdraw everything the escrow owes the caller in `settlement_token`; the value is the amount."""
        amount = self.withdrawable(sender.address, settlement_token)
        receipt = self._send(sender, "withdraw", to_address(settlement_token, what="token"))
        return self._result(amount, receipt)

    # --- anyone ------------------------------------------------------------------------------------------

    def repay(self, financing_id: int, amount: int, *, sender: LocalAccount) -> Result[Financing]:
        """Approve and repay (capped at what is outstanding); the full repayment releases the bill to the
        importer. Caller: anyone, usually the importer."""
        f = self.get(financing_id)
        taken = min(_amount(amount), f.outstanding)  # what the escrow will take: no allowance is left behind
        self._check_before_approval(sender, "repay", f, taken, amount)
        self._approve(sender, f.token, taken)
        receipt = self._send(sender, "repay", _id(financing_id), _amount(amount))
        return self._result(self.get(financing_id), receipt)

    def redeliver(self, financing_id: int, *, sender: LocalAccount) -> Result[Financing]:
        """Deliver an ended financing's bill again (after a refused or rejected delivery). Caller: anyone."""
        receipt = self._send(sender, "redeliver", _id(financing_id))
        return self._result(self.get(financing_id), receipt)

    # --- admin -------------------------------------------------------------------------------------------

    def allow_token(self, settlement_token: str, allowed: bool = True, *, sender: LocalAccount) -> Result[bool]:
        """Allow (or disallow) a settlement token for new requests. Caller: the escrow admin."""
        receipt = self._send(sender, "setTokenAllowed", to_address(settlement_token, what="token"), allowed)
        return self._result(self.is_allowed_token(settlement_token), receipt)

    def set_min_tenor(self, seconds: int, *, sender: LocalAccount) -> Result[int]:
        """The shortest tenor of new requests and offers (0 to 365 days). Caller: the escrow admin."""
        receipt = self._send(sender, "setMinTenor", _uint40(seconds, "minimum tenor"))
        return self._result(self.min_tenor(), receipt)

    def set_reservation_period(self, seconds: int, *, sender: LocalAccount) -> Result[int]:
        """How long new requests reserve their invoice (1 to 365 days). Caller: the escrow admin."""
        receipt = self._send(sender, "setReservationPeriod", _uint40(seconds, "reservation period"))
        return self._result(self.reservation_period(), receipt)

    def release_reservation(self, invoice_fingerprint: bytes | str, reason: str, *,
                            sender: LocalAccount) -> Result[Reservation]:
        """Release a disputed invoice reservation (never a financed one); the financing that held it can no
        longer be funded. Caller: the escrow admin. `reason` stays off chain; its hash is in the event."""
        receipt = self._send(sender, "releaseReservation", _fingerprint(invoice_fingerprint), text_hash(reason))
        return self._result(self.reservation(invoice_fingerprint), receipt)

    def pause(self, *, sender: LocalAccount) -> Result[bool]:
        """Stop every state change of the escrow. Caller: the escrow admin."""
        receipt = self._send(sender, "pause")
        return self._result(self.paused(), receipt)

    def unpause(self, *, sender: LocalAccount) -> Result[bool]:
        """Resume after `pause`. Caller: the escrow admin."""
        receipt = self._send(sender, "unpause")
        return self._result(self.paused(), receipt)

    # --- reads -------------------------------------------------------------------------------------------

    def get(self, financing_id: int) -> Financing:
        """One financing; FinancingNotFound for an unknown id."""
        fid = _id(financing_id)
        f, outstanding = self.chain.call_many([(self.contract, "financing", (fid,)),
                                               (self.contract, "outstanding", (fid,))])
        return _financing(fid, f, outstanding)

    def offers(self, financing_id: int) -> list[Offer]:
        """The standing offers on a financing, in the order their financiers first offered (from the
        Offered events; withdrawn offers are left out)."""
        offered = self.contract.events.Offered()
        logs = self.chain.w3.eth.get_logs({
            "address": self.address, "fromBlock": self.deployed_block, "toBlock": "latest",
            "topics": [offered.topic, "0x" + _id(financing_id).to_bytes(32, "big").hex()],
        })
        financiers = dict.fromkeys(to_address(offered.process_log(log)["args"]["financier"]) for log in logs)
        return [o for o in (self.offer_of(financing_id, f) for f in financiers) if o.exists]

    def list(self) -> list[Financing]:
        """Every financing, oldest first (one batch of eth_call for all of them)."""
        count = int(self.chain.call(self.contract, "financingCount"))
        replies = self.chain.call_many([(self.contract, fn, (i,)) for i in range(1, count + 1)
                                        for fn in ("financing", "outstanding")])
        return [_financing(i, replies[2 * (i - 1)], replies[2 * (i - 1) + 1]) for i in range(1, count + 1)]

    def offer_of(self, financing_id: int, financier: str) -> Offer:
        """`financier`'s standing offer on a financing (principal 0: none)."""
        o = self.chain.call(self.contract, "offerOf", _id(financing_id), to_address(financier, what="financier"))
        return Offer(int(financing_id), to_address(financier), int(o.principal), int(o.fee), int(o.maturity))

    def reservation(self, invoice_fingerprint: bytes | str) -> Reservation:
        """Who holds an invoice fingerprint, until when; `status` is the escrow's answer now."""
        raw = _fingerprint(invoice_fingerprint)
        r = self.chain.call(self.contract, "reservation", raw)
        status = FingerprintStatus(int(self.chain.call(self.contract, "fingerprintStatus", raw)))
        return Reservation("0x" + raw.hex(), status, int(r.financingId) or None, int(r.reservedUntil))

    def fingerprint_status(self, invoice_fingerprint: bytes | str) -> str:
        """"none", "reserved" (a live reservation) or "financed"."""
        status = int(self.chain.call(self.contract, "fingerprintStatus", _fingerprint(invoice_fingerprint)))
        return FingerprintStatus(status).name.lower()

    def withdrawable(self, account: str, settlement_token: str) -> int:
        """What `account` may withdraw in `settlement_token`."""
        return int(self.chain.call(self.contract, "withdrawable", to_address(account), to_address(settlement_token)))

    def owed(self, settlement_token: str) -> int:
        """Everything the escrow owes in `settlement_token` (its balance of it, unless sent tokens directly)."""
        return int(self.chain.call(self.contract, "owed", to_address(settlement_token)))

    def is_allowed_token(self, settlement_token: str) -> bool:
        """Whether `settlement_token` may settle new financings."""
        return bool(self.chain.call(self.contract, "isAllowedToken", to_address(settlement_token)))

    def min_tenor(self) -> int:
        """The shortest tenor of a request or offer, in seconds."""
        return int(self.chain.call(self.contract, "minTenor"))

    def reservation_period(self) -> int:
        """How long a request reserves its invoice fingerprint, in seconds."""
        return int(self.chain.call(self.contract, "reservationPeriod"))

    def grace_period(self) -> int:
        """Seconds after maturity before a financier may claim the bill."""
        return int(self.chain.call(self.contract, "gracePeriod"))

    def paused(self) -> bool:
        """Whether the escrow's own pause is on (it also stops while the title registry is paused)."""
        return bool(self.chain.call(self.contract, "paused"))

    # --- internals ---------------------------------------------------------------------------------------

    def _check_before_approval(self, sender: LocalAccount, fn: str, f: Financing, needed: int, *args: Any) -> None:
        """A refused `fund` or `repay` must send nothing, not even the approval that precedes it: simulate the
        step from `sender` and raise its refusal unless it is only the missing allowance; and refuse a balance
        that cannot pay (the token checks the allowance first, so the simulation cannot tell)."""
        with contextlib.suppress(ERC20InsufficientAllowance):
            self.chain.call(self.contract, fn, f.financing_id, *args, sender=sender.address)
        balance = int(self.chain.call(self.token(f.token), "balanceOf", sender.address))
        if balance < needed:
            raise ERC20InsufficientBalance(sender=sender.address, balance=balance, needed=needed)

    def _approve(self, sender: LocalAccount, token: str, amount: int) -> None:
        erc20 = self.token(token)
        if int(self.chain.call(erc20, "allowance", sender.address, self.address)) < amount:
            self.chain.transact(sender, erc20, "approve", self.address, amount)

    def _financing_id(self, receipt: Any, event: str) -> int:
        for log in self.contract.events[event]().process_receipt(receipt, errors=_DISCARD):
            return int(log["args"]["financingId"])
        raise EblError(f"no {event} event in the transaction")


def _financing(fid: int, f: Any, outstanding: Any) -> Financing:
    if FinancingState(f.state) is FinancingState.NONE:
        raise FinancingNotFound(f"no financing {fid}")
    return Financing(
        financing_id=fid, state=FinancingState(f.state), exporter=to_address(f.exporter),
        importer=to_address(f.importer), financier=None if int(f.financier, 16) == 0 else to_address(f.financier),
        token=to_address(f.token), principal=int(f.principal), fee=int(f.fee), repaid=int(f.repaid),
        outstanding=int(outstanding), maturity=int(f.maturity), bill=int(f.tokenId), delivered=bool(f.delivered),
        invoice_fingerprint="0x" + bytes(f.invoiceFingerprint).hex(),
    )


def _id(financing_id: int) -> int:
    if isinstance(financing_id, bool) or not isinstance(financing_id, int) or not 0 < financing_id < 1 << 256:
        raise InvalidInput(f"financing id {financing_id!r} must be a positive whole number below 2**256")
    return financing_id


def _uint(value: int, bits: int, what: str, *, positive: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (1 if positive else 0) or value >= 1 << bits:
        least = "positive" if positive else "non-negative"
        raise InvalidInput(f"{what} {value!r} must be a {least} whole number below 2**{bits}")
    return value


def _amount(value: int) -> int:
    return _uint(value, 96, "amount (minor units)", positive=True)


def _uint96(value: int, what: str) -> int:
    return _uint(value, 96, what)


def _uint40(value: int, what: str) -> int:
    return _uint(value, 40, what)


def _timestamp(value: int, what: str) -> int:
    return _uint(value, 40, f"{what} (unix time)", positive=True)


def _fingerprint(value: bytes | str) -> bytes:
    try:
        raw = bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)
    except ValueError:
        raise InvalidInput(f"invoice fingerprint {value!r} is not hex") from None
    if len(raw) != 32 or raw == b"\0" * 32:
        raise InvalidInput("an invoice fingerprint is 32 non-zero bytes (see financing.fingerprint)")
    return raw
