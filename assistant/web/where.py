"""The public page "Where will my report go?": the hotlines, how routing works, and a dry run.

Searching is a plain GET form (works without JavaScript). The dry run is a POST, so a pasted link
never lands in the browser's history or an address bar, and nothing about it is stored.
"""

from __future__ import annotations

from flask import Blueprint
from flask import render_template
from flask import request

from ..cases.intake import dry_run_routes
from ..extensions import current_services
from ..extensions import limiter
from ..extensions import lookup_limit
from ..routing import Directory
from ..routing import Hotline
from ..routing import NormalisedLocation
from ..routing import RouteDecision
from ..routing.countries import known_country
from .access import public
from .forms import DryRunForm
from .journey import Problem
from .journey import gather_locations
from .texts import country_name

bp = Blueprint("where", __name__)

MAX_QUERY = 100


def _matches(query: str, *texts: str) -> bool:
    folded = query.casefold()
    return any(folded in text.casefold() for text in texts if text)


def find_hotlines(directory: Directory, query: str, country: str) -> list[Hotline]:
    """Hotlines whose name, operator, countries (by code or by name in the reader's language)
    or website match; all of them when nothing is asked."""
    chosen = directory.hotlines_for_country(country) if country else directory.hotlines.values()
    hotlines = sorted(chosen, key=lambda h: h.name.casefold())
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
    country = known_country(request.args.get("country", "")[:2]) or ""
    # A search stays in the browser's history: it is for hotlines, never for a reported site.
    looks_like_a_site = "." in query or "/" in query
    hotlines = find_hotlines(directory, "" if looks_like_a_site else query, country)
    return render_template(
        "public/where.html",
        form=form,
        query="" if looks_like_a_site else query,
        looks_like_a_site=looks_like_a_site,
        country=country,
        # A country without a hotline of its own: its places go to the fallback.
        uncovered=bool(country) and directory.for_country(country) is None,
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
    tried: list[tuple[NormalisedLocation, RouteDecision]] = []
    problems: list[Problem] = []
    if form.validate_on_submit():
        services = current_services()
        platform = (form.platform.data or "").strip() or None
        outcome = gather_locations(services, [], None, form.places.data or "", platform)
        problems = outcome.problems
        decisions = dry_run_routes(outcome.added, services, form.country.data or None)
        tried = list(zip(outcome.added, decisions, strict=True))
    # The answer shows each place masked; the box is emptied rather than echo them in full.
    form.places.data = ""
    return _page(form, tried=tried, problems=problems, tried_anything=True)
