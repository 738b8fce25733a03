"""Pages short enough for a phone: one language control in the header (a disclosure of plain
links), the hotlines as one line each with what is known on demand, support in groups with
someone to talk to first, and the dry run sent to its own answer. The sizes on screen are
measured in tests/browser/test_compact_pages.py."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from html.parser import HTMLParser

from flask import url_for

from assistant.config import SUPPORTED_LANGUAGES
from assistant.config import language_tag
from assistant.support_resources import TOPICS
from assistant.support_resources import load_resources
from assistant.web.forms import LANGUAGE_NAMES
from assistant.web.texts import accepts_text
from tests.conftest import csrf_token

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def text(self) -> str:
        parts = list(self.texts) + [child.text() for child in self.children]
        return " ".join(" ".join(parts).split())

    def all(self, tag: str, **attrs: str) -> list[Node]:
        found = []
        for child in self.children:
            if child.tag == tag and all(child.attrs.get(k) == v for k, v in attrs.items()):
                found.append(child)
            found.extend(child.all(tag, **attrs))
        return found

    def classed(self, tag: str, name: str) -> list[Node]:
        return [node for node in self.all(tag) if name in node.attrs.get("class", "").split()]

    def one(self, tag: str, **attrs: str) -> Node:
        found = self.all(tag, **attrs)
        assert len(found) == 1, (tag, attrs, len(found))
        return found[0]


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.root = Node("document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {key: value or "" for key, value in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].texts.append(data)


def tree(html: str) -> Node:
    parser = _Tree()
    parser.feed(html)
    return parser.root


# ---- the language control ----------------------------------------------------------------------


def test_the_header_has_one_language_disclosure_of_plain_links_each_in_its_own_language(client):
    page = tree(client.get("/hotlines?lang=fr").get_data(as_text=True))
    header = page.one("header")
    nav = header.one("nav", **{"class": "languages"})
    details = nav.one("details")
    assert "open" not in details.attrs  # closed: one line until it is asked for
    summary = details.one("summary")
    # The summary names the language the page is in, in that language.
    assert summary.one("span", lang="fr").text() == "Français"
    links = {a.attrs["href"]: a for a in details.all("a")}
    others = [code for code in SUPPORTED_LANGUAGES if code != "fr"]
    assert sorted(links) == sorted(f"?lang={language_tag(code)}" for code in others)
    for code in others:
        link = links[f"?lang={language_tag(code)}"]
        assert link.attrs["lang"] == link.attrs["hreflang"] == language_tag(code)
        assert link.text() == LANGUAGE_NAMES[code]
    current = details.one("span", **{"aria-current": "true"})
    assert (current.attrs["lang"], current.text()) == ("fr", "Français")
    # The only language links on the page are these: one control, not a row of twelve.
    language_links = [a for a in page.all("a") if a.attrs.get("href", "").startswith("?lang=")]
    assert len(language_links) == len(SUPPORTED_LANGUAGES) - 1
    # Support and safety stay the header's first links after the site's name.
    assert [a.attrs["href"] for a in header.all("a")][1:3] == ["/support", "/safety"]


def test_a_language_link_changes_the_language(client):
    page = client.get("/support?lang=nl").get_data(as_text=True)
    assert '<html lang="nl"' in page


def test_the_language_control_is_only_on_pages_asked_for_with_get(client):
    token = csrf_token(client, "/hotlines")
    answer = client.post("/hotlines", data={"csrf_token": token, "places": "example.com/a"})
    assert answer.status_code == 200
    assert not tree(answer.get_data(as_text=True)).classed("nav", "languages")


# ---- the hotlines ------------------------------------------------------------------------------


def test_each_hotline_is_one_line_with_its_details_on_demand(client, services):
    page = tree(client.get("/hotlines").get_data(as_text=True))
    items = page.one("ul", **{"class": "hotline-list"}).children
    hotlines = sorted(services.directory.hotlines.values(), key=lambda h: h.name.casefold())
    assert len(items) == len(hotlines) >= 50
    for item, hotline in zip(items, hotlines, strict=True):
        details = item.one("details")
        assert "open" not in details.attrs
        summary = details.one("summary")
        assert summary.one("h3").text() == hotline.name
        body = details.classed("div", "hotline-details")[0].text()
        # The website, the check and every source stay, inside the details.
        assert hotline.website in body
        assert "Checked by a person" in body and "Sources" in body
        assert all(source in body for source in hotline.sources)


def test_the_hotlines_show_only_what_is_stated(app, client, services):
    html = client.get("/hotlines").get_data(as_text=True)
    assert "Not stated" not in html
    hotlines = list(services.directory.hotlines.values())
    # The data has both: hotlines that say whether they take such reports, and many that do not.
    said_p2p = sum(h.accepts_p2p is not None for h in hotlines)
    said_dark = sum(h.accepts_dark_web is not None for h in hotlines)
    assert 0 < said_p2p < len(hotlines) and 0 < said_dark < len(hotlines)
    assert html.count("Takes file-sharing reports") == said_p2p
    assert html.count("Takes dark-web reports") == said_dark
    assert html.count("Its own reporting page") == sum(bool(h.report_url) for h in hotlines)
    with app.test_request_context("/?lang=fr"):
        not_stated_in_french = accepts_text(None)
    assert not_stated_in_french != "Not stated"
    assert not_stated_in_french not in client.get("/hotlines?lang=fr").get_data(as_text=True)


def test_the_hotline_search_still_filters_the_list(client):
    page = tree(client.get("/hotlines?q=Ireland").get_data(as_text=True))
    names = [li.one("h3").text() for li in page.one("ul", **{"class": "hotline-list"}).children]
    assert names == ["Hotline.ie"]


# ---- the dry run -------------------------------------------------------------------------------


def test_the_dry_run_is_sent_to_its_answer_which_can_take_the_focus(client):
    page = tree(client.get("/hotlines").get_data(as_text=True))
    (form,) = [f for f in page.all("form") if f.attrs.get("method") == "post"]
    assert form.attrs["action"] == "/hotlines#results"
    token = csrf_token(client, "/hotlines")
    answer = tree(
        client.post("/hotlines", data={"csrf_token": token, "places": "example.ie/a"}).get_data(
            as_text=True
        )
    )
    target = answer.one("h3", id="results")
    assert target.attrs["tabindex"] == "-1"
    assert "Would go to" in answer.classed("div", "results")[0].text()


def test_a_dry_run_with_nothing_in_it_opens_at_what_to_fix(client):
    token = csrf_token(client, "/hotlines")
    answer = tree(
        client.post("/hotlines", data={"csrf_token": token, "places": " "}).get_data(as_text=True)
    )
    target = answer.one("div", id="results")
    assert target.attrs["tabindex"] == "-1"
    assert target.all("div", id="error-summary")
    assert "Paste at least one link or name." in target.text()


# ---- support -----------------------------------------------------------------------------------


def _groups(page: Node) -> list[Node]:
    return page.classed("details", "support-group")


def test_support_comes_in_groups_someone_to_talk_to_first_and_open(client):
    page = tree(client.get("/support?country=GB").get_data(as_text=True))
    groups = _groups(page)
    assert [g.attrs["id"] for g in groups] == ["talk-now", "survivors", "reporting", "hotlines"]
    assert groups[0].one("summary").one("h2").text() == "Talk to someone now"
    assert "open" in groups[0].attrs
    assert all("open" not in g.attrs for g in groups[1:])
    # Samaritans (the United Kingdom's crisis line) leads, before what helps anywhere.
    talk = groups[0].text()
    assert (
        talk.index("In United Kingdom") < talk.index("Samaritans") < talk.index("Wherever you are")
    )
    assert talk.index("Childline") < talk.index("Find A Helpline")


def test_support_loses_nothing_each_service_once_in_its_group(client, services):
    resources = load_resources()
    assert {resource.topic for resource in resources.entries} == set(TOPICS)
    for country in ("GB", "DE", None):
        path = f"/support?country={country}" if country else "/support"
        page = tree(client.get(path).get_data(as_text=True))
        by_group = {g.attrs["id"]: g for g in _groups(page)}
        shown = [r for r in resources.for_reader(country, "en") if r.kind != "emergency"]
        assert shown
        for resource in shown:
            group = by_group[resource.topic.replace("_", "-")]
            names = [h3.text() for h3 in group.all("h3")]
            assert names.count(resource.name) == 1, (path, resource.name)
        everything = [h3.text() for g in by_group.values() for h3 in g.all("h3")]
        assert len(everything) == len(shown)
        hotlines = by_group["hotlines"].text()
        assert all(h.website in hotlines for h in services.directory.hotlines.values())


def test_support_links_to_the_page_for_someone_who_has_a_copy(client, app):
    page = tree(client.get("/support").get_data(as_text=True))
    reporting = page.one("details", id="reporting")
    with app.test_request_context():
        address = url_for("public.have_a_copy")
    links = [a for a in reporting.all("a") if a.attrs.get("href") == address]
    assert [a.text() for a in links] == ["If you have a copy of an image"]
    assert client.get(address).status_code == 200


# ---- the Shift exit's words --------------------------------------------------------------------


def test_the_exit_bar_carries_the_visible_count_and_a_hint_the_script_shows(client):
    page = tree(client.get("/").get_data(as_text=True))
    bar = page.one("div", id="exit-bar")
    assert bar.attrs["data-count-one"] == "Shift: 1 of 3"
    assert bar.attrs["data-count-two"] == "Shift: 2 of 3"
    count = bar.one("span", id="exit-count")
    assert count.attrs["aria-hidden"] == "true" and count.text() == ""
    assert bar.classed("span", "exit-hint")[0].text() == "or press Shift 3 times"
