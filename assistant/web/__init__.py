"""The web layer: one blueprint per audience, the security headers, and error pages."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask import Response
from flask import abort
from flask import render_template
from flask import request
from flask_babel import format_date
from flask_babel import format_datetime
from flask_babel import format_number
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter
from werkzeug.routing import Map
from werkzeug.sansio.utils import host_is_trusted

from ..config import RTL_LANGUAGES
from ..config import SUPPORTED_LANGUAGES
from ..config import language_tag
from ..extensions import STORAGE_OUTAGES
from ..extensions import csrf
from ..extensions import current_services
from ..models import MAX_ROW_ID
from ..routing import mask_location_for_display
from ..services import Services
from . import advocate_texts
from . import staff_texts
from . import texts
from .access import refuse_undeclared_routes
from .account import bp as account_bp
from .admin import bp as admin_bp
from .advocate import bp as advocate_bp
from .api import ERROR_MESSAGES
from .api import bp as api_bp
from .api import json_error
from .api import json_error_for
from .bounded_body import refuse_too_large
from .forms import LANGUAGE_NAMES
from .health import bp as health_bp
from .hotline import bp as hotline_bp
from .hotline_api import bp as hotline_api_bp
from .provider import bp as provider_bp
from .public import bp as public_bp
from .pwa import bp as pwa_bp
from .quota import QUOTA
from .quota import Quota
from .session_interface import OUTAGE_KEY
from .survivor import bp as survivor_bp
from .team import bp as team_bp
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


def _template_globals() -> dict[str, Any]:
    language = texts.current_language()
    return {
        "site_name": current_services().settings.site_name,
        "current_language": language,
        "language_tag": language_tag(language),
        "text_direction": "rtl" if language in RTL_LANGUAGES else "ltr",
        "languages": [
            (code, language_tag(code), LANGUAGE_NAMES[code]) for code in SUPPORTED_LANGUAGES
        ],
        "texts": texts,
        "staff_texts": staff_texts,
        "advocate_texts": advocate_texts,
        "directory": current_services().directory,
    }


def _error_page(error: HTTPException) -> Any:
    if request.path.startswith("/api/"):
        return json_error_for(error)
    code = error.code or 500
    # The headers the error calls for (Allow on a 405), without its own content type.
    headers = [(name, value) for name, value in error.get_headers() if name != "Content-Type"]
    return render_template("error.html", code=code), code, headers


log = logging.getLogger(__name__)

RETRY_AFTER_OUTAGE = 30


class RowId(IntegerConverter):
    """``<int:...>`` in every route: at most what an id column can hold, so an id no row can have
    is a 404 on every database (PostgreSQL would otherwise refuse 2**31 with an error)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


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
    app.before_request_funcs.setdefault(None, [])[0:0] = [
        _trusted_host,
        _storage_answered,
        refuse_too_large,
    ]
    app.before_request(refuse_undeclared_routes)
    app.before_request(_refuse_uploads)
    app.after_request(_security_headers)
    app.context_processor(_template_globals)
    app.add_template_filter(_mask, "mask")
    app.add_template_filter(format_date, "format_date")
    # Staff pages only (a removal deadline in hours); a survivor's pages show dates, never times.
    app.add_template_filter(format_datetime, "format_datetime")
    app.add_template_filter(format_number, "format_number")
    app.add_template_filter(texts.country_name, "country_name")
    app.add_template_filter(texts.language_name, "language_name")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        return _error_page(error)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Any:
        return render_template("error.html", code=400, csrf=True), 400

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
