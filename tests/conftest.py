"""Fixtures: an app on a real database (SQLite by default, PostgreSQL when
``ASSISTANT_TEST_DATABASE_URL`` is set), a client, and small helpers that read as a story."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, delete, func, select, text

from assistant import create_app
from assistant.cli import upgrade_database
from assistant.config import new_key
from assistant.extensions import Database
from assistant.models import Base

TEST_DATABASE_URL = os.environ.get("ASSISTANT_TEST_DATABASE_URL", "")
SECRETS = {
    "secret_key": "test-secret-key-" + "x" * 40,
    "master_keys": f"1:{new_key()}",
    "hash_key": new_key(),
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
    app = create_app({"instance_path": str(tmp_path_factory.mktemp("inst")),
                      "database_url": url, **SECRETS})
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


def csrf_token(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    found = CSRF.search(page.get_data(as_text=True))
    assert found, f"no form on {path}"
    return found.group(1)


class Survivor:
    """A survivor going through the web journey with a test client."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def add_places(self, *, value: str = "", kind: str = "url", note: str = "",
                   platform: str = "", pasted: str = "", action: str = "add") -> Any:
        token = csrf_token(self.client, "/request/where")
        return self.client.post("/request/where", data={
            "csrf_token": token, "kind": kind, "value": value, "note": note,
            "platform": platform, "pasted": pasted, "action": action})

    def file(self, *values: str, categories: tuple[str, ...] = ("abuse_material",),
             minor: str = "yes", country: str = "", note: str = "") -> tuple[str, str]:
        """File a request of these links through every step; returns the receipt."""
        for value in values:
            response = self.add_places(value=value, note=note)
            assert response.status_code == 303, response.get_data(as_text=True)
        response = self.add_places(action="continue")
        assert response.headers["Location"].endswith("/request/what")
        token = csrf_token(self.client, "/request/what")
        self.client.post("/request/what", data={"csrf_token": token,
                                                "categories": list(categories)})
        token = csrf_token(self.client, "/request/about")
        self.client.post("/request/about", data={"csrf_token": token, "minor": minor,
                                                 "country": country, "language": "en"})
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
        return self.client.post("/check", data={"csrf_token": token,
                                                "case_number": case_number,
                                                "passphrase": passphrase})


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
