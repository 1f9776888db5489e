"""`ebl participants`: onboard, list, suspend and reinstate consortium participants."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click
from eth_account.signers.local import LocalAccount

from ..errors import InvalidInput
from ..hashing import identifier_hash, new_salt
from ..models import Participant, Result, Role
from .app import Action, Context, pass_ctx, sends
from .output import emit_json, emit_table, show_sent
from .values import TEXT, Address, Hex32

ACCOUNT, INSTITUTION = Address("account"), Address("institution")

PARTICIPANT_COLUMNS = ["account", "roles", "jurisdiction", "status", "institution", "identifier hash"]


def participant_row(p: Participant) -> list[Any]:
    return [p.address, ", ".join(p.roles.names()), p.jurisdiction, p.status.name.lower(), p.institution or "",
            p.identifier_hash]


def show_participants(ctx: Context, title: str, items: list[Participant]) -> None:
    if ctx.as_json:
        emit_json(items)
    else:
        emit_table(title, PARTICIPANT_COLUMNS, (participant_row(p) for p in items))


def show_participant(ctx: Context, item: Participant, title: str = "participant") -> None:
    if ctx.as_json:
        emit_json(item)
    else:
        emit_table(title, PARTICIPANT_COLUMNS, [participant_row(item)])


def participant_pairs(p: Participant) -> list[tuple[str, Any]]:
    return list(zip(PARTICIPANT_COLUMNS, participant_row(p), strict=True))


def sent_participant(title: str) -> Callable[[Context, Result[Participant]], None]:
    def render(ctx: Context, result: Result[Participant]) -> None:
        show_sent(ctx, title, "participant", result.value, participant_pairs(result.value), result.tx)

    return render


@dataclass(frozen=True)
class Onboarded:
    participant: Participant
    salt: bytes | None  # the identifier's salt, when the identifier was hashed here
    salt_is_new: bool  # generated here: printed once, to be kept with the participant's file


def show_onboarded(ctx: Context, result: Result[Onboarded]) -> None:
    """`{"participant": ..., "salt": "0x..." (when the identifier was hashed here), "transaction": ...}`."""
    onboarded = result.value
    extra = {"salt": "0x" + onboarded.salt.hex()} if onboarded.salt else {}
    show_sent(ctx, "onboarded", "participant", onboarded.participant, participant_pairs(onboarded.participant),
              result.tx, **extra)
    if not ctx.as_json and onboarded.salt is not None and onboarded.salt_is_new:
        click.echo(f"identifier salt (keep it with the participant's file to prove the identifier later): "
                   f"0x{onboarded.salt.hex()}")


@click.group()
def participants() -> None:
    """Onboard, list, suspend and reinstate consortium participants (admin actions need the admin key)."""


@participants.command("add")
@click.argument("account", type=ACCOUNT)
@click.option("--roles", required=True, type=TEXT,
              help="Comma-separated: " + ", ".join(r.name.lower() for r in Role if r.name))
@click.option("--jurisdiction", required=True, type=TEXT, help="ISO 3166-1 alpha-2 code, e.g. HK, CN.")
@click.option("--identifier", default=None, type=TEXT,
              help="Legal identifier (LEI, unified social credit code); only its salted hash goes on chain.")
@click.option("--salt", default=None, type=Hex32("--salt"),
              help="32-byte hex salt for --identifier (default: a new random salt, printed once).")
@click.option("--identifier-hash", "identifier_hash_hex", default=None, type=Hex32("--identifier-hash"),
              help="A precomputed salted identifier hash (32-byte hex).")
@click.option("--institution", default=None, type=INSTITUTION,
              help="For a verifier officer: the financier it works for.")
@sends(show_onboarded)
def participants_add(ctx: Context, account: str, roles: str, jurisdiction: str, identifier: str | None,
                     salt: bytes | None, identifier_hash_hex: bytes | None,
                     institution: str | None) -> Action[Onboarded]:
    """Onboard ACCOUNT with roles, jurisdiction and a salted identifier hash."""
    role_bits = Role.parse(roles)
    salt_bytes: bytes | None = None
    if identifier_hash_hex and identifier:
        raise InvalidInput("give --identifier or --identifier-hash, not both")
    if identifier:
        salt_bytes = salt if salt else new_salt()
        id_hash: bytes = identifier_hash(identifier, salt_bytes)
    elif identifier_hash_hex:
        id_hash = identifier_hash_hex
    else:
        raise InvalidInput("give --identifier (hashed with a salt) or --identifier-hash")

    def action(signer: LocalAccount) -> Result[Onboarded]:
        participant, tx = ctx.client().participants.onboard(account, role_bits, jurisdiction, id_hash, institution,
                                                            sender=signer)
        return Result(Onboarded(participant, salt_bytes, salt_is_new=not salt), tx)

    return action


@participants.command("list")
@pass_ctx
def participants_list(ctx: Context) -> None:
    """Every onboarded participant, in onboarding order."""
    show_participants(ctx, "participants", ctx.client().participants.list())


@participants.command("show")
@click.argument("account", type=ACCOUNT)
@pass_ctx
def participants_show(ctx: Context, account: str) -> None:
    """One participant's record."""
    show_participant(ctx, ctx.client().participants.get(account))


@participants.command("set-roles")
@click.argument("account", type=ACCOUNT)
@click.option("--roles", required=True, type=TEXT, help="The new complete set of roles, comma-separated.")
@click.option("--institution", default=None, type=INSTITUTION,
              help="For a verifier officer: the financier it works for.")
@sends(sent_participant("roles set"))
def participants_set_roles(ctx: Context, account: str, roles: str, institution: str | None) -> Action[Participant]:
    """Replace ACCOUNT's roles (admin)."""
    role_bits = Role.parse(roles)
    return lambda signer: ctx.client().participants.update_roles(account, role_bits, institution, sender=signer)


@participants.command("suspend")
@click.argument("account", type=ACCOUNT)
@click.option("--reason", default="", type=TEXT, help="Why; kept off chain, its hash goes into the event.")
@sends(sent_participant("suspended"))
def participants_suspend(ctx: Context, account: str, reason: str) -> Action[Participant]:
    """Suspend ACCOUNT (admin): it can no longer issue, anchor, consent, verify or receive a bill, and its credit
    records stop counting."""
    return lambda signer: ctx.client().participants.suspend(account, reason, sender=signer)


@participants.command("reinstate")
@click.argument("account", type=ACCOUNT)
@sends(sent_participant("reinstated"))
def participants_reinstate(ctx: Context, account: str) -> Action[Participant]:
    """Reinstate a suspended ACCOUNT (admin)."""
    return lambda signer: ctx.client().participants.reinstate(account, sender=signer)
