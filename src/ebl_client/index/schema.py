"""The index's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Two kinds: the raw event log (`events`, with `event_parties` naming every account an event concerns, and
the `blocks` whose hashes detect a replaced or reorganised chain) and the current state derived from it
(participants, bills and their title history, credit records, consents and verifications, financings,
offers, invoice reservations, what the escrow owes). The derived tables are a pure function of `events`:
`projector.replay` rebuilds them from it without asking the node.

Conventions: addresses are checksummed text; bill token ids are 0x + 64 lower-case hex digits (256-bit
ids fit no SQL integer; fixed width keeps equality and order simple); amounts (uint96 minor units) are
exact decimal text (`Amount`), summed in Python; times are unix seconds of the chain's clock; statuses and
states are the lower-case names of the contracts' enums. Alembic migrations (`migrations/`) create exactly
these tables; a test compares the two.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

ADDRESS = 42
HASH = 66
Json = JSON().with_variant(JSONB(), "postgresql")


class Amount(TypeDecorator[int]):
    """An exact unsigned integer as decimal text: uint96 token amounts overflow SQLite's 64-bit integers."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: Dialect) -> str | None:
        return None if value is None else str(int(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


def token_key(token_id: int | str) -> str:
    """A bill token id as the index stores it: 0x + 64 lower-case hex digits."""
    value = int(token_id, 16) if isinstance(token_id, str) else int(token_id)
    return f"0x{value:064x}"


# --- checkpoint and raw log ---------------------------------------------------------------------------

index_state = Table(
    "index_state", metadata,
    Column("id", Integer, primary_key=True),  # always 1: one chain and one deployment per database
    Column("chain_id", BigInteger, nullable=False),
    Column("contracts", Json, nullable=False),  # manifest name -> address
    Column("start_block", BigInteger, nullable=False),  # the deployment's first block
    Column("last_block", BigInteger, nullable=False),  # indexed up to and including; start_block - 1 at first
    Column("last_hash", String(HASH)),
    Column("last_time", BigInteger, nullable=False),
    Column("grace_period", BigInteger, nullable=False),  # escrow constructor setting (no event carries it)
    Column("projection", Integer, nullable=False),  # projector.VERSION the derived tables were built by
)

blocks = Table(
    "blocks", metadata,
    Column("number", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(HASH), nullable=False),
    Column("time", BigInteger, nullable=False),
)

def event_id(block: int, log_index: int) -> int:
    """An event's key: its place on the chain, the same in every rebuild and on every back end."""
    return block << 20 | log_index


events = Table(
    "events", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),  # event_id(block, log_index)
    Column("block", BigInteger, nullable=False),
    Column("log_index", Integer, nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("tx_hash", String(HASH), nullable=False),
    Column("tx_from", String(ADDRESS), nullable=False),  # the account that signed the transaction
    Column("contract", String(40), nullable=False),
    Column("event", String(60), nullable=False),
    Column("args", Json, nullable=False),
    Column("actor", String(ADDRESS), nullable=False),  # the acting account the event names, else tx_from
    Column("token_id", String(HASH)),  # the bill the event concerns (financing events: the pledged bill)
    Column("financing_id", BigInteger),
    Index(None, "block", "log_index", unique=True),
    Index(None, "time"),
    Index(None, "token_id"),
)

event_parties = Table(
    "event_parties", metadata,
    Column("event_id", BigInteger, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("account", String(ADDRESS), primary_key=True),
    Column("role", String(12), nullable=False),  # "actor" or "party"
    Index(None, "account", "event_id"),
)

# --- derived state -------------------------------------------------------------------------------------

participants = Table(
    "participants", metadata,
    Column("account", String(ADDRESS), primary_key=True),
    Column("roles", Integer, nullable=False),
    Column("jurisdiction", String(2), nullable=False),
    Column("status", String(12), nullable=False),  # active | suspended
    Column("identifier_hash", String(HASH), nullable=False),
    Column("institution", String(ADDRESS)),
    Column("onboarded_time", BigInteger, nullable=False),
    Column("suspended_time", BigInteger),
    Column("suspension_reason_hash", String(HASH)),
)

bills = Table(
    "bills", metadata,
    Column("token_id", String(HASH), primary_key=True),
    Column("carrier", String(ADDRESS), nullable=False),
    Column("reference", String(40)),
    Column("document_hash", String(HASH)),
    Column("straight", Boolean, nullable=False),
    Column("holder", String(ADDRESS), nullable=False),
    Column("beneficiary", String(ADDRESS)),  # None: blank-endorsed (bearer)
    Column("nominee", String(ADDRESS)),
    Column("status", String(32), nullable=False),
    Column("pending_recipient", String(ADDRESS)),  # who may still reject the last move
    Column("pending_move", String(12)),  # what that rejection would undo: holder | beneficiary | owners
    Column("generation", Integer, nullable=False),
    Column("predecessor", String(HASH)),
    Column("successor", String(HASH)),
    Column("financing_id", BigInteger),  # the latest financing of the bill
    Column("issued_block", BigInteger, nullable=False),
    Column("issued_time", BigInteger, nullable=False),
    Column("last_action", String(32), nullable=False),
    Column("last_time", BigInteger, nullable=False),
    Index(None, "holder"),
    Index(None, "beneficiary"),
    Index(None, "carrier"),
    Index(None, "status"),
    Index(None, "pending_recipient"),
)

title_events = Table(
    "title_events", metadata,
    Column("event_id", BigInteger, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("token_id", String(HASH), nullable=False),
    Column("action", String(32), nullable=False),
    Column("actor", String(ADDRESS), nullable=False),
    Column("holder", String(ADDRESS), nullable=False),
    Column("beneficiary", String(ADDRESS)),
    Column("remark_hash", String(HASH)),
    Column("block", BigInteger, nullable=False),
    Column("log_index", Integer, nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("tx_hash", String(HASH), nullable=False),
    Index(None, "token_id", "event_id"),
)

bill_parties = Table(
    "bill_parties", metadata,
    Column("account", String(ADDRESS), primary_key=True),
    Column("token_id", String(HASH), primary_key=True),
    Index(None, "token_id"),
)

credit_records = Table(
    "credit_records", metadata,
    Column("provider", String(ADDRESS), primary_key=True),
    Column("subject", String(ADDRESS), primary_key=True),
    Column("root", String(HASH), primary_key=True),
    Column("schema", String(HASH), nullable=False),
    Column("anchored_time", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("revoked", Boolean, nullable=False),
    Column("revoked_by", String(ADDRESS)),
    Column("revoked_time", BigInteger),
    Index(None, "subject"),
)

consents = Table(
    "consents", metadata,
    Column("provider", String(ADDRESS), primary_key=True),
    Column("subject", String(ADDRESS), primary_key=True),
    Column("root", String(HASH), primary_key=True),
    Column("financier", String(ADDRESS), primary_key=True),
    Column("granted_time", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("withdrawn", Boolean, nullable=False),
    Index(None, "subject"),
    Index(None, "financier"),
)

verifications = Table(
    "verifications", metadata,
    Column("financier", String(ADDRESS), primary_key=True),
    Column("subject", String(ADDRESS), primary_key=True),
    Column("provider", String(ADDRESS), nullable=False),
    Column("root", String(HASH), nullable=False),
    Column("status", String(12), nullable=False),  # recorded | approved
    Column("maker", String(ADDRESS), nullable=False),
    Column("recorded_time", BigInteger, nullable=False),
    Column("checker", String(ADDRESS)),
    Column("approved_time", BigInteger),
    Index(None, "subject"),
)

financings = Table(
    "financings", metadata,
    Column("financing_id", BigInteger, primary_key=True, autoincrement=False),
    Column("token_id", String(HASH), nullable=False),
    Column("exporter", String(ADDRESS), nullable=False),
    Column("importer", String(ADDRESS), nullable=False),
    Column("settlement_token", String(ADDRESS), nullable=False),
    Column("requested_amount", Amount, nullable=False),
    Column("requested_maturity", BigInteger, nullable=False),
    Column("invoice_fingerprint", String(HASH), nullable=False),
    Column("reserved_until", BigInteger, nullable=False),
    Column("reservation_lost", Boolean, nullable=False),
    Column("state", String(12), nullable=False),
    Column("financier", String(ADDRESS)),
    Column("principal", Amount, nullable=False),  # the requested amount until an offer is accepted
    Column("fee", Amount, nullable=False),
    Column("maturity", BigInteger, nullable=False),
    Column("repaid", Amount, nullable=False),
    Column("outstanding", Amount, nullable=False),
    Column("delivered", Boolean, nullable=False),
    Column("requested_time", BigInteger, nullable=False),
    Column("accepted_time", BigInteger),
    Column("funded_time", BigInteger),
    Column("closed_time", BigInteger),
    Index(None, "exporter"),
    Index(None, "importer"),
    Index(None, "financier"),
    Index(None, "state"),
    Index(None, "token_id"),
)

offers = Table(
    "offers", metadata,
    Column("financing_id", BigInteger, primary_key=True, autoincrement=False),
    Column("financier", String(ADDRESS), primary_key=True),
    Column("principal", Amount, nullable=False),
    Column("fee", Amount, nullable=False),
    Column("maturity", BigInteger, nullable=False),
    Column("withdrawn", Boolean, nullable=False),
    Column("offered_time", BigInteger, nullable=False),
    Index(None, "financier"),
)

reservations = Table(
    "reservations", metadata,
    Column("invoice_fingerprint", String(HASH), primary_key=True),
    Column("financing_id", BigInteger, nullable=False),
    Column("reserved_until", BigInteger, nullable=False),
    Column("status", String(12), nullable=False),  # reserved | financed | free (cancelled or released)
)

balances = Table(
    "balances", metadata,
    Column("account", String(ADDRESS), primary_key=True),
    Column("settlement_token", String(ADDRESS), primary_key=True),
    Column("owed", Amount, nullable=False),  # what the escrow owes the account (withdrawable)
)

#: settlement tokens as their contracts describe themselves (asked once by the indexer: no event says it)
tokens = Table(
    "tokens", metadata,
    Column("address", String(ADDRESS), primary_key=True),
    Column("symbol", String(32), nullable=False),
    Column("decimals", Integer, nullable=False),
)

settings = Table(
    "settings", metadata,
    Column("contract", String(40), primary_key=True),
    Column("name", String(60), primary_key=True),
    Column("value", String(80), nullable=False),  # e.g. minTenor, paused, allowed:<token address>
)

#: the tables `projector.replay` empties and rebuilds from `events`
DERIVED: tuple[Table, ...] = (participants, bills, title_events, bill_parties, credit_records, consents,
                              verifications, financings, offers, reservations, balances, settings)
