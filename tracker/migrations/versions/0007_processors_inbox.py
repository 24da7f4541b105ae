"""The processors' inbox: every inbound webhook event, stored raw with what it did.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PROCESSORS = ("stripe", "btcpay", "kofi", "github", "standard")
STATES = ("processed", "ignored", "needs_attention", "needs_rate", "pending_fetch", "waiting", "failed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "inbound_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("processor", sa.String(16), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signature", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("donation_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_in("processor", PROCESSORS), name=op.f("ck_inbound_event_processor_known")),
        sa.CheckConstraint(_in("state", STATES), name=op.f("ck_inbound_event_state_known")),
        sa.ForeignKeyConstraint(["donation_id"], ["donation.id"], name=op.f("fk_inbound_event_donation_id_donation"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_event")),
        sa.UniqueConstraint("processor", "event_id", name=op.f("uq_inbound_event_processor_event_id")),
    )
    op.create_index("ix_inbound_event_processor_received", "inbound_event", ["processor", "received_at", "id"])
    op.create_index("ix_inbound_event_state_next", "inbound_event", ["state", "next_attempt_at"])
    op.create_index("ix_inbound_event_subject", "inbound_event", ["processor", "subject"])


def downgrade() -> None:
    op.drop_table("inbound_event")
