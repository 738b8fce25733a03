"""What is due next on a place and on a referral, and when (DESIGN section 6b).

Acknowledge a place within 2 days of it arriving; send a notice again 24 hours after the last one
while the place is not removed. (Deadlines set by the directory data join these with the notices.)
The referral keeps the earliest of its places' deadlines on its row, so the queue sorts and filters
by time left without reading any place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..models import NO_DEADLINE
from ..models import Location
from ..models import Referral
from ..vocabulary import WAITING_STATUSES
from ..vocabulary import DueAction
from ..vocabulary import LocationStatus
from ..vocabulary import ProviderResponse

ACKNOWLEDGE_WITHIN = dt.timedelta(days=2)
RENOTICE_AFTER = dt.timedelta(days=1)


@dataclass(frozen=True, order=True)
class Due:
    on: dt.date
    action: DueAction

    def days_left(self, today: dt.date) -> int:
        """Negative when overdue."""
        return (self.on - today).days


def place_due(location: Location, hotline_id: str) -> Due | None:
    """The next thing this hotline owes the place, or None."""
    if location.status in WAITING_STATUSES:
        return Due(location.status_changed_on + ACKNOWLEDGE_WITHIN, DueAction.ACKNOWLEDGE)
    if location.status == LocationStatus.NOTICE_SENT:
        sent = [
            n.sent_on
            for n in location.notices
            if n.hotline_id == hotline_id and n.response != ProviderResponse.REMOVED
        ]
        if sent:
            return Due(max(sent) + RENOTICE_AFTER, DueAction.RENOTICE)
    return None


def referral_due(referral: Referral) -> Due | None:
    """The earliest of its places' deadlines; None for a closed referral or nothing due."""
    if referral.closed_reason:
        return None
    dues = [d for loc in referral.locations if (d := place_due(loc, referral.hotline_id))]
    return min(dues) if dues else None


def keep_due(referral: Referral) -> None:
    """Store the referral's next deadline on its row (the queue's "time left")."""
    due = referral_due(referral)
    referral.due_on = due.on if due else NO_DEADLINE
    referral.due_action = due.action if due else None
