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
from ..people.team import Creator
from ..people.team import TeamAction
from ..routing import Directory
from ..routing import Intake
from ..vocabulary import AccountStatus
from ..vocabulary import ApiScope
from ..vocabulary import Assessment
from ..vocabulary import ChaseHold
from ..vocabulary import ChaseState
from ..vocabulary import CloseReason
from ..vocabulary import DueAction
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
    ProviderResponse.NOT_FOUND: lazy_gettext("Not found there any more"),
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
    Role.HOTLINE_ADMIN: lazy_gettext("Hotline administrator"),
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

# What a hotline administrator's links say for each action on an account of their hotline.
TEAM_ACTION_LABELS = {
    TeamAction.DISABLE: lazy_gettext("Disable"),
    TeamAction.RESET_TOTP: lazy_gettext("Reset authenticator"),
    TeamAction.NEW_LINK: lazy_gettext("New set-up link"),
}

# Who created an account, on the Team page (a colleague is named by their e-mail address).
CREATOR_LABELS = {
    Creator.SERVICE_ADMIN: lazy_gettext("The service administrator %(email)s"),
    Creator.COMMAND_LINE: lazy_gettext("The service administrator (command line)"),
    Creator.UNKNOWN: lazy_gettext("Not recorded"),
}


def created_by_text(creator: str, email: str | None) -> str:
    """Who created an account, in words."""
    if creator == Creator.COLLEAGUE and email:
        return email
    label = looked_up(CREATOR_LABELS, Creator, creator) or CREATOR_LABELS[Creator.UNKNOWN]
    return str(label) % {"email": email or ""}


# Why a hotline administrator's action (or a service administrator's new hotline administrator)
# was not done; nothing changed.
TEAM_REFUSALS = {
    "bad_email": lazy_gettext("Enter an e-mail address, like name@hotline.org."),
    "bad_role": lazy_gettext("Choose what the person will do."),
    "account_exists": lazy_gettext(
        "There is already an account with this e-mail address. Each person has one account."
    ),
    "hotline_required": lazy_gettext("Choose a hotline."),
    "unknown_hotline": lazy_gettext("Choose a hotline from the list."),
    "hotline_has_admin": lazy_gettext(
        "This hotline already has an administrator, active or still setting up. They invite "
        "their colleagues themselves."
    ),
    "already_disabled": lazy_gettext("This account is already disabled."),
    "not_live": lazy_gettext("This account is disabled. Disabled accounts cannot be reset."),
    "not_yourself": lazy_gettext(
        "You cannot reset your own authenticator. Ask another administrator of your hotline."
    ),
    "last_administrator": lazy_gettext(
        "You are your hotline's only active administrator. Invite another administrator first."
    ),
}

QUEUE_FILTER_LABELS: dict[str, str] = {
    "open": lazy_gettext("Open"),
    **{str(status): label for status, label in REFERRAL_STATUS_LABELS.items()},
    "all": lazy_gettext("All"),
}

FLAG_LABELS: dict[str, str] = {
    "minor": lazy_gettext("Under 18 in the material"),
    "identifying": lazy_gettext("Identifying information posted"),
    "dark_web": lazy_gettext("Dark web"),
    "already_reported": lazy_gettext("Already reported in another case"),
}

CHASE_HOLD_LABELS = {
    ChaseHold.PROVIDER_IN_CONTACT: lazy_gettext("the provider is in contact with us"),
    ChaseHold.LAW_ENFORCEMENT: lazy_gettext("law enforcement asked us to wait"),
    ChaseHold.HANDLED_ELSEWHERE: lazy_gettext("handled another way"),
    ChaseHold.OTHER: lazy_gettext("another reason"),
    ChaseHold.PROVIDER_QUESTION: lazy_gettext("the provider asked a question"),
}

CHASE_STATE_LABELS = {
    ChaseState.ACTIVE: lazy_gettext("chased by the app"),
    ChaseState.PAUSED: lazy_gettext("chase paused"),
    ChaseState.STOPPED: lazy_gettext("chase stopped"),
    ChaseState.ESCALATED: lazy_gettext("sent on to the upstream provider"),
    ChaseState.NO_ANSWER: lazy_gettext("no answer: escalate by hand"),
    ChaseState.ANSWERED: lazy_gettext("answered"),
}

DUE_ACTION_LABELS = {
    DueAction.ACKNOWLEDGE: lazy_gettext("acknowledge"),
    DueAction.RENOTICE: lazy_gettext("send the notice again"),
    DueAction.SEND_NOTICE: lazy_gettext("send a notice"),
    DueAction.REMIND: lazy_gettext("next reminder, sent by the app"),
    DueAction.ESCALATE: lazy_gettext("no answer: escalate by hand"),
    DueAction.ANSWER: lazy_gettext("answer the provider's question"),
    DueAction.REVIEW_CHASE: lazy_gettext("look at the paused chase again"),
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

# Why a hotline's settings were not saved.
SETTINGS_REFUSALS = {
    "bad_chase_hours": lazy_gettext(
        "The hours between reminders must be from %(low)s to %(high)s."
    ),
    "bad_reminder_limit": lazy_gettext("The number of reminders must be from 0 to %(high)s."),
    "bad_contact": lazy_gettext("The reply address must be an e-mail address, or empty."),
}

# Why a provider's answers were not recorded (the provider's page).
PROVIDER_REFUSALS = {
    "nothing_selected": lazy_gettext("Choose an answer for at least one place."),
    "already_answered": lazy_gettext(
        "One of these places already has a final answer. Nothing was recorded; the page now "
        "shows what is still open."
    ),
    "bad_response": lazy_gettext("Choose one of the answers offered."),
    "removed_date_required": lazy_gettext("Give the date it was removed."),
    "bad_response_date": lazy_gettext(
        "The date it was removed must be between the notice's date and today."
    ),
    "refused_text_required": lazy_gettext("Say why you will not remove it."),
    "question_text_required": lazy_gettext("Write your question."),
    "refused_superseded": lazy_gettext(
        "The hotline has since gone further for this place (for example to the company that "
        "hosts it), so a refusal through this notice is not recorded. If you want the hotline "
        "to know something, choose “a question”."
    ),
    "too_long": lazy_gettext("This is too long: at most %(limit)s characters."),
    "control_characters": lazy_gettext("This contains invisible control characters."),
    "changed": lazy_gettext(
        "The hotline changed this notice at the same moment. Nothing was recorded; please "
        "send your answers again."
    ),
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
    "date_before_place": lazy_gettext("The date cannot be before the place was reported."),
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
    "changed": lazy_gettext(
        "This referral changed while you were looking. Nothing was done; look again and choose."
    ),
    "bulk_refused": lazy_gettext(
        "Nothing was done: some of the chosen items cannot take this step."
    ),
    "nothing_selected": lazy_gettext("Tick at least one first."),
    "unknown_colleague": lazy_gettext("Choose someone from your team."),
    "already_assigned": lazy_gettext("It is already assigned to that person."),
    "not_assigned": lazy_gettext("Nobody is assigned to it."),
    "cannot_reopen": lazy_gettext("This referral cannot be reopened."),
    "bad_recipient": lazy_gettext("The address to send to is not an e-mail address."),
    "recipient_required": lazy_gettext("Give the e-mail address to send the notice to."),
    "unknown_provider": lazy_gettext("That provider is not in the directory."),
    "chase_not_possible": lazy_gettext(
        "The chase cannot change that way for this place (no notice sent by the app, already "
        "answered, or already in that state)."
    ),
    "reason_required": lazy_gettext("Choose why you pause or stop the chase."),
    "subtype_mismatch": lazy_gettext(
        "The sub-type must be the one the place was assessed as. Assess it again to change it."
    ),
    "bad_chase_state": lazy_gettext("Choose what to do with the chase."),
    "reopen_too_late": lazy_gettext("A referral can be reopened only within 7 days of closing."),
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
    reminder: int = 0
    chase_reason: str = ""


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
        reminder=int(params.get("reminder", 0) or 0),
        chase_reason=str(looked_up(CHASE_HOLD_LABELS, ChaseHold, params.get("reason")) or ""),
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
    EventCode.NOTICE_REPEATED: lambda w: (
        _("Reminder %(num)d sent by the app.", num=w.reminder)
        if w.reminder
        else _("Notice sent again.")
    ),
    EventCode.PROVIDER_QUESTION: lambda w: _(
        "The provider asked a question through its response link (see the notes)."
    ),
    EventCode.CHASE_PAUSED: lambda w: _("Chase paused: %(reason)s.", reason=w.chase_reason),
    EventCode.CHASE_STOPPED: lambda w: _("Chase stopped: %(reason)s.", reason=w.chase_reason),
    EventCode.CHASE_RESUMED: lambda w: _("Chase resumed."),
    EventCode.NO_ANSWER: lambda w: _(
        "No answer after the last reminder, and no upstream provider is known: escalate by hand."
    ),
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
    EventCode.REFERRAL_REOPENED: lambda w: ngettext(
        "Referral reopened (%(num)d place).", "Referral reopened (%(num)d places).", w.count
    ),
    EventCode.ASSIGNED: lambda w: _("Assigned to a colleague (the audit log says who)."),
    EventCode.UNASSIGNED: lambda w: _("No longer assigned to anyone."),
}

# Why part of a queue page's address was not used; the page shows the first page without it.
QUERY_NOTES = {
    "status": lazy_gettext(
        "That status filter is not one we know, so all open referrals are shown."
    ),
    "flag": lazy_gettext("A flag filter was not one we know and was left out."),
    "category": lazy_gettext("That category is not one we know and was left out."),
    "notice_type": lazy_gettext("That notice type is not one we know and was left out."),
    "assigned": lazy_gettext("That person is not in your team, so the filter was left out."),
    "age": lazy_gettext("That age filter is not one we know and was left out."),
    "sort": lazy_gettext("That order is not one we know, so the usual order is used."),
    "page": lazy_gettext("That page could not be found, so here is the first page."),
}


def staff_event_text(code: str, params: Mapping[str, Any], directory: Directory) -> str:
    """A timeline entry as staff read it (they also see what the survivor never does); a change
    of a place's status reads as the status."""
    render = looked_up(STAFF_EVENT_TEXTS, EventCode, code)
    if render is not None:
        return str(render(_staff_event_words(params, directory)))
    status = looked_up(STATUS_LABELS, LocationStatus, code)
    if status is not None and params.get("by") == "provider":
        return _("%(status)s (the provider answered through its link).", status=status)
    return str(status) if status is not None else code


API_SCOPE_LABELS = {
    ApiScope.READ: lazy_gettext("Read: the changes feed, referrals in full and their messages"),
    ApiScope.ACT: lazy_gettext(
        "Act: acknowledge, assess, notices, answers, move, close, reopen, assign"
    ),
    ApiScope.MESSAGE: lazy_gettext("Write to survivors"),
}
API_SCOPE_NAMES = {
    ApiScope.READ: lazy_gettext("read"),
    ApiScope.ACT: lazy_gettext("act"),
    ApiScope.MESSAGE: lazy_gettext("write to survivors"),
}
KEY_REFUSALS = {
    "name_required": lazy_gettext("Give the key a name."),
    "too_long": lazy_gettext("The name is too long: %(limit)s characters at most."),
    "control_characters": lazy_gettext("The name cannot hold line breaks or control characters."),
    "scope_required": lazy_gettext("Choose at least one thing the key may do."),
    "bad_scope": lazy_gettext("Choose what the key may do from the list."),
    "key_not_live": lazy_gettext("That key no longer works: make a new one instead."),
    "already_rotated": lazy_gettext("That key was replaced already: rotate its successor."),
    "already_revoked": lazy_gettext("That key is revoked already."),
    "bad_overlap": lazy_gettext("The overlap is 0 to 720 hours."),
}
