"""The public page "Where will my report go?": the directory, searchable, and a dry run."""

from __future__ import annotations

import re

from tests.conftest import csrf_token
from tests.conftest import row_counts


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_page_lists_every_hotline_and_how_routing_works(client, services):
    page = client.get("/hotlines")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for hotline in services.directory.hotlines.values():
        assert hotline.website in html
    text = _text(html)
    assert "How we choose a hotline" in text
    assert f"{len(services.directory.hotlines)} hotlines" in text


def test_searching_by_country_name_finds_its_hotline_without_javascript(client):
    text = _text(client.get("/hotlines?q=Ireland").get_data(as_text=True))
    assert "Hotline.ie" in text
    assert "Internet Watch Foundation" not in text
    assert "1 hotline" in text


def test_searching_in_french_uses_french_country_names(client):
    text = _text(client.get("/hotlines?q=Allemagne&lang=fr").get_data(as_text=True))
    assert "jugendschutz.net" in text
    assert "Hotline.ie" not in text


def test_filtering_by_country_lists_only_the_hotlines_serving_it(client, services):
    text = _text(client.get("/hotlines?country=DE").get_data(as_text=True))
    german = [h for h in services.directory.hotlines.values() if "DE" in h.countries]
    assert len(german) >= 2
    for hotline in german:
        assert hotline.name in text
    assert f"{len(german)} hotlines" in text


def test_a_search_that_looks_like_a_site_is_not_run_and_says_where_to_go(client):
    text = _text(client.get("/hotlines?q=imgur.com").get_data(as_text=True))
    assert "This search is only for hotlines" in text
    html = client.get("/hotlines?q=imgur.com").get_data(as_text=True)
    assert 'value="imgur.com"' not in html


def test_a_dry_run_that_fails_its_checks_does_not_echo_what_was_pasted(client):
    token = csrf_token(client, "/hotlines")
    response = client.post(
        "/hotlines",
        data={"csrf_token": token, "places": "https://example.com/private-path", "country": "ZZ"},
    )
    assert "private-path" not in response.get_data(as_text=True)


def test_a_dry_run_shows_the_hotline_and_reasons_and_stores_nothing(app, client):
    token = csrf_token(client, "/hotlines")  # the form token lives in a session
    before = row_counts(app)
    response = client.post(
        "/hotlines",
        data={
            "csrf_token": token,
            "places": "https://i.imgur.com/abc.jpg\nhttps://example.co.uk/x\nnot a link at all",
            "country": "",
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = _text(page)
    assert "Would go to CyberTipline" in text
    assert "Imgur is run by Imgur, Inc., established in United States" in text
    assert "Would go to Internet Watch Foundation" in text
    assert "example.co.uk/…" in text
    # Shown masked, like everywhere else; each in full only inside its own closed "Show"
    # (nothing is kept, so the page holds it: the box itself is emptied).
    revealed = re.findall(
        r'<details class="reveal">\s*<summary>.*?</summary>\s*<span class="address revealed"'
        r' dir="ltr">([^<]*)</span>\s*</details>',
        page,
        re.S,
    )
    assert revealed == [
        "https://i.imgur.com/abc.jpg",
        "https://example.co.uk/x",
        "not a link at all",
    ]
    assert page.count("abc.jpg") == 1
    assert '<details class="reveal" open' not in page
    assert row_counts(app) == before
    assert response.headers["Cache-Control"].startswith("no-store")


def test_a_dry_run_understands_a_platform_named_for_an_account(client):
    token = csrf_token(client, "/hotlines")
    response = client.post(
        "/hotlines",
        data={
            "csrf_token": token,
            "places": "someone_123",
            "platform": "Insta",
            "country": "FR",
        },
    )
    text = _text(response.get_data(as_text=True))
    assert "You said it is on Instagram." in text
    assert "Would go to CyberTipline" in text


def test_a_dry_run_without_a_country_uses_the_fallback_for_unknown_places(client, services):
    token = csrf_token(client, "/hotlines")
    response = client.post("/hotlines", data={"csrf_token": token, "places": "example.com/page"})
    text = _text(response.get_data(as_text=True))
    assert f"Would go to {services.directory.fallback.name}" in text


def test_a_dry_run_explains_what_it_could_not_use(client):
    token = csrf_token(client, "/hotlines")
    response = client.post("/hotlines", data={"csrf_token": token, "places": "javascript:alert(1)"})
    text = _text(response.get_data(as_text=True))
    assert "is not a place on the internet" in text


def test_a_dry_run_needs_its_form_token(client):
    response = client.post("/hotlines", data={"places": "https://example.com/"})
    assert response.status_code == 400


def test_a_dry_run_with_nothing_pasted_says_what_to_do_and_stores_nothing(app, client):
    token = csrf_token(client, "/hotlines")
    before = row_counts(app)
    response = client.post("/hotlines", data={"csrf_token": token, "places": "  \n "})
    assert response.status_code == 200
    assert "Paste at least one link or name." in _text(response.get_data(as_text=True))
    assert "Would go to" not in response.get_data(as_text=True)
    assert row_counts(app) == before


def test_a_dry_run_with_a_country_not_in_the_list_is_refused_clearly(client):
    token = csrf_token(client, "/hotlines")
    response = client.post(
        "/hotlines?lang=fr",
        data={"csrf_token": token, "places": "https://example.com/", "country": "ZZ"},
    )
    text = _text(response.get_data(as_text=True))
    assert "Would go to" not in text and "Serait transmis" not in text
    assert "Un élément est à revoir" in text and "choix valide" in text
