"""What hotline staff read: the queue, a referral in full, what is due today, how providers
respond, and the export for a hotline's own case system.

Only :func:`referral_detail` and :func:`export_referral` decrypt anything; the views that call
them write an audit event each time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import tuple_
from sqlalchemy.orm import Session

from ..models import MAX_ROW_ID
from ..models import Case
from ..models import Location
from ..models import Message
from ..models import Notice
from ..models import OutboxItem
from ..models import Referral
from ..models import ReferralEvent
from ..models import today
from ..people.advocates import AdvocateOnCase
from ..people.advocates import Consent
from ..people.advocates import advocates_on_case
from ..people.advocates import open_consent
from ..routing import Hotline
from ..routing import Kind
from ..routing import LocationRejected
from ..routing import ReasonCode
from ..routing import guess_kind
from ..routing import normalise_location
from ..routing.directory import RemovalDeadline
from ..routing.engine import place_key
from ..vocabulary import ASSESSMENT_NOTICE_TYPES
from ..vocabulary import CATEGORY_SUBTYPES
from ..vocabulary import FINAL_RESPONSES
from ..vocabulary import AccessOrigin
from ..vocabulary import Assessment
from ..vocabulary import Category
from ..vocabulary import ChaseHold
from ..vocabulary import ChaseState
from ..vocabulary import CloseReason
from ..vocabulary import EventCode
from ..vocabulary import FiledBy
from ..vocabulary import HarmfulSubtype
from ..vocabulary import Lane
from ..vocabulary import LocationStatus
from ..vocabulary import MessageAuthor
from ..vocabulary import MinorAnswer
from ..vocabulary import NoticeType
from ..vocabulary import OutboxStatus
from ..vocabulary import ProviderResponse
from ..vocabulary import ReferralStatus
from ..vocabulary import Responder
from ..vocabulary import suggested_notice_type
from .deadlines import Due
from .deadlines import place_due
from .notice_mail import notice_provider
from .places import stored_host

if TYPE_CHECKING:
    from ..services import Services

EXPORT_FORMAT = "removal-request-assistant/referral/1"
MAX_SEARCH_LENGTH = 2000


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


def flags_of(referral: Referral) -> Flags:
    """The flags kept on the referral's row (see referrals.refresh_referral_status)."""
    return Flags(
        referral.flag_minor,
        referral.flag_identifying,
        referral.flag_dark_web,
        referral.flag_already_reported,
    )


def categories_of(bits: int) -> list[Category]:
    return [category for index, category in enumerate(Category) if bits & (1 << index)]


# --- the queue: pages of 50, each one range of an index whatever the data's size ---

PAGE_SIZE = 50
STATUS_FILTERS = ("open", *ReferralStatus, "all")
FLAG_FILTERS = ("minor", "identifying", "dark_web", "already_reported")
ASSIGNED_FILTERS = ("me", "nobody", "others")
AGE_FILTERS = ("2", "7", "30")  # received at least this many days ago
SORTS = ("age", "time_left")
_REFERENCE = re.compile(r"^\s*(?:RRA-)?(\d{1,10})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class QueueQuery:
    """What a page of the queue asks for, read from the page's query string by :func:`read_query`;
    anything not understood is dropped, and ``notes`` say what was dropped."""

    status: str = "open"
    flags: tuple[str, ...] = ()
    category: Category | None = None
    notice_type: NoticeType | None = None
    assigned: str | None = None  # "me", "nobody", "others", or a colleague's account id
    age: str | None = None
    sort: str = "age"
    due_only: bool = False
    search: str = ""
    after: tuple[Any, ...] | None = None
    before: tuple[Any, ...] | None = None
    last: bool = False
    notes: tuple[str, ...] = ()

    def args(self, **changes: Any) -> dict[str, Any]:
        """The query string for this query with ``changes`` (for links; no cursor unless given)."""
        values: dict[str, Any] = {
            "status": self.status if self.status != "open" else None,
            "flag": list(self.flags) or None,
            "category": self.category,
            "notice_type": self.notice_type,
            "assigned": self.assigned,
            "age": self.age,
            "sort": self.sort if self.sort != "age" else None,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value not in (None, "", [])}

    @property
    def filtered(self) -> bool:
        return bool(
            self.flags
            or self.category
            or self.notice_type
            or self.assigned
            or self.age
            or self.status != "open"
        )


def _one(values: list[str], allowed: Sequence[str], notes: list[str], name: str) -> str | None:
    if not values or values == [""]:
        return None
    if len(values) == 1 and values[0] in allowed:
        return values[0]
    notes.append(name)
    return None


def read_query(
    args: Mapping[str, list[str]], *, colleague_ids: Sequence[int] = (), due_only: bool = False
) -> QueueQuery:
    """The queue query from a query string (``{name: [values]}``). An unknown filter, sort or
    cursor is dropped with a note, never an error: the person gets the first page."""
    notes: list[str] = []
    status = _one(args.get("status", []), STATUS_FILTERS, notes, "status") or "open"
    flags = tuple(dict.fromkeys(f for f in args.get("flag", []) if f in FLAG_FILTERS))
    if len(flags) != len(set(args.get("flag", []))):
        notes.append("flag")
    category_text = _one(args.get("category", []), list(Category), notes, "category")
    notice_text = _one(args.get("notice_type", []), list(NoticeType), notes, "notice_type")
    assigned_allowed = [*ASSIGNED_FILTERS, *(str(i) for i in colleague_ids)]
    assigned = _one(args.get("assigned", []), assigned_allowed, notes, "assigned")
    age = _one(args.get("age", []), AGE_FILTERS, notes, "age")
    sort = _one(args.get("sort", []), SORTS, notes, "sort") or ("time_left" if due_only else "age")
    search = (args.get("q") or [""])[0].strip()[:MAX_SEARCH_LENGTH]
    query = QueueQuery(
        status=status,
        flags=flags,
        category=Category(category_text) if category_text else None,
        notice_type=NoticeType(notice_text) if notice_text else None,
        assigned=assigned,
        age=age,
        sort=sort,
        due_only=due_only,
        search=search,
    )
    after = _cursor(query, _single(args.get("after")))
    before = _cursor(query, _single(args.get("before")))
    last = _single(args.get("page")) == "last"
    if ("after" in args and after is None) or ("before" in args and before is None):
        notes.append("page")
    if "page" in args and not last:
        notes.append("page")
    return replace(
        query,
        after=after,
        before=None if after else before,
        last=last and not (after or before),
        notes=tuple(dict.fromkeys(notes)),
    )


def _single(values: list[str] | None) -> str:
    """The one value given; two or more is as good as none (a cursor is never repeated)."""
    return values[0] if values and len(values) == 1 else ""


def _sort_columns(query: QueueQuery) -> list[Any]:
    """The columns the page is ordered by, last one the id; each order is one index's order."""
    if query.sort == "time_left":
        return [Referral.due_on, Referral.id]
    if query.status in ("open", "all") or query.assigned:
        return [Referral.lane, Referral.created_on, Referral.id]
    return [Referral.created_on, Referral.id]  # one status: the lane is the same for all


def _cursor(query: QueueQuery, text: str) -> tuple[Any, ...] | None:
    """A cursor is the sort key of the row before (or after) the page, as dotted text."""
    if not text or len(text) > 60:
        return None
    parts = text.split(".")
    columns = _sort_columns(query)
    if len(parts) != len(columns):
        return None
    values: list[Any] = []
    try:
        for part, column in zip(parts, columns, strict=True):
            if column is Referral.created_on or column is Referral.due_on:
                values.append(dt.date.fromisoformat(part))
            else:
                number = int(part)
                if not 0 <= number <= MAX_ROW_ID:
                    return None
                values.append(number)
    except ValueError:
        return None
    return tuple(values)


def cursor_text(values: Sequence[Any]) -> str:
    return ".".join(v.isoformat() if isinstance(v, dt.date) else str(int(v)) for v in values)


@dataclass(frozen=True)
class QueueRow:
    id: int
    reference: str
    version: int
    created_on: dt.date
    age_days: int
    status: ReferralStatus
    unacknowledged: bool
    location_count: int
    categories: list[Category]
    notice_type: NoticeType | None
    flags: Flags
    due: Due | None
    assigned_to: int | None
    sort_key: tuple[Any, ...]


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    # Cursors for the neighbouring pages; None at either end.
    next_after: str | None
    previous_before: str | None
    counts: dict[str, Count]


def _search_ids(db: Session, services: Services, hotline_id: str, text: str) -> Any:
    """The referral ids of this hotline that the search names: a reporting reference, or a place
    given as a link (looked up by its keyed hash, never by opening any row)."""
    reference = _REFERENCE.match(text)
    if reference:
        number = int(reference.group(1))
        return select(Referral.id).where(Referral.id == min(number, MAX_ROW_ID))
    try:
        place = normalise_location(guess_kind(text), text)
    except LocationRejected:
        return None
    # Under the current hash key, or a previous one while the key changes (key_rotation).
    digests = services.keyed_hasher.digests(place_key(place, services.directory), "location")
    return (
        select(Location.referral_id)
        .join(Referral, Referral.id == Location.referral_id)
        .where(Location.value_hash.in_(digests), Referral.hotline_id == hotline_id)
    )


# Counting stops here: a count reads at most this many index entries, so the queue's page costs
# the same with 500 or 50,000 referrals in a status ("1,000+" is shown beyond it).
COUNT_CAP = 1000


@dataclass(frozen=True)
class Count:
    value: int
    capped: bool  # there are more than ``value``


def queue_counts(db: Session, hotline_id: str) -> dict[str, Count]:
    """How many of this hotline's referrals are in each status, open and in all: one statement,
    each count an index range of at most :data:`COUNT_CAP` rows."""
    counted = [
        select(func.count())
        .select_from(
            select(literal(1))
            .where(Referral.hotline_id == hotline_id, Referral.status == status)
            .limit(COUNT_CAP + 1)
            .subquery()
        )
        .scalar_subquery()
        .label(status.value)
        for status in ReferralStatus
    ]
    row = db.execute(select(*counted)).one()._mapping
    counts = {
        status.value: Count(min(row[status.value], COUNT_CAP), row[status.value] > COUNT_CAP)
        for status in ReferralStatus
    }
    open_ = [counts[s.value] for s in ReferralStatus if s != ReferralStatus.CLOSED]
    counts["open"] = Count(sum(c.value for c in open_), any(c.capped for c in open_))
    counts["all"] = Count(
        counts["open"].value + counts[ReferralStatus.CLOSED].value,
        counts["open"].capped or counts[ReferralStatus.CLOSED].capped,
    )
    return counts


def queue_page(
    db: Session,
    services: Services,
    hotline_id: str,
    query: QueueQuery,
    *,
    me: int,
    on: dt.date | None = None,
) -> QueuePage:
    """One page of this hotline's referrals for ``query``: by default the oldest waiting for
    acknowledgement first, then open work oldest first. Keyset pages: page N costs what page 1
    costs, and nothing is missed or repeated while new referrals arrive."""
    on = on or today()
    columns = _sort_columns(query)
    statement = select(Referral).where(Referral.hotline_id == hotline_id)
    if query.status == "open":
        statement = statement.where(Referral.lane < Lane.CLOSED)
    elif query.status != "all":
        statement = statement.where(Referral.status == ReferralStatus(query.status))
    flag_columns = {
        "minor": Referral.flag_minor,
        "identifying": Referral.flag_identifying,
        "dark_web": Referral.flag_dark_web,
        "already_reported": Referral.flag_already_reported,
    }
    for flag in query.flags:
        statement = statement.where(flag_columns[flag].is_(True))
    if query.category is not None:
        bit = 1 << list(Category).index(query.category)
        statement = statement.where(Referral.category_bits.op("&")(bit) != 0)
    if query.notice_type is not None:
        statement = statement.where(Referral.suggested_notice_type == query.notice_type)
    if query.assigned == "me":
        statement = statement.where(Referral.assigned_to == me)
    elif query.assigned == "nobody":
        statement = statement.where(Referral.assigned_to.is_(None))
    elif query.assigned == "others":
        statement = statement.where(Referral.assigned_to != me)
    elif query.assigned:
        statement = statement.where(Referral.assigned_to == int(query.assigned))
    if query.age:
        statement = statement.where(Referral.created_on <= on - dt.timedelta(days=int(query.age)))
    if query.due_only:
        statement = statement.where(Referral.due_on <= on)
    if query.search:
        found = _search_ids(db, services, hotline_id, query.search)
        if found is None:
            statement = statement.where(false())
        else:
            statement = statement.where(Referral.id.in_(found))
    backwards = query.before is not None or query.last
    if query.after is not None:
        statement = statement.where(tuple_(*columns) > tuple_(*query.after))
    if query.before is not None:
        statement = statement.where(tuple_(*columns) < tuple_(*query.before))
    order = [c.desc() for c in columns] if backwards else list(columns)
    found_rows = list(db.scalars(statement.order_by(*order).limit(PAGE_SIZE + 1)))
    more = len(found_rows) > PAGE_SIZE
    found_rows = found_rows[:PAGE_SIZE]
    if backwards:
        found_rows.reverse()
    ids = [referral.id for referral in found_rows]
    places = dict(
        db.execute(
            select(Location.referral_id, func.count())
            .where(Location.referral_id.in_(ids))
            .group_by(Location.referral_id)
        ).all()
    )
    rows = [
        QueueRow(
            id=referral.id,
            reference=reporting_reference(referral),
            version=referral.version,
            created_on=referral.created_on,
            age_days=(on - referral.created_on).days,
            status=referral.status,
            unacknowledged=referral.lane == Lane.WAITING,
            location_count=places.get(referral.id, 0),
            categories=categories_of(referral.category_bits),
            notice_type=referral.suggested_notice_type,
            flags=flags_of(referral),
            due=Due(referral.due_on, referral.due_action) if referral.due_action else None,
            assigned_to=referral.assigned_to,
            sort_key=tuple(getattr(referral, c.key) for c in columns),
        )
        for referral in found_rows
    ]
    has_next = (more and not backwards) or (backwards and not query.last and bool(rows))
    has_previous = (more and backwards) or query.after is not None
    return QueuePage(
        rows=rows,
        next_after=cursor_text(rows[-1].sort_key) if rows and has_next else None,
        previous_before=cursor_text(rows[0].sort_key) if rows and has_previous else None,
        counts=queue_counts(db, hotline_id),
    )


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
    # For a notice the app sent: its own reference, where the chase stands and why, how many
    # reminders went, when it looks again; who answered, and a refusal's reason.
    letter_reference: str | None = None
    chase: ChaseState | None = None
    chase_reason: ChaseHold | None = None
    reminders: int = 0
    next_reminder_on: dt.date | None = None
    by_provider: bool = False
    response_note: str | None = None
    # Where the directory records a removal deadline for the provider (with its source): when it
    # ends, counted from the notice's sending, and the rule that sets it.
    deadline_at: dt.datetime | None = None
    deadline_rule: str | None = None
    # How its latest sending is going (pending, sent, dead) and the last failure's short code.
    sending: OutboxStatus | None = None
    sending_error: str | None = None


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
    # What this hotline owes the place next, and by when.
    due: Due | None = None


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
    # A provider's question through the response link of this notice (else a colleague's note).
    from_notice: str | None = None


@dataclass(frozen=True)
class ReferralDetail:
    id: int
    reference: str
    version: int
    assigned_to: int | None
    closed_on: dt.date | None
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


def _deadline_of(services: Services, notice: Notice) -> RemovalDeadline | None:
    letter = notice.letter
    if letter is None or not letter.provider_id or notice.response in FINAL_RESPONSES:
        return None
    provider = services.directory.provider(letter.provider_id)
    return provider.removal_deadline if provider is not None else None


def _removal_deadline(services: Services, notice: Notice) -> dt.datetime | None:
    deadline = _deadline_of(services, notice)
    if deadline is None or notice.letter is None:
        return None
    return notice.letter.created_at + dt.timedelta(hours=deadline.hours)


def _deadline_rule(services: Services, notice: Notice) -> str | None:
    deadline = _deadline_of(services, notice)
    return deadline.rule if deadline is not None else None


def _latest_sendings(db: Session, referral: Referral) -> dict[int, tuple[OutboxStatus, str | None]]:
    """For each notice the app sent about the referral's places: how its latest sending (the
    notice or its latest reminder) is going. One statement."""
    letter_ids = {
        n.letter_id for loc in referral.locations for n in loc.notices if n.letter_id is not None
    }
    if not letter_ids:
        return {}
    found: dict[int, tuple[OutboxStatus, str | None]] = {}
    for letter_id, status, error in db.execute(
        select(OutboxItem.letter_id, OutboxItem.status, OutboxItem.last_error)
        .where(OutboxItem.letter_id.in_(letter_ids))
        .order_by(OutboxItem.id)
    ):
        found[letter_id or 0] = (status, error)
    return found


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
    sendings = _latest_sendings(db, referral)
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
            host=stored_host(cipher, loc),
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
                    provider=notice_provider(services, n),
                    escalation=n.escalation,
                    sent_on=n.sent_on,
                    reference=cipher.open(n.reference_sealed, "notice.reference")
                    if n.reference_sealed
                    else None,
                    response=n.response,
                    response_on=n.response_on,
                    letter_reference=f"RRA-N{n.letter_id}" if n.letter_id else None,
                    chase=n.chase,
                    chase_reason=n.chase_reason,
                    reminders=n.letter.reminders_sent if n.letter else 0,
                    next_reminder_on=n.letter.next_chase_at.date()
                    if n.letter and n.letter.next_chase_at and n.chase == ChaseState.ACTIVE
                    else None,
                    by_provider=n.responded_by == Responder.PROVIDER,
                    deadline_at=_removal_deadline(services, n),
                    deadline_rule=_deadline_rule(services, n),
                    sending=sendings.get(n.letter_id or 0, (None, None))[0],
                    sending_error=sendings.get(n.letter_id or 0, (None, None))[1],
                    response_note=cipher.open(n.response_note_sealed, "notice.response")
                    if n.response_note_sealed
                    else None,
                )
                for n in loc.notices
                if n.hotline_id == referral.hotline_id
            ],
            already_reported_in=already.get(loc.id, 0),
            due=place_due(loc, referral.hotline_id) if referral.closed_reason is None else None,
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
        StaffNoteView(
            n.id,
            cipher.open(n.body_sealed, "note.body"),
            n.written_at,
            f"RRA-N{n.from_letter_id}" if n.from_letter_id else None,
        )
        for n in referral.notes
    ]
    return ReferralDetail(
        id=referral.id,
        reference=reporting_reference(referral),
        version=referral.version,
        assigned_to=referral.assigned_to,
        closed_on=referral.closed_on,
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
        flags=flags_of(referral),
        locations=locations,
        events=list(referral.events),
        messages=messages,
        notes=notes,
        advocates=advocates,
        consent=open_consent(cipher, case),
    )


def export_referral(
    db: Session, services: Services, referral: Referral, detail: ReferralDetail | None = None
) -> dict[str, Any]:
    """The referral as JSON for a hotline's case system, with the fields hotlines exchange
    (location, hosting country, categories, notice type, received date, reporting reference).

    Internal notes and messages are not part of it.
    """
    detail = detail or referral_detail(db, services, referral)
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
class Neighbours:
    """The referrals before and after this one in the queue's default order (open ones)."""

    previous: int | None
    next: int | None


def neighbours(db: Session, hotline_id: str, referral: Referral) -> Neighbours:
    """Two index look-ups, whatever the queue's size."""
    key = tuple_(Referral.lane, Referral.created_on, Referral.id)
    here = tuple_(referral.lane, referral.created_on, referral.id)
    base = select(Referral.id).where(Referral.hotline_id == hotline_id, Referral.lane < Lane.CLOSED)
    before = db.scalar(
        base.where(key < here)
        .order_by(Referral.lane.desc(), Referral.created_on.desc(), Referral.id.desc())
        .limit(1)
    )
    after = db.scalar(
        base.where(key > here).order_by(Referral.lane, Referral.created_on, Referral.id).limit(1)
    )
    return Neighbours(before, after)
