"""Accounts for hotline staff, administrators and advocates: enrolment, passwords, TOTP and sign-in.

Nobody ever chooses a password for someone else: ``create_account`` makes an account that holds
only a hash of a one-time enrolment code, and the person sets their own password and TOTP with it.
Passwords are hashed with Argon2id (rehashed at sign-in when the settings change); a TOTP code is
accepted once at most. Failed sign-ins are counted on the account and written to the audit log in
a transaction of their own, so a failing request still leaves its trace.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import NewType
from urllib.parse import urlencode

import pyotp
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from ..crypto import Argon2Hasher
from ..crypto import FieldCipher
from ..errors import Refused
from ..lockouts import FAILURE_WINDOW
from ..lockouts import MAX_FAILURES
from ..lockouts import lockout_for
from ..models import Account
from ..models import utcnow
from ..routing import Directory
from ..sessions import end_account_sessions
from ..transactions import committed
from ..vocabulary import HOTLINE_ROLES
from ..vocabulary import AccountStatus
from ..vocabulary import Role
from . import audit

Password = NewType("Password", str)
EnrolmentCode = NewType("EnrolmentCode", str)

MIN_PASSWORD_LENGTH = 12
# Checked before hashing: hashing is the expensive part.
MAX_PASSWORD_LENGTH = 256
ENROLMENT_VALID_FOR = dt.timedelta(hours=72)
TOTP_STEP_SECONDS = 30
TOTP_CONTEXT = "account.totp"

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s.]{2,63}$")


class AccountRefused(Refused):
    """An account operation that cannot be done (``code`` says why); nothing changed."""


class SignInFailed(Exception):
    """Wrong e-mail, password or code, or an account that cannot sign in: one answer for all."""


class AccountLocked(Exception):
    """Too many failed sign-ins for this account; try again later."""

    def __init__(self, retry_after: dt.timedelta) -> None:
        super().__init__("locked")
        self.retry_after = retry_after


class AccountPasswords(Argon2Hasher):
    """Argon2id for account passwords, with the same floor as receipts (OWASP's minimum)."""

    def hash(self, password: Password) -> str:
        return self._hash(password)

    def verify(self, stored_hash: str | None, candidate: str) -> bool:
        """One Argon2 verification whatever the input; an account without a password burns one."""
        if len(candidate) > MAX_PASSWORD_LENGTH:
            candidate = ""
        return self._verify(stored_hash, candidate or "\x00")


def list_accounts(db: Session) -> list[Account]:
    """Every account, by role, then by e-mail address (for the administrator's page)."""
    return list(db.scalars(select(Account).order_by(Account.role, Account.email)))


def may_sign_in(account: Account) -> bool:
    """Only an active account signs in or keeps a session: not one waiting for approval or
    set-up, suspended or disabled."""
    return account.status == AccountStatus.ACTIVE


def normalise_email(text: str) -> str | None:
    email = text.strip().lower()
    return email if len(email) <= 254 and _EMAIL.match(email) else None


def check_password_rules(password: str, email: str) -> Password:
    """At least 12 characters (a passphrase is welcome), at most 256, not the e-mail address."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountRefused("password_too_short", limit=str(MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountRefused("password_too_long", limit=str(MAX_PASSWORD_LENGTH))
    if password.strip().lower() in (email, email.split("@")[0]):
        raise AccountRefused("password_is_email")
    return Password(password)


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class NewAccount:
    account: Account
    enrolment_code: EnrolmentCode


def create_account(
    db: Session,
    directory: Directory,
    email_text: str,
    role: str,
    hotline_id: str | None = None,
    *,
    actor: str = "cli",
    now: dt.datetime | None = None,
) -> NewAccount:
    """A new account waiting for its owner to enrol, committed. The code is returned once,
    never stored.

    Accounts of a hotline are made through :mod:`assistant.people.team`, which also tells the
    hotline; this is the building block (and the way in for a service administrator).
    """
    with committed(db):
        return add_account(db, directory, email_text, role, hotline_id, actor=actor, now=now)


def add_account(
    db: Session,
    directory: Directory,
    email_text: str,
    role: str,
    hotline_id: str | None = None,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> NewAccount:
    """:func:`create_account` in the caller's transaction (audited, not committed).

    Hotline staff and hotline administrators belong to a hotline of the directory; a service
    administrator belongs to none; an advocate registers instead.
    """
    now = now or utcnow()
    email = normalise_email(email_text)
    if email is None:
        raise AccountRefused("bad_email")
    try:
        chosen = Role(role)
    except ValueError:
        raise AccountRefused("bad_role") from None
    if chosen == Role.ADVOCATE:
        # An advocate registers (assistant.people.advocates), so their organisation is on record.
        raise AccountRefused("advocates_register")
    if chosen in HOTLINE_ROLES:
        if not hotline_id:
            raise AccountRefused("hotline_required")
        if directory.get(hotline_id) is None:
            raise AccountRefused("unknown_hotline", hotline=hotline_id)
    elif hotline_id:
        raise AccountRefused("admin_has_no_hotline")
    if db.scalar(select(Account.id).where(Account.email == email)) is not None:
        raise AccountRefused("account_exists")
    account = Account(
        email=email,
        role=chosen,
        hotline_id=hotline_id if chosen in HOTLINE_ROLES else None,
        totp_last_step=0,
        failed_sign_ins=0,
        lockouts=0,
        created_at=now,
    )
    code = issue_enrolment_code(account, now=now)
    db.add(account)
    db.flush()
    audit.record(db, actor, "account.created", "account", account.id)
    return NewAccount(account, code)


def issue_enrolment_code(account: Account, *, now: dt.datetime | None = None) -> EnrolmentCode:
    """A fresh one-time code for the account's owner to set a password and TOTP with; any
    earlier code stops working. Only its hash is kept."""
    code = EnrolmentCode(secrets.token_urlsafe(32))
    account.status = AccountStatus.ENROLLING
    account.enrolment_code_hash = _code_hash(code)
    account.enrolment_expires_at = (now or utcnow()) + ENROLMENT_VALID_FOR
    return code


def restart_enrolment(
    db: Session, account: Account, *, now: dt.datetime | None = None
) -> EnrolmentCode:
    """Back to the start of enrolment, in the caller's transaction: the password and the TOTP
    secret are forgotten, every session ends, and a fresh one-time code is returned.

    This is how a lost or compromised authenticator is replaced. Keeping the password and asking
    only for a new TOTP would need a way in with the password alone, which is exactly what TOTP is
    there to prevent; the enrolment link is the one path that sets a second factor, and it is
    handed over outside the app, by someone who knows the person.
    """
    code = issue_enrolment_code(account, now=now)
    account.password_hash = None
    account.totp_secret_sealed = None
    account.failed_sign_ins = 0
    account.failed_window_start = None
    account.locked_until = None
    end_account_sessions(db, account.id)
    return code


def enrolment_link(public_url: str, code: EnrolmentCode) -> str:
    """The one-time link an administrator passes on (the code in the query string, which no
    access log here records)."""
    return f"{public_url.rstrip('/')}/account/enrol?{urlencode({'code': code})}"


def account_for_enrolment(
    db: Session, code: str, *, now: dt.datetime | None = None
) -> Account | None:
    """The account this enrolment code opens, if the code is right and still valid."""
    now = now or utcnow()
    if not code or len(code) > 128:
        return None
    account = db.scalar(select(Account).where(Account.enrolment_code_hash == _code_hash(code)))
    if (
        account is None
        or account.status != AccountStatus.ENROLLING
        or account.enrolment_expires_at is None
        or account.enrolment_expires_at <= now
    ):
        return None
    return account


def new_totp_secret() -> str:
    return pyotp.random_base32(length=32)


def totp_uri(secret: str, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def matching_totp_step(
    secret: str, code: str, *, after_step: int, now: dt.datetime | None = None
) -> int | None:
    """The time step this code belongs to (one step of clock drift either way), if it is newer
    than ``after_step``: a code, once accepted, is never accepted again."""
    digits = "".join(code.split())
    if len(digits) != 6 or not digits.isdigit():
        return None
    now = now or utcnow()
    current = int(now.replace(tzinfo=dt.UTC).timestamp()) // TOTP_STEP_SECONDS
    totp = pyotp.TOTP(secret)
    for step in (current - 1, current, current + 1):
        if step > after_step and hmac.compare_digest(totp.at(step * TOTP_STEP_SECONDS), digits):
            return step
    return None


def complete_enrolment(
    db: Session,
    passwords: AccountPasswords,
    cipher: FieldCipher,
    account: Account,
    password: str,
    totp_secret: str,
    totp_code: str,
    *,
    now: dt.datetime | None = None,
) -> None:
    """Set the password and TOTP chosen by the account's owner; the enrolment code stops working."""
    checked = check_password_rules(password, account.email)
    step = matching_totp_step(totp_secret, totp_code, after_step=0, now=now)
    if step is None:
        raise AccountRefused("wrong_code")
    account.password_hash = passwords.hash(checked)
    account.totp_secret_sealed = cipher.seal(totp_secret, TOTP_CONTEXT)
    account.totp_last_step = step
    account.status = AccountStatus.ACTIVE
    account.enrolment_code_hash = None
    account.enrolment_expires_at = None
    audit.record(db, audit.account_actor(account), "account.enrolled", "account", account.id)
    db.commit()


def _use_step(db: Session, account: Account, step: int) -> bool:
    """Spend a TOTP time step, atomically: of two requests with the same code, one wins."""
    result = db.execute(
        update(Account)
        .where(Account.id == account.id, Account.totp_last_step < step)
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return False
    account.totp_last_step = step
    return True


def sign_in(
    db: Session,
    new_session: Callable[[], Session],
    passwords: AccountPasswords,
    cipher: FieldCipher,
    email_text: str,
    password: str,
    totp_code: str,
    *,
    now: dt.datetime | None = None,
) -> Account:
    """The account, signed in; or :class:`SignInFailed` / :class:`AccountLocked`.

    Every path runs one Argon2 verification, so timing does not tell an unknown address from a
    wrong password. Failures are recorded through ``new_session`` in their own transaction.
    """
    now = now or utcnow()
    email = normalise_email(email_text)
    account = db.scalar(select(Account).where(Account.email == email)) if email else None
    if account is None or not may_sign_in(account):
        passwords.verify(None, password)
        _record_failure(new_session, account.id if account else None, now, counted=False)
        raise SignInFailed()
    if account.locked_until is not None and account.locked_until > now:
        passwords.verify(None, password)
        _record_failure(new_session, account.id, now, counted=False, action="signin.locked")
        raise AccountLocked(account.locked_until - now)
    password_ok = passwords.verify(account.password_hash, password)
    step = None
    if password_ok and account.totp_secret_sealed is not None:
        secret = cipher.open(account.totp_secret_sealed, TOTP_CONTEXT)
        step = matching_totp_step(secret, totp_code, after_step=account.totp_last_step, now=now)
    if step is None or not _use_step(db, account, step):
        _record_failure(new_session, account.id, now, counted=True)
        raise SignInFailed()
    account.failed_sign_ins = 0
    account.failed_window_start = None
    account.lockouts = 0
    account.locked_until = None
    if account.password_hash and passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash(Password(password))
    audit.record(db, audit.account_actor(account), "signin.succeeded", "account", account.id)
    db.commit()
    return account


def _record_failure(
    new_session: Callable[[], Session],
    account_id: int | None,
    now: dt.datetime,
    *,
    counted: bool,
    action: str = "signin.failed",
) -> None:
    """Count the failure on the account (atomically) and audit it, committed on its own."""
    with new_session() as db:
        actor = audit.account_actor(account_id) if account_id is not None else audit.UNKNOWN
        audit.record(db, actor, action, "account", account_id)
        if counted and account_id is not None:
            account = db.get(Account, account_id)
            assert account is not None
            window_open = (
                account.failed_window_start is not None
                and now - account.failed_window_start < FAILURE_WINDOW
            )
            values: dict[str, object] = (
                {"failed_sign_ins": Account.failed_sign_ins + 1}
                if window_open
                else {"failed_sign_ins": 1, "failed_window_start": now}
            )
            db.execute(update(Account).where(Account.id == account_id).values(**values))
            db.flush()
            db.refresh(account)
            if account.failed_sign_ins >= MAX_FAILURES:
                account.lockouts += 1
                account.locked_until = now + lockout_for(account.lockouts)
                account.failed_sign_ins = 0
                account.failed_window_start = None
                audit.record(db, actor, "account.locked", "account", account_id)
        db.commit()


def change_password(
    db: Session,
    passwords: AccountPasswords,
    cipher: FieldCipher,
    account: Account,
    current: str,
    new: str,
    totp_code: str,
    *,
    now: dt.datetime | None = None,
) -> None:
    """A new password, confirmed with the current one and a fresh code. Every session of the
    account ends, this one included: whoever else was signed in with the old password is out."""
    if not passwords.verify(account.password_hash, current):
        raise AccountRefused("wrong_password")
    checked = check_password_rules(new, account.email)
    secret = cipher.open(account.totp_secret_sealed or b"", TOTP_CONTEXT)
    step = matching_totp_step(secret, totp_code, after_step=account.totp_last_step, now=now)
    if step is None or not _use_step(db, account, step):
        raise AccountRefused("wrong_code")
    account.password_hash = passwords.hash(checked)
    end_account_sessions(db, account.id)
    audit.record(
        db, audit.account_actor(account), "account.password_changed", "account", account.id
    )
    db.commit()


def disable_account(db: Session, email_text: str, *, actor: str = "cli") -> Account:
    """The account can no longer sign in, and every session it has ends now."""
    email = normalise_email(email_text)
    account = db.scalar(select(Account).where(Account.email == email)) if email else None
    if account is None:
        raise AccountRefused("unknown_account")
    account.status = AccountStatus.DISABLED
    account.enrolment_code_hash = None
    end_account_sessions(db, account.id)
    audit.record(db, actor, "account.disabled", "account", account.id)
    db.commit()
    return account
