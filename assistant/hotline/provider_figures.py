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

from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from ..models import Notice
from ..models import ProviderNoticeDay
from ..models import ProviderRemovalDays
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


def _day(notice: Notice) -> dict[str, Any]:
    return {"hotline_id": notice.hotline_id, "provider": notice.provider, "sent_on": notice.sent_on}


def count_notice(db: Session, notice: Notice) -> None:
    """A notice was sent."""
    _add(db, ProviderNoticeDay, _day(notice), {"notices": 1})


def count_response(db: Session, notice: Notice) -> None:
    """A notice was answered (``notice.response`` and ``response_on`` are set)."""
    if notice.response_on is None or notice.response == ProviderResponse.NO_RESPONSE:
        return
    after = (notice.response_on - notice.sent_on).days
    counts = {"answered_in_time": int(after <= NO_RESPONSE_AFTER.days)}
    if notice.response == ProviderResponse.REMOVED:
        counts["removed"] = 1
        _add(db, ProviderRemovalDays, {**_day(notice), "days": after}, {"removals": 1})
    _add(db, ProviderNoticeDay, _day(notice), counts)


@dataclass(frozen=True)
class ProviderRecord:
    provider: str
    notices: int
    removed: int
    median_days_to_removal: float | None
    # Of the notices sent at least 7 days ago: the share not answered within 7 days.
    no_response_share: float | None


@dataclass(frozen=True)
class ProviderMonth:
    month: dt.date  # the first day of the month the notices were sent in
    records: list[ProviderRecord]


@dataclass
class _Tally:
    notices: int = 0
    removed: int = 0
    old_enough: int = 0
    answered_in_time: int = 0
    days: dict[int, int] | None = None

    def record(self, provider: str) -> ProviderRecord:
        return ProviderRecord(
            provider=provider,
            notices=self.notices,
            removed=self.removed,
            median_days_to_removal=_median(self.days or {}),
            no_response_share=(
                (self.old_enough - self.answered_in_time) / self.old_enough
                if self.old_enough
                else None
            ),
        )


def _median(histogram: dict[int, int]) -> float | None:
    """The median of a distribution given as {value: how many}."""
    total = sum(histogram.values())
    if not total:
        return None
    values = sorted(histogram)
    middle = [(total - 1) // 2, total // 2]
    found: list[int] = []
    seen = 0
    for value in values:
        seen += histogram[value]
        while middle and middle[0] < seen:
            found.append(value)
            middle.pop(0)
    return sum(found) / 2


def _sorted(tallies: dict[str, _Tally]) -> list[ProviderRecord]:
    records = [tally.record(provider) for provider, tally in tallies.items()]
    records.sort(key=lambda r: (-r.notices, r.provider.casefold()))
    return records


def provider_figures(
    db: Session, hotline_id: str, *, on: dt.date | None = None
) -> tuple[list[ProviderRecord], list[ProviderMonth]]:
    """Per provider over all this hotline's notices, and per provider and month (newest month
    first): notices, removals, median days from notice to removal, and the share of notices sent
    at least 7 days ago that were not answered within 7 days. Most notices first."""
    on = on or today()
    total: dict[str, _Tally] = defaultdict(_Tally)
    months: dict[dt.date, dict[str, _Tally]] = defaultdict(lambda: defaultdict(_Tally))
    for row in db.execute(
        select(ProviderNoticeDay).where(ProviderNoticeDay.hotline_id == hotline_id)
    ).scalars():
        month = row.sent_on.replace(day=1)
        for tally in (total[row.provider], months[month][row.provider]):
            tally.notices += row.notices
            tally.removed += row.removed
            if row.sent_on <= on - NO_RESPONSE_AFTER:
                tally.old_enough += row.notices
                tally.answered_in_time += row.answered_in_time
    for removal in db.execute(
        select(ProviderRemovalDays).where(ProviderRemovalDays.hotline_id == hotline_id)
    ).scalars():
        month = removal.sent_on.replace(day=1)
        for tally in (total[removal.provider], months[month][removal.provider]):
            tally.days = tally.days or {}
            tally.days[removal.days] = tally.days.get(removal.days, 0) + removal.removals
    return _sorted(total), [
        ProviderMonth(month, _sorted(months[month])) for month in sorted(months, reverse=True)
    ]
