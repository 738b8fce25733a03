"""The Removal Request Assistant: ``create_app()`` is the factory gunicorn and the tests use."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from flask import request
from flask import session
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import SUPPORTED_LANGUAGES
from .config import load_settings
from .config import supported_language
from .extensions import babel
from .extensions import csrf
from .extensions import current_services
from .extensions import db
from .extensions import limiter
from .key_rotation import check_keys_at_start
from .metrics import init_metrics
from .services import build_services
from .web import register_web
from .web.bounded_body import BoundedBody
from .web.session_interface import ServerSessionInterface
from .web.translated_templates import TranslatedEnvironment

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def select_locale() -> str:
    """``?lang=``, then the language chosen earlier in this session, then the browser's."""
    asked = supported_language(request.args.get("lang"))
    if asked:
        return asked
    chosen = session.get("lang") if session else None
    if chosen in SUPPORTED_LANGUAGES:
        return str(chosen)
    for tag, _quality in request.accept_languages:
        offered = supported_language(tag)
        if offered:
            return offered
    return current_services().settings.default_language


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` overrides settings by field name (used by tests)."""
    overrides = dict(config or {})
    instance_path = str(overrides.pop("instance_path", "") or PROJECT_ROOT / "instance")
    app = Flask(
        __name__,
        instance_path=instance_path,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.jinja_environment = TranslatedEnvironment
    settings = load_settings(os.environ, instance_path, overrides)
    built = build_services(settings)
    app.extensions["assistant.services"] = built

    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=False,
        BABEL_TRANSLATION_DIRECTORIES=str(PROJECT_ROOT / "translations"),
        BABEL_DEFAULT_LOCALE="en",
        TEMPLATES_AUTO_RELOAD=not settings.is_production,
        RATELIMIT_ENABLED=settings.ratelimit_enabled,
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_url,
        RATELIMIT_HEADERS_ENABLED=True,
    )
    # A chunked body is held to MAX_CONTENT_LENGTH too (413, as for one with a length).
    app.wsgi_app = BoundedBody(app.wsgi_app, settings.max_body_bytes)  # type: ignore[method-assign]
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )
    # Flask-Limiter logs breaches with the client key; nothing about a client goes to the logs.
    logging.getLogger("flask-limiter").setLevel(logging.CRITICAL)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    app.session_interface = ServerSessionInterface(built)
    db.init_app(app, settings.database_url)
    # Refuses to start while stored values need a key the settings no longer hold.
    check_keys_at_start(db.engine(app), built)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)

    register_web(app)
    init_metrics(app)
    return app
