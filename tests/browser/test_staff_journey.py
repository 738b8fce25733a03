"""A hotline analyst's day in real Chromium at a phone's width, JavaScript on and off: sign in with
a password and a TOTP code, acknowledge a referral, assess a place, record a notice and its
removal; the survivor then sees that it was removed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import HOTLINE_A
from tests.conftest import STAFF_PASSWORD
from tests.conftest import Staffer
from tests.conftest import Survivor

pytestmark = pytest.mark.browser

PLACE = "https://gallery.example.ie/album/5521"


def test_staff_sign_in_acknowledge_assess_notice_removed(page: Any, live_app: Any) -> None:
    survivor = Survivor(live_app.test_client())
    number, passphrase = survivor.file(PLACE, country="IE")
    analyst = Staffer(live_app, "analyst@hotline-a.example", "staff", HOTLINE_A)

    page.goto("/account/sign-in")
    page.get_by_label("E-mail address").fill(analyst.email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(analyst.code())
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("heading", name="Referrals", level=1).is_visible()

    page.get_by_role("link", name="RRA-").first.click()
    assert page.get_by_text(PLACE, exact=True).is_visible()  # in full, here and only here
    assert page.locator(f'a[href="{PLACE}"]').count() == 0
    page.get_by_role("button", name="Acknowledge").click()
    assert page.get_by_text("Acknowledged 1 place.").is_visible()

    page.get_by_label("Assessment").select_option("csam")
    page.get_by_role("button", name="Record the assessment").click()
    assert page.get_by_text("Assessment recorded.").is_visible()

    page.get_by_label("Provider", exact=True).fill("Gallery Hosting Ltd")
    page.get_by_label("Provider's reference (optional)").first.fill("GH-4471")
    page.get_by_role("button", name="Record the notice").click()
    assert page.get_by_text("Notice recorded.").is_visible()

    page.get_by_label("Provider's response").select_option("removed")
    page.get_by_role("button", name="Record the response").click()
    assert page.get_by_text("Response recorded.").is_visible()
    assert page.locator(".badge.status-removed").first.is_visible()
    assert page.outside_requests == []

    assert survivor.sign_in(number, passphrase).status_code == 303
    status = survivor.client.get("/my-request").get_data(as_text=True)
    assert "The site removed it." in status
    assert "Gallery Hosting" not in status and "GH-4471" not in status
