"""The draft of a request between its steps, kept in the server-side session.

Only this module knows how a draft is laid out: views load a :class:`Draft`, change it through
its fields and methods, and save it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from ..cases.intake import FiledRequest
from ..cases.intake import IntakeError
from ..cases.intake import IntakeRequest
from ..cases.intake import LocationEntry
from ..cases.intake import collect_within_limits
from ..cases.intake import file_request
from ..cases.pasted import entries_from_pasted_text
from ..extensions import note_filed
from ..people.advocates import Consent
from ..routing import NormalisedLocation
from ..services import Services
from ..vocabulary import Category
from ..vocabulary import FiledBy
from ..vocabulary import MinorAnswer
from ..vocabulary import member

SURVIVOR_DRAFT = "draft"
# An advocate's draft is kept apart, so that it never mixes with a survivor's on a shared browser.
ADVOCATE_DRAFT = "advocate_draft"


@dataclass
class Draft:
    """A request being written: the places so far and the answers given.

    ``key`` is random per draft: sending the same draft twice files one case.
    """

    session_key: str = SURVIVOR_DRAFT
    key: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    locations: list[NormalisedLocation] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)
    minor: MinorAnswer | None = None
    country: str | None = None
    language: str | None = None
    # An advocate's draft: how the survivor consented (checked when it was recorded).
    consent: Consent | None = None

    @classmethod
    def load(cls, session_key: str = SURVIVOR_DRAFT) -> Draft:
        """The draft kept in this session, or a new, empty one."""
        stored = session.get(session_key)
        if not isinstance(stored, dict):
            return cls(session_key)
        consent = stored.get("consent")
        return cls(
            session_key=session_key,
            key=str(stored.get("key") or secrets.token_urlsafe(16)),
            locations=[NormalisedLocation(**item) for item in stored.get("locations") or []],
            categories=[
                category
                for value in stored.get("categories") or []
                if (category := member(Category, value)) is not None
            ],
            minor=member(MinorAnswer, stored.get("minor")),
            country=stored.get("country") or None,
            language=stored.get("language") or None,
            consent=Consent.from_dict(consent) if isinstance(consent, dict) else None,
        )

    @property
    def has_places(self) -> bool:
        return bool(self.locations)

    def save(self) -> None:
        session[self.session_key] = {
            "key": self.key,
            "locations": [asdict(location) for location in self.locations],
            "categories": list(self.categories),
            "minor": self.minor,
            "country": self.country,
            "language": self.language,
            "consent": self.consent.as_dict() if self.consent else None,
        }

    def discard(self) -> None:
        session.pop(self.session_key, None)

    def add(self, locations: list[NormalisedLocation]) -> None:
        self.locations += locations

    def remove(self, index: int) -> None:
        if 0 <= index < len(self.locations):
            del self.locations[index]

    def answers(self, current_language: str) -> dict[str, Any]:
        """The answers as a form's data: the "about you" and "details" steps share them."""
        return {
            "categories": list(self.categories),
            "minor": self.minor,
            "country": self.country or "",
            "language": self.language or current_language,
        }

    def take_answers(self, data: dict[str, Any], current_language: str) -> None:
        """The answers from a form's data (a field the form does not have is left alone)."""
        if "categories" in data:
            self.categories = [Category(value) for value in data["categories"] or []]
        self.minor = member(MinorAnswer, data.get("minor"))
        self.country = data.get("country") or None
        self.language = data.get("language") or current_language

    def intake_request(
        self, services: Services, current_language: str, *, advocate_id: int | None = None
    ) -> IntakeRequest:
        """The request this draft describes; with ``advocate_id``, filed by that advocate with
        the draft's consent. The draft's random key becomes a keyed hash, so that sending the
        same draft twice files once."""
        return IntakeRequest(
            submission_key=services.keyed_hasher.digest(self.key, "submission"),
            locations=list(self.locations),
            categories=frozenset(self.categories),
            minor_in_material=self.minor,
            survivor_country=self.country,
            language=self.language or current_language,
            filed_by=FiledBy.ADVOCATE if advocate_id is not None else FiledBy.SURVIVOR,
            advocate_id=advocate_id,
            consent=self.consent if advocate_id is not None else None,
        )


def draft_with_places(session_key: str = SURVIVOR_DRAFT) -> Draft | None:
    """The draft, once it has at least one place; None sends the person back to the first step."""
    draft = Draft.load(session_key)
    return draft if draft.has_places else None


def answers_step(
    draft: Draft | None,
    form_class: type[FlaskForm],
    template: str,
    *,
    start: str,
    then: str,
    language: str,
) -> str | BaseResponse:
    """The step that asks about the material and the survivor, all optional: the survivor's
    "about you" and the advocate's "details" differ only in their words."""
    if draft is None:
        return redirect(url_for(start), 303)
    form = form_class(data=draft.answers(language))
    if request.method == "POST":
        form = form_class()
        if form.validate_on_submit():
            draft.take_answers(form.data, language)
            draft.save()
            return redirect(url_for(then), 303)
    return render_template(template, form=form)


ALREADY_SENT = lazy_gettext("This request was already sent, or it expired. Nothing more was sent.")


def file_draft(
    db: Session,
    services: Services,
    draft: Draft,
    pending: IntakeRequest,
    *,
    gone: str,
    review: str,
    look_again: str,
    on_filed: Callable[[FiledRequest], None] | None = None,
    replayed: Callable[[], str | None] | None = None,
) -> FiledRequest | BaseResponse | str:
    """File the request a draft describes and let the draft go; or, when it cannot be filed, the
    way back: to ``gone`` when it was already sent (unless ``replayed`` gives the page the first
    sending showed), to ``review`` (saying ``look_again``). ``on_filed`` runs in the filing's
    transaction (see :func:`assistant.cases.intake.file_request`)."""
    try:
        filed = file_request(db, services, pending, on_filed=on_filed)
    except IntakeError as error:
        if error.code == "already_sent":
            draft.discard()
            if replayed is not None and (page := replayed()) is not None:
                return page
            flash(str(ALREADY_SENT))
            return redirect(url_for(gone), 303)
        flash(look_again)
        return redirect(url_for(review), 303)
    draft.discard()
    note_filed()
    return filed


@dataclass
class Problem:
    """A rejected entry: ``excerpt`` is the start of what the person typed, ``where`` which box."""

    where: str
    excerpt: str
    code: str
    params: dict[str, str] = field(default_factory=dict)


def excerpt(text: str) -> str:
    """The start of what a person typed, short enough to point at it without repeating it."""
    flat = " ".join(text.split())
    return flat if len(flat) <= 60 else flat[:57] + "…"


@dataclass
class AddOutcome:
    added: list[NormalisedLocation]
    problems: list[Problem]
    remaining_paste: str
    duplicates: int


def gather_locations(
    services: Services,
    already: list[NormalisedLocation],
    single: LocationEntry | None,
    pasted: str,
    platform: str | None = None,
) -> AddOutcome:
    """Check the one place typed in the fields and the pasted lines against what is there
    (pasted lines that are not links are accounts on ``platform``, when one is named).

    Rejected pasted lines are handed back so that the person can correct them in place.
    """
    problems: list[Problem] = []
    added: list[NormalisedLocation] = []
    duplicates = 0
    if single is not None:
        batch = collect_within_limits([single], services, already=already)
        added += batch.accepted
        duplicates += batch.duplicates
        problems += [
            Problem("single", excerpt(single.value), r.code, r.params) for r in batch.rejections
        ]
    remaining: list[str] = []
    if pasted.strip():
        try:
            entries = entries_from_pasted_text(
                pasted, platform, most_places=services.settings.max_locations
            )
        except IntakeError as error:
            problems.append(Problem("pasted", "", error.code, error.params))
            return AddOutcome(added, problems, pasted, duplicates)
        batch = collect_within_limits(entries, services, already=[*already, *added])
        added += batch.accepted
        duplicates += batch.duplicates
        for rejection in batch.rejections:
            entry = entries[rejection.position - 1]
            remaining.append(entry.value)
            problems.append(
                Problem("pasted", excerpt(entry.value), rejection.code, rejection.params)
            )
    return AddOutcome(added, problems, "\n".join(remaining), duplicates)
