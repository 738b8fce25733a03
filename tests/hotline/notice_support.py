"""A world for the notice and chase tests: the shipped directory plus three providers that take
notices by e-mail (one with an upstream provider), an SMTP server on loopback that requires
STARTTLS, a hotline analyst, a survivor who filed a request, and the injected clock."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.cases.status import post_survivor_message
from assistant.extensions import Database
from assistant.hotline.chase import ChaseReport
from assistant.hotline.chase import chase_once
from assistant.hotline.delivery import DeliveryReport
from assistant.hotline.delivery import deliver_once
from assistant.hotline.referrals import Staff
from assistant.hotline.referrals import acknowledge
from assistant.hotline.referrals import assess_places
from assistant.hotline.referrals import referral_for_staff
from assistant.models import Account
from assistant.models import Location
from assistant.models import Referral
from assistant.models import today
from assistant.routing.directory import DATA_DIR
from assistant.services import Services
from tests.conftest import HOTLINE_A
from tests.conftest import Staffer
from tests.conftest import Survivor
from tests.conftest import empty_all_tables
from tests.conftest import make_app
from tests.hotline.delivery_support import Clock
from tests.hotline.delivery_support import Mailbox
from tests.hotline.delivery_support import ReceivedMail
from tests.hotline.delivery_support import TlsFiles
from tests.hotline.delivery_support import smtp_server
from tests.hotline.delivery_support import unused_port

SMTP_FROM = "notices@assistant.example"
SMTP_USER, SMTP_PASSWORD = "assistant", "smtp-password-for-tests"
PUBLIC_URL = "https://assistant.example"
HOST_INBOX = "abuse@filebox-test.ie"
UPSTREAM_INBOX = "abuse@cloudrack-test.ie"
SOLO_INBOX = "signalement@seulhote-test.ie"
QUICK_INBOX = "abuse@rapide-test.ie"
SOURCE = "https://www.example.org/directory-source"


def _provider(pid: str, name: str, host: str, notices: dict[str, Any] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": pid,
        "name": name,
        "operator": f"{name} Ltd",
        "country": "IE",
        "category": "file_host",
        "hosts": [host],
        "aliases": [name],
        "report_url": None,
        "shortener": False,
        "sources": [SOURCE],
        "verified_on": None,
    }
    if notices is not None:
        entry["notices"] = {"forms": [], "sources": [SOURCE], "verified_on": None, **notices}
    return entry


def notice_data(folder: Path, *, standing: bool = True) -> Path:
    """The shipped directory with three test providers established in Ireland (so their places
    go to hotline_ie): a file host whose upstream is a cloud company, and a host that writes in
    French and has nobody upstream. With ``standing``, hotline_ie has a (test) legal basis."""
    data = folder / "data"
    data.mkdir(parents=True)
    providers = json.loads((DATA_DIR / "providers.json").read_text("utf-8"))
    providers["providers"] += [
        _provider(
            "filebox_test",
            "Filebox Test",
            "filebox-test.ie",
            {"emails": [HOST_INBOX], "language": "en", "upstream": "cloudrack_test"},
        ),
        _provider(
            "cloudrack_test",
            "Cloudrack Test",
            "cloudrack-test.ie",
            {"emails": [UPSTREAM_INBOX], "language": "en", "upstream": None},
        ),
        _provider(
            "seulhote_test",
            "Seulhote Test",
            "seulhote-test.ie",
            {"emails": [SOLO_INBOX], "language": "fr", "upstream": None},
        ),
        {
            **_provider(
                "rapide_test",
                "Rapide Test",
                "rapide-test.ie",
                {"emails": [QUICK_INBOX], "language": "en", "upstream": None},
            ),
            "removal_deadline": {"hours": 6, "rule": "Test rule 1", "sources": [SOURCE]},
        },
    ]
    (data / "providers.json").write_text(json.dumps(providers), "utf-8")
    hotlines = json.loads((DATA_DIR / "hotlines.json").read_text("utf-8"))
    if standing:
        for entry in hotlines["hotlines"]:
            if entry["id"] == HOTLINE_A:
                entry["standing"] = [
                    {
                        "kind": "legal_basis",
                        "jurisdiction": "IE",
                        "text": "Test standing: a rule of the test jurisdiction lets us ask.",
                        "sources": [SOURCE],
                    }
                ]
    (data / "hotlines.json").write_text(json.dumps(hotlines), "utf-8")
    shutil.copy(DATA_DIR / "resources.json", data / "resources.json")
    return data


@dataclass
class NoticeWorld:
    app: Flask
    services: Services
    clock: Clock
    mailbox: Mailbox
    smtp_port: int
    analyst: Staffer
    server: Controller

    def session(self) -> Session:
        return Database.new_session(self.app)

    def staff(self, db: Session) -> Staff:
        account = db.get(Account, self.analyst.id)
        assert account is not None
        return Staff.of(account)

    def referral(self, db: Session, referral_id: int) -> Referral:
        found = referral_for_staff(db, self.staff(db), referral_id)
        assert found is not None
        return found

    def chase(self, **options: Any) -> ChaseReport:
        return chase_once(self.session, self.services, now=self.clock, **options)

    def deliver(self, **options: Any) -> DeliveryReport:
        return deliver_once(self.session, self.services, now=self.clock, **options)

    def mail_to(self, address: str) -> list[ReceivedMail]:
        return [mail for mail in self.mailbox.messages if address in mail.rcpt_tos]

    def file_and_assess(
        self, *links: str, survivor: Survivor | None = None, **answers: Any
    ) -> tuple[Survivor, tuple[str, str], int, list[int]]:
        """A survivor files these links (from Portugal, with a note on each and a message to the
        hotline);
        the analyst acknowledges them and assesses them as CSAM. Returns the survivor, the
        receipt, the referral's id and the places' ids."""
        survivor = survivor or Survivor(self.app.test_client())
        receipt = survivor.file(*links, country="PT", note="my school photo", **answers)
        assert survivor.sign_in(*receipt).status_code == 303
        with self.session() as db:
            referral_id = db.scalars(
                select(Referral.id).where(Referral.hotline_id == HOTLINE_A).order_by(Referral.id)
            ).all()[-1]
            for place in db.scalars(select(Location).where(Location.referral_id == referral_id)):
                place.added_on = today() - dt.timedelta(days=3)
            db.commit()
            staff = self.staff(db)
            referral = self.referral(db, referral_id)
            post_survivor_message(
                db, self.services, referral.case, "Please hurry, my name is Alex Example."
            )
            acknowledge(db, staff, referral)
            ids = [location.id for location in referral.locations]
            assess_places(db, staff, referral, ids, "csam")
        return survivor, receipt, referral_id, ids


@contextlib.contextmanager
def notice_world(
    database_url: str, folder: Path, tls: TlsFiles, **overrides: Any
) -> Iterator[NoticeWorld]:
    smtp_port = unused_port()
    app = make_app(
        database_url,
        folder / "instance",
        data_dir=str(notice_data(folder)),
        tls_ca_file=str(tls.ca_file),
        public_url=PUBLIC_URL,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_from=SMTP_FROM,
        smtp_username=SMTP_USER,
        smtp_password=SMTP_PASSWORD,
        **overrides,
    )
    empty_all_tables(app)
    mailbox = Mailbox(SMTP_USER, SMTP_PASSWORD)
    server = smtp_server(smtp_port, mailbox, tls)
    server.start()
    try:
        analyst = Staffer(app, "analyst@hotline-a.example", "staff", HOTLINE_A)
        clock = Clock(dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=1))
        yield NoticeWorld(
            app, app.extensions["assistant.services"], clock, mailbox, smtp_port, analyst, server
        )
    finally:
        if server.loop.is_running():
            server.stop()
        empty_all_tables(app)
        Database.engine(app).dispose()
