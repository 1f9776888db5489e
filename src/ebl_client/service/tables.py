"""The service's own tables (SQLAlchemy Core), the same on SQLite and PostgreSQL: what the carriers sent and
what the platform answered, the callbacks still to deliver, the API keys and the audit log of every call that
changed something. The chain and the index hold title; these tables hold the conversation around it.

Conventions follow the index (`ebl_client.index.schema`): checksummed addresses, token ids as 0x + 64 hex
digits, unix times (here with fractions: the callback backoff counts in tenths of a second). Alembic
migrations (`migrations/`, version table `ebl_service_alembic_version`) create exactly these tables, so the
service may share a database with the index; a test compares the two.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, MetaData, String, Table, text

from ..index.schema import ADDRESS, HASH, NAMING, Json

metadata = MetaData(naming_convention=NAMING)  # the index's names for keys and indexes
VERSION_TABLE = "ebl_service_alembic_version"

#: one row: the chain and deployment the service's records belong to (a database never mixes two)
service_state = Table(
    "service_state", metadata,
    Column("id", Integer, primary_key=True),  # always 1
    Column("chain_id", BigInteger, nullable=False),
    Column("registry", String(ADDRESS), nullable=False),  # the BillOfLadingRegistry the records are about
    Column("created_at", Float, nullable=False),
    Column("last_event_id", BigInteger, nullable=False),  # the surrender watcher's place in the index's log
)

#: per-participant API keys: the secret only as its SHA-256 (keys are 256-bit random: no slow hash needed)
api_keys = Table(
    "api_keys", metadata,
    Column("key_id", String(16), primary_key=True),  # public part, shown by `keys list`
    Column("account", String(ADDRESS), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("label", String(100), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
    Index(None, "account"),
)

#: DCSA issuance requests as received (PUT /v3/ebl-issuance-requests) and what became of them
issuance_requests = Table(
    "issuance_requests", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("carrier", String(ADDRESS), nullable=False),  # the authenticated carrier
    Column("reference", String(20), nullable=False),  # transportDocumentReference
    Column("sub_reference", String(100)),
    Column("request_checksum", String(64), nullable=False),  # of the manifest: what the carrier signed
    Column("document_checksum", String(64), nullable=False),
    Column("body", Json, nullable=False),  # the request as received (the worker issues from it)
    Column("kind", String(8), nullable=False),  # issue | amend
    Column("amends", String(HASH)),  # amend: the bill surrendered for amendment
    # accepted (waiting for the worker) | issued | blocked (BREQ) | refused (REFU)
    Column("status", String(12), nullable=False),
    Column("response_code", String(4)),
    Column("reason", String(255)),
    Column("token_id", String(HASH)),  # the bill issued (or the amendment's successor)
    Column("tx_hash", String(HASH)),
    Column("attempts", Integer, nullable=False),  # failed processing attempts (node down, ...)
    Column("received_at", Float, nullable=False),
    Column("decided_at", Float),
    Column("correlation", String(40), nullable=False),
    Index(None, "carrier", "request_checksum", unique=True),
    Index(None, "carrier", "reference"),
    Index(None, "status"),
    # at most one request per reference is waiting to be decided (the second gets a 409 even when two race)
    Index("ix_issuance_requests_open", "carrier", "reference", unique=True,
          sqlite_where=text("status = 'accepted'"), postgresql_where=text("status = 'accepted'")),
)

#: surrenders seen on chain (or requested through the API), the DCSA surrender request sent for each and the
#: carrier's answer
surrenders = Table(
    "surrenders", metadata,
    Column("reference", String(40), primary_key=True),  # surrenderRequestReference
    Column("token_id", String(HASH), nullable=False),
    Column("transport_document_reference", String(20), nullable=False),
    Column("carrier", String(ADDRESS), nullable=False),
    Column("surrendered_by", String(ADDRESS), nullable=False),
    Column("code", String(4), nullable=False),  # SREQ (delivery) | AREQ (amendment)
    Column("reason_code", String(4)),  # AREQ: SWTP (switch to paper), COD, SWI
    Column("comments", String(255)),
    Column("tx_hash", String(HASH), nullable=False),  # the surrender's transaction
    Column("block", BigInteger, nullable=False),
    Column("requested_at", Float, nullable=False),
    # requested (waiting for the carrier) | answered (being applied) | applied
    Column("status", String(12), nullable=False),
    Column("action", String(4)),  # SURR | SREJ
    Column("answer_comments", String(255)),
    Column("answered_at", Float),
    Column("answer_tx", String(HASH)),
    # applied: accomplished | restored | awaiting amendment | switched to paper | amended
    Column("outcome", String(20)),
    Index(None, "token_id", "tx_hash", unique=True),
    Index(None, "carrier", "status"),
)

#: the callback outbox: every message to a carrier, kept until it is delivered (or given up, still kept)
callbacks = Table(
    "callbacks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("carrier", String(ADDRESS), nullable=False),
    Column("operation", String(24), nullable=False),  # issuance-response | surrender-request
    Column("url", String(500), nullable=False),
    Column("subject", String(100), nullable=False),  # the transport document or surrender request reference
    Column("body", Json, nullable=False),
    Column("status", String(12), nullable=False),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("last_error", String(500)),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float),
    Index(None, "status", "next_attempt_at"),
)

#: who changed what through the API, and the transaction that did it
audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", Float, nullable=False),
    Column("account", String(ADDRESS), nullable=False),
    Column("key_id", String(16)),  # None: the platform's own worker acting on the account's request
    Column("action", String(40), nullable=False),
    Column("subject", String(100), nullable=False),
    Column("status", Integer, nullable=False),  # HTTP status answered (or 0 for a worker's step)
    Column("detail", String(500)),
    Column("tx_hash", String(HASH)),
    Column("correlation", String(40), nullable=False),
    Index(None, "account", "id"),
)
