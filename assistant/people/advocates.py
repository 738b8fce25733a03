"""Trusted advocates' accounts: registration, an administrator's approval, suspension.

An advocate registers with their name, organisation, role, work e-mail and why they need access.
The account then waits (``pending``) with no password and no way in. An administrator who has
checked with the organisation approves it, which issues the same one-time enrolment code staff get:
the advocate sets their own password and TOTP with it, so TOTP is in place before the first use.
Suspending ends every session at once; the advocate's access to cases stays on record, unusable,
until they are reinstated.

The profile ties a person to the survivors they help, so it is sealed like any free text.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..crypto import FieldCipher
from ..errors import Refused
from ..models import Account
from ..models import Case
from ..models import today
from ..models import utcnow
from ..sessions import end_account_sessions
from ..text_input import checked_text
from ..vocabulary import AccessOrigin
from ..vocabulary import AccountStatus
from ..vocabulary import ConsentMethod
from ..vocabulary import Role
from . import audit
from .accounts import AccountRefused
from .accounts import EnrolmentCode
from .accounts import issue_enrolment_code
from .accounts import normalise_email

PROFILE_CONTEXT = "account.profile"
CONSENT_CONTEXT = "case.consent"
# Field -> the longest answer accepted.
PROFILE_LIMITS = {"name": 200, "organisation": 200, "role": 120, "reason": 2000}


@dataclass(frozen=True)
class AdvocateProfile:
    name: str
    organisation: str
    role: str
    reason: str


@dataclass(frozen=True)
class Advocate:
    """An advocate's account with its profile opened, for the administrator's page."""

    id: int
    email: str
    status: AccountStatus
    registered_on: dt.date
    profile: AdvocateProfile
    # What an administrator may do with the account now (see :func:`admin_actions`).
    actions: frozenset[AdvocateAction]


def is_active_advocate(account: Account | None) -> bool:
    """An advocate who may use their access now (not pending, suspended or disabled)."""
    return (
        account is not None
        and account.role == Role.ADVOCATE
        and account.status == AccountStatus.ACTIVE
    )


class AdvocateAction(StrEnum):
    """What an administrator can do with an advocate's account."""

    APPROVE = "approve"  # a registration, or an account suspended before it was set up
    RENEW_LINK = "renew_link"  # approved, not set up yet: a new set-up link
    DECLINE = "decline"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


def admin_actions(account: Account) -> frozenset[AdvocateAction]:
    """What an administrator may do with this advocate's account now: the administrator's page
    offers exactly these, and the functions below accept exactly these."""
    if account.role != Role.ADVOCATE:
        return frozenset()
    set_up = account.password_hash is not None
    return {
        AccountStatus.PENDING: frozenset({AdvocateAction.APPROVE, AdvocateAction.DECLINE}),
        AccountStatus.ENROLLING: frozenset({AdvocateAction.RENEW_LINK, AdvocateAction.SUSPEND}),
        AccountStatus.ACTIVE: frozenset({AdvocateAction.SUSPEND}),
        # Suspended before finishing set-up, there is nothing to reinstate: approve again.
        AccountStatus.SUSPENDED: frozenset(
            {AdvocateAction.REINSTATE if set_up else AdvocateAction.APPROVE}
        ),
        AccountStatus.DISABLED: frozenset(),
    }[account.status]


def check_profile(name: str, organisation: str, role: str, reason: str) -> AdvocateProfile:
    """Every field is needed, within its limit, without control characters."""
    given = {"name": name, "organisation": organisation, "role": role, "reason": reason}
    cleaned: dict[str, str] = {}
    for field, text in given.items():
        value = checked_text(
            text,
            PROFILE_LIMITS[field],
            field=field,
            refuse=AccountRefused,
            multiline=field == "reason",
        )
        if value is None:
            raise AccountRefused(f"{field}_required")
        cleaned[field] = value
    return AdvocateProfile(**cleaned)


def open_profile(cipher: FieldCipher, account: Account) -> AdvocateProfile | None:
    if account.profile_sealed is None:
        return None
    data = json.loads(cipher.open(account.profile_sealed, PROFILE_CONTEXT))
    return AdvocateProfile(**data)


def register_advocate(
    db: Session,
    cipher: FieldCipher,
    email_text: str,
    profile: AdvocateProfile,
    *,
    now: dt.datetime | None = None,
) -> None:
    """Record a registration for an administrator to review.

    An address that already has an account gets the same answer and changes nothing, so the form
    cannot be used to learn who has an account.
    """
    email = normalise_email(email_text)
    if email is None:
        raise AccountRefused("bad_email")
    if db.scalar(select(Account.id).where(Account.email == email)) is not None:
        return
    account = Account(
        email=email,
        role=Role.ADVOCATE,
        status=AccountStatus.PENDING,
        profile_sealed=cipher.seal(json.dumps(asdict(profile)), PROFILE_CONTEXT),
        totp_last_step=0,
        failed_sign_ins=0,
        lockouts=0,
        created_at=now or utcnow(),
    )
    db.add(account)
    try:
        db.flush()
    except IntegrityError:  # the same address registered twice at once: the same answer
        db.rollback()
        return
    audit.record(db, audit.UNKNOWN, "advocate.registered", "account", account.id)
    db.commit()


def list_advocates(db: Session, cipher: FieldCipher) -> list[Advocate]:
    """Every advocate's account, waiting ones first, then by organisation."""
    found = []
    for account in db.scalars(select(Account).where(Account.role == Role.ADVOCATE)):
        profile = open_profile(cipher, account)
        if profile is not None:
            found.append(
                Advocate(
                    account.id,
                    account.email,
                    account.status,
                    account.created_at.date(),
                    profile,
                    admin_actions(account),
                )
            )
    found.sort(
        key=lambda a: (
            a.status != AccountStatus.PENDING,
            a.profile.organisation.casefold(),
            a.profile.name.casefold(),
        )
    )
    return found


def _advocate(db: Session, account_id: int | None = None, email_text: str = "") -> Account:
    if account_id is not None:
        account = db.get(Account, account_id)
    else:
        email = normalise_email(email_text)
        account = db.scalar(select(Account).where(Account.email == email)) if email else None
    if account is None or account.role != Role.ADVOCATE:
        raise AccountRefused("unknown_advocate")
    return account


def _allowed(account: Account, refusal: str, *actions: AdvocateAction) -> None:
    if not admin_actions(account) & set(actions):
        raise AccountRefused(refusal)


def approve_advocate(
    db: Session,
    *,
    account_id: int | None = None,
    email: str = "",
    actor: str = "cli",
    now: dt.datetime | None = None,
) -> tuple[Account, EnrolmentCode]:
    """Approve a registration: the advocate gets a one-time code to set their password and TOTP.

    Approving an account still enrolling issues a new code (the first was lost or expired).
    """
    account = _advocate(db, account_id, email)
    _allowed(account, "already_approved", AdvocateAction.APPROVE, AdvocateAction.RENEW_LINK)
    code = issue_enrolment_code(account, now=now)
    audit.record(db, actor, "advocate.approved", "account", account.id)
    db.commit()
    return account, code


def decline_advocate(db: Session, account_id: int, *, actor: str) -> None:
    """Turn a registration down: it is deleted, with nothing kept but the audit line."""
    account = _advocate(db, account_id)
    _allowed(account, "not_pending", AdvocateAction.DECLINE)
    audit.record(db, actor, "advocate.declined", "account", account.id)
    db.delete(account)
    db.commit()


def suspend_advocate(
    db: Session, *, account_id: int | None = None, email: str = "", actor: str = "cli"
) -> Account:
    """The advocate is out at once: every session ends and no case opens for them."""
    account = _advocate(db, account_id, email)
    _allowed(account, "not_active", AdvocateAction.SUSPEND)
    account.status = AccountStatus.SUSPENDED
    account.enrolment_code_hash = None
    account.enrolment_expires_at = None
    end_account_sessions(db, account.id)
    audit.record(db, actor, "advocate.suspended", "account", account.id)
    db.commit()
    return account


def reinstate_advocate(db: Session, account_id: int, *, actor: str) -> Account:
    """A suspended advocate can sign in again with their own password and TOTP."""
    account = _advocate(db, account_id)
    _allowed(account, "not_suspended", AdvocateAction.REINSTATE)
    account.status = AccountStatus.ACTIVE
    audit.record(db, actor, "advocate.reinstated", "account", account.id)
    db.commit()
    return account


# --- the survivor's consent, and who has access, as the survivor and the hotline see it ---


class ConsentRefused(Refused):
    """A consent record that cannot be used (``code`` says why)."""


@dataclass(frozen=True)
class Consent:
    """How and when the survivor agreed to an advocate filing for them."""

    method: ConsentMethod
    given_on: dt.date
    survivor_receipt: bool

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["given_on"] = self.given_on.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Consent:
        """The record :meth:`as_dict` wrote."""
        return cls(
            ConsentMethod(str(data["method"])),
            dt.date.fromisoformat(str(data["given_on"])),
            bool(data["survivor_receipt"]),
        )


def check_consent(
    method: str | None,
    given_on: dt.date | None,
    survivor_receipt: bool | None,
    *,
    on: dt.date | None = None,
) -> Consent:
    try:
        chosen = ConsentMethod(method or "")
    except ValueError:
        raise ConsentRefused("consent_method_required") from None
    if given_on is None:
        raise ConsentRefused("consent_date_required")
    # A day of grace: the server's date is UTC, and it is already tomorrow in some places.
    if given_on > (on or today()) + dt.timedelta(days=1):
        raise ConsentRefused("consent_date_in_future")
    if survivor_receipt is None:
        raise ConsentRefused("receipt_choice_required")
    return Consent(chosen, given_on, survivor_receipt)


def seal_consent(cipher: FieldCipher, consent: Consent) -> bytes:
    return cipher.seal(json.dumps(consent.as_dict()), CONSENT_CONTEXT)


def open_consent(cipher: FieldCipher, case: Case) -> Consent | None:
    if case.consent_sealed is None:
        return None
    return Consent.from_dict(json.loads(cipher.open(case.consent_sealed, CONSENT_CONTEXT)))


@dataclass(frozen=True)
class AdvocateOnCase:
    """Who has access, as the survivor and the hotline see it: never an e-mail address."""

    access_id: int
    account_id: int
    name: str
    organisation: str
    origin: AccessOrigin
    granted_on: dt.date
    active: bool


def advocates_on_case(cipher: FieldCipher, case: Case) -> list[AdvocateOnCase]:
    found = []
    for access in case.advocates:
        profile = open_profile(cipher, access.account)
        if profile is None:
            continue
        found.append(
            AdvocateOnCase(
                access.id,
                access.account_id,
                profile.name,
                profile.organisation,
                access.origin,
                access.granted_on,
                is_active_advocate(access.account),
            )
        )
    return found
