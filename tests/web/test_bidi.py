"""Right-to-left pages (Arabic, and Persian since issue 19) keep left-to-right names, addresses
and references in one piece (issue 18): each is isolated, by an element with its own direction
(``dir``, ``<bdi>``) or, inside a translated sentence, by Unicode's isolates (FSI … PDI), so that
"(eco Complaints Office)" keeps its brackets and "www.reddit.com/…" does not become
"…/www.reddit.com"."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from assistant.config import RTL_LANGUAGES
from assistant.config import SUPPORTED_LANGUAGES
from tests.busy_case import file_case
from tests.conftest import Survivor
from tests.conftest import csrf_token

FSI, PDI = "\u2068", "\u2069"
VOID = {"meta", "link", "input", "br", "img", "hr", "source", "area", "base", "col", "wbr"}


class _Isolation(HTMLParser):
    """Every place in the page's text where ``needle`` is not isolated."""

    def __init__(self, needles: list[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.needles = needles
        self.stack: list[bool] = []
        self.skip = 0
        self.found: dict[str, int] = {}
        self.loose: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        if tag in ("script", "style", "textarea"):
            self.skip += 1
        # The page's own direction (on <html>) isolates nothing inside it.
        isolates = tag == "bdi" or (tag != "html" and any(name == "dir" for name, _ in attrs))
        self.stack.append(isolates)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if tag in ("script", "style", "textarea"):
            self.skip -= 1
        if self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        inside = any(self.stack)
        for needle in self.needles:
            for match in re.finditer(re.escape(needle), data):
                self.found[needle] = self.found.get(needle, 0) + 1
                start, end = match.span()
                by_marks = data[:start].endswith(FSI) and data[end:].startswith(PDI)
                if not (inside or by_marks):
                    self.loose.append(f"{needle!r} in {data.strip()[:80]!r}")


def assert_isolated(page: str, *needles: str) -> None:
    checker = _Isolation(list(needles))
    checker.feed(page)
    assert checker.loose == []
    for needle in needles:
        assert checker.found.get(needle), f"{needle!r} is not on the page at all"


# Every right-to-left language offered: Arabic and Persian.
RIGHT_TO_LEFT = sorted(RTL_LANGUAGES)


def _right_to_left(survivor: Survivor, language: str) -> None:
    assert language in SUPPORTED_LANGUAGES, f"{language} is not offered (its catalogue?)"
    survivor.client.get(f"/?lang={language}")


@pytest.mark.parametrize("language", RIGHT_TO_LEFT)
def test_the_review_receipt_and_status_pages_isolate_names_and_addresses(
    survivor: Survivor, language: str
):
    _right_to_left(survivor, language)
    survivor.add_places(value="https://www.reddit.com/r/somewhere")
    survivor.add_places(value="https://example.de/x")
    where = survivor.client.get("/request/where").get_data(as_text=True)
    assert 'dir="rtl"' in where
    assert_isolated(where, "www.reddit.com/…")
    survivor.add_places(action="continue")
    review = survivor.client.get("/request/review").get_data(as_text=True)
    assert_isolated(
        review, "eco Beschwerdestelle (eco Complaints Office)", "www.reddit.com/…", "CyberTipline"
    )
    token = csrf_token(survivor.client, "/request/review")
    draft = re.search(r'name="draft" value="([^"]+)"', review)
    assert draft
    receipt = survivor.client.post(
        "/request/send", data={"csrf_token": token, "draft": draft.group(1)}
    ).get_data(as_text=True)
    number = re.search(r'id="case-number">([^<]+)<', receipt)
    passphrase = re.search(r'id="passphrase">([^<]+)<', receipt)
    assert number and passphrase
    assert_isolated(
        receipt,
        "eco Beschwerdestelle (eco Complaints Office)",
        number.group(1),
        passphrase.group(1),
    )
    survivor.sign_in(number.group(1), passphrase.group(1))
    status = survivor.client.get("/my-request").get_data(as_text=True)
    assert_isolated(
        status, "eco Beschwerdestelle (eco Complaints Office)", "www.reddit.com/…", number.group(1)
    )


@pytest.mark.parametrize("language", RIGHT_TO_LEFT)
def test_the_hotlines_page_and_a_dry_run_isolate_them_too(survivor: Survivor, language: str):
    _right_to_left(survivor, language)
    page = survivor.client.get("/hotlines").get_data(as_text=True)
    assert_isolated(page, "eco Beschwerdestelle (eco Complaints Office)")
    token = csrf_token(survivor.client, "/hotlines")
    tried = survivor.client.post(
        "/hotlines",
        data={"csrf_token": token, "places": "https://www.reddit.com/r/x", "country": ""},
    ).get_data(as_text=True)
    assert_isolated(tried, "www.reddit.com/…", "CyberTipline")


def test_english_pages_carry_no_invisible_marks(survivor: Survivor):
    survivor.add_places(value="https://example.de/x")
    survivor.add_places(action="continue")
    review = survivor.client.get("/request/review?lang=en").get_data(as_text=True)
    assert FSI not in review and PDI not in review


@pytest.mark.parametrize("language", RIGHT_TO_LEFT)
def test_messages_keep_the_direction_they_were_written_in(app, survivor: Survivor, language):
    """A message is shown in the direction of its own text (``dir="auto"``): an English sentence
    from a hotline keeps its full stop at its end on an Arabic page."""
    filed = file_case(app, places=2, hotlines=2)
    survivor.sign_in(filed.case_number, filed.passphrase)
    page = survivor.client.get(f"/my-request?lang={language}").get_data(as_text=True)
    assert_isolated(page, "We are looking at this.", "Thank you.")
    # Two hotlines wrote, the survivor answered once.
    assert page.count('<p class="body" dir="auto">') == 3
