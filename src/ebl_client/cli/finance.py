"""`ebl finance`: BL-backed financing: pledge a bill, offers, funding, repayment, default, in a stablecoin."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from .. import hashing
from ..chain import to_address
from ..errors import InvalidInput
from ..financing import fingerprint, normalise_invoice
from ..models import Financing, Offer, utc_time
from .app import Action, Context, F, pass_ctx, sends
from .credit import resolve_expiry
from .output import emit_json, emit_table, show_info, show_pairs, yes


def token_units(ctx: Context, token: str, amount: str) -> int:
    """A decimal amount of `token` ("950000.50") in its smallest units, using the token's decimals."""
    decimals = int(ctx.chain().call(ctx.chain().contract("TestStablecoin", token), "decimals"))
    try:
        value = Decimal(amount.replace(",", ""))
    except InvalidOperation:
        raise InvalidInput(f"amount {amount!r} is not a number") from None
    scaled = value.scaleb(decimals)
    if not value.is_finite() or value <= 0 or scaled != scaled.to_integral_value():
        raise InvalidInput(f"amount {amount!r} must be positive with at most {decimals} decimals")
    return int(scaled)


def show_financing(ctx: Context, f: Financing, title: str = "financing") -> None:
    show_pairs(ctx, title, f, [
        ("financing", f.financing_id), ("state", f.state.name.lower()), ("bill", hex(f.bill)),
        ("exporter", f.exporter), ("importer", f.importer), ("financier", f.financier or "(no offer accepted)"),
        ("settlement token", f.token), ("principal", f.principal), ("fee", f.fee), ("repaid", f.repaid),
        ("outstanding", f.outstanding), ("maturity", utc_time(f.maturity)), ("bill delivered", yes(f.delivered)),
        ("invoice fingerprint", f.invoice_fingerprint),
    ])


def show_requested(ctx: Context, f: Financing) -> None:
    show_financing(ctx, f, "financing requested")


def show_withdrawn(ctx: Context, info: dict[str, Any]) -> None:
    show_info(ctx, "withdrawn", info)


def show_token_allowed(ctx: Context, info: dict[str, Any]) -> None:
    show_info(ctx, "settlement token", info)


def show_offer(ctx: Context, o: Offer) -> None:
    show_pairs(ctx, "offer", o, [("financing", o.financing_id), ("financier", o.financier),
                                 ("principal", o.principal), ("fee", o.fee), ("maturity", utc_time(o.maturity))])


def maturity_options(fn: F) -> F:
    fn = click.option("--days", "valid_days", type=click.FloatRange(min=0, min_open=True), default=None,
                      help="Maturity this many days from the chain's current time.")(fn)
    fn = click.option("--maturity", "expires", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                      help="Maturity date (UTC).")(fn)
    return fn


@click.group()
def finance() -> None:
    """BL-backed financing: pledge a bill, offers, funding, repayment, default, in a stablecoin."""


@finance.command("fingerprint")
@click.argument("invoice", type=click.Path(path_type=Path))
@pass_ctx
def finance_fingerprint(ctx: Context, invoice: Path) -> None:
    """The invoice's fingerprint (key in $EBL_FINGERPRINT_KEY) and its status on chain if deployed."""
    data = hashing.load_json_file(invoice, what=f"invoice {invoice}")
    normalised = normalise_invoice(data)
    info = {"fingerprint": "0x" + fingerprint(data).hex(), "normalised": normalised}
    show_pairs(ctx, "invoice fingerprint", info, [("fingerprint", info["fingerprint"]), *normalised.items()])


@finance.command("request")
@click.argument("token")
@click.option("--importer", required=True)
@click.option("--amount", required=True, help="Requested amount in token units, e.g. 1000000.00.")
@click.option("--token", "settlement_token", required=True, help="Allowlisted settlement stablecoin.")
@click.option("--invoice", type=click.Path(path_type=Path), required=True,
              help="Invoice JSON (sellerId, buyerId, invoiceNumber, currency, amount, issueDate).")
@maturity_options
@sends(show_requested)
def finance_request(ctx: Context, token: str, importer: str, amount: str, settlement_token: str, invoice: Path,
                    expires: Any, valid_days: float | None) -> Action[Financing]:
    """Pledge bill TOKEN into the escrow and request financing (exporter, holder and beneficiary)."""
    fp = fingerprint(hashing.load_json_file(invoice, what=f"invoice {invoice}"))
    maturity = resolve_expiry(ctx, expires, valid_days)
    units = token_units(ctx, settlement_token, amount)
    return lambda signer: ctx.financings().request(signer, token, importer, units, settlement_token, maturity, fp)


@finance.command("offer")
@click.argument("financing_id", type=int)
@click.option("--principal", required=True)
@click.option("--fee", required=True)
@maturity_options
@sends(show_offer)
def finance_offer(ctx: Context, financing_id: int, principal: str, fee: str, expires: Any,
                  valid_days: float | None) -> Action[Offer]:
    """Offer principal, fee and maturity (financier)."""
    fin = ctx.financings()
    token = fin.get(financing_id).token
    maturity = resolve_expiry(ctx, expires, valid_days)
    principal_units, fee_units = token_units(ctx, token, principal), token_units(ctx, token, fee)
    return lambda signer: fin.offer(signer, financing_id, principal_units, fee_units, maturity)


@finance.command("accept")
@click.argument("financing_id", type=int)
@click.option("--financier", required=True)
@sends(show_financing)
def finance_accept(ctx: Context, financing_id: int, financier: str) -> Action[Financing]:
    """Accept one financier's offer (exporter)."""
    return lambda signer: ctx.financings().accept(signer, financing_id, financier)


@finance.command("fund")
@click.argument("financing_id", type=int)
@sends(show_financing)
def finance_fund(ctx: Context, financing_id: int) -> Action[Financing]:
    """Pay the principal to the exporter (the accepted financier; needs its approved credit verification of the
    exporter)."""
    return lambda signer: ctx.financings().fund(signer, financing_id)


@finance.command("claim")
@click.argument("financing_id", type=int)
@sends(show_financing)
def finance_claim(ctx: Context, financing_id: int) -> Action[Financing]:
    """Take the bill after maturity plus the grace period (the financier, on default)."""
    return lambda signer: ctx.financings().claim(signer, financing_id)


@finance.command("cancel")
@click.argument("financing_id", type=int)
@sends(show_financing)
def finance_cancel(ctx: Context, financing_id: int) -> Action[Financing]:
    """Take the bill back before funding (exporter)."""
    return lambda signer: ctx.financings().cancel(signer, financing_id)


@finance.command("redeliver")
@click.argument("financing_id", type=int)
@sends(show_financing)
def finance_redeliver(ctx: Context, financing_id: int) -> Action[Financing]:
    """Deliver the bill again after its recipient rejected it (anyone)."""
    return lambda signer: ctx.financings().redeliver(signer, financing_id)


@finance.command("repay")
@click.argument("financing_id", type=int)
@click.option("--amount", required=True, help="In token units; more than outstanding is capped.")
@sends(show_financing)
def finance_repay(ctx: Context, financing_id: int, amount: str) -> Action[Financing]:
    """Repay part or all (anyone, usually the importer); full repayment releases the bill to the importer."""
    fin = ctx.financings()
    units = token_units(ctx, fin.get(financing_id).token, amount)
    return lambda signer: fin.repay(signer, financing_id, units)


@finance.command("withdraw")
@click.option("--token", "settlement_token", required=True)
@sends(show_withdrawn)
def finance_withdraw(ctx: Context, settlement_token: str) -> Action[dict[str, Any]]:
    """Withdraw what the escrow owes you in TOKEN (financier)."""
    token = to_address(settlement_token, what="token")
    return lambda signer: {"account": signer.address, "token": token,
                           "withdrawn": ctx.financings().withdraw(signer, token)}


@finance.command("allow-token")
@click.argument("settlement_token")
@click.option("--remove", is_flag=True)
@sends(show_token_allowed)
def finance_allow_token(ctx: Context, settlement_token: str, remove: bool) -> Action[dict[str, Any]]:
    """Allowlist (or --remove) a settlement token (admin)."""
    token = to_address(settlement_token)
    return lambda signer: {"token": token, "allowed": ctx.financings().allow_token(signer, token, not remove)}


@finance.command("show")
@click.argument("financing_id", type=int)
@pass_ctx
def finance_show(ctx: Context, financing_id: int) -> None:
    """One financing."""
    show_financing(ctx, ctx.financings().get(financing_id))


@finance.command("list")
@pass_ctx
def finance_list(ctx: Context) -> None:
    """Every financing."""
    items = ctx.financings().list()
    if ctx.as_json:
        emit_json(items)
        return
    emit_table("financings", ["id", "state", "bill", "exporter", "financier", "principal", "outstanding", "maturity"],
               ([f.financing_id, f.state.name.lower(), hex(f.bill), f.exporter, f.financier or "",
                 f.principal, f.outstanding, utc_time(f.maturity)] for f in items))
