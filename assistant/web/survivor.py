"""The survivor's journey: the steps of a request, the receipt, and the private status page.

Every view parses a form, calls one domain function and renders. Everything here works with
JavaScript off.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from collections.abc import Sequence
from functools import wraps
from typing import Any
from typing import TypeVar
from typing import cast

from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer
from werkzeug.wrappers import Response as BaseResponse

from ..cases import replays
from ..cases.access import cancel_invitations
from ..cases.access import create_invitation
from ..cases.access import invitation_serializer
from ..cases.access import revoke_access
from ..cases.access import waiting_invitations
from ..cases.intake import FiledRequest
from ..cases.intake import IntakeError
from ..cases.intake import LocationEntry
from ..cases.intake import add_locations
from ..cases.intake import check_location_count
from ..cases.intake import plan_routes
from ..cases.receipts import InvalidProposal
from ..cases.receipts import InvalidReceipt
from ..cases.receipts import ReceiptLocked
from ..cases.receipts import check_receipt
from ..cases.receipts import passphrase_proposals
from ..cases.receipts import propose_passphrase
from ..cases.receipts import replace_passphrase
from ..cases.retention import erase_case
from ..cases.status import CaseRows
from ..cases.status import CaseView
from ..cases.status import describe_case
from ..cases.status import read_case_rows
from ..cases.status import view_of_case
from ..extensions import csrf
from ..extensions import current_services
from ..extensions import db
from ..extensions import filing_limit
from ..extensions import limiter
from ..extensions import lookup_limit
from ..extensions import note_filed
from ..extensions import rate_limit_key
from ..extensions import receipt_limit
from ..extensions import refused_filing_limit
from ..models import Case
from ..people.advocates import advocates_on_case
from ..routing import DEFAULT_KIND
from ..routing import NormalisedLocation
from ..vocabulary import Category
from . import journey
from .access import SURVIVOR
from .access import declare
from .access import public
from .case_page import handoff_summaries
from .case_page import message_form_for
from .case_page import places_in_full
from .case_page import send_message
from .case_page import shown_places
from .forms import AboutForm
from .forms import CategoriesForm
from .forms import CheckForm
from .forms import ConfirmForm
from .forms import EraseForm
from .forms import LocationForm
from .forms import MessageForm
from .public import CLEAR_SITE_DATA
from .quota import filing_quota
from .session_interface import start_signed_in_session
from .texts import current_language
from .texts import places_summary
from .texts import rejection_text

bp = Blueprint("survivor", __name__)

F = TypeVar("F", bound=Callable[..., Any])


def signed_in_case() -> Case | None:
    case_id = session.get("case_id")
    if not isinstance(case_id, int):
        return None
    return db.session.get(Case, case_id)


def _case_view(view: F, *, with_handed_over_receipt: bool) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        case = signed_in_case()
        if case is None:
            if "case_id" in session:
                session.clear()
            flash(_("You are signed out. Enter your case number and passphrase to continue."))
            return redirect(url_for("survivor.check"), 303)
        if case.must_change_passphrase and not with_handed_over_receipt:
            # Someone else (an advocate) has held this passphrase: nothing opens until the
            # survivor has a new one.
            return redirect(url_for("survivor.new_passphrase"), 303)
        return view(case, *args, **kwargs)

    return declare(SURVIVOR)(wrapped)  # type: ignore[return-value]


def case_required(view: F) -> F:
    """Only for a signed-in survivor; otherwise back to the check page, without saying why
    beyond a neutral 'signed out' note. A receipt an advocate handed over must be replaced
    first."""
    return _case_view(view, with_handed_over_receipt=False)


def _single_entry(form: LocationForm) -> LocationEntry | None:
    value = (form.value.data or "").strip()
    if not value:
        return None
    return LocationEntry(
        kind=form.kind.data or DEFAULT_KIND,
        value=form.value.data or "",
        note=form.note.data,
        platform=form.platform.data,
    )


def _problems_for_display(problems: list[journey.Problem]) -> list[dict[str, str]]:
    return [
        {"where": p.where, "excerpt": p.excerpt, "text": rejection_text(p.code, p.params)}
        for p in problems
    ]


@bp.get("/request/start")
@public
def before_you_begin() -> str:
    """What to expect, how the quick exit works, that you can stop at any time."""
    return render_template("survivor/before_you_begin.html")


@bp.get("/request/not-sure")
@public
def not_sure() -> str:
    """For someone who does not know where the material is: what they can still do."""
    return render_template("survivor/not_sure.html")


@bp.route("/request/where", methods=["GET", "POST"])
@limiter.limit(lookup_limit, methods=["POST"])
@public
def where() -> str | BaseResponse:
    """Step 1: the places where the material appears."""
    form = LocationForm()
    draft = journey.Draft.load()
    problems: list[dict[str, str]] = []
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        action = request.form.get("action", "add")
        if action.startswith("remove-") and action[7:].isdigit():
            draft.remove(int(action[7:]))
            draft.save()
            return redirect(url_for(".where"), 303)
        outcome = journey.gather_locations(
            current_services(), draft.locations, _single_entry(form), form.pasted.data or ""
        )
        draft.add(outcome.added)
        draft.save()
        flash_added(len(outcome.added), outcome.duplicates)
        problems = _problems_for_display(outcome.problems)
        if not problems and action == "continue":
            try:
                check_location_count(
                    len(draft.locations), current_services().settings.max_locations
                )
            except IntakeError as error:
                problems = [_problem(error)]
            else:
                return redirect(url_for(".what"), 303)
        if not problems:
            return redirect(url_for(".where"), 303)
        form = LocationForm(formdata=None, pasted=outcome.remaining_paste)
        if any(p.where == "single" for p in outcome.problems):
            form = LocationForm()
            form.pasted.data = outcome.remaining_paste
    return render_template(
        "survivor/where.html",
        form=form,
        locations=draft.locations,
        problems=problems,
        max_locations=current_services().settings.max_locations,
    )


def flash_added(added: int, duplicates: int) -> None:
    """Say how many places were added, and how many were on the list already."""
    if added:
        flash(ngettext("Added %(num)d place.", "Added %(num)d places.", added))
    if duplicates:
        flash(
            ngettext(
                "%(num)d place was already on your list.",
                "%(num)d places were already on your list.",
                duplicates,
            )
        )


def _problem(error: IntakeError) -> dict[str, str]:
    return {"where": "single", "excerpt": "", "text": rejection_text(error.code, error.params)}


@bp.route("/request/what", methods=["GET", "POST"])
@public
def what() -> str | BaseResponse:
    """Step 2: what kind of material (all optional). A content note comes first."""
    draft = journey.draft_with_places()
    if draft is None:
        return redirect(url_for(".where"), 303)
    form = CategoriesForm(data={"categories": draft.categories})
    if request.method == "POST":
        form = CategoriesForm()
        if request.form.get("action") == "skip":
            draft.categories = []
        elif not form.validate_on_submit():
            return render_template("survivor/what.html", form=form)
        else:
            draft.categories = [Category(value) for value in form.categories.data or []]
        draft.save()
        return redirect(url_for(".about"), 303)
    return render_template("survivor/what.html", form=form)


@bp.route("/request/about", methods=["GET", "POST"])
@public
def about() -> str | BaseResponse:
    """Step 3: about you, all optional."""
    return journey.answers_step(
        journey.draft_with_places(),
        AboutForm,
        "survivor/about.html",
        start=".where",
        then=".review",
        language=current_language(),
    )


@bp.get("/request/review")
@public
def review() -> str | BaseResponse:
    """Step 4: a masked summary, where each place will go and why, and a way back to each step."""
    draft = journey.draft_with_places()
    if draft is None:
        return redirect(url_for(".where"), 303)
    plan = plan_routes(draft.locations, current_services(), draft.country)
    return render_template(
        "survivor/review.html",
        draft=draft,
        locations=draft.locations,
        plan=plan,
        form=ConfirmForm(),
    )


@bp.post("/request/send")
@filing_quota("filing", filing_limit, refused_filing_limit, rate_limit_key)
@public
def send() -> str | BaseResponse:
    """File the request and show the receipt: the only time the passphrase is ever shown.

    Rendered in this response, never stored readable. A retry of the same form within ten minutes
    (an answer lost on a bad connection) is shown the same receipt: the draft's random key, sent
    back by the form, seals it (see assistant.cases.replays), and nothing is filed twice.
    """
    services = current_services()
    digest = replays.request_digest(services.keyed_hasher, "web-draft")
    draft = journey.draft_with_places()
    if draft is None:
        page = _replayed_receipt(request.form.get("draft", ""), digest)
        if page is not None:
            return page
        flash(str(journey.ALREADY_SENT))
        return redirect(url_for("public.landing"), 303)
    replay_key = replays.ReplayKey.of(services.keyed_hasher, draft.key, "web")

    def keep(filed: FiledRequest) -> None:
        replays.remember(
            db.session, filed.case, replay_key, digest, _receipt_of(filed, draft.locations)
        )

    filed = journey.file_draft(
        db.session,
        services,
        draft,
        draft.intake_request(services, current_language()),
        gone="public.landing",
        review=".review",
        look_again=_("Something in your answers needs another look."),
        on_filed=keep,
        replayed=lambda: _replayed_receipt(draft.key, digest),
    )
    if not isinstance(filed, FiledRequest):
        return filed
    return _receipt_page(_receipt_of(filed, draft.locations))


def _receipt_of(filed: FiledRequest, locations: Sequence[NormalisedLocation]) -> dict[str, Any]:
    """What the receipt page shows: the receipt, how many places went to which hotline, and for
    each hotline that is not connected, its places as text to paste into its own form. Kept
    sealed for ten minutes with the draft's key (see :mod:`assistant.cases.replays`)."""
    assert filed.passphrase is not None  # a survivor always holds their receipt
    summaries = {
        planned.hotline.id: places_summary(
            [
                (location.kind, location.value, location.platform, location.note)
                for location in (locations[index] for index in planned.location_indexes)
            ]
        )
        for planned in filed.referrals
        if not planned.hotline.connected
    }
    return {
        "case_number": filed.case_number,
        "passphrase": filed.passphrase,
        "places": [[p.hotline.id, len(p.location_indexes)] for p in filed.referrals],
        "summaries": summaries,
    }


def _receipt_page(receipt: dict[str, Any]) -> str:
    """The receipt, with a check before leaving that it was kept: the last group of the
    passphrase is asked for back, against a signed keyed hash of it carried by the form."""
    passphrase = str(receipt["passphrase"])
    return render_template(
        "survivor/receipt.html",
        receipt=receipt,
        kept_proof=_kept_proof(passphrase.split()[-1]),
    )


def _replayed_receipt(draft_key: str, digest: str) -> str | None:
    """The receipt page the first sending of this draft showed, within ten minutes."""
    if not draft_key or len(draft_key) > 64:
        return None
    key = replays.ReplayKey.of(current_services().keyed_hasher, draft_key, "web")
    try:
        receipt = replays.replay(db.session, key, digest)
    except replays.ReplayMismatch:
        receipt = None
    db.session.rollback()
    if receipt is None:
        return None
    return _receipt_page(receipt)


# How long the check that the receipt was kept can be answered after the receipt was shown.
KEPT_CHECK_FOR = 3600


def _kept_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_services().settings.secret_key, salt="receipt-kept")


def _kept_digest(typed: str) -> str:
    letters = "".join(ch for ch in typed.lower() if ch.isalpha())
    return current_services().keyed_hasher.digest(letters, "receipt-kept")


def _kept_proof(last_group: str) -> str:
    """What the receipt page's form carries to check the last group of letters typed back: a
    keyed hash of it, signed. The passphrase itself is never kept."""
    return _kept_serializer().dumps(_kept_digest(last_group))


@bp.post("/request/kept")
@limiter.limit(lookup_limit)
@public
def kept() -> str | tuple[str, int]:
    """The step after the receipt: the survivor types the last group of letters back, so that
    they know they kept it; or skips, after a clear warning. A wrong answer can show the receipt
    again while the filing's answer is kept (ten minutes: the form resends the draft's key)."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    draft_key = request.form.get("draft", "")[:64]
    action = request.form.get("action", "")
    if action == "skip":
        return render_template("survivor/kept.html", state="skipped")
    if action != "check":
        return render_template(
            "survivor/kept.html",
            state="ask",
            form=form,
            draft=draft_key,
            proof=request.form.get("proof", ""),
        )
    typed = request.form.get("last_group", "")[:64]
    try:
        expected = _kept_serializer().loads(request.form.get("proof", ""), max_age=KEPT_CHECK_FOR)
    except BadSignature:
        # Too long ago to check: nothing is lost, the survivor goes on.
        return render_template("survivor/kept.html", state="unchecked")
    if typed.strip() and secrets.compare_digest(_kept_digest(typed), str(expected)):
        return render_template("survivor/kept.html", state="kept")
    error = (
        _("Type the last group of letters of your passphrase.")
        if not typed.strip()
        else _("That is not the last group of your passphrase. Look at where you kept it.")
    )
    page = render_template(
        "survivor/kept.html",
        state="ask",
        form=form,
        draft=draft_key,
        proof=request.form.get("proof", ""),
        error=error,
        typed=typed,
    )
    return page, 400


@bp.route("/check", methods=["GET", "POST"])
@limiter.shared_limit(receipt_limit, scope="receipt", methods=["POST"])
@public
def check() -> str | BaseResponse | tuple[str, int]:
    """Sign in with the receipt. One answer for a wrong number or a wrong passphrase. A message
    typed before an idle sign-out comes back with the form, and opens the status page ready to
    send."""
    form = CheckForm()
    pending = _pending(request.form) if request.method == "POST" else ""
    error = None
    status = 200
    if form.validate_on_submit():
        try:
            services = current_services()
            case = check_receipt(
                db.session,
                services.passphrases,
                services.receipt_tries,
                request.remote_addr or "unknown",
                form.case_number.data or "",
                form.passphrase.data or "",
            )
        except InvalidReceipt:
            error = _("That case number and passphrase do not match. Check both and try again.")
            status = 401
        except ReceiptLocked as locked:
            minutes = max(1, int(locked.retry_after.total_seconds() // 60) + 1)
            error = _(
                "There were too many tries. To keep your request safe, it is locked for about "
                "%(minutes)d minutes. Your request is not affected.",
                minutes=minutes,
            )
            status = 429
        else:
            db.session.commit()
            start_signed_in_session(case_id=case.id)
            if pending.strip() and not case.must_change_passphrase:
                return _status_with_pending(case, pending)
            return redirect(url_for(".status"), 303)
    elif request.method == "POST":
        status = 400
    return _check_page(form, error=error, pending_message=pending), status


def _check_page(form: CheckForm, *, error: str | None = None, pending_message: str = "") -> str:
    return render_template(
        "survivor/check.html", form=form, error=error, pending_message=pending_message
    )


def _status_with_pending(case: Case, pending: str) -> str:
    """The status page just after signing in again, with the message typed before the idle
    sign-out in the form, not sent yet."""
    rows = read_case_rows(db.session, case)
    view = view_of_case(current_services(), case, rows)
    form = message_form_for(view)
    form.body.data = pending
    return _status_page(case, view, form, rows=rows, pending=True)


@bp.get("/my-request")
@case_required
def status(case: Case) -> str:
    """The private status page: places, their status, timelines, messages."""
    # Read as plain rows: this page only reads (see read_case_rows).
    rows = read_case_rows(db.session, case)
    view = view_of_case(current_services(), case, rows)
    return _status_page(case, view, message_form_for(view), rows=rows)


class _Places:
    """The places of a case read as plain rows, where :func:`shown_places` reads a case's."""

    def __init__(self, rows: CaseRows) -> None:
        self.locations = rows.places


def _status_page(
    case: Case,
    view: CaseView,
    message_form: MessageForm,
    *,
    rows: CaseRows | None = None,
    pending: bool = False,
) -> str:
    services = current_services()
    if rows is None:
        shown = shown_places(services, case, view)
    else:
        # What shown_places gives, from the rows already read (places_in_full reads only each
        # place's id, kind and sealed columns).
        places = places_in_full(services, cast(Case, _Places(rows)))
        shown = {"places": places, "summaries": handoff_summaries(view, places)}
    return render_template(
        "survivor/status.html",
        pending=pending,
        case=view,
        message_form=message_form,
        # The page's other forms need only a CSRF token: the message form's, the same one (a
        # form of their own would cost more to make than the rest of their markup).
        form=message_form,
        advocates=advocates_on_case(services.cipher, case),
        waiting_invitations=waiting_invitations(db.session, case),
        passphrase_replaced_on=case.passphrase_replaced_on,
        idle_seconds=services.settings.survivor_idle_minutes * 60,
        **shown,
    )


@bp.post("/my-request/message")
@csrf.exempt  # the form checks its own token once a case is signed in (see below)
@public
def message() -> str | BaseResponse | tuple[str, int]:
    """Write to the hotline. Refuses an empty or overlong message, and says why.

    When the sign-in has ended (idle), the typed message is not lost: the sign-in page is shown
    with it, from this request's body only (never stored), and sending it is one step after
    signing in again. Nothing is done with a request that has no sign-in, so it needs no token.
    """
    case = signed_in_case()
    if case is None:
        session.pop("case_id", None)
        return _check_page(CheckForm(formdata=None), pending_message=_pending(request.form))
    if case.must_change_passphrase:
        return redirect(url_for(".new_passphrase"), 303)
    view = describe_case(current_services(), case)
    form = message_form_for(view)
    if send_message(form, case):
        return redirect(url_for(".status", _anchor="messages"), 303)
    return _status_page(case, view, form), 400


def _pending(form: Any) -> str:
    """A message typed before the sign-in ended, as the request carried it (bounded)."""
    limit = current_services().settings.max_message_length
    return str(form.get("body", "") or form.get("pending_message", ""))[: limit * 2]


@bp.post("/my-request/still-here")
@public
def still_here() -> Response:
    """ "Stay signed in": this request itself keeps the sign-in alive (204), or says it ended."""
    if signed_in_case() is None:
        return Response(status=401)
    session.modified = True
    return Response(status=204)


@bp.route("/my-request/add", methods=["GET", "POST"])
@filing_quota("filing", filing_limit, refused_filing_limit, rate_limit_key, methods=("POST",))
@case_required
def add(case: Case) -> str | BaseResponse:
    """Add more places; they are routed the same way as the first ones."""
    form = LocationForm()
    problems: list[dict[str, str]] = []
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        outcome = journey.gather_locations(
            current_services(), [], _single_entry(form), form.pasted.data or ""
        )
        problems = _problems_for_display(outcome.problems)
        if not problems:
            try:
                add_locations(db.session, current_services(), case, outcome.added)
            except IntakeError as error:
                problems = [_problem(error)]
            else:
                note_filed()
                flash(ngettext("Added %(num)d place.", "Added %(num)d places.", len(outcome.added)))
                return redirect(url_for(".status"), 303)
    return render_template(
        "survivor/add.html",
        form=form,
        problems=problems,
        max_locations=current_services().settings.max_locations,
    )


@bp.route("/my-request/erase", methods=["GET", "POST"])
@case_required
def erase(case: Case) -> str | Response | tuple[str, int]:
    """Withdraw and erase everything, after a confirmation that says what will be lost."""
    form = EraseForm()
    if request.method == "POST" and form.validate_on_submit():
        erase_case(db.session, case, current_services().endpoints)
        session.clear()
        response = Response(render_template("survivor/erased.html"))
        response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
        return response
    view = describe_case(current_services(), case)
    status_code = 400 if request.method == "POST" else 200
    return render_template("survivor/erase.html", form=form, case=view), status_code


@bp.post("/my-request/sign-out")
@public
def sign_out() -> Response:
    """Sign out and ask the browser to forget this site's data."""
    session.clear()
    response = Response(render_template("survivor/signed_out.html"))
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


def _handed_over_receipt(view: F) -> F:
    return _case_view(view, with_handed_over_receipt=True)


@bp.route("/my-request/new-passphrase", methods=["GET", "POST"])
@_handed_over_receipt
def new_passphrase(case: Case) -> str | BaseResponse:
    """A new random passphrase, shown on the page and put in force only when the survivor says
    they saved it. Required first when an advocate handed the receipt over; anyone may do it at
    any time (if someone else has known the passphrase)."""
    serializer = passphrase_proposals(current_services().settings.secret_key)
    form = ConfirmForm()
    if request.method == "POST":
        try:
            replace_passphrase(
                db.session,
                current_services().passphrases,
                serializer,
                case,
                request.form.get("proposal", ""),
            )
        except InvalidProposal:
            flash(_("That page was open for too long. Here is another new passphrase."))
            return redirect(url_for(".new_passphrase"), 303)
        # Every session of the case ended with the old passphrase; this person keeps going.
        start_signed_in_session(case_id=case.id)
        flash(_("Your new passphrase is in force. The old one no longer works."))
        return redirect(url_for(".status"), 303)
    passphrase, proposal = propose_passphrase(serializer, case)
    return render_template(
        "survivor/new_passphrase.html",
        form=form,
        passphrase=passphrase,
        proposal=proposal,
        case_number=case.case_number,
        forced=case.must_change_passphrase,
    )


@bp.post("/my-request/invitation")
@case_required
def invite(case: Case) -> str:
    """A single-use code for an advocate, valid 72 hours, shown once."""
    code = create_invitation(
        db.session, invitation_serializer(current_services().settings.secret_key), case
    )
    return render_template("survivor/invitation.html", code=code)


@bp.post("/my-request/invitation/cancel")
@case_required
def cancel_invitations_view(case: Case) -> BaseResponse:
    """Every invitation code not yet used stops working."""
    cancel_invitations(db.session, case)
    flash(_("Unused invitation codes no longer work."))
    return redirect(url_for(".status", _anchor="access-heading"), 303)


@bp.post("/my-request/access/<int:access_id>/revoke")
@case_required
def revoke(case: Case, access_id: int) -> BaseResponse:
    """Take an advocate's access away; it ends with their next request."""
    if not revoke_access(db.session, case, access_id):
        abort(404)
    flash(_("Their access was taken away. They can no longer see this request."))
    return redirect(url_for(".status", _anchor="access-heading"), 303)
