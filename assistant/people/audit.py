"""The audit trail: who did what to which object, and when. Never the content.

An account's actions carry a time (staff and administrators answer for what they do); a survivor's
carry only a date (DESIGN section 8: no exact timestamps for survivors).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Account
from ..models import AuditEvent
from ..models import today
from ..models import utcnow

SURVIVOR = "survivor"
# The service operator, at the command line.
OPERATOR = "cli"
UNKNOWN = "unknown"


def account_actor(account: Account | int) -> str:
    return f"account:{account if isinstance(account, int) else account.id}"


def record(
    db: Session,
    actor: str,
    action: str,
    object_type: str,
    object_id: int | None = None,
    *,
    case_id: int | None = None,
) -> AuditEvent:
    """Add an audit event to ``db``'s transaction (the caller commits)."""
    event = AuditEvent(**row(actor, action, object_type, object_id, case_id=case_id))
    db.add(event)
    return event


def row(
    actor: str,
    action: str,
    object_type: str,
    object_id: int | None = None,
    *,
    case_id: int | None = None,
) -> dict[str, Any]:
    """An audit event's columns, for work that writes many at once."""
    return {
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "case_id": case_id,
        "occurred_on": today(),
        "occurred_at": None if actor == SURVIVOR else utcnow(),
    }


def record_on_case(db: Session, actor: str, action: str, case_id: int) -> AuditEvent:
    """An event about a case as a whole (filed, viewed, a receipt issued, an invitation...)."""
    return record(db, actor, action, "case", case_id, case_id=case_id)


def latest(db: Session, count: int) -> list[AuditEvent]:
    """The newest ``count`` events, newest first."""
    return list(db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(count)))
