"""Translated texts: the campaign's title and description and each milestone's label in other locales.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("campaign", "milestone")


def upgrade() -> None:
    # A JSON mapping locale -> {field: text}; "{}" (no translation) for the rows there are.
    for table in TABLES:
        op.add_column(table, sa.Column("translations", sa.JSON(), nullable=False,
                                       server_default=sa.text("'{}'")))


def downgrade() -> None:
    # In place on both databases (SQLite has dropped columns since 3.35): a copied campaign
    # table would be dropped with foreign keys on, and its milestones with it.
    for table in TABLES:
        op.drop_column(table, "translations")
