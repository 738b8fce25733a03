"""Browser fixtures: the app served on loopback by a real WSGI server, and the system Chromium
driven by Playwright at a phone's size. Without Chromium these tests skip with a reason, unless
``ASSISTANT_REQUIRE_BROWSER=1`` (CI), where they fail."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import empty_all_tables
from tests.conftest import make_app

PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.path.exists(candidate):
            return candidate
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    required = os.environ.get("ASSISTANT_REQUIRE_BROWSER") == "1"
    if path is None:
        if required:
            pytest.fail("ASSISTANT_REQUIRE_BROWSER=1 but no Chromium at /usr/bin/chromium")
        pytest.skip("no system Chromium found (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 (skips without it)
    except ImportError:
        if required:
            pytest.fail("ASSISTANT_REQUIRE_BROWSER=1 but playwright is not installed")
        pytest.skip("playwright is not installed")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(autouse=True)
def clicks_wait_for_the_page(browser: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A click that follows a link or sends a form returns once the next page has begun to arrive,
    not once it is all there: a test that looked at the page straight after could see half of it
    (a long page such as /hotlines, on a busy machine). A person waits for the page to load; so
    does every click and key press here. Without a navigation the page is already loaded and
    the wait returns at once."""
    from playwright.sync_api import Locator  # noqa: PLC0415 (imported where the browser is)

    click = Locator.click
    press = Locator.press

    def click_and_wait(self: Any, *args: Any, **kwargs: Any) -> None:
        click(self, *args, **kwargs)
        self.page.wait_for_load_state()

    def press_and_wait(self: Any, *args: Any, **kwargs: Any) -> None:
        press(self, *args, **kwargs)
        self.page.wait_for_load_state()

    monkeypatch.setattr(Locator, "click", click_and_wait)
    monkeypatch.setattr(Locator, "press", press_and_wait)


@pytest.fixture
def live_app(database_url: str, tmp_path: Any) -> Iterator[Flask]:
    """The app the live server runs; its quick exit leads to a page on the same server, and it
    publishes provider figures (a page that is off by default)."""
    app = make_app(
        database_url, tmp_path / "instance", exit_url="/?left=1", publish_provider_figures=True
    )
    empty_all_tables(app)
    yield app
    empty_all_tables(app)


@pytest.fixture
def live_server(live_app: Flask) -> Iterator[str]:
    """The app on 127.0.0.1 at a free port."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(params=[True, False], ids=["javascript-on", "javascript-off"])
def page(request: pytest.FixtureRequest, browser: Any, live_server: str) -> Iterator[Any]:
    context = browser.new_context(
        viewport=PHONE,
        java_script_enabled=request.param,
        base_url=live_server,
        is_mobile=True,
        has_touch=True,
    )
    outside: list[str] = []

    def watch(req: Any) -> None:
        if not req.url.startswith(live_server):
            outside.append(req.url)

    context.on("request", watch)
    page = context.new_page()
    page.outside_requests = outside
    yield page
    context.close()


def sign_in_with_receipt(
    page: Any, number: str, passphrase: str, lands_on: str = "Your request"
) -> None:
    """The survivor's sign-in, through the check page, in English."""
    page.goto("/check?lang=en")
    page.get_by_label("Case number").fill(number)
    page.get_by_label("Passphrase").fill(passphrase)
    page.get_by_role("button", name="Show my request").click()
    page.get_by_role("heading", name=lands_on).wait_for()
