"""The survivor's status page and ``GET /api/v1/requests/me`` cost a fixed number of SQL statements
whatever the size of the case (issue 18): the whole request is counted, the session's look-up
included, for a case of one place and for one of twelve places at six hotlines with a timeline,
messages both ways and an advocate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from assistant.cases.intake import IntakeRequest
from assistant.cases.intake import file_request
from assistant.cases.status import post_survivor_message
from assistant.extensions import Database
from assistant.hotline.referrals import Automatic
from assistant.hotline.referrals import acknowledge
from assistant.hotline.referrals import message_survivor
from assistant.models import Case
from assistant.models import CaseAccess
from assistant.models import today
from assistant.people.advocates import AdvocateProfile
from assistant.people.advocates import approve_advocate
from assistant.people.advocates import register_advocate
from assistant.routing import normalise_location
from assistant.vocabulary import AccessOrigin
from tests.conftest import Survivor

# Six top-level domains the shipped directory sends to six different hotlines.
SIX_HOTLINES = ["ie", "nl", "fr", "de", "ca", "it"]
MOST_STATEMENTS = 8


@dataclass
class Filed:
    case_number: str
    passphrase: str
    places: int
    hotlines: int


def file_case(app: Flask, places: int, hotlines: int, *, busy: bool) -> Filed:
    """A case filed through the intake; ``busy``: hotlines took three referrals on and wrote,
    the survivor answered, and an advocate has access."""
    services = app.extensions["assistant.services"]
    tlds = SIX_HOTLINES[:hotlines]
    with app.app_context(), Database.new_session(app) as db:
        locations = [
            normalise_location("url", f"https://site{n}.{tlds[n % hotlines]}/post/{n}")
            for n in range(places)
        ]
        filed = file_request(db, services, IntakeRequest(locations=locations))
        case = filed.case
        if busy:
            for referral in case.referrals[:3]:
                staff = Automatic(referral.hotline_id, "test")
                acknowledge(db, staff, referral)
                message_survivor(db, services, staff, referral, "We are looking at this.")
            post_survivor_message(db, services, case, "Thank you.", case.referrals[0].id)
            email = f"advocate-{case.id}@support.example"
            profile = AdvocateProfile("Sam", "Support Org", "Case worker", "I help survivors.")
            register_advocate(db, services.cipher, email, profile)
            account, _code = approve_advocate(db, email=email)
            db.add(
                CaseAccess(
                    case_id=case.id,
                    account_id=account.id,
                    origin=AccessOrigin.INVITED,
                    granted_on=today(),
                    messages_read_up_to=0,
                )
            )
            db.commit()
        stored = db.get(Case, case.id)
        assert stored is not None
        assert filed.passphrase is not None
        return Filed(
            filed.case_number, filed.passphrase, len(stored.locations), len(stored.referrals)
        )


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """Every statement the app's engine sends meanwhile."""
    seen: list[str] = []
    engine = Database.engine(app)

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def status_page_statements(app: Flask, filed: Filed) -> list[str]:
    survivor = Survivor(app.test_client())
    assert survivor.sign_in(filed.case_number, filed.passphrase).status_code == 303
    # The first visit keeps the forms' CSRF secret in the session; every visit after is alike.
    assert survivor.client.get("/my-request").status_code == 200
    with statements(app) as seen:
        page = survivor.client.get("/my-request")
    assert page.status_code == 200
    return seen


def requests_me_statements(app: Flask, filed: Filed) -> list[str]:
    client: FlaskClient = app.test_client()
    signed_in = client.post(
        "/api/v1/session",
        json={"case_number": filed.case_number, "passphrase": filed.passphrase},
    )
    headers = {"Authorization": f"Bearer {signed_in.get_json()['token']}"}
    with statements(app) as seen:
        answer = client.get("/api/v1/requests/me", headers=headers)
    assert answer.status_code == 200
    assert len(answer.get_json()["locations"]) == filed.places
    return seen


@pytest.fixture
def small_and_large(app: Flask) -> tuple[Filed, Filed]:
    small = file_case(app, places=1, hotlines=1, busy=False)
    large = file_case(app, places=12, hotlines=6, busy=True)
    assert (small.places, small.hotlines) == (1, 1)
    assert (large.places, large.hotlines) == (12, 6)
    return small, large


def test_the_status_page_costs_the_same_few_statements_for_one_place_or_twelve(
    app, small_and_large
):
    small, large = small_and_large
    one = status_page_statements(app, small)
    twelve = status_page_statements(app, large)
    assert len(twelve) == len(one) <= MOST_STATEMENTS, "\n".join(twelve)
    # Reading a page writes nothing: the session's expiry moved less than a minute ago.
    assert all(s.lstrip().upper().startswith("SELECT") for s in twelve), "\n".join(twelve)


def test_requests_me_costs_the_same_few_statements_for_one_place_or_twelve(app, small_and_large):
    small, large = small_and_large
    one = requests_me_statements(app, small)
    twelve = requests_me_statements(app, large)
    assert len(twelve) == len(one) <= MOST_STATEMENTS, "\n".join(twelve)
    assert all(s.lstrip().upper().startswith("SELECT") for s in twelve), "\n".join(twelve)


def test_even_the_visit_that_refreshes_the_session_stays_within_the_limit(app, small_and_large):
    _small, large = small_and_large
    survivor = Survivor(app.test_client())
    survivor.sign_in(large.case_number, large.passphrase)
    assert survivor.client.get("/my-request").status_code == 200
    interface = app.session_interface
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=2)
    interface.clock = lambda: later  # type: ignore[attr-defined]
    with statements(app) as seen:
        assert survivor.client.get("/my-request").status_code == 200
    writes = [s for s in seen if not s.lstrip().upper().startswith("SELECT")]
    assert len(writes) == 1 and writes[0].lstrip().upper().startswith("UPDATE SESSIONS")
    assert len(seen) <= MOST_STATEMENTS, "\n".join(seen)


def test_the_status_page_shows_every_place_and_message_of_a_large_case(app, small_and_large):
    _small, large = small_and_large
    survivor = Survivor(app.test_client())
    survivor.sign_in(large.case_number, large.passphrase)
    page = survivor.client.get("/my-request").get_data(as_text=True)
    for n in range(12):
        assert f"site{n}." in page
    assert page.count("We are looking at this.") == 3
    assert "Thank you." in page
    assert "Sam" in page and "Support Org" in page
