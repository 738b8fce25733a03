"""Erasure and expiry: a survivor's withdrawal, and cases past their retention date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..hotline.api_requests import purge_requests
from ..hotline.channels import Endpoint
from ..hotline.delivery import enqueue_withdrawals
from ..hotline.feed import purge_withdrawals
from ..hotline.feed import record_withdrawals
from ..hotline.provider_figures import prune_days
from ..models import AuditEvent
from ..models import Case
from ..models import CaseAccess
from ..models import Invitation
from ..models import Location
from ..models import Message
from ..models import Referral
from ..models import ReferralEvent
from ..models import today
from ..models import utcnow
from ..sessions import end_case_sessions
from ..sessions import purge_expired_sessions
from ..transactions import committed
from ..vocabulary import WithdrawalReason
from .access import purge_invitations


def erase_case(
    db: Session,
    case: Case,
    endpoints: Mapping[str, Endpoint] | None = None,
    *,
    reason: WithdrawalReason = WithdrawalReason.WITHDRAWN,
) -> None:
    """Withdraw and erase: every row that belonged to the case goes, in one transaction.

    No trace is kept about the survivor, not even an audit line saying that a case was erased.
    Each hotline that had a referral is told, by its reporting reference only, that it was
    withdrawn (or, past retention, that it expired), in its changes feed, and for a withdrawal
    by webhook where ``endpoints`` names one, so that its own system stops working on it too.
    """
    case_id = case.id
    referral_ids = select(Referral.id).where(Referral.case_id == case_id)
    with committed(db):
        # The case's row first: a place being added at this moment waits, then finds no case.
        db.execute(select(Case.id).where(Case.id == case_id).with_for_update())
        end_case_sessions(db, case_id)
        db.execute(delete(Message).where(Message.case_id == case_id))
        db.execute(delete(CaseAccess).where(CaseAccess.case_id == case_id))
        db.execute(delete(Invitation).where(Invitation.case_id == case_id))
        db.execute(delete(ReferralEvent).where(ReferralEvent.referral_id.in_(referral_ids)))
        db.execute(delete(Location).where(Location.case_id == case_id))
        # What was deleted is what the hotlines hear of (an erasure sent twice finds none).
        gone = db.execute(
            delete(Referral)
            .where(Referral.case_id == case_id)
            .returning(Referral.hotline_id, Referral.id)
        ).all()
        db.execute(delete(AuditEvent).where(AuditEvent.case_id == case_id))
        db.execute(delete(Case).where(Case.id == case_id))
        if gone:
            withdrawals = record_withdrawals(db, [(h, r) for h, r in gone], reason)
            if endpoints is not None and reason == WithdrawalReason.WITHDRAWN:
                enqueue_withdrawals(db, endpoints, withdrawals)
    db.expunge_all()


def purge(
    db: Session, *, on: dt.date | None = None, now: dt.datetime | None = None
) -> dict[str, int]:
    """Delete expired sessions (abandoned drafts among them), invitations that can no longer be
    used, per-day provider counts no longer read, and cases past retention."""
    on = on or today()
    sessions = purge_expired_sessions(db, now=now or utcnow())
    purge_invitations(db, on=on)
    prune_days(db, on=on)
    purge_withdrawals(db, on=on)
    purge_requests(db, now=now or utcnow())
    db.commit()
    expired = list(db.scalars(select(Case).where(Case.retain_until < on)))
    for case in expired:
        erase_case(db, case, reason=WithdrawalReason.EXPIRED)
    return {"sessions": sessions, "cases": len(expired)}
