"""Initial schema: the service state, API keys, issuance requests, surrenders, the callback outbox and the
audit log (see tables.py).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

#: JSON, stored as JSONB on PostgreSQL
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('account', sa.String(length=42), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('revoked_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_api_keys'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_account'), ['account'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('time', sa.Float(), nullable=False),
    sa.Column('account', sa.String(length=42), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=100), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=True),
    sa.Column('tx_hash', sa.String(length=66), nullable=True),
    sa.Column('correlation', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_account_id'), ['account', 'id'], unique=False)

    op.create_table('callbacks',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('carrier', sa.String(length=42), nullable=False),
    sa.Column('operation', sa.String(length=24), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('subject', sa.String(length=100), nullable=False),
    sa.Column('body', JSON, nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.Float(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('delivered_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callbacks'))
    )
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callbacks_status_next_attempt_at'), ['status', 'next_attempt_at'],
                              unique=False)

    op.create_table('issuance_requests',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('carrier', sa.String(length=42), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('sub_reference', sa.String(length=100), nullable=True),
    sa.Column('request_checksum', sa.String(length=64), nullable=False),
    sa.Column('document_checksum', sa.String(length=64), nullable=False),
    sa.Column('body', JSON, nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('amends', sa.String(length=66), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('response_code', sa.String(length=4), nullable=True),
    sa.Column('reason', sa.String(length=255), nullable=True),
    sa.Column('token_id', sa.String(length=66), nullable=True),
    sa.Column('tx_hash', sa.String(length=66), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.Float(), nullable=False),
    sa.Column('decided_at', sa.Float(), nullable=True),
    sa.Column('correlation', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issuance_requests'))
    )
    with op.batch_alter_table('issuance_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issuance_requests_carrier_reference'), ['carrier', 'reference'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_issuance_requests_carrier_request_checksum'),
                              ['carrier', 'request_checksum'], unique=True)
        batch_op.create_index('ix_issuance_requests_open', ['carrier', 'reference'], unique=True,
                              sqlite_where=sa.text("status = 'accepted'"),
                              postgresql_where=sa.text("status = 'accepted'"))
        batch_op.create_index(batch_op.f('ix_issuance_requests_status'), ['status'], unique=False)

    op.create_table('service_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('registry', sa.String(length=42), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('last_event_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_state'))
    )
    op.create_table('surrenders',
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('token_id', sa.String(length=66), nullable=False),
    sa.Column('transport_document_reference', sa.String(length=20), nullable=False),
    sa.Column('carrier', sa.String(length=42), nullable=False),
    sa.Column('surrendered_by', sa.String(length=42), nullable=False),
    sa.Column('code', sa.String(length=4), nullable=False),
    sa.Column('reason_code', sa.String(length=4), nullable=True),
    sa.Column('comments', sa.String(length=255), nullable=True),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('block', sa.BigInteger(), nullable=False),
    sa.Column('requested_at', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('action', sa.String(length=4), nullable=True),
    sa.Column('answer_comments', sa.String(length=255), nullable=True),
    sa.Column('answered_at', sa.Float(), nullable=True),
    sa.Column('answer_tx', sa.String(length=66), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.PrimaryKeyConstraint('reference', name=op.f('pk_surrenders'))
    )
    with op.batch_alter_table('surrenders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_surrenders_carrier_status'), ['carrier', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_surrenders_token_id_tx_hash'), ['token_id', 'tx_hash'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('surrenders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_surrenders_token_id_tx_hash'))
        batch_op.drop_index(batch_op.f('ix_surrenders_carrier_status'))

    op.drop_table('surrenders')
    op.drop_table('service_state')
    with op.batch_alter_table('issuance_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issuance_requests_status'))
        batch_op.drop_index('ix_issuance_requests_open', sqlite_where=sa.text("status = 'accepted'"),
                            postgresql_where=sa.text("status = 'accepted'"))
        batch_op.drop_index(batch_op.f('ix_issuance_requests_carrier_request_checksum'))
        batch_op.drop_index(batch_op.f('ix_issuance_requests_carrier_reference'))

    op.drop_table('issuance_requests')
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callbacks_status_next_attempt_at'))

    op.drop_table('callbacks')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_account_id'))

    op.drop_table('audit_log')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_account'))

    op.drop_table('api_keys')
