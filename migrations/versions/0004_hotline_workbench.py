"""The hotline workbench: queue columns kept on each referral (lane, time left, flags), versions
for concurrent staff, assignment, reopening, and provider figures that outlive erasure

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NO_DEADLINE = dt.date(9999, 12, 31)
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}
ALL_TIME = dt.date(1, 1, 1)  # the provider figures' row for every month together
# A snapshot of the vocabularies as they stood at this revision (migrations never import the app).
CATEGORIES = (
    "abuse_material",
    "abuse_series",
    "sexualised_context",
    "physical_abuse",
    "identifying_information",
    "threats_harassment",
    "unsure",
)
CSAM_CATEGORIES = {"abuse_material"}
HARMFUL_CATEGORIES = {"abuse_series", "sexualised_context", "physical_abuse"}
WAITING = {"received", "referred"}


def upgrade() -> None:
    # On SQLite a batch alteration rebuilds the table: keep AUTOINCREMENT so that an erased
    # case's ids are never handed out again (models.NEVER_REUSE_IDS).
    with op.batch_alter_table("referrals", table_kwargs=NEVER_REUSE_IDS) as batch_op:
        batch_op.add_column(sa.Column("closed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("assigned_to", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("lane", sa.SmallInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("due_on", sa.Date(), server_default=NO_DEADLINE.isoformat(), nullable=False)
        )
        batch_op.add_column(sa.Column("due_action", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("suggested_notice_type", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("category_bits", sa.Integer(), server_default="0", nullable=False)
        )
        for flag in ("minor", "identifying", "dark_web", "already_reported"):
            batch_op.add_column(
                sa.Column(f"flag_{flag}", sa.Boolean(), server_default=sa.false(), nullable=False)
            )
        batch_op.create_foreign_key(
            batch_op.f("fk_referrals_assigned_to_accounts"),
            "accounts",
            ["assigned_to"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_referrals_queue", ["hotline_id", "lane", "created_on", "id"])
        batch_op.create_index(
            "ix_referrals_status_queue", ["hotline_id", "status", "created_on", "id"]
        )
        batch_op.create_index(
            "ix_referrals_assigned_queue",
            ["hotline_id", "assigned_to", "lane", "created_on", "id"],
        )
        batch_op.create_index("ix_referrals_due", ["hotline_id", "due_on", "id"])

    with op.batch_alter_table("referral_events", table_kwargs=NEVER_REUSE_IDS) as batch_op:
        batch_op.add_column(
            sa.Column("referral_version", sa.Integer(), server_default="0", nullable=False)
        )

    # 0003 rebuilt these two on SQLite without AUTOINCREMENT; rebuild them with it.
    if op.get_bind().dialect.name == "sqlite":
        for table in ("cases", "messages"):
            with op.batch_alter_table(table, recreate="always", table_kwargs=NEVER_REUSE_IDS):
                pass

    op.create_table(
        "provider_notice_months",
        sa.Column("hotline_id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=200), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("notices", sa.Integer(), nullable=False),
        sa.Column("answered_in_time", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("median_days", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint(
            "hotline_id", "provider", "month", name=op.f("pk_provider_notice_months")
        ),
    )
    op.create_table(
        "provider_notice_days",
        sa.Column("hotline_id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=200), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("notices", sa.Integer(), nullable=False),
        sa.Column("answered_in_time", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "hotline_id", "provider", "sent_on", name=op.f("pk_provider_notice_days")
        ),
    )
    op.create_table(
        "provider_removal_months",
        sa.Column("hotline_id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=200), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("removals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "hotline_id", "provider", "month", "days", name=op.f("pk_provider_removal_months")
        ),
    )
    _fill_queue_columns()
    _fill_provider_figures()


def _fill_queue_columns() -> None:
    """Existing referrals get the columns the queue now reads (once, from what is stored)."""
    bind = op.get_bind()
    cases = {
        row.id: (json.loads(row.categories) if isinstance(row.categories, str) else row.categories)
        for row in bind.execute(sa.text("SELECT id, categories FROM cases"))
    }
    minors = {
        row.id
        for row in bind.execute(sa.text("SELECT id FROM cases WHERE minor_in_material = 'yes'"))
    }
    places: dict[int, list[Any]] = defaultdict(list)
    for row in bind.execute(
        sa.text("SELECT id, referral_id, status, status_changed_on, route_reasons FROM locations")
    ):
        places[row.referral_id].append(row)
    last_notice: dict[int, dt.date] = {}
    for row in bind.execute(
        sa.text(
            "SELECT n.location_id, MAX(n.sent_on) AS last_sent FROM notices n "
            "JOIN locations l ON l.id = n.location_id JOIN referrals r ON r.id = l.referral_id "
            "WHERE n.hotline_id = r.hotline_id GROUP BY n.location_id"
        )
    ):
        last_notice[row.location_id] = _date(row.last_sent)
    reported = {
        row.referral_id
        for row in bind.execute(
            sa.text("SELECT DISTINCT referral_id FROM referral_events WHERE code = 'already_reported'")
        )
    }
    for row in bind.execute(
        sa.text("SELECT id, case_id, status, created_on, closed_reason FROM referrals")
    ).fetchall():
        categories = cases.get(row.case_id) or []
        lane = 2 if row.status == "closed" else 0 if row.status in WAITING else 1
        due: list[tuple[dt.date, str]] = []
        for place in places.get(row.id, []) if lane != 2 else []:
            if place.status in WAITING:
                due.append((_date(place.status_changed_on) + dt.timedelta(days=2), "acknowledge"))
            elif place.status == "notice_sent" and place.id in last_notice:
                due.append((last_notice[place.id] + dt.timedelta(days=1), "renotice"))
        due_on, due_action = min(due) if due else (NO_DEADLINE, None)
        reasons = [
            reason
            for place in places.get(row.id, [])
            for reason in (
                json.loads(place.route_reasons)
                if isinstance(place.route_reasons, str)
                else place.route_reasons or []
            )
        ]
        bind.execute(
            sa.text(
                "UPDATE referrals SET lane = :lane, due_on = :due_on, due_action = :due_action, "
                "suggested_notice_type = :notice_type, category_bits = :bits, "
                "flag_minor = :minor, flag_identifying = :identifying, flag_dark_web = :dark, "
                "flag_already_reported = :reported WHERE id = :id"
            ),
            {
                "id": row.id,
                "lane": lane,
                "due_on": due_on,
                "due_action": due_action,
                "notice_type": "csam"
                if CSAM_CATEGORIES & set(categories)
                else "harmful_abusive"
                if HARMFUL_CATEGORIES & set(categories)
                else None,
                "bits": sum(1 << i for i, c in enumerate(CATEGORIES) if c in categories),
                "minor": row.case_id in minors,
                "identifying": "identifying_information" in categories,
                "dark": any(r.get("code") == "dark_web" for r in reasons),
                "reported": row.id in reported,
            },
        )


def _fill_provider_figures() -> None:
    """The figures start from the notices already recorded."""
    bind = op.get_bind()
    months: dict[tuple[str, str, dt.date], list[int]] = defaultdict(lambda: [0, 0, 0])
    days: dict[tuple[str, str, dt.date], list[int]] = defaultdict(lambda: [0, 0])
    removals: dict[tuple[str, str, dt.date, int], int] = defaultdict(int)
    for row in bind.execute(
        sa.text("SELECT hotline_id, provider, sent_on, response, response_on FROM notices")
    ):
        sent_on = _date(row.sent_on)
        day = (row.hotline_id, row.provider, sent_on)
        # Each notice counts in its month and in the row for every month (ALL_TIME).
        keys = [(row.hotline_id, row.provider, when) for when in (sent_on.replace(day=1), ALL_TIME)]
        days[day][0] += 1
        answered = _date(row.response_on) if row.response_on else None
        in_time = 0
        if row.response in ("removed", "refused") and answered is not None:
            in_time = int((answered - sent_on).days <= 7)
            days[day][1] += in_time
        for month in keys:
            months[month][0] += 1
            months[month][1] += in_time
            if row.response == "removed" and answered is not None:
                months[month][2] += 1
                removals[(*month, (answered - sent_on).days)] += 1
    histograms: dict[tuple[str, str, dt.date], dict[int, int]] = defaultdict(dict)
    for (hotline_id, provider, month, after), count in removals.items():
        histograms[(hotline_id, provider, month)][after] = count
    for (hotline_id, provider, month), (notices, in_time, removed) in months.items():
        bind.execute(
            sa.text(
                "INSERT INTO provider_notice_months "
                "(hotline_id, provider, month, notices, answered_in_time, removed, median_days) "
                "VALUES (:h, :p, :m, :n, :a, :r, :d)"
            ),
            {
                "h": hotline_id,
                "p": provider,
                "m": month,
                "n": notices,
                "a": in_time,
                "r": removed,
                "d": _median(histograms.get((hotline_id, provider, month), {})),
            },
        )
    for (hotline_id, provider, sent_on), (notices, in_time) in days.items():
        bind.execute(
            sa.text(
                "INSERT INTO provider_notice_days "
                "(hotline_id, provider, sent_on, notices, answered_in_time) "
                "VALUES (:h, :p, :s, :n, :a)"
            ),
            {"h": hotline_id, "p": provider, "s": sent_on, "n": notices, "a": in_time},
        )
    for (hotline_id, provider, month, after), count in removals.items():
        bind.execute(
            sa.text(
                "INSERT INTO provider_removal_months (hotline_id, provider, month, days, removals) "
                "VALUES (:h, :p, :m, :d, :c)"
            ),
            {"h": hotline_id, "p": provider, "m": month, "d": after, "c": count},
        )


def _median(histogram: dict[int, int]) -> float | None:
    values = sorted(v for v, count in histogram.items() for _ in range(count))
    if not values:
        return None
    middle = len(values) // 2
    return float(values[middle]) if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def downgrade() -> None:
    op.drop_table("provider_removal_months")
    op.drop_table("provider_notice_days")
    op.drop_table("provider_notice_months")
    with op.batch_alter_table("referral_events", schema=None) as batch_op:
        batch_op.drop_column("referral_version")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        for name in ("ix_referrals_due", "ix_referrals_assigned_queue",
                     "ix_referrals_status_queue", "ix_referrals_queue"):
            batch_op.drop_index(name)
        batch_op.drop_constraint(batch_op.f("fk_referrals_assigned_to_accounts"),
                                 type_="foreignkey")
        for column in ("flag_already_reported", "flag_dark_web", "flag_identifying",
                       "flag_minor", "category_bits", "suggested_notice_type", "due_action",
                       "due_on", "lane", "assigned_to", "version", "closed_on"):
            batch_op.drop_column(column)
