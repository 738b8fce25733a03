"""The error summary in real Chromium at a phone's width (390 px), with JavaScript on and off:
after a form with problems is sent, the summary is the first thing in <main> and has the focus
(``autofocus``: no script needed), a link in it moves the focus to its field, and the page
passes axe-core (with JavaScript on, where axe can run)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.browser.conftest import PHONE
from tests.browser.test_accessibility import Audit

pytestmark = pytest.mark.browser


def _javascript_on(request: pytest.FixtureRequest) -> bool:
    """Whether this run of the test has JavaScript on (the ``page`` fixture runs both)."""
    return "javascript-on" in request.node.name


def _first_in_main(page: Any) -> str | None:
    return page.locator("main > *").first.get_attribute("id")


def _field_is_on_screen(page: Any, selector: str) -> None:
    """In view at the phone's width, and not under the sticky exit bar."""
    box = page.locator(selector).bounding_box()
    bar = page.locator("#exit-bar").bounding_box()
    assert box and bar
    assert box["y"] >= bar["y"] + bar["height"] - 1 and box["y"] < PHONE["height"], selector


def test_a_registration_with_problems_focuses_its_summary_and_each_link_its_field(
    page: Any, live_app: Flask, request: pytest.FixtureRequest
) -> None:
    page.goto("/advocate/register?lang=en")
    page.get_by_role("button", name="Ask for an account").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    assert _first_in_main(page) == "error-summary"
    assert page.title() == "Error: Register – Request Assistant"
    assert summary.get_by_role("link").count() == 5
    assert page.viewport_size == PHONE

    summary.get_by_role("link", name="Say why you need access.").click()
    expect(page.locator("#reason")).to_be_focused()
    _field_is_on_screen(page, "#reason")
    expect(page.locator("#reason-error")).to_have_text("Error: Say why you need access.")

    summary.get_by_role("link", name="Enter your organisation.").click()
    expect(page.locator("#organisation")).to_be_focused()
    _field_is_on_screen(page, "#organisation")

    if _javascript_on(request):
        audit = Audit(live_app)
        audit.check(page, "registration with problems", "POST")
        assert audit.violations == {}


def test_a_place_that_cannot_be_used_is_summarised_first_and_linked_to_its_box(
    page: Any, live_app: Flask, request: pytest.FixtureRequest
) -> None:
    page.goto("/request/where?lang=en")
    page.get_by_label("Where is it?").fill("javascript:alert(1)")
    page.get_by_role("button", name="Add this place").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    assert _first_in_main(page) == "error-summary"
    # Before the content note and the question, as read and as seen.
    note = page.locator(".content-note").bounding_box()
    box = summary.bounding_box()
    assert box and note and box["y"] + box["height"] <= note["y"]
    expect(page.locator("#value-error")).to_contain_text("“javascript:” address")

    summary.get_by_role("link").first.click()
    expect(page.locator("#value")).to_be_focused()
    _field_is_on_screen(page, "#value")

    if _javascript_on(request):
        audit = Audit(live_app)
        audit.check(page, "where is it, a place refused", "POST")
        assert audit.violations == {}
