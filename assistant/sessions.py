"""Server-side sessions, behind a browser cookie or an API token: survivors' and accounts'.

The client holds only a random id (signed, in the cookie or token); the database holds a SHA-256 of
that id, so a copy of the database cannot be used to resume anyone's session. Sessions expire after
a period of inactivity and at a hard limit; expired rows are deleted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .crypto import DecryptionError
from .crypto import FieldCipher
from .models import SessionRecord
from .models import utcnow

CONTEXT = "session.data"


def hash_session_id(raw_id: str) -> str:
    return hashlib.sha256(raw_id.encode("ascii", "replace")).hexdigest()


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class LoadedSession:
    record: SessionRecord
    data: dict[str, Any]


def load_session(
    db: Session, cipher: FieldCipher, raw_id: str, kind: str, *, now: dt.datetime | None = None
) -> LoadedSession | None:
    """The live session with this id, or None if unknown, expired or of another kind."""
    now = now or utcnow()
    record = db.get(SessionRecord, hash_session_id(raw_id))
    if record is None or record.kind != kind:
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
    return LoadedSession(record, data)


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
    record = db.get(SessionRecord, id_hash)
    if record is None:
        if not create:
            return False
        record = SessionRecord(id_hash=id_hash, kind=kind, ends_at=now + longest)
        db.add(record)
    record.case_id = case_id
    record.account_id = account_id
    record.data_sealed = cipher.seal(json.dumps(data), CONTEXT) if data else None
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


def purge_expired_sessions(
    db: Session, *, now: dt.datetime | None = None, batches: int | None = None
) -> int:
    """Delete expired sessions, :data:`PURGE_BATCH` at a time, on the ``expires_at`` index
    (a session's idle expiry is never later than its hard end, so this finds both), committing
    after each batch. ``batches`` bounds the work (one batch when a session starts)."""
    now = now or utcnow()
    deleted = 0
    done = 0
    while batches is None or done < batches:
        expired = (
            select(SessionRecord.id_hash)
            .where(SessionRecord.expires_at <= now)
            .order_by(SessionRecord.expires_at)
            .limit(PURGE_BATCH)
        )
        result = db.execute(delete(SessionRecord).where(SessionRecord.id_hash.in_(expired)))
        db.commit()
        count = int(getattr(result, "rowcount", 0) or 0)
        deleted += count
        done += 1
        if count < PURGE_BATCH:
            break
    return deleted
