"""Initial schema: campaigns, milestones, the ledger and its period totals, rates, users, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 06:28:41.609557
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('currency', sa.String(length=5), nullable=False),
    sa.Column('target_minor', sa.BigInteger(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('display', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("period IN ('once', 'monthly', 'quarterly', 'yearly')", name=op.f('ck_campaign_period_known')),
    sa.CheckConstraint("status IN ('draft', 'active', 'archived')", name=op.f('ck_campaign_status_known')),
    sa.CheckConstraint('ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at', name=op.f('ck_campaign_ends_after_start')),
    sa.CheckConstraint('length(slug) > 0', name=op.f('ck_campaign_slug_not_empty')),
    sa.CheckConstraint('target_minor > 0', name=op.f('ck_campaign_target_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign')),
    sa.UniqueConstraint('slug', name=op.f('uq_campaign_slug'))
    )
    op.create_table('exchange_rate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('base', sa.String(length=5), nullable=False),
    sa.Column('quote', sa.String(length=5), nullable=False),
    sa.Column('rate', sa.String(length=40), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('base <> quote', name=op.f('ck_exchange_rate_distinct_currencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_rate')),
    sa.UniqueConstraint('base', 'quote', 'as_of', 'source', name=op.f('uq_exchange_rate_base_quote_as_of_source'))
    )
    with op.batch_alter_table('exchange_rate', schema=None) as batch_op:
        batch_op.create_index('ix_exchange_rate_pair_as_of', ['base', 'quote', 'as_of'], unique=False)

    op.create_table('payment_method',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('coin', sa.String(length=16), nullable=False),
    sa.Column('network', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=300), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('address', 'link', 'email')", name=op.f('ck_payment_method_kind_known')),
    sa.CheckConstraint('length(target) > 0', name=op.f('ck_payment_method_target_not_empty')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_method')),
    sa.UniqueConstraint('coin', 'network', 'target', name=op.f('uq_payment_method_coin_network_target'))
    )
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('owner', 'admin', 'viewer')", name=op.f('ck_user_role_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('email', name=op.f('uq_user_email'))
    )
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('ip_address', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_audit_event_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_event_entity', ['entity', 'entity_id'], unique=False)

    op.create_table('donation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=5), nullable=False),
    sa.Column('goal_amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('goal_currency', sa.String(length=5), nullable=False),
    sa.Column('rate', sa.String(length=40), nullable=True),
    sa.Column('rate_source', sa.String(length=200), nullable=True),
    sa.Column('rate_as_of', sa.DateTime(timezone=True), nullable=True),
    sa.Column('exchange_rate_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('donor_name', sa.String(length=200), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("amount_minor > 0 OR (source = 'adjustment' AND amount_minor <> 0)", name=op.f('ck_donation_amount_sign')),
    sa.CheckConstraint("source <> 'adjustment' OR length(reason) > 0", name=op.f('ck_donation_adjustment_has_reason')),
    sa.CheckConstraint("source IN ('manual', 'csv', 'import', 'adjustment', 'api')", name=op.f('ck_donation_source_known')),
    sa.CheckConstraint("status IN ('pending', 'confirmed', 'refunded')", name=op.f('ck_donation_status_known')),
    sa.CheckConstraint('(currency = goal_currency) OR (rate IS NOT NULL AND rate_source IS NOT NULL)', name=op.f('ck_donation_conversion_explained')),
    sa.CheckConstraint('(goal_amount_minor > 0) = (amount_minor > 0)', name=op.f('ck_donation_goal_amount_sign')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_donation_campaign_id_campaign'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['exchange_rate_id'], ['exchange_rate.id'], name=op.f('fk_donation_exchange_rate_id_exchange_rate'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_donation_recorded_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_donation')),
    sa.UniqueConstraint('source', 'external_id', name=op.f('uq_donation_source_external_id')),
    sa.UniqueConstraint('uid', name=op.f('uq_donation_uid'))
    )
    with op.batch_alter_table('donation', schema=None) as batch_op:
        batch_op.create_index('ix_donation_campaign_received', ['campaign_id', 'received_at'], unique=False)

    op.create_table('milestone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_milestone_amount_positive')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_milestone_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_milestone')),
    sa.UniqueConstraint('campaign_id', 'amount_minor', name=op.f('uq_milestone_campaign_id_amount_minor'))
    )
    op.create_table('period_total',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raised_minor', sa.BigInteger(), nullable=False),
    sa.Column('pending_minor', sa.BigInteger(), nullable=False),
    sa.Column('confirmed_count', sa.Integer(), nullable=False),
    sa.Column('pending_count', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('confirmed_count >= 0 AND pending_count >= 0', name=op.f('ck_period_total_counts_not_negative')),
    sa.CheckConstraint('pending_minor >= 0', name=op.f('ck_period_total_pending_not_negative')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_period_total_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'period_start', name=op.f('pk_period_total'))
    )


def downgrade() -> None:
    op.drop_table('period_total')
    op.drop_table('milestone')
    with op.batch_alter_table('donation', schema=None) as batch_op:
        batch_op.drop_index('ix_donation_campaign_received')

    op.drop_table('donation')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_entity')
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))

    op.drop_table('audit_event')
    op.drop_table('user')
    op.drop_table('payment_method')
    with op.batch_alter_table('exchange_rate', schema=None) as batch_op:
        batch_op.drop_index('ix_exchange_rate_pair_as_of')

    op.drop_table('exchange_rate')
    op.drop_table('campaign')
