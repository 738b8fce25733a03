"""The draft of a request between its steps, kept in the server-side session.

Only this module knows how a draft is laid out; views ask it for what they need.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from flask import session

from ..cases.intake import (
    IntakeError,
    IntakeRequest,
    LocationEntry,
    collect_within_limits,
)
from ..cases.pasted import entries_from_pasted_text
from ..routing import NormalisedLocation
from ..services import Services

DRAFT_KEY = "draft"
# An advocate's draft is kept apart, so that it never mixes with a survivor's on a shared browser.
ADVOCATE_DRAFT_KEY = "advocate_draft"


@dataclass
class Problem:
    """A rejected entry: ``excerpt`` is the start of what the person typed, ``where`` which box."""

    where: str
    excerpt: str
    code: str
    params: dict[str, str] = field(default_factory=dict)


def draft(key: str = DRAFT_KEY) -> dict[str, Any]:
    found = session.get(key)
    return dict(found) if isinstance(found, dict) else {}


def save_draft(data: dict[str, Any], key: str = DRAFT_KEY) -> None:
    session[key] = data


def discard_draft(key: str = DRAFT_KEY) -> None:
    session.pop(key, None)


def draft_locations(data: dict[str, Any] | None = None) -> list[NormalisedLocation]:
    stored = (data if data is not None else draft()).get("locations") or []
    return [NormalisedLocation(**item) for item in stored]


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
            entries = entries_from_pasted_text(pasted, platform)
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


def add_to_draft(data: dict[str, Any], locations: list[NormalisedLocation]) -> None:
    # A random key per draft, so that sending the same draft twice files one case.
    data.setdefault("key", secrets.token_urlsafe(16))
    stored = list(data.get("locations") or [])
    stored += [asdict(location) for location in locations]
    data["locations"] = stored


def remove_from_draft(data: dict[str, Any], index: int) -> None:
    stored = list(data.get("locations") or [])
    if 0 <= index < len(stored):
        del stored[index]
    data["locations"] = stored


def intake_request(
    services: Services, data: dict[str, Any], language: str, **filing: Any
) -> IntakeRequest:
    """The request a draft describes; ``filing`` adds who files it (an advocate, with consent).

    The draft's random key becomes a keyed hash, so that sending the same draft twice files once.
    """
    key = data.get("key")
    return IntakeRequest(
        submission_key=(
            services.keyed_hasher.digest(key, "submission") if isinstance(key, str) else None
        ),
        locations=draft_locations(data),
        categories=frozenset(data.get("categories") or ()),
        minor_in_material=data.get("minor"),
        survivor_country=data.get("country"),
        language=data.get("language") or language,
        **filing,
    )
