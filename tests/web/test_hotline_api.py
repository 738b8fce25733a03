"""The hotline systems API: keys, the changes feed, a referral in full, actions and messages, as a
hotline's own case system uses them, and what the survivor then sees."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy import update

from assistant.cases.retention import erase_case
from assistant.cases.retention import purge
from assistant.cli import main
from assistant.extensions import Database
from assistant.hotline import referrals as staff_actions
from assistant.hotline.api_keys import create_key
from assistant.hotline.api_keys import revoke_key
from assistant.hotline.api_keys import rotate_key
from assistant.hotline.referrals import Automatic
from assistant.models import ApiKey
from assistant.models import AuditEvent
from assistant.models import Case
from assistant.models import OutboxItem
from assistant.models import Referral
from assistant.models import Withdrawal
from assistant.models import utcnow
from tests.conftest import HOTLINE_A
from tests.conftest import HOTLINE_B
from tests.conftest import api_request_body

API = "/api/v1/hotline"
TODAY = dt.date.today().isoformat()


def make_key(app: Flask, hotline_id: str = HOTLINE_A, *scopes: str, name: str = "CMS") -> str:
    services = app.extensions["assistant.services"]
    with Database.new_session(app) as db:
        return create_key(
            db, services.directory, hotline_id, name, scopes or ("read", "act", "message"), by=None
        ).raw


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def file(client: FlaskClient, *urls: str) -> dict[str, Any]:
    answer = client.post("/api/v1/requests", json=api_request_body(*urls))
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def survivor_token(client: FlaskClient, receipt: dict[str, Any]) -> dict[str, str]:
    answer = client.post(
        "/api/v1/session",
        json={"case_number": receipt["case_number"], "passphrase": receipt["passphrase"]},
    )
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def poll(client: FlaskClient, key: str, after: str | None = None) -> dict[str, Any]:
    answer = client.get(
        f"{API}/referrals", query_string={"after": after} if after else {}, headers=auth(key)
    )
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def read(client: FlaskClient, key: str, reference: str) -> dict[str, Any]:
    answer = client.get(f"{API}/referrals/{reference}", headers=auth(key))
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def act(client: FlaskClient, key: str, reference: str, /, **body: Any) -> Any:
    headers = auth(key)
    if "idempotency_key" in body:
        headers["Idempotency-Key"] = body.pop("idempotency_key")
    return client.post(f"{API}/referrals/{reference}/actions", json=body, headers=headers)


@pytest.fixture
def key_a(app: Flask) -> str:
    return make_key(app)


@pytest.fixture
def referral_a(client: FlaskClient, key_a: str) -> dict[str, Any]:
    """A referral to hotline A with two places, as its system reads it."""
    file(client, "https://files.example.ie/a", "https://files.example.ie/b")
    [entry] = poll(client, key_a)["referrals"]
    return read(client, key_a, entry["reporting_reference"])


# --- keys ---


def test_a_key_is_stored_only_as_a_hash_and_its_use_is_audited_by_name(app, client, key_a):
    assert key_a.startswith("rra_") and len(key_a) > 40
    file(client, "https://files.example.ie/a")
    first = poll(client, key_a)
    [entry] = first["referrals"]
    assert poll(client, key_a, first["next"])["referrals"] == []  # nothing new: audited too
    read(client, key_a, entry["reporting_reference"])
    with Database.new_session(app) as db:
        [key] = db.scalars(select(ApiKey)).all()
        assert key_a not in repr([getattr(key, column.key) for column in ApiKey.__table__.columns])
        assert key.last_used_on == dt.date.today()
        actors = set(db.scalars(select(AuditEvent.actor)))
        actions = [
            e.action
            for e in db.scalars(select(AuditEvent).where(AuditEvent.actor == f"key:{key.id}:CMS"))
        ]
    assert actions.count("api.feed_read") == 2 and "referral.viewed" in actions
    assert not any(key_a in actor for actor in actors)


def test_a_wrong_revoked_or_out_of_scope_key_gets_the_same_message(app, client, key_a):
    read_only = make_key(app, HOTLINE_A, "read", name="reader")
    revoked = make_key(app, HOTLINE_A, "read", name="old")
    with Database.new_session(app) as db:
        key_id = db.scalar(select(ApiKey.id).where(ApiKey.name == "old"))
        revoke_key(db, HOTLINE_A, key_id, by=None)
    answers = [
        client.get(f"{API}/referrals"),
        client.get(f"{API}/referrals", headers=auth("rra_" + "x" * 43)),
        client.get(f"{API}/referrals", headers=auth(revoked)),
        client.get(f"{API}/referrals", headers={"Authorization": key_a}),  # no scheme
        client.post(
            f"{API}/referrals/RRA-1/messages", json={"body": "hi"}, headers=auth(read_only)
        ),
    ]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 403]
    assert len({a.get_json()["error"]["message"] for a in answers}) == 1
    assert {a.get_json()["error"]["code"] for a in answers} == {"invalid_key"}


def test_a_rotated_key_works_beside_its_successor_until_the_overlap_ends(app, client, key_a):
    with Database.new_session(app) as db:
        old_id = db.scalar(select(ApiKey.id))
        new = rotate_key(db, HOTLINE_A, old_id, by=None, overlap=dt.timedelta(hours=2))
    assert client.get(f"{API}/referrals", headers=auth(key_a)).status_code == 200
    assert client.get(f"{API}/referrals", headers=auth(new.raw)).status_code == 200
    with Database.new_session(app) as db:
        db.execute(
            update(ApiKey)
            .where(ApiKey.id == old_id)
            .values(expires_at=utcnow() - dt.timedelta(seconds=1))
        )
        db.commit()
    assert client.get(f"{API}/referrals", headers=auth(key_a)).status_code == 401
    assert client.get(f"{API}/referrals", headers=auth(new.raw)).status_code == 200


# --- the access matrix: every endpoint, each scope, another hotline's key ---


ENDPOINTS = [
    ("get", "/referrals", None, "read"),
    ("get", "/referrals/{ref}", None, "read"),
    ("get", "/referrals/{ref}/messages", None, "read"),
    ("post", "/referrals/{ref}/actions", {"action": "acknowledge", "version": 1}, "act"),
    ("post", "/referrals/{ref}/messages", {"body": "We are on it."}, "message"),
]


@pytest.mark.parametrize(("method", "path", "body", "needs"), ENDPOINTS)
def test_access_matrix(app, client, method, path, body, needs):
    file(client, "https://files.example.ie/matrix")
    with Database.new_session(app) as db:
        reference = f"RRA-{db.scalar(select(Referral.id))}"
    url = API + path.replace("{ref}", reference)
    for scope in ("read", "act", "message"):
        key = make_key(app, HOTLINE_A, scope, name=f"only {scope}")
        answer = getattr(client, method)(url, json=body, headers=auth(key))
        if scope == needs:
            assert answer.status_code in (200, 201), (scope, path, answer.get_json())
        else:
            assert answer.status_code == 403, (scope, path)
    # Hotline B's key, with every scope: the referral is not there for it (404), and its feed
    # lists none of A's.
    other = make_key(app, HOTLINE_B, name="B's system")
    answer = getattr(client, method)(url, json=body, headers=auth(other))
    if path == "/referrals":
        assert answer.status_code == 200 and answer.get_json()["referrals"] == []
    else:
        assert answer.status_code == 404
        unknown = getattr(client, method)(
            url.replace(reference, "RRA-999999"), json=body, headers=auth(other)
        )
        assert unknown.status_code == 404
        assert answer.get_json() == unknown.get_json()
    assert getattr(client, method)(url, json=body).status_code == 401


# --- the feed ---


def test_the_feed_lists_each_change_once_oldest_first_in_pages(app, client, key_a):
    for index in range(5):
        file(client, f"https://files.example.ie/{index}")
    file(client, "https://news.example.nl/x")  # hotline B's
    first = client.get(f"{API}/referrals?limit=2", headers=auth(key_a)).get_json()
    assert len(first["referrals"]) == 2 and first["more"]
    seen = [e["reporting_reference"] for e in first["referrals"]]
    after = first["next"]
    while True:
        page = client.get(f"{API}/referrals?limit=2&after={after}", headers=auth(key_a)).get_json()
        seen += [e["reporting_reference"] for e in page["referrals"]]
        after = page["next"]
        if not page["more"]:
            break
    with Database.new_session(app) as db:
        ids = list(
            db.scalars(
                select(Referral.id).where(Referral.hotline_id == HOTLINE_A).order_by(Referral.id)
            )
        )
    assert seen == [f"RRA-{i}" for i in ids]
    # Nothing new: an empty page, and the same cursor goes on working.
    assert poll(client, key_a, after) == {"referrals": [], "next": after, "more": False}
    # One referral changes: it comes again, alone.
    reference = seen[1]
    body = read(client, key_a, reference)
    assert (
        act(client, key_a, reference, action="acknowledge", version=body["version"]).status_code
        == 200
    )
    page = poll(client, key_a, after)
    assert [(e["reporting_reference"], e["status"]) for e in page["referrals"]] == [
        (reference, "with_hotline")
    ]


def test_a_cursor_never_issued_or_issued_to_another_hotline_is_refused(app, client, key_a):
    other = make_key(app, HOTLINE_B)
    their_cursor = poll(client, other)["next"]
    for cursor in ("nonsense", their_cursor, poll(client, key_a)["next"][:-2] + "xx"):
        answer = client.get(f"{API}/referrals", query_string={"after": cursor}, headers=auth(key_a))
        assert answer.status_code == 400
        assert answer.get_json()["error"]["code"] == "bad_cursor"


def test_the_feed_under_concurrent_changes_misses_and_repeats_nothing(app, client, key_a):
    """Writers change referrals (new ones, actions, messages) in threads while a system polls.
    Every change the feed lists has a number: no number comes twice, numbers only grow, and at
    the end the feed has listed each referral at its latest change and version."""
    for index in range(6):
        file(client, f"https://files.example.ie/start-{index}")
    services = app.extensions["assistant.services"]
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            writer_client = app.test_client()
            for round_ in range(8):
                writer_client.post(
                    "/api/v1/requests",
                    json=api_request_body(f"https://files.example.ie/w{number}-{round_}"),
                )
                with Database.new_session(app) as db:
                    found = db.scalars(
                        select(Referral)
                        .where(Referral.hotline_id == HOTLINE_A)
                        .order_by(Referral.id)
                    ).all()
                    target = found[(number * 3 + round_) % len(found)]
                    actor = Automatic(HOTLINE_A, f"writer-{number}")
                    try:
                        staff_actions.message_survivor(db, services, actor, target, "news")
                        if round_ % 2 == 0:
                            staff_actions.acknowledge(db, actor, target, version=target.version)
                    except staff_actions.ActionRefused:
                        db.rollback()  # acknowledged already, or changed meanwhile
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    changes: list[int] = []
    last_seen: dict[str, tuple[int, int]] = {}
    after: str | None = None
    polls_while_writing = 0

    def drain() -> None:
        nonlocal after
        while True:
            page = poll(client, key_a, after)
            for entry in page["referrals"]:
                changes.append(entry["change"])
                last_seen[entry["reporting_reference"]] = (entry["change"], entry["version"])
            after = page["next"]
            if not page["more"]:
                return

    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        drain()
        polls_while_writing += 1
    for thread in threads:
        thread.join()
    drain()
    assert not errors, errors
    assert polls_while_writing > 1
    assert len(changes) == len(set(changes)), "a change was listed twice"
    assert changes == sorted(changes), "the feed went back in time"
    with Database.new_session(app) as db:
        final = {
            f"RRA-{rid}": (seq, version)
            for rid, seq, version in db.execute(
                select(Referral.id, Referral.feed_seq, Referral.version).where(
                    Referral.hotline_id == HOTLINE_A
                )
            )
        }
    assert len(final) == 6 + 3 * 8
    assert last_seen == final, "a change was missed"


# --- a referral in full, and acting on it ---


def test_a_referral_in_full_has_what_the_portal_shows(app, client, key_a, referral_a):
    assert referral_a["state"] == "open" and referral_a["status"] == "received"
    places = referral_a["locations"]
    assert [p["location"] for p in places] == [
        "https://files.example.ie/a",
        "https://files.example.ie/b",
    ]
    assert places[0]["routing_reasons"] and referral_a["timeline"][0]["code"] == "routed"
    assert referral_a["allowed_actions"]["acknowledge"] is True
    assert referral_a["messages"] == [] and referral_a["notes"] == []


def test_each_action_through_the_api_is_what_the_survivor_then_sees(app, client, key_a):
    receipt = file(client, "https://files.example.ie/a", "https://files.example.ie/b")
    token = survivor_token(client, receipt)
    [entry] = poll(client, key_a)["referrals"]
    reference = entry["reporting_reference"]
    body = read(client, key_a, reference)
    first, second = (p["id"] for p in body["locations"])

    def step(**action: Any) -> int:
        answer = act(
            client, key_a, reference, version=read(client, key_a, reference)["version"], **action
        )
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()["version"]

    step(action="acknowledge")
    step(action="assess", places=[first, second], assessment="csam", hosting_country="ie")
    step(
        action="record_notice",
        places=[first],
        notice_type="csam",
        provider="Files Ltd",
        sent_on=TODAY,
        reference="FL-1",
    )
    notice_id = read(client, key_a, reference)["locations"][0]["notices"][0]["id"]
    step(action="record_response", notice=notice_id, response="removed", response_on=TODAY)
    step(action="close", reason="completed")
    after = read(client, key_a, reference)
    assert after["state"] == "closed"
    assert [p["status"] for p in after["locations"]] == ["removed", "closed"]
    mine = client.get("/api/v1/requests/me", headers=token).get_json()
    assert [p["status"] for p in mine["locations"]] == ["removed", "closed"]
    step(action="reopen")
    assert read(client, key_a, reference)["state"] == "open"
    moved = step(action="reroute", hotline=HOTLINE_B, reason="hosted_elsewhere")
    assert moved
    mine = client.get("/api/v1/requests/me", headers=token).get_json()
    assert [p["status"] for p in mine["locations"]] == ["removed", "referred"]
    # The place moved is new in the other hotline's feed, and only that place.
    key_b = make_key(app, HOTLINE_B)
    [moved_entry] = poll(client, key_b)["referrals"]
    moved_here = read(client, key_b, moved_entry["reporting_reference"])
    assert [p["location"] for p in moved_here["locations"]] == ["https://files.example.ie/b"]
    with Database.new_session(app) as db:
        actors = set(
            db.scalars(select(AuditEvent.actor).where(AuditEvent.action.like("referral.%")))
        )
    assert any(actor.startswith("key:") and actor.endswith(":CMS") for actor in actors)


def test_a_refused_step_changes_nothing_and_says_why(app, client, key_a, referral_a):
    reference, version = referral_a["reporting_reference"], referral_a["version"]
    place = referral_a["locations"][0]["id"]
    not_yet = act(
        client,
        key_a,
        reference,
        action="record_notice",
        version=version,
        places=[place],
        notice_type="csam",
        provider="X",
        sent_on=TODAY,
    )
    assert not_yet.status_code == 409 and not_yet.get_json()["error"]["code"] == "assess_first"
    missing = act(client, key_a, reference, action="assess", version=version)
    assert missing.status_code == 422 and missing.get_json()["error"]["code"] == "missing_field"
    bad = act(
        client,
        key_a,
        reference,
        action="assess",
        version=version,
        places=[place],
        assessment="nonsense",
    )
    assert bad.status_code == 422
    unknown = act(client, key_a, reference, action="acknowledge", version=version, colour="red")
    assert unknown.status_code == 422 and unknown.get_json()["error"]["code"] == "unknown_field"
    assert read(client, key_a, reference)["version"] == version


def test_a_step_some_places_cannot_take_is_done_for_none_and_says_which(
    app, client, key_a, referral_a
):
    reference, version = referral_a["reporting_reference"], referral_a["version"]
    first, second = (p["id"] for p in referral_a["locations"])
    act(client, key_a, reference, action="acknowledge", version=version)
    version += 1
    assert (
        act(
            client,
            key_a,
            reference,
            action="assess",
            version=version,
            places=[first],
            assessment="csam",
        ).status_code
        == 200
    )
    version += 1
    refused = act(
        client,
        key_a,
        reference,
        action="record_notice",
        version=version,
        places=[first, second],
        notice_type="csam",
        provider="Files Ltd",
        sent_on=TODAY,
    )
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "refused"
    assert [(d["field"], d["code"]) for d in error["details"]] == [("places/1", "assess_first")]
    assert read(client, key_a, reference)["locations"][0]["notices"] == []


def test_an_action_on_an_older_version_is_a_conflict(app, client, key_a, referral_a):
    reference, version = referral_a["reporting_reference"], referral_a["version"]
    assert act(client, key_a, reference, action="acknowledge", version=version).status_code == 200
    late = act(client, key_a, reference, action="close", reason="duplicate", version=version)
    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "version_conflict"
    assert read(client, key_a, reference)["state"] == "open"


def test_a_retried_action_with_its_idempotency_key_acts_once(app, client, key_a, referral_a):
    reference, version = referral_a["reporting_reference"], referral_a["version"]
    first = act(
        client, key_a, reference, action="acknowledge", version=version, idempotency_key="ack-1"
    )
    again = act(
        client, key_a, reference, action="acknowledge", version=version, idempotency_key="ack-1"
    )
    assert first.status_code == again.status_code == 200
    assert (
        first.get_json()
        == again.get_json()
        == {"reporting_reference": reference, "action": "acknowledge", "version": version + 1}
    )
    assert again.headers["Idempotent-Replayed"] == "true"
    assert read(client, key_a, reference)["version"] == version + 1
    with Database.new_session(app) as db:
        assert (
            len(
                db.scalars(
                    select(AuditEvent).where(AuditEvent.action == "referral.acknowledged")
                ).all()
            )
            == 1
        )
    other = act(
        client,
        key_a,
        reference,
        action="close",
        reason="duplicate",
        version=version + 1,
        idempotency_key="ack-1",
    )
    assert other.status_code == 422
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"
    spaced = act(
        client, key_a, reference, action="acknowledge", version=version + 1, idempotency_key="a b"
    )
    assert spaced.status_code == 400


def test_messages_both_ways(app, client, key_a):
    receipt = file(client, "https://files.example.ie/a")
    token = survivor_token(client, receipt)
    client.post(
        "/api/v1/requests/me/messages",
        headers=token,
        json={"body": "Is there news?", "referral_id": None},
    )
    [entry] = poll(client, key_a)["referrals"]
    reference = entry["reporting_reference"]
    listed = client.get(f"{API}/referrals/{reference}/messages", headers=auth(key_a)).get_json()
    assert [(m["author"], m["body"]) for m in listed["messages"]] == [
        ("survivor", "Is there news?")
    ]
    headers = {**auth(key_a), "Idempotency-Key": "msg-1"}
    sent = client.post(
        f"{API}/referrals/{reference}/messages",
        json={"body": "We asked the site."},
        headers=headers,
    )
    again = client.post(
        f"{API}/referrals/{reference}/messages",
        json={"body": "We asked the site."},
        headers=headers,
    )
    assert sent.status_code == again.status_code == 201
    assert sent.get_json() == again.get_json()
    mine = client.get("/api/v1/requests/me", headers=token).get_json()
    assert [m["body"] for m in mine["messages"]] == ["Is there news?", "We asked the site."]
    empty = client.post(
        f"{API}/referrals/{reference}/messages", json={"body": "  "}, headers=auth(key_a)
    )
    assert empty.status_code == 422


def test_a_withdrawn_referral_shows_as_withdrawn_and_nothing_else(app, client, key_a):
    receipt = file(client, "https://files.example.ie/a")
    [entry] = poll(client, key_a)["referrals"]
    reference = entry["reporting_reference"]
    cursor = poll(client, key_a)["next"]
    token = survivor_token(client, receipt)
    assert client.delete("/api/v1/requests/me", headers=token).status_code == 204
    [withdrawn] = poll(client, key_a, cursor)["referrals"]
    assert withdrawn.pop("change") > entry["change"]
    assert withdrawn == {
        "reporting_reference": reference,
        "state": "withdrawn",
        "withdrawn_on": TODAY,
    }
    assert read(client, key_a, reference) == {
        "reporting_reference": reference,
        "state": "withdrawn",
        "withdrawn_on": TODAY,
    }
    gone = act(client, key_a, reference, action="acknowledge", version=1)
    assert gone.status_code == 404
    other = make_key(app, HOTLINE_B)
    assert client.get(f"{API}/referrals/{reference}", headers=auth(other)).status_code == 404


# --- the service operator's command ---


def test_the_operator_makes_lists_rotates_and_revokes_keys_at_the_command_line(app, client):
    runner = app.test_cli_runner()
    made = runner.invoke(
        main,
        ["api-key", "create", "--hotline", HOTLINE_A, "--name", "Night sync", "--scope", "read"],
    )
    assert made.exit_code == 0, made.output
    raw = made.output.split()[-1]
    assert raw.startswith("rra_")
    assert client.get(f"{API}/referrals", headers=auth(raw)).status_code == 200
    listed = runner.invoke(main, ["api-key", "list", "--hotline", HOTLINE_A])
    assert "Night sync" in listed.output and "read" in listed.output and raw not in listed.output
    with Database.new_session(app) as db:
        key = db.scalars(select(ApiKey)).one()
        assert key.by_operator and key.created_by is None
    rotated = runner.invoke(
        main, ["api-key", "rotate", "--hotline", HOTLINE_A, "--overlap-hours", "0", str(key.id)]
    )
    assert rotated.exit_code == 0, rotated.output
    new_raw = rotated.output.split()[-1]
    assert client.get(f"{API}/referrals", headers=auth(raw)).status_code == 401  # no overlap
    assert client.get(f"{API}/referrals", headers=auth(new_raw)).status_code == 200
    with Database.new_session(app) as db:
        new_id = db.scalar(select(ApiKey.id).where(ApiKey.replaced_by.is_(None)))
    revoked = runner.invoke(main, ["api-key", "revoke", "--hotline", HOTLINE_A, str(new_id)])
    assert revoked.exit_code == 0
    assert client.get(f"{API}/referrals", headers=auth(new_raw)).status_code == 401
    wrong = runner.invoke(main, ["api-key", "revoke", "--hotline", HOTLINE_B, str(new_id)])
    assert wrong.exit_code != 0 and "no key with that id" in wrong.output
    unknown = runner.invoke(
        main, ["api-key", "create", "--hotline", "nowhere", "--name", "x", "--scope", "read"]
    )
    assert unknown.exit_code != 0 and "no hotline" in unknown.output


def test_a_case_past_its_retention_leaves_an_expired_entry_and_an_erasure_twice_is_harmless(
    app, client, key_a
):
    receipt = file(client, "https://files.example.ie/old")
    [entry] = poll(client, key_a)["referrals"]
    with Database.new_session(app) as db:
        counts = purge(db, on=dt.date.today() + dt.timedelta(days=400))
    assert counts["cases"] == 1
    [expired] = poll(client, key_a)["referrals"]
    assert (expired["reporting_reference"], expired["state"]) == (
        entry["reporting_reference"],
        "expired",
    )
    assert read(client, key_a, entry["reporting_reference"])["state"] == "expired"
    # No webhook for an expiry, and nothing about the case left but that line.
    with Database.new_session(app) as db:
        assert (
            db.scalars(select(OutboxItem).where(OutboxItem.withdrawal_id.is_not(None))).all() == []
        )
    # An erasure that comes twice (a double submit) finds nothing the second time.
    other = file(client, "https://files.example.ie/twice")
    with Database.new_session(app) as db:
        case = db.scalar(select(Case).where(Case.case_number == other["case_number"]))
        erase_case(db, case, {})
    with Database.new_session(app) as db:
        stale = Case(id=case.id)
        erase_case(db, stale, {})
        assert len(db.scalars(select(Withdrawal)).all()) == 2
    assert receipt


def test_a_rotation_overlap_out_of_range_is_refused_in_words(app, hotline_admin_a):
    make_key(app, HOTLINE_A)
    with Database.new_session(app) as db:
        key_id = db.scalar(select(ApiKey.id))
    for hours in ("10000000000000", "-1", "721", ""):
        answer = hotline_admin_a.post(
            f"/hotline/team/keys/{key_id}/rotate", {"overlap_hours": hours}
        )
        assert answer.status_code == 400, hours
        assert "The overlap is 0 to 720 hours." in answer.get_data(as_text=True)
    with Database.new_session(app) as db:
        assert len(db.scalars(select(ApiKey)).all()) == 1
