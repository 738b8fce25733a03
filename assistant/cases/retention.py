"""Erasure and expiry: a survivor's withdrawal, and cases past their retention date.

Both go through :func:`_erase_locked`, which erases any number of cases with the same eleven
statements (a bulk ``DELETE`` per table, then the hotlines' withdrawal records): the purge
erases :data:`PURGE_BATCH` cases a transaction with the statements that one case takes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import Engine
from sqlalchemy import Integer
from sqlalchemy import any_
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.orm import Session

from ..hotline.api_requests import purge_requests
from ..hotline.channels import Endpoint
from ..hotline.delivery import enqueue_withdrawals
from ..hotline.feed import purge_withdrawals
from ..hotline.feed import record_withdrawals
from ..hotline.feed import withdrawals_of
from ..hotline.provider_figures import prune_days
from ..models import AuditEvent
from ..models import Case
from ..models import CaseAccess
from ..models import Invitation
from ..models import Location
from ..models import Message
from ..models import Referral
from ..models import ReferralEvent
from ..models import SessionRecord
from ..models import today
from ..models import utcnow
from ..sessions import purge_expired_sessions
from ..transactions import committed
from ..vocabulary import WithdrawalReason
from .access import purge_invitations
from .replays import purge_replays

# Cases erased by one transaction of the purge. Its statements are the same for 1 case or 2,000;
# what a batch adds is its commit and the index pages it writes again (a batch touches most
# pages of every index on a random value): at 500 a batch the purge ran at about half the rate
# of one bulk transaction, at 2,000 at 0.6 to 0.7 (bench/README.md). A batch holds its locks
# (on SQLite, the one writer's) for about a fifth of a second.
PURGE_BATCH = 2000


def erase_case(
    db: Session,
    case: Case,
    endpoints: Mapping[str, Endpoint] | None = None,
    *,
    reason: WithdrawalReason = WithdrawalReason.WITHDRAWN,
) -> None:
    """Withdraw and erase: every row that belonged to the case goes, in one transaction.

    No trace is kept about the survivor, not even an audit line saying that a case was erased.
    Each hotline that had a referral is told, by its reporting reference only, that it was
    withdrawn (or, past retention, that it expired), in its changes feed, and for a withdrawal
    by webhook where ``endpoints`` names one, so that its own system stops working on it too.
    """
    case_id = case.id
    with committed(db):
        # The case's row first: a place being added at this moment waits, then finds no case.
        # A survivor's own erasure waits for that lock rather than skip it (the purge skips).
        db.execute(select(Case.id).where(Case.id == case_id).with_for_update())
        _erase_locked(db, [case_id], reason, endpoints)
    db.expunge_all()


@dataclass(frozen=True)
class PurgeBatch:
    """What one batch of the purge did: cases it took (``taken``) and cases it erased."""

    taken: int
    erased: int


def erase_expired_batch(db: Session, *, on: dt.date, size: int = PURGE_BATCH) -> PurgeBatch:
    """Erase up to ``size`` cases whose retention ended before ``on``, oldest first, in one
    transaction (killed half-way, it leaves every case whole; the next run takes them again).

    On PostgreSQL the cases' rows are locked first, as :func:`erase_case` locks its case, but
    with SKIP LOCKED: a case someone is writing to right now (a place being added, a message:
    their inserts hold the case's row) is left for the next batch or run instead of making the
    purge wait, and two purges running at once take different cases. The cases' referrals are
    then locked the same way, and a case with a referral someone holds (staff acting on it, who
    may go on to write a message on the case, which would then wait for us while we waited for
    them) is left too, untouched. What is erased is decided only after both locks, so nothing
    can join a taken case before it goes. SQLite has one writer at a time: every statement
    after the first runs in the one write transaction, and the erasure reads the cases' rows
    afresh there (a place added in between goes with its case, and its hotline is told).
    """
    with committed(db):
        taken = list(
            db.scalars(
                select(Case.id)
                .where(Case.retain_until < on)
                .order_by(Case.retain_until, Case.id)
                .limit(size)
                .with_for_update(skip_locked=True)
            )
        )
        chosen = _without_busy_referrals(db, taken)
        erased = _erase_locked(db, chosen, WithdrawalReason.EXPIRED) if chosen else 0
    db.expunge_all()
    return PurgeBatch(len(taken), erased)


def _without_busy_referrals(db: Session, case_ids: list[int]) -> list[int]:
    """The cases (rows locked by this transaction) whose every referral this transaction could
    lock now, without waiting (PostgreSQL; SQLite locks the whole database for a writer)."""
    if not case_ids or db.get_bind().dialect.name != "postgresql":
        return case_ids
    cases = _one_of(db, case_ids)
    # Once the cases are locked no referral can join them (an insert needs the case's row).
    referrals = db.execute(
        select(Referral.id, Referral.case_id).where(cases(Referral.case_id))
    ).all()
    held = set(
        db.scalars(
            select(Referral.id)
            .where(cases(Referral.case_id))
            .order_by(Referral.id)
            .with_for_update(skip_locked=True)
        )
    )
    busy = {case_id for referral_id, case_id in referrals if referral_id not in held}
    return [case_id for case_id in case_ids if case_id not in busy]


def _erase_locked(
    db: Session,
    case_ids: Collection[int],
    reason: WithdrawalReason,
    endpoints: Mapping[str, Endpoint] | None = None,
) -> int:
    """Delete every row of these cases (whose rows the transaction holds) and record each
    referral's withdrawal; returns how many cases were erased (a case erased already counts
    nothing). The same statements for one case or many, none per case. Notices, their letters,
    staff notes and outbox items go with their referral or place (ON DELETE CASCADE)."""
    cases = _one_of(db, list(case_ids))
    referral_ids = select(Referral.id).where(cases(Referral.case_id))
    # Plain SQL on the session's connection: the ORM has none of these rows to keep in step
    # (the caller's objects are let go below), and its bookkeeping cost more than the deletes.
    sql = db.connection()
    # Sign out everywhere: every cookie and token that opens these cases stops working.
    sql.execute(delete(SessionRecord).where(cases(SessionRecord.case_id)))
    sql.execute(delete(Message).where(cases(Message.case_id)))
    sql.execute(delete(CaseAccess).where(cases(CaseAccess.case_id)))
    sql.execute(delete(Invitation).where(cases(Invitation.case_id)))
    sql.execute(delete(ReferralEvent).where(ReferralEvent.referral_id.in_(referral_ids)))
    sql.execute(delete(Location).where(cases(Location.case_id)))
    # What was deleted is what the hotlines hear of (an erasure sent twice finds none).
    gone = sql.execute(
        delete(Referral).where(cases(Referral.case_id)).returning(Referral.hotline_id, Referral.id)
    ).all()
    sql.execute(delete(AuditEvent).where(cases(AuditEvent.case_id)))
    erased = len(sql.execute(delete(Case).where(cases(Case.id)).returning(Case.id)).all())
    if gone:
        record_withdrawals(db, [(h, r) for h, r in gone], reason)
        if endpoints is not None and reason == WithdrawalReason.WITHDRAWN:
            enqueue_withdrawals(db, endpoints, withdrawals_of(db, [r for _h, r in gone]))
    return erased


def _one_of(
    db: Session, ids: list[int]
) -> Callable[[QueryableAttribute[Any]], ColumnElement[bool]]:
    """``column IN ids``, for the statements of one batch, with the ids as one parameter, so a
    statement's text is the same for any number of ids and is parsed once, not once a batch
    with a parameter an id (that was a fifth of a batch's time): ``column = ANY(:ids)`` on
    PostgreSQL, ``column IN (SELECT value FROM json_each(:ids))`` on SQLite."""
    if db.get_bind().dialect.name == "postgresql":
        array = bindparam(None, ids, type_=postgresql.ARRAY(Integer))
        return lambda column: column == any_(array)
    listed = select(func.json_each(bindparam(None, json.dumps(ids))).table_valued("value").c.value)
    return lambda column: column.in_(listed)


def purge(
    db: Session,
    *,
    on: dt.date | None = None,
    now: dt.datetime | None = None,
    batch: int = PURGE_BATCH,
) -> dict[str, int]:
    """Delete expired sessions (abandoned drafts among them), invitations that can no longer be
    used, per-day provider counts no longer read, receipts kept for a retry past their ten
    minutes, and cases past retention, ``batch`` cases a transaction
    (:func:`erase_expired_batch`)."""
    on = on or today()
    sessions = purge_expired_sessions(db, now=now or utcnow())
    purge_invitations(db, on=on)
    prune_days(db, on=on)
    purge_withdrawals(db, on=on)
    purge_requests(db, now=now or utcnow())
    purge_replays(db, now=now or utcnow())
    db.commit()
    cases = 0
    with _batches(db) as batches:
        while True:
            done = erase_expired_batch(batches, on=on, size=batch)
            cases += done.erased
            # A short batch was the last; a batch that erased nothing (every case it took busy)
            # leaves the rest to the next run rather than taking the same cases again at once.
            if done.taken < batch or done.erased == 0:
                break
    db.expunge_all()  # what the caller had loaded of the erased cases is gone
    return {"sessions": sessions, "cases": cases}


# Pages of write-ahead log (4 KiB each) after which SQLite copies the log into the database file
# while the purge runs (its own default is 1,000).
PURGE_CHECKPOINT_PAGES = 16_384


@contextmanager
def _batches(db: Session) -> Iterator[Session]:
    """The session the purge's batches run in: ``db`` itself, except on SQLite. There each
    commit copies the write-ahead log into the database file once the log holds 1,000 pages,
    and a batch rewrites most pages of every index on a random value (case numbers, keyed
    hashes), so that copying, again at every batch, cost as much as the deletes. The batches
    run on one connection that copies only every 64 MiB of log, and once at the end, about as
    one bulk transaction would; each batch still commits (and is on disk) by itself. The
    setting is put back before the connection goes back to the pool."""
    bind = db.get_bind()
    if bind.dialect.name != "sqlite" or not isinstance(bind, Engine):
        yield db
        return
    with bind.connect() as connection:
        previous = int(connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())
        connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint={PURGE_CHECKPOINT_PAGES}")
        connection.commit()
        try:
            with Session(connection, expire_on_commit=False) as batches:
                yield batches
        finally:
            connection.rollback()
            connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint={previous}")
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            connection.commit()
