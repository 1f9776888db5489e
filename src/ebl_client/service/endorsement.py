"""A bill's chain of title (the index's title events) as DCSA's endorsement chain: what the Surrender API sends
the carrier and the Endorsement Chain API serves, oldest entry first, each with the transaction that
recorded it on chain as its `auditReference`.

The chain records effects; DCSA names actions. The mapping:

| on chain | DCSA entries |
|---|---|
| issue | ISSUE, carrier -> the first holder (an amendment's successor starts its own chain with it) |
| surrender for delivery / amendment | SURRENDER_FOR_DELIVERY / SURRENDER_FOR_AMENDMENT, holder -> carrier |
| surrender accepted, amend, switch to paper | SURRENDERED, by the carrier: this bill's life is over |
| surrender rejected | TRANSFER, carrier -> the holder who surrendered (the bill goes back) |
| blank endorse | BLANK_ENDORSE |
| nominate | none: the beneficiary names who may be endorsed to; nothing moves |
| anything else (transfer, endorse, both, reject, pledge, | ENDORSE when the title holder changed (BLANK_ENDORSE |
| the escrow's release) | when it became nobody), then TRANSFER when possession changed |
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from ..models import TitleAction, TitleEvent
from .dcsa import ActionCode, EndorsementChainLink, Party

SURRENDERED = {TitleAction.SURRENDER_ACCEPTED, TitleAction.AMEND, TitleAction.SWITCH_TO_PAPER}
SURRENDERS: dict[TitleAction, ActionCode] = {TitleAction.SURRENDER_FOR_DELIVERY: "SURRENDER_FOR_DELIVERY",
                                             TitleAction.SURRENDER_FOR_AMENDMENT: "SURRENDER_FOR_AMENDMENT"}


def iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def links(events: Sequence[TitleEvent], carrier: str, party: Callable[[str], Party]) -> list[EndorsementChainLink]:
    """The DCSA entries for a bill's title events (in chain order); `party` shows an account as a DCSA party."""
    chain: list[EndorsementChainLink] = []
    holder: str | None = None
    beneficiary: str | None = None

    def add(code: ActionCode, event: TitleEvent, actor: str, recipient: str | None) -> None:
        chain.append(EndorsementChainLink.make(
            actionDateTime=iso(event.timestamp or 0), actionCode=code, actor=party(actor),
            recipient=party(recipient) if recipient else None, auditReference=event.tx_hash))

    for e in events:
        if e.action is TitleAction.ISSUE:
            add("ISSUE", e, e.actor, e.holder)
        elif e.action in SURRENDERS:
            add(SURRENDERS[e.action], e, e.actor, carrier)
        elif e.action in SURRENDERED:
            add("SURRENDERED", e, carrier, None)
        elif e.action is TitleAction.SURRENDER_REJECTED:
            add("TRANSFER", e, carrier, e.holder)
        elif e.action is TitleAction.BLANK_ENDORSE:
            add("BLANK_ENDORSE", e, e.actor, None)
        elif e.action is TitleAction.NOMINATE:
            continue  # its `beneficiary` is the nominee: nothing changed hands
        else:
            if e.beneficiary != beneficiary:
                if e.beneficiary is None:
                    add("BLANK_ENDORSE", e, e.actor, None)
                else:
                    add("ENDORSE", e, e.actor, e.beneficiary)
            if e.holder != holder:
                add("TRANSFER", e, e.actor, e.holder)
        holder, beneficiary = e.holder, e.beneficiary
    return chain
