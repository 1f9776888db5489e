"""DCSA eBL surrender, the platform's side.

A holder surrenders a bill on chain, by the CLI, an embedding program or this service's back-office API.
`SurrenderDesk.scan` finds each new surrender in the index (`SurrenderForDelivery`, `SurrenderForAmendment`
title actions of bills whose carrier this service acts for) and writes the DCSA surrender request (`SREQ`
or `AREQ`, with the endorsement chain up to the surrender, read from the chain itself) to the carrier's
callback outbox. The back-office API writes its own at once, with the holder's reason code and comments.

The carrier answers at `POST /v3/ebl-surrender-responses` (`answer`), once per request. The answer is recorded
first and applied on chain with the carrier's key:

| request | answer | on chain | outcome |
|---|---|---|---|
| SREQ | SURR | acceptSurrender: the bill is accomplished | accomplished |
| AREQ (reason SWTP) | SURR | switchToPaper: the bill is voided, a paper original replaces it | switched to paper |
| AREQ (other reasons) | SURR | nothing yet: the bill stays surrendered for the amended document | awaiting amendment |
| then an issuance request for the same reference | (ISSU) | amend: the successor goes to the holder | amended |
| SREQ, AREQ | SREJ | rejectSurrender: the bill goes back to the holder who surrendered it | restored |

When the chain refuses (the bill moved meanwhile, the holder was suspended), the answer is not taken (409)
and the carrier may answer again. An answer recorded but not yet applied (a crash, the node down) is applied
by the watcher (`apply_recorded`); applying looks at the bill first, so it never acts twice.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update

from ..errors import BillNotFound, ConnectionFailed, ContractRevert, InvalidInput, TransactionTimeout
from ..index import schema as s
from ..index.schema import token_key
from ..models import BillStatus, TitleAction
from . import audit, endorsement, outbox, parties
from . import tables as t
from .auth import Caller
from .dcsa import NO_PARTY, Party, SurrenderRequestAnswer, SurrenderRequestDetails
from .errors import CHAIN_REFUSED, CONFLICT, SCHEMA, ApiError, Detail, bad_parameter, forbidden, not_found, parsed
from .runtime import Platform

log = logging.getLogger(__name__)

CODES = {TitleAction.SURRENDER_FOR_DELIVERY: "SREQ", TitleAction.SURRENDER_FOR_AMENDMENT: "AREQ"}
SURRENDERED_STATUS = {"SREQ": BillStatus.SURRENDERED_FOR_DELIVERY, "AREQ": BillStatus.SURRENDERED_FOR_AMENDMENT}
SWITCH_TO_PAPER = "SWTP"
REASON_CODES = ("SWTP", "COD", "SWI")
#: the Surrender API requires a recipient: DCSA's "No Party" for BLANK_ENDORSE and SURRENDERED
NO_RECIPIENT = Party.model_validate(NO_PARTY)


@dataclass(frozen=True)
class Surrender:
    reference: str
    token_id: int
    transport_document_reference: str
    carrier: str
    surrendered_by: str
    code: str
    reason_code: str | None
    comments: str | None
    tx_hash: str
    status: str
    action: str | None
    outcome: str | None
    answer_tx: str | None


def _surrender(row: Any) -> Surrender:
    return Surrender(row["reference"], int(row["token_id"], 16), row["transport_document_reference"], row["carrier"],
                     row["surrendered_by"], row["code"], row["reason_code"], row["comments"], row["tx_hash"],
                     row["status"], row["action"], row["outcome"], row["answer_tx"])


def find(platform: Platform, reference: str) -> Surrender | None:
    with platform.db.connect() as conn:
        row = conn.execute(select(t.surrenders).where(t.surrenders.c.reference == reference)).mappings().first()
    return _surrender(row) if row is not None else None


class SurrenderDesk:
    """Surrender requests out, answers in. `wake_callbacks` nudges the callback sender."""

    def __init__(self, platform: Platform, wake_callbacks: Any = lambda: None) -> None:
        self.platform = platform
        self.wake_callbacks = wake_callbacks
        self._skipped: set[str] = set()

    # --- requests --------------------------------------------------------------------------------------------

    def scan(self) -> int:
        """Surrender requests for the surrenders the index shows since the last scan; how many were written."""
        written = 0
        with self.platform.surrender_lock:
            with self.platform.db.connect() as conn:
                last = int(conn.execute(select(t.service_state.c.last_event_id)).scalar() or 0)
            with self.platform.index.connect() as conn:
                newest = int(conn.execute(select(func.max(s.events.c.id))).scalar() or 0)
                if last > newest:  # the index started over (a new chain under it): look again from the start
                    last = 0
                te, b = s.title_events.c, s.bills.c
                rows = conn.execute(select(te.event_id, te.token_id, te.action, te.actor, te.tx_hash, te.block,
                                           b.carrier, b.reference, b.status)
                                    .join(s.bills, b.token_id == te.token_id)
                                    .where(te.event_id > last, te.action.in_(("surrender_for_delivery",
                                                                                "surrender_for_amendment")))
                                    .order_by(te.event_id)).mappings().all()
                latest = {r["token_id"]: conn.execute(select(func.max(te.event_id)).where(
                    te.token_id == r["token_id"], te.action.in_(("surrender_for_delivery", "surrender_for_amendment"))
                )).scalar() for r in rows}
            for r in rows:
                action = TitleAction[str(r["action"]).upper()]
                still = r["status"] == ("surrendered_for_delivery" if action is TitleAction.SURRENDER_FOR_DELIVERY
                                        else "surrendered_for_amendment")
                if not self.platform.acts_for(r["carrier"]):
                    if r["carrier"] not in self._skipped:
                        self._skipped.add(r["carrier"])
                        log.info("surrenders to carrier %s are not forwarded: this service does not act for it",
                                 r["carrier"])
                elif still and latest[r["token_id"]] == r["event_id"] and not self._known(r["token_id"], r["tx_hash"]):
                    self._request(int(r["token_id"], 16), r["tx_hash"], r["block"], r["actor"], r["carrier"],
                                  r["reference"], CODES[action], None, None, correlation=f"watch-{r['event_id']}")
                    written += 1
            if rows:
                with self.platform.db.begin() as conn:
                    conn.execute(update(t.service_state).values(last_event_id=int(rows[-1]["event_id"])))
            elif last == 0 and newest:
                with self.platform.db.begin() as conn:
                    conn.execute(update(t.service_state).values(last_event_id=newest))
        return written

    def _known(self, token: str, tx_hash: str) -> bool:
        with self.platform.db.connect() as conn:
            return conn.execute(select(t.surrenders.c.reference).where(
                t.surrenders.c.token_id == token, t.surrenders.c.tx_hash == tx_hash)).first() is not None

    def _request(self, token: int, tx_hash: str, block: int, surrendered_by: str, carrier: str, reference: str,
                 code: str, reason_code: str | None, comments: str | None, *, correlation: str,
                 key_id: str | None = None) -> str:
        """Write the surrender request (the row and its callback) for the surrender in `tx_hash`."""
        history = self.platform.client.bills.history(token)
        upto = next((i for i, e in enumerate(history) if e.tx_hash == tx_hash and e.action in CODES), len(history) - 1)
        directory = self.platform.directory()
        platform = self.platform.config.platform
        chain = [link.model_copy(update={"recipient": link.recipient or NO_RECIPIENT})
                 for link in endorsement.links(history[:upto + 1], carrier,
                                               lambda account: parties.party(account, directory, platform))]
        surrender_reference = f"SR-{uuid.uuid4().hex[:24].upper()}"
        details = SurrenderRequestDetails.make(
            surrenderRequestReference=surrender_reference, transportDocumentReference=reference,
            transportDocumentSubReference=self._sub_reference(token), surrenderRequestCode=code,
            reasonCode=reason_code, comments=comments, endorsementChain=chain)
        entry = directory.entries.get(carrier)
        with self.platform.db.begin() as conn:
            conn.execute(insert(t.surrenders).values(
                reference=surrender_reference, token_id=token_key(token), transport_document_reference=reference,
                carrier=carrier, surrendered_by=surrendered_by, code=code, reason_code=reason_code, comments=comments,
                tx_hash=tx_hash, block=block, requested_at=time.time(), status="requested"))
            outbox.enqueue(conn, carrier, entry.callback_url if entry and entry.callback_url else "",
                           outbox.SURRENDER_REQUEST, surrender_reference, details.dump())
            audit.record(conn, account=surrendered_by, key_id=key_id, action=f"surrender request {code}",
                         subject=surrender_reference, status=0, detail=f"{reference} ({hex(token)})", tx_hash=tx_hash,
                         correlation=correlation)
        log.info("surrender request %s (%s %s, bill %s) for carrier %s", surrender_reference, code, reference,
                 hex(token), carrier)
        self.wake_callbacks()
        return surrender_reference

    def _sub_reference(self, token: int) -> str | None:
        """The transport document's sub-reference, when the platform issued it from a DCSA request."""
        with self.platform.db.connect() as conn:
            return conn.execute(select(t.issuance_requests.c.sub_reference).where(
                t.issuance_requests.c.token_id == token_key(token))).scalar()

    def request(self, caller: Caller, token_id: str, purpose: str, reason_code: str | None, comments: str | None,
                correlation: str) -> tuple[str, str]:
        """A holder's surrender through the back-office API: on chain with its key, then the surrender request
        with its reason and comments. (surrender request reference, transaction hash)."""
        if purpose not in ("delivery", "amendment"):
            raise bad_parameter(f"purpose {purpose!r} is not delivery or amendment", "$.purpose")
        if reason_code is not None and (purpose != "amendment" or reason_code not in REASON_CODES):
            raise bad_parameter(f"reasonCode {reason_code!r}: only a surrender for amendment gives one, one of "
                                f"{', '.join(REASON_CODES)}", "$.reasonCode")
        if not self.platform.acts_for(caller.account):
            raise forbidden(f"this service holds no signing key for {caller.account}: surrender with your own key")
        bills = self.platform.client.bills
        with self.platform.surrender_lock:
            try:
                bill = bills.get(token_id)
            except BillNotFound:
                raise not_found(f"no bill {token_id}") from None
            if not self.platform.acts_for(bill.carrier):
                raise forbidden(f"this platform cannot forward a surrender to carrier {bill.carrier}: it does not act "
                                "for it (surrender with the CLI and tell the carrier)")
            try:
                _, tx = bills.surrender(bill.token_id, purpose, sender=self.platform.signer_for(caller.account),
                                        remark=comments or "")
            except ContractRevert as exc:
                raise ApiError(409, CHAIN_REFUSED, f"the title registry refused the surrender: {exc}") from None
            reference = self._request(bill.token_id, tx.hash, tx.block, caller.account, bill.carrier,
                                      bill.transport_document_reference, "SREQ" if purpose == "delivery" else "AREQ",
                                      reason_code, comments, correlation=correlation, key_id=caller.key_id)
        return reference, tx.hash

    # --- answers ------------------------------------------------------------------------------------------------

    def answer(self, caller: Caller, raw: Any, correlation: str) -> Surrender:
        """Take a carrier's SURR or SREJ (ApiError when it cannot be taken) and apply it."""
        answer = parsed(SurrenderRequestAnswer, raw, "answer (DCSA SurrenderRequestAnswer)")
        if answer.action == "SREJ" and not answer.comments:
            raise ApiError(400, SCHEMA, "a rejection (SREJ) gives its reason in comments",
                           [Detail("Missing comments", "DCSA: comments must be provided for rejections",
                                   "$.comments")])
        with self.platform.surrender_lock:
            with self.platform.db.begin() as conn:
                row = conn.execute(select(t.surrenders).where(
                    t.surrenders.c.reference == answer.surrenderRequestReference)).mappings().first()
                if row is None:
                    raise not_found(f"no surrender request {answer.surrenderRequestReference}")
                if row["carrier"] != caller.account:
                    raise forbidden(f"surrender request {answer.surrenderRequestReference} is addressed to another "
                                    "carrier")
                if row["status"] != "requested":
                    raise ApiError(409, CONFLICT, f"surrender request {row['reference']} was answered already "
                                                  f"({row['action']}): a carrier answers once")
                conn.execute(update(t.surrenders).where(t.surrenders.c.reference == row["reference"]).values(
                    status="answered", action=answer.action, answer_comments=answer.comments,
                    answered_at=time.time()))
                audit.record(conn, account=caller.account, key_id=caller.key_id,
                             action=f"surrender response {answer.action}", subject=row["reference"], status=204,
                             detail=answer.comments, correlation=correlation)
            surrender = _surrender({**row, "status": "answered", "action": answer.action})
            try:
                return self._apply(surrender, answer.comments, correlation)
            except ContractRevert as exc:
                with self.platform.db.begin() as conn:
                    conn.execute(update(t.surrenders).where(t.surrenders.c.reference == surrender.reference).values(
                        status="requested", action=None, answer_comments=None, answered_at=None))
                    audit.record(conn, account=caller.account, key_id=caller.key_id,
                                 action=f"surrender response {answer.action} refused", subject=surrender.reference,
                                 status=409, detail=str(exc), correlation=correlation)
                raise ApiError(409, CHAIN_REFUSED, f"the title registry refused to apply {answer.action}: {exc}; the "
                                                   "answer was not taken") from None
            except (ConnectionFailed, TransactionTimeout) as exc:
                log.warning("surrender response %s recorded, applied once the node answers: %s", surrender.reference,
                            exc)
                return surrender

    def _apply(self, surrender: Surrender, comments: str | None, correlation: str) -> Surrender:
        """Carry out a recorded answer on chain (unless the bill shows it was), then mark it applied."""
        bills = self.platform.client.bills
        signer = self.platform.signer_for(surrender.carrier)
        token = surrender.token_id
        bill = bills.get(token)
        waiting = bill.status is SURRENDERED_STATUS[surrender.code]
        tx_hash: str | None = None
        block: int | None = None
        remark = comments or ""
        if surrender.action == "SREJ":
            outcome = "restored"
            if waiting:
                _, tx = bills.reject_surrender(token, sender=signer, remark=remark)
                tx_hash, block = tx.hash, tx.block
        elif surrender.code == "SREQ":
            outcome = "accomplished"
            if waiting:
                _, tx = bills.accept_surrender(token, sender=signer, remark=remark)
                tx_hash, block = tx.hash, tx.block
        elif surrender.reason_code == SWITCH_TO_PAPER:
            outcome = "switched to paper"
            if waiting:
                _, tx = bills.switch_to_paper(token, f"DCSA SWTP {surrender.reference}: {remark}".strip(),
                                              sender=signer)
                tx_hash, block = tx.hash, tx.block
        else:
            outcome = "awaiting amendment"
        if block is not None:
            try:
                self.platform.sync_index(until=block)
            except Exception as exc:
                log.warning("the index could not follow block %s: %s", block, exc)
        with self.platform.db.begin() as conn:
            conn.execute(update(t.surrenders).where(t.surrenders.c.reference == surrender.reference).values(
                status="applied", outcome=outcome, answer_tx=tx_hash))
            audit.record(conn, account=surrender.carrier, action=f"apply {surrender.action} ({outcome})",
                         subject=surrender.reference, status=0, detail=f"bill {hex(token)}", tx_hash=tx_hash,
                         correlation=correlation)
        log.info("surrender %s answered %s: %s", surrender.reference, surrender.action, outcome)
        found = find(self.platform, surrender.reference)
        assert found is not None
        return found

    def apply_recorded(self) -> int:
        """Apply the answers recorded but not applied (after a crash, or while the node was away)."""
        with self.platform.db.connect() as conn:
            rows = conn.execute(select(t.surrenders).where(t.surrenders.c.status == "answered")
                                .order_by(t.surrenders.c.answered_at)).mappings().all()
        applied = 0
        for row in rows:
            with self.platform.surrender_lock:
                current = find(self.platform, row["reference"])
                if current is None or current.status != "answered":
                    continue
                try:
                    self._apply(current, row["answer_comments"], f"recover-{row['reference']}")
                    applied += 1
                except (ConnectionFailed, TransactionTimeout) as exc:
                    log.warning("surrender response %s still waits for the node: %s", row["reference"], exc)
                except (ContractRevert, InvalidInput) as exc:
                    # the bill is not where the answer found it: the request waits for a new answer
                    log.error("surrender response %s cannot be applied, the request is open again: %s",
                              row["reference"], exc)
                    with self.platform.db.begin() as conn:
                        conn.execute(update(t.surrenders).where(t.surrenders.c.reference == row["reference"]).values(
                            status="requested", action=None, answer_comments=None, answered_at=None))
                        audit.record(conn, account=row["carrier"], action=f"surrender response {row['action']} "
                                     "refused", subject=row["reference"], status=0, detail=str(exc),
                                     correlation=f"recover-{row['reference']}")
        return applied
