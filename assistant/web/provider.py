"""The provider's page (``/notice/<token>``): the signed response link in a notice.

No account: the link is bound to one notice and works until every place in it has a final answer
or :data:`assistant.hotline.notices.LINK_VALID_FOR` has passed. The page shows the hotline, the
reference and the places as text (never as links) and takes an answer per place: removed (on a
date), not found, refused (with a reason), or a question to the hotline. A forged, expired or
already-final link gets a page that says so and changes nothing. Rate-limited per address and per
link. The form needs no session: the token in the address is the permission (see ``answer``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import ngettext

from ..extensions import csrf
from ..extensions import current_services
from ..extensions import db
from ..extensions import limiter
from ..extensions import lookup_limit
from ..extensions import provider_limit
from ..hotline.notices import ANSWER_KINDS
from ..hotline.notices import MAX_ANSWER_LENGTH
from ..hotline.notices import Answer
from ..hotline.notices import LinkProblem
from ..hotline.notices import LinkView
from ..hotline.notices import answer_by_provider
from ..hotline.notices import open_link
from ..hotline.referrals import ActionRefused
from ..models import today
from .access import public
from .staff_texts import PROVIDER_REFUSALS
from .texts import refusal_text

bp = Blueprint("provider", __name__, url_prefix="/notice")
MAX_TOKEN_LENGTH = 200


def _per_link() -> str:
    """The rate limit's key for one link (a digest: the storage never holds the token)."""
    token = (request.view_args or {}).get("token", "")
    return "link:" + hashlib.sha256(str(token).encode("utf-8")).hexdigest()[:32]


def _problem(code: str) -> Any:
    status = {"forged": 404, "expired": 410}.get(code, 200)
    return render_template("provider/link_problem.html", problem=code), status


def _render(view: LinkView, token: str, *, error: str | None = None, status: int = 200) -> Any:
    return render_template(
        "provider/notice.html",
        view=view,
        token=token,
        kinds=ANSWER_KINDS,
        today=today(),
        limit=MAX_ANSWER_LENGTH,
        posted=request.form if request.method == "POST" else {},
        error=error,
    ), status


@bp.get("/<token>")
@public
@limiter.limit(lookup_limit)
def notice(token: str) -> Any:
    """The notice's places and a form to answer for each."""
    if len(token) > MAX_TOKEN_LENGTH:
        return _problem("forged")
    try:
        _letter, view = open_link(db.session, current_services(), token)
    except LinkProblem as problem:
        return _problem(problem.code)
    finally:
        db.session.rollback()
    return _render(view, token)


def _answers(form: Any) -> list[Answer]:
    answers = []
    for key, kind in form.items():
        if not key.startswith("answer-") or not kind:
            continue
        number = key.removeprefix("answer-")
        if not (number.isascii() and number.isdigit()) or len(number) > 10:
            raise ActionRefused("bad_response")
        on = None
        if kind == "removed":
            try:
                on = dt.date.fromisoformat(form.get(f"on-{number}", ""))
            except ValueError:
                raise ActionRefused("removed_date_required") from None
        answers.append(Answer(int(number), kind, on, form.get(f"text-{number}") or None))
    return answers


@bp.post("/<token>")
@public
# No session to protect: the signed token in the address is what lets the provider answer, and a
# page from elsewhere cannot know it. A session's CSRF token would end with the session (an hour
# idle) and lose what the provider typed.
@csrf.exempt
@limiter.limit(provider_limit)
@limiter.limit(provider_limit, key_func=_per_link)
def answer(token: str) -> Any:
    """Record the provider's answers, all or none."""
    if len(token) > MAX_TOKEN_LENGTH:
        return _problem("forged")
    services = current_services()
    try:
        count = answer_by_provider(db.session, services, token, _answers(request.form))
    except LinkProblem as problem:
        db.session.rollback()
        return _problem(problem.code)
    except ActionRefused as refused:
        db.session.rollback()
        try:
            _letter, view = open_link(db.session, services, token)
        except LinkProblem as problem:
            return _problem(problem.code)
        finally:
            db.session.rollback()
        return _render(
            view,
            token,
            error=refusal_text(PROVIDER_REFUSALS, refused.code, refused.params),
            status=422,
        )
    flash(
        ngettext(
            "Thank you. Your answer for %(num)d place was recorded and the hotline can see it.",
            "Thank you. Your answers for %(num)d places were recorded and the hotline can see "
            "them.",
            count,
        )
    )
    return redirect(url_for(".notice", token=token), 303)
