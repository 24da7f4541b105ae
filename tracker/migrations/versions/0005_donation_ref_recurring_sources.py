"""Gifts from processors and chains: their sources, the article a gift is attributed to, renewals.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 15:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD_SOURCES = ("manual", "csv", "import", "adjustment", "api")
NEW_SOURCES = OLD_SOURCES + ("stripe", "btcpay", "kofi", "github", "standard", "paypal", "opencollective",
                             "givewp", "chain")


def _in(values: tuple[str, ...]) -> str:
    return f"source IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    # batch mode: SQLite cannot alter a CHECK constraint in place, so the table is copied.
    with op.batch_alter_table("donation") as batch:
        batch.add_column(sa.Column("ref", sa.String(200), nullable=True))
        batch.add_column(sa.Column("recurring", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.drop_constraint(op.f("ck_donation_source_known"), type_="check")
        batch.create_check_constraint(op.f("ck_donation_source_known"), _in(NEW_SOURCES))
        batch.create_index("ix_donation_campaign_ref", ["campaign_id", "ref", "received_at"])
    with op.batch_alter_table("donation") as batch:
        batch.alter_column("recurring", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("donation") as batch:
        batch.drop_index("ix_donation_campaign_ref")
        batch.drop_constraint(op.f("ck_donation_source_known"), type_="check")
        batch.create_check_constraint(op.f("ck_donation_source_known"), _in(OLD_SOURCES))
        batch.drop_column("recurring")
        batch.drop_column("ref")
