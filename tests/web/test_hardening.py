"""Small things an outside test found: a forged Host, 405 without Allow, a chunked body over the
limit, and the optional Onion-Location header. (The Server header and chunked bodies on a real
server are checked in tests/test_privacy.py; cookies in tests/web/test_sessions.py.)"""

from __future__ import annotations

import io
import json

import pytest
from flask.testing import FlaskClient

from assistant.config import ConfigError
from assistant.config import load_settings
from tests.conftest import SECRETS
from tests.conftest import make_app

ONION = "http://" + "a" * 56 + ".onion"
# What gunicorn and Werkzeug's server hand the app for a chunked body: no length, a stream that
# ends where the body ends.
AS_A_SERVER_PASSES_CHUNKED = {"CONTENT_LENGTH": "", "wsgi.input_terminated": True}


def test_a_forged_host_is_refused_and_never_echoed(app):
    client = FlaskClient(app)  # not held to the API's document: the request never reaches it
    for path in ("/hotline", "/", "/api/v1/directory"):
        answer = client.get(path, headers={"Host": "forged-host.example"})
        assert answer.status_code == 400
        assert "Location" not in answer.headers
        assert "forged-host" not in answer.get_data(as_text=True)


def test_health_probes_answer_whatever_the_host(app):
    client = FlaskClient(app)
    for path in ("/healthz", "/readyz"):
        assert client.get(path, headers={"Host": "10.0.0.7:8000"}).status_code == 200


def test_production_trusts_only_the_public_url_and_the_hosts_allowed(tmp_path):
    secrets = {name: value for name, value in SECRETS.items()}
    settings = load_settings(
        {},
        tmp_path,
        {
            **secrets,
            "env": "production",
            "secure_cookies": True,
            "public_url": "https://help.example.org/",
            "allowed_hosts": f"{'a' * 56}.onion, other.example.org",
        },
    )
    assert settings.trusted_hosts == ["help.example.org", f"{'a' * 56}.onion", "other.example.org"]


def test_every_405_names_the_methods_allowed(client):
    for method, path in [
        ("put", "/check"),
        ("delete", "/api/v1/requests"),
        ("patch", "/"),
        ("post", "/healthz"),
        ("put", "/api/v1/hotline/referrals"),
    ]:
        answer = getattr(client, method)(path)
        assert answer.status_code == 405, path
        assert answer.headers.get("Allow"), path


def test_a_chunked_body_over_the_limit_is_413_and_one_within_it_is_read(database_url, tmp_path):
    app = make_app(database_url, tmp_path / "instance", max_body_bytes=4096)
    client = app.test_client()
    small = json.dumps({"locations": [{"kind": "url", "value": "https://example.com/a"}]})
    large = json.dumps(
        {"locations": [{"kind": "url", "value": "https://example.com/" + "a" * 5000}]}
    )
    answers = []
    for body in (large, small):
        answer = client.post(
            "/api/v1/requests",
            input_stream=io.BytesIO(body.encode()),
            headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
            environ_overrides=AS_A_SERVER_PASSES_CHUNKED,
        )
        answers.append(answer.status_code)
    assert answers == [413, 201]
    page = client.post(
        "/check",
        input_stream=io.BytesIO(b"csrf_token=x&case_number=" + b"a" * 5000),
        headers={
            "Transfer-Encoding": "chunked",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        environ_overrides=AS_A_SERVER_PASSES_CHUNKED,
    )
    assert page.status_code == 413
    assert "too much to send at once" in page.get_data(as_text=True)


def test_the_onion_location_header_is_sent_on_pages_when_configured(database_url, tmp_path):
    plain = make_app(database_url, tmp_path / "plain").test_client()
    assert "Onion-Location" not in plain.get("/support").headers
    app = make_app(database_url, tmp_path / "instance", onion_location=ONION + "/")
    client = app.test_client()
    assert client.get("/support?lang=fr").headers["Onion-Location"] == ONION + "/support"
    assert "Onion-Location" not in client.get("/api/v1/directory").headers


@pytest.mark.parametrize("value", ["https://example.org", "http://short.onion", "onion"])
def test_an_onion_location_that_is_not_an_onion_address_stops_the_app(tmp_path, value):
    with pytest.raises(ConfigError, match="ASSISTANT_ONION_LOCATION"):
        load_settings({}, tmp_path, {**SECRETS, "onion_location": value})
