"""Sign-in, enrolment and password change for staff and administrators (``/account``).

Enrolment links carry their code in the query string, which no access log here records; the page
posts it back in a hidden field. The TOTP secret chosen for an enrolment waits in the server-side
session (sealed) until the first code confirms it.
"""

from __future__ import annotations

import segno
from flask import Blueprint
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from ..extensions import Database
from ..extensions import current_services
from ..extensions import db
from ..extensions import limiter
from ..extensions import receipt_limit
from ..people import accounts
from ..people.accounts import AccountLocked
from ..people.accounts import AccountRefused
from ..people.accounts import SignInFailed
from ..people.accounts import account_for_enrolment
from ..people.accounts import change_password
from ..people.accounts import complete_enrolment
from ..people.accounts import new_totp_secret
from ..people.accounts import totp_uri
from .access import account_required
from .access import public
from .access import signed_in_account
from .public import CLEAR_SITE_DATA
from .session_interface import start_signed_in_session
from .staff_forms import EnrolForm
from .staff_forms import PasswordForm
from .staff_forms import SignInForm
from .staff_texts import ACCOUNT_REFUSALS
from .texts import refusal_text

bp = Blueprint("account", __name__, url_prefix="/account")


def home_for(role: str) -> str:
    return {
        "admin": url_for("admin.index"),
        "advocate": url_for("advocate.dashboard"),
    }.get(role) or url_for("hotline.queue")


def qr_svg(text: str) -> Markup:
    """A QR code drawn by the app itself as inline SVG (no image service, no script)."""
    code = segno.make(text, error="m")
    svg = code.svg_inline(scale=4, border=4, dark="#000", light="#fff", omitsize=False)
    return Markup(svg)  # noqa: S704 (segno's own SVG markup from a URI we built)


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.shared_limit(receipt_limit, scope="account-sign-in", methods=["POST"])
@public
def sign_in() -> str | BaseResponse | tuple[str, int]:
    """E-mail, password and a TOTP code. One answer for any wrong part."""
    account = signed_in_account()
    if account is not None and request.method == "GET":
        return redirect(home_for(account.role), 303)
    form = SignInForm()
    error = None
    status = 200
    if form.validate_on_submit():
        services = current_services()
        try:
            account = accounts.sign_in(
                db.session,
                lambda: Database.new_session(current_app),
                services.passwords,
                services.cipher,
                form.email.data or "",
                form.password.data or "",
                form.code.data or "",
            )
        except (SignInFailed, AccountLocked):
            # A locked account gets the same answer as any failure: a different one would tell
            # a stranger that the address belongs to a staff member.
            error = _(
                "The e-mail address, password or code is not right, or there were too "
                "many tries. Check them and try again later."
            )
            status = 401
        else:
            start_signed_in_session(account_id=account.id)
            return redirect(home_for(account.role), 303)
    elif request.method == "POST":
        status = 400
    return render_template("account/sign_in.html", form=form, error=error), status


@bp.post("/sign-out")
@public
def sign_out() -> BaseResponse:
    """End this session, and ask the browser to forget this site's data (CSRF-checked, like
    every POST)."""
    session.clear()
    response = redirect(url_for(".sign_in"), 303)
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


@bp.route("/enrol", methods=["GET", "POST"])
@limiter.shared_limit(receipt_limit, scope="account-enrol", methods=["POST"])
@public
def enrol() -> str | BaseResponse | tuple[str, int]:
    """Set your own password and TOTP with the one-time code an administrator gave you."""
    form = EnrolForm()
    code = (form.code.data if request.method == "POST" else request.args.get("code")) or ""
    account = account_for_enrolment(db.session, code)
    if account is None:
        return render_template("account/enrol_invalid.html"), 404
    pending = session.get("enrolment")
    if not isinstance(pending, dict) or pending.get("account_id") != account.id:
        pending = {"account_id": account.id, "secret": new_totp_secret()}
        session["enrolment"] = pending
    secret = str(pending["secret"])
    error = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            services = current_services()
            try:
                complete_enrolment(
                    db.session,
                    services.passwords,
                    services.cipher,
                    account,
                    form.password.data or "",
                    secret,
                    form.totp.data or "",
                )
            except AccountRefused as refused:
                error = refusal_text(ACCOUNT_REFUSALS, refused.code, refused.params)
            else:
                session.pop("enrolment", None)
                flash(_("Your account is ready. Sign in with your password and a new code."))
                return redirect(url_for(".sign_in"), 303)
    form.code.data = code
    uri = totp_uri(secret, account.email, current_services().settings.site_name)
    return render_template(
        "account/enrol.html",
        form=form,
        error=error,
        account=account,
        secret=secret,
        qr=qr_svg(uri),
    ), status


@bp.route("/password", methods=["GET", "POST"])
@limiter.shared_limit(receipt_limit, scope="account-password", methods=["POST"])
@account_required
def password() -> str | BaseResponse | tuple[str, int]:
    """Change your password. Every session of the account ends, this one too."""
    form = PasswordForm()
    error = None
    if form.validate_on_submit():
        services = current_services()
        try:
            change_password(
                db.session,
                services.passwords,
                services.cipher,
                g.account,
                form.current.data or "",
                form.password.data or "",
                form.totp.data or "",
            )
        except AccountRefused as refused:
            error = refusal_text(ACCOUNT_REFUSALS, refused.code, refused.params)
        else:
            session.clear()
            session.renew()  # type: ignore[attr-defined]  # the old session row is gone
            flash(
                _(
                    "Your password was changed, and you were signed out everywhere. Sign in "
                    "with the new password."
                )
            )
            return redirect(url_for(".sign_in"), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("account/password.html", form=form, error=error), status
