"""Forms: they parse and bound the input; the domain decides what it means."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import PasswordField
from wtforms import RadioField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput
from wtforms.widgets import ListWidget

from ..config import SUPPORTED_LANGUAGES
from ..routing import DEFAULT_KIND
from ..routing import Kind
from ..vocabulary import Category
from ..vocabulary import MinorAnswer
from .texts import CATEGORY_LABELS
from .texts import KIND_CHOICE_LABELS
from .texts import MINOR_LABELS
from .texts import country_choices

# Generous bounds that stop abuse early; the domain gives the precise, kind message.
FIELD_BOUND = 4096
PASTE_BOUND = 1_500_000

# Each language named in itself, so a reader finds their own whatever the page is in.
LANGUAGE_NAMES = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "de": "Deutsch",
    "nl": "Nederlands",
    "pt_BR": "Português (Brasil)",
    "ar": "العربية",
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LocationForm(FlaskForm):
    kind = RadioField(
        _l("What kind of place is it?"),
        choices=[(kind.value, KIND_CHOICE_LABELS[kind]) for kind in Kind],
        default=DEFAULT_KIND.value,
        validators=[Optional()],
    )
    value = StringField(_l("Where is it?"), validators=[Optional(), Length(max=FIELD_BOUND)])
    platform = StringField(
        _l("Which site or app? (for an account or group)"),
        validators=[Optional(), Length(max=FIELD_BOUND)],
    )
    note = TextAreaField(
        _l("Anything that helps find it (optional)"),
        validators=[Optional(), Length(max=FIELD_BOUND)],
    )
    pasted = TextAreaField(
        _l("Many links? Paste them here, one on each line"),
        validators=[Optional(), Length(max=PASTE_BOUND)],
    )


class CategoriesForm(FlaskForm):
    categories = MultiCheckboxField(
        _l("What kind of material is it? Tick any that fit, or none."),
        choices=[(key.value, CATEGORY_LABELS[key]) for key in Category],
        validators=[Optional()],
    )


class AboutForm(FlaskForm):
    minor = RadioField(
        _l("Were you under 18 in this material?"),
        choices=[(key.value, MINOR_LABELS[key]) for key in MinorAnswer],
        validators=[Optional()],
    )
    country = SelectField(_l("Where do you live?"), validators=[Optional()])
    language = SelectField(
        _l("Which language should the hotline write to you in?"),
        choices=[(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LANGUAGES],
        validators=[Optional()],
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = [("", _l("I'd rather not say")), *country_choices()]


class ConfirmForm(FlaskForm):
    """A button and its CSRF token: send, sign out."""


class CheckForm(FlaskForm):
    case_number = StringField(
        _l("Case number"), validators=[DataRequired(_l("Enter your case number."))]
    )
    passphrase = PasswordField(
        _l("Passphrase"), validators=[DataRequired(_l("Enter your passphrase."))]
    )


class MessageForm(FlaskForm):
    body = TextAreaField(
        _l("Your message"),
        validators=[DataRequired(_l("Write a message first.")), Length(max=FIELD_BOUND * 2)],
    )
    referral = SelectField(_l("To"), coerce=int, validators=[Optional()], validate_choice=False)


class EraseForm(FlaskForm):
    confirm = BooleanField(
        _l(
            "I understand that everything about this request will be erased, and cannot be "
            "brought back."
        ),
        validators=[InputRequired(_l("Tick the box to confirm."))],
    )


class DryRunForm(FlaskForm):
    """ "Where would it go?": nothing from it is stored."""

    places = TextAreaField(
        _l("Links or names, one on each line"),
        validators=[DataRequired(_l("Paste at least one link or name.")), Length(max=PASTE_BOUND)],
    )
    platform = StringField(
        _l("Which site or app? (for an account or group name)"),
        validators=[Optional(), Length(max=FIELD_BOUND)],
    )
    country = SelectField(_l("Where do you live? (optional)"), validators=[Optional()])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = [("", _l("I'd rather not say")), *country_choices()]
