"""Forms for advocates: registration, filing for a survivor, consent, invitation codes.

They parse and bound the input; :mod:`assistant.people.advocates` and :mod:`assistant.cases.access`
decide what it means.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms import RadioField
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import Length
from wtforms.validators import Optional

from ..config import SUPPORTED_LANGUAGES
from ..people.advocates import Consent
from ..vocabulary import Category
from ..vocabulary import ConsentMethod
from ..vocabulary import MinorAnswer
from .advocate_texts import CATEGORY_LABELS
from .advocate_texts import CONSENT_METHOD_LABELS
from .advocate_texts import MINOR_LABELS
from .forms import FIELD_BOUND
from .forms import LANGUAGE_NAMES
from .forms import PASTE_BOUND
from .forms import MultiCheckboxField
from .texts import country_choices


class RegisterForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[Length(max=FIELD_BOUND)])
    organisation = StringField(_l("Organisation"), validators=[Length(max=FIELD_BOUND)])
    role = StringField(_l("Your role there"), validators=[Length(max=FIELD_BOUND)])
    email = StringField(_l("Work e-mail address"), validators=[Length(max=320)])
    reason = TextAreaField(_l("Why do you need access?"), validators=[Length(max=FIELD_BOUND)])


class PlacesForm(FlaskForm):
    pasted = TextAreaField(
        _l("Places, one on each line"),
        validators=[Optional(), Length(max=PASTE_BOUND)],
    )
    platform = StringField(
        _l("Which site or app? (for lines that are account or group names)"),
        validators=[Optional(), Length(max=FIELD_BOUND)],
    )


class DetailsForm(FlaskForm):
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


class ConsentForm(FlaskForm):
    method = RadioField(
        _l("How did the survivor give their consent?"),
        choices=[(key.value, CONSENT_METHOD_LABELS[key]) for key in ConsentMethod],
        validators=[Optional()],
    )
    given_on = DateField(_l("On what date?"), validators=[Optional()])
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
        validators=[Optional()],
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


class RedeemForm(FlaskForm):
    code = StringField(_l("Invitation code"), validators=[Length(max=1000)])
