"""Server-side sessions, behind a browser cookie or an API token: survivors' and accounts'.

The client holds only a random id (signed, in the cookie or token); the database holds a SHA-256 of
that id, so a copy of the database cannot be used to resume anyone's session. Sessions expire after
a period of inactivity and at a hard limit; expired rows are deleted.

A request that changes nothing in a session writes its row only to push the idle expiry forward,
and at most once every :data:`REFRESH_EVERY`: reading pages writes nothing in between, and a
session idle for its whole limit still ends (up to that minute sooner, never later).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any
from typing import cast

from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .crypto import DecryptionError
from .crypto import FieldCipher
from .models import Case
from .models import SessionRecord
from .models import utcnow

CONTEXT = "session.data"
# How often a session's idle expiry is pushed forward, at most.
REFRESH_EVERY = dt.timedelta(minutes=1)


def hash_session_id(raw_id: str) -> str:
    return hashlib.sha256(raw_id.encode("ascii", "replace")).hexdigest()


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class LoadedSession:
    record: SessionRecord
    data: dict[str, Any]
    # The signed-in case, read with the session: a survivor's request needs no second statement
    # for it (it is in the database session's identity map from here on).
    case: Case | None = None


# A session and its case, if it has one, in one statement, built once.
SESSION_AND_CASE = (
    select(SessionRecord, Case)
    .outerjoin(Case, Case.id == SessionRecord.case_id)
    .where(SessionRecord.id_hash == bindparam("id_hash"))
)


def load_session(
    db: Session, cipher: FieldCipher, raw_id: str, kind: str, *, now: dt.datetime | None = None
) -> LoadedSession | None:
    """The live session with this id (and its case), or None if unknown, expired or of another
    kind."""
    now = now or utcnow()
    row = db.execute(SESSION_AND_CASE, {"id_hash": hash_session_id(raw_id)}).first()
    if row is None:
        return None
    record, case = row
    if record.kind != kind:
        return None
    if record.expires_at <= now or record.ends_at <= now:
        db.delete(record)
        db.commit()
        return None
    data: dict[str, Any] = {}
    if record.data_sealed:
        try:
            data = json.loads(cipher.open(record.data_sealed, CONTEXT))
        except (DecryptionError, ValueError):
            data = {}
    return LoadedSession(record, data, case)


def refresh_due(
    expires_at: dt.datetime, ends_at: dt.datetime, idle: dt.timedelta, now: dt.datetime
) -> bool:
    """Whether a session used now should have its idle expiry pushed forward: the push would
    move it by at least :data:`REFRESH_EVERY` (that long has passed since the last one). Never at
    the hard limit, which nothing moves."""
    return min(now + idle, ends_at) - expires_at >= REFRESH_EVERY


def refresh_session(
    db: Session,
    raw_id: str,
    *,
    expires_at: dt.datetime,
    ends_at: dt.datetime,
    idle: dt.timedelta,
    now: dt.datetime | None = None,
) -> bool:
    """Push the idle expiry of a session whose data did not change forward, when it is due
    (:func:`refresh_due`; ``expires_at`` and ``ends_at`` as loaded): one UPDATE, or nothing.
    False when the session has ended meanwhile (signed out, its case erased), as
    :func:`save_session`."""
    now = now or utcnow()
    if not refresh_due(expires_at, ends_at, idle, now):
        return True
    result = db.execute(
        update(SessionRecord)
        .where(SessionRecord.id_hash == hash_session_id(raw_id))
        .values(expires_at=min(now + idle, ends_at))
    )
    db.commit()
    return int(getattr(result, "rowcount", 0) or 0) == 1


# A new session's row, built once (a sign-in writes one).
NEW_SESSION = insert(cast(Table, SessionRecord.__table__))


def save_session(
    db: Session,
    cipher: FieldCipher,
    raw_id: str,
    kind: str,
    data: dict[str, Any],
    *,
    idle: dt.timedelta,
    longest: dt.timedelta,
    case_id: int | None = None,
    account_id: int | None = None,
    create: bool = False,
    now: dt.datetime | None = None,
) -> bool:
    """Update a session (or create it, for an id made in this request), pushing its idle expiry
    forward. False when the session has ended meanwhile: a request that was already running when
    the person signed out, or erased their case, must not bring the session back."""
    now = now or utcnow()
    id_hash = hash_session_id(raw_id)
    sealed = cipher.seal(json.dumps(data), CONTEXT) if data else None
    if create:
        # A new id is random: nothing to read first, and one INSERT.
        ends_at = now + longest
        try:
            db.execute(
                NEW_SESSION,
                {
                    "id_hash": id_hash,
                    "kind": kind,
                    "case_id": case_id,
                    "account_id": account_id,
                    "data_sealed": sealed,
                    "expires_at": min(now + idle, ends_at),
                    "ends_at": ends_at,
                },
            )
            db.commit()
        except IntegrityError:
            # Its case was erased meanwhile.
            db.rollback()
            return False
        return True
    record = db.get(SessionRecord, id_hash)
    if record is None:
        return False
    record.case_id = case_id
    record.account_id = account_id
    record.data_sealed = sealed
    record.expires_at = min(now + idle, record.ends_at)
    try:
        db.commit()
    except (StaleDataError, IntegrityError):
        # Deleted (or its case erased) between our read and our write.
        db.rollback()
        return False
    return True


def end_session(db: Session, raw_id: str) -> None:
    db.execute(delete(SessionRecord).where(SessionRecord.id_hash == hash_session_id(raw_id)))
    db.commit()


def end_case_sessions(db: Session, case_id: int) -> None:
    """Sign out everywhere: every cookie and token that opens this case stops working."""
    db.execute(delete(SessionRecord).where(SessionRecord.case_id == case_id))


def end_account_sessions(db: Session, account_id: int) -> None:
    """Every session of this account ends (password changed, account disabled)."""
    db.execute(delete(SessionRecord).where(SessionRecord.account_id == account_id))


# Sessions deleted by one statement: a clean-up never holds long locks on a busy table.
PURGE_BATCH = 500
# One batch of them, built once (a sign-in runs it too). Nothing in memory to keep in step: the
# rows are expired ones, which nothing holds.
PURGE_ONE_BATCH = (
    delete(SessionRecord)
    .where(
        SessionRecord.id_hash.in_(
            select(SessionRecord.id_hash)
            .where(SessionRecord.expires_at <= bindparam("now"))
            .order_by(SessionRecord.expires_at)
            .limit(PURGE_BATCH)
        )
    )
    .execution_options(synchronize_session=False)
)
# Whether there is anything to delete: a read, cheaper than a DELETE that finds nothing (which
# takes the database's write lock), and almost always the answer when a session starts.
ANY_EXPIRED = (
    select(SessionRecord.__table__.c.id_hash)
    .where(SessionRecord.__table__.c.expires_at <= bindparam("now"))
    .limit(1)
)


def purge_expired_sessions(
    db: Session,
    *,
    now: dt.datetime | None = None,
    batches: int | None = None,
    commit: bool = True,
) -> int:
    """Delete expired sessions, :data:`PURGE_BATCH` at a time, on the ``expires_at`` index
    (a session's idle expiry is never later than its hard end, so this finds both), committing
    after each batch. ``batches`` bounds the work (one batch when a session starts, left to the
    transaction that starts it: ``commit=False``)."""
    now = now or utcnow()
    deleted = 0
    done = 0
    if db.execute(ANY_EXPIRED, {"now": now}).first() is None:
        if commit:
            db.commit()
        return 0
    while batches is None or done < batches:
        result = db.execute(PURGE_ONE_BATCH, {"now": now})
        if commit:
            db.commit()
        count = int(getattr(result, "rowcount", 0) or 0)
        deleted += count
        done += 1
        if count < PURGE_BATCH:
            break
    return deleted
