"""Expiry: abandoned drafts and sessions are deleted, and cases past their retention date go."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from assistant.cases.intake import IntakeRequest
from assistant.cases.intake import file_request
from assistant.cases.retention import purge
from assistant.cli import main
from assistant.extensions import Database
from assistant.models import Case
from assistant.models import SessionRecord
from assistant.routing import normalise_location
from tests.conftest import Survivor
from tests.conftest import row_counts


def test_an_abandoned_draft_is_purged_within_the_hour(app, db, survivor: Survivor):
    survivor.add_places(value="https://example.com/draft")
    assert row_counts(app)["sessions"] == 1
    soon = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=30)
    assert purge(db, now=soon)["sessions"] == 0
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=61)
    assert purge(db, now=later)["sessions"] == 1
    assert row_counts(app)["sessions"] == 0


def test_cases_past_retention_are_erased_and_newer_ones_kept(app, db, services):
    old = file_request(
        db,
        services,
        IntakeRequest(locations=[normalise_location("url", "https://example.com/old")]),
    )
    new = file_request(
        db,
        services,
        IntakeRequest(locations=[normalise_location("url", "https://example.com/new")]),
    )
    db.get(Case, old.case.id).retain_until = dt.date(2020, 1, 1)
    db.commit()
    assert purge(db)["cases"] == 1
    assert db.get(Case, new.case.id) is not None
    assert row_counts(app)["locations"] == 1


def test_purge_command_reports_what_it_removed(app):
    result = app.test_cli_runner().invoke(main, ["purge"])
    assert result.exit_code == 0
    assert "Removed 0 expired sessions and 0 cases." in result.output


def test_init_db_can_run_again_on_an_existing_database(app):
    result = app.test_cli_runner().invoke(main, ["init-db"])
    assert result.exit_code == 0 and "The database is ready." in result.output


def test_expired_drafts_are_deleted_when_anyone_starts_a_new_session(app, survivor: Survivor):
    survivor.add_places(value="https://example.com/abandoned")
    past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    with Database.engine(app).begin() as connection:
        connection.execute(update(SessionRecord).values(expires_at=past))
    Survivor(app.test_client()).add_places(value="https://example.com/someone-else")
    assert row_counts(app)["sessions"] == 1
