"""Forms for accounts (sign-in, enrolment, password) and for hotline staff's actions.

They parse and bound the input; :mod:`assistant.people.accounts` and
:mod:`assistant.hotline.referrals` decide what is allowed.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from ..hotline.referrals import MAX_NOTE_LENGTH
from ..people.accounts import MAX_PASSWORD_LENGTH
from ..vocabulary import (
    CHOSEN_CLOSE_REASONS,
    Assessment,
    HarmfulSubtype,
    NoticeType,
    ProviderResponse,
    RerouteReason,
)
from .staff_texts import (
    ASSESSMENT_LABELS,
    CLOSE_REASON_LABELS,
    NOTICE_TYPE_LABELS,
    REROUTE_REASON_LABELS,
    RESPONSE_LABELS,
    SUBTYPE_LABELS,
)

FIELD_BOUND = 4096


class SignInForm(FlaskForm):
    email = StringField(
        _l("E-mail address"),
        validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=320)],
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=MAX_PASSWORD_LENGTH * 4)],
    )
    code = StringField(
        _l("Code from your authenticator app"),
        validators=[DataRequired(_l("Enter the 6-digit code.")), Length(max=20)],
    )


class EnrolForm(FlaskForm):
    code = HiddenField()
    password = PasswordField(
        _l("Choose a password (at least 12 characters)"),
        validators=[DataRequired(_l("Choose a password.")), Length(max=MAX_PASSWORD_LENGTH * 4)],
    )
    confirm = PasswordField(
        _l("The same password again"),
        validators=[EqualTo("password", _l("The two passwords are not the same."))],
    )
    totp = StringField(
        _l("Code from your authenticator app"),
        validators=[DataRequired(_l("Enter the 6-digit code.")), Length(max=20)],
    )


class PasswordForm(FlaskForm):
    current = PasswordField(
        _l("Current password"),
        validators=[
            DataRequired(_l("Enter your current password.")),
            Length(max=MAX_PASSWORD_LENGTH * 4),
        ],
    )
    password = PasswordField(
        _l("New password (at least 12 characters)"),
        validators=[DataRequired(_l("Choose a password.")), Length(max=MAX_PASSWORD_LENGTH * 4)],
    )
    confirm = PasswordField(
        _l("The same password again"),
        validators=[EqualTo("password", _l("The two passwords are not the same."))],
    )
    totp = StringField(
        _l("Code from your authenticator app"),
        validators=[DataRequired(_l("Enter the 6-digit code.")), Length(max=20)],
    )


class AssessForm(FlaskForm):
    assessment = SelectField(
        _l("Assessment"),
        choices=[(key.value, ASSESSMENT_LABELS[key]) for key in Assessment],
        validators=[DataRequired()],
    )
    subtype = SelectField(
        _l("Harmful/abusive sub-type"),
        choices=[
            ("", _l("Not applicable")),
            *((k.value, SUBTYPE_LABELS[k]) for k in HarmfulSubtype),
        ],
        validators=[Optional()],
    )
    hosting_country = StringField(
        _l("Hosting country (2 letters, if known)"), validators=[Optional(), Length(max=2)]
    )


class NoticeForm(FlaskForm):
    notice_type = SelectField(
        _l("Notice type"),
        choices=[(key.value, NOTICE_TYPE_LABELS[key]) for key in NoticeType],
        validators=[DataRequired()],
    )
    provider = StringField(
        _l("Provider"), validators=[DataRequired(_l("Name the provider.")), Length(max=FIELD_BOUND)]
    )
    sent_on = DateField(_l("Sent on"), validators=[DataRequired(_l("Give the date."))])
    reference = StringField(
        _l("Provider's reference (optional)"), validators=[Optional(), Length(max=FIELD_BOUND)]
    )
    escalation = HiddenField(default="")


class ResponseForm(FlaskForm):
    response = SelectField(
        _l("Provider's response"),
        choices=[(key.value, RESPONSE_LABELS[key]) for key in ProviderResponse],
        validators=[DataRequired()],
    )
    response_on = DateField(_l("On"), validators=[DataRequired(_l("Give the date."))])


class RerouteForm(FlaskForm):
    hotline = SelectField(_l("Move to"), validators=[DataRequired()])
    reason = SelectField(
        _l("Why"),
        choices=[(key.value, REROUTE_REASON_LABELS[key]) for key in RerouteReason],
        validators=[DataRequired()],
    )


class CloseForm(FlaskForm):
    reason = SelectField(
        _l("Why"),
        choices=[(key.value, CLOSE_REASON_LABELS[key]) for key in CHOSEN_CLOSE_REASONS],
        validators=[DataRequired()],
    )


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
