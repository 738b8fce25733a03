"""What a survivor is told about each hotline's referral: whether that hotline works it through the
service (``connected``), and where else they can report while it does not (issue 18)."""

from __future__ import annotations

import dataclasses

from sqlalchemy import update

from assistant.cases.intake import IntakeRequest
from assistant.cases.intake import file_request
from assistant.cases.status import describe_case
from assistant.cases.status import hotline_connected
from assistant.hotline.referrals import Automatic
from assistant.hotline.referrals import acknowledge
from assistant.hotline.referrals import message_survivor
from assistant.hotline.referrals import reroute
from assistant.models import Case
from assistant.models import Location
from assistant.models import Referral
from assistant.routing import normalise_location
from assistant.routing.directory import Intake
from assistant.vocabulary import LocationStatus
from assistant.vocabulary import ReferralStatus

HOTLINE_A = "hotline_ie"  # .ie links go there
HOTLINE_B = "offlimits_nl"


def file_case(db, services, *values: str) -> Case:
    request = IntakeRequest(locations=[normalise_location("url", value) for value in values])
    return file_request(db, services, request).case


def only_referral(db, services, case: Case):
    db.expire_all()  # read again, as the next request would
    (view,) = describe_case(services, db.get(Case, case.id)).referrals
    return view


def test_a_hotline_that_has_not_acted_is_not_connected_and_its_own_address_is_offered(db, services):
    case = file_case(db, services, "https://example.ie/a")
    view = only_referral(db, services, case)
    hotline = services.directory.get(HOTLINE_A)
    assert not hotline.connected  # as the shipped directory has it
    assert view.connected is False
    assert view.handoff_address == (hotline.report_url or hotline.website)


def test_taking_the_referral_on_connects_the_hotline_and_drops_the_address(db, services):
    case = file_case(db, services, "https://example.ie/a")
    acknowledge(db, Automatic(HOTLINE_A, "test"), case.referrals[0])
    view = only_referral(db, services, case)
    assert view.status == ReferralStatus.WITH_HOTLINE
    assert view.connected is True and view.handoff_address is None


def test_a_message_from_the_hotline_is_enough(db, services):
    case = file_case(db, services, "https://example.ie/a")
    message_survivor(db, services, Automatic(HOTLINE_A, "test"), case.referrals[0], "Hello")
    view = only_referral(db, services, case)
    assert view.status == ReferralStatus.RECEIVED
    assert view.connected is True and view.handoff_address is None


def test_a_place_that_moved_on_is_enough(db, services):
    case = file_case(db, services, "https://example.ie/a", "https://example.ie/b")
    db.execute(
        update(Location)
        .where(Location.id == case.locations[1].id)
        .values(status=LocationStatus.NOTICE_SENT)
    )
    db.commit()
    view = only_referral(db, services, case)
    assert view.status == ReferralStatus.RECEIVED
    assert view.connected is True and view.handoff_address is None


def test_a_closed_referral_is_enough(db, services):
    case = file_case(db, services, "https://example.ie/a")
    db.execute(
        update(Referral)
        .where(Referral.id == case.referrals[0].id)
        .values(status=ReferralStatus.CLOSED)
    )
    db.commit()
    assert only_referral(db, services, case).connected is True


def test_places_passed_on_by_another_hotline_say_nothing_about_the_one_that_got_them(db, services):
    case = file_case(db, services, "https://example.ie/a")
    staff = Automatic(HOTLINE_A, "test")
    acknowledge(db, staff, case.referrals[0])
    reroute(db, services, staff, case.referrals[0], HOTLINE_B, "hosted_elsewhere")
    db.expire_all()
    here, there = describe_case(services, db.get(Case, case.id)).referrals
    assert (here.hotline_id, there.hotline_id) == (HOTLINE_A, HOTLINE_B)
    assert here.connected is True and here.handoff_address is None
    assert there.status == ReferralStatus.REFERRED
    assert there.connected is False and there.handoff_address


def test_a_hotline_connected_in_the_directory_is_connected_before_it_acts(db, services):
    case = file_case(db, services, "https://example.ie/a")
    referral = case.referrals[0]
    hotline = services.directory.get(HOTLINE_A)
    through_portal = dataclasses.replace(hotline, intake=Intake.PORTAL)
    assert hotline_connected(through_portal, referral, referral.locations, False) is True
    assert hotline_connected(hotline, referral, referral.locations, False) is False


def test_the_api_answer_keeps_its_shape(client):
    filed = client.post(
        "/api/v1/requests",
        json={
            "locations": [{"kind": "url", "value": "https://example.ie/a"}],
            "categories": ["abuse_material"],
            "minor_in_material": "yes",
        },
    ).get_json()
    token = client.post(
        "/api/v1/session",
        json={"case_number": filed["case_number"], "passphrase": filed["passphrase"]},
    ).get_json()["token"]
    me = client.get("/api/v1/requests/me", headers={"Authorization": f"Bearer {token}"})
    (referral,) = me.get_json()["referrals"]
    assert set(referral) == {"id", "hotline", "status", "locations", "events"}
