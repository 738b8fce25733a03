"""Per-address rate limits: floods of receipts tries or of false reports are slowed down, and the
address is kept only as a keyed hash in the limiter's storage, never in logs."""

from __future__ import annotations

import logging
import os

import pytest
import redis

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
