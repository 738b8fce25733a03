"""Idempotent calls of the hotline systems API: an action sent with an ``Idempotency-Key`` is
remembered, in the action's own transaction, with the answer it got; the same key again gets the
same answer and changes nothing, and the same key with another request is refused. Kept for
:data:`KEPT_FOR` at least (until ``assistant purge``), long enough for any retry.

A call that was refused is not remembered: sent again, it is decided again (it changed nothing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ApiRequest
from ..models import utcnow

KEPT_FOR = dt.timedelta(hours=24)
# Printable ASCII without spaces, as the IETF draft and most clients make them (UUIDs and such).
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,100}")


def request_digest(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\0".join([method.encode(), path.encode(), body])).hexdigest()


def remembered(db: Session, hotline_id: str, key: str) -> ApiRequest | None:
    return db.scalar(
        select(ApiRequest).where(
            ApiRequest.hotline_id == hotline_id, ApiRequest.idempotency_key == key
        )
    )


def remember(
    db: Session,
    hotline_id: str,
    key: str,
    digest: str,
    status_code: int,
    response: dict[str, Any],
) -> None:
    """Add the call to the caller's transaction (it commits with the action, or not at all)."""
    db.add(
        ApiRequest(
            hotline_id=hotline_id,
            idempotency_key=key,
            request_digest=digest,
            status_code=status_code,
            response=response,
            created_at=utcnow(),
        )
    )


def purge_requests(db: Session, *, now: dt.datetime) -> int:
    """Forget calls older than :data:`KEPT_FOR` (the caller commits)."""
    result = db.execute(delete(ApiRequest).where(ApiRequest.created_at < now - KEPT_FOR))
    return int(getattr(result, "rowcount", 0) or 0)
