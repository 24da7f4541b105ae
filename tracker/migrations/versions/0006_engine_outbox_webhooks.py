"""The engine: periodic job leases, the outbox of events, outgoing webhooks and their attempts.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 16:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_lease",
        sa.PrimaryKeyConstraint("name", name="pk_job_lease"),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("holder", sa.String(120), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
    )
    op.create_table(
        "outbox_event",
        sa.PrimaryKeyConstraint("id", name="pk_outbox_event"),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mail_due", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_event_key")),
    )
    op.create_index(op.f("ix_outbox_event_created_at"), "outbox_event", ["created_at"])
    op.create_index(op.f("ix_outbox_event_mail_due"), "outbox_event", ["mail_due"])
    op.create_table(
        "webhook_endpoint",
        sa.PrimaryKeyConstraint("id", name="pk_webhook_endpoint"),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("events", sa.String(400), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "webhook_delivery",
        sa.PrimaryKeyConstraint("id", name="pk_webhook_delivery"),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), sa.ForeignKey("webhook_endpoint.id", ondelete="CASCADE",
                                                            name=op.f("fk_webhook_delivery_endpoint_id_webhook_endpoint")),
                  nullable=False),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("outbox_event.id", ondelete="CASCADE",
                                                         name=op.f("fk_webhook_delivery_event_id_outbox_event")),
                  nullable=False),
        sa.Column("message_id", sa.String(40), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('pending', 'delivered', 'failed')", name=op.f("ck_webhook_delivery_state_known")),
        sa.UniqueConstraint("endpoint_id", "event_id", name=op.f("uq_webhook_delivery_endpoint_id_event_id")),
        sa.UniqueConstraint("message_id", name=op.f("uq_webhook_delivery_message_id")),
    )
    op.create_index("ix_webhook_delivery_due", "webhook_delivery", ["state", "next_attempt_at"])
    op.create_index("ix_webhook_delivery_endpoint", "webhook_delivery", ["endpoint_id", "id"])
    op.create_table(
        "webhook_attempt",
        sa.PrimaryKeyConstraint("id", name="pk_webhook_attempt"),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), sa.ForeignKey("webhook_delivery.id", ondelete="CASCADE",
                                                            name=op.f("fk_webhook_attempt_delivery_id_webhook_delivery")),
                  nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("excerpt", sa.String(500), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_webhook_attempt_delivery", "webhook_attempt", ["delivery_id", "id"])


def downgrade() -> None:
    for table in ("webhook_attempt", "webhook_delivery", "webhook_endpoint", "outbox_event", "job_lease"):
        op.drop_table(table)
