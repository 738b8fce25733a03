"""The OpenAPI 3.1 description of the JSON API v1 (``GET /api/v1/openapi.json``, DESIGN section 7).

It describes exactly the routes of :mod:`assistant.web.api` and the bodies its ``jsonify`` calls
produce, and it is the contract: the API checks every request's query and body against it
(:mod:`assistant.web.api_contract`), and the test suite checks every answer. A request property's
``x-error`` names the error code a value it refuses gets (by JSON Schema keyword where they differ).
The document is built once per set of limits (the settings); :func:`openapi_document` hands out a
deep copy, so callers may change what they get without touching the cached original.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..config import SUPPORTED_LANGUAGES
from ..config import Settings
from ..config import language_tag
from ..models import MAX_ROW_ID
from ..routing import DEFAULT_KIND
from ..routing import Intake
from ..routing import Kind
from ..routing import ReasonCode
from ..routing.normalise import MAX_PLATFORM_LENGTH
from ..support_resources import AUDIENCES
from ..support_resources import DAYS
from ..support_resources import KINDS as RESOURCE_KINDS
from ..vocabulary import Assessment
from ..vocabulary import CaseStatus
from ..vocabulary import Category
from ..vocabulary import EventCode
from ..vocabulary import HarmfulSubtype
from ..vocabulary import LocationStatus
from ..vocabulary import MessageAuthor
from ..vocabulary import MinorAnswer
from ..vocabulary import NoticeType
from ..vocabulary import ProviderResponse
from ..vocabulary import ReferralStatus
from ..vocabulary import StaffReason

JSON = "application/json"

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
LANG = {"$ref": "#/components/parameters/lang"}
# The languages ``lang`` and ``language`` take: the app's tags, and Babel's spelling of them.
LANGUAGE_VALUES = sorted({*map(language_tag, SUPPORTED_LANGUAGES), *SUPPORTED_LANGUAGES})


@dataclass(frozen=True)
class Limits:
    """The settings the document states (a deployment may configure other limits)."""

    max_locations: int
    max_value_length: int
    max_note_length: int
    max_message_length: int


ERROR_DESCRIPTIONS = {
    400: "The body is not valid JSON, or not a JSON object (`malformed_json`).",
    401: "No token, or the token is not valid or has expired (`unauthenticated`, `invalid_token`).",
    409: "This conflicts with the current state of the case.",
    413: "The request body is too large (`request_entity_too_large`).",
    415: "Only `application/json` is accepted; multipart and form bodies are refused "
    "(`unsupported_media_type`), whatever the method. Nothing can be uploaded.",
    422: "Some of the input could not be used; `details` says which field (and which location) "
    "and why. A field the request does not have is refused too (`unknown_field`).",
    429: "Too many requests from here (`too_many_requests`). Wait `Retry-After` seconds.",
    503: "The service cannot reach its database or rate-limit store just now (`unavailable`). "
    "Nothing was saved: send the same request again after `Retry-After` seconds.",
}

API_DESCRIPTION = """\
The JSON API of the Removal Request Assistant, for the progressive web app and for integrations.

* JSON in and out. Every error is `{"error": {"code", "message", "details?"}}` with the matching
  status, never HTML and never a traceback.
* Only `application/json` bodies are read. A `multipart/*` or form body is refused with 415 before
  any of it is parsed, whatever the method: nothing can be uploaded.
* Location values are stored and routed, never fetched: the service does not visit, download or
  preview anything at a location.
* Survivor endpoints take `Authorization: Bearer <token>` from `POST /session`. A token ends on
  sign-out, on erase, after 15 idle minutes and at a hard limit. Cookies are never read, so CSRF
  does not apply.
* Texts (reasons, events, messages of errors about input) follow the `lang` query parameter, then
  the browser's `Accept-Language`.
"""


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _array(items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "array", "items": items, **extra}


def _object(
    properties: dict[str, Any], required: list[str], description: str | None = None
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _json_body(schema_name: str, description: str) -> dict[str, Any]:
    return {
        "required": True,
        "description": description,
        "content": {JSON: {"schema": _ref(schema_name)}},
    }


def _json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _error(status: int, description: str | None = None) -> dict[str, Any]:
    response = _json_response(description or ERROR_DESCRIPTIONS[status], _ref("Error"))
    if status in (429, 503):
        response["headers"] = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
    if status == 401:
        response["headers"] = {
            "WWW-Authenticate": {"$ref": "#/components/headers/WWW-Authenticate"}
        }
    return response


def _errors(*statuses: int, **described: str) -> dict[str, Any]:
    """Error responses by status; ``described`` overrides a description (key ``s401`` etc.)."""
    return {str(status): _error(status, described.get(f"s{status}")) for status in statuses}


def _schemas(limits: Limits) -> dict[str, Any]:
    date = {"type": "string", "format": "date"}
    country = {"type": "string", "pattern": "^[A-Z]{2}$", "description": "ISO 3166-1 alpha-2 code."}
    country_input = {
        "type": ["string", "null"],
        "pattern": "^([A-Za-z]{2})?$",
        "x-error": "bad_country",
        "description": "The survivor's country, ISO 3166-1 alpha-2 (any case). Optional: null or "
        "empty means not given. Used when nothing else says where a location is hosted. A code "
        "that is not officially assigned is refused (`bad_country`).",
    }
    locations_input = _array(
        _ref("LocationInput"),
        minItems=1,
        maxItems=limits.max_locations,
        description=f"The places where the material appears (at most {limits.max_locations}). "
        "Indexes in responses are 0-based positions in this list. Values are never fetched. A "
        "location that cannot be used is refused (`invalid_locations`, with a detail per "
        "location).",
    )
    locations_input["x-error"] = {
        "type": "no_locations",
        "minItems": "no_locations",
        "maxItems": "too_many_locations",
        "items": "invalid_locations",
    }
    reasons = _array(_ref("Reason"))
    return {
        "LocationInput": _object(
            {
                "kind": {
                    "type": "string",
                    "enum": list(Kind),
                    "default": DEFAULT_KIND,
                    "description": "What the value is.",
                    "x-error": "unknown_kind",
                },
                "value": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": limits.max_value_length,
                    "description": "A link, account name, group name, file-sharing "
                    "identifier or description. Stored encrypted and never fetched.",
                    "x-error": {
                        "type": "bad_location",
                        "required": "bad_location",
                        "minLength": "empty",
                        "maxLength": "too_long",
                    },
                },
                "note": {
                    "type": ["string", "null"],
                    "maxLength": limits.max_note_length,
                    "description": "Optional note for the hotline; stored encrypted.",
                    "x-error": {"type": "bad_location", "maxLength": "too_long"},
                },
                "platform": {
                    "type": ["string", "null"],
                    "maxLength": MAX_PLATFORM_LENGTH,
                    "description": "Optional name of the platform or service.",
                    "x-error": {"type": "bad_location", "maxLength": "too_long"},
                },
            },
            ["value"],
            "One place where the material appears. The value is never fetched or visited.",
        )
        | {"x-error": "bad_location"},
        "Hotline": _object(
            {
                "id": {"type": "string", "pattern": "^[a-z0-9_]{2,64}$"},
                "name": {"type": "string"},
                "country": {**country, "description": "ISO code of the country it serves first."},
            },
            ["id", "name", "country"],
            "A hotline from the directory, wherever one appears in the API.",
        ),
        "HotlineEntry": _object(
            {
                "id": {"type": "string", "pattern": "^[a-z0-9_]{2,64}$"},
                "name": {"type": "string"},
                "operator": {"type": "string", "description": "The organisation that runs it."},
                "country": {**country, "description": "ISO code of the country it serves first."},
                "countries": _array(country, minItems=1),
                "sends_notices_worldwide": {"type": "boolean"},
                "languages": _array({"type": "string"}),
                "website": {"type": "string"},
                "report_url": {"type": ["string", "null"]},
                "accepts_dark_web": {
                    "type": ["boolean", "null"],
                    "description": "null: not known.",
                },
                "accepts_p2p": {"type": ["boolean", "null"], "description": "null: not known."},
                "intake": {
                    "type": "string",
                    "enum": sorted(Intake),
                    "description": "How referrals reach this hotline.",
                },
                "sources": _array(
                    {"type": "string"},
                    minItems=1,
                    description="Where the directory entry comes from.",
                ),
                "verified_on": {
                    "type": ["string", "null"],
                    "description": "The date a person last verified the entry.",
                },
            },
            [
                "id",
                "name",
                "operator",
                "country",
                "countries",
                "sends_notices_worldwide",
                "languages",
                "website",
                "report_url",
                "accepts_dark_web",
                "accepts_p2p",
                "intake",
                "sources",
                "verified_on",
            ],
            "A directory entry as shipped, with its sources.",
        ),
        "Reason": _object(
            {
                "code": {
                    "type": "string",
                    "enum": [*ReasonCode, *StaffReason],
                    "description": "Stable code of the routing reason.",
                },
                "params": {"type": "object", "additionalProperties": {"type": "string"}},
                "text": {"type": "string", "description": "The reason in the requested language."},
            },
            ["code", "params", "text"],
            "Why a location was routed to a hotline.",
        ),
        "Referral": _object(
            {
                "hotline": _ref("Hotline"),
                "locations": _array(
                    {"type": "integer", "minimum": 0},
                    description="0-based indexes into the request's `locations`.",
                ),
                "reasons": _array(_ref("Reason"), description="The distinct reasons."),
            },
            ["hotline", "locations", "reasons"],
            "A set of the request's locations sent to one hotline.",
        ),
        "ErrorDetail": {
            "type": "object",
            "properties": {
                "field": {
                    "type": "string",
                    "description": "Where in the request: a query parameter, or a path into the "
                    "body such as `locations/2/kind`.",
                },
                "index": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "0-based index of the location concerned.",
                },
                "code": {"type": "string"},
                "message": {"type": "string"},
            },
            "required": ["code", "message"],
        },
        "Error": _object(
            {
                "error": _object(
                    {
                        "code": {"type": "string", "description": "Stable machine-readable code."},
                        "message": {"type": "string", "description": "For people."},
                        "details": _array(_ref("ErrorDetail"), minItems=1),
                    },
                    ["code", "message"],
                ),
            },
            ["error"],
            "Every error the API returns.",
        ),
        **_hotline_schemas(limits),
        "NewRequest": _object(
            {
                "locations": locations_input,
                "categories": {
                    **_array(
                        {"type": "string", "enum": list(Category)},
                        default=[],
                        description="What the material shows or what is happening; all optional.",
                    ),
                    "x-error": "bad_categories",
                },
                "minor_in_material": {
                    "type": ["string", "null"],
                    "enum": [*MinorAnswer, None],
                    "description": "Was the person under 18 in the material.",
                    "x-error": "bad_minor_answer",
                },
                "survivor_country": country_input,
                "language": {
                    "type": ["string", "null"],
                    "enum": [*LANGUAGE_VALUES, "", None],
                    "description": "The language of the case and of the texts in the response; "
                    "by default the requested language (`lang`).",
                    "x-error": "bad_language",
                },
            },
            ["locations"],
        ),
        "Receipt": _object(
            {
                "case_number": {
                    "type": "string",
                    "pattern": "^RQ-[0-9A-HJKMNP-TV-Z]{8}$",
                    "examples": ["RQ-7K2M9QXA"],
                },
                "passphrase": {
                    "type": "string",
                    "description": "Returned only this once and never again: it "
                    "cannot be recovered. Keep it with the case number.",
                },
                "referrals": _array(_ref("Referral")),
            },
            ["case_number", "passphrase", "referrals"],
            "The receipt. The passphrase appears here only, once.",
        ),
        "SessionRequest": _object(
            {
                "case_number": {"type": "string", "x-error": "bad_receipt"},
                "passphrase": {"type": "string", "x-error": "bad_receipt"},
            },
            ["case_number", "passphrase"],
        ),
        "Token": _object(
            {
                "token": {"type": "string", "description": "Send as `Authorization: Bearer`."},
                "expires_in": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "Seconds of inactivity after which it ends.",
                },
                "must_change_passphrase": {
                    "type": "boolean",
                    "description": "True when an advocate handed this receipt over: every other "
                    "call answers 403 `passphrase_change_required` until POST "
                    "/requests/me/passphrase.",
                },
            },
            ["token", "expires_in", "must_change_passphrase"],
        ),
        "PassphraseProposal": _object(
            {
                "case_number": {"type": "string"},
                "passphrase": {
                    "type": "string",
                    "description": "Not in force until the proposal is sent back.",
                },
                "proposal": {
                    "type": "string",
                    "description": "Send it back within an hour to put the passphrase in force.",
                },
            },
            ["case_number", "passphrase", "proposal"],
        ),
        "PassphraseConfirmation": _object(
            {"proposal": {"type": "string", "x-error": "bad_proposal"}},
            [],
            description="Empty to get a proposal; with `proposal` to put it in force.",
        ),
        "PassphraseReplaced": _object(
            {
                "case_number": {"type": "string"},
                "token": {"type": "string", "description": "A new token; the old ones ended."},
                "expires_in": {"type": "integer", "minimum": 1},
                "must_change_passphrase": {"type": "boolean", "const": False},
            },
            ["case_number", "token", "expires_in", "must_change_passphrase"],
        ),
        "CaseLocation": _object(
            {
                "id": {"type": "integer"},
                "kind": {"type": "string", "enum": list(Kind)},
                "display": {"type": "string", "description": "The value, masked."},
                "status": {"type": "string", "enum": list(LocationStatus)},
                "status_changed_on": date,
                "hotline": _nullable(_ref("Hotline")),
                "reasons": reasons,
            },
            ["id", "kind", "display", "status", "status_changed_on", "hotline", "reasons"],
        ),
        "CaseEvent": _object(
            {
                "code": {"type": "string", "enum": list(EventCode)},
                "on": date,
                "location": {
                    "type": ["integer", "null"],
                    "description": "The location (id) the event is about, if it is about one.",
                },
                "text": {"type": "string", "description": "In the requested language."},
            },
            ["code", "on", "location", "text"],
        ),
        "CaseReferral": _object(
            {
                "id": {"type": "integer"},
                "hotline": {
                    "anyOf": [
                        _ref("Hotline"),
                        _object(
                            {"id": {"type": "string"}},
                            ["id"],
                            "A hotline no longer in the directory: its id only.",
                        ),
                    ],
                },
                "status": {"type": "string", "enum": list(ReferralStatus)},
                "locations": _array(
                    {"type": "integer"},
                    description="Ids of the case's locations (`CaseLocation.id`).",
                ),
                "events": _array(_ref("CaseEvent")),
            },
            ["id", "hotline", "status", "locations", "events"],
        ),
        "CaseMessage": _object(
            {
                "id": {"type": "integer"},
                "from": {
                    "type": "string",
                    "enum": list(MessageAuthor),
                    "description": "Who wrote it.",
                },
                "body": {"type": "string"},
                "sent_on": date,
                "hotline": _nullable(_ref("Hotline")),
            },
            ["id", "from", "body", "sent_on", "hotline"],
        ),
        "Case": _object(
            {
                "case_number": {"type": "string"},
                "status": {"type": "string", "enum": list(CaseStatus)},
                "created_on": date,
                "locations": _array(_ref("CaseLocation")),
                "referrals": _array(_ref("CaseReferral")),
                "messages": _array(_ref("CaseMessage")),
            },
            ["case_number", "status", "created_on", "locations", "referrals", "messages"],
            "The case as its survivor sees it. Location values are masked.",
        ),
        "NewLocations": _object({"locations": locations_input}, ["locations"]),
        "AddedLocations": _object(
            {
                "referrals": _array(
                    _ref("Referral"),
                    description="Where the new locations went; `locations` are "
                    "indexes into this request's list.",
                )
            },
            ["referrals"],
        ),
        "NewMessage": _object(
            {
                "body": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": limits.max_message_length,
                    "x-error": {
                        "type": "bad_message",
                        "required": "bad_message",
                        "minLength": "empty",
                        "maxLength": "too_long",
                    },
                },
                "referral_id": {
                    "type": ["integer", "null"],
                    "description": "`CaseReferral.id`; needed when the case has several hotlines.",
                    "x-error": "bad_message",
                },
            },
            ["body"],
        ),
        "MessageSent": _object({"id": {"type": "integer"}, "sent_on": date}, ["id", "sent_on"]),
        "RouteRequest": _object(
            {"locations": locations_input, "survivor_country": country_input}, ["locations"]
        ),
        "Route": _object(
            {
                "location": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "0-based index into the request's `locations`.",
                },
                "hotline": _ref("Hotline"),
                "reasons": reasons,
            },
            ["location", "hotline", "reasons"],
        ),
        "Routes": _object(
            {"routes": _array(_ref("Route"), description="Sorted by `location`.")}, ["routes"]
        ),
        "Resource": _object(
            {
                "id": {"type": "string"},
                "country": {
                    "type": ["string", "null"],
                    "pattern": "^[A-Z]{2}$",
                    "description": "ISO 3166-1 alpha-2; null for a service that helps "
                    "people in any country.",
                },
                "name": {"type": "string"},
                "kind": {"type": "string", "enum": list(RESOURCE_KINDS)},
                "kind_label": {"type": "string", "description": "`kind` in words."},
                "audience": {"type": "string", "enum": list(AUDIENCES)},
                "audience_label": {"type": "string"},
                "phone": {"type": ["string", "null"], "description": "As dialled in the country."},
                "text": {
                    "type": ["object", "null"],
                    "properties": {
                        "number": {"type": "string"},
                        "keyword": {"type": ["string", "null"]},
                    },
                },
                "web": {"type": ["string", "null"]},
                "hours": {
                    "description": '"24/7", opening hours, or null when not known.',
                    "oneOf": [
                        {"const": "24/7"},
                        {"type": "null"},
                        _array(
                            {
                                "type": "object",
                                "properties": {
                                    "days": _array({"type": "string", "enum": list(DAYS)}),
                                    "opens": {"type": "string"},
                                    "closes": {"type": "string"},
                                },
                            }
                        ),
                    ],
                },
                "timezone": {
                    "type": ["string", "null"],
                    "description": "IANA zone of the opening hours.",
                },
                "hours_text": {"type": "string", "description": "The hours in words."},
                "languages": _array(
                    {"type": "string"}, description="ISO 639-1 codes it answers in."
                ),
                "speaks_your_language": {"type": "boolean"},
                "free": {"type": ["boolean", "null"]},
                "sources": _array({"type": "string"}, minItems=1),
                "verified_on": {
                    "type": ["string", "null"],
                    "description": "The date a person last checked the entry.",
                },
            },
            [
                "id",
                "country",
                "name",
                "kind",
                "kind_label",
                "audience",
                "audience_label",
                "phone",
                "text",
                "web",
                "hours",
                "timezone",
                "hours_text",
                "languages",
                "speaks_your_language",
                "free",
                "sources",
                "verified_on",
            ],
            "A support service.",
        ),
        "Resources": _object(
            {
                "country": {"type": ["string", "null"]},
                "language": {"type": "string", "description": "The language of the texts."},
                "covered": {
                    "type": "boolean",
                    "description": "Whether the list has services for this country.",
                },
                "resources": _array(
                    _ref("Resource"),
                    description="The country's services by "
                    "kind (emergency first), then those for any country; within "
                    "a kind, those that answer in `lang` first.",
                ),
            },
            ["country", "language", "covered", "resources"],
        ),
        "Directory": _object(
            {
                "hotlines": _array(_ref("HotlineEntry"), description="Sorted by id."),
                "fallback": {
                    "type": "string",
                    "description": "Id of the hotline that takes what no other does.",
                },
            },
            ["hotlines", "fallback"],
        ),
    }


FILING_IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A random string made for this request (16 to 255 printable characters, no "
    "spaces), such as a UUID. A retry with the same key within ten minutes (a lost answer, a "
    "dropped connection) gets the first answer, with the same receipt and the header "
    "`Idempotent-Replayed: true`, and files nothing; the same key with another request is "
    "refused (`idempotency_key_reused`). The server keeps only a keyed hash of the key and the "
    "answer sealed with a key derived from it, and forgets both after ten minutes.",
    "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{16,255}$"},
}
HANDED_OVER = (
    "An advocate handed this receipt over and it has not been replaced yet "
    "(`passphrase_change_required`): POST /requests/me/passphrase first."
)


S400_BODY = "Not valid JSON, or not a JSON object (`malformed_json`)."
S422_LOCATIONS = (
    "Some of the input could not be used (`no_locations`, `too_many_locations`, "
    "`invalid_locations` with a detail per location, `bad_categories`, `bad_minor_answer`, "
    "`bad_country`, `bad_language`, `unknown_field`)."
)
S429_FILING = "Too many requests filed from here (`too_many_requests`). Wait `Retry-After` seconds."


def _operation(
    operation_id: str,
    summary: str,
    responses: dict[str, Any],
    *,
    description: str = "",
    body: tuple[str, str] | None = None,
    parameters: list[dict[str, Any]] | None = None,
    bearer: bool = False,
    errors: tuple[int, ...] = (),
    **described: str,
) -> dict[str, Any]:
    """One operation. Every one answers 415 to a body that is not JSON, whatever the method, and
    503 while its storage does not answer; one with a body also 400 (not JSON), 413 (too large)
    and 422 (what the schema refuses)."""
    statuses = {415, 503, *errors}
    if body is not None:
        statuses |= {400, 413, 422}
    if bearer:
        statuses.add(401)
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary}
    if description:
        operation["description"] = description
    if bearer:
        operation["security"] = BEARER
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = _json_body(*body)
    operation["responses"] = {**responses, **_errors(*sorted(statuses), **described)}
    return operation


def _paths() -> dict[str, Any]:
    return {
        "/requests": {
            "post": _operation(
                "createRequest",
                "File a removal request",
                {
                    "201": _json_response(
                        "Filed. Keep the case number and the passphrase.", _ref("Receipt")
                    )
                },
                description="Stores the request and routes each location to a hotline. The "
                "201 response is the receipt: the passphrase is returned only once and never "
                "again, except to a retry with the same `Idempotency-Key` within ten minutes. "
                "Location values are never fetched.",
                body=("NewRequest", "The request."),
                parameters=[LANG, FILING_IDEMPOTENCY_PARAMETER],
                errors=(409, 429),
                s400=S400_BODY + " Or a bad `Idempotency-Key` (`bad_idempotency_key`).",
                s409="This `Idempotency-Key` filed a request more than ten minutes ago "
                "(`already_filed`): its receipt cannot be given again, and nothing is filed.",
                s422=S422_LOCATIONS[:-2] + ", `idempotency_key_reused`).",
                s429=S429_FILING,
            ),
        },
        "/session": {
            "post": _operation(
                "createSession",
                "Sign in with the receipt",
                {"200": _json_response("Signed in.", _ref("Token"))},
                description="Exchanges a case number and passphrase for a bearer token. A "
                "wrong case number and a wrong passphrase give the same 401.",
                body=("SessionRequest", "The receipt."),
                errors=(401, 429),
                s400="Not valid JSON (`malformed_json`), or the case number or the "
                "passphrase is missing or not a string (`bad_receipt`).",
                s401="That case number and passphrase do not match (`invalid_receipt`).",
                s429="Too many wrong tries: the receipt is locked for a while "
                "(`too_many_tries`), or too many tries from here (`too_many_requests`). Wait "
                "`Retry-After` seconds.",
            ),
            "delete": _operation(
                "deleteSession",
                "Sign out",
                {"204": {"description": "Signed out."}},
                description="The token stops working.",
                bearer=True,
            ),
        },
        "/requests/me": {
            "get": _operation(
                "getMyRequest",
                "The case as its survivor sees it",
                {"200": _json_response("The case.", _ref("Case"))},
                description="Masked locations with their status, referrals with their "
                "timelines, and messages.",
                parameters=[LANG],
                bearer=True,
                errors=(403, 422),
                s403=HANDED_OVER,
                s422="`lang` is not one of the languages offered (`bad_language`).",
            ),
            "delete": _operation(
                "eraseMyRequest",
                "Withdraw and erase the case",
                {"204": {"description": "Erased."}},
                description="Erases the case and everything about it. The token and the "
                "receipt stop working.",
                bearer=True,
                errors=(403,),
                s403=HANDED_OVER,
            ),
        },
        "/requests/me/passphrase": {
            "post": _operation(
                "replaceMyPassphrase",
                "A new passphrase for the receipt, in two steps",
                {
                    "200": _json_response(
                        "A proposal, or the passphrase is now in force.",
                        {"oneOf": [_ref("PassphraseProposal"), _ref("PassphraseReplaced")]},
                    )
                },
                description="With `{}`: a new random passphrase and a `proposal`; nothing "
                'changes. With `{"proposal": ...}` within an hour: the passphrase is in force, '
                "the old one and every token of the case stop working, and a new token is "
                "returned. Required before anything else when an advocate handed the receipt "
                "over (`must_change_passphrase`).",
                body=("PassphraseConfirmation", "Empty, or the proposal."),
                bearer=True,
                s400="Not valid JSON (`malformed_json`), or `proposal` is not a string "
                "(`bad_proposal`).",
                s422="The proposal is not valid or is more than an hour old (`bad_proposal`), "
                "or a field the request does not have (`unknown_field`).",
            ),
        },
        "/requests/me/locations": {
            "post": _operation(
                "addMyLocations",
                "Add locations to the case",
                {"201": _json_response("Added.", _ref("AddedLocations"))},
                description="Routed the same way as when filing. Location values are never "
                "fetched.",
                body=("NewLocations", "The locations to add."),
                parameters=[LANG],
                bearer=True,
                errors=(403, 409, 429),
                s400=S400_BODY,
                s403=HANDED_OVER,
                s409="Every location is already in the case (`already_listed`).",
                s422=S422_LOCATIONS,
                s429=S429_FILING,
            ),
        },
        "/requests/me/messages": {
            "post": _operation(
                "writeMessage",
                "Write to the hotline",
                {"201": _json_response("Sent.", _ref("MessageSent"))},
                body=("NewMessage", "The message."),
                parameters=[LANG],
                bearer=True,
                errors=(403,),
                s400=S400_BODY,
                s403=HANDED_OVER,
                s422="The message could not be sent (`bad_message`, `empty`, `too_long`, "
                "`control_characters`, `choose_hotline`, `unknown_referral`, `bad_language`, "
                "`unknown_field`).",
            ),
        },
        "/route": {
            "post": _operation(
                "routeDryRun",
                "Where each location would go, and why",
                {"200": _json_response("One route per location.", _ref("Routes"))},
                description="A dry run: stores nothing. Location values are never fetched.",
                body=("RouteRequest", "The locations to route."),
                parameters=[LANG],
                errors=(429,),
                s400=S400_BODY,
                s422=S422_LOCATIONS,
                s429="Too many tries from here (`too_many_requests`). Wait `Retry-After` seconds.",
            ),
        },
        "/hotlines": {
            "get": _operation(
                "listHotlines",
                "The hotline directory",
                {"200": _json_response("The directory.", _ref("Directory"))},
                description="As shipped, with sources and the date a person verified each entry.",
                parameters=[
                    _country_parameter(
                        "Only the hotlines serving this country (ISO 3166-1 alpha-2, any case)."
                    )
                ],
                errors=(422,),
                s422="`country` is empty or not an ISO 3166-1 alpha-2 code (`bad_country`).",
            ),
        },
        "/resources": {
            "get": _operation(
                "listResources",
                "Support services by country and language",
                {"200": _json_response("The services.", _ref("Resources"))},
                description="Crisis lines, child helplines, survivor organisations, reporting "
                "help and the emergency number, with their sources.",
                parameters=[
                    _country_parameter(
                        "ISO 3166-1 alpha-2, any case. Without it, only the services that help in "
                        "any country."
                    ),
                    {
                        "name": "lang",
                        "in": "query",
                        "required": False,
                        "description": "The reader's language, as a language tag (e.g. fr, "
                        "pt-BR): services that answer in it come first, and texts are in it when "
                        "the app has it. Refused when empty or not a tag (`bad_language`).",
                        "schema": {
                            "type": "string",
                            "pattern": LANGUAGE_TAG_PATTERN,
                            "x-error": "bad_language",
                        },
                    },
                ],
                errors=(422,),
                s422="`country` or `lang` cannot be used (`bad_country`, `bad_language`).",
            ),
        },
        **_hotline_paths(),
        "/openapi.json": {
            "get": _operation(
                "getOpenApi",
                "This document",
                {
                    "200": _json_response(
                        "The OpenAPI 3.1 description of this API.", {"type": "object"}
                    )
                },
            ),
        },
    }


# --- the hotline systems API ---

HOTLINE_KEY: list[dict[str, list[str]]] = [{"hotlineKey": []}]
S401_KEY = (
    "No key, or a key that is wrong, revoked or past its rotation's overlap (`invalid_key`): the "
    "same answer whichever it is."
)
S403_KEY = "The key may not do this (its scopes), with the same message as a 401 (`invalid_key`)."
S404_REFERRAL = (
    "No referral of this hotline has this reference (another hotline's is the same 404)."
)
S429_KEY = "Too many calls with this key (`too_many_requests`). Wait `Retry-After` seconds."
REFERENCE_PARAMETER = {
    "name": "reference",
    "in": "path",
    "required": True,
    "description": "The referral's reporting reference, `RRA-<number>`.",
    "schema": {"type": "string", "maxLength": 20},
}
IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique string (1 to 100 printable characters, no spaces), such as a "
    "UUID. The same key again within a day gets the first call's answer, with the header "
    "`Idempotent-Replayed: true`, and changes nothing; the same key with another request is "
    "refused (`idempotency_key_reused`).",
    "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,100}$"},
}
HOTLINE_API_NOTE = (
    "For a hotline's own case system, with an API key of the hotline (`Authorization: Bearer "
    "rra_...`). Poll `GET /hotline/referrals` with the `next` cursor of the previous page: every "
    "referral that is new or changed since comes once, oldest change first (a referral changed "
    "twice between two polls comes once). Read one with `GET /hotline/referrals/{reference}`, "
    "act on it with its `version`."
)


def _hotline_key_operation(
    operation_id: str,
    summary: str,
    responses: dict[str, Any],
    *,
    errors: tuple[int, ...] = (),
    **kwargs: Any,
) -> dict[str, Any]:
    operation = _operation(
        operation_id,
        summary,
        responses,
        errors=(401, 403, 429, *errors),
        s401=S401_KEY,
        s403=S403_KEY,
        s429=S429_KEY,
        **kwargs,
    )
    operation["security"] = HOTLINE_KEY
    operation["tags"] = ["hotline systems"]
    return operation


def _hotline_paths() -> dict[str, Any]:
    return {
        "/hotline/referrals": {
            "get": _hotline_key_operation(
                "hotlineChanges",
                "The changes feed: referrals new or changed since a cursor",
                {"200": _json_response("A page of the feed.", _ref("HotlineFeedPage"))},
                description=HOTLINE_API_NOTE + "\n\nScope `read`. Audited.",
                parameters=[
                    {
                        "name": "after",
                        "in": "query",
                        "required": False,
                        "description": "The `next` cursor of the previous page; without it, "
                        "from the beginning. A cursor this service did not issue to this hotline "
                        "is refused (400, `bad_cursor`).",
                        "schema": {"type": "string", "maxLength": 500, "x-error": "bad_cursor"},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "description": "How many referrals at most (1 to 100; 100 by default).",
                        "schema": {
                            "type": "string",
                            "pattern": "^(100|[1-9][0-9]?)$",
                            "x-error": "bad_limit",
                        },
                    },
                ],
                errors=(400, 422),
                s400="The cursor was not issued by this service to this hotline (`bad_cursor`).",
                s422="`after` or `limit` cannot be used (`bad_cursor`, `bad_limit`).",
            ),
        },
        "/hotline/referrals/{reference}": {
            "get": _hotline_key_operation(
                "hotlineReferral",
                "A referral in full",
                {
                    "200": _json_response(
                        "Everything the portal shows of it (places decrypted), or, when the "
                        "survivor withdrew the case, that it was withdrawn and nothing else.",
                        {"anyOf": [_ref("HotlineReferral"), _ref("WithdrawnReferral")]},
                    )
                },
                description="Scope `read`. Audited as a view, as in the portal.",
                parameters=[REFERENCE_PARAMETER],
                errors=(404,),
                s404=S404_REFERRAL,
            ),
        },
        "/hotline/referrals/{reference}/actions": {
            "post": _hotline_key_operation(
                "hotlineAct",
                "Act on a referral, as in the portal",
                {"200": _json_response("Done.", _ref("HotlineActionDone"))},
                description="Scope `act`. The portal's state machine: what the portal would "
                "refuse is refused here, and nothing changes. Give the `version` you read; if the "
                "referral changed since, 409 (`version_conflict`). The survivor sees each step as "
                "from the portal. Audited under the key's name.",
                body=("HotlineAction", "The action and what it needs."),
                parameters=[REFERENCE_PARAMETER, IDEMPOTENCY_PARAMETER],
                errors=(404, 409),
                s400="Not valid JSON (`malformed_json`), or a bad `Idempotency-Key` "
                "(`bad_idempotency_key`).",
                s404=S404_REFERRAL,
                s409="The referral changed since `version` (`version_conflict`), or its state "
                "does not allow the step (`not_allowed`, `referral_closed`, `refused` with a "
                "detail per place, ...). Nothing was done.",
                s422="The body cannot be used (`missing_field`, `invalid_field`, "
                "`unknown_field`, `bad_date`, `bad_assessment`, `unknown_hotline`, "
                "`idempotency_key_reused`, ...).",
            ),
        },
        "/hotline/referrals/{reference}/messages": {
            "get": _hotline_key_operation(
                "hotlineMessages",
                "The messages of a referral",
                {"200": _json_response("Oldest first.", _ref("HotlineMessages"))},
                description="Scope `read`. Audited.",
                parameters=[REFERENCE_PARAMETER],
                errors=(404,),
                s404=S404_REFERRAL,
            ),
            "post": _hotline_key_operation(
                "hotlineWrite",
                "Write to the survivor",
                {"201": _json_response("Sent.", _ref("HotlineMessageSent"))},
                description="Scope `message`. The survivor reads it on their status page, "
                "from the hotline, unsigned. Audited under the key's name.",
                body=("HotlineMessageInput", "The message."),
                parameters=[REFERENCE_PARAMETER, IDEMPOTENCY_PARAMETER],
                errors=(404,),
                s400="Not valid JSON (`malformed_json`), or a bad `Idempotency-Key` "
                "(`bad_idempotency_key`).",
                s404=S404_REFERRAL,
                s422="The message cannot be sent (`empty`, `too_long`, `invalid_field`, "
                "`unknown_field`, `idempotency_key_reused`).",
            ),
        },
    }


def _hotline_schemas(limits: Limits) -> dict[str, Any]:
    date = {"type": "string", "format": "date"}
    text = {"type": "string"}
    maybe_text = {"type": ["string", "null"]}
    reference = {"type": "string", "pattern": "^RRA-[0-9]+$"}
    field = {"x-error": "invalid_field"}
    row_id = {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}
    places = {
        **_array(row_id, minItems=1, maxItems=limits.max_locations),
        **field,
        "description": "Ids of the referral's places (`locations[].id`).",
    }
    notice = _object(
        {
            "id": {"type": "integer"},
            "notice_type": text,
            "provider": text,
            "escalation": {"type": "boolean"},
            "sent_on": date,
            "reference": maybe_text,
            "response": maybe_text,
            "response_on": {"type": ["string", "null"], "format": "date"},
            "notice_reference": {
                **maybe_text,
                "description": "For a notice the app sent: its reference (`RRA-N<number>`).",
            },
            "chase": {**maybe_text, "description": "Where the chase stands, for a sent notice."},
            "chase_reason": maybe_text,
            "reminders": {"type": "integer"},
            "answered_by_provider": {"type": "boolean"},
            "response_note": maybe_text,
        },
        [
            "id",
            "notice_type",
            "provider",
            "escalation",
            "sent_on",
            "reference",
            "response",
            "response_on",
        ],
    )
    place = _object(
        {
            "id": {"type": "integer"},
            "kind": text,
            "location": {**text, "description": "As the survivor gave it. Never fetched."},
            "platform": maybe_text,
            "note": maybe_text,
            "host": maybe_text,
            "hosting_country": maybe_text,
            "status": {"type": "string", "enum": list(LocationStatus)},
            "status_changed_on": date,
            "assessment": maybe_text,
            "assessment_subtype": maybe_text,
            "notice_type": maybe_text,
            "routing_reasons": _array(
                _object({"code": text, "params": {"type": "object"}}, ["code", "params"])
            ),
            "notices": _array(notice),
        },
        ["id", "kind", "location", "status", "status_changed_on", "routing_reasons", "notices"],
    )
    return {
        "HotlineFeedEntry": _object(
            {
                "reporting_reference": reference,
                "change": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "The change's number in this hotline's feed: it only grows.",
                },
                "state": {"type": "string", "enum": ["open", "closed", "withdrawn", "expired"]},
                "status": {"type": "string", "enum": list(ReferralStatus)},
                "version": {"type": "integer", "minimum": 1},
                "received_date": date,
                "places": {"type": "integer", "minimum": 0},
                "withdrawn_on": date,
            },
            ["reporting_reference", "change", "state"],
            "A referral that is new or changed. One the survivor withdrew (`withdrawn`), or that "
            "reached the end of its retention (`expired`), says only that: nothing of it is left.",
        ),
        "HotlineFeedPage": _object(
            {
                "referrals": _array(_ref("HotlineFeedEntry")),
                "next": {
                    "type": "string",
                    "description": "Give it as `after` next time, even when the page is empty.",
                },
                "more": {
                    "type": "boolean",
                    "description": "More changes are waiting: ask again at once.",
                },
            },
            ["referrals", "next", "more"],
        ),
        "WithdrawnReferral": _object(
            {
                "reporting_reference": reference,
                "state": {"type": "string", "enum": ["withdrawn", "expired"]},
                "withdrawn_on": date,
            },
            ["reporting_reference", "state", "withdrawn_on"],
            "The survivor withdrew and erased the case (`withdrawn`), or it reached the end of its "
            "retention (`expired`): nothing of it is left.",
        ),
        "HotlineReferral": _object(
            {
                "reporting_reference": reference,
                "state": {"type": "string", "enum": ["open", "closed"]},
                "version": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "Give it with an action on the referral.",
                },
                "received_date": date,
                "hotline": {"type": "object"},
                "status": {"type": "string", "enum": list(ReferralStatus)},
                "closed_on": {"type": ["string", "null"], "format": "date"},
                "closed_reason": maybe_text,
                "assigned_to": {
                    "anyOf": [
                        _object({"id": {"type": "integer"}, "email": maybe_text}, ["id", "email"]),
                        {"type": "null"},
                    ]
                },
                "reporter": {"type": "object"},
                "categories": _array(text),
                "notice_type": maybe_text,
                "harmful_abusive_subtypes": _array(text),
                "flags": {"type": "object"},
                "locations": _array(place),
                "timeline": _array(
                    _object(
                        {
                            "code": text,
                            "on": date,
                            "location_id": {"type": ["integer", "null"]},
                            "params": {"type": "object"},
                            "visible_to_survivor": {"type": "boolean"},
                            "version": {"type": "integer"},
                        },
                        ["code", "on", "location_id", "params", "visible_to_survivor", "version"],
                    )
                ),
                "messages": _array(_ref("HotlineMessage")),
                "notes": _array(
                    _object(
                        {
                            "id": {"type": "integer"},
                            "body": text,
                            "written_at": {"type": "string", "format": "date-time"},
                            "from_notice": maybe_text,
                        },
                        ["id", "body", "written_at", "from_notice"],
                    )
                ),
                "allowed_actions": _object(
                    {
                        "acknowledge": {"type": "boolean"},
                        "reroute": {"type": "boolean"},
                        "close": {"type": "boolean"},
                        "reopen_until": {"type": ["string", "null"], "format": "date"},
                        "places": _array(
                            _object(
                                {
                                    "id": {"type": "integer"},
                                    "assess": {"type": "boolean"},
                                    "notice": maybe_text,
                                    "renotice": {"type": "boolean"},
                                    "escalate": {"type": "boolean"},
                                    "answerable_notices": _array({"type": "integer"}),
                                },
                                [
                                    "id",
                                    "assess",
                                    "notice",
                                    "renotice",
                                    "escalate",
                                    "answerable_notices",
                                ],
                            )
                        ),
                    },
                    ["acknowledge", "reroute", "close", "reopen_until", "places"],
                ),
            },
            [
                "reporting_reference",
                "state",
                "version",
                "received_date",
                "status",
                "locations",
                "timeline",
                "messages",
                "notes",
                "allowed_actions",
            ],
            "A referral in full, as the portal shows it.",
        ),
        "HotlineMessage": _object(
            {
                "id": {"type": "integer"},
                "author": {"type": "string", "enum": list(MessageAuthor)},
                "body": text,
                "sent_on": date,
                "organisation": {
                    **maybe_text,
                    "description": "For an advocate's message: their organisation.",
                },
            },
            ["id", "author", "body", "sent_on"],
        ),
        "HotlineMessages": _object(
            {"reporting_reference": reference, "messages": _array(_ref("HotlineMessage"))},
            ["reporting_reference", "messages"],
        ),
        "HotlineMessageInput": _object(
            {
                "body": {
                    "type": "string",
                    "maxLength": limits.max_message_length,
                    "x-error": {"type": "invalid_field", "maxLength": "too_long"},
                }
            },
            ["body"],
        ),
        "HotlineMessageSent": _object(
            {
                "id": {"type": "integer"},
                "author": {"const": "hotline"},
                "sent_on": date,
            },
            ["id", "author", "sent_on"],
        ),
        "HotlineAction": _object(
            {
                "action": {
                    "type": "string",
                    "enum": [
                        "acknowledge",
                        "assess",
                        "record_notice",
                        "send_notice",
                        "record_response",
                        "reroute",
                        "close",
                        "reopen",
                        "assign",
                    ],
                    **field,
                    "description": "acknowledge; assess (places, assessment, subtype?, "
                    "hosting_country?); record_notice (places, notice_type, provider, sent_on, "
                    "reference?, escalation?); send_notice (places, notice_type, subtype?, "
                    "provider_id? or provider, recipient: the app sends it and chases it); "
                    "record_response (notice, or places: their latest notice; response, "
                    "response_on); reroute (hotline, reason); close (reason); reopen; assign "
                    "(assignee: a colleague's account id, or null).",
                },
                "version": {**row_id, **field},
                "places": places,
                "assessment": {"type": "string", "enum": list(Assessment), **field},
                "subtype": {"type": "string", "enum": list(HarmfulSubtype), **field},
                "hosting_country": {"type": "string", "pattern": "^[A-Za-z]{2}$", **field},
                "notice_type": {"type": "string", "enum": list(NoticeType), **field},
                "provider": {"type": "string", "maxLength": 200, **field},
                "provider_id": {"type": "string", "maxLength": 64, **field},
                "recipient": {"type": "string", "maxLength": 254, **field},
                "sent_on": {"type": "string", "maxLength": 10, **field},
                "reference": {"type": "string", "maxLength": 200, **field},
                "escalation": {"type": "boolean", **field},
                "notice": {**row_id, **field},
                "response": {"type": "string", "enum": list(ProviderResponse), **field},
                "response_on": {"type": "string", "maxLength": 10, **field},
                "hotline": {"type": "string", "maxLength": 64, **field},
                "reason": {"type": "string", "maxLength": 40, **field},
                "assignee": {**row_id, "type": ["integer", "null"], **field},
            },
            ["action", "version"],
            "One action. Dates are YYYY-MM-DD.",
        ),
        "HotlineActionDone": _object(
            {
                "reporting_reference": reference,
                "action": text,
                "version": {
                    "type": "integer",
                    "description": "The referral's version now: give it with the next action.",
                },
            },
            ["reporting_reference", "action", "version"],
        ),
    }


# A language tag such as "fr", "pt-BR" or "zh_Hant_TW".
LANGUAGE_TAG_PATTERN = "^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$"


def _country_parameter(description: str) -> dict[str, Any]:
    return {
        "name": "country",
        "in": "query",
        "required": False,
        "description": f"{description} Refused when empty or not an officially assigned code "
        "(`bad_country`).",
        "schema": {"type": "string", "pattern": "^[A-Za-z]{2}$", "x-error": "bad_country"},
    }


@lru_cache(maxsize=8)
def _build(limits: Limits) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Removal Request Assistant API",
            "version": "1",
            "description": API_DESCRIPTION,
        },
        "servers": [{"url": "/api/v1"}],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(limits),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The token from `POST /session`.",
                },
                "hotlineKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key of the hotline (`rra_...`), made by one of its "
                    "administrators on the Team pages or by the service operator "
                    "(`assistant api-key create`), with the scopes `read`, `act` and `message`.",
                },
            },
            "parameters": {
                "lang": {
                    "name": "lang",
                    "in": "query",
                    "required": False,
                    "description": "Language of the texts in the response (reasons, events, "
                    "error messages). By default the browser's `Accept-Language`. Refused when "
                    "empty or not one of these (`bad_language`).",
                    "schema": {
                        "type": "string",
                        "enum": LANGUAGE_VALUES,
                        "x-error": "bad_language",
                    },
                },
            },
            "headers": {
                "Retry-After": {
                    "description": "Seconds to wait before trying again.",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1},
                },
                "WWW-Authenticate": {
                    "description": "`Bearer`: sign in first (`POST /session`).",
                    "required": True,
                    "schema": {"type": "string"},
                },
            },
        },
    }


def openapi_document(settings: Settings) -> dict[str, Any]:
    """The OpenAPI 3.1.0 document of the API with this deployment's limits; a fresh copy on every
    call."""
    limits = Limits(
        max_locations=settings.max_locations,
        max_value_length=settings.max_value_length,
        max_note_length=settings.max_note_length,
        max_message_length=settings.max_message_length,
    )
    return copy.deepcopy(_build(limits))
