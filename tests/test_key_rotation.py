"""Changing the master key and the hash key (`assistant rotate-keys`, the start-up check), on
real cases: filed through the web journey and by an advocate, worked by a hotline (a notice
recorded by hand, one sent with a provider's answers through its link, notes, messages), with
accounts and signed-in sessions."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy import LargeBinary
from sqlalchemy import create_engine
from sqlalchemy import select

from assistant.cases.intake import IntakeError
from assistant.cases.intake import IntakeRequest
from assistant.cases.intake import add_locations
from assistant.cases.intake import file_request
from assistant.cases.status import post_survivor_message
from assistant.cli import rotate_keys_command
from assistant.config import ConfigError
from assistant.config import decode_key
from assistant.config import load_settings
from assistant.config import new_key
from assistant.crypto import FieldCipher
from assistant.crypto import key_fingerprint
from assistant.crypto import sealed_version
from assistant.extensions import Database
from assistant.hotline.notice_mail import link_token
from assistant.hotline.notices import Answer
from assistant.hotline.notices import answer_by_provider
from assistant.hotline.notices import open_link
from assistant.hotline.notices import send_notice
from assistant.hotline.referrals import Staff
from assistant.hotline.referrals import acknowledge
from assistant.hotline.referrals import add_internal_note
from assistant.hotline.referrals import assess_places
from assistant.hotline.referrals import message_survivor
from assistant.hotline.referrals import record_notice
from assistant.hotline.referrals import referral_for_staff
from assistant.hotline.reports import QueueQuery
from assistant.hotline.reports import queue_page
from assistant.key_rotation import KEY_BOUND_COLUMNS
from assistant.key_rotation import STATE
from assistant.key_rotation import Discarded
from assistant.key_rotation import KeyedHashState
from assistant.key_rotation import KeysStillNeeded
from assistant.key_rotation import Recomputed
from assistant.key_rotation import RotationReport
from assistant.key_rotation import Sealed
from assistant.key_rotation import Untouched
from assistant.key_rotation import _row_change
from assistant.key_rotation import _tables_to_visit
from assistant.key_rotation import _write
from assistant.key_rotation import label
from assistant.key_rotation import location_value_hash
from assistant.key_rotation import read_hash_state
from assistant.models import Account
from assistant.models import Base
from assistant.models import Case
from assistant.models import FilingReplay
from assistant.models import Location
from assistant.models import Referral
from assistant.models import ReferralEvent
from assistant.models import SessionRecord
from assistant.models import today
from assistant.people.advocates import Consent
from assistant.routing import mask_location_for_display
from assistant.routing import normalise_location
from assistant.services import build_services
from assistant.vocabulary import ConsentMethod
from assistant.vocabulary import EventCode
from assistant.vocabulary import FiledBy
from assistant.web.session_interface import COOKIE_NAME
from tests.conftest import HOTLINE_A
from tests.conftest import SECRETS
from tests.conftest import Staffer
from tests.conftest import Survivor
from tests.conftest import api_request_body
from tests.conftest import empty_all_tables
from tests.conftest import make_app

K1, K2, H1, H2 = new_key(), new_key(), new_key(), new_key()
OLD = {"master_keys": f"1:{K1}", "hash_key": H1}
# During the change: the new keys are the current ones, the old ones still open and look up.
BOTH = {"master_keys": f"1:{K1},2:{K2}", "hash_key": H2, "previous_hash_keys": H1}
NEW = {"master_keys": f"2:{K2}", "hash_key": H2}

# Hosts no provider directory names (sealed), .ie so that hotline A has them.
LINKS = [f"https://img-{n}4f2a.rotation-test.ie/set/{n}" for n in range(3)]
ELSEWHERE = "https://cdn-77b.rotation-test.de/album"
ACCOUNT = ("account", "bob_example_77", "Instagram")
# Every sealed column the world below fills: rotation is tested on each of them.
FILLED = {
    "cases.consent_sealed",
    "locations.value_sealed",
    "locations.note_sealed",
    "locations.platform_sealed",
    "locations.host_sealed",
    "messages.body_sealed",
    "notices.provider_sealed",
    "notices.reference_sealed",
    "notices.response_note_sealed",
    "notice_letters.provider_sealed",
    "notice_letters.recipient_sealed",
    "internal_notes.body_sealed",
    "accounts.profile_sealed",
    "accounts.totp_secret_sealed",
    "sessions.data_sealed",
}


def app_with(database_url: str, folder: Path, keys: dict[str, str]) -> Flask:
    return make_app(database_url, folder, **{**SECRETS, **keys})


@pytest.fixture
def clean(database_url: str) -> Iterator[Engine]:
    """An empty database before and after, so that no other test meets these keys' record."""
    engine = create_engine(database_url)
    emptied = Flask(__name__)
    emptied.extensions["assistant.engine"] = engine
    empty_all_tables(emptied)
    yield engine
    empty_all_tables(emptied)
    engine.dispose()


@dataclass
class World:
    app: Flask
    survivor: Survivor
    receipt: tuple[str, str]
    analyst: Staffer
    advocate: Staffer


def build_world(app: Flask) -> World:
    """A survivor files through the journey and signs in; an advocate files with consent; the
    hotline's analyst works the referral: a notice recorded by hand, one sent through the app
    that the provider answers (a question, then a refusal), a note and a message each way."""
    services = app.extensions["assistant.services"]
    survivor = Survivor(app.test_client())
    kind, value, platform = ACCOUNT
    assert survivor.add_places(kind=kind, value=value, platform=platform).status_code == 303
    receipt = survivor.file(*LINKS, ELSEWHERE, note="my school photo", country="IE")
    assert survivor.sign_in(*receipt).status_code == 303
    analyst = Staffer(app, "analyst@hotline-a.example", "staff", HOTLINE_A)
    assert analyst.sign_in().status_code == 303
    advocate = Staffer(app, "lawyer@northside.example", "advocate", "Northside Legal Aid")
    assert advocate.sign_in().status_code == 303
    with Database.new_session(app) as db:
        file_request(
            db,
            services,
            IntakeRequest(
                locations=[normalise_location("url", "https://files-9c.rotation-test.ie/x")],
                filed_by=FiledBy.ADVOCATE,
                advocate_id=advocate.id,
                consent=_consent(),
            ),
        )
        account = db.get(Account, analyst.id)
        assert account is not None
        staff = Staff.of(account)
        case = db.scalars(select(Case).where(Case.case_number == receipt[0])).one()
        (referral,) = [r for r in case.referrals if r.hotline_id == HOTLINE_A]
        referral = referral_for_staff(db, staff, referral.id)
        assert referral is not None
        ids = [place.id for place in referral.locations]
        acknowledge(db, staff, referral)
        assess_places(db, staff, referral, ids, "csam")
        record_notice(
            db,
            services,
            staff,
            referral,
            ids[0],
            notice_type="csam",
            provider="Tiny Host",
            sent_on=today(),
            reference="TICKET-4471",
        )
        letter = send_notice(
            db,
            services,
            staff,
            referral,
            ids[1:3],
            notice_type="csam",
            subtype=None,
            provider_id=None,
            provider_name="Img Rotation Test",
            recipient="abuse@rotation-test.ie",
        )
        add_internal_note(db, services, staff, referral, "Checked the mirror list.")
        message_survivor(db, services, staff, referral, "We have sent a notice.")
        post_survivor_message(db, services, case, "Thank you.", referral.id)
        letter_id = letter.id
    token = link_token(services, letter_id)
    with Database.new_session(app) as db:
        _letter, view = open_link(db, services, token)
        first, second = (place.notice_id for place in view.places)
        answer_by_provider(db, services, token, [Answer(first, "question", None, "Which file?")])
        answer_by_provider(db, services, token, [Answer(second, "refused", None, "Not ours.")])
    return World(app, survivor, receipt, analyst, advocate)


def _consent() -> Consent:
    return Consent(ConsentMethod.IN_PERSON, today(), survivor_receipt=False)


def sealed_values(engine: Engine) -> Iterator[tuple[Sealed, bytes]]:
    with engine.connect() as conn:
        for entry in KEY_BOUND_COLUMNS:
            if isinstance(entry, Sealed):
                column = Base.metadata.tables[label(entry).split(".")[0]].c[entry.column]
                for (value,) in conn.execute(select(column).where(column.is_not(None))):
                    yield entry, bytes(value)


def assert_every_value_opens(engine: Engine, cipher: FieldCipher, *, version: int | None) -> int:
    """Every sealed value opens with ``cipher`` and its column's context (under ``version``,
    when given); returns how many there are."""
    count = 0
    for entry, value in sealed_values(engine):
        cipher.open(value, entry.context)  # raises if it does not open
        if version is not None:
            assert sealed_version(value) == version, label(entry)
        count += 1
    return count


def hashes_recomputed(engine: Engine, app: Flask) -> list[bool]:
    """For each place: whether its stored hash is what the current hash key makes of it."""
    services = app.extensions["assistant.services"]
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Location.__table__.c.kind,
                Location.__table__.c.value_sealed,
                Location.__table__.c.platform_sealed,
                Location.__table__.c.value_hash,
            )
        ).all()
    found = []
    for kind, value, platform, stored in rows:
        values = {
            "kind": kind,
            "value_sealed": services.cipher.open(value, "location.value"),
            "platform_sealed": services.cipher.open(platform, "location.platform")
            if platform
            else None,
        }
        found.append(location_value_hash(values, services) == stored)
    return found


def already_reported(app: Flask, link: str) -> int:
    """File ``link`` in a new case: in how many other open cases the hotline is told it is
    (0: it is not told)."""
    services = app.extensions["assistant.services"]
    with Database.new_session(app) as db:
        filed = file_request(
            db, services, IntakeRequest(locations=[normalise_location("url", link)])
        )
        events = db.scalars(
            select(ReferralEvent)
            .join(Referral, Referral.id == ReferralEvent.referral_id)
            .where(Referral.case_id == filed.case.id)
            .where(ReferralEvent.code == EventCode.ALREADY_REPORTED)
        ).all()
        return sum(int(event.params["open_cases"]) for event in events)


def searched(app: Flask, link: str, analyst: Staffer) -> list[int]:
    """The referrals of hotline A that the analyst's search for ``link`` finds."""
    services = app.extensions["assistant.services"]
    with Database.new_session(app) as db:
        query = QueueQuery(status="all", search=link)
        page = queue_page(db, services, HOTLINE_A, query, me=analyst.id)
        return [row.id for row in page.rows]


# --- the registry ---

HASH_LIKE = re.compile(r"(hash|digest|_key|_sealed)$")


def test_every_sealed_or_hash_like_column_of_the_models_is_in_the_registry():
    """A new ``*_sealed`` column (or a keyed hash, or any binary column) must be listed in
    assistant.key_rotation.KEY_BOUND_COLUMNS, or rotation and the start-up check miss it."""
    listed = {label(entry) for entry in KEY_BOUND_COLUMNS}
    found = {
        f"{table.name}.{column.name}"
        for table in Base.metadata.tables.values()
        if table.name != KeyedHashState.__tablename__
        for column in table.columns
        if HASH_LIKE.search(column.name) or isinstance(column.type, LargeBinary)
    }
    assert sorted(found - listed) == []
    assert sorted(listed - found) == []  # nothing listed that the models do not have
    assert len(listed) == len(KEY_BOUND_COLUMNS)


def test_the_registry_lists_what_rotation_can_work_on():
    for entry in KEY_BOUND_COLUMNS:
        column = Base.metadata.tables[label(entry).split(".")[0]].c[entry.column]
        if isinstance(entry, Sealed):
            assert isinstance(column.type, LargeBinary), label(entry)
            assert entry.context
        if isinstance(entry, Recomputed):
            assert set(entry.reads) <= set(column.table.columns.keys())
        if isinstance(entry, Discarded | Untouched):
            assert entry.why
    for work in _tables_to_visit():
        assert len(work.table.primary_key.columns) == 1, work.table.name


def test_a_recomputed_hash_is_what_intake_stored(app, services, db):
    """Re-computing from the stored (sealed) place gives the hash intake made, for every kind."""
    places = [
        normalise_location("url", "HTTPS://Img-1.Rotation-Test.ie/a?b=1#frag"),
        normalise_location("url", "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a"),
        normalise_location("account", "Bob_Example", platform="insta"),
        normalise_location("group", "Swap  group 7", platform="Telegram"),
        normalise_location("other", "a forum called x, thread 4"),
        normalise_location(
            "url", "http://expyuzz4wqqyqhjn76u5mcbmnqrjscy7uthxf4oz4efpgvfjllwnyxid.onion/x"
        ),
    ]
    file_request(db, services, IntakeRequest(locations=places))
    assert hashes_recomputed(Database.engine(app), app) == [True] * len(places)


# --- rotating ---


def test_after_rotation_every_value_opens_with_the_new_keys_alone_and_the_app_works(
    database_url, clean, tmp_path
):
    old = app_with(database_url, tmp_path / "old", OLD)
    world = build_world(old)
    retried = {"Idempotency-Key": "rotation-test-filing-0001"}
    body = api_request_body("https://rotation-test.ie/api")
    assert old.test_client().post("/api/v1/requests", json=body, headers=retried).status_code == 201
    total = assert_every_value_opens(clean, FieldCipher({1: _raw(K1)}), version=1)
    filled = {label(entry) for entry, _value in sealed_values(clean)}
    assert filled >= FILLED

    # The new keys come in beside the old ones: before any rotation, a place reported with the
    # old hash key is still recognised, by the hotline and in the survivor's own case.
    during = app_with(database_url, tmp_path / "during", BOTH)
    assert already_reported(during, LINKS[0]) == 1
    with Database.new_session(during) as db:
        case = db.scalars(select(Case).where(Case.case_number == world.receipt[0])).one()
        with pytest.raises(IntakeError) as refused:
            add_locations(
                db,
                during.extensions["assistant.services"],
                case,
                [normalise_location("url", LINKS[1])],
            )
        assert refused.value.code == "already_listed"
        (referral,) = [r for r in case.referrals if r.hotline_id == HOTLINE_A]
    assert searched(during, LINKS[2], world.analyst) == [referral.id]

    result = during.test_cli_runner().invoke(rotate_keys_command, ["--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert re.search(r"locations\.value_hash: \d+ re-computed", result.output)
    # What cannot be re-computed is dropped: the draft's and the API filing's submission keys,
    # and both filings' replays (their answers were sealed with keys derived from the old one).
    assert "cases.submission_key: 2 cleared" in result.output
    assert "filing_replays: 2 rows deleted" in result.output
    assert "ASSISTANT_PREVIOUS_HASH_KEYS can now be removed." in result.output
    assert "The older versions can now be removed from ASSISTANT_MASTER_KEYS." in result.output

    # The old keys are gone: the app starts, and everything opens with the new key alone.
    new = app_with(database_url, tmp_path / "new", NEW)
    after = assert_every_value_opens(clean, FieldCipher({2: _raw(K2)}), version=2)
    assert after >= total
    assert all(hashes_recomputed(clean, new))
    with clean.connect() as conn:
        state = read_hash_state(conn)
        assert state is not None and state.in_use == (key_fingerprint(_raw(H2)),)
        assert set(conn.execute(select(Case.__table__.c.submission_key)).scalars()) == {None}
        assert conn.execute(select(FilingReplay.__table__)).all() == []

    # The survivor signs in and sees their places; staff and the advocate sign in (TOTP).
    survivor = Survivor(new.test_client())
    assert survivor.sign_in(*world.receipt).status_code == 303
    page = survivor.client.get("/my-request").get_data(as_text=True)
    for link in LINKS:
        assert mask_location_for_display("url", link) in page
    assert mask_location_for_display("account", ACCOUNT[1]) in page
    assert world.analyst.sign_in(new.test_client()).status_code == 303
    assert world.advocate.sign_in(new.test_client()).status_code == 303
    # A survivor signed in before the rotation is still signed in (the session was re-sealed).
    signed_in = new.test_client()
    cookie = world.survivor.client.get_cookie(COOKIE_NAME)
    assert cookie is not None
    signed_in.set_cookie(COOKIE_NAME, cookie.value)
    assert signed_in.get("/my-request").status_code == 200
    # The place reported before the rotation is still recognised, in both cases that list it.
    assert already_reported(new, LINKS[0]) == 2
    assert searched(new, LINKS[2], world.analyst) == [referral.id]


def _raw(key: str) -> bytes:
    return decode_key(key, "test")


def test_a_rotation_with_nothing_to_do_says_so_and_changes_nothing(database_url, clean, tmp_path):
    old = app_with(database_url, tmp_path / "old", OLD)
    Survivor(old.test_client()).file(LINKS[0])
    before = list(sealed_values(clean))
    result = old.test_cli_runner().invoke(rotate_keys_command, [])
    assert result.exit_code == 0, result.output
    assert "nothing needed changing" in result.output
    assert "Every sealed value is under master key version 1." in result.output
    assert list(sealed_values(clean)) == before


def test_a_value_the_app_changed_meanwhile_is_not_overwritten(database_url, clean, tmp_path):
    """Between the pass's read and its write the app wrote the session anew (already under the
    new key): the pass leaves the app's value as it is."""
    old = app_with(database_url, tmp_path / "old", OLD)
    survivor = Survivor(old.test_client())
    receipt = survivor.file(LINKS[0])
    assert survivor.sign_in(*receipt).status_code == 303
    during = app_with(database_url, tmp_path / "during", BOTH)
    services = during.extensions["assistant.services"]
    (work,) = [w for w in _tables_to_visit() if w.table.name == "sessions"]
    with clean.connect() as conn:
        (stale,) = conn.execute(select(work.table).where(work.table.c.data_sealed.is_not(None)))
        stale_row = stale._mapping
    fresh = services.cipher.seal('{"newer": true}', "session.data")
    with clean.begin() as conn:
        conn.execute(
            work.table.update()
            .where(work.table.c.id_hash == stale_row["id_hash"])
            .values(data_sealed=fresh)
        )
    report = RotationReport()
    with clean.begin() as conn:
        _write(
            conn, work, [(stale_row, _row_change(work, stale_row, services, False, report))], report
        )
    assert report.changed_meanwhile == 1 and not report.resealed
    with clean.connect() as conn:
        kept = conn.execute(select(SessionRecord.__table__.c.data_sealed)).scalar_one()
    assert bytes(kept) == fresh


def test_a_rotation_killed_half_way_leaves_everything_readable_and_a_rerun_finishes(
    database_url, clean, tmp_path
):
    old = app_with(database_url, tmp_path / "old", OLD)
    build_world(old)
    services = old.extensions["assistant.services"]
    with Database.new_session(old) as db:  # more places, so that there are many batches
        links = [f"https://m{n}.rotation-test.ie/{n}" for n in range(40)]
        file_request(
            db, services, IntakeRequest(locations=[normalise_location("url", u) for u in links])
        )
    total = assert_every_value_opens(clean, FieldCipher({1: _raw(K1)}), version=1)
    during = app_with(database_url, tmp_path / "during", BOTH)

    run = rotation_process(database_url, tmp_path, "--batch-size", "1", "--pause", "0.05")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = sum(1 for _entry, value in sealed_values(clean) if sealed_version(value) == 2)
            if done >= 20:
                break
            assert run.poll() is None, run.communicate()
            time.sleep(0.02)
        run.send_signal(signal.SIGKILL)
    finally:
        run.wait(30)
    assert run.returncode == -signal.SIGKILL

    # Half-way: every value opens with the keys configured during the change, some under each
    # version; the hashes re-computed so far are recorded; a place reported before is found.
    both = during.extensions["assistant.services"].cipher
    assert assert_every_value_opens(clean, both, version=None) == total
    versions = [sealed_version(value) for _entry, value in sealed_values(clean)]
    left = versions.count(1)
    assert 0 < left < total
    with clean.connect() as conn:
        state = read_hash_state(conn)
        assert state is not None and state.rehash_to == key_fingerprint(_raw(H2))
    assert already_reported(during, links[-1]) == 1

    rerun = rotation_process(database_url, tmp_path)
    output, _ = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, output
    resealed = sum(int(n) for n in re.findall(r"(\d+) re-sealed", output))
    assert resealed == left  # it went on from where it was stopped
    assert "ASSISTANT_PREVIOUS_HASH_KEYS can now be removed." in output

    new = app_with(database_url, tmp_path / "new", NEW)
    assert assert_every_value_opens(clean, FieldCipher({2: _raw(K2)}), version=2) >= total
    assert all(hashes_recomputed(clean, new))
    assert already_reported(new, links[-1]) == 2


def rotation_process(database_url: str, folder: Path, *options: str) -> subprocess.Popen[str]:
    """`assistant rotate-keys` in a process of its own, with the keys of the change."""
    env = {
        **os.environ,
        "ASSISTANT_DATABASE_URL": database_url,
        "ASSISTANT_SECRET_KEY": SECRETS["secret_key"],
        "ASSISTANT_MASTER_KEYS": BOTH["master_keys"],
        "ASSISTANT_HASH_KEY": BOTH["hash_key"],
        "ASSISTANT_PREVIOUS_HASH_KEYS": BOTH["previous_hash_keys"],
    }
    return subprocess.Popen(
        [sys.executable, "-c", "from assistant.cli import main; main()", "rotate-keys", *options],
        env=env,
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


# --- refusing to start ---


def test_the_app_refuses_to_start_while_values_need_a_removed_master_key_and_says_how_many(
    database_url, clean, tmp_path
):
    old = app_with(database_url, tmp_path / "old", OLD)
    build_world(old)
    total = sum(1 for _ in sealed_values(clean))
    places = sum(
        1 for entry, _v in sealed_values(clean) if label(entry) == "locations.value_sealed"
    )
    with pytest.raises(KeysStillNeeded) as refused:
        app_with(database_url, tmp_path / "new", {"master_keys": f"2:{K2}", "hash_key": H1})
    message = str(refused.value)
    assert f"{total} sealed values need master key version(s) 1" in message
    assert f"locations.value_sealed: {places}" in message
    assert isinstance(refused.value, ConfigError)


def test_the_app_refuses_to_start_while_hashes_need_a_removed_hash_key_and_says_how_many(
    database_url, clean, tmp_path
):
    old = app_with(database_url, tmp_path / "old", OLD)
    Survivor(old.test_client()).file(*LINKS)
    # Half-changed: the new hash key came in, but the old one was removed before rotate-keys.
    app_with(database_url, tmp_path / "during", BOTH)
    with pytest.raises(KeysStillNeeded) as refused:
        app_with(
            database_url, tmp_path / "new", {"master_keys": BOTH["master_keys"], "hash_key": H2}
        )
    assert f"{len(LINKS)} keyed hashes may have been made with a hash key" in str(refused.value)
    assert f"locations.value_hash: {len(LINKS)}" in str(refused.value)
    # With the old key back beside it, the app starts.
    app_with(database_url, tmp_path / "again", BOTH)


def test_a_hash_key_no_stored_hash_needs_is_forgotten_at_start(database_url, clean, tmp_path):
    app_with(database_url, tmp_path / "old", OLD)  # records H1; no place stored yet
    app_with(database_url, tmp_path / "new", NEW)
    with clean.connect() as conn:
        state = read_hash_state(conn)
    assert state is not None and state.in_use == (key_fingerprint(_raw(H2)),)


def test_the_record_of_hash_keys_is_written_once_by_the_first_process(
    database_url, clean, tmp_path
):
    app_with(database_url, tmp_path / "a", OLD)
    app_with(database_url, tmp_path / "b", OLD)
    with clean.connect() as conn:
        rows = conn.execute(select(STATE)).all()
    assert [row.in_use for row in rows] == [key_fingerprint(_raw(H1))]


def test_a_database_not_yet_migrated_does_not_stop_the_app(tmp_path):
    """`assistant init-db` goes through the app factory: it must start on an empty database."""
    app_with(f"sqlite:///{tmp_path / 'empty.sqlite3'}", tmp_path / "inst", OLD)


# --- settings ---


@pytest.mark.parametrize(
    ("previous", "problem"),
    [
        ("not base64 at all!!", "not valid base64"),
        ("c2hvcnQ", "at least 32 bytes"),
        (H1, "must not list ASSISTANT_HASH_KEY"),
    ],
    ids=["not base64", "too short", "the current key"],
)
def test_previous_hash_keys_must_be_keys_other_than_the_current_one(tmp_path, previous, problem):
    with pytest.raises(ConfigError, match=problem):
        load_settings(
            {"ASSISTANT_PREVIOUS_HASH_KEYS": previous},
            tmp_path,
            {**SECRETS, "hash_key": H1},
        )


def test_previous_hash_keys_look_up_old_hashes_but_never_make_new_ones(tmp_path):
    settings = load_settings({}, tmp_path, {**SECRETS, **BOTH})
    hasher = build_services(settings).keyed_hasher
    old = build_services(load_settings({}, tmp_path, {**SECRETS, **OLD})).keyed_hasher
    digests = hasher.digests("x", "location")
    assert digests[0] == hasher.digest("x", "location") != old.digest("x", "location")
    assert digests[1:] == (old.digest("x", "location"),)
    assert hasher.previous_fingerprints == (old.fingerprint,)
