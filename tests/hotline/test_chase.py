"""Notices the app sends and chases (DESIGN section 6b), against a real SMTP server on loopback:
each notice and reminder arrives exactly once, carries nothing about the survivor, and the
injected clock drives the 24-hour reminders, the limit and the escalation.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy import select

from assistant.cases.retention import erase_case
from assistant.extensions import Database
from assistant.hotline import delivery
from assistant.hotline.delivery import retry_dead_letter
from assistant.hotline.notice_mail import link_token
from assistant.hotline.notices import Answer
from assistant.hotline.notices import LinkProblem
from assistant.hotline.notices import answer_by_provider
from assistant.hotline.notices import hold_chase
from assistant.hotline.notices import open_link
from assistant.hotline.notices import send_notice
from assistant.hotline.referrals import ActionRefused
from assistant.hotline.referrals import assess_places
from assistant.models import AuditEvent
from assistant.models import Case
from assistant.models import HotlineSettings
from assistant.models import Location
from assistant.models import Message
from assistant.models import Notice
from assistant.models import NoticeLetter
from assistant.models import OutboxItem
from assistant.models import ProviderNoticeMonth
from assistant.models import Referral
from assistant.models import ReferralEvent
from assistant.models import today
from assistant.vocabulary import ChaseState
from assistant.vocabulary import DueAction
from assistant.vocabulary import LocationStatus
from tests.conftest import TEST_DATABASE_URL
from tests.hotline.delivery_support import TlsFiles
from tests.hotline.delivery_support import make_certificates
from tests.hotline.notice_support import HOST_INBOX
from tests.hotline.notice_support import QUICK_INBOX
from tests.hotline.notice_support import SOLO_INBOX
from tests.hotline.notice_support import UPSTREAM_INBOX
from tests.hotline.notice_support import NoticeWorld
from tests.hotline.notice_support import notice_world

HOST_LINK = "https://filebox-test.ie/f/4711-holiday"
SECOND_LINK = "https://filebox-test.ie/f/4712-beach"
SOLO_LINK = "https://seulhote-test.ie/album/99"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def world(database_url: str, tmp_path: Path, tls: TlsFiles) -> Iterator[NoticeWorld]:
    with notice_world(database_url, tmp_path, tls) as built:
        yield built


def send(world: NoticeWorld, referral_id: int, ids: list[int], **overrides: object) -> int:
    with world.session() as db:
        referral = world.referral(db, referral_id)
        options: dict[str, object] = {
            "notice_type": "csam",
            "subtype": None,
            "provider_id": "filebox_test",
            "provider_name": None,
            "recipient": HOST_INBOX,
            "version": referral.version,
            **overrides,
        }
        letter = send_notice(db, world.services, world.staff(db), referral, ids, **options)  # type: ignore[arg-type]
        return letter.id


def outbox_keys(world: NoticeWorld) -> list[str]:
    with world.session() as db:
        return list(
            db.scalars(
                select(OutboxItem.idempotency_key)
                .where(OutboxItem.letter_id.is_not(None))
                .order_by(OutboxItem.id)
            )
        )


def events(world: NoticeWorld, referral_id: int) -> list[tuple[str, bool, dict]]:
    with world.session() as db:
        return [
            (e.code, e.visible_to_survivor, dict(e.params))
            for e in db.scalars(
                select(ReferralEvent)
                .where(ReferralEvent.referral_id == referral_id)
                .order_by(ReferralEvent.id)
            )
        ]


def everything_in(mail) -> str:
    """Every header and every part of a received message, decoded, as one text."""
    message = mail.message()
    parts = [f"{name}: {value}" for name, value in message.items()]
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if payload:
            parts.append(payload.decode(part.get_content_charset() or "utf-8"))
    parts.append(mail.raw.decode("utf-8", "replace"))
    parts.append(mail.mail_from)
    parts.extend(mail.rcpt_tos)
    return "\n".join(parts)


def answer_first_place(world: NoticeWorld, letter_id: int, kind: str, **answer: object) -> None:
    """The provider answers for the notice's first place through its link."""
    token = link_token(world.services, letter_id)
    with world.session() as db:
        _letter, view = open_link(db, world.services, token)
        found = Answer(view.places[0].notice_id, kind, **answer)  # type: ignore[arg-type]
        answer_by_provider(db, world.services, token, [found])


# --- sending ---


def test_a_notice_is_sent_once_with_the_places_as_reported_and_nothing_about_the_survivor(
    world: NoticeWorld,
):
    _survivor, receipt, referral_id, ids = world.file_and_assess(HOST_LINK, SECOND_LINK)
    number, passphrase = receipt
    letter_id = send(world, referral_id, ids)

    assert outbox_keys(world) == [f"notice-{letter_id}-0"]
    assert world.deliver().sent == 1
    assert world.deliver().handled == 0  # nothing twice
    [mail] = world.mailbox.messages
    assert mail.rcpt_tos == [HOST_INBOX] and mail.over_tls
    message = mail.message()
    assert f"RRA-N{letter_id}" in message["Subject"]
    assert "Hotline.ie" in message["From"]
    body = message.get_content()
    assert HOST_LINK in body and SECOND_LINK in body
    assert "Notice type 1: child sexual abuse material." in body
    assert "keep it from being uploaded again" in body
    assert "Test standing: a rule of the test jurisdiction lets us ask." in body
    assert f"https://assistant.example/notice/{link_token(world.services, letter_id)}" in body
    assert "<a " not in mail.raw.decode("utf-8", "replace")  # text only

    seen = everything_in(mail)
    with world.session() as db:
        case = db.scalars(select(Case)).one()
        about_the_survivor = [
            number,
            passphrase,
            case.case_number,
            "my school photo",  # the survivor's note on each place
            "Portugal",
            "Alex Example",  # in the survivor's message to the hotline
            "identifying",
            "abuse_material",
            "under 18",
            f"RRA-{referral_id}",  # the hotline's reference to the referral, not the notice's
        ]
        assert db.scalar(select(func.count(Message.id))) == 1
    for value in about_the_survivor:
        assert value not in seen, value


def test_sending_records_a_notice_per_place_the_survivor_sees(world: NoticeWorld):
    survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
    send(world, referral_id, ids)
    page = survivor.client.get("/my-request").get_data(as_text=True)
    assert "The hotline asked the site to remove it." in page
    with world.session() as db:
        notice = db.scalars(select(Notice)).one()
        assert notice.chase == ChaseState.ACTIVE and notice.letter_id is not None
        location = db.get(Location, ids[0])
        assert location.status == LocationStatus.NOTICE_SENT
        figures = db.scalars(select(ProviderNoticeMonth)).all()
        assert {row.notices for row in figures} == {1}
        # The app chases it: nothing is due from staff, so it is not in their "due today".
        assert db.get(Referral, referral_id).due_action is None


def test_a_notice_type_the_assessment_does_not_allow_is_refused_and_nothing_is_written(
    world: NoticeWorld,
):
    _survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
    with pytest.raises(ActionRefused) as refused:
        send(world, referral_id, ids, notice_type="harmful_abusive", subtype="a")
    assert refused.value.code == "notice_type_mismatch"
    with pytest.raises(ActionRefused) as refused:
        send(world, referral_id, ids, recipient="not an address")
    assert refused.value.code == "bad_recipient"
    assert outbox_keys(world) == []


# --- the chase ---


def test_reminders_every_24_hours_up_to_the_limit_then_the_upstream_provider(world: NoticeWorld):
    survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
    letter_id = send(world, referral_id, ids)
    world.deliver()

    world.clock.advance(hours=23)
    assert world.chase().handled == 0
    for number in (1, 2, 3):
        world.clock.advance(hours=24 if number > 1 else 1)
        assert world.chase().reminded == 1
        assert world.chase().handled == 0  # a second pass at the same moment does nothing
        assert world.deliver().sent == 1
        mail = world.mail_to(HOST_INBOX)[-1]
        assert mail.message()["Subject"].startswith(f"Reminder {number}: ")
        assert f"This is reminder {number}." in mail.message().get_content()
    assert len(world.mail_to(HOST_INBOX)) == 4

    world.clock.advance(hours=24)
    report = world.chase()
    assert report.escalated == 1
    assert world.deliver().sent == 1
    [upstream] = world.mail_to(UPSTREAM_INBOX)
    body = upstream.message().get_content()
    assert "the company that hosts or carries Filebox Test" in body
    assert HOST_LINK in body
    assert outbox_keys(world) == [
        f"notice-{letter_id}-0",
        f"notice-{letter_id}-1",
        f"notice-{letter_id}-2",
        f"notice-{letter_id}-3",
        f"notice-{letter_id + 1}-0",
    ]
    page = survivor.client.get("/my-request").get_data(as_text=True)
    assert "The hotline asked the site again (reminder 3)." in page
    assert "the hotline asked the company that hosts the site to remove it" in page
    with world.session() as db:
        month = db.scalars(
            select(ProviderNoticeMonth).where(ProviderNoticeMonth.provider == "Filebox Test")
        ).all()
        assert {(row.reminders, row.escalations) for row in month} == {(3, 1)}
        actors = set(db.scalars(select(AuditEvent.actor).where(AuditEvent.action.like("notice.%"))))
        assert "chase" in actors


def test_with_nobody_upstream_the_place_is_flagged_to_staff_after_the_last_reminder(
    world: NoticeWorld,
):
    _survivor, _receipt, referral_id, ids = world.file_and_assess(SOLO_LINK)
    with world.session() as db:
        db.add(HotlineSettings(hotline_id="hotline_ie", chase_hours=12, reminder_limit=1))
        db.commit()
    send(world, referral_id, ids, provider_id="seulhote_test", recipient=SOLO_INBOX)
    world.deliver()
    [first] = world.mail_to(SOLO_INBOX)
    assert first.message()["Content-Language"] == "fr"
    assert "Avis de retrait" in first.message()["Subject"] or "RRA-N" in first.message()["Subject"]

    world.clock.advance(hours=12, minutes=1)
    assert world.chase().reminded == 1
    world.clock.advance(hours=12, minutes=1)
    assert world.chase().flagged == 1
    assert world.deliver().sent == 1  # the reminder; nothing for the flag
    assert len(world.mail_to(SOLO_INBOX)) == 2
    with world.session() as db:
        referral = db.get(Referral, referral_id)
        assert referral.due_action == DueAction.ESCALATE
        assert db.scalars(select(Notice)).one().chase == ChaseState.NO_ANSWER
    assert ("no_answer", False, {}) in events(world, referral_id)
    world.clock.advance(days=5)
    assert world.chase().handled == 0


def test_paused_places_are_left_out_and_a_stopped_chase_sends_nothing_more(world: NoticeWorld):
    _survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK, SECOND_LINK)
    send(world, referral_id, ids)
    world.deliver()
    with world.session() as db:
        referral = world.referral(db, referral_id)
        with pytest.raises(ActionRefused):
            hold_chase(db, world.staff(db), referral, [ids[0]], state="paused", reason=None)
        hold_chase(
            db, world.staff(db), referral, [ids[0]], state="paused", reason="law_enforcement"
        )
    world.clock.advance(hours=24, minutes=1)
    assert world.chase().reminded == 1
    world.deliver()
    reminder = world.mail_to(HOST_INBOX)[-1].message().get_content()
    assert SECOND_LINK in reminder and HOST_LINK not in reminder

    with world.session() as db:
        referral = world.referral(db, referral_id)
        hold_chase(
            db, world.staff(db), referral, [ids[1]], state="stopped", reason="handled_elsewhere"
        )
    world.clock.advance(hours=24, minutes=1)
    report = world.chase()
    assert report.reminded == 0 and report.finished == 1
    assert ("chase_paused", False, {"reason": "law_enforcement"}) in events(world, referral_id)


def test_a_pass_finds_only_what_is_due(world: NoticeWorld):
    _survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
    send(world, referral_id, ids)
    assert world.chase().handled == 0
    with world.session() as db:
        letter = db.scalars(select(NoticeLetter)).one()
        assert letter.next_chase_at is not None
        assert letter.next_chase_at - letter.created_at == dt.timedelta(hours=24)


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="two chase processes need PostgreSQL")
def test_two_chase_processes_at_once_remind_each_provider_exactly_once(world: NoticeWorld):
    letters = []
    for number in range(12):
        _s, _r, referral_id, ids = world.file_and_assess(f"https://filebox-test.ie/f/{number}")
        letters.append(send(world, referral_id, ids))
    world.deliver(batch=100)
    world.clock.advance(hours=24, minutes=1)
    start = threading.Barrier(2)
    reports = []

    def run() -> None:
        start.wait()
        reports.append(world.chase(batch=3))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.reminded for r in reports) == 12
    sends = [threading.Thread(target=lambda: world.deliver(batch=5)) for _ in range(2)]
    for thread in sends:
        thread.start()
    for thread in sends:
        thread.join()
    while world.deliver(batch=50).handled:
        pass
    subjects = [m.message()["Subject"] for m in world.mail_to(HOST_INBOX)]
    reminders = [s for s in subjects if s.startswith("Reminder 1: ")]
    assert sorted(reminders) == sorted(set(reminders)) and len(reminders) == 12


# --- the provider's response link ---


def test_the_provider_answers_removed_through_the_link_and_the_chase_stops(world: NoticeWorld):
    survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
    letter_id = send(world, referral_id, ids)
    token = link_token(world.services, letter_id)
    with world.session() as db:
        _letter, view = open_link(db, world.services, token)
        assert [place.value for place in view.places] == [HOST_LINK]
        notice_id = view.places[0].notice_id
        answered = answer_by_provider(
            db, world.services, token, [Answer(notice_id, "removed", dt.date.today())]
        )
    assert answered == 1
    page = survivor.client.get("/my-request").get_data(as_text=True)
    assert "The site says it was removed" in page
    with world.session() as db:
        assert db.get(Location, ids[0]).status == LocationStatus.REMOVED
        assert db.scalars(select(Notice)).one().chase == ChaseState.ANSWERED
        with pytest.raises(LinkProblem) as problem:
            open_link(db, world.services, token)
        assert problem.value.code == "final"
    world.clock.advance(days=2)
    assert world.chase().reminded == 0


def test_forged_and_expired_links_change_nothing(world: NoticeWorld):
    _survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
    letter_id = send(world, referral_id, ids)
    token = link_token(world.services, letter_id)
    with world.session() as db:
        for forged in (token[:-2] + "xx", "1", link_token(world.services, letter_id + 99)):
            with pytest.raises(LinkProblem) as problem:
                open_link(db, world.services, forged)
            assert problem.value.code == "forged"
        with pytest.raises(LinkProblem) as problem:
            open_link(db, world.services, token, on=dt.date.today() + dt.timedelta(days=61))
        assert problem.value.code == "expired"
        with pytest.raises(ActionRefused):
            answer_by_provider(db, world.services, token, [Answer(12345, "removed", None)])
    with world.session() as db:
        assert db.get(Location, ids[0]).status == LocationStatus.NOTICE_SENT


def test_a_refusal_and_a_question_reach_staff_and_never_the_survivor(world: NoticeWorld):
    survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK, SECOND_LINK)
    letter_id = send(world, referral_id, ids)
    token = link_token(world.services, letter_id)
    with world.session() as db:
        _letter, view = open_link(db, world.services, token)
        first, second = (place.notice_id for place in view.places)
        answer_by_provider(
            db,
            world.services,
            token,
            [
                Answer(first, "refused", text="Our counsel says this is lawful here."),
                Answer(second, "question", text="Which frame do you mean?"),
            ],
        )
    page = survivor.client.get("/my-request").get_data(as_text=True)
    assert "counsel" not in page and "frame" not in page
    assert "The site refused to remove it." in page
    with world.session() as db:
        notes = db.get(Referral, referral_id).notes
        assert len(notes) == 1 and notes[0].from_letter_id == letter_id
        assert world.services.cipher.open(notes[0].body_sealed, "note.body") == (
            "Which frame do you mean?"
        )
    assert ("provider_question", False, {"letter": letter_id}) in [
        (code, visible, params) for code, visible, params in events(world, referral_id)
    ]


def test_erasing_the_case_takes_its_notices_and_their_sendings_and_leaves_the_figures(
    world: NoticeWorld,
):
    _survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
    send(world, referral_id, ids)
    world.clock.advance(hours=24, minutes=1)
    assert world.chase().reminded == 1
    with world.session() as db:
        case = db.scalars(select(Case)).one()
        erase_case(db, case)
        db.commit()
    with world.session() as db:
        for model in (NoticeLetter, Notice, OutboxItem, Location, Referral):
            assert db.scalars(select(model)).all() == [], model
        figures = db.scalars(select(ProviderNoticeMonth)).all()
        assert {(row.notices, row.reminders) for row in figures} == {(1, 1)}
    assert world.deliver().handled == 0
    assert world.mailbox.messages == []


def test_a_removal_deadline_in_the_directory_sets_the_pace_and_shows_on_the_workbench(
    world: NoticeWorld,
):
    _survivor, _receipt, referral_id, ids = world.file_and_assess("https://rapide-test.ie/v/1")
    send(world, referral_id, ids, provider_id="rapide_test", recipient=QUICK_INBOX)
    with world.session() as db:
        letter = db.scalars(select(NoticeLetter)).one()
        assert letter.next_chase_at - letter.created_at == dt.timedelta(hours=6)
    world.clock.advance(hours=6, minutes=2)
    assert world.chase().reminded == 1
    world.analyst.sign_in()
    page = world.analyst.client.get(f"/hotline/referrals/{referral_id}").text
    assert "Removal deadline" in page and "Test rule 1" in page


def test_a_refused_sending_is_retried_with_backoff_then_dead_until_an_administrator_retries_it(
    world: NoticeWorld,
):
    _survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
    send(world, referral_id, ids)
    world.mailbox.refuse_with = "451 4.3.0 Try again later"
    report = world.deliver()
    assert (report.sent, report.retried) == (0, 1)
    with world.session() as db:
        item = db.scalars(select(OutboxItem)).one()
        assert (item.status, item.attempts, item.last_error) == ("pending", 1, "smtp_451")
        first_retry = item.next_attempt_at - world.clock()
    assert dt.timedelta(seconds=29) < first_retry < dt.timedelta(seconds=40)
    assert world.deliver().handled == 0  # not before its time
    for _ in range(40):
        world.clock.advance(hours=1)
        world.deliver()
    world.analyst.sign_in()
    page = world.analyst.client.get(f"/hotline/referrals/{referral_id}").text
    assert "Sending failed (smtp_451)." in page
    with world.session() as db:
        item = db.scalars(select(OutboxItem)).one()
        assert item.status == "dead"
        assert retry_dead_letter(db, item.id, now=world.clock())
    world.mailbox.refuse_with = None
    assert world.deliver().sent == 1
    assert len(world.mail_to(HOST_INBOX)) == 1


# --- what the review of the first version found ---


def test_a_notice_stopped_before_it_went_out_is_never_sent(world: NoticeWorld):
    _survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
    send(world, referral_id, ids)
    with world.session() as db:
        referral = world.referral(db, referral_id)
        hold_chase(db, world.staff(db), referral, ids, state="stopped", reason="law_enforcement")
    report = world.deliver()
    assert (report.sent, report.cancelled) == (0, 1)
    assert world.mailbox.messages == []


def escalate(world: NoticeWorld, referral_id: int, ids: list[int]) -> int:
    """Send to the file host, let every reminder go unanswered, and escalate; returns the
    first notice's id."""
    letter_id = send(world, referral_id, ids)
    for _ in range(4):
        world.clock.advance(hours=24, minutes=1)
        world.chase()
    assert len(outbox_keys(world)) == 5  # the notice, 3 reminders, the upstream notice
    return letter_id


def test_a_late_refusal_through_the_first_notice_does_not_end_the_upstream_notice(
    world: NoticeWorld,
):
    _survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
    first = escalate(world, referral_id, ids)
    token = link_token(world.services, first)
    with world.session() as db:
        _letter, view = open_link(db, world.services, token)
        [place] = view.places
        assert place.superseded and place.open
        with pytest.raises(ActionRefused) as refused:
            answer_by_provider(
                db, world.services, token, [Answer(place.notice_id, "refused", text="no")]
            )
        assert refused.value.code == "refused_superseded"
    with world.session() as db:
        assert db.get(Location, ids[0]).status == LocationStatus.NOTICE_SENT
        upstream = db.scalars(select(Notice).where(Notice.letter_id == first + 1)).one()
        assert upstream.chase == ChaseState.ACTIVE
        # The site taking it down is still welcome through its own link.
        _letter, view = open_link(db, world.services, token)
        answer_by_provider(
            db, world.services, token, [Answer(view.places[0].notice_id, "removed", today())]
        )
    with world.session() as db:
        assert db.get(Location, ids[0]).status == LocationStatus.REMOVED


def test_a_providers_question_pauses_the_chase_until_staff_answer_it(world: NoticeWorld):
    _survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
    answer_first_place(world, send(world, referral_id, ids), "question", text="?")
    with world.session() as db:
        assert db.get(Referral, referral_id).due_action == DueAction.ANSWER
    world.clock.advance(days=3)
    assert world.chase().reminded == 0
    with world.session() as db:
        referral = world.referral(db, referral_id)
        hold_chase(db, world.staff(db), referral, ids, state="active", reason=None)
    assert world.chase().reminded == 1


def test_a_refusal_puts_the_escalation_on_staffs_due_list(world: NoticeWorld):
    _survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
    answer_first_place(world, send(world, referral_id, ids), "refused", text="x")
    with world.session() as db:
        assert db.get(Referral, referral_id).due_action == DueAction.ESCALATE


def test_the_sub_type_must_be_the_assessed_one(world: NoticeWorld):
    _survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
    with world.session() as db:
        referral = world.referral(db, referral_id)
        assess_places(db, world.staff(db), referral, ids, "harmful_abusive", "a")
    with pytest.raises(ActionRefused) as refused:
        send(world, referral_id, ids, notice_type="harmful_abusive", subtype="c")
    assert refused.value.code == "subtype_mismatch"
    send(world, referral_id, ids, notice_type="harmful_abusive", subtype="a")
    world.deliver()
    body = world.mail_to(HOST_INBOX)[0].message().get_content()
    assert "Notice type 2a" in body


def test_the_link_works_60_days_after_the_last_reminder_that_carried_it(world: NoticeWorld):
    _survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
    with world.session() as db:
        db.add(HotlineSettings(hotline_id="hotline_ie", chase_hours=24 * 14, reminder_limit=10))
        db.commit()
    letter_id = send(world, referral_id, ids)
    for _ in range(6):
        world.clock.advance(days=14, minutes=1)
        assert world.chase().reminded == 1
    token = link_token(world.services, letter_id)
    with world.session() as db:
        letter = db.get(NoticeLetter, letter_id)
        assert letter.last_sent_on - letter.sent_on >= dt.timedelta(days=84)
        open_link(db, world.services, token, on=letter.sent_on + dt.timedelta(days=100))


def test_a_notice_that_cannot_be_built_is_retried_and_the_others_still_go(
    world: NoticeWorld, monkeypatch: pytest.MonkeyPatch
):
    _s1, _r1, first_referral, first_ids = world.file_and_assess(HOST_LINK)
    _s2, _r2, second_referral, second_ids = world.file_and_assess(SOLO_LINK)
    broken = send(world, first_referral, first_ids)
    send(world, second_referral, second_ids, provider_id="seulhote_test", recipient=SOLO_INBOX)
    real = delivery.notice_message

    def failing(services, settings, letter, *args):  # a fault, injected for one notice
        if letter.id == broken:
            raise UnicodeEncodeError("ascii", "é", 0, 1, "injected")
        return real(services, settings, letter, *args)

    monkeypatch.setattr(delivery, "notice_message", failing)
    report = world.deliver()
    assert (report.sent, report.retried) == (1, 1)
    assert len(world.mail_to(SOLO_INBOX)) == 1
    with world.session() as db:
        codes = set(db.scalars(select(OutboxItem.last_error)))
        assert "bad_message" in codes


def test_notices_come_from_the_sender_the_operator_set_up_never_one_a_hotline_typed(
    database_url: str, tmp_path: Path, tls: TlsFiles
):
    config = tmp_path / "delivery.json"
    config.write_text('{"notice_senders": {"hotline_ie": "notices@hotline-ie.example"}}')
    with notice_world(database_url, tmp_path, tls, delivery_config=str(config)) as world:
        _survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
        send(world, referral_id, ids)
        world.deliver()
        [mail] = world.mailbox.messages
        assert mail.message()["From"].addresses[0].addr_spec == "notices@hotline-ie.example"
        assert mail.message()["From"].addresses[0].display_name == "Hotline.ie"
        assert mail.mail_from == "notices@assistant.example"  # the relay's own envelope sender


def test_with_the_mail_server_away_every_notice_of_the_pass_waits_for_a_retry(world: NoticeWorld):
    for number in range(3):
        _s, _r, referral_id, ids = world.file_and_assess(f"https://filebox-test.ie/f/gone-{number}")
        send(world, referral_id, ids)
    world.server.stop()
    report = world.deliver()
    assert (report.sent, report.retried) == (0, 3)
    with world.session() as db:
        items = db.scalars(select(OutboxItem)).all()
        assert {(item.status, item.last_error) for item in items} == {
            ("pending", "connection_refused")
        }
        assert {item.claimed_by for item in items} == {None}


def test_a_provider_not_in_the_directory_is_named_only_sealed(world: NoticeWorld):
    _survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
    letter_id = send(
        world, referral_id, ids, provider_id=None, provider_name="Smallsite Hosting Ltd"
    )
    world.deliver()
    assert "To: Smallsite Hosting Ltd" in world.mail_to(HOST_INBOX)[0].message().get_content()
    with world.session() as db:
        letter = db.get(NoticeLetter, letter_id)
        assert letter.provider == "" and letter.provider_sealed is not None
        assert {n.provider for n in db.scalars(select(Notice))} == {""}
        _letter, view = open_link(db, world.services, link_token(world.services, letter_id))
        assert view.provider == "Smallsite Hosting Ltd"
    with Database.engine(world.app).connect() as connection:
        dump = "\n".join(
            str(row)
            for model in (NoticeLetter, Notice, ProviderNoticeMonth, AuditEvent)
            for row in connection.execute(select(model.__table__))
        )
    assert "Smallsite" not in dump
    world.analyst.sign_in()
    page = world.analyst.client.get(f"/hotline/referrals/{referral_id}").text
    assert "Smallsite Hosting Ltd" in page


def test_the_provider_says_not_found_and_the_survivor_reads_it(world: NoticeWorld):
    survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
    letter_id = send(world, referral_id, ids)
    token = link_token(world.services, letter_id)
    with world.session() as db:
        _letter, view = open_link(db, world.services, token)
        answer_by_provider(
            db, world.services, token, [Answer(view.places[0].notice_id, "not_found")]
        )
    with world.session() as db:
        assert db.get(Location, ids[0]).status == LocationStatus.UNAVAILABLE
    page = survivor.client.get("/my-request?lang=en").text
    assert "The site says it is no longer there." in page
