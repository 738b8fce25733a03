"""The referral state machine hotline staff work through (DESIGN section 5).

Every action goes through one of the functions below, which check the transition against
:data:`TRANSITIONS`, change the statuses, add a timeline event and an audit event, and commit, all
in one transaction. A refused action changes nothing. :func:`allowed_actions` says, from the same
rules, what would be accepted now, so the portal offers exactly that.

What the survivor sees: an event is visible to them only when a location's status changes (plus
an escalation, which tells them the hotline went further). Events never name a staff member; the
audit log says who did what.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

from sqlalchemy.orm import Session

from ..errors import Refused
from ..models import Account
from ..models import InternalNote
from ..models import Location
from ..models import Message
from ..models import Notice
from ..models import Referral
from ..models import ReferralEvent
from ..models import today
from ..models import utcnow
from ..people import audit
from ..routing import Directory
from ..routing import Hotline
from ..routing.countries import checked_country
from ..text_input import checked_text
from ..transactions import committed
from ..vocabulary import ASSESSMENT_NOTICE_TYPES
from ..vocabulary import CHOSEN_CLOSE_REASONS
from ..vocabulary import FINISHED_STATUSES
from ..vocabulary import WAITING_STATUSES
from ..vocabulary import Assessment
from ..vocabulary import CloseReason
from ..vocabulary import EventCode
from ..vocabulary import HarmfulSubtype
from ..vocabulary import LocationAction
from ..vocabulary import LocationStatus
from ..vocabulary import MessageAuthor
from ..vocabulary import NoticeType
from ..vocabulary import ProviderResponse
from ..vocabulary import ReferralStatus
from ..vocabulary import RerouteReason
from ..vocabulary import Role
from ..vocabulary import StaffReason
from .delivery import enqueue_delivery

if TYPE_CHECKING:
    from ..services import Services

S, A = LocationStatus, LocationAction
V = TypeVar("V", bound=StrEnum)
# ICCAM action codes recorded alongside the statuses they map onto (DESIGN section 5).
ICCAM_ACTIONS = {
    S.NOTICE_SENT: "ISP",
    S.REMOVED: "CR",
    S.UNAVAILABLE: "CU",
    S.REFERRED: "Moved",
}
MAX_REFERENCE_LENGTH = 200
MAX_PROVIDER_LENGTH = 200
MAX_NOTE_LENGTH = 5000

# (location status, action) -> the status it leads to. Nothing else is allowed.
TRANSITIONS: dict[tuple[LocationStatus, LocationAction], LocationStatus] = {
    (S.RECEIVED, A.ACKNOWLEDGE): S.WITH_HOTLINE,
    (S.REFERRED, A.ACKNOWLEDGE): S.WITH_HOTLINE,
    (S.WITH_HOTLINE, A.ASSESS_ACTIONABLE): S.WITH_HOTLINE,
    (S.WITH_HOTLINE, A.ASSESS_NOT_ACTIONABLE): S.CLOSED,
    (S.WITH_HOTLINE, A.ASSESS_NOT_FOUND): S.UNAVAILABLE,
    (S.WITH_HOTLINE, A.NOTICE): S.NOTICE_SENT,
    (S.NOTICE_SENT, A.NOTICE): S.NOTICE_SENT,
    (S.NOT_REMOVED, A.NOTICE): S.NOTICE_SENT,
    (S.NOTICE_SENT, A.RESPONSE_REMOVED): S.REMOVED,
    (S.NOTICE_SENT, A.RESPONSE_REFUSED): S.NOT_REMOVED,
    (S.NOTICE_SENT, A.RESPONSE_NO_RESPONSE): S.NOTICE_SENT,
    (S.NOTICE_SENT, A.ESCALATE): S.NOTICE_SENT,
    (S.NOT_REMOVED, A.ESCALATE): S.NOTICE_SENT,
    **{
        (status, action): target
        # Places without an outcome; a refusal (not_removed) stays on record as it is.
        for status in LocationStatus
        if status not in FINISHED_STATUSES
        for action, target in ((A.REROUTE, S.REFERRED), (A.CLOSE, S.CLOSED))
    },
}
# How an assessment moves a place.
ASSESSMENT_ACTIONS = {
    Assessment.CSAM: A.ASSESS_ACTIONABLE,
    Assessment.HARMFUL_ABUSIVE: A.ASSESS_ACTIONABLE,
    Assessment.NOT_ACTIONABLE: A.ASSESS_NOT_ACTIONABLE,
    Assessment.NOT_FOUND: A.ASSESS_NOT_FOUND,
}
RESPONSE_ACTIONS = {
    ProviderResponse.REMOVED: A.RESPONSE_REMOVED,
    ProviderResponse.REFUSED: A.RESPONSE_REFUSED,
    ProviderResponse.NO_RESPONSE: A.RESPONSE_NO_RESPONSE,
}


class ActionRefused(Refused):
    """A staff action that is not allowed now, or whose input is wrong; nothing changed."""


@dataclass(frozen=True)
class Staff:
    """Who acts: an account of one hotline."""

    account_id: int
    hotline_id: str

    @classmethod
    def of(cls, account: Account) -> Staff:
        if account.role != Role.STAFF or not account.hotline_id:
            raise ActionRefused("not_staff")
        return cls(account.id, account.hotline_id)

    @property
    def actor(self) -> str:
        return audit.account_actor(self.account_id)


def next_status(status: LocationStatus, action: LocationAction) -> LocationStatus:
    """The status an action leads to, or :class:`ActionRefused` if it is not allowed."""
    target = TRANSITIONS.get((status, action))
    if target is None:
        raise ActionRefused("not_allowed", status=status, action=action)
    return target


def referral_for_staff(db: Session, staff: Staff, referral_id: int) -> Referral | None:
    """The referral, if it is in this staff member's hotline's queue; None otherwise (the same
    answer as for a referral that does not exist)."""
    referral = db.get(Referral, referral_id)
    if referral is None or referral.hotline_id != staff.hotline_id:
        return None
    return referral


def record_view(
    db: Session, staff: Staff, referral: Referral, action: str = "referral.viewed"
) -> None:
    """Every view of a referral's content is audited (DESIGN section 8)."""
    with committed(db):
        audit.record(db, staff.actor, action, "referral", referral.id, case_id=referral.case_id)


def _location(referral: Referral, location_id: int) -> Location:
    for location in referral.locations:
        if location.id == location_id:
            return location
    raise ActionRefused("unknown_location")


def _event(
    referral: Referral,
    code: EventCode,
    *,
    location: Location | None = None,
    visible: bool = True,
    **params: Any,
) -> None:
    referral.events.append(
        ReferralEvent(
            code=code,
            location_id=location.id if location is not None else None,
            params=params,
            occurred_on=today(),
            visible_to_survivor=visible,
        )
    )


def _move(location: Location, action: LocationAction) -> bool:
    """Apply a transition to one location; True when its status changed."""
    target = next_status(location.status, action)
    changed = target != location.status
    location.status = target
    if changed:
        location.status_changed_on = today()
    return changed


def refresh_referral_status(referral: Referral) -> None:
    """``received`` while any location waits for acknowledgement, ``referred`` while it waits
    after a move, ``closed`` once closed, else ``with_hotline``."""
    if referral.closed_reason:
        referral.status = ReferralStatus.CLOSED
        return
    statuses = {location.status for location in referral.locations}
    if S.RECEIVED in statuses:
        referral.status = ReferralStatus.RECEIVED
    elif S.REFERRED in statuses:
        referral.status = ReferralStatus.REFERRED
    else:
        referral.status = ReferralStatus.WITH_HOTLINE


def is_open(referral: Referral) -> bool:
    return referral.status != ReferralStatus.CLOSED


def _ensure_open(referral: Referral) -> None:
    if not is_open(referral):
        raise ActionRefused("referral_closed")


def _finish(
    db: Session,
    staff: Staff,
    referral: Referral,
    action: str,
    object_type: str = "referral",
    object_id: int | None = None,
) -> None:
    with committed(db):
        refresh_referral_status(referral)
        audit.record(
            db,
            staff.actor,
            action,
            object_type,
            object_id if object_id is not None else referral.id,
            case_id=referral.case_id,
        )


def acknowledge(db: Session, staff: Staff, referral: Referral) -> int:
    """Take the referral on: every location waiting for this hotline is now with it."""
    _ensure_open(referral)
    waiting = [loc for loc in referral.locations if loc.status in WAITING_STATUSES]
    if not waiting:
        raise ActionRefused("nothing_to_acknowledge")
    for location in waiting:
        _move(location, A.ACKNOWLEDGE)
    _event(referral, EventCode.WITH_HOTLINE, count=len(waiting))
    _finish(db, staff, referral, "referral.acknowledged")
    return len(waiting)


def _vocabulary(vocabulary: type[V], value: str | None, code: str) -> V:
    """``value`` as a member of ``vocabulary``, or :class:`ActionRefused` with ``code``."""
    try:
        return vocabulary(value or "")
    except ValueError:
        raise ActionRefused(code) from None


def assess(
    db: Session,
    staff: Staff,
    referral: Referral,
    location_id: int,
    assessment: str,
    subtype: str | None = None,
    hosting_country: str | None = None,
) -> None:
    """Record the hotline's assessment of one location.

    ``csam`` and ``harmful_abusive`` (with its sub-type a, b or c) make it actionable; ``not_found``
    makes it ``unavailable`` and ``not_actionable`` closes it, and the survivor sees either.
    """
    _ensure_open(referral)
    location = _location(referral, location_id)
    chosen = _vocabulary(Assessment, assessment, "bad_assessment")
    sub: HarmfulSubtype | None = None
    if chosen == Assessment.HARMFUL_ABUSIVE:
        sub = _vocabulary(HarmfulSubtype, subtype, "subtype_required")
    elif subtype:
        raise ActionRefused("subtype_only_for_harmful")
    try:
        country = checked_country(hosting_country)
    except ValueError:
        raise ActionRefused("bad_country") from None
    changed = _move(location, ASSESSMENT_ACTIONS[chosen])
    location.assessment = chosen
    location.assessment_subtype = sub
    location.hosting_country = country or location.hosting_country
    if changed and location.status == S.UNAVAILABLE:
        _event(
            referral, EventCode.UNAVAILABLE, location=location, iccam=ICCAM_ACTIONS[S.UNAVAILABLE]
        )
    elif changed:
        _event(referral, EventCode.CLOSED, location=location, reason=CloseReason.NOT_ACTIONABLE)
    else:
        _event(referral, EventCode.ASSESSED, location=location, visible=False, assessment=chosen)
    _finish(db, staff, referral, "location.assessed", "location", location.id)


def notice_type_for(location: Location) -> NoticeType | None:
    """The notice type the place's assessment calls for; None until it is assessed as one."""
    return ASSESSMENT_NOTICE_TYPES.get(location.assessment) if location.assessment else None


def _own_notices(location: Location, hotline_id: str) -> list[Notice]:
    """Only the hotline that sent a notice sees it (a place moved on takes its notices along)."""
    return [notice for notice in location.notices if notice.hotline_id == hotline_id]


def _answerable(notice: Notice) -> bool:
    """A notice without a response yet (or with only "no response") can still be answered."""
    return notice.response in (None, ProviderResponse.NO_RESPONSE)


def record_notice(
    db: Session,
    services: Services,
    staff: Staff,
    referral: Referral,
    location_id: int,
    *,
    notice_type: str,
    provider: str,
    sent_on: dt.date,
    reference: str | None = None,
    escalation: bool = False,
) -> Notice:
    """A removal notice sent to the provider (or, with ``escalation``, to its upstream provider).

    Only for a location assessed as ``csam`` or ``harmful_abusive``; a second notice is a re-notice.
    """
    _ensure_open(referral)
    location = _location(referral, location_id)
    chosen = _vocabulary(NoticeType, notice_type, "bad_notice_type")
    allowed = notice_type_for(location)
    if allowed is None:
        raise ActionRefused("assess_first")
    if chosen != allowed:
        raise ActionRefused("notice_type_mismatch")
    provider_name = checked_text(
        provider, MAX_PROVIDER_LENGTH, field="provider", refuse=ActionRefused, multiline=False
    )
    if provider_name is None:
        raise ActionRefused("provider_required")
    if sent_on > today():
        raise ActionRefused("date_in_future")
    if escalation and not _own_notices(location, staff.hotline_id):
        raise ActionRefused("notice_first")
    reference_text = checked_text(
        reference, MAX_REFERENCE_LENGTH, field="reference", refuse=ActionRefused, multiline=False
    )
    changed = _move(location, A.ESCALATE if escalation else A.NOTICE)
    notice = Notice(
        hotline_id=staff.hotline_id,
        notice_type=chosen,
        provider=provider_name,
        escalation=escalation,
        sent_on=sent_on,
        reference_sealed=(
            services.cipher.seal(reference_text, "notice.reference") if reference_text else None
        ),
    )
    location.notices.append(notice)
    if escalation:
        _event(referral, EventCode.ESCALATED, location=location)
        audit_action = "notice.escalated"
    elif changed:
        iccam = ICCAM_ACTIONS[S.NOTICE_SENT]
        _event(referral, EventCode.NOTICE_SENT, location=location, iccam=iccam)
        audit_action = "notice.sent"
    else:
        _event(referral, EventCode.NOTICE_REPEATED, location=location, visible=False)
        audit_action = "notice.repeated"
    db.flush()
    _finish(db, staff, referral, audit_action, "notice", notice.id)
    return notice


def record_response(
    db: Session,
    staff: Staff,
    referral: Referral,
    notice_id: int,
    response: str,
    response_on: dt.date,
) -> None:
    """What the provider did about a notice: removed (on a date), refused, or no response."""
    _ensure_open(referral)
    notice = next(
        (
            n
            for loc in referral.locations
            for n in _own_notices(loc, staff.hotline_id)
            if n.id == notice_id
        ),
        None,
    )
    if notice is None:
        raise ActionRefused("unknown_notice")
    answer = _vocabulary(ProviderResponse, response, "bad_response")
    if not _answerable(notice):
        raise ActionRefused("already_answered")
    if response_on > today() or response_on < notice.sent_on:
        raise ActionRefused("bad_response_date")
    location = notice.location
    changed = _move(location, RESPONSE_ACTIONS[answer])
    notice.response = answer
    notice.response_on = response_on
    if changed and answer == ProviderResponse.REMOVED:
        _event(
            referral,
            EventCode.REMOVED,
            location=location,
            iccam=ICCAM_ACTIONS[S.REMOVED],
            removed_on=response_on.isoformat(),
        )
    elif changed:
        _event(referral, EventCode.NOT_REMOVED, location=location)
    else:
        _event(referral, EventCode.NO_RESPONSE, location=location, visible=False)
    _finish(db, staff, referral, "notice.response", "notice", notice.id)


def _without_outcome(referral: Referral) -> list[Location]:
    return [loc for loc in referral.locations if loc.status not in FINISHED_STATUSES]


def reroute_targets(directory: Directory, referral: Referral) -> list[Hotline]:
    """The hotlines this referral can be passed to: every other one, by name."""
    return sorted(
        (h for h in directory.hotlines.values() if h.id != referral.hotline_id),
        key=lambda h: h.name.casefold(),
    )


def reroute(
    db: Session,
    services: Services,
    staff: Staff,
    referral: Referral,
    to_hotline_id: str,
    reason: str,
) -> Referral:
    """Pass every location without an outcome to another hotline, as a new referral in its queue.

    This hotline keeps its own referral: its notes, notices, messages and the places that have an
    outcome stay with it, and the other hotline sees none of them. When nothing is left here, the
    referral closes. The survivor sees ``referred`` and where the places went.
    """
    _ensure_open(referral)
    target = services.directory.get(to_hotline_id)
    if target is None:
        raise ActionRefused("unknown_hotline")
    if target.id == referral.hotline_id:
        raise ActionRefused("same_hotline")
    why = _vocabulary(RerouteReason, reason, "bad_reason")
    moving = _without_outcome(referral)
    if not moving:
        raise ActionRefused("nothing_to_move")
    moved = Referral(hotline_id=target.id, status=ReferralStatus.REFERRED, created_on=today())
    referral.case.referrals.append(moved)
    for location in moving:
        _move(location, A.REROUTE)
        location.route_reasons = [
            *location.route_reasons,
            {
                "code": StaffReason.STAFF_REROUTED,
                "params": {"hotline": target.id, "from": referral.hotline_id, "reason": why},
            },
        ]
        location.referral = moved
    _event(
        referral,
        EventCode.REFERRED,
        iccam=ICCAM_ACTIONS[S.REFERRED],
        hotline=target.id,
        reason=why,
        count=len(moving),
    )
    _event(moved, EventCode.PASSED_HERE, count=len(moving), hotline=referral.hotline_id, reason=why)
    if not referral.locations:
        referral.closed_reason = CloseReason.MOVED
    refresh_referral_status(moved)
    enqueue_delivery(db, services.endpoints, moved)
    db.flush()
    _finish(db, staff, referral, "referral.rerouted")
    return moved


def close(db: Session, staff: Staff, referral: Referral, reason: str) -> None:
    """Close the referral; any location without an outcome is closed too, with this reason."""
    _ensure_open(referral)
    why = _vocabulary(CloseReason, reason, "bad_reason")
    if why not in CHOSEN_CLOSE_REASONS:
        raise ActionRefused("bad_reason")
    for location in _without_outcome(referral):
        _move(location, A.CLOSE)
        _event(referral, EventCode.CLOSED, location=location, reason=why)
    referral.closed_reason = why
    _event(referral, EventCode.REFERRAL_CLOSED, visible=False, reason=why)
    _finish(db, staff, referral, "referral.closed")


def message_survivor(
    db: Session, services: Services, staff: Staff, referral: Referral, body: str
) -> Message:
    """A message from the hotline; it appears on the survivor's status page, unsigned."""
    limit = services.settings.max_message_length
    text = checked_text(body, limit, field="message", refuse=ActionRefused)
    if text is None:
        raise ActionRefused("empty")
    message = Message(
        case_id=referral.case_id,
        referral_id=referral.id,
        author=MessageAuthor.HOTLINE,
        body_sealed=services.cipher.seal(text, "message.body"),
        sent_on=today(),
    )
    db.add(message)
    db.flush()
    _finish(db, staff, referral, "message.sent", "message", message.id)
    return message


def add_internal_note(
    db: Session, services: Services, staff: Staff, referral: Referral, body: str
) -> InternalNote:
    """A note for the hotline's staff only; never shown to the survivor."""
    text = checked_text(body, MAX_NOTE_LENGTH, field="note", refuse=ActionRefused)
    if text is None:
        raise ActionRefused("empty")
    note = InternalNote(
        account_id=staff.account_id,
        body_sealed=services.cipher.seal(text, "note.body"),
        written_at=utcnow(),
    )
    referral.notes.append(note)
    db.flush()
    _finish(db, staff, referral, "note.added", "note", note.id)
    return note


# --- what the portal offers: exactly what the functions above would accept now ---


@dataclass(frozen=True)
class PlaceActions:
    """What may be done to one place now."""

    assess: bool
    # The notice type a notice may be recorded with now; None when no notice may be.
    notice: NoticeType | None
    # A notice now would follow an earlier one of this hotline's (a re-notice).
    renotice: bool
    escalate: bool
    # This hotline's notices about the place that may still get a response.
    answerable: frozenset[int]


@dataclass(frozen=True)
class ReferralActions:
    """What may be done to a referral and its places now."""

    acknowledge: bool
    reroute: bool
    close: bool
    places: Mapping[int, PlaceActions]


def _place_actions(location: Location, hotline_id: str) -> PlaceActions:
    own = _own_notices(location, hotline_id)
    possible = {action for (status, action) in TRANSITIONS if status == location.status}
    responses = set(RESPONSE_ACTIONS.values())
    return PlaceActions(
        assess=A.ASSESS_ACTIONABLE in possible,
        notice=notice_type_for(location) if A.NOTICE in possible else None,
        renotice=bool(own),
        escalate=A.ESCALATE in possible and bool(own),
        answerable=frozenset(
            notice.id for notice in own if _answerable(notice) and responses <= possible
        ),
    )


def allowed_actions(referral: Referral, hotline_id: str) -> ReferralActions:
    """Everything staff of ``hotline_id`` may do to this referral now; a closed referral takes
    nothing."""
    if not is_open(referral):
        return ReferralActions(False, False, False, {loc.id: _CLOSED for loc in referral.locations})
    return ReferralActions(
        acknowledge=any(loc.status in WAITING_STATUSES for loc in referral.locations),
        reroute=bool(_without_outcome(referral)),
        close=True,
        places={loc.id: _place_actions(loc, hotline_id) for loc in referral.locations},
    )


_CLOSED = PlaceActions(False, None, False, False, frozenset())
