"""The Team pages of a hotline's administrators, and the service administrator's form for a
hotline's first administrator: who may open them, what they show, and what each button does."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from assistant.extensions import Database
from assistant.models import Account
from assistant.models import ApiKey
from assistant.models import AuditEvent
from assistant.models import HotlineSettings
from assistant.models import utcnow
from assistant.web.access import HOTLINE_ADMIN
from assistant.web.access import access_level
from tests.conftest import HOTLINE_A
from tests.conftest import HOTLINE_B
from tests.conftest import STAFF_PASSWORD
from tests.conftest import Staffer
from tests.conftest import csrf_token
from tests.conftest import row_counts

LINK = re.compile(r'id="enrolment-link">([^<]+)<')


def team_paths(account_id: int) -> list[tuple[str, str]]:
    """Every Team route, as (method, path)."""
    return [
        ("GET", "/hotline/team/"),
        ("GET", "/hotline/team/invite"),
        ("POST", "/hotline/team/invite"),
        ("GET", f"/hotline/team/{account_id}/disable"),
        ("POST", f"/hotline/team/{account_id}/disable"),
        ("GET", f"/hotline/team/{account_id}/reset"),
        ("POST", f"/hotline/team/{account_id}/reset"),
        ("GET", "/hotline/team/settings"),
        ("POST", "/hotline/team/settings"),
        ("GET", "/hotline/team/keys"),
        ("POST", "/hotline/team/keys"),
        ("GET", "/hotline/team/keys/1/rotate"),
        ("POST", "/hotline/team/keys/1/rotate"),
        ("GET", "/hotline/team/keys/1/revoke"),
        ("POST", "/hotline/team/keys/1/revoke"),
    ]


def call(person: Staffer, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
    if method == "GET":
        return person.client.get(path)
    return person.post(path, data)


def account(app: Flask, email: str) -> Account | None:
    with Database.new_session(app) as db:
        return db.scalar(select(Account).where(Account.email == email))


def audited(app: Flask, action: str) -> list[tuple[str, int | None]]:
    with Database.new_session(app) as db:
        return [
            (event.actor, event.object_id)
            for event in db.scalars(select(AuditEvent).where(AuditEvent.action == action))
        ]


def enrolment_path(page: str) -> str:
    """The path of the set-up link the page shows."""
    found = LINK.search(page)
    assert found, "the page shows the set-up link"
    link = urlsplit(found.group(1))
    return f"{link.path}?{link.query}"


# --- who gets in ---


def test_every_team_route_is_for_hotline_administrators_only(app):
    levels = {
        rule.endpoint: access_level(app.view_functions[rule.endpoint])
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("team.")
    }
    # A form and its answer are one route: the list, inviting, disabling, resetting, settings,
    # and the API keys (the list and making one, rotating, revoking).
    assert len(levels) == 8
    assert set(levels.values()) == {HOTLINE_ADMIN}


def test_staff_and_the_service_administrator_are_refused_every_team_page(
    app, staff_a, admin, hotline_admin_a
):
    before = row_counts(app)
    for person in (staff_a, admin):
        for method, path in team_paths(hotline_admin_a.id):
            response = call(person, method, path, {"email": "x@hotline-a.example", "role": "staff"})
            assert response.status_code == 403, (person.email, method, path)
    assert row_counts(app) == before
    assert hotline_admin_a.client.get("/hotline/team/").status_code == 200


def test_someone_not_signed_in_is_sent_to_sign_in(client, hotline_admin_a):
    response = client.get("/hotline/team/")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/account/sign-in")


def test_the_team_link_is_in_the_menu_of_hotline_administrators_only(staff_a, hotline_admin_a):
    assert 'href="/hotline/team/"' in hotline_admin_a.client.get("/hotline/").get_data(as_text=True)
    assert "/hotline/team/" not in staff_a.client.get("/hotline/").get_data(as_text=True)


def test_a_hotline_administrator_also_works_the_queue(hotline_admin_a):
    assert hotline_admin_a.client.get("/hotline/").status_code == 200


# --- one hotline never reaches another's accounts ---


def test_another_hotlines_account_is_the_same_404_as_an_unknown_one(app, hotline_admin_a, staff_b):
    before = row_counts(app)
    for account_id in (staff_b.id, 987654):
        for method, path in team_paths(account_id)[3:7]:
            assert call(hotline_admin_a, method, path).status_code == 404, (method, path)
    for method, path in team_paths(2**31)[3:7]:  # an id no row can have
        assert call(hotline_admin_a, method, path).status_code == 404, (method, path)
    assert row_counts(app) == before
    assert staff_b.client.get("/hotline/").status_code == 200  # still signed in
    page = hotline_admin_a.client.get("/hotline/team/").get_data(as_text=True)
    assert staff_b.email not in page


# --- the team list ---


def test_the_team_page_lists_the_hotlines_accounts_and_marks_new_ones_in_words(
    app, hotline_admin_a, staff_a
):
    with Database.new_session(app) as db:
        veteran = db.get(Account, staff_a.id)
        assert veteran is not None
        veteran.created_at = utcnow().replace(year=utcnow().year - 1)
        db.commit()
    page = hotline_admin_a.client.get("/hotline/team/").get_data(as_text=True)
    rows = dict(re.findall(r'<tr id="account-(\d+)"[^>]*>(.*?)</tr>', page, re.S))
    assert set(rows) == {str(hotline_admin_a.id), str(staff_a.id)}
    assert "New" in rows[str(hotline_admin_a.id)]
    assert "New" not in rows[str(staff_a.id)]
    assert "1 account was created in the last 14 days" in page
    assert "Hotline administrator" in rows[str(hotline_admin_a.id)]
    assert "Hotline staff" in rows[str(staff_a.id)]
    assert "The service administrator (command line)" in rows[str(staff_a.id)]
    assert (f"account:{hotline_admin_a.id}", None) in audited(app, "team.listed")


# --- inviting ---


def test_inviting_chooses_no_role_in_advance_and_needs_one(app, hotline_admin_a):
    form = hotline_admin_a.client.get("/hotline/team/invite").get_data(as_text=True)
    assert 'name="role"' in form and "checked" not in form
    before = row_counts(app)
    refused = hotline_admin_a.post("/hotline/team/invite", {"email": "new@hotline-a.example"})
    assert refused.status_code == 400
    assert "Choose what they will do." in refused.get_data(as_text=True)
    assert row_counts(app) == before


def test_an_invitation_shows_the_link_once_and_the_new_colleague_appears_as_new(
    app, hotline_admin_a
):
    answer = hotline_admin_a.post(
        "/hotline/team/invite", {"email": "new@hotline-a.example", "role": "staff"}
    )
    assert answer.status_code == 200
    assert "no-store" in answer.headers["Cache-Control"]
    page = answer.get_data(as_text=True)
    path = enrolment_path(page)
    assert app.test_client().get(path).status_code == 200
    created = account(app, "new@hotline-a.example")
    assert created is not None and (created.role, created.hotline_id) == ("staff", HOTLINE_A)
    team = hotline_admin_a.client.get("/hotline/team/").get_data(as_text=True)
    row = re.search(rf'<tr id="account-{created.id}"[^>]*>(.*?)</tr>', team, re.S)
    assert row and "New" in row.group(1) and hotline_admin_a.email in row.group(1)
    assert "enrol?code=" not in team  # shown once, on the answer only
    again = hotline_admin_a.post(
        "/hotline/team/invite", {"email": "NEW@hotline-a.example", "role": "staff"}
    )
    assert again.status_code == 400
    assert "There is already an account with this e-mail address" in again.get_data(as_text=True)


# --- disabling and resetting ---


def test_disabling_asks_first_then_signs_the_person_out(app, hotline_admin_a, staff_a):
    confirm = hotline_admin_a.client.get(f"/hotline/team/{staff_a.id}/disable")
    assert confirm.status_code == 200
    page = confirm.get_data(as_text=True)
    assert staff_a.email in page and "signed out everywhere" in page
    assert account(app, staff_a.email).status == "active"  # asking changed nothing
    done = hotline_admin_a.post(f"/hotline/team/{staff_a.id}/disable")
    assert done.status_code == 303
    assert staff_a.client.get("/hotline/").status_code == 303
    assert account(app, staff_a.email).status == "disabled"
    assert (f"account:{hotline_admin_a.id}", staff_a.id) in audited(app, "account.disabled")
    # Nothing more is offered for a disabled account.
    assert hotline_admin_a.client.get(f"/hotline/team/{staff_a.id}/disable").status_code == 303


def test_the_last_administrator_is_not_offered_to_disable_themselves(app, hotline_admin_a):
    page = hotline_admin_a.client.get("/hotline/team/").get_data(as_text=True)
    assert f"/hotline/team/{hotline_admin_a.id}/disable" not in page
    refused = hotline_admin_a.post(f"/hotline/team/{hotline_admin_a.id}/disable")
    assert refused.status_code == 303
    after = hotline_admin_a.client.get("/hotline/team/").get_data(as_text=True)
    assert "only active administrator" in after
    assert account(app, hotline_admin_a.email).status == "active"


def test_an_administrator_with_a_colleague_in_charge_may_leave_the_team(app, hotline_admin_a):
    deputy = Staffer(app, "deputy@hotline-a.example", "hotline_admin", HOTLINE_A)
    assert deputy.sign_in().status_code == 303
    left = hotline_admin_a.post(f"/hotline/team/{hotline_admin_a.id}/disable")
    assert left.status_code == 303 and left.headers["Location"].endswith("/account/sign-in")
    assert hotline_admin_a.client.get("/hotline/team/").status_code == 303
    assert account(app, hotline_admin_a.email).status == "disabled"
    # The one left in charge is not offered to leave.
    page = deputy.client.get("/hotline/team/").get_data(as_text=True)
    assert f"/hotline/team/{deputy.id}/disable" not in page


def test_resetting_an_authenticator_asks_first_then_shows_a_new_link_once(
    app, hotline_admin_a, staff_a
):
    confirm = hotline_admin_a.client.get(f"/hotline/team/{staff_a.id}/reset")
    assert confirm.status_code == 200
    assert "authenticator" in confirm.get_data(as_text=True)
    answer = hotline_admin_a.post(f"/hotline/team/{staff_a.id}/reset")
    assert answer.status_code == 200
    path = enrolment_path(answer.get_data(as_text=True))
    # The old password no longer opens the account; the link sets it up again.
    assert staff_a.client.get("/hotline/").status_code == 303
    assert staff_a.sign_in(app.test_client()).status_code == 401
    newcomer = app.test_client()
    token = csrf_token(newcomer, path)
    page = newcomer.get(path).get_data(as_text=True)
    secret = re.search(r'id="totp-key" class="secret">([A-Z2-7]+)<', page).group(1)
    done = newcomer.post(
        "/account/enrol",
        data={
            "csrf_token": token,
            "code": path.split("code=", 1)[1],
            "password": STAFF_PASSWORD,
            "confirm": STAFF_PASSWORD,
            "totp": pyotp.TOTP(secret).now(),
        },
    )
    assert done.status_code == 303
    assert account(app, staff_a.email).status == "active"
    assert (f"account:{hotline_admin_a.id}", staff_a.id) in audited(app, "account.totp_reset")


def test_an_administrator_cannot_reset_their_own_authenticator(app, hotline_admin_a):
    page = hotline_admin_a.client.get("/hotline/team/").get_data(as_text=True)
    assert f"/hotline/team/{hotline_admin_a.id}/reset" not in page
    before = row_counts(app)
    assert hotline_admin_a.post(f"/hotline/team/{hotline_admin_a.id}/reset").status_code == 303
    assert row_counts(app) == before
    assert hotline_admin_a.client.get("/hotline/team/").status_code == 200  # still signed in


# --- the service administrator: a hotline's first administrator ---


def test_the_service_administrator_creates_a_hotlines_first_administrator_once(app, admin):
    page = admin.client.get("/admin/").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="hotline".*?</select>', page, re.S).group(0)
    # No hotline is chosen for you: the first choice is an empty one.
    assert "selected" not in select_html
    assert re.search(r'<select[^>]*><option value="">', select_html)
    no_hotline = admin.post("/admin/hotline-administrators", {"email": "one@hotline-a.example"})
    assert no_hotline.status_code == 400
    created = admin.post(
        "/admin/hotline-administrators", {"hotline": HOTLINE_A, "email": "one@hotline-a.example"}
    )
    assert created.status_code == 200
    path = enrolment_path(created.get_data(as_text=True))
    assert app.test_client().get(path).status_code == 200
    first = account(app, "one@hotline-a.example")
    assert first is not None
    assert (first.role, first.hotline_id, first.status) == ("hotline_admin", HOTLINE_A, "enrolling")
    assert (f"account:{admin.id}", first.id) in audited(app, "account.created")
    before = row_counts(app)
    second = admin.post(
        "/admin/hotline-administrators", {"hotline": HOTLINE_A, "email": "two@hotline-a.example"}
    )
    assert second.status_code == 400
    assert "already has an administrator" in second.get_data(as_text=True)
    assert row_counts(app) == before
    # Another hotline has none yet.
    other = admin.post(
        "/admin/hotline-administrators", {"hotline": HOTLINE_B, "email": "one@hotline-b.example"}
    )
    assert other.status_code == 200


def test_the_service_administrator_still_reads_no_referral(admin):
    for path in ("/hotline/", "/hotline/team/"):
        assert admin.client.get(path).status_code == 403


def test_administration_pages_wear_the_staff_layout(admin):
    for path in ("/admin/", "/admin/audit"):
        page = admin.client.get(path).get_data(as_text=True)
        assert '<body class="staff">' in page, path
        assert 'id="quick-exit"' in page


@pytest.mark.parametrize("email", ["", "not-an-address"])
def test_a_bad_address_for_a_first_administrator_changes_nothing(app, admin, email):
    before = row_counts(app)
    response = admin.post("/admin/hotline-administrators", {"hotline": HOTLINE_A, "email": email})
    assert response.status_code == 400
    assert row_counts(app) == before


def test_a_hotline_administrators_error_page_offers_the_portal_not_the_admin_pages(
    hotline_admin_a,
):
    page = hotline_admin_a.client.get("/hotline/referrals/999999")
    html = page.get_data(as_text=True)
    assert page.status_code == 404
    assert 'href="/hotline/"' in html
    assert 'href="/admin/"' not in html


def test_an_administrator_sets_the_chase_and_reply_address_audited(app, hotline_admin_a):
    page = hotline_admin_a.client.get("/hotline/team/settings")
    assert page.status_code == 200
    assert 'value="24"' in page.text and 'value="3"' in page.text  # the defaults
    saved = hotline_admin_a.post(
        "/hotline/team/settings",
        {
            "chase_hours": "48",
            "reminder_limit": "2",
            "contact_email": "analysts@hotline-a.example",
        },
    )
    assert saved.status_code == 303
    with Database.new_session(app) as db:
        row = db.get(HotlineSettings, "hotline_ie")
        assert (row.chase_hours, row.reminder_limit, row.contact_email) == (
            48,
            2,
            "analysts@hotline-a.example",
        )
        actions = db.scalars(select(AuditEvent.action)).all()
        assert "hotline.settings_changed" in actions


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"chase_hours": "0", "reminder_limit": "3"}, "The hours between reminders must be"),
        ({"chase_hours": "24", "reminder_limit": "99"}, "The number of reminders must be"),
        ({"chase_hours": "abc", "reminder_limit": "3"}, "The hours between reminders must be"),
        (
            {"chase_hours": "24", "reminder_limit": "3", "contact_email": "not an address"},
            "The reply address must be an e-mail address",
        ),
    ],
)
def test_settings_it_cannot_use_are_refused_in_words_and_change_nothing(
    app, hotline_admin_a, fields, words
):
    refused = hotline_admin_a.post("/hotline/team/settings", fields)
    assert refused.status_code == 400
    assert words in refused.text
    with Database.new_session(app) as db:
        assert db.get(HotlineSettings, "hotline_ie") is None


# --- API keys ---

KEY = re.compile(r'id="api-key">([^<]+)<')


def make_key_in_portal(admin: Staffer, name: str, *scopes: str) -> str:
    page = admin.post("/hotline/team/keys", {"name": name, "scopes": list(scopes)})
    assert page.status_code == 200
    found = KEY.search(page.get_data(as_text=True))
    assert found, "the page shows the new key"
    return found.group(1)


def test_an_administrator_makes_a_key_shown_once_and_every_administrator_sees_it(
    app, hotline_admin_a
):
    deputy = Staffer(app, "deputy@hotline-a.example", "hotline_admin", HOTLINE_A)
    assert deputy.sign_in().status_code == 303
    empty = hotline_admin_a.client.get("/hotline/team/keys").get_data(as_text=True)
    assert "no API key yet" in empty and "checked" not in empty  # nothing ticked in advance
    raw = make_key_in_portal(hotline_admin_a, "Our case system", "read", "act")
    # It works, for what it was given.
    client = app.test_client()
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/hotline/referrals", headers=headers).status_code == 200
    # Never shown again: not on the list, not to the other administrator.
    for person in (hotline_admin_a, deputy):
        page = person.client.get("/hotline/team/keys").get_data(as_text=True)
        assert raw not in page
        assert "Our case system" in page and "New" in page
        assert f"by {hotline_admin_a.email}" in page
        assert "read, act" in page
    assert [actor for actor, _id in audited(app, "api_key.created")] == [
        f"account:{hotline_admin_a.id}"
    ]


def test_a_key_needs_a_name_and_something_it_may_do(app, hotline_admin_a):
    before = row_counts(app)
    nameless = hotline_admin_a.post("/hotline/team/keys", {"name": "", "scopes": ["read"]})
    powerless = hotline_admin_a.post("/hotline/team/keys", {"name": "CMS"})
    assert nameless.status_code == powerless.status_code == 400
    assert "Give the key a name." in nameless.get_data(as_text=True)
    assert "Choose at least one thing" in powerless.get_data(as_text=True)
    assert row_counts(app)["api_keys"] == before["api_keys"]


def test_rotating_in_the_portal_keeps_the_old_key_for_the_overlap_and_revoking_ends_it(
    app, hotline_admin_a
):
    raw = make_key_in_portal(hotline_admin_a, "CMS", "read")
    with Database.new_session(app) as db:
        key_id = db.scalar(select(ApiKey.id))
    asked = hotline_admin_a.client.get(f"/hotline/team/keys/{key_id}/rotate")
    assert "keeps working" in asked.get_data(as_text=True)
    rotated = hotline_admin_a.post(f"/hotline/team/keys/{key_id}/rotate", {"overlap_hours": "6"})
    new_raw = KEY.search(rotated.get_data(as_text=True)).group(1)
    client = app.test_client()
    for key in (raw, new_raw):
        answer = client.get("/api/v1/hotline/referrals", headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 200
    page = hotline_admin_a.client.get("/hotline/team/keys").get_data(as_text=True)
    assert "Replaced: works until" in page
    revoked = hotline_admin_a.post(f"/hotline/team/keys/{key_id}/revoke")
    assert revoked.status_code == 303
    answer = client.get("/api/v1/hotline/referrals", headers={"Authorization": f"Bearer {raw}"})
    assert answer.status_code == 401
    assert audited(app, "api_key.revoked") == [(f"account:{hotline_admin_a.id}", key_id)]


def test_another_hotlines_key_is_the_same_404_as_an_unknown_one(app, hotline_admin_a):
    other = Staffer(app, "lead@hotline-b.example", "hotline_admin", HOTLINE_B)
    assert other.sign_in().status_code == 303
    make_key_in_portal(other, "B's system", "read")
    with Database.new_session(app) as db:
        theirs = db.scalar(select(ApiKey.id))
    for path in (f"/hotline/team/keys/{theirs}/rotate", f"/hotline/team/keys/{theirs}/revoke"):
        assert hotline_admin_a.client.get(path).status_code == 404
        assert hotline_admin_a.post(path).status_code == 404
        assert hotline_admin_a.client.get(path.replace(str(theirs), "999999")).status_code == 404
    page = hotline_admin_a.client.get("/hotline/team/keys").get_data(as_text=True)
    assert "B&#39;s system" not in page and "B's system" not in page
