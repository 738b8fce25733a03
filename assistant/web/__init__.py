"""The web layer: one blueprint per audience, the security headers, and error pages."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import quote
from urllib.parse import urlencode

from flask import Flask
from flask import Response
from flask import abort
from flask import has_request_context
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import format_datetime
from flask_babel import format_number
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from jinja2.nodes import EvalContext
from jinja2.utils import pass_eval_context
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter
from werkzeug.routing import Map
from werkzeug.sansio.utils import host_is_trusted

from ..config import SUPPORTED_LANGUAGES
from ..config import language_tag
from ..extensions import STORAGE_OUTAGES
from ..extensions import csrf
from ..extensions import current_services
from ..extensions import db
from ..extensions import limiter
from ..models import MAX_ROW_ID
from ..routing import mask_location_for_display
from ..services import Services
from . import advocate_texts
from . import staff_texts
from . import texts
from .access import refuse_undeclared_routes
from .access import signed_in_account
from .account import bp as account_bp
from .account import home_for
from .admin import bp as admin_bp
from .advocate import bp as advocate_bp
from .api import ERROR_MESSAGES
from .api import bp as api_bp
from .api import json_error
from .api import json_error_for
from .bounded_body import refuse_too_large
from .erasure_proof import PROOF_FIELD
from .erasure_proof import erased_case_behind
from .forms import LANGUAGE_NAMES
from .health import bp as health_bp
from .hotline import bp as hotline_bp
from .hotline_api import bp as hotline_api_bp
from .provider import bp as provider_bp
from .public import CLEAR_SITE_DATA
from .public import bp as public_bp
from .pwa import bp as pwa_bp
from .quota import QUOTA
from .quota import Quota
from .session_interface import OUTAGE_KEY
from .survivor import bp as survivor_bp
from .team import bp as team_bp
from .translated_templates import TRANSLATED
from .where import bp as where_bp

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    settings = current_services().settings
    if settings.secure_cookies:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if settings.onion_location and response.mimetype == "text/html":
        # Tor Browser offers the same page at the onion service (the path only, no query).
        headers["Onion-Location"] = settings.onion_location.rstrip("/") + request.path
    if request.endpoint != "static":
        # Nothing the app renders may be kept by the browser or a proxy: any page could show a
        # case, a draft or a receipt.
        headers["Cache-Control"] = "no-store, max-age=0"
        headers["Pragma"] = "no-cache"
    return response


def _mask(value: str, kind: str) -> str:
    return mask_location_for_display(kind, value)


# A health probe may come from an orchestrator that knows only an address: answered whatever Host.
ANY_HOST = frozenset({"/healthz", "/readyz"})


def _trusted_host() -> Any:
    """Only the configured host names (ASSISTANT_PUBLIC_URL, ASSISTANT_ALLOWED_HOSTS): a forged
    Host header is refused with a plain 400 before anything (a redirect, an absolute link) could
    be built from it."""
    if request.path in ANY_HOST:
        return None
    trusted = current_services().settings.trusted_hosts
    if host_is_trusted(request.environ.get("HTTP_HOST") or "", trusted):
        return None
    return "Bad Request\n", 400, {"Content-Type": "text/plain; charset=utf-8"}


def _storage_answered() -> None:
    """The session could not be read because the database did not answer: refuse the request
    the way any other outage is refused (see :func:`_unavailable`)."""
    outage = request.environ.get(OUTAGE_KEY)
    if outage is not None:
        raise outage


def _refuse_uploads() -> None:
    """Nothing is ever uploaded: no form here is multipart, so no multipart body is read."""
    if (request.mimetype or "").startswith("multipart/"):
        abort(415)


# A page says a hundred sentences or more: each is found in the reader's translations as this
# request found them (texts.reader), rather than through Flask-Babel's request-local state, and
# without the page's context: a function that takes the context gets a copy of it made for each
# call inside a loop, which costs more than the sentence. Jinja's "newstyle" rules, as its i18n
# extension applies them: escaped when the page is, and always formatted with the keywords given
# (so a literal % is written %%).
def _newstyle(
    eval_ctx: EvalContext, reader: texts.Reader, text: str, variables: dict[str, Any]
) -> Any:
    # The catalogue's text is trusted as the template's own; what is put into it is escaped.
    found: Any = Markup(text) if eval_ctx.autoescape else text  # noqa: S704
    if not variables and "%" not in text:
        return found  # formatting would change nothing
    if variables and reader.right_to_left:
        # A name, an address or a reference keeps its own direction in a right-to-left
        # sentence (see texts.isolated); counts are left as they are.
        variables = {name: texts.isolated(value) for name, value in variables.items()}
    if variables and reader.digits:
        # Counts in the reader's own digits (Persian).
        text, variables = texts.in_native_digits(text, variables, reader)
        found = Markup(text) if eval_ctx.autoescape else text  # noqa: S704 (as above)
    return found % variables


@pass_eval_context
def _template_gettext(eval_ctx: EvalContext, string: str, /, **variables: Any) -> Any:
    reader = texts.reader()
    text = reader.translations.ugettext(string)
    if not variables and "%" not in text:  # most sentences: nothing to put in
        return Markup(text) if eval_ctx.autoescape else text  # noqa: S704 (as in _newstyle)
    return _newstyle(eval_ctx, reader, text, variables)


@pass_eval_context
def _template_translated(eval_ctx: EvalContext, text: str, /, **variables: Any) -> Any:
    # A sentence translated when its template was compiled (see translated_templates): only
    # formatted here, by the same rules.
    return _newstyle(eval_ctx, texts.reader(), text, variables)


@pass_eval_context
def _template_ngettext(
    eval_ctx: EvalContext, singular: str, plural: str, num: int, /, **variables: Any
) -> Any:
    variables.setdefault("num", num)
    reader = texts.reader()
    translated = reader.translations.ungettext(singular, plural, num)
    return _newstyle(eval_ctx, reader, translated, variables)


@pass_eval_context
def _template_pgettext(
    eval_ctx: EvalContext, context_name: str, string: str, /, **variables: Any
) -> Any:
    reader = texts.reader()
    translated = reader.translations.upgettext(context_name, string)
    return _newstyle(eval_ctx, reader, translated, variables)


@pass_eval_context
def _template_npgettext(
    eval_ctx: EvalContext,
    context_name: str,
    singular: str,
    plural: str,
    num: int,
    /,
    **variables: Any,
) -> Any:
    variables.setdefault("num", num)
    reader = texts.reader()
    translated = reader.translations.unpgettext(context_name, singular, plural, num)
    return _newstyle(eval_ctx, reader, translated, variables)


def _format_number(number: Any) -> str:
    """A number in the reader's words: Flask-Babel's grouping, in their own digits."""
    return texts.native_digits(str(format_number(number)))


LANGUAGES = [(code, language_tag(code), LANGUAGE_NAMES[code]) for code in SUPPORTED_LANGUAGES]


@cache
def _language_menu(current: str) -> tuple[Markup, Markup]:
    """The header's language menu on a page in ``current``: the name shown closed, and the items
    (each name in its own language; the current one not a link). The same on every page in that
    language, so made once a process rather than a dozen escapes a page (base.html)."""
    shown = Markup("")
    items = []
    for code, tag, name in LANGUAGES:
        if code == current:
            shown = Markup('<span lang="{0}">{1}</span>').format(tag, name)
            item = Markup('<li><span aria-current="true" lang="{0}">{1}</span></li>')
        else:
            item = Markup('<li><a href="?lang={0}" lang="{0}" hreflang="{0}">{1}</a></li>')
        items.append(item.format(tag, name))
    return shown, Markup("\n").join(items)


def _template_globals() -> dict[str, Any]:
    reader = texts.reader()
    language = reader.language
    return {
        "site_name": current_services().settings.site_name,
        "current_language": language,
        "language_tag": language_tag(language),
        "text_direction": "rtl" if reader.right_to_left else "ltr",
        "language_menu": _language_menu(language),
        "texts": texts,
        "staff_texts": staff_texts,
        "advocate_texts": advocate_texts,
        "directory": current_services().directory,
    }


# Endpoints whose address takes one fixed value (a file's name, an icon's size), given by pages.
_FIXED_VALUE = {"static": "filename", "pwa.icon": "size"}


def _fixed_url_for(app: Flask) -> Callable[..., str]:
    """``url_for`` for templates. The address of a page that takes no values, or of a static file,
    is the same for every request (relative, under the same script root; this app has no URL
    defaults): built once a process rather than for every link of every page (a dozen a page).
    Anything else, and an address for another script root, is built as ``url_for`` builds it."""
    built: dict[tuple[str, str, Any], str] = {}
    url_for = app.url_for

    def template_url_for(endpoint: str, /, **values: Any) -> str:
        if (
            (not values or (len(values) == 1 and _FIXED_VALUE.get(endpoint) in values))
            and not endpoint.startswith(".")
            and not app.url_default_functions
            and has_request_context()
        ):
            # (The request itself, not through its proxy, which costs as much as the look-up.)
            root = request._get_current_object().script_root  # type: ignore[attr-defined]
            key = (root, endpoint, next(iter(values.values()), None))
            found = built.get(key)
            if found is None:
                found = built[key] = url_for(endpoint, **values)
            return found
        return url_for(endpoint, **values)

    return template_url_for


# Where a page's "Show" and "Copy" links lead: ``url_for(request.endpoint, **request.view_args,
# **query, _anchor=anchor)``, with the page's own address built once a request.
_THIS_PAGE = "rra_this_page"
QUERY_SAFE = "!$'()*,/:;?@"
ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"
_PLAIN = re.compile(r"[A-Za-z0-9_.-]+")


def _this_page(anchor: str, /, **query: Any) -> str:
    # Kept on the request itself, not reached through its proxy for each link (a look-up
    # through the proxy costs as much as the rest of this).
    current = request._get_current_object()  # type: ignore[attr-defined]
    base: str | None = current.__dict__.get(_THIS_PAGE)
    if base is None:
        base = url_for(current.endpoint or "", **(current.view_args or {}))
        setattr(current, _THIS_PAGE, base)
    # As Werkzeug adds the values the route does not take, and Flask the anchor (a number and a
    # plain name need no quoting, which costs more than the rest).
    items = [(name, value) for name, value in query.items() if value is not None]
    if items:
        plain = [f"{name}={value}" for name, value in items if type(value) is int]
        if len(plain) == len(items) and _PLAIN.fullmatch("".join(name for name, _v in items)):
            base = f"{base}?{'&'.join(plain)}"
        else:
            base = f"{base}?{urlencode(items, safe=QUERY_SAFE)}"
    if not _PLAIN.fullmatch(anchor):
        anchor = quote(anchor, safe=ANCHOR_SAFE)
    return f"{base}#{anchor}"


def _error_page(error: HTTPException) -> Any:
    if request.path.startswith("/api/"):
        return json_error_for(error)
    code = error.code or 500
    # The headers the error calls for (Allow on a 405), without its own content type.
    headers = [(name, value) for name, value in error.get_headers() if name != "Content-Type"]
    if code == 403:
        # Refused for the account signed in (or for anyone): say so, and where to go instead.
        account = signed_in_account()
        home = home_for(account.role) if account is not None else None
        page = render_template("error.html", code=code, account=account, account_home=home)
        return page, code, headers
    return render_template("error.html", code=code), code, headers


def _form_refused() -> Any:
    """A form whose CSRF check failed (its session ended, or the page was open too long): the
    erase form of a request since erased says so calmly; any other gets "could not be read"."""
    proof = request.form.get(PROOF_FIELD, "")
    if proof and erased_case_behind(db.session, current_services().cipher, proof):
        response = Response(render_template("error.html", code=410, erased=True), 410)
        # The browser is asked again to forget the site: this page was reached from its history.
        response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
        return response
    return render_template("error.html", code=400, csrf=True), 400


log = logging.getLogger(__name__)

RETRY_AFTER_OUTAGE = 30


class RowId(IntegerConverter):
    """``<int:...>`` in every route: at most what an id column can hold, so an id no row can have
    is a 404 on every database (PostgreSQL would otherwise refuse 2**31 with an error)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


# Each check a hook of its own would cost Flask a look-up and a call more on every request.
def _before_anything() -> Any:
    """A forged Host, an outage, a body over the limit: refused in this order."""
    refused = _trusted_host()
    if refused is not None:
        return refused
    _storage_answered()
    refuse_too_large()
    return None


def _before_the_view() -> None:
    """A route that declares no access level, a multipart body: refused."""
    refuse_undeclared_routes()
    _refuse_uploads()


# Flask-Limiter settings that would make its check before every view find something to count.
_LIMITS_FOR_EVERY_ROUTE = (
    "RATELIMIT_APPLICATION",
    "RATELIMIT_DEFAULT",
    "RATELIMIT_META",
    "RATELIMIT_IN_MEMORY_FALLBACK",
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED",
)


def _without_empty_limit_check(app: Flask) -> None:
    """Flask-Limiter checks every request, before its view, for the limits that apply to routes
    that do not set their own (application, default and blueprint limits). This app has none:
    every limit is set on its route (``limiter.limit``, ``limiter.shared_limit``), and such a
    route checks its own when it is called, whether this check runs or not. So this check finds
    nothing to count, on every request, at a sixth of a cheap page's time: it is left out, while
    nothing of the kind is configured (blueprints are all registered by now)."""
    manager = limiter.limit_manager
    if (
        manager.application_limits
        or manager.default_limits
        or any(manager.blueprint_limits(app, name) for name in app.blueprints)
        or any(app.config.get(name) for name in _LIMITS_FOR_EVERY_ROUTE)
    ):
        return
    check = limiter._check_request_limit  # what Limiter.init_app registered
    funcs = app.before_request_funcs.get(None, [])
    app.before_request_funcs[None] = [func for func in funcs if func != check]


def register_web(app: Flask) -> None:
    # One quota per app, made with it: memory counters must be shared by every request.
    services: Services = app.extensions["assistant.services"]
    app.extensions[QUOTA] = Quota(services.settings.ratelimit_storage_url)
    app.url_map.converters["int"] = RowId  # before any route is added
    app.register_blueprint(public_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(pwa_bp)
    app.register_blueprint(where_bp)
    app.register_blueprint(survivor_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(hotline_api_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(hotline_bp)
    app.register_blueprint(team_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(advocate_bp)
    app.register_blueprint(provider_bp)
    csrf.exempt(api_bp)  # the API takes bearer tokens, never cookies
    csrf.exempt(hotline_api_bp)
    # First of all (before CSRF and the rate limits): the session it would check is missing;
    # a body over the limit, before CSRF reads the form.
    app.before_request_funcs.setdefault(None, [])[0:0] = [_before_anything]
    app.before_request(_before_the_view)
    _without_empty_limit_check(app)
    app.after_request(_security_headers)
    app.context_processor(_template_globals)
    # In place of Flask-Babel's own (installed by babel.init_app, with newstyle on), made cheaper;
    # ``_`` too, which Jinja's extension makes an alias that looks ``gettext`` up on every call.
    app.jinja_env.globals.update(
        url_for=_fixed_url_for(app),
        this_page=_this_page,
        _=_template_gettext,
        gettext=_template_gettext,
        ngettext=_template_ngettext,
        pgettext=_template_pgettext,
        npgettext=_template_npgettext,
        **{TRANSLATED: _template_translated},
    )
    app.add_template_filter(_mask, "mask")
    app.add_template_filter(texts.format_date, "format_date")
    # Staff pages only (a removal deadline in hours); a survivor's pages show dates, never times.
    app.add_template_filter(format_datetime, "format_datetime")
    app.add_template_filter(_format_number, "format_number")
    app.add_template_filter(texts.country_name, "country_name")
    app.add_template_filter(texts.language_name, "language_name")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        return _error_page(error)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Any:
        return _form_refused()

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Any:
        original = getattr(error, "original_exception", None) or error
        if isinstance(original, STORAGE_OUTAGES):
            return _unavailable(original)
        # Logged without request data; the person sees a calm page, never a traceback.
        app.logger.error("Unhandled %s on %s", type(error).__name__, request.endpoint)
        if request.path.startswith("/api/"):
            return json_error(500, "internal_error", _("Something went wrong on our side."))
        return render_template("error.html", code=500), 500


def _unavailable(error: BaseException) -> Any:
    """The database or the rate-limit store did not answer: a 503 that says to come back, and
    that nothing was saved (the transaction was rolled back with the failed statement)."""
    log.warning("Storage unavailable (%s) on %s", type(error).__name__, request.endpoint)
    headers = {"Retry-After": str(RETRY_AFTER_OUTAGE)}
    if request.path.startswith("/api/"):
        response = json_error(503, "unavailable", ERROR_MESSAGES[503])
        response.headers.update(headers)
        return response
    try:
        page = render_template("error.html", code=503)
    except Exception:
        page = "Service unavailable. Nothing was saved. Please try again in a few minutes."
    return page, 503, headers
