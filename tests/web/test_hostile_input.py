"""Input no honest client sends: ids no row can have, numbers no column can hold. Each is a plain
refusal (404 or 400), never a 500, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy import update
from werkzeug.routing import IntegerConverter

from assistant.extensions import Database
from assistant.models import Referral
from tests.conftest import HOTLINE_A
from tests.conftest import Survivor
from tests.conftest import csrf_token

HUGE = [2**31, 2**31 + 1, 2**53 + 1, 2**63, 2**64, 10**30]


def _int_routes(app):
    for rule in app.url_map.iter_rules():
        numbers = [n for n, c in rule._converters.items() if isinstance(c, IntegerConverter)]
        if numbers:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield rule, numbers, method


def _client_for(path, people):
    for prefix, person in people.items():
        if path.startswith(prefix):
            return person
    return people[""]


@pytest.fixture
def everyone(app, hotline_admin_a, admin, advocate_a):
    survivor = Survivor(app.test_client())
    number, passphrase = survivor.file("https://example.com/a")
    survivor.sign_in(number, passphrase)
    anonymous = app.test_client()
    return {
        "/hotline": (hotline_admin_a.client, "/account/password"),
        "/admin": (admin.client, "/account/password"),
        "/advocate": (advocate_a.client, "/account/password"),
        "/my-request": (survivor.client, "/my-request"),
        "": (anonymous, "/check"),
    }


def test_ids_no_row_can_have_are_a_404_on_every_route(app, everyone):
    routes = list(_int_routes(app))
    assert len(routes) >= 20
    answers = {}
    for rule, numbers, method in routes:
        client, form_page = _client_for(rule.rule, everyone)
        for huge in HUGE:
            path = rule.rule
            for name in numbers:
                path = path.replace(f"<int:{name}>", str(huge))
            if method == "GET":
                status = client.get(path).status_code
            else:
                token = csrf_token(client, form_page)
                status = client.post(path, data={"csrf_token": token, "version": 1}).status_code
            answers[f"{method} {path}"] = status
    assert {k: v for k, v in answers.items() if v != 404} == {}


@pytest.mark.parametrize("huge", [2**31, 2**63, 10**30])
def test_numbers_no_column_can_hold_in_staff_forms_are_refused_not_failed(
    app, hotline_admin_a, huge
):
    survivor = Survivor(app.test_client())
    survivor.file("https://example.com/a")
    with Database.new_session(app) as session:
        referral = session.scalars(select(Referral.id)).one()
        session.execute(update(Referral).values(hotline_id=HOTLINE_A))
        session.commit()
    answers = {}
    for path, data in [
        ("/hotline/team/settings", {"chase_hours": huge, "reminder_limit": huge}),
        (f"/hotline/referrals/{referral}/acknowledge", {"version": huge}),
        (
            f"/hotline/referrals/{referral}/assign",
            {"assign-version": huge, "assign-assignee": huge},
        ),
        (f"/hotline/referrals/{referral}/close", {"version": huge}),
        (f"/hotline/referrals/{referral}/note", {"version": huge, "note": "x"}),
    ]:
        answers[path] = hotline_admin_a.post(path, data).status_code
    assert answers == {
        "/hotline/team/settings": 400,
        **{path: 409 for path in answers if "/referrals/" in path},
    }
