"""Facade over BillOfLadingRegistry: issue an eBL from a DCSA transport document, every lifecycle action,
the bill's state, its chain of title (one log query bounded by the issue block) and document checks.

The transport document stays off chain; the token holds the SHA-256 of its RFC 8785 canonical JSON, so
anyone holding the file computes the same digest (`hashing.document_digest`). A document becomes title only
after `documents.validate_transport_document` accepts it, before anything is sent.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3.types import TxReceipt

from .chain import Chain, ContractFacade, to_address
from .documents import validate_transport_document
from .errors import InvalidDocument, InvalidInput, TransactionFailed
from .hashing import document_digest, load_json_file, text_hash
from .models import Bill, BillStatus, TitleAction, TitleEvent

CONTRACT = "BillOfLadingRegistry"
MAX_REFERENCE = 20  # DCSA transportDocumentReference: at most 20 characters
ZERO = "0x" + "00" * 20


def reference_bytes(reference: str) -> bytes:
    """A DCSA transport document reference as the contract's bytes32 (ASCII, right-padded with zeros)."""
    text = reference.strip()
    if not text or len(text) > MAX_REFERENCE or not text.isascii() or not text.isprintable():
        raise InvalidInput(f"transport document reference {reference!r} must be 1-{MAX_REFERENCE} ASCII characters")
    return text.encode("ascii").ljust(32, b"\0")


def reference_text(raw: bytes) -> str:
    return bytes(raw).rstrip(b"\0").decode("ascii", errors="replace")


def parse_token_id(value: str | int) -> int:
    """A token id given as decimal or 0x-hex."""
    if isinstance(value, int):
        return value
    text = value.strip()
    try:
        token = int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError:
        raise InvalidInput(f"token id {value!r} is not a number (decimal or 0x-hex)") from None
    if token <= 0:
        raise InvalidInput(f"token id {value!r} must be positive")
    return token


def load_document(document: dict[str, Any] | Path | str) -> dict[str, Any]:
    """A transport document from a dict or a JSON file (strict parsing: no duplicate keys, no NaN)."""
    data = document if isinstance(document, dict) else load_json_file(Path(document), what=f"document {document}")
    if not isinstance(data, dict):
        raise InvalidInput("a transport document must be a JSON object")
    return data


def _kind(straight: bool) -> str:
    return "straight" if straight else "to order"


def _optional(address: str) -> str | None:
    return None if int(address, 16) == 0 else to_address(address)


class Bills(ContractFacade):
    CONTRACT = CONTRACT

    def __init__(self, chain: Chain, address: str) -> None:
        super().__init__(chain, address)
        self._event = self.contract.events.TitleAction()

    # --- carrier ----------------------------------------------------------------------------------------

    def issue(
        self,
        signer: LocalAccount,
        document: dict[str, Any] | Path | str,
        holder: str,
        beneficiary: str | None = None,
        *,
        straight: bool | None = None,
        remark: str = "",
    ) -> Bill:
        """Issue the eBL for `document`, a DCSA eBL 3.0 transport document, to `holder` (DCSA's issueTo).

        The document is validated first (InvalidDocument, nothing sent) and alone decides to order or straight
        (`isToOrder`). To order: the beneficiary defaults to the holder (the shipper). Straight: `beneficiary`
        is the account of the document's consignee and is required.

        `straight` never overrides the document: when given it must agree with `isToOrder` or the issue is
        refused. It stays only while the `ebl bill issue` command still passes its --straight/--to-order flag.
        """
        doc = load_document(document)
        info = validate_transport_document(doc)
        if straight is not None and straight != info.is_straight:
            raise InvalidDocument("/isToOrder", f"the document is {_kind(info.is_straight)} (isToOrder "
                                                f"{str(info.is_to_order).lower()}) but a {_kind(straight)} bill "
                                                "was asked for: the document decides")
        holder_address = to_address(holder, what="holder")
        if info.is_straight and not beneficiary:
            raise InvalidInput(f"straight bill {info.reference} is consigned to {info.consignee}: give the "
                               "consignee's account as beneficiary")
        beneficiary_address = to_address(beneficiary, what="beneficiary") if beneficiary else holder_address
        request = (reference_bytes(info.reference), document_digest(doc), holder_address, beneficiary_address,
                   info.is_straight)
        receipt = self.chain.transact(signer, self.contract, "issue", request, text_hash(remark))
        return self.get(self._token_of_action(receipt, TitleAction.ISSUE))

    def accept_surrender(self, signer: LocalAccount, token_id: int | str, remark: str = "") -> Bill:
        return self._act(signer, "acceptSurrender", token_id, remark=remark)

    def reject_surrender(self, signer: LocalAccount, token_id: int | str, remark: str = "") -> Bill:
        return self._act(signer, "rejectSurrender", token_id, remark=remark)

    def amend(self, signer: LocalAccount, token_id: int | str, document: dict[str, Any] | Path | str,
              remark: str = "") -> Bill:
        """Re-issue a bill surrendered for amendment with the amended document (validated like an issue, same
        reference, same to order or straight); returns the successor."""
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
        receipt = self.chain.transact(signer, self.contract, "amend", token, document_digest(doc), text_hash(remark))
        return self.get(self._token_of_action(receipt, TitleAction.ISSUE))

    def switch_to_paper(self, signer: LocalAccount, token_id: int | str, reason: str) -> Bill:
        return self._act(signer, "switchToPaper", token_id, remark=reason)

    # --- holder, beneficiary, recipient ------------------------------------------------------------------

    def transfer(self, signer: LocalAccount, token_id: int | str, to: str, remark: str = "") -> Bill:
        """Transfer possession (holder) to `to`."""
        return self._act(signer, "transferHolder", token_id, to_address(to, what="new holder"), remark=remark)

    def nominate(self, signer: LocalAccount, token_id: int | str, nominee: str | None, remark: str = "") -> Bill:
        """The beneficiary nominates the next beneficiary (None withdraws the nomination)."""
        target = to_address(nominee, what="nominee") if nominee else ZERO
        return self._act(signer, "nominate", token_id, target, remark=remark)

    def endorse(self, signer: LocalAccount, token_id: int | str, to: str, remark: str = "") -> Bill:
        """Transfer title (beneficiary) to `to`; the holder acts."""
        return self._act(signer, "endorse", token_id, to_address(to, what="endorsee"), remark=remark)

    def transfer_owners(self, signer: LocalAccount, token_id: int | str, holder: str, beneficiary: str,
                        remark: str = "") -> Bill:
        return self._act(signer, "transferOwners", token_id, to_address(holder, what="new holder"),
                         to_address(beneficiary, what="new beneficiary"), remark=remark)

    def blank_endorse(self, signer: LocalAccount, token_id: int | str, remark: str = "") -> Bill:
        return self._act(signer, "blankEndorse", token_id, remark=remark)

    def reject(self, signer: LocalAccount, token_id: int | str, remark: str = "") -> Bill:
        """The recipient of the last move refuses it; the previous parties are restored."""
        return self._act(signer, "reject", token_id, remark=remark)

    def surrender(self, signer: LocalAccount, token_id: int | str, purpose: str = "delivery", remark: str = "") -> Bill:
        """Surrender to the carrier, for `delivery` of the goods or for `amendment`."""
        functions = {"delivery": "surrenderForDelivery", "amendment": "surrenderForAmendment"}
        if purpose not in functions:
            raise InvalidInput(f"surrender purpose {purpose!r} is not one of: delivery, amendment")
        return self._act(signer, functions[purpose], token_id, remark=remark)

    # --- reads ---------------------------------------------------------------------------------------

    def get(self, token_id: int | str) -> Bill:
        """The bill; BillNotFound-style ERC721NonexistentToken for an unknown id."""
        token = parse_token_id(token_id)
        raw: Any = self.chain.call(self.contract, "bill", token)
        (carrier, holder, beneficiary, nominee, status, straight, blank, issued_block, document_hash,
         generation, predecessor, successor, _previous, _last_move) = raw
        return Bill(
            token_id=token,
            transport_document_reference=self._reference(token, int(issued_block), int(predecessor)),
            carrier=to_address(carrier), holder=to_address(holder), beneficiary=_optional(beneficiary),
            nominee=_optional(nominee), status=BillStatus(status), straight=bool(straight),
            blank_endorsed=bool(blank), issued_block=int(issued_block),
            document_hash="0x" + bytes(document_hash).hex(), generation=int(generation),
            predecessor=int(predecessor) or None, successor=int(successor) or None,
        )

    def token_of(self, carrier: str, reference: str) -> int | None:
        """The live bill for a carrier's transport document reference."""
        token = int(self.chain.call(self.contract, "tokenOf", to_address(carrier, what="carrier"),
                                    reference_bytes(reference)))
        return token or None

    def history(self, token_id: int | str) -> list[TitleEvent]:
        """The chain of title, in order: one eth_getLogs from the bill's issue block, filtered by token,
        and one eth_getBlockByNumber per block for the time of each action."""
        token = parse_token_id(token_id)
        issued_block = int(self.chain.call(self.contract, "bill", token)[7])
        events = [self._title_event(log) for log in self._logs(token, issued_block, "latest")]
        times = {b: self.chain.block_time(b) for b in sorted({e.block for e in events})}
        return [replace(e, timestamp=times[e.block]) for e in events]

    def verify_document(self, token_id: int | str, document: dict[str, Any] | Path | str) -> bool:
        """True when the document's canonical SHA-256 is the one the bill carries."""
        bill = self.get(token_id)
        return "0x" + document_digest(load_document(document)).hex() == bill.document_hash

    # --- internals -----------------------------------------------------------------------------------

    def _act(self, signer: LocalAccount, fn: str, token_id: int | str, *args: Any, remark: str = "") -> Bill:
        token = parse_token_id(token_id)
        self.chain.transact(signer, self.contract, fn, token, *args, text_hash(remark))
        return self.get(token)

    def _logs(self, token: int, from_block: int, to_block: int | str) -> list[Any]:
        topic = HexBytes(token.to_bytes(32, "big")).to_0x_hex()
        logs = self.chain.w3.eth.get_logs({
            "address": self.address, "fromBlock": from_block, "toBlock": to_block,  # type: ignore[typeddict-item]
            "topics": [self._event.topic, topic],
        })
        return list(logs)

    def _title_event(self, log: Any) -> TitleEvent:
        args = self._event.process_log(log)["args"]
        remark = bytes(args["remarkHash"])
        return TitleEvent(
            token_id=int(args["tokenId"]), action=TitleAction(args["action"]), actor=to_address(args["actor"]),
            holder=to_address(args["holder"]), beneficiary=_optional(args["beneficiary"]),
            remark_hash=None if remark == b"\0" * 32 else "0x" + remark.hex(),
            block=int(log["blockNumber"]), tx_hash=HexBytes(log["transactionHash"]).to_0x_hex(),
            log_index=int(log["logIndex"]),
        )

    def _token_of_action(self, receipt: TxReceipt, action: TitleAction) -> int:
        for log in receipt["logs"]:
            if to_address(log["address"]) == self.address and HexBytes(log["topics"][0]) == HexBytes(self._event.topic):
                event = self._event.process_log(log)["args"]
                if event["action"] == action:
                    return int(event["tokenId"])
        raise TransactionFailed(f"no {action.name} event in transaction {receipt['transactionHash'].to_0x_hex()}")

    def _reference(self, token: int, issued_block: int, predecessor: int) -> str:
        """The transport document reference. The contract keeps only a hash of it inside the token id, so
        it is read from the calldata of the `issue` that started the bill (an amendment continues its
        predecessor's reference). "" when that call went through another contract (e.g. a multisig)."""
        if predecessor:
            pred = self.chain.call(self.contract, "bill", predecessor)
            return self._reference(predecessor, int(pred[7]), int(pred[10]))
        logs = [log for log in self._logs(token, issued_block, issued_block)
                if self._event.process_log(log)["args"]["action"] == TitleAction.ISSUE]
        if not logs:
            return ""
        tx = self.chain.w3.eth.get_transaction(logs[0]["transactionHash"])
        try:
            fn, params = self.contract.decode_function_input(tx["input"])
        except ValueError:
            return ""
        return reference_text(params["request"]["transportDocumentReference"]) if fn.fn_name == "issue" else ""


def carrier_of(token_id: int) -> ChecksumAddress:
    """The issuing carrier encoded in a token id (serial << 160 | carrier)."""
    return to_address("0x" + (token_id & ((1 << 160) - 1)).to_bytes(20, "big").hex())
