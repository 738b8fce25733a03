"""How providers respond to a hotline's notices, kept as anonymous counts (DESIGN section 6b).

Each notice adds to the count of its hotline, provider and day; each answer adds to "answered in
time" (removed or refused within :data:`NO_RESPONSE_AFTER`) and each removal to the distribution of
days to removal. The counts are written in the same transaction as the notice or the answer and
name no case, place or notice, so erasing a case removes the case and leaves the figures.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from ..models import Notice
from ..models import ProviderNoticeDay
from ..models import ProviderNoticeMonth
from ..models import ProviderRemovalMonth
from ..models import today
from ..vocabulary import ProviderResponse

NO_RESPONSE_AFTER = dt.timedelta(days=7)


def _add(db: Session, model: Any, key: dict[str, Any], counts: dict[str, int]) -> None:
    """Add ``counts`` to the row ``key`` of ``model``, creating it at zero first: one statement,
    safe when two workers count for the same row at once."""
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = model.__table__
    zeros = {c.name: 0 for c in table.columns if c.name not in key}
    statement = insert(table).values(**key, **{**zeros, **counts})
    db.execute(
        statement.on_conflict_do_update(
            index_elements=list(key),
            set_={name: table.c[name] + amount for name, amount in counts.items()},
        )
    )


def _keys(notice: Notice) -> tuple[dict[str, Any], dict[str, Any]]:
    base = {"hotline_id": notice.hotline_id, "provider": notice.provider}
    return {**base, "month": notice.sent_on.replace(day=1)}, {**base, "sent_on": notice.sent_on}


def count_notice(db: Session, notice: Notice) -> None:
    """A notice was sent."""
    month, day = _keys(notice)
    _add(db, ProviderNoticeMonth, month, {"notices": 1})
    _add(db, ProviderNoticeDay, day, {"notices": 1})


def count_response(db: Session, notice: Notice) -> None:
    """A notice was answered (``notice.response`` and ``response_on`` are set)."""
    if notice.response_on is None or notice.response == ProviderResponse.NO_RESPONSE:
        return
    month, day = _keys(notice)
    after = (notice.response_on - notice.sent_on).days
    in_time = {"answered_in_time": int(after <= NO_RESPONSE_AFTER.days)}
    removed = {"removed": 1} if notice.response == ProviderResponse.REMOVED else {}
    _add(db, ProviderNoticeMonth, month, {**in_time, **removed})
    _add(db, ProviderNoticeDay, day, in_time)
    if removed:
        _add(db, ProviderRemovalMonth, {**month, "days": after}, {"removals": 1})


@dataclass(frozen=True)
class ProviderRecord:
    provider: str
    notices: int
    removed: int
    median_days_to_removal: float | None
    # Of the notices sent at least 7 days ago: the share not answered within 7 days.
    no_response_share: float | None


@dataclass(frozen=True)
class ProviderFigures:
    """The providers with the most notices (at most ``limit``) and how many more there are."""

    records: list[ProviderRecord]
    more_providers: int
    more_notices: int


@dataclass(frozen=True)
class ProviderMonth:
    month: dt.date  # the first day of the month the notices were sent in
    figures: ProviderFigures


def _median(histogram: dict[int, int]) -> float | None:
    """The median of a distribution given as {value: how many}."""
    total = sum(histogram.values())
    if not total:
        return None
    middle = [(total - 1) // 2, total // 2]
    found: list[int] = []
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        while middle and middle[0] < seen:
            found.append(value)
            middle.pop(0)
    return sum(found) / 2


def _figures(
    db: Session,
    hotline_id: str,
    months: Iterable[dt.date] | None,
    recent: dict[str, tuple[int, int]],
    limit: int,
) -> ProviderFigures:
    """Providers by notices over ``months`` (None: every month), summed in SQL; medians only for
    the providers shown. ``recent`` holds per provider the notices too recent to be judged."""
    where = [ProviderNoticeMonth.hotline_id == hotline_id]
    if months is not None:
        where.append(ProviderNoticeMonth.month.in_(list(months)))
    rows = list(
        db.execute(
            select(
                ProviderNoticeMonth.provider,
                func.sum(ProviderNoticeMonth.notices),
                func.sum(ProviderNoticeMonth.removed),
                func.sum(ProviderNoticeMonth.answered_in_time),
            )
            .where(*where)
            .group_by(ProviderNoticeMonth.provider)
        ).all()
    )
    rows.sort(key=lambda r: (-int(r[1]), str(r[0]).casefold()))
    shown, rest = rows[:limit], rows[limit:]
    histograms: dict[str, dict[int, int]] = defaultdict(dict)
    if shown:
        removal_where = [
            ProviderRemovalMonth.hotline_id == hotline_id,
            ProviderRemovalMonth.provider.in_([r[0] for r in shown]),
        ]
        if months is not None:
            removal_where.append(ProviderRemovalMonth.month.in_(list(months)))
        for provider, days, count in db.execute(
            select(
                ProviderRemovalMonth.provider,
                ProviderRemovalMonth.days,
                func.sum(ProviderRemovalMonth.removals),
            )
            .where(*removal_where)
            .group_by(ProviderRemovalMonth.provider, ProviderRemovalMonth.days)
        ):
            histograms[provider][int(days)] = int(count)
    records = []
    for provider, notices, removed, answered in shown:
        too_recent, answered_recent = recent.get(provider, (0, 0))
        judged = int(notices) - too_recent
        unanswered = judged - (int(answered) - answered_recent)
        records.append(
            ProviderRecord(
                provider=provider,
                notices=int(notices),
                removed=int(removed),
                median_days_to_removal=_median(histograms[provider]),
                no_response_share=unanswered / judged if judged > 0 else None,
            )
        )
    return ProviderFigures(records, len(rest), sum(int(r[1]) for r in rest))


def _recent(
    db: Session, hotline_id: str, on: dt.date, month: dt.date | None = None
) -> dict[str, tuple[int, int]]:
    """Per provider: notices sent in the last 7 days (in ``month`` if given), and how many of
    them were already answered."""
    where = [ProviderNoticeDay.hotline_id == hotline_id]
    where.append(ProviderNoticeDay.sent_on > on - NO_RESPONSE_AFTER)
    if month is not None:
        following = (month + dt.timedelta(days=31)).replace(day=1)
        where += [ProviderNoticeDay.sent_on >= month, ProviderNoticeDay.sent_on < following]
    return {
        provider: (int(notices), int(answered))
        for provider, notices, answered in db.execute(
            select(
                ProviderNoticeDay.provider,
                func.sum(ProviderNoticeDay.notices),
                func.sum(ProviderNoticeDay.answered_in_time),
            )
            .where(*where)
            .group_by(ProviderNoticeDay.provider)
        )
    }


def _months_back(on: dt.date, count: int) -> list[dt.date]:
    first = on.replace(day=1)
    found = []
    for _ in range(count):
        found.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return found


def provider_figures(
    db: Session,
    hotline_id: str,
    *,
    on: dt.date | None = None,
    months: int = 12,
    limit: int = 20,
    month_limit: int = 10,
) -> tuple[ProviderFigures, list[ProviderMonth]]:
    """Per provider over all this hotline's notices (the ``limit`` with the most), and for each of
    the last ``months`` months with notices (the ``month_limit`` with the most): notices,
    removals, median days from notice to removal, and the share of notices sent at least 7 days
    ago that were not answered within 7 days. Reads counts only, never a notice."""
    on = on or today()
    recent = _recent(db, hotline_id, on)
    total = _figures(db, hotline_id, None, recent, limit)
    shown: list[ProviderMonth] = []
    for month in _months_back(on, months):
        # Only the months that hold one of the last 7 days have notices too recent to judge.
        judged_from = (on - NO_RESPONSE_AFTER + dt.timedelta(days=1)).replace(day=1)
        recent_in_month = _recent(db, hotline_id, on, month) if month >= judged_from else {}
        figures = _figures(db, hotline_id, [month], recent_in_month, month_limit)
        if figures.records:
            shown.append(ProviderMonth(month, figures))
    return total, shown
