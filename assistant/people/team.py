"""A hotline's own accounts, managed by the hotline's administrators.

A service administrator creates only a hotline's first administrator
(:func:`create_first_hotline_admin`), and only while the hotline has none active or setting up:
otherwise a service administrator could give themselves, or anyone, a way into a hotline's
referrals without the hotline knowing. From there the hotline's administrators invite their
colleagues, disable accounts and reset authenticators, for their own hotline only: an account of
another hotline is "unknown", exactly like an id no account has.

Every new account of a hotline is audited, listed as new on the hotline's Team page for 14 days
and, where e-mail is set up, announced to the hotline by a neutral e-mail that names nobody
(:func:`notice_recipients` says who receives it). Each function is one transaction: a refusal
raises :class:`~assistant.people.accounts.AccountRefused` and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import and_
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Account
from ..models import AuditEvent
from ..models import OutboxItem
from ..models import utcnow
from ..routing import Intake
from ..sessions import end_account_sessions
from ..transactions import committed
from ..vocabulary import HOTLINE_ROLES
from ..vocabulary import AccountStatus
from ..vocabulary import OutboxStatus
from ..vocabulary import Role
from . import audit
from .accounts import AccountRefused
from .accounts import NewAccount
from .accounts import add_account
from .accounts import restart_enrolment

if TYPE_CHECKING:
    from ..services import Services

# An account created this recently is marked as new on the Team page.
NEW_FOR = dt.timedelta(days=14)
# Accounts that hold, or are about to hold, a hotline administrator's powers.
LIVE_STATUSES = (AccountStatus.ACTIVE, AccountStatus.ENROLLING)


class TeamAction(StrEnum):
    """What a hotline administrator may do to an account of their hotline."""

    DISABLE = "disable"
    RESET_TOTP = "reset_totp"  # an active account enrols again (see reset_member_totp)
    NEW_LINK = "new_link"  # an account still setting up gets a fresh link


class Creator(StrEnum):
    """Who created an account, as the Team page says it."""

    COLLEAGUE = "colleague"  # an account of the same hotline
    SERVICE_ADMIN = "service_admin"  # a service administrator, on the administration page
    COMMAND_LINE = "command_line"  # the ``assistant`` command, run by whoever runs the service
    UNKNOWN = "unknown"  # no trace (an account older than the audit log's retention)


@dataclass(frozen=True)
class TeamAdmin:
    """A hotline administrator acting on their own hotline."""

    account_id: int
    hotline_id: str

    @classmethod
    def of(cls, account: Account) -> TeamAdmin:
        if (
            account.role != Role.HOTLINE_ADMIN
            or not account.hotline_id
            or account.status != AccountStatus.ACTIVE
        ):
            raise AccountRefused("not_hotline_admin")
        return cls(account.id, account.hotline_id)

    @property
    def actor(self) -> str:
        return audit.account_actor(self.account_id)


@dataclass(frozen=True)
class TeamMember:
    """One account of the hotline as its administrators see it."""

    id: int
    email: str
    role: Role
    status: AccountStatus
    created_on: dt.date
    created_by: Creator
    # The creator's e-mail address, when the creator is an account.
    created_by_email: str | None
    is_new: bool
    is_you: bool
    actions: frozenset[TeamAction]


# --- the service administrator: a hotline's first administrator ---


def has_live_admin(db: Session, hotline_id: str, *, now: dt.datetime | None = None) -> bool:
    """Whether the hotline has an administrator who is active, or setting up with a link that
    still works (one whose link expired cannot get in, so it does not block a new one)."""
    setting_up = and_(
        Account.status == AccountStatus.ENROLLING, Account.enrolment_expires_at > (now or utcnow())
    )
    found = db.scalar(
        select(Account.id)
        .where(
            Account.hotline_id == hotline_id,
            Account.role == Role.HOTLINE_ADMIN,
            or_(Account.status == AccountStatus.ACTIVE, setting_up),
        )
        .limit(1)
    )
    return found is not None


def create_first_hotline_admin(
    db: Session,
    services: Services,
    email_text: str,
    hotline_id: str,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> NewAccount:
    """A hotline's first administrator, waiting to enrol; refused (``hotline_has_admin``) while
    the hotline has an administrator active or setting up (see :func:`has_live_admin`).
    Afterwards the hotline's administrators invite everyone else themselves; this is also the
    way back in once the last one is gone."""
    with committed(db):
        if not hotline_id:
            raise AccountRefused("hotline_required")
        if services.directory.get(hotline_id) is None:
            raise AccountRefused("unknown_hotline", hotline=hotline_id)
        if has_live_admin(db, hotline_id, now=now):
            raise AccountRefused("hotline_has_admin", hotline=hotline_id)
        created = add_account(
            db,
            services.directory,
            email_text,
            Role.HOTLINE_ADMIN,
            hotline_id,
            actor=actor,
            now=now,
        )
        _announce(db, services, created.account, now=now)
        return created


# --- a hotline administrator on their own hotline ---


def invite_member(
    db: Session,
    services: Services,
    admin: TeamAdmin,
    email_text: str,
    role: str,
    *,
    now: dt.datetime | None = None,
) -> NewAccount:
    """A new account of the administrator's hotline (staff, or another administrator), waiting
    to enrol with the one-time code returned here, once."""
    with committed(db):
        if role not in HOTLINE_ROLES:
            raise AccountRefused("bad_role")
        created = add_account(
            db,
            services.directory,
            email_text,
            role,
            admin.hotline_id,
            actor=admin.actor,
            now=now,
        )
        _announce(db, services, created.account, now=now)
        return created


def list_team(db: Session, admin: TeamAdmin, *, now: dt.datetime | None = None) -> list[TeamMember]:
    """Every account of the hotline, newest first, with who created it and what may be done to
    it. Looking is audited: the list names the people who can read the hotline's referrals."""
    now = now or utcnow()
    with committed(db):
        accounts = list(
            db.scalars(
                select(Account)
                .where(Account.hotline_id == admin.hotline_id, Account.role.in_(HOTLINE_ROLES))
                .order_by(Account.created_at.desc(), Account.id.desc())
            )
        )
        creators = _creators(db, [account.id for account in accounts])
        live_admins = _active_admin_count(db, admin.hotline_id)
        members = [
            _member(account, admin, creators.get(account.id), live_admins, now)
            for account in accounts
        ]
        audit.record(db, admin.actor, "team.listed", "team")
    return members


def member_of_team(db: Session, admin: TeamAdmin, account_id: int) -> TeamMember:
    """One account of the hotline (for a confirmation page); ``unknown_account`` for an account
    of another hotline, as for an id no account has."""
    account = _account_of_hotline(db, admin, account_id)
    creators = _creators(db, [account.id])
    live_admins = _active_admin_count(db, admin.hotline_id)
    return _member(account, admin, creators.get(account.id), live_admins, utcnow())


def disable_member(db: Session, admin: TeamAdmin, account_id: int) -> Account:
    """The account can no longer sign in, its sessions end now, and a set-up link it was given
    stops working. Refused for the hotline's last active administrator (``last_administrator``)
    and for an account already disabled."""
    with committed(db):
        account = _account_of_hotline(db, admin, account_id)
        if account.status == AccountStatus.DISABLED:
            raise AccountRefused("already_disabled")
        _keep_one_admin(db, admin, account)
        account.status = AccountStatus.DISABLED
        account.enrolment_code_hash = None
        account.enrolment_expires_at = None
        end_account_sessions(db, account.id)
        audit.record(db, admin.actor, "account.disabled", "account", account.id)
    return account


def reset_member_totp(
    db: Session, admin: TeamAdmin, account_id: int, *, now: dt.datetime | None = None
) -> NewAccount:
    """The account enrols again, with the one-time code returned here (once).

    For an active account that lost its authenticator (or may have been taken over): the
    password and TOTP secret are forgotten, every session ends, and the person sets both again
    through the enrolment link, which the administrator hands over outside the app. Keeping the
    password and asking only for a new authenticator would let anyone who knows the password
    alone set up their own, which is what TOTP is there to stop. For an account still setting up,
    it is a fresh link (the old one stops working). Refused for a disabled account (disabling is
    not undone this way) and for one's own account (``not_yourself``): a second person always
    sees a reset, so a stolen session cannot turn itself into the account for good.
    """
    with committed(db):
        account = _account_of_hotline(db, admin, account_id)
        if account.status not in LIVE_STATUSES:
            raise AccountRefused("not_live")
        if account.id == admin.account_id:
            raise AccountRefused("not_yourself")
        action = (
            "account.totp_reset"
            if account.status == AccountStatus.ACTIVE
            else "account.enrolment_renewed"
        )
        code = restart_enrolment(db, account, now=now)
        audit.record(db, admin.actor, action, "account", account.id)
    return NewAccount(account, code)


# --- the announcement, for the delivery worker ---


def notice_recipients(db: Session, hotline_id: str) -> list[str]:
    """Who the e-mail about a hotline's new account goes to: its active administrators; and,
    when it has none (its first administrator was just created by a service administrator),
    its active staff, so that no account is ever added to a hotline without the hotline's
    people hearing of it."""
    for role in (Role.HOTLINE_ADMIN, Role.STAFF):
        addresses = list(
            db.scalars(
                select(Account.email)
                .where(
                    Account.hotline_id == hotline_id,
                    Account.role == role,
                    Account.status == AccountStatus.ACTIVE,
                )
                .order_by(Account.id)
            )
        )
        if addresses:
            return addresses
    return []


def _announce(
    db: Session, services: Services, account: Account, *, now: dt.datetime | None = None
) -> None:
    """An outbox item for the e-mail about this new account, in the caller's transaction; the
    worker decides at send time who receives it. Nothing when this service sends no e-mail."""
    settings = services.settings
    if not (settings.smtp_host and settings.smtp_from) or account.hotline_id is None:
        return
    moment = now or utcnow()
    db.add(
        OutboxItem(
            hotline_id=account.hotline_id,
            channel=Intake.EMAIL,
            account_id=account.id,
            status=OutboxStatus.PENDING,
            idempotency_key=secrets.token_hex(16),
            attempts=0,
            created_at=moment,
            next_attempt_at=moment,
        )
    )


# --- inside ---


def _account_of_hotline(db: Session, admin: TeamAdmin, account_id: int) -> Account:
    account = db.get(Account, account_id)
    if account is None or account.hotline_id != admin.hotline_id:
        raise AccountRefused("unknown_account")
    if account.role not in HOTLINE_ROLES:  # no other role has a hotline; never act on one
        raise AccountRefused("unknown_account")
    return account


def _active_admin_count(db: Session, hotline_id: str) -> int:
    """The hotline's active administrators, their rows locked until the transaction ends, so two
    administrators disabling each other at once cannot both pass the count."""
    return len(
        db.scalars(
            select(Account.id)
            .where(
                Account.hotline_id == hotline_id,
                Account.role == Role.HOTLINE_ADMIN,
                Account.status == AccountStatus.ACTIVE,
            )
            .with_for_update()
        ).all()
    )


def _is_last_admin(account: Account, active_admins: int) -> bool:
    return (
        account.role == Role.HOTLINE_ADMIN
        and account.status == AccountStatus.ACTIVE
        and active_admins <= 1
    )


def _keep_one_admin(db: Session, admin: TeamAdmin, account: Account) -> None:
    """A hotline keeps at least one active administrator: only a service administrator could
    give it one again."""
    if _is_last_admin(account, _active_admin_count(db, admin.hotline_id)):
        raise AccountRefused("last_administrator")


def _creators(db: Session, account_ids: list[int]) -> dict[int, tuple[Creator, str | None]]:
    """Who created each account, from the audit log (two queries whatever the number)."""
    if not account_ids:
        return {}
    actors = {
        object_id: actor
        for object_id, actor in db.execute(
            select(AuditEvent.object_id, AuditEvent.actor).where(
                AuditEvent.action == "account.created",
                AuditEvent.object_type == "account",
                AuditEvent.object_id.in_(account_ids),
            )
        )
        if object_id is not None
    }
    creator_ids = {
        int(actor.removeprefix("account:"))
        for actor in actors.values()
        if actor.startswith("account:") and actor.removeprefix("account:").isdigit()
    }
    creators = {
        row.id: row
        for row in db.execute(
            select(Account.id, Account.email, Account.role).where(Account.id.in_(creator_ids))
        )
    }
    found: dict[int, tuple[Creator, str | None]] = {}
    for account_id, actor in actors.items():
        if actor == "cli":
            found[account_id] = (Creator.COMMAND_LINE, None)
            continue
        suffix = actor.removeprefix("account:")
        creator = creators.get(int(suffix)) if suffix.isdigit() else None
        if creator is None:
            found[account_id] = (Creator.UNKNOWN, None)
        elif creator.role == Role.ADMIN:
            found[account_id] = (Creator.SERVICE_ADMIN, creator.email)
        else:
            found[account_id] = (Creator.COLLEAGUE, creator.email)
    return found


def _member(
    account: Account,
    admin: TeamAdmin,
    creator: tuple[Creator, str | None] | None,
    active_admins: int,
    now: dt.datetime,
) -> TeamMember:
    is_you = account.id == admin.account_id
    actions: set[TeamAction] = set()
    if account.status in LIVE_STATUSES and not _is_last_admin(account, active_admins):
        actions.add(TeamAction.DISABLE)
    if account.status == AccountStatus.ACTIVE and not is_you:
        actions.add(TeamAction.RESET_TOTP)
    elif account.status == AccountStatus.ENROLLING:
        actions.add(TeamAction.NEW_LINK)
    created_by, created_by_email = creator or (Creator.UNKNOWN, None)
    return TeamMember(
        id=account.id,
        email=account.email,
        role=account.role,
        status=account.status,
        created_on=account.created_at.date(),
        created_by=created_by,
        created_by_email=created_by_email,
        is_new=now - account.created_at < NEW_FOR,
        is_you=is_you,
        actions=frozenset(actions),
    )
