"""Checking a receipt against the database: one look-up, one Argon2 verification, and a lock
that grows for repeated failures. Counted on the case, never on an address."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from assistant.cases.intake import IntakeRequest
from assistant.cases.intake import file_request
from assistant.cases.receipts import InvalidReceipt
from assistant.cases.receipts import ReceiptLocked
from assistant.cases.receipts import check_receipt
from assistant.models import Case
from assistant.routing import normalise_location


class CountingHasher:
    """Wraps the real hasher and counts Argon2 verifications (real ones, not mocked)."""

    def __init__(self, real):
        self.real = real
        self.verifications = 0

    def verify(self, stored, candidate):
        self.verifications += 1
        return self.real.verify(stored, candidate)

    def burn(self):
        self.verifications += 1
        self.real.burn()

    def hash(self, passphrase):
        return self.real.hash(passphrase)

    def needs_rehash(self, stored):
        return self.real.needs_rehash(stored)


def _file(db, services, value="https://example.com/a"):
    request = IntakeRequest(locations=[normalise_location("url", value)])
    return file_request(db, services, request)


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
        case = check_receipt(db, hasher, target.case_number, target.passphrase)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert case.id == target.case.id
    assert hasher.verifications == 1
    case_queries = [s for s in statements if "FROM cases" in s]
    assert len(case_queries) == 1 and "case_number" in case_queries[0]


def test_an_unknown_case_number_does_the_same_work_as_a_wrong_passphrase(db, services):
    filed = _file(db, services)
    hasher = CountingHasher(services.passphrases)
    with pytest.raises(InvalidReceipt):
        check_receipt(db, hasher, "RQ-00000000", filed.passphrase)
    with pytest.raises(InvalidReceipt):
        check_receipt(db, hasher, filed.case_number, "abcd abcd abcd abcd abcd")
    with pytest.raises(InvalidReceipt):
        check_receipt(db, hasher, "not a case number", "x")
    assert hasher.verifications == 3


def test_an_overlong_passphrase_is_refused_before_hashing(db, services):
    filed = _file(db, services)
    with pytest.raises(InvalidReceipt):
        check_receipt(db, services.passphrases, filed.case_number, "a" * 100_000)
    assert db.get(Case, filed.case.id).failed_checks == 1


def test_the_lock_grows_after_each_round_of_five_failures(db, services):
    filed = _file(db, services)
    now = dt.datetime(2026, 1, 1, 12, 0)
    lengths = []
    for _round in range(3):
        for _ in range(5):
            with pytest.raises(InvalidReceipt):
                check_receipt(db, services.passphrases, filed.case_number, "wrong", now=now)
        with pytest.raises(ReceiptLocked) as locked:
            check_receipt(db, services.passphrases, filed.case_number, filed.passphrase, now=now)
        lengths.append(locked.value.retry_after)
        now += locked.value.retry_after + dt.timedelta(seconds=1)
    assert lengths == [dt.timedelta(minutes=15), dt.timedelta(minutes=30), dt.timedelta(minutes=60)]
    case = check_receipt(db, services.passphrases, filed.case_number, filed.passphrase, now=now)
    assert case.failed_checks == 0 and case.lockouts == 0


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(db, services):
    filed = _file(db, services)
    now = dt.datetime(2026, 1, 1, 12, 0)
    for _ in range(8):
        with pytest.raises(InvalidReceipt):
            check_receipt(db, services.passphrases, filed.case_number, "wrong", now=now)
        now += dt.timedelta(minutes=4)
    assert (
        check_receipt(db, services.passphrases, filed.case_number, filed.passphrase, now=now).id
        == filed.case.id
    )
