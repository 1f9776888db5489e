"""`ebl credit`: credit-report commitments: commit and disclose off chain; anchor, consent and verify on chain;
the supervisors' revocation and the admin's longest validity.

A record is (provider, subject, root). Every command that names a record takes `--provider`; without it the
provider is looked up from the registry's anchor events and used only when exactly one provider anchored
that root for that subject.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from eth_account.signers.local import LocalAccount

from .. import hashing
from ..chain import to_address
from ..credit import CreditRecords, root_bytes
from ..errors import CreditRecordNotFound, InvalidInput, LocalFileError, VerificationFailed
from ..models import ConsentRecord, CreditRecord, CreditVerification, Result, utc_time
from .app import Action, Context, F, pass_ctx, sends
from .files import read_json, write_text
from .output import days, emit_json, sent_setting, show_info, show_pairs, show_sent, yes
from .values import DAY, TEXT, Address, Hex32, expiry_options, resolve_expiry

SUBJECT, PROVIDER, FINANCIER, ROOT = Address("subject"), Address("provider"), Address("financier"), Hex32("root")


def load_commitment(path: Path) -> hashing.Commitment:
    return hashing.Commitment.from_json(read_json(path, "commitment"))


def provider_option(fn: F) -> F:
    return click.option("--provider", default=None, type=PROVIDER,
                        help="The credit provider that anchored the record (default: the only one that anchored "
                             "this root for this subject).")(fn)


def resolve_provider(facade: CreditRecords, subject: str, root: bytes | str, provider: str | None) -> str:
    """`provider` when given; else the one provider that anchored `root` for `subject` (from the anchor events):
    none, or more than one, is an error asking for --provider."""
    if provider:
        return to_address(provider, what="provider")
    raw = root_bytes(root)
    found = facade.providers_of(subject, raw)
    if len(found) == 1:
        return found[0]
    if not found:
        raise CreditRecordNotFound(f"root 0x{raw.hex()} is not anchored for subject {to_address(subject)} by any "
                                   "provider (name one with --provider to read its record anyway)")
    raise InvalidInput(f"{len(found)} providers anchored root 0x{raw.hex()} for subject {to_address(subject)} "
                       f"({', '.join(found)}): name one with --provider")


def matching_root(report: Path, commitment: hashing.Commitment, consequence: str = "") -> bytes:
    """The root REPORT makes with the commitment's salts; VerificationFailed (the answer is no: exit 1) when it
    is not the committed one."""
    root = hashing.recompute_root(read_json(report, "report"), commitment)
    if root != commitment.root:
        raise VerificationFailed(f"report {report} does not reproduce root 0x{commitment.root.hex()}: a field was "
                                 "changed" + (f"; {consequence}" if consequence else ""), report=str(report),
                                 committedRoot="0x" + commitment.root.hex(), reportRoot="0x" + root.hex())
    return root


def anchored_provider(facade: CreditRecords, subject: str, root: bytes, provider: str | None) -> str:
    """`resolve_provider` for a check: a root no provider anchored for the subject is a "no" (exit 1)."""
    try:
        return resolve_provider(facade, subject, root, provider)
    except CreditRecordNotFound as exc:
        raise VerificationFailed(str(exc), subject=subject, root="0x" + root.hex(), anchored=False) from None


def record_state(record: CreditRecord, now: int) -> str:
    """Why a record is not valid, in a few words (or "valid")."""
    if record.valid:
        return "valid"
    if record.revoked:
        return "revoked"
    if record.expires_at <= now:
        return f"expired (at {utc_time(record.expires_at)})"
    return f"not valid: its provider {record.provider} is no longer an active credit provider"


def record_rows(record: CreditRecord) -> list[tuple[str, Any]]:
    return [
        ("subject", record.subject), ("root", record.root), ("provider", record.provider),
        ("anchored", utc_time(record.anchored_at)), ("expires", utc_time(record.expires_at)),
        ("revoked", "yes" if record.revoked else "no"), ("valid now", yes(record.valid)),
    ]


def show_record(ctx: Context, record: CreditRecord, title: str = "credit record") -> None:
    show_pairs(ctx, title, record, record_rows(record))


def sent_record(title: str) -> Callable[[Context, Result[CreditRecord]], None]:
    def render(ctx: Context, result: Result[CreditRecord]) -> None:
        show_sent(ctx, title, "record", result.value, record_rows(result.value), result.tx)

    return render


def verification_rows(v: CreditVerification) -> list[tuple[str, Any]]:
    return [
        ("financier", v.financier), ("subject", v.subject), ("provider", v.provider or ""), ("root", v.root or ""),
        ("status", v.status.name.lower()), ("maker", v.maker or ""), ("recorded", utc_time(v.recorded_at)),
        ("checker", v.checker or ""), ("approved", utc_time(v.approved_at)),
        ("approved and still valid", yes(v.approved_and_valid)),
    ]


def show_verification(ctx: Context, v: CreditVerification) -> None:
    show_pairs(ctx, "credit verification", v, verification_rows(v))


def sent_verification(ctx: Context, result: Result[CreditVerification]) -> None:
    show_sent(ctx, "credit verification", "verification", result.value, verification_rows(result.value), result.tx)


def consent_rows(c: ConsentRecord) -> list[tuple[str, Any]]:
    return [("subject", c.subject), ("provider", c.provider), ("root", c.root), ("financier", c.financier),
            ("granted", utc_time(c.granted_at)), ("expires", utc_time(c.expires_at)),
            ("withdrawn", "yes" if c.withdrawn else "no"), ("live", yes(c.live))]


def show_consent(ctx: Context, c: ConsentRecord) -> None:
    show_pairs(ctx, "consent", c, consent_rows(c))


def sent_consent(title: str) -> Callable[[Context, Result[ConsentRecord]], None]:
    def render(ctx: Context, result: Result[ConsentRecord]) -> None:
        show_sent(ctx, title, "consent", result.value, consent_rows(result.value), result.tx)

    return render


@click.group()
def credit() -> None:
    """Credit-report commitments: commit and disclose off chain; anchor, consent and verify on chain."""


@credit.command("commit")
@click.argument("report", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Commitment file to write (default REPORT.commitment.json); never overwritten.")
@click.option("--schema", default=hashing.DEFAULT_SCHEMA, show_default=True, type=TEXT)
@pass_ctx
def credit_commit(ctx: Context, report: Path, out: Path | None, schema: str) -> None:
    """Salt and hash every field of REPORT into a commitment file. Uploads nothing."""
    out = out or report.with_suffix(".commitment.json")
    refusal = "it already exists; refusing to overwrite a commitment (its salts are unique)"
    if out.exists() or out.is_symlink():
        raise LocalFileError(out, refusal, "write", "commitment")
    commitment = hashing.commit(read_json(report, "report"), schema=schema)
    write_text(out, json.dumps(commitment.to_json(), indent=2) + "\n", what="commitment", mode=0o600,
               refusal=refusal)
    show_info(ctx, "commitment", {"root": "0x" + commitment.root.hex(), "fields": len(commitment.salts),
                                  "schema": schema, "commitment": str(out)})


@credit.command("anchor")
@click.option("--subject", required=True, type=SUBJECT, help="Account of the company the report is about.")
@click.option("--commitment", "commitment_file", required=True, type=click.Path(path_type=Path))
@expiry_options
@sends(sent_record("anchored"))
def credit_anchor(ctx: Context, subject: str, commitment_file: Path, expires: datetime | None,
                  valid_days: float | None) -> Action[CreditRecord]:
    """Anchor a commitment's root on chain (credit provider), valid at most the registry's longest validity
    (`ebl credit settings`)."""
    commitment = load_commitment(commitment_file)
    when = resolve_expiry(ctx, expires, valid_days)
    return lambda signer: ctx.client().credit.anchor(subject, commitment, when, sender=signer)


@credit.command("revoke")
@click.option("--subject", required=True, type=SUBJECT)
@click.option("--root", required=True, type=ROOT)
@click.option("--provider", default=None, type=PROVIDER,
              help="The record's provider: yourself (the default) unless --as-supervisor; then default the only "
                   "provider that anchored this root for this subject.")
@click.option("--as-supervisor", is_flag=True,
              help="Revoke another provider's record, as the registry admin or an active regulator.")
@click.option("--reason", default="", type=TEXT, help="Kept off chain; its hash goes into the event.")
@sends(sent_record("revoked"))
def credit_revoke(ctx: Context, subject: str, root: bytes, provider: str | None, as_supervisor: bool,
                  reason: str) -> Action[CreditRecord]:
    """Revoke a record: your own (the provider that anchored it), or with --as-supervisor any provider's
    (the registry admin or an active regulator; give --reason)."""
    raw, named = root, provider
    if as_supervisor and not reason.strip():
        raise InvalidInput("a supervisor's revocation needs --reason (its hash goes into the event)")

    def action(signer: LocalAccount) -> Result[CreditRecord]:
        facade = ctx.client().credit
        if as_supervisor:
            owner = resolve_provider(facade, subject, raw, named)
            return facade.revoke_as_supervisor(owner, subject, raw, reason, sender=signer)
        if named and named != signer.address:
            raise InvalidInput(f"you ({signer.address}) can revoke only your own records, not {named}'s: a "
                               "supervisor revokes another provider's with --as-supervisor")
        return facade.revoke(subject, raw, reason, sender=signer)

    return action


@credit.command("set-max-validity")
@click.option("--days", "valid_days", required=True, type=click.IntRange(min=1, max=3650),
              help="The longest validity of new anchors, in days (1 to 3650).")
@sends(sent_setting("CreditHashRegistry", "max_validity"))
def credit_set_max_validity(ctx: Context, valid_days: int) -> Action[int]:
    """Set the longest validity of new anchors; existing records keep theirs (registry admin)."""
    return lambda signer: ctx.client().credit.set_max_validity(valid_days * DAY, sender=signer)


@credit.command("settings")
@pass_ctx
def credit_settings(ctx: Context) -> None:
    """The registry's longest validity of a new anchor."""
    seconds = ctx.client().credit.max_validity()
    show_pairs(ctx, "credit registry", {"max_validity": {"seconds": seconds, "days": seconds / DAY}},
               [("longest validity of a new anchor", days(seconds))])


@credit.command("verify")
@click.argument("report", type=click.Path(path_type=Path))
@click.option("--commitment", "commitment_file", required=True, type=click.Path(path_type=Path))
@click.option("--subject", default=None, type=SUBJECT,
              help="Also check on chain that the root is anchored and valid for SUBJECT.")
@provider_option
@pass_ctx
def credit_verify(ctx: Context, report: Path, commitment_file: Path, subject: str | None,
                  provider: str | None) -> None:
    """Recompute REPORT's root with the commitment's salts (and check the anchor). Exit 1 when the answer is
    no: the report does not reproduce the root, or the root is not anchored and valid for SUBJECT."""
    root = matching_root(report, load_commitment(commitment_file))
    record = None
    if subject:
        facade = ctx.client().credit
        owner = anchored_provider(facade, subject, root, provider)
        try:
            record = facade.get(owner, subject, root)
        except CreditRecordNotFound as exc:
            raise VerificationFailed(str(exc), subject=subject, provider=owner, root="0x" + root.hex(),
                                     anchored=False) from None
        if not record.valid:
            state = record_state(record, ctx.now())
            raise VerificationFailed(f"root 0x{root.hex()} matches the report but the record of provider "
                                     f"{record.provider} for subject {record.subject} is {state}",
                                     subject=record.subject, provider=record.provider, root="0x" + root.hex(),
                                     anchored=True, valid=False, state=state)
    show_info(ctx, "report verified", {
        "report": str(report), "root": "0x" + root.hex(), "matchesCommitment": True,
        **({"subject": record.subject, "provider": record.provider, "anchoredAndValid": True,
            "expiresAt": record.expires_at} if record else {})})


@credit.command("disclose")
@click.argument("report", type=click.Path(path_type=Path))
@click.option("--commitment", "commitment_file", required=True, type=click.Path(path_type=Path))
@click.option("--field", "path", required=True, type=TEXT, help="JSON Pointer of the field, e.g. /rating/grade.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Write the disclosure here (default stdout).")
@pass_ctx
def credit_disclose(ctx: Context, report: Path, commitment_file: Path, path: str, out: Path | None) -> None:
    """Reveal one field (value, salt, Merkle proof) without revealing any other."""
    disclosure = hashing.disclose(read_json(report, "report"), load_commitment(commitment_file), path)
    text = json.dumps(disclosure.to_json(), indent=2)
    if out is None:
        click.echo(text)
        return
    write_text(out, text + "\n", what="disclosure")
    click.echo(f"disclosure of {path} written to {out}", err=ctx.as_json)


@credit.command("verify-field")
@click.argument("disclosure_file", type=click.Path(path_type=Path))
@click.option("--subject", required=True, type=SUBJECT)
@provider_option
@pass_ctx
def credit_verify_field(ctx: Context, disclosure_file: Path, subject: str, provider: str | None) -> None:
    """Check a disclosed field off chain and on chain (the contract computes the leaf). Exit 1 when it does not
    verify."""
    disclosure = hashing.Disclosure.from_json(read_json(disclosure_file, "disclosure"))
    root = "0x" + disclosure.root.hex()
    if not disclosure.verify():
        raise VerificationFailed(f"{disclosure.path}: value, salt and proof do not lead to root {root}",
                                 path=disclosure.path, root=root, proofValid=False)
    facade = ctx.client().credit
    owner = anchored_provider(facade, subject, disclosure.root, provider)
    if not facade.verify_field(owner, subject, disclosure):
        raise VerificationFailed(f"root {root} is not anchored and valid for subject {subject} by provider {owner}",
                                 path=disclosure.path, root=root, subject=subject, provider=owner, proofValid=True,
                                 anchoredAndValid=False)
    show_info(ctx, "field verified", {"path": disclosure.path, "value": disclosure.value,
                                      "root": "0x" + disclosure.root.hex(), "subject": subject, "provider": owner,
                                      "verified": True})


@credit.command("consent")
@click.option("--root", required=True, type=ROOT)
@click.option("--financier", required=True, type=FINANCIER)
@provider_option
@expiry_options
@sends(sent_consent("consent"))
def credit_consent(ctx: Context, root: bytes, financier: str, provider: str | None, expires: datetime | None,
                   valid_days: float | None) -> Action[ConsentRecord]:
    """Consent, as the subject, to FINANCIER relying on your record until the expiry."""
    raw = root
    when = resolve_expiry(ctx, expires, valid_days)

    def action(signer: LocalAccount) -> Result[ConsentRecord]:
        facade = ctx.client().credit
        owner = resolve_provider(facade, signer.address, raw, provider)
        return facade.grant_consent(owner, raw, financier, when, sender=signer)

    return action


@credit.command("withdraw-consent")
@click.option("--root", required=True, type=ROOT)
@click.option("--financier", required=True, type=FINANCIER)
@provider_option
@sends(sent_consent("consent withdrawn"))
def credit_withdraw_consent(ctx: Context, root: bytes, financier: str, provider: str | None) -> Action[ConsentRecord]:
    """Withdraw your consent (the subject)."""
    raw = root

    def action(signer: LocalAccount) -> Result[ConsentRecord]:
        facade = ctx.client().credit
        owner = resolve_provider(facade, signer.address, raw, provider)
        return facade.withdraw_consent(owner, raw, financier, sender=signer)

    return action


@credit.command("record-verification")
@click.option("--financier", required=True, type=FINANCIER, help="The bank the officer works for.")
@click.option("--subject", required=True, type=SUBJECT)
@click.option("--report", type=click.Path(path_type=Path), required=True)
@click.option("--commitment", "commitment_file", type=click.Path(path_type=Path), required=True)
@provider_option
@click.option("--replace", is_flag=True, help="Start over although an approved verification exists.")
@sends(sent_verification)
def credit_record_verification(ctx: Context, financier: str, subject: str, report: Path, commitment_file: Path,
                               provider: str | None, replace: bool) -> Action[CreditVerification]:
    """Maker: check REPORT against its anchored root, then record the match on chain (verifier officer).
    Recording replaces the financier's earlier verification of the subject, which then needs a new approval."""
    root = matching_root(report, load_commitment(commitment_file), "nothing recorded")
    facade = ctx.client().credit
    owner = resolve_provider(facade, subject, root, provider)
    current = facade.get_verification(financier, subject)
    if current.approved_and_valid and not replace:
        raise InvalidInput(f"{current.financier} already holds an approved verification of {current.subject} "
                           f"(root {current.root}); recording again would withdraw it: pass --replace")
    return lambda signer: facade.record_verification(financier, subject, owner, root, sender=signer)


@credit.command("approve-verification")
@click.option("--financier", required=True, type=FINANCIER)
@click.option("--subject", required=True, type=SUBJECT)
@sends(sent_verification)
def credit_approve_verification(ctx: Context, financier: str, subject: str) -> Action[CreditVerification]:
    """Checker: approve the recorded verification (a second officer of the same bank)."""
    return lambda signer: ctx.client().credit.approve_verification(financier, subject, sender=signer)


@credit.command("status")
@click.option("--subject", required=True, type=SUBJECT)
@click.option("--root", default=None, type=ROOT)
@provider_option
@click.option("--financier", default=None, type=FINANCIER)
@pass_ctx
def credit_status(ctx: Context, subject: str, root: bytes | None, provider: str | None,
                  financier: str | None) -> None:
    """A record (with --root), a consent (with --root and --financier), a verification (with --financier)."""
    if not root and not financier:
        raise InvalidInput("give --root, --financier or both")
    facade = ctx.client().credit
    parts: dict[str, Any] = {}
    if root:
        owner = resolve_provider(facade, subject, root, provider)
        parts["record"] = facade.get(owner, subject, root)
        if financier:
            parts["consent"] = facade.get_consent(owner, subject, root, financier)
    if financier:
        parts["verification"] = facade.get_verification(financier, subject)
    if ctx.as_json:
        emit_json(parts)
        return
    if "record" in parts:
        show_record(ctx, parts["record"])
    if "consent" in parts:
        show_consent(ctx, parts["consent"])
    if "verification" in parts:
        show_verification(ctx, parts["verification"])
