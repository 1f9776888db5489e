"""`ebl finance`: BL-backed financing in a stablecoin: pledge a bill and request (one transaction), offers,
acceptance naming the terms, funding, repayment, default; invoice reservations; the admin's settings and pause."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from eth_account.signers.local import LocalAccount

from .. import money
from ..errors import InvalidInput
from ..financing import Financings, fingerprint, normalise_invoice
from ..models import Financing, Offer, Reservation, Result, Token, utc_time
from .app import Action, Context, pass_ctx, sends
from .files import read_json
from .output import days, emit_json, emit_table, sent_pause, sent_setting, show_pairs, show_sent, yes
from .values import DAY, FINANCING_ID, TEXT, TOKEN_ID, Address, maturity_options, resolve_maturity, shown, utc_date

FINANCIER, SETTLEMENT_TOKEN = Address("financier"), Address("token")


def token_units(ctx: Context, token: str, amount: str, *, zero: bool = False) -> int:
    """An amount of `token` as people write it ("950000.50", "1,846,000") in its smallest units, by the
    token's decimals; ambiguous or inexact text is refused (see `money.parse_units`). `zero`: 0 is allowed
    (a fee)."""
    decimals = ctx.client().finance.token_info(token).decimals
    if zero and amount.strip() in ("0", "0.0", "0.00"):
        return 0
    return money.parse_units(amount, decimals)


def read_invoice(path: Path) -> dict[str, Any]:
    """An invoice JSON file: readable (else exit 6), a JSON object (else exit 3)."""
    data = read_json(path, "invoice")
    if not isinstance(data, dict):
        raise InvalidInput(f"invoice {path} is not an invoice (a JSON object with sellerId, buyerId, ...)")
    return data


def amount(units: int, token: Token) -> str:
    """Smallest units as people read them: `tHKD 11,519,040.00`."""
    return money.format_units(units, token.decimals, token.symbol, min_decimals=2)


def financing_rows(f: Financing, token: Token) -> list[tuple[str, Any]]:
    return [
        ("financing", f.financing_id), ("state", f.state.name.lower()), ("bill", hex(f.bill)),
        ("exporter", f.exporter), ("importer", f.importer), ("financier", f.financier or "(no offer accepted)"),
        ("settlement token", f"{token.symbol} ({f.token})"), ("principal", amount(f.principal, token)),
        ("fee", amount(f.fee, token)), ("repaid", amount(f.repaid, token)),
        ("outstanding", amount(f.outstanding, token)), ("maturity", utc_time(f.maturity)),
        ("bill delivered", yes(f.delivered)), ("invoice fingerprint", f.invoice_fingerprint),
    ]


def show_financing(ctx: Context, f: Financing) -> None:
    show_pairs(ctx, "financing", f, financing_rows(f, ctx.client().finance.token_info(f.token)))


def sent_financing(title: str) -> Callable[[Context, Result[Financing]], None]:
    def render(ctx: Context, result: Result[Financing]) -> None:
        f = result.value
        show_sent(ctx, title, "financing", f, financing_rows(f, ctx.client().finance.token_info(f.token)), result.tx)

    return render


def offer_rows(o: Offer, token: Token) -> list[tuple[str, Any]]:
    return [("financing", o.financing_id), ("financier", o.financier),
            ("principal", amount(o.principal, token) if o.exists else "(no offer)"), ("fee", amount(o.fee, token)),
            ("maturity", utc_time(o.maturity))]


def offer_token(ctx: Context, o: Offer) -> Token:
    fin = ctx.client().finance
    return fin.token_info(fin.get(o.financing_id).token)


def sent_offer(title: str) -> Callable[[Context, Result[Offer]], None]:
    def render(ctx: Context, result: Result[Offer]) -> None:
        show_sent(ctx, title, "offer", result.value, offer_rows(result.value, offer_token(ctx, result.value)),
                  result.tx)

    return render


def reservation_rows(r: Reservation) -> list[tuple[str, Any]]:
    return [("invoice fingerprint", r.invoice_fingerprint), ("status now", r.status.name.lower()),
            ("financing", r.financing_id or ""), ("reserved until", utc_time(r.reserved_until))]


def sent_reservation(ctx: Context, result: Result[Reservation]) -> None:
    show_sent(ctx, "reservation released", "reservation", result.value, reservation_rows(result.value), result.tx)


def sent_withdrawal(ctx: Context, result: Result[dict[str, Any]]) -> None:
    show_sent(ctx, "withdrawn", "withdrawal", result.value, list(result.value.items()), result.tx)


def sent_token_allowed(ctx: Context, result: Result[dict[str, Any]]) -> None:
    show_sent(ctx, "settlement token", "settlement_token", result.value, list(result.value.items()), result.tx)


def fingerprint_of(value: str) -> str:
    """FINGERPRINT as 0x-hex: given as 32 bytes of hex, or computed from an invoice JSON file (with the key in
    $EBL_FINGERPRINT_KEY)."""
    text = value.strip()
    try:
        is_file = len(text) < 4096 and Path(text).is_file()
    except (OSError, ValueError):  # a name the system cannot take (a NUL byte)
        is_file = False
    if is_file:
        return "0x" + fingerprint(read_invoice(Path(text))).hex()
    try:
        raw = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise InvalidInput(f"{shown(value)} is neither an invoice fingerprint (32 bytes of hex) nor an invoice "
                           "file") from None
    if len(raw) != 32 or raw == bytes(32):
        raise InvalidInput(f"invoice fingerprint {shown(value)} must be 32 non-zero bytes (64 hex digits)")
    return "0x" + raw.hex()


#: FINANCING_ID, positive and below 2**256; anything else is a usage mistake (exit 2)
financing_argument = click.argument("financing_id", type=FINANCING_ID)


def existing(ctx: Context, financing_id: int) -> Financings:
    """The escrow, once it is known to hold `financing_id` (FinancingNotFound, "no financing N", otherwise)."""
    fin = ctx.client().finance
    fin.get(financing_id)
    return fin


@click.group()
def finance() -> None:
    """BL-backed financing in a stablecoin: pledge-and-request, offers, acceptance naming the terms, funding,
    repayment, default; invoice reservations; the admin's settings and pause."""


@finance.command("fingerprint")
@click.argument("invoice", type=click.Path(path_type=Path))
@pass_ctx
def finance_fingerprint(ctx: Context, invoice: Path) -> None:
    """The invoice's fingerprint (key in $EBL_FINGERPRINT_KEY) and its normalised fields."""
    data = read_invoice(invoice)
    normalised = normalise_invoice(data)
    info = {"fingerprint": "0x" + fingerprint(data).hex(), "normalised": normalised}
    show_pairs(ctx, "invoice fingerprint", info, [("fingerprint", info["fingerprint"]), *normalised.items()])


@finance.command("request")
@click.argument("token", type=TOKEN_ID)
@click.option("--importer", required=True, type=Address("importer"))
@click.option("--amount", required=True, type=TEXT, help="Requested amount in token units, e.g. 1000000.00.")
@click.option("--token", "settlement_token", required=True, type=SETTLEMENT_TOKEN,
              help="Allowlisted settlement stablecoin.")
@click.option("--invoice", type=click.Path(path_type=Path), required=True,
              help="Invoice JSON (sellerId, buyerId, invoiceNumber, currency, amount, issueDate).")
@maturity_options
@sends(sent_financing("financing requested"))
def finance_request(ctx: Context, token: int, importer: str, amount: str, settlement_token: str, invoice: Path,
                    expires: datetime | None, valid_days: float | None) -> Action[Financing]:
    """Pledge bill TOKEN into the escrow and request financing, in one transaction (exporter, holder with title
    of a to-order bill). The maturity must be at least the escrow's minimum tenor away (`ebl finance
    settings`); the invoice is reserved for the reservation period. A refused request leaves the bill as it
    was."""
    token_id = token
    fp = fingerprint(read_invoice(invoice))
    maturity = resolve_maturity(ctx, expires, valid_days)
    units = token_units(ctx, settlement_token, amount)
    return lambda signer: ctx.client().finance.request(token_id, importer, units, settlement_token, maturity, fp,
                                                       sender=signer)


@finance.command("offer")
@financing_argument
@click.option("--principal", required=True, type=TEXT)
@click.option("--fee", required=True, type=TEXT)
@maturity_options
@sends(sent_offer("offer"))
def finance_offer(ctx: Context, financing_id: int, principal: str, fee: str, expires: datetime | None,
                  valid_days: float | None) -> Action[Offer]:
    """Offer principal, fee and maturity, or revise your offer (financier)."""
    fin = ctx.client().finance
    token = fin.get(financing_id).token
    maturity = resolve_maturity(ctx, expires, valid_days)
    principal_units, fee_units = token_units(ctx, token, principal), token_units(ctx, token, fee, zero=True)
    return lambda signer: fin.offer(financing_id, principal_units, fee_units, maturity, sender=signer)


@finance.command("withdraw-offer")
@financing_argument
@sends(sent_offer("offer withdrawn"))
def finance_withdraw_offer(ctx: Context, financing_id: int) -> Action[Offer]:
    """Withdraw your offer while the financing is requested (the financier that made it)."""
    fin = existing(ctx, financing_id)
    return lambda signer: fin.withdraw_offer(financing_id, sender=signer)


@finance.command("show-offer")
@financing_argument
@click.option("--financier", required=True, type=FINANCIER)
@pass_ctx
def finance_show_offer(ctx: Context, financing_id: int, financier: str) -> None:
    """FINANCIER's standing offer on a financing (what `ebl finance accept` would accept)."""
    offer = existing(ctx, financing_id).offer_of(financing_id, financier)
    show_pairs(ctx, "offer", offer, offer_rows(offer, offer_token(ctx, offer)))


@finance.command("offers")
@financing_argument
@pass_ctx
def finance_offers(ctx: Context, financing_id: int) -> None:
    """Every standing offer on a financing, as the exporter chooses among them."""
    fin = existing(ctx, financing_id)
    offers = fin.offers(financing_id)
    if ctx.as_json:
        emit_json(offers)
        return
    token = fin.token_info(fin.get(financing_id).token)
    emit_table(f"offers on financing {financing_id}", ["financier", "principal", "fee", "maturity"],
               ([o.financier, amount(o.principal, token), amount(o.fee, token), utc_time(o.maturity)]
                for o in offers))


@finance.command("accept")
@financing_argument
@click.option("--financier", required=True, type=FINANCIER)
@click.option("--principal", default=None, type=TEXT, help="The principal you saw: refuse if the offer says otherwise.")
@click.option("--fee", default=None, type=TEXT, help="The fee you saw: refuse if the offer says otherwise.")
@maturity_options
@sends(sent_financing("offer accepted"))
def finance_accept(ctx: Context, financing_id: int, financier: str, principal: str | None, fee: str | None,
                   expires: datetime | None, valid_days: float | None) -> Action[Financing]:
    """Accept FINANCIER's offer as it stands now (exporter). The terms are read from the chain, checked against
    the --principal, --fee and --maturity DATE (or --days N: the maturity's date from today) you name, printed,
    and sent as they are: an offer revised or withdrawn in between makes the escrow refuse (OfferChanged)."""
    if expires is not None and valid_days is not None:
        raise InvalidInput("give --maturity DATE or --days N, not both")
    fin = ctx.client().finance
    financing = fin.get(financing_id)
    offer = fin.offer_of(financing_id, financier)
    if not offer.exists:
        raise InvalidInput(f"{financier} has no offer on financing {financing_id}; nothing sent")
    token = fin.token_info(financing.token)
    shown = (f"principal {amount(offer.principal, token)}, fee {amount(offer.fee, token)}, "
             f"maturity {utc_time(offer.maturity)}")
    named_date = (expires.strftime("%Y-%m-%d") if expires is not None
                  else utc_date(ctx.now() + int(valid_days * DAY)) if valid_days is not None else None)
    differs = [what for what, same in (
        ("principal", principal is None or token_units(ctx, financing.token, principal) == offer.principal),
        ("fee", fee is None or token_units(ctx, financing.token, fee, zero=True) == offer.fee),
        ("maturity", named_date is None or named_date == utc_date(offer.maturity))) if not same]
    if differs:
        raise InvalidInput(f"{financier}'s offer on financing {financing_id} is not the terms you named (its "
                           f"{' and '.join(differs)} differ): it stands at {shown}; nothing sent")
    click.echo(f"accepting {financier}'s offer on financing {financing_id}: {shown}", err=ctx.as_json)
    return lambda signer: fin.accept(financing_id, financier, terms=offer, sender=signer)


@finance.command("fund")
@financing_argument
@sends(sent_financing("funded"))
def finance_fund(ctx: Context, financing_id: int) -> Action[Financing]:
    """Pay the principal to the exporter (the accepted financier; needs its approved credit verification of the
    exporter)."""
    fin = existing(ctx, financing_id)

    def action(signer: LocalAccount) -> Result[Financing]:
        return fin.fund(financing_id, sender=signer)

    return action


@finance.command("claim")
@financing_argument
@sends(sent_financing("claimed"))
def finance_claim(ctx: Context, financing_id: int) -> Action[Financing]:
    """Take the bill after maturity plus the grace period (the financier, on default)."""
    fin = existing(ctx, financing_id)
    return lambda signer: fin.claim(financing_id, sender=signer)


@finance.command("cancel")
@financing_argument
@sends(sent_financing("cancelled"))
def finance_cancel(ctx: Context, financing_id: int) -> Action[Financing]:
    """End the financing before funding: the bill goes back to you and the invoice reservation is released
    (exporter)."""
    fin = existing(ctx, financing_id)
    return lambda signer: fin.cancel(financing_id, sender=signer)


@finance.command("redeliver")
@financing_argument
@sends(sent_financing("redelivered"))
def finance_redeliver(ctx: Context, financing_id: int) -> Action[Financing]:
    """Deliver the bill again after its recipient rejected it (anyone)."""
    fin = existing(ctx, financing_id)
    return lambda signer: fin.redeliver(financing_id, sender=signer)


@finance.command("repay")
@financing_argument
@click.option("--amount", required=True, type=TEXT, help="In token units; more than outstanding is capped.")
@sends(sent_financing("repaid"))
def finance_repay(ctx: Context, financing_id: int, amount: str) -> Action[Financing]:
    """Repay part or all (anyone, usually the importer); full repayment releases the bill to the importer."""
    fin = ctx.client().finance
    units = token_units(ctx, fin.get(financing_id).token, amount)

    def action(signer: LocalAccount) -> Result[Financing]:
        return fin.repay(financing_id, units, sender=signer)

    return action


@finance.command("withdraw")
@click.option("--token", "settlement_token", required=True, type=SETTLEMENT_TOKEN)
@sends(sent_withdrawal)
def finance_withdraw(ctx: Context, settlement_token: str) -> Action[dict[str, Any]]:
    """Withdraw what the escrow owes you in TOKEN (financier)."""
    token = settlement_token

    def action(signer: LocalAccount) -> Result[dict[str, Any]]:
        withdrawn, tx = ctx.client().finance.withdraw(token, sender=signer)
        return Result({"account": signer.address, "token": token, "amount": withdrawn}, tx)

    return action


@finance.command("allow-token")
@click.argument("settlement_token", type=SETTLEMENT_TOKEN)
@click.option("--remove", is_flag=True)
@sends(sent_token_allowed)
def finance_allow_token(ctx: Context, settlement_token: str, remove: bool) -> Action[dict[str, Any]]:
    """Allowlist (or --remove) a settlement token (admin)."""
    token = settlement_token

    def action(signer: LocalAccount) -> Result[dict[str, Any]]:
        allowed, tx = ctx.client().finance.allow_token(token, not remove, sender=signer)
        return Result({"token": token, "allowed": allowed}, tx)

    return action


@finance.command("reservation")
@click.argument("fingerprint_or_invoice", metavar="FINGERPRINT", type=TEXT)
@pass_ctx
def finance_reservation(ctx: Context, fingerprint_or_invoice: str) -> None:
    """Who holds an invoice: the financing that reserved (or financed) FINGERPRINT, and until when. FINGERPRINT
    is 0x-hex, or an invoice JSON file (fingerprinted with $EBL_FINGERPRINT_KEY)."""
    r = ctx.client().finance.reservation(fingerprint_of(fingerprint_or_invoice))
    show_pairs(ctx, "invoice reservation", r, reservation_rows(r))


@finance.command("release-reservation")
@click.argument("fingerprint_or_invoice", metavar="FINGERPRINT", type=TEXT)
@click.option("--reason", required=True, type=TEXT,
              help="The dispute's decision; kept off chain, its hash goes into the event.")
@sends(sent_reservation)
def finance_release_reservation(ctx: Context, fingerprint_or_invoice: str, reason: str) -> Action[Reservation]:
    """Release a disputed invoice reservation (never a financed invoice); the financing that held it can no
    longer be funded (admin)."""
    fp = fingerprint_of(fingerprint_or_invoice)
    if not reason.strip():
        raise InvalidInput("--reason must say why the reservation is released")
    return lambda signer: ctx.client().finance.release_reservation(fp, reason, sender=signer)


@finance.command("set-min-tenor")
@click.option("--days", "tenor_days", required=True, type=click.IntRange(min=0, max=365),
              help="The shortest tenor of new requests and offers, in days (0 to 365).")
@sends(sent_setting("FinancingEscrow", "min_tenor"))
def finance_set_min_tenor(ctx: Context, tenor_days: int) -> Action[int]:
    """Set the shortest tenor (request or offer to maturity) the escrow accepts (admin)."""
    return lambda signer: ctx.client().finance.set_min_tenor(tenor_days * DAY, sender=signer)


@finance.command("set-reservation-period")
@click.option("--days", "reservation_days", required=True, type=click.IntRange(min=1, max=365),
              help="How long new requests reserve their invoice, in days (1 to 365).")
@sends(sent_setting("FinancingEscrow", "reservation_period"))
def finance_set_reservation_period(ctx: Context, reservation_days: int) -> Action[int]:
    """Set how long a new request reserves its invoice fingerprint (admin)."""
    return lambda signer: ctx.client().finance.set_reservation_period(reservation_days * DAY, sender=signer)


@finance.command("pause")
@sends(sent_pause("FinancingEscrow"))
def finance_pause(ctx: Context) -> Action[bool]:
    """Stop every state change of the escrow (admin). Maturities keep running."""
    return lambda signer: ctx.client().finance.pause(sender=signer)


@finance.command("unpause")
@sends(sent_pause("FinancingEscrow"))
def finance_unpause(ctx: Context) -> Action[bool]:
    """Resume after `ebl finance pause` (admin)."""
    return lambda signer: ctx.client().finance.unpause(sender=signer)


@finance.command("settings")
@pass_ctx
def finance_settings(ctx: Context) -> None:
    """The escrow's minimum tenor, reservation period and grace period, and whether it is paused."""
    client = ctx.client()
    fin = client.finance
    info = {"min_tenor": fin.min_tenor(), "reservation_period": fin.reservation_period(),
            "grace_period": fin.grace_period(), "paused": fin.paused(), "title_registry_paused": client.bills.paused()}
    show_pairs(ctx, "financing escrow", info, [
        ("minimum tenor", days(info["min_tenor"])), ("reservation period", days(info["reservation_period"])),
        ("grace period", days(info["grace_period"])), ("paused", "yes" if info["paused"] else "no"),
        ("title registry paused", "yes" if info["title_registry_paused"] else "no")])


@finance.command("show")
@financing_argument
@pass_ctx
def finance_show(ctx: Context, financing_id: int) -> None:
    """One financing."""
    show_financing(ctx, ctx.client().finance.get(financing_id))


@finance.command("list")
@pass_ctx
def finance_list(ctx: Context) -> None:
    """Every financing."""
    fin = ctx.client().finance
    items = fin.list()
    if ctx.as_json:
        emit_json(items)
        return
    emit_table("financings", ["id", "state", "bill", "exporter", "financier", "principal", "outstanding", "maturity"],
               ([f.financing_id, f.state.name.lower(), hex(f.bill), f.exporter, f.financier or "",
                 amount(f.principal, fin.token_info(f.token)), amount(f.outstanding, fin.token_info(f.token)),
                 utc_time(f.maturity)] for f in items))
