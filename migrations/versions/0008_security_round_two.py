"""Security round two: tries of a receipt counted in the rate-limit store, not on the case;
indexes that erasing at scale needs

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CASE_LOCK_COLUMNS = ("failed_checks", "failed_window_start", "lockouts", "locked_until")


def upgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35 and later have it): rebuilding the cases table on SQLite
    # would drop it first, and with foreign keys on that deletes every referral with it.
    for column in CASE_LOCK_COLUMNS:
        op.execute(sa.text(f"ALTER TABLE cases DROP COLUMN {column}"))
    # Deleting a notice letter looks for the rows that name it (ON DELETE SET NULL): without
    # these, a scan of both tables for every letter erased.
    op.create_index(
        op.f("ix_notice_letters_escalated_from_id"), "notice_letters", ["escalated_from_id"]
    )
    op.create_index(op.f("ix_internal_notes_from_letter_id"), "internal_notes", ["from_letter_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_internal_notes_from_letter_id"), table_name="internal_notes")
    op.drop_index(op.f("ix_notice_letters_escalated_from_id"), table_name="notice_letters")
    op.add_column("cases", sa.Column("failed_checks", sa.Integer(), nullable=True))
    op.add_column("cases", sa.Column("failed_window_start", sa.DateTime(), nullable=True))
    op.add_column("cases", sa.Column("lockouts", sa.Integer(), nullable=True))
    op.add_column("cases", sa.Column("locked_until", sa.DateTime(), nullable=True))
