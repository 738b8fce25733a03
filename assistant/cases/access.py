"""Which advocates may see a case, and the survivor's say over it.

An advocate reaches a case only through a :class:`CaseAccess` row: one is written when they file
the case, or when they redeem an invitation the survivor made. The survivor sees every row on
their status page and can delete any of them; access is checked on every request, so a revoked
advocate is out on their next one. An advocate who is not active (pending, suspended, disabled)
reaches nothing, whatever rows exist.

Invitations are itsdangerous-signed codes, valid 72 hours, shown once. The code carries the
case's id and a random nonce; the database keeps only a hash of the nonce, and redeeming deletes
that row in the same statement that checks it, so a code works once even when two advocates try
it together.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import NewType

from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import Refused
from ..hotline.feed import stamp_referrals
from ..models import Account
from ..models import Case
from ..models import CaseAccess
from ..models import Invitation
from ..models import Message
from ..models import today
from ..models import utcnow
from ..people import audit
from ..people.advocates import is_active_advocate
from ..sessions import end_case_sessions
from ..vocabulary import AccessOrigin
from .receipts import Passphrase
from .receipts import PassphraseHasher
from .receipts import new_passphrase

INVITATION_SALT = "advocate-invitation"
INVITATION_VALID_FOR = dt.timedelta(hours=72)
# Longer than any real code; checked before any work is done.
MAX_CODE_LENGTH = 200

InvitationCode = NewType("InvitationCode", str)


class AccessRefused(Refused):
    """A receipt or an invitation that cannot be used (``code`` says why)."""


def access_to_case(db: Session, account: Account, case_id: int) -> CaseAccess | None:
    """This advocate's access to the case, if they have it and may use it; None otherwise, the
    same answer as for a case that does not exist."""
    if not is_active_advocate(account):
        return None
    return db.scalar(
        select(CaseAccess).where(CaseAccess.case_id == case_id, CaseAccess.account_id == account.id)
    )


def can_issue_receipt(access: CaseAccess) -> bool:
    """Only the advocate who filed, and only until the survivor has replaced the passphrase: from
    then on, nobody but the survivor can change it."""
    return access.origin == AccessOrigin.FILED and access.case.passphrase_replaced_on is None


def issue_receipt(db: Session, hasher: PassphraseHasher, access: CaseAccess) -> Passphrase:
    """A new receipt for the filing advocate to hand over (the first was lost, or the survivor
    now wants one). The survivor must replace it at first sign-in; any earlier receipt and every
    survivor session of the case end."""
    if not can_issue_receipt(access):
        raise AccessRefused("receipt_not_allowed")
    case = access.case
    passphrase = new_passphrase()
    case.passphrase_hash = hasher.hash(passphrase)
    case.must_change_passphrase = True
    end_case_sessions(db, case.id)
    audit.record_on_case(db, audit.account_actor(access.account_id), "case.receipt_issued", case.id)
    db.commit()
    return passphrase


def record_case_view(db: Session, access: CaseAccess) -> None:
    """An advocate read the case: audited like a staff member's view of a referral, and every
    message on it now counts as read."""
    newest = db.scalar(select(func.max(Message.id)).where(Message.case_id == access.case_id))
    if newest is not None and newest > access.messages_read_up_to:
        access.messages_read_up_to = newest
    audit.record_on_case(db, audit.account_actor(access.account_id), "case.viewed", access.case_id)
    db.commit()


def revoke_access(db: Session, case: Case, access_id: int) -> bool:
    """The survivor takes an advocate's access away. Unused invitation codes stop working too,
    so that a second code cannot bring the same person back. False if there was no such
    access."""
    access = db.scalar(
        select(CaseAccess).where(CaseAccess.id == access_id, CaseAccess.case_id == case.id)
    )
    if access is None:
        return False
    account_id = access.account_id
    db.delete(access)
    db.execute(delete(Invitation).where(Invitation.case_id == case.id))
    audit.record(db, audit.SURVIVOR, "access.revoked", "account", account_id, case_id=case.id)
    db.flush()
    # The hotlines' systems see who has access to the case: a change to their feeds, last.
    stamp_referrals(db, case.referrals)
    db.commit()
    db.expire(case, ["advocates"])
    return True


def invitation_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=INVITATION_SALT)


def _nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode("utf-8", "replace")).hexdigest()


def create_invitation(
    db: Session, serializer: URLSafeTimedSerializer, case: Case
) -> InvitationCode:
    """A single-use code for an advocate, valid 72 hours. Returned once; never stored."""
    nonce = secrets.token_urlsafe(16)
    db.add(Invitation(case_id=case.id, nonce_hash=_nonce_hash(nonce), created_on=today()))
    audit.record_on_case(db, audit.SURVIVOR, "invitation.created", case.id)
    db.commit()
    return InvitationCode(serializer.dumps([case.id, nonce]))


# Built once: building a statement costs as much as running it (the status page runs this one).
_INVITATION = Invitation.__table__.c
WAITING_INVITATIONS = select(func.count(_INVITATION.id)).where(
    _INVITATION.case_id == bindparam("case_id"), _INVITATION.created_on >= bindparam("since")
)


def waiting_invitations(db: Session, case: Case, *, on: dt.date | None = None) -> int:
    """Invitations made in the last three days and not yet used (the row keeps only a date, so
    one made on the earliest of those days may already have expired)."""
    since = (on or today()) - dt.timedelta(days=INVITATION_VALID_FOR.days)
    if db.autoflush:
        db.flush()  # as the ORM does before it reads (an invitation made in this transaction)
    found = db.execute(WAITING_INVITATIONS, {"case_id": case.id, "since": since}).scalar()
    return int(found or 0)


def cancel_invitations(db: Session, case: Case) -> int:
    """Every invitation not yet used stops working."""
    result = db.execute(delete(Invitation).where(Invitation.case_id == case.id))
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        audit.record_on_case(db, audit.SURVIVOR, "invitation.cancelled", case.id)
    db.commit()
    return count


@dataclass(frozen=True)
class Redeemed:
    case: Case
    already_had_access: bool


def redeem_invitation(
    db: Session,
    serializer: URLSafeTimedSerializer,
    account: Account,
    code: str,
    *,
    now: dt.datetime | None = None,
) -> Redeemed:
    """Give this advocate access to the invitation's case; the code is used up.

    Refused as ``expired`` after 72 hours, and as ``invalid`` for anything else that is wrong
    (forged, malformed, used already, cancelled, or naming another case), without saying which.
    """
    if not is_active_advocate(account):
        raise AccessRefused("invalid")
    text = "".join(code.split())
    if not text or len(text) > MAX_CODE_LENGTH:
        raise AccessRefused("invalid")
    try:
        payload, signed_at = serializer.loads(text, return_timestamp=True)
    except BadSignature:
        raise AccessRefused("invalid") from None
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not isinstance(payload[0], int)
        or not isinstance(payload[1], str)
    ):
        raise AccessRefused("invalid")
    case_id, nonce = payload
    now = now or utcnow()
    age = now - signed_at.astimezone(dt.UTC).replace(tzinfo=None)
    if age > INVITATION_VALID_FOR or age < -dt.timedelta(minutes=5):
        raise AccessRefused("expired")
    used = db.execute(
        delete(Invitation).where(
            Invitation.nonce_hash == _nonce_hash(nonce), Invitation.case_id == case_id
        )
    )
    if getattr(used, "rowcount", 0) != 1:
        db.rollback()
        raise AccessRefused("invalid")
    case = db.get(Case, case_id)
    if case is None:
        db.rollback()
        raise AccessRefused("invalid")
    held = access_to_case(db, account, case_id)
    if held is None:
        db.add(
            CaseAccess(
                case_id=case_id,
                account_id=account.id,
                origin=AccessOrigin.INVITED,
                granted_on=today(),
                messages_read_up_to=0,
            )
        )
    audit.record_on_case(db, audit.account_actor(account), "invitation.redeemed", case_id)
    try:
        if held is None:
            db.flush()
            stamp_referrals(db, case.referrals)  # last: the hotlines' feeds (who has access)
        db.commit()
    except IntegrityError:  # the same advocate redeeming two codes for this case at once
        db.rollback()
        return Redeemed(case, already_had_access=True)
    return Redeemed(case, already_had_access=held is not None)


def purge_invitations(db: Session, *, on: dt.date | None = None) -> int:
    """Rows of invitations that can no longer be redeemed."""
    before = (on or today()) - dt.timedelta(days=INVITATION_VALID_FOR.days + 1)
    result = db.execute(delete(Invitation).where(Invitation.created_on < before))
    return int(getattr(result, "rowcount", 0) or 0)
