"""Safe to be caught on: the quick exit on every page and what it ends, the page on using the
service safely, support by country and language (page and API), and the installable shell
(manifest, icon, service worker, offline page) that never holds anything about anyone."""

from __future__ import annotations

import json
import re
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from assistant.config import ConfigError
from assistant.support_resources import Opening
from assistant.support_resources import load_resources
from assistant.web.pwa import _digest
from assistant.web.texts import hours_text
from tests.conftest import Staffer
from tests.conftest import csrf_token
from tests.conftest import make_app

EXIT = '"cache", "cookies", "storage"'


class _Landmarks(HTMLParser):
    """The page's focusable elements in order, and the header's links."""

    def __init__(self) -> None:
        super().__init__()
        self.focusable: list[dict[str, str]] = []
        self.header_links: list[str] = []
        self._in_header = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "header":
            self._in_header += 1
        if tag in ("a", "button", "input", "select", "textarea", "summary") and (
            found.get("type") != "hidden" and found.get("tabindex") != "-1"
        ):
            self.focusable.append({"tag": tag, **found})
            if self._in_header and tag == "a":
                self.header_links.append(found.get("href", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "header":
            self._in_header -= 1


def landmarks(html: str) -> _Landmarks:
    parser = _Landmarks()
    parser.feed(html)
    return parser


def test_every_page_starts_with_the_quick_exit_then_the_skip_link_and_support_in_one_place(
    client, survivor, staff_a
):
    number, passphrase = survivor.file("https://example.com/a")
    survivor.sign_in(number, passphrase)
    pages = [
        (survivor.client, path)
        for path in (
            "/",
            "/support",
            "/safety",
            "/hotlines",
            "/request/start",
            "/request/not-sure",
            "/request/where",
            "/check",
            "/my-request",
            "/my-request/add",
            "/my-request/erase",
            "/offline",
            "/no-such-page",
            "/account/sign-in",
        )
    ]
    staff_pages = [
        (staff_a.client, path) for path in ("/hotline/", "/hotline/due", "/hotline/help")
    ]
    for who, path in pages + staff_pages:
        page = landmarks(who.get(path).get_data(as_text=True))
        first, second = page.focusable[:2]
        assert first["id"] == "quick-exit" and first["href"] == "/exit", path
        assert second["href"] == "#main", path
        if (who, path) in pages:
            # "Get support now" and "Using this safely" are the header's first links, every time.
            assert page.header_links[1:3] == ["/support", "/safety"], path
        else:
            # Staff pages wear their own header: the portal's links, not the survivor's.
            assert page.header_links[:3] == ["/hotline/", "/hotline/?assigned=me", "/hotline/due"]


def test_quick_exit_ends_a_staff_sign_in_too(app, staff_a):
    assert staff_a.client.get("/hotline/").status_code == 200
    response = staff_a.client.get("/exit")
    assert response.status_code == 303
    assert response.headers["Clear-Site-Data"] == EXIT
    assert response.headers["Location"] == "https://weather.example/"
    assert staff_a.client.get("/hotline/").status_code == 303


def test_the_exit_goes_wherever_it_is_configured(tmp_path, database_url):
    app = make_app(database_url, tmp_path / "instance", exit_url="https://news.example/today")
    response = app.test_client().get("/exit")
    assert (response.status_code, response.headers["Location"]) == (
        303,
        "https://news.example/today",
    )


def test_the_shift_key_exit_has_its_words_on_the_page_for_the_script(client):
    html = client.get("/").get_data(as_text=True)
    assert 'data-exit-url="/exit"' in html
    assert 'data-press-two="Press Shift 2 more times to leave this site."' in html
    assert 'role="status" aria-live="polite"' in html
    assert '<script src="/static/app.js" defer></script>' in html
    script = (Path(__file__).resolve().parents[2] / "static" / "app.js").read_text("utf-8")
    # Shift three times, never Escape; the exit replaces the page in the tab's history.
    assert 'event.key !== "Shift"' in script and "Escape" not in script
    assert "location.replace" in script and '"pageshow"' in script


def test_using_this_safely_says_what_the_exit_does_not_do(client):
    page = client.get("/safety").get_data(as_text=True)
    assert "It does not erase your browsing history." in page
    assert "cannot hide the visit from someone who watches your network" in page
    assert "http://127.0.0.1:5000/" in page  # how to find it again
    assert "<title>Using this safely – Request Assistant</title>" in page


def test_before_where_is_it_a_note_says_what_comes_and_offers_a_way_out(client):
    page = client.get("/request/where").get_data(as_text=True)
    assert "You do not need to open it or look at it." in page
    assert 'href="/request/not-sure"' in page
    assert "Something else, or I'm not sure" in page
    unsure = client.get("/request/not-sure").get_data(as_text=True)
    assert "you do not need to search for it" in unsure
    assert "Please do not look for it" in unsure


def test_the_categories_and_the_age_question_can_be_skipped_or_answered_not_sure(survivor):
    survivor.add_places(value="https://example.com/a")
    survivor.add_places(action="continue")
    what = survivor.client.get("/request/what").get_data(as_text=True)
    assert "You can skip it." in what and "Skip this question" in what
    assert 'value="unsure"' in what
    about = survivor.client.get("/request/about").get_data(as_text=True)
    assert "You can answer “I'm not sure”, or leave it out." in about
    assert 'value="unsure"' in about and "I'd rather not say" in about


# ---- support ----------------------------------------------------------------------------------


def test_support_shows_the_readers_country_in_their_language(client):
    page = client.get("/support?country=DE&lang=de").get_data(as_text=True)
    assert "112" in page and '<p class="group-place">Deutschland</p>' in page
    assert 'href="tel:' in page
    assert '<option value="DE" selected>Deutschland</option>' in page
    # The international services come after the country's.
    assert page.index('<p class="group-place">Deutschland</p>') < page.index(
        "Child Helpline International"
    )


def test_support_guesses_the_country_from_the_browser_language_and_says_it_is_a_guess(client):
    page = client.get("/support", headers={"Accept-Language": "en-CA,en;q=0.8"})
    html = page.get_data(as_text=True)
    assert '<option value="CA" selected>' in html
    assert "Showing Canada, guessed from your browser&#39;s language." in html or (
        "Showing Canada, guessed from your browser's language." in html
    )
    # A guess never names an emergency number: a browser set to en-CA may be anywhere.
    assert "call your local emergency number" in html and "call 911" not in html
    chosen = client.get("/support?country=CA").get_data(as_text=True)
    assert "call 911." in chosen and "guessed" not in chosen


def test_support_takes_the_country_given_in_the_request_being_filled_in(survivor):
    survivor.add_places(value="https://example.com/a")
    survivor.add_places(action="continue")
    token = csrf_token(survivor.client, "/request/about")
    survivor.client.post(
        "/request/about", data={"csrf_token": token, "country": "NL", "language": "en"}
    )
    page = survivor.client.get("/support").get_data(as_text=True)
    assert '<option value="NL" selected>' in page


def test_support_takes_the_country_of_the_signed_in_request(survivor):
    number, passphrase = survivor.file("https://example.com/a", country="BR")
    survivor.sign_in(number, passphrase)
    page = survivor.client.get("/support").get_data(as_text=True)
    assert '<option value="BR" selected>' in page and "guessed" not in page


def test_support_for_a_country_not_listed_says_so_and_shows_the_international_services(client):
    page = client.get("/support?country=CL").get_data(as_text=True)
    assert "We do not have a list for Chile yet." in page
    assert "Wherever you are" in page
    assert "your local emergency number" in page


def test_the_resources_api_answers_by_country_and_language(client):
    body = client.get("/api/v1/resources?country=be&lang=nl").get_json()
    assert body["country"] == "BE" and body["covered"] is True
    assert body["language"] == "nl"
    first = body["resources"][0]
    assert first["kind"] == "emergency" and first["phone"]
    assert {"kind_label", "hours_text", "sources", "verified_on", "speaks_your_language"} <= set(
        first
    )
    crisis = [r for r in body["resources"] if r["kind"] == "crisis_line" and r["country"]]
    # Within a kind, those answering in Dutch come first.
    flags = [r["speaks_your_language"] for r in crisis]
    assert flags == sorted(flags, reverse=True)
    anywhere = client.get("/api/v1/resources").get_json()
    assert anywhere["resources"] and {r["country"] for r in anywhere["resources"]} == {None}


def test_the_resources_api_refuses_a_bad_country_or_language_as_json(client):
    bad_country = client.get("/api/v1/resources?country=Narnia")
    assert bad_country.status_code == 422
    assert bad_country.get_json()["error"]["code"] == "bad_country"
    bad_language = client.get("/api/v1/resources?lang=<script>")
    assert bad_language.status_code == 422
    assert bad_language.get_json()["error"]["code"] == "bad_language"
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "get" in spec["paths"]["/resources"]


def test_resource_hours_are_in_the_readers_words(app):
    sample = next(e for e in load_resources().entries if e.country == "DE")
    weekdays = sample.__class__(
        **{
            **sample.__dict__,
            "always_open": False,
            "hours": (
                Opening(("mon", "tue", "wed", "thu", "fri"), "09:00", "17:00"),
                Opening(("sat",), "10:00", "12:00"),
            ),
            "timezone": "Europe/Berlin",
        }
    )
    with app.test_request_context("/?lang=de"):
        assert hours_text(weekdays) == "Mo.–Fr. 09:00–17:00; Sa. 10:00–12:00 – Deutschland"
    with app.test_request_context("/?lang=en"):
        assert hours_text(weekdays) == "Mon–Fri 09:00–17:00; Sat 10:00–12:00 (Germany)"
        always = sample.__class__(**{**sample.__dict__, "always_open": True, "hours": ()})
        assert hours_text(always) == "Open day and night, every day"
        sydney = sample.__class__(
            **{**weekdays.__dict__, "country": "AU", "timezone": "Australia/Sydney"}
        )
        assert hours_text(sydney).endswith("(Australia, Sydney)")  # one of several clocks


# ---- the installable shell ----------------------------------------------------------------------


def test_the_manifest_is_neutral_same_origin_and_never_asks_to_be_installed(client):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["name"] == manifest["short_name"] == "Request Assistant"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert sizes == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert icon["src"].startswith("/")
        image = client.get(icon["src"])
        assert image.status_code == 200 and image.mimetype == "image/png"
    assert "abuse" not in json.dumps(manifest).lower()
    html = client.get("/").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html


def _png(path: Path, size: int) -> Path:
    row = b"\x00" + b"\x10\x20\x30" * size

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )
    return path


def test_name_and_icon_are_configurable(tmp_path, database_url):
    icon = _png(tmp_path / "tile.png", 256)
    app = make_app(
        database_url, tmp_path / "instance", site_name="Weather Notes", app_icon=str(icon)
    )
    client = app.test_client()
    manifest = json.loads(client.get("/manifest.webmanifest").get_data(as_text=True))
    assert manifest["name"] == "Weather Notes"
    assert manifest["icons"] == [
        {"src": "/app-icon-256.png", "sizes": "256x256", "type": "image/png", "purpose": "any"}
    ]
    assert client.get("/app-icon-256.png").data == icon.read_bytes()
    assert client.get("/app-icon-192.png").status_code == 404
    assert "<title>Welcome – Weather Notes</title>" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("size", [100, 0])
def test_an_icon_that_is_too_small_or_not_a_png_stops_the_app(tmp_path, database_url, size):
    path = _png(tmp_path / "tile.png", size) if size else tmp_path / "tile.png"
    if not size:
        path.write_text("not a picture")
    with pytest.raises(ConfigError, match="ASSISTANT_APP_ICON"):
        make_app(database_url, tmp_path / "instance", app_icon=str(path))


def test_the_service_worker_keeps_only_the_static_shell_and_never_the_exit(client):
    response = client.get("/service-worker.js")
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"].startswith("no-store")
    script = response.get_data(as_text=True)
    shell = json.loads(re.search(r"var SHELL = (\[.*?\]);", script).group(1))
    assert shell == [
        "/static/app.css",
        "/static/app.js",
        "/app-icon-192.png",
        "/app-icon-512.png",
        "/offline?lang=en",
    ]
    french = client.get("/service-worker.js?lang=fr").get_data(as_text=True)
    assert '"/offline?lang=fr"' in french
    assert json.loads(re.search(r"var NEVER = (\[.*?\]);", script).group(1)) == ["/exit"]
    assert 'credentials: "omit"' in script
    # Nothing but the shell is ever put in the cache.
    assert not re.search(r"cache\.(put|add)\(", script) and script.count("addAll") == 1


def test_the_cache_name_changes_when_a_file_of_the_shell_changes(tmp_path):
    style = tmp_path / "app.css"
    style.write_text("body { color: black; }")
    before = _digest((style,))
    style.write_text("body { color: navy; }")
    _digest.cache_clear()
    assert _digest((style,)) != before


def test_the_offline_page_holds_nothing_about_anyone(client, survivor, staff_a: Staffer):
    number, passphrase = survivor.file("https://example.com/a")
    survivor.sign_in(number, passphrase)
    for who in (client, survivor.client, staff_a.client):
        page = who.get("/offline").get_data(as_text=True)
        assert "No connection" in page
        assert "csrf_token" not in page and number not in page and "Sign out" not in page
