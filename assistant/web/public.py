"""Pages anyone may see: the landing page, support, and the quick exit."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session
from werkzeug.wrappers import Response as BaseResponse

from ..config import SUPPORTED_LANGUAGES
from ..extensions import current_services
from .access import public

bp = Blueprint("public", __name__)

CLEAR_SITE_DATA = '"cache", "cookies", "storage"'


@bp.before_app_request
def remember_language() -> None:
    """A language picked with ``?lang=`` sticks for the rest of the visit."""
    asked = request.args.get("lang")
    if asked in SUPPORTED_LANGUAGES and session.get("lang") != asked:
        session["lang"] = asked


@bp.get("/")
@public
def landing() -> str:
    """What this is and is not, what happens next, and three ways on."""
    return render_template("public/landing.html")


@bp.get("/support")
@public
def support() -> str:
    """Help now: emergency numbers and the hotlines themselves."""
    directory = current_services().directory
    hotlines = sorted(directory.hotlines.values(), key=lambda h: h.name.casefold())
    return render_template("public/support.html", hotlines=hotlines)


@bp.get("/exit")
@public
def quick_exit() -> BaseResponse:
    """Quick exit: end any sign-in, ask the browser to forget this site, go somewhere neutral."""
    session.clear()
    response = redirect(current_services().settings.exit_url, 303)
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response
