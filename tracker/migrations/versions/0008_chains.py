"""Chains: payments seen on chain by the watchers, each coin's watcher status, extended keys and their addresses.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

STATES = ("seen", "pending", "confirmed", "removed", "needs_rate")


def upgrade() -> None:
    # batch mode: SQLite cannot alter a CHECK constraint in place, so the table is copied.
    with op.batch_alter_table("payment_method") as batch:
        batch.drop_constraint(op.f("ck_payment_method_kind_known"), type_="check")
        batch.create_check_constraint(op.f("ck_payment_method_kind_known"),
                                      "kind IN ('address', 'link', 'email', 'xpub')")
    op.create_table(
        "chain_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coin", sa.String(8), nullable=False),
        sa.Column("txid", sa.String(100), nullable=False),
        sa.Column("output_index", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("payment_method_id", sa.Integer(), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("confirmations", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("donation_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("tx_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN (" + ", ".join(repr(s) for s in STATES) + ")",
                           name=op.f("ck_chain_payment_state_known")),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_chain_payment_amount_positive")),
        sa.CheckConstraint("confirmations >= 0 AND output_index >= 0",
                           name=op.f("ck_chain_payment_counts_not_negative")),
        sa.ForeignKeyConstraint(["payment_method_id"], ["payment_method.id"], ondelete="SET NULL",
                                name=op.f("fk_chain_payment_payment_method_id_payment_method")),
        sa.ForeignKeyConstraint(["donation_id"], ["donation.id"], ondelete="SET NULL",
                                name=op.f("fk_chain_payment_donation_id_donation")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_payment")),
        sa.UniqueConstraint("coin", "txid", "output_index", name=op.f("uq_chain_payment_coin_txid_output_index")),
    )
    op.create_index("ix_chain_payment_coin_state", "chain_payment", ["coin", "state"])
    op.create_table(
        "chain_watcher",
        sa.Column("coin", sa.String(8), nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_poll_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cursor", sa.String(200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("failures >= 0", name=op.f("ck_chain_watcher_failures_not_negative")),
        sa.PrimaryKeyConstraint("coin", name=op.f("pk_chain_watcher")),
    )
    op.create_table(
        "derived_address",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_method_id", sa.Integer(), nullable=False),
        sa.Column("coin", sa.String(8), nullable=False),
        sa.Column("derivation_index", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("ref", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("derivation_index >= 0", name=op.f("ck_derived_address_index_not_negative")),
        sa.ForeignKeyConstraint(["payment_method_id"], ["payment_method.id"], ondelete="CASCADE",
                                name=op.f("fk_derived_address_payment_method_id_payment_method")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_derived_address")),
        sa.UniqueConstraint("payment_method_id", "derivation_index",
                            name=op.f("uq_derived_address_payment_method_id_derivation_index")),
        sa.UniqueConstraint("coin", "address", name=op.f("uq_derived_address_coin_address")),
    )
    op.create_index("ix_derived_address_method_ref", "derived_address", ["payment_method_id", "ref", "paid_at"])


def downgrade() -> None:
    op.drop_index("ix_derived_address_method_ref", table_name="derived_address")
    op.drop_table("derived_address")
    op.drop_table("chain_watcher")
    op.drop_index("ix_chain_payment_coin_state", table_name="chain_payment")
    op.drop_table("chain_payment")
    with op.batch_alter_table("payment_method") as batch:
        batch.drop_constraint(op.f("ck_payment_method_kind_known"), type_="check")
        batch.create_check_constraint(op.f("ck_payment_method_kind_known"), "kind IN ('address', 'link', 'email')")
