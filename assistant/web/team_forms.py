"""Forms for a hotline's administrators (inviting a colleague) and for the service administrator
(a hotline's first administrator).

They parse and bound the input; :mod:`assistant.people.team` decides what is allowed. Nothing is
chosen in advance: not the role a person gets, not the hotline an administrator is created for.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms import RadioField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput
from wtforms.widgets import ListWidget

from ..routing import Directory
from ..vocabulary import ApiScope
from ..vocabulary import Role
from .staff_texts import API_SCOPE_LABELS
from .staff_texts import ROLE_LABELS

EMAIL_BOUND = 320


def _work_email() -> StringField:
    return StringField(
        _l("Their work e-mail address"),
        validators=[DataRequired(_l("Enter their e-mail address.")), Length(max=EMAIL_BOUND)],
    )


class InviteForm(FlaskForm):
    email = _work_email()
    # No default: giving someone an administrator's powers is a choice made on purpose.
    role = RadioField(
        _l("What they will do"),
        choices=[(role.value, ROLE_LABELS[role]) for role in (Role.STAFF, Role.HOTLINE_ADMIN)],
        validators=[InputRequired(_l("Choose what they will do."))],
        validate_choice=False,  # the domain refuses anything else, in words
    )


class FirstHotlineAdminForm(FlaskForm):
    hotline = SelectField(
        _l("Hotline"),
        validators=[DataRequired(_l("Choose a hotline."))],
        validate_choice=False,  # the domain checks the directory
    )
    email = _work_email()

    def offer(self, directory: Directory) -> FirstHotlineAdminForm:
        """Every hotline of the directory, by name, after an empty first choice."""
        hotlines = sorted(directory.hotlines.values(), key=lambda hotline: hotline.name.lower())
        self.hotline.choices = [
            ("", _l("Choose a hotline")),
            *((hotline.id, hotline.name) for hotline in hotlines),
        ]
        return self


class SettingsForm(FlaskForm):
    """How the chase runs for the hotline, and where providers reply."""

    chase_hours = IntegerField(
        _l("Hours from one notice or reminder to the next"), validators=[Optional()]
    )
    reminder_limit = IntegerField(
        _l("Reminders before the notice goes to the upstream provider"), validators=[Optional()]
    )
    contact_email = StringField(
        _l("Providers reply to (e-mail address, named in every notice)"),
        validators=[Optional(), Length(max=EMAIL_BOUND)],
    )


class KeyForm(FlaskForm):
    """A new API key: what it is for, and what it may do (nothing ticked in advance)."""

    name = StringField(
        _l("What it is for (for example, the name of your case system)"),
        validators=[DataRequired(_l("Give the key a name.")), Length(max=200)],
    )
    scopes = SelectMultipleField(
        _l("What it may do"),
        choices=[(scope.value, API_SCOPE_LABELS[scope]) for scope in ApiScope],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,  # the domain refuses anything else, in words
    )


class RotateForm(FlaskForm):
    overlap_hours = IntegerField(
        _l("Hours the old key keeps working beside the new one (0 to 720)"),
        default=24,
        validators=[InputRequired(), NumberRange(0, 720)],
    )
