"""The survivor's journey through the web pages, with JavaScript off (plain forms)."""

from __future__ import annotations

from io import BytesIO

import pytest

from assistant.extensions import Database
from tests.conftest import Survivor
from tests.conftest import csrf_token
from tests.conftest import make_app
from tests.conftest import row_counts


def test_landing_says_what_this_is_and_offers_three_ways_on(client):
    page = client.get("/").get_data(as_text=True)
    assert "You do not upload anything" in page
    assert 'href="/request/start"' in page
    assert 'href="/check"' in page
    assert 'href="/support"' in page
    assert 'href="/exit"' in page
    assert "<title>Welcome – Request Assistant</title>" in page


def test_no_page_has_a_file_input_or_a_link_to_a_reported_location(survivor: Survivor):
    survivor.add_places(value="https://evil.example/secret-path-123")
    for path in (
        "/",
        "/request/start",
        "/request/where",
        "/request/what",
        "/request/about",
        "/request/review",
        "/check",
        "/support",
    ):
        page = survivor.client.get(path).get_data(as_text=True)
        assert 'type="file"' not in page
        assert "multipart/form-data" not in page
        assert 'href="https://evil.example' not in page
        assert "secret-path-123" not in page


def test_a_full_request_gives_a_receipt_that_opens_the_status_page(survivor: Survivor):
    number, passphrase = survivor.file(
        "https://example.fr/a", "x.com/b", "example.org/c", country="BE"
    )
    assert number.startswith("RQ-") and len(number) == 11
    assert len(passphrase.replace(" ", "")) == 20
    response = survivor.sign_in(number, passphrase)
    assert response.status_code == 303
    page = survivor.client.get("/my-request").get_data(as_text=True)
    assert number in page
    assert "example.fr/…" in page and "x.com/…" in page
    assert "Point de Contact" in page  # .fr goes to France's hotline
    assert "CyberTipline" in page  # X is established in the United States
    assert "Child Focus" in page  # .org has no country; the survivor lives in Belgium
    assert "Received" in page


def test_pasted_links_are_normalised_deduplicated_and_bad_lines_explained(survivor: Survivor):
    pasted = "\n".join(
        [
            "https://Example.ORG/a?utm_source=mail#top",
            "example.org/a",
            "javascript:alert(1)",
            "data:text/html,hello",
            "",
            "magnet:?xt=urn:btih:ABCDEF",
        ]
    )
    response = survivor.add_places(pasted=pasted)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Added 2 places." in page
    assert "1 place was already on your list." in page
    assert "“javascript:alert(1)”" in page and "A “javascript:” address" in page
    assert "A “data:” address" in page
    # The rejected lines stay in the box to be corrected; the accepted ones moved to the list.
    assert "javascript:alert(1)\ndata:text/html,hello</textarea>" in page
    assert "example.org/…" in page
    assert "File-sharing (peer-to-peer)" in page


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a" * 2049, "at most 2048 characters"),
        ("https://exa\x07mple.com/", "invisible control characters"),
        ("javascript:alert(document.cookie)", "A “javascript:” address"),
        ("not a link at all", "does not look like a web address"),
        ("https://bad_host!.com/", "The site name in this address is not valid"),
    ],
)
def test_a_bad_place_is_explained_and_nothing_is_added(survivor: Survivor, value, message):
    response = survivor.add_places(value=value)
    page = response.get_data(as_text=True)
    assert message in page
    assert "Places you added" not in page


def test_continue_without_any_place_asks_for_one(survivor: Survivor):
    response = survivor.add_places(action="continue")
    assert "Add at least one place" in response.get_data(as_text=True)


def test_ten_thousand_pasted_lines_are_refused_kindly(survivor: Survivor, app):
    before = row_counts(app)
    pasted = "\n".join(f"https://example{i}.com/x" for i in range(10_001))
    response = survivor.add_places(pasted=pasted)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "That is more than 10000 lines" in page
    assert "Please paste at most 500 places at a time." in page
    assert row_counts(app)["cases"] == before["cases"]


def test_the_advice_on_too_many_lines_follows_the_configured_limit(database_url, tmp_path):
    """The advice ("at most N places") gives as many as a request holds where it is set up."""
    smaller = make_app(database_url, tmp_path / "instance", max_locations=40)
    survivor = Survivor(smaller.test_client())
    pasted = "\n".join(f"https://example{i}.com/x" for i in range(10_001))
    page = survivor.add_places(pasted=pasted).get_data(as_text=True)
    assert "Please paste at most 40 places at a time." in page
    Database.engine(smaller).dispose()


def test_more_than_500_places_are_capped_with_an_explanation(survivor: Survivor):
    pasted = "\n".join(f"https://example.com/{i}" for i in range(503))
    page = survivor.add_places(pasted=pasted).get_data(as_text=True)
    assert "Added 500 places." in page
    assert "at most 500 places" in page
    assert "Places you added (500)" in page


def test_an_attempted_file_upload_changes_nothing(survivor: Survivor, app):
    token = csrf_token(survivor.client, "/request/where")
    response = survivor.client.post(
        "/request/where",
        data={
            "csrf_token": token,
            "kind": "url",
            "value": "",
            "action": "add",
            "file": (BytesIO(b"\x89PNG fake image"), "photo.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 415
    assert "Places you added" not in survivor.client.get("/request/where").get_data(as_text=True)


def test_a_form_without_its_csrf_token_is_refused(client):
    response = client.post("/request/where", data={"value": "example.com", "action": "add"})
    assert response.status_code == 400
    assert "Nothing was saved" in response.get_data(as_text=True)


def test_categories_can_be_skipped_and_review_shows_where_each_place_goes(survivor: Survivor):
    survivor.add_places(value="https://www.example.de/x")
    survivor.add_places(action="continue")
    token = csrf_token(survivor.client, "/request/what")
    page = survivor.client.get("/request/what").get_data(as_text=True)
    assert "You can skip it." in page
    survivor.client.post(
        "/request/what",
        data={"csrf_token": token, "action": "skip", "categories": ["abuse_material"]},
    )
    token = csrf_token(survivor.client, "/request/about")
    survivor.client.post("/request/about", data={"csrf_token": token})
    review = survivor.client.get("/request/review").get_data(as_text=True)
    assert "www.example.de/…" in review
    assert "The address ends in .de, the domain of Germany" in review
    assert review.count("Not answered.") == 3
    assert 'href="/request/where"' in review and 'href="/request/about"' in review


def test_the_receipt_is_shown_once_and_a_resend_files_nothing(survivor: Survivor, app):
    survivor.file("https://example.com/once")
    assert row_counts(app)["cases"] == 1
    token = csrf_token(survivor.client, "/check")
    again = survivor.client.post("/request/send", data={"csrf_token": token})
    assert again.status_code == 303
    assert row_counts(app)["cases"] == 1
    landing = survivor.client.get(again.headers["Location"]).get_data(as_text=True)
    assert "already sent" in landing
    assert 'id="passphrase"' not in landing


def test_answers_between_steps_never_sit_in_a_readable_cookie(survivor: Survivor):
    survivor.add_places(value="https://secret-site.example/path", note="third post")
    cookies = [c for c in survivor.client._cookies.values()]
    assert len(cookies) == 1
    cookie = cookies[0]
    assert cookie.http_only
    assert "secret" not in cookie.value and "third" not in cookie.value
    assert len(cookie.value) < 100


def test_pages_are_not_stored_by_the_browser(client):
    for path in ("/", "/request/where", "/check"):
        response = client.get(path)
        assert response.headers["Cache-Control"].startswith("no-store")
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_quick_exit_signs_out_clears_site_data_and_goes_somewhere_neutral(survivor: Survivor):
    number, passphrase = survivor.file("https://example.com/a")
    survivor.sign_in(number, passphrase)
    response = survivor.client.get("/exit")
    assert response.status_code == 303
    assert response.headers["Location"] == "https://weather.example/"
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert survivor.client.get("/my-request").status_code == 303


def test_language_can_be_chosen_without_javascript(client):
    page = client.get("/?lang=fr").get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in page
    # The choice sticks for the next page.
    assert '<html lang="fr"' in client.get("/check").get_data(as_text=True)
