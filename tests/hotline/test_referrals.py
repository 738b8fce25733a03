"""The referral state machine (DESIGN section 5): every allowed transition, every refused one,
and what each leaves behind (timeline, audit log, what the survivor sees)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy import select

from assistant.cases.intake import IntakeRequest
from assistant.cases.intake import file_request
from assistant.cases.status import describe_case
from assistant.hotline import referrals
from assistant.hotline.referrals import TRANSITIONS
from assistant.hotline.referrals import ActionRefused
from assistant.hotline.referrals import ReferralActions
from assistant.hotline.referrals import Staff
from assistant.models import Account
from assistant.models import AuditEvent
from assistant.models import Location
from assistant.models import Notice
from assistant.models import Referral
from assistant.models import ReferralEvent
from assistant.models import today
from assistant.models import utcnow
from assistant.routing import normalise_location
from assistant.vocabulary import LocationAction
from assistant.vocabulary import LocationStatus
from tests.conftest import HOTLINE_A
from tests.conftest import HOTLINE_B

A = LocationAction


def offered(actions: ReferralActions, location_id: int, action: LocationAction) -> bool:
    """Whether the portal would offer ``action`` for this place."""
    place = actions.places[location_id]
    return {
        A.ACKNOWLEDGE: actions.acknowledge,
        A.ASSESS_ACTIONABLE: place.assess,
        A.ASSESS_NOT_ACTIONABLE: place.assess,
        A.ASSESS_NOT_FOUND: place.assess,
        A.NOTICE: place.notice is not None,
        A.ESCALATE: place.escalate,
        A.RESPONSE_REMOVED: bool(place.answerable),
        A.RESPONSE_REFUSED: bool(place.answerable),
        A.RESPONSE_NO_RESPONSE: bool(place.answerable),
        A.RESPONSE_NOT_FOUND: bool(place.answerable),
        A.REROUTE: actions.reroute,
        A.CLOSE: actions.close,
    }[action]


@pytest.fixture
def staff(db: Any) -> Staff:
    account = Account(
        email="a@hotline-a.example",
        role="staff",
        hotline_id=HOTLINE_A,
        status="active",
        totp_last_step=0,
        failed_sign_ins=0,
        created_at=utcnow(),
    )
    db.add(account)
    db.commit()
    return Staff.of(account)


def file_case(db: Any, services: Any, *values: str) -> Referral:
    locations = [normalise_location("url", value) for value in values]
    filed = file_request(
        db,
        services,
        IntakeRequest(
            locations=locations, categories=frozenset({"abuse_material"}), survivor_country="IE"
        ),
    )
    referral = filed.case.referrals[0]
    assert referral.hotline_id == HOTLINE_A
    for place in referral.locations:  # reported a month ago, so earlier notices can be dated
        place.added_on = today() - dt.timedelta(days=30)
    db.commit()
    return referral


def send_notice(
    db: Any, services: Any, staff: Staff, referral: Referral, location: Location, **given: Any
) -> Notice:
    """A type 1 notice to "Host", today, unless ``given`` says otherwise."""
    fields: dict[str, Any] = {
        "notice_type": "csam",
        "provider": "Host",
        "sent_on": today(),
        **given,
    }
    return referrals.record_notice(db, services, staff, referral, location.id, **fields)


def put_in_status(db: Any, referral: Referral, status: str) -> Location:
    """One location in ``status``, assessed as CSAM and with an unanswered notice, so that only
    the transition itself decides what is allowed."""
    location = referral.locations[0]
    location.status = status
    location.assessment = "csam"
    location.notices.append(
        Notice(
            hotline_id=HOTLINE_A,
            notice_type="csam",
            provider="Example Host",
            sent_on=today() - dt.timedelta(days=2),
        )
    )
    referrals.refresh_referral_status(referral)
    db.commit()
    return location


def run(
    action: str, db: Any, services: Any, staff: Staff, referral: Referral, location: Location
) -> None:
    yesterday = today() - dt.timedelta(days=1)
    if action == "acknowledge":
        referrals.acknowledge(db, staff, referral)
    elif action.startswith("assess_"):
        assessment = {
            "assess_actionable": "csam",
            "assess_not_actionable": "not_actionable",
            "assess_not_found": "not_found",
        }[action]
        referrals.assess(db, staff, referral, location.id, assessment)
    elif action in ("notice", "escalate"):
        send_notice(
            db,
            services,
            staff,
            referral,
            location,
            provider="Example Host",
            sent_on=yesterday,
            escalation=action == "escalate",
        )
    elif action.startswith("response_"):
        referrals.record_response(
            db, staff, referral, location.notices[0].id, action.removeprefix("response_"), yesterday
        )
    elif action == "reroute":
        referrals.reroute(db, services, staff, referral, HOTLINE_B, "hosted_elsewhere")
    elif action == "close":
        referrals.close(db, staff, referral, "duplicate")
    else:  # pragma: no cover - a new action needs a line here
        raise AssertionError(action)


def snapshot(db: Any, location: Location) -> tuple[Any, ...]:
    db.expire_all()
    row = db.get(Location, location.id)
    return (
        row.status,
        row.assessment,
        row.referral.hotline_id,
        row.referral.status,
        len(row.notices),
        db.scalar(select(func.count(ReferralEvent.id))),
        db.scalar(select(func.count(AuditEvent.id))),
    )


@pytest.mark.parametrize("status", list(LocationStatus))
# Reopening acts on a closed referral as a whole: tests/hotline/test_workbench.py covers it.
@pytest.mark.parametrize("action", [a for a in LocationAction if a != LocationAction.REOPEN])
def test_each_action_moves_a_location_only_as_the_table_allows(db, services, staff, status, action):
    referral = file_case(db, services, "https://example.ie/one")
    location = put_in_status(db, referral, status)
    target = TRANSITIONS.get((status, action))
    before = snapshot(db, location)
    # The portal offers exactly what would be accepted.
    is_offered = offered(referrals.allowed_actions(referral, HOTLINE_A), location.id, action)
    if target is None and action != "close":
        assert not is_offered
        with pytest.raises(ActionRefused):
            run(action, db, services, staff, referral, location)
        db.rollback()
        assert snapshot(db, location) == before  # a refused action changes nothing
        return
    assert is_offered
    run(action, db, services, staff, referral, location)
    db.expire_all()
    after = db.get(Location, location.id)
    # Closing a referral leaves places that already have an outcome as they are.
    assert after.status == (target or status)
    audit = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert audit.actor == f"account:{staff.account_id}"
    assert audit.case_id == referral.case_id


def test_the_table_covers_every_status_and_only_known_ones():
    assert {status for status, _ in TRANSITIONS} <= set(LocationStatus)
    assert set(TRANSITIONS.values()) <= set(LocationStatus)
    # Outcomes are final except that a refusal can be escalated or noticed again, and a place
    # closed with its referral can be reopened with it.
    for (status, action), _target in TRANSITIONS.items():
        assert status not in ("removed", "unavailable", "closed") or action == "reopen"


def test_a_notice_needs_an_actionable_assessment_first(db, services, staff):
    referral = file_case(db, services, "https://example.ie/a")
    referrals.acknowledge(db, staff, referral)
    location = referral.locations[0]
    with pytest.raises(ActionRefused) as refused:
        send_notice(db, services, staff, referral, location)
    assert refused.value.code == "assess_first"


def test_a_harmful_abusive_assessment_needs_its_subtype(db, services, staff):
    referral = file_case(db, services, "https://example.ie/a")
    referrals.acknowledge(db, staff, referral)
    location = referral.locations[0]
    with pytest.raises(ActionRefused):
        referrals.assess(db, staff, referral, location.id, "harmful_abusive")
    with pytest.raises(ActionRefused):
        referrals.assess(db, staff, referral, location.id, "csam", "b")
    referrals.assess(db, staff, referral, location.id, "harmful_abusive", "b", "nl")
    assert (location.assessment, location.assessment_subtype, location.hosting_country) == (
        "harmful_abusive",
        "b",
        "NL",
    )


def test_dates_cannot_be_in_the_future_or_before_the_notice(db, services, staff):
    referral = file_case(db, services, "https://example.ie/a")
    referrals.acknowledge(db, staff, referral)
    location = referral.locations[0]
    referrals.assess(db, staff, referral, location.id, "csam")
    with pytest.raises(ActionRefused):
        send_notice(db, services, staff, referral, location, sent_on=today() + dt.timedelta(days=1))
    notice = send_notice(db, services, staff, referral, location)
    with pytest.raises(ActionRefused):
        referrals.record_response(
            db, staff, referral, notice.id, "removed", today() - dt.timedelta(days=1)
        )


def test_a_rerouted_referral_passes_only_unfinished_places_and_keeps_this_hotlines_records(
    db, services, staff
):
    referral = file_case(db, services, "https://example.ie/a", "https://example.ie/b")
    referrals.acknowledge(db, staff, referral)
    first, second = referral.locations
    referrals.assess(db, staff, referral, first.id, "not_found")
    referrals.add_internal_note(db, services, staff, referral, "our own note")
    moved = referrals.reroute(db, services, staff, referral, HOTLINE_B, "hosted_elsewhere")
    assert (referral.hotline_id, moved.hotline_id) == (HOTLINE_A, HOTLINE_B)
    assert [loc.id for loc in referral.locations] == [first.id]
    assert [loc.id for loc in moved.locations] == [second.id]
    assert (first.status, second.status) == ("unavailable", "referred")
    assert moved.status == "referred" and moved.notes == []
    assert referral.status == "with_hotline"  # the finished place stays here, with the note
    assert referrals.referral_for_staff(db, staff, moved.id) is None
    assert second.route_reasons[-1] == {
        "code": "staff_rerouted",
        "params": {"hotline": HOTLINE_B, "from": HOTLINE_A, "reason": "hosted_elsewhere"},
    }
    view = describe_case(services, referral.case)
    here, there = view.referrals
    assert [e.code for e in here.events] == ["routed", "with_hotline", "unavailable", "referred"]
    assert [e.code for e in there.events] == ["passed_here"]


def test_a_referral_with_nothing_left_closes_when_its_places_are_passed_on(db, services, staff):
    referral = file_case(db, services, "https://example.ie/a")
    referrals.reroute(db, services, staff, referral, HOTLINE_B, "language")
    assert (referral.status, referral.closed_reason) == ("closed", "moved")


def test_what_the_survivor_sees_has_no_staff_detail(db, services, staff):
    referral = file_case(db, services, "https://example.ie/a")
    location = referral.locations[0]
    referrals.acknowledge(db, staff, referral)
    referrals.assess(db, staff, referral, location.id, "csam")
    notice = send_notice(
        db, services, staff, referral, location, provider="Secret Host Ltd", reference="TICKET-99"
    )
    send_notice(db, services, staff, referral, location, provider="Secret Host Ltd")
    referrals.add_internal_note(db, services, staff, referral, "internal only 4471")
    referrals.record_response(db, staff, referral, notice.id, "removed", today())
    view = describe_case(services, referral.case)
    events = view.referrals[0].events
    assert [e.code for e in events] == ["routed", "with_hotline", "notice_sent", "removed"]
    assert all(e.occurred_on == today() for e in events)
    shown = repr(view)
    for hidden in ("Secret Host", "TICKET-99", "internal only", "account:", "csam"):
        assert hidden not in shown, hidden


def test_a_closed_referral_takes_no_more_actions(db, services, staff):
    referral = file_case(db, services, "https://example.ie/a")
    referrals.close(db, staff, referral, "outside_remit")
    assert referral.status == "closed"
    assert referral.locations[0].status == "closed"
    for attempt in (
        lambda: referrals.acknowledge(db, staff, referral),
        lambda: referrals.close(db, staff, referral, "other"),
    ):
        with pytest.raises(ActionRefused):
            attempt()
    # The hotline can still explain the closure to the survivor.
    referrals.message_survivor(db, services, staff, referral, "We closed this because ...")


def test_the_portal_offers_only_actions_that_would_be_accepted(db, services, staff):
    referral = file_case(db, services, "https://example.ie/a")
    location = referral.locations[0]
    assert referrals.allowed_actions(referral, HOTLINE_A).acknowledge
    referrals.acknowledge(db, staff, referral)
    assert not referrals.allowed_actions(referral, HOTLINE_A).acknowledge
    place = referrals.allowed_actions(referral, HOTLINE_A).places[location.id]
    assert place.notice is None and not place.escalate  # assess first
    referrals.assess(db, staff, referral, location.id, "csam")
    place = referrals.allowed_actions(referral, HOTLINE_A).places[location.id]
    assert place.notice == "csam" and not place.renotice
    notice = send_notice(db, services, staff, referral, location)
    place = referrals.allowed_actions(referral, HOTLINE_A).places[location.id]
    assert place.escalate and place.renotice and place.answerable == {notice.id}
    assert place.notice == "csam"
    # Another hotline's notice opens nothing for this one.
    elsewhere = referrals.allowed_actions(referral, HOTLINE_B).places[location.id]
    assert not elsewhere.escalate and not elsewhere.answerable
    referrals.record_response(db, staff, referral, notice.id, "removed", today())
    after = referrals.allowed_actions(referral, HOTLINE_A)
    nothing_but_history = referrals.PlaceActions(False, None, True, False, frozenset())
    assert after.places[location.id] == nothing_but_history
    assert not after.reroute  # nothing without an outcome is left to move
    assert after.close
