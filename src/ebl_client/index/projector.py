"""From events to current state: one handler per event of the suite, applied in chain order.

The derived tables are a pure function of the event log, so `replay` can always rebuild them from the
`events` table (after a reorganisation, or when `VERSION` changes) without asking the node. A page of
events is applied to `Rows`, an in-memory copy of the rows it touches, and written back in bulk at the
end of the page: the indexer's page is one database transaction, checkpoint included.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak
from sqlalchemy import Connection, Table, and_, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from ..models import BillStatus, FinancingState, TitleAction
from . import schema as s
from .events import checksummed

#: bump when a handler changes what it derives: the indexer then replays the stored events
VERSION = 1
ZERO = "0x" + "00" * 20

#: the argument naming who acted, per event; other events: the transaction's signer
ACTOR_ARG = {
    "TitleAction": "actor", "Anchored": "provider", "BatchAnchored": "provider", "Revoked": "revokedBy",
    "ConsentGranted": "subject", "ConsentWithdrawn": "subject", "VerificationRecorded": "maker",
    "VerificationApproved": "checker", "Requested": "exporter", "Offered": "financier",
    "OfferWithdrawn": "financier", "Funded": "financier", "Repaid": "payer", "Claimed": "financier",
    "Cancelled": "exporter", "Withdrawn": "account",
}
#: address arguments that name a contract rather than a party
NOT_PARTIES = frozenset({"token"})

_TITLE_STATUS = {
    TitleAction.SURRENDER_FOR_DELIVERY: BillStatus.SURRENDERED_FOR_DELIVERY,
    TitleAction.SURRENDER_FOR_AMENDMENT: BillStatus.SURRENDERED_FOR_AMENDMENT,
    TitleAction.SURRENDER_ACCEPTED: BillStatus.ACCOMPLISHED,
    TitleAction.AMEND: BillStatus.VOIDED,
    TitleAction.SWITCH_TO_PAPER: BillStatus.VOIDED,
}
#: the moves a recipient may reject next, and who that recipient is ("holder" or "beneficiary" after it)
_REJECTABLE = {TitleAction.TRANSFER: ("holder", "holder"), TitleAction.ENDORSE: ("beneficiary", "beneficiary"),
               TitleAction.TRANSFER_OWNERS: ("owners", "holder")}
#: actions that set the beneficiary (and so lapse a standing nomination), besides a reject of such a move
_SETS_BENEFICIARY = {TitleAction.ENDORSE, TitleAction.TRANSFER_OWNERS, TitleAction.BLANK_ENDORSE, TitleAction.PLEDGE}


def name(value: Any) -> str:
    """An enum member as the index stores it: `SURRENDERED_FOR_DELIVERY` -> `surrendered_for_delivery`."""
    return str(value.name).lower()


def optional(address: str) -> str | None:
    return None if address == ZERO else address


def carrier_of(token_id: int) -> str:
    return checksummed(f"0x{token_id & ((1 << 160) - 1):040x}")


def generation_of(token_id: int, reference: bytes) -> int:
    """The generation encoded in a token id: id = ((h + generation) mod 2**96) << 160 | carrier, with h the
    low 96 bits of keccak256(abi.encode(reference))."""
    h = int.from_bytes(keccak(reference.ljust(32, b"\0")), "big") & ((1 << 96) - 1)
    return ((token_id >> 160) - h) % (1 << 96)


@dataclass(frozen=True)
class Row:
    """One stored event, as the handlers see it."""

    id: int
    block: int
    time: int
    tx_hash: str
    tx_from: str
    log_index: int
    contract: str
    event: str
    args: dict[str, Any]


def actor(event: str, args: dict[str, Any], tx_from: str) -> str:
    arg = ACTOR_ARG.get(event)
    return str(args[arg]) if arg else tx_from


def parties(event: str, args: dict[str, Any], tx_from: str) -> dict[str, str]:
    """Every account an event concerns: its actor, and every other address it names (role "party")."""
    found = {actor(event, args, tx_from): "actor"}
    for key, value in args.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            if key not in NOT_PARTIES and isinstance(v, str) and len(v) == 42 and v.startswith("0x") and v != ZERO:
                found.setdefault(v, "party")
    return found


class Rows:
    """The derived rows a page touches: read once from the database, changed in memory, written back by
    `flush` in one bulk statement per table and kind."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._rows: dict[Table, dict[tuple[Any, ...], dict[str, Any] | None]] = defaultdict(dict)
        self._new: dict[Table, set[tuple[Any, ...]]] = defaultdict(set)
        self._dirty: dict[Table, set[tuple[Any, ...]]] = defaultdict(set)
        self._appended: dict[Table, list[dict[str, Any]]] = defaultdict(list)
        self._bill_parties: set[tuple[str, str]] = set()
        #: per transaction: the bill an amendment voided, which the transaction's BillIssued succeeds
        self.amended: dict[str, str] = {}

    @staticmethod
    def _key(table: Table, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row[c.name] for c in table.primary_key.columns)

    def prefetch(self, table: Table, keys: Iterable[tuple[Any, ...]]) -> None:
        """Load the rows of many primary keys with one query per 500 (by the key's first column), so a page
        does not ask for its bills, financings, offers and reservations one at a time."""
        columns = list(table.primary_key.columns)
        wanted = {k for k in keys if k not in self._rows[table]}
        firsts = sorted({k[0] for k in wanted})
        found: dict[tuple[Any, ...], dict[str, Any]] = {}
        for chunk in _chunks(firsts, 500):
            for row in self.conn.execute(select(table).where(columns[0].in_(chunk))).mappings():
                found[tuple(row[c.name] for c in columns)] = dict(row)
        for key in wanted:
            self._rows[table][key] = found.get(key)

    def get(self, table: Table, *key: Any) -> dict[str, Any] | None:
        if key not in self._rows[table]:
            columns = table.primary_key.columns
            where = and_(*(c == k for c, k in zip(columns, key, strict=True)))
            found = self.conn.execute(select(table).where(where)).mappings().first()
            self._rows[table][key] = dict(found) if found is not None else None
        return self._rows[table][key]

    def require(self, table: Table, *key: Any) -> dict[str, Any]:
        row = self.get(table, *key)
        if row is None:
            raise LookupError(f"{table.name} {key} is not in the index: the event log is incomplete")
        return row

    def put(self, table: Table, row: dict[str, Any]) -> None:
        """Insert or replace a whole row."""
        key = self._key(table, row)
        existing = self.get(table, *key)
        if existing is None:
            self._new[table].add(key)
        elif key not in self._new[table]:
            self._dirty[table].add(key)
        self._rows[table][key] = dict(row)

    def update(self, table: Table, *key: Any, **changes: Any) -> None:
        row = self.require(table, *key)
        row.update(changes)
        if key not in self._new[table]:
            self._dirty[table].add(key)

    def append(self, table: Table, row: dict[str, Any]) -> None:
        self._appended[table].append(row)

    def bill_party(self, token: str, *accounts: str | None) -> None:
        for account in accounts:
            if account and account != ZERO:
                self._bill_parties.add((account, token))

    def _written(self, table: Table, keys: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
        return [row for k in keys if (row := self._rows[table][k]) is not None]

    def flush(self) -> None:
        for table, keys in self._new.items():
            if keys:
                self.conn.execute(table.insert(), self._written(table, sorted(keys, key=repr)))
        for table, keys in self._dirty.items():
            if not keys:
                continue
            pk = [c.name for c in table.primary_key.columns]
            statement = table.update().where(and_(*(table.c[n] == bindparam(f"pk_{n}") for n in pk))).values(
                {c.name: bindparam(c.name) for c in table.columns if c.name not in pk})
            self.conn.execute(statement, [{**r, **{f"pk_{n}": r[n] for n in pk}} for r in self._written(table, keys)])
        for table, rows in self._appended.items():
            if rows:
                self.conn.execute(table.insert(), rows)
        if self._bill_parties:
            self._insert_missing(s.bill_parties, [{"account": a, "token_id": t} for a, t in sorted(self._bill_parties)])
        self._new.clear()
        self._dirty.clear()
        self._appended.clear()
        self._bill_parties.clear()

    def _insert_missing(self, table: Table, rows: list[dict[str, Any]]) -> None:
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        for chunk in _chunks(rows, 1000):
            self.conn.execute(dialect.insert(table).on_conflict_do_nothing(), chunk)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# --- handlers ------------------------------------------------------------------------------------------

Handler = Callable[[Rows, Row], None]
HANDLERS: dict[str, Handler] = {}


def handles(*events: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for event in events:
            HANDLERS[event] = fn
        return fn

    return register


def _setting(rows: Rows, e: Row, setting: str, value: Any) -> None:
    rows.put(s.settings, {"contract": e.contract, "name": setting, "value": str(value).lower()})


# participant registry

@handles("ParticipantOnboarded")
def _onboarded(rows: Rows, e: Row) -> None:
    a = e.args
    rows.put(s.participants, {
        "account": a["account"], "roles": a["roles"], "status": "active",
        "jurisdiction": bytes.fromhex(a["jurisdiction"][2:]).decode("ascii", errors="replace"),
        "identifier_hash": a["identifierHash"], "institution": optional(a["institution"]),
        "onboarded_time": e.time, "suspended_time": None, "suspension_reason_hash": None,
    })


@handles("ParticipantRolesUpdated")
def _roles_updated(rows: Rows, e: Row) -> None:
    rows.update(s.participants, e.args["account"], roles=e.args["roles"], institution=optional(e.args["institution"]))


@handles("ParticipantSuspended")
def _suspended(rows: Rows, e: Row) -> None:
    rows.update(s.participants, e.args["account"], status="suspended", suspended_time=e.time,
                suspension_reason_hash=e.args["reasonHash"])


@handles("ParticipantReinstated")
def _reinstated(rows: Rows, e: Row) -> None:
    rows.update(s.participants, e.args["account"], status="active", suspended_time=None, suspension_reason_hash=None)


@handles("Paused", "Unpaused")
def _paused(rows: Rows, e: Row) -> None:
    _setting(rows, e, "paused", e.event == "Paused")


# title registry

@handles("BillIssued")
def _bill_issued(rows: Rows, e: Row) -> None:
    """Emitted before the bill's TitleAction(Issue), which sets its parties; an amendment's successor is
    issued in the transaction whose TitleAction(Amend) voided its predecessor."""
    a = e.args
    token = int(a["tokenId"], 16)
    key = s.token_key(token)
    reference = bytes.fromhex(a["transportDocumentReference"][2:])
    predecessor = rows.amended.get(e.tx_hash)
    rows.put(s.bills, {
        "token_id": key, "carrier": carrier_of(token),
        "reference": reference.rstrip(b"\0").decode("ascii", errors="replace"),
        "document_hash": a["documentHash"], "straight": bool(a["straight"]), "holder": ZERO, "beneficiary": None,
        "nominee": None, "status": name(BillStatus.ISSUED), "pending_recipient": None, "pending_move": None,
        "generation": generation_of(token, reference), "predecessor": predecessor, "successor": None,
        "financing_id": None, "issued_block": e.block, "issued_time": e.time,
        "last_action": name(TitleAction.ISSUE), "last_time": e.time,
    })
    if predecessor is not None:
        rows.update(s.bills, predecessor, successor=key)


@handles("TitleAction")
def _title_action(rows: Rows, e: Row) -> None:
    a = e.args
    key = s.token_key(a["tokenId"])
    action = TitleAction(a["action"])
    bill = rows.require(s.bills, key)
    holder, beneficiary = a["holder"], optional(a["beneficiary"])
    rows.append(s.title_events, {
        "event_id": e.id, "token_id": key, "action": name(action), "actor": a["actor"], "holder": holder,
        "beneficiary": beneficiary, "remark_hash": None if int(a["remarkHash"], 16) == 0 else a["remarkHash"],
        "block": e.block, "log_index": e.log_index, "time": e.time, "tx_hash": e.tx_hash,
    })
    rows.bill_party(key, bill["carrier"], a["actor"], holder, beneficiary)
    changes: dict[str, Any] = {"last_action": name(action), "last_time": e.time}
    if action is TitleAction.NOMINATE:  # the event's beneficiary is the nominee; the window stays open
        rows.update(s.bills, key, nominee=beneficiary, **changes)
        return
    lapses = action in _SETS_BENEFICIARY or (action is TitleAction.REJECT and bill["pending_move"] != "holder")
    move = _REJECTABLE.get(action)
    status = _TITLE_STATUS.get(action, BillStatus.ISSUED)
    changes.update(
        holder=holder, beneficiary=beneficiary, status=name(status),
        pending_move=move[0] if move else None,
        pending_recipient=(holder if move[1] == "holder" else beneficiary) if move else None,
    )
    if lapses or action in (TitleAction.ISSUE, TitleAction.AMEND, TitleAction.SWITCH_TO_PAPER,
                            TitleAction.SURRENDER_ACCEPTED):
        changes["nominee"] = None
    if action is TitleAction.AMEND:
        rows.amended[e.tx_hash] = key
    rows.update(s.bills, key, **changes)


# credit-hash registry

def _anchor(rows: Rows, e: Row, provider: str, subject: str, root: str, schema: str, expires_at: int) -> None:
    rows.put(s.credit_records, {
        "provider": provider, "subject": subject, "root": root, "schema": schema, "anchored_time": e.time,
        "expires_at": expires_at, "revoked": False, "revoked_by": None, "revoked_time": None,
    })


@handles("Anchored")
def _anchored(rows: Rows, e: Row) -> None:
    a = e.args
    _anchor(rows, e, a["provider"], a["subject"], a["root"], a["schema"], a["expiresAt"])


@handles("BatchAnchored")
def _batch_anchored(rows: Rows, e: Row) -> None:
    a = e.args
    for subject, root in zip(a["subjects"], a["roots"], strict=True):
        _anchor(rows, e, a["provider"], subject, root, a["schema"], a["expiresAt"])


@handles("Revoked")
def _revoked(rows: Rows, e: Row) -> None:
    a = e.args
    rows.update(s.credit_records, a["provider"], a["subject"], a["root"], revoked=True, revoked_by=a["revokedBy"],
                revoked_time=e.time)


@handles("ConsentGranted")
def _consent_granted(rows: Rows, e: Row) -> None:
    a = e.args
    rows.put(s.consents, {"provider": a["provider"], "subject": a["subject"], "root": a["root"],
                          "financier": a["financier"], "granted_time": e.time, "expires_at": a["expiresAt"],
                          "withdrawn": False})


@handles("ConsentWithdrawn")
def _consent_withdrawn(rows: Rows, e: Row) -> None:
    a = e.args
    rows.update(s.consents, a["provider"], a["subject"], a["root"], a["financier"], withdrawn=True)


@handles("VerificationRecorded")
def _verification_recorded(rows: Rows, e: Row) -> None:
    a = e.args
    rows.put(s.verifications, {
        "financier": a["financier"], "subject": a["subject"], "provider": a["provider"], "root": a["root"],
        "status": "recorded", "maker": a["maker"], "recorded_time": e.time, "checker": None, "approved_time": None,
    })


@handles("VerificationApproved")
def _verification_approved(rows: Rows, e: Row) -> None:
    a = e.args
    rows.update(s.verifications, a["financier"], a["subject"], status="approved", checker=a["checker"],
                approved_time=e.time)


@handles("MaxValidityChanged")
def _max_validity(rows: Rows, e: Row) -> None:
    _setting(rows, e, "maxValidity", e.args["maxValidity"])


# financing escrow

@handles("TokenAllowed")
def _token_allowed(rows: Rows, e: Row) -> None:
    _setting(rows, e, f"allowed:{e.args['token']}", e.args["allowed"])


@handles("MinTenorChanged")
def _min_tenor(rows: Rows, e: Row) -> None:
    _setting(rows, e, "minTenor", e.args["minTenor"])


@handles("ReservationPeriodChanged")
def _reservation_period(rows: Rows, e: Row) -> None:
    _setting(rows, e, "reservationPeriod", e.args["reservationPeriod"])


@handles("Requested")
def _requested(rows: Rows, e: Row) -> None:
    a = e.args
    fid, token = int(a["financingId"]), s.token_key(a["tokenId"])
    fingerprint = a["invoiceFingerprint"]
    previous = rows.get(s.reservations, fingerprint)
    if previous is not None and previous["status"] == "reserved":  # a lapsed reservation taken over
        rows.update(s.financings, previous["financing_id"], reservation_lost=True)
    rows.put(s.reservations, {"invoice_fingerprint": fingerprint, "financing_id": fid,
                              "reserved_until": a["reservedUntil"], "status": "reserved"})
    rows.put(s.financings, {
        "financing_id": fid, "token_id": token, "exporter": a["exporter"], "importer": a["importer"],
        "settlement_token": a["token"], "requested_amount": int(a["amount"]), "requested_maturity": a["maturity"],
        "invoice_fingerprint": fingerprint, "reserved_until": a["reservedUntil"], "reservation_lost": False,
        "state": name(FinancingState.REQUESTED), "financier": None, "principal": int(a["amount"]), "fee": 0,
        "maturity": a["maturity"], "repaid": 0, "outstanding": 0, "delivered": False, "requested_time": e.time,
        "accepted_time": None, "funded_time": None, "closed_time": None,
    })
    rows.update(s.bills, token, financing_id=fid)
    rows.bill_party(token, a["exporter"], a["importer"])


@handles("Offered")
def _offered(rows: Rows, e: Row) -> None:
    a = e.args
    rows.put(s.offers, {"financing_id": int(a["financingId"]), "financier": a["financier"],
                        "principal": int(a["principal"]), "fee": int(a["fee"]), "maturity": a["maturity"],
                        "withdrawn": False, "offered_time": e.time})


@handles("OfferWithdrawn")
def _offer_withdrawn(rows: Rows, e: Row) -> None:
    rows.update(s.offers, int(e.args["financingId"]), e.args["financier"], withdrawn=True)


@handles("Accepted")
def _accepted(rows: Rows, e: Row) -> None:
    a = e.args
    fid = int(a["financingId"])
    principal, fee = int(a["principal"]), int(a["fee"])
    rows.update(s.financings, fid, state=name(FinancingState.ACCEPTED), financier=a["financier"], principal=principal,
                fee=fee, maturity=a["maturity"], outstanding=principal + fee, accepted_time=e.time)
    rows.bill_party(rows.require(s.financings, fid)["token_id"], a["financier"])


@handles("Funded")
def _funded(rows: Rows, e: Row) -> None:
    f = rows.require(s.financings, int(e.args["financingId"]))
    rows.update(s.financings, f["financing_id"], state=name(FinancingState.FUNDED), funded_time=e.time)
    rows.update(s.reservations, f["invoice_fingerprint"], status="financed")


@handles("Repaid")
def _repaid(rows: Rows, e: Row) -> None:
    a = e.args
    f = rows.require(s.financings, int(a["financingId"]))
    amount = int(a["amount"])
    rows.update(s.financings, f["financing_id"], repaid=f["repaid"] + amount, outstanding=int(a["outstanding"]))
    _credit(rows, f["financier"], f["settlement_token"], amount)


def _credit(rows: Rows, account: str, token: str, amount: int) -> None:
    balance = rows.get(s.balances, account, token)
    owed = (balance["owed"] if balance else 0) + amount
    rows.put(s.balances, {"account": account, "settlement_token": token, "owed": owed})


def _close(rows: Rows, e: Row, state: FinancingState) -> dict[str, Any]:
    f = rows.require(s.financings, int(e.args["financingId"]))
    rows.update(s.financings, f["financing_id"], state=name(state), outstanding=0, delivered=bool(e.args["delivered"]),
                closed_time=e.time)
    return f


@handles("Released")
def _released(rows: Rows, e: Row) -> None:
    _close(rows, e, FinancingState.REPAID)


@handles("Claimed")
def _claimed(rows: Rows, e: Row) -> None:
    _close(rows, e, FinancingState.DEFAULTED)


@handles("Cancelled")
def _cancelled(rows: Rows, e: Row) -> None:
    f = _close(rows, e, FinancingState.CANCELLED)
    reservation = rows.get(s.reservations, f["invoice_fingerprint"])
    if reservation is not None and reservation["financing_id"] == f["financing_id"]:
        rows.update(s.reservations, f["invoice_fingerprint"], status="free")


@handles("Redelivered")
def _redelivered(rows: Rows, e: Row) -> None:
    rows.update(s.financings, int(e.args["financingId"]), delivered=True)


@handles("ReservationReleased")
def _reservation_released(rows: Rows, e: Row) -> None:
    a = e.args
    rows.update(s.reservations, a["invoiceFingerprint"], status="free")
    rows.update(s.financings, int(a["financingId"]), reservation_lost=True)


@handles("Withdrawn")
def _withdrawn(rows: Rows, e: Row) -> None:
    _credit(rows, e.args["account"], e.args["token"], -int(e.args["amount"]))


# --- applying -------------------------------------------------------------------------------------------


def apply(rows: Rows, page: list[Row]) -> None:
    """Apply a page of events, in chain order, to `rows` (flushed by the caller)."""
    rows.prefetch(s.bills, {(s.token_key(e.args["tokenId"]),) for e in page if "tokenId" in e.args})
    rows.prefetch(s.financings, {(int(e.args["financingId"]),) for e in page if "financingId" in e.args})
    rows.prefetch(s.offers, {(int(e.args["financingId"]), e.args["financier"]) for e in page
                             if e.event in ("Offered", "OfferWithdrawn")})
    rows.prefetch(s.reservations, {(e.args["invoiceFingerprint"],) for e in page if "invoiceFingerprint" in e.args})
    for e in page:
        handler = HANDLERS.get(e.event)
        if handler is not None:
            handler(rows, e)


def bill_of(rows: Rows, event: str, args: dict[str, Any]) -> tuple[str | None, int | None]:
    """The bill (and financing) an event concerns, for the audit trail of one bill."""
    if "tokenId" in args:
        return s.token_key(args["tokenId"]), int(args["financingId"]) if "financingId" in args else None
    if "financingId" in args:
        fid = int(args["financingId"])
        f = rows.get(s.financings, fid)
        return (f["token_id"] if f else None), fid
    return None, None


def replay(conn: Connection, *, batch: int = 5000) -> int:
    """Empty the derived tables and rebuild them from the stored events; the number of events replayed."""
    for table in reversed(s.DERIVED):
        conn.execute(delete(table))
    count, after = 0, -1
    columns = [s.events.c.id, s.events.c.block, s.events.c.time, s.events.c.tx_hash, s.events.c.tx_from,
               s.events.c.log_index, s.events.c.contract, s.events.c.event, s.events.c.args]
    while True:
        found = conn.execute(select(*columns).where(s.events.c.id > after).order_by(s.events.c.id).limit(batch)).all()
        if not found:
            return count
        page = [Row(*r) for r in found]
        rows = Rows(conn)
        apply(rows, page)
        rows.flush()
        count += len(page)
        after = page[-1].id

