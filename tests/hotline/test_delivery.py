"""Delivery to hotlines' own systems: the outbox row written with the referral, signed webhooks
and neutral e-mails sent to real servers on loopback, retries, dead letters, several workers.

Time is the injected clock: no test waits for a retry to come due.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import threading
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from assistant.cases.intake import IntakeRequest
from assistant.cases.intake import add_locations
from assistant.cases.intake import file_request
from assistant.cases.retention import erase_case
from assistant.cases.status import post_survivor_message
from assistant.cli import main
from assistant.config import ConfigError
from assistant.extensions import Database
from assistant.hotline.channels import SIGNATURE_HEADER
from assistant.hotline.channels import TIMESTAMP_HEADER
from assistant.hotline.channels import load_endpoints
from assistant.hotline.channels import sign
from assistant.hotline.channels import verify_signature
from assistant.hotline.delivery import DeliveryReport
from assistant.hotline.delivery import dead_letters
from assistant.hotline.delivery import deliver_once
from assistant.hotline.delivery import retry_dead_letter
from assistant.hotline.delivery import run_forever
from assistant.hotline.referrals import Staff
from assistant.hotline.referrals import reroute
from assistant.models import AuditEvent
from assistant.models import Case
from assistant.models import OutboxItem
from assistant.models import Referral
from assistant.models import utcnow
from assistant.routing import normalise_location
from assistant.routing.directory import load_directory
from assistant.services import Services
from tests.conftest import Survivor
from tests.conftest import empty_all_tables
from tests.conftest import make_app
from tests.hotline.delivery_support import Clock
from tests.hotline.delivery_support import Mailbox
from tests.hotline.delivery_support import TlsFiles
from tests.hotline.delivery_support import WebhookReceiver
from tests.hotline.delivery_support import delivery_data
from tests.hotline.delivery_support import make_certificates
from tests.hotline.delivery_support import smtp_server
from tests.hotline.delivery_support import unused_port
from tests.hotline.delivery_support import verifier_secret

IE_SECRET = "ie-shared-secret-" + "k" * 32
GB_SECRET = "gb-shared-secret-" + "q" * 32
FR_INBOX = "referrals@point-de-contact.example"
SMTP_FROM = "alerts@assistant.example"
SMTP_USER, SMTP_PASSWORD = "assistant", "smtp-password-for-tests"
PUBLIC_URL = "https://assistant.example"
CATEGORIES = (
    "abuse_material",
    "abuse_series",
    "sexualised_context",
    "physical_abuse",
    "identifying_information",
    "threats_harassment",
)


@dataclass
class World:
    """An app whose Irish and British hotlines take webhooks, whose French hotline takes e-mail
    and whose Austrian hotline uses the portal; the receivers are started by each test."""

    app: Flask
    services: Services
    clock: Clock
    tls: TlsFiles
    hook_port: int
    smtp_port: int

    def session(self) -> Session:
        return Database.new_session(self.app)

    def file(self, *urls: str) -> tuple[int, str]:
        """File a request for these links; returns the case's id and number."""
        with self.session() as db:
            filed = file_request(
                db,
                self.services,
                IntakeRequest(
                    locations=[normalise_location("url", url) for url in urls],
                    categories=frozenset({"abuse_material", "identifying_information"}),
                    minor_in_material="yes",
                ),
            )
            return filed.case.id, filed.case_number

    def deliver(self, **options: object) -> DeliveryReport:
        options.setdefault("now", self.clock)
        return deliver_once(self.session, self.services, **options)  # type: ignore[arg-type]

    def outbox(self) -> list[OutboxItem]:
        with self.session() as db:
            return list(db.scalars(select(OutboxItem).order_by(OutboxItem.id)))

    def pending(self) -> int:
        with self.session() as db:
            return (
                db.scalar(select(func.count(OutboxItem.id)).where(OutboxItem.status == "pending"))
                or 0
            )

    def receiver(self, tls: TlsFiles | None = None, **options: object) -> WebhookReceiver:
        return WebhookReceiver(
            self.hook_port,
            tls or self.tls,
            {"/ie": IE_SECRET, "/gb": GB_SECRET},
            self.clock,
            **options,
        )  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def world(database_url: str, tmp_path: Path, tls: TlsFiles) -> Iterator[World]:
    hook_port, smtp_port = unused_port(), unused_port()
    settings = delivery_data(
        tmp_path,
        intakes={
            "hotline_ie": "webhook",
            "iwf_gb": "webhook",
            "point_de_contact_fr": "email",
            "stopline_at": "portal",
        },
        endpoints={
            "hotline_ie": {
                "webhook_url": f"https://127.0.0.1:{hook_port}/ie",
                "webhook_secret": IE_SECRET,
            },
            "iwf_gb": {
                "webhook_url": f"https://127.0.0.1:{hook_port}/gb",
                "webhook_secret": GB_SECRET,
            },
            "point_de_contact_fr": {"email": FR_INBOX},
        },
    )
    app = make_app(
        database_url,
        tmp_path / "instance",
        **settings,
        tls_ca_file=str(tls.ca_file),
        public_url=PUBLIC_URL,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_from=SMTP_FROM,
        smtp_username=SMTP_USER,
        smtp_password=SMTP_PASSWORD,
    )
    empty_all_tables(app)
    # A little ahead of the real clock, so that what is filed during the test is already due.
    clock = Clock(utcnow() + dt.timedelta(minutes=5))
    yield World(app, app.extensions["assistant.services"], clock, tls, hook_port, smtp_port)
    empty_all_tables(app)
    Database.engine(app).dispose()


def referral_ids(world: World, hotline_id: str) -> list[int]:
    with world.session() as db:
        return list(
            db.scalars(
                select(Referral.id).where(Referral.hotline_id == hotline_id).order_by(Referral.id)
            )
        )


# --- the outbox row ---


def test_filing_writes_a_delivery_only_for_the_hotline_that_takes_them(world: World):
    Survivor(world.app.test_client()).file(
        "https://news.example.ie/a", "https://shop.example.at/b", "https://blog.example.nl/c"
    )

    [item] = world.outbox()
    assert (item.hotline_id, item.channel, item.status, item.attempts) == (
        "hotline_ie",
        "webhook",
        "pending",
        0,
    )
    assert [item.referral_id] == referral_ids(world, "hotline_ie")
    assert referral_ids(world, "stopline_at") and referral_ids(world, "offlimits_nl")
    assert len(item.idempotency_key) == 32


# --- webhooks ---


def test_a_webhook_waits_for_the_receiver_and_then_delivers_each_referral_once(
    world: World, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    cases = [
        world.file("https://news.example.ie/story-1"),
        world.file("https://forum.example.ie/thread-2"),
    ]

    assert world.deliver() == DeliveryReport(retried=2)
    for item in world.outbox():
        assert (item.status, item.attempts, item.last_error) == ("pending", 1, "connection_refused")
        assert item.next_attempt_at > world.clock()
    assert world.deliver() == DeliveryReport()  # not due yet

    with world.receiver() as receiver:
        world.clock.advance(hours=1)
        assert world.deliver() == DeliveryReport(sent=2)
        world.clock.advance(hours=2)
        assert world.deliver() == DeliveryReport()

    items = world.outbox()
    assert [item.status for item in items] == ["sent", "sent"]
    assert sorted(r.headers["idempotency-key"] for r in receiver.requests) == sorted(
        item.idempotency_key for item in items
    )
    assert all(r.signature_ok and r.path == "/ie" for r in receiver.requests)
    assert all(r.headers["content-type"] == "application/json" for r in receiver.requests)
    # The id a receiver de-duplicates on: the same as the Idempotency-Key, and signed.
    assert all(r.headers["webhook-id"] == r.headers["idempotency-key"] for r in receiver.requests)
    payloads = [r.json() for r in receiver.requests]
    assert {p["type"] for p in payloads} == {"referral.created"}
    assert all(
        p["delivery_id"] == r.headers["webhook-id"]
        for p, r in zip(payloads, receiver.requests, strict=True)
    )
    references = [p["data"]["reporting_reference"] for p in payloads]
    assert sorted(references) == sorted(f"RRA-{rid}" for rid in referral_ids(world, "hotline_ie"))
    assert {p["data"]["locations"][0]["location"] for p in payloads} == {
        "https://news.example.ie/story-1",
        "https://forum.example.ie/thread-2",
    }
    assert (
        receiver.requests[0].body
        == json.dumps(payloads[0], separators=(",", ":"), ensure_ascii=False).encode()
    )
    # In this release the deprecated headers still come too, for receivers that check them.
    assert all(r.legacy_ok for r in receiver.requests)
    for _case_id, case_number in cases:
        assert case_number not in caplog.text
    assert "example.ie" not in caplog.text and "story-1" not in caplog.text


def test_the_reference_verifier_tells_a_genuine_webhook_from_a_changed_or_replayed_one(
    world: World,
):
    world.file("https://news.example.ie/story")
    # The machine's own time, as the published verifier reads it.
    receiver = WebhookReceiver(world.hook_port, world.tls, {"/ie": IE_SECRET}, utcnow)
    with receiver:
        assert world.deliver(now=utcnow) == DeliveryReport(sent=1)
    [request] = receiver.requests
    verifier = Webhook(verifier_secret(IE_SECRET))
    payload = verifier.verify(request.body, request.headers)
    assert payload["type"] == "referral.created"
    assert payload["data"]["locations"][0]["location"] == "https://news.example.ie/story"

    changed = request.body.replace(b"story", b"st0ry")
    with pytest.raises(WebhookVerificationError):
        verifier.verify(changed, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(verifier_secret(GB_SECRET)).verify(request.body, request.headers)
    other_id = {**request.headers, "webhook-id": "another-delivery"}
    with pytest.raises(WebhookVerificationError):
        verifier.verify(request.body, other_id)
    stale = str(int(request.headers["webhook-timestamp"]) - 600)
    with pytest.raises(WebhookVerificationError):
        verifier.verify(request.body, {**request.headers, "webhook-timestamp": stale})


def test_the_deprecated_signature_checks_out_and_can_be_turned_off(world: World):
    world.file("https://news.example.ie/story")
    services = world.services
    world.services = dataclasses.replace(
        services, settings=dataclasses.replace(services.settings, webhook_legacy_signature=False)
    )
    with world.receiver() as receiver:
        assert world.deliver() == DeliveryReport(sent=1)
    assert not any(TIMESTAMP_HEADER.lower() in r.headers for r in receiver.requests)
    world.services = services
    world.file("https://news.example.ie/story-two")
    with world.receiver() as receiver:
        assert world.deliver() == DeliveryReport(sent=1)
    [request] = receiver.requests
    assert request.signature_ok and request.legacy_ok
    timestamp = request.headers[TIMESTAMP_HEADER.lower()]
    header = request.headers[SIGNATURE_HEADER.lower()]
    now = world.clock()

    assert request.signature_ok
    assert header == f"v1={sign(IE_SECRET, timestamp, request.body)}"
    assert verify_signature(IE_SECRET, timestamp, request.body, header, now=now)
    changed = request.body.replace(b"story", b"st0ry")
    assert not verify_signature(IE_SECRET, timestamp, changed, header, now=now)
    assert not verify_signature(GB_SECRET, timestamp, request.body, header, now=now)
    assert not verify_signature(IE_SECRET, str(int(timestamp) + 1), request.body, header, now=now)
    stale = now + dt.timedelta(minutes=6)
    assert not verify_signature(IE_SECRET, timestamp, request.body, header, now=stale)
    assert verify_signature(
        IE_SECRET, timestamp, request.body, header, now=now + dt.timedelta(minutes=4)
    )
    assert not verify_signature(IE_SECRET, "soon", request.body, header, now=now)
    assert verify_signature(IE_SECRET, timestamp, request.body, f"v1=00,{header}", now=now)


def test_a_receiver_that_cannot_verify_the_signature_is_not_counted_as_delivered(world: World):
    world.file("https://news.example.ie/story")
    receiver = WebhookReceiver(world.hook_port, world.tls, {"/ie": GB_SECRET}, world.clock)
    with receiver:
        assert world.deliver() == DeliveryReport(retried=1)
    assert not receiver.requests[0].signature_ok
    assert world.outbox()[0].last_error == "http_401"


@pytest.mark.parametrize("status", [302, 503])
def test_a_redirect_or_an_error_is_a_failure_and_no_redirect_is_followed(world: World, status):
    world.file("https://news.example.ie/story")
    with world.receiver(status=status) as receiver:
        assert world.deliver() == DeliveryReport(retried=1)
    assert [r.path for r in receiver.requests] == ["/ie"]
    assert world.outbox()[0].last_error == f"http_{status}"


def test_a_certificate_from_an_unknown_authority_is_refused(world: World, tmp_path: Path):
    world.file("https://news.example.ie/story")
    stranger = make_certificates(tmp_path)
    with world.receiver(tls=stranger):
        assert world.deliver() == DeliveryReport(retried=1)
    assert world.outbox()[0].last_error == "tls_certificate"


def test_after_a_day_of_failures_an_item_is_dead_until_an_administrator_retries_it(
    world: World,
):
    case_id, _number = world.file("https://news.example.ie/story")
    assert world.deliver() == DeliveryReport(retried=1)
    world.clock.advance(hours=25)
    assert world.deliver() == DeliveryReport(dead=1)
    world.clock.advance(hours=1)
    assert world.deliver() == DeliveryReport()

    with world.session() as db:
        [dead] = dead_letters(db)
        assert (dead.attempts, dead.last_error) == (2, "connection_refused")
        item_id, key = dead.id, dead.idempotency_key
        assert not retry_dead_letter(db, item_id + 1000, now=world.clock())
        assert retry_dead_letter(db, item_id, now=world.clock())
        assert not retry_dead_letter(db, item_id, now=world.clock())  # no longer dead
        assert dead_letters(db) == []
        assert (
            db.scalar(select(AuditEvent.case_id).where(AuditEvent.action == "outbox.retried"))
            == case_id
        )

    # A fresh day of retries: still down, so it waits rather than dying at once.
    assert world.deliver() == DeliveryReport(retried=1)
    with world.receiver() as receiver:
        world.clock.advance(hours=1)
        assert world.deliver() == DeliveryReport(sent=1)
    [request] = receiver.requests
    assert request.headers["idempotency-key"] == key
    with world.session() as db:
        assert not retry_dead_letter(db, item_id, now=world.clock())  # sent, not dead


def claiming_together(world: World, barrier: threading.Barrier) -> Callable[[], Session]:
    """Sessions for one worker whose first claim waits, after choosing its items and before
    taking them, until the other worker has chosen too: the race the claim must win."""
    waiting = [True]

    def new_session() -> Session:
        session = world.session()

        @event.listens_for(session, "do_orm_execute")
        def _meet_before_claiming(state: ORMExecuteState) -> None:
            if state.is_update and waiting[0]:
                waiting[0] = False
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait(timeout=10)

        return session

    return new_session


def test_two_workers_at_once_deliver_every_referral_exactly_once(world: World):
    for n in range(12):
        world.file(f"https://news.example.ie/story-{n}")
    failures: list[BaseException] = []
    claims = threading.Barrier(2)

    def work(name: str) -> None:
        sessions = claiming_together(world, claims)
        try:
            while world.pending():
                deliver_once(sessions, world.services, now=world.clock, worker_id=name, batch=3)
        except BaseException as exc:
            failures.append(exc)

    with world.receiver(meet=threading.Barrier(2)) as receiver:
        workers = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in (1, 2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
    assert not failures
    assert receiver.met, "the two workers never had a request in flight at the same time"
    keys = [r.headers["idempotency-key"] for r in receiver.requests]
    assert len(keys) == len(set(keys)) == 12
    assert set(keys) == {item.idempotency_key for item in world.outbox()}
    assert {item.status for item in world.outbox()} == {"sent"}


def test_a_referral_rerouted_before_delivery_goes_only_to_the_new_hotline(world: World):
    world.file("https://news.example.ie/story")
    with world.session() as db:
        referral = db.scalars(select(Referral)).one()
        reroute(
            db,
            world.services,
            Staff(account_id=1, hotline_id="hotline_ie"),
            referral,
            "iwf_gb",
            "hosted_elsewhere",
        )

    with world.receiver() as receiver:
        assert world.deliver() == DeliveryReport(sent=1, cancelled=1)
    assert [(r.path, r.signature_ok) for r in receiver.requests] == [("/gb", True)]
    assert [(i.hotline_id, i.status) for i in world.outbox()] == [
        ("hotline_ie", "cancelled"),
        ("iwf_gb", "sent"),
    ]


def test_erasing_a_case_removes_its_delivery_and_nothing_is_sent(world: World):
    case_id, _number = world.file("https://news.example.ie/story")
    assert len(world.outbox()) == 1
    with world.session() as db:
        erase_case(db, db.get_one(Case, case_id))
    assert world.outbox() == []
    with world.receiver() as receiver:
        assert world.deliver() == DeliveryReport()
    assert receiver.requests == []


def test_the_hotline_system_hears_of_added_places_messages_and_a_withdrawal(world: World):
    """Each change a hotline's system cares about comes as its own signed event; a message says
    only that there is one, and a withdrawal only which referral it was, even though the case is
    gone by the time it is sent."""
    case_id, _number = world.file("https://news.example.ie/story")
    with world.receiver() as receiver:
        assert world.deliver() == DeliveryReport(sent=1)
    with world.session() as db:
        case = db.get_one(Case, case_id)
        add_locations(
            db, world.services, case, [normalise_location("url", "https://news.example.ie/more")]
        )
        post_survivor_message(db, world.services, case, "Any news about my request?")
    with world.session() as db:
        erase_case(db, db.get_one(Case, case_id), world.services.endpoints)
    # The erasure took the places' and the message's items with the case; the withdrawal stays.
    [item] = [i for i in world.outbox() if i.status == "pending"]
    assert item.event == "referral.withdrawn" and item.referral_id is None
    [reference] = [r.json()["data"]["reporting_reference"] for r in receiver.requests]

    with world.receiver() as receiver:
        assert world.deliver() == DeliveryReport(sent=1)
    [request] = receiver.requests
    assert request.signature_ok
    assert request.json()["type"] == "referral.withdrawn"
    assert request.json()["data"] == {
        "reporting_reference": reference,
        "withdrawn_on": dt.date.today().isoformat(),
    }

    # Without the erasure, the added places and the message each come as their own event.
    case_id, _number = world.file("https://news.example.ie/second")
    with world.session() as db:
        case = db.get_one(Case, case_id)
        add_locations(
            db, world.services, case, [normalise_location("url", "https://news.example.ie/third")]
        )
        post_survivor_message(db, world.services, case, "Any news about my request?")
    with world.receiver() as receiver:
        assert world.deliver() == DeliveryReport(sent=3)
    events = {r.json()["type"]: r.json() for r in receiver.requests}
    assert set(events) == {"referral.created", "referral.places_added", "referral.message"}
    added = events["referral.places_added"]["data"]
    assert [p["location"] for p in added["locations"]] == [
        "https://news.example.ie/second",
        "https://news.example.ie/third",
    ]
    assert set(events["referral.message"]["data"]) == {"reporting_reference", "version"}
    assert all(b"Any news" not in r.body for r in receiver.requests)
    assert all(r.signature_ok for r in receiver.requests)


def test_an_email_hotline_is_not_mailed_about_a_survivors_message(world: World):
    case_id, _number = world.file("https://photos.example.fr/album")
    with world.session() as db:
        post_survivor_message(db, world.services, db.get_one(Case, case_id), "Hello")
    assert [i.event for i in world.outbox()] == ["referral.created"]


def test_the_loop_delivers_and_stops_when_asked(world: World):
    world.file("https://news.example.ie/story")
    stop = threading.Event()
    with world.receiver() as receiver:
        loop = threading.Thread(
            target=run_forever,
            args=(world.session, world.services),
            kwargs={"interval": 0.05, "stop": stop, "now": world.clock},
        )
        loop.start()
        arrived = receiver.arrived.wait(timeout=30)
        stop.set()
        loop.join(timeout=30)
    assert arrived and not loop.is_alive()
    assert len(receiver.requests) == 1


# --- e-mail ---


def test_an_email_hotline_gets_one_neutral_message_for_all_that_waits(world: World):
    first_case, first_number = world.file("https://photos.example.fr/album-quokka")
    _second_case, second_number = world.file("https://forum.example.fr/thread-wombat")
    with world.session() as db:  # more places for a waiting referral: a second item, same one
        add_locations(
            db,
            world.services,
            db.get_one(Case, first_case),
            [normalise_location("url", "https://photos.example.fr/album-numbat")],
        )
    assert len(world.outbox()) == 3
    mailbox = Mailbox(SMTP_USER, SMTP_PASSWORD)
    server = smtp_server(world.smtp_port, mailbox, world.tls)
    server.start()
    try:
        assert world.deliver() == DeliveryReport(sent=3)
        world.clock.advance(hours=1)
        assert world.deliver() == DeliveryReport()
    finally:
        server.stop()

    [mail] = mailbox.messages
    assert (mail.mail_from, mail.rcpt_tos, mail.over_tls, mail.login) == (
        SMTP_FROM,
        [FR_INBOX],
        True,
        SMTP_USER,
    )
    message = mail.message()
    # Made from the items' own key: sent again after a crash, the receiver can drop it.
    keys = sorted(item.idempotency_key for item in world.outbox())
    assert message["Message-ID"].startswith(f"<{keys[0]}@")
    # In the hotline's own language (Point de Contact works in French).
    assert message["Subject"] == "Nouveaux signalements en attente"
    body = message.get_content()
    assert (
        "2 nouveaux signalements sont en attente dans le portail : "
        "https://assistant.example/hotline/"
    ) in body
    raw = mail.raw.decode("utf-8", "replace").lower()
    for secret in (
        first_number,
        second_number,
        "example.fr",
        "photos",
        "quokka",
        "numbat",
        "wombat",
        "rra-",
        *CATEGORIES,
        "abuse",
        "identifying",
        "minor",
    ):
        assert secret.lower() not in raw, secret


def test_email_waits_while_the_mail_server_is_down(world: World):
    world.file("https://photos.example.fr/album-quokka")
    world.file("https://forum.example.fr/thread-wombat")
    assert world.deliver() == DeliveryReport(retried=2)
    assert {i.last_error for i in world.outbox()} == {"connection_refused"}

    mailbox = Mailbox(SMTP_USER, SMTP_PASSWORD)
    server: Controller = smtp_server(world.smtp_port, mailbox, world.tls)
    server.start()
    try:
        world.clock.advance(hours=1)
        assert world.deliver() == DeliveryReport(sent=2)
    finally:
        server.stop()
    [mail] = mailbox.messages
    assert "2 nouveaux signalements sont en attente" in mail.message().get_content()


def test_email_is_never_sent_in_clear(world: World):
    world.file("https://photos.example.fr/album-quokka")
    mailbox = Mailbox()
    server = smtp_server(world.smtp_port, mailbox, tls=None)  # offers no STARTTLS
    server.start()
    try:
        assert world.deliver() == DeliveryReport(retried=1)
    finally:
        server.stop()
    assert mailbox.messages == []
    assert world.outbox()[0].last_error == "no_starttls"


def test_the_deliver_command_runs_one_pass_and_says_what_it_did(app):
    result = app.test_cli_runner().invoke(main, ["deliver"])
    assert result.exit_code == 0, result.output
    assert "Sent 0, to retry 0, given up 0." in result.output


def test_an_administrator_sees_a_dead_letter_and_sends_it_again(app, admin):
    Survivor(app.test_client()).file("https://example.org/x")
    with Database.new_session(app) as db:
        referral = db.scalars(select(Referral)).first()
        db.add(
            OutboxItem(
                hotline_id=referral.hotline_id,
                channel="webhook",
                referral_id=referral.id,
                status="dead",
                idempotency_key="d" * 32,
                attempts=12,
                created_at=utcnow(),
                next_attempt_at=utcnow(),
                last_error="http_503",
            )
        )
        db.commit()
        item_id = db.scalars(select(OutboxItem.id)).one()
    page = admin.client.get("/admin/").get_data(as_text=True)
    assert "http_503" in page and "Try again" in page
    assert admin.post(f"/admin/outbox/{item_id}/retry").status_code == 303
    with Database.new_session(app) as db:
        item = db.get(OutboxItem, item_id)
        assert item.status == "pending"
        retried = db.scalars(select(AuditEvent).where(AuditEvent.action == "outbox.retried")).one()
        assert retried.actor == f"account:{admin.id}"
    assert admin.post(f"/admin/outbox/{item_id}/retry").status_code == 404  # no longer dead


def test_during_a_secret_rotation_each_secret_signs_and_either_verifier_accepts(
    database_url: str, tmp_path: Path, tls: TlsFiles
):
    """``webhook_secrets: [new, old]``: every delivery carries a signature for each, so the
    hotline's receiver can move from the old secret to the new one whenever it likes."""
    hook_port = unused_port()
    new = "whsec_" + base64.b64encode(b"n" * 32).decode()
    old = "an older shared secret of more than 32 characters"
    settings = delivery_data(
        tmp_path,
        intakes={"hotline_ie": "webhook"},
        endpoints={
            "hotline_ie": {
                "webhook_url": f"https://127.0.0.1:{hook_port}/ie",
                "webhook_secrets": [new, old],
            }
        },
    )
    app = make_app(database_url, tmp_path / "instance", **settings, tls_ca_file=str(tls.ca_file))
    empty_all_tables(app)
    services = app.extensions["assistant.services"]
    try:
        with Database.new_session(app) as db:
            file_request(
                db,
                services,
                IntakeRequest(locations=[normalise_location("url", "https://a.example.ie/x")]),
            )
        for secret in (new, old):
            receiver = WebhookReceiver(hook_port, tls, {"/ie": secret}, utcnow)
            with receiver:
                with Database.new_session(app) as db:  # send it again for this receiver
                    db.execute(
                        update(OutboxItem).values(status="pending", next_attempt_at=utcnow())
                    )
                    db.commit()
                report = deliver_once(lambda: Database.new_session(app), services, now=utcnow)
            assert report == DeliveryReport(sent=1)
            [request] = receiver.requests
            assert len(request.headers["webhook-signature"].split(" ")) == 2
            Webhook(verifier_secret(secret)).verify(request.body, request.headers)
    finally:
        empty_all_tables(app)
        Database.engine(app).dispose()


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"webhook_secret": "short"}, "at least 32 characters"),
        ({"webhook_secrets": []}, "a list of secrets"),
        ({"webhook_secrets": ["whsec_" + "!" * 40]}, "base64"),
        ({"webhook_secret": "s" * 40, "webhook_secrets": ["s" * 40]}, "not both"),
    ],
)
def test_a_webhook_secret_that_cannot_be_used_is_refused_at_start(
    tmp_path: Path, entry: dict[str, object], problem: str
):
    settings = delivery_data(
        tmp_path,
        intakes={"hotline_ie": "webhook"},
        endpoints={"hotline_ie": {"webhook_url": "https://hook.example/ie", **entry}},
    )
    directory = load_directory(Path(settings["data_dir"]))
    with pytest.raises(ConfigError, match=problem):
        load_endpoints(Path(settings["delivery_config"]), directory)
