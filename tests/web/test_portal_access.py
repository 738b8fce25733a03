"""The access matrix (DESIGN section 3, rule 8): every hotline, advocate, administration and
account route, visited as anonymous, a signed-in survivor, staff of hotline A, staff of hotline B,
an advocate the survivor invited, an advocate without access and an administrator. Staff see only
their own hotline's referrals; an advocate sees only the cases they were given; administrators
read no referral."""

from __future__ import annotations

import re
from typing import Any

import pytest

from assistant.cli import main
from assistant.extensions import Database
from assistant.hotline.api_keys import create_key
from assistant.models import Account
from assistant.models import Location
from assistant.models import Notice
from assistant.models import OutboxItem
from assistant.models import Referral
from assistant.models import today
from assistant.models import utcnow
from assistant.people.advocates import AdvocateProfile
from assistant.people.advocates import register_advocate
from tests.conftest import HOTLINE_A
from tests.conftest import Staffer
from tests.conftest import Survivor
from tests.conftest import csrf_token
from tests.conftest import without_csrf_tokens

INVITATION = re.compile(r'id="invitation-code">([^<]+)<')


def invite(survivor: Survivor, advocate: Staffer) -> Any:
    """The survivor makes a code on their status page; the advocate redeems it."""
    token = csrf_token(survivor.client, "/my-request")
    page = survivor.client.post("/my-request/invitation", data={"csrf_token": token})
    found = INVITATION.search(page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)
    return advocate.post("/advocate/redeem", data={"code": found.group(1)})


SECRET_PLACE = "https://example.ie/matrix-secret-771"


@pytest.fixture
def world(
    app: Any,
    staff_a: Staffer,
    staff_b: Staffer,
    hotline_admin_a: Staffer,
    admin: Staffer,
    advocate_a: Staffer,
    advocate_b: Staffer,
) -> dict[str, Any]:
    """One referral for hotline A with a location, a notice and a dead delivery, followed by an
    invited advocate; a registration waiting for approval; seven visitors."""

    survivor = Survivor(app.test_client())
    number, passphrase = survivor.file(SECRET_PLACE, country="IE")
    assert survivor.sign_in(number, passphrase).status_code == 303
    assert invite(survivor, advocate_a).status_code == 303
    with Database.new_session(app) as db:
        referral = db.query(Referral).filter_by(hotline_id=HOTLINE_A).one()
        location = db.query(Location).filter_by(referral_id=referral.id).one()
        location.status = "notice_sent"
        location.assessment = "csam"
        notice = Notice(
            hotline_id=HOTLINE_A, notice_type="csam", provider="Example Host", sent_on=today()
        )
        location.notices.append(notice)
        item = OutboxItem(
            hotline_id=HOTLINE_A,
            channel="webhook",
            referral_id=referral.id,
            status="dead",
            idempotency_key="k" * 32,
            attempts=9,
            created_at=utcnow(),
            next_attempt_at=utcnow(),
        )
        db.add(item)
        db.commit()
        register_advocate(
            db,
            app.extensions["assistant.services"].cipher,
            "waiting@pending.example",
            AdvocateProfile("Wai Ting", "Pending Org", "Worker", "To help."),
        )
        pending = db.query(Account).filter_by(email="waiting@pending.example").one()
        services = app.extensions["assistant.services"]
        key = create_key(db, services.directory, HOTLINE_A, "CMS", ["read"], by=None).key
        ids = {
            "referral_id": referral.id,
            "location_id": location.id,
            "notice_id": notice.id,
            "item_id": item.id,
            "case_id": referral.case_id,
            "account_id": pending.id,
            "key_id": key.id,
        }
    anonymous = app.test_client()
    return {
        "ids": ids,
        "visitors": {
            "anonymous": (anonymous, "/account/sign-in"),
            "survivor": (survivor.client, "/my-request"),
            "staff_a": (staff_a.client, "/account/password"),
            "staff_b": (staff_b.client, "/account/password"),
            "lead_a": (hotline_admin_a.client, "/account/password"),
            "admin": (admin.client, "/account/password"),
            "advocate_a": (advocate_a.client, "/account/password"),
            "advocate_b": (advocate_b.client, "/account/password"),
        },
    }


def portal_routes(app: Any) -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) for every route of the portal, administration and account."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in ("hotline", "team", "admin", "account", "advocate"):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, rule.rule))
    return found


LET_IN = "let in"
SIGN_IN = "sent to sign in"


def expected(endpoint: str, visitor: str) -> str | int:
    """``LET_IN``, ``SIGN_IN``, or the status that keeps this visitor out of this route."""
    blueprint = endpoint.split(".")[0]
    if endpoint == "account.enrol":
        return 404  # public on purpose, but without a valid one-time code there is nothing
    if endpoint in ("account.sign_in", "account.sign_out"):
        return LET_IN  # public on purpose
    accounts = ("staff_a", "staff_b", "lead_a", "admin", "advocate_a", "advocate_b")
    if blueprint == "account":  # the password change: any account
        return LET_IN if visitor in accounts else SIGN_IN
    if endpoint == "advocate.register":
        return LET_IN  # public on purpose
    if blueprint == "advocate":
        if visitor == "advocate_a":
            return LET_IN
        if visitor == "advocate_b":
            return 404 if "case_id" in ROUTES_WITH_CASE.get(endpoint, "") else LET_IN
        return 403 if visitor in accounts else SIGN_IN
    if blueprint == "admin":
        if visitor == "admin":
            return LET_IN
        return 403 if visitor in accounts else SIGN_IN
    if blueprint == "team":  # hotline A's administrator, for hotline A's accounts only
        if visitor == "lead_a":
            return 404 if "account_id" in ROUTES_WITH_CASE.get(endpoint, "") else LET_IN
        return 403 if visitor in accounts else SIGN_IN
    if visitor.startswith("advocate"):
        return 403
    if visitor in ("staff_a", "lead_a"):
        return LET_IN
    if visitor == "staff_b":
        overview = endpoint in (
            "hotline.queue",
            "hotline.due",
            "hotline.providers",
            "hotline.help",
            "hotline.queue_action",
            "hotline.search",
        )
        return LET_IN if overview else 404
    if visitor == "admin":
        return 403
    return SIGN_IN


ROUTES_WITH_CASE: dict[str, str] = {}


def outcome(response: Any) -> str | int:
    if response.status_code == 303 and "/account/sign-in" in response.headers["Location"]:
        return SIGN_IN
    if response.status_code in (403, 404):
        return response.status_code
    # 200, a redirect after an action, 400 for an empty form, 409 for a refused action: the
    # view ran for this visitor.
    assert response.status_code in (200, 303, 400, 409), response.status_code
    return LET_IN


def test_every_portal_route_lets_in_exactly_who_it_should(app, world):
    routes = portal_routes(app)
    assert len(routes) >= 20
    ROUTES_WITH_CASE.update({endpoint: rule for endpoint, _method, rule in routes})
    seen: dict[str | int, int] = {}
    for endpoint, method, rule in routes:
        if endpoint == "account.sign_out":
            continue  # signing out would end the visitor's session for the next rows
        path = rule
        for name, value in world["ids"].items():
            path = path.replace(f"<int:{name}>", str(value))
        assert "<" not in path, path
        for visitor, (client, token_page) in world["visitors"].items():
            if method == "POST":
                token = csrf_token(client, token_page)
                response = client.post(path, data={"csrf_token": token})
            else:
                response = client.get(path)
            got = outcome(response)
            assert got == expected(endpoint, visitor), (visitor, method, path, got)
            seen[got] = seen.get(got, 0) + 1
            if visitor not in ("staff_a", "lead_a", "advocate_a"):
                assert SECRET_PLACE not in response.get_data(as_text=True), (visitor, path)
    # Every kind of answer was exercised.
    assert set(seen) == {LET_IN, SIGN_IN, 403, 404}


def test_staff_of_another_hotline_cannot_tell_a_referral_exists(app, world, staff_b):
    referral_id = world["ids"]["referral_id"]
    existing = staff_b.client.get(f"/hotline/referrals/{referral_id}")
    missing = staff_b.client.get("/hotline/referrals/999999")
    assert existing.status_code == missing.status_code == 404
    assert without_csrf_tokens(existing.get_data()) == without_csrf_tokens(missing.get_data())


def test_the_queue_lists_only_the_own_hotlines_referrals(app, world, staff_a, staff_b):
    reference = f"RRA-{world['ids']['referral_id']}"
    assert reference in staff_a.client.get("/hotline/").get_data(as_text=True)
    assert reference not in staff_b.client.get("/hotline/?status=all").get_data(as_text=True)


def test_a_disabled_account_is_out_at_its_next_request(app, world, staff_a):
    runner = app.test_cli_runner()
    assert staff_a.client.get("/hotline/").status_code == 200
    result = runner.invoke(main, ["disable-user", staff_a.email])
    assert result.exit_code == 0, result.output
    assert staff_a.client.get("/hotline/").status_code == 303
    assert staff_a.sign_in().status_code == 401


def test_the_referral_page_shows_the_place_in_full_as_text_never_as_a_link(world, staff_a):
    page = staff_a.client.get(f"/hotline/referrals/{world['ids']['referral_id']}")
    html = page.get_data(as_text=True)
    assert SECRET_PLACE in html
    assert f'href="{SECRET_PLACE}' not in html
    assert not re.search(r"<img[^>]+example\.ie", html)
    assert page.headers["Cache-Control"].startswith("no-store")


def test_no_filter_search_assignment_or_bulk_form_reaches_another_hotline(
    app, world, staff_a, staff_b
):
    referral_id = world["ids"]["referral_id"]
    with Database.new_session(app) as db:
        before = db.get(Referral, referral_id)
        version, status = before.version, before.status
    reference = f"RRA-{referral_id}"
    for text in (SECRET_PLACE, reference, str(referral_id)):
        html = staff_b.post("/hotline/search", {"q": text}).get_data(as_text=True)
        assert f"/hotline/referrals/{referral_id}" not in html, text
        assert "No referral of your hotline matches this search." in html
    # A colleague of hotline A is nobody in hotline B's filters: the filter is dropped.
    page = staff_b.client.get(f"/hotline/?assigned={staff_a.id}").get_data(as_text=True)
    assert "That person is not in your team" in page
    for do in ("acknowledge", "assign_me", "unassign"):
        response = staff_b.post(
            "/hotline/queue", {"queue-referrals": [f"{referral_id}:{version}"], "queue-do": do}
        )
        assert response.status_code == 409, do
        assert f"/hotline/referrals/{referral_id}" not in response.get_data(as_text=True)
    assert (
        staff_b.post(
            f"/hotline/referrals/{referral_id}/assign",
            {"assign-assignee": staff_b.id, "assign-version": version},
        ).status_code
        == 404
    )
    # Nor can hotline A hand its referral to someone of hotline B.
    assert (
        staff_a.post(
            f"/hotline/referrals/{referral_id}/assign",
            {"assign-assignee": staff_b.id, "assign-version": version},
        ).status_code
        == 409
    )
    with Database.new_session(app) as db:
        after = db.get(Referral, referral_id)
        assert (after.version, after.assigned_to, after.status) == (version, None, status)
