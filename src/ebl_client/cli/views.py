"""Index reads that belong to existing groups: `ebl bill list` and `ebl finance book` (attached to the `bill`
and `finance` groups in `cli/__init__.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..index.queries import format_units, iso_time
from ..models import jsonable, utc_time
from .index import RootOptions, emit_json, emit_table, open_reader, pass_root, reader_options


@click.command("list")
@click.option("--holder", default=None, metavar="ACCOUNT")
@click.option("--beneficiary", default=None, metavar="ACCOUNT")
@click.option("--carrier", default=None, metavar="ACCOUNT")
@click.option("--status", default=None, help="issued, surrendered-for-delivery, surrendered-for-amendment, "
                                             "accomplished or voided.")
@click.option("--limit", type=click.IntRange(min=1, max=1_000_000), default=None,
              help="At most this many, newest first.")
@reader_options
@pass_root
def bill_list(root: RootOptions, holder: str | None, beneficiary: str | None, carrier: str | None,
              status: str | None, limit: int | None, index_url: str | None, as_account: str | None,
              directory_file: Path | None) -> None:
    """The bills you hold or held (a regulator: every bill), from the index."""
    r = open_reader(root, index_url, as_account, directory_file)
    views = r.q.bills(r.viewer, holder=holder, beneficiary=beneficiary, carrier=carrier, status=status, limit=limit)
    if r.as_json:
        emit_json([{**_plain(v.bill), "financing": v.financing_id, "pendingRecipient": v.pending_recipient,
                    "lastAction": v.last_action, "lastActionTime": iso_time(v.last_time)} for v in views],
                  r.q.directory)
        return
    emit_table(f"bills ({len(views)})", ["token id", "reference", "status", "carrier", "holder", "beneficiary",
                                         "financing", "last action"],
               ([hex(v.bill.token_id), v.bill.transport_document_reference, v.bill.status.name.lower(),
                 r.label(v.bill.carrier), r.label(v.bill.holder),
                 "(blank endorsed)" if v.bill.blank_endorsed else r.label(v.bill.beneficiary),
                 v.financing_id or "", f"{v.last_action} {utc_time(v.last_time)}"] for v in views))


def _plain(bill: Any) -> dict[str, Any]:
    value: dict[str, Any] = jsonable(bill)
    return value


@click.command("book")
@click.option("--financier", default=None, metavar="ACCOUNT", help="One bank's book.")
@click.option("--exporter", default=None, metavar="ACCOUNT", help="One exporter's financings.")
@click.option("--days", type=click.IntRange(min=0, max=3650), default=7, show_default=True,
              help="Maturities this close are 'due soon'.")
@reader_options
@pass_root
def finance_book(root: RootOptions, financier: str | None, exporter: str | None, days: int, index_url: str | None,
                 as_account: str | None, directory_file: Path | None) -> None:
    """Open financings you are party to (a regulator: all), exposure by currency, per exporter and per bank,
    maturities, overdue and defaulted, from the index."""
    r = open_reader(root, index_url, as_account, directory_file)
    book = r.q.book(r.viewer, financier=financier, exporter=exporter, horizon_days=days)
    if r.as_json:
        emit_json(book, r.q.directory)
        return

    def money(currency: str, units: int) -> str:
        return f"{currency} {format_units(units, book.decimals.get(currency, 0))}"

    emit_table(f"financing book ({len(book.lines)})", ["id", "bill", "state", "standing", "exporter", "importer",
                                                       "financier", "principal", "outstanding", "maturity"],
               ([line.financing_id, hex(line.bill), line.state, line.standing, r.label(line.exporter),
                 r.label(line.importer), r.label(line.financier) if line.financier else "",
                 money(line.currency, line.principal), money(line.currency, line.outstanding),
                 utc_time(line.maturity)] for line in book.lines))
    emit_table("exposure (accepted and funded)", ["", "currency", "outstanding"],
               [*(["total", c, money(c, v)] for c, v in sorted(book.exposure.items())),
                *([f"exporter {r.label(e)}", c, money(c, v)] for e, by in sorted(book.by_exporter.items())
                  for c, v in sorted(by.items())),
                *([f"bank {r.label(f)}", c, money(c, v)] for f, by in sorted(book.by_financier.items())
                  for c, v in sorted(by.items()))])
    click.echo(f"overdue: {', '.join(f'#{i}' for i in book.overdue) or 'none'}; "
               f"defaulted: {', '.join(f'#{i}' for i in book.defaulted) or 'none'}")
