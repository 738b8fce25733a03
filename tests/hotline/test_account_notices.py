"""A new account of a hotline is announced to the hotline by a neutral e-mail: sent by the
delivery worker (never in the request that created the account) over a real SMTP exchange with
STARTTLS on loopback, to the hotline's active administrators, or to its staff while it has none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.extensions import Database
from assistant.hotline.api_keys import create_key
from assistant.hotline.delivery import DeliveryReport
from assistant.hotline.delivery import deliver_once
from assistant.hotline.delivery import retry_dead_letter
from assistant.models import Account
from assistant.models import OutboxItem
from assistant.models import utcnow
from assistant.people import team
from assistant.people.team import TeamAdmin
from assistant.services import Services
from tests.conftest import HOTLINE_A
from tests.conftest import HOTLINE_B
from tests.conftest import Staffer
from tests.conftest import empty_all_tables
from tests.conftest import make_app
from tests.hotline.delivery_support import Clock
from tests.hotline.delivery_support import Mailbox
from tests.hotline.delivery_support import ReceivedMail
from tests.hotline.delivery_support import TlsFiles
from tests.hotline.delivery_support import make_certificates
from tests.hotline.delivery_support import smtp_server
from tests.hotline.delivery_support import unused_port

SMTP_FROM = "alerts@assistant.example"
SMTP_USER, SMTP_PASSWORD = "assistant", "smtp-password-for-tests"
PUBLIC_URL = "https://assistant.example"


@dataclass
class Office:
    """An app that sends e-mail, a clock for the worker, and the mail server's port."""

    app: Flask
    services: Services
    clock: Clock
    tls: TlsFiles
    smtp_port: int

    def session(self) -> Session:
        return Database.new_session(self.app)

    def deliver(self) -> DeliveryReport:
        return deliver_once(self.session, self.services, now=self.clock)

    def deliver_to_server(self) -> tuple[DeliveryReport, list[ReceivedMail]]:
        mailbox = Mailbox(SMTP_USER, SMTP_PASSWORD)
        server = smtp_server(self.smtp_port, mailbox, self.tls)
        server.start()
        try:
            report = self.deliver()
        finally:
            server.stop()
        return report, mailbox.messages

    def invite(self, by: Staffer, email: str, role: str = "staff") -> int:
        with self.session() as db:
            admin = db.get(Account, by.id)
            assert admin is not None
            created = team.invite_member(db, self.services, TeamAdmin.of(admin), email, role)
            return created.account.id

    def outbox(self) -> list[OutboxItem]:
        with self.session() as db:
            return list(db.scalars(select(OutboxItem).order_by(OutboxItem.id)))


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def office(database_url: str, tmp_path: Path, tls: TlsFiles) -> Iterator[Office]:
    smtp_port = unused_port()
    app = make_app(
        database_url,
        tmp_path / "instance",
        tls_ca_file=str(tls.ca_file),
        public_url=PUBLIC_URL,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_from=SMTP_FROM,
        smtp_username=SMTP_USER,
        smtp_password=SMTP_PASSWORD,
    )
    empty_all_tables(app)
    clock = Clock(utcnow() + dt.timedelta(minutes=5))
    yield Office(app, app.extensions["assistant.services"], clock, tls, smtp_port)
    empty_all_tables(app)
    Database.engine(app).dispose()


def test_a_new_colleague_is_announced_to_the_administrators_by_a_neutral_e_mail(office: Office):
    lead = Staffer(office.app, "lead@hotline-a.example", "hotline_admin", HOTLINE_A)
    deputy = Staffer(office.app, "deputy@hotline-a.example", "hotline_admin", HOTLINE_A)
    Staffer(office.app, "analyst@hotline-a.example", "staff", HOTLINE_A)
    Staffer(office.app, "lead@hotline-b.example", "hotline_admin", HOTLINE_B)
    office.invite(lead, "newcomer@hotline-a.example")
    office.invite(lead, "second@hotline-a.example")
    # Written with the accounts, sent only by the worker.
    assert [item.status for item in office.outbox()] == ["pending", "pending"]

    report, messages = office.deliver_to_server()

    assert report == DeliveryReport(sent=2)
    [mail] = messages  # one message for the hotline's new accounts of this pass
    assert (mail.mail_from, sorted(mail.rcpt_tos), mail.over_tls, mail.login) == (
        SMTP_FROM,
        sorted([lead.email, deputy.email]),  # its active administrators, no one else
        True,
        SMTP_USER,
    )
    message = mail.message()
    assert message["Subject"] == "New accounts were created for your hotline"
    body = message.get_content()
    assert "2 new accounts were created for your hotline in the portal." in body
    assert f"{PUBLIC_URL}/hotline/team/" in body
    raw = mail.raw.decode("utf-8", "replace").lower()
    # Nobody is named: not the newcomers, not who invited them, not the other recipients.
    for name in ("newcomer", "second@", "lead@", "deputy@", "analyst", "hotline-a.example"):
        assert name not in raw, name
    assert {item.status for item in office.outbox()} == {"sent"}
    assert office.deliver() == DeliveryReport()  # nothing is sent twice


def test_a_first_administrator_from_the_service_administrator_is_announced_to_the_staff(
    office: Office,
):
    analyst = Staffer(office.app, "analyst@hotline-a.example", "staff", HOTLINE_A)
    with office.session() as db:
        team.create_first_hotline_admin(
            db, office.services, "first@hotline-a.example", HOTLINE_A, actor="cli"
        )
    report, [mail] = office.deliver_to_server()
    assert report == DeliveryReport(sent=1)
    assert mail.rcpt_tos == [analyst.email]
    assert "1 new account was created for your hotline" in mail.message().get_content()


def test_a_new_hotline_with_nobody_to_tell_sends_nothing(office: Office):
    with office.session() as db:
        team.create_first_hotline_admin(
            db, office.services, "first@hotline-b.example", HOTLINE_B, actor="cli"
        )
    report, messages = office.deliver_to_server()
    assert (report, messages) == (DeliveryReport(cancelled=1), [])


def test_the_announcement_waits_while_the_mail_server_is_down_and_can_be_retried(
    office: Office,
):
    lead = Staffer(office.app, "lead@hotline-a.example", "hotline_admin", HOTLINE_A)
    office.invite(lead, "newcomer@hotline-a.example")
    assert office.deliver() == DeliveryReport(retried=1)  # no server listening
    [item] = office.outbox()
    assert item.last_error == "connection_refused"
    office.clock.advance(hours=25)
    assert office.deliver() == DeliveryReport(dead=1)
    with office.session() as db:
        assert retry_dead_letter(db, item.id, now=office.clock())
    report, [mail] = office.deliver_to_server()
    assert report == DeliveryReport(sent=1) and mail.rcpt_tos == [lead.email]


def test_a_new_api_key_is_announced_to_every_administrator_by_a_neutral_e_mail(office: Office):
    lead = Staffer(office.app, "lead@hotline-a.example", "hotline_admin", HOTLINE_A)
    deputy = Staffer(office.app, "deputy@hotline-a.example", "hotline_admin", HOTLINE_A)
    Staffer(office.app, "lead@hotline-b.example", "hotline_admin", HOTLINE_B)
    with office.session() as db:
        maker = db.get(Account, lead.id)
        made = create_key(db, office.services.directory, HOTLINE_A, "Our CMS", ["read"], by=maker)
    with office.session() as db:  # and one the service's operator made at the command line
        create_key(db, office.services.directory, HOTLINE_A, "Night sync", ["read"], by=None)

    report, messages = office.deliver_to_server()

    assert report == DeliveryReport(sent=2)
    [mail] = messages
    assert sorted(mail.rcpt_tos) == sorted([lead.email, deputy.email])
    message = mail.message()
    assert message["Subject"] == "New API keys were made for your hotline"
    body = message.get_content()
    assert "2 new API keys were made for your hotline's own systems." in body
    assert f"{PUBLIC_URL}/hotline/team/keys" in body
    raw = mail.raw.decode("utf-8", "replace")
    for secret in (made.raw, "Our CMS", "Night sync", "lead@", "deputy@"):
        assert secret not in raw, secret
