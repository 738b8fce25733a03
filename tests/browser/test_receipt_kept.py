"""The survivor's receipt, places and messages in real Chromium (issue 18): the receipt copied
and saved as text, a place shown in full on request with JavaScript on and off, and the warning a
minute before the idle sign-out, with "Stay signed in"."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.browser.conftest import PHONE
from tests.browser.conftest import sign_in_with_receipt
from tests.conftest import Survivor
from tests.conftest import hotlines_take_part

pytestmark = pytest.mark.browser


def _file_through_the_pages(page: Any) -> tuple[str, str]:
    page.goto("/request/where?lang=en")
    page.get_by_label("Where is it?").fill("https://www.example.fr/private/path")
    page.get_by_role("button", name="Add this place").click()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Send my request").click()
    return page.locator("#case-number").inner_text(), page.locator("#passphrase").inner_text()


def test_the_receipt_is_copied_with_one_tap(browser: Any, live_server: str) -> None:
    context = browser.new_context(viewport=PHONE, base_url=live_server)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    number, passphrase = _file_through_the_pages(page)
    page.get_by_role("button", name="Copy the receipt").click()
    page.get_by_text("Copied. Paste it where only you can reach it.").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert f"Case number: {number}" in copied and f"Passphrase: {passphrase}" in copied
    # The places for the hotline that is not connected, to paste into its own form.
    page.get_by_role("button", name="Copy the places").click()
    page.get_by_text("Copied.", exact=True).wait_for()
    assert "1. Link: https://www.example.fr/private/path" in page.evaluate(
        "navigator.clipboard.readText()"
    )
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript-on", "javascript-off"])
def test_the_receipt_saves_as_a_text_file(browser: Any, live_server: str, javascript: bool):
    context = browser.new_context(
        viewport=PHONE, base_url=live_server, java_script_enabled=javascript, accept_downloads=True
    )
    page = context.new_page()
    number, passphrase = _file_through_the_pages(page)
    if not javascript:
        assert page.get_by_role("button", name="Copy the receipt").count() == 0
    with page.expect_download() as waiting:
        page.get_by_role("link", name="Save as a text file").click()
    download = waiting.value
    assert download.suggested_filename == "receipt.txt"
    text = Path(download.path()).read_text("utf-8")
    assert number in text and passphrase in text
    context.close()


def test_a_place_is_shown_one_at_a_time(page: Any, live_app: Flask) -> None:
    number, passphrase = Survivor(live_app.test_client()).file(
        "https://example.com/first/secret", "https://example.com/second/secret"
    )
    sign_in_with_receipt(page, number, passphrase)
    assert page.get_by_text("/first/secret").count() == 0
    page.get_by_role("link", name=re.compile("^Show")).first.click()
    expect(page.get_by_text("https://example.com/first/secret")).to_be_visible()
    assert page.get_by_text("/second/secret").count() == 0
    page.get_by_role("link", name=re.compile("^Show")).first.click()
    expect(page.get_by_text("https://example.com/second/secret")).to_be_visible()
    assert page.get_by_text("/first/secret").count() == 0
    page.get_by_role("link", name=re.compile("^Hide")).click()
    assert page.get_by_text("/second/secret").count() == 0


def test_the_idle_warning_comes_a_minute_before_and_stay_signed_in_keeps_it(
    browser: Any, live_server: str, live_app: Flask
) -> None:
    number, passphrase = Survivor(live_app.test_client()).file("https://example.com/a")
    hotlines_take_part(live_app)
    context = browser.new_context(viewport=PHONE, base_url=live_server)
    page = context.new_page()
    page.clock.install()
    sign_in_with_receipt(page, number, passphrase)
    warning = page.locator("#idle-warning")
    assert not warning.is_visible()
    page.clock.fast_forward("13:30")
    assert not warning.is_visible()
    page.clock.fast_forward("01:00")
    expect(warning).to_be_visible()
    expect(page.get_by_text("you will be signed out in about a minute")).to_be_visible()
    with page.expect_response("**/my-request/still-here") as answer:
        page.get_by_role("button", name="Stay signed in").click()
    assert answer.value.status == 204
    warning.wait_for(state="hidden")
    # The page goes on working: a message can be sent.
    page.get_by_label("Your message").fill("Still here")
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_text("Your message was sent.")).to_be_visible()
    context.close()
