"""Words for the advocate's side: questions asked about the survivor (never "you"), consent,
and why a registration, consent record or invitation code was refused."""

from __future__ import annotations

from flask_babel import lazy_gettext

from ..vocabulary import AccessOrigin
from ..vocabulary import Category
from ..vocabulary import ConsentMethod
from ..vocabulary import MinorAnswer

# The survivor's categories, asked of someone filing for them.
CATEGORY_LABELS = {
    Category.ABUSE_MATERIAL: lazy_gettext("Images or videos of the sexual abuse itself"),
    Category.ABUSE_SERIES: lazy_gettext(
        "Other images from the same abuse: before, after, cropped or covered"
    ),
    Category.SEXUALISED_CONTEXT: lazy_gettext("Images of them as a child shared in a sexual way"),
    Category.PHYSICAL_ABUSE: lazy_gettext("Images of them being hurt, tied up or restrained"),
    Category.IDENTIFYING_INFORMATION: lazy_gettext(
        "Their name, school, city or current photos posted with it"
    ),
    Category.THREATS_HARASSMENT: lazy_gettext("Someone is contacting or threatening them with it"),
    Category.UNSURE: lazy_gettext("Not sure"),
}

MINOR_LABELS = {
    MinorAnswer.YES: lazy_gettext("Yes"),
    MinorAnswer.NO: lazy_gettext("No"),
    MinorAnswer.UNSURE: lazy_gettext("Not sure"),
}

CONSENT_METHOD_LABELS = {
    ConsentMethod.IN_PERSON: lazy_gettext("In person"),
    ConsentMethod.PHONE: lazy_gettext("By phone or video call"),
    ConsentMethod.WRITTEN: lazy_gettext("In writing (a letter, e-mail or message)"),
    ConsentMethod.OTHER: lazy_gettext("Another way"),
}

ORIGIN_LABELS = {
    AccessOrigin.FILED: lazy_gettext("Filed this request"),
    AccessOrigin.INVITED: lazy_gettext("Invited by you"),
}

REFUSALS = {
    "name_required": lazy_gettext("Enter your name."),
    "organisation_required": lazy_gettext("Enter your organisation."),
    "role_required": lazy_gettext("Enter your role."),
    "reason_required": lazy_gettext("Say why you need access."),
    "too_long": lazy_gettext("An answer is too long: at most %(limit)s characters."),
    "control_characters": lazy_gettext(
        "An answer contains invisible control characters. Please type it again."
    ),
    "bad_email": lazy_gettext("Enter your work e-mail address, like name@organisation.org."),
    "consent_method_required": lazy_gettext("Say how the survivor gave their consent."),
    "consent_date_required": lazy_gettext("Give the date the survivor gave their consent."),
    "consent_date_in_future": lazy_gettext("The date of consent cannot be in the future."),
    "consent_date_invalid": lazy_gettext(
        "That date could not be read. Give it as day, month and year."
    ),
    "receipt_choice_required": lazy_gettext("Say whether the survivor wants their own receipt."),
    "invalid": lazy_gettext(
        "This code does not work. It may be mistyped, already used or cancelled. Ask the "
        "survivor for a new one."
    ),
    "expired": lazy_gettext(
        "This code has expired: codes work for 72 hours. Ask the survivor for a new one."
    ),
    "unknown_advocate": lazy_gettext("There is no such advocate account."),
    "already_approved": lazy_gettext("This account is already approved."),
    "not_pending": lazy_gettext("This registration is no longer waiting."),
    "not_active": lazy_gettext("This account is not active."),
    "not_suspended": lazy_gettext(
        "Only a suspended account that finished setting up can be reinstated."
    ),
}
