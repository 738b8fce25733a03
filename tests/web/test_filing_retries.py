"""A retried filing (the same Idempotency-Key, or the same web draft) gets the same receipt within
ten minutes and never makes a second case; the receipt is never readable from the database
alone, and it is gone after ten minutes."""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid

from sqlalchemy import func
from sqlalchemy import select

from assistant.cases.replays import purge_replays
from assistant.extensions import Database
from assistant.models import Case
from assistant.models import FilingReplay
from assistant.models import utcnow
from tests.conftest import Survivor
from tests.conftest import api_request_body
from tests.conftest import csrf_token


def cases(app) -> int:
    with Database.new_session(app) as session:
        return session.scalar(select(func.count()).select_from(Case))


def test_a_retry_with_the_same_key_gets_the_same_receipt_and_files_nothing(app, client):
    key = str(uuid.uuid4())
    body = api_request_body("https://example.com/a", "https://example.nl/b")
    first = client.post("/api/v1/requests", json=body, headers={"Idempotency-Key": key})
    again = client.post("/api/v1/requests", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert cases(app) == 1
    other = client.post(
        "/api/v1/requests", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    assert other.status_code == 201 and cases(app) == 2


def test_the_same_key_with_another_request_or_a_short_key_is_refused(app, client):
    key = str(uuid.uuid4())
    client.post(
        "/api/v1/requests",
        json=api_request_body("https://example.com/a"),
        headers={"Idempotency-Key": key},
    )
    reused = client.post(
        "/api/v1/requests",
        json=api_request_body("https://example.com/b"),
        headers={"Idempotency-Key": key},
    )
    assert reused.status_code == 422
    assert reused.get_json()["error"]["code"] == "idempotency_key_reused"
    short = client.post(
        "/api/v1/requests",
        json=api_request_body("https://example.com/c"),
        headers={"Idempotency-Key": "1"},
    )
    assert short.status_code == 400
    assert short.get_json()["error"]["code"] == "bad_idempotency_key"
    assert cases(app) == 1


def test_after_ten_minutes_the_answer_is_gone_and_the_key_files_nothing_more(app, client, db):
    key = str(uuid.uuid4())
    body = api_request_body("https://example.com/a")
    client.post("/api/v1/requests", json=body, headers={"Idempotency-Key": key})
    assert purge_replays(db, now=utcnow() + dt.timedelta(minutes=9)) == 0
    assert purge_replays(db, now=utcnow() + dt.timedelta(minutes=11)) == 1
    db.commit()
    assert db.scalar(select(func.count()).select_from(FilingReplay)) == 0
    late = client.post("/api/v1/requests", json=body, headers={"Idempotency-Key": key})
    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "already_filed"
    assert cases(app) == 1


def test_the_database_alone_cannot_read_the_receipt_or_the_key(app, client, db):
    key = str(uuid.uuid4())
    answer = client.post(
        "/api/v1/requests",
        json=api_request_body("https://example.com/a"),
        headers={"Idempotency-Key": key},
    ).get_json()
    row = db.scalars(select(FilingReplay)).one()
    stored = " ".join([row.key_hash, row.request_digest]).encode() + row.answer_sealed
    compact = answer["passphrase"].replace(" ", "").encode()
    for secret in (
        key.encode(),
        answer["case_number"].encode(),
        answer["passphrase"].encode(),
        compact,
    ):
        assert secret not in stored
    case = db.scalars(select(Case)).one()
    assert case.submission_key and key not in case.submission_key


def test_two_retries_at_the_same_moment_file_once_and_both_get_the_receipt(app):
    key = str(uuid.uuid4())
    body = api_request_body("https://example.com/a")
    start = threading.Barrier(4)
    answers = []

    def post():
        client = app.test_client()
        start.wait()
        answer = client.post("/api/v1/requests", json=body, headers={"Idempotency-Key": key})
        answers.append((answer.status_code, (answer.get_json() or {}).get("case_number")))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cases(app) == 1
    assert {status for status, _number in answers} == {201}
    assert len({number for _status, number in answers}) == 1


def test_sending_the_web_form_again_shows_the_same_receipt(app, survivor: Survivor):
    survivor.add_places(value="https://example.com/a")
    survivor.add_places(action="continue")
    token = csrf_token(survivor.client, "/request/review")
    review = survivor.client.get("/request/review").get_data(as_text=True)
    draft = re.search(r'name="draft" value="([^"]+)"', review).group(1)
    form = {"csrf_token": token, "draft": draft}
    first = survivor.client.post("/request/send", data=form).get_data(as_text=True)
    again = survivor.client.post("/request/send", data=form)
    assert again.status_code == 200
    number = re.search(r'id="case-number">([^<]+)<', first).group(1)
    passphrase = re.search(r'id="passphrase">([^<]+)<', first).group(1)
    page = again.get_data(as_text=True)
    assert number in page and passphrase in page
    assert "1 place is for Cybertip.ca." in page
    assert cases(app) == 1
    # Another draft's key (or none) is not shown anything.
    other = survivor.client.post("/request/send", data={"csrf_token": token, "draft": "x" * 22})
    assert other.status_code == 303 and passphrase not in other.get_data(as_text=True)
