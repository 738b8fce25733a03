"""Errors follow the GOV.UK pattern on every form of the survivor's and the advocate's side, and on
the sign-in and account forms: an error summary first in <main> that lists every problem, each a
link to its field; the same words by the field, which points at them with ``aria-describedby``;
and "Error: " at the start of the page's title."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from html.parser import HTMLParser
from typing import Any

import pytest

from tests.conftest import Staffer
from tests.conftest import Survivor
from tests.conftest import csrf_token
from tests.conftest import hotlines_take_part

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
CONTROLS = {"input", "select", "textarea"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None
    children: list[Element] = field(default_factory=list)
    # Text and children in the order they come.
    parts: list[str | Element] = field(default_factory=list)

    def text(self) -> str:
        words = (part if isinstance(part, str) else part.text() for part in self.parts)
        return " ".join(" ".join(words).split())

    def walk(self) -> list[Element]:
        return [self, *(found for child in self.children for found in child.walk())]

    def ancestors(self) -> list[Element]:
        found, node = [], self.parent
        while node is not None:
            found.append(node)
            node = node.parent
        return found


class Page(HTMLParser):
    """A rendered page as a small tree: enough to follow the summary's links to their fields."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.root = Element("document", {}, None)
        self.open = self.root
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.open)
        self.open.children.append(element)
        self.open.parts.append(element)
        if tag not in VOID:
            self.open = element

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.open
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.open = node.parent

    def handle_data(self, data: str) -> None:
        self.open.parts.append(data)

    def by_id(self, element_id: str) -> Element | None:
        found = [e for e in self.root.walk() if e.attrs.get("id") == element_id]
        assert len(found) <= 1, f"id {element_id!r} is used {len(found)} times"
        return found[0] if found else None

    def first(self, tag: str) -> Element:
        found = [e for e in self.root.walk() if e.tag == tag]
        assert found, tag
        return found[0]

    @property
    def title(self) -> str:
        return self.first("title").text()

    @property
    def summary(self) -> Element | None:
        return self.by_id("error-summary")


def problems_in_summary(page: Page) -> list[tuple[str, str]]:
    """Each problem the summary lists: (the id its link points at, the words of the problem)."""
    summary = page.summary
    assert summary is not None, "no error summary"
    links = [e for e in summary.walk() if e.tag == "a"]
    items = [e for e in summary.walk() if e.tag == "li"]
    assert len(links) == len(items), "every problem is a link"
    found = []
    for link in links:
        href = link.attrs.get("href", "")
        assert href.startswith("#"), href
        # A place's problem starts with what was typed ("“…”: "); the field says the rest.
        words = re.sub(r"^“[^”]*”\s*:\s*", "", link.text())
        found.append((href[1:], words))
    return found


def assert_the_pattern(page: Page, *, inline: bool = True, first_in_main: bool = True) -> None:
    """Summary first, every problem linked to an existing field, told again by the field."""
    assert page.title.startswith("Error: "), page.title
    summary = page.summary
    assert summary is not None
    assert summary.attrs.get("tabindex") == "-1" and "autofocus" in summary.attrs
    if first_in_main:
        # Only a notice of what did work ("Added 1 place.", base.html's) may come before it.
        before = page.first("main").children
        before = before[: before.index(summary)] if summary in before else before
        assert summary.parent is page.first("main"), "the summary is in <main> itself"
        assert all(e.attrs.get("class") == "notice" for e in before), "the summary is first"
    problems = problems_in_summary(page)
    assert problems
    for target, words in problems:
        control = page.by_id(target)
        assert control is not None and control.tag in CONTROLS, f"#{target} is not a field"
        if not inline:
            continue
        error_id = f"{control.attrs['name']}-error"
        message = page.by_id(error_id)
        assert message is not None, f"no message by {target}"
        assert words in message.text(), (words, message.text())
        described = [control, *control.ancestors()]
        assert any(error_id in e.attrs.get("aria-describedby", "").split() for e in described), (
            f"{target} is not described by its message"
        )


# --- the cases the issue names ----------------------------------------------------------------


def test_an_empty_registration_lists_all_five_problems_each_linked_to_its_field(client):
    token = csrf_token(client, "/advocate/register")
    response = client.post("/advocate/register", data={"csrf_token": token})
    assert response.status_code == 400
    page = Page(response.get_data(as_text=True))
    assert page.title == "Error: Register – Request Assistant"
    assert problems_in_summary(page) == [
        ("name", "Enter your name."),
        ("organisation", "Enter your organisation."),
        ("role", "Enter your role."),
        ("email", "Enter your work e-mail address, like name@organisation.org."),
        ("reason", "Say why you need access."),
    ]
    assert_the_pattern(page)
    for name in ("name", "organisation", "role", "email", "reason"):
        control = page.by_id(name)
        assert control is not None and control.attrs.get("aria-invalid") == "true"
    # A hint stays described too, before the message.
    role = page.by_id("role")
    assert role is not None and role.attrs["aria-describedby"] == "role-hint role-error"


def test_a_registration_with_some_answers_lists_only_what_is_missing(client):
    token = csrf_token(client, "/advocate/register")
    response = client.post(
        "/advocate/register",
        data={"csrf_token": token, "name": "Ana", "role": "x" * 121, "email": "not an address"},
    )
    page = Page(response.get_data(as_text=True))
    assert [target for target, _ in problems_in_summary(page)] == [
        "organisation",
        "role",
        "email",
        "reason",
    ]
    assert (
        "An answer is too long: at most 120 characters." in dict(problems_in_summary(page))["role"]
    )
    name = page.by_id("name")
    assert name is not None and "aria-describedby" not in name.attrs
    assert page.by_id("name-error") is None


def test_pages_without_a_problem_have_no_error_in_their_title(client, survivor: Survivor):
    assert "<title>Register – Request Assistant</title>" in client.get(
        "/advocate/register"
    ).get_data(as_text=True)
    # The answer to a form sent, without a problem, is not an error either.
    token = csrf_token(client, "/advocate/register")
    registered = client.post(
        "/advocate/register",
        data={
            "csrf_token": token,
            "name": "Ana",
            "organisation": "Northside",
            "role": "Case worker",
            "email": "ana@northside.example",
            "reason": "I help survivors.",
        },
    )
    assert registered.status_code == 200
    page = Page(registered.get_data(as_text=True))
    assert page.summary is None and not page.title.startswith("Error")
    where = Page(survivor.client.get("/request/where").get_data(as_text=True))
    assert where.title == "Step 1 of 4 – Request Assistant"


def test_a_place_that_cannot_be_used_is_summarised_before_the_content_note(survivor: Survivor):
    response = survivor.add_places(value="javascript:alert(1)")
    html = response.get_data(as_text=True)
    page = Page(html)
    assert_the_pattern(page)
    assert html.index('id="error-summary"') < html.index('class="content-note"')
    assert html.index('id="error-summary"') < html.index("<h1")
    [(target, words)] = problems_in_summary(page)
    assert target == "value"
    value = page.by_id("value")
    assert value is not None
    assert value.attrs["aria-describedby"] == "value-hint value-error"
    assert value.attrs.get("aria-invalid") == "true"
    message = page.by_id("value-error")
    assert message is not None and words in message.text()


def test_pasted_lines_that_cannot_be_used_are_told_by_the_paste_box(survivor: Survivor):
    response = survivor.add_places(pasted="javascript:alert(1)\nhttps://example.com/fine\n\x07bell")
    html = response.get_data(as_text=True)
    page = Page(html)
    assert_the_pattern(page)
    problems = problems_in_summary(page)
    assert [target for target, _ in problems] == ["pasted", "pasted"]
    message = page.by_id("pasted-error")
    assert message is not None and "“javascript:alert(1)”" in message.text()
    # The box they came back to is open, so the link lands on a field that can be seen.
    details = [
        e for e in page.root.walk() if e.tag == "details" and "paste" in e.attrs.get("class", "")
    ]
    assert details and "open" in details[0].attrs


# --- every form page -------------------------------------------------------------------------


@dataclass
class FormPage:
    """A form page and a post to it with problems: ``post(app)`` returns the response."""

    post: Callable[[Any], Any]
    problems: int


def _survivor_with_a_draft(app: Any) -> Survivor:
    survivor = Survivor(app.test_client())
    assert survivor.add_places(value="https://example.ie/draft").status_code == 303
    return survivor


def _signed_in_survivor(app: Any) -> Survivor:
    survivor = Survivor(app.test_client())
    survivor.sign_in(*survivor.file("https://example.ie/filed"))
    return survivor


def _advocate_with_places(app: Any) -> Staffer:
    advocate = Staffer(app, "helper@northside.example", "advocate", "Northside")
    assert advocate.sign_in().status_code == 303
    advocate.post("/advocate/file/places", {"pasted": "https://example.ie/c", "action": "check"})
    return advocate


def _post(client: Any, path: str, data: dict[str, Any], form_on: str = "") -> Any:
    token = csrf_token(client, form_on or path)
    return client.post(path, data={"csrf_token": token, **data})


def _check(app: Any) -> Any:
    return _post(app.test_client(), "/check", {})


def _where(app: Any) -> Any:
    return Survivor(app.test_client()).add_places(
        value="javascript:alert(1)", pasted="javascript:alert(2)"
    )


def _add(app: Any) -> Any:
    return _post(
        _signed_in_survivor(app).client, "/my-request/add", {"value": "javascript:alert(1)"}
    )


def _about(app: Any) -> Any:
    client = _survivor_with_a_draft(app).client
    return _post(client, "/request/about", {"minor": "maybe", "country": "ZZ", "language": "xx"})


def _erase(app: Any) -> Any:
    return _post(_signed_in_survivor(app).client, "/my-request/erase", {})


def _message(app: Any) -> Any:
    client = _signed_in_survivor(app).client
    hotlines_take_part(app)  # so that the status page has a form to write to it
    return _post(client, "/my-request/message", {"body": "  "}, form_on="/my-request")


def _register(app: Any) -> Any:
    return _post(app.test_client(), "/advocate/register", {})


def _places(app: Any) -> Any:
    advocate = Staffer(app, "helper@northside.example", "advocate", "Northside")
    assert advocate.sign_in().status_code == 303
    return advocate.post("/advocate/file/places", {"pasted": "", "action": "continue"})


def _details(app: Any) -> Any:
    return _advocate_with_places(app).post(
        "/advocate/file/details", {"minor": "maybe", "country": "ZZ", "language": "xx"}
    )


def _consent(app: Any) -> Any:
    return _advocate_with_places(app).post("/advocate/file/consent", {})


def _consent_in_the_future(app: Any) -> Any:
    return _advocate_with_places(app).post(
        "/advocate/file/consent",
        {"method": "written", "given_on": "2999-01-01", "survivor_receipt": "no"},
    )


def _sign_in(app: Any) -> Any:
    return _post(app.test_client(), "/account/sign-in", {})


def _wrong_sign_in(app: Any) -> Any:
    return _post(
        app.test_client(),
        "/account/sign-in",
        {"email": "nobody@example.org", "password": "wrong", "code": "000000"},
    )


def _password(app: Any) -> Any:
    staffer = Staffer(app, "pw@hotline-a.example", "staff", "hotline_ie")
    assert staffer.sign_in().status_code == 303
    return staffer.post("/account/password", {})


FORM_PAGES = {
    "survivor check": FormPage(_check, 2),
    "where is it": FormPage(_where, 2),
    "add places": FormPage(_add, 1),
    "about you": FormPage(_about, 3),
    "erase": FormPage(_erase, 1),
    "message to the hotline": FormPage(_message, 1),
    "advocate register": FormPage(_register, 5),
    "advocate places": FormPage(_places, 1),
    "advocate details": FormPage(_details, 3),
    "advocate consent": FormPage(_consent, 3),
    "advocate consent in the future": FormPage(_consent_in_the_future, 1),
    "staff sign-in": FormPage(_sign_in, 3),
    "staff sign-in refused": FormPage(_wrong_sign_in, 1),
    "change password": FormPage(_password, 3),
}


@pytest.mark.parametrize("name", FORM_PAGES)
def test_every_form_page_follows_the_error_pattern(app, name):
    form_page = FORM_PAGES[name]
    response = form_page.post(app)
    assert response.status_code in (200, 400, 401), response.status_code
    page = Page(response.get_data(as_text=True))
    assert len(problems_in_summary(page)) == form_page.problems
    assert_the_pattern(page)


def test_a_problem_only_the_consent_check_finds_points_at_its_field(app):
    page = Page(_consent_in_the_future(app).get_data(as_text=True))
    [(target, words)] = problems_in_summary(page)
    assert target == "given_on" and "cannot be in the future" in words


def test_the_same_problem_is_never_listed_twice(app):
    """The consent check repeats what a field already shows: the summary lists it once."""
    advocate = _advocate_with_places(app)
    response = advocate.post(
        "/advocate/file/consent", {"given_on": "2024-01-01", "survivor_receipt": "no"}
    )
    page = Page(response.get_data(as_text=True))
    assert problems_in_summary(page) == [("method-0", "Say how the survivor gave their consent.")]
    assert re.search(r'<fieldset aria-describedby="method-error">', response.get_data(as_text=True))
