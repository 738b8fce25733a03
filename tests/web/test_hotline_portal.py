"""The hotline portal through the web, and what the survivor sees after each staff action."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from sqlalchemy import select

from assistant.extensions import Database
from assistant.hotline.referrals import refresh_referral_status
from assistant.models import AuditEvent
from assistant.models import Location
from assistant.models import Notice
from assistant.models import Referral
from assistant.models import today
from tests.conftest import HOTLINE_A
from tests.conftest import HOTLINE_B
from tests.conftest import Staffer
from tests.conftest import Survivor
from tests.conftest import csrf_token
from tests.conftest import row_counts

TODAY = dt.date.today().isoformat()


def referral_ids(app: Any, hotline_id: str) -> list[int]:
    with Database.new_session(app) as db:
        return list(
            db.scalars(
                select(Referral.id).where(Referral.hotline_id == hotline_id).order_by(Referral.id)
            )
        )


def location_ids(app: Any, referral_id: int) -> list[int]:
    with Database.new_session(app) as db:
        return list(
            db.scalars(
                select(Location.id)
                .where(Location.referral_id == referral_id)
                .order_by(Location.position)
            )
        )


def version(app: Any, referral_id: int) -> int:
    with Database.new_session(app) as db:
        return db.get(Referral, referral_id).version


def acknowledge(staffer: Staffer, app: Any, referral_id: int) -> Any:
    return staffer.post(
        f"/hotline/referrals/{referral_id}/acknowledge",
        {"referral-version": version(app, referral_id)},
    )


def on_places(
    staffer: Staffer, app: Any, referral_id: int, do: str, ids: list[int], **fields: Any
) -> Any:
    """Tick ``ids`` on the referral's page and press the ``do`` button of the places form."""
    return staffer.post(
        f"/hotline/referrals/{referral_id}/places",
        {
            "places-version": version(app, referral_id),
            "places-places": ids,
            "places-do": do,
            **{f"places-{name}": value for name, value in fields.items()},
        },
    )


def survivor_page(survivor: Survivor) -> str:
    return survivor.client.get("/my-request").get_data(as_text=True)


def file_for_a(app: Any, *links: str, **answers: Any) -> tuple[Survivor, int]:
    survivor = Survivor(app.test_client())
    number, passphrase = survivor.file(*links, country="IE", **answers)
    assert survivor.sign_in(number, passphrase).status_code == 303
    referral_id = referral_ids(app, HOTLINE_A)[-1]
    with Database.new_session(app) as db:  # reported a month ago: earlier notices can be dated
        for place in db.scalars(select(Location).where(Location.referral_id == referral_id)):
            place.added_on = today() - dt.timedelta(days=30)
        db.commit()
    return survivor, referral_id


def test_each_staff_action_shows_on_the_survivors_page_in_plain_words(app, staff_a):
    survivor, referral_id = file_for_a(app, "https://example.ie/one", "https://example.ie/two")
    one, two = location_ids(app, referral_id)
    assert "Received" in survivor_page(survivor)

    assert acknowledge(staff_a, app, referral_id).status_code == 303
    page = survivor_page(survivor)
    assert "The hotline took on your request (2 places) and is checking them." in page

    assert (
        on_places(staff_a, app, referral_id, "assess", [one], assessment="csam").status_code == 303
    )
    on_places(staff_a, app, referral_id, "assess", [two], assessment="not_found")
    assert "It could no longer be found at this place." in survivor_page(survivor)

    sent = on_places(
        staff_a,
        app,
        referral_id,
        "notice",
        [one],
        notice_type="csam",
        provider="Example Hosting Ltd",
        sent_on=TODAY,
        reference="REF-123",
    )
    assert sent.status_code == 303
    page = survivor_page(survivor)
    assert "The hotline asked the site to remove it" in page
    on_places(staff_a, app, referral_id, "response", [one], response="removed", response_on=TODAY)
    page = survivor_page(survivor)
    assert "The site removed it." in page
    assert "Every place has an outcome" in page
    # Dates, never times or names; nothing of the staff's records.
    date_shown = re.findall(r'<span class="date">([^<]+)</span>', page)
    assert date_shown and all(":" not in shown for shown in date_shown)
    for hidden in ("Example Hosting", "REF-123", staff_a.email, "account:"):
        assert hidden not in page


def test_messages_go_both_ways_and_internal_notes_never_reach_the_survivor(app, staff_a):
    survivor, referral_id = file_for_a(app, "https://example.ie/one")
    base = f"/hotline/referrals/{referral_id}"
    staff_a.post(f"{base}/message", {"message-body": "Could you tell us more about the page?"})
    staff_a.post(f"{base}/note", {"note-body": "Looks like a known mirror 7713"})
    page = survivor_page(survivor)
    assert "Could you tell us more about the page?" in page
    assert "known mirror 7713" not in page
    assert staff_a.email not in page
    token = csrf_token(survivor.client, "/my-request")
    survivor.client.post(
        "/my-request/message", data={"csrf_token": token, "body": "It is the second gallery."}
    )
    referral_page = staff_a.client.get(base).get_data(as_text=True)
    assert "It is the second gallery." in referral_page
    assert "Looks like a known mirror 7713" in referral_page


def test_a_moved_referral_reaches_the_other_hotlines_queue_and_the_survivor_sees_it(
    app, staff_a, staff_b
):
    survivor, referral_id = file_for_a(app, "https://example.ie/one")
    staff_a.post(f"/hotline/referrals/{referral_id}/note", {"note-body": "our own note 5512"})
    choice = {
        "reroute-hotline": HOTLINE_B,
        "reroute-reason": "hosted_elsewhere",
        "reroute-version": version(app, referral_id),
    }
    asked = staff_a.post(f"/hotline/referrals/{referral_id}/move", choice)
    # The first post only says what will happen; nothing has moved yet.
    assert asked.status_code == 200
    assert "1 place without an outcome will move to Meldpunt" in asked.get_data(as_text=True)
    assert referral_ids(app, HOTLINE_B) == []
    moved = staff_a.post(
        f"/hotline/referrals/{referral_id}/move", {**choice, "reroute-confirmed": "yes"}
    )
    assert moved.status_code == 303
    kept = staff_a.client.get(f"/hotline/referrals/{referral_id}").get_data(as_text=True)
    assert "Every place was passed to another hotline" in kept  # closed here, records kept
    assert "https://example.ie/one" not in kept
    (new_id,) = referral_ids(app, HOTLINE_B)
    queue = staff_b.client.get("/hotline/").get_data(as_text=True)
    assert f"RRA-{new_id}" in queue and "Moved here" in queue
    theirs = staff_b.client.get(f"/hotline/referrals/{new_id}").get_data(as_text=True)
    assert "https://example.ie/one" in theirs
    assert "our own note 5512" not in theirs  # hotline A's notes stay with hotline A
    page = survivor_page(survivor)
    assert "Passed to Meldpunt Kinderporno (Offlimits), which can act where it is." in page
    assert "The site is hosted in a country that hotline covers." in page
    assert "Passed on" in page  # the place's status
    assert acknowledge(staff_b, app, new_id).status_code == 303
    assert "With the hotline" in survivor_page(survivor)


def test_a_refused_action_says_why_and_changes_nothing(app, staff_a):
    _survivor, referral_id = file_for_a(app, "https://example.ie/one")
    (one,) = location_ids(app, referral_id)
    response = on_places(
        staff_a,
        app,
        referral_id,
        "notice",
        [one],
        notice_type="csam",
        provider="Host",
        sent_on=TODAY,
    )
    assert response.status_code == 409
    assert "Assess the place as type 1 or type 2 before recording a notice." in response.get_data(
        as_text=True
    )
    with Database.new_session(app) as db:
        assert db.get(Location, one).status == "received"
        assert db.scalars(select(Notice)).all() == []


def test_a_refused_assessment_keeps_what_was_chosen_and_points_to_it(app, staff_a):
    _survivor, referral_id = file_for_a(app, "https://example.ie/one")
    (one,) = location_ids(app, referral_id)
    acknowledge(staff_a, app, referral_id)
    response = on_places(staff_a, app, referral_id, "assess", [one], assessment="harmful_abusive")
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Choose the sub-type (a, b or c) of a harmful/abusive image." in page
    # Pressing the button again must not record anything else instead: the choice and the ticked
    # place are still there.
    assert re.search(r'<input checked id="places-assessment-1"[^>]*value="harmful_abusive"', page)
    assert re.search(
        rf'<input type="checkbox" name="places-places" value="{one}"[^>]*checked', page
    )
    assert 'href="#act-on-places"' in page
    with Database.new_session(app) as db:
        assert db.get(Location, one).assessment is None


def test_the_queue_puts_unacknowledged_first_shows_flags_and_filters(app, staff_a):
    file_for_a(
        app, "https://example.ie/old", categories=("abuse_material", "identifying_information")
    )
    file_for_a(app, "https://example.ie/new", minor="no", categories=("sexualised_context",))
    first, second = referral_ids(app, HOTLINE_A)
    acknowledge(staff_a, app, second)
    queue = staff_a.client.get("/hotline/").get_data(as_text=True)
    assert queue.index(f"RRA-{first}") < queue.index(f"RRA-{second}")
    assert "Under 18 in the material" in queue
    assert "Identifying information posted" in queue
    assert "Type 1: child sexual abuse material" in queue
    assert "Type 2: harmful/abusive image" in queue
    acknowledged = staff_a.client.get("/hotline/?status=with_hotline").get_data(as_text=True)
    assert f"RRA-{second}" in acknowledged and f"RRA-{first}" not in acknowledged
    # The queue shows no place: nothing there is decrypted.
    assert "example.ie" not in queue


def test_the_same_place_in_another_open_case_is_flagged_for_staff_only(app, staff_a):
    file_for_a(app, "https://example.ie/shared")
    survivor, referral_id = file_for_a(app, "https://example.ie/shared")
    page = staff_a.client.get(f"/hotline/referrals/{referral_id}").get_data(as_text=True)
    assert "Also in 1 other open case" in page
    assert "Already reported in another case" in staff_a.client.get("/hotline/").get_data(
        as_text=True
    )
    assert "other open case" not in survivor_page(survivor)


def test_every_view_and_export_of_a_referral_is_audited(app, staff_a):
    _survivor, referral_id = file_for_a(app, "https://example.ie/one")
    staff_a.client.get(f"/hotline/referrals/{referral_id}")
    staff_a.client.get(f"/hotline/referrals/{referral_id}")
    exported = staff_a.client.get(f"/hotline/referrals/{referral_id}/export.json")
    assert exported.status_code == 200
    with Database.new_session(app) as db:
        events = db.scalars(
            select(AuditEvent).where(
                AuditEvent.object_type == "referral", AuditEvent.object_id == referral_id
            )
        ).all()
        actions = [e.action for e in events]
        assert actions.count("referral.viewed") == 2
        assert actions.count("referral.exported") == 1
        assert {e.actor for e in events} == {f"account:{staff_a.id}"}
        assert all(e.occurred_at is not None for e in events)


def test_the_export_carries_what_hotlines_exchange(app, staff_a):
    _survivor, referral_id = file_for_a(app, "https://example.ie/one", categories=("abuse_series",))
    (one,) = location_ids(app, referral_id)
    acknowledge(staff_a, app, referral_id)
    on_places(
        staff_a,
        app,
        referral_id,
        "assess",
        [one],
        assessment="harmful_abusive",
        subtype="a",
        hosting_country="IE",
    )
    response = staff_a.client.get(f"/hotline/referrals/{referral_id}/export.json")
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    exported = json.loads(response.get_data(as_text=True))
    assert exported["reporting_reference"] == f"RRA-{referral_id}"
    assert exported["received_date"] == today().isoformat()
    assert exported["categories"] == ["abuse_series"]
    assert exported["notice_type"] == "harmful_abusive"
    (place,) = exported["locations"]
    assert place["location"] == "https://example.ie/one"
    assert (place["hosting_country"], place["assessment"], place["assessment_subtype"]) == (
        "IE",
        "harmful_abusive",
        "a",
    )
    assert place["routing_reasons"][0]["code"]


def test_due_today_lists_renotices_and_waiting_referrals(app, staff_a):
    _survivor, referral_id = file_for_a(app, "https://example.ie/one", "https://example.ie/two")
    _other, waiting_id = file_for_a(app, "https://example.ie/three")
    one, _two = location_ids(app, referral_id)
    acknowledge(staff_a, app, referral_id)
    on_places(staff_a, app, referral_id, "assess", [one], assessment="csam")
    two_days_ago = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    on_places(
        staff_a,
        app,
        referral_id,
        "notice",
        [one],
        notice_type="csam",
        provider="Host",
        sent_on=two_days_ago,
    )
    page = staff_a.client.get("/hotline/due").get_data(as_text=True)
    assert f"RRA-{referral_id}" in page
    assert "Overdue</strong>: send the notice again, 1 day late" in page
    assert f"RRA-{waiting_id}" not in page  # received today: two days to acknowledge
    queue = staff_a.client.get("/hotline/").get_data(as_text=True)
    assert "acknowledge: 2 days left" in queue
    with Database.new_session(app) as db:
        for location in db.scalars(select(Location).where(Location.referral_id == waiting_id)):
            location.status_changed_on = today() - dt.timedelta(days=3)
        referral = db.get(Referral, waiting_id)
        refresh_referral_status(referral)
        db.commit()
    page = staff_a.client.get("/hotline/due").get_data(as_text=True)
    assert f"RRA-{waiting_id}" in page and "Overdue</strong>: acknowledge, 1 day late" in page


def test_provider_responsiveness_is_computed_and_drawn_as_svg(app, staff_a):
    _survivor, referral_id = file_for_a(
        app, "https://example.ie/a", "https://example.ie/b", "https://example.ie/c"
    )
    acknowledge(staff_a, app, referral_id)
    sent_on = today() - dt.timedelta(days=10)
    places = location_ids(app, referral_id)
    # Three places at once: one assessment, one notice to their common provider.
    assert (
        on_places(staff_a, app, referral_id, "assess", places, assessment="csam").status_code == 303
    )
    on_places(
        staff_a,
        app,
        referral_id,
        "notice",
        places,
        notice_type="csam",
        provider="Imgur",
        sent_on=sent_on.isoformat(),
    )
    for location_id, days in zip(places[:2], (2, 6), strict=True):
        on_places(
            staff_a,
            app,
            referral_id,
            "response",
            [location_id],
            response="removed",
            response_on=(sent_on + dt.timedelta(days=days)).isoformat(),
        )
    page = staff_a.client.get("/hotline/providers").get_data(as_text=True)
    assert "<svg" in page and "Imgur" in page
    row = re.search(
        r"<th scope=\"row\">Imgur</th>\s*<td>(\d+)</td>\s*<td>(\d+)</td>\s*"
        r"<td>([^<]+)</td>\s*<td>([^<]+)</td>",
        page,
    )
    assert row, page
    assert row.groups() == ("3", "2", "4", "33%")


def test_staff_see_only_their_own_hotlines_provider_figures(app, staff_a, staff_b):
    test_provider_responsiveness_is_computed_and_drawn_as_svg(app, staff_a)
    assert "Imgur" not in staff_b.client.get("/hotline/providers").get_data(as_text=True)


def test_a_signed_in_staff_member_is_sent_to_the_queue_and_an_admin_to_admin(app, admin):
    staffer = Staffer(app, "x@hotline-a.example", "staff", HOTLINE_A)
    assert staffer.sign_in().headers["Location"].endswith("/hotline/")
    assert admin.client.get("/account/sign-in").headers["Location"].endswith("/admin/")


def test_erasing_a_case_takes_the_hotlines_records_of_it_too(app, staff_a):
    survivor, referral_id = file_for_a(app, "https://example.ie/one")
    (one,) = location_ids(app, referral_id)
    base = f"/hotline/referrals/{referral_id}"
    acknowledge(staff_a, app, referral_id)
    on_places(staff_a, app, referral_id, "assess", [one], assessment="csam")
    on_places(
        staff_a,
        app,
        referral_id,
        "notice",
        [one],
        notice_type="csam",
        provider="Host",
        sent_on=TODAY,
    )
    staff_a.post(f"{base}/note", {"note-body": "internal"})
    staff_a.post(f"{base}/message", {"message-body": "hello"})
    token = csrf_token(survivor.client, "/my-request/erase")
    erased = survivor.client.post("/my-request/erase", data={"csrf_token": token, "confirm": "y"})
    assert erased.status_code == 200

    counts = row_counts(app)
    for table in (
        "cases",
        "locations",
        "referrals",
        "referral_events",
        "messages",
        "notices",
        "internal_notes",
        "outbox",
    ):
        assert counts[table] == 0, table
    # Nothing about the case is left in the audit log either; the accounts remain.
    with Database.new_session(app) as db:
        assert db.scalars(select(AuditEvent).where(AuditEvent.case_id.is_not(None))).all() == []
    assert counts["accounts"] == 1
    assert staff_a.client.get(base).status_code == 404
