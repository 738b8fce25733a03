"""The hotline systems API (``/api/v1/hotline/``, DESIGN section 7): a hotline's own case system
reads its changes feed and its referrals, acts on them through the portal's state machine, and
writes to survivors, with an API key of its hotline (``Authorization: Bearer rra_...``).

The same envelope and the same OpenAPI document as the rest of the API; every body is checked
against it. A key that is wrong, revoked, past its overlap or without the scope gets one
message, whichever it is (401, or 403 for a scope). A referral of another hotline is the same
404 as one that does not exist. Actions carry the referral's ``version`` (409 when it changed)
and may carry an ``Idempotency-Key``: a retried call gets the first call's answer and changes
nothing. Keys are never logged; each use is audited under the key's name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from functools import wraps
from typing import Any
from typing import TypeVar

from flask import Blueprint
from flask import Response
from flask import g
from flask import jsonify
from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import current_services
from ..extensions import db
from ..extensions import limiter
from ..hotline import api_requests
from ..hotline import feed
from ..hotline import notices as notice_work
from ..hotline import referrals
from ..hotline.api_keys import KeyUse
from ..hotline.api_keys import authenticate
from ..hotline.referrals import ActionRefused
from ..hotline.referrals import Automatic
from ..hotline.referrals import BulkRefused
from ..hotline.referrals import ReferralChanged
from ..hotline.reports import reporting_reference
from ..hotline.systems import api_referral
from ..models import MAX_ROW_ID
from ..models import Account
from ..models import Message
from ..models import Referral
from ..people import audit
from ..vocabulary import ApiScope
from .access import HOTLINE_SYSTEM
from .access import declare
from .api import ERROR_MESSAGES
from .api import ApiError
from .api import _api_error
from .api import _only_json
from .api import checked_request
from .staff_texts import ACTION_REFUSALS
from .texts import refusal_text

bp = Blueprint("hotline_api", __name__, url_prefix="/api/v1/hotline")
bp.before_request(_only_json)
bp.register_error_handler(ApiError, _api_error)

F = TypeVar("F", bound=Callable[..., Any])
KEY_REFUSED = _l("This API key is not valid, or may not do this.")
REFERENCE = re.compile(r"RRA-([1-9][0-9]{0,9})")
# Refusals that say the input was wrong (422) rather than that the referral's state does not
# allow the step (409).
INPUT_REFUSALS = frozenset(
    {
        "bad_assessment",
        "subtype_required",
        "subtype_only_for_harmful",
        "bad_country",
        "bad_notice_type",
        "provider_required",
        "date_in_future",
        "bad_date",
        "bad_reason",
        "unknown_hotline",
        "same_hotline",
        "unknown_colleague",
        "bad_response",
        "bad_response_date",
        "unknown_notice",
        "unknown_location",
        "unknown_provider",
        "bad_recipient",
        "recipient_required",
        "nothing_selected",
        "empty",
        "too_long",
        "control_characters",
    }
)
# The fields each action needs besides ``action`` and ``version``.
NEEDS: dict[str, tuple[str, ...]] = {
    "acknowledge": (),
    "assess": ("places", "assessment"),
    "record_notice": ("places", "notice_type", "provider", "sent_on"),
    "send_notice": ("places", "notice_type", "recipient"),
    "record_response": ("response", "response_on"),
    "reroute": ("hotline", "reason"),
    "close": ("reason",),
    "reopen": (),
    "assign": ("assignee",),
}


def _per_key() -> str:
    """Rate limits count per key presented (a hash of it), never per address alone: one
    hotline's system polling hard must not slow another's."""
    presented = request.headers.get("Authorization", "").partition(" ")[2].strip()
    return "hotline-key:" + hashlib.sha256(presented.encode("utf-8", "replace")).hexdigest()[:32]


def _refused(response: Response) -> bool:
    return response.status_code in (401, 403)


def hotline_api_limit() -> str:
    return current_services().settings.ratelimit_hotline_api


def key_required(scope: ApiScope) -> Callable[[F], F]:
    """For a hotline system's key with ``scope``; the view sees ``g.key``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            scheme, _sep, presented = request.headers.get("Authorization", "").partition(" ")
            use = None
            if scheme.lower() == "bearer" and presented.strip():
                use = authenticate(db.session, current_services().directory, presented.strip())
                db.session.commit()  # the day it was last used
            if use is None:
                raise ApiError(401, "invalid_key", KEY_REFUSED)
            if scope not in use.scopes:
                raise ApiError(403, "invalid_key", KEY_REFUSED)
            g.key = use
            return view(*args, **kwargs)

        # Per key; and per address only for calls whose key was refused (guessing keys), so
        # that hotlines behind one address do not share a limit.
        limited = limiter.limit(hotline_api_limit, key_func=_per_key)(
            limiter.limit(hotline_api_limit, deduct_when=_refused)(wrapped)
        )
        return declare(HOTLINE_SYSTEM)(limited)  # type: ignore[return-value]

    return decorate


def _key() -> KeyUse:
    use: KeyUse = g.key
    return use


def _actor() -> Automatic:
    return Automatic(_key().hotline_id, _key().actor)


def _not_found() -> ApiError:
    return ApiError(404, "not_found", ERROR_MESSAGES[404])


def _referral_id(reference: str) -> int:
    found = REFERENCE.fullmatch(reference)
    if found is None or int(found.group(1)) > MAX_ROW_ID:
        raise _not_found()
    return int(found.group(1))


def _referral(reference: str) -> Referral:
    referral = referrals.referral_for_staff(db.session, _actor(), _referral_id(reference))
    if referral is None:
        raise _not_found()
    return referral


# --- reading ---


@bp.get("/referrals")
@key_required(ApiScope.READ)
def changes() -> Response:
    """The changes feed: referrals new or changed since ``after``, oldest change first."""
    checked_request()
    services = current_services()
    hotline_id = _key().hotline_id
    try:
        after = feed.read_cursor(services, hotline_id, request.args.get("after"))
    except feed.BadCursor:
        raise ApiError(
            400, "bad_cursor", _("This cursor was not issued by this service.")
        ) from None
    size = int(request.args.get("limit", feed.FEED_PAGE))
    page = feed.feed_page(db.session, hotline_id, after, size)
    # Every use of a key is audited, a poll that finds nothing new too (one row, no content).
    audit.record(db.session, _key().actor, "api.feed_read", "api_key", _key().key_id)
    db.session.commit()
    return jsonify(
        {
            "referrals": [_feed_item(item) for item in page.items],
            "next": feed.cursor_for(services, hotline_id, page.last_seq),
            "more": page.more,
        }
    )


def _feed_item(item: feed.FeedItem) -> dict[str, Any]:
    if item.withdrawn:
        return {
            "reporting_reference": reporting_reference(item.referral_id),
            "change": item.seq,
            "state": item.reason or "withdrawn",
            "withdrawn_on": item.withdrawn_on.isoformat() if item.withdrawn_on else None,
        }
    assert item.received_on is not None
    return {
        "reporting_reference": reporting_reference(item.referral_id),
        "change": item.seq,
        "state": "open" if item.closed_reason is None else "closed",
        "status": item.status,
        "version": item.version,
        "received_date": item.received_on.isoformat(),
        "places": item.places,
    }


def _withdrawn(referral_id: int) -> Response | None:
    """A referral of this hotline whose case was withdrawn: said so, with nothing of it."""
    found = feed.withdrawal_of(db.session, _key().hotline_id, referral_id)
    if found is None:
        return None
    # Audited like any use of a key: the referral's id, which the hotline knows, no case.
    audit.record(db.session, _key().actor, "referral.viewed", "referral", referral_id)
    db.session.commit()
    return jsonify(
        {
            "reporting_reference": reporting_reference(referral_id),
            "state": found.reason,
            "withdrawn_on": found.withdrawn_on.isoformat(),
        }
    )


@bp.get("/referrals/<reference>")
@key_required(ApiScope.READ)
def referral(reference: str) -> Response:
    """Everything the portal shows of the referral. Audited as a view."""
    checked_request()
    withdrawn = _withdrawn(_referral_id(reference))
    if withdrawn is not None:
        return withdrawn
    found = _referral(reference)
    assignee = None
    if found.assigned_to is not None:
        account = db.session.get(Account, found.assigned_to)
        assignee = account.email if account is not None else None
    payload = api_referral(db.session, current_services(), found, assignee)
    referrals.record_view(db.session, _actor(), found)
    return jsonify(payload)


@bp.get("/referrals/<reference>/messages")
@key_required(ApiScope.READ)
def messages(reference: str) -> Response:
    """The messages between the survivor and the hotline about this referral. Audited."""
    checked_request()
    found = _referral(reference)
    cipher = current_services().cipher
    rows = db.session.scalars(
        select(Message).where(Message.referral_id == found.id).order_by(Message.id)
    )
    payload = [_message_json(m, cipher.open(m.body_sealed, "message.body")) for m in rows]
    referrals.record_view(db.session, _actor(), found, "referral.messages_read")
    return jsonify({"reporting_reference": reporting_reference(found), "messages": payload})


def _message_json(message: Message, body: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": message.id,
        "author": message.author,
        "sent_on": message.sent_on.isoformat(),
    }
    if body is not None:
        item["body"] = body
    return item


# --- acting ---


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not api_requests.IDEMPOTENCY_KEY.fullmatch(key):
        raise ApiError(
            400,
            "bad_idempotency_key",
            _("The Idempotency-Key header is 1 to 100 printable characters without spaces."),
        )
    return key


def _replay(key: str | None, digest: str) -> Response | None:
    """The answer a call with this key already got, if there was one."""
    if key is None:
        return None
    found = api_requests.remembered(db.session, _key().hotline_id, key)
    db.session.rollback()
    if found is None:
        return None
    if found.request_digest != digest:
        raise ApiError(
            422,
            "idempotency_key_reused",
            _("This Idempotency-Key was used for another request."),
        )
    response = jsonify(found.response)
    response.status_code = found.status_code
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _refusal(refused: ActionRefused, places: list[int] | None = None) -> ApiError:
    if isinstance(refused, ReferralChanged):
        return ApiError(
            409,
            "version_conflict",
            _("The referral changed since that version. Nothing was done: read it again."),
            [{"field": "version", "code": "changed", "message": ERROR_MESSAGES[409]}],
        )
    text = refusal_text(ACTION_REFUSALS, refused.code, refused.params)
    if isinstance(refused, BulkRefused):
        return ApiError(
            409,
            "refused",
            _("Nothing was done: some of the chosen places cannot take this step."),
            [
                {
                    # Where the place is in the request's ``places``.
                    "field": f"places/{(places or []).index(item)}",
                    "index": (places or []).index(item),
                    "code": reason.code,
                    "message": refusal_text(ACTION_REFUSALS, reason.code, reason.params),
                }
                if item in (places or [])
                else {
                    "field": "places",
                    "code": reason.code,
                    "message": refusal_text(ACTION_REFUSALS, reason.code, reason.params),
                }
                for item, reason in refused.items
            ],
        )
    status = 422 if refused.code in INPUT_REFUSALS else 409
    return ApiError(status, refused.code, text)


def _date(body: dict[str, Any], field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(body[field])
    except ValueError:
        raise ApiError(
            422,
            "bad_date",
            _("Dates are written YYYY-MM-DD."),
            [{"field": field, "code": "bad_date", "message": _("Dates are written YYYY-MM-DD.")}],
        ) from None


def _run(action: str, found: Referral, body: dict[str, Any]) -> None:
    """One action through the portal's state machine, as this hotline's system."""
    session, services, actor, version = db.session, current_services(), _actor(), body["version"]
    places = list(body.get("places") or [])
    if action == "acknowledge":
        referrals.acknowledge(session, actor, found, version=version)
    elif action == "assess":
        referrals.assess_places(
            session,
            actor,
            found,
            places,
            body["assessment"],
            body.get("subtype"),
            body.get("hosting_country"),
            version=version,
        )
    elif action == "record_notice":
        referrals.record_notices(
            session,
            services,
            actor,
            found,
            places,
            notice_type=body["notice_type"],
            provider=body["provider"],
            sent_on=_date(body, "sent_on"),
            reference=body.get("reference"),
            escalation=bool(body.get("escalation")),
            version=version,
        )
    elif action == "send_notice":
        notice_work.send_notice(
            session,
            services,
            actor,
            found,
            places,
            notice_type=body["notice_type"],
            subtype=body.get("subtype"),
            provider_id=body.get("provider_id"),
            provider_name=body.get("provider"),
            recipient=body["recipient"],
            version=version,
        )
    elif action == "record_response":
        on = _date(body, "response_on")
        if "notice" in body:
            referrals.record_response(
                session, actor, found, body["notice"], body["response"], on, version=version
            )
        else:
            referrals.record_responses(
                session, actor, found, places, body["response"], on, version=version
            )
    elif action == "reroute":
        referrals.reroute(
            session, services, actor, found, body["hotline"], body["reason"], version=version
        )
    elif action == "close":
        referrals.close(session, actor, found, body["reason"], version=version)
    elif action == "reopen":
        referrals.reopen(session, actor, found, version=version)
    else:  # assign (the schema allows nothing else)
        referrals.assign(session, actor, found, body["assignee"], version=version)


@bp.post("/referrals/<reference>/actions")
@key_required(ApiScope.ACT)
def act(reference: str) -> Response:
    """One of the portal's actions, with the version it was decided on."""
    body = checked_request()
    action = body["action"]
    missing = [field for field in NEEDS[action] if field not in body]
    if action == "record_response" and "notice" not in body and "places" not in body:
        missing.append("places")
    if missing:
        raise ApiError(
            422,
            "missing_field",
            _("This action needs: %(fields)s.", fields=", ".join(missing)),
            [
                {"field": field, "code": "missing_field", "message": ERROR_MESSAGES[422]}
                for field in missing
            ],
        )
    key = _idempotency_key()
    digest = api_requests.request_digest("POST", request.path, request.get_data())
    replayed = _replay(key, digest)
    if replayed is not None:
        return replayed
    found = _referral(reference)
    answer = {
        "reporting_reference": reporting_reference(found),
        "action": action,
        # Every action raises the version by one, from the one it was decided on.
        "version": body["version"] + 1,
    }
    if key is not None:
        api_requests.remember(db.session, _key().hotline_id, key, digest, 200, answer)
    try:
        _run(action, found, body)
    except ActionRefused as refused:
        db.session.rollback()
        replayed = _replay(key, digest)  # a retry racing the first call: the first one's answer
        if replayed is not None:
            return replayed
        raise _refusal(refused, list(body.get("places") or [])) from None
    except IntegrityError:
        db.session.rollback()
        replayed = _replay(key, digest)
        if replayed is not None:
            return replayed
        raise
    return jsonify(answer)


@bp.post("/referrals/<reference>/messages")
@key_required(ApiScope.MESSAGE)
def write(reference: str) -> tuple[Response, int] | Response:
    """A message to the survivor from the hotline (unsigned, as from the portal)."""
    body = checked_request()
    key = _idempotency_key()
    digest = api_requests.request_digest("POST", request.path, request.get_data())
    replayed = _replay(key, digest)
    if replayed is not None:
        return replayed
    found = _referral(reference)
    answer: dict[str, Any] = {}

    def remember(message: Message) -> None:
        answer.update(_message_json(message))
        if key is not None:
            api_requests.remember(db.session, _key().hotline_id, key, digest, 201, dict(answer))

    try:
        referrals.message_survivor(
            db.session, current_services(), _actor(), found, body["body"], also=remember
        )
    except ActionRefused as refused:
        db.session.rollback()
        raise _refusal(refused) from None
    except IntegrityError:
        db.session.rollback()
        replayed = _replay(key, digest)
        if replayed is not None:
            return replayed
        raise
    return jsonify(answer), 201
