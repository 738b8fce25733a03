"""A hotline analyst's day in real Chromium, JavaScript on and off: sign in with a password and a
TOTP code; at desktop width filter the queue, assign two referrals to themself, acknowledge both
at once, assess three places at once, record one notice for them and the provider's answer; the
survivor then sees it. Every page on the way passes axe-core; a phone-width check of the queue and
the referral follows."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE
from tests.browser.test_accessibility import Audit
from tests.conftest import HOTLINE_A
from tests.conftest import STAFF_PASSWORD
from tests.conftest import Staffer
from tests.conftest import Survivor

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PLACES = (
    "https://gallery.example.ie/album/5521",
    "https://gallery.example.ie/album/5522",
    "https://gallery.example.ie/album/5523",
)


def sign_in(page: Any, analyst: Staffer) -> None:
    page.set_default_timeout(15_000)
    page.goto("/account/sign-in")
    page.get_by_label("E-mail address").fill(analyst.email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(analyst.code())
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Referrals", level=1).wait_for()


def test_an_analysts_day_at_the_workbench(page: Any, live_app: Any) -> None:
    audit = Audit(live_app)
    survivor = Survivor(live_app.test_client())
    number, passphrase = survivor.file(*PLACES, country="IE")
    Survivor(live_app.test_client()).file("https://photos.example.ie/x/1", country="IE")
    analyst = Staffer(live_app, "analyst@hotline-a.example", "staff", HOTLINE_A)
    page.set_viewport_size(DESKTOP)
    sign_in(page, analyst)
    # The portal's own layout: the hotline and the person in the header, wide on a desktop.
    header = page.locator("header.staff-header")
    expect(header.get_by_text(analyst.email)).to_be_visible()
    assert page.locator("main").bounding_box()["width"] > 1000
    # axe-core runs in the page, so it audits with JavaScript on; the same steps run without it.
    javascript = page.locator("html.js").count() == 1

    def check(label: str, method: str = "GET") -> None:
        if javascript:
            audit.check(page, label, method)

    check("queue")

    # Find by a pasted link, written differently: the search never goes into the address.
    page.get_by_label("Find a referral: its reference (RRA-…) or a link it holds").fill(
        PLACES[1].replace("https://gallery", "HTTPS://GALLERY")
    )
    page.get_by_role("button", name="Find").click()
    assert page.locator("tbody tr.queue-row").count() == 1
    assert "gallery" not in page.url.lower()
    check("search by link", "POST")
    page.get_by_role("link", name="Back to the queue").click()

    # Filter: new referrals nobody has taken yet.
    page.get_by_text("Filters and order").click()
    page.get_by_label("Assigned to", exact=True).select_option("nobody")
    page.get_by_label("Status", exact=True).select_option("received")
    page.get_by_role("button", name="Show").click()
    rows = page.locator("tbody tr.queue-row")
    assert rows.count() == 2
    assert "acknowledge: 2 days left" in rows.first.inner_text()
    check("filtered queue")

    # Both at once: assign to me, then acknowledge.
    for box in page.get_by_role("checkbox", name="Choose RRA-").all():
        box.check()
    page.get_by_role("button", name="Assign to me").click()
    expect(page.get_by_text("2 referrals are now yours.")).to_be_visible()
    page.get_by_role("link", name="My work").click()
    assert page.locator("tbody tr.queue-row").count() == 2
    for box in page.get_by_role("checkbox", name="Choose RRA-").all():
        box.check()
    page.locator("#bulk-acknowledge").click()
    expect(page.get_by_text("Acknowledged 2 referrals.")).to_be_visible()

    # The referral with three places: compact rows, one form for the ticked ones.
    page.get_by_role("link", name="RRA-").first.click()
    expect(page.get_by_text(PLACES[0], exact=True)).to_be_visible()  # in full, as text only
    assert page.locator(f'a[href="{PLACES[0]}"]').count() == 0
    table = page.locator("table.places-table").bounding_box()
    assert table["height"] < DESKTOP["height"]
    check("referral")
    for index in (1, 2, 3):
        page.get_by_role("checkbox", name=f"Choose place {index}").check()
    page.locator('input[name="places-assessment"][value="csam"]').check()
    page.get_by_role("button", name="Record the assessment").click()
    expect(page.get_by_text("Assessment recorded for 3 places.")).to_be_visible()

    for index in (1, 2, 3):
        page.get_by_role("checkbox", name=f"Choose place {index}").check()
    page.locator('input[name="places-notice_type"][value="csam"]').check()
    page.get_by_label("Provider", exact=True).fill("Gallery Hosting Ltd")
    page.get_by_label("Provider's reference (optional)").fill("GH-4471")
    page.get_by_role("button", name="Record the notice").click()
    expect(page.get_by_text("Notice recorded for 3 places.")).to_be_visible()
    assert page.locator(".badge.status-notice_sent").count() == 3

    page.get_by_role("checkbox", name="Choose place 1").check()
    page.locator('input[name="places-response"][value="removed"]').check()
    page.get_by_role("button", name="Record the answer").click()
    expect(page.get_by_text("Answer recorded for 1 place.")).to_be_visible()
    assert page.locator(".badge.status-removed").count() == 1

    # A step that one ticked place cannot take: nothing is done, and the page says which.
    for index in (1, 2):
        page.get_by_role("checkbox", name=f"Choose place {index}").check()
    page.locator('input[name="places-response"][value="refused"]').check()
    page.get_by_role("button", name="Record the answer").click()
    expect(page.get_by_text("Place 1: This notice already has a response.")).to_be_visible()
    assert page.locator(".badge.status-removed").count() == 1
    check("a refused bulk step", "POST")

    # Close asks first, and says what will happen.
    page.locator('input[name="close-reason"][value="duplicate"]').check()
    page.get_by_role("button", name="Close…").click()
    expect(page.get_by_text("2 places without an outcome will be closed too.")).to_be_visible()
    check("close: confirmation", "POST")
    page.get_by_role("link", name="No, go back").click()
    page.get_by_role("link", name="Help").click()
    check("help")
    assert page.outside_requests == []

    # At a phone's width the same pages still work.
    page.set_viewport_size(PHONE)
    page.goto("/hotline/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    check("queue at a phone's width")
    assert audit.violations == {}

    assert survivor.sign_in(number, passphrase).status_code == 303
    status = survivor.client.get("/my-request").get_data(as_text=True)
    assert "The site removed it." in status
    assert "The hotline asked the site to remove it" in status
    assert "Gallery Hosting" not in status and "GH-4471" not in status


def test_keyboard_shortcuts_move_through_the_queue_and_act(
    browser: Any, live_server: str, live_app: Any
) -> None:
    """The shortcuts need JavaScript (without it the same buttons and links do the work)."""
    context = browser.new_context(viewport=DESKTOP, base_url=live_server)
    page = context.new_page()
    Survivor(live_app.test_client()).file("https://gallery.example.ie/k/1", country="IE")
    Survivor(live_app.test_client()).file("https://gallery.example.ie/k/2", country="IE")
    analyst = Staffer(live_app, "analyst@hotline-a.example", "staff", HOTLINE_A)
    sign_in(page, analyst)
    assert page.locator("html.js").count() == 1
    page.wait_for_load_state()
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Referral RRA-").wait_for()
    page.wait_for_load_state()
    first = page.url
    page.keyboard.press("m")
    page.locator(".notice").get_by_text("Assigned to you.").wait_for()
    page.wait_for_load_state()
    page.keyboard.press("a")
    page.locator(".notice").get_by_text("Acknowledged 1 place.").wait_for()
    page.wait_for_load_state()  # the shortcuts are set up once the page's script has run
    # Acknowledged, it moved behind the one still waiting: "p" goes to that one.
    assert page.locator("#next-referral").count() == 0
    page.keyboard.press("p")
    page.wait_for_url(lambda url: url != first)
    page.get_by_role("heading", name="Referral RRA-").wait_for()
    page.wait_for_load_state()
    # Typing in a field never triggers a shortcut.
    second = page.url
    note = page.get_by_label("Internal note (never shown to the survivor)")
    note.type("a note with m and a")
    page.wait_for_timeout(500)
    assert page.url == second and note.input_value() == "a note with m and a"
    assert page.locator(".notice").count() == 0
    context.close()
