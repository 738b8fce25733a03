"""A database or rate-limit store that does not answer: 503 with Retry-After, saying nothing was
saved (JSON for the API, a calm page for people), never a 500. The outages are real: a database
server and a Redis that nobody listens for."""

from __future__ import annotations

import socket

from tests.conftest import api_request_body
from tests.conftest import csrf_token
from tests.conftest import make_app


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free again once closed: nothing listens there


def test_a_database_that_does_not_answer_gets_503_with_retry_after(tmp_path):
    port = _closed_port()
    app = make_app(f"postgresql+psycopg://postgres@127.0.0.1:{port}/gone", tmp_path / "instance")
    client = app.test_client()
    filing = client.post("/api/v1/requests", json=api_request_body("https://example.com/a"))
    assert filing.status_code == 503
    assert filing.headers["Retry-After"] == "30"
    assert filing.get_json()["error"]["code"] == "unavailable"
    assert "Nothing was saved" in filing.get_json()["error"]["message"]
    token = csrf_token(client, "/check")  # a page that needs nothing stored still shows
    page = client.post(
        "/check", data={"csrf_token": token, "case_number": "RQ-00000000", "passphrase": "x"}
    )
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "30"
    text = page.get_data(as_text=True)
    assert "nothing was saved" in text and 'class="quick-exit' in text
    # A request carrying a session cookie fails while the session is read, before any view
    # (Flask hands that to the same handler, unless a test asks it to raise instead).
    app.config["PROPAGATE_EXCEPTIONS"] = False
    signer = app.session_interface._signer(app)  # a cookie as the app itself would sign it
    client.set_cookie("rra_session", signer.sign(b"some-session-id").decode())
    status_page = client.get("/my-request")
    assert status_page.status_code == 503 and status_page.headers["Retry-After"] == "30"


def test_a_rate_limit_store_that_does_not_answer_gets_503(database_url, tmp_path):
    port = _closed_port()
    app = make_app(
        database_url,
        tmp_path / "instance",
        ratelimit_enabled=True,
        ratelimit_storage_url=f"redis://127.0.0.1:{port}/0",
    )
    client = app.test_client()
    answer = client.post("/api/v1/session", json={"case_number": "RQ-00000000", "passphrase": "x"})
    assert answer.status_code == 503
    assert answer.get_json()["error"]["code"] == "unavailable"
