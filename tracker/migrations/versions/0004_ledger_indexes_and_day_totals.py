"""Indexes for every list of the ledger (read in order, stop), and maintained day totals.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

WALL = "is_public AND status = 'confirmed' AND source <> 'adjustment'"


def upgrade() -> None:
    op.drop_index("ix_donation_campaign_received", table_name="donation")
    op.create_index("ix_donation_campaign_received", "donation", ["campaign_id", "received_at", "id"])
    op.create_index("ix_donation_received", "donation", ["received_at", "id"])
    op.create_index("ix_donation_status_received", "donation", ["status", "received_at", "id"])
    op.create_index("ix_donation_campaign_status_received", "donation", ["campaign_id", "status", "received_at", "id"])
    op.create_index("ix_donation_source_received", "donation", ["source", "received_at", "id"])
    op.create_index("ix_donation_external_id", "donation", ["external_id"])
    op.create_index("ix_donation_wall", "donation", ["campaign_id", "received_at", "id"],
                    sqlite_where=sa.text(WALL), postgresql_where=sa.text(WALL))
    op.create_index("ix_donation_wall_all", "donation", ["received_at", "id"],
                    sqlite_where=sa.text(WALL), postgresql_where=sa.text(WALL))
    op.create_table(
        "day_total",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("gifts_minor", sa.BigInteger(), nullable=False),
        sa.Column("gift_count", sa.Integer(), nullable=False),
        sa.Column("adjusted_minor", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], name="fk_day_total_campaign_id_campaign",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "day", name="pk_day_total"),
    )
    _fill_day_totals()


def _fill_day_totals() -> None:
    """The day totals of the donations already recorded (local days in each campaign's zone)."""
    connection = op.get_bind()
    zones = dict(connection.execute(sa.text("SELECT id, timezone FROM campaign")).all())
    totals: dict[tuple[int, object], list[int]] = {}
    rows = connection.execute(sa.text(
        "SELECT campaign_id, received_at, source, goal_amount_minor FROM donation WHERE status = 'confirmed'"))
    for campaign_id, received_at, source, amount in rows:
        if isinstance(received_at, str):  # SQLite without the model's type
            received_at = datetime.fromisoformat(received_at)
        if received_at.tzinfo is None:
            received_at = received_at.replace(tzinfo=timezone.utc)
        day = received_at.astimezone(ZoneInfo(zones[campaign_id])).date()
        total = totals.setdefault((campaign_id, day), [0, 0, 0])
        if source == "adjustment":
            total[2] += amount
        else:
            total[0] += amount
            total[1] += 1
    table = sa.table("day_total", sa.column("campaign_id"), sa.column("day"), sa.column("gifts_minor"),
                     sa.column("gift_count"), sa.column("adjusted_minor"), sa.column("updated_at"))
    stamp = datetime.now(timezone.utc)
    records = [{"campaign_id": c, "day": d, "gifts_minor": g, "gift_count": n, "adjusted_minor": a,
                "updated_at": stamp} for (c, d), (g, n, a) in sorted(totals.items())]
    if records:
        op.bulk_insert(table, records)


def downgrade() -> None:
    op.drop_table("day_total")
    for name in ("ix_donation_wall_all", "ix_donation_wall", "ix_donation_external_id", "ix_donation_source_received",
                 "ix_donation_campaign_status_received", "ix_donation_status_received", "ix_donation_received",
                 "ix_donation_campaign_received"):
        op.drop_index(name, table_name="donation")
    op.create_index("ix_donation_campaign_received", "donation", ["campaign_id", "received_at"])
