"""Expiry: abandoned drafts and sessions are deleted, and cases past their retention date go."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from assistant.cases import retention
from assistant.cases.access import create_invitation
from assistant.cases.access import invitation_serializer
from assistant.cases.intake import IntakeRequest
from assistant.cases.intake import file_request
from assistant.cases.retention import erase_case
from assistant.cases.retention import erase_expired_batch
from assistant.cases.retention import purge
from assistant.cases.status import post_survivor_message
from assistant.cli import main
from assistant.extensions import Database
from assistant.hotline.delivery import outbox_item
from assistant.hotline.feed import feed_page
from assistant.models import AuditEvent
from assistant.models import Case
from assistant.models import CaseAccess
from assistant.models import FeedCounter
from assistant.models import InternalNote
from assistant.models import Invitation
from assistant.models import Location
from assistant.models import Message
from assistant.models import Notice
from assistant.models import OutboxItem
from assistant.models import Referral
from assistant.models import ReferralEvent
from assistant.models import SessionRecord
from assistant.models import Withdrawal
from assistant.models import today
from assistant.models import utcnow
from assistant.routing import normalise_location
from assistant.services import Services
from assistant.sessions import new_session_id
from assistant.sessions import save_session
from assistant.vocabulary import AccessOrigin
from assistant.vocabulary import MessageAuthor
from assistant.vocabulary import NoticeType
from assistant.vocabulary import WithdrawalReason
from tests.conftest import TEST_DATABASE_URL
from tests.conftest import Staffer
from tests.conftest import Survivor
from tests.conftest import assert_only_withdrawals_left
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


# --- the purge in bulk ---

# Links that go to three different hotlines (Ireland's, the Netherlands' and France's).
HOSTS = ("https://files.example.ie", "https://files.example.nl", "https://files.example.fr")
LONG_AGO = dt.date(2020, 1, 1)


def file_everything(db: Session, services: Services, advocate: Staffer, n: int) -> int:
    """A case with a row of every kind a case can have: places with one, two or three hotlines,
    the survivor's message, an advocate's access, an invitation, a signed-in session, a staff
    note, a notice to a provider, a delivery waiting, the audit trail. Returns its id."""
    links = [f"{HOSTS[k % len(HOSTS)]}/case-{n}/place-{k}" for k in range(1 + n % 3)]
    filed = file_request(
        db, services, IntakeRequest(locations=[normalise_location("url", v) for v in links])
    )
    case = db.get_one(Case, filed.case.id)
    referral, place = case.referrals[0], case.locations[0]
    post_survivor_message(db, services, case, f"A message {n}", referral.id)
    create_invitation(db, invitation_serializer(services.settings.secret_key), case)
    db.add(
        CaseAccess(
            case_id=case.id,
            account_id=advocate.id,
            origin=AccessOrigin.INVITED,
            granted_on=today(),
            messages_read_up_to=0,
        )
    )
    db.add(
        InternalNote(
            referral_id=referral.id,
            body_sealed=services.cipher.seal(f"note {n}", "note.body"),
            written_at=utcnow(),
        )
    )
    db.add(
        Notice(
            location_id=place.id,
            hotline_id=referral.hotline_id,
            notice_type=NoticeType.CSAM,
            provider="Example Hosting Ltd",
            sent_on=today(),
        )
    )
    db.add(outbox_item(referral.hotline_id, "webhook", referral_id=referral.id))
    db.commit()
    saved = save_session(
        db,
        services.cipher,
        new_session_id(),
        "web",
        {"case": case.id},
        idle=dt.timedelta(minutes=30),
        longest=dt.timedelta(hours=8),
        case_id=case.id,
        create=True,
    )
    assert saved
    return case.id


def expire(db: Session, case_ids: list[int], on: dt.date = LONG_AGO) -> None:
    db.execute(update(Case).where(Case.id.in_(case_ids)).values(retain_until=on))
    db.commit()


def referrals_of(db: Session, case_ids: list[int]) -> set[tuple[str, int]]:
    rows = db.execute(
        select(Referral.hotline_id, Referral.id).where(Referral.case_id.in_(case_ids))
    )
    return {(hotline_id, referral_id) for hotline_id, referral_id in rows}


def rows_of(db: Session, case_id: int) -> dict[str, int]:
    """How many rows of each kind the case has."""
    referral_ids = select(Referral.id).where(Referral.case_id == case_id)
    place_ids = select(Location.id).where(Location.case_id == case_id)
    counted = {
        "places": select(func.count()).where(Location.case_id == case_id),
        "referrals": select(func.count()).where(Referral.case_id == case_id),
        "events": select(func.count()).where(ReferralEvent.referral_id.in_(referral_ids)),
        "messages": select(func.count()).where(Message.case_id == case_id),
        "access": select(func.count()).where(CaseAccess.case_id == case_id),
        "invitations": select(func.count()).where(Invitation.case_id == case_id),
        "sessions": select(func.count()).where(SessionRecord.case_id == case_id),
        "audit": select(func.count()).where(AuditEvent.case_id == case_id),
        "notes": select(func.count()).where(InternalNote.referral_id.in_(referral_ids)),
        "notices": select(func.count()).where(Notice.location_id.in_(place_ids)),
        "outbox": select(func.count()).where(OutboxItem.referral_id.in_(referral_ids)),
    }
    return {name: int(db.scalar(query) or 0) for name, query in counted.items()}


def counters(db: Session) -> dict[str, int]:
    return {c.hotline_id: c.last_seq for c in db.scalars(select(FeedCounter))}


@pytest.fixture
def advocate(app: Flask) -> Staffer:
    return Staffer(app, "worker@support.example", "advocate", "Support Org")


def test_the_purge_erases_every_expired_case_in_batches_and_tells_each_hotline(
    app, db, services, advocate
):
    kept = [file_everything(db, services, advocate, n) for n in range(3)]
    expire(db, kept[:1], today())  # retention ends today: not yet past it
    baseline = row_counts(app)
    expired = [file_everything(db, services, advocate, n) for n in range(3, 10)]
    expire(db, expired)
    gone = referrals_of(db, expired)
    assert len({hotline_id for hotline_id, _r in gone}) == 3
    before = counters(db)

    # Seven cases, three a batch: two full batches and one of a single case.
    assert purge(db, batch=3)["cases"] == 7

    assert_only_withdrawals_left(app, baseline, referrals=len(gone))
    assert set(db.scalars(select(Case.id))) == set(kept)
    withdrawals = db.scalars(select(Withdrawal).order_by(Withdrawal.feed_seq)).all()
    assert {(w.hotline_id, w.referral_id) for w in withdrawals} == gone
    assert {(w.reason, w.withdrawn_on) for w in withdrawals} == {
        (WithdrawalReason.EXPIRED, today())
    }
    after = counters(db)
    for hotline_id in {h for h, _r in gone}:
        # Each hotline's feed goes on where it stopped, one number a withdrawal, none skipped,
        # and lists them as expired after everything it had seen.
        own = [w for w in withdrawals if w.hotline_id == hotline_id]
        numbers = [w.feed_seq for w in own]
        assert numbers == list(range(before[hotline_id] + 1, after[hotline_id] + 1))
        page = feed_page(db, hotline_id, before[hotline_id])
        assert [(i.referral_id, i.withdrawn, i.reason) for i in page.items] == [
            (w.referral_id, True, WithdrawalReason.EXPIRED) for w in own
        ]
    # Nothing is left to do: a second run erases nothing and tells nobody anything twice.
    assert purge(db, batch=3)["cases"] == 0
    assert len(db.scalars(select(Withdrawal)).all()) == len(gone)


def test_a_purge_stopped_half_way_leaves_whole_cases_and_the_next_run_finishes(
    app, db, services, advocate, monkeypatch
):
    baseline = row_counts(app)
    expired = [file_everything(db, services, advocate, n) for n in range(5)]
    expire(db, expired)
    whole = [rows_of(db, case_id) for case_id in expired[2:]]
    assert all(all(counts.values()) for counts in whole)  # a row of every kind
    gone = referrals_of(db, expired)
    first_batch = expired[:2]  # the oldest first; equal dates: the lowest ids
    calls = []
    record = retention.record_withdrawals

    def dies_in_the_second_batch(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the operator's Ctrl-C, at the batch's last statements
        return record(*args, **kwargs)

    monkeypatch.setattr(retention, "record_withdrawals", dies_in_the_second_batch)
    with pytest.raises(KeyboardInterrupt):
        purge(db, batch=2)
    # The first batch went as a whole; the second left nothing half-erased.
    assert set(db.scalars(select(Case.id))) == set(expired) - set(first_batch)
    assert {(w.hotline_id, w.referral_id) for w in db.scalars(select(Withdrawal))} == (
        gone - referrals_of(db, expired)
    )
    assert [rows_of(db, case_id) for case_id in expired[2:]] == whole

    monkeypatch.setattr(retention, "record_withdrawals", record)
    assert purge(db, batch=2)["cases"] == 3
    assert_only_withdrawals_left(app, baseline, referrals=len(gone))


class StatementCount:
    """Statements the app's engine runs while on."""

    def __init__(self, app: Flask) -> None:
        self.count = 0
        event.listen(Database.engine(app), "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1

    def around(self, work: Callable[[], Any]) -> int:
        self.count = 0
        work()
        return self.count


def test_a_batch_takes_as_many_statements_for_many_cases_as_for_one(app, db, services, advocate):
    single = [file_everything(db, services, advocate, 2)]
    many = [file_everything(db, services, advocate, n) for n in range(2, 8)]
    expire(db, single, dt.date(2019, 1, 1))  # the older one goes first
    expire(db, many)
    statements = StatementCount(app)
    one = statements.around(lambda: erase_expired_batch(db, on=today(), size=1))
    six = statements.around(lambda: erase_expired_batch(db, on=today(), size=6))
    assert db.scalar(select(func.count(Case.id))) == 0
    assert one == six


def test_a_survivors_own_erasure_still_erases_one_case_and_tells_its_hotlines(
    app, db, services, advocate
):
    baseline = row_counts(app)
    case_id = file_everything(db, services, advocate, 2)  # three hotlines
    other = file_everything(db, services, advocate, 0)
    gone = referrals_of(db, [case_id])
    erase_case(db, db.get_one(Case, case_id))
    assert {(w.hotline_id, w.referral_id, w.reason) for w in db.scalars(select(Withdrawal))} == {
        (h, r, WithdrawalReason.WITHDRAWN) for h, r in gone
    }
    erase_case(db, db.get_one(Case, other))
    assert_only_withdrawals_left(app, baseline, referrals=len(gone) + 1)


def purge_beside(app: Flask, hold: Callable[[Session], None]) -> tuple[bool, int]:
    """Run the purge while another transaction, begun with ``hold``, is still open; then let
    that transaction commit. Returns whether the purge finished without waiting for it, and
    how many cases it erased."""
    other = Database.new_session(app)
    erased: list[int] = []

    def run() -> None:
        with Database.new_session(app) as db:
            erased.append(purge(db)["cases"])

    try:
        hold(other)
        worker = threading.Thread(target=run)
        worker.start()
        worker.join(timeout=30)
        finished = not worker.is_alive()
        other.commit()
    finally:
        other.close()
    worker.join()
    return finished, erased[0]


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="row locks need PostgreSQL")
def test_a_case_someone_is_writing_to_is_left_for_the_next_run(app, db, services, advocate):
    baseline = row_counts(app)
    expired = [file_everything(db, services, advocate, n) for n in range(4)]
    expire(db, expired)
    gone = referrals_of(db, expired)
    busy = expired[1]

    def survivor_writes(other: Session) -> None:
        # A message being written holds the case's row (its foreign key) until it commits.
        referral_id = min(r for _h, r in referrals_of(other, [busy]))
        other.add(
            Message(
                case_id=busy,
                referral_id=referral_id,
                author=MessageAuthor.SURVIVOR,
                body_sealed=services.cipher.seal("Still here", "message.body"),
                sent_on=today(),
            )
        )
        other.flush()

    finished, erased = purge_beside(app, survivor_writes)
    assert finished and erased == 3
    assert set(db.scalars(select(Case.id))) == {busy}
    assert db.scalar(select(func.count(Message.id)).where(Message.case_id == busy)) == 2
    # The next run erases it, with what was written meanwhile.
    assert purge(db)["cases"] == 1
    assert_only_withdrawals_left(app, baseline, referrals=len(gone))


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="row locks need PostgreSQL")
def test_a_case_whose_referral_staff_are_acting_on_is_left_whole(app, db, services, advocate):
    baseline = row_counts(app)
    expired = [file_everything(db, services, advocate, n) for n in range(2, 5)]
    expire(db, expired)
    busy = expired[0]
    gone = referrals_of(db, expired)
    held = max(r for _h, r in referrals_of(db, [busy]))

    def staff_act(other: Session) -> None:
        # An action in the portal holds the referral's row; the message it may go on to write
        # would then wait for the case's row.
        other.execute(
            update(Referral).where(Referral.id == held).values(version=Referral.version + 1)
        )

    whole = rows_of(db, busy)
    finished, erased = purge_beside(app, staff_act)
    assert finished and erased == 2
    assert set(db.scalars(select(Case.id))) == {busy}
    # The case left behind is whole: not one of its rows went, and its hotlines heard nothing.
    assert rows_of(db, busy) == whole
    assert {(w.hotline_id, w.referral_id) for w in db.scalars(select(Withdrawal))} == (
        gone - referrals_of(db, [busy])
    )
    assert purge(db)["cases"] == 1
    assert_only_withdrawals_left(app, baseline, referrals=len(gone))


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite's write-ahead log")
def test_the_purge_leaves_sqlites_checkpoints_as_it_found_them(app, db, services, advocate):
    expired = [file_everything(db, services, advocate, n) for n in range(3)]
    expire(db, expired)
    used = []

    def seen(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "wal_autocheckpoint" in statement:
            used.append(connection.connection.dbapi_connection)

    event.listen(Database.engine(app), "before_cursor_execute", seen)

    def dies(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(retention, "record_withdrawals", dies)
        with pytest.raises(KeyboardInterrupt):
            purge(db, batch=2)
    assert purge(db, batch=2)["cases"] == 3
    # Every connection the purge tuned copies its log into the database as usual again.
    assert used
    assert {c.execute("PRAGMA wal_autocheckpoint").fetchone()[0] for c in used} == {1000}
