"""The whole journey in real Chromium at 390x844, with JavaScript on and off: landing, request,
receipt, status, message, erase. No request ever leaves the site."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.conftest import hotlines_take_part

pytestmark = pytest.mark.browser


def test_journey_from_landing_to_receipt_to_status_to_erase(page: Any, live_app: Flask) -> None:
    page.goto("/")
    assert page.title() == "Welcome – Request Assistant"
    expect(page.locator("#quick-exit")).to_be_visible()
    page.get_by_role("link", name="Start a request").click()
    page.get_by_role("link", name="Begin").click()

    page.get_by_label("Where is it?").fill("https://www.example.fr/some/where?utm_source=x")
    page.get_by_label("Anything that helps find it (optional)").fill("third post from the top")
    page.get_by_role("button", name="Add this place").click()
    expect(page.get_by_text("Places you added (1)")).to_be_visible()
    page.locator("summary", has_text="Paste many links at once").click()
    page.get_by_label("Many links? Paste them here, one on each line").fill(
        "x.com/someone\njavascript:alert(1)"
    )
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#error-summary").get_by_text("A “javascript:” address")).to_be_visible()
    page.get_by_label("Many links? Paste them here, one on each line").fill("")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_text("You can skip it.")).to_be_visible()
    page.get_by_label("Images or videos of the sexual abuse itself").check()
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Yes").check()
    page.get_by_label("Where do you live?").select_option("BE")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_text("To Point de Contact")).to_be_visible()
    expect(page.locator(".address", has_text="www.example.fr/…").first).to_be_visible()
    assert page.locator("a[href*='example.fr']").count() == 0  # never clickable
    page.get_by_role("button", name="Send my request").click()

    number = page.locator("#case-number").inner_text()
    passphrase = page.locator("#passphrase").inner_text()
    assert re.fullmatch(r"RQ-[0-9A-Z]{8}", number)
    # Nothing was sent: the hotline is not connected, and the receipt says so.
    expect(page.get_by_role("heading", name="Your request is saved", exact=True)).to_be_visible()
    expect(page.get_by_text("Not connected: Point de Contact")).to_be_visible()

    # Before leaving, the last group of letters is asked back.
    page.get_by_role("button", name="I have kept my receipt").click()
    page.get_by_label("The last group of letters of your passphrase").fill("zzzz")
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.get_by_text("That is not the last group of your passphrase.").first).to_be_visible()
    page.get_by_label("The last group of letters of your passphrase").fill(passphrase.split()[-1])
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.get_by_role("heading", name="You kept your receipt")).to_be_visible()

    page.get_by_role("link", name="Check on my request").first.click()
    page.get_by_label("Case number").fill(number)
    page.get_by_label("Passphrase").fill(passphrase)
    page.get_by_role("button", name="Show my request").click()
    expect(page.get_by_role("heading", name="Your request")).to_be_visible()
    assert page.get_by_text("Removal requested").count() == 0
    expect(page.get_by_text("Received, waiting for the hotline")).to_be_visible()
    assert page.get_by_label("Your message").count() == 0  # nobody would read it yet

    # The hotline's staff take it up through the portal: from now on it reads messages.
    hotlines_take_part(live_app)
    page.reload()
    page.get_by_label("To").select_option(index=0)
    page.get_by_label("Your message").fill("Thank you")
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_text("Your message was sent.")).to_be_visible()

    page.get_by_role("link", name="Withdraw and erase my request").click()
    expect(page.get_by_text("the 2 places you told us about")).to_be_visible()
    page.get_by_label(re.compile("I understand that everything")).check()
    page.get_by_role("button", name="Erase everything").click()
    expect(page.get_by_role("heading", name="Your request was erased")).to_be_visible()

    page.goto("/my-request")
    expect(page.get_by_role("heading", name="Check on my request")).to_be_visible()
    assert page.outside_requests == []


def test_the_layout_fits_a_phone_without_sideways_scrolling(page: Any) -> None:
    for path in ("/", "/request/start", "/request/where", "/check", "/support"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth") if _js(page) else 390
        assert width <= 390, path
        box = page.locator("#quick-exit").bounding_box()
        assert box and box["width"] >= 44 and box["height"] >= 44


def test_quick_exit_leaves_and_going_back_shows_no_case(page: Any) -> None:
    page.goto("/request/where")
    page.get_by_label("Where is it?").fill("https://example.com/private-thing")
    page.get_by_role("button", name="Add this place").click()
    page.locator("#quick-exit").click()
    page.wait_for_url(re.compile(r"/\?left=1$"))
    page.goto("/request/where")
    assert page.get_by_text("Places you added").count() == 0


def _js(page: Any) -> bool:
    try:
        page.evaluate("1")
    except Exception:
        return False
    return True
