"""The workbench's rules (issue: a team's day of work): bulk actions all-or-nothing, the version
check, assignment and its audit, keyset pages, search by link, provider figures that outlive
erasure, and the reopen window."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy import select

from assistant.cases.intake import IntakeRequest
from assistant.cases.intake import file_request
from assistant.cases.retention import erase_case
from assistant.cases.status import describe_case
from assistant.extensions import Database
from assistant.hotline import referrals
from assistant.hotline import reports
from assistant.hotline.notice_mail import notice_provider
from assistant.hotline.provider_figures import provider_figures
from assistant.hotline.provider_figures import prune_days
from assistant.hotline.referrals import ActionRefused
from assistant.hotline.referrals import BulkRefused
from assistant.hotline.referrals import ReferralChanged
from assistant.hotline.referrals import Staff
from assistant.models import Account
from assistant.models import AuditEvent
from assistant.models import Location
from assistant.models import Notice
from assistant.models import ProviderNoticeDay
from assistant.models import ProviderNoticeMonth
from assistant.models import ProviderRemovalMonth
from assistant.models import Referral
from assistant.models import ReferralEvent
from assistant.models import today
from assistant.models import utcnow
from assistant.routing import normalise_location
from tests.conftest import HOTLINE_A
from tests.conftest import HOTLINE_B


def account(db: Any, email: str, hotline_id: str, role: str = "staff") -> Account:
    row = Account(
        email=email,
        role=role,
        hotline_id=hotline_id,
        status="active",
        totp_last_step=0,
        failed_sign_ins=0,
        created_at=utcnow(),
    )
    db.add(row)
    db.commit()
    return row


@pytest.fixture
def analyst(db: Any) -> Staff:
    return Staff.of(account(db, "one@hotline-a.example", HOTLINE_A))


@pytest.fixture
def colleague(db: Any) -> Staff:
    return Staff.of(account(db, "two@hotline-a.example", HOTLINE_A))


def file_case(db: Any, services: Any, *values: str, **answers: Any) -> Referral:
    filed = file_request(
        db,
        services,
        IntakeRequest(
            locations=[normalise_location("url", value) for value in values],
            categories=frozenset(answers.get("categories", {"abuse_material"})),
            minor_in_material=answers.get("minor"),
            survivor_country="IE",
        ),
    )
    (referral,) = [r for r in filed.case.referrals if r.hotline_id == HOTLINE_A]
    return referral


def counts(db: Any) -> tuple[int, ...]:
    db.expire_all()
    return tuple(
        db.scalar(select(func.count()).select_from(model))
        for model in (ReferralEvent, AuditEvent, Notice)
    ) + tuple(sorted((loc.id, loc.status, loc.assessment) for loc in db.scalars(select(Location))))


def test_bulk_acknowledge_does_every_referral_or_none(db, services, analyst):
    first = file_case(db, services, "https://example.ie/one")
    second = file_case(db, services, "https://example.ie/two")
    referrals.acknowledge(db, analyst, second)
    before = counts(db)
    with pytest.raises(BulkRefused) as refused:
        referrals.acknowledge_many(db, analyst, [(first, first.version), (second, second.version)])
    (item, reason), *rest = refused.value.items
    assert (item, reason.code, rest) == (second.id, "nothing_to_acknowledge", [])
    assert counts(db) == before  # the first one was not acknowledged either
    third = file_case(db, services, "https://example.ie/three")
    done = referrals.acknowledge_many(db, analyst, [(first, first.version), (third, third.version)])
    assert done == 2
    db.expire_all()
    assert {db.get(Referral, r.id).status for r in (first, third)} == {"with_hotline"}


def test_three_places_are_assessed_at_once_and_take_one_notice(db, services, analyst):
    referral = file_case(
        db, services, "https://example.ie/a", "https://example.ie/b", "https://example.ie/c"
    )
    referrals.acknowledge(db, analyst, referral)
    ids = [loc.id for loc in referral.locations]
    referrals.assess_places(db, analyst, referral, ids, "csam", version=referral.version)
    notices = referrals.record_notices(
        db,
        services,
        analyst,
        referral,
        ids,
        notice_type="csam",
        provider="imgur",
        sent_on=today(),
        version=referral.version,
    )
    assert len(notices) == 3
    assert {loc.status for loc in referral.locations} == {"notice_sent"}
    total, months = provider_figures(db, HOTLINE_A)
    # Named by the directory: by its name there, in clear.
    assert [(r.provider, r.notices) for r in total.records] == [("Imgur", 3)]
    assert months[0].month == today().replace(day=1)
    audits = db.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "location"))
    assert list(audits).count("location.assessed") == 3


def test_one_place_that_cannot_take_the_step_refuses_the_whole_step(db, services, analyst):
    referral = file_case(
        db, services, "https://example.ie/a", "https://example.ie/b", "https://example.ie/c"
    )
    referrals.acknowledge(db, analyst, referral)
    one, two, three = (loc.id for loc in referral.locations)
    referrals.assess(db, analyst, referral, three, "not_found")  # now unavailable: an outcome
    before = counts(db)
    with pytest.raises(BulkRefused) as refused:
        referrals.assess_places(db, analyst, referral, [one, two, three], "csam")
    assert [(item, r.code) for item, r in refused.value.items] == [(three, "not_allowed")]
    assert counts(db) == before
    with pytest.raises(BulkRefused):
        referrals.record_notices(
            db,
            services,
            analyst,
            referral,
            [one, two],
            notice_type="csam",
            provider="Host",
            sent_on=today(),
        )
    assert counts(db) == before  # not assessed yet: no notice for either


def test_an_action_decided_on_an_older_version_is_refused_and_says_what_changed(
    db, services, analyst, colleague
):
    referral = file_case(db, services, "https://example.ie/one")
    seen = referral.version
    referrals.acknowledge(db, colleague, referral, version=seen)
    before = counts(db)
    with pytest.raises(ReferralChanged) as changed:
        referrals.close(db, analyst, referral, "duplicate", version=seen)
    assert changed.value.since == seen
    assert counts(db) == before
    what = referrals.changes_since(referral, seen)
    assert [event.code for event in what] == ["with_hotline"]


def test_two_analysts_writing_at_once_cannot_both_succeed(app, db, services, analyst, colleague):
    referral = file_case(db, services, "https://example.ie/one")
    with Database.new_session(app) as other:
        theirs = other.get(Referral, referral.id)
        mine = db.get(Referral, referral.id)
        assert theirs.version == mine.version
        referrals.acknowledge(other, colleague, theirs, version=theirs.version)
        # This session still holds the old row: its write must not land on top.
        with pytest.raises(ReferralChanged) as changed:
            referrals.close(db, analyst, mine, "duplicate", version=mine.version)
    db.expire_all()
    row = db.get(Referral, referral.id)
    assert (row.status, row.closed_reason) == ("with_hotline", None)
    # What changed is told from the version the refused action was decided on.
    assert [e.code for e in referrals.changes_since(row, changed.value.since)] == ["with_hotline"]


def test_assignment_goes_only_to_a_colleague_and_is_audited(db, services, analyst, colleague):
    referral = file_case(db, services, "https://example.ie/one")
    outsider = account(db, "someone@hotline-b.example", HOTLINE_B)
    with pytest.raises(ActionRefused) as refused:
        referrals.assign(db, analyst, referral, outsider.id)
    assert refused.value.code == "unknown_colleague"
    referrals.assign(db, analyst, referral, colleague.account_id, version=referral.version)
    assert referral.assigned_to == colleague.account_id
    audit = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(2)).all()
    assert {(a.action, a.object_type, a.object_id, a.actor) for a in audit} == {
        ("referral.assigned", "referral", referral.id, analyst.actor),
        ("referral.assigned_to", "account", colleague.account_id, analyst.actor),
    }
    page = reports.queue_page(
        db, services, HOTLINE_A, reports.read_query({"assigned": ["me"]}), me=colleague.account_id
    )
    assert [row.id for row in page.rows] == [referral.id]
    referrals.assign(db, colleague, referral, None)
    assert referral.assigned_to is None
    assert db.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)) == (
        "referral.unassigned"
    )


def walk(db: Any, services: Any, me: int, between: Any = None) -> list[int]:
    """Every referral id the queue shows, page after page (calling ``between`` after each)."""
    seen: list[int] = []
    args: dict[str, list[str]] = {}
    while True:
        page = reports.queue_page(db, services, HOTLINE_A, reports.read_query(args), me=me)
        seen.extend(row.id for row in page.rows)
        if between:
            between()
        if not page.next_after:
            return seen
        args = {"after": [page.next_after]}


def test_keyset_pages_miss_and_repeat_nothing_while_referrals_arrive(
    db, services, analyst, monkeypatch
):
    monkeypatch.setattr(reports, "PAGE_SIZE", 4)
    filed = [file_case(db, services, f"https://example.ie/{n}") for n in range(10)]
    for referral in filed[::3]:
        referrals.acknowledge(db, analyst, referral)
    arrived: list[int] = []
    seen = walk(
        db,
        services,
        analyst.account_id,
        lambda: arrived.append(file_case(db, services, f"https://example.ie/new{len(arrived)}").id),
    )
    assert len(seen) == len(set(seen))  # nothing twice
    assert {r.id for r in filed} <= set(seen)  # nothing missed
    # Waiting first (oldest first), then acknowledged ones.
    waiting = [r.id for r in filed if r.status == "received"]
    assert seen[: len(waiting)] == waiting
    # The last page, read backwards, ends where the walk ended.
    last = reports.queue_page(
        db, services, HOTLINE_A, reports.read_query({"page": ["last"]}), me=analyst.account_id
    )
    assert [row.id for row in last.rows] == seen[-len(last.rows) :]
    assert last.next_after is None and last.previous_before


def test_a_pasted_link_finds_every_referral_of_this_hotline_that_holds_it(db, services, analyst):
    first = file_case(db, services, "https://example.ie/shared/page")
    second = file_case(db, services, "https://example.ie/other", "https://example.ie/shared/page")
    file_case(db, services, "https://example.ie/elsewhere")

    def found(text: str, hotline_id: str = HOTLINE_A) -> list[int]:
        query = reports.read_query({"q": [text], "status": ["all"]})
        page = reports.queue_page(db, services, hotline_id, query, me=analyst.account_id)
        return sorted(row.id for row in page.rows)

    assert found("https://example.ie/shared/page") == sorted([first.id, second.id])
    # Written differently, the same place after normalisation.
    assert found("HTTPS://EXAMPLE.IE/shared/page") == sorted([first.id, second.id])
    assert found(f"RRA-{second.id}") == [second.id]
    assert found("https://example.ie/never-reported") == []
    assert found("https://example.ie/shared/page", HOTLINE_B) == []  # another hotline: nothing
    assert found(f"RRA-{first.id}", HOTLINE_B) == []


def test_provider_figures_stay_when_the_survivor_erases_the_case(db, services, analyst):
    referral = file_case(db, services, "https://example.ie/a", "https://example.ie/b")
    for place in referral.locations:  # reported three weeks ago
        place.added_on = today() - dt.timedelta(days=21)
    db.commit()
    referrals.acknowledge(db, analyst, referral)
    ids = [loc.id for loc in referral.locations]
    referrals.assess_places(db, analyst, referral, ids, "csam")
    sent = today() - dt.timedelta(days=9)
    referrals.record_notices(
        db, services, analyst, referral, ids, notice_type="csam", provider="Host", sent_on=sent
    )
    referrals.record_responses(db, analyst, referral, ids[:1], "removed", sent + dt.timedelta(3))
    before = provider_figures(db, HOTLINE_A)
    (record,) = before[0].records
    assert (record.notices, record.removed, record.median_days_to_removal) == (2, 1, 3)
    assert record.no_response_share == 0.5
    erase_case(db, referral.case)
    db.commit()
    assert db.scalar(select(func.count()).select_from(Notice)) == 0
    assert provider_figures(db, HOTLINE_A) == before


def test_a_closed_referral_can_be_reopened_for_seven_days(db, services, analyst):
    referral = file_case(db, services, "https://example.ie/a", "https://example.ie/b")
    referrals.acknowledge(db, analyst, referral)
    gone, kept = referral.locations
    referrals.assess(db, analyst, referral, gone.id, "not_found")  # an outcome: stays as it is
    referrals.close(db, analyst, referral, "duplicate")
    assert referrals.allowed_actions(referral, HOTLINE_A).reopen_until == today() + dt.timedelta(7)
    assert referrals.reopen(db, analyst, referral, version=referral.version) == 1
    assert (referral.status, gone.status, kept.status) == (
        "with_hotline",
        "unavailable",
        "with_hotline",
    )
    survivor_view = describe_case(services, referral.case)
    codes = [event.code for event in survivor_view.referrals[0].events]
    assert codes[-1] == "referral_reopened"  # the survivor sees it reopened
    assert db.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)) == (
        "referral.reopened"
    )
    referrals.close(db, analyst, referral, "duplicate")
    referral.closed_on = today() - dt.timedelta(days=8)
    db.commit()
    assert referrals.allowed_actions(referral, HOTLINE_A).reopen_until is None
    with pytest.raises(ActionRefused) as refused:
        referrals.reopen(db, analyst, referral)
    assert refused.value.code == "reopen_too_late"


def test_counts_stop_at_the_cap_and_say_so(db, services, analyst, monkeypatch):
    monkeypatch.setattr(reports, "COUNT_CAP", 2)
    for n in range(3):
        file_case(db, services, f"https://example.ie/c{n}")
    counts = reports.queue_counts(db, HOTLINE_A)
    assert (counts["received"].value, counts["received"].capped) == (2, True)
    assert (counts["closed"].value, counts["closed"].capped) == (0, False)
    assert counts["open"].capped and counts["all"].capped
    page = reports.queue_page(
        db, services, HOTLINE_A, reports.read_query({}), me=analyst.account_id
    )
    assert len(page.rows) == 3  # the cap bounds the count, never the list


def test_per_day_counts_are_forgotten_once_they_are_no_longer_read(db, services, analyst):
    referral = file_case(db, services, "https://example.ie/a")
    referrals.acknowledge(db, analyst, referral)
    (place,) = referral.locations
    referrals.assess(db, analyst, referral, place.id, "csam")
    referrals.record_notice(
        db,
        services,
        analyst,
        referral,
        place.id,
        notice_type="csam",
        provider="Host",
        sent_on=today(),
    )
    before = provider_figures(db, HOTLINE_A, on=today() + dt.timedelta(days=30))
    assert prune_days(db, on=today() + dt.timedelta(days=6)) == 0  # still read
    assert prune_days(db, on=today() + dt.timedelta(days=7)) == 1
    db.commit()
    assert db.scalar(select(func.count()).select_from(ProviderNoticeDay)) == 0
    assert provider_figures(db, HOTLINE_A, on=today() + dt.timedelta(days=30)) == before


def test_a_notice_cannot_be_dated_before_the_place_was_reported(db, services, analyst):
    referral = file_case(db, services, "https://example.ie/a")
    referrals.acknowledge(db, analyst, referral)
    (place,) = referral.locations
    referrals.assess(db, analyst, referral, place.id, "csam")
    with pytest.raises(ActionRefused) as refused:
        referrals.record_notice(
            db,
            services,
            analyst,
            referral,
            place.id,
            notice_type="csam",
            provider="Host",
            sent_on=dt.date(1, 1, 15),
        )
    assert refused.value.code == "date_before_place"


def test_a_provider_named_by_an_address_is_counted_without_its_name(db, services, analyst):
    referral = file_case(db, services, "https://abuse-site.example/u/1")
    referrals.acknowledge(db, analyst, referral)
    (place,) = referral.locations
    referrals.assess(db, analyst, referral, place.id, "csam")
    referrals.record_notice(
        db,
        services,
        analyst,
        referral,
        place.id,
        notice_type="csam",
        provider="abuse-site.example/u/1",
        sent_on=today(),
    )
    total, _months = provider_figures(db, HOTLINE_A)
    assert [(r.provider, r.notices) for r in total.records] == [("", 1)]
    erase_case(db, referral.case)
    db.commit()
    for model in (ProviderNoticeDay, ProviderNoticeMonth, ProviderRemovalMonth):
        assert all("abuse-site" not in row.provider for row in db.scalars(select(model)))


def test_a_provider_the_directory_does_not_name_is_sealed_and_counted_with_the_others(
    db, services, analyst
):
    referral = file_case(db, services, "https://example.ie/a")
    referrals.acknowledge(db, analyst, referral)
    ids = [loc.id for loc in referral.locations]
    referrals.assess_places(db, analyst, referral, ids, "csam", version=referral.version)
    [notice] = referrals.record_notices(
        db,
        services,
        analyst,
        referral,
        ids,
        notice_type="csam",
        provider="img-77q.small-host.example",
        sent_on=today(),
        version=referral.version,
    )
    assert notice.provider == "" and b"small-host" not in notice.provider_sealed
    assert notice_provider(services, notice) == "img-77q.small-host.example"
    total, _months = provider_figures(db, HOTLINE_A)
    assert [(r.provider, r.notices) for r in total.records] == [("", 1)]
