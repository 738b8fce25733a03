"""Forms for advocates: registration, filing for a survivor, consent, invitation codes.

They parse and bound the input; :mod:`assistant.people.advocates` and :mod:`assistant.cases.access`
decide what it means.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField
from wtforms import RadioField
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.fields import Field
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import StopValidation

from ..config import SUPPORTED_LANGUAGES
from ..people.accounts import AccountRefused
from ..people.accounts import normalise_email
from ..people.advocates import PROFILE_LIMITS
from ..people.advocates import Consent
from ..text_input import checked_text
from ..vocabulary import Category
from ..vocabulary import ConsentMethod
from ..vocabulary import MinorAnswer
from .advocate_texts import CATEGORY_LABELS
from .advocate_texts import CONSENT_METHOD_LABELS
from .advocate_texts import MINOR_LABELS
from .advocate_texts import REFUSALS
from .forms import FIELD_BOUND
from .forms import LANGUAGE_NAMES
from .forms import PASTE_BOUND
from .forms import AccessibleForm
from .forms import MultiCheckboxField
from .texts import country_choices
from .texts import refusal_text


class ProfileAnswer:
    """The registration's own check of one answer (needed, within its limit, no control
    characters: :func:`assistant.people.advocates.check_profile`'s), on its field, so that every
    answer with a problem is shown at once rather than the first one only."""

    def __init__(self, answer: str) -> None:
        self.answer = answer

    def __call__(self, form: Any, field: Field) -> None:
        try:
            value = checked_text(
                field.data,
                PROFILE_LIMITS[self.answer],
                field=self.answer,
                refuse=AccountRefused,
                multiline=self.answer == "reason",
            )
        except AccountRefused as refused:
            raise StopValidation(refusal_text(REFUSALS, refused.code, refused.params)) from None
        if value is None:
            raise StopValidation(str(REFUSALS[f"{self.answer}_required"]))


def work_email(form: Any, field: Field) -> None:
    """The address the registration would refuse is refused on its field."""
    if normalise_email(field.data or "") is None:
        raise StopValidation(str(REFUSALS["bad_email"]))


class Chosen:
    """One of the options, and nothing else: nothing chosen, or a value that was not offered, gets
    ``message`` (in place of WTForms' own "Not a valid choice")."""

    def __init__(self, message: Any) -> None:
        self.message = message

    def __call__(self, form: Any, field: Field) -> None:
        if field.errors or not field.raw_data:
            field.errors = []  # WTForms' own "Not a valid choice", said better by the message
            raise StopValidation(str(self.message))


class RegisterForm(AccessibleForm):
    name = StringField(_l("Your name"), validators=[ProfileAnswer("name"), Length(max=FIELD_BOUND)])
    organisation = StringField(
        _l("Organisation"), validators=[ProfileAnswer("organisation"), Length(max=FIELD_BOUND)]
    )
    role = StringField(
        _l("Your role there"), validators=[ProfileAnswer("role"), Length(max=FIELD_BOUND)]
    )
    email = StringField(_l("Work e-mail address"), validators=[work_email, Length(max=320)])
    reason = TextAreaField(
        _l("Why do you need access?"),
        validators=[ProfileAnswer("reason"), Length(max=FIELD_BOUND)],
    )


class PlacesForm(AccessibleForm):
    pasted = TextAreaField(
        _l("Places, one on each line"),
        validators=[Optional(), Length(max=PASTE_BOUND)],
    )
    platform = StringField(
        _l("Which site or app? (for lines that are account or group names)"),
        validators=[Optional(), Length(max=FIELD_BOUND)],
    )


class DetailsForm(AccessibleForm):
    categories = MultiCheckboxField(
        _l("What kind of material is it? Tick any that fit, or none."),
        choices=[(key.value, CATEGORY_LABELS[key]) for key in Category],
        validators=[Optional()],
    )
    minor = RadioField(
        _l("Was the survivor under 18 in this material?"),
        choices=[(key.value, MINOR_LABELS[key]) for key in MinorAnswer],
        validators=[Optional()],
    )
    country = SelectField(_l("Where does the survivor live?"), validators=[Optional()])
    language = SelectField(
        _l("Which language should the hotline write in?"),
        choices=[(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LANGUAGES],
        validators=[Optional()],
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = [("", _l("Not said")), *country_choices()]


class ConsentForm(AccessibleForm):
    """Every answer is needed: each one missing is shown at once, in the words the consent check
    (:func:`assistant.people.advocates.check_consent`) uses, which still decides."""

    method = RadioField(
        _l("How did the survivor give their consent?"),
        choices=[(key.value, CONSENT_METHOD_LABELS[key]) for key in ConsentMethod],
        validators=[Chosen(REFUSALS["consent_method_required"])],
    )
    given_on = DateField(
        _l("On what date?"),
        validators=[InputRequired(REFUSALS["consent_date_required"])],
        # WTForms takes it since 3.1; its type stubs do not know it yet.
        invalid_value_message=REFUSALS["consent_date_invalid"],  # type: ignore[call-arg]
    )
    survivor_receipt = RadioField(
        _l("Does the survivor want their own receipt, to follow the request themselves?"),
        choices=[
            (
                "yes",
                _l(
                    "Yes: I will hand it to them, and they will get a new passphrase when "
                    "they first sign in"
                ),
            ),
            ("no", _l("No: only I will follow it")),
        ],
        validators=[Chosen(REFUSALS["receipt_choice_required"])],
    )

    @classmethod
    def filled_from(cls, consent: Consent | None) -> ConsentForm:
        """The form, showing the consent already recorded in the draft, if any."""
        if consent is None:
            return cls()
        return cls(
            data={
                "method": consent.method,
                "given_on": consent.given_on,
                "survivor_receipt": "yes" if consent.survivor_receipt else "no",
            }
        )

    def receipt_choice(self) -> bool | None:
        """Whether the survivor wants their own receipt; None when not answered."""
        return {"yes": True, "no": False}.get(self.survivor_receipt.data or "")


class RedeemForm(AccessibleForm):
    code = StringField(_l("Invitation code"), validators=[Length(max=1000)])
