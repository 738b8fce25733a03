"""A retried filing gets the same receipt: the answer to a filing made with an
``Idempotency-Key`` (the API) or from a web draft is kept for :data:`KEPT_FOR`, in the filing's
own transaction, and a retry within that time is given it instead of a second case.

The receipt must never be readable from the database alone, so the row holds only a keyed hash
of the idempotency key, and the answer sealed (AES-256-GCM) with a key derived from the
idempotency key and the service's hash key together: whoever holds the database and even the
service's keys still needs the key only the client has. Rows go after :data:`KEPT_FOR`
(whenever a filing with a key is made, and on ``assistant purge``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..crypto import KeyedHasher
from ..models import Case
from ..models import FilingReplay
from ..models import utcnow

KEPT_FOR = dt.timedelta(minutes=10)
# Printable ASCII without spaces; at least 16 characters, so that nobody can guess another
# client's key (a UUID has 36).
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{16,255}")
_NONCE = 12


class ReplayMismatch(Exception):
    """The key was used for another request."""


@dataclass(frozen=True)
class ReplayKey:
    """What the server derives from a client's idempotency key (or a draft's key): the row's
    keyed hash, the key that seals the answer, and the case's submission key (a keyed hash kept
    on the case, so that the same key never files twice, even after the answer is gone)."""

    key_hash: str
    seal_key: bytes
    submission_key: str

    @classmethod
    def of(cls, hasher: KeyedHasher, key: str, purpose: str) -> ReplayKey:
        return cls(
            key_hash=hasher.digest(key, f"{purpose}-replay"),
            seal_key=bytes.fromhex(hasher.digest(key, f"{purpose}-replay-seal")),
            submission_key=hasher.digest(key, f"{purpose}-submission"),
        )


def request_digest(hasher: KeyedHasher, *parts: str | bytes) -> str:
    """A keyed hash of what was sent (a plain hash of it would let a copy of the database confirm
    a guess of the places reported)."""
    plain = hashlib.sha256()
    for part in parts:
        plain.update(part if isinstance(part, bytes) else part.encode("utf-8"))
        plain.update(b"\0")
    return hasher.digest(plain.hexdigest(), "filing-request")


def remember(
    db: Session,
    case: Case,
    key: ReplayKey,
    digest: str,
    answer: dict[str, Any],
    *,
    now: dt.datetime | None = None,
) -> None:
    """Keep the answer, sealed, in the caller's transaction (it commits with the filing or not
    at all); answers past their time go first."""
    now = now or utcnow()
    purge_replays(db, now=now)
    nonce = secrets.token_bytes(_NONCE)
    plain = json.dumps(answer, separators=(",", ":")).encode("utf-8")
    sealed = nonce + AESGCM(key.seal_key).encrypt(nonce, plain, key.key_hash.encode())
    db.add(
        FilingReplay(
            case=case,
            key_hash=key.key_hash,
            request_digest=digest,
            answer_sealed=sealed,
            created_at=now,
        )
    )


def replay(
    db: Session, key: ReplayKey, digest: str, *, now: dt.datetime | None = None
) -> dict[str, Any] | None:
    """The answer the first filing with this key got, if it is still kept; ReplayMismatch when
    the key came with another request."""
    now = now or utcnow()
    found = db.scalar(
        select(FilingReplay).where(
            FilingReplay.key_hash == key.key_hash, FilingReplay.created_at >= now - KEPT_FOR
        )
    )
    if found is None:
        return None
    if found.request_digest != digest:
        raise ReplayMismatch()
    sealed = found.answer_sealed
    try:
        plain = AESGCM(key.seal_key).decrypt(
            sealed[:_NONCE], sealed[_NONCE:], key.key_hash.encode()
        )
    except InvalidTag:
        return None
    answer: dict[str, Any] = json.loads(plain)
    return answer


def purge_replays(db: Session, *, now: dt.datetime | None = None) -> int:
    """Forget answers older than :data:`KEPT_FOR` (the caller commits)."""
    now = now or utcnow()
    result = db.execute(delete(FilingReplay).where(FilingReplay.created_at < now - KEPT_FOR))
    return int(getattr(result, "rowcount", 0) or 0)
