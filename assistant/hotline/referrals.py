"""The referral state machine hotline staff work through (DESIGN section 5).

Every action goes through :func:`apply` or one of the functions below, which check the transition
against :data:`TRANSITIONS`, change the statuses, add a timeline event and an audit event, and
commit, all in one transaction. A refused action changes nothing.

What the survivor sees: an event is visible to them only when a location's status changes (plus
an escalation, which tells them the hotline went further). Events never name a staff member; the
audit log says who did what.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from ..errors import Refused
from ..models import (
    ASSESSMENTS,
    FINISHED_STATUSES,
    HARMFUL_SUBTYPES,
    NOTICE_TYPES,
    PROVIDER_RESPONSES,
    Account,
    InternalNote,
    Location,
    Message,
    Notice,
    Referral,
    ReferralEvent,
    today,
    utcnow,
)
from ..people import audit
from ..routing.normalise import has_control_characters
from .delivery import enqueue_delivery

if TYPE_CHECKING:
    from ..services import Services

CLOSE_REASONS = ("completed", "duplicate", "not_actionable", "outside_remit", "other")
# Set by the app, never chosen: every place of the referral was passed to another hotline.
MOVED = "moved"
REROUTE_REASONS = ("hosted_elsewhere", "provider_elsewhere", "language", "other")
# ICCAM action codes recorded alongside the statuses they map onto (DESIGN section 5).
ICCAM_ACTIONS = {
    "notice_sent": "ISP",
    "removed": "CR",
    "unavailable": "CU",
    "referred": "Moved",
}
# Reasons a place carries besides the routing engine's (``routing.REASON_CODES``).
STAFF_REASON_CODES = ("staff_rerouted",)
MAX_REFERENCE_LENGTH = 200
MAX_PROVIDER_LENGTH = 200
MAX_NOTE_LENGTH = 5000

# (location status, action) -> the status it leads to. Nothing else is allowed.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("received", "acknowledge"): "with_hotline",
    ("referred", "acknowledge"): "with_hotline",
    ("with_hotline", "assess_actionable"): "with_hotline",
    ("with_hotline", "assess_not_actionable"): "closed",
    ("with_hotline", "assess_not_found"): "unavailable",
    ("with_hotline", "notice"): "notice_sent",
    ("notice_sent", "notice"): "notice_sent",
    ("not_removed", "notice"): "notice_sent",
    ("notice_sent", "response_removed"): "removed",
    ("notice_sent", "response_refused"): "not_removed",
    ("notice_sent", "response_no_response"): "notice_sent",
    ("notice_sent", "escalate"): "notice_sent",
    ("not_removed", "escalate"): "notice_sent",
    **{
        (status, action): target
        # Places without an outcome; a refusal (not_removed) stays on record as it is.
        for status in ("received", "with_hotline", "notice_sent", "referred")
        for action, target in (("reroute", "referred"), ("close", "closed"))
    },
}
LOCATION_ACTIONS = frozenset(action for _status, action in TRANSITIONS)


class ActionRefused(Refused):
    """A staff action that is not allowed now, or whose input is wrong; nothing changed."""


@dataclass(frozen=True)
class Staff:
    """Who acts: an account of one hotline."""

    account_id: int
    hotline_id: str

    @classmethod
    def of(cls, account: Account) -> Staff:
        if account.role != "staff" or not account.hotline_id:
            raise ActionRefused("not_staff")
        return cls(account.id, account.hotline_id)

    @property
    def actor(self) -> str:
        return audit.account_actor(self.account_id)


def next_status(status: str, action: str) -> str:
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
    audit.record(db, staff.actor, action, "referral", referral.id, case_id=referral.case_id)
    db.commit()


def _location(referral: Referral, location_id: int) -> Location:
    for location in referral.locations:
        if location.id == location_id:
            return location
    raise ActionRefused("unknown_location")


def _event(
    referral: Referral,
    code: str,
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


def _move(location: Location, action: str) -> bool:
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
        referral.status = "closed"
        return
    statuses = {location.status for location in referral.locations}
    if "received" in statuses:
        referral.status = "received"
    elif "referred" in statuses:
        referral.status = "referred"
    else:
        referral.status = "with_hotline"


def _ensure_open(referral: Referral) -> None:
    if referral.status == "closed":
        raise ActionRefused("referral_closed")


def _finish(
    db: Session,
    staff: Staff,
    referral: Referral,
    action: str,
    object_type: str = "referral",
    object_id: int | None = None,
) -> None:
    refresh_referral_status(referral)
    audit.record(
        db,
        staff.actor,
        action,
        object_type,
        object_id if object_id is not None else referral.id,
        case_id=referral.case_id,
    )
    try:
        db.commit()
    except Exception:
        db.rollback()
        raise


def acknowledge(db: Session, staff: Staff, referral: Referral) -> int:
    """Take the referral on: every location waiting for this hotline is now with it."""
    _ensure_open(referral)
    waiting = [loc for loc in referral.locations if loc.status in ("received", "referred")]
    if not waiting:
        raise ActionRefused("nothing_to_acknowledge")
    for location in waiting:
        _move(location, "acknowledge")
    _event(referral, "with_hotline", count=len(waiting))
    _finish(db, staff, referral, "referral.acknowledged")
    return len(waiting)


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
    if assessment not in ASSESSMENTS:
        raise ActionRefused("bad_assessment")
    if assessment == "harmful_abusive":
        if subtype not in HARMFUL_SUBTYPES:
            raise ActionRefused("subtype_required")
    elif subtype:
        raise ActionRefused("subtype_only_for_harmful")
    country = (hosting_country or "").strip().upper() or None
    if country is not None and (len(country) != 2 or not country.isalpha()):
        raise ActionRefused("bad_country")
    action = {
        "not_found": "assess_not_found",
        "not_actionable": "assess_not_actionable",
    }.get(assessment, "assess_actionable")
    changed = _move(location, action)
    location.assessment = assessment
    location.assessment_subtype = subtype if assessment == "harmful_abusive" else None
    location.hosting_country = country or location.hosting_country
    if changed and location.status == "unavailable":
        _event(referral, "unavailable", location=location, iccam=ICCAM_ACTIONS["unavailable"])
    elif changed:
        _event(referral, "closed", location=location, reason="not_actionable")
    else:
        _event(referral, "assessed", location=location, visible=False, assessment=assessment)
    _finish(db, staff, referral, "location.assessed", "location", location.id)


def _clean_text(value: str | None, limit: int, field: str) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > limit:
        raise ActionRefused("too_long", field=field, limit=str(limit))
    if has_control_characters(text.replace("\n", ""), allow_format=True):
        raise ActionRefused("control_characters", field=field)
    return text


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
    if notice_type not in NOTICE_TYPES:
        raise ActionRefused("bad_notice_type")
    if location.assessment not in NOTICE_TYPES:
        raise ActionRefused("assess_first")
    if notice_type != location.assessment:
        raise ActionRefused("notice_type_mismatch")
    provider_name = _clean_text(provider, MAX_PROVIDER_LENGTH, "provider")
    if provider_name is None:
        raise ActionRefused("provider_required")
    if sent_on > today():
        raise ActionRefused("date_in_future")
    if escalation and not any(n.hotline_id == staff.hotline_id for n in location.notices):
        raise ActionRefused("notice_first")
    reference_text = _clean_text(reference, MAX_REFERENCE_LENGTH, "reference")
    before = location.status
    changed = _move(location, "escalate" if escalation else "notice")
    notice = Notice(
        hotline_id=staff.hotline_id,
        notice_type=notice_type,
        provider=provider_name,
        escalation=escalation,
        sent_on=sent_on,
        reference_sealed=(
            services.cipher.seal(reference_text, "notice.reference") if reference_text else None
        ),
    )
    location.notices.append(notice)
    if escalation:
        _event(referral, "escalated", location=location)
    elif changed:
        _event(referral, "notice_sent", location=location, iccam=ICCAM_ACTIONS["notice_sent"])
    else:
        _event(referral, "notice_repeated", location=location, visible=False)
    db.flush()
    _finish(
        db,
        staff,
        referral,
        "notice.escalated"
        if escalation
        else ("notice.sent" if before != "notice_sent" else "notice.repeated"),
        "notice",
        notice.id,
    )
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
            for n in loc.notices
            if n.id == notice_id and n.hotline_id == staff.hotline_id
        ),
        None,
    )
    if notice is None:
        raise ActionRefused("unknown_notice")
    if response not in PROVIDER_RESPONSES:
        raise ActionRefused("bad_response")
    if notice.response is not None and notice.response != "no_response":
        raise ActionRefused("already_answered")
    if response_on > today() or response_on < notice.sent_on:
        raise ActionRefused("bad_response_date")
    location = notice.location
    changed = _move(location, f"response_{response}")
    notice.response = response
    notice.response_on = response_on
    if changed and response == "removed":
        _event(
            referral,
            "removed",
            location=location,
            iccam=ICCAM_ACTIONS["removed"],
            removed_on=response_on.isoformat(),
        )
    elif changed:
        _event(referral, "not_removed", location=location)
    else:
        _event(referral, "no_response", location=location, visible=False)
    _finish(db, staff, referral, "notice.response", "notice", notice.id)


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
    if reason not in REROUTE_REASONS:
        raise ActionRefused("bad_reason")
    moving = [loc for loc in referral.locations if loc.status not in FINISHED_STATUSES]
    if not moving:
        raise ActionRefused("nothing_to_move")
    moved = Referral(hotline_id=target.id, status="referred", created_on=today())
    referral.case.referrals.append(moved)
    for location in moving:
        _move(location, "reroute")
        location.route_reasons = [
            *location.route_reasons,
            {
                "code": "staff_rerouted",
                "params": {"hotline": target.id, "from": referral.hotline_id, "reason": reason},
            },
        ]
        location.referral = moved
    _event(
        referral,
        "referred",
        iccam=ICCAM_ACTIONS["referred"],
        hotline=target.id,
        reason=reason,
        count=len(moving),
    )
    _event(moved, "passed_here", count=len(moving), hotline=referral.hotline_id, reason=reason)
    if not referral.locations:
        referral.closed_reason = MOVED
    refresh_referral_status(moved)
    enqueue_delivery(db, services.endpoints, moved)
    db.flush()
    _finish(db, staff, referral, "referral.rerouted")
    return moved


def close(db: Session, staff: Staff, referral: Referral, reason: str) -> None:
    """Close the referral; any location without an outcome is closed too, with this reason."""
    _ensure_open(referral)
    if reason not in CLOSE_REASONS:
        raise ActionRefused("bad_reason")
    for location in referral.locations:
        if location.status not in FINISHED_STATUSES:
            _move(location, "close")
            _event(referral, "closed", location=location, reason=reason)
    referral.closed_reason = reason
    _event(referral, "referral_closed", visible=False, reason=reason)
    _finish(db, staff, referral, "referral.closed")


def message_survivor(
    db: Session, services: Services, staff: Staff, referral: Referral, body: str
) -> Message:
    """A message from the hotline; it appears on the survivor's status page, unsigned."""
    text = _clean_text(body.replace("\r\n", "\n"), services.settings.max_message_length, "message")
    if text is None:
        raise ActionRefused("empty")
    message = Message(
        case_id=referral.case_id,
        referral_id=referral.id,
        author="hotline",
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
    text = _clean_text(body.replace("\r\n", "\n"), MAX_NOTE_LENGTH, "note")
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


def allowed_actions(location: Location, hotline_id: str) -> set[str]:
    """The location actions that would be accepted now (the portal shows only these): the
    transitions from its status, less those whose own precondition is not met."""
    own_notices = [n for n in location.notices if n.hotline_id == hotline_id]
    allowed = {action for (status, action) in TRANSITIONS if status == location.status}
    if location.assessment not in NOTICE_TYPES:
        allowed.discard("notice")
    if not own_notices:
        allowed.discard("escalate")
    if not any(n.response in (None, "no_response") for n in own_notices):
        allowed -= {"response_removed", "response_refused", "response_no_response"}
    return allowed


def can_acknowledge(referral: Referral) -> bool:
    return referral.status in ("received", "referred")
