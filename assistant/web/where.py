"""The public page "Where will my report go?": the hotlines, how routing works, and a dry run.

Searching is a plain GET form (works without JavaScript). The dry run is a POST, so a pasted link
never lands in the browser's history or an address bar, and nothing about it is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template, request

from ..extensions import current_services, limiter, lookup_limit
from ..intake import (
    IntakeError,
    LocationEntry,
    collect_locations,
    entries_from_pasted_text,
    plan_routes,
)
from ..routing import Directory, Hotline, Reason
from .access import public
from .forms import DryRunForm
from .journey import Problem, excerpt
from .texts import country_name

bp = Blueprint("where", __name__)

MAX_QUERY = 100


@dataclass(frozen=True)
class TriedPlace:
    kind: str
    value: str
    hotline: Hotline
    reasons: tuple[Reason, ...]


def _matches(query: str, *texts: str) -> bool:
    folded = query.casefold()
    return any(folded in text.casefold() for text in texts if text)


def find_hotlines(directory: Directory, query: str, country: str) -> list[Hotline]:
    """Hotlines whose name, operator, countries (by code or by name in the reader's language)
    or website match; all of them when nothing is asked."""
    hotlines = sorted(directory.hotlines.values(), key=lambda h: h.name.casefold())
    if country:
        hotlines = [h for h in hotlines if country in h.countries]
    if query:
        hotlines = [
            h
            for h in hotlines
            if _matches(query, h.name, h.operator, h.website, *h.countries)
            or any(_matches(query, country_name(code)) for code in h.countries)
        ]
    return hotlines


def _page(form: DryRunForm, **extra: object) -> str:
    directory = current_services().directory
    query = request.args.get("q", "")[:MAX_QUERY].strip()
    country = request.args.get("country", "")[:2].upper()
    # A search stays in the browser's history: it is for hotlines, never for a reported site.
    looks_like_a_site = "." in query or "/" in query
    hotlines = find_hotlines(directory, "" if looks_like_a_site else query, country)
    return render_template(
        "public/where.html",
        form=form,
        query="" if looks_like_a_site else query,
        looks_like_a_site=looks_like_a_site,
        country=country,
        hotlines=hotlines,
        resolver_on=current_services().resolver is not None,
        fallback=directory.fallback,
        serving_countries=sorted(
            {code for h in directory.hotlines.values() for code in h.countries},
            key=lambda code: country_name(code).casefold(),
        ),
        provider_count=len(directory.providers),
        **extra,
    )


@bp.get("/hotlines")
@public
def where() -> str:
    """The hotlines by country, what each takes and how it works, and the dry-run form."""
    return _page(DryRunForm(formdata=None))


@bp.post("/hotlines")
@limiter.limit(lookup_limit)
@public
def try_routing() -> str:
    """Where some places would go, and why. Nothing is stored and nothing is opened."""
    form = DryRunForm()
    tried: list[TriedPlace] = []
    problems: list[Problem] = []
    if form.validate_on_submit():
        services = current_services()
        settings = services.settings
        platform = (form.platform.data or "").strip() or None
        try:
            entries = [
                LocationEntry("account", entry.value, platform=platform)
                if platform and entry.kind == "other"
                else entry
                for entry in entries_from_pasted_text(form.places.data or "")
            ]
        except IntakeError as error:
            entries = []
            problems.append(Problem("pasted", "", error.code, error.params))
        batch = collect_locations(
            entries,
            max_locations=settings.max_locations,
            max_value_length=settings.max_value_length,
            max_note_length=settings.max_note_length,
        )
        problems += [
            Problem("pasted", excerpt(entries[r.position - 1].value), r.code, r.params)
            for r in batch.rejections
        ]
        by_index: dict[int, TriedPlace] = {}
        plan = plan_routes(batch.accepted, services, form.country.data or None,
                           look_up_hosts=False)
        for planned in plan:
            for index, reasons in zip(planned.location_indexes, planned.reasons, strict=True):
                location = batch.accepted[index]
                by_index[index] = TriedPlace(location.kind, location.value, planned.hotline,
                                             reasons)
        tried = [by_index[index] for index in sorted(by_index)]
    # The answer shows each place masked; the box is emptied rather than echo them in full.
    form.places.data = ""
    return _page(form, tried=tried, problems=problems, tried_anything=True)
