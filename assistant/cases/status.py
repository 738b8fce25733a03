"""What a survivor (or their advocate) sees of a case, what they can write to the hotline, and an
advocate's list of their cases."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy.orm import Session
from sqlalchemy.orm import joinedload
from sqlalchemy.orm import object_session
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import BindParameter

from ..errors import Refused
from ..hotline.delivery import enqueue_delivery
from ..hotline.feed import stamp_referrals
from ..models import Account
from ..models import Case
from ..models import CaseAccess
from ..models import Location
from ..models import Message
from ..models import Referral
from ..models import ReferralEvent
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
from ..vocabulary import WAITING_STATUSES
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
    # The hotline works this referral through the service (see :func:`hotline_connected`).
    connected: bool = False
    # Where the survivor can also report, while this hotline is not connected (None when it is).
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
    return status_of_places([location.status for location in case.locations])


def status_of_places(statuses: Sequence[LocationStatus]) -> CaseStatus:
    """A case's status from its places' (see :func:`case_status`)."""
    if statuses and all(status in FINISHED_STATUSES for status in statuses):
        return CaseStatus.FINISHED
    if all(status == LocationStatus.RECEIVED for status in statuses):
        return CaseStatus.RECEIVED
    return CaseStatus.IN_PROGRESS


# Referral statuses only a hotline's own action leads to.
ACTED_ON = frozenset({ReferralStatus.WITH_HOTLINE, ReferralStatus.CLOSED})


def hotline_connected(
    hotline: Hotline | None, referral: Referral, locations: list[Location], hotline_wrote: bool
) -> bool:
    """Whether the hotline works this referral through the service: it is connected in the
    directory, or it has acted on this case here (taken the referral on or closed it, moved one
    of its places on from waiting, or written to the survivor). A place passed on by another
    hotline is still waiting: that says nothing about this one."""
    return _connected(
        hotline, referral.status, [location.status for location in locations], hotline_wrote
    )


def _connected(
    hotline: Hotline | None,
    referral_status: ReferralStatus,
    place_statuses: Sequence[LocationStatus],
    hotline_wrote: bool,
) -> bool:
    if hotline is not None and hotline.connected:
        return True
    return (
        referral_status in ACTED_ON
        or any(status not in WAITING_STATUSES for status in place_statuses)
        or hotline_wrote
    )


# A case's rows, one statement each, built once: building a statement costs as much as running it.
CASE_ID: BindParameter[int] = bindparam("case_id")
CASE_PLACES = select(Location).where(Location.case_id == CASE_ID).order_by(Location.position)
# The timelines joined rather than in a second statement: a case has a few referrals and short
# timelines.
CASE_REFERRALS = (
    select(Referral)
    .where(Referral.case_id == CASE_ID)
    .order_by(Referral.id)
    .options(joinedload(Referral.events))
)
REFERRAL_IDS: BindParameter[list[int]] = bindparam("referral_ids", expanding=True)
REFERRALS_EVENTS = (
    select(ReferralEvent)
    .where(ReferralEvent.referral_id.in_(REFERRAL_IDS))
    .order_by(ReferralEvent.id)
)
CASE_MESSAGES = select(Message).where(Message.case_id == CASE_ID).order_by(Message.id)
CASE_ADVOCATES = (
    select(CaseAccess)
    .where(CaseAccess.case_id == CASE_ID)
    .order_by(CaseAccess.id)
    .options(joinedload(CaseAccess.account))
)


def load_case_rows(db: Session, case: Case, *, advocates: bool = True) -> None:
    """Load what a case's page reads, one statement per kind of row whatever the number of places
    and hotlines: the places, the referrals with their timelines, the messages, and the
    advocates with access with their accounts (``advocates=False``: only when one of them wrote,
    to sign the message). Each fills the case's relationship (and each referral's places come
    from the case's), so nothing after this loads row by row. What is already loaded is left as
    it is."""
    unloaded = inspect(case).unloaded
    by_case = {"case_id": case.id}
    if "locations" in unloaded:
        set_committed_value(case, "locations", list(db.scalars(CASE_PLACES, by_case)))
    if "referrals" in unloaded:
        referrals = db.scalars(CASE_REFERRALS, by_case).unique()
        set_committed_value(case, "referrals", list(referrals))
    without_events = [r for r in case.referrals if "events" in inspect(r).unloaded]
    if without_events:
        events: dict[int, list[ReferralEvent]] = {r.id: [] for r in without_events}
        for event in db.scalars(REFERRALS_EVENTS, {"referral_ids": list(events)}):
            events[event.referral_id].append(event)
        for referral in without_events:
            set_committed_value(referral, "events", events[referral.id])
    places: dict[int, list[Location]] = {}
    for location in case.locations:
        if location.referral_id is not None:
            places.setdefault(location.referral_id, []).append(location)
    for referral in case.referrals:
        if "locations" in inspect(referral).unloaded:
            set_committed_value(referral, "locations", places.get(referral.id, []))
    if "messages" in unloaded:
        set_committed_value(case, "messages", list(db.scalars(CASE_MESSAGES, by_case)))
    if "advocates" in unloaded and (
        advocates or any(message.account_id for message in case.messages)
    ):
        set_committed_value(case, "advocates", list(db.scalars(CASE_ADVOCATES, by_case)))


# The same rows as plain rows, read with Core: a page that only reads them needs no ORM objects,
# which cost several times more to build than the rows themselves (issue 18). Only the columns
# the pages show; a referral's timeline is joined (only what the survivor sees of it).
_PLACE = Location.__table__.c
_REFERRAL = Referral.__table__.c
_EVENT = ReferralEvent.__table__.c
_MESSAGE = Message.__table__.c
PLACE_ROWS = (
    select(
        _PLACE.id,
        _PLACE.kind,
        _PLACE.value_sealed,
        _PLACE.platform_sealed,
        _PLACE.note_sealed,
        _PLACE.status,
        _PLACE.status_changed_on,
        _PLACE.referral_id,
        _PLACE.route_reasons,
    )
    .where(_PLACE.case_id == CASE_ID)
    .order_by(_PLACE.position)
)
REFERRAL_ROWS = (
    select(
        _REFERRAL.id,
        _REFERRAL.hotline_id,
        _REFERRAL.status,
        _EVENT.code,
        _EVENT.params,
        _EVENT.occurred_on,
        _EVENT.location_id,
    )
    .select_from(
        Referral.__table__.outerjoin(
            ReferralEvent.__table__,
            and_(_EVENT.referral_id == _REFERRAL.id, _EVENT.visible_to_survivor.is_(true())),
        )
    )
    .where(_REFERRAL.case_id == CASE_ID)
    .order_by(_REFERRAL.id, _EVENT.id)
)
MESSAGE_ROWS = (
    select(
        _MESSAGE.id,
        _MESSAGE.author,
        _MESSAGE.account_id,
        _MESSAGE.body_sealed,
        _MESSAGE.sent_on,
        _MESSAGE.referral_id,
    )
    .where(_MESSAGE.case_id == CASE_ID)
    .order_by(_MESSAGE.id)
)


@dataclass(frozen=True)
class ReferralRow:
    id: int
    hotline_id: str
    status: ReferralStatus
    events: list[EventView]


@dataclass(frozen=True)
class CaseRows:
    """What a case's page reads of it: its places (each with ``id``, ``kind``, the sealed value,
    platform and note, ``status``, ``status_changed_on``, ``referral_id``, ``route_reasons``, in
    their order), its referrals with the timeline the survivor sees, and its messages (``id``,
    ``author``, ``account_id``, ``body_sealed``, ``sent_on``, ``referral_id``). Plain rows, or the
    case's ORM objects where the database session had them loaded already."""

    places: Sequence[Any]
    referrals: list[ReferralRow]
    messages: Sequence[Any]


def read_case_rows(db: Session, case: Case, *, advocates: bool = True) -> CaseRows:
    """The case's rows for a page that only reads them, as plain rows: three statements whatever
    its size (places; referrals with their timelines; messages), and the advocates with access
    (ORM objects, on the case) when ``advocates`` or when one of them wrote (to sign the message).
    Nothing else is loaded on the case: a caller that goes on to read its places or referrals
    through the ORM wants :func:`describe_case`. What the database session has loaded of the case
    already (it may hold changes not written yet) is read from there (:func:`load_case_rows`)."""
    unloaded = inspect(case).unloaded
    if not {"locations", "referrals", "messages"} <= unloaded:
        load_case_rows(db, case, advocates=advocates)
        return _loaded_rows(case)
    if db.autoflush:
        db.flush()  # as the ORM does before it reads: these statements see what is pending
    by_case = {"case_id": case.id}
    places = db.execute(PLACE_ROWS, by_case).all()
    referrals: dict[int, ReferralRow] = {}
    for row in db.execute(REFERRAL_ROWS, by_case):
        referral = referrals.get(row.id)
        if referral is None:
            referral = referrals[row.id] = ReferralRow(row.id, row.hotline_id, row.status, [])
        if row.code is not None:
            referral.events.append(
                EventView(row.code, dict(row.params), row.occurred_on, row.location_id)
            )
    messages = db.execute(MESSAGE_ROWS, by_case).all()
    if "advocates" in unloaded and (advocates or any(m.account_id for m in messages)):
        set_committed_value(case, "advocates", list(db.scalars(CASE_ADVOCATES, by_case)))
    return CaseRows(places, list(referrals.values()), messages)


def _loaded_rows(case: Case) -> CaseRows:
    """The rows of a case whose relationships are loaded (see :func:`load_case_rows`)."""
    return CaseRows(
        case.locations,
        [
            ReferralRow(
                referral.id,
                referral.hotline_id,
                referral.status,
                [
                    EventView(event.code, dict(event.params), event.occurred_on, event.location_id)
                    for event in referral.events
                    if event.visible_to_survivor
                ],
            )
            for referral in case.referrals
        ],
        case.messages,
    )


def describe_case(services: Services, case: Case, *, advocates: bool = True) -> CaseView:
    """The case as its survivor (or their advocate) sees it, in a fixed number of statements
    (:func:`load_case_rows`; ``advocates=False`` for a caller that shows no list of who has
    access), its relationships loaded for what the caller reads next. Decrypts only what is
    needed to mask each location for display."""
    db = object_session(case)
    if db is not None:
        load_case_rows(db, case, advocates=advocates)
    return view_of_case(services, case, _loaded_rows(case))


def view_of_case(services: Services, case: Case, rows: CaseRows) -> CaseView:
    """The case's view from its rows (see :func:`read_case_rows`)."""
    cipher, directory = services.cipher, services.directory
    hotline_ids = {referral.id: referral.hotline_id for referral in rows.referrals}
    locations = [
        LocationView(
            id=row.id,
            kind=row.kind,
            display=mask_location_for_display(
                row.kind, cipher.open(row.value_sealed, "location.value")
            ),
            status=row.status,
            status_changed_on=row.status_changed_on,
            hotline=(
                directory.get(hotline_ids[row.referral_id])
                if row.referral_id in hotline_ids
                else None
            ),
            reasons=list(row.route_reasons),
        )
        for row in rows.places
    ]
    hotline_wrote = {
        message.referral_id for message in rows.messages if message.author == MessageAuthor.HOTLINE
    }
    places_of: dict[int, list[Any]] = {}
    for row in rows.places:
        if row.referral_id is not None:
            places_of.setdefault(row.referral_id, []).append(row)
    referrals = []
    for referral in rows.referrals:
        hotline = directory.get(referral.hotline_id)
        its_places = places_of.get(referral.id, [])
        connected = _connected(
            hotline,
            referral.status,
            [place.status for place in its_places],
            referral.id in hotline_wrote,
        )
        referrals.append(
            ReferralView(
                id=referral.id,
                hotline=hotline,
                hotline_id=referral.hotline_id,
                status=referral.status,
                location_ids=[place.id for place in its_places],
                events=referral.events,
                connected=connected,
                handoff_address=(
                    (hotline.report_url or hotline.website)
                    if hotline is not None and not connected
                    else None
                ),
            )
        )
    signed_by = (
        {a.account_id: f"{a.name}, {a.organisation}" for a in advocates_on_case(cipher, case)}
        if any(message.account_id for message in rows.messages)
        else {}
    )
    messages = [
        MessageView(
            id=message.id,
            author=message.author,
            body=cipher.open(message.body_sealed, "message.body"),
            sent_on=message.sent_on,
            referral_id=message.referral_id,
            advocate=signed_by.get(message.account_id) if message.account_id else None,
            account_id=message.account_id,
        )
        for message in rows.messages
    ]
    return CaseView(
        case_number=case.case_number,
        status=status_of_places([row.status for row in rows.places]),
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
