"""What hotline staff read: the queue, a referral in full, what is due today, how providers
respond, and the export for a hotline's own case system.

Only :func:`referral_detail` and :func:`export_referral` decrypt anything; the views that call
them write an audit event each time.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload

from ..models import Case
from ..models import Location
from ..models import Message
from ..models import Notice
from ..models import Referral
from ..models import ReferralEvent
from ..models import today
from ..people.advocates import AdvocateOnCase
from ..people.advocates import Consent
from ..people.advocates import advocates_on_case
from ..people.advocates import open_consent
from ..routing import Hotline
from ..routing import Kind
from ..routing import ReasonCode
from ..vocabulary import ASSESSMENT_NOTICE_TYPES
from ..vocabulary import CATEGORY_NOTICE_TYPES
from ..vocabulary import CATEGORY_SUBTYPES
from ..vocabulary import WAITING_STATUSES
from ..vocabulary import AccessOrigin
from ..vocabulary import Assessment
from ..vocabulary import Category
from ..vocabulary import CloseReason
from ..vocabulary import EventCode
from ..vocabulary import FiledBy
from ..vocabulary import HarmfulSubtype
from ..vocabulary import LocationStatus
from ..vocabulary import MessageAuthor
from ..vocabulary import MinorAnswer
from ..vocabulary import NoticeType
from ..vocabulary import ProviderResponse
from ..vocabulary import ReferralStatus

if TYPE_CHECKING:
    from ..services import Services

EXPORT_FORMAT = "removal-request-assistant/referral/1"
# The queue by referral status, besides "open" (all but closed) and "all".
QUEUE_FILTERS = ("open", *ReferralStatus, "all")
RENOTICE_AFTER = dt.timedelta(days=1)
ACKNOWLEDGE_WITHIN = dt.timedelta(days=2)
NO_RESPONSE_AFTER = dt.timedelta(days=7)


def suggested_notice_type(categories: Sequence[Category]) -> NoticeType | None:
    """The notice type the survivor's answers suggest; type 1 wins over type 2."""
    suggested = {CATEGORY_NOTICE_TYPES[c] for c in categories if c in CATEGORY_NOTICE_TYPES}
    return min(suggested, key=list(NoticeType).index) if suggested else None


def suggested_subtypes(categories: Sequence[Category]) -> list[HarmfulSubtype]:
    return sorted({CATEGORY_SUBTYPES[c] for c in categories if c in CATEGORY_SUBTYPES})


def reporting_reference(referral: Referral | int) -> str:
    return f"RRA-{referral if isinstance(referral, int) else referral.id}"


@dataclass(frozen=True)
class Flags:
    minor: bool
    identifying_information: bool
    dark_web: bool
    already_reported: bool


def referral_flags(referral: Referral) -> Flags:
    case = referral.case
    return Flags(
        minor=case.minor_in_material == MinorAnswer.YES,
        identifying_information=Category.IDENTIFYING_INFORMATION in case.categories,
        dark_web=any(
            (loc.host or "").endswith(".onion")
            or any(r.get("code") == ReasonCode.DARK_WEB for r in loc.route_reasons)
            for loc in referral.locations
        ),
        already_reported=any(event.code == EventCode.ALREADY_REPORTED for event in referral.events),
    )


@dataclass(frozen=True)
class QueueRow:
    id: int
    reference: str
    created_on: dt.date
    age_days: int
    status: ReferralStatus
    unacknowledged: bool
    location_count: int
    categories: list[Category]
    notice_type: NoticeType | None
    flags: Flags


def queue_filter(raw: str | None) -> str:
    """One of :data:`QUEUE_FILTERS`: the one asked for, or "open"."""
    return raw if raw is not None and raw in QUEUE_FILTERS else "open"


def queue(
    db: Session, hotline_id: str, status_filter: str = "open", *, on: dt.date | None = None
) -> list[QueueRow]:
    """This hotline's referrals: unacknowledged first, newest first within each group.
    ``status_filter`` is read by :func:`queue_filter`."""
    status_filter = queue_filter(status_filter)
    on = on or today()
    query = (
        select(Referral)
        .where(Referral.hotline_id == hotline_id)
        .options(
            selectinload(Referral.locations),
            selectinload(Referral.events),
            selectinload(Referral.case),
        )
    )
    if status_filter == "open":
        query = query.where(Referral.status != ReferralStatus.CLOSED)
    elif status_filter != "all":
        query = query.where(Referral.status == ReferralStatus(status_filter))
    rows = [
        QueueRow(
            id=referral.id,
            reference=reporting_reference(referral),
            created_on=referral.created_on,
            age_days=(on - referral.created_on).days,
            status=referral.status,
            unacknowledged=any(loc.status in WAITING_STATUSES for loc in referral.locations),
            location_count=len(referral.locations),
            categories=list(referral.case.categories),
            notice_type=suggested_notice_type(referral.case.categories),
            flags=referral_flags(referral),
        )
        for referral in db.scalars(query)
    ]
    rows.sort(key=lambda row: (not row.unacknowledged, -row.created_on.toordinal(), -row.id))
    return rows


@dataclass(frozen=True)
class NoticeView:
    id: int
    notice_type: NoticeType
    provider: str
    escalation: bool
    sent_on: dt.date
    reference: str | None
    response: ProviderResponse | None
    response_on: dt.date | None


@dataclass(frozen=True)
class StaffLocationView:
    id: int
    position: int
    kind: Kind
    value: str
    platform: str | None
    note: str | None
    host: str | None
    status: LocationStatus
    status_changed_on: dt.date
    assessment: Assessment | None
    assessment_subtype: HarmfulSubtype | None
    # The notice type the assessment calls for, once assessed as type 1 or 2.
    notice_type: NoticeType | None
    hosting_country: str | None
    reasons: list[dict[str, Any]]
    notices: list[NoticeView]
    already_reported_in: int


@dataclass(frozen=True)
class StaffMessageView:
    id: int
    author: MessageAuthor
    body: str
    sent_on: dt.date
    # For an advocate's message: their organisation.
    organisation: str | None = None


@dataclass(frozen=True)
class StaffNoteView:
    id: int
    body: str
    written_at: dt.datetime


@dataclass(frozen=True)
class ReferralDetail:
    id: int
    reference: str
    hotline: Hotline | None
    status: ReferralStatus
    closed_reason: CloseReason | None
    created_on: dt.date
    language: str
    survivor_country: str | None
    filed_by: FiledBy
    categories: list[Category]
    minor_in_material: MinorAnswer | None
    notice_type: NoticeType | None
    subtypes: list[HarmfulSubtype]
    flags: Flags
    locations: list[StaffLocationView]
    events: list[ReferralEvent]
    messages: list[StaffMessageView]
    notes: list[StaffNoteView]
    # Advocates with access to the case (staff see their organisation, never an e-mail), and
    # the survivor's consent when an advocate filed it.
    advocates: list[AdvocateOnCase] = field(default_factory=list)
    consent: Consent | None = None


# Reasons that name the country where a place is hosted or its provider is established.
_COUNTRY_REASONS = frozenset(
    {ReasonCode.KNOWN_PROVIDER, ReasonCode.COUNTRY_CODE_DOMAIN, ReasonCode.HOSTING_COUNTRY}
)


def _routed_country(location: Location) -> str | None:
    for reason in reversed(location.route_reasons):
        country = (reason.get("params") or {}).get("country")
        if reason.get("code") in _COUNTRY_REASONS and country:
            return str(country)
    return None


def referral_detail(db: Session, services: Services, referral: Referral) -> ReferralDetail:
    """Everything about one referral, decrypted: only for its hotline's staff, audited by the
    caller."""
    cipher = services.cipher
    case: Case = referral.case
    already = {
        event.location_id: int(event.params.get("open_cases", 0) or 0)
        for event in referral.events
        if event.code == EventCode.ALREADY_REPORTED
    }
    locations = [
        StaffLocationView(
            id=loc.id,
            position=loc.position,
            kind=loc.kind,
            value=cipher.open(loc.value_sealed, "location.value"),
            platform=cipher.open(loc.platform_sealed, "location.platform")
            if loc.platform_sealed
            else None,
            note=cipher.open(loc.note_sealed, "location.note") if loc.note_sealed else None,
            host=loc.host,
            status=loc.status,
            status_changed_on=loc.status_changed_on,
            assessment=loc.assessment,
            assessment_subtype=loc.assessment_subtype,
            notice_type=ASSESSMENT_NOTICE_TYPES.get(loc.assessment) if loc.assessment else None,
            hosting_country=loc.hosting_country or _routed_country(loc),
            reasons=list(loc.route_reasons),
            notices=[
                NoticeView(
                    id=n.id,
                    notice_type=n.notice_type,
                    provider=n.provider,
                    escalation=n.escalation,
                    sent_on=n.sent_on,
                    reference=cipher.open(n.reference_sealed, "notice.reference")
                    if n.reference_sealed
                    else None,
                    response=n.response,
                    response_on=n.response_on,
                )
                for n in loc.notices
                if n.hotline_id == referral.hotline_id
            ],
            already_reported_in=already.get(loc.id, 0),
        )
        for loc in referral.locations
    ]
    advocates = advocates_on_case(cipher, case)
    organisations = {a.account_id: a.organisation for a in advocates}
    messages = [
        StaffMessageView(
            m.id,
            m.author,
            cipher.open(m.body_sealed, "message.body"),
            m.sent_on,
            organisations.get(m.account_id) if m.account_id else None,
        )
        for m in db.scalars(
            select(Message).where(Message.referral_id == referral.id).order_by(Message.id)
        )
    ]
    notes = [
        StaffNoteView(n.id, cipher.open(n.body_sealed, "note.body"), n.written_at)
        for n in referral.notes
    ]
    return ReferralDetail(
        id=referral.id,
        reference=reporting_reference(referral),
        hotline=services.directory.get(referral.hotline_id),
        status=referral.status,
        closed_reason=referral.closed_reason,
        created_on=referral.created_on,
        language=case.language,
        survivor_country=case.survivor_country,
        filed_by=case.filed_by,
        categories=list(case.categories),
        minor_in_material=case.minor_in_material,
        notice_type=suggested_notice_type(case.categories),
        subtypes=suggested_subtypes(case.categories),
        flags=referral_flags(referral),
        locations=locations,
        events=list(referral.events),
        messages=messages,
        notes=notes,
        advocates=advocates,
        consent=open_consent(cipher, case),
    )


def export_referral(db: Session, services: Services, referral: Referral) -> dict[str, Any]:
    """The referral as JSON for a hotline's case system, with the fields hotlines exchange
    (location, hosting country, categories, notice type, received date, reporting reference).

    Internal notes and messages are not part of it.
    """
    detail = referral_detail(db, services, referral)
    hotline = detail.hotline
    return {
        "format": EXPORT_FORMAT,
        "reporting_reference": detail.reference,
        "received_date": detail.created_on.isoformat(),
        "hotline": {
            "id": referral.hotline_id,
            "name": hotline.name if hotline else None,
            "country": hotline.country if hotline else None,
        },
        "status": detail.status,
        "reporter": {
            "type": "survivor_advocate" if detail.filed_by == FiledBy.ADVOCATE else "survivor",
            "language": detail.language,
            "country": detail.survivor_country,
            "minor_in_material": detail.minor_in_material,
            "consent": detail.consent.as_dict() if detail.consent else None,
            "advocates": [
                {"organisation": a.organisation, "filed": a.origin == AccessOrigin.FILED}
                for a in detail.advocates
            ],
        },
        "categories": detail.categories,
        "notice_type": detail.notice_type,
        "harmful_abusive_subtypes": detail.subtypes,
        "flags": {
            "minor": detail.flags.minor,
            "identifying_information": detail.flags.identifying_information,
            "dark_web": detail.flags.dark_web,
            "already_reported": detail.flags.already_reported,
        },
        "locations": [
            {
                "id": loc.id,
                "kind": loc.kind,
                "location": loc.value,
                "platform": loc.platform,
                "note": loc.note,
                "host": loc.host,
                "hosting_country": loc.hosting_country,
                "status": loc.status,
                "assessment": loc.assessment,
                "assessment_subtype": loc.assessment_subtype,
                "notice_type": loc.notice_type or detail.notice_type,
                "routing_reasons": [
                    {"code": r.get("code"), "params": r.get("params") or {}} for r in loc.reasons
                ],
                "notices": [
                    {
                        "notice_type": n.notice_type,
                        "provider": n.provider,
                        "escalation": n.escalation,
                        "sent_on": n.sent_on.isoformat(),
                        "reference": n.reference,
                        "response": n.response,
                        "response_on": n.response_on.isoformat() if n.response_on else None,
                    }
                    for n in loc.notices
                ],
            }
            for loc in detail.locations
        ],
    }


@dataclass(frozen=True)
class DueItem:
    referral_id: int
    reference: str
    location_id: int | None
    kind: str  # "renotice" or "acknowledge"
    since: dt.date


def due_today(db: Session, hotline_id: str, *, on: dt.date | None = None) -> list[DueItem]:
    """Notices without removal after 24 hours (send again), and referrals unacknowledged for two
    days, oldest first."""
    on = on or today()
    due: list[DueItem] = []
    last_notice = (
        select(Notice.location_id, func.max(Notice.sent_on).label("last_sent"))
        .where(Notice.hotline_id == hotline_id)
        .group_by(Notice.location_id)
        .subquery()
    )
    renotice = db.execute(
        select(Location.id, Location.referral_id, last_notice.c.last_sent)
        .join(last_notice, last_notice.c.location_id == Location.id)
        .join(Referral, Referral.id == Location.referral_id)
        .where(Referral.hotline_id == hotline_id, Referral.status != ReferralStatus.CLOSED)
        .where(Location.status == LocationStatus.NOTICE_SENT)
        .where(last_notice.c.last_sent <= on - RENOTICE_AFTER)
    )
    for location_id, referral_id, last_sent in renotice:
        due.append(
            DueItem(
                referral_id, reporting_reference(referral_id), location_id, "renotice", last_sent
            )
        )
    waiting = db.execute(
        select(Referral.id, func.min(Location.status_changed_on))
        .join(Location, Location.referral_id == Referral.id)
        .where(Referral.hotline_id == hotline_id)
        .where(Location.status.in_(WAITING_STATUSES))
        .group_by(Referral.id)
        .having(func.min(Location.status_changed_on) <= on - ACKNOWLEDGE_WITHIN)
    )
    for referral_id, since in waiting:
        due.append(
            DueItem(referral_id, reporting_reference(referral_id), None, "acknowledge", since)
        )
    due.sort(key=lambda item: (item.since, item.referral_id, item.location_id or 0))
    return due


@dataclass(frozen=True)
class ProviderRecord:
    provider: str
    notices: int
    removed: int
    median_days_to_removal: float | None
    # Of the notices sent at least 7 days ago: the share still without any answer.
    no_response_share: float | None


def provider_responsiveness(
    db: Session, hotline_id: str, *, on: dt.date | None = None
) -> list[ProviderRecord]:
    """Per provider, over this hotline's notices: how many, how many removed, the median days from
    notice to removal, and the share without a response after 7 days. Most notices first."""
    on = on or today()
    rows = db.execute(
        select(Notice.provider, Notice.sent_on, Notice.response, Notice.response_on).where(
            Notice.hotline_id == hotline_id
        )
    )
    grouped: dict[str, list[tuple[dt.date, ProviderResponse | None, dt.date | None]]] = {}
    for provider, sent_on, response, response_on in rows:
        grouped.setdefault(provider, []).append((sent_on, response, response_on))
    records = []
    for provider, notices in grouped.items():
        removal_days = [
            (response_on - sent_on).days
            for sent_on, response, response_on in notices
            if response == ProviderResponse.REMOVED and response_on is not None
        ]
        old_enough = [n for n in notices if n[0] <= on - NO_RESPONSE_AFTER]
        silent = [n for n in old_enough if n[1] in (None, ProviderResponse.NO_RESPONSE)]
        records.append(
            ProviderRecord(
                provider=provider,
                notices=len(notices),
                removed=len(removal_days),
                median_days_to_removal=statistics.median(removal_days) if removal_days else None,
                no_response_share=len(silent) / len(old_enough) if old_enough else None,
            )
        )
    records.sort(key=lambda r: (-r.notices, r.provider.casefold()))
    return records
