"""`ebl inbox [ACCOUNT]`: what waits for a party now, each with the `ebl` command that acts on it."""

from __future__ import annotations

from pathlib import Path

import click

from ..index.queries import DEFAULT_HORIZON_DAYS, iso_time
from .index import RootOptions, emit_json, emit_table, open_reader, pass_root, reader_options
from .values import Address


@click.command("inbox")
@click.argument("account", required=False, type=Address("account"))
@click.option("--days", type=click.IntRange(min=0, max=3650), default=DEFAULT_HORIZON_DAYS, show_default=True,
              help="Warn this many days ahead of expiring consents, lapsing reservations and maturities.")
@reader_options
@pass_root
def inbox(root: RootOptions, account: str | None, days: int, index_url: str | None, as_account: str | None,
          directory_file: Path | None) -> None:
    """What waits for ACCOUNT (default: --as, or the signer) now: transfers it may reject, nominations,
    surrenders, offers, financings to fund, repay or claim, verifications to approve, consents and invoice
    reservations about to lapse, money to withdraw. Only a regulator reads another party's inbox."""
    r = open_reader(root, index_url, as_account, directory_file)
    tasks = r.q.inbox(r.viewer, account, horizon_days=days)
    who = account or r.viewer.account
    if r.as_json:
        emit_json({"account": who, "asOf": iso_time(r.q.now()), "tasks": tasks}, r.q.directory)
        return
    if not tasks:
        click.echo(f"nothing waits for {r.label(who)}")
        return
    emit_table(f"inbox of {r.label(who)} ({len(tasks)})", ["due", "what", "about", "with", "", "command"],
               ([iso_time(t.due)[:16].replace("T", " "), t.kind, t.subject, r.label(t.counterparty)
                 if t.counterparty else "", t.summary, t.command] for t in tasks))
