"""In real Chromium at a phone's size: the Shift-key exit and what going back shows afterwards,
the service worker's cache after a signed-in visit and its removal on exit, no install prompt,
pasting into the receipt fields, and a keyboard-only journey where focus is never hidden under the
sticky exit bar."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests.browser.conftest import PHONE
from tests.browser.conftest import sign_in_with_receipt
from tests.conftest import Survivor
from tests.conftest import empty_all_tables
from tests.conftest import hotlines_take_part
from tests.conftest import make_app

pytestmark = pytest.mark.browser

SHELL = {
    "/static/app.css",
    "/static/app.js",
    "/app-icon-192.png",
    "/app-icon-512.png",
    "/offline?lang=en",
}


def _serve(app: Any) -> tuple[Any, str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


class _Neutral(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>Weather</title><h1>Sunny, 21 degrees</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def neutral_site() -> Iterator[str]:
    """A stand-in for the weather site the quick exit leads to: another origin, on loopback."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Neutral)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture
def exit_app(database_url: str, tmp_path: Any, neutral_site: str) -> Iterator[Flask]:
    app = make_app(database_url, tmp_path / "instance", exit_url=neutral_site)
    empty_all_tables(app)
    yield app
    empty_all_tables(app)


@pytest.fixture
def site(exit_app: Flask) -> Iterator[str]:
    server, address = _serve(exit_app)
    yield address
    server.shutdown()


@pytest.fixture
def js_page(browser: Any, site: str) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, base_url=site, is_mobile=True, has_touch=True)
    outside: list[str] = []
    context.on(
        "request",
        lambda req: (
            None
            if req.url.startswith(site) or req.url.startswith("http://127.0.0.1")
            else outside.append(req.url)
        ),
    )
    page = context.new_page()
    page.outside_requests = outside
    yield page
    context.close()


def test_three_shift_presses_leave_and_a_screen_reader_hears_the_count(
    js_page: Any, exit_app: Flask, neutral_site: str
) -> None:
    number, passphrase = Survivor(exit_app.test_client()).file("https://example.com/a")
    hotlines_take_part(exit_app)  # so that the page has a message box to type in
    page = js_page
    sign_in_with_receipt(page, number, passphrase)
    page.goto("/my-request/add")
    page.goto("/my-request")
    status = page.locator("#exit-status")
    assert status.get_attribute("role") == "status"
    # Typing capitals, Shift+Tab and Shift+click never add up to an exit, and stay silent.
    page.get_by_label("Your message").focus()
    for _ in range(3):
        page.keyboard.press("Shift+A")
        page.keyboard.press("Shift+Tab")
        page.locator("h1").click(modifiers=["Shift"])
    assert page.url.endswith("/my-request") and status.inner_text() == ""
    page.locator("h1").click()
    page.keyboard.press("Shift")
    assert status.inner_text() == "Press Shift 2 more times to leave this site."
    page.keyboard.press("Shift")
    assert status.inner_text() == "Press Shift 1 more time to leave this site."
    page.keyboard.press("Shift")
    page.wait_for_url(neutral_site)
    expect(page.get_by_role("heading", name="Sunny, 21 degrees")).to_be_visible()
    # The case page was replaced in the tab's history; the case page behind it (adding places)
    # is asked of the server again, and the sign-in is gone.
    page.go_back()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="Check on my request")).to_be_visible()
    assert page.get_by_role("heading", name="Add more places").count() == 0
    assert page.get_by_role("heading", name="Your request").count() == 0
    page.goto("/my-request")
    expect(page.get_by_role("heading", name="Check on my request")).to_be_visible()
    assert page.outside_requests == []


def test_a_page_brought_back_from_the_cache_asks_the_server_again(
    js_page: Any, exit_app: Flask
) -> None:
    number, passphrase = Survivor(exit_app.test_client()).file("https://example.com/a")
    page = js_page
    sign_in_with_receipt(page, number, passphrase)
    # Meanwhile the sign-in ends (here: the quick exit in another tab of the same browser).
    other = page.context.new_page()
    other.goto("/exit")
    other.close()
    # Chromium keeps no-store pages out of its back-forward cache, so the restore is simulated:
    # the page hears the same event a restored page hears, and must not go on showing the case.
    with page.expect_navigation():
        page.evaluate("""() => window.dispatchEvent(
            new PageTransitionEvent("pageshow", {persisted: true}))""")
    expect(page.get_by_role("heading", name="Check on my request")).to_be_visible()
    assert page.get_by_text(number).count() == 0


def test_quick_exit_button_then_back_never_shows_the_case(page: Any, live_app: Flask) -> None:
    number, passphrase = Survivor(live_app.test_client()).file("https://example.com/a")
    sign_in_with_receipt(page, number, passphrase)
    page.locator("#quick-exit").click()
    page.wait_for_url(re.compile(r"/\?left=1$"))
    page.go_back()
    assert page.get_by_role("heading", name="Your request").count() == 0
    assert page.get_by_text(number).count() == 0
    assert page.outside_requests == []


def test_the_worker_keeps_only_the_shell_and_leaving_removes_it(
    js_page: Any, exit_app: Flask, site: str, neutral_site: str
) -> None:
    number, passphrase = Survivor(exit_app.test_client()).file("https://example.com/private-a")
    page = js_page
    page.goto("/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now the worker controls the page
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    sign_in_with_receipt(page, number, passphrase)
    page.get_by_role("link", name="Add more places").click()
    page.goto("/my-request")
    page.goto("/api/v1/hotlines")
    page.goto("/support")
    kept = page.evaluate("""async () => {
        const out = [];
        for (const name of await caches.keys()) {
            const cache = await caches.open(name);
            for (const request of await cache.keys()) {
                const response = await cache.match(request);
                const url = new URL(request.url);
                out.push([name, url.pathname + url.search, await response.text()]);
            }
        }
        return out;
    }""")
    assert len({name for name, _, _ in kept}) == 1
    assert {path for _, path, _ in kept} == SHELL
    for _, path, body in kept:
        assert number not in body and "example.com" not in body, path
        assert "csrf_token" not in body and "Sign out" not in body, path

    page.locator("#quick-exit").click()
    page.wait_for_url(neutral_site)
    # Back on the site, on a document that runs no script of ours: the worker and its cache
    # are gone (Clear-Site-Data: "storage").
    page.goto(f"{site}/static/app.css")
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then(r => r.length)") == 0
    assert page.evaluate("caches.keys().then(k => k.length)") == 0
    assert page.outside_requests == []


def test_the_offline_page_answers_when_the_network_is_gone(js_page: Any) -> None:
    page = js_page
    page.goto("/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.context.set_offline(True)
    try:
        page.goto("/safety")
        expect(page.get_by_role("heading", name="No connection")).to_be_visible()
    finally:
        page.context.set_offline(False)


def test_the_site_never_asks_to_be_installed(js_page: Any) -> None:
    js_page.goto("/")
    prevented = js_page.evaluate("""() => {
        const event = new Event("beforeinstallprompt", {cancelable: true});
        window.dispatchEvent(event);
        return event.defaultPrevented;
    }""")
    assert prevented is True


def test_the_receipt_can_be_pasted_and_filled_by_a_password_manager(
    js_page: Any, exit_app: Flask
) -> None:
    number, passphrase = Survivor(exit_app.test_client()).file("https://example.com/a")
    page = js_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/check")
    number_field = page.get_by_label("Case number")
    passphrase_field = page.get_by_label("Passphrase")
    assert number_field.get_attribute("autocomplete") == "username"
    assert passphrase_field.get_attribute("autocomplete") == "current-password"
    for field, value in ((number_field, number), (passphrase_field, passphrase)):
        page.evaluate("text => navigator.clipboard.writeText(text)", value)
        field.focus()
        page.keyboard.press("Control+V")
        assert field.input_value() == value
    page.get_by_role("button", name="Show my request").click()
    expect(page.get_by_role("heading", name="Your request")).to_be_visible()


# ---- keyboard only -------------------------------------------------------------------------------


def _focus_is_visible(page: Any) -> str:
    """The focused element's text; fails if the sticky exit bar covers it entirely."""
    focused = page.locator(":focus")
    assert focused.count() == 1
    box = focused.bounding_box()
    bar = page.locator("#exit-bar").bounding_box()
    inside_bar = page.locator("#exit-bar :focus").count() == 1
    if box and bar and not inside_bar:
        assert box["y"] + box["height"] > bar["y"] + bar["height"], "focus hidden under the bar"
    return (
        focused.get_attribute("aria-label")
        or focused.inner_text()
        or focused.get_attribute("name")
        or ""
    ).strip()


def _tab_to(page: Any, wanted: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if _focus_is_visible(page) == wanted:
            return
    raise AssertionError(f"never reached {wanted!r} with Tab")


def _tab_to_field(page: Any, name: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        _focus_is_visible(page)
        if page.locator(f'[name="{name}"]:focus').count():
            return
    raise AssertionError(f"never reached the field {name!r} with Tab")


def test_keyboard_only_from_landing_to_receipt(page: Any) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.locator("#quick-exit:focus").count() == 1  # the first stop, every page
    page.keyboard.press("Tab")
    assert page.locator(".skip-link:focus").count() == 1
    _tab_to(page, "Start a request")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/request/start$"))
    _tab_to(page, "Begin")
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r"/request/where$"))
    _tab_to_field(page, "value")
    page.keyboard.type("https://www.example.fr/a/place")
    page.keyboard.press("Enter")  # Enter in the field adds the place, never removes one
    page.get_by_text("Places you added (1)").wait_for()
    _tab_to(page, "Continue")
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r"/request/what$"))
    _tab_to_field(page, "categories")
    page.keyboard.press("Space")
    assert page.locator('[name="categories"]').first.is_checked()
    _tab_to(page, "Continue")
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r"/request/about$"))
    _tab_to_field(page, "minor")
    page.keyboard.press("ArrowDown")  # radio group: arrows choose
    _tab_to(page, "Continue")
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r"/request/review$"))
    _tab_to(page, "Send my request")
    page.keyboard.press("Enter")
    page.locator("#case-number").wait_for()
    assert re.fullmatch(r"RQ-[0-9A-Z]{8}", page.locator("#case-number").inner_text())
    assert page.outside_requests == []


def test_focus_is_never_hidden_under_the_exit_bar_on_long_pages(page: Any) -> None:
    focusable = "a[href], button, input:not([type=hidden]), select, textarea, summary"
    for path in ("/support?country=GB", "/hotlines", "/safety"):
        page.goto(path)
        stops = page.locator(focusable).count()
        assert stops > 10, path
        for _ in range(stops):
            page.keyboard.press("Tab")
            if page.locator(":focus").count():
                _focus_is_visible(page)
        # Going back up, the bar sits over what is being scrolled to: nothing may hide there.
        for _ in range(stops):
            page.keyboard.press("Shift+Tab")
            if page.locator(":focus").count():
                _focus_is_visible(page)


def test_error_summary_links_land_on_their_field_in_view(page: Any) -> None:
    page.goto("/request/where")
    page.get_by_label("Where is it?").fill("javascript:alert(1)")
    page.get_by_role("button", name="Add this place").click()
    summary_link = page.locator("#error-summary a").first
    assert summary_link.get_attribute("href") == "#value"
    summary_link.focus()
    page.keyboard.press("Enter")
    field = page.locator("#value")
    box, bar = field.bounding_box(), page.locator("#exit-bar").bounding_box()
    assert box and bar and box["y"] >= bar["y"] + bar["height"] - 1
