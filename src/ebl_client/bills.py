"""Facade over BillOfLadingRegistry: issue an eBL from a DCSA transport document, every lifecycle action,
the pledge into a financing escrow, the bill's state, its chain of title (one log query bounded by the issue
block) and document checks.

The transport document stays off chain; the token holds the SHA-256 of its RFC 8785 canonical JSON, so
anyone holding the file computes the same digest (`hashing.document_digest`). A document becomes title only
after `documents.validate_transport_document` accepts it, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import keccak
from hexbytes import HexBytes
from web3.types import TxReceipt

from .chain import Call, Chain, ContractFacade, ItemResult, to_address
from .documents import validate_transport_document
from .errors import BillNotFound, EblError, ERC721NonexistentToken, InvalidDocument, InvalidInput, TransactionFailed
from .hashing import document_digest, load_json_file, text_hash
from .models import Bill, BillStatus, Result, TitleAction, TitleEvent

CONTRACT = "BillOfLadingRegistry"
MAX_REFERENCE = 20  # DCSA transportDocumentReference: at most 20 characters
ZERO = "0x" + "00" * 20
MAX_UINT256 = (1 << 256) - 1


def reference_bytes(reference: str) -> bytes:
    """A DCSA transport document reference as the contract's bytes32 (ASCII, right-padded with zeros)."""
    text = reference.strip()
    if not text or len(text) > MAX_REFERENCE or not text.isascii() or not text.isprintable():
        raise InvalidInput(f"transport document reference {reference!r} must be 1-{MAX_REFERENCE} ASCII characters")
    return text.encode("ascii").ljust(32, b"\0")


def reference_text(raw: bytes) -> str:
    """The contract's bytes32 reference as text."""
    return bytes(raw).rstrip(b"\0").decode("ascii", errors="replace")


def parse_token_id(value: str | int) -> int:
    """A token id given as decimal or 0x-hex: positive and at most 2**256 - 1."""
    if isinstance(value, int) and not isinstance(value, bool):
        token = value
    else:
        text = str(value).strip()
        try:
            token = int(text, 16) if text.lower().startswith("0x") else int(text)
        except ValueError:
            raise InvalidInput(f"token id {value!r} is not a number (decimal or 0x-hex)") from None
    if not 0 < token <= MAX_UINT256:
        raise InvalidInput(f"token id {value!r} must be positive and below 2**256")
    return token


def load_document(document: dict[str, Any] | Path | str) -> dict[str, Any]:
    """A transport document from a dict or a JSON file (strict parsing: no duplicate keys, no NaN)."""
    data = document if isinstance(document, dict) else load_json_file(Path(document), what=f"document {document}")
    if not isinstance(data, dict):
        raise InvalidInput("a transport document must be a JSON object")
    return data


def carrier_of(token_id: int) -> ChecksumAddress:
    """The issuing carrier encoded in a token id (serial << 160 | carrier)."""
    return to_address("0x" + (token_id & ((1 << 160) - 1)).to_bytes(20, "big").hex())


def generation_of(token_id: int, reference: str) -> int:
    """Which generation of a carrier's reference a token id is (0: the first bill, +1 per amendment or re-use):
    the contract offsets the top 96 bits of the id from keccak256 of the reference."""
    base = int.from_bytes(keccak(reference_bytes(reference)), "big") & ((1 << 96) - 1)
    return ((token_id >> 160) - base) % (1 << 96)


@dataclass(frozen=True)
class IssueItem:
    """One bill of an `issue_many`: the transport document, its first holder and (straight bills: the
    consignee's account; to order: default the holder) beneficiary, and a remark kept off chain."""

    document: dict[str, Any] | Path | str
    holder: str
    beneficiary: str | None = None
    remark: str = ""


@dataclass(frozen=True)
class _Issue:
    """A validated issue request: what is sent, and what the issued Bill is built from."""

    reference: str
    document_hash: bytes
    holder: ChecksumAddress
    beneficiary: ChecksumAddress
    straight: bool
    remark: str

    def args(self) -> tuple[Any, ...]:
        return ((reference_bytes(self.reference), self.document_hash, self.holder, self.beneficiary, self.straight),
                text_hash(self.remark))


def _kind(straight: bool) -> str:
    return "straight" if straight else "to order"


def _optional(address: str) -> str | None:
    return None if int(address, 16) == 0 else to_address(address)


class Bills(ContractFacade):
    """The title registry: one ERC-721 token per live eBL. Writes take the signer as `sender=` and return a
    `Result` (the bill after the action, and the transaction); reads return models."""

    CONTRACT = CONTRACT

    def __init__(self, chain: Chain, address: str, *, deployed_block: int = 0) -> None:
        super().__init__(chain, address, deployed_block=deployed_block)
        self._title_action = self.contract.events.TitleAction()
        self._bill_issued = self.contract.events.BillIssued()
        #: token id -> transport document reference: fixed for a token's life, so read from events once
        self._references: dict[int, str] = {}

    # --- carrier ----------------------------------------------------------------------------------------

    def issue(
        self,
        document: dict[str, Any] | Path | str,
        holder: str,
        beneficiary: str | None = None,
        *,
        sender: LocalAccount,
        remark: str = "",
    ) -> Result[Bill]:
        """Issue the eBL for `document`, a DCSA eBL 3.0 transport document, to `holder` (DCSA's issueTo).

        The document is validated first (InvalidDocument, nothing sent) and alone decides to order or straight
        (`isToOrder`). To order: the beneficiary defaults to the holder (the shipper). Straight: `beneficiary`
        is the account of the document's consignee and is required. Caller: an active carrier.
        """
        issue = self._issue_request(document, holder, beneficiary, remark)
        receipt = self._send(sender, "issue", *issue.args(), label=issue.reference)
        return self._result(self._issued_bill(issue, receipt), receipt)

    def issue_many(self, items: Iterable[IssueItem], *, sender: LocalAccount,
                   batch: str | None = None) -> list[ItemResult[Bill]]:
        """Issue many bills from one carrier, pipelined: every document validated (InvalidDocument) and every
        issue checked on chain first, in one batch, a refused item named and never sent; the rest signed with
        consecutive nonces, journaled, sent in one batch and confirmed together. One ItemResult per item, in
        order: its outcome, transaction hash and (mined) the issued Bill. Items are checked independently: a
        reference given twice is issued once and the second reverts on chain (BillAlreadyIssued).

        `batch` names the run in the outbox (see Chain.send_many): run the same batch again after a crash and
        the items already signed are followed, not issued twice."""
        requests: list[_Issue | EblError] = []
        for item in items:
            try:
                requests.append(self._issue_request(item.document, item.holder, item.beneficiary, item.remark))
            except EblError as exc:
                requests.append(exc)
        calls: list[Call | EblError] = [r if isinstance(r, EblError) else self._call("issue", *r.args(),
                                                                                    label=r.reference)
                                        for r in requests]

        def build(n: int, receipt: TxReceipt) -> Bill:
            request = requests[n]
            assert not isinstance(request, EblError)
            return self._issued_bill(request, receipt)

        return self._send_many(calls, sender, build, batch=batch)

    def _issue_request(self, document: dict[str, Any] | Path | str, holder: str, beneficiary: str | None,
                       remark: str) -> _Issue:
        """The document validated and the parties checked: what `issue` sends (InvalidInput otherwise)."""
        doc = load_document(document)
        info = validate_transport_document(doc)
        holder_address = to_address(holder, what="holder")
        if info.is_straight and not beneficiary:
            raise InvalidInput(f"straight bill {info.reference} is consigned to {info.consignee}: give the "
                               "consignee's account as beneficiary")
        beneficiary_address = to_address(beneficiary, what="beneficiary") if beneficiary else holder_address
        reference_bytes(info.reference)
        return _Issue(info.reference, document_digest(doc), holder_address, beneficiary_address, info.is_straight,
                      remark)

    def _issued_bill(self, issue: _Issue, receipt: TxReceipt) -> Bill:
        """The bill an issue created, from the request and the receipt's BillIssued event: no read-back."""
        token = self._issued_token(receipt)
        self._references[token] = issue.reference
        return Bill(
            token_id=token, transport_document_reference=issue.reference, carrier=to_address(receipt["from"]),
            holder=issue.holder, beneficiary=issue.beneficiary, nominee=None, status=BillStatus.ISSUED,
            straight=issue.straight, blank_endorsed=False, issued_block=int(receipt["blockNumber"]),
            document_hash="0x" + issue.document_hash.hex(), generation=generation_of(token, issue.reference),
            predecessor=None, successor=None,
        )

    def accept_surrender(self, token_id: int | str, *, sender: LocalAccount, remark: str = "") -> Result[Bill]:
        """Accept a surrender for delivery: the goods are delivered and the bill accomplished. Caller: the
        issuing carrier."""
        return self._act(sender, "acceptSurrender", token_id, remark=remark)

    def reject_surrender(self, token_id: int | str, *, sender: LocalAccount, remark: str = "") -> Result[Bill]:
        """Reject a surrender (for delivery or amendment): the surrendering holder gets the bill back. Caller:
        the issuing carrier."""
        return self._act(sender, "rejectSurrender", token_id, remark=remark)

    def amend(self, token_id: int | str, document: dict[str, Any] | Path | str, *, sender: LocalAccount,
              remark: str = "") -> Result[Bill]:
        """Re-issue a bill surrendered for amendment with the amended document (validated like an issue, same
        reference, same to order or straight); returns the successor. Caller: the issuing carrier, active."""
        token = parse_token_id(token_id)
        doc = load_document(document)
        info = validate_transport_document(doc)
        current = self.get(token)
        if info.reference != current.transport_document_reference:
            raise InvalidDocument("/transportDocumentReference",
                                  f"the amended document's reference {info.reference!r} is not the bill's "
                                  f"({current.transport_document_reference!r})")
        if info.is_straight != current.straight:
            raise InvalidDocument("/isToOrder", f"bill {hex(token)} is {_kind(current.straight)}: an amendment "
                                                f"cannot make it {_kind(info.is_straight)}")
        receipt = self._send(sender, "amend", token, reference_bytes(info.reference), document_digest(doc),
                             text_hash(remark))
        return self._result(self.get(self._issued_token(receipt)), receipt)

    def switch_to_paper(self, token_id: int | str, reason: str, *, sender: LocalAccount) -> Result[Bill]:
        """Void a bill its holder surrendered for amendment, because a paper original replaces it (DCSA SWTP).
        Caller: the issuing carrier, active. `reason` stays off chain; its hash goes into the event."""
        return self._act(sender, "switchToPaper", token_id, remark=reason)

    # --- holder, beneficiary, recipient ------------------------------------------------------------------

    def transfer(self, token_id: int | str, to: str, *, sender: LocalAccount, remark: str = "") -> Result[Bill]:
        """Transfer possession to `to` (an active trader or financier); title stays. Caller: the holder."""
        return self._act(sender, "transferHolder", token_id, to_address(to, what="new holder"), remark=remark)

    def nominate(self, token_id: int | str, nominee: str | None, *, sender: LocalAccount,
                 remark: str = "") -> Result[Bill]:
        """Name the next beneficiary the holder may endorse to (None withdraws the nomination). Caller: the
        beneficiary of a to-order bill."""
        target = to_address(nominee, what="nominee") if nominee else ZERO
        return self._act(sender, "nominate", token_id, target, remark=remark)

    def endorse(self, token_id: int | str, to: str, *, sender: LocalAccount, remark: str = "") -> Result[Bill]:
        """Transfer title (beneficiary) to `to`; possession stays. Caller: the holder of a to-order bill (to
        anyone when it holds title, else only to the beneficiary's nominee)."""
        return self._act(sender, "endorse", token_id, to_address(to, what="endorsee"), remark=remark)

    def transfer_owners(self, token_id: int | str, holder: str, beneficiary: str, *, sender: LocalAccount,
                        remark: str = "") -> Result[Bill]:
        """Endorse to `beneficiary` and transfer to `holder` in one step. Caller: the holder holding title."""
        return self._act(sender, "transferOwners", token_id, to_address(holder, what="new holder"),
                         to_address(beneficiary, what="new beneficiary"), remark=remark)

    def blank_endorse(self, token_id: int | str, *, sender: LocalAccount, remark: str = "") -> Result[Bill]:
        """Endorse in blank: whoever holds the bill holds title. Caller: the holder who is the beneficiary."""
        return self._act(sender, "blankEndorse", token_id, remark=remark)

    def reject(self, token_id: int | str, *, sender: LocalAccount, remark: str = "") -> Result[Bill]:
        """Refuse the last move to the caller; the previous parties are restored. Caller: its recipient, as
        the next action on the bill."""
        return self._act(sender, "reject", token_id, remark=remark)

    def surrender(self, token_id: int | str, purpose: str = "delivery", *, sender: LocalAccount,
                  remark: str = "") -> Result[Bill]:
        """Surrender to the carrier, for `delivery` of the goods (the holder must hold title) or for
        `amendment` (also a switch to paper). Caller: the holder."""
        functions = {"delivery": "surrenderForDelivery", "amendment": "surrenderForAmendment"}
        if purpose not in functions:
            raise InvalidInput(f"surrender purpose {purpose!r} is not one of: delivery, amendment")
        return self._act(sender, functions[purpose], token_id, remark=remark)

    def pledge(self, token_id: int | str, escrow: str, data: bytes, *, sender: LocalAccount,
               remark: str = "") -> Result[Bill]:
        """Pledge the bill into an escrow, which accepts it (with `data`, e.g. a financing request) in the same
        transaction or refuses it, undoing the pledge. Caller: the holder holding title of a to-order bill.
        (`Financings.request` builds the financing escrow's `data` and pledges for you.)"""
        receipt = self.send_pledge(token_id, escrow, data, sender=sender, remark=remark)
        return self._result(self.get(token_id), receipt)

    def send_pledge(self, token_id: int | str, escrow: str, data: bytes, *, sender: LocalAccount,
                    remark: str = "") -> TxReceipt:
        """`pledge`, returning the receipt: for an escrow's facade, which reads its own events from it."""
        receipt = self._send(sender, "pledge", parse_token_id(token_id), to_address(escrow, what="escrow"),
                             bytes(data), text_hash(remark))
        return receipt

    # --- admin -------------------------------------------------------------------------------------------

    def pause(self, *, sender: LocalAccount) -> Result[bool]:
        """Stop every action on every bill (and the financing escrow with it). Caller: the registry admin."""
        receipt = self._send(sender, "pause")
        return self._result(self.paused(), receipt)

    def unpause(self, *, sender: LocalAccount) -> Result[bool]:
        """Resume after `pause`. Caller: the registry admin."""
        receipt = self._send(sender, "unpause")
        return self._result(self.paused(), receipt)

    # --- reads ---------------------------------------------------------------------------------------

    def get(self, token_id: int | str) -> Bill:
        """The bill; BillNotFound for an unknown token id."""
        token = parse_token_id(token_id)
        b = self._bill(token)
        return Bill(
            token_id=token, transport_document_reference=self._reference(token, int(b.issuedBlock)),
            carrier=to_address(b.carrier), holder=to_address(b.holder), beneficiary=_optional(b.beneficiary),
            nominee=_optional(b.nominee), status=BillStatus(b.status), straight=bool(b.straight),
            blank_endorsed=bool(b.blankEndorsed), issued_block=int(b.issuedBlock),
            document_hash="0x" + bytes(b.documentHash).hex(), generation=int(b.generation),
            predecessor=int(b.predecessor) or None, successor=int(b.successor) or None,
        )

    def token_of(self, carrier: str, reference: str) -> int | None:
        """The live bill for a carrier's transport document reference, or None."""
        token = int(self.chain.call(self.contract, "tokenOf", to_address(carrier, what="carrier"),
                                    reference_bytes(reference)))
        return token or None

    def balance_of(self, holder: str) -> int:
        """How many live bills `holder` controls (ERC-721 balanceOf)."""
        return int(self.chain.call(self.contract, "balanceOf", to_address(holder, what="holder")))

    def paused(self) -> bool:
        """Whether the admin has paused the registry."""
        return bool(self.chain.call(self.contract, "paused"))

    def history(self, token_id: int | str) -> list[TitleEvent]:
        """The chain of title, in order: one eth_getLogs from the bill's issue block, filtered by token, and
        the time of each action (from the logs when the node includes blockTimestamp, else one batch of
        eth_getBlockByNumber)."""
        token = parse_token_id(token_id)
        issued_block = int(self._bill(token).issuedBlock)
        logs = self._logs(self._title_action, token, issued_block, "latest")
        events = [self._title_event(log) for log in logs]
        times = {int(log["blockNumber"]): _int(log["blockTimestamp"]) for log in logs if log.get("blockTimestamp")}
        missing = [e.block for e in events if e.block not in times]
        if missing:
            times.update(self.chain.block_times(missing))
        return [replace(e, timestamp=times[e.block]) for e in events]

    def verify_document(self, token_id: int | str, document: dict[str, Any] | Path | str) -> bool:
        """True when the document's canonical SHA-256 is the one the bill carries."""
        bill = self.get(token_id)
        return "0x" + document_digest(load_document(document)).hex() == bill.document_hash

    # --- internals -----------------------------------------------------------------------------------

    def _bill(self, token: int) -> Any:
        try:
            return self.chain.call(self.contract, "bill", token)
        except ERC721NonexistentToken:
            raise BillNotFound(f"no bill with token id {hex(token)}") from None

    def _act(self, sender: LocalAccount, fn: str, token_id: int | str, *args: Any, remark: str = "") -> Result[Bill]:
        token = parse_token_id(token_id)
        receipt = self._send(sender, fn, token, *args, text_hash(remark))
        return self._result(self.get(token), receipt)

    def _logs(self, event: Any, token: int, from_block: int, to_block: int | str) -> list[Any]:
        topic = HexBytes(token.to_bytes(32, "big")).to_0x_hex()
        logs = self.chain.w3.eth.get_logs({
            "address": self.address, "fromBlock": from_block, "toBlock": to_block,  # type: ignore[typeddict-item]
            "topics": [event.topic, topic],
        })
        return list(logs)

    def _title_event(self, log: Any) -> TitleEvent:
        args = self._title_action.process_log(log)["args"]
        remark = bytes(args["remarkHash"])
        return TitleEvent(
            token_id=int(args["tokenId"]), action=TitleAction(args["action"]), actor=to_address(args["actor"]),
            holder=to_address(args["holder"]), beneficiary=_optional(args["beneficiary"]),
            remark_hash=None if remark == b"\0" * 32 else "0x" + remark.hex(),
            block=int(log["blockNumber"]), tx_hash=HexBytes(log["transactionHash"]).to_0x_hex(),
            log_index=int(log["logIndex"]),
        )

    def _issued_token(self, receipt: TxReceipt) -> int:
        """The token a transaction issued (an issue, or an amendment's successor): its BillIssued event."""
        topic = HexBytes(self._bill_issued.topic)
        for log in receipt["logs"]:  # BillIssued(uint256 indexed tokenId, ...): the token is the first topic
            if str(log["address"]).lower() == self.address.lower() and HexBytes(log["topics"][0]) == topic:
                return int.from_bytes(HexBytes(log["topics"][1]), "big")
        raise TransactionFailed(f"no BillIssued event in transaction {receipt['transactionHash'].to_0x_hex()}")

    def _reference(self, token: int, issued_block: int) -> str:
        """The transport document reference, from the bill's BillIssued event (the contract keeps only a hash
        of it inside the token id); read once per token."""
        if token in self._references:
            return self._references[token]
        logs = self._logs(self._bill_issued, token, issued_block, issued_block)
        if not logs:
            raise TransactionFailed(f"bill {hex(token)} has no BillIssued event in block {issued_block}")
        reference = reference_text(self._bill_issued.process_log(logs[0])["args"]["transportDocumentReference"])
        self._references[token] = reference
        return reference


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)
