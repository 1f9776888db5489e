"""What the back-office API returns (the service's own JSON, documented in /openapi.json): the index's bills,
title history, inbox and book, the service's issuance requests, surrenders and audit log, each with the
directory's names beside the addresses. Amounts are exact decimal strings in minor units (uint96 does not
fit a JSON number every client reads exactly).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ..directory import Directory
from ..index.queries import BillView, Book, Task, iso_time
from ..models import TitleEvent
from . import audit
from .surrender import Surrender


class View(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Me(View):
    account: str
    name: str | None
    roles: list[str]
    regulator: bool
    signsHere: bool  # the service holds this participant's key (it may surrender, issue, answer for it)


class BillOut(View):
    tokenId: str
    transportDocumentReference: str
    carrier: str
    carrierName: str | None
    holder: str
    holderName: str | None
    beneficiary: str | None
    beneficiaryName: str | None
    nominee: str | None
    status: str
    straight: bool
    blankEndorsed: bool
    documentHash: str
    generation: int
    predecessor: str | None
    successor: str | None
    financingId: int | None
    pendingRecipient: str | None
    lastAction: str
    lastTime: str


class TitleEventOut(View):
    action: str
    dcsaCode: str
    actor: str
    actorName: str | None
    holder: str
    holderName: str | None
    beneficiary: str | None
    beneficiaryName: str | None
    block: int
    transactionHash: str
    time: str


class TaskOut(View):
    kind: str
    subject: str
    summary: str
    command: str
    due: str | None
    counterparty: str | None
    counterpartyName: str | None


class BookLineOut(View):
    financingId: int
    tokenId: str
    state: str
    standing: str
    exporter: str
    exporterName: str | None
    importer: str
    importerName: str | None
    financier: str | None
    financierName: str | None
    currency: str
    decimals: int
    principal: str
    fee: str
    repaid: str
    outstanding: str
    maturity: str


class BookOut(View):
    lines: list[BookLineOut]
    exposure: dict[str, str]
    overdue: list[int]
    defaulted: list[int]


class IssuanceRequestOut(View):
    transportDocumentReference: str
    transportDocumentSubReference: str | None
    kind: str
    status: str
    issuanceResponseCode: str | None
    reason: str | None
    tokenId: str | None
    transactionHash: str | None
    receivedAt: str
    decidedAt: str | None


class SurrenderOut(View):
    surrenderRequestReference: str
    transportDocumentReference: str
    tokenId: str
    carrier: str
    surrenderedBy: str
    surrenderRequestCode: str
    reasonCode: str | None
    comments: str | None
    status: str
    action: str | None
    outcome: str | None
    transactionHash: str
    answerTransactionHash: str | None


class SurrenderIn(View):
    """A holder's surrender through the API (signed with its key on this host)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    purpose: Literal["delivery", "amendment"]
    reasonCode: Literal["SWTP", "COD", "SWI"] | None = None
    comments: str | None = None


class SurrenderAccepted(View):
    surrenderRequestReference: str
    transactionHash: str


class AuditOut(View):
    time: str
    account: str
    accountName: str | None
    action: str
    subject: str
    status: int
    detail: str | None
    transactionHash: str | None
    correlation: str


def _time(value: float | int | None) -> str | None:
    return iso_time(int(value)) if value else None


def bill(view: BillView, d: Directory) -> BillOut:
    b = view.bill
    return BillOut(
        tokenId=hex(b.token_id), transportDocumentReference=b.transport_document_reference, carrier=b.carrier,
        carrierName=d.name(b.carrier), holder=b.holder, holderName=d.name(b.holder), beneficiary=b.beneficiary,
        beneficiaryName=d.name(b.beneficiary), nominee=b.nominee, status=b.status.name.lower(), straight=b.straight,
        blankEndorsed=b.blank_endorsed, documentHash=b.document_hash, generation=b.generation,
        predecessor=hex(b.predecessor) if b.predecessor else None, successor=hex(b.successor) if b.successor else None,
        financingId=view.financing_id, pendingRecipient=view.pending_recipient, lastAction=view.last_action,
        lastTime=iso_time(view.last_time))


def title_event(e: TitleEvent, d: Directory) -> TitleEventOut:
    return TitleEventOut(action=e.action.name.lower(), dcsaCode=e.action.dcsa, actor=e.actor, actorName=d.name(e.actor),
                         holder=e.holder, holderName=d.name(e.holder), beneficiary=e.beneficiary,
                         beneficiaryName=d.name(e.beneficiary), block=e.block, transactionHash=e.tx_hash,
                         time=iso_time(e.timestamp or 0))


def task(x: Task, d: Directory) -> TaskOut:
    return TaskOut(kind=x.kind, subject=x.subject, summary=x.summary, command=x.command, due=_time(x.due),
                   counterparty=x.counterparty, counterpartyName=d.name(x.counterparty))


def book(b: Book, d: Directory) -> BookOut:
    lines = [BookLineOut(
        financingId=x.financing_id, tokenId=hex(x.bill), state=x.state, standing=x.standing, exporter=x.exporter,
        exporterName=d.name(x.exporter), importer=x.importer, importerName=d.name(x.importer), financier=x.financier,
        financierName=d.name(x.financier), currency=x.currency, decimals=b.decimals.get(x.currency, 0),
        principal=str(x.principal), fee=str(x.fee), repaid=str(x.repaid), outstanding=str(x.outstanding),
        maturity=iso_time(x.maturity)) for x in b.lines]
    return BookOut(lines=lines, exposure={k: str(v) for k, v in b.exposure.items()}, overdue=b.overdue,
                   defaulted=b.defaulted)


def issuance_request(row: dict[str, Any]) -> IssuanceRequestOut:
    return IssuanceRequestOut(
        transportDocumentReference=row["reference"], transportDocumentSubReference=row["sub_reference"],
        kind=row["kind"], status=row["status"], issuanceResponseCode=row["response_code"], reason=row["reason"],
        tokenId=hex(int(row["token_id"], 16)) if row["token_id"] else None, transactionHash=row["tx_hash"],
        receivedAt=_time(row["received_at"]) or "", decidedAt=_time(row["decided_at"]))


def surrender(x: Surrender) -> SurrenderOut:
    return SurrenderOut(
        surrenderRequestReference=x.reference, transportDocumentReference=x.transport_document_reference,
        tokenId=hex(x.token_id), carrier=x.carrier, surrenderedBy=x.surrendered_by, surrenderRequestCode=x.code,
        reasonCode=x.reason_code, comments=x.comments, status=x.status, action=x.action, outcome=x.outcome,
        transactionHash=x.tx_hash, answerTransactionHash=x.answer_tx)


def audit_entry(x: audit.Entry, d: Directory) -> AuditOut:
    return AuditOut(time=_time(x.time) or "", account=x.account, accountName=d.name(x.account), action=x.action,
                    subject=x.subject, status=x.status, detail=x.detail, transactionHash=x.tx_hash,
                    correlation=x.correlation)
