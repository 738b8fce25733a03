"""Per-address rate limits: floods of receipts tries or of false reports are slowed down, and the
address is kept only as a keyed hash in the limiter's storage, never in logs."""

from __future__ import annotations

import logging
import os
import threading

import pytest
import redis

from assistant.extensions import Database
from assistant.hotline.api_keys import create_key
from tests.conftest import HOTLINE_A
from tests.conftest import Survivor
from tests.conftest import csrf_token
from tests.conftest import make_app

REDIS_URL = os.environ.get("ASSISTANT_TEST_REDIS_URL", "")
STORAGES = ["memory://"] + ([REDIS_URL] if REDIS_URL else [])


@pytest.fixture(params=STORAGES, ids=lambda url: url.split(":")[0])
def limited_app(request, database_url, tmp_path):
    storage = request.param
    if storage.startswith("redis"):
        redis.Redis.from_url(storage).flushdb()
    return make_app(
        database_url,
        tmp_path / "instance",
        ratelimit_enabled=True,
        ratelimit_storage_url=storage,
        ratelimit_receipt="3 per minute",
        ratelimit_filing="2 per hour",
    )


def test_receipt_tries_are_limited_per_address(limited_app, caplog):
    caplog.set_level(logging.DEBUG)
    client = limited_app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.23"
    body = {"case_number": "RQ-00000000", "passphrase": "abcd"}
    statuses = [client.post("/api/v1/session", json=body).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert client.post("/api/v1/session", json=body).get_json()["error"]["code"] == (
        "too_many_requests"
    )
    other = limited_app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.24"
    assert other.post("/api/v1/session", json=body).status_code == 401
    assert "198.51.100.23" not in "\n".join(r.getMessage() for r in caplog.records)


def test_filing_is_limited_per_address_across_web_and_api_with_a_kind_page(limited_app):
    client = limited_app.test_client()
    body = {"locations": [{"kind": "url", "value": "https://example.com/a"}]}
    assert [client.post("/api/v1/requests", json=body).status_code for _ in range(3)] == [
        201,
        201,
        429,
    ]
    survivor = Survivor(client)
    survivor.add_places(value="https://example.com/b")
    survivor.add_places(action="continue")
    token = csrf_token(client, "/request/review")
    page = client.post("/request/send", data={"csrf_token": token})
    assert page.status_code == 429
    assert "too many tries in a short time" in page.get_data(as_text=True)
    assert 'id="passphrase"' not in page.get_data(as_text=True)


def test_refused_filings_do_not_use_up_the_filing_quota(limited_app):
    client = limited_app.test_client()
    refused = {"locations": [{"kind": "url", "value": "not a link at all"}]}
    assert {client.post("/api/v1/requests", json=refused).status_code for _ in range(10)} == {422}
    body = {"locations": [{"kind": "url", "value": "https://example.com/a"}]}
    assert client.post("/api/v1/requests", json=body).status_code == 201


def test_filings_sent_at_once_never_get_past_the_limit(database_url, tmp_path):
    storage = REDIS_URL or "memory://"
    if storage.startswith("redis"):
        redis.Redis.from_url(storage).flushdb()
    app = make_app(
        database_url,
        tmp_path / "instance",
        ratelimit_enabled=True,
        ratelimit_storage_url=storage,
        ratelimit_filing="10 per hour",
    )
    body = {"locations": [{"kind": "url", "value": "https://example.com/a"}]}
    start = threading.Barrier(24)
    statuses = []

    def file():
        client = app.test_client()
        start.wait()
        statuses.append(client.post("/api/v1/requests", json=body).status_code)

    threads = [threading.Thread(target=file) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] * 10 + [429] * 14


def test_refusals_are_limited_apart_and_more_generously(database_url, tmp_path):
    app = make_app(
        database_url,
        tmp_path / "instance",
        ratelimit_enabled=True,
        ratelimit_filing="2 per hour",
        ratelimit_refused_filing="5 per hour",
    )
    client = app.test_client()
    refused = {"locations": [{"kind": "url", "value": "not a link at all"}]}
    statuses = [client.post("/api/v1/requests", json=refused).status_code for _ in range(6)]
    assert statuses == [422] * 5 + [429]


def test_places_that_need_another_look_on_the_web_use_no_quota(limited_app):
    survivor = Survivor(limited_app.test_client())
    number, passphrase = survivor.file("https://example.com/first")
    survivor.sign_in(number, passphrase)
    for _ in range(4):
        token = csrf_token(survivor.client, "/my-request/add")
        page = survivor.client.post(
            "/my-request/add", data={"csrf_token": token, "kind": "url", "value": "not a link"}
        )
        assert page.status_code == 200  # shown again, with what to change
    token = csrf_token(survivor.client, "/my-request/add")
    added = survivor.client.post(
        "/my-request/add",
        data={"csrf_token": token, "kind": "url", "value": "https://example.com/second"},
    )
    assert added.status_code == 303  # the second of the two filings an hour allows


def test_the_hotline_systems_api_is_limited_per_key_and_keys_never_reach_a_log(
    database_url, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    app = make_app(
        database_url,
        tmp_path / "instance",
        ratelimit_enabled=True,
        ratelimit_hotline_api="3 per minute",
    )
    services = app.extensions["assistant.services"]
    with Database.new_session(app) as db:
        busy = create_key(db, services.directory, HOTLINE_A, "busy", ["read"], by=None).raw
        calm = create_key(db, services.directory, HOTLINE_A, "calm", ["read"], by=None).raw
    first, second = app.test_client(), app.test_client()
    first.environ_base["REMOTE_ADDR"] = "198.51.100.31"
    second.environ_base["REMOTE_ADDR"] = "198.51.100.32"

    def feed(client, key):
        return client.get("/api/v1/hotline/referrals", headers={"Authorization": f"Bearer {key}"})

    assert [feed(first, busy).status_code for _ in range(4)] == [200, 200, 200, 429]
    # Another key (from its own machine) is not slowed by the first one's calls.
    assert feed(second, calm).status_code == 200
    # Guessing keys from one address is slowed down too.
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "198.51.100.33"
    guesses = [feed(guesser, f"rra_{n}{'x' * 40}").status_code for n in range(4)]
    assert guesses == [401, 401, 401, 429]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert busy not in logged and calm not in logged and "rra_" not in logged
