"""The catalogues are current and complete: a stale messages.pot, an untranslated or fuzzy entry,
a placeholder that differs, or a messages.mo that lags its .po fails the build."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from assistant.config import SUPPORTED_LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
LOCALES = [code for code in SUPPORTED_LANGUAGES if code != "en"]


def _key(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def _ids(catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def test_messages_pot_is_current(tmp_path):
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "--no-location", "--sort-output", "--omit-header",
         "-o", str(fresh), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with fresh.open("rb") as new, (TRANSLATIONS / "messages.pot").open("rb") as old:
        assert _ids(read_po(new)) == _ids(read_po(old)), "run pybabel extract (see README)"


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_is_complete_with_matching_placeholders(locale):
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        template = _ids(read_po(handle))
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    assert _ids(catalog) == template, "run pybabel update (see README)"
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"untranslated: {ids[0]!r}"
        expected = set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            found = set(PLACEHOLDER.findall(string))
            # A singular form may leave out the count, as plural forms in many languages do.
            assert found == expected or found == expected - {"%(num)d"}, ids[0]


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogue_matches_its_source(locale):
    folder = TRANSLATIONS / locale / "LC_MESSAGES"
    def as_pairs(catalog) -> dict:
        return {_key(m.id): _key(m.string) for m in catalog if m.id}

    with (folder / "messages.po").open("rb") as handle:
        source = as_pairs(read_po(handle, locale=locale))
    with (folder / "messages.mo").open("rb") as handle:
        compiled = as_pairs(read_mo(handle))
    assert compiled == source, "run pybabel compile -d translations"


def test_pages_render_in_french_with_lang_and_dir(client):
    page = client.get("/?lang=fr").get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in page
    assert "Sortie rapide" in page
    assert "Quick exit" not in page
