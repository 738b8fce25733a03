"""An advocate's journey in real Chromium at a phone's width, JavaScript on and off: sign in with a
password and a TOTP code, paste 200 lines (a few of them duplicates or not places at all), read
the report line by line, correct the box, record the survivor's consent and send. The survivor
then signs in with the handed-over receipt and gets a passphrase only they hold; the hotline sees
the advocate's organisation and the consent."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from assistant.models import today
from tests.browser.conftest import sign_in_with_receipt
from tests.conftest import ADVOCATE_ORG
from tests.conftest import HOTLINE_A
from tests.conftest import STAFF_PASSWORD
from tests.conftest import Staffer

pytestmark = pytest.mark.browser

# 200 lines: 195 distinct places on several sites, 3 repeats and 2 lines that are not places.
PLACES = [f"https://gallery.example.ie/album/{n}" for n in range(1, 121)]
PLACES += [f"https://files.example.de/share/{n}" for n in range(1, 61)]
PLACES += [f"https://board.example.nl/thread/{n}" for n in range(1, 16)]
PASTED = [
    *PLACES[:100],
    PLACES[3],
    "javascript:alert(1)",
    *PLACES[100:],
    PLACES[150],
    PLACES[7],
    "mailto:someone@example.org",
]


def test_an_advocate_files_200_pasted_links_for_a_survivor(page: Any, live_app: Any) -> None:
    assert len(PASTED) == 200
    advocate = Staffer(live_app, "lawyer@northside.example", "advocate", ADVOCATE_ORG)
    analyst = Staffer(live_app, "analyst@hotline-a.example", "staff", HOTLINE_A)

    page.goto("/account/sign-in")
    page.get_by_label("E-mail address").fill(advocate.email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(advocate.code())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your requests", level=1)).to_be_visible()

    page.get_by_role("link", name="File a request for a survivor").click()
    page.get_by_label("Places, one on each line").fill("\n".join(PASTED))
    page.get_by_role("button", name="Check and add these lines").click()
    expect(
        page.get_by_text("200 lines checked: 195 added, 3 already on the list, 2 not accepted.")
    ).to_be_visible()
    rows = page.locator(".line-report tbody tr")
    assert rows.count() == 200
    assert rows.nth(100).locator("th").inner_text() == "101"
    assert "Same place as line 4" in rows.nth(100).inner_text()
    assert "Not accepted" in rows.nth(101).inner_text()
    assert "Added: goes to Hotline.ie" in rows.nth(0).inner_text()
    # Reported places are text, never links.
    assert page.locator('a[href*="example.ie/album"]').count() == 0
    box = page.get_by_label("Places, one on each line")
    assert box.input_value().split("\n") == ["javascript:alert(1)", "mailto:someone@example.org"]
    box.fill("")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="About the material and the survivor")).to_be_visible()
    page.get_by_label("Images or videos of the sexual abuse itself").check()
    page.get_by_label("Where does the survivor live?").select_option("IE")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="The survivor's consent")).to_be_visible()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Say how the survivor gave their consent.").first).to_be_visible()
    page.get_by_label("In person").check()
    page.get_by_label("On what date?").fill((today() - dt.timedelta(days=2)).isoformat())
    page.get_by_label(re.compile("^Yes: I will hand it to them")).check()
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Check and send")).to_be_visible()
    expect(page.get_by_text("The survivor wants their own receipt.")).to_be_visible()
    page.get_by_role("button", name="Send the request").click()

    # No shipped hotline is connected: nothing was sent, and the page says so.
    expect(page.get_by_role("heading", name="The request is saved", exact=True)).to_be_visible()
    number = page.locator("#case-number").inner_text()
    handed_over = page.locator("#passphrase").inner_text()
    expect(page.get_by_text("120 places are for Hotline.ie.")).to_be_visible()
    expect(page.get_by_text("Not connected: Hotline.ie")).to_be_visible()
    page.get_by_role("link", name="Open the request").click()
    assert page.locator(".status-list > li").count() == 195
    assert page.outside_requests == []

    # The survivor's first sign-in replaces the handed-over passphrase.
    survivor_page = page.context.new_page()
    sign_in_with_receipt(
        survivor_page, number, handed_over, lands_on="First, a passphrase only you know"
    )
    fresh = survivor_page.locator("#passphrase").inner_text()
    assert fresh != handed_over
    survivor_page.get_by_role("button", name="I have saved it: use this passphrase").click()
    expect(survivor_page.get_by_text("Your new passphrase is in force.")).to_be_visible()
    expect(survivor_page.get_by_text(ADVOCATE_ORG).first).to_be_visible()

    # The hotline sees who filed it, and the consent.
    assert analyst.sign_in().status_code == 303
    hotline = analyst.client.get("/hotline/").get_data(as_text=True)
    reference = re.search(r'href="/hotline/referrals/(\d+)"', hotline)
    assert reference
    detail = analyst.client.get(f"/hotline/referrals/{reference.group(1)}").get_data(as_text=True)
    assert f"Filed by an advocate from {ADVOCATE_ORG}" in detail
    assert "Consent: In person" in detail
