"""How providers respond to a hotline's notices, kept as anonymous counts (DESIGN section 6b).

Each notice adds to the count of its hotline, provider and day; each answer adds to "answered in
time" (removed or refused within :data:`NO_RESPONSE_AFTER`) and each removal to the distribution of
days to removal. The counts are written in the same transaction as the notice or the answer and
name no case, place or notice, so erasing a case removes the case and leaves the figures.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update
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
# The month of the row that counts every month together.
ALL_TIME = dt.date(1, 1, 1)


def _add(db: Session, model: Any, key: dict[str, Any], counts: dict[str, int]) -> None:
    """Add ``counts`` to the row ``key`` of ``model``, creating it at zero first: one statement,
    safe when two workers count for the same row at once."""
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = model.__table__
    zeros = {c.name: 0 for c in table.columns if c.name not in key and isinstance(c.type, Integer)}
    statement = insert(table).values(**key, **{**zeros, **counts})
    db.execute(
        statement.on_conflict_do_update(
            index_elements=list(key),
            set_={name: table.c[name] + amount for name, amount in counts.items()},
        )
    )


# Providers that staff named by a host or an address are counted together, never by name: these
# counts outlive erasure, and a host may be the reported site itself (DESIGN section 8).
ADDRESSES = ""
_ADDRESS = re.compile(r"://|^[^\s/]+\.[a-z]{2,}(?:[/:?#]|$)", re.IGNORECASE)


def figures_provider(provider: str) -> str:
    """The name the figures count a notice's provider under."""
    return ADDRESSES if _ADDRESS.search(provider.strip()) else provider


def _keys(notice: Notice) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The month's row and the all-months row a notice counts in, and its day's row."""
    base = {"hotline_id": notice.hotline_id, "provider": figures_provider(notice.provider)}
    months = [{**base, "month": notice.sent_on.replace(day=1)}, {**base, "month": ALL_TIME}]
    return months, {**base, "sent_on": notice.sent_on}


def count_notice(db: Session, notice: Notice) -> None:
    """A notice was sent."""
    months, day = _keys(notice)
    for month in months:
        _add(db, ProviderNoticeMonth, month, {"notices": 1})
    _add(db, ProviderNoticeDay, day, {"notices": 1})


def count_chase(
    db: Session,
    hotline_id: str,
    provider: str,
    on: dt.date,
    *,
    reminders: int = 0,
    escalations: int = 0,
) -> None:
    """The chase reminded a provider, or took a notice to its upstream provider."""
    base = {"hotline_id": hotline_id, "provider": figures_provider(provider)}
    for month in (on.replace(day=1), ALL_TIME):
        _add(
            db,
            ProviderNoticeMonth,
            {**base, "month": month},
            {"reminders": reminders, "escalations": escalations},
        )


def count_response(db: Session, notice: Notice) -> None:
    """A notice was answered (``notice.response`` and ``response_on`` are set)."""
    if notice.response_on is None or notice.response == ProviderResponse.NO_RESPONSE:
        return
    months, day = _keys(notice)
    after = (notice.response_on - notice.sent_on).days
    in_time = {"answered_in_time": int(after <= NO_RESPONSE_AFTER.days)}
    removed = notice.response == ProviderResponse.REMOVED
    for month in months:
        # The month's row is written first: its lock makes a second worker wait, so the median
        # below is read from a distribution that holds both removals.
        _add(db, ProviderNoticeMonth, month, {**in_time, **({"removed": 1} if removed else {})})
        if removed:
            _add(db, ProviderRemovalMonth, {**month, "days": after}, {"removals": 1})
            _keep_median(db, month)
    _add(db, ProviderNoticeDay, day, in_time)


def _keep_median(db: Session, month: dict[str, Any]) -> None:
    """Store the median days to removal on the month's row, from its distribution (a few dozen
    rows at most: one per number of days)."""
    where = [getattr(ProviderRemovalMonth, name) == value for name, value in month.items()]
    histogram = {
        int(days): int(count)
        for days, count in db.execute(
            select(ProviderRemovalMonth.days, ProviderRemovalMonth.removals).where(*where)
        )
    }
    db.execute(
        update(ProviderNoticeMonth)
        .where(*[getattr(ProviderNoticeMonth, name) == value for name, value in month.items()])
        .values(median_days=_median(histogram))
    )


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
    tallies: dict[str, _Tally], medians: dict[str, float | None], limit: int
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
                median_days_to_removal=medians.get(provider),
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
    ago that were not answered within 7 days. Two statements over rows of counts, never a
    notice."""
    on = on or today()
    shown_months = _months_back(on, months)
    tallies: dict[dt.date, dict[str, _Tally]] = defaultdict(dict)
    medians: dict[dt.date, dict[str, float | None]] = defaultdict(dict)
    rows = ProviderNoticeMonth.__table__.c  # plain rows: no object per provider and month
    for month, provider, notices, removed, answered, median in db.execute(
        select(
            rows.month,
            rows.provider,
            rows.notices,
            rows.removed,
            rows.answered_in_time,
            rows.median_days,
        ).where(rows.hotline_id == hotline_id, rows.month.in_([ALL_TIME, *shown_months]))
    ):
        tallies[month][provider] = _Tally(notices, removed, answered)
        medians[month][provider] = median
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
        for month in (ALL_TIME, sent_on.replace(day=1)):
            tally = tallies[month].get(provider)
            if tally is not None:
                tally.too_recent += notices
                tally.answered_recent += answered
    figures = [
        ProviderMonth(month, _ranked(tallies[month], medians[month], month_limit))
        for month in shown_months
        if tallies.get(month)
    ]
    return _ranked(tallies[ALL_TIME], medians[ALL_TIME], limit), figures


# Providers the public page names; every other name is counted under OTHERS.
OTHERS = ""


def public_figures(
    db: Session, named: Iterable[str], *, on: dt.date | None = None, limit: int = 50
) -> ProviderFigures:
    """Every hotline's notices together, per provider the directory names (``named``; any other
    name staff typed is counted with the others, never shown): notices, removals, median days to
    removal and the share not answered within 7 days. Read from the counts only."""
    on = on or today()
    known = set(named)

    def key(provider: str) -> str:
        return provider if provider in known else OTHERS

    tallies: dict[str, _Tally] = {}
    histograms: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    rows = ProviderNoticeMonth.__table__.c
    for provider, notices, removed, answered in db.execute(
        select(rows.provider, rows.notices, rows.removed, rows.answered_in_time).where(
            rows.month == ALL_TIME
        )
    ):
        tally = tallies.setdefault(key(provider), _Tally())
        tally.notices += notices
        tally.removed += removed
        tally.answered += answered
    for provider, notices, answered in db.execute(
        select(
            ProviderNoticeDay.provider,
            ProviderNoticeDay.notices,
            ProviderNoticeDay.answered_in_time,
        ).where(ProviderNoticeDay.sent_on > on - NO_RESPONSE_AFTER)
    ):
        recent = tallies.get(key(provider))
        if recent is not None:
            recent.too_recent += notices
            recent.answered_recent += answered
    removals = ProviderRemovalMonth.__table__.c
    for provider, days, count in db.execute(
        select(removals.provider, removals.days, removals.removals).where(
            removals.month == ALL_TIME
        )
    ):
        histograms[key(provider)][int(days)] += int(count)
    medians = {provider: _median(dict(h)) for provider, h in histograms.items()}
    return _ranked(tallies, medians, limit)


def prune_days(db: Session, *, on: dt.date | None = None) -> int:
    """Forget the per-day counts once they are older than the days they are read for: a day row
    with one notice would otherwise say, for good, when one notice went to one provider."""
    on = on or today()
    result = db.execute(
        delete(ProviderNoticeDay).where(ProviderNoticeDay.sent_on <= on - NO_RESPONSE_AFTER)
    )
    return int(getattr(result, "rowcount", 0) or 0)
