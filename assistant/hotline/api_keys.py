"""API keys for hotlines' own case systems (DESIGN section 7, "Hotline systems API").

A key belongs to one hotline and carries scopes (``read``, ``act``, ``message``). It is made by
one of the hotline's administrators (the Team pages) or by the service operator (``assistant
api-key``), shown once, and stored only as a SHA-256 (a key is 256 random bits: a slow hash would
add nothing but cost on every call). A key can be rotated, the old one working beside its
successor for an overlap period, and revoked at once. Every new key is shown to all of the
hotline's administrators: on the Team pages, and in a neutral e-mail through the outbox.

Each use is audited under the key's id and name (``key:<id>:<name>``), never the key itself; the
day it was last used is kept, not each call.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from ..errors import Refused
from ..models import Account
from ..models import ApiKey
from ..models import today
from ..models import utcnow
from ..people import audit
from ..routing import Directory
from ..routing import Intake
from ..text_input import checked_text
from ..transactions import committed
from ..vocabulary import ApiScope
from .delivery import outbox_item

KEY_PREFIX = "rra_"
MAX_NAME_LENGTH = 60
# A rotated key keeps working this long by default, and at most this long.
DEFAULT_OVERLAP = dt.timedelta(hours=24)
MAX_OVERLAP = dt.timedelta(days=30)
NEW_FOR = dt.timedelta(days=14)


class KeyRefused(Refused):
    """A key that cannot be made, rotated or revoked as asked; nothing changed."""


@dataclass(frozen=True)
class KeyUse:
    """A key that was accepted: whose it is and what it may do."""

    key_id: int
    hotline_id: str
    name: str
    scopes: frozenset[ApiScope]

    @property
    def actor(self) -> str:
        return key_actor(self.key_id, self.name)


def key_actor(key_id: int, name: str) -> str:
    """How a key appears in the audit trail: its id and name, never the key."""
    return f"key:{key_id}:{name}"[:64]


def key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    # The only time the key is readable.
    raw: str


def _checked_scopes(scopes: Iterable[str]) -> list[ApiScope]:
    chosen: list[ApiScope] = []
    for scope in scopes:
        try:
            member = ApiScope(scope)
        except ValueError:
            raise KeyRefused("bad_scope") from None
        if member not in chosen:
            chosen.append(member)
    if not chosen:
        raise KeyRefused("scope_required")
    return [scope for scope in ApiScope if scope in chosen]


def _checked_name(name: str | None) -> str:
    text = checked_text(name, MAX_NAME_LENGTH, field="name", refuse=KeyRefused, multiline=False)
    if text is None:
        raise KeyRefused("name_required")
    return text


def create_key(
    db: Session,
    directory: Directory,
    hotline_id: str,
    name: str | None,
    scopes: Iterable[str],
    *,
    by: Account | None,
) -> NewKey:
    """A new key for the hotline (``by``: its administrator, or None for the service operator).
    Its administrators are told by e-mail, whoever made it."""
    if directory.get(hotline_id) is None:
        raise KeyRefused("unknown_hotline")
    with committed(db):
        made = _new_key(db, hotline_id, _checked_name(name), _checked_scopes(scopes), by)
    return made


def _new_key(
    db: Session, hotline_id: str, name: str, scopes: list[ApiScope], by: Account | None
) -> NewKey:
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    key = ApiKey(
        hotline_id=hotline_id,
        name=name,
        scopes=scopes,
        key_hash=key_hash(raw),
        created_by=by.id if by is not None else None,
        by_operator=by is None,
        created_at=now,
    )
    db.add(key)
    db.flush()
    # Every administrator of the hotline hears of it (a neutral e-mail; the Team page says more).
    db.add(outbox_item(hotline_id, Intake.EMAIL, api_key_id=key.id))
    actor = audit.account_actor(by) if by is not None else audit.OPERATOR
    audit.record(db, actor, "api_key.created", "api_key", key.id)
    return NewKey(key, raw)


def keys_of(db: Session, hotline_id: str) -> list[ApiKey]:
    """Every key of the hotline, newest first (revoked and expired ones too: the record)."""
    return list(
        db.scalars(select(ApiKey).where(ApiKey.hotline_id == hotline_id).order_by(ApiKey.id.desc()))
    )


def key_of(db: Session, hotline_id: str, key_id: int) -> ApiKey:
    """The hotline's key with this id; another hotline's key is the same refusal as none."""
    key = db.get(ApiKey, key_id)
    if key is None or key.hotline_id != hotline_id:
        raise KeyRefused("unknown_key")
    return key


def is_live(key: ApiKey, now: dt.datetime | None = None) -> bool:
    """Whether the key is still accepted: not revoked, and not past the end of its overlap."""
    moment = now or utcnow()
    return key.revoked_at is None and (key.expires_at is None or key.expires_at > moment)


def is_new(key: ApiKey, now: dt.datetime | None = None) -> bool:
    return (now or utcnow()) - key.created_at < NEW_FOR


def rotate_key(
    db: Session,
    hotline_id: str,
    key_id: int,
    *,
    by: Account | None,
    overlap: dt.timedelta = DEFAULT_OVERLAP,
) -> NewKey:
    """A successor with the same name and scopes; the old key keeps working for ``overlap``
    (0 to 30 days), so the hotline's system can switch without a gap."""
    if overlap < dt.timedelta(0) or overlap > MAX_OVERLAP:
        raise KeyRefused("bad_overlap")
    with committed(db):
        old = key_of(db, hotline_id, key_id)
        now = utcnow()
        if not is_live(old, now):
            raise KeyRefused("key_not_live")
        if old.replaced_by is not None:
            raise KeyRefused("already_rotated")
        new = _new_key(db, hotline_id, old.name, list(old.scopes), by)
        old.replaced_by = new.key.id
        old.expires_at = min(now + overlap, old.expires_at or now + overlap)
        actor = audit.account_actor(by) if by is not None else audit.OPERATOR
        audit.record(db, actor, "api_key.rotated", "api_key", old.id)
    return new


def revoke_key(db: Session, hotline_id: str, key_id: int, *, by: Account | None) -> ApiKey:
    """The key stops working now."""
    with committed(db):
        key = key_of(db, hotline_id, key_id)
        if key.revoked_at is not None:
            raise KeyRefused("already_revoked")
        key.revoked_at = utcnow()
        actor = audit.account_actor(by) if by is not None else audit.OPERATOR
        audit.record(db, actor, "api_key.revoked", "api_key", key.id)
    return key


def authenticate(db: Session, directory: Directory, raw: str) -> KeyUse | None:
    """The key a system presented, if it is one that works now; None for any other (unknown,
    revoked, past its overlap, or of a hotline no longer in the directory). Marks the day it
    was used (one write a day at most). The caller commits."""
    if not raw.startswith(KEY_PREFIX) or len(raw) > 100 or not raw.isascii():
        return None
    digest = key_hash(raw)
    key = db.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    if key is None:
        return None
    if not is_live(key) or directory.get(key.hotline_id) is None:
        return None
    on = today()
    if key.last_used_on != on:
        db.execute(
            update(ApiKey)
            .where(ApiKey.id == key.id)
            .values(last_used_on=on)
            .execution_options(synchronize_session=False)
        )
    return KeyUse(key.id, key.hotline_id, key.name, frozenset(key.scopes))


def creators(db: Session, keys: Iterable[ApiKey]) -> dict[int, str]:
    """The e-mail of each key's maker that is still an account, by account id."""
    ids = {key.created_by for key in keys if key.created_by is not None}
    if not ids:
        return {}
    return dict(db.execute(select(Account.id, Account.email).where(Account.id.in_(ids))).all())
