"""Templates compiled for each language, their fixed sentences translated while compiling
(assistant/web/translated_templates.py): every page reads exactly as it does when each sentence
is looked up while the page renders, in every language, one after another in one process."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.templating import Environment

import assistant
from assistant.config import SUPPORTED_LANGUAGES
from assistant.extensions import Database
from assistant.web.translated_templates import TranslatedEnvironment
from tests.busy_case import file_case
from tests.conftest import Survivor
from tests.conftest import make_app
from tests.conftest import without_csrf_tokens

PUBLIC_PAGES = ["/", "/support", "/hotlines", "/check", "/request/where", "/if-you-have-a-copy"]


@pytest.fixture
def looked_up(app: Flask, database_url: str, tmp_path: Path, monkeypatch) -> Flask:
    """The same app on the same database, its templates compiled once for every language and
    each sentence looked up while rendering (Flask's own template environment)."""
    monkeypatch.setattr(assistant, "TranslatedEnvironment", Environment)
    other = make_app(database_url, tmp_path / "looked-up")
    assert type(other.jinja_env) is Environment
    assert isinstance(app.jinja_env, TranslatedEnvironment)
    yield other
    Database.engine(other).dispose()


def comparable(body: bytes) -> str:
    """A page without what is made anew for each response (CSP nonce, CSRF tokens)."""
    text = without_csrf_tokens(body).decode()
    text = re.sub(r'nonce="[^"]+"', 'nonce=""', text)
    return re.sub(r'data-csrf="[^"]+"', 'data-csrf=""', text)


def test_every_page_reads_the_same_in_every_language(app, looked_up):
    filed = file_case(app, places=4, hotlines=3)
    readers = {}
    for each in (app, looked_up):
        survivor = Survivor(each.test_client())
        assert survivor.sign_in(filed.case_number, filed.passphrase).status_code == 303
        readers[each] = survivor
    # The languages in turn, twice, so that a template compiled for one is never served in
    # another (the second round reads each from the cache).
    for language in [*SUPPORTED_LANGUAGES, *reversed(SUPPORTED_LANGUAGES)]:
        headers = {"Accept-Language": language.replace("_", "-")}
        for path in [*PUBLIC_PAGES, "/my-request", "/my-request?show=1"]:
            pages = [readers[each].client.get(path, headers=headers) for each in (app, looked_up)]
            assert [page.status_code for page in pages] == [200, 200], path
            compiled, rendered = (comparable(page.data) for page in pages)
            assert compiled == rendered, f"{path} in {language}"
            assert f'lang="{language.replace("_", "-")}"' in compiled


def test_an_error_page_with_values_put_in_reads_the_same(app, looked_up):
    filed = file_case(app, places=2, hotlines=2)
    bodies = []
    for each in (app, looked_up):
        survivor = Survivor(each.test_client())
        survivor.sign_in(filed.case_number, filed.passphrase)
        token = re.search(
            r'name="csrf_token" type="hidden" value="([^"]+)"',
            survivor.client.get("/my-request?lang=fr").get_data(as_text=True),
        )
        assert token
        answer = survivor.client.post(
            "/my-request/message?lang=fr",
            data={"csrf_token": token.group(1), "body": "", "referral": "1"},
        )
        assert answer.status_code == 400
        bodies.append(comparable(answer.data))
    assert bodies[0] == bodies[1]
    assert "<title>Erreur" in bodies[0]


def test_a_fixed_sentence_is_not_looked_up_while_the_page_renders(app, client, monkeypatch):
    client.get("/?lang=fr")  # compiled for French

    def no_look_up(*_args, **_kwargs):
        raise AssertionError("a fixed sentence was looked up while rendering")

    monkeypatch.setitem(app.jinja_env.globals, "_", no_look_up)
    monkeypatch.setitem(app.jinja_env.globals, "gettext", no_look_up)
    page = client.get("/?lang=fr")
    assert page.status_code == 200
    assert 'lang="fr"' in page.get_data(as_text=True)
