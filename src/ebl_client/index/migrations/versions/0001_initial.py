"""Initial schema: the raw event log, the checkpoint and the derived state (see schema.py).

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
    op.create_table('balances',
    sa.Column('account', sa.String(length=42), nullable=False),
    sa.Column('settlement_token', sa.String(length=42), nullable=False),
    sa.Column('owed', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('account', 'settlement_token', name=op.f('pk_balances'))
    )
    op.create_table('bill_parties',
    sa.Column('account', sa.String(length=42), nullable=False),
    sa.Column('token_id', sa.String(length=66), nullable=False),
    sa.PrimaryKeyConstraint('account', 'token_id', name=op.f('pk_bill_parties'))
    )
    with op.batch_alter_table('bill_parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bill_parties_token_id'), ['token_id'], unique=False)

    op.create_table('bills',
    sa.Column('token_id', sa.String(length=66), nullable=False),
    sa.Column('carrier', sa.String(length=42), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=True),
    sa.Column('document_hash', sa.String(length=66), nullable=True),
    sa.Column('straight', sa.Boolean(), nullable=False),
    sa.Column('holder', sa.String(length=42), nullable=False),
    sa.Column('beneficiary', sa.String(length=42), nullable=True),
    sa.Column('nominee', sa.String(length=42), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('pending_recipient', sa.String(length=42), nullable=True),
    sa.Column('pending_move', sa.String(length=12), nullable=True),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('predecessor', sa.String(length=66), nullable=True),
    sa.Column('successor', sa.String(length=66), nullable=True),
    sa.Column('financing_id', sa.BigInteger(), nullable=True),
    sa.Column('issued_block', sa.BigInteger(), nullable=False),
    sa.Column('issued_time', sa.BigInteger(), nullable=False),
    sa.Column('last_action', sa.String(length=32), nullable=False),
    sa.Column('last_time', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('token_id', name=op.f('pk_bills'))
    )
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bills_beneficiary'), ['beneficiary'], unique=False)
        batch_op.create_index(batch_op.f('ix_bills_carrier'), ['carrier'], unique=False)
        batch_op.create_index(batch_op.f('ix_bills_holder'), ['holder'], unique=False)
        batch_op.create_index(batch_op.f('ix_bills_pending_recipient'), ['pending_recipient'], unique=False)
        batch_op.create_index(batch_op.f('ix_bills_status'), ['status'], unique=False)

    op.create_table('blocks',
    sa.Column('number', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hash', sa.String(length=66), nullable=False),
    sa.Column('time', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_blocks'))
    )
    op.create_table('consents',
    sa.Column('provider', sa.String(length=42), nullable=False),
    sa.Column('subject', sa.String(length=42), nullable=False),
    sa.Column('root', sa.String(length=66), nullable=False),
    sa.Column('financier', sa.String(length=42), nullable=False),
    sa.Column('granted_time', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('withdrawn', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('provider', 'subject', 'root', 'financier', name=op.f('pk_consents'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_financier'), ['financier'], unique=False)
        batch_op.create_index(batch_op.f('ix_consents_subject'), ['subject'], unique=False)

    op.create_table('credit_records',
    sa.Column('provider', sa.String(length=42), nullable=False),
    sa.Column('subject', sa.String(length=42), nullable=False),
    sa.Column('root', sa.String(length=66), nullable=False),
    sa.Column('schema', sa.String(length=66), nullable=False),
    sa.Column('anchored_time', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.Column('revoked_by', sa.String(length=42), nullable=True),
    sa.Column('revoked_time', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('provider', 'subject', 'root', name=op.f('pk_credit_records'))
    )
    with op.batch_alter_table('credit_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_records_subject'), ['subject'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('block', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.Column('time', sa.BigInteger(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('tx_from', sa.String(length=42), nullable=False),
    sa.Column('contract', sa.String(length=40), nullable=False),
    sa.Column('event', sa.String(length=60), nullable=False),
    sa.Column('args', JSON, nullable=False),
    sa.Column('actor', sa.String(length=42), nullable=False),
    sa.Column('token_id', sa.String(length=66), nullable=True),
    sa.Column('financing_id', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_block_log_index'), ['block', 'log_index'], unique=True)
        batch_op.create_index(batch_op.f('ix_events_time'), ['time'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_token_id'), ['token_id'], unique=False)

    op.create_table('financings',
    sa.Column('financing_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('token_id', sa.String(length=66), nullable=False),
    sa.Column('exporter', sa.String(length=42), nullable=False),
    sa.Column('importer', sa.String(length=42), nullable=False),
    sa.Column('settlement_token', sa.String(length=42), nullable=False),
    sa.Column('requested_amount', sa.String(length=40), nullable=False),
    sa.Column('requested_maturity', sa.BigInteger(), nullable=False),
    sa.Column('invoice_fingerprint', sa.String(length=66), nullable=False),
    sa.Column('reserved_until', sa.BigInteger(), nullable=False),
    sa.Column('reservation_lost', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('financier', sa.String(length=42), nullable=True),
    sa.Column('principal', sa.String(length=40), nullable=False),
    sa.Column('fee', sa.String(length=40), nullable=False),
    sa.Column('maturity', sa.BigInteger(), nullable=False),
    sa.Column('repaid', sa.String(length=40), nullable=False),
    sa.Column('outstanding', sa.String(length=40), nullable=False),
    sa.Column('delivered', sa.Boolean(), nullable=False),
    sa.Column('requested_time', sa.BigInteger(), nullable=False),
    sa.Column('accepted_time', sa.BigInteger(), nullable=True),
    sa.Column('funded_time', sa.BigInteger(), nullable=True),
    sa.Column('closed_time', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('financing_id', name=op.f('pk_financings'))
    )
    with op.batch_alter_table('financings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_financings_exporter'), ['exporter'], unique=False)
        batch_op.create_index(batch_op.f('ix_financings_financier'), ['financier'], unique=False)
        batch_op.create_index(batch_op.f('ix_financings_importer'), ['importer'], unique=False)
        batch_op.create_index(batch_op.f('ix_financings_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_financings_token_id'), ['token_id'], unique=False)

    op.create_table('index_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('contracts', JSON, nullable=False),
    sa.Column('start_block', sa.BigInteger(), nullable=False),
    sa.Column('last_block', sa.BigInteger(), nullable=False),
    sa.Column('last_hash', sa.String(length=66), nullable=True),
    sa.Column('last_time', sa.BigInteger(), nullable=False),
    sa.Column('grace_period', sa.BigInteger(), nullable=False),
    sa.Column('projection', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_index_state'))
    )
    op.create_table('offers',
    sa.Column('financing_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('financier', sa.String(length=42), nullable=False),
    sa.Column('principal', sa.String(length=40), nullable=False),
    sa.Column('fee', sa.String(length=40), nullable=False),
    sa.Column('maturity', sa.BigInteger(), nullable=False),
    sa.Column('withdrawn', sa.Boolean(), nullable=False),
    sa.Column('offered_time', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('financing_id', 'financier', name=op.f('pk_offers'))
    )
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offers_financier'), ['financier'], unique=False)

    op.create_table('participants',
    sa.Column('account', sa.String(length=42), nullable=False),
    sa.Column('roles', sa.Integer(), nullable=False),
    sa.Column('jurisdiction', sa.String(length=2), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('identifier_hash', sa.String(length=66), nullable=False),
    sa.Column('institution', sa.String(length=42), nullable=True),
    sa.Column('onboarded_time', sa.BigInteger(), nullable=False),
    sa.Column('suspended_time', sa.BigInteger(), nullable=True),
    sa.Column('suspension_reason_hash', sa.String(length=66), nullable=True),
    sa.PrimaryKeyConstraint('account', name=op.f('pk_participants'))
    )
    op.create_table('reservations',
    sa.Column('invoice_fingerprint', sa.String(length=66), nullable=False),
    sa.Column('financing_id', sa.BigInteger(), nullable=False),
    sa.Column('reserved_until', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.PrimaryKeyConstraint('invoice_fingerprint', name=op.f('pk_reservations'))
    )
    op.create_table('settings',
    sa.Column('contract', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('value', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('contract', 'name', name=op.f('pk_settings'))
    )
    op.create_table('tokens',
    sa.Column('address', sa.String(length=42), nullable=False),
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('decimals', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('address', name=op.f('pk_tokens'))
    )
    op.create_table('verifications',
    sa.Column('financier', sa.String(length=42), nullable=False),
    sa.Column('subject', sa.String(length=42), nullable=False),
    sa.Column('provider', sa.String(length=42), nullable=False),
    sa.Column('root', sa.String(length=66), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('maker', sa.String(length=42), nullable=False),
    sa.Column('recorded_time', sa.BigInteger(), nullable=False),
    sa.Column('checker', sa.String(length=42), nullable=True),
    sa.Column('approved_time', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('financier', 'subject', name=op.f('pk_verifications'))
    )
    with op.batch_alter_table('verifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verifications_subject'), ['subject'], unique=False)

    op.create_table('event_parties',
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('account', sa.String(length=42), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'],
                            name=op.f('fk_event_parties_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'account', name=op.f('pk_event_parties'))
    )
    with op.batch_alter_table('event_parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_parties_account_event_id'), ['account', 'event_id'], unique=False)

    op.create_table('title_events',
    sa.Column('event_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('token_id', sa.String(length=66), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=42), nullable=False),
    sa.Column('holder', sa.String(length=42), nullable=False),
    sa.Column('beneficiary', sa.String(length=42), nullable=True),
    sa.Column('remark_hash', sa.String(length=66), nullable=True),
    sa.Column('block', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.Column('time', sa.BigInteger(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'],
                            name=op.f('fk_title_events_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_title_events'))
    )
    with op.batch_alter_table('title_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_title_events_token_id_event_id'), ['token_id', 'event_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('title_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_title_events_token_id_event_id'))

    op.drop_table('title_events')
    with op.batch_alter_table('event_parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_parties_account_event_id'))

    op.drop_table('event_parties')
    with op.batch_alter_table('verifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verifications_subject'))

    op.drop_table('verifications')
    op.drop_table('tokens')
    op.drop_table('settings')
    op.drop_table('reservations')
    op.drop_table('participants')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offers_financier'))

    op.drop_table('offers')
    op.drop_table('index_state')
    with op.batch_alter_table('financings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_financings_token_id'))
        batch_op.drop_index(batch_op.f('ix_financings_state'))
        batch_op.drop_index(batch_op.f('ix_financings_importer'))
        batch_op.drop_index(batch_op.f('ix_financings_financier'))
        batch_op.drop_index(batch_op.f('ix_financings_exporter'))

    op.drop_table('financings')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_token_id'))
        batch_op.drop_index(batch_op.f('ix_events_time'))
        batch_op.drop_index(batch_op.f('ix_events_block_log_index'))

    op.drop_table('events')
    with op.batch_alter_table('credit_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_records_subject'))

    op.drop_table('credit_records')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consents_subject'))
        batch_op.drop_index(batch_op.f('ix_consents_financier'))

    op.drop_table('consents')
    op.drop_table('blocks')
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bills_status'))
        batch_op.drop_index(batch_op.f('ix_bills_pending_recipient'))
        batch_op.drop_index(batch_op.f('ix_bills_holder'))
        batch_op.drop_index(batch_op.f('ix_bills_carrier'))
        batch_op.drop_index(batch_op.f('ix_bills_beneficiary'))

    op.drop_table('bills')
    with op.batch_alter_table('bill_parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bill_parties_token_id'))

    op.drop_table('bill_parties')
    op.drop_table('balances')
