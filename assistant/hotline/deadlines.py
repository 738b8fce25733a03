"""What is due next on a place and on a referral, and when (DESIGN section 6b).

Acknowledge a place within 2 days of it arriving; send a notice once it is assessed as one of the
two notice types; for a notice recorded by hand, send it again 24 hours after the last one while
the place is not removed. A notice the app sends is chased by the app (its next reminder is shown,
at the hotline's pace or sooner where the directory records a removal deadline for the provider);
when the reminders run out with nobody upstream, staff escalate by hand.
The referral keeps the earliest of its places' deadlines on its row, so the queue sorts and filters
by time left without reading any place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..models import NO_DEADLINE
from ..models import Location
from ..models import Notice
from ..models import Referral
from ..vocabulary import WAITING_STATUSES
from ..vocabulary import Assessment
from ..vocabulary import ChaseHold
from ..vocabulary import ChaseState
from ..vocabulary import DueAction
from ..vocabulary import LocationStatus
from ..vocabulary import ProviderResponse

ACKNOWLEDGE_WITHIN = dt.timedelta(days=2)
RENOTICE_AFTER = dt.timedelta(days=1)
# A chase staff paused comes back to their due list after this long.
REVIEW_PAUSE_AFTER = dt.timedelta(days=7)


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
    own = [n for n in location.notices if n.hotline_id == hotline_id]
    if (
        location.status == LocationStatus.WITH_HOTLINE
        and not own
        and location.assessment
        in (
            Assessment.CSAM,
            Assessment.HARMFUL_ABUSIVE,
        )
    ):
        return Due(location.status_changed_on, DueAction.SEND_NOTICE)
    if location.status == LocationStatus.NOT_REMOVED and own:
        # Refused: the hotline can go to the upstream provider, or close the place.
        refused = own[-1]
        return Due(refused.response_on or refused.sent_on, DueAction.ESCALATE)
    if location.status == LocationStatus.NOTICE_SENT:
        latest = own[-1] if own else None
        if latest is not None and latest.chase is not None:
            return _chase_due(latest)
        sent = [n.sent_on for n in own if n.response != ProviderResponse.REMOVED]
        if sent:
            return Due(max(sent) + RENOTICE_AFTER, DueAction.RENOTICE)
    return None


def _chase_due(notice: Notice) -> Due | None:
    """A notice the app sends: the chase reminds (nothing for staff to do but watch); staff
    escalate once it ran out, answer a provider's question (the chase waits for them), and look
    again at a chase they paused a week on; a stopped chase owes nothing."""
    since = notice.chase_since or notice.sent_on
    if notice.chase == ChaseState.NO_ANSWER:
        return Due(since, DueAction.ESCALATE)
    if notice.chase == ChaseState.PAUSED:
        if notice.chase_reason == ChaseHold.PROVIDER_QUESTION:
            return Due(since, DueAction.ANSWER)
        return Due(since + REVIEW_PAUSE_AFTER, DueAction.REVIEW_CHASE)
    letter = notice.letter
    if notice.chase == ChaseState.ACTIVE and letter is not None and letter.next_chase_at:
        return Due(letter.next_chase_at.date(), DueAction.REMIND)
    return None


def referral_due(referral: Referral) -> Due | None:
    """The earliest of its places' deadlines; None for a closed referral or nothing due."""
    if referral.closed_reason:
        return None
    # A reminder the app sends asks nothing of staff: it shows on the place, not in the queue.
    dues = [
        d
        for loc in referral.locations
        if (d := place_due(loc, referral.hotline_id)) and d.action != DueAction.REMIND
    ]
    return min(dues) if dues else None


def keep_due(referral: Referral) -> None:
    """Store the referral's next deadline on its row (the queue's "time left")."""
    due = referral_due(referral)
    referral.due_on = due.on if due else NO_DEADLINE
    referral.due_action = due.action if due else None
