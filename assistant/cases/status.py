"""What a survivor (or their advocate) sees of a case, what they can write to the hotline, and an
advocate's list of their cases."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload

from ..errors import Refused
from ..hotline.delivery import enqueue_delivery
from ..hotline.feed import stamp_referrals
from ..models import Account
from ..models import Case
from ..models import CaseAccess
from ..models import Message
from ..models import Referral
from ..models import today
from ..people import audit
from ..people.advocates import advocates_on_case
from ..people.advocates import is_active_advocate
from ..routing import Hotline
from ..routing import Kind
from ..routing import mask_location_for_display
from ..text_input import checked_text
from ..transactions import committed
from ..vocabulary import FINISHED_STATUSES
from ..vocabulary import AccessOrigin
from ..vocabulary import CaseStatus
from ..vocabulary import EventCode
from ..vocabulary import LocationStatus
from ..vocabulary import MessageAuthor
from ..vocabulary import ReferralStatus
from ..vocabulary import WebhookEvent

if TYPE_CHECKING:
    from ..services import Services


class MessageRejected(Refused):
    """A message that cannot be sent (``code`` says why); nothing was stored."""


@dataclass(frozen=True)
class LocationView:
    id: int
    kind: Kind
    display: str
    status: LocationStatus
    status_changed_on: dt.date
    hotline: Hotline | None
    reasons: list[dict[str, Any]]


@dataclass(frozen=True)
class EventView:
    code: EventCode
    params: dict[str, Any]
    occurred_on: dt.date
    location_id: int | None = None


@dataclass(frozen=True)
class ReferralView:
    id: int
    hotline: Hotline | None
    hotline_id: str
    status: ReferralStatus
    location_ids: list[int]
    events: list[EventView]
    # Where the survivor can also report, while this hotline is not yet connected to the service.
    handoff_address: str | None = None


@dataclass(frozen=True)
class MessageView:
    id: int
    author: MessageAuthor
    body: str
    sent_on: dt.date
    referral_id: int | None
    # For an advocate's message: who wrote it ("name, organisation"), if their account remains.
    advocate: str | None = None
    account_id: int | None = None


@dataclass(frozen=True)
class CaseView:
    case_number: str
    status: CaseStatus
    created_on: dt.date
    locations: list[LocationView]
    referrals: list[ReferralView]
    messages: list[MessageView]


def case_status(case: Case) -> CaseStatus:
    """``received`` until a hotline acts, ``finished`` when every location has an outcome."""
    statuses = [location.status for location in case.locations]
    if statuses and all(status in FINISHED_STATUSES for status in statuses):
        return CaseStatus.FINISHED
    if all(status == LocationStatus.RECEIVED for status in statuses):
        return CaseStatus.RECEIVED
    return CaseStatus.IN_PROGRESS


def describe_case(services: Services, case: Case) -> CaseView:
    """Decrypts only what is needed to mask each location for display."""
    cipher, directory = services.cipher, services.directory
    locations = [
        LocationView(
            id=row.id,
            kind=row.kind,
            display=mask_location_for_display(
                row.kind, cipher.open(row.value_sealed, "location.value")
            ),
            status=row.status,
            status_changed_on=row.status_changed_on,
            hotline=directory.get(row.referral.hotline_id) if row.referral else None,
            reasons=list(row.route_reasons),
        )
        for row in case.locations
    ]
    referrals = [
        ReferralView(
            id=referral.id,
            hotline=(hotline := directory.get(referral.hotline_id)),
            hotline_id=referral.hotline_id,
            status=referral.status,
            location_ids=[location.id for location in referral.locations],
            events=[
                EventView(event.code, dict(event.params), event.occurred_on, event.location_id)
                for event in referral.events
                if event.visible_to_survivor
            ],
            handoff_address=(
                (hotline.report_url or hotline.website)
                if hotline is not None and not hotline.connected
                else None
            ),
        )
        for referral in case.referrals
    ]
    advocates = {
        a.account_id: f"{a.name}, {a.organisation}" for a in advocates_on_case(cipher, case)
    }
    messages = [
        MessageView(
            id=message.id,
            author=message.author,
            body=cipher.open(message.body_sealed, "message.body"),
            sent_on=message.sent_on,
            referral_id=message.referral_id,
            advocate=advocates.get(message.account_id) if message.account_id else None,
            account_id=message.account_id,
        )
        for message in case.messages
    ]
    return CaseView(
        case_number=case.case_number,
        status=case_status(case),
        created_on=case.created_on,
        locations=locations,
        referrals=referrals,
        messages=messages,
    )


def post_survivor_message(
    db: Session,
    services: Services,
    case: Case,
    body: str,
    referral_id: int | None = None,
    *,
    advocate: Account | None = None,
) -> Message:
    """A message from the survivor (or an advocate with access to the case) to the hotline
    handling one of the case's referrals."""
    limit = services.settings.max_message_length
    text = checked_text(body, limit, field="message", refuse=MessageRejected)
    if text is None:
        raise MessageRejected("empty")
    referral: Referral | None
    if referral_id is None:
        referral = case.referrals[0] if len(case.referrals) == 1 else None
        if referral is None:
            raise MessageRejected("choose_hotline")
    else:
        referral = next((r for r in case.referrals if r.id == referral_id), None)
        if referral is None:
            raise MessageRejected("unknown_referral")
    message = Message(
        author=MessageAuthor.ADVOCATE if advocate else MessageAuthor.SURVIVOR,
        account_id=advocate.id if advocate else None,
        body_sealed=services.cipher.seal(text, "message.body"),
        sent_on=today(),
        referral_id=referral.id,
    )
    with committed(db):
        case.messages.append(message)
        db.flush()
        actor = audit.account_actor(advocate) if advocate else audit.SURVIVOR
        audit.record(db, actor, "message.sent", "message", message.id, case_id=case.id)
        # The hotline's system hears of it (a webhook with the reference, and its feed).
        enqueue_delivery(db, services.endpoints, referral, WebhookEvent.SURVIVOR_MESSAGE)
        stamp_referrals(db, [referral])
    return message


@dataclass(frozen=True)
class CaseSummary:
    """One line of an advocate's dashboard."""

    case_id: int
    case_number: str
    created_on: dt.date
    status: CaseStatus
    origin: AccessOrigin
    places: int
    by_status: dict[LocationStatus, int]
    unread: int


def advocate_cases(
    db: Session,
    account: Account,
    *,
    status: CaseStatus | None = None,
    unread_only: bool = False,
) -> list[CaseSummary]:
    """The advocate's cases, newest first; ``status`` (when given) filters by the case's overall
    status."""
    if not is_active_advocate(account):
        return []
    rows = db.scalars(
        select(CaseAccess)
        .where(CaseAccess.account_id == account.id)
        .options(selectinload(CaseAccess.case).selectinload(Case.locations))
    ).all()
    unread: dict[int, int] = {
        case_id: count
        for case_id, count in db.execute(
            select(Message.case_id, func.count(Message.id))
            .join(CaseAccess, CaseAccess.case_id == Message.case_id)
            .where(
                CaseAccess.account_id == account.id,
                Message.account_id.is_distinct_from(account.id),
                Message.id > CaseAccess.messages_read_up_to,
            )
            .group_by(Message.case_id)
        )
    }
    summaries = []
    for access in rows:
        case = access.case
        summary = CaseSummary(
            case_id=case.id,
            case_number=case.case_number,
            created_on=case.created_on,
            status=case_status(case),
            origin=access.origin,
            places=len(case.locations),
            by_status=dict(Counter(location.status for location in case.locations)),
            unread=int(unread.get(case.id, 0)),
        )
        if status is not None and summary.status != status:
            continue
        if unread_only and not summary.unread:
            continue
        summaries.append(summary)
    summaries.sort(key=lambda s: (-s.created_on.toordinal(), -s.case_id))
    return summaries
