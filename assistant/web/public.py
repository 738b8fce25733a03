"""Pages anyone may see: the landing page, support, using this safely, the quick exit, and (where
the service publishes them) providers' notice figures."""

from __future__ import annotations

from itertools import groupby

from flask import Blueprint
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from werkzeug.wrappers import Response as BaseResponse

from ..config import supported_language
from ..extensions import current_services
from ..extensions import db
from ..hotline.provider_figures import public_figures
from ..models import Case
from ..models import today
from ..routing.countries import known_country
from . import journey
from . import texts
from .access import public

bp = Blueprint("public", __name__)

CLEAR_SITE_DATA = '"cache", "cookies", "storage"'


@bp.before_app_request
def remember_language() -> None:
    """A language picked with ``?lang=`` sticks for the rest of the visit."""
    asked = supported_language(request.args.get("lang"))
    if asked and session.get("lang") != asked:
        session["lang"] = asked


@bp.get("/")
@public
def landing() -> str:
    """What this is and is not, what happens next, and three ways on."""
    return render_template("public/landing.html")


def reader_country() -> tuple[str | None, bool]:
    """The country to show support for, and whether it is only a guess: the one asked for, else
    the one given in the request being filled in or already sent (when signed in), else (a
    guess) the region of the browser's language ("fr-CA" -> CA). Never the address the request
    came from."""
    asked = known_country(request.args.get("country"))
    if asked:
        return asked, False
    given = journey.Draft.load().country
    case_id = session.get("case_id")
    if not given and isinstance(case_id, int):
        case = db.session.get(Case, case_id)
        given = case.survivor_country if case else None
    if known_country(given):
        return given, False
    for tag, _quality in request.accept_languages:
        language, _sep, region = tag.replace("_", "-").rpartition("-")
        if language and known_country(region):
            return region.upper(), True
    return None, False


@bp.get("/support")
@public
def support() -> str:
    """Help now, for the reader's country and in their language: emergency number, crisis lines,
    helplines, survivor organisations and reporting help; then the hotlines themselves."""
    services = current_services()
    country, guessed = reader_country()
    resources = services.resources
    listed = sorted(resources.countries(), key=lambda code: texts.country_name(code).casefold())
    hotlines = sorted(services.directory.hotlines.values(), key=lambda h: h.name.casefold())
    shown = [
        entry
        for entry in resources.for_reader(country, texts.current_language())
        if entry.kind != "emergency"
    ]
    return render_template(
        "public/support.html",
        country=country,
        guessed=guessed,
        covered=country in resources.countries(),
        countries=listed,
        # A number is named only for a country the reader chose or gave: a browser set to en-US
        # says little about where someone is.
        emergency=None if guessed else resources.emergency_number(country),
        groups=[
            (place, list(entries))
            for place, entries in groupby(shown, key=lambda entry: entry.country)
        ],
        unchecked=any(entry.verified_on is None for entry in shown),
        hotlines=hotlines,
    )


@bp.get("/safety")
@public
def safety() -> str:
    """Using this safely: private windows, shared devices, what the quick exit does and does not."""
    address = current_services().settings.public_url.rstrip("/") + "/"
    return render_template("public/safety.html", public_address=address)


@bp.get("/if-you-have-a-copy")
@public
def have_a_copy() -> str:
    """For someone with a copy on their own device: what Take It Down and StopNCII do (a
    fingerprint made on the device, for the platforms that take part), their limits, and that
    nothing comes here. Asks for nothing and never offers to take a file."""
    return render_template("public/have_a_copy.html")


@bp.get("/exit")
@public
def quick_exit() -> BaseResponse:
    """Quick exit: end any sign-in, ask the browser to forget this site, go somewhere neutral."""
    session.clear()
    response = redirect(current_services().settings.exit_url, 303)
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


@bp.get("/figures")
@public
def figures() -> str:
    """How providers answer hotlines' notices, from the counts only (no case, place or notice):
    published only where the service chose to (``ASSISTANT_PUBLISH_PROVIDER_FIGURES``)."""
    services = current_services()
    if not services.settings.publish_provider_figures:
        abort(404)
    named = [provider.name for provider in services.directory.providers.values()]
    return render_template(
        "public/figures.html", figures=public_figures(db.session, named), on=today()
    )
