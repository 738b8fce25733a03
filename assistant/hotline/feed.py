"""Each hotline's changes feed: referrals that are new or changed, oldest change first, in pages,
so that a hotline's own system polling ``GET /api/v1/hotline/referrals?after=<cursor>`` never
misses a change and never gets an unchanged referral twice.

Every change to a hotline's referrals takes the next numbers of that hotline's counter
(:func:`stamp`) and writes them on the referrals it changed (``Referral.feed_seq``), or on a
:class:`~assistant.models.Withdrawal` for a referral whose case was erased. The numbers are taken
by one conditional UPSERT on the counter's row, as the **last** statement before the commit: a
second transaction waits for that row until the first has committed, so numbers become visible
in the order they were given, and a reader that has seen number *n* has seen every number below
it. (Taking them last also means a transaction that holds the counter waits for nothing else:
no deadlock.) A referral changed twice between two polls is listed once, at its latest change.

A cursor is the last number a page listed, signed with the hotline it belongs to, so a cursor
that was never issued (or was issued to another hotline) is refused.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import cast

from itsdangerous import BadSignature
from itsdangerous import URLSafeSerializer
from sqlalchemy import BigInteger
from sqlalchemy import Date
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from ..models import FeedCounter
from ..models import Location
from ..models import Referral
from ..models import Withdrawal
from ..models import today
from ..vocabulary import CloseReason
from ..vocabulary import ReferralStatus
from ..vocabulary import WithdrawalReason

if TYPE_CHECKING:
    from ..services import Services

FEED_PAGE = 100
CURSOR_SALT = "hotline-feed-cursor"
# How long a withdrawn referral stays in its hotline's feed, as a reference and a date.
WITHDRAWAL_KEPT_DAYS = 90


def take_numbers(db: Session, hotline_id: str, count: int) -> int:
    """Reserve ``count`` numbers of the hotline's feed; returns the last (the first is
    ``last - count + 1``). One statement, holding the counter's row until the commit."""
    return take_numbers_for(db, {hotline_id: count})[hotline_id]


def take_numbers_for(db: Session, counts: Mapping[str, int]) -> dict[str, int]:
    """:func:`take_numbers` for several hotlines at once: each hotline's last number. One
    statement whatever their number; its rows are written (and the counters locked) in the
    order of the hotline ids, the one order every writer takes them in (see :func:`stamp`)."""
    table = cast(Table, FeedCounter.__table__)
    dialect = db.get_bind().dialect.name
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = upsert(table).values(
        [
            {"hotline_id": hotline_id, "last_seq": counts[hotline_id]}
            for hotline_id in sorted(counts)
        ]
    )
    statement = rows.on_conflict_do_update(
        index_elements=[table.c.hotline_id],
        set_={"last_seq": table.c.last_seq + rows.excluded.last_seq},
    ).returning(table.c.hotline_id, table.c.last_seq)
    return {hotline_id: int(last) for hotline_id, last in db.execute(statement)}


def stamp(db: Session, referral_ids: Iterable[tuple[str, int]], *, locked: bool = False) -> None:
    """Put these referrals (``(hotline_id, referral_id)`` pairs) at the end of their hotlines'
    feeds. Call it last in the transaction, after every other write (see the module's note).
    ``locked``: this transaction has written the referrals' rows already (so holds them)."""
    by_hotline: dict[str, list[int]] = {}
    for hotline_id, referral_id in referral_ids:
        if referral_id not in by_hotline.setdefault(hotline_id, []):
            by_hotline[hotline_id].append(referral_id)
    if not by_hotline:
        return
    table = cast(Table, Referral.__table__)
    connection = db.connection()
    # The referrals' rows first (a no-op write, which locks them), the counters after: whoever
    # holds a counter then waits for nothing (see the module's note).
    if not locked:
        every = sorted(i for ids in by_hotline.values() for i in ids)
        connection.execute(
            update(table).where(table.c.id.in_(every)).values(feed_seq=table.c.feed_seq)
        )
    rows: list[dict[str, int]] = []
    # In one order everywhere, so two writers never hold two counters in opposite orders.
    for hotline_id in sorted(by_hotline):
        ids = sorted(by_hotline[hotline_id])
        last = take_numbers(db, hotline_id, len(ids))
        rows.extend(
            {"_id": referral_id, "_seq": last - len(ids) + 1 + index}
            for index, referral_id in enumerate(ids)
        )
    connection.execute(
        update(table).where(table.c.id == bindparam("_id")).values(feed_seq=bindparam("_seq")),
        rows,
    )


def stamp_referrals(db: Session, referrals: Iterable[Referral], *, locked: bool = False) -> None:
    """:func:`stamp` for loaded referrals; their ``feed_seq`` is read again when next used."""
    chosen = [r for r in referrals if r.id is not None]
    stamp(db, ((r.hotline_id, r.id) for r in chosen), locked=locked)
    for referral in chosen:
        db.expire(referral, ["feed_seq"])


def record_withdrawals(
    db: Session,
    referrals: Sequence[tuple[str, int]],
    reason: WithdrawalReason = WithdrawalReason.WITHDRAWN,
) -> int:
    """The referrals (``(hotline_id, referral_id)`` pairs) of erased cases, as their hotlines
    will see them: withdrawn (or expired), nothing else; returns how many. Last in the erasing
    transaction (it takes feed numbers): two statements however many there are, the hotlines'
    numbers (:func:`take_numbers_for`) and the records, which only this transaction can see
    yet (:func:`withdrawals_of` reads them back, for a webhook)."""
    pairs = sorted(set(referrals))
    if not pairs:
        return 0
    counts = Counter(hotline_id for hotline_id, _referral_id in pairs)
    # Each hotline's block of numbers, handed out in the order of its referrals' ids.
    following = {
        hotline_id: last - counts[hotline_id]
        for hotline_id, last in take_numbers_for(db, counts).items()
    }
    numbers = []
    for hotline_id, _referral_id in pairs:
        following[hotline_id] += 1
        numbers.append(following[hotline_id])
    on = today()
    table = cast(Table, Withdrawal.__table__)
    if db.get_bind().dialect.name == "postgresql":
        # Three array parameters: the statement's text is the same for any number of records,
        # so it is parsed once, not once per erasing batch with five parameters a record.
        given = (
            func.unnest(
                bindparam(None, [h for h, _r in pairs], type_=postgresql.ARRAY(String)),
                bindparam(None, [r for _h, r in pairs], type_=postgresql.ARRAY(Integer)),
                bindparam(None, numbers, type_=postgresql.ARRAY(BigInteger)),
            )
            .table_valued("hotline_id", "referral_id", "feed_seq")
            .render_derived()
        )
        rows = select(
            given.c.hotline_id,
            given.c.referral_id,
            literal(on, Date()),
            literal(reason, table.c.reason.type),
            given.c.feed_seq,
        )
        columns = ["hotline_id", "referral_id", "withdrawn_on", "reason", "feed_seq"]
        db.execute(insert(table).from_select(columns, rows))
    else:
        db.execute(
            insert(table),
            [
                {
                    "hotline_id": hotline_id,
                    "referral_id": referral_id,
                    "withdrawn_on": on,
                    "reason": reason,
                    "feed_seq": seq,
                }
                for (hotline_id, referral_id), seq in zip(pairs, numbers, strict=True)
            ],
        )
    return len(pairs)


def withdrawals_of(db: Session, referral_ids: Iterable[int]) -> list[Withdrawal]:
    """The withdrawal records of these referrals (a referral's id is never given twice)."""
    return list(
        db.scalars(
            select(Withdrawal)
            .where(Withdrawal.referral_id.in_(list(referral_ids)))
            .order_by(Withdrawal.id)
        )
    )


def purge_withdrawals(db: Session, *, on: dt.date) -> int:
    """Forget withdrawals older than :data:`WITHDRAWAL_KEPT_DAYS` (the caller commits)."""
    before = on - dt.timedelta(days=WITHDRAWAL_KEPT_DAYS)
    result = db.execute(delete(Withdrawal).where(Withdrawal.withdrawn_on < before))
    return int(getattr(result, "rowcount", 0) or 0)


# --- cursors ---


def _cursors(services: Services) -> URLSafeSerializer:
    return URLSafeSerializer(services.settings.secret_key, salt=CURSOR_SALT)


def cursor_for(services: Services, hotline_id: str, seq: int) -> str:
    return _cursors(services).dumps([hotline_id, seq])


class BadCursor(ValueError):
    """A cursor this service never issued to this hotline."""


def read_cursor(services: Services, hotline_id: str, cursor: str | None) -> int:
    """The feed number a cursor stands for (0 for none: from the beginning)."""
    if not cursor:
        return 0
    try:
        value = _cursors(services).loads(cursor)
    except BadSignature:
        raise BadCursor(cursor) from None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or value[0] != hotline_id
        or not isinstance(value[1], int)
        or isinstance(value[1], bool)
        or value[1] < 0
    ):
        raise BadCursor(cursor)
    seq: int = value[1]
    return seq


# --- a page ---


@dataclass(frozen=True)
class FeedItem:
    """One referral in the feed: what changed is for a read of the referral to say."""

    seq: int
    referral_id: int
    # Withdrawn or expired: nothing of it is left but the reference.
    withdrawn: bool
    status: ReferralStatus | None = None
    version: int | None = None
    received_on: dt.date | None = None
    closed_reason: CloseReason | None = None
    places: int = 0
    withdrawn_on: dt.date | None = None
    reason: WithdrawalReason | None = None


@dataclass(frozen=True)
class FeedPage:
    items: list[FeedItem]
    # The number of the last item listed (the cursor's, when nothing was listed).
    last_seq: int
    more: bool


def feed_page(db: Session, hotline_id: str, after: int, size: int = FEED_PAGE) -> FeedPage:
    """Up to ``size`` referrals of the hotline whose latest change came after ``after``, oldest
    change first. Four statements whatever the size of the data: the counter, two index ranges
    and a count of the page's places.

    The counter is read first and bounds both ranges: every number up to its committed value
    belongs to a committed transaction, so the two ranges (each a statement of its own, which on
    PostgreSQL may see a later moment than the other) list the same moment's changes, and a
    number one of them skipped cannot turn up below the next cursor later."""
    high = db.scalar(select(FeedCounter.last_seq).where(FeedCounter.hotline_id == hotline_id))
    if high is None or high <= after:
        return FeedPage([], after, False)
    referrals = db.execute(
        select(
            Referral.feed_seq,
            Referral.id,
            Referral.status,
            Referral.version,
            Referral.created_on,
            Referral.closed_reason,
        )
        .where(
            Referral.hotline_id == hotline_id,
            Referral.feed_seq > after,
            Referral.feed_seq <= high,
        )
        .order_by(Referral.feed_seq)
        .limit(size + 1)
    ).all()
    withdrawals = db.execute(
        select(
            Withdrawal.feed_seq,
            Withdrawal.referral_id,
            Withdrawal.withdrawn_on,
            Withdrawal.reason,
        )
        .where(
            Withdrawal.hotline_id == hotline_id,
            Withdrawal.feed_seq > after,
            Withdrawal.feed_seq <= high,
        )
        .order_by(Withdrawal.feed_seq)
        .limit(size + 1)
    ).all()
    merged: list[FeedItem] = [
        FeedItem(seq, rid, False, status, version, created, reason)
        for seq, rid, status, version, created, reason in referrals
    ]
    merged.extend(
        FeedItem(seq, rid, True, withdrawn_on=on, reason=why) for seq, rid, on, why in withdrawals
    )
    merged.sort(key=lambda item: item.seq)
    more = len(merged) > size
    page = merged[:size]
    ids = [item.referral_id for item in page if not item.withdrawn]
    places: dict[int, int] = {}
    if ids:
        places = {
            int(rid or 0): int(count)
            for rid, count in db.execute(
                select(Location.referral_id, func.count(Location.id))
                .where(Location.referral_id.in_(ids))
                .group_by(Location.referral_id)
            )
        }
    items = [
        item
        if item.withdrawn
        else FeedItem(
            item.seq,
            item.referral_id,
            False,
            item.status,
            item.version,
            item.received_on,
            item.closed_reason,
            places.get(item.referral_id, 0),
        )
        for item in page
    ]
    return FeedPage(items, items[-1].seq if items else after, more)


def withdrawal_of(db: Session, hotline_id: str, referral_id: int) -> Withdrawal | None:
    """The hotline's record that this referral was withdrawn, if it was."""
    return db.scalar(
        select(Withdrawal).where(
            Withdrawal.hotline_id == hotline_id, Withdrawal.referral_id == referral_id
        )
    )
