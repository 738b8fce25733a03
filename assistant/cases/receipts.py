"""Receipts: the case number and secret passphrase a survivor uses instead of an account.

The passphrase is shown once and stored only as an Argon2id hash. Checking a receipt finds the
case by its (indexed, unique) case number and runs exactly one Argon2 verification, so its cost does
not grow with the number of cases; an unknown case number burns the same work against a dummy hash
so that it cannot be told apart from a wrong passphrase.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from typing import NewType

from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from ..crypto import Argon2Hasher
from ..lockouts import FAILURE_WINDOW
from ..lockouts import MAX_FAILURES
from ..lockouts import lockout_for
from ..models import Case
from ..models import today
from ..models import utcnow
from ..people import audit
from ..sessions import end_case_sessions

Passphrase = NewType("Passphrase", str)
CaseNumber = NewType("CaseNumber", str)

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
    """Too many wrong passphrases for this case number; try again later."""

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


def check_receipt(
    db: Session,
    hasher: PassphraseHasher,
    case_number_text: str,
    passphrase_text: str,
    *,
    now: dt.datetime | None = None,
) -> Case:
    """The case this receipt opens, or :class:`InvalidReceipt` / :class:`ReceiptLocked`.

    A failure is counted on the case and committed at once, in its own transaction, so that a
    failing request still records it.
    """
    now = now or utcnow()
    number = normalise_case_number(case_number_text)
    passphrase = normalise_passphrase(passphrase_text)
    case = db.scalar(select(Case).where(Case.case_number == number)) if number else None
    if case is None:
        hasher.burn()
        # The same write and commit a wrong passphrase costs, so timing does not tell them apart.
        db.execute(update(Case).where(Case.id == -1).values(failed_checks=Case.failed_checks + 1))
        db.commit()
        raise InvalidReceipt()
    if case.locked_until is not None and case.locked_until > now:
        # A locked case number tells an attacker it exists; with 40 bits of case number and an
        # Argon2 check per try, finding one this way costs more than the lock reveals.
        raise ReceiptLocked(case.locked_until - now)
    if hasher.verify(case.passphrase_hash, passphrase):
        if case.failed_checks or case.lockouts:
            case.failed_checks = 0
            case.lockouts = 0
            case.failed_window_start = None
            case.locked_until = None
        if passphrase is not None and hasher.needs_rehash(case.passphrase_hash):
            case.passphrase_hash = hasher.hash(passphrase)
        return case
    _record_failure(db, case, now)
    raise InvalidReceipt()


def _record_failure(db: Session, case: Case, now: dt.datetime) -> None:
    window_open = (
        case.failed_window_start is not None and now - case.failed_window_start < FAILURE_WINDOW
    )
    if not window_open:
        db.execute(
            update(Case).where(Case.id == case.id).values(failed_checks=1, failed_window_start=now)
        )
    else:
        # Atomic increment: parallel guesses cannot slip past the limit.
        db.execute(
            update(Case).where(Case.id == case.id).values(failed_checks=Case.failed_checks + 1)
        )
    db.commit()
    db.refresh(case)
    if case.failed_checks >= MAX_FAILURES:
        lockouts = case.lockouts + 1
        db.execute(
            update(Case)
            .where(Case.id == case.id)
            .values(
                lockouts=lockouts,
                locked_until=now + lockout_for(lockouts),
                failed_checks=0,
                failed_window_start=None,
            )
        )
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
