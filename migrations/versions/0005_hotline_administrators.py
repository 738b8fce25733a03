"""Hotline administrators: an outbox item may announce a new account of a hotline (a neutral
e-mail to its administrators) instead of delivering a referral

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ABOUT_ONE_THING = "(referral_id IS NULL) <> (account_id IS NULL)"


def upgrade() -> None:
    # On SQLite the table is rebuilt: it must keep AUTOINCREMENT, or an id could be reused.
    with op.batch_alter_table(
        "outbox", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch_op.alter_column("referral_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f("ix_outbox_account_id"), ["account_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_account_id_accounts"),
            "accounts",
            ["account_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint(batch_op.f("ck_outbox_about_one_thing"), ABOUT_ONE_THING)


def downgrade() -> None:
    # Announcements of new accounts have no place in the older table.
    op.execute(sa.text("DELETE FROM outbox WHERE referral_id IS NULL"))
    with op.batch_alter_table(
        "outbox", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_outbox_about_one_thing"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_outbox_account_id_accounts"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_outbox_account_id"))
        batch_op.alter_column("referral_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("account_id")
