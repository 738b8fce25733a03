"""The private status page: sign-in with the receipt, messages, more places, erase, sign out."""

from __future__ import annotations

import datetime as dt
import re

from flask import Response
from flask import request
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update

from assistant.extensions import Database
from assistant.models import Case
from assistant.models import SessionRecord
from assistant.sessions import end_session
from assistant.web.session_interface import COOKIE_NAME
from tests.conftest import Survivor
from tests.conftest import assert_only_withdrawals_left
from tests.conftest import csrf_token
from tests.conftest import hotlines_take_part
from tests.conftest import row_counts


def test_wrong_passphrase_gets_the_same_error_as_unknown_case(survivor: Survivor):
    number, _passphrase = survivor.file("https://example.com/a")
    wrong = survivor.sign_in(number, "aaaa bbbb cccc dddd eeee")
    unknown = survivor.sign_in("RQ-00000000", "aaaa bbbb cccc dddd eeee")
    assert wrong.status_code == unknown.status_code == 401
    message = "That case number and passphrase do not match."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)


def test_receipt_typed_loosely_still_works(survivor: Survivor):
    number, passphrase = survivor.file("https://example.com/a")
    loose_number = number.lower().replace("rq-", "")
    loose_passphrase = passphrase.upper().replace(" ", "-")
    assert survivor.sign_in(loose_number, loose_passphrase).status_code == 303


def test_five_wrong_tries_lock_the_case_even_for_the_right_passphrase(survivor: Survivor):
    number, passphrase = survivor.file("https://example.com/a")
    for _ in range(5):
        assert survivor.sign_in(number, "wrong").status_code == 401
    locked = survivor.sign_in(number, passphrase)
    assert locked.status_code == 429
    assert "locked for about 15 minutes" in locked.get_data(as_text=True)


def test_status_page_shows_timeline_and_takes_a_message(survivor: Survivor, app):
    number, passphrase = survivor.file("https://example.com/a")
    survivor.sign_in(number, passphrase)
    page = survivor.client.get("/my-request").get_data(as_text=True)
    assert "Your request was assigned to Cybertip.ca (1 place)." in page
    # Not connected: its own reporting page is offered, and no message form (nobody would read
    # it); a message posted anyway is refused and nothing is stored.
    assert "Not connected: Cybertip.ca does not receive requests through this service" in page
    assert 'href="https://www.cybertip.ca/en/report/" rel="noreferrer noopener"' in page
    assert 'name="body"' not in page
    token = csrf_token(survivor.client, "/my-request")
    refused = survivor.client.post(
        "/my-request/message", data={"csrf_token": token, "body": "Please hurry"}
    )
    assert refused.status_code == 400 and row_counts(app)["messages"] == 0
    assert "nobody there would read a message" in refused.get_data(as_text=True)
    # Once its staff take the case up through the portal, it is connected for this case.
    hotlines_take_part(app)
    page = survivor.client.get("/my-request").get_data(as_text=True)
    assert "Not connected" not in page and "https://www.cybertip.ca/en/report/" not in page
    assert "Connected: Cybertip.ca receives requests through this service" in page
    token = csrf_token(survivor.client, "/my-request")
    sent = survivor.client.post(
        "/my-request/message", data={"csrf_token": token, "body": "Please hurry"}
    )
    assert sent.status_code == 303
    page = survivor.client.get("/my-request").get_data(as_text=True)
    assert "Please hurry" in page and "Your message was sent." in page
    assert row_counts(app)["messages"] == 1


def test_an_empty_message_is_refused_and_nothing_is_stored(survivor: Survivor, app):
    number, passphrase = survivor.file("https://example.com/a")
    hotlines_take_part(app)
    survivor.sign_in(number, passphrase)
    token = csrf_token(survivor.client, "/my-request")
    response = survivor.client.post(
        "/my-request/message", data={"csrf_token": token, "body": "   "}
    )
    assert response.status_code == 400
    assert "Write a message first." in response.get_data(as_text=True)
    assert row_counts(app)["messages"] == 0


def test_status_pages_are_never_cached(survivor: Survivor):
    number, passphrase = survivor.file("https://example.com/a")
    survivor.sign_in(number, passphrase)
    assert survivor.client.get("/my-request").headers["Cache-Control"].startswith("no-store")


def test_more_places_are_routed_and_repeats_are_recognised(survivor: Survivor, app):
    number, passphrase = survivor.file("https://example.com/a", country="FR")
    survivor.sign_in(number, passphrase)
    token = csrf_token(survivor.client, "/my-request/add")
    added = survivor.client.post(
        "/my-request/add",
        data={
            "csrf_token": token,
            "kind": "url",
            "value": "",
            "pasted": "https://example.ie/z\nhttps://EXAMPLE.com/a",
        },
    )
    assert added.status_code == 303
    page = survivor.client.get("/my-request").get_data(as_text=True)
    assert "Hotline.ie" in page
    assert "example.ie/…" in page
    # A new hotline gets a referral of its own; the repeated link was left out.
    assert "Your request was assigned to Hotline.ie (1 place)." in page
    assert page.count("Your request was assigned to") == 2
    assert row_counts(app)["locations"] == 2
    token = csrf_token(survivor.client, "/my-request/add")
    again = survivor.client.post(
        "/my-request/add",
        data={"csrf_token": token, "kind": "url", "value": "https://example.com/a"},
    )
    assert "already part of your request" in again.get_data(as_text=True)
    assert row_counts(app)["locations"] == 2


def test_idle_sign_in_expires_after_fifteen_minutes(survivor: Survivor, app):
    number, passphrase = survivor.file("https://example.com/a")
    survivor.sign_in(number, passphrase)
    assert survivor.client.get("/my-request").status_code == 200
    past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    with Database.engine(app).begin() as connection:
        connection.execute(update(SessionRecord).values(expires_at=past))
    response = survivor.client.get("/my-request")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/check")


def test_an_abandoned_draft_expires_within_an_hour(survivor, app):
    survivor.add_places(value="https://example.com/draft")
    with Database.engine(app).connect() as connection:
        draft_expiry = connection.execute(select(SessionRecord.expires_at)).scalar_one()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert dt.timedelta(minutes=59) < draft_expiry - now <= dt.timedelta(minutes=60)


def test_sign_out_clears_site_data_and_ends_the_session(survivor: Survivor, app):
    number, passphrase = survivor.file("https://example.com/a")
    survivor.sign_in(number, passphrase)
    token = csrf_token(survivor.client, "/my-request")
    response = survivor.client.post("/my-request/sign-out", data={"csrf_token": token})
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert row_counts(app)["sessions"] == 0
    assert survivor.client.get("/my-request").status_code == 303


def test_erase_needs_confirmation_then_removes_every_row(survivor: Survivor, app):
    baseline = row_counts(app)
    number, passphrase = survivor.file(
        "https://example.com/a", "https://example.fr/b", note="second post"
    )
    survivor.sign_in(number, passphrase)
    hotlines_take_part(app)
    token = csrf_token(survivor.client, "/my-request")
    page = survivor.client.get("/my-request").get_data(as_text=True)
    first_hotline = re.search(r'<option[^>]*value="(\d+)"', page)
    assert first_hotline, "with two hotlines the survivor chooses whom to write to"
    survivor.client.post(
        "/my-request/message",
        data={"csrf_token": token, "body": "hello", "referral": first_hotline.group(1)},
    )
    filled = row_counts(app)
    assert filled["cases"] == 1 and filled["locations"] == 2 and filled["messages"] == 1
    assert filled["referrals"] == 2 and filled["referral_events"] == 2
    page = survivor.client.get("/my-request/erase").get_data(as_text=True)
    assert "the 2 places you told us about" in page and "1 message" in page
    # What the hotlines will hear: that it was withdrawn, by its reference, nothing else.
    assert "is told that you withdrew it, by its reference number only" in page
    token = csrf_token(survivor.client, "/my-request/erase")
    unconfirmed = survivor.client.post("/my-request/erase", data={"csrf_token": token})
    assert unconfirmed.status_code == 400
    assert row_counts(app)["cases"] == 1
    erased = survivor.client.post("/my-request/erase", data={"csrf_token": token, "confirm": "y"})
    assert erased.status_code == 200
    assert erased.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert_only_withdrawals_left(app, baseline, referrals=2)
    assert survivor.sign_in(number, passphrase).status_code == 401


def test_a_signed_in_case_that_was_erased_elsewhere_signs_out(survivor: Survivor, app):
    number, passphrase = survivor.file("https://example.com/a")
    survivor.sign_in(number, passphrase)
    with Database.engine(app).begin() as connection:
        connection.execute(delete(Case))
    assert survivor.client.get("/my-request").status_code == 303


def test_a_request_still_running_at_sign_out_cannot_bring_the_session_back(survivor, app):
    """The race a reviewer found: a slow request saving after sign-out must not revive it."""

    number, passphrase = survivor.file("https://example.com/a")
    survivor.sign_in(number, passphrase)
    cookie = survivor.client.get_cookie(COOKIE_NAME).value
    interface = app.session_interface
    with app.test_request_context("/my-request", headers={"Cookie": f"{COOKIE_NAME}={cookie}"}):
        slow = interface.open_session(app, request)
        assert slow.get("case_id")
        with Database.new_session(app) as db:  # meanwhile, in another tab: sign out
            end_session(db, slow.raw_id)
        slow["seen"] = True
        response = Response()
        interface.save_session(app, slow, response)
    assert row_counts(app)["sessions"] == 0
    assert "Max-Age=0" in response.headers.get("Set-Cookie", "")
    assert survivor.client.get("/my-request").status_code == 303


def test_pressing_enter_in_a_field_adds_the_place_and_never_removes_one(survivor):
    survivor.add_places(value="https://example.com/first")
    page = survivor.client.get("/request/where").get_data(as_text=True)
    form = page[page.index('<form method="post" action="/request/where"') :]
    first_button = re.search(r"<button[^>]*>", form)
    assert first_button and 'value="add"' in first_button.group(0)


def test_a_page_shown_once_offers_no_language_link_that_would_lose_it(survivor):
    survivor.add_places(value="https://example.com/a")
    survivor.add_places(action="continue")
    token = csrf_token(survivor.client, "/request/review")
    receipt = survivor.client.post("/request/send", data={"csrf_token": token})
    page = receipt.get_data(as_text=True)
    assert 'id="passphrase"' in page
    assert "?lang=" not in page
    assert "?lang=" in survivor.client.get("/").get_data(as_text=True)
