"""Key rotation: which hash keys the stored keyed hashes were made with, and how far a change of
the hash key has come (see assistant.key_rotation)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A new table that nothing references: a plain CREATE on SQLite and PostgreSQL alike. Its
    # row is written when the app first starts (with the hash key configured then).
    op.create_table(
        "keyed_hash_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("in_use", sa.String(length=200), nullable=False),
        sa.Column("rehash_to", sa.String(length=16), nullable=True),
        sa.Column("rehashed_up_to", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_keyed_hash_state")),
    )


def downgrade() -> None:
    op.drop_table("keyed_hash_state")
