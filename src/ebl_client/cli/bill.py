"""`ebl bill`: electronic bills of lading: issue, move, surrender, amend (each `sends`); show, history, verify."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..bills import load_document, parse_token_id
from ..errors import InvalidInput
from ..models import Bill, TitleEvent, utc_time
from .app import Action, Context, F, pass_ctx, sends
from .output import emit_json, emit_table, show_info, show_pairs


def remark_option(fn: F) -> F:
    return click.option("--remark", default="", help="Free text kept off chain; its keccak256 goes into the event.")(fn)


def _token_id(_ctx: click.Context, _param: click.Parameter, value: str) -> int:
    """TOKEN in decimal or 0x-hex; a malformed one is bad input (one `error:` line, exit 1), as for any value."""
    return parse_token_id(value)


token_argument = click.argument("token", callback=_token_id)


def bill_action(name: str) -> Callable[[Callable[..., Any]], click.Command]:
    """Declare `ebl bill <name> TOKEN [--remark TEXT] ...`; the function gets TOKEN as an int."""

    def decorate(fn: Callable[..., Any]) -> click.Command:
        return bill.command(name)(token_argument(remark_option(fn)))

    return decorate


def show_bill(ctx: Context, b: Bill, title: str = "bill of lading") -> None:
    show_pairs(ctx, title, b, [
        ("token id", hex(b.token_id)), ("reference", b.transport_document_reference), ("status", b.status.name.lower()),
        ("type", "straight" if b.straight else "to order"), ("carrier", b.carrier), ("holder", b.holder),
        ("beneficiary", "(blank endorsed: bearer)" if b.blank_endorsed else (b.beneficiary or "")),
        ("nominee", b.nominee or ""), ("document SHA-256", b.document_hash), ("issued in block", b.issued_block),
        ("amends", hex(b.predecessor) if b.predecessor else ""),
        ("amended by", hex(b.successor) if b.successor else ""),
    ])


def show_issued(ctx: Context, b: Bill) -> None:
    show_bill(ctx, b, "issued")


def show_history(ctx: Context, token: int, events: list[TitleEvent]) -> None:
    if ctx.as_json:
        emit_json(events)
        return
    emit_table(f"chain of title of bill {hex(token)}", ["#", "block", "time", "action", "DCSA", "actor",
                                                        "holder", "beneficiary", "transaction"],
               ([i + 1, e.block, utc_time(e.timestamp), e.action.name.lower(), e.action.dcsa, e.actor, e.holder,
                 e.beneficiary or "", e.tx_hash] for i, e in enumerate(events)))


@click.group()
def bill() -> None:
    """Electronic bills of lading: issue, move, surrender, amend; show, history, verify."""


@bill.command("issue")
@click.argument("document", type=click.Path(path_type=Path))
@click.option("--holder", required=True, help="First holder, normally the shipper.")
@click.option("--beneficiary", default=None, help="To order: default the holder. Straight: the named consignee.")
@click.option("--straight/--to-order", "straight", default=None,
              help="Override the document's isToOrder.")
@remark_option
@sends(show_issued)
def bill_issue(ctx: Context, document: Path, holder: str, beneficiary: str | None, straight: bool | None,
               remark: str) -> Action[Bill]:
    """Issue the eBL for a DCSA transport document (carrier)."""
    doc = load_document(document)
    return lambda signer: ctx.bills().issue(signer, doc, holder, beneficiary, straight=straight, remark=remark)


@bill_action("transfer")
@click.option("--to", required=True)
@sends(show_bill)
def bill_transfer(ctx: Context, token: int, to: str, remark: str) -> Action[Bill]:
    """Transfer possession to --to (holder)."""
    return lambda signer: ctx.bills().transfer(signer, token, to, remark)


@bill_action("endorse")
@click.option("--to", required=True)
@sends(show_bill)
def bill_endorse(ctx: Context, token: int, to: str, remark: str) -> Action[Bill]:
    """Endorse title to --to (holder)."""
    return lambda signer: ctx.bills().endorse(signer, token, to, remark)


@bill_action("transfer-owners")
@click.option("--holder", "new_holder", required=True)
@click.option("--beneficiary", required=True)
@sends(show_bill)
def bill_transfer_owners(ctx: Context, token: int, new_holder: str, beneficiary: str, remark: str) -> Action[Bill]:
    """Endorse to --beneficiary and transfer to --holder in one step (holder)."""
    return lambda signer: ctx.bills().transfer_owners(signer, token, new_holder, beneficiary, remark)


@bill_action("nominate")
@click.option("--nominee", default=None)
@click.option("--withdraw", is_flag=True)
@sends(show_bill)
def bill_nominate(ctx: Context, token: int, nominee: str | None, withdraw: bool, remark: str) -> Action[Bill]:
    """Nominate the next beneficiary, or --withdraw (beneficiary)."""
    if bool(nominee) == withdraw:
        raise InvalidInput("give --nominee ADDRESS or --withdraw")
    return lambda signer: ctx.bills().nominate(signer, token, nominee, remark)


@bill_action("blank-endorse")
@sends(show_bill)
def bill_blank_endorse(ctx: Context, token: int, remark: str) -> Action[Bill]:
    """Endorse in blank: possession becomes title (holder who is beneficiary)."""
    return lambda signer: ctx.bills().blank_endorse(signer, token, remark)


@bill_action("reject")
@sends(show_bill)
def bill_reject(ctx: Context, token: int, remark: str) -> Action[Bill]:
    """Refuse the last transfer or endorsement to you (its recipient, as the next action)."""
    return lambda signer: ctx.bills().reject(signer, token, remark)


@bill_action("surrender")
@click.option("--for", "purpose", type=click.Choice(["delivery", "amendment"]), default="delivery",
              show_default=True)
@sends(show_bill)
def bill_surrender(ctx: Context, token: int, purpose: str, remark: str) -> Action[Bill]:
    """Surrender to the carrier for delivery or amendment (holder)."""
    return lambda signer: ctx.bills().surrender(signer, token, purpose, remark)


@bill_action("accept-surrender")
@sends(show_bill)
def bill_accept_surrender(ctx: Context, token: int, remark: str) -> Action[Bill]:
    """Accept a surrender for delivery: goods delivered, bill accomplished (carrier)."""
    return lambda signer: ctx.bills().accept_surrender(signer, token, remark)


@bill_action("reject-surrender")
@sends(show_bill)
def bill_reject_surrender(ctx: Context, token: int, remark: str) -> Action[Bill]:
    """Reject a surrender: the holder gets the bill back (carrier)."""
    return lambda signer: ctx.bills().reject_surrender(signer, token, remark)


@bill_action("amend")
@click.option("--document", required=True, type=click.Path(path_type=Path))
@sends(show_bill)
def bill_amend(ctx: Context, token: int, document: Path, remark: str) -> Action[Bill]:
    """Re-issue a bill surrendered for amendment with the amended DOCUMENT (carrier)."""
    return lambda signer: ctx.bills().amend(signer, token, document, remark)


@bill_action("switch-to-paper")
@click.option("--reason", required=True, help="Kept off chain; its hash goes into the event.")
@sends(show_bill)
def bill_switch_to_paper(ctx: Context, token: int, reason: str, remark: str) -> Action[Bill]:
    """Void the eBL because a paper original replaces it (carrier)."""
    return lambda signer: ctx.bills().switch_to_paper(signer, token, reason or remark)


@bill.command("show")
@click.argument("token", required=False)
@click.option("--carrier", default=None, help="With --reference: the carrier's live bill for a reference.")
@click.option("--reference", default=None)
@pass_ctx
def bill_show(ctx: Context, token: str | None, carrier: str | None, reference: str | None) -> None:
    """One bill, by TOKEN or by --carrier and --reference."""
    bills = ctx.bills()
    if token is None:
        if not (carrier and reference):
            raise InvalidInput("give TOKEN, or --carrier and --reference")
        found = bills.token_of(carrier, reference)
        if found is None:
            raise InvalidInput(f"carrier {carrier} has no live bill for reference {reference!r}")
        token = str(found)
    show_bill(ctx, bills.get(token))


@bill.command("history")
@token_argument
@pass_ctx
def bill_history(ctx: Context, token: int) -> None:
    """The chain of title, rebuilt from the registry's events."""
    show_history(ctx, token, ctx.bills().history(token))


@bill.command("verify")
@click.argument("token")
@click.argument("document", type=click.Path(path_type=Path))
@pass_ctx
def bill_verify(ctx: Context, token: str, document: Path) -> None:
    """Check that DOCUMENT is the transport document the bill carries. Exit 1 when it is not."""
    bills = ctx.bills()
    b = bills.get(token)
    if not bills.verify_document(b.token_id, document):
        raise InvalidInput(f"{document} is not the document of bill {hex(b.token_id)} "
                           f"(its SHA-256 differs from {b.document_hash})")
    if not b.live:
        after = f"; amended by {hex(b.successor)}" if b.successor else ""
        raise InvalidInput(f"{document} matches bill {hex(b.token_id)}, but that bill is {b.status.name.lower()}"
                           f"{after}: it no longer carries title")
    info: dict[str, Any] = {"tokenId": hex(b.token_id), "reference": b.transport_document_reference,
                            "documentHash": b.document_hash, "status": b.status.name.lower(), "holder": b.holder,
                            "matches": True}
    show_info(ctx, "document verified", info)
