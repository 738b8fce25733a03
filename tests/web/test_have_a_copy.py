"""The page for someone with a copy on their own device: a content note first, the two hashing
services by name and address, what they cannot do, nothing asked for or taken here, and the pages
its statements rest on."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

PATH = "/if-you-have-a-copy"


class _Page(HTMLParser):
    """Links (with their rel), the sources list's links, and any way to take a file or image."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str]] = []
        self.sources: list[str] = []
        self.takes_or_shows_images: list[str] = []
        self._in_sources = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "ul" and (self._in_sources or found.get("id") == "sources"):
            self._in_sources += 1
        if tag == "a" and found.get("href"):
            self.links.append(found)
            if self._in_sources:
                self.sources.append(found["href"])
        if tag in ("img", "picture", "video", "iframe", "form") or (
            tag == "input" and found.get("type") == "file"
        ):
            self.takes_or_shows_images.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "ul" and self._in_sources:
            self._in_sources -= 1


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _main(html: str) -> str:
    return html[html.index('<main id="main"') : html.index("</main>")]


def test_anyone_can_read_it_and_the_content_note_comes_before_the_explanation(client):
    response = client.get(PATH)
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("no-store")
    main = _main(response.get_data(as_text=True))
    start = main.index('<div class="content-note" role="note"')
    note = main[start : main.index("</div>", start)]
    assert "This page talks about images you may have." in note
    assert "You do not need to open them." in note
    assert start < main.index('id="explanation"') < main.index("called a “hash”")
    assert main.index("<h1>") < start  # the heading, then the note, then everything else
    assert "<title>If you have a copy of an image – Request Assistant</title>" in (
        response.get_data(as_text=True)
    )


def test_it_names_both_services_with_their_own_addresses(client):
    html = client.get(PATH).get_data(as_text=True)
    main = _main(html)
    assert "Take It Down" in main and "StopNCII" in main
    hrefs = {link["href"] for link in parse(main).links}
    assert "https://takeitdown.ncmec.org/" in hrefs
    assert "https://stopncii.org/" in hrefs
    # What each is for: the age when the image was taken.
    assert "Take It Down: if you were under 18" in main
    assert "StopNCII: if you were 18 or older" in main
    # Its limits, in plain words.
    assert "They work only on the platforms that take part." in main
    assert "these services do not remove anything from them" in main


def test_it_says_nothing_comes_here_and_never_offers_to_take_or_show_an_image(client):
    main = _main(client.get(PATH).get_data(as_text=True))
    assert "Nothing is sent to this service." in main
    assert "this site has no way to receive one" in main
    assert parse(main).takes_or_shows_images == []
    assert 'href="/request/start"' in main  # reporting places needs no image at all


def test_every_address_elsewhere_keeps_the_referrer_back_and_the_sources_are_listed(client):
    page = parse(_main(client.get(PATH).get_data(as_text=True)))
    assert page.sources, "no sources listed"
    assert all(urlsplit(source).scheme == "https" for source in page.sources)
    assert {"https://takeitdown.ncmec.org/faq/", "https://stopncii.org/how-it-works/"} <= set(
        page.sources
    )
    elsewhere = [link for link in page.links if urlsplit(link["href"]).netloc]
    assert len(elsewhere) >= len(page.sources) + 2
    for link in elsewhere:
        assert "noreferrer" in link.get("rel", "").split(), link["href"]
        assert "noopener" in link.get("rel", "").split(), link["href"]
        # No tracking: no query string added to anyone's address.
        assert not urlsplit(link["href"]).query, link["href"]


def test_it_reads_right_to_left_in_arabic(client):
    html = client.get(PATH + "?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert 'href="https://takeitdown.ncmec.org/"' in html
    assert 'id="sources"' in html
