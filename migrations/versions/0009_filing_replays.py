"""Filing replays: a retried filing (same Idempotency-Key or web draft) gets the same receipt

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "filing_replays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("answer_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_filing_replays_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filing_replays")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_filing_replays_key_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_filing_replays_created_at"), "filing_replays", ["created_at"], unique=False
    )
    op.create_index(op.f("ix_filing_replays_case_id"), "filing_replays", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_filing_replays_case_id"), table_name="filing_replays")
    op.drop_index(op.f("ix_filing_replays_created_at"), table_name="filing_replays")
    op.drop_table("filing_replays")
