"""The hotline portal (``/hotline``): the queue, a referral in full, actions, what is due, provider
responsiveness, the export and the help page.

Only staff of the referral's hotline reach a referral; anyone else gets the same 404 as for a
referral that does not exist. Every page that shows a referral's content writes an audit event.
Actions go through :mod:`assistant.hotline.referrals` with the referral's version the person saw; a
refused one changes nothing and says why (409), and a referral someone else changed meanwhile is
shown again with what changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit

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

from ..extensions import current_services
from ..extensions import db
from ..hotline import notices as notice_work
from ..hotline import referrals
from ..hotline import reports
from ..hotline.deadlines import Due
from ..hotline.notice_mail import notice_reference
from ..hotline.provider_figures import provider_figures
from ..hotline.referrals import ActionRefused
from ..hotline.referrals import BulkRefused
from ..hotline.referrals import ReferralChanged
from ..hotline.referrals import Staff
from ..models import Account
from ..models import Referral
from ..models import today
from ..models import utcnow
from ..vocabulary import FINISHED_STATUSES
from ..vocabulary import ChaseState
from .access import staff_required
from .provider_chart import responsiveness_chart
from .staff_forms import AssignForm
from .staff_forms import CloseForm
from .staff_forms import ComposeForm
from .staff_forms import NoteForm
from .staff_forms import PlacesForm
from .staff_forms import QueueActionForm
from .staff_forms import RerouteForm
from .staff_forms import StaffMessageForm
from .staff_forms import VersionForm
from .staff_texts import ACTION_REFUSALS
from .staff_texts import QUERY_NOTES
from .texts import refusal_text

bp = Blueprint("hotline", __name__, url_prefix="/hotline")
# A ticked referral in the queue: "<id>:<version>", ASCII digits only.
PICKED = re.compile(r"([0-9]{1,10}):([0-9]{1,10})")


def _staff() -> Staff:
    return Staff.of(g.account)


def _referral_or_404(referral_id: int) -> Referral:
    referral = referrals.referral_for_staff(db.session, _staff(), referral_id)
    if referral is None:
        abort(404)
    return referral


def _refusal(refused: ActionRefused) -> str:
    return refusal_text(ACTION_REFUSALS, refused.code, refused.params)


# --- the queue ---


def _render_queue(
    *,
    due_only: bool = False,
    errors: list[str] | None = None,
    status: int = 200,
    search: str = "",
) -> Any:
    staff = _staff()
    team = referrals.colleagues(db.session, staff)
    # A search comes only in a POST body: a pasted link never goes into an address, a history or
    # a log. It looks through every referral of the hotline, closed ones too.
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k != "q"}
    if search:
        args = {"q": [search], "status": ["all"]}
    query = reports.read_query(args, colleague_ids=[a.id for a in team], due_only=due_only)
    page = reports.queue_page(
        db.session, current_services(), staff.hotline_id, query, me=staff.account_id
    )
    form = QueueActionForm(prefix="queue", formdata=None)
    return render_template(
        "hotline/queue.html",
        page=page,
        query=query,
        due_only=due_only,
        endpoint=".due" if due_only else ".queue",
        notes=[QUERY_NOTES[note] for note in query.notes],
        team={a.id: a.email for a in team},
        me=staff.account_id,
        form=form,
        errors=errors or [],
        on=today(),
    ), status


@bp.get("/")
@staff_required
def queue() -> Any:
    """This hotline's referrals, 50 a page: oldest waiting for acknowledgement first. Filters,
    sort, search (reporting reference or a link) and cursors come in the query string; anything
    not understood gives the first page with a note."""
    return _render_queue()


@bp.post("/search")
@staff_required
def search() -> Any:
    """Find referrals by reporting reference or by a link they hold (first 50 matches)."""
    text = (request.form.get("q") or "").strip()
    if not text:
        return redirect(url_for(".queue"), 303)
    return _render_queue(search=text)


@bp.get("/due")
@staff_required
def due() -> Any:
    """Referrals with something due today or overdue, the most overdue first."""
    return _render_queue(due_only=True)


def _safe_back(text: str | None) -> str:
    """Back to the queue page the form was on: only the queue or "due", with its query string
    read and written again (nothing else of the text reaches the Location header)."""
    parts = urlsplit(text or "")
    endpoint = {"/hotline/": ".queue", "/hotline/due": ".due"}.get(parts.path)
    if endpoint is None or parts.scheme or parts.netloc:
        return url_for(".queue")
    args = [(k, v) for k, v in parse_qsl(parts.query)[:40] if k != "q"]
    return url_for(endpoint) + ("?" + urlencode(args) if args else "")


@bp.post("/queue")
@staff_required
def queue_action() -> Any:
    """Acknowledge, assign to me or unassign the ticked referrals: all of them or, if any is
    refused, none, with each refusal listed."""
    form = QueueActionForm(prefix="queue")
    staff = _staff()
    versions: dict[int, int] = {}
    for value in (form.referrals.data or [])[: reports.PAGE_SIZE * 2]:  # a page's worth at most
        picked = PICKED.fullmatch(str(value))
        if picked:
            versions[int(picked.group(1))] = int(picked.group(2))
    chosen: list[tuple[Referral, int | None]] = [
        (found, versions[found.id])
        for found in referrals.referrals_for_staff(db.session, staff, versions)
    ]
    try:
        if not form.validate() or not chosen:
            raise ActionRefused("nothing_selected")
        if form.do.data == "acknowledge":
            count = referrals.acknowledge_many(db.session, staff, chosen)
            done = ngettext(
                "Acknowledged %(num)d referral.", "Acknowledged %(num)d referrals.", count
            )
        else:
            mine = staff.account_id if form.do.data == "assign_me" else None
            count = referrals.assign_many(db.session, staff, chosen, mine)
            done = (
                ngettext(
                    "%(num)d referral is now yours.", "%(num)d referrals are now yours.", count
                )
                if mine
                else ngettext(
                    "Unassigned %(num)d referral.", "Unassigned %(num)d referrals.", count
                )
            )
    except ReferralChanged as changed:
        db.session.rollback()
        reference = reports.reporting_reference(changed.referral_id)
        return _render_queue(
            errors=[
                _(
                    "%(reference)s changed while you were looking. Nothing was done; look "
                    "again and choose.",
                    reference=reference,
                )
            ],
            status=409,
        )
    except BulkRefused as refused:
        db.session.rollback()
        return _render_queue(
            errors=[
                f"{reports.reporting_reference(item)}: {_refusal(reason)}"
                for item, reason in refused.items
            ],
            status=409,
        )
    except ActionRefused as refused:
        db.session.rollback()
        return _render_queue(errors=[_refusal(refused)], status=409)
    flash(done)
    return redirect(_safe_back(form.back.data), 303)


@bp.get("/providers")
@staff_required
def providers() -> str:
    """Per provider, in total and per month: notices, removals, median days to removal, share not
    answered within 7 days. Counts that outlive the cases they came from."""
    total, months = provider_figures(db.session, _staff().hotline_id)
    return render_template(
        "hotline/providers.html",
        total=total,
        chart=responsiveness_chart(total.records),
        months=[(m.month, m.figures, responsiveness_chart(m.figures.records)) for m in months],
    )


@bp.get("/help")
@staff_required
def help() -> str:
    """How the portal works: time left, bulk actions, keyboard shortcuts."""
    return render_template("hotline/help.html")


# --- one referral ---


def _forms(referral: Referral) -> dict[str, Any]:
    """The forms of a referral's page, empty: nothing preselected but today's date."""
    staff = _staff()
    version = {"version": referral.version}
    places = PlacesForm(
        prefix="places", formdata=None, data={**version, "sent_on": today(), "response_on": today()}
    )
    reroute = RerouteForm(prefix="reroute", formdata=None, data=version)
    reroute.hotline.choices = _hotline_choices(referral)
    assign = AssignForm(
        prefix="assign",
        formdata=None,
        data={**version, "assignee": str(referral.assigned_to or "")},
    )
    assign.assignee.choices = _assignee_choices(staff)
    return {
        "places": places,
        "reroute": reroute,
        "close": CloseForm(prefix="close", formdata=None, data=version),
        "assign": assign,
        "simple": VersionForm(prefix="referral", formdata=None, data=version),
        "message": StaffMessageForm(prefix="message", formdata=None),
        "note": NoteForm(prefix="note", formdata=None),
    }


def _hotline_choices(referral: Referral) -> list[tuple[str, str]]:
    targets = referrals.reroute_targets(current_services().directory, referral)
    return [("", _("Choose a hotline")), *((h.id, h.name) for h in targets)]


def _assignee_choices(staff: Staff) -> list[tuple[str, str]]:
    team = referrals.colleagues(db.session, staff)
    return [("", _("Nobody"))] + [
        (str(a.id), _("Me (%(email)s)", email=a.email) if a.id == staff.account_id else a.email)
        for a in team
    ]


def _render_referral(
    referral: Referral,
    *,
    error: str | None = None,
    errors: list[str] | None = None,
    changed_since: int | None = None,
    status: int = 200,
    posted: dict[str, Any] | None = None,
    anchor: str = "",
) -> Any:
    staff = _staff()
    detail = reports.referral_detail(db.session, current_services(), referral)
    referrals.record_view(db.session, staff, referral)
    forms = _forms(referral)
    for key, form in (posted or {}).items():  # a refused form shows what was chosen
        if hasattr(form, "version"):
            form.version.data = referral.version
        if key == "reroute":
            form.hotline.choices = _hotline_choices(referral)
        forms[key] = form
    assignee = db.session.get(Account, referral.assigned_to) if referral.assigned_to else None
    return render_template(
        "hotline/referral.html",
        error_anchor=anchor,
        detail=detail,
        referral=referral,
        forms=forms,
        actions=referrals.allowed_actions(referral, referral.hotline_id),
        assignee=assignee,
        referral_due=Due(referral.due_on, referral.due_action) if referral.due_action else None,
        me=staff.account_id,
        neighbours=reports.neighbours(db.session, staff.hotline_id, referral),
        compose=_compose_links(referral),
        changes=referrals.changes_since(referral, changed_since)
        if changed_since is not None
        else [],
        error=error,
        errors=errors or [],
        on=today(),
        now=utcnow(),
    ), status


def _act(
    referral_id: int,
    action: Callable[[Referral], str],
    anchor: str = "",
    posted: dict[str, Any] | None = None,
) -> Any:
    """Run one action; on success back to the referral with a note, else the page says why
    (409), with a way to the form (``anchor``) still showing what was chosen (``posted``)."""
    referral = _referral_or_404(referral_id)
    try:
        done = action(referral)
    except ReferralChanged as changed:
        db.session.rollback()
        return _render_referral(
            referral,
            error=_(
                "This referral changed while you were looking. Nothing was done. Here is what "
                "changed; look again and choose."
            ),
            changed_since=changed.since,
            status=409,
        )
    except BulkRefused as refused:
        db.session.rollback()
        positions = {loc.id: index for index, loc in enumerate(referral.locations, start=1)}
        return _render_referral(
            referral,
            error=_("Nothing was done: some of the chosen places cannot take this step."),
            errors=[
                _("Place %(num)d: %(reason)s", num=positions.get(item, 0), reason=_refusal(reason))
                for item, reason in refused.items
            ],
            status=409,
            posted=posted,
            anchor=anchor,
        )
    except ActionRefused as refused:
        db.session.rollback()
        return _render_referral(
            referral, error=_refusal(refused), status=409, posted=posted, anchor=anchor
        )
    flash(done)
    return redirect(url_for(".referral", referral_id=referral_id, _anchor=anchor or None), 303)


def _version_of(form: Any) -> int:
    """The version the form was decided on; a form without one is treated as out of date."""
    version = form.version.data
    return version if isinstance(version, int) else -1


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
    form = VersionForm(prefix="referral")

    def run(found: Referral) -> str:
        form.validate()
        count = referrals.acknowledge(db.session, _staff(), found, version=_version_of(form))
        return ngettext("Acknowledged %(num)d place.", "Acknowledged %(num)d places.", count)

    return _act(referral_id, run)


@bp.post("/referrals/<int:referral_id>/assign")
@staff_required
def assign(referral_id: int) -> Any:
    form = AssignForm(prefix="assign")
    form.assignee.choices = _assignee_choices(_staff())

    def run(found: Referral) -> str:
        if not form.validate():
            raise ActionRefused("unknown_colleague")
        chosen = int(form.assignee.data) if form.assignee.data else None
        referrals.assign(db.session, _staff(), found, chosen, version=_version_of(form))
        if chosen is None:
            return _("Nobody is assigned now.")
        return _("Assigned to you.") if chosen == _staff().account_id else _("Assigned.")

    return _act(referral_id, run, "assignment", {"assign": form})


@bp.post("/referrals/<int:referral_id>/places")
@staff_required
def places(referral_id: int) -> Any:
    """Act on the ticked places: assess them, record one notice for them, or record the
    provider's answer; all or none."""
    form = PlacesForm(prefix="places")

    def run(found: Referral) -> str:
        form.validate()
        chosen = [int(i) for i in form.places.data or []]
        version = _version_of(form)
        if not chosen:
            raise ActionRefused("nothing_selected")
        if form.do.data == "assess":
            count = referrals.assess_places(
                db.session,
                _staff(),
                found,
                chosen,
                form.assessment.data or "",
                form.subtype.data or None,
                form.hosting_country.data or None,
                version=version,
            )
            return ngettext(
                "Assessment recorded for %(num)d place.",
                "Assessment recorded for %(num)d places.",
                count,
            )
        if form.do.data == "notice":
            if form.sent_on.data is None:
                raise ActionRefused("bad_date")
            notices = referrals.record_notices(
                db.session,
                current_services(),
                _staff(),
                found,
                chosen,
                notice_type=form.notice_type.data or "",
                provider=form.provider.data or "",
                sent_on=form.sent_on.data,
                reference=form.reference.data,
                escalation=bool(form.escalation.data),
                version=version,
            )
            return ngettext(
                "Notice recorded for %(num)d place.",
                "Notice recorded for %(num)d places.",
                len(notices),
            )
        if form.do.data == "response":
            if form.response_on.data is None:
                raise ActionRefused("bad_date")
            count = referrals.record_responses(
                db.session,
                _staff(),
                found,
                chosen,
                form.response.data or "",
                form.response_on.data,
                version=version,
            )
            return ngettext(
                "Answer recorded for %(num)d place.", "Answer recorded for %(num)d places.", count
            )
        if form.do.data in HOLDS:
            count = notice_work.hold_chase(
                db.session,
                _staff(),
                found,
                chosen,
                state=HOLDS[form.do.data],
                reason=form.chase_reason.data or None,
                version=version,
            )
            return ngettext(
                "The chase changed for %(num)d place.",
                "The chase changed for %(num)d places.",
                count,
            )
        raise ActionRefused("nothing_selected")

    return _act(referral_id, run, "act-on-places", {"places": form})


# The chase buttons of the places form -> the state they put the chase in.
HOLDS = {"pause": ChaseState.PAUSED, "stop": ChaseState.STOPPED, "resume": ChaseState.ACTIVE}


# --- sending a notice ---


def _digest(draft: notice_work.Draft) -> str:
    text = "\n".join((draft.recipient, draft.text.subject, draft.text.body))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _compose_links(referral: Referral) -> list[notice_work.ProviderGroup]:
    """One link per provider for the places that may take a notice now."""
    actions = referrals.allowed_actions(referral, referral.hotline_id)
    groups = []
    for group in notice_work.provider_groups(current_services(), referral):
        ready = tuple(i for i in group.location_ids if actions.places[i].notice is not None)
        if ready:
            groups.append(notice_work.ProviderGroup(group.provider, ready))
    return groups


def _render_compose(
    referral: Referral,
    form: ComposeForm,
    *,
    draft: notice_work.Draft | None = None,
    error: str | None = None,
    status: int = 200,
) -> Any:
    services = current_services()
    provider = services.directory.provider(form.provider.data) if form.provider.data else None
    detail = reports.referral_detail(db.session, services, referral)
    referrals.record_view(db.session, _staff(), referral)
    actions = referrals.allowed_actions(referral, referral.hotline_id)
    return render_template(
        "hotline/compose.html",
        ready={i for i, place in actions.places.items() if place.notice is not None},
        detail=detail,
        referral=referral,
        form=form,
        provider=provider,
        chosen=set(form.places.data or []),
        draft=draft,
        error=error,
    ), status


@bp.route("/referrals/<int:referral_id>/notice", methods=["GET", "POST"])
@staff_required
def compose(referral_id: int) -> Any:
    """Write a notice for places of one provider: the type, where it goes, then a preview; a
    POST previews it (``do=preview``) or sends the previewed notice (``do=send``)."""
    if request.method == "POST":
        return _preview_or_send(referral_id)
    found = _referral_or_404(referral_id)
    services = current_services()
    wanted = [int(i) for i in request.args.getlist("places") if i.isascii() and i.isdigit()]
    provider = services.directory.provider(request.args.get("provider") or "")
    contacts = provider.notices if provider else None
    form = ComposeForm(
        prefix="notice",
        formdata=None,
        data={
            "version": found.version,
            "places": [loc.id for loc in found.locations if loc.id in wanted],
            "provider": provider.id if provider else "",
            "recipient": contacts.emails[0] if contacts and contacts.emails else "",
        },
    )
    return _render_compose(found, form)


def _preview_or_send(referral_id: int) -> Any:
    found = _referral_or_404(referral_id)
    form = ComposeForm(prefix="notice")
    form.validate()
    chosen = [int(i) for i in form.places.data or []]
    options: dict[str, Any] = {
        "notice_type": form.notice_type.data or "",
        "subtype": form.subtype.data or None,
        "provider_id": form.provider.data or None,
        "provider_name": form.provider_name.data,
        "recipient": form.recipient.data,
    }
    services = current_services()
    try:
        draft = notice_work.draft_notice(db.session, services, found, chosen, **options)
        if form.do.data != "send" or form.seen.data != _digest(draft):
            form.seen.data = _digest(draft)
            changed = form.do.data == "send"
            return _render_compose(
                found,
                form,
                draft=draft,
                error=_("The notice changed since your preview. Read it again, then send it.")
                if changed
                else None,
                status=409 if changed else 200,
            )
        letter = notice_work.send_notice(
            db.session, services, _staff(), found, chosen, version=_version_of(form), **options
        )
    except ReferralChanged:
        db.session.rollback()
        form.version.data = found.version
        return _render_compose(
            found,
            form,
            error=_(
                "This referral changed while you were looking. Nothing was sent; check the "
                "places and send again."
            ),
            status=409,
        )
    except ActionRefused as refused:
        db.session.rollback()
        return _render_compose(found, form, error=_refusal(refused), status=409)
    flash(
        _(
            "Notice %(reference)s is on its way. The app will remind the provider until each "
            "place has a final answer.",
            reference=notice_reference(letter.id),
        )
    )
    return redirect(url_for(".referral", referral_id=referral_id, _anchor="places-heading"), 303)


def _confirm_or_run(
    referral_id: int,
    form: RerouteForm | CloseForm,
    key: str,
    check: Callable[[Referral], None],
    run: Callable[[Referral], str],
) -> Any:
    """The first post checks the choice and shows what will happen; only the confirmed second
    post acts."""
    if form.confirmed.data != "yes":
        found = _referral_or_404(referral_id)
        try:
            check(found)
        except ActionRefused as refused:
            return _render_referral(
                found, error=_refusal(refused), status=409, posted={key: form}, anchor=f"{key}-form"
            )
        form.confirmed.data = "yes"
        return render_template(
            "hotline/confirm.html",
            referral=found,
            reference=reports.reporting_reference(found),
            form=form,
            key=key,
            moving=len([loc for loc in found.locations if loc.status not in FINISHED_STATUSES]),
            target=current_services().directory.get(form.hotline.data or "")
            if isinstance(form, RerouteForm)
            else None,
        )
    return _act(referral_id, run, f"{key}-form", {key: form})


@bp.route("/referrals/<int:referral_id>/move", methods=["GET", "POST"])
@staff_required
def reroute(referral_id: int) -> Any:
    """Move the places without an outcome to another hotline: choose, confirm, done."""
    form = RerouteForm(prefix="reroute")
    if request.method == "GET":
        _referral_or_404(referral_id)
        return redirect(url_for(".referral", referral_id=referral_id, _anchor="reroute-form"), 303)
    found = _referral_or_404(referral_id)
    form.hotline.choices = _hotline_choices(found)

    def check(current: Referral) -> None:
        if _version_of(form) != current.version:
            raise ReferralChanged(current.id, _version_of(form))
        if current_services().directory.get(form.hotline.data or "") is None:
            raise ActionRefused("unknown_hotline")
        if not form.reason.data:
            raise ActionRefused("bad_reason")

    def run(current: Referral) -> str:
        referrals.reroute(
            db.session,
            current_services(),
            _staff(),
            current,
            form.hotline.data or "",
            form.reason.data or "",
            version=_version_of(form),
        )
        return _("The referral was moved. The survivor sees that it was passed on.")

    return _confirm_or_run(referral_id, form, "reroute", check, run)


@bp.route("/referrals/<int:referral_id>/close", methods=["GET", "POST"])
@staff_required
def close(referral_id: int) -> Any:
    """Close the referral: choose a reason, confirm, done."""
    form = CloseForm(prefix="close")
    if request.method == "GET":
        _referral_or_404(referral_id)
        return redirect(url_for(".referral", referral_id=referral_id, _anchor="close-form"), 303)

    def check(current: Referral) -> None:
        if _version_of(form) != current.version:
            raise ReferralChanged(current.id, _version_of(form))
        if not form.reason.data:
            raise ActionRefused("bad_reason")

    def run(current: Referral) -> str:
        referrals.close(
            db.session, _staff(), current, form.reason.data or "", version=_version_of(form)
        )
        return _("The referral was closed. You can reopen it within 7 days.")

    return _confirm_or_run(referral_id, form, "close", check, run)


@bp.post("/referrals/<int:referral_id>/reopen")
@staff_required
def reopen(referral_id: int) -> Any:
    form = VersionForm(prefix="referral")

    def run(found: Referral) -> str:
        form.validate()
        count = referrals.reopen(db.session, _staff(), found, version=_version_of(form))
        return ngettext(
            "The referral is open again, with %(num)d place. The survivor sees it reopened.",
            "The referral is open again, with %(num)d places. The survivor sees it reopened.",
            count,
        )

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

    return _act(referral_id, run, "messages", {"message": form})


@bp.post("/referrals/<int:referral_id>/note")
@staff_required
def note(referral_id: int) -> Any:
    form = NoteForm(prefix="note")

    def run(found: Referral) -> str:
        referrals.add_internal_note(
            db.session, current_services(), _staff(), found, form.body.data or ""
        )
        return _("Note added.")

    return _act(referral_id, run, "notes", {"note": form})
