"""What a hotline's own case system reads through the hotline systems API (DESIGN section 7):
a referral in full, as the portal shows it, and the actions it takes now. The feed is
:mod:`assistant.hotline.feed`; the keys, :mod:`assistant.hotline.api_keys`."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy.orm import Session

from ..models import Referral
from .referrals import allowed_actions
from .reports import export_referral
from .reports import referral_detail

if TYPE_CHECKING:
    from ..services import Services


def api_referral(
    db: Session, services: Services, referral: Referral, assignee: str | None
) -> dict[str, Any]:
    """The referral for a hotline's own system (``GET /api/v1/hotline/referrals/{reference}``):
    everything the portal shows of it, decrypted, with its version (for acting on it), its
    timeline, messages, notes and the actions it takes now. ``assignee``: the assigned
    colleague's e-mail, if any."""
    detail = referral_detail(db, services, referral)
    payload = export_referral(db, services, referral, detail)
    del payload["format"]
    for place, view in zip(payload["locations"], detail.locations, strict=True):
        place["status_changed_on"] = view.status_changed_on.isoformat()
        for item, notice in zip(place["notices"], view.notices, strict=True):
            item.update(
                {
                    "id": notice.id,
                    "notice_reference": notice.letter_reference,
                    "chase": notice.chase,
                    "chase_reason": notice.chase_reason,
                    "reminders": notice.reminders,
                    "answered_by_provider": notice.by_provider,
                    "response_note": notice.response_note,
                }
            )
    allowed = allowed_actions(referral, referral.hotline_id)
    payload.update(
        {
            "state": "open" if referral.closed_reason is None else "closed",
            "version": detail.version,
            "closed_on": detail.closed_on.isoformat() if detail.closed_on else None,
            "closed_reason": detail.closed_reason,
            "assigned_to": (
                {"id": detail.assigned_to, "email": assignee}
                if detail.assigned_to is not None
                else None
            ),
            "timeline": [
                {
                    "code": event.code,
                    "on": event.occurred_on.isoformat(),
                    "location_id": event.location_id,
                    "params": dict(event.params or {}),
                    "visible_to_survivor": event.visible_to_survivor,
                    "version": event.referral_version,
                }
                for event in detail.events
            ],
            "messages": [
                {
                    "id": m.id,
                    "author": m.author,
                    "body": m.body,
                    "sent_on": m.sent_on.isoformat(),
                    "organisation": m.organisation,
                }
                for m in detail.messages
            ],
            "notes": [
                {
                    "id": n.id,
                    "body": n.body,
                    "written_at": n.written_at.replace(tzinfo=dt.UTC).isoformat(),
                    "from_notice": n.from_notice,
                }
                for n in detail.notes
            ],
            "allowed_actions": {
                "acknowledge": allowed.acknowledge,
                "reroute": allowed.reroute,
                "close": allowed.close,
                "reopen_until": allowed.reopen_until.isoformat() if allowed.reopen_until else None,
                "places": [
                    {
                        "id": place_id,
                        "assess": actions.assess,
                        "notice": actions.notice,
                        "renotice": actions.renotice,
                        "escalate": actions.escalate,
                        "answerable_notices": sorted(actions.answerable),
                    }
                    for place_id, actions in allowed.places.items()
                ],
            },
        }
    )
    return payload
