"""The workbench through the web: bad query strings, ids no row can have, the confirmation
steps, the page that says what changed, bulk forms and reopening."""

from __future__ import annotations

import re
from typing import Any

import pytest

from assistant.extensions import Database
from assistant.models import Referral
from tests.conftest import HOTLINE_A
from tests.web.test_hotline_portal import acknowledge
from tests.web.test_hotline_portal import file_for_a
from tests.web.test_hotline_portal import location_ids
from tests.web.test_hotline_portal import on_places
from tests.web.test_hotline_portal import referral_ids
from tests.web.test_hotline_portal import survivor_page
from tests.web.test_hotline_portal import version


@pytest.mark.parametrize(
    ("query", "note"),
    [
        ("status=nope", "That status filter is not one we know"),
        ("flag=minor&flag=sparkles", "A flag filter was not one we know"),
        ("category=%00", "That category is not one we know"),
        ("notice_type=type9", "That notice type is not one we know"),
        ("assigned=999999", "That person is not in your team"),
        ("age=-1", "That age filter is not one we know"),
        ("sort=random()", "That order is not one we know"),
        ("after=not-a-cursor", "That page could not be found"),
        ("after=1.2026-13-45.3", "That page could not be found"),
        ("before=99999999999999999999.1.1", "That page could not be found"),
        ("after=0.2026-01-01.1&after=x", "That page could not be found"),
        ("page=9", "That page could not be found"),
        ("status=open&status=closed", "That status filter is not one we know"),
    ],
)
def test_a_query_the_queue_cannot_use_gets_the_first_page_with_a_kind_note(
    app, staff_a, query, note
):
    file_for_a(app, "https://example.ie/one")
    for path in ("/hotline/", "/hotline/due"):
        response = staff_a.client.get(f"{path}?{query}")
        assert response.status_code == 200, path
        assert note in response.get_data(as_text=True), path


def test_an_id_no_row_can_have_is_a_404_on_every_route(app, staff_a):
    routes = [rule for rule in app.url_map.iter_rules() if "<int:" in rule.rule]
    assert len(routes) >= 9
    for rule in routes:
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<int:{name}>", str(2**31))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = staff_a.client.open(path, method=method)
            assert response.status_code == 404, (method, path)


def test_move_and_close_happen_only_after_the_confirmation(app, staff_a):
    survivor, referral_id = file_for_a(app, "https://example.ie/one")
    page = staff_a.client.get(f"/hotline/referrals/{referral_id}").get_data(as_text=True)
    # Nothing is chosen in advance: no destination, no reason, no assessment.
    assert 'value="" selected' in page or '<option selected value="">' in page
    assert "checked" not in page.split('id="act-on-places"')[1].split("</form>")[0]
    choice = {"close-reason": "duplicate", "close-version": version(app, referral_id)}
    asked = staff_a.post(f"/hotline/referrals/{referral_id}/close", choice)
    assert asked.status_code == 200
    assert "1 place without an outcome will be closed too." in asked.get_data(as_text=True)
    with Database.new_session(app) as db:
        assert db.get(Referral, referral_id).status == "received"
    without_reason = staff_a.post(
        f"/hotline/referrals/{referral_id}/close",
        {"close-version": version(app, referral_id)},
    )
    assert without_reason.status_code == 409
    assert "Choose a reason." in without_reason.get_data(as_text=True)
    done = staff_a.post(
        f"/hotline/referrals/{referral_id}/close", {**choice, "close-confirmed": "yes"}
    )
    assert done.status_code == 303
    closed = staff_a.client.get(f"/hotline/referrals/{referral_id}").get_data(as_text=True)
    assert "Reopen" in closed
    reopened = staff_a.post(
        f"/hotline/referrals/{referral_id}/reopen", {"referral-version": version(app, referral_id)}
    )
    assert reopened.status_code == 303
    assert "reopened your request" in survivor_page(survivor)


def test_an_action_on_a_changed_referral_says_what_changed_and_does_nothing(app, staff_a):
    _survivor, referral_id = file_for_a(app, "https://example.ie/one")
    seen = version(app, referral_id)
    assert acknowledge(staff_a, app, referral_id).status_code == 303  # a colleague, meanwhile
    response = staff_a.post(
        f"/hotline/referrals/{referral_id}/close",
        {"close-reason": "duplicate", "close-version": seen, "close-confirmed": "yes"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "This referral changed while you were looking" in page
    assert "Acknowledged (1 place)." in page.split("What changed")[1]
    with Database.new_session(app) as db:
        assert db.get(Referral, referral_id).status == "with_hotline"


def test_bulk_acknowledge_from_the_queue_names_each_refusal_and_does_nothing(app, staff_a):
    file_for_a(app, "https://example.ie/one")
    file_for_a(app, "https://example.ie/two")
    first, second = referral_ids(app, HOTLINE_A)
    acknowledge(staff_a, app, second)
    picked = [f"{first}:{version(app, first)}", f"{second}:{version(app, second)}"]
    refused = staff_a.post("/hotline/queue", {"queue-referrals": picked, "queue-do": "acknowledge"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert f"RRA-{second}: Everything in this referral is already acknowledged." in page
    with Database.new_session(app) as db:
        assert db.get(Referral, first).status == "received"
    done = staff_a.post(
        "/hotline/queue",
        {"queue-referrals": picked[:1], "queue-do": "acknowledge", "queue-back": "/hotline/?x=1"},
    )
    assert done.status_code == 303 and done.headers["Location"].endswith("/hotline/?x=1")
    mine = staff_a.post(
        "/hotline/queue",
        {"queue-referrals": [f"{first}:{version(app, first)}"], "queue-do": "assign_me"},
    )
    assert mine.status_code == 303
    assert f"RRA-{first}" in staff_a.client.get("/hotline/?assigned=me").get_data(as_text=True)
    # Back only to a page of the portal.
    away = staff_a.post(
        "/hotline/queue",
        {
            "queue-referrals": [f"{second}:{version(app, second)}"],
            "queue-do": "assign_me",
            "queue-back": "//elsewhere.example/",
        },
    )
    assert away.headers["Location"].endswith("/hotline/")


def test_a_place_refused_in_a_bulk_step_is_named_with_its_reason(app, staff_a):
    _survivor, referral_id = file_for_a(app, "https://example.ie/a", "https://example.ie/b")
    one, two = location_ids(app, referral_id)
    acknowledge(staff_a, app, referral_id)
    on_places(staff_a, app, referral_id, "assess", [two], assessment="not_found")
    response = on_places(staff_a, app, referral_id, "assess", [one, two], assessment="csam")
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Place 2: That step is not possible for this place now." in page
    with Database.new_session(app) as db:
        assert {r.assessment for r in db.get(Referral, referral_id).locations} == {
            None,
            "not_found",
        }


def referral_row(app: Any, referral_id: int) -> Referral:
    with Database.new_session(app) as db:
        return db.get(Referral, referral_id)


def test_a_pasted_link_is_searched_by_post_and_never_lands_in_an_address(app, staff_a):
    link = "https://example.ie/shared/771"
    file_for_a(app, link)
    _other, second = file_for_a(app, "https://example.ie/x", link)
    response = staff_a.post("/hotline/search", {"q": link.upper().replace("/SHARED/", "/shared/")})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"/hotline/referrals/{second}" in page
    assert page.count('class="row-link"') == 2
    # No link on the page carries the search, and a search in the address is not one.
    assert "shared" not in "".join(re.findall(r'href="([^"]+)"', page)).lower()
    ignored = staff_a.client.get("/hotline/?q=" + link).get_data(as_text=True)
    assert ignored.count('class="row-link"') == 2  # the whole queue: the q was not used
    assert 'value="https' not in ignored
