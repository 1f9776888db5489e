"""`ebl audit`: the supervisor's tools. `export` writes every action across the four contracts (block, time,
transaction, actor and counterparties by name) as CSV or JSON; `report` sums up bills, exposure,
maturities, verifications and suspended participants."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ..errors import InvalidInput
from ..index.queries import format_units
from .files import write_text
from .index import RootOptions, emit_json, emit_table, open_reader, pass_root, reader_options
from .values import TOKEN_ID

COLUMNS = ("block", "time", "transaction", "contract", "event", "actor", "actorName", "counterparties",
           "counterpartyNames", "bill", "financing", "details")


@click.group("audit")
def audit() -> None:
    """The audit trail and the supervisor's report, from the index."""


def _day(value: datetime | None, *, end: bool) -> int | None:
    if value is None:
        return None
    start = int(value.replace(tzinfo=UTC).timestamp())
    return start + 86_399 if end else start


@audit.command("export")
@click.option("--participant", default=None, metavar="ACCOUNT", help="Every action that names ACCOUNT.")
@click.option("--bill", "token", type=TOKEN_ID, default=None, metavar="TOKEN",
              help="Every action on bill TOKEN and its financings.")
@click.option("--all", "everything", is_flag=True, help="Every action (regulators).")
@click.option("--from", "since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="From this day (UTC).")
@click.option("--to", "until", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Up to and including this day (UTC).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), required=True)
@click.option("--output", type=click.Path(path_type=Path), default=None,
              help="Write to this file instead of standard output (replaced whole, never half written).")
@reader_options
@pass_root
def audit_export(root: RootOptions, participant: str | None, token: int | None, everything: bool, since: Any,
                 until: Any, fmt: str, output: Path | None, index_url: str | None, as_account: str | None,
                 directory_file: Path | None) -> None:
    """Export the audit trail of one participant, one bill, or everything, in chain order."""
    if sum((bool(participant), token is not None, everything)) != 1:
        raise InvalidInput("give exactly one of --participant ACCOUNT, --bill TOKEN, --all")
    r = open_reader(root, index_url, as_account, directory_file)
    records = r.q.audit(r.viewer, participant=participant, token=token,
                        everything=everything, since=_day(since, end=False), until=_day(until, end=True))
    rows = r.q.audit_rows(records)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
    else:
        text = json.dumps(rows, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        write_text(output, text, what="audit export", overwrite=True)
        click.echo(f"{len(rows)} actions written to {output}", err=True)


@audit.command("report")
@click.option("--days", type=click.IntRange(min=1, max=3650), default=30, show_default=True,
              help="Maturities within this many days.")
@reader_options
@pass_root
def audit_report(root: RootOptions, days: int, index_url: str | None, as_account: str | None,
                 directory_file: Path | None) -> None:
    """The supervisor's report (regulators): bills by status and jurisdiction, exposure by bank and by
    jurisdiction pair, maturities, credit verifications by bank, suspended participants and what they hold."""
    r = open_reader(root, index_url, as_account, directory_file)
    report = r.q.report(r.viewer, days=days)
    if r.as_json:
        emit_json(report)
        return
    decimals = report["decimals"]

    def money(exposure: dict[str, int]) -> str:
        return ", ".join(f"{c} {format_units(v, decimals.get(c, 0))}" for c, v in sorted(exposure.items()))

    click.echo(f"supervisor's report as of {report['asOf']}")
    statuses = report["billsByStatusAndJurisdiction"]
    emit_table("bills by status and jurisdiction of the holder", ["status", "jurisdiction", "bills"],
               ([status, j, n] for status, by in statuses.items() for j, n in sorted(by.items())))
    emit_table("financing exposure by bank", ["bank", "outstanding"],
               ([v["name"] or bank, money(v["exposure"])] for bank, v in report["exposureByBank"].items()))
    emit_table("exposure by jurisdiction pair (exporter -> importer)", ["pair", "outstanding"],
               ([pair, money(v)] for pair, v in report["exposureByJurisdictionPair"].items()))
    maturities = next(v for k, v in report.items() if k.startswith("maturitiesNext"))
    emit_table(f"maturities in the next {days} days", ["financing", "maturity", "bank", "outstanding"],
               ([m["financing"], m["maturity"], m["financierName"] or m["financier"],
                 money({m["currency"]: m["outstanding"]})] for m in maturities))
    click.echo(f"overdue: {', '.join(f'#{i}' for i in report['overdue']) or 'none'}; "
               f"defaulted: {', '.join(f'#{i}' for i in report['defaulted']) or 'none'}")
    emit_table("credit verifications by bank", ["bank", "approved", "recorded (waiting for a checker)"],
               ([v["name"] or bank, v.get("approved", 0), v.get("recorded", 0)]
                for bank, v in report["verificationsByBank"].items()))
    emit_table("suspended participants", ["participant", "since", "bills held", "open financings"],
               ([p["name"] or p["account"], p["since"], ", ".join(p["billsHeld"]) or "none",
                 ", ".join(f"#{i}" for i in p["openFinancings"]) or "none"] for p in report["suspendedParticipants"]))
