"""Notices the app sends and chases (DESIGN section 6b): the notice as the provider receives it,
each place's chase, a hotline's own settings, and outbox items that carry a notice

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

NEVER_REUSE_IDS = {"sqlite_autoincrement": True}
OLD_ABOUT_ONE_THING = "(referral_id IS NULL) <> (account_id IS NULL)"
ABOUT_ONE_THING = (
    "(CASE WHEN referral_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN account_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN letter_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def upgrade() -> None:
    op.create_table(
        "notice_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("hotline_id", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("provider", sa.String(length=200), nullable=False),
        sa.Column("provider_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("notice_type", sa.String(length=20), nullable=False),
        sa.Column("subtype", sa.String(length=1), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recipient_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("escalation", sa.Boolean(), nullable=False),
        sa.Column("escalated_from_id", sa.Integer(), nullable=True),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("last_sent_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("next_chase_at", sa.DateTime(), nullable=True),
        sa.Column("chase_round", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalated_from_id"],
            ["notice_letters.id"],
            name=op.f("fk_notice_letters_escalated_from_id_notice_letters"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_notice_letters_referral_id_referrals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_letters")),
        **NEVER_REUSE_IDS,
    )
    with op.batch_alter_table("notice_letters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notice_letters_hotline_id"), ["hotline_id"], unique=False
        )
        batch_op.create_index("ix_notice_letters_due", ["next_chase_at", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_notice_letters_referral_id"), ["referral_id"], unique=False
        )
    op.create_table(
        "hotline_settings",
        sa.Column("hotline_id", sa.String(length=64), nullable=False),
        sa.Column("chase_hours", sa.Integer(), nullable=False),
        sa.Column("reminder_limit", sa.Integer(), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("updated_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("hotline_id", name=op.f("pk_hotline_settings")),
    )
    with op.batch_alter_table(
        "notices", schema=None, table_kwargs=NEVER_REUSE_IDS
    ) as batch_op:
        batch_op.add_column(sa.Column("responded_by", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("response_note_sealed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("letter_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("chase", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("chase_reason", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("chase_since", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_notices_letter_id"), ["letter_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_notices_letter_id_notice_letters"),
            "notice_letters",
            ["letter_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table(
        "internal_notes", schema=None, table_kwargs=NEVER_REUSE_IDS
    ) as batch_op:
        batch_op.add_column(sa.Column("from_letter_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_internal_notes_from_letter_id_notice_letters"),
            "notice_letters",
            ["from_letter_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("outbox", schema=None, table_kwargs=NEVER_REUSE_IDS) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_outbox_about_one_thing"), type_="check")
        batch_op.add_column(sa.Column("letter_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("reminder", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_outbox_letter_id"), ["letter_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_letter_id_notice_letters"),
            "notice_letters",
            ["letter_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint(batch_op.f("ck_outbox_about_one_thing"), ABOUT_ONE_THING)
    with op.batch_alter_table("provider_notice_months", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminders", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("escalations", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("provider_notice_months", schema=None) as batch_op:
        batch_op.drop_column("escalations")
        batch_op.drop_column("reminders")
    # Deliveries of notices have no place in the older table.
    op.execute(sa.text("DELETE FROM outbox WHERE letter_id IS NOT NULL"))
    with op.batch_alter_table("outbox", schema=None, table_kwargs=NEVER_REUSE_IDS) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_outbox_about_one_thing"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_letter_id_notice_letters"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_outbox_letter_id"))
        batch_op.drop_column("reminder")
        batch_op.drop_column("letter_id")
        batch_op.create_check_constraint(
            batch_op.f("ck_outbox_about_one_thing"), OLD_ABOUT_ONE_THING
        )
    with op.batch_alter_table(
        "internal_notes", schema=None, table_kwargs=NEVER_REUSE_IDS
    ) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_internal_notes_from_letter_id_notice_letters"), type_="foreignkey"
        )
        batch_op.drop_column("from_letter_id")
    with op.batch_alter_table(
        "notices", schema=None, table_kwargs=NEVER_REUSE_IDS
    ) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_notices_letter_id_notice_letters"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_notices_letter_id"))
        batch_op.drop_column("chase_since")
        batch_op.drop_column("chase_reason")
        batch_op.drop_column("chase")
        batch_op.drop_column("letter_id")
        batch_op.drop_column("response_note_sealed")
        batch_op.drop_column("responded_by")
    op.drop_table("hotline_settings")
    with op.batch_alter_table("notice_letters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_letters_referral_id"))
        batch_op.drop_index("ix_notice_letters_due")
        batch_op.drop_index(batch_op.f("ix_notice_letters_hotline_id"))
    op.drop_table("notice_letters")
