"""The advocate's side (``/advocate``): registration, the dashboard of their cases, filing for a
survivor with their consent, a case's page, and redeeming a survivor's invitation.

Every case view asks :func:`assistant.cases.access.access_to_case` first; without access the answer
is the same 404 as for a case that does not exist. Everything here works with JavaScript off.
"""

from __future__ import annotations

from typing import Any

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
from flask_babel import ngettext
from werkzeug.wrappers import Response as BaseResponse

from ..cases.access import AccessRefused
from ..cases.access import access_to_case
from ..cases.access import can_issue_receipt
from ..cases.access import invitation_serializer
from ..cases.access import issue_receipt
from ..cases.access import record_case_view
from ..cases.access import redeem_invitation
from ..cases.intake import FiledRequest
from ..cases.intake import IntakeError
from ..cases.intake import IntakeRequest
from ..cases.intake import check_location_count
from ..cases.intake import dry_run_routes
from ..cases.intake import plan_routes
from ..cases.pasted import LineOutcome
from ..cases.pasted import check_pasted_lines
from ..cases.status import advocate_cases
from ..cases.status import describe_case
from ..extensions import advocate_filing_limit
from ..extensions import current_services
from ..extensions import db
from ..extensions import filing_limit
from ..extensions import limiter
from ..extensions import lookup_limit
from ..extensions import receipt_limit
from ..extensions import refused_filing_limit
from ..models import Case
from ..models import CaseAccess
from ..people.accounts import AccountRefused
from ..people.advocates import ConsentRefused
from ..people.advocates import check_consent
from ..people.advocates import check_profile
from ..people.advocates import open_consent
from ..people.advocates import register_advocate
from ..vocabulary import CaseStatus
from ..vocabulary import member
from . import journey
from .access import advocate_required
from .access import public
from .advocate_forms import ConsentForm
from .advocate_forms import DetailsForm
from .advocate_forms import PlacesForm
from .advocate_forms import RedeemForm
from .advocate_forms import RegisterForm
from .advocate_texts import REFUSALS
from .case_page import message_form_for
from .case_page import send_message
from .case_page import shown_places
from .forms import ConfirmForm
from .forms import MessageForm
from .quota import filing_quota
from .texts import current_language
from .texts import refusal_text
from .texts import rejection_text

bp = Blueprint("advocate", __name__, url_prefix="/advocate")

# The refused lines handed back in the box, so that "Continue" with them unchanged goes on.
LEFT_OVER = "advocate_left_over"


@bp.route("/register", methods=["GET", "POST"])
@limiter.shared_limit(filing_limit, scope="advocate-register", methods=["POST"])
@public
def register() -> str | tuple[str, int]:
    """Ask for an advocate's account. Every registration, even for an address that already has
    an account, gets the same answer."""
    form = RegisterForm()
    error = None
    if form.validate_on_submit():
        try:
            profile = check_profile(
                form.name.data or "",
                form.organisation.data or "",
                form.role.data or "",
                form.reason.data or "",
            )
            register_advocate(db.session, current_services().cipher, form.email.data or "", profile)
        except AccountRefused as refused:
            error = refusal_text(REFUSALS, refused.code, refused.params)
        else:
            return render_template("advocate/registered.html")
    status = 400 if request.method == "POST" else 200
    return render_template("advocate/register.html", form=form, error=error), status


@bp.get("/")
@advocate_required
def dashboard() -> str:
    """The advocate's cases: status, places by status, unread messages. ``?status=`` and
    ``?unread=1`` filter."""
    chosen = member(CaseStatus, request.args.get("status"))  # None: all of them
    unread_only = request.args.get("unread") == "1"
    cases = advocate_cases(db.session, g.account, status=chosen, unread_only=unread_only)
    return render_template(
        "advocate/dashboard.html",
        cases=cases,
        chosen=chosen or "all",
        unread_only=unread_only,
        statuses=list(CaseStatus),
    )


def _case_or_404(case_id: int) -> tuple[Case, CaseAccess]:
    access = access_to_case(db.session, g.account, case_id)
    if access is None:
        abort(404)
    return access.case, access


def _render_case(
    case: Case, access: CaseAccess, form: MessageForm | None = None, status: int = 200
) -> tuple[str, int]:
    services = current_services()
    view = describe_case(services, case)
    message_form = form or message_form_for(view)
    page = render_template(
        "advocate/case.html",
        case=view,
        case_id=case.id,
        access=access,
        consent=open_consent(services.cipher, case),
        message_form=message_form,
        form=ConfirmForm(),
        can_issue_receipt=can_issue_receipt(access),
        **shown_places(services, case, view),
    )
    # Every page that shows the case is a view, the one with a refused message too.
    record_case_view(db.session, access)
    return page, status


@bp.get("/cases/<int:case_id>")
@advocate_required
def case(case_id: int) -> tuple[str, int]:
    """The case as the survivor sees it, with the messages to and from the hotline."""
    found, access = _case_or_404(case_id)
    return _render_case(found, access)


@bp.post("/cases/<int:case_id>/message")
@advocate_required
def message(case_id: int) -> Any:
    """Write to the hotline about this case; the survivor sees it too, with your name."""
    found, access = _case_or_404(case_id)
    form = message_form_for(describe_case(current_services(), found))
    if send_message(form, found, advocate=g.account):
        return redirect(url_for(".case", case_id=case_id, _anchor="messages"), 303)
    return _render_case(found, access, form, 400)


@bp.post("/cases/<int:case_id>/receipt")
@advocate_required
def receipt(case_id: int) -> str:
    """A new receipt to hand over, shown once; only for the advocate who filed, until the survivor
    has replaced the passphrase."""
    found, access = _case_or_404(case_id)
    try:
        passphrase = issue_receipt(db.session, current_services().passphrases, access)
    except AccessRefused:
        abort(409)
    return render_template(
        "advocate/receipt.html",
        case_number=found.case_number,
        passphrase=passphrase,
        case_id=case_id,
    )


@bp.route("/redeem", methods=["GET", "POST"])
@limiter.shared_limit(receipt_limit, scope="advocate-redeem", methods=["POST"])
@advocate_required
def redeem() -> str | BaseResponse | tuple[str, int]:
    """Enter the code a survivor gave you, to follow their request with them."""
    form = RedeemForm()
    error = None
    if form.validate_on_submit():
        serializer = invitation_serializer(current_services().settings.secret_key)
        try:
            redeemed = redeem_invitation(db.session, serializer, g.account, form.code.data or "")
        except AccessRefused as refused:
            error = refusal_text(REFUSALS, refused.code, refused.params)
        else:
            flash(
                _("You already had access to this request.")
                if redeemed.already_had_access
                else _(
                    "You can now see this request. The survivor can take your access away "
                    "at any time."
                )
            )
            return redirect(url_for(".case", case_id=redeemed.case.id), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("advocate/redeem.html", form=form, error=error), status


# Filing for a survivor: places, details, consent, review. The draft is kept apart from a
# survivor's (journey.ADVOCATE_DRAFT).


def _draft() -> journey.Draft:
    return journey.Draft.load(journey.ADVOCATE_DRAFT)


def _draft_with_places() -> journey.Draft | None:
    return journey.draft_with_places(journey.ADVOCATE_DRAFT)


@bp.route("/file/places", methods=["GET", "POST"])
@limiter.limit(lookup_limit, methods=["POST"])
@advocate_required
def places() -> str | BaseResponse:
    """Step 1: paste the places, one a line; each line gets its own verdict."""
    form = PlacesForm()
    draft = _draft()
    report: list[Any] = []
    routes: dict[int, Any] = {}
    problem = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        action = request.form.get("action", "check")
        if action == "clear":
            draft.discard()
            return redirect(url_for(".places"), 303)
        pasted = form.pasted.data or ""
        left_over = session.pop(LEFT_OVER, None)
        if (
            action == "continue"
            and draft.has_places
            and pasted.strip()
            and (pasted.strip() == left_over)
        ):
            # Going on with the lines that could not be used still in the box: they are left out.
            flash(_("The lines that could not be used were left out."))
            return redirect(url_for(".details"), 303)
        if pasted.strip():
            services = current_services()
            platform = (form.platform.data or "").strip() or None
            try:
                report = check_pasted_lines(
                    pasted, services, already=draft.locations, platform=platform
                )
            except IntakeError as error:
                problem = rejection_text(error.code, error.params)
            else:
                accepted = [line for line in report if line.outcome == LineOutcome.ACCEPTED]
                locations = [line.location for line in accepted if line.location is not None]
                draft.add(locations)
                draft.save()
                decisions = dry_run_routes(locations, services, draft.country)
                routes = {
                    line.line: decision for line, decision in zip(accepted, decisions, strict=True)
                }
                # Lines that were not accepted stay in the box, to be corrected.
                form.pasted.data = "\n".join(
                    line.text for line in report if line.outcome == LineOutcome.REJECTED
                )
                session[LEFT_OVER] = form.pasted.data.strip()
        else:
            try:
                check_location_count(
                    len(draft.locations) if action == "continue" else 0,
                    current_services().settings.max_locations,
                )
            except IntakeError as error:
                problem = rejection_text(error.code, error.params)
            else:
                return redirect(url_for(".details"), 303)
    return render_template(
        "advocate/places.html",
        form=form,
        locations=draft.locations,
        report=report,
        routes=routes,
        problem=problem,
        max_locations=current_services().settings.max_locations,
    )


def _per_account() -> str:
    # An organisation files for many survivors from one office: its advocates are limited each
    # on their own, not by the address they share with everyone there.
    return f"account:{session.get('account_id')}"


@bp.route("/file/details", methods=["GET", "POST"])
@advocate_required
def details() -> str | BaseResponse:
    """Step 2: what the material is and about the survivor, all optional."""
    return journey.answers_step(
        _draft_with_places(),
        DetailsForm,
        "advocate/details.html",
        start=".places",
        then=".consent",
        language=current_language(),
    )


@bp.route("/file/consent", methods=["GET", "POST"])
@advocate_required
def consent() -> str | BaseResponse | tuple[str, int]:
    """Step 3: how and when the survivor consented, and whether they want their own receipt."""
    draft = _draft_with_places()
    if draft is None:
        return redirect(url_for(".places"), 303)
    form = ConsentForm.filled_from(draft.consent)
    error = None
    if request.method == "POST":
        form = ConsentForm()
        form.validate_on_submit()
        if form.given_on.errors and form.given_on.raw_data and form.given_on.raw_data[0]:
            error = str(REFUSALS["consent_date_invalid"])
            return render_template("advocate/consent.html", form=form, error=error), 400
        try:
            draft.consent = check_consent(
                form.method.data or None,
                None if form.given_on.errors else form.given_on.data,
                form.receipt_choice(),
            )
        except ConsentRefused as refused:
            error = refusal_text(REFUSALS, refused.code, refused.params)
        else:
            draft.save()
            return redirect(url_for(".review"), 303)
    status = 400 if error else 200
    return render_template("advocate/consent.html", form=form, error=error), status


def _filing(draft: journey.Draft) -> IntakeRequest | None:
    """The request the draft describes, once its consent is recorded."""
    if draft.consent is None:
        return None
    return draft.intake_request(current_services(), current_language(), advocate_id=g.account.id)


@bp.get("/file/review")
@advocate_required
def review() -> str | BaseResponse:
    """Step 4: where each place will go and why, the answers and the consent, before sending."""
    draft = _draft_with_places()
    if draft is None:
        return redirect(url_for(".places"), 303)
    if draft.consent is None:
        return redirect(url_for(".consent"), 303)
    plan = plan_routes(draft.locations, current_services(), draft.country)
    return render_template(
        "advocate/review.html",
        draft=draft,
        locations=draft.locations,
        plan=plan,
        consent=draft.consent,
        form=ConfirmForm(),
    )


@bp.post("/file/send")
@filing_quota("advocate-filing", advocate_filing_limit, refused_filing_limit, _per_account)
@advocate_required
def send() -> str | BaseResponse:
    """File the request. If the survivor wants their own receipt, it is shown here once, to hand
    over; they get a new passphrase at their first sign-in."""
    draft = _draft_with_places()
    pending = _filing(draft) if draft is not None else None
    if draft is None or pending is None:
        flash(str(journey.ALREADY_SENT))
        return redirect(url_for(".dashboard"), 303)
    filed = journey.file_draft(
        db.session,
        current_services(),
        draft,
        pending,
        gone=".dashboard",
        review=".review",
        look_again=_("Something in the answers needs another look."),
    )
    if not isinstance(filed, FiledRequest):
        return filed
    flash(ngettext("Sent %(num)d place.", "Sent %(num)d places.", len(pending.locations)))
    return render_template("advocate/filed.html", filed=filed)
