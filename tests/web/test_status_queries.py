"""The survivor's status page and ``GET /api/v1/requests/me`` cost a fixed number of SQL statements
whatever the size of the case (issue 18): the whole request is counted, the session's look-up
included, for a case of one place and for one of twelve places at six hotlines with a timeline,
messages both ways and an advocate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from assistant.extensions import Database
from tests.busy_case import Filed
from tests.busy_case import file_case
from tests.conftest import Survivor

MOST_STATEMENTS = 8


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
