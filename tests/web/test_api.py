"""JSON API v1, end to end (DESIGN section 7)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import api_request_body
from tests.conftest import assert_only_withdrawals_left
from tests.conftest import row_counts


def file(client, *values, **extra):
    response = client.post("/api/v1/requests", json=api_request_body(*values, **extra))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def sign_in(client, receipt):
    response = client.post(
        "/api/v1/session",
        json={"case_number": receipt["case_number"], "passphrase": receipt["passphrase"]},
    )
    assert response.status_code == 200
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def test_filing_returns_receipt_and_referrals_with_reasons(client):
    body = file(
        client,
        "https://example.fr/a",
        "https://x.example.com/b",
        "example.fr/a",
        survivor_country="IE",
    )
    assert body["case_number"].startswith("RQ-")
    assert len(body["passphrase"].replace(" ", "")) == 20
    by_hotline = {r["hotline"]["id"]: r for r in body["referrals"]}
    assert by_hotline["point_de_contact_fr"]["locations"] == [0, 2]
    assert by_hotline["point_de_contact_fr"]["hotline"] == {
        "id": "point_de_contact_fr",
        "name": "Point de Contact",
        "country": "FR",
    }
    assert by_hotline["hotline_ie"]["locations"] == [1]
    codes = [r["code"] for r in by_hotline["hotline_ie"]["reasons"]]
    assert codes == ["generic_domain", "survivor_country"]
    assert all(r["text"] for r in by_hotline["hotline_ie"]["reasons"])


def test_session_status_messages_more_places_and_sign_out(client):
    receipt = file(client, "https://example.com/a")
    headers = sign_in(client, receipt)
    me = client.get("/api/v1/requests/me", headers=headers)
    assert me.status_code == 200
    data = me.get_json()
    assert data["case_number"] == receipt["case_number"]
    assert data["status"] == "received"
    assert data["locations"][0]["display"] == "example.com/…"
    assert data["locations"][0]["status"] == "received"
    assert data["referrals"][0]["events"][0]["code"] == "routed"
    assert "Cache-Control" in me.headers and me.headers["Cache-Control"].startswith("no-store")

    assert (
        client.post(
            "/api/v1/requests/me/messages", headers=headers, json={"body": "hello"}
        ).status_code
        == 201
    )
    added = client.post(
        "/api/v1/requests/me/locations",
        headers=headers,
        json={"locations": [{"kind": "account", "value": "@someone", "platform": "Instagram"}]},
    )
    assert added.status_code == 201
    again = client.post(
        "/api/v1/requests/me/locations",
        headers=headers,
        json={"locations": [{"kind": "url", "value": "https://example.com/a"}]},
    )
    assert again.status_code == 409
    data = client.get("/api/v1/requests/me", headers=headers).get_json()
    assert [m["body"] for m in data["messages"]] == ["hello"]
    assert len(data["locations"]) == 2 and data["locations"][1]["display"] == "@s••••••"

    assert client.delete("/api/v1/session", headers=headers).status_code == 204
    assert client.get("/api/v1/requests/me", headers=headers).status_code == 401


def test_wrong_passphrase_and_unknown_case_get_one_401(client):
    receipt = file(client, "https://example.com/a")
    wrong = client.post(
        "/api/v1/session", json={"case_number": receipt["case_number"], "passphrase": "nope"}
    )
    unknown = client.post(
        "/api/v1/session", json={"case_number": "RQ-ZZZZZZZZ", "passphrase": receipt["passphrase"]}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()


def test_throttled_receipt_gets_429_with_retry_after(client):
    receipt = file(client, "https://example.com/a")
    for _ in range(5):
        client.post(
            "/api/v1/session", json={"case_number": receipt["case_number"], "passphrase": "wrong"}
        )
    locked = client.post(
        "/api/v1/session",
        json={"case_number": receipt["case_number"], "passphrase": receipt["passphrase"]},
    )
    assert locked.status_code == 429
    assert locked.get_json()["error"]["code"] == "too_many_tries"
    assert 800 < int(locked.headers["Retry-After"]) <= 901


def test_erase_removes_every_row_and_the_token_and_receipt_stop_working(client, app):
    baseline = row_counts(app)
    receipt = file(client, "https://example.com/a", "https://example.de/b")
    headers = sign_in(client, receipt)
    client.post(
        "/api/v1/requests/me/messages", headers=headers, json={"body": "x", "referral_id": None}
    )
    assert client.delete("/api/v1/requests/me", headers=headers).status_code == 204
    assert_only_withdrawals_left(app, baseline, referrals=2)
    assert client.get("/api/v1/requests/me", headers=headers).status_code == 401
    assert (
        client.post(
            "/api/v1/session",
            json={"case_number": receipt["case_number"], "passphrase": receipt["passphrase"]},
        ).status_code
        == 401
    )


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"data": "{not json", "content_type": "application/json"}, 400, "malformed_json"),
        ({"data": "[1, 2]", "content_type": "application/json"}, 400, "malformed_json"),
        (
            {"data": "locations=x", "content_type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
        ),
        (
            {
                "data": {"file": (__import__("io").BytesIO(b"GIF89a"), "a.gif")},
                "content_type": "multipart/form-data",
            },
            415,
            "unsupported_media_type",
        ),
        ({"json": {"locations": []}}, 422, "no_locations"),
        (
            {"json": {"locations": [{"kind": "url", "value": "javascript:alert(1)"}]}},
            422,
            "invalid_locations",
        ),
        ({"json": {"locations": [{"kind": "photo", "value": "x"}]}}, 422, "invalid_locations"),
        (
            {"json": {"locations": [{"kind": "url", "value": "a.com"}], "categories": ["x"]}},
            422,
            "bad_categories",
        ),
        (
            {"json": {"locations": [{"kind": "url", "value": "a.com"}], "survivor_country": "XX"}},
            422,
            "bad_country",
        ),
        (
            {"json": {"locations": [{"kind": "url", "value": "a.com"}] * 501}},
            422,
            "too_many_locations",
        ),
    ],
)
def test_bad_requests_get_a_json_error_and_change_nothing(client, app, kwargs, status, code):
    before = row_counts(app)
    response = client.post("/api/v1/requests", **kwargs)
    assert response.status_code == status
    assert response.is_json
    assert response.get_json()["error"]["code"] == code
    assert response.get_json()["error"]["message"]
    assert row_counts(app) == before


def test_an_oversized_body_gets_413_as_json(app, client):
    big = json.dumps({"locations": [{"kind": "url", "value": "a" * 2000}] * 1200})
    response = client.post("/api/v1/requests", data=big, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"


def test_invalid_location_details_name_each_index(client):
    response = client.post(
        "/api/v1/requests",
        json=api_request_body(
            "https://ok.example.com/", "data:text/html,x", "https://also-ok.example.com/"
        ),
    )
    details = response.get_json()["error"]["details"]
    assert [(d["index"], d["code"]) for d in details] == [(1, "unsafe_scheme")]


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_requests_me_without_a_token_is_401(client):
    assert client.get("/api/v1/requests/me").status_code == 401
    forged = {"Authorization": "Bearer not-a-real-token"}
    assert client.get("/api/v1/requests/me", headers=forged).status_code == 401


def test_dry_run_routes_without_storing_anything(client, app):
    before = row_counts(app)
    response = client.post(
        "/api/v1/route?lang=fr",
        json={
            "locations": [
                {"kind": "url", "value": "https://example.fr/x"},
                {"kind": "p2p", "value": "magnet:?xt=urn:btih:abc"},
            ],
            "survivor_country": "CA",
        },
    )
    assert response.status_code == 200
    routes = response.get_json()["routes"]
    assert [r["location"] for r in routes] == [0, 1]
    assert routes[0]["hotline"]["id"] == "point_de_contact_fr"
    assert routes[1]["reasons"][0]["code"] == "peer_to_peer"
    assert "France" in routes[0]["reasons"][0]["text"]
    assert row_counts(app) == before


def test_hotline_directory_and_openapi_document(client):
    hotlines = client.get("/api/v1/hotlines").get_json()
    assert hotlines["fallback"] == "cybertip_ca"
    assert all({"id", "name", "country", "sources"} <= set(h) for h in hotlines["hotlines"])
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert ("/requests", "post") in documented and ("/requests/me", "delete") in documented
    assert ("/route", "post") in documented and ("/session", "post") in documented


def test_a_lone_surrogate_passphrase_gets_the_same_401_for_known_and_unknown_cases(client):
    receipt = file(client, "https://example.com/a")
    raw = '{"case_number": "%s", "passphrase": "\\ud800abc"}'
    known = client.post(
        "/api/v1/session", data=raw % receipt["case_number"], content_type="application/json"
    )
    unknown = client.post(
        "/api/v1/session", data=raw % "RQ-ZZZZZZZZ", content_type="application/json"
    )
    assert known.status_code == unknown.status_code == 401


def test_a_message_with_a_lone_surrogate_is_refused_as_json(client, app):
    headers = sign_in(client, file(client, "https://example.com/a"))
    response = client.post(
        "/api/v1/requests/me/messages",
        headers=headers,
        data='{"body": "hi \\ud800"}',
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "control_characters"
    assert row_counts(app)["messages"] == 0


def test_absurdly_nested_json_is_a_400_not_a_crash(client):
    response = client.post(
        "/api/v1/route", data="[" * 100_000 + "]" * 100_000, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"


def test_the_api_neither_sets_nor_reads_the_session_cookie(client):
    response = client.post(
        "/api/v1/route?lang=fr",
        json={"locations": [{"kind": "url", "value": "https://a.example.fr/"}]},
    )
    assert "Set-Cookie" not in response.headers
    page = client.get("/check?lang=fr")
    assert "Set-Cookie" in page.headers  # the web pages do keep one, for the form's token
    me = client.get("/api/v1/requests/me")
    assert me.status_code == 401  # a cookie never stands in for a token
    assert "Set-Cookie" not in me.headers


def test_api_error_messages_are_in_the_readers_language(client):
    response = client.post(
        "/api/v1/session?lang=fr", json={"case_number": "RQ-00000000", "passphrase": "abcd"}
    )
    assert response.get_json()["error"]["message"] == (
        "Ce numéro de dossier et cette phrase secrète ne correspondent pas."
    )
    malformed = client.post(
        "/api/v1/route",
        data="{",
        content_type="application/json",
        headers={"Accept-Language": "fr"},
    )
    assert malformed.get_json()["error"]["message"] == "Le contenu n'est pas du JSON valide."


def test_a_refused_message_says_why(client):
    headers = sign_in(client, file(client, "https://example.com/a"))
    response = client.post(
        "/api/v1/requests/me/messages", headers=headers, json={"body": "x" * 6000}
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["message"] == (
        "This message is too long: at most 5000 characters."
    )


def test_dry_run_names_the_provider_and_the_platform_in_the_readers_language(client):
    response = client.post(
        "/api/v1/route?lang=fr",
        json={
            "locations": [
                {"kind": "url", "value": "https://i.imgur.com/a.jpg"},
                {"kind": "account", "value": "someone", "platform": "Insta"},
                {"kind": "url", "value": "https://bit.ly/abc"},
            ]
        },
    )
    routes = response.get_json()["routes"]
    assert [r["hotline"]["id"] for r in routes] == ["ncmec_us", "ncmec_us", "ncmec_us"]
    first = routes[0]["reasons"][0]
    assert first["code"] == "known_provider"
    assert first["params"] == {"provider": "imgur", "country": "US"}
    assert "Imgur" in first["text"] and "États-Unis" in first["text"]
    assert [r["code"] for r in routes[1]["reasons"]][:2] == ["named_platform", "known_provider"]
    assert routes[2]["reasons"][0]["code"] == "shortener"


def test_hotline_directory_can_be_asked_for_one_country(client):
    german = client.get("/api/v1/hotlines?country=de").get_json()["hotlines"]
    assert len(german) >= 2 and all("DE" in h["countries"] for h in german)
    assert {"operator", "sends_notices_worldwide"} <= set(german[0])
    refused = client.get("/api/v1/hotlines?country=Germany")
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "bad_country"


def test_the_survivor_is_never_told_a_place_was_reported_before(client):
    """The flag is for the hotline: the survivor's view is the same as for a new place."""
    earlier = file(client, "https://example.com/same")
    first_view = client.get("/api/v1/requests/me", headers=sign_in(client, earlier)).get_json()
    later = file(client, "https://example.com/same")
    second_view = client.get("/api/v1/requests/me", headers=sign_in(client, later)).get_json()

    def shape(view):
        return [
            (r["hotline"], r["status"], [(e["code"], e.get("params")) for e in r["events"]])
            for r in view["referrals"]
        ]

    assert shape(first_view) == shape(second_view)
    assert "already" not in json.dumps(second_view)
