"""'Where will my report go?' in real Chromium at a phone's width, JavaScript on and off."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_search_the_hotlines_and_try_a_link_without_anything_leaving_the_site(page: Any) -> None:
    page.goto("/")
    page.get_by_role("link", name="Where will my report go? See the hotlines").click()
    expect(page.get_by_role("heading", name="Where will my report go?", level=1)).to_be_visible()

    page.get_by_label("Search by hotline name or country").fill("Ireland")
    page.get_by_role("button", name="Search").click()
    assert "q=Ireland" in page.url
    expect(page.get_by_role("heading", name="Hotline.ie")).to_be_visible()
    expect(page.get_by_text("1 hotline", exact=True)).to_be_visible()

    page.get_by_label("Links or names, one on each line").fill("https://i.imgur.com/secret.jpg")
    page.get_by_label("Where do you live? (optional)").select_option("IE")
    page.get_by_role("button", name="See where it would go").click()
    expect(page.get_by_text("Would go to CyberTipline")).to_be_visible()
    expect(page.get_by_text("Imgur is run by Imgur, Inc.")).to_be_visible()
    # Masked; the full text is shown only on request, for that one place.
    assert "secret" not in page.locator("main").inner_text()
    assert "secret" not in page.url
    page.locator("details.reveal summary").first.click()
    expect(page.get_by_text("https://i.imgur.com/secret.jpg")).to_be_visible()
