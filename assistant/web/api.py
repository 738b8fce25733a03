"""JSON API v1 (DESIGN section 7). JSON in and out; errors are ``{"error": {code, message}}``.

Survivor endpoints take ``Authorization: Bearer <token>``; a token is an itsdangerous-signed random
session id whose server-side row ends on sign-out, on erase, after 15 idle minutes and at a hard
limit. Cookies are never read here, so CSRF does not apply.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from collections.abc import Sequence
from functools import wraps
from typing import Any
from typing import TypeVar

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import g
from flask import jsonify
from flask import request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer
from werkzeug.exceptions import HTTPException

from ..cases import replays
from ..cases.intake import FiledRequest
from ..cases.intake import IntakeError
from ..cases.intake import IntakeRequest
from ..cases.intake import LocationBatch
from ..cases.intake import LocationEntry
from ..cases.intake import PlannedReferral
from ..cases.intake import add_locations
from ..cases.intake import collect_within_limits
from ..cases.intake import dry_run_routes
from ..cases.intake import file_request
from ..cases.receipts import InvalidProposal
from ..cases.receipts import InvalidReceipt
from ..cases.receipts import ReceiptLocked
from ..cases.receipts import check_receipt
from ..cases.receipts import passphrase_proposals
from ..cases.receipts import propose_passphrase
from ..cases.receipts import replace_passphrase
from ..cases.retention import erase_case
from ..cases.status import MessageRejected
from ..cases.status import post_survivor_message
from ..cases.status import read_case_rows
from ..cases.status import view_of_case
from ..config import SUPPORTED_LANGUAGES
from ..config import language_tag
from ..config import supported_language
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
from ..routing import DEFAULT_KIND
from ..routing import Hotline
from ..routing import Kind
from ..routing.countries import checked_country
from ..sessions import end_session
from ..sessions import load_session
from ..sessions import new_session_id
from ..sessions import refresh_session
from ..sessions import save_session
from ..support_resources import Resource
from ..vocabulary import Category
from ..vocabulary import MinorAnswer
from ..vocabulary import member
from . import texts
from .access import SURVIVOR
from .access import declare
from .access import public
from .api_contract import Contract
from .api_contract import Problem
from .openapi import openapi_document
from .quota import filing_quota
from .session_interface import session_clock
from .texts import current_language
from .texts import event_text
from .texts import message_rejection_text
from .texts import reason_text
from .texts import rejection_text

bp = Blueprint("api", __name__, url_prefix="/api/v1")

F = TypeVar("F", bound=Callable[..., Any])
TOKEN_KIND = "api"  # noqa: S105 (a session kind, not a secret)
ERROR_MESSAGES = {
    400: _l("The request could not be read."),
    401: _l("You need to sign in for this."),
    403: _l("This is not allowed."),
    404: _l("There is nothing here."),
    405: _l("This method is not allowed here."),
    409: _l("This conflicts with the current state."),
    413: _l("The request is too large."),
    415: _l("Send JSON (Content-Type: application/json). Nothing can be uploaded."),
    422: _l("Some of the input could not be used."),
    429: _l("Too many tries. Please wait and try again."),
    503: _l("The service cannot reach its records just now. Nothing was saved. Try again soon."),
}
INVALID_TOKEN = _l("This token is not valid or has expired.")
BAD_FILING_KEY = _l("The Idempotency-Key header is 16 to 255 printable characters without spaces.")
ALREADY_FILED = _l(
    "A request was filed with this Idempotency-Key more than ten minutes ago. Its receipt was "
    "in the answer to that request; it cannot be given again."
)
PASSPHRASE_CHANGE_REQUIRED = _l(
    "Someone else handed you this receipt. Get a new passphrase first: POST "
    "/api/v1/requests/me/passphrase."
)


# The sentence for each code a request's field can be refused with (the locations' own are in
# texts.REJECTION_TEXTS, a message's in texts.MESSAGE_REFUSALS). Keyed by code, or by code and
# field where one code has different words for different fields.
FIELD_TEXTS: dict[str | tuple[str, str], Any] = {
    "bad_categories": _l("'categories' is a list of: %(categories)s."),
    "bad_minor_answer": _l("'minor_in_material' is yes, no or unsure."),
    "bad_language": _l("'language' must be one of %(languages)s."),
    ("bad_language", "lang"): _l("'lang' must be one of %(languages)s."),
    ("bad_language", "lang/pattern"): _l("'lang' must be a language tag such as fr or pt-BR."),
    "bad_country": _l("'%(field)s' must be an ISO 3166-1 alpha-2 code."),
    "bad_receipt": _l("Send 'case_number' and 'passphrase' as strings."),
    "bad_proposal": _l("Send 'proposal' as a string."),
    "bad_message": _l("Send 'body' as a string and 'referral_id' as a number."),
    "bad_location": _l("Each location is an object with a string 'value'."),
    ("bad_location", "note"): _l("'note' and 'platform' must be strings."),
    ("bad_location", "platform"): _l("'note' and 'platform' must be strings."),
    "unknown_kind": _l("'kind' must be one of %(kinds)s."),
    "unknown_field": _l("'%(field)s' is not part of this request."),
    "invalid_locations": ERROR_MESSAGES[422],
    # The hotline systems API's fields and parameters.
    "invalid_field": _l("'%(field)s' cannot be used like this: see the API's description."),
    "bad_limit": _l("'limit' is a whole number from 1 to 100."),
    "bad_cursor": _l("This cursor was not issued by this service."),
}
# Codes a request is refused with as unreadable (400) rather than as unusable (422).
UNREADABLE = frozenset({"bad_receipt", "bad_proposal"})


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: Any, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(code)
        self.status, self.code, self.message, self.details = status, code, str(message), details


def json_error(
    status: int, code: str, message: Any, details: list[dict[str, Any]] | None = None
) -> Response:
    body: dict[str, Any] = {"code": code, "message": str(message)}
    if details:
        body["details"] = details
    response = jsonify({"error": body})
    response.status_code = status
    return response


def json_error_for(error: HTTPException) -> Response:
    """An HTTP error as the API's JSON envelope, with the headers it calls for (``Allow`` on a
    405, ``Retry-After`` on a 429)."""
    status = error.code or 500
    code = (error.name or "error").lower().replace(" ", "_")
    response = json_error(status, code, ERROR_MESSAGES.get(status, _l("Something went wrong.")))
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    response = json_error(error.status, error.code, error.message, error.details)
    if error.status == 429 and g.get("retry_after"):
        response.headers["Retry-After"] = str(g.retry_after)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


@bp.before_request
def _only_json() -> None:
    """Refuse any body but JSON before it is parsed (multipart never gets this far: the app
    refuses it for every route)."""
    has_body = request.method in ("POST", "PUT", "PATCH") or bool(request.content_length)
    if has_body and request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", ERROR_MESSAGES[415])


def api_contract() -> Contract:
    """The contract of this app's API: its OpenAPI document with this deployment's limits."""
    found = current_app.extensions.get("assistant.api_contract")
    if found is None:
        found = Contract(openapi_document(current_services().settings))
        current_app.extensions["assistant.api_contract"] = found
    contract: Contract = found
    return contract


def _field_text(problem: Problem) -> str:
    """A refused field's code in words, in the reader's language."""
    top = problem.field.split("/", 1)[0]
    field = problem.field.rsplit("/", 1)[-1]
    params = {
        "field": problem.field,
        "categories": ", ".join(Category),
        "kinds": ", ".join(Kind),
        "languages": ", ".join(map(language_tag, SUPPORTED_LANGUAGES)),
        **problem.params,
    }
    if top == "locations" and problem.code in texts.REJECTION_TEXTS:
        return rejection_text(problem.code, params)
    if top == "body" and problem.code in texts.MESSAGE_REFUSALS:
        return message_rejection_text(problem.code, params)
    template = (
        FIELD_TEXTS.get((problem.code, f"{field}/{problem.keyword}"))
        or FIELD_TEXTS.get((problem.code, field))
        or FIELD_TEXTS.get(problem.code)
    )
    return str(template) % params if template is not None else str(ERROR_MESSAGES[422])


def refused(problems: Sequence[Problem]) -> ApiError:
    """The request refused for these problems: the first one's code, a detail for each."""
    first = problems[0]
    details = []
    for problem in problems:
        detail: dict[str, Any] = {"field": problem.field, "code": problem.code}
        if problem.index is not None:
            detail["index"] = problem.index
        detail["message"] = _field_text(problem)
        details.append(detail)
    code = first.request_code
    message = details[0]["message"] if code == first.code else ERROR_MESSAGES[422]
    return ApiError(400 if code in UNREADABLE else 422, code, message, details)


def checked_request() -> dict[str, Any]:
    """This request checked against its operation in the OpenAPI document: the query parameters
    it declares, and the JSON body. Returns the body ({} for an operation without one); raises
    400 for a body that is not a JSON object and 422 (400 for an unreadable receipt or proposal)
    for what the document refuses, with a detail per field."""
    contract = api_contract()
    rule = request.url_rule.rule if request.url_rule else request.path
    # A Flask rule's "<name>" (or "<converter:name>") is the document's "{name}".
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.removeprefix(bp.url_prefix or ""))
    operation = contract.operation(path, request.method)
    if operation is None:  # every route of this blueprint is in the document (a test says so)
        raise ApiError(405, "method_not_allowed", ERROR_MESSAGES[405])
    problems = contract.query_problems(operation, request.args)
    body: dict[str, Any] = {}
    if contract.body_schema(operation) is not None:
        body = _body()
        problems += contract.body_problems(operation, body)
    if problems:
        raise refused(problems)
    return body


def _body() -> dict[str, Any]:
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        data = None  # absurdly deep nesting: not a request anyone means
    if data is None:
        raise ApiError(400, "malformed_json", _("The body is not valid JSON."))
    if not isinstance(data, dict):
        raise ApiError(400, "malformed_json", _("The body must be a JSON object."))
    return data


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_services().settings.secret_key, salt="api-session-token")


def _token_lifetimes() -> tuple[dt.timedelta, dt.timedelta]:
    settings = current_services().settings
    return (
        dt.timedelta(minutes=settings.survivor_idle_minutes),
        dt.timedelta(hours=settings.api_token_max_hours),
    )


def _raw_id_from_header() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthenticated", _("Sign in first: POST /api/v1/session."))
    _idle, longest = _token_lifetimes()
    try:
        raw_id = _serializer().loads(token.strip(), max_age=int(longest.total_seconds()))
    except BadSignature as exc:
        raise ApiError(401, "invalid_token", INVALID_TOKEN) from exc
    if not isinstance(raw_id, str):
        raise ApiError(401, "invalid_token", INVALID_TOKEN)
    return raw_id


def token_required(view: F, *, with_handed_over_receipt: bool = False) -> F:
    """For a survivor's token. Until a receipt an advocate handed over is replaced (POST
    /requests/me/passphrase), only that and signing out are allowed."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        raw_id = _raw_id_from_header()
        now = session_clock(current_app)()
        loaded = load_session(db.session, current_services().cipher, raw_id, TOKEN_KIND, now=now)
        case = loaded.case if loaded else None
        if loaded is None or case is None:
            raise ApiError(401, "invalid_token", INVALID_TOKEN)
        # The idle expiry moves on at most once a minute: a read in between writes nothing.
        idle, _longest = _token_lifetimes()
        record = loaded.record
        if not refresh_session(
            db.session,
            raw_id,
            expires_at=record.expires_at,
            ends_at=record.ends_at,
            idle=idle,
            now=now,
        ):
            raise ApiError(401, "invalid_token", INVALID_TOKEN)
        g.token_raw_id = raw_id
        if case.must_change_passphrase and not with_handed_over_receipt:
            raise ApiError(403, "passphrase_change_required", PASSPHRASE_CHANGE_REQUIRED)
        return view(case, *args, **kwargs)

    return declare(SURVIVOR)(wrapped)  # type: ignore[return-value]


def _handed_over_receipt(view: F) -> F:
    return token_required(view, with_handed_over_receipt=True)


def _hotline_json(hotline: Hotline) -> dict[str, Any]:
    return {"id": hotline.id, "name": hotline.name, "country": hotline.country}


def _reasons_json(reasons: Sequence[Any]) -> list[dict[str, Any]]:
    directory = current_services().directory
    out: list[dict[str, Any]] = []
    for reason in reasons:
        item = reason if isinstance(reason, dict) else reason.as_dict()
        out.append(
            {
                "code": item["code"],
                "params": dict(item.get("params") or {}),
                "text": reason_text(item, directory),
            }
        )
    return out


def _referrals_json(
    plan: list[PlannedReferral], positions: list[list[int]]
) -> list[dict[str, Any]]:
    """Per referral: the hotline, the request's location indexes (0-based), distinct reasons."""
    result = []
    for planned in plan:
        indexes = sorted(p - 1 for i in planned.location_indexes for p in positions[i])
        distinct: list[Any] = []
        for reasons in planned.reasons:
            for reason in reasons:
                if reason not in distinct:
                    distinct.append(reason)
        result.append(
            {
                "hotline": _hotline_json(planned.hotline),
                "locations": indexes,
                "reasons": _reasons_json(distinct),
            }
        )
    return result


def _checked_locations(raw: list[dict[str, Any]]) -> LocationBatch:
    """The locations of a body the document accepted, normalised; what the domain refuses gets a
    detail per location."""
    entries = [
        LocationEntry(
            kind=item.get("kind") or DEFAULT_KIND,
            value=item["value"],
            note=item.get("note"),
            platform=item.get("platform"),
        )
        for item in raw
    ]
    batch = collect_within_limits(entries, current_services())
    if batch.rejections:
        raise refused(
            [
                Problem(
                    f"locations/{r.position - 1}/value",
                    r.code,
                    "invalid_locations",
                    index=r.position - 1,
                    params=r.params,
                )
                for r in batch.rejections
            ]
        )
    return batch


def _country(value: str | None, field: str) -> str | None:
    try:
        return checked_country(value)
    except ValueError:
        raise refused([Problem(field, "bad_country", "bad_country")]) from None


@bp.post("/requests")
@filing_quota("filing", filing_limit, refused_filing_limit, rate_limit_key)
@public
def create_request() -> tuple[Response, int]:
    """File a request. 201 with the receipt (the only time the passphrase is returned, but for
    a retry with the same ``Idempotency-Key`` within ten minutes, which gets the same one)."""
    services = current_services()
    replay_key = _filing_replay_key()
    digest = replays.request_digest(services.keyed_hasher, request.full_path, request.get_data())
    if replay_key is not None and (answer := _replayed(replay_key, digest)) is not None:
        return answer, 201
    body = checked_request()
    language = supported_language(body.get("language")) or current_language()
    country = _country(body.get("survivor_country"), "survivor_country")
    batch = _checked_locations(body["locations"])
    intake = IntakeRequest(
        locations=batch.accepted,
        categories=frozenset(map(Category, body.get("categories") or ())),
        minor_in_material=member(MinorAnswer, body.get("minor_in_material")),
        survivor_country=country,
        language=language,
        submission_key=replay_key.submission_key if replay_key else None,
    )

    def receipt(filed: FiledRequest) -> dict[str, Any]:
        assert filed.passphrase is not None  # a survivor always holds their receipt
        with force_locale(language):
            referrals = _referrals_json(filed.referrals, batch.positions)
        return {
            "case_number": filed.case_number,
            "passphrase": filed.passphrase,
            "referrals": referrals,
        }

    def keep(filed: FiledRequest) -> None:
        if replay_key is not None:
            replays.remember(db.session, filed.case, replay_key, digest, receipt(filed))

    try:
        filed = file_request(db.session, services, intake, on_filed=keep)
        note_filed()
    except IntakeError as error:
        if error.code == "already_sent" and replay_key is not None:
            # The same key at the same moment: the other request filed it; its answer is kept.
            if (answer := _replayed(replay_key, digest)) is not None:
                return answer, 201
            raise ApiError(409, "already_filed", ALREADY_FILED) from error
        raise ApiError(422, error.code, rejection_text(error.code, error.params)) from error
    return jsonify(receipt(filed)), 201


def _filing_replay_key() -> replays.ReplayKey | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not replays.IDEMPOTENCY_KEY.fullmatch(key):
        raise ApiError(400, "bad_idempotency_key", BAD_FILING_KEY)
    return replays.ReplayKey.of(current_services().keyed_hasher, key, "api")


def _replayed(key: replays.ReplayKey, digest: str) -> Response | None:
    try:
        answer = replays.replay(db.session, key, digest)
    except replays.ReplayMismatch:
        raise ApiError(
            422, "idempotency_key_reused", _("This Idempotency-Key was used for another request.")
        ) from None
    finally:
        db.session.rollback()
    if answer is None:
        return None
    response = jsonify(answer)
    response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.post("/session")
@limiter.shared_limit(receipt_limit, scope="receipt")
@public
def create_session() -> Response:
    """Exchange a receipt for a token. One 401 whichever part is wrong; 429 when locked."""
    body = checked_request()
    try:
        services = current_services()
        case = check_receipt(
            db.session,
            services.passphrases,
            services.receipt_tries,
            request.remote_addr or "unknown",
            body["case_number"],
            body["passphrase"],
        )
    except InvalidReceipt as exc:
        raise ApiError(
            401, "invalid_receipt", _("That case number and passphrase do not match.")
        ) from exc
    except ReceiptLocked as locked:
        g.retry_after = int(locked.retry_after.total_seconds()) + 1
        raise ApiError(429, "too_many_tries", ERROR_MESSAGES[429]) from locked
    db.session.commit()
    return jsonify(_new_token(case))


def _save_token(raw_id: str, case: Case, *, create: bool = False) -> bool:
    """Keep a token's session alive (or start it): False when it has ended meanwhile."""
    idle, longest = _token_lifetimes()
    return save_session(
        db.session,
        current_services().cipher,
        raw_id,
        TOKEN_KIND,
        {},
        idle=idle,
        longest=longest,
        case_id=case.id,
        create=create,
        now=session_clock(current_app)(),
    )


def _new_token(case: Case) -> dict[str, Any]:
    raw_id = new_session_id()
    _save_token(raw_id, case, create=True)
    idle, _longest = _token_lifetimes()
    return {
        "token": _serializer().dumps(raw_id),
        "expires_in": int(idle.total_seconds()),
        "must_change_passphrase": case.must_change_passphrase,
    }


@bp.post("/requests/me/passphrase")
@_handed_over_receipt
def new_passphrase(case: Case) -> Response:
    """Two steps. ``{}`` returns a new random passphrase and a ``proposal``; nothing changes yet.
    ``{"proposal": ...}`` (within an hour) puts it in force and returns a new token: the old
    passphrase and every token of the case stop working. Required first when an advocate handed
    the receipt over."""
    body = checked_request()
    serializer = passphrase_proposals(current_services().settings.secret_key)
    proposal = body.get("proposal")
    if proposal is None:
        passphrase, proposal = propose_passphrase(serializer, case)
        return jsonify(
            {"case_number": case.case_number, "passphrase": passphrase, "proposal": proposal}
        )
    try:
        replace_passphrase(db.session, current_services().passphrases, serializer, case, proposal)
    except InvalidProposal as exc:
        raise ApiError(
            422,
            "bad_proposal",
            _("That proposal is not valid or is more than an hour old. Ask for a new one."),
        ) from exc
    return jsonify({"case_number": case.case_number, **_new_token(case)})


@bp.delete("/session")
@_handed_over_receipt
def delete_session(_case: Case) -> tuple[str, int]:
    """Sign out: the token stops working."""
    checked_request()
    end_session(db.session, g.token_raw_id)
    return "", 204


@bp.get("/requests/me")
@token_required
def my_request(case: Case) -> Response:
    """The case as its survivor sees it: masked locations, statuses, timelines, messages."""
    checked_request()
    # Who else has access is not part of this answer: their rows are read only to sign a message.
    # Read as plain rows: this answer only reads (see read_case_rows).
    rows = read_case_rows(db.session, case, advocates=False)
    view = view_of_case(current_services(), case, rows)
    directory = current_services().directory
    hotline_of = {r.id: r.hotline for r in view.referrals}
    return jsonify(
        {
            "case_number": view.case_number,
            "status": view.status,
            "created_on": view.created_on.isoformat(),
            "locations": [
                {
                    "id": loc.id,
                    "kind": loc.kind,
                    "display": loc.display,
                    "status": loc.status,
                    "status_changed_on": loc.status_changed_on.isoformat(),
                    "hotline": _hotline_json(loc.hotline) if loc.hotline else None,
                    "reasons": _reasons_json(loc.reasons),
                }
                for loc in view.locations
            ],
            "referrals": [
                {
                    "id": ref.id,
                    "hotline": _hotline_json(ref.hotline)
                    if ref.hotline
                    else {"id": ref.hotline_id},
                    "status": ref.status,
                    "locations": ref.location_ids,
                    "events": [
                        {
                            "code": e.code,
                            "on": e.occurred_on.isoformat(),
                            "location": e.location_id,
                            "text": event_text(e.code, e.params, directory),
                        }
                        for e in ref.events
                    ],
                }
                for ref in view.referrals
            ],
            "messages": [
                {
                    "id": m.id,
                    "from": m.author,
                    "body": m.body,
                    "sent_on": m.sent_on.isoformat(),
                    "hotline": (
                        _hotline_json(h) if (h := hotline_of.get(m.referral_id or -1)) else None
                    ),
                }
                for m in view.messages
            ],
        }
    )


@bp.post("/requests/me/locations")
@filing_quota("filing", filing_limit, refused_filing_limit, rate_limit_key)
@token_required
def add_my_locations(case: Case) -> tuple[Response, int]:
    """Add locations to the case; routed the same way. 201 with where they went."""
    batch = _checked_locations(checked_request()["locations"])
    try:
        added = add_locations(db.session, current_services(), case, batch.accepted)
        note_filed()
    except IntakeError as error:
        status = 409 if error.code == "already_listed" else 422
        raise ApiError(status, error.code, rejection_text(error.code, error.params)) from error
    positions = [batch.positions[index] for index in added.kept]
    return jsonify({"referrals": _referrals_json(added.plan, positions)}), 201


@bp.post("/requests/me/messages")
@token_required
def write_message(case: Case) -> tuple[Response, int]:
    """Write to the hotline. ``referral_id`` is needed when the case has several hotlines."""
    body = checked_request()
    try:
        message = post_survivor_message(
            db.session, current_services(), case, body["body"], body.get("referral_id")
        )
    except MessageRejected as rejected:
        raise ApiError(
            422, rejected.code, message_rejection_text(rejected.code, rejected.params)
        ) from rejected
    return jsonify({"id": message.id, "sent_on": message.sent_on.isoformat()}), 201


@bp.delete("/requests/me")
@token_required
def erase_my_request(case: Case) -> tuple[str, int]:
    """Withdraw and erase everything. The token and the receipt stop working."""
    checked_request()
    erase_case(db.session, case, current_services().endpoints)
    return "", 204


@bp.post("/route")
@limiter.limit(lookup_limit)
@public
def dry_run() -> Response:
    """Where each location would go, and why. Stores nothing."""
    body = checked_request()
    country = _country(body.get("survivor_country"), "survivor_country")
    batch = _checked_locations(body["locations"])
    decisions = dry_run_routes(batch.accepted, current_services(), country)
    routes = [
        {
            "location": position - 1,
            "hotline": _hotline_json(decision.hotline),
            "reasons": _reasons_json(decision.reasons),
        }
        for decision, positions in zip(decisions, batch.positions, strict=True)
        for position in positions
    ]
    routes.sort(key=lambda route: int(str(route["location"])))
    return jsonify({"routes": routes})


@bp.get("/hotlines")
@public
def hotlines() -> Response:
    """The directory, as shipped (with sources and the date a person verified each entry)."""
    checked_request()
    directory = current_services().directory
    country = _country(request.args.get("country"), "country")
    listed = directory.hotlines_for_country(country) if country else directory.hotlines.values()
    items = [
        {
            **_hotline_json(h),
            "operator": h.operator,
            "countries": list(h.countries),
            "sends_notices_worldwide": h.sends_notices_worldwide,
            "languages": list(h.languages),
            "website": h.website,
            "report_url": h.report_url,
            "accepts_dark_web": h.accepts_dark_web,
            "accepts_p2p": h.accepts_p2p,
            "intake": h.intake,
            "sources": list(h.sources),
            "verified_on": h.verified_on,
        }
        for h in sorted(listed, key=lambda h: h.id)
    ]
    return jsonify({"hotlines": items, "fallback": directory.fallback_id})


def resource_json(entry: Resource) -> dict[str, Any]:
    """One support service; ``kind_label``, ``audience_label`` and ``hours_text`` are in the
    language of the answer."""
    return {
        "id": entry.id,
        "country": entry.country,
        "name": entry.name,
        "kind": entry.kind,
        "kind_label": str(texts.RESOURCE_KIND_LABELS[entry.kind]),
        "audience": entry.audience,
        "audience_label": str(texts.AUDIENCE_LABELS[entry.audience]),
        "phone": entry.phone,
        "text": (
            {"number": entry.text_number, "keyword": entry.text_keyword}
            if entry.text_number
            else None
        ),
        "web": entry.web,
        "hours": (
            "24/7"
            if entry.always_open
            else [
                {"days": list(item.days), "opens": item.opens, "closes": item.closes}
                for item in entry.hours
            ]
            or None
        ),
        "timezone": entry.timezone,
        "hours_text": texts.hours_text(entry),
        "languages": list(entry.languages),
        "free": entry.free,
        "sources": list(entry.sources),
        "verified_on": entry.verified_on.isoformat() if entry.verified_on else None,
    }


@bp.get("/resources")
@public
def resources() -> Response:
    """Support services for a country (and the international ones), those that answer in the
    reader's language first within each kind. Without ``country``: the international ones."""
    checked_request()
    country = _country(request.args.get("country"), "country")
    language = (request.args.get("lang") or current_language()).replace("-", "_")
    services = current_services()
    entries = services.resources.for_reader(country, language)
    return jsonify(
        {
            "country": country,
            "language": language_tag(current_language()),
            "covered": country in services.resources.countries() if country else False,
            "resources": [
                {**resource_json(entry), "speaks_your_language": entry.speaks(language)}
                for entry in entries
            ],
        }
    )


@bp.get("/openapi.json")
@public
def openapi() -> Response:
    """The OpenAPI 3.1 description of this API (the contract every request is checked
    against)."""
    checked_request()
    return jsonify(api_contract().document)
