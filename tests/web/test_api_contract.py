"""The API is held to its OpenAPI document: requests are checked against it in one place, every
answer the suite gets is checked against it (tests/contract.py), and what the document refuses,
the API refuses."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Response

from tests.conftest import api_request_body
from tests.conftest import make_app
from tests.conftest import row_counts
from tests.contract import ContractViolation
from tests.contract import Document
from tests.contract import check
from tests.web.test_api import file
from tests.web.test_api import sign_in


@pytest.fixture
def document(client) -> Document:
    return Document(client.get("/api/v1/openapi.json").get_json())


def _answer(status: int, body: Any = None, **headers: str) -> Response:
    data = "" if body is None else json.dumps(body)
    return Response(data, status=status, headers=headers, mimetype="application/json")


ERROR = {"error": {"code": "x", "message": "y"}}


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "answer", "finding"),
    [
        ("get", "/api/v1/hotlines", {}, None, _answer(418, ERROR), "not documented"),
        ("get", "/api/v1/hotlines", {}, None, _answer(200, {"hotlines": []}), "breaks"),
        ("get", "/api/v1/hotlines", {"country": ""}, None, _answer(200, {}), "refuses"),
        ("post", "/api/v1/route", {}, {"locations": []}, _answer(200, {"routes": []}), "refuses"),
        ("trace", "/api/v1/hotlines", {}, None, _answer(405, ERROR), "Allow"),
        ("post", "/api/v1/session", {}, None, _answer(429, ERROR), "Retry-After"),
        ("delete", "/api/v1/session", {}, None, _answer(401, ERROR), "WWW-Authenticate"),
        ("delete", "/api/v1/session", {}, None, _answer(204, {"a": 1}), "no body"),
        ("get", "/api/v1/nowhere", {}, None, _answer(200, {}), "expected 404"),
    ],
)
def test_the_check_finds_what_the_document_does_not_allow(
    document, method, path, query, body, answer, finding
):
    with pytest.raises(ContractViolation, match=finding):
        check(document, method, path, query, body, answer)


def test_the_check_lets_a_documented_answer_pass(document):
    check(
        document,
        "trace",
        "/api/v1/hotlines",
        {},
        None,
        _answer(405, ERROR, Allow="GET, HEAD, OPTIONS"),
    )
    check(
        document, "post", "/api/v1/session", {}, None, _answer(429, ERROR, **{"Retry-After": "9"})
    )


def test_a_method_a_path_does_not_take_gets_405_with_allow(client):
    for path in ("/api/v1/hotlines", "/api/v1/requests", "/api/v1/openapi.json"):
        response = client.open(path, method="TRACE")
        assert response.status_code == 405
        assert "GET" in response.headers["Allow"] or "POST" in response.headers["Allow"]
        assert response.get_json()["error"]["code"] == "method_not_allowed"
    page = client.open("/check", method="TRACE")
    assert page.status_code == 405 and "GET" in page.headers["Allow"]


def test_a_request_without_a_token_is_told_how_to_authenticate(client):
    response = client.get("/api/v1/requests/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("lang=AAA", "bad_language"),
        ("lang=", "bad_language"),
        ("lang=fr-CA", "bad_language"),
    ],
)
def test_a_language_the_document_does_not_offer_is_refused(client, query, code):
    headers = sign_in(client, file(client, "https://example.com/a"))
    response = client.get(f"/api/v1/requests/me?{query}", headers=headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["details"][0]["field"] == "lang"


@pytest.mark.parametrize("path", ["/api/v1/hotlines?country=", "/api/v1/resources?country="])
def test_an_empty_country_is_refused(client, path):
    response = client.get(path)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "bad_country"


def test_a_null_proposal_is_refused_and_changes_nothing(client):
    headers = sign_in(client, file(client, "https://example.com/b"))
    response = client.post(
        "/api/v1/requests/me/passphrase", json={"proposal": None}, headers=headers
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_proposal"
    # The old passphrase still works, and so does the token.
    assert client.get("/api/v1/requests/me", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        (
            {"locations": [{"value": "https://example.com/", "zzz": 1}]},
            422,
            "invalid_locations",
            "locations/0/zzz",
        ),
        (
            {**api_request_body("https://example.com/"), "survivor_contry": "IE"},
            422,
            "unknown_field",
            "survivor_contry",
        ),
        (
            {"locations": [{"value": "https://example.com/"}], "categories": ["made_up"]},
            422,
            "bad_categories",
            "categories/0",
        ),
        (
            {"locations": [{"value": "https://example.com/"}], "minor_in_material": "maybe"},
            422,
            "bad_minor_answer",
            "minor_in_material",
        ),
        (
            {"locations": [{"value": "https://example.com/"}], "language": "xx"},
            422,
            "bad_language",
            "language",
        ),
        ({"locations": [{"value": 7}]}, 422, "invalid_locations", "locations/0/value"),
        ({"locations": [{"value": "x" * 5000}]}, 422, "invalid_locations", "locations/0/value"),
        ({"locations": "https://example.com/"}, 422, "no_locations", "locations"),
        ({}, 422, "no_locations", "locations"),
    ],
)
def test_what_the_schema_refuses_gets_a_detail_per_field_and_stores_nothing(
    client, app, body, status, code, field
):
    before = row_counts(app)
    response = client.post("/api/v1/requests", json=body)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["details"][0]["field"] == field
    assert error["message"] and error["details"][0]["message"]
    assert row_counts(app) == before


def test_a_too_long_value_keeps_its_own_code_and_limit(client):
    response = client.post("/api/v1/requests", json={"locations": [{"value": "x" * 5000}]})
    detail = response.get_json()["error"]["details"][0]
    assert (detail["index"], detail["code"]) == (0, "too_long")
    assert "2048" in detail["message"]


def test_a_message_with_a_boolean_referral_is_refused(client):
    headers = sign_in(client, file(client, "https://example.com/c"))
    response = client.post(
        "/api/v1/requests/me/messages",
        json={"body": "hello", "referral_id": True},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "bad_message"


def test_every_api_route_is_in_the_document(app, document):
    described = {
        (path, method) for path, item in document.document["paths"].items() for method in item
    }
    served = {
        (re.sub(r"<([^<>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1")), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    assert served == described


def test_the_document_states_this_deployments_limits(database_url, tmp_path):
    app = make_app(database_url, tmp_path / "instance", max_locations=7, max_message_length=99)
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    assert schemas["NewRequest"]["properties"]["locations"]["maxItems"] == 7
    assert schemas["NewMessage"]["properties"]["body"]["maxLength"] == 99
