"""What each party asks of the index: bills, title history, its inbox, a financing book, the audit trail
and the supervisor's report. Every query takes the `Viewer` and shows only what concerns it:

- a participant sees the bills it holds or held (as holder, beneficiary, nominee, actor, carrier or party to
  the bill's financing), the financings it is party to (exporter, importer, accepted financier, a financier
  that offered) and the requests open for offers when it is an active financier, the credit verifications of
  its bank (officers see their institution's) and of itself, and the events that name it;
- an active regulator sees everything, and alone gets the supervisor's report.

`now` is the chain's clock as far as the index has seen it (the last indexed block's time): expiries,
maturities and "about to lapse" are judged by it, not by the laptop's clock.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, and_, exists, func, or_, select
from sqlalchemy.sql import ColumnElement

from ..bills import parse_token_id
from ..chain import to_address
from ..directory import Directory
from ..errors import EblError, InvalidInput, NotFound
from ..models import Bill, BillStatus, Role, TitleAction, TitleEvent
from . import schema as s

DAY = 86_400
#: how far ahead the inbox warns of expiring consents, lapsing reservations and coming maturities
DEFAULT_HORIZON_DAYS = 7
OPEN_STATES = ("accepted", "funded")


class AccessDenied(EblError):
    """The viewer may not see what it asked for."""


@dataclass(frozen=True)
class Viewer:
    """Who is asking: an account, and whether it is an active regulator (who sees everything)."""

    account: str
    regulator: bool = False


@dataclass(frozen=True)
class IndexStatus:
    """How far the index has followed the chain: the chain, the last block indexed and its time, the contracts."""

    chain_id: int
    last_block: int
    last_time: int
    contracts: dict[str, str]
    #: the hash of the last indexed block (None before the first page): whether the node still has that block
    #: says whether the index is of the node's chain (`standing`)
    last_hash: str | None = None

    def standing(self, chain_id: int, head: int, block_hash_at: Callable[[int], str | None]) -> Standing:
        """Where this index stands against a node serving `chain_id` at block `head`; `block_hash_at(n)` is the
        node's hash of block n (None when it has no such block)."""
        behind = head - self.last_block
        if chain_id != self.chain_id:
            return Standing(head, behind, f"holds chain {self.chain_id}, the node serves chain {chain_id}")
        if self.last_hash is not None and block_hash_at(self.last_block) != self.last_hash:
            return Standing(head, behind, f"holds a chain the node no longer has (its block {self.last_block} is "
                                          "not the node's: the chain was replaced or reorganised)")
        return Standing(head, behind, None)


@dataclass(frozen=True)
class Standing:
    """An index against the node: the node's `head`, how many blocks the index is `behind` it, and `foreign`,
    why the index is not of the node's chain at all (another chain id, or a block the node no longer has: a
    node restarted on a fresh chain, a reorganisation), None when it is. An index ahead of the node's head
    holds a block the node does not have, so it is foreign: `behind` is never negative for a chain's own."""

    head: int
    behind: int
    foreign: str | None

    @property
    def current(self) -> bool:
        """Of the node's chain and up to its head."""
        return self.foreign is None and self.behind == 0


@dataclass(frozen=True)
class BillView:
    """A bill as the index knows it: the client's `Bill`, its latest financing, who may still reject the
    last move, and the last action."""

    bill: Bill
    financing_id: int | None
    pending_recipient: str | None
    last_action: str
    last_time: int


@dataclass(frozen=True)
class Task:
    """One thing that waits for a party, with the `ebl` command that acts on it."""

    kind: str
    subject: str  # the bill (0x token id), financing (#id) or verification it is about
    summary: str
    command: str
    due: int | None = None  # unix time by which it must be done (or since when it can be)
    counterparty: str | None = None


@dataclass(frozen=True)
class BookLine:
    """One financing in a book: its bill, state, parties, amounts in minor units and maturity."""

    financing_id: int
    bill: int
    state: str
    exporter: str
    importer: str
    financier: str | None
    token: str
    currency: str
    principal: int
    fee: int
    repaid: int
    outstanding: int  # principal + fee not repaid (for a defaulted financing: what it did not recover)
    maturity: int
    standing: str  # current | due soon | overdue | claimable | defaulted | requested


@dataclass
class Book:
    """A financier's (or everyone's) book of financings: the lines, exposure by currency and by exporter,
    and what falls due."""

    lines: list[BookLine] = field(default_factory=list)
    #: currency -> outstanding minor units, over open (accepted, funded) financings
    exposure: dict[str, int] = field(default_factory=dict)
    #: exporter -> currency -> outstanding
    by_exporter: dict[str, dict[str, int]] = field(default_factory=dict)
    #: financier -> currency -> outstanding
    by_financier: dict[str, dict[str, int]] = field(default_factory=dict)
    overdue: list[int] = field(default_factory=list)
    defaulted: list[int] = field(default_factory=list)
    decimals: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditRecord:
    """One action on chain as the audit trail shows it: block, time, transaction, actor and counterparties."""

    event_id: int
    block: int
    time: int
    tx_hash: str
    contract: str
    event: str
    actor: str
    counterparties: tuple[str, ...]
    bill: int | None
    financing_id: int | None
    args: dict[str, Any]


def iso_time(timestamp: int | None) -> str:
    """A unix time as UTC ISO 8601 to the second (`2025-01-31T12:00:00Z`); empty for None or 0."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if timestamp else ""


def format_units(units: int, decimals: int) -> str:
    """`900000000000` with 6 decimals -> `900,000.000000` trimmed to the currency's usual two: `900,000.00`."""
    value = Decimal(units).scaleb(-decimals)
    shown = max(min(decimals, 2), 0)
    return f"{value:,.{shown}f}"


def _optional(value: str | None) -> int | None:
    return int(value, 16) if value else None


class Queries:
    """The read side over one index database. `directory` names accounts in what the CLI and exports show."""

    def __init__(self, engine: Engine, directory: Directory | None = None) -> None:
        self.engine = engine
        self.directory = directory or Directory()

    # --- who is asking, and the index itself -----------------------------------------------------------------

    def viewer(self, account: str) -> Viewer:
        """The viewer for `account`: a regulator when the index shows it an active REGULATOR participant."""
        address = to_address(account, what="account")
        with self.engine.connect() as conn:
            row = conn.execute(select(s.participants.c.roles, s.participants.c.status)
                               .where(s.participants.c.account == address)).first()
        regulator = row is not None and row.status == "active" and bool(row.roles & Role.REGULATOR)
        return Viewer(address, regulator)

    def status(self) -> IndexStatus:
        """The index's checkpoint: chain id, last indexed block and its time, and the indexed contracts. NotFound
        when nothing was indexed yet."""
        with self.engine.connect() as conn:
            state = conn.execute(select(s.index_state)).mappings().first()
            if state is None:
                raise NotFound("the index is empty: run `ebl index sync`")
        return IndexStatus(state["chain_id"], state["last_block"], state["last_time"], dict(state["contracts"]),
                           state["last_hash"])

    def event_count(self) -> int:
        """How many events the index holds (a full count: not for every request)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(s.events)).scalar_one())

    def now(self) -> int:
        """The chain's clock as the index saw it last (the last indexed block's time)."""
        with self.engine.connect() as conn:
            last_time = conn.execute(select(s.index_state.c.last_time)).scalar()
        if last_time is None:
            raise NotFound("the index is empty: run `ebl index sync`")
        return int(last_time)

    # --- bills ---------------------------------------------------------------------------------------------

    def _visible_bill(self, viewer: Viewer) -> ColumnElement[bool]:
        if viewer.regulator:
            return s.bills.c.token_id.is_not(None)
        return exists().where(and_(s.bill_parties.c.token_id == s.bills.c.token_id,
                                   s.bill_parties.c.account == viewer.account))

    def bills(self, viewer: Viewer, *, holder: str | None = None, beneficiary: str | None = None,
              carrier: str | None = None, status: str | None = None, limit: int | None = None) -> list[BillView]:
        """The bills the viewer may see, filtered; newest first."""
        where = [self._visible_bill(viewer)]
        for column, value, what in ((s.bills.c.holder, holder, "holder"),
                                    (s.bills.c.beneficiary, beneficiary, "beneficiary"),
                                    (s.bills.c.carrier, carrier, "carrier")):
            if value:
                where.append(column == to_address(value, what=what))
        if status:
            where.append(s.bills.c.status == _bill_status(status))
        query = select(s.bills).where(*where).order_by(s.bills.c.issued_block.desc(), s.bills.c.token_id)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [_bill_view(r) for r in conn.execute(query).mappings()]

    def bill(self, viewer: Viewer, token: int | str) -> BillView:
        """Bill `token` (decimal or 0x-hex); InvalidInput for a malformed id, NotFound when the index has no such
        bill, AccessDenied when the viewer is not a party to it."""
        key = s.token_key(parse_token_id(token))
        with self.engine.connect() as conn:
            row = conn.execute(select(s.bills).where(s.bills.c.token_id == key)).mappings().first()
            if row is None:
                raise NotFound(f"no bill {hex(int(key, 16))} in the index")
            if not conn.execute(select(self._visible_bill(viewer)).where(s.bills.c.token_id == key)).scalar():
                raise AccessDenied(f"{viewer.account} is not a party to bill {hex(int(key, 16))}")
        return _bill_view(row)

    def history(self, viewer: Viewer, token: int | str) -> list[TitleEvent]:
        """The chain of title, as `Bills.history` rebuilds it from the chain (compare with `verify_history`)."""
        view = self.bill(viewer, token)
        key = s.token_key(view.bill.token_id)
        with self.engine.connect() as conn:
            rows = conn.execute(select(s.title_events).where(s.title_events.c.token_id == key)
                                .order_by(s.title_events.c.event_id)).mappings().all()
        return [TitleEvent(token_id=view.bill.token_id, action=TitleAction[r["action"].upper()], actor=r["actor"],
                           holder=r["holder"], beneficiary=r["beneficiary"], remark_hash=r["remark_hash"],
                           block=r["block"], tx_hash=r["tx_hash"], log_index=r["log_index"], timestamp=r["time"])
                for r in rows]

    # --- the inbox -------------------------------------------------------------------------------------------

    def inbox(self, viewer: Viewer, account: str | None = None, *, now: int | None = None,
              horizon_days: int = DEFAULT_HORIZON_DAYS) -> list[Task]:
        """What waits for `account` (default the viewer) now, soonest due first."""
        who = to_address(account, what="account") if account else viewer.account
        if who != viewer.account and not viewer.regulator:
            raise AccessDenied(f"{viewer.account} may read only its own inbox")
        now = self.now() if now is None else now
        horizon = now + horizon_days * DAY
        tasks: list[Task] = []
        with self.engine.connect() as conn:
            grace = conn.execute(select(s.index_state.c.grace_period)).scalar_one()
            b = s.bills.c
            for r in conn.execute(select(s.bills).where(b.pending_recipient == who, b.status == "issued")).mappings():
                what = {"holder": "transfer", "beneficiary": "endorsement", "owners": "transfer and endorsement"}
                move = what.get(r["pending_move"], "move")
                tasks.append(Task("reject window", _token(r), f"{move} of bill {r['reference']} to you: you may "
                                  "reject it as your next action on the bill", f"ebl bill reject {_token(r)}",
                                  counterparty=self._last_actor(conn, r)))
            for r in conn.execute(select(s.bills).where(b.holder == who, b.nominee.is_not(None),
                                                        b.status == "issued")).mappings():
                tasks.append(Task("nomination", _token(r), f"the beneficiary of bill {r['reference']} nominated "
                                  f"{self.directory.label(r['nominee'])}: endorse it when instructed",
                                  f"ebl bill endorse {_token(r)} --to {r['nominee']}", counterparty=r["beneficiary"]))
            for r in conn.execute(select(s.bills).where(b.carrier == who, b.status.in_(
                    ("surrendered_for_delivery", "surrendered_for_amendment")))).mappings():
                token = _token(r)
                if r["status"] == "surrendered_for_delivery":
                    tasks.append(Task("surrender", token, f"bill {r['reference']} surrendered for delivery: accept "
                                      "(goods delivered) or reject", f"ebl bill accept-surrender {token} | "
                                      f"ebl bill reject-surrender {token}", counterparty=self._last_actor(conn, r)))
                else:
                    tasks.append(Task("surrender", token, f"bill {r['reference']} surrendered for amendment: amend, "
                                      "switch to paper or reject", f"ebl bill amend {token} --document FILE | "
                                      f"ebl bill switch-to-paper {token} --reason TEXT | "
                                      f"ebl bill reject-surrender {token}", counterparty=self._last_actor(conn, r)))
            tasks += self._financing_tasks(conn, who, now, horizon, grace)
            tasks += self._credit_tasks(conn, who, now, horizon)
            for r in conn.execute(select(s.balances).where(s.balances.c.account == who)).mappings():
                if r["owed"] > 0:
                    tasks.append(Task("withdraw", r["settlement_token"], f"the escrow owes you "
                                      f"{self._amount(conn, r['settlement_token'], r['owed'])}",
                                      f"ebl finance withdraw --token {r['settlement_token']}"))
        return sorted(tasks, key=lambda t: (t.due is None, t.due or 0, t.kind, t.subject))

    @staticmethod
    def _last_actor(conn: Any, bill: Any) -> str | None:
        """Who acted last on the bill: the sender of a move, the party that surrendered it."""
        last = conn.execute(select(s.title_events.c.actor).where(s.title_events.c.token_id == bill["token_id"])
                            .order_by(s.title_events.c.event_id.desc()).limit(1)).scalar()
        return str(last) if last else None

    def _financing_tasks(self, conn: Any, who: str, now: int, horizon: int, grace: int) -> list[Task]:
        f = s.financings.c
        tasks: list[Task] = []
        mine = or_(f.exporter == who, f.importer == who, f.financier == who)
        open_ones = conn.execute(select(s.financings).where(mine, f.state.in_(("requested", "accepted", "funded")))
                                 ).mappings().all()
        held = {r["financing_id"] for r in conn.execute(select(s.reservations).where(
            s.reservations.c.financing_id.in_([r["financing_id"] for r in open_ones]),
            s.reservations.c.status == "reserved")).mappings()}
        for r in open_ones:
            fid, amount = r["financing_id"], r["outstanding"]
            tag = f"#{fid}"
            reserved = fid in held and not r["reservation_lost"] and r["reserved_until"] >= now
            if r["state"] == "requested" and r["exporter"] == who:
                offers = conn.execute(select(s.offers).where(s.offers.c.financing_id == fid,
                                                             s.offers.c.withdrawn.is_(False),
                                                             s.offers.c.maturity > now)).mappings().all()
                for o in offers:
                    tasks.append(Task("offer", tag, f"{self.directory.label(o['financier'])} offers "
                                      f"{self._amount(conn, r['settlement_token'], o['principal'])} for a fee of "
                                      f"{self._amount(conn, r['settlement_token'], o['fee'])}, maturity "
                                      f"{iso_time(o['maturity'])[:10]}", f"ebl finance accept {fid} --financier "
                                      f"{o['financier']}", due=r["reserved_until"] if reserved else None,
                                      counterparty=o["financier"]))
            if r["state"] in ("requested", "accepted") and r["exporter"] == who and reserved \
                    and r["reserved_until"] <= horizon:
                tasks.append(Task("reservation", tag, f"the reservation of the invoice lapses on "
                                  f"{iso_time(r['reserved_until'])}: unless funded by then, another request may "
                                  "take the invoice over", f"ebl finance show {fid}", due=r["reserved_until"]))
            if r["state"] in ("requested", "accepted") and r["exporter"] == who and not reserved:
                tasks.append(Task("reservation", tag, "the invoice's reservation lapsed or was released: this "
                                  "financing can no longer be funded; cancel it to take the bill back",
                                  f"ebl finance cancel {fid}"))
            if r["state"] == "accepted" and r["financier"] == who:
                verified = conn.execute(select(s.verifications.c.status).where(
                    s.verifications.c.financier == who, s.verifications.c.subject == r["exporter"])).scalar()
                note = "" if verified == "approved" else " (first: an approved credit verification of the exporter)"
                tasks.append(Task("fund", tag, f"fund {self._amount(conn, r['settlement_token'], r['principal'])} to "
                                  f"{self.directory.label(r['exporter'])}{note}", f"ebl finance fund {fid}",
                                  due=min(r["maturity"], r["reserved_until"]) if reserved else r["maturity"],
                                  counterparty=r["exporter"]))
            if r["state"] == "funded" and who in (r["importer"], r["exporter"]):
                tasks.append(Task("repay", tag, f"repay {self._amount(conn, r['settlement_token'], amount)} to "
                                  f"{self.directory.label(r['financier'])}" + (" (overdue)" if now > r["maturity"]
                                                                               else ""),
                                  f"ebl finance repay {fid} --amount "
                                  f"{self._plain_amount(conn, r['settlement_token'], amount)}", due=r["maturity"],
                                  counterparty=r["financier"]))
            if r["state"] == "funded" and r["financier"] == who and now > r["maturity"] + grace:
                tasks.append(Task("claim", tag, f"unpaid {self._amount(conn, r['settlement_token'], amount)} past "
                                  "maturity and grace: you may claim the bill", f"ebl finance claim {fid}",
                                  due=r["maturity"] + grace, counterparty=r["exporter"]))
        o, f = s.offers.c, s.financings.c
        for r in conn.execute(select(s.offers, f.exporter, f.settlement_token).join(
                s.financings, f.financing_id == o.financing_id).where(
                o.financier == who, o.withdrawn.is_(False), f.state == "requested")).mappings():
            amount = self._amount(conn, r["settlement_token"], r["principal"])
            tasks.append(Task("offer", f"#{r['financing_id']}", f"your offer of {amount} awaits "
                              f"{self.directory.label(r['exporter'])}: withdraw it to change it",
                              f"ebl finance withdraw-offer {r['financing_id']}", counterparty=r["exporter"]))
        return tasks

    def _credit_tasks(self, conn: Any, who: str, now: int, horizon: int) -> list[Task]:
        tasks: list[Task] = []
        me = conn.execute(select(s.participants).where(s.participants.c.account == who)).mappings().first()
        bank = me["institution"] if me is not None and me["institution"] else None
        if bank is not None and me is not None and me["status"] == "active":
            v = s.verifications.c
            for r in conn.execute(select(s.verifications).where(v.financier == bank, v.status == "recorded",
                                                                v.maker != who)).mappings():
                tasks.append(Task("verification", f"{r['subject']}", f"verification of "
                                  f"{self.directory.label(r['subject'])} recorded by "
                                  f"{self.directory.label(r['maker'])} waits for a checker",
                                  f"ebl credit approve-verification --financier {bank} --subject {r['subject']}",
                                  due=r["recorded_time"], counterparty=r["subject"]))
        c = s.consents.c
        for r in conn.execute(select(s.consents).where(or_(c.subject == who, c.financier == who),
                                                       c.withdrawn.is_(False), c.expires_at > now,
                                                       c.expires_at <= horizon)).mappings():
            other = r["financier"] if r["subject"] == who else r["subject"]
            command = (f"ebl credit consent --root {r['root']} --financier {r['financier']} --days N"
                       if r["subject"] == who else f"ebl credit status --subject {r['subject']}")
            tasks.append(Task("consent", r["root"], f"consent of {self.directory.label(r['subject'])} to "
                              f"{self.directory.label(r['financier'])} expires on {iso_time(r['expires_at'])}",
                              command, due=r["expires_at"], counterparty=other))
        return tasks

    # --- the book ----------------------------------------------------------------------------------------------

    def _visible_financing(self, viewer: Viewer) -> ColumnElement[bool]:
        f = s.financings.c
        if viewer.regulator:
            return f.financing_id.is_not(None)
        offered = exists().where(and_(s.offers.c.financing_id == f.financing_id,
                                      s.offers.c.financier == viewer.account))
        market = and_(f.state == "requested", exists().where(and_(
            s.participants.c.account == viewer.account, s.participants.c.status == "active",
            s.participants.c.roles.op("&")(int(Role.FINANCIER)) != 0)))
        return or_(f.exporter == viewer.account, f.importer == viewer.account, f.financier == viewer.account,
                   offered, market)

    def book(self, viewer: Viewer, *, financier: str | None = None, exporter: str | None = None,
             now: int | None = None, horizon_days: int = DEFAULT_HORIZON_DAYS) -> Book:
        """Open financings (requested, accepted, funded) and defaulted ones not fully recovered; exposure by
        currency, per exporter and per financier; overdue and defaulted."""
        now = self.now() if now is None else now
        f = s.financings.c
        where = [self._visible_financing(viewer), f.state.in_(("requested", "accepted", "funded", "defaulted"))]
        if financier:
            where.append(f.financier == to_address(financier, what="financier"))
        if exporter:
            where.append(f.exporter == to_address(exporter, what="exporter"))
        book = Book()
        with self.engine.connect() as conn:
            grace = conn.execute(select(s.index_state.c.grace_period)).scalar_one()
            tokens = {r.address: r for r in conn.execute(select(s.tokens))}
            rows = conn.execute(select(s.financings).where(*where).order_by(f.maturity, f.financing_id)).mappings()
            for r in rows:
                token = tokens.get(r["settlement_token"])
                currency = token.symbol if token else r["settlement_token"]
                book.decimals[currency] = token.decimals if token else 0
                unrecovered = r["principal"] + r["fee"] - r["repaid"]
                standing = _standing(r["state"], r["maturity"], now, grace, horizon_days)
                line = BookLine(r["financing_id"], int(r["token_id"], 16), r["state"], r["exporter"], r["importer"],
                                r["financier"], r["settlement_token"], currency, r["principal"], r["fee"], r["repaid"],
                                r["outstanding"] if r["state"] != "defaulted" else unrecovered, r["maturity"],
                                standing)
                if r["state"] == "defaulted":
                    if unrecovered <= 0:
                        continue
                    book.defaulted.append(line.financing_id)
                if r["state"] == "funded" and now > r["maturity"]:
                    book.overdue.append(line.financing_id)
                if r["state"] in OPEN_STATES:
                    book.exposure[currency] = book.exposure.get(currency, 0) + line.outstanding
                    _add(book.by_exporter, line.exporter, currency, line.outstanding)
                    if line.financier:
                        _add(book.by_financier, line.financier, currency, line.outstanding)
                book.lines.append(line)
        return book

    # --- the audit trail ------------------------------------------------------------------------------------

    def audit(self, viewer: Viewer, *, participant: str | None = None, token: int | str | None = None,
              everything: bool = False, since: int | None = None, until: int | None = None) -> list[AuditRecord]:
        """Every action across the four contracts for one participant, one bill, or all (regulator), in
        chain order, between `since` and `until` (unix times, inclusive)."""
        if sum(x is not None and x is not False for x in (participant, token, everything or None)) != 1:
            raise InvalidInput("give exactly one of: a participant, a bill, or everything")
        e = s.events.c
        where: list[ColumnElement[bool]] = []
        if everything:
            if not viewer.regulator:
                raise AccessDenied("only a regulator exports the whole audit trail")
        elif participant is not None:
            account = to_address(participant, what="participant")
            if account != viewer.account and not viewer.regulator:
                raise AccessDenied(f"{viewer.account} may export only its own audit trail")
            where.append(exists().where(and_(s.event_parties.c.event_id == e.id, s.event_parties.c.account == account)))
        else:
            assert token is not None
            view = self.bill(viewer, token)  # AccessDenied unless the viewer is party to the bill
            where.append(e.token_id == s.token_key(view.bill.token_id))
        if since is not None:
            where.append(e.time >= since)
        if until is not None:
            where.append(e.time <= until)
        with self.engine.connect() as conn:
            rows = conn.execute(select(s.events).where(*where).order_by(e.id)).mappings().all()
            parties: dict[int, list[str]] = defaultdict(list)
            ids = [r["id"] for r in rows]
            for chunk in (ids[i:i + 1000] for i in range(0, len(ids), 1000)):
                for p in conn.execute(select(s.event_parties).where(s.event_parties.c.event_id.in_(chunk),
                                                                    s.event_parties.c.role == "party")
                                      .order_by(s.event_parties.c.event_id, s.event_parties.c.account)):
                    parties[p.event_id].append(p.account)
        return [AuditRecord(r["id"], r["block"], r["time"], r["tx_hash"], r["contract"], r["event"], r["actor"],
                            tuple(parties[r["id"]]), _optional(r["token_id"]), r["financing_id"], dict(r["args"]))
                for r in rows]

    def audit_rows(self, records: Iterable[AuditRecord]) -> list[dict[str, Any]]:
        """Audit records as flat rows for a supervisor's tools (CSV or JSON): names next to addresses."""
        label = self.directory.name
        return [{
            "block": r.block, "time": iso_time(r.time), "transaction": r.tx_hash, "contract": r.contract,
            "event": r.event, "actor": r.actor, "actorName": label(r.actor) or "",
            "counterparties": "; ".join(r.counterparties),
            "counterpartyNames": "; ".join(label(c) or c for c in r.counterparties),
            "bill": hex(r.bill) if r.bill is not None else "", "financing": r.financing_id or "",
            "details": json.dumps(r.args, sort_keys=True, separators=(",", ":")),
        } for r in records]

    # --- the supervisor's report -----------------------------------------------------------------------------

    def report(self, viewer: Viewer, *, now: int | None = None, days: int = 30) -> dict[str, Any]:
        """Bills by status and jurisdiction (of the holder), financing exposure by bank and by jurisdiction
        pair (exporter -> importer), maturities in the next `days`, credit verifications by bank, suspended
        participants and what they still hold. Regulators only."""
        if not viewer.regulator:
            raise AccessDenied("the supervisor's report is for regulators")
        now = self.now() if now is None else now
        book = self.book(viewer, now=now)
        with self.engine.connect() as conn:
            jurisdictions = {r.account: r.jurisdiction for r in conn.execute(
                select(s.participants.c.account, s.participants.c.jurisdiction))}
            bills_by: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            for r in conn.execute(select(s.bills.c.status, s.bills.c.holder)):
                bills_by[r.status][jurisdictions.get(r.holder, "??")] += 1
            verifications: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            for r in conn.execute(select(s.verifications.c.financier, s.verifications.c.status)):
                verifications[r.financier][r.status] += 1
            suspended = []
            for p in conn.execute(select(s.participants).where(s.participants.c.status == "suspended")).mappings():
                held = conn.execute(select(s.bills.c.token_id).where(
                    s.bills.c.holder == p["account"], s.bills.c.status.in_(_LIVE))).scalars().all()
                financed = conn.execute(select(s.financings.c.financing_id).where(
                    or_(s.financings.c.exporter == p["account"], s.financings.c.importer == p["account"],
                        s.financings.c.financier == p["account"]), s.financings.c.state.in_(
                        ("requested", "accepted", "funded")))).scalars().all()
                suspended.append({"account": p["account"], "name": self.directory.name(p["account"]),
                                  "since": iso_time(p["suspended_time"]), "jurisdiction": p["jurisdiction"],
                                  "billsHeld": [hex(int(t, 16)) for t in held], "openFinancings": list(financed)})
        by_pair: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for line in book.lines:
            if line.state in OPEN_STATES:
                pair = f"{jurisdictions.get(line.exporter, '??')}->{jurisdictions.get(line.importer, '??')}"
                by_pair[pair][line.currency] += line.outstanding
        maturities = [{"financing": line.financing_id, "maturity": iso_time(line.maturity), "financier": line.financier,
                       "financierName": self.directory.name(line.financier), "currency": line.currency,
                       "outstanding": line.outstanding}
                      for line in book.lines if line.state == "funded" and now <= line.maturity <= now + days * DAY]
        return {
            "asOf": iso_time(now),
            "billsByStatusAndJurisdiction": {k: dict(v) for k, v in sorted(bills_by.items())},
            "exposureByBank": {bank: {"name": self.directory.name(bank), "exposure": exposure}
                               for bank, exposure in sorted(book.by_financier.items())},
            "exposureByJurisdictionPair": {k: dict(v) for k, v in sorted(by_pair.items())},
            "maturitiesNext30Days" if days == 30 else f"maturitiesNext{days}Days": maturities,
            "overdue": book.overdue, "defaulted": book.defaulted,
            "verificationsByBank": {bank: {"name": self.directory.name(bank), **counts}
                                    for bank, counts in sorted(verifications.items())},
            "suspendedParticipants": suspended,
            "decimals": book.decimals,
        }

    # --- helpers ------------------------------------------------------------------------------------------------

    @staticmethod
    def _token_meta(conn: Any, token: str) -> tuple[str, int]:
        row = conn.execute(select(s.tokens).where(s.tokens.c.address == token)).first()
        return (row.symbol, row.decimals) if row is not None else (token, 0)

    def _amount(self, conn: Any, token: str, units: int) -> str:
        symbol, decimals = self._token_meta(conn, token)
        return f"{symbol} {format_units(units, decimals)}"

    def _plain_amount(self, conn: Any, token: str, units: int) -> str:
        _, decimals = self._token_meta(conn, token)
        return format(Decimal(units).scaleb(-decimals).normalize(), "f")


_LIVE = ("issued", "surrendered_for_delivery", "surrendered_for_amendment")


def _add(table: dict[str, dict[str, int]], key: str, currency: str, amount: int) -> None:
    table.setdefault(key, {})
    table[key][currency] = table[key].get(currency, 0) + amount


def _standing(state: str, maturity: int, now: int, grace: int, horizon_days: int) -> str:
    if state == "defaulted":
        return "defaulted"
    if state != "funded":
        return state
    if now > maturity + grace:
        return "claimable"
    if now > maturity:
        return "overdue"
    return "due soon" if maturity - now <= horizon_days * DAY else "current"


def _token(row: Any) -> str:
    return hex(int(row["token_id"], 16))


def _bill_status(text: str) -> str:
    value = text.strip().lower().replace("-", "_").replace(" ", "_")
    names = [m.name.lower() for m in BillStatus if m is not BillStatus.NONE]
    if value not in names:
        raise InvalidInput(f"bill status {text!r} is not one of: {', '.join(names)}")
    return value


def _bill_view(r: Any) -> BillView:
    token = int(r["token_id"], 16)
    bill = Bill(
        token_id=token, transport_document_reference=r["reference"] or "", carrier=r["carrier"], holder=r["holder"],
        beneficiary=r["beneficiary"], nominee=r["nominee"], status=BillStatus[r["status"].upper()],
        straight=bool(r["straight"]), blank_endorsed=not r["straight"] and r["beneficiary"] is None,
        issued_block=r["issued_block"], document_hash=r["document_hash"] or "", generation=r["generation"],
        predecessor=_optional(r["predecessor"]), successor=_optional(r["successor"]),
    )
    return BillView(bill, r["financing_id"], r["pending_recipient"], r["last_action"], r["last_time"])


def compare_history(indexed: Sequence[TitleEvent], on_chain: Sequence[TitleEvent]) -> list[str]:
    """Where the index's chain of title differs from the chain's (`Bills.history`); empty when they agree."""
    differences = []
    for i, (a, b) in enumerate(zip(indexed, on_chain, strict=False)):
        if a != b:
            differences.append(f"#{i + 1}: index {a.action.name.lower()} in {a.tx_hash} at block {a.block}, chain "
                               f"{b.action.name.lower()} in {b.tx_hash} at block {b.block}")
    if len(indexed) != len(on_chain):
        differences.append(f"the index has {len(indexed)} actions, the chain {len(on_chain)} (is the index current?)")
    return differences
