"""Hotline systems API: keys per hotline, a changes feed, withdrawals a hotline is told of,
idempotent actions, and webhook events of several kinds

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

NEVER_REUSE_IDS = {"sqlite_autoincrement": True}
OLD_ABOUT_ONE_THING = (
    "(CASE WHEN referral_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN account_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN letter_id IS NULL THEN 0 ELSE 1 END) = 1"
)
ABOUT_ONE_THING = (
    "(CASE WHEN referral_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN account_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN letter_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN withdrawal_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN api_key_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def upgrade() -> None:
    op.create_table(
        "feed_counters",
        sa.Column("hotline_id", sa.String(length=64), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hotline_id", name=op.f("pk_feed_counters")),
    )
    op.create_table(
        "withdrawals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hotline_id", sa.String(length=64), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("withdrawn_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("feed_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_withdrawals")),
        sa.UniqueConstraint("hotline_id", "referral_id", name=op.f("uq_withdrawals_hotline_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.create_index("ix_withdrawals_feed", ["hotline_id", "feed_seq"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_withdrawals_withdrawn_on"), ["withdrawn_on"], unique=False
        )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hotline_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("by_operator", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_on", sa.Date(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("replaced_by", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["accounts.id"],
            name=op.f("fk_api_keys_created_by_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["replaced_by"],
            ["api_keys.id"],
            name=op.f("fk_api_keys_replaced_by_api_keys"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_hotline_id"), ["hotline_id"], unique=False)
    op.create_table(
        "api_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hotline_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_requests")),
        sa.UniqueConstraint(
            "hotline_id", "idempotency_key", name=op.f("uq_api_requests_hotline_id")
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("api_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_requests_created_at"), ["created_at"], unique=False
        )
    with op.batch_alter_table("referrals", schema=None, table_kwargs=NEVER_REUSE_IDS) as batch_op:
        batch_op.add_column(
            sa.Column("feed_seq", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.create_index("ix_referrals_feed", ["hotline_id", "feed_seq"], unique=False)
    # Referrals already there come first in their hotline's feed, in the order they were made:
    # an id is unique and grows, and gaps in a feed's numbers mean nothing.
    op.execute(sa.text("UPDATE referrals SET feed_seq = id"))
    op.execute(
        sa.text(
            "INSERT INTO feed_counters (hotline_id, last_seq) "
            "SELECT hotline_id, MAX(id) FROM referrals GROUP BY hotline_id"
        )
    )
    with op.batch_alter_table("outbox", schema=None, table_kwargs=NEVER_REUSE_IDS) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_outbox_about_one_thing"), type_="check")
        batch_op.add_column(sa.Column("withdrawal_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("api_key_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("event", sa.String(length=32), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_outbox_withdrawal_id"), ["withdrawal_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_outbox_api_key_id"), ["api_key_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_withdrawal_id_withdrawals"),
            "withdrawals",
            ["withdrawal_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_api_key_id_api_keys"),
            "api_keys",
            ["api_key_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint(batch_op.f("ck_outbox_about_one_thing"), ABOUT_ONE_THING)


def downgrade() -> None:
    # Deliveries about withdrawals and keys have no place in the older table.
    op.execute(
        sa.text("DELETE FROM outbox WHERE withdrawal_id IS NOT NULL OR api_key_id IS NOT NULL")
    )
    with op.batch_alter_table("outbox", schema=None, table_kwargs=NEVER_REUSE_IDS) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_outbox_about_one_thing"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_outbox_api_key_id_api_keys"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_withdrawal_id_withdrawals"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_outbox_api_key_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_withdrawal_id"))
        batch_op.drop_column("event")
        batch_op.drop_column("api_key_id")
        batch_op.drop_column("withdrawal_id")
        batch_op.create_check_constraint(
            batch_op.f("ck_outbox_about_one_thing"), OLD_ABOUT_ONE_THING
        )
    with op.batch_alter_table("referrals", schema=None, table_kwargs=NEVER_REUSE_IDS) as batch_op:
        batch_op.drop_index("ix_referrals_feed")
        batch_op.drop_column("feed_seq")
    with op.batch_alter_table("api_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_requests_created_at"))
    op.drop_table("api_requests")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_hotline_id"))
    op.drop_table("api_keys")
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_withdrawals_withdrawn_on"))
        batch_op.drop_index("ix_withdrawals_feed")
    op.drop_table("withdrawals")
    op.drop_table("feed_counters")
