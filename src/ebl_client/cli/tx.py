"""`ebl tx`: the outbox, every transaction this client signed: list and show it (offline, from the journals),
resend (look each pending one up on the chain, send again what the node lost), forget a replaced chain.

    ebl tx list [--pending] [--sender ADDR]     the journals (all chains, or --chain-id's)
    ebl tx show HASH                            one transaction: its label, raw bytes and every record
    ebl tx resend [--sender ADDR]               reconcile with the node (what connecting does too)
    ebl tx forget --chain-replaced              archive journals written for a chain this node replaced

Every command takes `--outbox DIR` (default $EBL_OUTBOX, else .ebl/outbox).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..chain import Chain, to_address
from ..errors import EblError, InvalidInput
from ..networks import profile
from ..outbox import Entry, Finding, Journal, Outbox, forget_replaced
from .app import Context, cli, outbox_option, pass_ctx
from .output import emit_json, emit_table, show_pairs
from .values import Hex32


def open_outbox(outbox_dir: Path | None) -> Outbox:
    """The journals in `outbox_dir`, else the root's `--outbox`, else $EBL_OUTBOX or .ebl/outbox."""
    root = click.get_current_context().find_object(Context)
    return Outbox(outbox_dir or (root.outbox if root is not None else None))


def connect(ctx: Context, outbox: Outbox) -> Chain:
    """The node of the global options, with the outbox (no reconciliation yet: the command does it)."""
    return Chain.connect(ctx.rpc_url, profile(ctx.network), expected_chain_id=ctx.chain_id, outbox=outbox)


def warn(text: str) -> None:
    click.echo(f"warning: {text}", err=True)


def _journals(ctx: Context, outbox: Outbox, sender: str | None) -> list[Journal]:
    chains = [ctx.chain_id] if ctx.chain_id is not None else outbox.chain_ids()
    wanted = to_address(sender, what="sender") if sender else None
    return [j for c in chains for j in outbox.journals(c) if wanted is None or j.sender == wanted]


def _entry_json(entry: Entry, journal: Journal | None = None, *, full: bool = False) -> dict[str, Any]:
    value: dict[str, Any] = {
        "chainId": entry.chain_id, "sender": entry.sender, "nonce": entry.nonce, "state": entry.state.value,
        "label": entry.label, "hash": entry.hash, "status": entry.status, "block": entry.block,
        "gasUsed": entry.gas_used, "sends": entry.sends, "signedAt": entry.signed_at, "batch": entry.batch,
        "item": entry.item, "detail": entry.detail,
    }
    if journal is not None:
        value["journal"] = str(journal.path)
    if full:
        value |= {"to": entry.to, "raw": entry.raw, "genesis": journal.genesis if journal else None,
                  "records": entry.records}
    return value


def _when(iso: str | None) -> str:
    return (iso or "").replace("T", " ")[:19]


@click.group("tx")
def tx() -> None:
    """The outbox: every transaction this client signed, journaled before it was sent."""


@tx.command("list")
@click.option("--pending", "only_pending", is_flag=True, help="Only transactions not yet mined (or refused).")
@click.option("--sender", default=None, help="Only this sender's journal.")
@outbox_option
@pass_ctx
def tx_list(ctx: Context, only_pending: bool, sender: str | None, outbox_dir: Path | None) -> None:
    """The journaled transactions, oldest first, as the journal last saw them (no node needed; `resend`
    asks the chain). A torn line left by a crash is reported as a warning and ignored."""
    outbox = open_outbox(outbox_dir)
    rows: list[tuple[Journal, Entry]] = []
    for journal in _journals(ctx, outbox, sender):
        with journal.locked(shared=True):
            for text in journal.warnings:
                warn(text)
            rows += [(journal, e.snapshot()) for e in journal.entries.values()
                     if not only_pending or not e.state.final]
    rows.sort(key=lambda row: (row[1].signed_at or "", row[1].chain_id, row[1].sender, row[1].nonce))  # all senders
    if ctx.as_json:
        emit_json([_entry_json(e, j) for j, e in rows])
        return
    emit_table(f"outbox {outbox.directory}", ["chain", "sender", "nonce", "state", "label", "transaction", "block",
                                              "gas", "signed (UTC)"],
               ([e.chain_id, e.sender, e.nonce, e.state.value, e.label, e.hash, e.block or "", e.gas_used or "",
                 _when(e.signed_at)] for _, e in rows))


@tx.command("show")
@click.argument("tx_hash", metavar="HASH", type=Hex32("transaction hash"))
@outbox_option
@pass_ctx
def tx_show(ctx: Context, tx_hash: bytes, outbox_dir: Path | None) -> None:
    """One journaled transaction: what it was, its raw signed bytes and every record of it."""
    wanted = "0x" + tx_hash.hex()
    outbox = open_outbox(outbox_dir)
    for journal in _journals(ctx, outbox, None):
        with journal.locked(shared=True):
            entry = journal.entries.get(wanted)
            if entry is None:
                continue
            for text in journal.warnings:
                warn(text)
            value = _entry_json(entry, journal, full=True)
        show_pairs(ctx, "journaled transaction", value, [
            ("transaction", entry.hash), ("label", entry.label), ("state", entry.state.value),
            ("detail", entry.detail), ("chain", f"{entry.chain_id} (genesis {journal.genesis})"),
            ("sender", entry.sender), ("nonce", entry.nonce), ("to", entry.to or "(contract creation)"),
            ("block", entry.block or ""), ("gas used", entry.gas_used or ""), ("sent", f"{entry.sends} time(s)"),
            ("batch", f"{entry.batch} item {entry.item}" if entry.batch else ""), ("journal", str(journal.path)),
            *((f"{_when(r.get('at'))}", r["record"] + (f": {r['detail']}" if r.get("detail") else ""))
              for r in entry.records),
        ])
        return
    raise InvalidInput(f"no transaction {wanted} in the outbox {outbox.directory}")


def _finding_row(f: Finding) -> list[Any]:
    return [f.entry.sender, f.entry.nonce, f.entry.label, f.entry.hash, f.action, f.detail]


@tx.command("resend")
@click.option("--sender", default=None, help="Only this sender's journal.")
@outbox_option
@pass_ctx
def tx_resend(ctx: Context, sender: str | None, outbox_dir: Path | None) -> None:
    """Look every pending transaction up on the node: mined ones are recorded with their receipt, ones the node
    lost are sent again byte for byte (same hash: never applied twice), one whose nonce another transaction
    used is reported as a conflict. Exit 1 when any could not be resent or conflicts."""
    outbox = open_outbox(outbox_dir)
    chain = connect(ctx, outbox)
    senders = [to_address(sender, what="sender")] if sender else None
    result = chain.reconcile(senders)
    for text in result.warnings:
        warn(text)
    if ctx.as_json:
        emit_json({"findings": [{**_entry_json(f.entry), "action": f.action, "detail": f.detail}
                                for f in result.findings],
                   "archived": [str(p) for p in result.archived]})
    elif result.findings:
        emit_table(f"outbox {outbox.directory} on chain {chain.chain_id}",
                   ["sender", "nonce", "label", "transaction", "action", "detail"],
                   (_finding_row(f) for f in result.findings))
    else:
        click.echo(f"nothing pending in {outbox.directory} for chain {chain.chain_id}")
    failed = [f for f in result.findings if f.action in ("conflict", "could not resend", "could not look up")]
    if failed:
        raise EblError(f"{len(failed)} transaction{'s' if len(failed) > 1 else ''} could not be applied "
                       f"({', '.join(sorted({f.action for f in failed}))}): see `ebl tx show HASH`")


@tx.command("forget")
@click.option("--chain-replaced", is_flag=True,
              help="Archive the journals written for a chain this node replaced (same chain id, new genesis).")
@outbox_option
@pass_ctx
def tx_forget(ctx: Context, chain_replaced: bool, outbox_dir: Path | None) -> None:
    """Give up the transactions of a chain that is gone (a node restarted empty under the same chain id): its
    journals move to <outbox>/<chainId>/archive/, kept for the audit trail, never deleted."""
    if not chain_replaced:
        raise click.UsageError("give --chain-replaced: forget only archives the journals of a replaced chain")
    outbox = open_outbox(outbox_dir)
    chain = connect(ctx, outbox)
    moved = forget_replaced(outbox, chain)
    if ctx.as_json:
        emit_json([{"archived": str(path), "pending": pending} for path, pending in moved])
    elif moved:
        emit_table(f"archived: chain {chain.chain_id} replaced (genesis now {chain.genesis_hash})",
                   ["journal", "pending transactions given up"], ([str(p), n] for p, n in moved))
    else:
        click.echo(f"nothing to forget: every journal of chain {chain.chain_id} in {outbox.directory} was written "
                   f"for this node's genesis {chain.genesis_hash}")


cli.add_command(tx)

