"""Deny by default: every view declares who may call it, or nobody can.

``public`` marks a view anyone may reach on purpose; ``case_required`` (web) and
``token_required`` (API) mark views for a signed-in survivor. A route without a declaration is
refused before its view runs, so a forgotten decorator fails closed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, request

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"
SURVIVOR = "survivor"
ATTRIBUTE = "access_level"


def declare(level: str) -> Callable[[F], F]:
    def mark(view: F) -> F:
        setattr(view, ATTRIBUTE, level)
        return view

    return mark


public = declare(PUBLIC)


def access_level(view: Callable[..., Any] | None) -> str | None:
    return getattr(view, ATTRIBUTE, None)


def refuse_undeclared_routes() -> None:
    """Before every request: a view that declares no access level is not served."""
    if request.endpoint is None or request.endpoint == "static":
        return
    if access_level(current_app.view_functions.get(request.endpoint)) is None:
        current_app.logger.error("Refused %s: it declares no access level", request.endpoint)
        abort(403)
