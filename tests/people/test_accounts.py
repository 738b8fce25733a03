"""Accounts for staff and administrators: enrolment, TOTP, throttled sign-in, sessions."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pyotp
import pytest
from itsdangerous import Signer
from sqlalchemy import select

from assistant.cli import main
from assistant.extensions import Database
from assistant.models import Account
from assistant.models import AuditEvent
from assistant.models import SessionRecord
from assistant.models import utcnow
from assistant.people import accounts
from assistant.sessions import load_session
from tests.conftest import HOTLINE_A
from tests.conftest import STAFF_PASSWORD
from tests.conftest import Staffer
from tests.conftest import csrf_token
from tests.conftest import empty_all_tables
from tests.conftest import make_app


def create_user(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(main, ["create-user", *args])


def test_create_user_prints_a_one_time_link_and_stores_no_password(app):
    result = create_user(
        app, "--role", "hotline_admin", "--hotline", HOTLINE_A, "New@Hotline.example"
    )
    assert result.exit_code == 0, result.output
    link = re.search(r"(http://\S+/account/enrol\?code=(\S+))", result.output)
    assert link, result.output
    code = link.group(2)
    with Database.new_session(app) as db:
        account = db.scalar(select(Account).where(Account.email == "new@hotline.example"))
        assert account is not None
        assert (account.status, account.password_hash, account.totp_secret_sealed) == (
            "enrolling",
            None,
            None,
        )
        assert account.enrolment_code_hash != code  # only a hash of it is kept
    page = app.test_client().get(f"/account/enrol?code={code}")
    assert page.status_code == 200


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--role", "hotline_admin", "x@y.example"], "needs --hotline"),
        (["--role", "hotline_admin", "--hotline", "nowhere", "x@y.example"], "no hotline"),
        (["--role", "admin", "--hotline", HOTLINE_A, "x@y.example"], "belongs to no hotline"),
        (["--role", "admin", "not-an-address"], "not an e-mail"),
    ],
)
def test_create_user_refuses_what_cannot_work(app, args, problem):
    result = create_user(app, *args)
    assert result.exit_code != 0
    assert problem in result.output


def test_create_user_refuses_a_second_account_for_one_address(app):
    assert create_user(app, "--role", "admin", "boss@service.example").exit_code == 0
    again = create_user(app, "--role", "admin", "BOSS@service.example")
    assert again.exit_code != 0 and "already exists" in again.output


def test_enrolment_shows_a_qr_code_drawn_by_the_app_and_the_key_as_text(app):
    result = create_user(app, "--role", "admin", "boss@service.example")
    code = re.search(r"enrol\?code=(\S+)", result.output).group(1)
    client = app.test_client()
    page = client.get(f"/account/enrol?code={code}").get_data(as_text=True)
    assert "<svg" in page and "<img" not in page
    secret = re.search(r'id="totp-key" class="secret">([A-Z2-7]+)<', page).group(1)
    token = csrf_token(client, f"/account/enrol?code={code}")

    def enrol(password: str, totp: str):
        form = {"csrf_token": token, "code": code, "password": password, "confirm": password}
        return client.post("/account/enrol", data={**form, "totp": totp})

    wrong = enrol(STAFF_PASSWORD, "000000")
    assert wrong.status_code == 400
    short = enrol("short", pyotp.TOTP(secret).now())
    assert short.status_code == 400
    assert "at least 12 characters" in short.get_data(as_text=True)
    done = enrol(STAFF_PASSWORD, pyotp.TOTP(secret).now())
    assert done.status_code == 303
    assert client.get(f"/account/enrol?code={code}").status_code == 404  # used up
    with Database.new_session(app) as db:
        account = db.scalar(select(Account).where(Account.email == "boss@service.example"))
        assert account.status == "active"
        assert secret.encode() not in account.totp_secret_sealed  # sealed, not stored in clear
        assert account.password_hash.startswith("$argon2id$")


def test_an_expired_enrolment_code_does_not_work(app, db, services):
    created = accounts.create_account(db, services.directory, "late@service.example", "admin")
    later = utcnow() + accounts.ENROLMENT_VALID_FOR + dt.timedelta(minutes=1)
    assert accounts.account_for_enrolment(db, created.enrolment_code, now=later) is None
    assert accounts.account_for_enrolment(db, created.enrolment_code) is not None


def test_sign_in_gives_one_answer_for_any_wrong_part(app):
    staffer = Staffer(app, "one@hotline-a.example", "staff", HOTLINE_A)
    client = app.test_client()
    answers = []
    for email, password, code in (
        ("nobody@hotline-a.example", STAFF_PASSWORD, staffer.code()),
        (staffer.email, "wrong password here", staffer.code()),
        (staffer.email, STAFF_PASSWORD, "123456"),
    ):
        token = csrf_token(client, "/account/sign-in")
        response = client.post(
            "/account/sign-in",
            data={"csrf_token": token, "email": email, "password": password, "code": code},
        )
        assert response.status_code == 401
        answers.append(re.sub(r'value="[^"]*"', "", response.get_data(as_text=True)))
    assert answers[0] == answers[1] == answers[2]


def test_a_code_that_was_used_once_is_refused_the_second_time(app):
    staffer = Staffer(app, "one@hotline-a.example", "staff", HOTLINE_A)
    code = staffer.code()
    first, second = app.test_client(), app.test_client()
    for client, expected in ((first, 303), (second, 401)):
        token = csrf_token(client, "/account/sign-in")
        response = client.post(
            "/account/sign-in",
            data={
                "csrf_token": token,
                "email": staffer.email,
                "password": STAFF_PASSWORD,
                "code": code,
            },
        )
        assert response.status_code == expected


def test_failed_sign_ins_lock_the_account_and_are_audited_even_when_the_request_fails(app):
    staffer = Staffer(app, "one@hotline-a.example", "staff", HOTLINE_A)
    services = app.extensions["assistant.services"]
    with app.app_context():
        request_db = Database.new_session(app)
        for _attempt in range(accounts.MAX_FAILURES):
            with pytest.raises(accounts.SignInFailed):
                accounts.sign_in(
                    request_db,
                    lambda: Database.new_session(app),
                    services.passwords,
                    services.cipher,
                    staffer.email,
                    "wrong password here",
                    "000000",
                )
            request_db.rollback()  # the failing request's own transaction is thrown away
        with pytest.raises(accounts.AccountLocked):
            accounts.sign_in(
                request_db,
                lambda: Database.new_session(app),
                services.passwords,
                services.cipher,
                staffer.email,
                STAFF_PASSWORD,
                staffer.code(),
            )
        request_db.close()
    with Database.new_session(app) as db:
        actions = [
            e.action
            for e in db.scalars(
                select(AuditEvent)
                .where(AuditEvent.object_type == "account")
                .order_by(AuditEvent.id)
            )
        ]
        assert actions.count("signin.failed") == accounts.MAX_FAILURES
        assert "account.locked" in actions and actions[-1] == "signin.locked"
        events = db.scalars(select(AuditEvent).where(AuditEvent.action == "signin.failed"))
        assert all(e.actor == f"account:{staffer.id}" and e.occurred_at for e in events)
    # The answer is the one any failure gets: a stranger cannot tell a locked staff account from
    # an address that has none.
    locked = staffer.sign_in()
    assert locked.status_code == 401
    assert "or there were too many tries" in locked.get_data(as_text=True)


def test_an_unknown_address_is_audited_without_the_address(app):
    client = app.test_client()
    token = csrf_token(client, "/account/sign-in")
    client.post(
        "/account/sign-in",
        data={
            "csrf_token": token,
            "email": "who@else.example",
            "password": "whatever whatever",
            "code": "123456",
        },
    )
    with Database.new_session(app) as db:
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "signin.failed")).one()
        assert (event.actor, event.object_id) == ("unknown", None)


def test_a_password_hash_is_renewed_at_sign_in_when_the_settings_grow(database_url, tmp_path):
    weak = make_app(database_url, tmp_path / "a")

    empty_all_tables(weak)
    staffer = Staffer(weak, "one@hotline-a.example", "staff", HOTLINE_A)
    stronger = make_app(database_url, tmp_path / "b", argon2_time_cost=3)
    staffer.app, staffer.client = stronger, stronger.test_client()
    assert staffer.sign_in().status_code == 303
    with Database.new_session(stronger) as db:
        account = db.get(Account, staffer.id)
        assert ",t=3," in account.password_hash
    empty_all_tables(stronger)
    for made in (weak, stronger):
        Database.engine(made).dispose()


def test_account_sessions_idle_out_after_30_minutes_and_end_after_8_hours(app, staff_a):
    services = app.extensions["assistant.services"]
    with Database.new_session(app) as db:
        record = db.scalars(
            select(SessionRecord).where(SessionRecord.account_id == staff_a.id)
        ).one()
        now = utcnow()
        assert dt.timedelta(minutes=29) < record.expires_at - now <= dt.timedelta(minutes=30)
        assert record.ends_at - now <= dt.timedelta(hours=8)
    cookie = staff_a.client.get_cookie("rra_session")
    assert cookie is not None

    raw_id = Signer(app.secret_key, salt="rra-session-cookie").unsign(cookie.value).decode()
    with Database.new_session(app) as db:
        assert (
            load_session(db, services.cipher, raw_id, "web", now=now + dt.timedelta(minutes=29))
            is not None
        )
        assert (
            load_session(db, services.cipher, raw_id, "web", now=now + dt.timedelta(minutes=31))
            is None
        )


def test_changing_the_password_ends_every_session_of_the_account(app, staff_a):
    elsewhere = app.test_client()
    assert staff_a.sign_in(elsewhere).status_code == 303
    assert elsewhere.get("/hotline/").status_code == 200
    new_password = "another long passphrase 9921"
    changed = staff_a.post(
        "/account/password",
        {
            "current": STAFF_PASSWORD,
            "password": new_password,
            "confirm": new_password,
            "totp": staff_a.code(),
        },
    )
    assert changed.status_code == 303
    assert elsewhere.get("/hotline/").status_code == 303
    assert staff_a.client.get("/hotline/").status_code == 303
    with Database.new_session(app) as db:
        assert (
            db.scalars(select(SessionRecord).where(SessionRecord.account_id == staff_a.id)).all()
            == []
        )
