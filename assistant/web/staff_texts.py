"""Words for the hotline portal, the account pages and the administrator's pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext

from ..routing import Directory
from .texts import STATUS_LABELS, hotline_name

ASSESSMENT_LABELS = {
    "csam": lazy_gettext("Child sexual abuse material (notice type 1)"),
    "harmful_abusive": lazy_gettext("Harmful/abusive image of a child (notice type 2)"),
    "not_actionable": lazy_gettext("Not actionable"),
    "not_found": lazy_gettext("Not found at this location"),
}

SUBTYPE_LABELS = {
    "a": lazy_gettext("(a) recorded in the course of the abuse, including crops and stills"),
    "b": lazy_gettext("(b) a child shown in a sexualised context"),
    "c": lazy_gettext("(c) a child physically abused, tortured or restrained"),
}

NOTICE_TYPE_LABELS = {
    "csam": lazy_gettext("Type 1: child sexual abuse material"),
    "harmful_abusive": lazy_gettext("Type 2: harmful/abusive image"),
}

RESPONSE_LABELS = {
    "removed": lazy_gettext("Removed"),
    "refused": lazy_gettext("Refused"),
    "no_response": lazy_gettext("No response"),
}

CLOSE_REASON_LABELS = {
    "completed": lazy_gettext("Every place has an outcome"),
    "duplicate": lazy_gettext("Already handled in another referral"),
    "not_actionable": lazy_gettext("Nothing here that we can act on"),
    "outside_remit": lazy_gettext("Outside what this hotline can act on"),
    "other": lazy_gettext("Other"),
    "moved": lazy_gettext("Every place was passed to another hotline"),
}

REROUTE_REASON_LABELS = {
    "hosted_elsewhere": lazy_gettext("Hosted in a country another hotline covers"),
    "provider_elsewhere": lazy_gettext("The provider is established elsewhere"),
    "language": lazy_gettext("Another hotline can work in the survivor's language"),
    "other": lazy_gettext("Other"),
}

REFERRAL_STATUS_LABELS = {
    "received": lazy_gettext("New"),
    "with_hotline": lazy_gettext("Acknowledged"),
    "referred": lazy_gettext("Moved here"),
    "closed": lazy_gettext("Closed"),
}

CHANNEL_LABELS = {
    "webhook": lazy_gettext("Webhook"),
    "email": lazy_gettext("E-mail notice"),
}

ACCOUNT_STATUS_LABELS = {
    "pending": lazy_gettext("Waiting for approval"),
    "enrolling": lazy_gettext("Not set up yet"),
    "active": lazy_gettext("Active"),
    "suspended": lazy_gettext("Suspended"),
    "disabled": lazy_gettext("Disabled"),
}

ROLE_LABELS = {
    "staff": lazy_gettext("Hotline staff"),
    "advocate": lazy_gettext("Advocate"),
    "admin": lazy_gettext("Administrator"),
}

QUEUE_FILTER_LABELS = {
    "open": lazy_gettext("Open"),
    "received": lazy_gettext("New"),
    "with_hotline": lazy_gettext("Acknowledged"),
    "referred": lazy_gettext("Moved here"),
    "closed": lazy_gettext("Closed"),
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


def refusal_text(table: Mapping[str, Any], code: str, params: Mapping[str, str]) -> str:
    template = table.get(code)
    if template is None:
        return _("That could not be done.")
    return str(template) % dict(params) if "%(" in str(template) else str(template)


def staff_event_text(code: str, params: Mapping[str, Any], directory: Directory) -> str:
    """A timeline entry as staff read it (they also see what the survivor never does)."""
    if code == "routed":
        return _("Routed here (%(count)s places).", count=params.get("count", 0))
    if code == "locations_added":
        return _("The survivor added %(count)s places.", count=params.get("count", 0))
    if code == "already_reported":
        return _(
            "Already listed in %(count)s other open case(s).", count=params.get("open_cases", 0)
        )
    if code == "with_hotline":
        return _("Acknowledged (%(count)s places).", count=params.get("count", 0))
    if code == "assessed":
        label = ASSESSMENT_LABELS.get(str(params.get("assessment")), "")
        return _("Assessed: %(assessment)s.", assessment=label)
    if code == "notice_repeated":
        return _("Notice sent again.")
    if code == "escalated":
        return _("Escalated to the upstream provider.")
    if code == "no_response":
        return _("No response from the provider recorded.")
    if code == "referred":
        return _(
            "Moved to %(hotline)s: %(reason)s.",
            hotline=hotline_name(directory, params.get("hotline")),
            reason=REROUTE_REASON_LABELS.get(str(params.get("reason")), ""),
        )
    if code == "passed_here":
        return _(
            "Passed here by %(hotline)s (%(count)s places): %(reason)s.",
            hotline=hotline_name(directory, params.get("hotline")),
            count=params.get("count", 0),
            reason=REROUTE_REASON_LABELS.get(str(params.get("reason")), ""),
        )
    if code == "referral_closed":
        return _(
            "Referral closed: %(reason)s.",
            reason=CLOSE_REASON_LABELS.get(str(params.get("reason")), ""),
        )
    if code in STATUS_LABELS:
        return str(STATUS_LABELS[code])
    return code
