"""A notice from the workbench to the provider and back to the survivor, in real Chromium with
JavaScript on and off: the analyst assesses two places, writes a notice to a provider the
directory does not know, reads the preview and sends it; the provider opens the response link at
a phone's width and answers "removed" for both; the survivor then reads that the site says it
was removed. Every page on the way passes axe-core (with JavaScript on)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from assistant.extensions import Database
from assistant.hotline.notice_mail import link_token
from assistant.models import NoticeLetter
from assistant.models import OutboxItem
from tests.browser.conftest import PHONE
from tests.browser.conftest import sign_in_with_receipt
from tests.browser.test_accessibility import Audit
from tests.browser.test_staff_journey import DESKTOP
from tests.browser.test_staff_journey import sign_in
from tests.conftest import HOTLINE_A
from tests.conftest import Staffer
from tests.conftest import Survivor

pytestmark = pytest.mark.browser

PLACES = ("https://gallery.example.ie/album/7001", "https://gallery.example.ie/album/7002")


def test_a_notice_goes_out_and_the_providers_answer_comes_back(
    page: Any, live_app: Any, browser: Any, live_server: str
) -> None:
    audit = Audit(live_app)
    survivor = Survivor(live_app.test_client())
    number, passphrase = survivor.file(*PLACES, country="IE")
    analyst = Staffer(live_app, "analyst@hotline-a.example", "staff", HOTLINE_A)
    page.set_viewport_size(DESKTOP)
    sign_in(page, analyst)
    javascript = page.locator("html.js").count() == 1

    def check(on: Any, label: str, method: str = "GET") -> None:
        if javascript:
            audit.check(on, label, method)

    page.locator("a[href^='/hotline/referrals/']").first.click()
    page.get_by_role("button", name="Acknowledge").click()
    for box in page.locator('input[name="places-places"]').all():
        box.check()
    page.locator('input[name="places-assessment"][value="csam"]').check()
    page.get_by_role("button", name="Record the assessment").click()
    page.get_by_text("Assessment recorded for 2 places.").wait_for()

    page.get_by_role(
        "link", name="Write a notice to a provider not in the directory (2 places)"
    ).click()
    page.get_by_role("heading", name="Send a notice").wait_for()
    check(page, "writing a notice")
    page.get_by_label("Provider's name").fill("Gallery Example")
    page.get_by_label("Send to (e-mail address)").fill("abuse@gallery.example.ie")
    page.locator('input[name="notice-notice_type"][value="csam"]').check()
    page.get_by_role("button", name="Preview the notice").click()
    preview = page.locator("#notice-text")
    preview.wait_for()
    check(page, "the notice's preview", "POST")
    text = preview.inner_text()
    assert PLACES[0] in text and PLACES[1] in text
    assert number not in text
    page.get_by_role("button", name="Send this notice").click()
    page.get_by_text("is on its way").wait_for()
    check(page, "the referral after sending")
    assert page.get_by_text("chased by the app").count() >= 1

    with Database.new_session(live_app) as db:
        letter_id = db.scalars(select(NoticeLetter.id)).one()
        assert db.scalars(select(OutboxItem.idempotency_key)).all() == [f"notice-{letter_id}-0"]
    token = link_token(live_app.extensions["assistant.services"], letter_id)

    # The provider, on a phone, with the same JavaScript setting.
    provider_context = browser.new_context(
        viewport=PHONE,
        base_url=live_server,
        java_script_enabled=javascript,
        is_mobile=True,
        has_touch=True,
    )
    provider = provider_context.new_page()
    provider.goto(f"/notice/{token}")
    provider.get_by_role("heading", name=f"Removal notice RRA-N{letter_id}").wait_for()
    check(provider, "the provider's page")
    assert provider.locator(f'a[href="{PLACES[0]}"]').count() == 0
    for choice in provider.locator('input[value="removed"]').all():
        choice.check()
    provider.get_by_role("button", name="Send the answers").click()
    provider.get_by_role("heading", name="Nothing more is needed").wait_for()
    check(provider, "the provider's page once everything is answered")
    assert provider.get_by_text("Your answers for 2 places were recorded").count() == 1
    assert provider.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    provider_context.close()

    survivor_context = browser.new_context(
        viewport=PHONE, base_url=live_server, java_script_enabled=javascript, is_mobile=True
    )
    reader = survivor_context.new_page()
    sign_in_with_receipt(reader, number, passphrase)
    assert reader.get_by_text("The site says it was removed").count() == 2
    check(reader, "the survivor's page after the removal")
    survivor_context.close()
    assert page.outside_requests == []
    assert audit.violations == {}
