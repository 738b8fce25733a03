"""A signed-in session's idle expiry is pushed forward at most once a minute (issue 18): reading
pages in between writes nothing, and a session left idle still ends. The app's session clock
(``app.session_interface.clock``) stands in for time passing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy import select

from assistant.extensions import Database
from assistant.models import SessionRecord
from assistant.sessions import REFRESH_EVERY
from assistant.sessions import refresh_due
from tests.conftest import Survivor
from tests.hotline.delivery_support import Clock

IDLE = dt.timedelta(minutes=15)  # the survivors' default (ASSISTANT_SURVIVOR_IDLE_MINUTES)


@pytest.fixture
def clock(app: Flask) -> Clock:
    moved = Clock(dt.datetime.now(dt.UTC).replace(tzinfo=None))
    app.session_interface.clock = moved  # type: ignore[attr-defined]
    return moved


@contextmanager
def writes(app: Flask) -> Iterator[list[str]]:
    """Every statement but a SELECT that the app sends meanwhile."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    engine = Database.engine(app)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def expiries(app: Flask) -> list[dt.datetime]:
    with Database.engine(app).connect() as connection:
        return list(connection.execute(select(SessionRecord.expires_at)).scalars())


def signed_in(app: Flask, survivor: Survivor) -> None:
    number, passphrase = survivor.file("https://example.com/a")
    assert survivor.sign_in(number, passphrase).status_code == 303
    # The first visit keeps the forms' CSRF secret in the session (a change, so a write).
    assert survivor.client.get("/my-request").status_code == 200


def test_a_visit_30_seconds_after_the_last_refresh_writes_nothing(app, survivor, clock):
    signed_in(app, survivor)
    before = expiries(app)
    clock.advance(seconds=30)
    with writes(app) as seen:
        assert survivor.client.get("/my-request").status_code == 200
    assert seen == []
    assert expiries(app) == before


def test_a_visit_61_seconds_after_the_last_refresh_pushes_the_expiry(app, survivor, clock):
    signed_in(app, survivor)
    clock.advance(seconds=61)
    with writes(app) as seen:
        assert survivor.client.get("/my-request").status_code == 200
    assert len(seen) == 1 and seen[0].lstrip().upper().startswith("UPDATE SESSIONS")
    assert expiries(app) == [clock() + IDLE]
    # And the minute starts again from there.
    clock.advance(seconds=59)
    with writes(app) as seen:
        assert survivor.client.get("/my-request").status_code == 200
    assert seen == []


def test_the_session_still_ends_after_the_idle_limit(app, survivor, clock):
    signed_in(app, survivor)
    clock.advance(seconds=61)
    survivor.client.get("/my-request")  # refreshed: 15 minutes from now
    clock.advance(seconds=30)
    survivor.client.get("/my-request")  # not refreshed: the expiry stays where it was
    clock.advance(minutes=14, seconds=31)
    response = survivor.client.get("/my-request")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/check")
    with Database.engine(app).connect() as connection:
        signed_in_rows = connection.execute(
            select(SessionRecord).where(SessionRecord.case_id.is_not(None))
        ).all()
    assert signed_in_rows == []  # the expired row is gone


def test_someone_reading_every_half_minute_stays_signed_in_past_the_idle_limit(
    app, survivor, clock
):
    signed_in(app, survivor)
    with writes(app) as seen:
        for _ in range(40):  # twenty minutes
            clock.advance(seconds=30)
            assert survivor.client.get("/my-request").status_code == 200
    # One write a minute at most, never one a visit.
    assert 15 <= len(seen) <= 20


def test_a_changed_session_is_saved_at_once_whatever_the_minute(app, survivor, clock):
    signed_in(app, survivor)
    clock.advance(seconds=5)
    with writes(app) as seen:
        survivor.add_places(value="https://example.com/draft")  # a change to the session
    assert any(s.lstrip().upper().startswith("UPDATE SESSIONS") for s in seen)


def test_an_api_token_is_refreshed_at_most_once_a_minute_and_still_expires(app, client, clock):
    filed = client.post(
        "/api/v1/requests",
        json={
            "locations": [{"kind": "url", "value": "https://example.com/a"}],
            "categories": ["abuse_material"],
            "minor_in_material": "yes",
        },
    ).get_json()
    token = client.post(
        "/api/v1/session",
        json={"case_number": filed["case_number"], "passphrase": filed["passphrase"]},
    ).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/requests/me", headers=headers).status_code == 200
    clock.advance(seconds=30)
    with writes(app) as seen:
        assert client.get("/api/v1/requests/me", headers=headers).status_code == 200
    assert seen == []
    clock.advance(seconds=31)
    with writes(app) as seen:
        assert client.get("/api/v1/requests/me", headers=headers).status_code == 200
    assert len(seen) == 1 and seen[0].lstrip().upper().startswith("UPDATE SESSIONS")
    clock.advance(minutes=15, seconds=1)
    assert client.get("/api/v1/requests/me", headers=headers).status_code == 401


def test_refresh_is_due_after_a_minute_and_never_past_the_hard_end():
    start = dt.datetime(2026, 1, 1, 12, 0, 0)
    expires, ends = start + IDLE, start + dt.timedelta(hours=8)
    assert not refresh_due(expires, ends, IDLE, start + dt.timedelta(seconds=30))
    assert refresh_due(expires, ends, IDLE, start + REFRESH_EVERY)
    # Near the hard end the expiry cannot move: nothing to write.
    late = ends - dt.timedelta(minutes=5)
    assert not refresh_due(ends, ends, IDLE, late)
