"""Nothing leaves the site: a crawl of every page each audience can reach (and the error states)
finds no script, style, image, font, frame, form action or manifest address outside the site,
no inline script or style for the Content-Security-Policy to refuse, and the policy on every
page."""

from __future__ import annotations

import json
import re
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin
from urllib.parse import urlsplit

from tests.conftest import csrf_token

ROOT = Path(__file__).resolve().parents[2]
NEVER_FOLLOW = ("/exit",)  # it ends the session the crawl needs
ATTRIBUTES_WITH_ADDRESSES = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "form": ("action",),
    "button": ("formaction",),
    "input": ("formaction", "src"),
    "audio": ("src",),
    "video": ("src", "poster"),
    "track": ("src",),
    "image": ("href",),
    "use": ("href",),
    "base": ("href",),
}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.assets: list[tuple[str, str]] = []
        self.links: list[str] = []
        self.inline: list[str] = []
        self._tag_stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        for attribute in ATTRIBUTES_WITH_ADDRESSES.get(tag, ()):
            if found.get(attribute):
                self.assets.append((f"{tag}[{attribute}]", found[attribute]))
        if tag == "a" and found.get("href"):
            self.links.append(found["href"])
        if tag == "script" and not found.get("src"):
            self.inline.append("inline <script>")
        if tag == "style":
            self.inline.append("<style> element")
        for key in found:
            if key == "style" or key.startswith("on"):
                self.inline.append(f"{tag}[{key}]")
        self._tag_stack.append(tag)


def same_origin(address: str) -> bool:
    parts = urlsplit(address)
    return not parts.scheme and not parts.netloc and not address.startswith("//")


def _check(path: str, response: Any, problems: list[str]) -> _Page:
    page = _Page()
    if response.mimetype != "text/html":
        return page
    assert "default-src 'none'" in response.headers["Content-Security-Policy"], path
    page.feed(response.get_data(as_text=True))
    problems += [
        f"{path}: {what} {address}" for what, address in page.assets if not same_origin(address)
    ]
    problems += [f"{path}: {what}" for what in page.inline]
    return page


def crawl(client: Any, seeds: list[str], limit: int = 150) -> tuple[set[str], list[str]]:
    """Every page reachable through same-site links from the seeds; what is wrong on them."""
    seen: set[str] = set()
    problems: list[str] = []
    queue = deque(seeds)
    while queue and len(seen) < limit:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        page = _check(path, response, problems)
        for href in page.links:
            if not same_origin(href) or href.startswith("#"):
                continue
            target = urljoin(path, href).split("#")[0]
            if "lang=" in target or target.startswith(NEVER_FOLLOW):
                continue
            if target not in seen:
                queue.append(target)
    return seen, problems


def test_no_page_of_any_audience_loads_anything_from_elsewhere(
    client, survivor, staff_a, admin, advocate_a
):
    number, passphrase = survivor.file(
        "https://gallery.example.ie/album/1", "https://example.org/b", country="IE"
    )
    anonymous_pages, problems = crawl(
        client, ["/", "/offline", "/no-such-page", "/account/sign-in"]
    )
    assert {
        "/",
        "/support",
        "/safety",
        "/hotlines",
        "/request/start",
        "/check",
        "/request/not-sure",
    } <= anonymous_pages
    survivor.sign_in(number, passphrase)
    survivor_pages, found = crawl(survivor.client, ["/my-request"])
    problems += found
    assert {"/my-request", "/my-request/add", "/my-request/erase"} <= survivor_pages
    staff_pages, found = crawl(staff_a.client, ["/hotline/"])
    problems += found
    assert any(page.startswith("/hotline/referrals/") for page in staff_pages)
    assert {"/hotline/due", "/hotline/providers", "/account/password"} <= staff_pages
    admin_pages, found = crawl(admin.client, ["/admin/"])
    problems += found
    assert {"/admin/", "/admin/audit"} <= admin_pages
    assert "/advocate/register" in anonymous_pages
    token = csrf_token(survivor.client, "/my-request")
    invited = survivor.client.post("/my-request/invitation", data={"csrf_token": token})
    _check("/my-request/invitation", invited, problems)
    code = re.search(r'id="invitation-code">([^<]+)<', invited.get_data(as_text=True))
    assert code
    advocate_a.post("/advocate/redeem", {"code": code.group(1)})
    advocate_a.post(
        "/advocate/file/places", {"pasted": "https://example.ie/x\njavascript:1", "action": "check"}
    )
    advocate_pages, found = crawl(advocate_a.client, ["/advocate/"])
    problems += found
    assert {
        "/advocate/",
        "/advocate/file/places",
        "/advocate/redeem",
        "/account/password",
    } <= advocate_pages
    assert any(page.startswith("/advocate/cases/") for page in advocate_pages)
    assert problems == []


def test_error_states_load_nothing_from_elsewhere_either(client, survivor):
    problems: list[str] = []
    token = csrf_token(client, "/check")
    wrong = client.post(
        "/check",
        data={"csrf_token": token, "case_number": "RQ-AAAAAAAA", "passphrase": "no such thing"},
    )
    _check("/check (wrong receipt)", wrong, problems)
    bad_place = survivor.add_places(value="javascript:alert(1)")
    _check("/request/where (refused place)", bad_place, problems)
    expired_form = client.post("/check", data={"case_number": "RQ-AAAAAAAA"})
    assert expired_form.status_code == 400
    _check("/check (no CSRF token)", expired_form, problems)
    assert problems == []


def test_the_manifest_the_worker_and_the_style_sheet_name_only_this_site(client):
    manifest = json.loads(client.get("/manifest.webmanifest").get_data(as_text=True))
    addresses = [
        manifest["start_url"],
        manifest["scope"],
        manifest["id"],
        *(icon["src"] for icon in manifest["icons"]),
    ]
    assert all(same_origin(address) for address in addresses), addresses
    worker = client.get("/service-worker.js").get_data(as_text=True)
    assert not re.search(r"https?://", worker)
    css = (ROOT / "static" / "app.css").read_text("utf-8")
    assert not re.search(r"url\(|@import", css)
    script = (ROOT / "static" / "app.js").read_text("utf-8")
    assert not re.search(r"https?://|XMLHttpRequest|sendBeacon", script)
    # One request of its own: "Stay signed in", to the address the page names (this site's);
    # the policy lets the browser connect to nothing else.
    assert re.findall(r"fetch\(([^,]+),", script) == ['warning.getAttribute("data-keep-url")']
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "connect-src 'self'" in policy and "default-src 'none'" in policy


def test_the_crawler_notices_what_it_is_there_to_catch():
    class Fake:
        mimetype = "text/html"
        headers = {"Content-Security-Policy": "default-src 'none'"}

        def get_data(self, as_text: bool) -> str:
            return (
                '<script src="https://cdn.example/x.js"></script><script>alert(1)</script>'
                '<link rel="stylesheet" href="//fonts.example/css"><p style="color:red">'
                '<form action="https://collect.example/"></form><img src="/ok.png">'
                '<a href="https://elsewhere.example/">a link is not a request</a>'
            )

    problems: list[str] = []
    _check("/fake", Fake(), problems)
    assert problems == [
        "/fake: script[src] https://cdn.example/x.js",
        "/fake: link[href] //fonts.example/css",
        "/fake: form[action] https://collect.example/",
        "/fake: inline <script>",
        "/fake: p[style]",
    ]
