"""DCSA eBL issuance, the platform's side: `accept` checks a carrier's `PUT /v3/ebl-issuance-requests` and
stores it (the 204); `IssuanceWorker` decides it, issues (or amends) the bill on chain with the carrier's key
and writes the carrier's `ISSU`, `BREQ` or `REFU` to the callback outbox in the same transaction.

Checked before the 204, so a carrier learns of its own mistakes at once (nothing is stored then):

1. the request against DCSA's schema (400) and the transport document against `documents` (400, JSONPath);
2. the manifest (`issuanceManifestSignedContent`) against the carrier's key in the directory (422), and its
   checksums against the document, `issueTo` and the rendering as sent (422);
3. the carrier: an active carrier on chain whose key this service holds and that has a callback URL (403);
4. the reference: a request is never accepted twice (409, whatever became of the first one), and a reference
   with a live bill or a request being processed takes no other document (409), with one exception: the
   bill was surrendered for amendment and the carrier accepted that surrender (SURR), so this request is the
   amended document and the worker amends the bill (`Bills.amend`) instead of issuing a new one.

Decided by the worker, reported by callback:

- `REFU`: the issueTo party is not on this platform (another `sendToPlatform`: this platform does no DCSA
  PINT transfers) or its identifying codes name nobody here, as DCSA's own example of REFU;
- `BREQ`: the request cannot be issued as sent, and says why: the issueTo party is onboarded but suspended
  or may not hold bills, its codes name two accounts, the consignee (straight) or endorsee (to order) is not
  a participant, an amendment names another party than the one that surrendered, the chain refused;
- `ISSU`: the bill is on chain (and in the index, so the endorsement chain shows it when the carrier asks).

To order or straight comes from the document (`isToOrder`). Straight: the consignee is the bill's
beneficiary. To order: the endorsee when the document names one, else the consignee ("to the order of"),
else nobody: DCSA calls that bill blank. A blank eBL is issued to the order of its first holder, the issueTo
party (holder and beneficiary both): possession and title sit together, which is all "blank" means while
the bill is with its first holder; making it a bearer bill is the holder's own act (`ebl bill
blank-endorse`), since the registry mints no bill without an onboarded title holder.

A crash between sending and recording is harmless: before it sends, the worker looks on chain for a live bill
of the reference with this document's checksum and reports that one instead of issuing again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from pydantic import ValidationError
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from ..bills import Bills
from ..directory import Directory
from ..documents import TransportDocumentInfo, transport_document_problems, validate_transport_document
from ..errors import (
    BillAlreadyIssued,
    ConnectionFailed,
    ContractRevert,
    InvalidInput,
    ParticipantNotFound,
    TransactionTimeout,
)
from ..index.schema import token_key
from ..models import BillStatus, Role
from . import audit, manifest, outbox, parties
from . import tables as t
from .auth import Caller
from .dcsa import IssuanceError, IssuanceManifest, IssuanceRequest, IssuanceResponse, IssueToParty, json_path, problems
from .dcsa import pointer_parts as pointer
from .errors import (
    BAD_SIGNATURE,
    CHECKSUM_MISMATCH,
    CONFLICT,
    INVALID_DOCUMENT,
    REPLAY,
    SCHEMA,
    ApiError,
    Detail,
    forbidden,
    parsed,
)
from .runtime import Platform

log = logging.getLogger(__name__)

#: how often an unexpected failure may repeat before the request is answered BREQ (the node being down is not
#: counted: that waits)
MAX_ATTEMPTS = 5
STATUS_OF = {"ISSU": "issued", "BREQ": "blocked", "REFU": "refused"}
HOLDERS = Role.TRADER | Role.FINANCIER


@dataclass(frozen=True)
class Accepted:
    request_id: int
    reference: str
    kind: str  # issue | amend


# --- accepting (before the 204) -------------------------------------------------------------------------------


def parse(raw: Any) -> IssuanceRequest:
    """The request as DCSA's model, or a 400 listing every problem (schema first, then the document's)."""
    request = parsed(IssuanceRequest, raw, "issuance request (DCSA IssuanceRequest)")
    found = transport_document_problems(raw["document"])
    if found:
        details = [Detail("Invalid transport document", p.reason, json_path(["document", *pointer(p.path)]))
                   for p in found]
        raise ApiError(400, INVALID_DOCUMENT, f"the transport document may not become title: {found[0].reason}",
                       details)
    return request


def check_manifest(request: IssuanceRequest, raw: dict[str, Any], registered_key: Any) -> IssuanceManifest:
    """The verified manifest, its checksums the ones of what was sent (422 otherwise)."""
    if registered_key is None:
        raise ApiError(422, BAD_SIGNATURE, "the carrier's directory entry has no signing key: its issuance "
                                           "manifests cannot be verified")
    try:
        payload = manifest.verify(request.issuanceManifestSignedContent, manifest.public_key(registered_key))
        signed = IssuanceManifest.model_validate(payload)
    except manifest.ManifestError as exc:
        raise ApiError(422, BAD_SIGNATURE, str(exc), [Detail("Invalid signature", str(exc),
                                                             "$.issuanceManifestSignedContent")]) from None
    except ValidationError as exc:
        details = [Detail("Invalid manifest", message, path) for path, message in problems(exc, "$manifest")]
        raise ApiError(422, CHECKSUM_MISMATCH, "the signed manifest is not a DCSA IssuanceManifest", details) from None
    sent = manifest.manifest_of(raw["document"], raw["issueTo"], raw.get("eBLVisualisationByCarrier"))
    mismatches = []
    for name, path in (("documentChecksum", "$.document"), ("issueToChecksum", "$.issueTo"),
                       ("eBLVisualisationByCarrierChecksum", "$.eBLVisualisationByCarrier.content")):
        theirs = getattr(signed, name)
        ours = sent.get(name)
        if theirs != ours:
            why = (f"the manifest signs {name} {theirs} but what was sent hashes to {ours}" if theirs and ours else
                   f"the manifest signs {name} but nothing was sent for it" if theirs else
                   f"a {path.removeprefix('$.').split('.')[0]} was sent that the manifest does not sign")
            mismatches.append(Detail("Checksum mismatch", why, path))
    if mismatches:
        raise ApiError(422, CHECKSUM_MISMATCH, mismatches[0].message, mismatches)
    return signed


def accept(platform: Platform, caller: Caller, raw: Any, correlation: str) -> Accepted:
    """Check a carrier's issuance request and store it for the worker; raises ApiError (nothing stored)."""
    if not isinstance(raw, dict):
        raise ApiError(400, SCHEMA, "an issuance request is a JSON object",
                       [Detail("Invalid request", "an issuance request is a JSON object", "$")])
    request = parse(raw)
    carrier = caller.account
    _check_carrier(platform, carrier)
    entry = platform.directory().entries.get(carrier)
    check_manifest(request, raw, entry.signing_key if entry else None)
    if entry is None or not entry.callback_url:
        raise forbidden(f"the directory gives no callback URL for carrier {carrier}: the platform could not answer")
    info = validate_transport_document(raw["document"])
    signed = manifest.manifest_of(raw["document"], raw["issueTo"], raw.get("eBLVisualisationByCarrier"))
    # the same request is the same content (what the carrier signs), whatever the bytes of its signature
    request_checksum = manifest.checksum(signed)
    document_checksum = signed["documentChecksum"]
    with platform.issuance_lock:
        kind, amends = _check_reference(platform, carrier, info, request_checksum)
        try:
            with platform.db.begin() as conn:
                result = conn.execute(insert(t.issuance_requests).values(
                    carrier=carrier, reference=info.reference, sub_reference=info.sub_reference,
                    request_checksum=request_checksum, document_checksum=document_checksum, body=raw, kind=kind,
                    amends=amends, status="accepted", attempts=0, received_at=time.time(), correlation=correlation))
                key = result.inserted_primary_key
                assert key is not None
                audit.record(conn, account=carrier, key_id=caller.key_id, action=f"issuance request ({kind})",
                             subject=info.reference, status=204, correlation=correlation)
        except IntegrityError:  # another process took the reference in between (the unique indexes say so)
            raise ApiError(409, REPLAY, f"an issuance request for {info.reference} was received meanwhile") from None
    return Accepted(int(key[0]), info.reference, kind)


def _check_carrier(platform: Platform, carrier: str) -> None:
    try:
        participant = platform.client.participants.get(carrier)
    except ParticipantNotFound:
        raise forbidden(f"{carrier} is not an onboarded participant") from None
    if not participant.roles & Role.CARRIER:
        raise forbidden(f"{carrier} is not a carrier: only carriers request the issuance of an eBL")
    if not participant.active:
        raise forbidden(f"carrier {carrier} is suspended")
    if not platform.acts_for(carrier):
        raise forbidden(f"this service holds no signing key for carrier {carrier}: it cannot issue on its behalf")


def _check_reference(platform: Platform, carrier: str, info: TransportDocumentInfo,
                     request_checksum: str) -> tuple[str, str | None]:
    """("issue", None), or ("amend", bill) for the amended document of a bill surrendered for amendment; a 409
    for a replay or a reference in use."""
    reference = info.reference
    with platform.db.connect() as conn:
        prior = conn.execute(select(t.issuance_requests).where(
            t.issuance_requests.c.carrier == carrier, t.issuance_requests.c.reference == reference)
            .order_by(t.issuance_requests.c.id)).mappings().all()
        same = next((p for p in prior if p["request_checksum"] == request_checksum), None)
        if same is not None:
            state = "is being processed" if same["status"] == "accepted" else f"was answered {same['response_code']}"
            raise ApiError(409, REPLAY, f"this issuance request for {reference} was received before and {state}: "
                                        "the platform never accepts an issuance request twice",
                           [Detail("Transport Document Reference already used",
                                   "The same issuance request was received before. The platform informs the carrier "
                                   "through its issuance responses and surrender requests when it needs to act.",
                                   "$.document.transportDocumentReference", reference)])
    if any(p["status"] == "accepted" for p in prior):
        raise ApiError(409, CONFLICT, f"an issuance request for {reference} is being processed: the carrier "
                                      "hears of it by issuance response", _reference_taken(reference))
    bills = platform.client.bills  # the database is not held while the node answers
    token = bills.token_of(carrier, reference)
    if token is None:
        return "issue", None
    bill = bills.get(token)
    if bill.status is BillStatus.SURRENDERED_FOR_AMENDMENT:
        with platform.db.connect() as conn:
            awaiting = conn.execute(select(t.surrenders.c.reference).where(
                t.surrenders.c.token_id == token_key(token), t.surrenders.c.status == "applied",
                t.surrenders.c.outcome == "awaiting amendment")).first()
        if awaiting is None:
            raise ApiError(409, CONFLICT, f"bill {hex(token)} ({reference}) is surrendered for amendment: accept "
                                          "the surrender (SURR) before sending the amended document",
                           _reference_taken(reference))
        return "amend", token_key(token)
    raise ApiError(409, CONFLICT, f"{reference} is already issued: bill {hex(token)} is "
                                  f"{bill.status.name.lower().replace('_', ' ')}", _reference_taken(reference))


def _reference_taken(reference: str) -> list[Detail]:
    return [Detail("Transport Document Reference already used",
                   "The Transport Document cannot be issued with the same Transport Document Reference (TDR) as "
                   "previously. The eBL platform will inform the carrier when the carrier needs to act on this "
                   "document again.", "$.document.transportDocumentReference", reference)]


# --- deciding (the worker) ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    code: str  # ISSU | BREQ | REFU
    reason: str | None = None
    errors: tuple[IssuanceError, ...] = ()
    token: int | None = None
    tx_hash: str | None = None
    block: int | None = None


class Refused(Exception):
    """Deciding stopped at a BREQ or REFU (raised inside the worker only)."""

    def __init__(self, code: str, reason: str, errors: tuple[IssuanceError, ...] = ()) -> None:
        super().__init__(reason)
        self.verdict = Verdict(code, _text(reason, 255), errors)


def _text(text: str, limit: int) -> str:
    """Free text as DCSA's reason fields take it: one line, no blanks at the ends, at most `limit` characters."""
    line = " ".join(text.split())
    return (line if len(line) <= limit else line[:limit - 3] + "...").strip() or "-"


def _error(reason: str, code: str) -> IssuanceError:
    return IssuanceError.make(reason=_text(reason, 255), errorCode=code)


@dataclass
class IssuanceWorker:
    """Decides accepted issuance requests, oldest first. `run_once()` is one pass (the worker thread loops)."""

    platform: Platform
    wake_callbacks: Any = field(default=lambda: None)

    def pending(self) -> list[dict[str, Any]]:
        with self.platform.db.connect() as conn:
            return [dict(r) for r in conn.execute(select(t.issuance_requests).where(
                t.issuance_requests.c.status == "accepted").order_by(t.issuance_requests.c.id)).mappings()]

    def run_once(self, stop: Any = lambda: False) -> int:
        done = 0
        for row in self.pending():
            if stop():
                break
            done += self.process(row)
        return done

    def process(self, row: dict[str, Any]) -> int:
        """Decide one request; 1 when it was decided, 0 when it must wait (the node is unreachable)."""
        try:
            request = IssuanceRequest.model_validate(row["body"])
            info = validate_transport_document(row["body"]["document"])
            signer = self.platform.signer_for(row["carrier"])
            verdict = (self._amend(row, request, info, signer) if row["kind"] == "amend"
                       else self._issue(row, request, info, signer))
        except Refused as refused:
            verdict = refused.verdict
        except (ConnectionFailed, TransactionTimeout) as exc:
            log.warning("issuance request %s (%s) waits: %s", row["id"], row["reference"], exc)
            return 0
        except Exception:
            log.exception("issuance request %s (%s) failed (correlation %s)", row["id"], row["reference"],
                          row["correlation"])
            attempts = row["attempts"] + 1
            if attempts < MAX_ATTEMPTS:
                with self.platform.db.begin() as conn:
                    conn.execute(update(t.issuance_requests).where(t.issuance_requests.c.id == row["id"])
                                 .values(attempts=attempts))
                return 0
            verdict = Verdict("BREQ", _text(f"the platform could not process the request (reference "
                                             f"{row['correlation']} in its log)", 255))
        self._finish(row, verdict)
        return 1

    # --- deciding -------------------------------------------------------------------------------------------

    def _issue(self, row: dict[str, Any], request: IssuanceRequest, info: TransportDocumentInfo,
               signer: LocalAccount) -> Verdict:
        bills = self.platform.client.bills
        found = self._already_on_chain(bills, row)
        if found is not None:
            return found
        self._no_new_reference_for_an_amendment(bills, row["carrier"], request, info)
        directory = self.platform.directory()
        holder = self._issue_to(request.issueTo, directory)
        beneficiary = self._beneficiary(info, row["body"]["document"], directory, holder)
        try:
            bill, tx = bills.issue(row["body"]["document"], holder, beneficiary, sender=signer,
                                   remark=f"DCSA issuance request {row['correlation']}")
        except BillAlreadyIssued:
            found = self._already_on_chain(bills, row)
            if found is not None:
                return found
            raise Refused("BREQ", f"{info.reference} is already used on chain for another document") from None
        except ContractRevert as exc:
            raise Refused("BREQ", f"the title registry refused the issuance: {exc}") from None
        except InvalidInput as exc:
            raise Refused("BREQ", str(exc)) from None
        return Verdict("ISSU", token=bill.token_id, tx_hash=tx.hash, block=tx.block)

    def _amend(self, row: dict[str, Any], request: IssuanceRequest, info: TransportDocumentInfo,
               signer: LocalAccount) -> Verdict:
        bills = self.platform.client.bills
        token = int(row["amends"], 16)
        bill = bills.get(token)
        if bill.successor is not None:
            successor = bills.get(bill.successor)
            if successor.document_hash == "0x" + row["document_checksum"]:
                return self._verdict_for_existing(bills, successor.token_id)
        if bill.status is not BillStatus.SURRENDERED_FOR_AMENDMENT:
            raise Refused("BREQ", f"bill {hex(token)} is no longer surrendered for amendment "
                                  f"({bill.status.name.lower().replace('_', ' ')}): nothing to amend")
        with self.platform.db.connect() as conn:
            surrendered_by = conn.execute(select(t.surrenders.c.surrendered_by).where(
                t.surrenders.c.token_id == row["amends"], t.surrenders.c.outcome == "awaiting amendment")
                .order_by(t.surrenders.c.requested_at.desc())).scalar()
        directory = self.platform.directory()
        holder = self._issue_to(request.issueTo, directory)
        if surrendered_by is not None and holder != surrendered_by:
            raise Refused("BREQ", f"the amended bill goes back to the party that surrendered it "
                                  f"({directory.label(surrendered_by)}), not to {directory.label(holder)}")
        try:
            successor_bill, tx = bills.amend(token, row["body"]["document"], sender=signer,
                                             remark=f"DCSA issuance request {row['correlation']}")
        except ContractRevert as exc:
            raise Refused("BREQ", f"the title registry refused the amendment: {exc}") from None
        except InvalidInput as exc:
            raise Refused("BREQ", str(exc)) from None
        return Verdict("ISSU", token=successor_bill.token_id, tx_hash=tx.hash, block=tx.block)

    @staticmethod
    def _no_new_reference_for_an_amendment(bills: Bills, carrier: str, request: IssuanceRequest,
                                           info: TransportDocumentInfo) -> None:
        """DCSA lets an amended document take a new reference (`transportDocumentReplacements`); the registry
        amends a bill under its own reference only, so a new one would leave the old bill surrendered."""
        replaced = request.transportDocumentReplacements
        for old in (replaced.oldTransportDocumentReferences or []) if replaced else []:
            reference = old.transportDocumentReference
            token = bills.token_of(carrier, reference) if reference != info.reference else None
            if token is not None and bills.get(token).status is BillStatus.SURRENDERED_FOR_AMENDMENT:
                raise Refused("BREQ", f"bill {reference} is surrendered for amendment: on this platform the amended "
                                      f"document keeps its reference ({reference}), not {info.reference}",
                              (_error("an amendment keeps its transport document reference", "AMEND-REFERENCE"),))

    def _already_on_chain(self, bills: Bills, row: dict[str, Any]) -> Verdict | None:
        """ISSU for a live bill of this reference with this very document (sent before a crash), else None."""
        token = bills.token_of(row["carrier"], row["reference"])
        if token is None or bills.get(token).document_hash != "0x" + row["document_checksum"]:
            return None
        return self._verdict_for_existing(bills, token)

    @staticmethod
    def _verdict_for_existing(bills: Bills, token: int) -> Verdict:
        issued = bills.history(token)[0]
        return Verdict("ISSU", token=token, tx_hash=issued.tx_hash, block=issued.block)

    def _issue_to(self, issue_to: IssueToParty, directory: Directory) -> str:
        platform = self.platform.config.platform
        if issue_to.sendToPlatform.upper() != platform.upper():
            raise Refused("REFU", f"the issueTo party is on platform {issue_to.sendToPlatform}: this platform "
                                  f"({platform}) issues to its own participants only", (_error(
                                      f"sendToPlatform {issue_to.sendToPlatform} is not {platform}", "PLATFORM"),))
        found = parties.resolve(issue_to.identifyingCodes, directory, platform)
        onboarded = frozenset(a for a in found.accounts if self._onboarded(a))
        if not onboarded:
            code = issue_to.identifyingCodes[0]
            raise Refused("REFU", "IssueTo party not recognized by this platform", (_error(
                f'"{issue_to.partyName}" with partyCode {code.partyCode} ({code.codeListProvider}) is unknown',
                "PARTY-UNKNOWN"),))
        return self._one_participant(onboarded, "issueTo party", issue_to.partyName, directory)

    def _onboarded(self, account: str) -> bool:
        try:
            self.platform.client.participants.get(account)
        except ParticipantNotFound:
            return False
        return True

    def _beneficiary(self, info: TransportDocumentInfo, document: dict[str, Any], directory: Directory,
                     holder: str) -> str:
        documented = document["documentParties"]
        if info.is_straight:
            role = "consignee"
        elif "endorsee" in documented:
            role = "endorsee"
        elif "consignee" in documented:
            role = "consignee"
        else:
            return holder  # blank: to the order of the first holder (see the module's docstring)
        named = documented[role]
        found = parties.resolve(named["identifyingCodes"], directory, self.platform.config.platform)
        onboarded = frozenset(a for a in found.accounts if self._onboarded(a))
        if not onboarded:
            kind = "straight" if info.is_straight else "to-order"
            raise Refused("BREQ", f"the {role} {named['partyName']} is not a participant of this platform: a {kind} "
                                  f"bill names its {role} by account on chain", (_error(
                                      f"no participant has the identifying codes of the {role}", "PARTY-UNKNOWN"),))
        return self._one_participant(onboarded, role, str(named["partyName"]), directory)

    def _one_participant(self, accounts: frozenset[str], role: str, name: str, directory: Directory) -> str:
        if len(accounts) > 1:
            raise Refused("BREQ", f"the identifying codes of the {role} {name} name {len(accounts)} participants: "
                                  "give codes that name one",
                          (_error("ambiguous identifying codes", "PARTY-AMBIGUOUS"),))
        account = next(iter(accounts))
        participant = self.platform.client.participants.get(account)
        label = directory.label(account)
        if not participant.active:
            raise Refused("BREQ", f"the {role} {label} is onboarded but suspended: it cannot receive a bill now",
                          (_error(f"{label} is suspended", "PARTY-SUSPENDED"),))
        if not participant.roles & HOLDERS:
            raise Refused("BREQ", f"the {role} {label} is a {', '.join(participant.roles.names())}: only traders and "
                                  "financiers hold bills", (_error(f"{label} may not hold bills", "PARTY-ROLE"),))
        return account

    # --- reporting ------------------------------------------------------------------------------------------

    def _finish(self, row: dict[str, Any], verdict: Verdict) -> None:
        if verdict.block is not None:
            try:  # so the endorsement chain shows the bill by the time the carrier hears of it
                self.platform.sync_index(until=verdict.block)
            except Exception as exc:
                log.warning("the index could not follow block %s: %s", verdict.block, exc)
        response = IssuanceResponse.make(
            transportDocumentReference=row["reference"], transportDocumentSubReference=row["sub_reference"],
            issuanceResponseCode=verdict.code,
            reason=verdict.reason, errors=list(verdict.errors) or None)
        entry = self.platform.directory().entries.get(row["carrier"])
        with self.platform.db.begin() as conn:
            conn.execute(update(t.issuance_requests).where(t.issuance_requests.c.id == row["id"]).values(
                status=STATUS_OF[verdict.code], response_code=verdict.code, reason=verdict.reason,
                token_id=token_key(verdict.token) if verdict.token is not None else None, tx_hash=verdict.tx_hash,
                decided_at=time.time()))
            if row["kind"] == "amend" and verdict.code == "ISSU":
                conn.execute(update(t.surrenders).where(t.surrenders.c.token_id == row["amends"],
                                                        t.surrenders.c.outcome == "awaiting amendment")
                             .values(outcome="amended"))
            outbox.enqueue(conn, row["carrier"], entry.callback_url if entry and entry.callback_url else "",
                           outbox.ISSUANCE_RESPONSE, row["reference"], response.dump())
            action = {"ISSU": "amend" if row["kind"] == "amend" else "issue", "BREQ": "issuance blocked",
                      "REFU": "issuance refused"}[verdict.code]
            audit.record(conn, account=row["carrier"], action=action, subject=row["reference"], status=0,
                         detail=verdict.reason or (hex(verdict.token) if verdict.token else None),
                         tx_hash=verdict.tx_hash, correlation=row["correlation"])
        log.info("issuance request %s (%s): %s%s", row["id"], row["reference"], verdict.code,
                 f" ({verdict.reason})" if verdict.reason else "")
        self.wake_callbacks()
