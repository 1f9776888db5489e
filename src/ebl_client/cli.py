"""The `ebl` command: run a node, deploy the suite, manage participants (bills, credit and financing
commands join as their contracts land). Human tables by default, `--json` for machines.

Every failure the client knows of prints one line `error: ...` on stderr and exits 1; nothing is
written (manifest, keystore) unless the action succeeded.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any, TypeVar

import click
from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.table import Table

from . import deployment as deployments
from . import hashing, keys
from .bills import Bills
from .chain import Chain, to_address
from .credit import Credit
from .errors import EblError, InvalidInput
from .financing import Financings
from .hashing import identifier_hash, new_salt
from .models import Bill, CreditRecord, CreditVerification, Financing, Participant, Role, TitleEvent, jsonable, utc_time
from .networks import PROFILES, profile
from .node import BESU_LIKE, BESU_LIKE_STATE_FILE, STATE_FILE, AnvilNode, default_state_file, run_in_foreground
from .participants import Participants

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Context:
    rpc_url: str | None
    network: str
    chain_id: int | None
    deployments_dir: Path
    as_json: bool
    _chain: Chain | None = None

    def chain(self) -> Chain:
        if self._chain is None:
            self._chain = Chain.connect(self.rpc_url, profile(self.network), expected_chain_id=self.chain_id)
        return self._chain

    def deployment(self) -> deployments.Deployment:
        return deployments.load_for(self.chain(), self.deployments_dir)

    def participants(self) -> Participants:
        return Participants.of(self.chain(), self.deployment())

    def bills(self) -> Bills:
        return Bills.of(self.chain(), self.deployment())

    def credit(self) -> Credit:
        return Credit.of(self.chain(), self.deployment())

    def financings(self) -> Financings:
        return Financings.of(self.chain(), self.deployment())

    def now(self) -> int:
        """The chain's clock (latest block time): expiries are judged against it, not the laptop's."""
        return self.chain().block_time()


pass_ctx = click.make_pass_decorator(Context)


class EblGroup(click.Group):
    """Turns every EblError into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EblError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


def signer_options(fn: F) -> F:
    """--keystore / --key-env: where the signing key comes from. The key is never printed."""
    fn = click.option(
        "--key-env", default=keys.DEFAULT_KEY_ENV, show_default=True, metavar="NAME",
        help="Environment variable holding the hex private key (used when no --keystore).",
    )(fn)
    fn = click.option(
        "--keystore", type=click.Path(path_type=Path), envvar="EBL_KEYSTORE", default=None,
        help=f"eth-account keystore file; password from ${keys.PASSWORD_ENV} or a prompt. [env: EBL_KEYSTORE]",
    )(fn)
    return fn


def load_signer(keystore: Path | None, key_env: str) -> LocalAccount:
    if keystore is not None:
        password = os.environ.get(keys.PASSWORD_ENV)
        if password is None and sys.stdin.isatty():
            password = click.prompt(f"Password for {keystore}", hide_input=True)
        return keys.from_keystore(keystore, password)
    return keys.from_env(key_env)


# --- output -----------------------------------------------------------------------------------------


def emit_json(value: Any) -> None:
    click.echo(json.dumps(jsonable(value), indent=2, sort_keys=True))


ADDRESS_COLUMNS = {"account", "address", "institution", "holder", "beneficiary"}


def emit_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column in ADDRESS_COLUMNS)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console(width=max(160, Console().width)).print(table)


def participant_row(p: Participant, name: str | None = None) -> list[Any]:
    return [
        *([name] if name is not None else []),
        p.address, ", ".join(p.roles.names()), p.jurisdiction, p.status.name.lower(), p.institution or "",
        p.identifier_hash[:18] + "...",
    ]


PARTICIPANT_COLUMNS = ["account", "roles", "jurisdiction", "status", "institution", "identifier hash"]


def show_participants(ctx: Context, title: str, items: list[Participant]) -> None:
    if ctx.as_json:
        emit_json(items)
    else:
        emit_table(title, PARTICIPANT_COLUMNS, (participant_row(p) for p in items))


def show_participant(ctx: Context, title: str, item: Participant) -> None:
    if ctx.as_json:
        emit_json(item)
    else:
        emit_table(title, PARTICIPANT_COLUMNS, [participant_row(item)])


# --- commands ---------------------------------------------------------------------------------------


@click.group(cls=EblGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--rpc-url", envvar="EBL_RPC_URL", default=None,
              help="Node JSON-RPC URL (default http://127.0.0.1:8545). [env: EBL_RPC_URL]")
@click.option("--network", type=click.Choice(sorted(PROFILES)), envvar="EBL_NETWORK", default="anvil",
              show_default=True, help="Network profile: fees, tx type, PoA, timeouts. [env: EBL_NETWORK]")
@click.option("--chain-id", type=int, envvar="EBL_CHAIN_ID", default=None,
              help="Refuse to act unless the node serves this chain id. [env: EBL_CHAIN_ID]")
@click.option("--deployments", "deployments_dir", type=click.Path(path_type=Path), envvar=deployments.DIR_ENV,
              default=deployments.DEFAULT_DIR, show_default=True,
              help=f"Folder of deployment manifests (<chainId>.json). [env: {deployments.DIR_ENV}]")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.pass_context
def cli(ctx: click.Context, rpc_url: str | None, network: str, chain_id: int | None, deployments_dir: Path,
        as_json: bool) -> None:
    """eBL title registry, cross-border credit verification and BL-backed financing on an EVM chain."""
    ctx.obj = Context(rpc_url, network, chain_id, deployments_dir, as_json)


@cli.command()
@click.option("--port", type=int, default=8545, show_default=True)
@click.option("--state-file", type=click.Path(path_type=Path), default=None,
              help=f"Anvil state: loaded at start, written back on stop, so a restart keeps the chain. "
                   f"[default: {STATE_FILE}; {BESU_LIKE_STATE_FILE} with --besu-like]")
@click.option("--fresh", is_flag=True, help="Start an empty chain (deletes the state file first).")
@click.option("--besu-like", is_flag=True,
              help="Chain id 1337, gas price 0, base fee 0, a block every second (test the besu profile).")
@pass_ctx
def node(ctx: Context, port: int, state_file: Path | None, fresh: bool, besu_like: bool) -> None:
    """Run the embedded Anvil in the foreground until Ctrl-C or SIGTERM (Anvil then writes its state file).
    Exits 1 with one error line if Anvil stops by itself."""
    settings: Mapping[str, Any] = BESU_LIKE if besu_like else {}
    anvil = AnvilNode(port=port, state_file=state_file or default_state_file(besu_like), fresh=fresh, **settings)
    run_in_foreground(anvil, lambda node: emit_json(node.info()) if ctx.as_json
                      else click.echo(f"{node.summary()}; Ctrl-C stops"))


@cli.command()
@click.option("--admin", default=None, help="Account that receives the consortium admin role (default: the signer).")
@click.option("--redeploy", is_flag=True, help="Replace an existing live deployment on this chain.")
@click.option("--grace-days", type=click.IntRange(min=0), default=deployments.DEFAULT_GRACE_DAYS, show_default=True,
              help="Days after maturity before a financier may claim a defaulted financing's bill.")
@click.option("--test-stablecoin", is_flag=True, help="Also deploy and allowlist a test stablecoin (tHKD).")
@signer_options
@pass_ctx
def deploy(ctx: Context, admin: str | None, redeploy: bool, grace_days: int, test_stablecoin: bool,
           keystore: Path | None, key_env: str) -> None:
    """Deploy the suite and write the manifest <deployments>/<chainId>.json."""
    signer = load_signer(keystore, key_env)
    result = deployments.deploy_suite(ctx.chain(), signer, ctx.deployments_dir, admin=admin, redeploy=redeploy,
                                      grace_days=grace_days, test_stablecoin=test_stablecoin)
    if ctx.as_json:
        emit_json(result)
        return
    emit_table(
        f"deployed on chain {result.chain_id} ({result.network}); admin {result.admin}",
        ["contract", "address", "block", "transaction"],
        ([name, c.address, c.block, c.tx_hash] for name, c in result.contracts.items()),
    )
    click.echo(f"manifest: {deployments.manifest_path(ctx.deployments_dir, result.chain_id)}")
    for step in result.pending:
        click.echo(f"still to do: {step}")


@cli.group()
def participants() -> None:
    """Onboard, list, suspend and reinstate consortium participants (admin actions need the admin key)."""


@participants.command("add")
@click.argument("account")
@click.option("--roles", required=True, help="Comma-separated: " + ", ".join(r.name.lower() for r in Role if r.name))
@click.option("--jurisdiction", required=True, help="ISO 3166-1 alpha-2 code, e.g. HK, CN.")
@click.option("--identifier", default=None,
              help="Legal identifier (LEI, unified social credit code); only its salted hash goes on chain.")
@click.option("--salt", default=None,
              help="32-byte hex salt for --identifier (default: a new random salt, printed once).")
@click.option("--identifier-hash", "identifier_hash_hex", default=None,
              help="A precomputed salted identifier hash (32-byte hex).")
@click.option("--institution", default=None, help="For a verifier officer: the financier it works for.")
@signer_options
@pass_ctx
def participants_add(ctx: Context, account: str, roles: str, jurisdiction: str, identifier: str | None,
                     salt: str | None, identifier_hash_hex: str | None, institution: str | None,
                     keystore: Path | None, key_env: str) -> None:
    """Onboard ACCOUNT with roles, jurisdiction and a salted identifier hash."""
    role_bits = Role.parse(roles)
    account = to_address(account, what="account")
    if institution:
        institution = to_address(institution, what="institution")
    salt_bytes: bytes | None = None
    if identifier_hash_hex and identifier:
        raise InvalidInput("give --identifier or --identifier-hash, not both")
    if identifier:
        salt_bytes = _hex32(salt, "--salt") if salt else new_salt()
        id_hash: bytes = identifier_hash(identifier, salt_bytes)
    elif identifier_hash_hex:
        id_hash = _hex32(identifier_hash_hex, "--identifier-hash")
    else:
        raise InvalidInput("give --identifier (hashed with a salt) or --identifier-hash")
    signer = load_signer(keystore, key_env)
    result = ctx.participants().onboard(signer, account, role_bits, jurisdiction, id_hash, institution)
    if ctx.as_json:
        emit_json({**jsonable(result), **({"salt": "0x" + salt_bytes.hex()} if salt_bytes else {})})
        return
    show_participant(ctx, "onboarded", result)
    if salt_bytes is not None and not salt:
        click.echo(f"identifier salt (keep it with the participant's file to prove the identifier later): "
                   f"0x{salt_bytes.hex()}")


def _hex32(value: str, what: str) -> bytes:
    try:
        raw = bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        raise InvalidInput(f"{what} is not hex") from None
    if len(raw) != 32:
        raise InvalidInput(f"{what} must be 32 bytes (64 hex digits)")
    return raw


@participants.command("list")
@pass_ctx
def participants_list(ctx: Context) -> None:
    """Every onboarded participant, in onboarding order."""
    show_participants(ctx, "participants", ctx.participants().list())


@participants.command("show")
@click.argument("account")
@pass_ctx
def participants_show(ctx: Context, account: str) -> None:
    """One participant's record."""
    show_participant(ctx, "participant", ctx.participants().get(account))


@participants.command("set-roles")
@click.argument("account")
@click.option("--roles", required=True, help="The new complete set of roles, comma-separated.")
@click.option("--institution", default=None, help="For a verifier officer: the financier it works for.")
@signer_options
@pass_ctx
def participants_set_roles(ctx: Context, account: str, roles: str, institution: str | None,
                           keystore: Path | None, key_env: str) -> None:
    """Replace ACCOUNT's roles (admin)."""
    role_bits = Role.parse(roles)
    signer = load_signer(keystore, key_env)
    show_participant(ctx, "participant", ctx.participants().update_roles(signer, account, role_bits, institution))


@participants.command("suspend")
@click.argument("account")
@click.option("--reason", default="", help="Why; kept off chain, its hash goes into the event.")
@signer_options
@pass_ctx
def participants_suspend(ctx: Context, account: str, reason: str, keystore: Path | None, key_env: str) -> None:
    """Suspend ACCOUNT (admin): it can no longer issue, anchor, consent, verify or receive a bill."""
    signer = load_signer(keystore, key_env)
    show_participant(ctx, "participant", ctx.participants().suspend(signer, account, reason))


@participants.command("reinstate")
@click.argument("account")
@signer_options
@pass_ctx
def participants_reinstate(ctx: Context, account: str, keystore: Path | None, key_env: str) -> None:
    """Reinstate a suspended ACCOUNT (admin)."""
    signer = load_signer(keystore, key_env)
    show_participant(ctx, "participant", ctx.participants().reinstate(signer, account))


# --- bills ----------------------------------------------------------------------------------------------


@cli.group()
def bill() -> None:
    """Electronic bills of lading: issue, move, surrender, amend; show, history, verify."""


def remark_option(fn: F) -> F:
    return click.option("--remark", default="", help="Free text kept off chain; its keccak256 goes into the event.")(fn)


def show_bill(ctx: Context, b: Bill, title: str = "bill of lading") -> None:
    show_pairs(ctx, title, b, [
        ("token id", hex(b.token_id)), ("reference", b.transport_document_reference), ("status", b.status.name.lower()),
        ("type", "straight" if b.straight else "to order"), ("carrier", b.carrier), ("holder", b.holder),
        ("beneficiary", "(blank endorsed: bearer)" if b.blank_endorsed else (b.beneficiary or "")),
        ("nominee", b.nominee or ""), ("document SHA-256", b.document_hash), ("issued in block", b.issued_block),
        ("amends", hex(b.predecessor) if b.predecessor else ""),
        ("amended by", hex(b.successor) if b.successor else ""),
    ])


def show_history(ctx: Context, token: int, events: list[TitleEvent]) -> None:
    if ctx.as_json:
        emit_json(events)
        return
    emit_table(f"chain of title of bill {hex(token)}", ["#", "block", "time", "action", "DCSA", "actor",
                                                        "holder", "beneficiary", "transaction"],
               ([i + 1, e.block, utc_time(e.timestamp), e.action.name.lower(), e.action.dcsa, e.actor, e.holder,
                 e.beneficiary or "", e.tx_hash] for i, e in enumerate(events)))


def bill_action(name: str, help_text: str, *extra: Callable[[F], F]) -> Callable[[Callable[..., Bill]], Any]:
    """Declare `ebl bill <name> TOKEN [options]`: `act(bills, signer, token, **options) -> Bill`."""

    def decorate(act: Callable[..., Bill]) -> Any:
        def command(ctx: Context, token: str, keystore: Path | None, key_env: str, **options: Any) -> None:
            from .bills import parse_token_id

            token_id = parse_token_id(token)
            signer = load_signer(keystore, key_env)
            show_bill(ctx, act(ctx.bills(), signer, token_id, **options))

        command.__doc__ = help_text
        command.__name__ = act.__name__
        wrapped: Any = command
        decorators: list[Callable[[Any], Any]] = [*extra, remark_option, signer_options, pass_ctx]
        for decorator in decorators:
            wrapped = decorator(wrapped)
        wrapped = click.argument("token")(wrapped)
        return bill.command(name)(wrapped)

    return decorate


@bill.command("issue")
@click.argument("document", type=click.Path(path_type=Path))
@click.option("--holder", required=True, help="First holder, normally the shipper.")
@click.option("--beneficiary", default=None, help="To order: default the holder. Straight: the named consignee.")
@click.option("--straight/--to-order", "straight", default=None,
              help="Override the document's isToOrder.")
@remark_option
@signer_options
@pass_ctx
def bill_issue(ctx: Context, document: Path, holder: str, beneficiary: str | None, straight: bool | None,
               remark: str, keystore: Path | None, key_env: str) -> None:
    """Issue the eBL for a DCSA transport document (carrier)."""
    from .bills import load_document

    doc = load_document(document)
    signer = load_signer(keystore, key_env)
    show_bill(ctx, ctx.bills().issue(signer, doc, holder, beneficiary, straight=straight, remark=remark), "issued")


@bill_action("transfer", "Transfer possession to --to (holder).", click.option("--to", required=True))
def bill_transfer(bills: Bills, signer: LocalAccount, token: int, to: str, remark: str) -> Bill:
    return bills.transfer(signer, token, to, remark)


@bill_action("endorse", "Endorse title to --to (holder).", click.option("--to", required=True))
def bill_endorse(bills: Bills, signer: LocalAccount, token: int, to: str, remark: str) -> Bill:
    return bills.endorse(signer, token, to, remark)


@bill_action("transfer-owners", "Endorse to --beneficiary and transfer to --holder in one step (holder).",
             click.option("--holder", "new_holder", required=True), click.option("--beneficiary", required=True))
def bill_transfer_owners(bills: Bills, signer: LocalAccount, token: int, new_holder: str, beneficiary: str,
                         remark: str) -> Bill:
    return bills.transfer_owners(signer, token, new_holder, beneficiary, remark)


@bill_action("nominate", "Nominate the next beneficiary, or --withdraw (beneficiary).",
             click.option("--nominee", default=None), click.option("--withdraw", is_flag=True))
def bill_nominate(bills: Bills, signer: LocalAccount, token: int, nominee: str | None, withdraw: bool,
                  remark: str) -> Bill:
    if bool(nominee) == withdraw:
        raise InvalidInput("give --nominee ADDRESS or --withdraw")
    return bills.nominate(signer, token, nominee, remark)


@bill_action("blank-endorse", "Endorse in blank: possession becomes title (holder who is beneficiary).")
def bill_blank_endorse(bills: Bills, signer: LocalAccount, token: int, remark: str) -> Bill:
    return bills.blank_endorse(signer, token, remark)


@bill_action("reject", "Refuse the last transfer or endorsement to you (its recipient, as the next action).")
def bill_reject(bills: Bills, signer: LocalAccount, token: int, remark: str) -> Bill:
    return bills.reject(signer, token, remark)


@bill_action("surrender", "Surrender to the carrier for delivery or amendment (holder).",
             click.option("--for", "purpose", type=click.Choice(["delivery", "amendment"]), default="delivery",
                          show_default=True))
def bill_surrender(bills: Bills, signer: LocalAccount, token: int, purpose: str, remark: str) -> Bill:
    return bills.surrender(signer, token, purpose, remark)


@bill_action("accept-surrender", "Accept a surrender for delivery: goods delivered, bill accomplished (carrier).")
def bill_accept_surrender(bills: Bills, signer: LocalAccount, token: int, remark: str) -> Bill:
    return bills.accept_surrender(signer, token, remark)


@bill_action("reject-surrender", "Reject a surrender: the holder gets the bill back (carrier).")
def bill_reject_surrender(bills: Bills, signer: LocalAccount, token: int, remark: str) -> Bill:
    return bills.reject_surrender(signer, token, remark)


@bill_action("amend", "Re-issue a bill surrendered for amendment with the amended DOCUMENT (carrier).",
             click.option("--document", required=True, type=click.Path(path_type=Path)))
def bill_amend(bills: Bills, signer: LocalAccount, token: int, document: Path, remark: str) -> Bill:
    return bills.amend(signer, token, document, remark)


@bill_action("switch-to-paper", "Void the eBL because a paper original replaces it (carrier).",
             click.option("--reason", required=True, help="Kept off chain; its hash goes into the event."))
def bill_switch_to_paper(bills: Bills, signer: LocalAccount, token: int, reason: str, remark: str) -> Bill:
    return bills.switch_to_paper(signer, token, reason or remark)


@bill.command("show")
@click.argument("token", required=False)
@click.option("--carrier", default=None, help="With --reference: the carrier's live bill for a reference.")
@click.option("--reference", default=None)
@pass_ctx
def bill_show(ctx: Context, token: str | None, carrier: str | None, reference: str | None) -> None:
    """One bill, by TOKEN or by --carrier and --reference."""
    bills = ctx.bills()
    if token is None:
        if not (carrier and reference):
            raise InvalidInput("give TOKEN, or --carrier and --reference")
        found = bills.token_of(carrier, reference)
        if found is None:
            raise InvalidInput(f"carrier {carrier} has no live bill for reference {reference!r}")
        token = str(found)
    show_bill(ctx, bills.get(token))


@bill.command("history")
@click.argument("token")
@pass_ctx
def bill_history(ctx: Context, token: str) -> None:
    """The chain of title, rebuilt from the registry's events."""
    from .bills import parse_token_id

    token_id = parse_token_id(token)
    show_history(ctx, token_id, ctx.bills().history(token_id))


@bill.command("verify")
@click.argument("token")
@click.argument("document", type=click.Path(path_type=Path))
@pass_ctx
def bill_verify(ctx: Context, token: str, document: Path) -> None:
    """Check that DOCUMENT is the transport document the bill carries. Exit 1 when it is not."""
    bills = ctx.bills()
    b = bills.get(token)
    if not bills.verify_document(b.token_id, document):
        raise InvalidInput(f"{document} is not the document of bill {hex(b.token_id)} "
                           f"(its SHA-256 differs from {b.document_hash})")
    if not b.live:
        after = f"; amended by {hex(b.successor)}" if b.successor else ""
        raise InvalidInput(f"{document} matches bill {hex(b.token_id)}, but that bill is {b.status.name.lower()}"
                           f"{after}: it no longer carries title")
    info = {"tokenId": hex(b.token_id), "reference": b.transport_document_reference, "documentHash": b.document_hash,
            "status": b.status.name.lower(), "holder": b.holder, "matches": True}
    show_pairs(ctx, "document verified", info, list(info.items()))


# --- credit ---------------------------------------------------------------------------------------------


@cli.group()
def credit() -> None:
    """Credit-report commitments: commit and disclose off chain; anchor, consent and verify on chain."""


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


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def show_pairs(ctx: Context, title: str, value: Any, rows: list[tuple[str, Any]]) -> None:
    if ctx.as_json:
        emit_json(value)
    else:
        emit_table(title, ["", ""], rows)


def show_record(ctx: Context, record: CreditRecord, title: str = "credit record") -> None:
    show_pairs(ctx, title, record, [
        ("subject", record.subject), ("root", record.root), ("provider", record.provider or "(not anchored)"),
        ("anchored", utc_time(record.anchored_at)), ("expires", utc_time(record.expires_at)),
        ("revoked", "yes" if record.revoked else "no"), ("valid now", _yes(record.valid)),
    ])


def show_verification(ctx: Context, v: CreditVerification) -> None:
    show_pairs(ctx, "credit verification", v, [
        ("financier", v.financier), ("subject", v.subject), ("root", v.root or ""),
        ("status", v.status.name.lower()), ("maker", v.maker or ""), ("recorded", utc_time(v.recorded_at)),
        ("checker", v.checker or ""), ("approved", utc_time(v.approved_at)),
        ("approved and still valid", _yes(v.approved_and_valid)),
    ])


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
    info = {"root": "0x" + commitment.root.hex(), "fields": len(commitment.salts), "schema": schema,
            "commitment": str(out)}
    show_pairs(ctx, "commitment", info, list(info.items()))


@credit.command("anchor")
@click.option("--subject", required=True, help="Account of the company the report is about.")
@click.option("--commitment", "commitment_file", required=True, type=click.Path(path_type=Path))
@expiry_options
@signer_options
@pass_ctx
def credit_anchor(ctx: Context, subject: str, commitment_file: Path, expires: Any, valid_days: float | None,
                  keystore: Path | None, key_env: str) -> None:
    """Anchor a commitment's root on chain (credit provider)."""
    commitment = hashing.Commitment.load(commitment_file)
    subject = to_address(subject, what="subject")
    when = resolve_expiry(ctx, expires, valid_days)
    signer = load_signer(keystore, key_env)
    show_record(ctx, ctx.credit().anchor(signer, subject, commitment, when), "anchored")


@credit.command("revoke")
@click.option("--subject", required=True)
@click.option("--root", required=True)
@click.option("--reason", default="", help="Kept off chain; its hash goes into the event.")
@signer_options
@pass_ctx
def credit_revoke(ctx: Context, subject: str, root: str, reason: str, keystore: Path | None, key_env: str) -> None:
    """Revoke an anchored record (the provider that anchored it)."""
    signer = load_signer(keystore, key_env)
    show_record(ctx, ctx.credit().revoke(signer, subject, root, reason), "revoked")


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
    info = {"report": str(report), "root": "0x" + root.hex(), "matchesCommitment": True,
            **({"subject": record.subject, "provider": record.provider, "anchoredAndValid": True,
                "expiresAt": record.expires_at} if record else {})}
    show_pairs(ctx, "report verified", info, list(info.items()))


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
    info = {"path": disclosure.path, "value": disclosure.value, "root": "0x" + disclosure.root.hex(),
            "subject": to_address(subject), "verified": True}
    show_pairs(ctx, "field verified", info, list(info.items()))


@credit.command("consent")
@click.option("--root", required=True)
@click.option("--financier", required=True)
@expiry_options
@signer_options
@pass_ctx
def credit_consent(ctx: Context, root: str, financier: str, expires: Any, valid_days: float | None,
                   keystore: Path | None, key_env: str) -> None:
    """Consent, as the subject, to FINANCIER relying on your record until the expiry."""
    when = resolve_expiry(ctx, expires, valid_days)
    signer = load_signer(keystore, key_env)
    c = ctx.credit().grant_consent(signer, root, financier, when)
    show_pairs(ctx, "consent", c, [("subject", c.subject), ("root", c.root), ("financier", c.financier),
                                   ("expires", utc_time(c.expires_at)), ("live", _yes(c.live))])


@credit.command("withdraw-consent")
@click.option("--root", required=True)
@click.option("--financier", required=True)
@signer_options
@pass_ctx
def credit_withdraw_consent(ctx: Context, root: str, financier: str, keystore: Path | None, key_env: str) -> None:
    """Withdraw your consent (the subject)."""
    signer = load_signer(keystore, key_env)
    c = ctx.credit().withdraw_consent(signer, root, financier)
    show_pairs(ctx, "consent withdrawn", c, [("subject", c.subject), ("root", c.root), ("financier", c.financier),
                                             ("live", _yes(c.live))])


@credit.command("record-verification")
@click.option("--financier", required=True, help="The bank the officer works for.")
@click.option("--subject", required=True)
@click.option("--report", type=click.Path(path_type=Path), required=True)
@click.option("--commitment", "commitment_file", type=click.Path(path_type=Path), required=True)
@click.option("--replace", is_flag=True, help="Start over although an approved verification exists.")
@signer_options
@pass_ctx
def credit_record_verification(ctx: Context, financier: str, subject: str, report: Path, commitment_file: Path,
                               replace: bool, keystore: Path | None, key_env: str) -> None:
    """Maker: check REPORT against its anchored root, then record the match on chain (verifier officer).
    Recording replaces the financier's earlier verification of the subject, which then needs a new approval."""
    root = matching_root(report, hashing.Commitment.load(commitment_file), "nothing recorded")
    current = ctx.credit().verification(financier, subject)
    if current.approved_and_valid and not replace:
        raise InvalidInput(f"{current.financier} already holds an approved verification of {current.subject} "
                           f"(root {current.root}); recording again would withdraw it: pass --replace")
    signer = load_signer(keystore, key_env)
    show_verification(ctx, ctx.credit().record_verification(signer, financier, subject, root))


@credit.command("approve-verification")
@click.option("--financier", required=True)
@click.option("--subject", required=True)
@signer_options
@pass_ctx
def credit_approve_verification(ctx: Context, financier: str, subject: str, keystore: Path | None,
                                key_env: str) -> None:
    """Checker: approve the recorded verification (a second officer of the same bank)."""
    signer = load_signer(keystore, key_env)
    show_verification(ctx, ctx.credit().approve_verification(signer, financier, subject))


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
        c = parts["consent"]
        show_pairs(ctx, "consent", c, [("financier", c.financier), ("granted", utc_time(c.granted_at)),
                                       ("expires", utc_time(c.expires_at)),
                                       ("withdrawn", "yes" if c.withdrawn else "no"), ("live", _yes(c.live))])
    if "verification" in parts:
        show_verification(ctx, parts["verification"])


# --- financing ------------------------------------------------------------------------------------------


@cli.group()
def finance() -> None:
    """BL-backed financing: pledge a bill, offers, funding, repayment, default, in a stablecoin."""


def token_units(ctx: Context, token: str, amount: str) -> int:
    """A decimal amount of `token` ("950000.50") in its smallest units, using the token's decimals."""
    from decimal import Decimal, InvalidOperation

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
        ("outstanding", f.outstanding), ("maturity", utc_time(f.maturity)), ("bill delivered", _yes(f.delivered)),
        ("invoice fingerprint", f.invoice_fingerprint),
    ])


def maturity_options(fn: F) -> F:
    fn = click.option("--days", "valid_days", type=click.FloatRange(min=0, min_open=True), default=None,
                      help="Maturity this many days from the chain's current time.")(fn)
    fn = click.option("--maturity", "expires", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                      help="Maturity date (UTC).")(fn)
    return fn


@finance.command("fingerprint")
@click.argument("invoice", type=click.Path(path_type=Path))
@pass_ctx
def finance_fingerprint(ctx: Context, invoice: Path) -> None:
    """The invoice's fingerprint (key in $EBL_FINGERPRINT_KEY) and its status on chain if deployed."""
    from .financing import fingerprint, normalise_invoice

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
@signer_options
@pass_ctx
def finance_request(ctx: Context, token: str, importer: str, amount: str, settlement_token: str, invoice: Path,
                    expires: Any, valid_days: float | None, keystore: Path | None, key_env: str) -> None:
    """Pledge bill TOKEN into the escrow and request financing (exporter, holder and beneficiary)."""
    from .financing import fingerprint

    fp = fingerprint(hashing.load_json_file(invoice, what=f"invoice {invoice}"))
    maturity = resolve_expiry(ctx, expires, valid_days)
    units = token_units(ctx, settlement_token, amount)
    signer = load_signer(keystore, key_env)
    show_financing(ctx, ctx.financings().request(signer, token, importer, units, settlement_token, maturity, fp),
                   "financing requested")


@finance.command("offer")
@click.argument("financing_id", type=int)
@click.option("--principal", required=True)
@click.option("--fee", required=True)
@maturity_options
@signer_options
@pass_ctx
def finance_offer(ctx: Context, financing_id: int, principal: str, fee: str, expires: Any, valid_days: float | None,
                  keystore: Path | None, key_env: str) -> None:
    """Offer principal, fee and maturity (financier)."""
    fin = ctx.financings()
    token = fin.get(financing_id).token
    maturity = resolve_expiry(ctx, expires, valid_days)
    signer = load_signer(keystore, key_env)
    o = fin.offer(signer, financing_id, token_units(ctx, token, principal), token_units(ctx, token, fee), maturity)
    show_pairs(ctx, "offer", o, [("financing", o.financing_id), ("financier", o.financier),
                                 ("principal", o.principal), ("fee", o.fee), ("maturity", utc_time(o.maturity))])


def finance_step(name: str, help_text: str, method: str) -> None:
    """Declare `ebl finance <name> FINANCING_ID`, calling Financings.<method>(signer, id)."""

    @finance.command(name, help=help_text)
    @click.argument("financing_id", type=int)
    @signer_options
    @pass_ctx
    def command(ctx: Context, financing_id: int, keystore: Path | None, key_env: str) -> None:
        signer = load_signer(keystore, key_env)
        show_financing(ctx, getattr(ctx.financings(), method)(signer, financing_id))


finance_step("fund", "Pay the principal to the exporter (the accepted financier; needs its approved credit "
             "verification of the exporter).", "fund")
finance_step("claim", "Take the bill after maturity plus the grace period (the financier, on default).", "claim")
finance_step("cancel", "Take the bill back before funding (exporter).", "cancel")
finance_step("redeliver", "Deliver the bill again after its recipient rejected it (anyone).", "redeliver")


@finance.command("accept")
@click.argument("financing_id", type=int)
@click.option("--financier", required=True)
@signer_options
@pass_ctx
def finance_accept(ctx: Context, financing_id: int, financier: str, keystore: Path | None, key_env: str) -> None:
    """Accept one financier's offer (exporter)."""
    signer = load_signer(keystore, key_env)
    show_financing(ctx, ctx.financings().accept(signer, financing_id, financier))


@finance.command("repay")
@click.argument("financing_id", type=int)
@click.option("--amount", required=True, help="In token units; more than outstanding is capped.")
@signer_options
@pass_ctx
def finance_repay(ctx: Context, financing_id: int, amount: str, keystore: Path | None, key_env: str) -> None:
    """Repay part or all (anyone, usually the importer); full repayment releases the bill to the importer."""
    fin = ctx.financings()
    units = token_units(ctx, fin.get(financing_id).token, amount)
    signer = load_signer(keystore, key_env)
    show_financing(ctx, fin.repay(signer, financing_id, units))


@finance.command("withdraw")
@click.option("--token", "settlement_token", required=True)
@signer_options
@pass_ctx
def finance_withdraw(ctx: Context, settlement_token: str, keystore: Path | None, key_env: str) -> None:
    """Withdraw what the escrow owes you in TOKEN (financier)."""
    signer = load_signer(keystore, key_env)
    amount = ctx.financings().withdraw(signer, settlement_token)
    info = {"account": signer.address, "token": to_address(settlement_token), "withdrawn": amount}
    show_pairs(ctx, "withdrawn", info, list(info.items()))


@finance.command("allow-token")
@click.argument("settlement_token")
@click.option("--remove", is_flag=True)
@signer_options
@pass_ctx
def finance_allow_token(ctx: Context, settlement_token: str, remove: bool, keystore: Path | None,
                        key_env: str) -> None:
    """Allowlist (or --remove) a settlement token (admin)."""
    signer = load_signer(keystore, key_env)
    allowed = ctx.financings().allow_token(signer, settlement_token, not remove)
    info = {"token": to_address(settlement_token), "allowed": allowed}
    show_pairs(ctx, "settlement token", info, list(info.items()))


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
               ([f.financing_id, f.state.name.lower(), hex(f.bill)[:14] + "...", f.exporter, f.financier or "",
                 f.principal, f.outstanding, utc_time(f.maturity)] for f in items))


@cli.group("keys")
def keys_group() -> None:
    """Create and inspect eth-account keystore files."""


@keys_group.command("new")
@click.argument("path", type=click.Path(path_type=Path))
@pass_ctx
def keys_new(ctx: Context, path: Path) -> None:
    """Create a new key encrypted to PATH (password from $EBL_KEYSTORE_PASSWORD or a prompt)."""
    from eth_account import Account

    if path.exists():
        raise InvalidInput(f"{path} already exists; refusing to overwrite a keystore")
    password = os.environ.get(keys.PASSWORD_ENV) or click.prompt(
        "New keystore password", hide_input=True, confirmation_prompt=True)
    account = Account.create()
    keys.write_keystore(account, path, password)
    if ctx.as_json:
        emit_json({"address": account.address, "keystore": str(path)})
    else:
        click.echo(f"{account.address} -> {path}")


@keys_group.command("address")
@signer_options
@pass_ctx
def keys_address(ctx: Context, keystore: Path | None, key_env: str) -> None:
    """Print the address of the configured key (never the key)."""
    address = load_signer(keystore, key_env).address
    emit_json({"address": address}) if ctx.as_json else click.echo(address)


def main() -> None:
    """Entry point: usage mistakes, like every other error, are one line on stderr (exit 2 for usage).
    `--json` is accepted anywhere on the line (`ebl bill show 0x.. --json`), as users type it."""
    args = sys.argv[1:]
    if "--json" in args[1:]:
        args = ["--json", *(a for a in args if a != "--json")]
    try:
        code = cli.main(args, prog_name="ebl", standalone_mode=False)  # returns the code of ctx.exit(...)
        sys.exit(code if isinstance(code, int) else 0)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(1)
    except click.UsageError as exc:
        where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        click.echo(f"error: {exc.format_message()}{where}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)

