"""Trusted advocates: registration profile, access to cases, invitations, consent records

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("profile_sealed", sa.LargeBinary(), nullable=True))

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_sealed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(
            sa.Column("must_change_passphrase", sa.Boolean(), nullable=False,
                      server_default=sa.false())
        )
        batch_op.add_column(sa.Column("passphrase_replaced_on", sa.Date(), nullable=True))

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_messages_account_id_accounts"), "accounts", ["account_id"], ["id"],
            ondelete="SET NULL",
        )

    op.create_table(
        "case_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("granted_on", sa.Date(), nullable=False),
        sa.Column("messages_read_up_to", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_case_access_account_id_accounts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_case_access_case_id_cases"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_access")),
        sa.UniqueConstraint("case_id", "account_id", name=op.f("uq_case_access_case_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("case_access", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_access_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_access_account_id"), ["account_id"],
                              unique=False)

    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_invitations_case_id_cases"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("nonce_hash", name=op.f("uq_invitations_nonce_hash")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitations_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invitations_created_on"), ["created_on"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("invitations")
    op.drop_table("case_access")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_messages_account_id_accounts"),
                                 type_="foreignkey")
        batch_op.drop_column("account_id")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("passphrase_replaced_on")
        batch_op.drop_column("must_change_passphrase")
        batch_op.drop_column("consent_sealed")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("profile_sealed")
