"""Fixtures: an app on a real database (SQLite by default, PostgreSQL when
``ASSISTANT_TEST_DATABASE_URL`` is set), a client, and small helpers that read as a story."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update

from assistant import create_app
from assistant.cli import upgrade_database
from assistant.extensions import Database
from assistant.models import Account
from assistant.models import Base
from assistant.models import Referral
from assistant.models import Withdrawal
from assistant.people.accounts import complete_enrolment
from assistant.people.accounts import create_account
from assistant.people.advocates import AdvocateProfile
from assistant.people.advocates import approve_advocate
from assistant.people.advocates import register_advocate
from assistant.vocabulary import ReferralStatus
from tests.contract import ContractClient

TEST_DATABASE_URL = os.environ.get("ASSISTANT_TEST_DATABASE_URL", "")
# Fixed, not drawn at random: this module is imported twice (as pytest's ``conftest`` and as
# ``tests.conftest`` by the test files), and apps made through either must share the database's
# keys, or the start-up check rightly refuses hashes made with a key it does not hold.
SECRETS = {
    "secret_key": "test-secret-key-" + "x" * 40,
    "master_keys": "1:dGVzdC1tYXN0ZXIta2V5LW9mLTMyLWJ5dGVzLi4uLi4",
    "hash_key": "dGVzdC1oYXNoLWtleS1vZi0zMi1ieXRlcy4uLi4uLi4",
}
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One schema for the session, built by the real migrations."""
    if TEST_DATABASE_URL:
        engine = create_engine(TEST_DATABASE_URL)
        with engine.begin() as connection:
            Base.metadata.drop_all(connection)
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        engine.dispose()
        url = TEST_DATABASE_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    app = create_app(
        {"instance_path": str(tmp_path_factory.mktemp("inst")), "database_url": url, **SECRETS}
    )
    upgrade_database(app)
    Database.engine(app).dispose()
    return url


def make_app(database_url: str, instance: Path, **overrides: Any) -> Flask:
    settings = {
        "instance_path": str(instance),
        "database_url": database_url,
        "exit_url": "https://weather.example/",
        "ratelimit_enabled": False,  # tests/web/test_rate_limits.py turns it on
        **SECRETS,
        **overrides,
    }
    app = create_app(settings)
    app.config["TESTING"] = True
    # Every call of the JSON API a test makes is held to the OpenAPI document (tests/contract.py).
    app.test_client_class = ContractClient
    return app


def empty_all_tables(app: Flask) -> None:
    with Database.engine(app).begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(database_url, tmp_path / "instance")
    empty_all_tables(app)
    yield app
    empty_all_tables(app)
    Database.engine(app).dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def services(app: Flask) -> Any:
    return app.extensions["assistant.services"]


@pytest.fixture
def db(app: Flask) -> Iterator[Any]:
    with app.app_context():
        session = Database.new_session(app)
        yield session
        session.close()


def row_counts(app: Flask) -> dict[str, int]:
    """How many rows each table holds."""
    with Database.engine(app).connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
        }


def hotlines_take_part(app: Flask) -> None:
    """Every referral acknowledged by its hotline through the portal, as a hotline that is not
    connected does when its staff take the case up here: from then on, messages reach it."""
    with Database.engine(app).begin() as connection:
        connection.execute(
            update(Referral)
            .where(Referral.status == ReferralStatus.RECEIVED)
            .values(status=ReferralStatus.WITH_HOTLINE)
        )


def assert_only_withdrawals_left(app: Flask, baseline: dict[str, int], *, referrals: int) -> None:
    """After an erasure: every table as before, but for each hotline's record that its referral
    was withdrawn (a reference and a date, nothing of the case) and its feed's counter."""
    after = row_counts(app)
    assert after.pop("withdrawals") - baseline["withdrawals"] == referrals
    after.pop("feed_counters")
    assert after == {k: v for k, v in baseline.items() if k not in ("withdrawals", "feed_counters")}
    with Database.engine(app).connect() as connection:
        columns = set(connection.execute(select(Withdrawal)).keys())
    assert columns == {"id", "hotline_id", "referral_id", "withdrawn_on", "reason", "feed_seq"}


def without_csrf_tokens(body: bytes) -> bytes:
    """A page with its CSRF tokens blanked: a token is signed with the second it was made in, so
    two otherwise identical pages differ when they straddle a second."""
    return re.sub(rb'(name="csrf_token"[^>]*value=")[^"]+', rb"\1", body)


def csrf_token(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    found = CSRF.search(page.get_data(as_text=True))
    assert found, f"no form on {path}"
    return found.group(1)


class Survivor:
    """A survivor going through the web journey with a test client."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def add_places(
        self,
        *,
        value: str = "",
        kind: str = "url",
        note: str = "",
        platform: str = "",
        pasted: str = "",
        action: str = "add",
    ) -> Any:
        token = csrf_token(self.client, "/request/where")
        return self.client.post(
            "/request/where",
            data={
                "csrf_token": token,
                "kind": kind,
                "value": value,
                "note": note,
                "platform": platform,
                "pasted": pasted,
                "action": action,
            },
        )

    def file(
        self,
        *values: str,
        categories: tuple[str, ...] = ("abuse_material",),
        minor: str = "yes",
        country: str = "",
        note: str = "",
    ) -> tuple[str, str]:
        """File a request of these links through every step; returns the receipt."""
        for value in values:
            response = self.add_places(value=value, note=note)
            assert response.status_code == 303, response.get_data(as_text=True)
        response = self.add_places(action="continue")
        assert response.headers["Location"].endswith("/request/what")
        token = csrf_token(self.client, "/request/what")
        self.client.post(
            "/request/what", data={"csrf_token": token, "categories": list(categories)}
        )
        token = csrf_token(self.client, "/request/about")
        self.client.post(
            "/request/about",
            data={"csrf_token": token, "minor": minor, "country": country, "language": "en"},
        )
        token = csrf_token(self.client, "/request/review")
        receipt = self.client.post("/request/send", data={"csrf_token": token})
        assert receipt.status_code == 200
        page = receipt.get_data(as_text=True)
        number = re.search(r'id="case-number">([^<]+)<', page)
        passphrase = re.search(r'id="passphrase">([^<]+)<', page)
        assert number and passphrase
        return number.group(1), passphrase.group(1)

    def sign_in(self, case_number: str, passphrase: str) -> Any:
        token = csrf_token(self.client, "/check")
        return self.client.post(
            "/check",
            data={"csrf_token": token, "case_number": case_number, "passphrase": passphrase},
        )


@pytest.fixture
def survivor(client: FlaskClient) -> Survivor:
    return Survivor(client)


def api_request_body(*values: str, **extra: Any) -> dict[str, Any]:
    return {
        "locations": [{"kind": "url", "value": value} for value in values],
        "categories": ["abuse_material"],
        "minor_in_material": "yes",
        **extra,
    }


STAFF_PASSWORD = "a long staff passphrase 4417"
HOTLINE_A = "hotline_ie"  # .ie links go there
HOTLINE_B = "offlimits_nl"  # .nl links go there


class Staffer:
    """A hotline staff member, administrator or advocate (registered and approved), enrolled
    with a TOTP secret the test knows. An advocate's organisation is given as ``hotline_id``.

    Every sign-in needs a code from a time step not used before; ``code()`` picks the next one
    inside the accepted window (one step either way), as an authenticator app would 30 s later.
    """

    def __init__(self, app: Flask, email: str, role: str, hotline_id: str | None) -> None:
        self.app = app
        self.client = app.test_client()
        self.email = email
        self.secret = pyotp.random_base32()
        services = app.extensions["assistant.services"]
        with app.app_context():
            session = Database.new_session(app)
            if role == "advocate":
                profile = AdvocateProfile(
                    name=email.split("@")[0].title(),
                    organisation=hotline_id or "Support Org",
                    role="Case worker",
                    reason="I help survivors.",
                )
                register_advocate(session, services.cipher, email, profile)
                account, _code = approve_advocate(session, email=email)
            else:
                account = create_account(
                    session, services.directory, email, role, hotline_id
                ).account
            complete_enrolment(
                session,
                services.passwords,
                services.cipher,
                account,
                STAFF_PASSWORD,
                self.secret,
                self.code_at(0),
            )
            self.id = account.id
            session.close()

    def code_at(self, offset: int) -> str:
        step = int(time.time()) // 30 + offset
        return str(pyotp.TOTP(self.secret).at(step * 30))

    def last_step(self) -> int:
        with Database.new_session(self.app) as session:
            account = session.get(Account, self.id)
            assert account is not None
            return account.totp_last_step

    def code(self) -> str:
        """A code the account has not used yet (the next step, or the one after)."""

        current = int(time.time()) // 30
        for offset in (-1, 0, 1):
            if current + offset > self.last_step():
                return self.code_at(offset)
        # Both usable steps are spent: let the account's clock fall back, as 30 s would.
        with Database.new_session(self.app) as session:
            account = session.get(Account, self.id)
            assert account is not None
            account.totp_last_step = current - 1
            session.commit()
        return self.code_at(0)

    def sign_in(self, client: FlaskClient | None = None) -> Any:
        client = client or self.client
        token = csrf_token(client, "/account/sign-in")
        return client.post(
            "/account/sign-in",
            data={
                "csrf_token": token,
                "email": self.email,
                "password": STAFF_PASSWORD,
                "code": self.code(),
            },
        )

    def post(self, path: str, data: dict[str, Any] | None = None) -> Any:
        """POST a form as this person (the CSRF token of their session comes from any page)."""
        token = csrf_token(self.client, "/account/password")
        return self.client.post(path, data={"csrf_token": token, **(data or {})})


@pytest.fixture
def staff_a(app: Flask) -> Staffer:
    staffer = Staffer(app, "analyst@hotline-a.example", "staff", HOTLINE_A)
    assert staffer.sign_in().status_code == 303
    return staffer


@pytest.fixture
def staff_b(app: Flask) -> Staffer:
    staffer = Staffer(app, "analyst@hotline-b.example", "staff", HOTLINE_B)
    assert staffer.sign_in().status_code == 303
    return staffer


@pytest.fixture
def hotline_admin_a(app: Flask) -> Staffer:
    """Hotline A's administrator (who also works its queue), signed in."""
    staffer = Staffer(app, "lead@hotline-a.example", "hotline_admin", HOTLINE_A)
    assert staffer.sign_in().status_code == 303
    return staffer


@pytest.fixture
def admin(app: Flask) -> Staffer:
    staffer = Staffer(app, "admin@service.example", "admin", None)
    assert staffer.sign_in().status_code == 303
    return staffer


ADVOCATE_ORG = "Northside Legal Aid"


@pytest.fixture
def advocate_a(app: Flask) -> Staffer:
    staffer = Staffer(app, "lawyer@northside.example", "advocate", ADVOCATE_ORG)
    assert staffer.sign_in().status_code == 303
    return staffer


@pytest.fixture
def advocate_b(app: Flask) -> Staffer:
    staffer = Staffer(app, "worker@elsewhere.example", "advocate", "Elsewhere Support")
    assert staffer.sign_in().status_code == 303
    return staffer
