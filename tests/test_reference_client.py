"""The reference client in ``examples/hotline_client.py``, run against the app on loopback: it
follows the feed, takes on new referrals, records an assessment, and checks a real webhook from
the delivery worker with the Standard Webhooks verifier. What the survivor then sees is checked
through the survivor's own API."""

from __future__ import annotations

import datetime as dt
import importlib.util
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from assistant.extensions import Database
from assistant.hotline.api_keys import create_key
from assistant.hotline.delivery import DeliveryReport
from assistant.hotline.delivery import deliver_once
from assistant.models import utcnow
from tests.conftest import HOTLINE_A
from tests.conftest import api_request_body
from tests.conftest import empty_all_tables
from tests.conftest import make_app
from tests.hotline.delivery_support import LOOPBACK
from tests.hotline.delivery_support import delivery_data
from tests.hotline.delivery_support import make_certificates
from tests.hotline.delivery_support import unused_port
from tests.hotline.delivery_support import verifier_secret

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "hotline_client.py"
SECRET = "whsec_" + "c2VjcmV0LWZvci10aGUtcmVmZXJlbmNlLWNsaWVudC10ZXN0"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hotline_client", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[Flask, str, int]]:
    """The app on loopback, its Irish hotline taking webhooks at a loopback HTTPS receiver."""
    hook_port = unused_port()
    (tmp_path / "tls").mkdir()
    tls = make_certificates(tmp_path / "tls")
    settings = delivery_data(
        tmp_path,
        intakes={"hotline_ie": "webhook"},
        endpoints={
            "hotline_ie": {
                "webhook_url": f"https://{LOOPBACK}:{hook_port}/events",
                "webhook_secret": SECRET,
            }
        },
    )
    app = make_app(database_url, tmp_path / "instance", **settings, tls_ca_file=str(tls.ca_file))
    app.config["TLS_FOR_TEST"] = tls
    empty_all_tables(app)
    server = make_server(LOOPBACK, 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://{LOOPBACK}:{server.server_port}", hook_port
    finally:
        server.shutdown()
        thread.join()
        empty_all_tables(app)
        Database.engine(app).dispose()


def test_the_reference_client_works_a_referral_end_to_end(served, tmp_path: Path):
    app, base_url, hook_port = served
    example = load_example()
    services = app.extensions["assistant.services"]
    with Database.new_session(app) as db:
        key = create_key(
            db, services.directory, HOTLINE_A, "reference client", ["read", "act"], by=None
        ).raw
    survivor = app.test_client()
    receipt = survivor.post(
        "/api/v1/requests",
        json=api_request_body("https://files.example.ie/one", "https://files.example.ie/two"),
    ).get_json()
    token = survivor.post(
        "/api/v1/session",
        json={"case_number": receipt["case_number"], "passphrase": receipt["passphrase"]},
    ).get_json()["token"]

    # The delivery worker sends the new referral; the client's own check accepts it.
    events: list[dict[str, Any]] = []
    refused: list[str] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = {name.lower(): value for name, value in self.headers.items()}
            try:
                events.append(example.webhook_event(verifier_secret(SECRET), body, headers))
                self.send_response(204)
            except Exception as exc:
                refused.append(type(exc).__name__)
                self.send_response(401)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    hooks = ThreadingHTTPServer((LOOPBACK, hook_port), Receiver)
    hooks.socket = (
        app.config["TLS_FOR_TEST"].server_context().wrap_socket(hooks.socket, server_side=True)
    )
    hook_thread = threading.Thread(target=hooks.serve_forever, daemon=True)
    hook_thread.start()
    try:
        report = deliver_once(lambda: Database.new_session(app), services, now=utcnow)
    finally:
        hooks.shutdown()
        hook_thread.join()
    # (The key's announcement finds no administrator to go to in this test: cancelled.)
    assert report == DeliveryReport(sent=1, cancelled=1) and not refused
    [event] = events
    assert event["type"] == "referral.created"
    reference = event["data"]["reporting_reference"]

    # The client follows the feed and takes the referral on.
    assistant = example.Assistant(base_url, key)
    cases: dict[str, dict[str, Any]] = {}
    cursor = tmp_path / "cursor"
    assert example.sync(assistant, cursor, cases) == 1
    assert list(cases) == [reference]
    assert cases[reference]["status"] == "with_hotline"
    # Nothing new: the saved cursor reads nothing again.
    assert example.sync(assistant, cursor, cases) == 1  # its own acknowledgement, once
    assert example.sync(assistant, cursor, cases) == 0

    example.record_assessment(assistant, cases, reference, "harmful_abusive", "a")
    assert {p["assessment"] for p in cases[reference]["locations"]} == {"harmful_abusive"}

    mine = survivor.get("/api/v1/requests/me", headers={"Authorization": f"Bearer {token}"})
    assert [p["status"] for p in mine.get_json()["locations"]] == ["with_hotline"] * 2
    today = dt.date.today().isoformat()
    codes = [(e["code"], e["on"]) for r in mine.get_json()["referrals"] for e in r["events"]]
    assert ("with_hotline", today) in codes

    # A key without the power to act is refused in words the client raises.
    with Database.new_session(app) as db:
        reader = create_key(db, services.directory, HOTLINE_A, "reader", ["read"], by=None).raw
    with pytest.raises(example.ApiError) as refusal:
        example.Assistant(base_url, reader).act(reference, "close", 1, reason="duplicate")
    assert refusal.value.status == 403
