"""Receipts: the case number and secret passphrase a survivor uses instead of an account.

The passphrase is shown once and stored only as an Argon2id hash. Checking a receipt finds the
case by its (indexed, unique) case number and runs exactly one Argon2 verification, so its cost does
not grow with the number of cases; an unknown case number burns the same work against a dummy hash
so that it cannot be told apart from a wrong passphrase.

Tries are counted before any hashing, atomically, in the rate-limit store (see
:class:`ReceiptThrottle`): per case number *and* address, so that a stranger who knows a case
number cannot keep the survivor out from anywhere else, and per case number across addresses, a
much higher ceiling that raises an alarm.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import secrets
import time
from typing import NewType

from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer
from limits import RateLimitItem
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..crypto import Argon2Hasher
from ..crypto import KeyedHasher
from ..models import Case
from ..models import today
from ..people import audit
from ..sessions import end_case_sessions

Passphrase = NewType("Passphrase", str)
CaseNumber = NewType("CaseNumber", str)

log = logging.getLogger(__name__)

CASE_PREFIX = "RQ-"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
CASE_NUMBER_LENGTH = 8

# Lower-case letters without look-alikes (i, l, o), typed without switching keyboards on a phone.
PASSPHRASE_ALPHABET = "abcdefghjkmnpqrstuvwxyz"  # noqa: S105 (an alphabet, not a secret)
PASSPHRASE_LETTERS = 20
PASSPHRASE_GROUP = 4
PASSPHRASE_BITS = PASSPHRASE_LETTERS * math.log2(len(PASSPHRASE_ALPHABET))
# Checked before hashing: hashing is the expensive part, and a long input must not make it more so.
MAX_PASSPHRASE_INPUT = 128


class InvalidReceipt(Exception):
    """The case number or the passphrase is wrong; deliberately not saying which."""


class ReceiptLocked(Exception):
    """Too many tries of this case number (from this address, or from everywhere today)."""

    def __init__(self, retry_after: dt.timedelta) -> None:
        super().__init__("locked")
        self.retry_after = retry_after


def new_case_number() -> CaseNumber:
    body = "".join(secrets.choice(CROCKFORD) for _ in range(CASE_NUMBER_LENGTH))
    return CaseNumber(CASE_PREFIX + body)


def normalise_case_number(text: str) -> CaseNumber | None:
    """Accepts ``rq-abcd 1234``, ``ABCD1234`` or Crockford look-alikes (O for 0, I or L for 1)."""
    if len(text) > 40:
        return None
    compact = "".join(text.split()).upper().replace("-", "")
    if compact.startswith("RQ") and len(compact) == CASE_NUMBER_LENGTH + 2:
        compact = compact[2:]
    compact = compact.translate(_CROCKFORD_ALIASES)
    if len(compact) != CASE_NUMBER_LENGTH or any(ch not in CROCKFORD for ch in compact):
        return None
    return CaseNumber(CASE_PREFIX + compact)


def new_passphrase() -> Passphrase:
    """20 letters from 23 (about 90 bits), shown in groups of four."""
    letters = "".join(secrets.choice(PASSPHRASE_ALPHABET) for _ in range(PASSPHRASE_LETTERS))
    groups = [letters[i : i + PASSPHRASE_GROUP] for i in range(0, len(letters), PASSPHRASE_GROUP)]
    return Passphrase(" ".join(groups))


def normalise_passphrase(text: str) -> Passphrase | None:
    """Spaces, dashes and capitals do not matter. None when it cannot be a passphrase."""
    if len(text) > MAX_PASSPHRASE_INPUT:
        return None
    compact = "".join(ch for ch in text.lower() if ch not in " -\t\n\r.")
    if not compact or len(compact) > 64 or not (compact.isascii() and compact.isalpha()):
        return None
    return Passphrase(compact)


class PassphraseHasher(Argon2Hasher):
    """Argon2id for receipt passphrases, typed loosely (spaces, capitals) and normalised."""

    def hash(self, passphrase: Passphrase) -> str:
        normalised = normalise_passphrase(passphrase)
        if normalised is None:
            raise ValueError("not a passphrase")
        return self._hash(normalised)

    def verify(self, stored_hash: str, candidate: str | None) -> bool:
        """One Argon2 verification, whatever the input; ``candidate`` is normalised as at
        hashing."""
        normalised = normalise_passphrase(candidate) if candidate else None
        return self._verify(stored_hash, normalised or "\x00invalid")

    def burn(self) -> None:
        """Do the work of a verification for a case number that does not exist."""
        self._verify(None, "\x00unknown")


class ReceiptThrottle:
    """Tries of a receipt, counted in the rate-limit store (memory, or Redis shared by every
    process) before the Argon2 check, so that no number of parallel requests gets past a limit.

    Two moving windows: one per case number and address (5 per 15 minutes by default), one per
    case number across addresses (100 a day by default, an alarm more than a lock). The store
    holds only keyed hashes: neither a case number nor an address is ever written down, and
    nothing is kept on disk. A case number that does not exist is counted the same way, so a
    refusal says nothing about whether the case exists.
    """

    def __init__(
        self, storage_url: str, hasher: KeyedHasher, *, per_address: str, per_case: str
    ) -> None:
        self._windows = MovingWindowRateLimiter(storage_from_string(storage_url))
        self._hasher = hasher
        self._per_address: RateLimitItem = parse(per_address)
        self._per_case: RateLimitItem = parse(per_case)
        self._alarm: RateLimitItem = parse("1 per day")

    def _keys(self, number: str, address: str) -> tuple[str, str]:
        pair = self._hasher.digest(f"{number}\x00{address}", "receipt-tries")[:32]
        return pair, self._hasher.digest(number, "receipt-tries-case")[:32]

    def take(self, number: str, address: str) -> tuple[dt.timedelta | None, bool]:
        """Count one try. ``(None, False)`` when it may go ahead; else how long to wait, and
        whether this is the first refusal today by the per-case ceiling (the alarm)."""
        pair, case = self._keys(number, address)
        if not self._windows.hit(self._per_address, "receipt-pair", pair):
            return self._wait(self._per_address, "receipt-pair", pair), False
        if not self._windows.hit(self._per_case, "receipt-case", case):
            alarm = self._windows.hit(self._alarm, "receipt-alarm", case)
            return self._wait(self._per_case, "receipt-case", case), alarm
        return None, False

    def store_answers(self) -> bool:
        """Whether the rate-limit store answers (memory always does)."""
        return bool(self._windows.storage.check())

    def forget(self, number: str, address: str) -> None:
        """The right passphrase from this address: its earlier mistakes no longer count."""
        pair, _case = self._keys(number, address)
        self._windows.clear(self._per_address, "receipt-pair", pair)

    def _wait(self, item: RateLimitItem, *keys: str) -> dt.timedelta:
        stats = self._windows.get_window_stats(item, *keys)
        return dt.timedelta(seconds=max(1.0, stats.reset_time - time.time()))


# The case a receipt names, by its unique index; built once (as costly as running it, on SQLite).
CASE_BY_NUMBER = select(Case).where(Case.case_number == bindparam("number"))


def check_receipt(
    db: Session,
    hasher: PassphraseHasher,
    throttle: ReceiptThrottle,
    address: str,
    case_number_text: str,
    passphrase_text: str,
) -> Case:
    """The case this receipt opens, or :class:`InvalidReceipt` / :class:`ReceiptLocked`.

    The try is counted first (``address`` is the client's, only ever hashed), then the case is
    looked up and exactly one Argon2 verification runs. Nothing is written to the database for a
    wrong passphrase, so a wrong case number and a wrong passphrase cost the same.
    """
    number = normalise_case_number(case_number_text)
    passphrase = normalise_passphrase(passphrase_text)
    wait, alarm = throttle.take(number or "-", address)
    if wait is not None:
        if alarm and number is not None:
            _raise_alarm(db, number)
        raise ReceiptLocked(wait)
    case = db.scalar(CASE_BY_NUMBER, {"number": number}) if number else None
    if case is None:
        hasher.burn()
        raise InvalidReceipt()
    if hasher.verify(case.passphrase_hash, passphrase):
        throttle.forget(number or "-", address)
        if passphrase is not None and hasher.needs_rehash(case.passphrase_hash):
            case.passphrase_hash = hasher.hash(passphrase)
        return case
    raise InvalidReceipt()


def _raise_alarm(db: Session, number: CaseNumber) -> None:
    """A case number tried from many addresses: noted on the case (if there is one) for the
    operator, once a day, and in the log without anything that identifies the case."""
    case_id = db.scalar(select(Case.id).where(Case.case_number == number))
    log.warning("A receipt was tried more often in a day than the per-case ceiling allows.")
    if case_id is not None:
        audit.record_on_case(db, audit.UNKNOWN, "case.receipt_ceiling_reached", case_id)
        db.commit()


PROPOSAL_SALT = "passphrase-proposal"
# Long enough to write a passphrase down calmly; short enough that a stale page cannot be used.
PROPOSAL_VALID_FOR = dt.timedelta(hours=1)


class InvalidProposal(Exception):
    """A new passphrase that was not offered for this case, or was offered too long ago."""


def propose_passphrase(serializer: URLSafeTimedSerializer, case: Case) -> tuple[Passphrase, str]:
    """A new random passphrase for the case, not yet in force, and a signed token that confirms
    it. Nothing is stored: the passphrase lives only on the page (or in the API response) until
    the survivor confirms they saved it, so a lost response or a double submit never leaves them
    with a passphrase they have not seen."""
    passphrase = new_passphrase()
    return passphrase, serializer.dumps([case.id, passphrase])


def replace_passphrase(
    db: Session,
    hasher: PassphraseHasher,
    serializer: URLSafeTimedSerializer,
    case: Case,
    proposal: str,
) -> Passphrase:
    """Put a proposed passphrase in force: the old one stops working and every session of the
    case ends (the caller starts a new one for the person who asked).

    A receipt an advocate handed over must be replaced this way at the survivor's first sign-in,
    so that nobody else holds it; a survivor may replace theirs at any time. The new one is
    random, never chosen: a chosen passphrase could be guessed, and the receipt is all that
    protects the case. Confirming the same proposal twice is harmless.
    """
    try:
        payload = serializer.loads(proposal, max_age=int(PROPOSAL_VALID_FOR.total_seconds()))
    except BadSignature:
        raise InvalidProposal() from None
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or payload[0] != case.id
        or not isinstance(payload[1], str)
        or normalise_passphrase(payload[1]) is None
    ):
        raise InvalidProposal()
    passphrase = Passphrase(payload[1])
    case.passphrase_hash = hasher.hash(passphrase)
    case.must_change_passphrase = False
    case.passphrase_replaced_on = today()
    end_case_sessions(db, case.id)
    audit.record_on_case(db, audit.SURVIVOR, "case.passphrase_replaced", case.id)
    db.commit()
    return passphrase


def passphrase_proposals(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=PROPOSAL_SALT)
