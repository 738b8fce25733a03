"""Administrators' pages (``/admin``): advocates' registrations, accounts, a hotline's first
administrator, deliveries that failed, and the audit log.

Administrators manage the service; they do not read referrals, and they create no hotline's
staff: only a hotline's first administrator, who invites the rest (assistant.people.team). The
only thing decrypted here is an advocate's registration (name, organisation, role, reason), which
an administrator must read to approve it.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint
from flask import abort
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from ..extensions import current_services
from ..extensions import db
from ..hotline import delivery
from ..people import advocates
from ..people import audit
from ..people import team
from ..people.accounts import AccountRefused
from ..people.accounts import enrolment_link
from ..people.accounts import list_accounts
from ..people.advocates import AdvocateAction
from . import texts
from .access import admin_required
from .advocate_texts import REFUSALS
from .staff_texts import TEAM_REFUSALS
from .team_forms import FirstHotlineAdminForm
from .texts import refusal_text

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Each action on an advocate's account, the view that does it, and how its button looks; in the
# order the buttons appear. The page offers only what advocates.admin_actions allows.
ADVOCATE_BUTTONS = (
    (AdvocateAction.APPROVE, "admin.approve_advocate", "primary"),
    (AdvocateAction.RENEW_LINK, "admin.approve_advocate", "primary"),
    (AdvocateAction.DECLINE, "admin.decline_advocate", ""),
    (AdvocateAction.SUSPEND, "admin.suspend_advocate", "danger"),
    (AdvocateAction.REINSTATE, "admin.reinstate_advocate", ""),
)

AUDIT_PAGE = 200


def _index_page(
    form: FirstHotlineAdminForm | None = None, error: str | None = None, status: int = 200
) -> tuple[str, int]:
    services = current_services()
    return render_template(
        "admin/index.html",
        buttons=ADVOCATE_BUTTONS,
        accounts=list_accounts(db.session),
        dead=delivery.dead_letters(db.session),
        advocates=advocates.list_advocates(db.session, services.cipher),
        first_admin_form=(form or FirstHotlineAdminForm(formdata=None)).offer(services.directory),
        first_admin_error=error,
    ), status


@bp.get("/")
@admin_required
def index() -> tuple[str, int]:
    """Accounts, dead letters (deliveries that failed for 24 hours), advocates, and the form for
    a hotline's first administrator."""
    return _index_page()


@bp.post("/hotline-administrators")
@admin_required
def create_hotline_admin() -> tuple[str, int]:
    """Create a hotline's first administrator: the hotline (chosen from the directory, none
    preselected) and their e-mail address. Answers with their one-time set-up link, shown once.
    Refused while the hotline has an administrator active or setting up: from then on the
    hotline invites its own people."""
    services = current_services()
    form = FirstHotlineAdminForm().offer(services.directory)
    if not form.validate_on_submit():
        return _index_page(form, status=400)
    try:
        created = team.create_first_hotline_admin(
            db.session,
            services,
            form.email.data or "",
            form.hotline.data or "",
            actor=audit.account_actor(g.account),
        )
    except AccountRefused as refused:
        return _index_page(form, refusal_text(TEAM_REFUSALS, refused.code, refused.params), 400)
    link = enrolment_link(services.settings.public_url, created.enrolment_code)
    return render_template(
        "admin/hotline_admin_created.html",
        email=created.account.email,
        hotline=texts.hotline_name(services.directory, created.account.hotline_id),
        link=link,
    ), 200


def _advocate_action(done: str, action: Callable[[], object]) -> BaseResponse:
    try:
        action()
    except AccountRefused as refused:
        db.session.rollback()
        flash(refusal_text(REFUSALS, refused.code, refused.params))
    else:
        flash(done)
    # The page's top, where the message saying what happened is.
    return redirect(url_for(".index"), 303)


@bp.post("/advocates/<int:account_id>/approve")
@admin_required
def approve_advocate(account_id: int) -> str | BaseResponse:
    """Approve a registration (or renew a set-up link); the link is shown once, here."""
    try:
        account, code = advocates.approve_advocate(
            db.session, account_id=account_id, actor=audit.account_actor(g.account)
        )
    except AccountRefused as refused:
        flash(refusal_text(REFUSALS, refused.code, refused.params))
        return redirect(url_for(".index"), 303)
    link = enrolment_link(current_services().settings.public_url, code)
    return render_template("admin/approved.html", email=account.email, link=link)


@bp.post("/advocates/<int:account_id>/decline")
@admin_required
def decline_advocate(account_id: int) -> BaseResponse:
    """Turn a registration down; it is deleted."""
    return _advocate_action(
        _("The registration was declined and deleted."),
        lambda: advocates.decline_advocate(
            db.session, account_id, actor=audit.account_actor(g.account)
        ),
    )


@bp.post("/advocates/<int:account_id>/suspend")
@admin_required
def suspend_advocate(account_id: int) -> BaseResponse:
    """Suspend an advocate: their sessions end and no case opens for them, at once."""
    return _advocate_action(
        _("The advocate is suspended and signed out everywhere."),
        lambda: advocates.suspend_advocate(
            db.session, account_id=account_id, actor=audit.account_actor(g.account)
        ),
    )


@bp.post("/advocates/<int:account_id>/reinstate")
@admin_required
def reinstate_advocate(account_id: int) -> BaseResponse:
    """Let a suspended advocate sign in again."""
    return _advocate_action(
        _("The advocate can sign in again."),
        lambda: advocates.reinstate_advocate(
            db.session, account_id, actor=audit.account_actor(g.account)
        ),
    )


@bp.post("/outbox/<int:item_id>/retry")
@admin_required
def retry(item_id: int) -> BaseResponse:
    """Put a dead letter back in the outbox; the next delivery pass sends it."""
    if not delivery.retry_dead_letter(db.session, item_id, actor=audit.account_actor(g.account)):
        abort(404)
    flash(_("The delivery will be tried again on the next pass."))
    return redirect(url_for(".index"), 303)


@bp.get("/audit")
@admin_required
def audit_log() -> str:
    """The latest audit events: who, what, which object, when. Never content."""
    events = audit.latest(db.session, AUDIT_PAGE)
    return render_template("admin/audit.html", events=events)
