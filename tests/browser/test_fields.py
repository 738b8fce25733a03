"""Every text, e-mail, password and date field is full-size and on its own line under its label
at a phone's width (issue 18: e-mail and date fields rendered tiny beside their label)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import PHONE
from tests.conftest import ADVOCATE_ORG
from tests.conftest import STAFF_PASSWORD
from tests.conftest import Staffer

pytestmark = pytest.mark.browser

FIELDS = "input[type=email], input[type=password], input[type=date], input[type=text]"


def _each_field_below_its_label_and_wide(page: Any, where: str) -> int:
    fields = page.locator(FIELDS)
    checked = 0
    for index in range(fields.count()):
        field = fields.nth(index)
        if not field.is_visible():
            continue
        field_id = field.get_attribute("id")
        label = page.locator(f'label[for="{field_id}"]')
        box, label_box = field.bounding_box(), label.bounding_box()
        assert box["height"] >= 44, (where, field_id, box)
        assert box["width"] >= 200, (where, field_id, box)
        assert box["y"] >= label_box["y"] + label_box["height"] - 1, (where, field_id)
        checked += 1
    return checked


def test_fields_are_full_size_under_their_labels_on_a_phone(
    browser: Any, live_server: str, live_app: Any
) -> None:
    context = browser.new_context(viewport=PHONE, base_url=live_server, is_mobile=True)
    page = context.new_page()
    checked = 0
    for path in ("/account/sign-in", "/advocate/register", "/check", "/request/where"):
        page.goto(path)
        checked += _each_field_below_its_label_and_wide(page, path)
    advocate = Staffer(live_app, "lawyer@northside.example", "advocate", ADVOCATE_ORG)
    page.goto("/account/sign-in")
    page.get_by_label("E-mail address").fill(advocate.email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(advocate.code())
    page.get_by_role("button", name="Sign in").click()
    page.goto("/advocate/file/places")
    page.get_by_label("Places, one on each line").fill("https://gallery.example.ie/a/1")
    page.get_by_role("button", name="Check and add these lines").click()
    page.get_by_label("Places, one on each line").fill("")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue").click()
    assert page.locator("input[type=date]").count() == 1
    checked += _each_field_below_its_label_and_wide(page, "/advocate/file/consent")
    assert checked >= 8
    context.close()
