"""Figures for operators (issue 17, "Health and figures without personal data"): requests by route
and status, filings, deliveries by state and the queues, in Prometheus's text format, on an
address of their own. Real requests through the app on the real database; then the exposition is
read as Prometheus would, and must name no case, reference, address or id-bearing path."""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import Client

from assistant.cli import figures_server
from assistant.cli import main
from assistant.extensions import Database
from assistant.hotline.notices import send_notice
from assistant.metrics import CONTENT_TYPE
from assistant.metrics import counters_of
from assistant.metrics import exporter
from assistant.metrics import exposition
from assistant.metrics import parse_bind
from assistant.models import Case
from assistant.models import Location
from assistant.models import today
from tests.conftest import Survivor
from tests.conftest import api_request_body
from tests.conftest import empty_all_tables
from tests.conftest import make_app
from tests.hotline.delivery_support import LOOPBACK
from tests.hotline.delivery_support import TlsFiles
from tests.hotline.delivery_support import make_certificates
from tests.hotline.delivery_support import smtp_server
from tests.hotline.delivery_support import unused_port
from tests.hotline.notice_support import HOST_INBOX
from tests.hotline.notice_support import NoticeWorld
from tests.hotline.notice_support import notice_world
from tests.web.test_advocates import file_as

REDIS_URL = os.environ.get("ASSISTANT_TEST_REDIS_URL", "")
REQUESTS = "assistant_http_requests_total"
FILED = "assistant_requests_filed_total"
PLACES = "assistant_places_filed_total"

# The text format, line by line (https://prometheus.io/docs/instrumenting/exposition_formats/).
SAMPLE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9]+(?:\.[0-9]+)?)")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')


@dataclass
class Figures:
    """An exposition as Prometheus reads it; refuses anything the format does not allow."""

    text: str
    kinds: dict[str, str] = field(default_factory=dict)
    samples: dict[str, list[tuple[dict[str, str], float]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        assert self.text.endswith("\n")
        helped: set[str] = set()
        for line in self.text.splitlines():
            if line.startswith("# HELP "):
                name = line.split(" ")[2]
                assert name not in helped, f"two HELP lines for {name}"
                helped.add(name)
            elif line.startswith("# TYPE "):
                _hash, _type, name, kind = line.split(" ")
                assert kind in ("counter", "gauge") and name not in self.kinds
                assert name in helped, f"TYPE before HELP for {name}"
                self.kinds[name] = kind
                self.samples[name] = []
            elif line.startswith("#"):
                continue  # a comment
            else:
                found = SAMPLE.fullmatch(line)
                assert found, f"not a sample line: {line!r}"
                name, labels, value = found.groups()
                assert name in self.kinds, f"{name} has no TYPE before its samples"
                pairs = LABEL.findall(labels or "")
                assert ",".join(f'{k}="{v}"' for k, v in pairs) == (labels or "")
                self.samples[name].append((dict(pairs), float(value)))

    def value(self, name: str, **labels: str) -> int:
        """The sum of the samples with these labels (0 when there is none, as for a counter
        never incremented)."""
        assert name in self.kinds, f"{name} is not exposed"
        return int(
            sum(
                value
                for found, value in self.samples[name]
                if all(found.get(k) == v for k, v in labels.items())
            )
        )


def read_figures(app: Flask, now: dt.datetime | None = None) -> Figures:
    return Figures(exposition(app, now=now))


def assert_says_nothing_of(figures: Figures, *secrets: str) -> None:
    for secret in secrets:
        assert secret.lower() not in figures.text.lower(), secret
    for name, samples in figures.samples.items():
        for labels, _value in samples:
            for label in labels.values():
                assert "/" not in label and "RQ-" not in label, (name, label)


def test_every_answer_is_counted_by_route_and_status_never_by_path_or_address(app, client):
    client.environ_base.update(
        REMOTE_ADDR="198.51.100.77", HTTP_USER_AGENT="Tracer/9.9 (unique-agent-4471)"
    )
    for _ in range(2):
        assert client.get("/").status_code == 200
    assert client.get("/check").status_code == 200
    wrong = {"case_number": "RQ-7Q2M4K8P", "passphrase": "nope"}
    assert client.post("/api/v1/session", json=wrong).status_code == 401
    assert client.get("/hotline/referrals/424242").status_code == 303  # to the sign-in page
    assert client.get("/my-request/files/RQ-7Q2M4K8P/9001").status_code == 404
    assert client.delete("/healthz").status_code == 405

    figures = read_figures(app)

    assert figures.kinds[REQUESTS] == "counter"
    assert figures.value(REQUESTS, route="public.landing", method="GET", status="200") == 2
    assert figures.value(REQUESTS, route="survivor.check", method="GET", status="200") == 1
    assert figures.value(REQUESTS, route="api.create_session", method="POST", status="401") == 1
    assert figures.value(REQUESTS, route="hotline.referral", method="GET", status="303") == 1
    # No route matched: counted, but the path itself is kept nowhere.
    assert figures.value(REQUESTS, route="unmatched", status="404") == 1
    assert figures.value(REQUESTS, route="unmatched", status="405") == 1
    # Besides, the test client reads the API's document once, to hold the answers to it.
    assert figures.value(REQUESTS) - figures.value(REQUESTS, route="api.openapi") == 7
    assert_says_nothing_of(
        figures, "424242", "RQ-7Q2M4K8P", "9001", "198.51.100.77", "unique-agent", "Tracer"
    )


def test_filings_are_counted_once_committed_and_refusals_count_nothing(
    app, client, survivor, advocate_a
):
    links = (
        "https://filebox-7731.example.ie/album/1",
        "https://filebox-7731.example.ie/album/2",
        "https://pics-5520.example.nl/x",
        "https://pics-5520.example.nl/y",
        "https://advocate-9034.example.ie/p",
    )
    web_number, web_passphrase = survivor.file(links[0], links[1])
    api = app.test_client()
    filed = api.post("/api/v1/requests", json=api_request_body(links[2]))
    assert filed.status_code == 201
    receipt = filed.get_json()
    refused = api.post("/api/v1/requests", json=api_request_body(links[2], survivor_country="XX"))
    assert refused.status_code == 422
    token = api.post(
        "/api/v1/session",
        json={"case_number": receipt["case_number"], "passphrase": receipt["passphrase"]},
    ).get_json()["token"]
    mine = {"Authorization": f"Bearer {token}"}
    added = {"locations": [{"kind": "url", "value": links[3]}]}
    assert api.post("/api/v1/requests/me/locations", json=added, headers=mine).status_code == 201
    # The same place again adds nothing, and counts nothing.
    assert api.post("/api/v1/requests/me/locations", json=added, headers=mine).status_code == 409
    advocate_number, _passphrase, _page = file_as(advocate_a, links[4])

    figures = read_figures(app)

    assert figures.kinds[FILED] == figures.kinds[PLACES] == "counter"
    assert figures.value(FILED, filed_by="survivor") == 2
    assert figures.value(FILED, filed_by="advocate") == 1
    assert figures.value(PLACES, filing="new_request") == 4
    assert figures.value(PLACES, filing="added") == 1
    assert figures.value(REQUESTS, route="api.create_request", status="201") == 1
    assert figures.value(REQUESTS, route="api.create_request", status="422") == 1
    assert figures.value(REQUESTS, route="api.add_my_locations", status="409") == 1
    assert_says_nothing_of(
        figures,
        web_number,
        web_passphrase,
        receipt["case_number"],
        receipt["passphrase"],
        advocate_number,
        token,
        "filebox-7731",
        "pics-5520",
        "advocate-9034",
        "example.ie",
    )


def a_case(number: str) -> Case:
    on = today()
    case = Case(
        case_number=number,
        passphrase_hash="not-a-hash",
        language="en",
        created_on=on,
        retain_until=on,
    )
    case.locations.append(
        Location(
            position=0,
            kind="url",
            value_sealed=b"sealed",
            value_hash=number,
            route_reasons=[],
            added_on=on,
            status_changed_on=on,
        )
    )
    return case


def test_a_filing_rolled_back_or_abandoned_counts_nothing(app):
    with Database.new_session(app) as db:
        db.add(a_case("RQ-ROLLBACK"))
        db.flush()  # written, then taken back
        db.rollback()
        db.add(a_case("RQ-COMMIT-1"))
        db.commit()
        db.add(a_case("RQ-ABANDON"))
        db.flush()
        db.close()  # abandoned: closed without a commit, and the session used again
        db.add(a_case("RQ-COMMIT-2"))
        db.commit()
    figures = read_figures(app)
    assert figures.value(FILED) == figures.value(FILED, filed_by="survivor") == 2
    assert figures.value(PLACES) == figures.value(PLACES, filing="new_request") == 2


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def world(database_url: str, tmp_path: Path, tls: TlsFiles) -> Iterator[NoticeWorld]:
    with notice_world(database_url, tmp_path, tls) as built:
        yield built


def queues(world: NoticeWorld) -> dict[str, int]:
    figures = read_figures(world.app, now=world.clock())
    found = {
        state: figures.value("assistant_outbox_items", state=state)
        for state in ("pending", "sent", "dead", "cancelled")
    }
    for name in ("outbox_due", "outbox_retrying", "chase_scheduled", "chase_due"):
        assert figures.kinds[f"assistant_{name}"] == "gauge"
        found[name] = figures.value(f"assistant_{name}")
    return found


def test_deliveries_by_state_and_the_queues_are_counted_in_the_database(
    world: NoticeWorld, tls: TlsFiles
):
    _survivor, receipt, referral_id, ids = world.file_and_assess(
        "https://filebox-test.ie/f/5521-garden"
    )
    nothing = {"pending": 0, "sent": 0, "dead": 0, "cancelled": 0}
    idle = {"outbox_due": 0, "outbox_retrying": 0, "chase_scheduled": 0, "chase_due": 0}
    assert queues(world) == {**nothing, **idle}
    with world.session() as db:
        referral = world.referral(db, referral_id)
        send_notice(
            db,
            world.services,
            world.staff(db),
            referral,
            ids,
            notice_type="csam",  # type: ignore[arg-type]
            subtype=None,
            provider_id="filebox_test",
            provider_name=None,
            recipient=HOST_INBOX,
            version=referral.version,
        )
    waiting = {"pending": 1, "outbox_due": 1, "chase_scheduled": 1}
    assert queues(world) == {**nothing, **idle, **waiting}

    # The provider's mail server is away: the notice waits for a retry, not due yet.
    world.server.stop()
    assert world.deliver().retried == 1
    retrying = {"pending": 1, "outbox_retrying": 1, "chase_scheduled": 1}
    assert queues(world) == {**nothing, **idle, **retrying}

    # Back a minute later: sent.
    again = smtp_server(world.smtp_port, world.mailbox, tls)
    again.start()
    try:
        world.clock.advance(minutes=1)
        assert world.deliver().sent == 1
        assert queues(world) == {**nothing, **idle, "sent": 1, "chase_scheduled": 1}
        # A day without an answer: the chase is due; its pass queues a reminder.
        world.clock.advance(hours=24)
        assert queues(world)["chase_due"] == 1
        assert world.chase().reminded == 1
        reminded = {"pending": 1, "sent": 1, "outbox_due": 1, "chase_scheduled": 1}
        assert queues(world) == {**nothing, **idle, **reminded}
    finally:
        again.stop()
    # Its mail server away past the retry period: the reminder is given up on (and the next
    # one is due by then).
    world.clock.advance(hours=25)
    assert world.deliver().dead == 1
    given_up = {"sent": 1, "dead": 1, "chase_scheduled": 1, "chase_due": 1}
    assert queues(world) == {**nothing, **idle, **given_up}

    figures = read_figures(world.app, now=world.clock())
    assert figures.value("assistant_database_up") == 1
    assert_says_nothing_of(
        figures, receipt[0], receipt[1], "filebox", HOST_INBOX, "5521", "hotline_ie"
    )


def test_the_exporter_answers_on_an_address_of_its_own_and_only_at_metrics(app, client):
    assert client.get("/").status_code == 200
    # The public app has no such page: the figures are not on the service's address.
    assert client.get("/metrics").status_code == 404
    port = unused_port()
    server = figures_server(app, LOOPBACK, port)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/metrics", timeout=10) as answer:
            assert answer.status == 200
            assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            assert answer.headers["Content-Type"] == CONTENT_TYPE
            figures = Figures(answer.read().decode("utf-8"))
        assert "Set-Cookie" not in answer.headers
        assert "Server" not in answer.headers  # no software, no version
        with pytest.raises(urllib.error.HTTPError) as elsewhere:
            urllib.request.urlopen(f"http://{LOOPBACK}:{port}/", timeout=10)
        assert elsewhere.value.code == 404
    finally:
        server.shutdown()
        server.server_close()
    assert figures.value(REQUESTS, route="public.landing", status="200") == 1
    assert figures.value(REQUESTS, route="unmatched", status="404") == 1
    assert figures.value("assistant_outbox_items") == 0
    assert figures.value("assistant_database_up") == 1
    refused = Client(exporter(app)).post("/metrics")
    assert refused.status_code == 405 and refused.headers["Allow"] == "GET, HEAD"


def test_with_memory_storage_another_process_sees_only_the_database_figures(
    app, survivor, database_url, tmp_path
):
    survivor.file("https://example.ie/only-in-this-process")
    # Another app on the same database and its own memory://, as the exporter would be.
    other = make_app(database_url, tmp_path / "other")
    try:
        figures = read_figures(other)
        assert not counters_of(other).shared
        assert "memory://" in figures.text  # says why the counters are empty
        assert figures.samples[FILED] == figures.samples[REQUESTS] == []
        assert figures.value("assistant_counter_store_up") == 1
        assert figures.value("assistant_database_up") == 1
    finally:
        Database.engine(other).dispose()


@pytest.mark.skipif(not REDIS_URL, reason="ASSISTANT_TEST_REDIS_URL is not set")
def test_counters_in_redis_are_the_sum_of_every_process(database_url, tmp_path):
    """Two web processes (two apps) and an exporter share the counters through Redis."""
    webs = [
        make_app(database_url, tmp_path / name, ratelimit_storage_url=REDIS_URL)
        for name in ("web-1", "web-2")
    ]
    figures_app = make_app(database_url, tmp_path / "figures", ratelimit_storage_url=REDIS_URL)
    empty_all_tables(figures_app)
    try:
        assert counters_of(figures_app).shared
        before = read_figures(figures_app)
        for web in webs:
            client = web.test_client()
            assert client.get("/").status_code == 200
            Survivor(client).file(f"https://example.ie/from-{id(web)}")
        after = read_figures(figures_app)
        landing = {"route": "public.landing", "method": "GET", "status": "200"}
        assert after.value(REQUESTS, **landing) - before.value(REQUESTS, **landing) == 2
        filed = after.value(FILED, filed_by="survivor") - before.value(FILED, filed_by="survivor")
        assert filed == 2
        places = after.value(PLACES, filing="new_request")
        assert places - before.value(PLACES, filing="new_request") == 2
        assert "memory://" not in after.text
    finally:
        for built in (*webs, figures_app):
            empty_all_tables(built)
            Database.engine(built).dispose()


def test_a_counter_store_that_does_not_answer_costs_the_figure_not_the_filing(
    database_url, tmp_path, caplog
):
    # Nothing listens on port 1 of this machine.
    app = make_app(
        database_url, tmp_path / "instance", ratelimit_storage_url="redis://127.0.0.1:1/0"
    )
    empty_all_tables(app)
    try:
        client = app.test_client()
        assert client.get("/").status_code == 200
        assert client.get("/check").status_code == 200
        filed = client.post("/api/v1/requests", json=api_request_body("https://example.ie/kept"))
        assert filed.status_code == 201
        figures = read_figures(app)
        assert figures.value("assistant_counter_store_up") == 0
        assert figures.samples[REQUESTS] == []
        assert figures.value("assistant_database_up") == 1
        # Said once, not once a request.
        assert caplog.text.count("counters not kept") == 1
        assert filed.get_json()["case_number"] not in caplog.text
    finally:
        empty_all_tables(app)
        Database.engine(app).dispose()


def test_the_figures_say_when_the_database_does_not_answer(tmp_path):
    missing = tmp_path / "no-such-folder" / "app.sqlite3"
    app = make_app(f"sqlite:///{missing}", tmp_path / "instance")
    figures = read_figures(app)
    assert figures.value("assistant_database_up") == 0
    assert "assistant_outbox_items" not in figures.kinds
    assert str(missing) not in figures.text


@pytest.mark.parametrize(
    ("bind", "parts"),
    [("127.0.0.1:9464", ("127.0.0.1", 9464)), ("[::1]:9100", ("::1", 9100))],
)
def test_the_bind_address_is_host_and_port(bind: str, parts: tuple[str, int]):
    assert parse_bind(bind) == parts


@pytest.mark.parametrize("bind", ["9464", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", ":1"])
def test_the_metrics_command_refuses_a_bind_that_is_not_host_and_port(app: Any, bind: str):
    result = app.test_cli_runner().invoke(main, ["metrics", "--bind", bind])
    assert result.exit_code == 2
    assert "host:port" in result.output
