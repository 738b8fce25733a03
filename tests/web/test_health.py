"""Health for operators: /healthz (up) and /readyz (the database and the rate-limit store
answer), with nothing more in the answer, no session, no trace."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_app
from tests.conftest import row_counts


def test_up_and_ready_say_so_and_nothing_more(app, client):
    before = row_counts(app)
    up = client.get("/healthz")
    ready = client.get("/readyz")
    assert (up.status_code, up.get_json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.get_json()) == (200, {"status": "ready"})
    for answer in (up, ready):
        assert "Set-Cookie" not in answer.headers
        assert answer.headers["Cache-Control"].startswith("no-store")
    assert row_counts(app) == before  # no session row, no audit line


def test_not_ready_without_its_database_and_the_caller_is_not_told_why(tmp_path: Path, caplog):
    missing = tmp_path / "no-such-folder" / "app.sqlite3"
    app = make_app(f"sqlite:///{missing}", tmp_path / "instance")
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # the process itself is up
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json() == {"status": "unavailable"}
    assert answer.headers["Retry-After"] == "5"
    assert "not ready: the database" in caplog.text
    assert str(missing) not in caplog.text


def test_not_ready_without_its_rate_limit_store(database_url, tmp_path: Path):
    app = make_app(
        database_url,
        tmp_path / "instance",
        ratelimit_enabled=True,
        # Nothing listens on port 1 of this machine.
        ratelimit_storage_url="redis://127.0.0.1:1/0",
    )
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json() == {"status": "unavailable"}
