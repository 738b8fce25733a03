"""The survivor's side says what is true and keeps what they typed (issue 18): each hotline
connected or not on the review page, the receipt and the status page; the receipt kept (copy,
a text file, the last group typed back); places masked but shown one at a time on request; a
message typed when the sign-in ended is not lost."""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import update

from assistant.extensions import Database
from assistant.models import SessionRecord
from tests.conftest import Survivor
from tests.conftest import csrf_token
from tests.conftest import empty_all_tables
from tests.conftest import hotlines_take_part
from tests.conftest import make_app
from tests.conftest import row_counts
from tests.hotline.delivery_support import delivery_data


@pytest.fixture
def connected_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The shipped directory, but Cybertip.ca's staff use this service (its portal)."""
    settings = delivery_data(tmp_path, intakes={"cybertip_ca": "portal"}, endpoints={})
    app = make_app(database_url, tmp_path / "instance", **settings)
    yield app
    empty_all_tables(app)


def _receipt_page(survivor: Survivor, *values: str) -> str:
    for value in values:
        survivor.add_places(value=value)
    survivor.add_places(action="continue")
    token = csrf_token(survivor.client, "/request/review")
    review = survivor.client.get("/request/review").get_data(as_text=True)
    draft = re.search(r'name="draft" value="([^"]+)"', review)
    assert draft
    page = survivor.client.post(
        "/request/send", data={"csrf_token": token, "draft": draft.group(1)}
    )
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _receipt_of(page: str) -> tuple[str, str]:
    number = re.search(r'id="case-number">([^<]+)<', page)
    passphrase = re.search(r'id="passphrase">([^<]+)<', page)
    assert number and passphrase
    return number.group(1), passphrase.group(1)


# --- connected or not, said the same way everywhere ---


def test_a_hotline_that_is_not_connected_is_never_said_to_have_been_sent_anything(survivor):
    survivor.add_places(value="https://example.com/a/secret-place")
    survivor.add_places(action="continue")
    review = survivor.client.get("/request/review").get_data(as_text=True)
    assert "Not connected: Cybertip.ca does not receive requests through this service" in review
    page = _receipt_page(survivor, "https://example.com/b/other-place")
    assert "<h1>Your request is saved</h1>" in page
    assert "Your request was sent" not in page and "went to" not in page
    assert "nothing was sent to them" in page
    assert "2 places are for Cybertip.ca." in page
    # Its own reporting address, and the places as text to paste there (nothing sent by us).
    assert 'href="https://www.cybertip.ca/en/report/" rel="noreferrer noopener"' in page
    summary = re.search(r'<textarea id="summary-1"[^>]*>([^<]*)</textarea>', page)
    assert summary
    assert "1. Link: https://example.com/a/secret-place" in summary.group(1)
    assert "2. Link: https://example.com/b/other-place" in summary.group(1)
    assert 'data-copy="summary-1"' in page


def test_a_connected_hotline_is_said_to_have_the_request(connected_app):
    survivor = Survivor(connected_app.test_client())
    survivor.add_places(value="https://example.com/a")
    survivor.add_places(action="continue")
    review = survivor.client.get("/request/review").get_data(as_text=True)
    assert "Connected: Cybertip.ca receives requests through this service" in review
    page = _receipt_page(survivor, "https://example.ie/b")
    assert "<h1>Your request is saved, and partly sent</h1>" in page
    assert "1 place went to Cybertip.ca. It will look at your request" in page
    assert "1 place is for Hotline.ie." in page
    assert "Not connected: Hotline.ie" in page
    number, passphrase = _receipt_of(page)
    assert survivor.sign_in(number, passphrase).status_code == 303
    status = survivor.client.get("/my-request").get_data(as_text=True)
    # Only the connected hotline is offered to write to.
    options = re.findall(r'<option[^>]*value="\d+"[^>]*>([^<]+)</option>', status)
    assert options == [] and 'name="body"' in status  # one choice: no list, the form is there
    assert "Not connected: Hotline.ie" in status


def test_every_hotline_connected_reads_sent(connected_app):
    survivor = Survivor(connected_app.test_client())
    page = _receipt_page(survivor, "https://example.com/a")
    assert "<h1>Your request was sent</h1>" in page
    assert "Not connected" not in page and '<textarea id="summary' not in page


def test_the_status_page_shows_the_summary_only_when_asked(survivor: Survivor, app):
    number, passphrase = survivor.file("https://example.com/a/hidden-path")
    survivor.sign_in(number, passphrase)
    page = survivor.client.get("/my-request").get_data(as_text=True)
    assert "hidden-path" not in page
    link = re.search(r'href="(/my-request\?copy=\d+)#summary-\d+-box"', page)
    assert link
    asked = survivor.client.get(link.group(1)).get_data(as_text=True)
    assert "1. Link: https://example.com/a/hidden-path" in asked


# --- places masked, shown one at a time ---


def test_a_place_shows_its_kind_and_platform_and_one_can_be_shown_in_full(survivor: Survivor):
    survivor.add_places(kind="account", value="not a link at all", platform="Instagram")
    survivor.add_places(value="https://example.com/a/second-path")
    page = survivor.client.get("/request/where").get_data(as_text=True)
    assert "Account or profile on Instagram" in page
    assert "not a link at all" not in page and "second-path" not in page
    assert 'href="/request/where?show=0#place-0"' in page
    first = survivor.client.get("/request/where?show=0").get_data(as_text=True)
    assert "not a link at all" in first and "second-path" not in first
    second = survivor.client.get("/request/where?show=1").get_data(as_text=True)
    assert "second-path" in second and "not a link at all" not in second
    survivor.add_places(action="continue")
    review = survivor.client.get("/request/review?show=1").get_data(as_text=True)
    assert "second-path" in review and "not a link at all" not in review


def test_the_status_page_shows_one_place_in_full_on_request(survivor: Survivor, app):
    number, passphrase = survivor.file("https://example.com/a/first", "https://example.com/b/2nd")
    survivor.sign_in(number, passphrase)
    hotlines_take_part(app)
    page = survivor.client.get("/my-request").get_data(as_text=True)
    assert "/a/first" not in page and "/b/2nd" not in page
    shows = re.findall(r'href="/my-request\?show=(\d+)#place-\d+"', page)
    assert len(shows) == 2
    one = survivor.client.get(f"/my-request?show={shows[0]}").get_data(as_text=True)
    assert "https://example.com/a/first" in one and "/b/2nd" not in one


# --- the receipt kept ---


def test_the_receipt_can_be_copied_and_saved_as_text(survivor: Survivor):
    page = _receipt_page(survivor, "https://example.com/a")
    number, passphrase = _receipt_of(page)
    assert 'data-copy="receipt-text"' in page
    download = re.search(
        r'href="data:text/plain;charset=utf-8,([^"]+)" download="receipt.txt"', page
    )
    assert download
    text = urllib.parse.unquote(download.group(1))
    assert f"Case number: {number}" in text and f"Passphrase: {passphrase}" in text
    assert "/check" in text


def _kept_form(page: str) -> dict[str, str]:
    form = page[page.index('action="/request/kept"') :]
    fields = dict(re.findall(r'name="(csrf_token|proof|draft)" value="([^"]*)"', form))
    assert set(fields) == {"csrf_token", "proof", "draft"} and fields["proof"]
    return fields


def test_the_last_group_is_asked_back_before_leaving(survivor: Survivor, app):
    page = _receipt_page(survivor, "https://example.com/a")
    _number, passphrase = _receipt_of(page)
    fields = _kept_form(page)
    ask = survivor.client.post("/request/kept", data=fields)
    assert ask.status_code == 200
    asked = ask.get_data(as_text=True)
    assert "The last group of letters of your passphrase" in asked
    assert passphrase not in asked
    wrong = survivor.client.post(
        "/request/kept", data={**fields, "action": "check", "last_group": "zzzz"}
    )
    assert wrong.status_code == 400
    wrong_page = wrong.get_data(as_text=True)
    assert "That is not the last group of your passphrase." in wrong_page
    assert "<title>Error: " in wrong_page
    # Within ten minutes the receipt can be shown once more, from the filing's sealed answer.
    assert "Show my receipt again" in wrong_page
    again = survivor.client.post(
        "/request/send", data={"csrf_token": fields["csrf_token"], "draft": fields["draft"]}
    )
    assert passphrase in again.get_data(as_text=True)
    last = passphrase.split()[-1]
    right = survivor.client.post(
        "/request/kept", data={**fields, "action": "check", "last_group": f" {last.upper()} "}
    )
    assert right.status_code == 200
    assert "You kept your receipt" in right.get_data(as_text=True)


def test_the_check_can_be_skipped_with_a_clear_warning(survivor: Survivor):
    page = _receipt_page(survivor, "https://example.com/a")
    fields = _kept_form(page)
    asked = survivor.client.post("/request/kept", data=fields).get_data(as_text=True)
    assert "If you skip this and have not kept your receipt, you cannot come back" in asked
    skipped = survivor.client.post("/request/kept", data={**fields, "action": "skip"})
    assert skipped.status_code == 200
    assert "you cannot come back to your request" in skipped.get_data(as_text=True)


def test_a_forged_proof_checks_nothing(survivor: Survivor):
    page = _receipt_page(survivor, "https://example.com/a")
    fields = _kept_form(page)
    forged = survivor.client.post(
        "/request/kept", data={**fields, "proof": "forged", "action": "check", "last_group": "a"}
    )
    assert forged.status_code == 200
    assert "You kept your receipt" not in forged.get_data(as_text=True)


# --- nothing typed is lost to the idle sign-out ---


def _expire_sessions(app: Flask) -> None:
    past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    with Database.engine(app).begin() as connection:
        connection.execute(update(SessionRecord).values(expires_at=past))


def test_a_message_typed_when_the_sign_in_ended_comes_back_unsent(survivor: Survivor, app):
    number, passphrase = survivor.file("https://example.com/a")
    hotlines_take_part(app)
    survivor.sign_in(number, passphrase)
    page = survivor.client.get("/my-request").get_data(as_text=True)
    assert 'id="idle-warning"' in page and 'data-idle-seconds="900"' in page
    token = csrf_token(survivor.client, "/my-request")
    _expire_sessions(app)
    typed = "Please look at the second link first.\r\nThank you & <b>bye</b>"
    lost = survivor.client.post("/my-request/message", data={"csrf_token": token, "body": typed})
    assert lost.status_code == 200
    check = lost.get_data(as_text=True)
    assert "Your message was not sent yet." in check
    assert "Thank you &amp; &lt;b&gt;bye&lt;/b&gt;" in check  # escaped, never markup
    assert row_counts(app)["messages"] == 0
    # Signing in again opens the status page with the message in the box, still unsent.
    sign_in_token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', check)
    assert sign_in_token
    back = survivor.client.post(
        "/check",
        data={
            "csrf_token": sign_in_token.group(1),
            "case_number": number,
            "passphrase": passphrase,
            "pending_message": typed,
        },
    )
    assert back.status_code == 200
    status = back.get_data(as_text=True)
    assert "Your message is not sent yet." in status
    assert "Please look at the second link first." in status
    assert row_counts(app)["messages"] == 0
    token = csrf_token(survivor.client, "/my-request")
    sent = survivor.client.post("/my-request/message", data={"csrf_token": token, "body": typed})
    assert sent.status_code == 303 and row_counts(app)["messages"] == 1


def test_a_message_without_a_sign_in_or_a_token_does_nothing(survivor: Survivor, app):
    survivor.file("https://example.com/a")
    hotlines_take_part(app)
    answer = survivor.client.post("/my-request/message", data={"body": "hello"})
    assert answer.status_code == 200 and row_counts(app)["messages"] == 0


def test_a_signed_in_message_still_needs_its_token(survivor: Survivor, app):
    number, passphrase = survivor.file("https://example.com/a")
    hotlines_take_part(app)
    survivor.sign_in(number, passphrase)
    answer = survivor.client.post("/my-request/message", data={"body": "hello"})
    assert answer.status_code == 400 and row_counts(app)["messages"] == 0


def test_stay_signed_in_answers_whether_the_sign_in_is_there(survivor: Survivor, app):
    number, passphrase = survivor.file("https://example.com/a")
    survivor.sign_in(number, passphrase)
    token = csrf_token(survivor.client, "/my-request")
    assert (
        survivor.client.post("/my-request/still-here", data={"csrf_token": token}).status_code
        == 204
    )
    _expire_sessions(app)
    assert survivor.client.post(
        "/my-request/still-here", data={"csrf_token": token}
    ).status_code in (
        400,
        401,
    )
