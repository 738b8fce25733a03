"""How providers respond to a hotline's notices, kept as anonymous counts (DESIGN section 6b).

Each notice adds to the count of its hotline, provider and day; each answer adds to "answered in
time" (removed or refused within :data:`NO_RESPONSE_AFTER`) and each removal to the distribution of
days to removal. The counts are written in the same transaction as the notice or the answer and
name no case, place or notice, so erasing a case removes the case and leaves the figures.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
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


@dataclass
class _Tally:
    notices: int = 0
    removed: int = 0
    answered: int = 0
    too_recent: int = 0
    answered_recent: int = 0


def _ranked(
    tallies: dict[str, _Tally], histograms: dict[str, dict[int, int]], limit: int
) -> ProviderFigures:
    ranked = sorted(tallies.items(), key=lambda item: (-item[1].notices, item[0].casefold()))
    shown, rest = ranked[:limit], ranked[limit:]
    records = []
    for provider, tally in shown:
        judged = tally.notices - tally.too_recent
        unanswered = judged - (tally.answered - tally.answered_recent)
        records.append(
            ProviderRecord(
                provider=provider,
                notices=tally.notices,
                removed=tally.removed,
                median_days_to_removal=_median(histograms.get(provider, {})),
                no_response_share=unanswered / judged if judged > 0 else None,
            )
        )
    return ProviderFigures(records, len(rest), sum(t.notices for _, t in rest))


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
    ago that were not answered within 7 days. Five statements, summed in SQL; reads counts only,
    never a notice."""
    on = on or today()
    shown_months = _months_back(on, months)
    sums = (
        func.sum(ProviderNoticeMonth.notices),
        func.sum(ProviderNoticeMonth.removed),
        func.sum(ProviderNoticeMonth.answered_in_time),
    )
    mine = ProviderNoticeMonth.hotline_id == hotline_id
    total: dict[str, _Tally] = defaultdict(_Tally)
    for provider, notices, removed, answered in db.execute(
        select(ProviderNoticeMonth.provider, *sums)
        .where(mine)
        .group_by(ProviderNoticeMonth.provider)
    ):
        total[provider] = _Tally(int(notices), int(removed), int(answered))
    by_month: dict[dt.date, dict[str, _Tally]] = defaultdict(dict)
    for month, provider, notices, removed, answered in db.execute(
        select(ProviderNoticeMonth.month, ProviderNoticeMonth.provider, *sums)
        .where(mine, ProviderNoticeMonth.month.in_(shown_months))
        .group_by(ProviderNoticeMonth.month, ProviderNoticeMonth.provider)
    ):
        by_month[month][provider] = _Tally(int(notices), int(removed), int(answered))
    # Notices of the last 7 days cannot be judged "unanswered within 7 days" yet.
    for sent_on, provider, notices, answered in db.execute(
        select(
            ProviderNoticeDay.sent_on,
            ProviderNoticeDay.provider,
            ProviderNoticeDay.notices,
            ProviderNoticeDay.answered_in_time,
        ).where(
            ProviderNoticeDay.hotline_id == hotline_id,
            ProviderNoticeDay.sent_on > on - NO_RESPONSE_AFTER,
        )
    ):
        month_tallies = by_month.get(sent_on.replace(day=1), {})
        for tally in (total.get(provider), month_tallies.get(provider)):
            if tally is not None:
                tally.too_recent += notices
                tally.answered_recent += answered
    # Medians only for the providers shown: the distribution of those alone is read.
    top = _top(total, limit)
    top_by_month = {month: _top(tallies, month_limit) for month, tallies in by_month.items()}
    removal = ProviderRemovalMonth
    totals: dict[str, dict[int, int]] = defaultdict(dict)
    for provider, days, removals in db.execute(
        select(removal.provider, removal.days, func.sum(removal.removals))
        .where(removal.hotline_id == hotline_id, removal.provider.in_(top))
        .group_by(removal.provider, removal.days)
    ):
        totals[provider][int(days)] = int(removals)
    monthly: dict[dt.date, dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    wanted = {provider for names in top_by_month.values() for provider in names}
    for month, provider, days, removals in db.execute(
        select(removal.month, removal.provider, removal.days, removal.removals).where(
            removal.hotline_id == hotline_id,
            removal.month.in_(shown_months),
            removal.provider.in_(wanted),
        )
    ):
        if provider in top_by_month.get(month, ()):
            monthly[month][provider][int(days)] = int(removals)
    figures = [
        ProviderMonth(month, _ranked(by_month[month], monthly[month], month_limit))
        for month in shown_months
        if by_month.get(month)
    ]
    return _ranked(total, totals, limit), figures


def _top(tallies: dict[str, _Tally], limit: int) -> list[str]:
    ranked = sorted(tallies.items(), key=lambda item: (-item[1].notices, item[0].casefold()))
    return [provider for provider, _tally in ranked[:limit]]
