"""Words for the hotline portal, the account pages and the administrator's pages."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_babel import ngettext

from ..people.advocates import AdvocateAction
from ..routing import Directory
from ..routing import Intake
from ..vocabulary import AccountStatus
from ..vocabulary import Assessment
from ..vocabulary import CloseReason
from ..vocabulary import EventCode
from ..vocabulary import FiledBy
from ..vocabulary import HarmfulSubtype
from ..vocabulary import LocationStatus
from ..vocabulary import NoticeType
from ..vocabulary import ProviderResponse
from ..vocabulary import ReferralStatus
from ..vocabulary import RerouteReason
from ..vocabulary import Role
from .texts import STATUS_LABELS
from .texts import hotline_name
from .texts import looked_up

ASSESSMENT_LABELS = {
    Assessment.CSAM: lazy_gettext("Child sexual abuse material (notice type 1)"),
    Assessment.HARMFUL_ABUSIVE: lazy_gettext("Harmful/abusive image of a child (notice type 2)"),
    Assessment.NOT_ACTIONABLE: lazy_gettext("Not actionable"),
    Assessment.NOT_FOUND: lazy_gettext("Not found at this location"),
}

SUBTYPE_LABELS = {
    HarmfulSubtype.A: lazy_gettext(
        "(a) recorded in the course of the abuse, including crops and stills"
    ),
    HarmfulSubtype.B: lazy_gettext("(b) a child shown in a sexualised context"),
    HarmfulSubtype.C: lazy_gettext("(c) a child physically abused, tortured or restrained"),
}

NOTICE_TYPE_LABELS = {
    NoticeType.CSAM: lazy_gettext("Type 1: child sexual abuse material"),
    NoticeType.HARMFUL_ABUSIVE: lazy_gettext("Type 2: harmful/abusive image"),
}

RESPONSE_LABELS = {
    ProviderResponse.REMOVED: lazy_gettext("Removed"),
    ProviderResponse.REFUSED: lazy_gettext("Refused"),
    ProviderResponse.NO_RESPONSE: lazy_gettext("No response"),
}

CLOSE_REASON_LABELS = {
    CloseReason.COMPLETED: lazy_gettext("Every place has an outcome"),
    CloseReason.DUPLICATE: lazy_gettext("Already handled in another referral"),
    CloseReason.NOT_ACTIONABLE: lazy_gettext("Nothing here that we can act on"),
    CloseReason.OUTSIDE_REMIT: lazy_gettext("Outside what this hotline can act on"),
    CloseReason.OTHER: lazy_gettext("Other"),
    CloseReason.MOVED: lazy_gettext("Every place was passed to another hotline"),
}

REROUTE_REASON_LABELS = {
    RerouteReason.HOSTED_ELSEWHERE: lazy_gettext("Hosted in a country another hotline covers"),
    RerouteReason.PROVIDER_ELSEWHERE: lazy_gettext("The provider is established elsewhere"),
    RerouteReason.LANGUAGE: lazy_gettext("Another hotline can work in the survivor's language"),
    RerouteReason.OTHER: lazy_gettext("Other"),
}

REFERRAL_STATUS_LABELS = {
    ReferralStatus.RECEIVED: lazy_gettext("New"),
    ReferralStatus.WITH_HOTLINE: lazy_gettext("Acknowledged"),
    ReferralStatus.REFERRED: lazy_gettext("Moved here"),
    ReferralStatus.CLOSED: lazy_gettext("Closed"),
}

CHANNEL_LABELS = {
    Intake.WEBHOOK: lazy_gettext("Webhook"),
    Intake.EMAIL: lazy_gettext("E-mail notice"),
}

ACCOUNT_STATUS_LABELS = {
    AccountStatus.PENDING: lazy_gettext("Waiting for approval"),
    AccountStatus.ENROLLING: lazy_gettext("Not set up yet"),
    AccountStatus.ACTIVE: lazy_gettext("Active"),
    AccountStatus.SUSPENDED: lazy_gettext("Suspended"),
    AccountStatus.DISABLED: lazy_gettext("Disabled"),
}

ROLE_LABELS = {
    Role.STAFF: lazy_gettext("Hotline staff"),
    Role.ADVOCATE: lazy_gettext("Advocate"),
    Role.ADMIN: lazy_gettext("Administrator"),
}

FILED_BY_LABELS = {
    FiledBy.SURVIVOR: lazy_gettext("The survivor"),
    FiledBy.ADVOCATE: lazy_gettext("An advocate"),
}

# What an administrator's buttons say for each action on an advocate's account.
ADVOCATE_ACTION_LABELS = {
    AdvocateAction.APPROVE: lazy_gettext("Approve"),
    AdvocateAction.RENEW_LINK: lazy_gettext("Send a new set-up link"),
    AdvocateAction.DECLINE: lazy_gettext("Decline and delete"),
    AdvocateAction.SUSPEND: lazy_gettext("Suspend"),
    AdvocateAction.REINSTATE: lazy_gettext("Reinstate"),
}

QUEUE_FILTER_LABELS: dict[str, str] = {
    "open": lazy_gettext("Open"),
    **{str(status): label for status, label in REFERRAL_STATUS_LABELS.items()},
    "all": lazy_gettext("All"),
}

ACCOUNT_REFUSALS = {
    "password_too_short": lazy_gettext("The password is too short: at least %(limit)s characters."),
    "password_too_long": lazy_gettext("The password is too long: at most %(limit)s characters."),
    "password_is_email": lazy_gettext("The password cannot be your e-mail address."),
    "wrong_code": lazy_gettext(
        "That code is not right, or was already used. Wait for the next code and try again."
    ),
    "wrong_password": lazy_gettext("The current password is not right."),
}

ACTION_REFUSALS = {
    "not_allowed": lazy_gettext("That step is not possible for this place now."),
    "referral_closed": lazy_gettext("This referral is closed."),
    "nothing_to_acknowledge": lazy_gettext("Everything in this referral is already acknowledged."),
    "unknown_location": lazy_gettext("That place is not part of this referral."),
    "unknown_notice": lazy_gettext("That notice is not part of this referral."),
    "bad_assessment": lazy_gettext("Choose an assessment."),
    "subtype_required": lazy_gettext("Choose the sub-type (a, b or c) of a harmful/abusive image."),
    "subtype_only_for_harmful": lazy_gettext("A sub-type only applies to a harmful/abusive image."),
    "bad_country": lazy_gettext("Give the hosting country as two letters, such as NL."),
    "bad_notice_type": lazy_gettext("Choose a notice type."),
    "notice_type_mismatch": lazy_gettext(
        "The notice type must match the assessment (type 1 or type 2)."
    ),
    "assess_first": lazy_gettext("Assess the place as type 1 or type 2 before recording a notice."),
    "provider_required": lazy_gettext("Name the provider."),
    "date_in_future": lazy_gettext("The date cannot be in the future."),
    "bad_date": lazy_gettext("Give a valid date."),
    "notice_first": lazy_gettext("Record a notice to the provider before an escalation."),
    "bad_response": lazy_gettext("Choose the provider's response."),
    "already_answered": lazy_gettext("This notice already has a response."),
    "bad_response_date": lazy_gettext("The date must be between the notice and today."),
    "unknown_hotline": lazy_gettext("Choose a hotline from the list."),
    "same_hotline": lazy_gettext("The referral is already with that hotline."),
    "bad_reason": lazy_gettext("Choose a reason."),
    "nothing_to_move": lazy_gettext("Every place already has an outcome; nothing to move."),
    "too_long": lazy_gettext("This is too long: at most %(limit)s characters."),
    "control_characters": lazy_gettext("This contains invisible control characters."),
    "empty": lazy_gettext("Write something first."),
}


@dataclass(frozen=True)
class StaffEventWords:
    """What a timeline entry's words are made of, as staff read it."""

    count: int
    open_cases: int
    hotline: str
    assessment: str
    reroute_reason: str
    close_reason: str


def _staff_event_words(params: Mapping[str, Any], directory: Directory) -> StaffEventWords:
    return StaffEventWords(
        count=int(params.get("count", 0) or 0),
        open_cases=int(params.get("open_cases", 0) or 0),
        hotline=hotline_name(directory, params.get("hotline")),
        assessment=str(looked_up(ASSESSMENT_LABELS, Assessment, params.get("assessment")) or ""),
        reroute_reason=str(
            looked_up(REROUTE_REASON_LABELS, RerouteReason, params.get("reason")) or ""
        ),
        close_reason=str(looked_up(CLOSE_REASON_LABELS, CloseReason, params.get("reason")) or ""),
    )


STAFF_EVENT_TEXTS: dict[EventCode, Callable[[StaffEventWords], str]] = {
    EventCode.ROUTED: lambda w: ngettext(
        "Routed here (%(num)d place).", "Routed here (%(num)d places).", w.count
    ),
    EventCode.LOCATIONS_ADDED: lambda w: ngettext(
        "The survivor added %(num)d place.", "The survivor added %(num)d places.", w.count
    ),
    EventCode.ALREADY_REPORTED: lambda w: ngettext(
        "Already listed in %(num)d other open case.",
        "Already listed in %(num)d other open cases.",
        w.open_cases,
    ),
    EventCode.WITH_HOTLINE: lambda w: ngettext(
        "Acknowledged (%(num)d place).", "Acknowledged (%(num)d places).", w.count
    ),
    EventCode.ASSESSED: lambda w: _("Assessed: %(assessment)s.", assessment=w.assessment),
    EventCode.NOTICE_REPEATED: lambda w: _("Notice sent again."),
    EventCode.ESCALATED: lambda w: _("Escalated to the upstream provider."),
    EventCode.NO_RESPONSE: lambda w: _("No response from the provider recorded."),
    EventCode.REFERRED: lambda w: _(
        "Moved to %(hotline)s: %(reason)s.", hotline=w.hotline, reason=w.reroute_reason
    ),
    EventCode.PASSED_HERE: lambda w: ngettext(
        "Passed here by %(hotline)s (%(num)d place): %(reason)s.",
        "Passed here by %(hotline)s (%(num)d places): %(reason)s.",
        w.count,
        hotline=w.hotline,
        reason=w.reroute_reason,
    ),
    EventCode.REFERRAL_CLOSED: lambda w: _("Referral closed: %(reason)s.", reason=w.close_reason),
}


def staff_event_text(code: str, params: Mapping[str, Any], directory: Directory) -> str:
    """A timeline entry as staff read it (they also see what the survivor never does); a change
    of a place's status reads as the status."""
    render = looked_up(STAFF_EVENT_TEXTS, EventCode, code)
    if render is not None:
        return str(render(_staff_event_words(params, directory)))
    status = looked_up(STATUS_LABELS, LocationStatus, code)
    return str(status) if status is not None else code
