"""The installable shell: the web app manifest, its icon, the service worker and the offline page.

The worker keeps only the static shell (style sheet, script, icons, offline page) and passes every
other request to the network untouched, so no case page or API answer is ever stored on the device.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import render_template
from flask import send_file
from flask import url_for
from werkzeug.wrappers import Response as BaseResponse

from ..config import RTL_LANGUAGES
from ..config import Settings
from ..config import language_tag
from ..config import png_size
from ..extensions import current_services
from .access import public
from .texts import current_language

bp = Blueprint("pwa", __name__)

SHIPPED_ICONS = {192: "icons/icon-192.png", 512: "icons/icon-512.png"}
THEME_COLOUR = "#2d4f8b"
BACKGROUND_COLOUR = "#ffffff"
# Paths the worker must never answer for, not even when offline: leaving the site must always
# reach the server, which clears the sign-in and the browser's data for this site.
NEVER_FROM_WORKER = ("/exit",)


@dataclass(frozen=True)
class Icon:
    size: int
    path: Path


def icons(settings: Settings) -> tuple[Icon, ...]:
    """The configured icon (one square PNG), or the shipped pair."""
    return _icons(settings.app_icon, current_app.static_folder or "")


@cache
def _icons(app_icon: str, static_folder: str) -> tuple[Icon, ...]:
    # Found once a process, not for every page (each names its icon): a configured icon's size
    # is read from its file, which the settings checked when the app started.
    if app_icon:
        found = png_size(app_icon)
        assert found is not None  # checked when the settings were validated
        return (Icon(found[0], Path(app_icon)),)
    static = Path(static_folder)
    return tuple(Icon(size, static / name) for size, name in SHIPPED_ICONS.items())


def offline_path() -> str:
    """The offline page in the reader's language (the worker fetches it without cookies)."""
    return url_for("pwa.offline", lang=language_tag(current_language()))


def shell_paths() -> list[str]:
    """What the worker keeps: everything a page needs to look right, and the offline page."""
    settings = current_services().settings
    return [
        url_for("static", filename="app.css"),
        url_for("static", filename="app.js"),
        *(url_for("pwa.icon", size=icon.size) for icon in icons(settings)),
        offline_path(),
    ]


@cache
def _digest(paths: tuple[Path, ...]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def shell_version() -> str:
    """Changes whenever a file of the shell changes (its words included), so that a new
    deployment replaces the old copy."""
    settings = current_services().settings
    static = Path(current_app.static_folder or "")
    templates = Path(current_app.template_folder or "")
    catalogues = sorted((templates.parent / "translations").glob("*/LC_MESSAGES/messages.mo"))
    files = (
        static / "app.css",
        static / "app.js",
        templates / "base.html",
        templates / "pwa" / "offline.html",
        *catalogues,
        *(icon.path for icon in icons(settings)),
    )
    return _digest(files)


@bp.app_context_processor
def _icon_for_pages() -> dict[str, object]:
    return {
        "page_icon_size": icons(current_services().settings)[0].size,
        "theme_colour": THEME_COLOUR,
    }


@bp.get("/manifest.webmanifest")
@public
def manifest() -> Response:
    """A neutral name and icon; opens at the landing page; nothing that names the service's aim."""
    settings = current_services().settings
    language = current_language()
    body = {
        "id": "/",
        "name": settings.site_name,
        "short_name": settings.site_name,
        "lang": language_tag(language),
        "dir": "rtl" if language in RTL_LANGUAGES else "ltr",
        "start_url": url_for("public.landing"),
        "scope": "/",
        "display": "standalone",
        "background_color": BACKGROUND_COLOUR,
        "theme_color": THEME_COLOUR,
        "icons": [
            {
                "src": url_for("pwa.icon", size=icon.size),
                "sizes": f"{icon.size}x{icon.size}",
                "type": "image/png",
                "purpose": "any",
            }
            for icon in icons(settings)
        ],
    }
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")


@bp.get("/app-icon-<int:size>.png")
@public
def icon(size: int) -> BaseResponse:
    for candidate in icons(current_services().settings):
        if candidate.size == size:
            return send_file(candidate.path, mimetype="image/png", max_age=86400)
    abort(404)


@bp.get("/service-worker.js")
@public
def service_worker() -> Response:
    """Served from the root so that it may look after every page of the site."""
    script = render_template(
        "pwa/service-worker.js",
        cache_name=f"shell-{shell_version()}",
        shell=shell_paths(),
        offline=offline_path(),
        never=list(NEVER_FROM_WORKER),
    )
    response = Response(script, mimetype="text/javascript")
    # The browser must always ask for the newest worker; the rest of the headers are the site's.
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/offline")
@public
def offline() -> str:
    """Shown by the worker when a page cannot be reached. It holds nothing about anyone."""
    return render_template("pwa/offline.html")
