"""`ebl credit`: credit-report commitments: commit and disclose off chain; anchor, consent and verify on chain."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any

import click

from .. import hashing
from ..chain import to_address
from ..errors import InvalidInput
from ..models import ConsentRecord, CreditRecord, CreditVerification, utc_time
from .app import Action, Context, F, pass_ctx, sends
from .output import emit_json, show_info, show_pairs, yes


def expiry_options(fn: F) -> F:
    fn = click.option("--valid-days", type=click.FloatRange(min=0, min_open=True), default=None,
                      help="Valid for this many days from the chain's current time.")(fn)
    fn = click.option("--expires", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), default=None,
                      help="Expiry (UTC), e.g. 2027-05-31.")(fn)
    return fn


def resolve_expiry(ctx: Context, expires: Any, valid_days: float | None) -> int:
    if (expires is None) == (valid_days is None):
        raise InvalidInput("give exactly one of --expires DATE and --valid-days N")
    if valid_days is not None:
        return ctx.now() + int(valid_days * 86_400)
    return int(expires.replace(tzinfo=UTC).timestamp())


def matching_root(report: Path, commitment: hashing.Commitment, consequence: str = "") -> bytes:
    """The root REPORT makes with the commitment's salts; InvalidInput when it is not the committed one."""
    root = hashing.recompute_root(hashing.load_json_file(report, what=f"report {report}"), commitment)
    if root != commitment.root:
        raise InvalidInput(f"report {report} does not reproduce root 0x{commitment.root.hex()}: a field was changed"
                           + (f"; {consequence}" if consequence else ""))
    return root


def show_record(ctx: Context, record: CreditRecord, title: str = "credit record") -> None:
    show_pairs(ctx, title, record, [
        ("subject", record.subject), ("root", record.root), ("provider", record.provider or "(not anchored)"),
        ("anchored", utc_time(record.anchored_at)), ("expires", utc_time(record.expires_at)),
        ("revoked", "yes" if record.revoked else "no"), ("valid now", yes(record.valid)),
    ])


def show_anchored(ctx: Context, record: CreditRecord) -> None:
    show_record(ctx, record, "anchored")


def show_revoked(ctx: Context, record: CreditRecord) -> None:
    show_record(ctx, record, "revoked")


def show_verification(ctx: Context, v: CreditVerification) -> None:
    show_pairs(ctx, "credit verification", v, [
        ("financier", v.financier), ("subject", v.subject), ("root", v.root or ""),
        ("status", v.status.name.lower()), ("maker", v.maker or ""), ("recorded", utc_time(v.recorded_at)),
        ("checker", v.checker or ""), ("approved", utc_time(v.approved_at)),
        ("approved and still valid", yes(v.approved_and_valid)),
    ])


def show_consent_granted(ctx: Context, c: ConsentRecord) -> None:
    show_pairs(ctx, "consent", c, [("subject", c.subject), ("root", c.root), ("financier", c.financier),
                                   ("expires", utc_time(c.expires_at)), ("live", yes(c.live))])


def show_consent_withdrawn(ctx: Context, c: ConsentRecord) -> None:
    show_pairs(ctx, "consent withdrawn", c, [("subject", c.subject), ("root", c.root), ("financier", c.financier),
                                             ("live", yes(c.live))])


def show_consent(ctx: Context, c: ConsentRecord) -> None:
    show_pairs(ctx, "consent", c, [("financier", c.financier), ("granted", utc_time(c.granted_at)),
                                   ("expires", utc_time(c.expires_at)),
                                   ("withdrawn", "yes" if c.withdrawn else "no"), ("live", yes(c.live))])


@click.group()
def credit() -> None:
    """Credit-report commitments: commit and disclose off chain; anchor, consent and verify on chain."""


@credit.command("commit")
@click.argument("report", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Commitment file to write (default REPORT.commitment.json); never overwritten.")
@click.option("--schema", default=hashing.DEFAULT_SCHEMA, show_default=True)
@pass_ctx
def credit_commit(ctx: Context, report: Path, out: Path | None, schema: str) -> None:
    """Salt and hash every field of REPORT into a commitment file. Uploads nothing."""
    out = out or report.with_suffix(".commitment.json")
    if out.exists():
        raise InvalidInput(f"{out} already exists; refusing to overwrite a commitment (its salts are unique)")
    commitment = hashing.commit(hashing.load_json_file(report, what=f"report {report}"), schema=schema)
    commitment.save(out)
    show_info(ctx, "commitment", {"root": "0x" + commitment.root.hex(), "fields": len(commitment.salts),
                                  "schema": schema, "commitment": str(out)})


@credit.command("anchor")
@click.option("--subject", required=True, help="Account of the company the report is about.")
@click.option("--commitment", "commitment_file", required=True, type=click.Path(path_type=Path))
@expiry_options
@sends(show_anchored)
def credit_anchor(ctx: Context, subject: str, commitment_file: Path, expires: Any,
                  valid_days: float | None) -> Action[CreditRecord]:
    """Anchor a commitment's root on chain (credit provider)."""
    commitment = hashing.Commitment.load(commitment_file)
    subject = to_address(subject, what="subject")
    when = resolve_expiry(ctx, expires, valid_days)
    return lambda signer: ctx.credit().anchor(signer, subject, commitment, when)


@credit.command("revoke")
@click.option("--subject", required=True)
@click.option("--root", required=True)
@click.option("--reason", default="", help="Kept off chain; its hash goes into the event.")
@sends(show_revoked)
def credit_revoke(ctx: Context, subject: str, root: str, reason: str) -> Action[CreditRecord]:
    """Revoke an anchored record (the provider that anchored it)."""
    return lambda signer: ctx.credit().revoke(signer, subject, root, reason)


@credit.command("verify")
@click.argument("report", type=click.Path(path_type=Path))
@click.option("--commitment", "commitment_file", required=True, type=click.Path(path_type=Path))
@click.option("--subject", default=None, help="Also check on chain that the root is anchored and valid for SUBJECT.")
@pass_ctx
def credit_verify(ctx: Context, report: Path, commitment_file: Path, subject: str | None) -> None:
    """Recompute REPORT's root with the commitment's salts (and check the anchor). Exit 1 on any mismatch."""
    root = matching_root(report, hashing.Commitment.load(commitment_file))
    record = ctx.credit().record(subject, root) if subject else None
    if record is not None and not record.valid:
        state = "revoked" if record.revoked else "expired" if record.exists else "not anchored"
        raise InvalidInput(f"root 0x{root.hex()} matches the report but is {state} for subject {record.subject}")
    show_info(ctx, "report verified", {
        "report": str(report), "root": "0x" + root.hex(), "matchesCommitment": True,
        **({"subject": record.subject, "provider": record.provider, "anchoredAndValid": True,
            "expiresAt": record.expires_at} if record else {})})


@credit.command("disclose")
@click.argument("report", type=click.Path(path_type=Path))
@click.option("--commitment", "commitment_file", required=True, type=click.Path(path_type=Path))
@click.option("--field", "path", required=True, help="JSON Pointer of the field, e.g. /rating/grade.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Write the disclosure here (default stdout).")
@pass_ctx
def credit_disclose(ctx: Context, report: Path, commitment_file: Path, path: str, out: Path | None) -> None:
    """Reveal one field (value, salt, Merkle proof) without revealing any other."""
    disclosure = hashing.disclose(hashing.load_json_file(report, what=f"report {report}"),
                                  hashing.Commitment.load(commitment_file), path)
    text = json.dumps(disclosure.to_json(), indent=2)
    if out is None:
        click.echo(text)
        return
    if out.exists():
        raise InvalidInput(f"{out} already exists")
    out.write_text(text + "\n")
    click.echo(f"disclosure of {path} written to {out}", err=ctx.as_json)


@credit.command("verify-field")
@click.argument("disclosure_file", type=click.Path(path_type=Path))
@click.option("--subject", required=True)
@pass_ctx
def credit_verify_field(ctx: Context, disclosure_file: Path, subject: str) -> None:
    """Check a disclosed field off chain and on chain. Exit 1 when it does not verify."""
    disclosure = hashing.Disclosure.from_json(hashing.load_json_file(disclosure_file))
    if not disclosure.verify():
        raise InvalidInput(f"{disclosure.path}: value, salt and proof do not lead to root 0x{disclosure.root.hex()}")
    if not ctx.credit().verify_field(subject, disclosure):
        raise InvalidInput(f"root 0x{disclosure.root.hex()} is not anchored and valid for subject {subject}")
    show_info(ctx, "field verified", {"path": disclosure.path, "value": disclosure.value,
                                      "root": "0x" + disclosure.root.hex(), "subject": to_address(subject),
                                      "verified": True})


@credit.command("consent")
@click.option("--root", required=True)
@click.option("--financier", required=True)
@expiry_options
@sends(show_consent_granted)
def credit_consent(ctx: Context, root: str, financier: str, expires: Any,
                   valid_days: float | None) -> Action[ConsentRecord]:
    """Consent, as the subject, to FINANCIER relying on your record until the expiry."""
    when = resolve_expiry(ctx, expires, valid_days)
    return lambda signer: ctx.credit().grant_consent(signer, root, financier, when)


@credit.command("withdraw-consent")
@click.option("--root", required=True)
@click.option("--financier", required=True)
@sends(show_consent_withdrawn)
def credit_withdraw_consent(ctx: Context, root: str, financier: str) -> Action[ConsentRecord]:
    """Withdraw your consent (the subject)."""
    return lambda signer: ctx.credit().withdraw_consent(signer, root, financier)


@credit.command("record-verification")
@click.option("--financier", required=True, help="The bank the officer works for.")
@click.option("--subject", required=True)
@click.option("--report", type=click.Path(path_type=Path), required=True)
@click.option("--commitment", "commitment_file", type=click.Path(path_type=Path), required=True)
@click.option("--replace", is_flag=True, help="Start over although an approved verification exists.")
@sends(show_verification)
def credit_record_verification(ctx: Context, financier: str, subject: str, report: Path, commitment_file: Path,
                               replace: bool) -> Action[CreditVerification]:
    """Maker: check REPORT against its anchored root, then record the match on chain (verifier officer).
    Recording replaces the financier's earlier verification of the subject, which then needs a new approval."""
    root = matching_root(report, hashing.Commitment.load(commitment_file), "nothing recorded")
    current = ctx.credit().verification(financier, subject)
    if current.approved_and_valid and not replace:
        raise InvalidInput(f"{current.financier} already holds an approved verification of {current.subject} "
                           f"(root {current.root}); recording again would withdraw it: pass --replace")
    return lambda signer: ctx.credit().record_verification(signer, financier, subject, root)


@credit.command("approve-verification")
@click.option("--financier", required=True)
@click.option("--subject", required=True)
@sends(show_verification)
def credit_approve_verification(ctx: Context, financier: str, subject: str) -> Action[CreditVerification]:
    """Checker: approve the recorded verification (a second officer of the same bank)."""
    return lambda signer: ctx.credit().approve_verification(signer, financier, subject)


@credit.command("status")
@click.option("--subject", required=True)
@click.option("--root", default=None)
@click.option("--financier", default=None)
@pass_ctx
def credit_status(ctx: Context, subject: str, root: str | None, financier: str | None) -> None:
    """A record (with --root), a consent (with --root and --financier), a verification (with --financier)."""
    if not root and not financier:
        raise InvalidInput("give --root, --financier or both")
    facade = ctx.credit()
    parts: dict[str, Any] = {}
    if root:
        parts["record"] = facade.record(subject, root)
    if root and financier:
        parts["consent"] = facade.consent(subject, root, financier)
    if financier:
        parts["verification"] = facade.verification(financier, subject)
    if ctx.as_json:
        emit_json(parts)
        return
    if "record" in parts:
        show_record(ctx, parts["record"])
    if "consent" in parts:
        show_consent(ctx, parts["consent"])
    if "verification" in parts:
        show_verification(ctx, parts["verification"])
