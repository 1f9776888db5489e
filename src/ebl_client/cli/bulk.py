"""Many transactions from one signer, pipelined (checked first, signed, journaled, sent and confirmed
together), with one result line per item: `ebl bill issue-many` for a carrier's documentation team and
`ebl credit anchor-many` for a credit bureau.

    ebl bill issue-many FOLDER [--holder ADDR] [--manifest manifest.csv]
        FOLDER holds one DCSA transport document per *.json file. The parties come from a manifest (a CSV with
        a header: file,holder[,beneficiary][,remark]; FOLDER/manifest.csv when present), or --holder and
        --beneficiary for the files it does not name. To order: the beneficiary defaults to the holder.

    ebl credit anchor-many SOURCE (--expires DATE | --valid-days N)
        SOURCE is a CSV (subject,commitment[,expires]: commitment is a 0x root or a commitment file, relative
        to the CSV) or a folder of commitment files named <subject address>.json, or listed in its
        subjects.csv (file,subject).

A refused item (invalid document, party not onboarded, anchor already there) is named in its line and never
sent; the others go ahead. Run the same input again after a crash or an interrupted run: the outbox knows the
batch (named from the input's content, or --batch) and follows what was already signed instead of sending it
twice. Exit 1 when any item did not succeed.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ..bills import IssueItem, load_document
from ..chain import ItemResult, Outcome, to_address
from ..client import Client
from ..credit import AnchorItem
from ..errors import BatchIncomplete, EblError, ExitCode, InvalidInput, exit_code
from ..hashing import DEFAULT_SCHEMA
from ..models import Bill, CreditRecord, jsonable
from ..outbox import Outbox
from .app import Context, outbox_option, pass_ctx, signer_options
from .bill import bill
from .credit import credit
from .output import emit_json, emit_table

MANIFEST = "manifest.csv"
SUBJECTS = "subjects.csv"
DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]


def client_of(ctx: Context, outbox_dir: Path | None) -> Client:
    """The node and deployment of the global options, journaling into the outbox (reconciled on connect)."""
    return Client.connect(ctx.rpc_url, network=ctx.network, deployments=ctx.deployments_dir, chain_id=ctx.chain_id,
                          outbox=Outbox(outbox_dir))


def read_csv(path: Path, required: Sequence[str], optional: Sequence[str]) -> list[dict[str, str]]:
    """The rows of a CSV file with a header naming `required` (and any of `optional`) columns; InvalidInput
    naming the file and row otherwise. Blank lines and cells are skipped / empty."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:  # a spreadsheet's export may start with a BOM
            reader = csv.DictReader(fh)
            columns = [c.strip() for c in reader.fieldnames or []]
            missing = [c for c in required if c not in columns]
            unknown = [c for c in columns if c not in (*required, *optional)]
            if missing or unknown:
                problem = f"lacks the column(s) {', '.join(missing)}" if missing else (
                    f"has unknown column(s) {', '.join(unknown)}")
                raise InvalidInput(f"{path} {problem} (columns: {', '.join([*required, *optional])})")
            rows = []
            for row in reader:
                clean = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
                if any(clean.values()):
                    rows.append(clean)
            return rows
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path} is not a readable CSV file: {exc}") from None


def batch_name(kind: str, parts: Sequence[Any]) -> str:
    """A batch named by its content: the same input run again is the same batch (and resumes)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else str(part).encode())
        digest.update(b"\0")
    return f"{kind}:{digest.hexdigest()[:16]}"


def outcome_text(r: ItemResult[Any]) -> str:
    return r.outcome.value + (" (resumed)" if r.resumed else "")


def why(r: ItemResult[Any]) -> str:
    return "" if r.error is None else str(r.error)


def tx_json(r: ItemResult[Any]) -> dict[str, Any] | None:
    tx = r.tx
    return None if tx is None else {"hash": tx.hash, "block": tx.block, "gasUsed": tx.gas_used}


def finish(results: Sequence[ItemResult[Any]], what: str) -> None:
    failed = [r for r in results if not r.ok]
    if failed:
        outcomes = ", ".join(f"{sum(1 for r in failed if r.outcome is o)} {o.value}" for o in Outcome
                             if any(r.outcome is o for r in failed))
        first = failed[0]
        # an item left pending has no error: it was sent and the node has not mined it in time
        code = exit_code(first.error) if first.error is not None else ExitCode.NODE
        raise BatchIncomplete(f"{len(failed)} of {len(results)} {what} did not succeed ({outcomes}): see each "
                              f"line's reason", code)


# --- ebl bill issue-many ---------------------------------------------------------------------------------------


def issue_items(folder: Path, manifest: Path | None, holder: str | None, beneficiary: str | None,
                remark: str) -> tuple[list[Path], list[IssueItem | EblError]]:
    """The documents of FOLDER and their parties (manifest rows first, then the options)."""
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a folder of transport documents")
    files = sorted(p for p in folder.glob("*.json") if p.is_file())
    if not files:
        raise InvalidInput(f"no transport documents (*.json) in {folder}")
    manifest = manifest if manifest is not None else (folder / MANIFEST if (folder / MANIFEST).is_file() else None)
    parties: dict[str, dict[str, str]] = {}
    if manifest is not None:
        for n, row in enumerate(read_csv(manifest, ["file"], ["holder", "beneficiary", "remark"]), start=2):
            name = Path(row["file"]).name
            if not (folder / name).is_file():
                raise InvalidInput(f"{manifest} line {n} names {row['file']}, which is not a file in {folder}")
            if name in parties:
                raise InvalidInput(f"{manifest} line {n} names {name} a second time")
            parties[name] = row
    items: list[IssueItem | EblError] = []
    for path in files:
        row = parties.get(path.name, {})
        first = row.get("holder") or holder
        if not first:
            items.append(InvalidInput(f"no holder for {path.name}: add it to {manifest or MANIFEST} or give "
                                      "--holder"))
            continue
        items.append(IssueItem(path, first, row.get("beneficiary") or beneficiary, row.get("remark") or remark))
    return files, items


def _reference_of(path: Path) -> str:
    try:
        return str(load_document(path).get("transportDocumentReference", ""))
    except EblError:
        return ""


@bill.command("issue-many")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--holder", default=None, help="First holder of the bills the manifest names none for (the shipper).")
@click.option("--beneficiary", default=None,
              help="To order: default the holder. Straight: the consignee's account (or per file in the manifest).")
@click.option("--manifest", type=click.Path(path_type=Path), default=None,
              help=f"CSV file,holder[,beneficiary][,remark] (default FOLDER/{MANIFEST} when present).")
@click.option("--remark", default="", help="Kept off chain; its keccak256 goes into each event.")
@click.option("--batch", default=None, help="Name of this run in the outbox (default: from the documents and "
                                            "parties, so the same folder run again resumes instead of issuing twice).")
@outbox_option
@signer_options
@pass_ctx
def bill_issue_many(ctx: Context, folder: Path, holder: str | None, beneficiary: str | None, manifest: Path | None,
                    remark: str, batch: str | None, outbox_dir: Path | None) -> None:
    """Issue the eBL for every transport document in FOLDER (carrier), pipelined: one line per document."""
    files, items = issue_items(folder, manifest, holder, beneficiary, remark)
    if holder:
        to_address(holder, what="--holder")
    name = batch or batch_name("issue-many", [part for f, i in zip(files, items, strict=True) for part in (
        f.name, f.read_bytes(), *((i.holder, i.beneficiary, i.remark) if isinstance(i, IssueItem) else (str(i),)))])
    signer = ctx.signer()
    client = client_of(ctx, outbox_dir)
    valid = [i for i in items if isinstance(i, IssueItem)]
    sent = iter(client.bills.issue_many(valid, sender=signer, batch=name) if valid else [])
    results: list[ItemResult[Bill]] = [replace(next(sent), index=n) if isinstance(i, IssueItem) else
                                       ItemResult(n, "", Outcome.REFUSED, error=i) for n, i in enumerate(items)]
    references = [r.value.transport_document_reference if r.value else _reference_of(f)
                  for f, r in zip(files, results, strict=True)]
    if ctx.as_json:
        emit_json({"batch": name, "items": [
            {"file": f.name, "reference": ref, "outcome": r.outcome.value, "resumed": r.resumed,
             "tokenId": hex(r.value.token_id) if r.value else None, "txHash": r.tx_hash, "transaction": tx_json(r),
             "error": why(r) or None, "errorType": type(r.error).__name__ if r.error else None,
             "bill": jsonable(r.value) if r.value else None}
            for f, ref, r in zip(files, references, results, strict=True)]})
    else:
        emit_table(f"issue-many {folder} (batch {name})",
                   ["#", "file", "reference", "outcome", "token id", "transaction", "block", "reason"],
                   ([n + 1, f.name, ref, outcome_text(r), hex(r.value.token_id) if r.value else "", r.tx_hash or "",
                     r.tx.block if r.tx else "", why(r)]
                    for n, (f, ref, r) in enumerate(zip(files, references, results, strict=True))))
    finish(results, "documents")


# --- ebl credit anchor-many ------------------------------------------------------------------------------------


def _date(text: str, what: str) -> int:
    for fmt in DATE_FORMATS:
        try:
            return int(datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp())
        except ValueError:
            continue
    raise InvalidInput(f"{what} {text!r} is not a date (2027-05-31 or 2027-05-31T12:00:00, UTC)")


def anchor_rows(source: Path) -> list[tuple[str, str, Path | str, str]]:
    """(what the line shows, subject, commitment file or 0x root, expiry text or "") for each item of SOURCE."""
    if source.is_dir():
        files = sorted(p for p in source.glob("*.json") if p.is_file())
        if not files:
            raise InvalidInput(f"no commitment files (*.json) in {source}")
        subjects: dict[str, str] = {}
        if (source / SUBJECTS).is_file():
            for n, row in enumerate(read_csv(source / SUBJECTS, ["file", "subject"], []), start=2):
                if not (source / Path(row["file"]).name).is_file():
                    raise InvalidInput(f"{source / SUBJECTS} line {n} names {row['file']}, which is not in {source}")
                subjects[Path(row["file"]).name] = row["subject"]
        return [(p.name, subjects.get(p.name, p.stem), p, "") for p in files]
    rows = read_csv(source, ["subject", "commitment"], ["expires"])
    if not rows:
        raise InvalidInput(f"{source} has no rows")
    items: list[tuple[str, str, Path | str, str]] = []
    for n, row in enumerate(rows, start=2):
        value = row["commitment"]
        is_root = value.lower().startswith("0x") and len(value) == 66
        items.append((f"line {n}", row["subject"], value if is_root else source.parent / value, row.get("expires", "")))
    return items


@credit.command("anchor-many")
@click.argument("source", type=click.Path(path_type=Path, exists=True))
@click.option("--expires", default=None, help="Expiry (UTC) of the rows that name none, e.g. 2027-05-31.")
@click.option("--valid-days", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Valid for this many days from the chain's current time (rows that name no expiry).")
@click.option("--schema", default=DEFAULT_SCHEMA, show_default=True,
              help="Report schema of the roots given as hex (commitment files name their own).")
@click.option("--batch", default=None, help="Name of this run in the outbox (default: from the input's content).")
@outbox_option
@signer_options
@pass_ctx
def credit_anchor_many(ctx: Context, source: Path, expires: str | None, valid_days: float | None, schema: str,
                       batch: str | None, outbox_dir: Path | None) -> None:
    """Anchor every commitment of SOURCE (credit provider), pipelined: one line per subject."""
    rows = anchor_rows(source)
    if expires is not None and valid_days is not None:
        raise InvalidInput("give --expires DATE or --valid-days N, not both")
    default = _date(expires, "--expires") if expires else None
    fixed = [_date(text, f"{shown}: expires") if text else None for shown, _, _, text in rows]
    if valid_days is None and default is None and any(f is None for f in fixed):
        raise InvalidInput("give --expires DATE or --valid-days N (or an expires column for every row)")
    signer = ctx.signer()
    client = client_of(ctx, outbox_dir)
    if valid_days is not None:
        default = client.now() + int(valid_days * 86_400)
    items = [AnchorItem(subject, commitment, f if f is not None else int(default or 0), schema)
             for (_, subject, commitment, _), f in zip(rows, fixed, strict=True)]
    name = batch or batch_name("anchor-many", [part for i in items for part in (
        i.subject, i.commitment.read_bytes() if isinstance(i.commitment, Path) and i.commitment.is_file()
        else str(i.commitment), i.expires_at, i.schema)])
    results: list[ItemResult[CreditRecord]] = client.credit.anchor_many(items, sender=signer, batch=name)
    if ctx.as_json:
        emit_json({"batch": name, "items": [
            {"item": shown, "subject": subject, "outcome": r.outcome.value, "resumed": r.resumed,
             "root": r.value.root if r.value else None, "txHash": r.tx_hash, "transaction": tx_json(r),
             "error": why(r) or None, "errorType": type(r.error).__name__ if r.error else None,
             "record": jsonable(r.value) if r.value else None}
            for (shown, subject, _, _), r in zip(rows, results, strict=True)]})
    else:
        emit_table(f"anchor-many {source} (batch {name})",
                   ["#", "item", "subject", "outcome", "root", "transaction", "block", "reason"],
                   ([n + 1, shown, subject, outcome_text(r), r.value.root if r.value else "", r.tx_hash or "",
                     r.tx.block if r.tx else "", why(r)]
                    for n, ((shown, subject, _, _), r) in enumerate(zip(rows, results, strict=True))))
    finish(results, "anchors")
