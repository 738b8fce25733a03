"""Administrators' pages (``/admin``): accounts, deliveries that failed, and the audit log.

Administrators manage the service; they do not read referrals. Nothing here decrypts anything.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from .. import audit, delivery
from ..extensions import db
from ..models import Account, AuditEvent
from .access import admin_required

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PAGE = 200


@bp.get("/")
@admin_required
def index() -> str:
    """Accounts and dead letters (deliveries that failed for 24 hours)."""
    accounts = db.session.scalars(select(Account).order_by(Account.role, Account.email)).all()
    return render_template("admin/index.html", accounts=accounts,
                           dead=delivery.dead_letters(db.session))


@bp.post("/outbox/<int:item_id>/retry")
@admin_required
def retry(item_id: int) -> BaseResponse:
    """Put a dead letter back in the outbox; the next delivery pass sends it."""
    if not delivery.retry_dead_letter(db.session, item_id,
                                      actor=audit.account_actor(g.account)):
        abort(404)
    flash(_("The delivery will be tried again on the next pass."))
    return redirect(url_for(".index"), 303)


@bp.get("/audit")
@admin_required
def audit_log() -> str:
    """The latest audit events: who, what, which object, when. Never content."""
    events = db.session.scalars(
        select(AuditEvent).order_by(AuditEvent.id.desc()).limit(AUDIT_PAGE)
    ).all()
    return render_template("admin/audit.html", events=events)
