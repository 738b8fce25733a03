"""The hotline's Team pages (``/hotline/team``), for its administrators only: the hotline's
accounts (new ones marked), inviting a colleague, disabling an account, resetting an
authenticator; the hotline's settings (the chase's pace and reminders, the reply address); and
the API keys of its own case system (made, rotated, revoked; each new one shown once).

Everything goes through :mod:`assistant.people.team`, on the administrator's own hotline: an
account of another hotline is the same 404 as an id no account has. Disabling and resetting ask
for confirmation on a page of their own that says what will happen; a one-time set-up link is
shown once, on the page that answers the action (and, like every page here, is never cached).
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint
from flask import abort
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from ..extensions import current_services
from ..extensions import db
from ..hotline import api_keys
from ..hotline.api_keys import KeyRefused
from ..hotline.notice_mail import chase_settings
from ..hotline.notices import save_chase_settings
from ..hotline.referrals import ActionRefused
from ..models import ApiKey
from ..models import utcnow
from ..people import audit
from ..people import team
from ..people.accounts import AccountRefused
from ..people.accounts import NewAccount
from ..people.accounts import enrolment_link
from ..people.team import TeamAction
from ..people.team import TeamAdmin
from ..people.team import TeamMember
from .access import hotline_admin_required
from .staff_texts import KEY_REFUSALS
from .staff_texts import SETTINGS_REFUSALS
from .staff_texts import TEAM_REFUSALS
from .team_forms import InviteForm
from .team_forms import KeyForm
from .team_forms import RotateForm
from .team_forms import SettingsForm
from .texts import refusal_text

bp = Blueprint("team", __name__, url_prefix="/hotline/team")


def _admin() -> TeamAdmin:
    return TeamAdmin.of(g.account)


def _not_found_or(refused: AccountRefused) -> str:
    """An account of another hotline is a 404, like an unknown id; any other refusal in words."""
    if refused.code == "unknown_account":
        abort(404)
    return refusal_text(TEAM_REFUSALS, refused.code, refused.params)


def _member_or_404(account_id: int) -> TeamMember:
    try:
        return team.member_of_team(db.session, _admin(), account_id)
    except AccountRefused:
        abort(404)


def _back_to_team(message: str) -> BaseResponse:
    flash(message)
    return redirect(url_for(".index"), 303)


def _link_page(created: NewAccount, reason: str) -> str:
    link = enrolment_link(current_services().settings.public_url, created.enrolment_code)
    return render_template(
        "hotline/team/link.html", email=created.account.email, link=link, reason=reason
    )


def _not_offered() -> BaseResponse:
    return _back_to_team(_("That is not possible for this account now."))


@bp.get("/")
@hotline_admin_required
def index() -> str:
    """Every account of the hotline, newest first, with who created it; accounts created in the
    last 14 days are marked new. Audited."""
    members = team.list_team(db.session, _admin())
    return render_template(
        "hotline/team/index.html",
        members=members,
        new_count=sum(1 for member in members if member.is_new),
    )


@bp.route("/invite", methods=["GET", "POST"])
@hotline_admin_required
def invite() -> str | tuple[str, int]:
    """Invite a colleague: their e-mail address and what they will do (nothing preselected).
    Answers with their one-time set-up link, shown once; refuses an address that already has
    an account."""
    form = InviteForm()
    error = None
    if form.validate_on_submit():
        try:
            created = team.invite_member(
                db.session, current_services(), _admin(), form.email.data or "", form.role.data
            )
        except AccountRefused as refused:
            error = _not_found_or(refused)
        else:
            return _link_page(created, "invited")
    status = 400 if request.method == "POST" else 200
    return render_template("hotline/team/invite.html", form=form, error=error), status


@bp.route("/<int:account_id>/disable", methods=["GET", "POST"])
@hotline_admin_required
def disable(account_id: int) -> str | BaseResponse:
    """GET: the confirmation step, saying what disabling this account does. POST: disable it;
    its sessions end now. Refuses the hotline's last active administrator."""
    if request.method == "GET":
        member = _member_or_404(account_id)
        if TeamAction.DISABLE not in member.actions:
            return _not_offered()
        return render_template("hotline/team/confirm_disable.html", member=member)
    try:
        account = team.disable_member(db.session, _admin(), account_id)
    except AccountRefused as refused:
        return _back_to_team(_not_found_or(refused))
    if account.id == g.account.id:
        # You left the team: this session ended with the others (its row is gone).
        session.clear()
        session.renew()  # type: ignore[attr-defined]
        flash(_("Your account is disabled. You are signed out."))
        return redirect(url_for("account.sign_in"), 303)
    return _back_to_team(_("%(email)s is disabled and signed out everywhere.", email=account.email))


@bp.route("/<int:account_id>/reset", methods=["GET", "POST"])
@hotline_admin_required
def reset(account_id: int) -> str | BaseResponse:
    """GET: the confirmation step, saying what resetting this account's authenticator does (or,
    for an account still setting up, what a new link does). POST: reset it; the account enrols
    again with the one-time link shown in the answer, once. Refuses a disabled account and your
    own."""
    if request.method == "GET":
        member = _member_or_404(account_id)
        if not {TeamAction.RESET_TOTP, TeamAction.NEW_LINK} & member.actions:
            return _not_offered()
        return render_template("hotline/team/confirm_reset.html", member=member)
    try:
        created = team.reset_member_totp(db.session, _admin(), account_id)
    except AccountRefused as refused:
        return _back_to_team(_not_found_or(refused))
    return _link_page(created, "reset")


@bp.route("/settings", methods=["GET", "POST"])
@hotline_admin_required
def settings() -> str | tuple[str, int] | BaseResponse:
    """The hotline's settings: the chase's pace and reminders, and the address providers reply
    to. Audited."""
    hotline_id = _admin().hotline_id
    current = chase_settings(db.session, hotline_id)
    if request.method == "GET":
        form = SettingsForm(
            formdata=None,
            data={
                "chase_hours": current.chase_hours,
                "reminder_limit": current.reminder_limit,
                "contact_email": current.contact_email or "",
            },
        )
        return render_template("hotline/team/settings.html", form=form, error=None)
    form = SettingsForm()
    form.validate()
    try:
        save_chase_settings(
            db.session,
            hotline_id,
            audit.account_actor(g.account),
            chase_hours=form.chase_hours.data,
            reminder_limit=form.reminder_limit.data,
            contact_email=form.contact_email.data,
        )
    except ActionRefused as refused:
        db.session.rollback()
        error = refusal_text(SETTINGS_REFUSALS, refused.code, refused.params)
        return render_template("hotline/team/settings.html", form=form, error=error), 400
    flash(_("The settings are saved. The chase uses them from its next pass."))
    return redirect(url_for(".settings"), 303)


# --- API keys for the hotline's own case system ---


def _key_or_404(key_id: int) -> ApiKey:
    try:
        return api_keys.key_of(db.session, _admin().hotline_id, key_id)
    except KeyRefused:
        abort(404)


def _key_refusal(refused: KeyRefused) -> str:
    if refused.code == "unknown_key":
        abort(404)
    return refusal_text(KEY_REFUSALS, refused.code, refused.params)


def _render_keys(form: KeyForm, error: str | None = None, status: int = 200) -> tuple[str, int]:
    hotline_id = _admin().hotline_id
    keys = api_keys.keys_of(db.session, hotline_id)
    now = utcnow()
    audit.record(db.session, audit.account_actor(g.account), "api_keys.listed", "hotline", None)
    db.session.commit()
    return render_template(
        "hotline/team/keys.html",
        keys=keys,
        live={key.id: api_keys.is_live(key, now) for key in keys},
        new={key.id: api_keys.is_new(key, now) for key in keys},
        makers=api_keys.creators(db.session, keys),
        form=form,
        error=error,
        api_address=current_services().settings.public_url.rstrip("/") + "/api/v1/hotline/",
    ), status


@bp.route("/keys", methods=["GET", "POST"])
@hotline_admin_required
def keys() -> tuple[str, int]:
    """The hotline's API keys (every administrator sees every key, who made it, what it may do
    and the day it was last used), and making a new one, shown once. Audited."""
    if request.method == "GET":
        return _render_keys(KeyForm(formdata=None))
    form = KeyForm()
    form.validate()
    try:
        made = api_keys.create_key(
            db.session,
            current_services().directory,
            _admin().hotline_id,
            form.name.data,
            form.scopes.data or [],
            by=g.account,
        )
    except KeyRefused as refused:
        db.session.rollback()
        return _render_keys(form, _key_refusal(refused), 400)
    return render_template("hotline/team/key_made.html", key=made.key, raw=made.raw), 200


@bp.route("/keys/<int:key_id>/rotate", methods=["GET", "POST"])
@hotline_admin_required
def rotate_key(key_id: int) -> str | tuple[str, int] | BaseResponse:
    """GET: what rotating does, and for how long the old key keeps working. POST: the new key,
    shown once."""
    key = _key_or_404(key_id)
    if request.method == "GET":
        return render_template("hotline/team/confirm_key.html", key=key, form=RotateForm())
    form = RotateForm()
    try:
        if not form.validate() or not isinstance(form.overlap_hours.data, int):
            raise KeyRefused("bad_overlap")
        made = api_keys.rotate_key(
            db.session,
            _admin().hotline_id,
            key_id,
            by=g.account,
            overlap=dt.timedelta(hours=form.overlap_hours.data),
        )
    except KeyRefused as refused:
        db.session.rollback()
        error = _key_refusal(refused)
        return render_template(
            "hotline/team/confirm_key.html", key=key, form=form, error=error
        ), 400
    return render_template(
        "hotline/team/key_made.html", key=made.key, raw=made.raw, replaced=key
    ), 200


@bp.route("/keys/<int:key_id>/revoke", methods=["GET", "POST"])
@hotline_admin_required
def revoke_key(key_id: int) -> str | BaseResponse:
    """GET: what revoking does. POST: the key stops working now."""
    key = _key_or_404(key_id)
    if request.method == "GET":
        return render_template("hotline/team/confirm_key.html", key=key, revoke=True)
    try:
        api_keys.revoke_key(db.session, _admin().hotline_id, key_id, by=g.account)
    except KeyRefused as refused:
        db.session.rollback()
        flash(_key_refusal(refused))
        return redirect(url_for(".keys"), 303)
    flash(_("The key “%(name)s” is revoked: it stops working now.", name=key.name))
    return redirect(url_for(".keys"), 303)
