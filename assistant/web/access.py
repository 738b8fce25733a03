"""Deny by default: every view declares who may call it, or nobody can.

``public`` marks a view anyone may reach on purpose; ``case_required`` (web) and
``token_required`` (API) mark views for a signed-in survivor; ``staff_required``,
``advocate_required`` and ``admin_required`` mark views for a signed-in account of that role.
A route without a declaration is refused before its view runs, so a forgotten decorator fails
closed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from typing import TypeVar

from flask import abort
from flask import current_app
from flask import g
from flask import redirect
from flask import request
from flask import session
from flask import url_for

from ..extensions import db
from ..models import Account
from ..people.accounts import may_sign_in
from ..vocabulary import Role

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"
SURVIVOR = "survivor"
STAFF = "staff"
ADMIN = "admin"
ADVOCATE = "advocate"
ACCOUNT = "account"  # any signed-in account: staff, advocate or administrator
HOTLINE_ADMIN = "hotline_admin"  # a hotline administrator, on their own hotline
HOTLINE_SYSTEM = "hotline_system"  # a hotline's own case system, with its API key
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


def signed_in_account() -> Account | None:
    """The active account signed in with this session, if any."""
    account_id = session.get("account_id")
    if not isinstance(account_id, int):
        return None
    account = db.session.get(Account, account_id)
    if account is None or not may_sign_in(account):
        return None
    return account


def _role_required(level: str, *roles: Role) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            account = signed_in_account()
            if account is None:
                if "account_id" in session:
                    session.clear()
                return redirect(url_for("account.sign_in"), 303)
            if account.role not in roles:
                abort(403)
            g.account = account
            return view(*args, **kwargs)

        return declare(level)(wrapped)  # type: ignore[return-value]

    return decorate


# For hotline staff (the view then sees ``g.account``), advocates and administrators. An
# advocate reaches a case only through assistant.cases.access, checked again in each view.
staff_required = _role_required(STAFF, Role.STAFF, Role.HOTLINE_ADMIN)
advocate_required = _role_required(ADVOCATE, Role.ADVOCATE)
admin_required = _role_required(ADMIN, Role.ADMIN)
# A hotline's own administrators (its Team pages); hotline staff and service administrators
# are refused.
hotline_admin_required = _role_required(HOTLINE_ADMIN, Role.HOTLINE_ADMIN)
account_required = _role_required(ACCOUNT, *Role)
