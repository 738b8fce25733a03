"""The hotline portal (``/hotline``): the queue, a referral in full, actions, what is due today,
provider responsiveness, and the export.

Only staff of the referral's hotline reach a referral; anyone else gets the same 404 as for a
referral that does not exist. Every page that shows a referral's content writes an audit event.
Actions go through :mod:`assistant.hotline.referrals`; a refused one changes nothing and says why.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm

from ..extensions import current_services
from ..extensions import db
from ..hotline import referrals
from ..hotline import reports
from ..hotline.referrals import ActionRefused
from ..hotline.referrals import Staff
from ..models import Referral
from ..models import today
from ..vocabulary import Assessment
from .access import staff_required
from .provider_chart import responsiveness_chart
from .staff_forms import AssessForm
from .staff_forms import CloseForm
from .staff_forms import NoteForm
from .staff_forms import NoticeForm
from .staff_forms import RerouteForm
from .staff_forms import ResponseForm
from .staff_forms import StaffMessageForm
from .staff_texts import ACTION_REFUSALS
from .staff_texts import NOTICE_TYPE_LABELS
from .texts import refusal_text

bp = Blueprint("hotline", __name__, url_prefix="/hotline")


def _staff() -> Staff:
    return Staff.of(g.account)


def _referral_or_404(referral_id: int) -> Referral:
    referral = referrals.referral_for_staff(db.session, _staff(), referral_id)
    if referral is None:
        abort(404)
    return referral


def _reroute_form(referral: Referral) -> RerouteForm:
    form = RerouteForm(prefix="reroute")
    targets = referrals.reroute_targets(current_services().directory, referral)
    form.hotline.choices = [(h.id, h.name) for h in targets]
    return form


def _render_referral(
    referral: Referral,
    *,
    error: str | None = None,
    status: int = 200,
    posted: tuple[str, FlaskForm] | None = None,
    anchor: str = "",
) -> Any:
    detail = reports.referral_detail(db.session, current_services(), referral)
    referrals.record_view(db.session, _staff(), referral)
    actions = referrals.allowed_actions(referral, referral.hotline_id)
    on = today()
    forms: dict[str, Any] = {}
    for location in detail.locations:
        prefix = f"l{location.id}"
        allowed_notice = actions.places[location.id].notice
        forms[f"assess-{location.id}"] = AssessForm(
            prefix=f"{prefix}a",
            formdata=None,
            data={
                "assessment": location.assessment or detail.notice_type or Assessment.CSAM,
                "subtype": location.assessment_subtype or "",
                "hosting_country": location.hosting_country or "",
            },
        )
        notice_form = NoticeForm(
            prefix=f"{prefix}n",
            formdata=None,
            data={
                "notice_type": allowed_notice,
                # Another notice goes where the last one went; a first one to the site's host.
                "provider": location.notices[-1].provider if location.notices else location.host,
                "sent_on": on,
            },
        )
        if allowed_notice is not None:  # the only type the assessment allows
            notice_form.notice_type.choices = [
                (allowed_notice.value, NOTICE_TYPE_LABELS[allowed_notice])
            ]
        forms[f"notice-{location.id}"] = notice_form
        for notice in location.notices:
            forms[f"response-{notice.id}"] = ResponseForm(
                prefix=f"n{notice.id}", formdata=None, data={"response_on": on}
            )
    if posted is not None:  # a refused form shows what was chosen, not the stored answer
        forms[posted[0]] = posted[1]
    return render_template(
        "hotline/referral.html",
        error_anchor=anchor,
        detail=detail,
        referral=referral,
        forms=forms,
        actions=actions,
        reroute_form=_reroute_form(referral),
        close_form=CloseForm(prefix="close"),
        message_form=StaffMessageForm(prefix="message"),
        note_form=NoteForm(prefix="note"),
        error=error,
    ), status


def _act(
    referral_id: int,
    action: Callable[[Referral], str],
    anchor: str = "",
    posted: tuple[str, FlaskForm] | None = None,
) -> Any:
    """Run one action; on success back to the referral with a note, else the page says why,
    with a way to the form (``anchor``) still showing what was chosen (``posted``: the form and
    its key on the page)."""
    referral = _referral_or_404(referral_id)
    try:
        done = action(referral)
    except ActionRefused as refused:
        db.session.rollback()
        return _render_referral(
            referral,
            error=refusal_text(ACTION_REFUSALS, refused.code, refused.params),
            status=409,
            posted=posted,
            anchor=anchor,
        )
    flash(done)
    return redirect(url_for(".referral", referral_id=referral_id, _anchor=anchor or None), 303)


@bp.get("/")
@staff_required
def queue() -> str:
    """This hotline's referrals, unacknowledged first. ``?status=`` filters."""
    chosen = reports.queue_filter(request.args.get("status"))
    rows = reports.queue(db.session, _staff().hotline_id, chosen)
    return render_template(
        "hotline/queue.html", rows=rows, chosen=chosen, filters=reports.QUEUE_FILTERS
    )


@bp.get("/due")
@staff_required
def due() -> str:
    """Notices to send again (24 hours without removal) and referrals waiting two days."""
    return render_template(
        "hotline/due.html", items=reports.due_today(db.session, _staff().hotline_id)
    )


@bp.get("/providers")
@staff_required
def providers() -> str:
    """Per provider: notices, removals, median days to removal, share without response."""
    records = reports.provider_responsiveness(db.session, _staff().hotline_id)
    return render_template(
        "hotline/providers.html", records=records, chart=responsiveness_chart(records)
    )


@bp.get("/referrals/<int:referral_id>")
@staff_required
def referral(referral_id: int) -> Any:
    """The referral in full: every place decrypted, answers, reasons, timeline, messages.
    Audited."""
    return _render_referral(_referral_or_404(referral_id))


@bp.get("/referrals/<int:referral_id>/export.json")
@staff_required
def export(referral_id: int) -> Response:
    """The referral as JSON for the hotline's own case system. Audited."""
    found = _referral_or_404(referral_id)
    payload = reports.export_referral(db.session, current_services(), found)
    referrals.record_view(db.session, _staff(), found, "referral.exported")
    response = Response(
        json.dumps(payload, ensure_ascii=False, indent=2), mimetype="application/json"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{payload["reporting_reference"]}.json"'
    )
    return response


@bp.post("/referrals/<int:referral_id>/acknowledge")
@staff_required
def acknowledge(referral_id: int) -> Any:
    def run(found: Referral) -> str:
        count = referrals.acknowledge(db.session, _staff(), found)
        return ngettext("Acknowledged %(num)d place.", "Acknowledged %(num)d places.", count)

    return _act(referral_id, run)


@bp.post("/referrals/<int:referral_id>/locations/<int:location_id>/assess")
@staff_required
def assess(referral_id: int, location_id: int) -> Any:
    form = AssessForm(prefix=f"l{location_id}a")

    def run(found: Referral) -> str:
        if not form.validate():
            raise ActionRefused("bad_assessment")
        referrals.assess(
            db.session,
            _staff(),
            found,
            location_id,
            form.assessment.data or "",
            form.subtype.data or None,
            form.hosting_country.data or None,
        )
        return _("Assessment recorded.")

    return _act(referral_id, run, f"place-{location_id}", (f"assess-{location_id}", form))


@bp.post("/referrals/<int:referral_id>/locations/<int:location_id>/notice")
@staff_required
def notice(referral_id: int, location_id: int) -> Any:
    form = NoticeForm(prefix=f"l{location_id}n")

    def run(found: Referral) -> str:
        if not form.validate() or form.sent_on.data is None:
            raise ActionRefused("provider_required" if not form.provider.data else "bad_date")
        escalation = form.escalation.data == "1"
        referrals.record_notice(
            db.session,
            current_services(),
            _staff(),
            found,
            location_id,
            notice_type=form.notice_type.data or "",
            provider=form.provider.data or "",
            sent_on=form.sent_on.data,
            reference=form.reference.data,
            escalation=escalation,
        )
        return _("Escalation recorded.") if escalation else _("Notice recorded.")

    return _act(referral_id, run, f"place-{location_id}", (f"notice-{location_id}", form))


@bp.post("/referrals/<int:referral_id>/notices/<int:notice_id>/response")
@staff_required
def response(referral_id: int, notice_id: int) -> Any:
    form = ResponseForm(prefix=f"n{notice_id}")

    def run(found: Referral) -> str:
        if not form.validate() or form.response_on.data is None:
            raise ActionRefused("bad_response" if not form.response.data else "bad_date")
        referrals.record_response(
            db.session, _staff(), found, notice_id, form.response.data or "", form.response_on.data
        )
        return _("Response recorded.")

    return _act(referral_id, run)


@bp.post("/referrals/<int:referral_id>/reroute")
@staff_required
def reroute(referral_id: int) -> Any:
    def run(found: Referral) -> str:
        form = _reroute_form(found)
        if not form.validate():
            raise ActionRefused("unknown_hotline")
        referrals.reroute(
            db.session,
            current_services(),
            _staff(),
            found,
            form.hotline.data or "",
            form.reason.data or "",
        )
        return _("The referral was moved. The survivor sees that it was passed on.")

    return _act(referral_id, run)


@bp.post("/referrals/<int:referral_id>/close")
@staff_required
def close(referral_id: int) -> Any:
    form = CloseForm(prefix="close")

    def run(found: Referral) -> str:
        if not form.validate():
            raise ActionRefused("bad_reason")
        referrals.close(db.session, _staff(), found, form.reason.data or "")
        return _("The referral was closed.")

    return _act(referral_id, run)


@bp.post("/referrals/<int:referral_id>/message")
@staff_required
def message(referral_id: int) -> Any:
    form = StaffMessageForm(prefix="message")

    def run(found: Referral) -> str:
        referrals.message_survivor(
            db.session, current_services(), _staff(), found, form.body.data or ""
        )
        return _("Your message was sent. The survivor sees it on their status page.")

    return _act(referral_id, run, "messages")


@bp.post("/referrals/<int:referral_id>/note")
@staff_required
def note(referral_id: int) -> Any:
    form = NoteForm(prefix="note")

    def run(found: Referral) -> str:
        referrals.add_internal_note(
            db.session, current_services(), _staff(), found, form.body.data or ""
        )
        return _("Note added.")

    return _act(referral_id, run, "notes")
