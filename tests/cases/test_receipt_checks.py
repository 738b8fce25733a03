"""Checking a receipt against the database: one look-up and one Argon2 verification, after the
try was counted in the rate-limit store, per case number and address and per case number across
addresses. Nothing about a try is written to the database, and the store holds only keyed
hashes."""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time

import pytest
import redis
from sqlalchemy import event
from sqlalchemy import select

from assistant.cases.intake import IntakeRequest
from assistant.cases.intake import file_request
from assistant.cases.receipts import InvalidReceipt
from assistant.cases.receipts import ReceiptLocked
from assistant.cases.receipts import ReceiptThrottle
from assistant.cases.receipts import check_receipt
from assistant.extensions import Database
from assistant.models import AuditEvent
from assistant.routing import normalise_location

REDIS_URL = os.environ.get("ASSISTANT_TEST_REDIS_URL", "")
STORAGES = ["memory://"] + ([REDIS_URL] if REDIS_URL else [])
HERE = "198.51.100.7"


class CountingHasher:
    """Wraps the real hasher and counts Argon2 verifications (real ones, not mocked)."""

    def __init__(self, real):
        self.real = real
        self.verifications = 0
        self._lock = threading.Lock()

    def _count(self):
        with self._lock:
            self.verifications += 1

    def verify(self, stored, candidate):
        self._count()
        return self.real.verify(stored, candidate)

    def burn(self):
        self._count()
        self.real.burn()

    def hash(self, passphrase):
        return self.real.hash(passphrase)

    def needs_rehash(self, stored):
        return self.real.needs_rehash(stored)


def _file(db, services, value="https://example.com/a"):
    request = IntakeRequest(locations=[normalise_location("url", value)])
    return file_request(db, services, request)


def _throttle(
    services, storage="memory://", *, per_address="5 per 15 minutes", per_case="100 per day"
):
    if storage.startswith("redis"):
        redis.Redis.from_url(storage).flushdb()
    return ReceiptThrottle(
        storage, services.keyed_hasher, per_address=per_address, per_case=per_case
    )


def _check(db, services, number, passphrase, *, address=HERE, throttle=None, hasher=None):
    return check_receipt(
        db,
        hasher or services.passphrases,
        throttle or services.receipt_tries,
        address,
        number,
        passphrase,
    )


@pytest.mark.parametrize("number_of_cases", [1, 25])
def test_checking_a_receipt_costs_one_query_and_one_hash_whatever_the_number_of_cases(
    app, db, services, number_of_cases
):
    filed = [_file(db, services, f"https://example.com/{i}") for i in range(number_of_cases)]
    target = filed[-1]
    hasher = CountingHasher(services.passphrases)
    statements: list[str] = []
    engine = db.get_bind()

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        case = _check(db, services, target.case_number, target.passphrase, hasher=hasher)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert case.id == target.case.id
    assert hasher.verifications == 1
    case_queries = [s for s in statements if "FROM cases" in s]
    assert len(case_queries) == 1 and "case_number" in case_queries[0]


def test_an_unknown_case_number_does_the_same_work_as_a_wrong_passphrase_and_writes_nothing(
    db, services
):
    filed = _file(db, services)
    hasher = CountingHasher(services.passphrases)
    statements: list[str] = []
    engine = db.get_bind()

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        with pytest.raises(InvalidReceipt):
            _check(db, services, "RQ-00000000", filed.passphrase, hasher=hasher)
        with pytest.raises(InvalidReceipt):
            _check(db, services, filed.case_number, "abcd abcd abcd abcd abcd", hasher=hasher)
        with pytest.raises(InvalidReceipt):
            _check(db, services, "not a case number", "x", hasher=hasher)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert hasher.verifications == 3
    assert not [s for s in statements if not s.lstrip().upper().startswith("SELECT")]


def test_an_overlong_passphrase_is_refused_and_counts_as_a_try(db, services):
    filed = _file(db, services)
    for _ in range(5):
        with pytest.raises(InvalidReceipt):
            _check(db, services, filed.case_number, "a" * 100_000)
    with pytest.raises(ReceiptLocked):
        _check(db, services, filed.case_number, filed.passphrase)


@pytest.mark.parametrize("storage", STORAGES, ids=lambda url: url.split(":")[0])
def test_forty_guesses_at_once_get_no_more_than_five_passphrase_checks(app, services, storage):
    """The limit is taken before hashing, atomically: parallel requests cannot slip past it."""
    with app.app_context():
        setup = Database.new_session(app)
        filed = _file(setup, services)
        setup.close()
    throttle = _throttle(services, storage)
    hasher = CountingHasher(services.passphrases)
    start = threading.Barrier(40)
    outcomes: list[str] = []

    def guess():
        with app.app_context():
            session = Database.new_session(app)
            start.wait()
            try:
                _check(
                    session, services, filed.case_number, "wrong", throttle=throttle, hasher=hasher
                )
            except InvalidReceipt:
                outcomes.append("wrong")
            except ReceiptLocked:
                outcomes.append("locked")
            finally:
                session.close()

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert hasher.verifications == 5
    assert sorted(outcomes) == ["locked"] * 35 + ["wrong"] * 5


def test_five_wrong_tries_from_one_address_pause_that_address_for_fifteen_minutes(db, services):
    filed = _file(db, services)
    for _ in range(5):
        with pytest.raises(InvalidReceipt):
            _check(db, services, filed.case_number, "wrong")
    with pytest.raises(ReceiptLocked) as locked:
        _check(db, services, filed.case_number, filed.passphrase)
    assert dt.timedelta(minutes=14) < locked.value.retry_after <= dt.timedelta(minutes=15)


def test_a_stranger_guessing_from_one_address_does_not_keep_the_survivor_out(db, services):
    filed = _file(db, services)
    for _ in range(20):
        with pytest.raises((InvalidReceipt, ReceiptLocked)):
            _check(db, services, filed.case_number, "wrong", address="203.0.113.66")
    survivor = _check(db, services, filed.case_number, filed.passphrase, address="192.0.2.10")
    assert survivor.id == filed.case.id


def test_the_right_passphrase_forgets_that_addresses_earlier_mistakes(db, services):
    filed = _file(db, services)
    for _round in range(3):
        for _ in range(4):
            with pytest.raises(InvalidReceipt):
                _check(db, services, filed.case_number, "wrong")
        assert _check(db, services, filed.case_number, filed.passphrase).id == filed.case.id


def test_tries_spread_beyond_the_window_do_not_lock(db, services):
    filed = _file(db, services)
    throttle = _throttle(services, per_address="2 per 1 second")
    for _ in range(2):
        with pytest.raises(InvalidReceipt):
            _check(db, services, filed.case_number, "wrong", throttle=throttle)
    with pytest.raises(ReceiptLocked):
        _check(db, services, filed.case_number, filed.passphrase, throttle=throttle)
    time.sleep(1.1)
    case = _check(db, services, filed.case_number, filed.passphrase, throttle=throttle)
    assert case.id == filed.case.id


@pytest.mark.parametrize("storage", STORAGES, ids=lambda url: url.split(":")[0])
def test_a_case_tried_from_many_addresses_reaches_a_ceiling_that_raises_an_alarm_once(
    db, services, storage, caplog
):
    caplog.set_level(logging.DEBUG)
    filed = _file(db, services)
    throttle = _throttle(services, storage, per_case="8 per day")
    for i in range(8):
        with pytest.raises(InvalidReceipt):
            _check(
                db,
                services,
                filed.case_number,
                "wrong",
                address=f"203.0.113.{i}",
                throttle=throttle,
            )
    for i in range(3):
        with pytest.raises(ReceiptLocked) as locked:
            _check(
                db,
                services,
                filed.case_number,
                filed.passphrase,
                address=f"192.0.2.{i}",
                throttle=throttle,
            )
    assert locked.value.retry_after > dt.timedelta(hours=23)
    alarms = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "case.receipt_ceiling_reached")
    ).all()
    assert [a.case_id for a in alarms] == [filed.case.id]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "per-case ceiling" in logged
    assert filed.case_number not in logged and "203.0.113" not in logged


@pytest.mark.parametrize("storage", STORAGES, ids=lambda url: url.split(":")[0])
def test_the_store_holds_neither_case_numbers_nor_addresses(db, services, storage):
    filed = _file(db, services)
    throttle = _throttle(services, storage)
    for address in ("203.0.113.9", "2001:db8::9"):
        with pytest.raises(InvalidReceipt):
            _check(db, services, filed.case_number, "wrong", address=address, throttle=throttle)
    if storage.startswith("redis"):
        keys = " ".join(k.decode() for k in redis.Redis.from_url(storage).keys("*"))
    else:
        keys = " ".join(throttle._windows.storage.events)  # the memory store's own keys
    assert keys
    compact = filed.case_number.replace("RQ-", "")
    for secret in (filed.case_number, compact, "203.0.113.9", "2001:db8::9"):
        assert secret not in keys
