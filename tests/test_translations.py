"""The catalogues are current and complete: a stale messages.pot, an untranslated or fuzzy entry,
a placeholder that differs, or a messages.mo that lags its .po fails the build."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.messages.pofile import write_po

from assistant.config import CATALOGUE_LANGUAGES
from assistant.config import RTL_LANGUAGES
from assistant.config import SUPPORTED_LANGUAGES
from assistant.config import complete_catalogues
from assistant.config import language_tag
from assistant.config import supported_language

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
# The languages offered, each complete; and every catalogue kept, complete or not yet.
LOCALES = [code for code in SUPPORTED_LANGUAGES if code != "en"]
CATALOGUES = [code for code in CATALOGUE_LANGUAGES if code != "en"]


def _key(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def _ids(catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def test_messages_pot_is_current(tmp_path):
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "--no-location",
            "--sort-output",
            "--omit-header",
            "-o",
            str(fresh),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with fresh.open("rb") as new, (TRANSLATIONS / "messages.pot").open("rb") as old:
        assert _ids(read_po(new)) == _ids(read_po(old)), "run pybabel extract (see README)"


@pytest.mark.parametrize("locale", CATALOGUES)
def test_catalogue_is_current_with_matching_placeholders(locale):
    """Every catalogue follows the template and keeps its placeholders; one that is offered is
    complete (see the next test), one still being translated may leave entries empty."""
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        template = _ids(read_po(handle))
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    assert _ids(catalog) == template, "run pybabel update (see README)"
    offered = locale in SUPPORTED_LANGUAGES
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings) or not offered, f"untranslated: {ids[0]!r}"
        expected = set(PLACEHOLDER.findall(ids[0]))
        for string in filter(None, strings):
            found = set(PLACEHOLDER.findall(string))
            # A singular form may leave out the count, as plural forms in many languages do.
            assert found == expected or found == expected - {"%(num)d"}, ids[0]


def test_a_language_is_offered_exactly_when_its_catalogue_is_complete():
    for locale in CATALOGUES:
        with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        complete = all(
            all(m.string) if isinstance(m.string, tuple) else m.string for m in catalog if m.id
        )
        assert (locale in SUPPORTED_LANGUAGES) == complete, locale
    assert SUPPORTED_LANGUAGES[0] == "en"


def test_one_sentence_missing_keeps_a_language_from_being_offered(tmp_path):
    """A copy of the French catalogue is offered; with one sentence or one plural form left
    untranslated, one marked as a guess, or no compiled file beside it, it is not."""
    with (TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        french = read_po(handle, locale="fr")
    singular = next(m.id for m in french if m.id and isinstance(m.id, str))
    plural = next(m for m in french if m.id and isinstance(m.id, tuple))

    def kept_as(code: str, change, *, compiled: bool = True) -> None:
        with (TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalog = read_po(handle, locale="fr")
        change(catalog)
        folder = tmp_path / code / "LC_MESSAGES"
        folder.mkdir(parents=True)
        with (folder / "messages.po").open("wb") as handle:
            write_po(handle, catalog, width=76, sort_output=True, no_location=True)
        if compiled:
            with (folder / "messages.mo").open("wb") as handle:
                write_mo(handle, catalog)

    unchanged = lambda catalog: None  # noqa: E731
    kept_as("fr", unchanged)
    kept_as("es", lambda catalog: setattr(catalog[singular], "string", ""))
    kept_as("de", lambda catalog: setattr(catalog[plural.id], "string", (plural.string[0], "")))
    kept_as("it", lambda catalog: catalog[singular].flags.add("fuzzy"))
    kept_as("nl", unchanged, compiled=False)
    offered = complete_catalogues(tmp_path, ["en", "fr", "es", "de", "it", "nl", "pl"])
    assert offered == ("en", "fr")


@pytest.mark.parametrize("locale", CATALOGUES)
def test_compiled_catalogue_matches_its_source(locale):
    folder = TRANSLATIONS / locale / "LC_MESSAGES"

    def as_pairs(catalog) -> dict:
        return {_key(m.id): _key(m.string) for m in catalog if m.id}

    with (folder / "messages.po").open("rb") as handle:
        source = as_pairs(read_po(handle, locale=locale))
    with (folder / "messages.mo").open("rb") as handle:
        compiled = as_pairs(read_mo(handle))
    # What is translated is compiled as it is (a catalogue still being translated leaves some
    # entries out; its plurals untranslated are compiled as the English).
    translated = {
        key: value
        for key, value in source.items()
        if (all(value) if isinstance(value, tuple) else value)
    }
    assert {key: compiled.get(key) for key in translated} == translated, (
        "run pybabel compile -d translations"
    )
    assert compiled.keys() <= source.keys(), "run pybabel compile -d translations"


def test_pages_render_in_french_with_lang_and_dir(client):
    page = client.get("/?lang=fr").get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in page
    assert "Sortie rapide" in page
    assert "Quick exit" not in page


@pytest.mark.parametrize("locale", SUPPORTED_LANGUAGES)
def test_every_language_renders_with_its_tag_direction_and_its_own_words(client, locale):
    tag = language_tag(locale)
    page = client.get(f"/?lang={tag}").get_data(as_text=True)
    direction = "rtl" if locale in RTL_LANGUAGES else "ltr"
    assert f'<html lang="{tag}" dir="{direction}">' in page
    if locale != "en":
        # Every visible word of the page comes from the catalogue, so no English is left.
        for english in ("Quick exit", "Get support now", "Using this safely", "Start a request"):
            assert english not in page, (locale, english)
    manifest = client.get(f"/manifest.webmanifest?lang={tag}").get_json(force=True)
    assert (manifest["lang"], manifest["dir"]) == (tag, direction)


def test_arabic_pages_are_mirrored_by_logical_css_only():
    css = (ROOT / "static" / "app.css").read_text("utf-8")
    # Physical sides would not flip in right-to-left pages: only logical properties are used.
    assert not re.search(r"(margin|padding|border)-(left|right)\b|\b(left|right):", css)


def test_the_language_comes_from_the_address_then_the_choice_then_the_browser(client):
    arabic_browser = {"Accept-Language": "ar-EG,ar;q=0.9,en;q=0.5"}
    assert '<html lang="ar" dir="rtl">' in client.get("/", headers=arabic_browser).get_data(
        as_text=True
    )
    # ?lang= wins over the browser, and is remembered as the choice for the next pages.
    assert '<html lang="de"' in client.get("/?lang=de", headers=arabic_browser).get_data(
        as_text=True
    )
    assert '<html lang="de"' in client.get("/check", headers=arabic_browser).get_data(as_text=True)
    # A new choice replaces it; the links to switch are plain links (no script needed).
    page = client.get("/check?lang=pt-BR").get_data(as_text=True)
    assert '<html lang="pt-BR" dir="ltr">' in page
    assert 'href="?lang=nl" lang="nl" hreflang="nl">Nederlands</a>' in page


def test_language_tags_are_matched_loosely_and_unknown_ones_fall_back(client):
    assert supported_language("pt-BR") == supported_language("pt_br") == "pt_BR"
    assert supported_language("pt-PT") == "pt_BR"  # the closest the app has
    assert supported_language("fr-CA") == "fr"
    assert supported_language("tlh") is None and supported_language("") is None
    assert '<html lang="en"' in client.get("/", headers={"Accept-Language": "tlh"}).get_data(
        as_text=True
    )
    assert '<html lang="nl"' in client.get(
        "/", headers={"Accept-Language": "tlh, nl-BE;q=0.5"}
    ).get_data(as_text=True)
