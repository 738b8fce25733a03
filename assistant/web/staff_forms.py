"""Forms for accounts (sign-in, enrolment, password) and for hotline staff's actions.

They parse and bound the input; :mod:`assistant.people.accounts` and
:mod:`assistant.hotline.referrals` decide what is allowed.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import DateField
from wtforms import HiddenField
from wtforms import IntegerField
from wtforms import PasswordField
from wtforms import RadioField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.widgets import HiddenInput

from ..hotline.referrals import MAX_NOTE_LENGTH
from ..people.accounts import MAX_PASSWORD_LENGTH
from ..people.accounts import MIN_PASSWORD_LENGTH
from ..vocabulary import CHOSEN_CHASE_HOLDS
from ..vocabulary import CHOSEN_CLOSE_REASONS
from ..vocabulary import Assessment
from ..vocabulary import HarmfulSubtype
from ..vocabulary import NoticeType
from ..vocabulary import ProviderResponse
from ..vocabulary import RerouteReason
from .forms import AccessibleForm
from .staff_texts import ASSESSMENT_LABELS
from .staff_texts import CHASE_HOLD_LABELS
from .staff_texts import CLOSE_REASON_LABELS
from .staff_texts import NOTICE_TYPE_LABELS
from .staff_texts import REROUTE_REASON_LABELS
from .staff_texts import RESPONSE_LABELS
from .staff_texts import SUBTYPE_LABELS

FIELD_BOUND = 4096


def _authenticator_code() -> StringField:
    return StringField(
        _l("Code from your authenticator app"),
        validators=[DataRequired(_l("Enter the 6-digit code.")), Length(max=20)],
    )


def _new_password(label: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired(_l("Choose a password.")), Length(max=MAX_PASSWORD_LENGTH * 4)],
    )


def _same_password_again() -> PasswordField:
    return PasswordField(
        _l("The same password again"),
        validators=[EqualTo("password", _l("The two passwords are not the same."))],
    )


class SignInForm(AccessibleForm):
    email = StringField(
        _l("E-mail address"),
        validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=320)],
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=MAX_PASSWORD_LENGTH * 4)],
    )
    code = _authenticator_code()


class EnrolForm(AccessibleForm):
    code = HiddenField()
    password = _new_password(
        _l("Choose a password (at least %(num)d characters)", num=MIN_PASSWORD_LENGTH)
    )
    confirm = _same_password_again()
    totp = _authenticator_code()


class PasswordForm(AccessibleForm):
    current = PasswordField(
        _l("Current password"),
        validators=[
            DataRequired(_l("Enter your current password.")),
            Length(max=MAX_PASSWORD_LENGTH * 4),
        ],
    )
    password = _new_password(
        _l("New password (at least %(num)d characters)", num=MIN_PASSWORD_LENGTH)
    )
    confirm = _same_password_again()
    totp = _authenticator_code()


def _version() -> IntegerField:
    """The referral's version the person decided on (see referrals.ReferralChanged)."""
    return IntegerField(widget=HiddenInput(), validators=[Optional()])


class VersionForm(FlaskForm):
    """A one-button action on a referral: acknowledge, reopen."""

    version = _version()


class PlacesForm(FlaskForm):
    """One form to act on the places ticked on a referral's page: assess them, record one notice
    for them, or record the provider's answer. Nothing is chosen in advance."""

    version = _version()
    places = SelectMultipleField(_l("Places"), coerce=int, validate_choice=False)
    do = SelectField(
        choices=[
            ("assess", ""),
            ("notice", ""),
            ("response", ""),
            ("pause", ""),
            ("stop", ""),
            ("resume", ""),
        ]
    )
    assessment = RadioField(
        _l("Assessment"), choices=[(key.value, ASSESSMENT_LABELS[key]) for key in Assessment]
    )
    subtype = RadioField(
        _l("Harmful/abusive sub-type (only for harmful/abusive)"),
        choices=[(k.value, SUBTYPE_LABELS[k]) for k in HarmfulSubtype],
        validators=[Optional()],
    )
    hosting_country = StringField(
        _l("Hosting country (2 letters, if known)"), validators=[Optional(), Length(max=2)]
    )
    notice_type = RadioField(
        _l("Notice type"), choices=[(key.value, NOTICE_TYPE_LABELS[key]) for key in NoticeType]
    )
    provider = StringField(_l("Provider"), validators=[Optional(), Length(max=FIELD_BOUND)])
    sent_on = DateField(_l("Sent on"), validators=[Optional()])
    reference = StringField(
        _l("Provider's reference (optional)"), validators=[Optional(), Length(max=FIELD_BOUND)]
    )
    escalation = BooleanField(_l("This is an escalation to the upstream provider"))
    response = RadioField(
        _l("Provider's answer"),
        choices=[(key.value, RESPONSE_LABELS[key]) for key in ProviderResponse],
    )
    response_on = DateField(_l("On"), validators=[Optional()])
    chase_reason = RadioField(
        _l("Why (to pause or stop)"),
        choices=[(key.value, CHASE_HOLD_LABELS[key]) for key in CHOSEN_CHASE_HOLDS],
        validators=[Optional()],
    )


class ComposeForm(FlaskForm):
    """A notice for the app to send: the places, the provider and where to, the notice type;
    first a preview (``do=preview``), then ``do=send``. Nothing is chosen in advance but what the
    analyst clicked to get here (the places and the provider)."""

    version = _version()
    places = SelectMultipleField(_l("Places"), coerce=int, validate_choice=False)
    provider = HiddenField()
    provider_name = StringField(
        _l("Provider's name"), validators=[Optional(), Length(max=FIELD_BOUND)]
    )
    recipient = StringField(
        _l("Send to (e-mail address)"), validators=[Optional(), Length(max=FIELD_BOUND)]
    )
    notice_type = RadioField(
        _l("Notice type"), choices=[(key.value, NOTICE_TYPE_LABELS[key]) for key in NoticeType]
    )
    subtype = RadioField(
        _l("Harmful/abusive sub-type (only for harmful/abusive)"),
        choices=[(k.value, SUBTYPE_LABELS[k]) for k in HarmfulSubtype],
        validators=[Optional()],
    )
    do = SelectField(choices=[("preview", ""), ("send", "")])
    # A digest of the previewed text: what is sent must be what was read.
    seen = HiddenField(default="")


class RerouteForm(FlaskForm):
    version = _version()
    hotline = SelectField(_l("Move to"))
    reason = RadioField(
        _l("Why"), choices=[(key.value, REROUTE_REASON_LABELS[key]) for key in RerouteReason]
    )
    # Set by the confirmation step: the move happens only on the second, confirmed post.
    confirmed = HiddenField(default="")


class CloseForm(FlaskForm):
    version = _version()
    reason = RadioField(
        _l("Why"), choices=[(key.value, CLOSE_REASON_LABELS[key]) for key in CHOSEN_CLOSE_REASONS]
    )
    confirmed = HiddenField(default="")


class AssignForm(FlaskForm):
    version = _version()
    # "" for nobody, or a colleague's account id (choices set by the view).
    assignee = SelectField(_l("Assigned to"))


class QueueActionForm(FlaskForm):
    """Acknowledge or assign the referrals ticked in the queue; each value is "id:version"."""

    referrals = SelectMultipleField(_l("Referrals"), validate_choice=False)
    do = SelectField(choices=[("acknowledge", ""), ("assign_me", ""), ("unassign", "")])
    back = HiddenField(default="")


class StaffMessageForm(FlaskForm):
    body = TextAreaField(
        _l("Message to the survivor"),
        validators=[DataRequired(_l("Write a message first.")), Length(max=FIELD_BOUND * 2)],
    )


class NoteForm(FlaskForm):
    body = TextAreaField(
        _l("Internal note (never shown to the survivor)"),
        validators=[DataRequired(_l("Write a note first.")), Length(max=MAX_NOTE_LENGTH * 2)],
    )
