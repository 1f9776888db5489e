"""`ebl bill`: electronic bills of lading: issue, move, surrender, amend (each `sends`); show, history, verify;
the admin's pause."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..bills import load_document
from ..documents import validate_transport_document
from ..errors import BillNotFound, InvalidInput, VerificationFailed
from ..models import Bill, Result, TitleEvent, utc_time
from .app import Action, Context, F, pass_ctx, sends
from .files import read_json
from .index import index_option, public_history, verify_history
from .output import emit_json, emit_table, sent_pause, show_info, show_pairs, show_sent
from .values import TEXT, TOKEN_ID, Address


def remark_option(fn: F) -> F:
    return click.option("--remark", default="", type=TEXT,
                        help="Free text kept off chain; its keccak256 goes into the event.")(fn)


#: TOKEN in decimal or 0x-hex, positive and below 2**256; anything else is a usage mistake (exit 2)
token_argument = click.argument("token", type=TOKEN_ID)


def read_document(path: Path) -> dict[str, Any]:
    """A transport document file: readable (else exit LOCAL), JSON, an object (else exit INVALID)."""
    data = read_json(path, "document")
    if not isinstance(data, dict):
        raise InvalidInput(f"document {path} is not a transport document (a JSON object)")
    return load_document(data)


def bill_action(name: str, *, remark: bool = True) -> Callable[[Callable[..., Any]], click.Command]:
    """Declare `ebl bill <name> TOKEN [--remark TEXT] ...`; the function gets TOKEN as an int."""

    def decorate(fn: Callable[..., Any]) -> click.Command:
        return bill.command(name)(token_argument(remark_option(fn) if remark else fn))

    return decorate


def bill_rows(b: Bill) -> list[tuple[str, Any]]:
    return [
        ("token id", hex(b.token_id)), ("reference", b.transport_document_reference), ("status", b.status.name.lower()),
        ("type", "straight" if b.straight else "to order"), ("carrier", b.carrier), ("holder", b.holder),
        ("beneficiary", "(blank endorsed: bearer)" if b.blank_endorsed else (b.beneficiary or "")),
        ("nominee", b.nominee or ""), ("document SHA-256", b.document_hash), ("issued in block", b.issued_block),
        ("amends", hex(b.predecessor) if b.predecessor else ""),
        ("amended by", hex(b.successor) if b.successor else ""),
    ]


def show_bill(ctx: Context, b: Bill) -> None:
    show_pairs(ctx, "bill of lading", b, bill_rows(b))


def sent_bill(ctx: Context, result: Result[Bill]) -> None:
    show_sent(ctx, "bill of lading", "bill", result.value, bill_rows(result.value), result.tx)


def sent_issued(ctx: Context, result: Result[Bill]) -> None:
    show_sent(ctx, "issued", "bill", result.value, bill_rows(result.value), result.tx)


def show_history(ctx: Context, token: int, events: list[TitleEvent], source: str = "") -> None:
    if ctx.as_json:
        emit_json(events)
        return
    title = f"chain of title of bill {hex(token)}" + (f" ({source})" if source else "")
    emit_table(title, ["#", "block", "time", "action", "DCSA", "actor", "holder", "beneficiary", "transaction"],
               ([i + 1, e.block, utc_time(e.timestamp), e.action.name.lower(), e.action.dcsa, e.actor, e.holder,
                 e.beneficiary or "", e.tx_hash] for i, e in enumerate(events)))


@click.group()
def bill() -> None:
    """Electronic bills of lading: issue, move, surrender, amend; show, history, verify."""


@bill.command("issue")
@click.argument("document", type=click.Path(path_type=Path))
@click.option("--holder", required=True, type=Address("holder"), help="First holder, normally the shipper.")
@click.option("--beneficiary", default=None, type=Address("beneficiary"),
              help="Straight bill (isToOrder false): the consignee's account, required. To order: default the holder.")
@remark_option
@sends(sent_issued)
def bill_issue(ctx: Context, document: Path, holder: str, beneficiary: str | None, remark: str) -> Action[Bill]:
    """Issue the eBL for a DCSA eBL 3.0 transport DOCUMENT (carrier). The document is validated before the
    node is contacted; its isToOrder alone makes the bill to order or straight."""
    doc = read_document(document)
    info = validate_transport_document(doc)
    if info.is_straight and not beneficiary:
        raise InvalidInput(f"straight bill {info.reference} is consigned to {info.consignee}: give the consignee's "
                           "account with --beneficiary")
    return lambda signer: ctx.client().bills.issue(doc, holder, beneficiary, sender=signer, remark=remark)


@bill_action("transfer")
@click.option("--to", required=True, type=Address("new holder"))
@sends(sent_bill)
def bill_transfer(ctx: Context, token: int, to: str, remark: str) -> Action[Bill]:
    """Transfer possession to --to (holder)."""
    return lambda signer: ctx.client().bills.transfer(token, to, sender=signer, remark=remark)


@bill_action("endorse")
@click.option("--to", required=True, type=Address("endorsee"))
@sends(sent_bill)
def bill_endorse(ctx: Context, token: int, to: str, remark: str) -> Action[Bill]:
    """Endorse title to --to (holder)."""
    return lambda signer: ctx.client().bills.endorse(token, to, sender=signer, remark=remark)


@bill_action("transfer-owners")
@click.option("--holder", "new_holder", required=True, type=Address("new holder"))
@click.option("--beneficiary", required=True, type=Address("beneficiary"))
@sends(sent_bill)
def bill_transfer_owners(ctx: Context, token: int, new_holder: str, beneficiary: str, remark: str) -> Action[Bill]:
    """Endorse to --beneficiary and transfer to --holder in one step (holder)."""
    return lambda signer: ctx.client().bills.transfer_owners(token, new_holder, beneficiary, sender=signer,
                                                             remark=remark)


@bill_action("nominate")
@click.option("--nominee", default=None, type=Address("nominee"))
@click.option("--withdraw", is_flag=True)
@sends(sent_bill)
def bill_nominate(ctx: Context, token: int, nominee: str | None, withdraw: bool, remark: str) -> Action[Bill]:
    """Nominate the next beneficiary, or --withdraw (beneficiary)."""
    if bool(nominee) == withdraw:
        raise InvalidInput("give --nominee ADDRESS or --withdraw")
    return lambda signer: ctx.client().bills.nominate(token, nominee, sender=signer, remark=remark)


@bill_action("blank-endorse")
@sends(sent_bill)
def bill_blank_endorse(ctx: Context, token: int, remark: str) -> Action[Bill]:
    """Endorse in blank: possession becomes title (holder who is beneficiary)."""
    return lambda signer: ctx.client().bills.blank_endorse(token, sender=signer, remark=remark)


@bill_action("reject")
@sends(sent_bill)
def bill_reject(ctx: Context, token: int, remark: str) -> Action[Bill]:
    """Refuse the last transfer or endorsement to you (its recipient, as the next action)."""
    return lambda signer: ctx.client().bills.reject(token, sender=signer, remark=remark)


@bill_action("surrender")
@click.option("--for", "purpose", type=click.Choice(["delivery", "amendment"]), default="delivery",
              show_default=True)
@sends(sent_bill)
def bill_surrender(ctx: Context, token: int, purpose: str, remark: str) -> Action[Bill]:
    """Surrender to the carrier for delivery, or for amendment (also before a switch to paper) (holder)."""
    return lambda signer: ctx.client().bills.surrender(token, purpose, sender=signer, remark=remark)


@bill_action("accept-surrender")
@sends(sent_bill)
def bill_accept_surrender(ctx: Context, token: int, remark: str) -> Action[Bill]:
    """Accept a surrender for delivery: goods delivered, bill accomplished (carrier)."""
    return lambda signer: ctx.client().bills.accept_surrender(token, sender=signer, remark=remark)


@bill_action("reject-surrender")
@sends(sent_bill)
def bill_reject_surrender(ctx: Context, token: int, remark: str) -> Action[Bill]:
    """Reject a surrender: the holder gets the bill back (carrier)."""
    return lambda signer: ctx.client().bills.reject_surrender(token, sender=signer, remark=remark)


@bill_action("amend")
@click.option("--document", required=True, type=click.Path(path_type=Path))
@sends(sent_bill)
def bill_amend(ctx: Context, token: int, document: Path, remark: str) -> Action[Bill]:
    """Re-issue a bill surrendered for amendment with the amended DOCUMENT (carrier). The document is validated
    before the node is contacted; it keeps the bill's reference and its to order or straight."""
    doc = read_document(document)
    validate_transport_document(doc)
    return lambda signer: ctx.client().bills.amend(token, doc, sender=signer, remark=remark)


@bill_action("switch-to-paper", remark=False)
@click.option("--reason", required=True, type=TEXT, help="Kept off chain; its hash goes into the event.")
@sends(sent_bill)
def bill_switch_to_paper(ctx: Context, token: int, reason: str) -> Action[Bill]:
    """Void the eBL because a paper original replaces it (carrier), once its holder surrendered it for
    amendment (`ebl bill surrender TOKEN --for amendment`)."""
    return lambda signer: ctx.client().bills.switch_to_paper(token, reason, sender=signer)


@bill.command("pause")
@sends(sent_pause("BillOfLadingRegistry"))
def bill_pause(ctx: Context) -> Action[bool]:
    """Stop every action on every bill, issue included, and the financing escrow with it (admin)."""
    return lambda signer: ctx.client().bills.pause(sender=signer)


@bill.command("unpause")
@sends(sent_pause("BillOfLadingRegistry"))
def bill_unpause(ctx: Context) -> Action[bool]:
    """Resume after `ebl bill pause` (admin)."""
    return lambda signer: ctx.client().bills.unpause(sender=signer)


@bill.command("show")
@click.argument("token", required=False, type=TOKEN_ID)
@click.option("--carrier", default=None, type=Address("carrier"),
              help="With --reference: the carrier's live bill for a reference.")
@click.option("--reference", default=None, type=TEXT)
@pass_ctx
def bill_show(ctx: Context, token: int | None, carrier: str | None, reference: str | None) -> None:
    """One bill, by TOKEN or by --carrier and --reference."""
    if token is None and not (carrier and reference):
        raise click.UsageError("give TOKEN, or --carrier and --reference")
    bills = ctx.client().bills
    if token is None:
        assert carrier is not None and reference is not None
        found = bills.token_of(carrier, reference)
        if found is None:
            raise BillNotFound(f"carrier {carrier} has no live bill for reference {reference!r}")
        token = found
    show_bill(ctx, bills.get(token))


@bill.command("history")
@token_argument
@click.option("--verify", is_flag=True,
              help="Compare the index's chain of title with the chain's; exit 1 when they differ.")
@index_option
@pass_ctx
def bill_history(ctx: Context, token: int, verify: bool, index_url: str | None) -> None:
    """The chain of title: from the index when it is current (the node's head indexed, the same deployment),
    else rebuilt from the registry's events. --verify reads both and compares them (`ebl index history
    --verify`)."""
    client = ctx.client()
    if verify:
        events = public_history(client, index_url, token, current_only=False)
        assert events is not None
        verify_history(client, events, token)
        show_history(ctx, token, events, source="index, verified")
        return
    indexed = public_history(client, index_url, token, current_only=True)
    if indexed is not None:
        show_history(ctx, token, indexed, source="index")
    else:
        show_history(ctx, token, client.bills.history(token))


@bill.command("verify")
@token_argument
@click.argument("document", type=click.Path(path_type=Path))
@pass_ctx
def bill_verify(ctx: Context, token: int, document: Path) -> None:
    """Check that DOCUMENT is the transport document of a live bill. Exit 1 when it is not: another document,
    or a bill that no longer carries title (voided, accomplished)."""
    doc = read_document(document)
    bills = ctx.client().bills
    b = bills.get(token)
    facts = {"tokenId": hex(b.token_id), "document": str(document), "documentHash": b.document_hash,
             "status": b.status.name.lower()}
    if not bills.verify_document(b.token_id, doc):
        raise VerificationFailed(f"{document} is not the document of bill {hex(b.token_id)} "
                                 f"(its SHA-256 differs from {b.document_hash})", matches=False, **facts)
    if not b.live:
        after = f"; amended by {hex(b.successor)}" if b.successor else ""
        raise VerificationFailed(f"{document} matches bill {hex(b.token_id)}, but that bill is "
                                 f"{b.status.name.lower()}{after}: it no longer carries title", matches=True,
                                 live=False, **facts)
    info: dict[str, Any] = {"tokenId": hex(b.token_id), "reference": b.transport_document_reference,
                            "documentHash": b.document_hash, "status": b.status.name.lower(), "holder": b.holder,
                            "matches": True}
    show_info(ctx, "document verified", info)
