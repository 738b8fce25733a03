"""Sessions on the server only when there is something to keep: a visitor who only reads (or is
shown a form) writes no row, and the cookies are bound to the host over HTTPS."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy import select

from assistant.extensions import Database
from assistant.models import SessionRecord
from tests.conftest import Survivor
from tests.conftest import csrf_token
from tests.conftest import make_app

FORM_PAGES = ["/check", "/request/where", "/account/sign-in", "/", "/support"]


def session_rows(app) -> int:
    with Database.engine(app).connect() as connection:
        return connection.execute(select(func.count()).select_from(SessionRecord)).scalar_one()


def test_reading_form_pages_writes_no_session_row(app):
    for _ in range(40):
        visitor = app.test_client()
        for path in FORM_PAGES:
            assert visitor.get(path).status_code == 200
    assert session_rows(app) == 0


def test_a_readers_form_posts_with_the_signed_cookie_alone(app, survivor: Survivor):
    number, passphrase = survivor.file("https://example.com/a")
    reader = app.test_client()
    token = csrf_token(reader, "/check")
    assert reader.get_cookie("rra_visit") is not None and reader.get_cookie("rra_session") is None
    wrong = reader.post(
        "/check", data={"csrf_token": token, "case_number": number, "passphrase": "wrong"}
    )
    assert wrong.status_code == 401  # the form was accepted, the passphrase was not
    rows_before = session_rows(app)
    signed_in = reader.post(
        "/check", data={"csrf_token": token, "case_number": number, "passphrase": passphrase}
    )
    assert signed_in.status_code == 303
    assert session_rows(app) == rows_before + 1
    # Signed in: the state is on the server and the reader's cookie has gone.
    assert reader.get_cookie("rra_visit") is None and reader.get_cookie("rra_session") is not None


def test_a_form_without_its_cookie_or_with_a_forged_one_is_refused(app):
    reader = app.test_client()
    token = csrf_token(reader, "/check")
    stranger = app.test_client()
    body = {"csrf_token": token, "case_number": "RQ-00000000", "passphrase": "x"}
    assert stranger.post("/check", data=body).status_code == 400
    stranger.set_cookie("rra_visit", '{"csrf_token": "forged"}')
    assert stranger.post("/check", data=body).status_code == 400


def test_answers_typed_in_the_journey_go_to_the_server_not_to_a_cookie(app):
    survivor = Survivor(app.test_client())
    survivor.add_places(value="https://secret-answer.example/x")
    assert session_rows(app) == 1
    visit = survivor.client.get_cookie("rra_visit")
    assert visit is None or "secret-answer" not in visit.value


def test_over_https_both_cookies_are_host_only_and_secure(database_url, tmp_path):
    app = make_app(database_url, tmp_path / "instance", secure_cookies=True)
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    page = client.get("/check")
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("__Host-rra_visit=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
    token = csrf_token(client, "/check")
    answered = client.post(
        "/check", data={"csrf_token": token, "case_number": "RQ-00000000", "passphrase": "x"}
    )
    assert answered.status_code == 401
    survivor = Survivor(client)
    survivor.add_places(value="https://example.com/a")
    assert client.get_cookie("__Host-rra_session") is not None
    assert client.get_cookie("rra_session") is None
