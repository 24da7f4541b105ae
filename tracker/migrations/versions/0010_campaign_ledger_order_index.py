"""An index for one campaign's gifts in ledger order (the campaign's CSV export).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 19:00:00

Without it, exporting one campaign sorted all of its gifts before the first row went out
(SQLite: "USE TEMP B-TREE FOR ORDER BY", seen by tests/test_scale.py): at a million gifts in
one campaign, a sort of a million rows.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_donation_campaign_id", "donation", ["campaign_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_donation_campaign_id", table_name="donation")
