"""The OpenAPI 3.1 description of the JSON API v1 (``GET /api/v1/openapi.json``, DESIGN section 7).

It describes exactly the routes of :mod:`assistant.web.api` and the bodies its ``jsonify`` calls
produce. The document is built once; :func:`openapi_document` hands out a deep copy, so callers may
change what they get without touching the cached original.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from ..cases.intake import CATEGORIES, MINOR_ANSWERS
from ..cases.status import CASE_STATUSES
from ..config import SUPPORTED_LANGUAGES, Settings
from ..hotline.referrals import STAFF_REASON_CODES
from ..models import LOCATION_STATUSES
from ..routing import KINDS
from ..routing.engine import REASON_CODES
from ..support_resources import AUDIENCES, DAYS
from ..support_resources import KINDS as RESOURCE_KINDS

JSON = "application/json"
INTAKE_CHANNELS = ("email", "handoff", "portal", "webhook")
# The shipped defaults; a deployment may configure other limits.
MAX_LOCATIONS = Settings.max_locations
MAX_VALUE_LENGTH = Settings.max_value_length
MAX_NOTE_LENGTH = Settings.max_note_length
MAX_MESSAGE_LENGTH = Settings.max_message_length

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
LANG = {"$ref": "#/components/parameters/lang"}

ERROR_DESCRIPTIONS = {
    400: "The body is not valid JSON, or not a JSON object (`malformed_json`).",
    401: "No token, or the token is not valid or has expired (`unauthenticated`, `invalid_token`).",
    409: "This conflicts with the current state of the case.",
    413: "The request body is too large.",
    415: "Only `application/json` is accepted; multipart and form bodies are refused "
    "(`unsupported_media_type`). Nothing can be uploaded.",
    422: "Some of the input could not be used; `details` says which location and why.",
    429: "Too many tries. Wait `Retry-After` seconds.",
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
    if status == 429:
        response["headers"] = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
    return response


def _errors(*statuses: int, **described: str) -> dict[str, Any]:
    """Error responses by status; ``described`` overrides a description (key ``s401`` etc.)."""
    return {str(status): _error(status, described.get(f"s{status}")) for status in statuses}


def _schemas() -> dict[str, Any]:
    date = {"type": "string", "format": "date"}
    country = {"type": "string", "pattern": "^[A-Z]{2}$", "description": "ISO 3166-1 alpha-2 code."}
    country_input = {
        "type": ["string", "null"],
        "pattern": "^([A-Za-z]{2})?$",
        "description": "The survivor's country, ISO 3166-1 alpha-2 (any case). Optional: null or "
        "empty means not given. Used when nothing else says where a location is hosted.",
    }
    locations_input = _array(
        _ref("LocationInput"),
        minItems=1,
        maxItems=MAX_LOCATIONS,
        description=f"The places where the material appears (at most {MAX_LOCATIONS} by default). "
        "Indexes in responses are 0-based positions in this list. Values are never fetched.",
    )
    reasons = _array(_ref("Reason"))
    return {
        "LocationInput": _object(
            {
                "kind": {
                    "type": "string",
                    "enum": list(KINDS),
                    "default": "url",
                    "description": "What the value is.",
                },
                "value": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_VALUE_LENGTH,
                    "description": "A link, account name, group name, file-sharing "
                    "identifier or description. Stored encrypted and never fetched.",
                },
                "note": {
                    "type": ["string", "null"],
                    "maxLength": MAX_NOTE_LENGTH,
                    "description": "Optional note for the hotline; stored encrypted.",
                },
                "platform": {
                    "type": ["string", "null"],
                    "description": "Optional name of the platform or service.",
                },
            },
            ["value"],
            "One place where the material appears. The value is never fetched or visited.",
        ),
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
                    "enum": list(INTAKE_CHANNELS),
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
                    "enum": [*REASON_CODES, *STAFF_REASON_CODES],
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
        "NewRequest": _object(
            {
                "locations": locations_input,
                "categories": _array(
                    {"type": "string", "enum": list(CATEGORIES)},
                    default=[],
                    description="What the material shows or what is happening; all optional.",
                ),
                "minor_in_material": {
                    "type": ["string", "null"],
                    "enum": [*MINOR_ANSWERS, None],
                    "description": "Was the person under 18 in the material.",
                },
                "survivor_country": country_input,
                "language": {
                    "type": ["string", "null"],
                    "enum": [*SUPPORTED_LANGUAGES, "", None],
                    "description": "The language of the case and of the texts in the response; "
                    "by default the requested language (`lang`).",
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
            {"case_number": {"type": "string"}, "passphrase": {"type": "string"}},
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
            {"proposal": {"type": "string"}},
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
                "kind": {"type": "string", "enum": list(KINDS)},
                "display": {"type": "string", "description": "The value, masked."},
                "status": {"type": "string", "enum": list(LOCATION_STATUSES)},
                "status_changed_on": date,
                "hotline": _nullable(_ref("Hotline")),
                "reasons": reasons,
            },
            ["id", "kind", "display", "status", "status_changed_on", "hotline", "reasons"],
        ),
        "CaseEvent": _object(
            {
                "code": {"type": "string"},
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
                "status": {"type": "string"},
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
                "from": {"type": "string", "description": "Who wrote it, e.g. `survivor`."},
                "body": {"type": "string"},
                "sent_on": date,
                "hotline": _nullable(_ref("Hotline")),
            },
            ["id", "from", "body", "sent_on", "hotline"],
        ),
        "Case": _object(
            {
                "case_number": {"type": "string"},
                "status": {"type": "string", "enum": list(CASE_STATUSES)},
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
                "body": {"type": "string", "minLength": 1, "maxLength": MAX_MESSAGE_LENGTH},
                "referral_id": {
                    "type": ["integer", "null"],
                    "description": "`CaseReferral.id`; needed when the case has several hotlines.",
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


HANDED_OVER = (
    "An advocate handed this receipt over and it has not been replaced yet "
    "(`passphrase_change_required`): POST /requests/me/passphrase first."
)


def _paths() -> dict[str, Any]:
    return {
        "/requests": {
            "post": {
                "operationId": "createRequest",
                "summary": "File a removal request",
                "description": "Stores the request and routes each location to a hotline. The "
                "201 response is the receipt: the passphrase is returned only once and never "
                "again. Location values are never fetched.",
                "parameters": [LANG],
                "requestBody": _json_body("NewRequest", "The request."),
                "responses": {
                    "201": _json_response(
                        "Filed. Keep the case number and the passphrase.", _ref("Receipt")
                    ),
                    **_errors(400, 413, 415, 422),
                },
            },
        },
        "/session": {
            "post": {
                "operationId": "createSession",
                "summary": "Sign in with the receipt",
                "description": "Exchanges a case number and passphrase for a bearer token. A "
                "wrong case number and a wrong passphrase give the same 401.",
                "requestBody": _json_body("SessionRequest", "The receipt."),
                "responses": {
                    "200": _json_response("Signed in.", _ref("Token")),
                    **_errors(
                        400,
                        401,
                        413,
                        415,
                        429,
                        s400="Not valid JSON (`malformed_json`), or the case number or the "
                        "passphrase is missing or not a string (`bad_receipt`).",
                        s401="That case number and passphrase do not match (`invalid_receipt`).",
                        s429="Too many wrong tries: the receipt is locked for a while "
                        "(`too_many_tries`). Wait `Retry-After` seconds.",
                    ),
                },
            },
            "delete": {
                "operationId": "deleteSession",
                "summary": "Sign out",
                "description": "The token stops working.",
                "security": BEARER,
                "responses": {"204": {"description": "Signed out."}, **_errors(401)},
            },
        },
        "/requests/me": {
            "get": {
                "operationId": "getMyRequest",
                "summary": "The case as its survivor sees it",
                "description": "Masked locations with their status, referrals with their "
                "timelines, and messages.",
                "security": BEARER,
                "parameters": [LANG],
                "responses": {
                    "200": _json_response("The case.", _ref("Case")),
                    **_errors(401, 403, s403=HANDED_OVER),
                },
            },
            "delete": {
                "operationId": "eraseMyRequest",
                "summary": "Withdraw and erase the case",
                "description": "Erases the case and everything about it. The token and the "
                "receipt stop working.",
                "security": BEARER,
                "responses": {
                    "204": {"description": "Erased."},
                    **_errors(401, 403, s403=HANDED_OVER),
                },
            },
        },
        "/requests/me/passphrase": {
            "post": {
                "operationId": "replaceMyPassphrase",
                "summary": "A new passphrase for the receipt, in two steps",
                "description": "With `{}`: a new random passphrase and a `proposal`; nothing "
                'changes. With `{"proposal": ...}` within an hour: the passphrase is in force, '
                "the old one and every token of the case stop working, and a new token is "
                "returned. Required before anything else when an advocate handed the receipt "
                "over (`must_change_passphrase`).",
                "security": BEARER,
                "requestBody": _json_body("PassphraseConfirmation", "Empty, or the proposal."),
                "responses": {
                    "200": {
                        "description": "A proposal, or the passphrase is now in force.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        _ref("PassphraseProposal"),
                                        _ref("PassphraseReplaced"),
                                    ]
                                }
                            }
                        },
                    },
                    **_errors(
                        400,
                        401,
                        415,
                        422,
                        s422="The proposal is not valid or is more than an hour old "
                        "(`bad_proposal`).",
                    ),
                },
            },
        },
        "/requests/me/locations": {
            "post": {
                "operationId": "addMyLocations",
                "summary": "Add locations to the case",
                "description": "Routed the same way as when filing. Location values are never "
                "fetched.",
                "security": BEARER,
                "parameters": [LANG],
                "requestBody": _json_body("NewLocations", "The locations to add."),
                "responses": {
                    "201": _json_response("Added.", _ref("AddedLocations")),
                    **_errors(
                        400,
                        401,
                        403,
                        409,
                        413,
                        415,
                        422,
                        s403=HANDED_OVER,
                        s409="Every location is already in the case (`already_listed`).",
                    ),
                },
            },
        },
        "/requests/me/messages": {
            "post": {
                "operationId": "writeMessage",
                "summary": "Write to the hotline",
                "security": BEARER,
                "parameters": [LANG],
                "requestBody": _json_body("NewMessage", "The message."),
                "responses": {
                    "201": _json_response("Sent.", _ref("MessageSent")),
                    **_errors(
                        400,
                        401,
                        403,
                        413,
                        415,
                        422,
                        s403=HANDED_OVER,
                        s422="The message could not be sent (`bad_message`, `empty`, "
                        "`too_long`, `control_characters`, `choose_hotline`, "
                        "`unknown_referral`).",
                    ),
                },
            },
        },
        "/route": {
            "post": {
                "operationId": "routeDryRun",
                "summary": "Where each location would go, and why",
                "description": "A dry run: stores nothing. Location values are never fetched.",
                "parameters": [LANG],
                "requestBody": _json_body("RouteRequest", "The locations to route."),
                "responses": {
                    "200": _json_response("One route per location.", _ref("Routes")),
                    **_errors(400, 413, 415, 422),
                },
            },
        },
        "/hotlines": {
            "get": {
                "operationId": "listHotlines",
                "summary": "The hotline directory",
                "description": "As shipped, with sources and the date a person verified each "
                "entry.",
                "parameters": [
                    {
                        "name": "country",
                        "in": "query",
                        "required": False,
                        "description": "Only the hotlines serving this country (ISO 3166-1 "
                        "alpha-2).",
                        "schema": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
                    }
                ],
                "responses": {
                    "200": _json_response("The directory.", _ref("Directory")),
                    **_errors(422),
                },
            },
        },
        "/resources": {
            "get": {
                "operationId": "listResources",
                "summary": "Support services by country and language",
                "description": "Crisis lines, child helplines, survivor organisations, reporting "
                "help and the emergency number, with their sources.",
                "parameters": [
                    {
                        "name": "country",
                        "in": "query",
                        "required": False,
                        "description": "ISO 3166-1 alpha-2. Without it, only the services that "
                        "help in any country.",
                        "schema": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
                    },
                    {
                        "name": "lang",
                        "in": "query",
                        "required": False,
                        "description": "The reader's language (e.g. fr, pt-BR): services that "
                        "answer in it come first, and texts are in it when the app has it.",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": _json_response("The services.", _ref("Resources")),
                    **_errors(422),
                },
            },
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document",
                "responses": {
                    "200": _json_response(
                        "The OpenAPI 3.1 description of this API.", {"type": "object"}
                    ),
                },
            },
        },
    }


@lru_cache(maxsize=1)
def _build() -> dict[str, Any]:
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
            "schemas": _schemas(),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The token from `POST /session`.",
                },
            },
            "parameters": {
                "lang": {
                    "name": "lang",
                    "in": "query",
                    "required": False,
                    "description": "Language of the texts in the response (reasons, events, "
                    "error messages). By default the browser's `Accept-Language`.",
                    "schema": {"type": "string", "enum": list(SUPPORTED_LANGUAGES)},
                },
            },
            "headers": {
                "Retry-After": {
                    "description": "Seconds to wait before trying again.",
                    "schema": {"type": "integer", "minimum": 1},
                },
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1.0 document of the API; a fresh copy on every call."""
    return copy.deepcopy(_build())
