"""Forms: they parse and bound the input; the domain decides what it means."""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from flask import session
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import HiddenField
from wtforms import PasswordField
from wtforms import RadioField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.fields import Field
from wtforms.meta import DefaultMeta
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput
from wtforms.widgets import ListWidget

from ..config import SUPPORTED_LANGUAGES
from ..extensions import current_services
from ..routing import DEFAULT_KIND
from ..routing import Kind
from ..vocabulary import Category
from ..vocabulary import MinorAnswer
from .erasure_proof import erasure_proof
from .texts import CATEGORY_LABELS
from .texts import KIND_CHOICE_LABELS
from .texts import MINOR_LABELS
from .texts import country_choices

if TYPE_CHECKING:
    from _typeshed import SupportsItems

# Generous bounds that stop abuse early; the domain gives the precise, kind message.
FIELD_BOUND = 4096
PASTE_BOUND = 1_500_000

# Each language named in itself, so a reader finds their own whatever the page is in.
LANGUAGE_NAMES = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "de": "Deutsch",
    "it": "Italiano",
    "nl": "Nederlands",
    "pl": "Polski",
    "pt_BR": "Português (Brasil)",
    "uk": "Українська",
    "ar": "العربية",
    "fa": "فارسی",
    "ja": "日本語",
}


class AccessibleForm(FlaskForm):
    """A form whose fields say when they have a problem: a field with errors is rendered with
    ``aria-invalid`` and an ``aria-describedby`` that adds the id of the message by the field
    (``{id}-error``, which the ``field_errors`` macro gives it) to its hint's. Only for forms
    whose templates show every field's errors with that macro."""

    class Meta(DefaultMeta):
        def render_field(self, field: Field, render_kw: SupportsItems[str, Any]) -> Any:
            if not field.errors:
                return super().render_field(field, render_kw)
            given = dict(render_kw.items())
            hints = [given.pop(key, "") for key in ("aria-describedby", "aria_describedby")]
            given["aria-describedby"] = " ".join(filter(None, [*hints, f"{field.id}-error"]))
            given["aria-invalid"] = "true"
            return super().render_field(field, given)

    def attach(self, problem: object, field: Field | None = None) -> str:
        """Put a problem found with the form as a whole (a refused sign-in, a date the consent
        check refused) on ``field``, or the first field, unless a field already says it: then the
        summary links to it and the field says it like any other. Called by the template before
        its error summary; returns "" to print nothing."""
        text = str(problem or "")
        if not text or any(text == str(error) for each in self for error in each.errors):
            return ""
        target = field or next(
            (each for each in self if each.type not in ("CSRFTokenField", "HiddenField")), None
        )
        if target is None:
            self.form_errors.append(text)
        else:
            target.errors = [*target.errors, text]
        return ""


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LocationForm(AccessibleForm):
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


class AboutForm(AccessibleForm):
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


class CheckForm(AccessibleForm):
    case_number = StringField(
        _l("Case number"), validators=[DataRequired(_l("Enter your case number."))]
    )
    passphrase = PasswordField(
        _l("Passphrase"), validators=[DataRequired(_l("Enter your passphrase."))]
    )


class MessageForm(AccessibleForm):
    body = TextAreaField(
        _l("Your message"),
        validators=[DataRequired(_l("Write a message first.")), Length(max=FIELD_BOUND * 2)],
    )
    referral = SelectField(_l("To"), coerce=int, validators=[Optional()], validate_choice=False)


def _signed_in_case_proof() -> str:
    case_id = session.get("case_id")
    if not isinstance(case_id, int):
        return ""
    return erasure_proof(current_services().cipher, case_id)


class EraseForm(AccessibleForm):
    confirm = BooleanField(
        _l(
            "I understand that everything about this request will be erased, and cannot be "
            "brought back."
        ),
        validators=[InputRequired(_l("Tick the box to confirm."))],
    )
    # Sent again once the request is erased, it is answered "erased" (see erasure_proof).
    erasing = HiddenField(default=_signed_in_case_proof)


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
