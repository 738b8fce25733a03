"""The referral state machine hotline staff work through (DESIGN section 5).

Every action goes through one of the functions below, which check the transition against
:data:`TRANSITIONS`, change the statuses, add a timeline event and an audit event, and commit, all
in one transaction. A refused action changes nothing. :func:`allowed_actions` says, from the same
rules, what would be accepted now, so the portal offers exactly that.

Every action carries the referral's ``version`` it was decided on: if someone changed the referral
since, it is refused (:class:`ReferralChanged`) and nothing is written. Bulk actions run every item
through the same rules in one transaction: all are done, or none (:class:`BulkRefused`).

What the survivor sees: an event is visible to them only when a location's status changes (plus
an escalation, which tells them the hotline went further). Events never name a staff member; the
audit log says who did what.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar
from typing import cast

from sqlalchemy import CursorResult
from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import insert
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm import joinedload
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from ..errors import Refused
from ..models import MAX_ROW_ID
from ..models import Account
from ..models import AuditEvent
from ..models import InternalNote
from ..models import Location
from ..models import Message
from ..models import Notice
from ..models import NoticeLetter
from ..models import Referral
from ..models import ReferralEvent
from ..models import today
from ..models import utcnow
from ..people import audit
from ..routing import Directory
from ..routing import Hotline
from ..routing import ReasonCode
from ..routing.countries import checked_country
from ..text_input import checked_text
from ..transactions import committed
from ..vocabulary import ASSESSMENT_NOTICE_TYPES
from ..vocabulary import CHOSEN_CLOSE_REASONS
from ..vocabulary import FINAL_RESPONSES
from ..vocabulary import FINISHED_STATUSES
from ..vocabulary import HOTLINE_ROLES
from ..vocabulary import WAITING_STATUSES
from ..vocabulary import AccountStatus
from ..vocabulary import Assessment
from ..vocabulary import Category
from ..vocabulary import ChaseState
from ..vocabulary import CloseReason
from ..vocabulary import EventCode
from ..vocabulary import HarmfulSubtype
from ..vocabulary import Lane
from ..vocabulary import LocationAction
from ..vocabulary import LocationStatus
from ..vocabulary import MessageAuthor
from ..vocabulary import MinorAnswer
from ..vocabulary import NoticeType
from ..vocabulary import ProviderResponse
from ..vocabulary import ReferralStatus
from ..vocabulary import RerouteReason
from ..vocabulary import Responder
from ..vocabulary import StaffReason
from ..vocabulary import suggested_notice_type
from .deadlines import keep_due
from .delivery import enqueue_delivery
from .feed import stamp_referrals
from .provider_figures import count_notice
from .provider_figures import count_response

if TYPE_CHECKING:
    from ..services import Services

S, A = LocationStatus, LocationAction
V = TypeVar("V", bound=StrEnum)
# ICCAM action codes recorded alongside the statuses they map onto (DESIGN section 5).
ICCAM_ACTIONS = {
    S.NOTICE_SENT: "ISP",
    S.REMOVED: "CR",
    S.UNAVAILABLE: "CU",
    S.REFERRED: "Moved",
}
MAX_REFERENCE_LENGTH = 200
MAX_PROVIDER_LENGTH = 200
MAX_NOTE_LENGTH = 5000
# A hotline may reopen a referral it closed for this long (the survivor sees it reopened).
REOPEN_WITHIN = dt.timedelta(days=7)

# (location status, action) -> the status it leads to. Nothing else is allowed.
TRANSITIONS: dict[tuple[LocationStatus, LocationAction], LocationStatus] = {
    (S.RECEIVED, A.ACKNOWLEDGE): S.WITH_HOTLINE,
    (S.REFERRED, A.ACKNOWLEDGE): S.WITH_HOTLINE,
    (S.WITH_HOTLINE, A.ASSESS_ACTIONABLE): S.WITH_HOTLINE,
    (S.WITH_HOTLINE, A.ASSESS_NOT_ACTIONABLE): S.CLOSED,
    (S.WITH_HOTLINE, A.ASSESS_NOT_FOUND): S.UNAVAILABLE,
    (S.WITH_HOTLINE, A.NOTICE): S.NOTICE_SENT,
    (S.NOTICE_SENT, A.NOTICE): S.NOTICE_SENT,
    (S.NOT_REMOVED, A.NOTICE): S.NOTICE_SENT,
    (S.NOTICE_SENT, A.RESPONSE_REMOVED): S.REMOVED,
    (S.NOTICE_SENT, A.RESPONSE_REFUSED): S.NOT_REMOVED,
    (S.NOTICE_SENT, A.RESPONSE_NO_RESPONSE): S.NOTICE_SENT,
    (S.NOTICE_SENT, A.RESPONSE_NOT_FOUND): S.UNAVAILABLE,
    (S.NOTICE_SENT, A.ESCALATE): S.NOTICE_SENT,
    (S.NOT_REMOVED, A.ESCALATE): S.NOTICE_SENT,
    **{
        (status, action): target
        # Places without an outcome; a refusal (not_removed) stays on record as it is.
        for status in LocationStatus
        if status not in FINISHED_STATUSES
        for action, target in ((A.REROUTE, S.REFERRED), (A.CLOSE, S.CLOSED))
    },
    # Only for the places a referral's close closed, within REOPEN_WITHIN (see reopen).
    (S.CLOSED, A.REOPEN): S.WITH_HOTLINE,
}
# How an assessment moves a place.
ASSESSMENT_ACTIONS = {
    Assessment.CSAM: A.ASSESS_ACTIONABLE,
    Assessment.HARMFUL_ABUSIVE: A.ASSESS_ACTIONABLE,
    Assessment.NOT_ACTIONABLE: A.ASSESS_NOT_ACTIONABLE,
    Assessment.NOT_FOUND: A.ASSESS_NOT_FOUND,
}
RESPONSE_ACTIONS = {
    ProviderResponse.REMOVED: A.RESPONSE_REMOVED,
    ProviderResponse.REFUSED: A.RESPONSE_REFUSED,
    ProviderResponse.NO_RESPONSE: A.RESPONSE_NO_RESPONSE,
    ProviderResponse.NOT_FOUND: A.RESPONSE_NOT_FOUND,
}


class ActionRefused(Refused):
    """A staff action that is not allowed now, or whose input is wrong; nothing changed."""


class ReferralChanged(ActionRefused):
    """Someone changed the referral after the action was decided on; nothing was written. The
    events since ``since`` say what changed."""

    def __init__(self, referral_id: int, since: int) -> None:
        super().__init__("changed", since=str(since))
        self.referral_id = referral_id
        self.since = since


class BulkRefused(ActionRefused):
    """One or more items of a bulk action were refused, so none was done. ``items`` pairs each
    refused item (a reporting reference or a place id) with its refusal."""

    def __init__(self, items: list[tuple[int, ActionRefused]]) -> None:
        super().__init__("bulk_refused", count=str(len(items)))
        self.items = items


@dataclass(frozen=True)
class Staff:
    """Who acts: an account of one hotline."""

    account_id: int
    hotline_id: str

    @classmethod
    def of(cls, account: Account) -> Staff:
        if account.role not in HOTLINE_ROLES or not account.hotline_id:
            raise ActionRefused("not_staff")
        return cls(account.id, account.hotline_id)

    @property
    def actor(self) -> str:
        return audit.account_actor(self.account_id)


@dataclass(frozen=True)
class Automatic:
    """An action taken for a hotline by no signed-in person, through the same state machine: the
    chase (``actor="chase"``), a provider answering through its response link (``"provider"``),
    or the hotline's own case system through an API key (``"key:<id>:<name>"``)."""

    hotline_id: str
    actor: str


# Whoever acts on a referral.
Actor = Staff | Automatic


def next_status(status: LocationStatus, action: LocationAction) -> LocationStatus:
    """The status an action leads to, or :class:`ActionRefused` if it is not allowed."""
    target = TRANSITIONS.get((status, action))
    if target is None:
        raise ActionRefused("not_allowed", status=status, action=action)
    return target


# A referral with what every page and action reads of it, loaded up front: a fixed number of
# statements however many places it has.
_WHOLE_REFERRAL = (
    selectinload(Referral.locations).selectinload(Location.notices).joinedload(Notice.letter),
    selectinload(Referral.events),
    selectinload(Referral.notes),
    joinedload(Referral.case),
)


def referral_for_staff(db: Session, staff: Actor, referral_id: int) -> Referral | None:
    """The referral, if it is in this staff member's hotline's queue; None otherwise (the same
    answer as for a referral that does not exist)."""
    if not 0 < referral_id <= MAX_ROW_ID:
        return None
    # The hotline in the query itself: another hotline's referral is not even loaded, so it
    # answers as fast as one that does not exist.
    return db.scalar(
        select(Referral)
        .where(Referral.id == referral_id, Referral.hotline_id == staff.hotline_id)
        .options(*_WHOLE_REFERRAL)
    )


def referrals_for_staff(
    db: Session, staff: Staff | Automatic, referral_ids: Iterable[int]
) -> list[Referral]:
    """The ones of these referrals that are in this staff member's hotline's queue, loaded in a
    few statements however many there are (for bulk actions)."""
    wanted = {i for i in referral_ids if 0 < i <= MAX_ROW_ID}
    if not wanted:
        return []
    return list(
        db.scalars(
            select(Referral)
            .where(Referral.id.in_(wanted), Referral.hotline_id == staff.hotline_id)
            .options(*_WHOLE_REFERRAL)
        )
    )


def record_view(
    db: Session, staff: Actor, referral: Referral, action: str = "referral.viewed"
) -> None:
    """Every view of a referral's content is audited (DESIGN section 8)."""
    with committed(db):
        audit.record(db, staff.actor, action, "referral", referral.id, case_id=referral.case_id)


def _location(referral: Referral, location_id: int) -> Location:
    for location in referral.locations:
        if location.id == location_id:
            return location
    raise ActionRefused("unknown_location")


def _move(location: Location, action: LocationAction) -> bool:
    """Apply a transition to one location; True when its status changed."""
    target = next_status(location.status, action)
    changed = target != location.status
    location.status = target
    if changed:
        location.status_changed_on = today()
    return changed


def referral_flags(referral: Referral) -> tuple[bool, bool, bool, bool]:
    """Under 18 in the material, identifying information posted with it, a dark-web place, a place
    already reported in another open case."""
    case = referral.case
    return (
        case.minor_in_material == MinorAnswer.YES,
        Category.IDENTIFYING_INFORMATION in case.categories,
        any(
            reason.get("code") == ReasonCode.DARK_WEB
            for loc in referral.locations
            for reason in loc.route_reasons
        ),
        any(event.code == EventCode.ALREADY_REPORTED for event in referral.events),
    )


def category_bits(categories: Iterable[Category]) -> int:
    """The survivor's categories as bits, one per :class:`Category` in its order (a queue filter
    is then one integer test on the referral's row)."""
    order = list(Category)
    return sum(1 << order.index(category) for category in set(categories))


def refresh_referral_status(referral: Referral, *, answers_too: bool = True) -> None:
    """``received`` while any location waits for acknowledgement, ``referred`` while it waits
    after a move, ``closed`` once closed, else ``with_hotline``; and the columns the queue reads
    (lane, time left, flags, categories), kept with it. Without ``answers_too``, the flags and
    categories (from the survivor's answers and the timeline) are left as they are: for work
    that cannot change them, such as the chase."""
    statuses = {location.status for location in referral.locations}
    if referral.closed_reason:
        referral.status = ReferralStatus.CLOSED
    elif S.RECEIVED in statuses:
        referral.status = ReferralStatus.RECEIVED
    elif S.REFERRED in statuses:
        referral.status = ReferralStatus.REFERRED
    else:
        referral.status = ReferralStatus.WITH_HOTLINE
    referral.lane = (
        Lane.CLOSED
        if referral.status == ReferralStatus.CLOSED
        else Lane.WAITING
        if statuses & WAITING_STATUSES
        else Lane.OPEN
    )
    keep_due(referral)
    if not answers_too:
        return
    case = referral.case
    referral.category_bits = category_bits(case.categories)
    referral.suggested_notice_type = suggested_notice_type(case.categories)
    (
        referral.flag_minor,
        referral.flag_identifying,
        referral.flag_dark_web,
        referral.flag_already_reported,
    ) = referral_flags(referral)


def is_open(referral: Referral) -> bool:
    return referral.status != ReferralStatus.CLOSED


def _vocabulary(vocabulary: type[V], value: str | None, code: str) -> V:
    """``value`` as a member of ``vocabulary``, or :class:`ActionRefused` with ``code``."""
    try:
        return vocabulary(value or "")
    except ValueError:
        raise ActionRefused(code) from None


class _Work:
    """One staff action on one or more referrals: checks each referral's version, collects the
    timeline and audit events, and on :meth:`finish` raises every touched referral's version and
    commits, all in one transaction. Anything raised before that rolls everything back."""

    def __init__(self, db: Session, staff: Staff | Automatic, *, bulk: bool = False) -> None:
        self.db = db
        self.staff = staff
        self.touched: dict[int, Referral] = {}
        self.seen: dict[int, int] = {}  # the version each referral was taken at
        # For work on many referrals at once (the chase): timeline and audit events, and other
        # rows nothing reads back in this transaction, are written at the end, a statement per
        # table, instead of one ORM object each.
        self.bulk = bulk
        self.later: dict[Any, list[dict[str, Any]]] = {}
        # Referrals the work made (a re-route's, in the other hotline's queue): new in that
        # hotline's changes feed.
        self.made: list[Referral] = []

    def add_later(self, model: Any, row: dict[str, Any]) -> None:
        """A row to insert when the work finishes (only in bulk work)."""
        self.later.setdefault(model.__table__, []).append(row)

    def take(self, referral: Referral, version: int | None, *, must_be_open: bool = True) -> None:
        """Work on ``referral``; ``version`` is the one the action was decided on (None when the
        caller loaded it in this same transaction)."""
        if version is not None and version != referral.version:
            raise ReferralChanged(referral.id, version)
        if must_be_open and not is_open(referral):
            raise ActionRefused("referral_closed")
        self.touched[referral.id] = referral
        self.seen[referral.id] = referral.version

    def event(
        self,
        referral: Referral,
        code: EventCode,
        *,
        location: Location | None = None,
        visible: bool = True,
        **params: Any,
    ) -> None:
        if self.bulk:
            self.add_later(
                ReferralEvent,
                {
                    "referral_id": referral.id,
                    "code": code,
                    "location_id": location.id if location is not None else None,
                    "params": params,
                    "occurred_on": today(),
                    "visible_to_survivor": visible,
                    "referral_version": referral.version + 1,
                },
            )
            return
        referral.events.append(
            ReferralEvent(
                code=code,
                location_id=location.id if location is not None else None,
                params=params,
                occurred_on=today(),
                visible_to_survivor=visible,
                referral_version=referral.version + 1,
            )
        )

    def audit(self, referral: Referral, action: str, object_type: str, object_id: int) -> None:
        if self.bulk:
            self.add_later(
                AuditEvent,
                audit.row(
                    self.staff.actor, action, object_type, object_id, case_id=referral.case_id
                ),
            )
            return
        audit.record(
            self.db, self.staff.actor, action, object_type, object_id, case_id=referral.case_id
        )

    def finish(self) -> None:
        for referral in self.touched.values():
            # Bulk work (the chase) changes no answer and adds no flag: its referrals are
            # loaded without the case and the timeline.
            refresh_referral_status(referral, answers_too=not self.bulk)
            referral.version = referral.version + 1
        try:
            if len(self.touched) > 1:
                self._update_referrals_at_once()
            self.db.flush()
            for table, rows in self.later.items():
                self.db.execute(insert(table), rows)
            # Last: it takes the hotlines' feed numbers (see assistant.hotline.feed). The rows
            # are this transaction's already: each was written with its new version, or made.
            stamp_referrals(self.db, [*self.touched.values(), *self.made], locked=True)
        except StaleDataError:
            # Another action committed between our read and our write: refuse, write nothing,
            # and say what changed since the version this action was decided on.
            self.db.rollback()
            referral_id, seen = next(iter(self.seen.items()))
            raise ReferralChanged(referral_id, seen) from None
        self.db.commit()

    def _update_referrals_at_once(self) -> None:
        """Write the touched referrals' rows with one statement per shape of change, each row
        conditional on the version it was taken at; the ORM would write a versioned row per
        statement. Every row must match once (a row that changed meanwhile matches none), else
        :class:`StaleDataError`, as the ORM would raise."""
        table = cast(Table, Referral.__table__)
        keys = {column.key for column in table.columns if column.key != "id"}
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        written: list[tuple[Referral, dict[str, Any]]] = []
        for referral in self.touched.values():
            state = inspect(referral)
            # The attributes set since the row was loaded or flushed: the ORM keeps their old
            # values in ``committed_state`` (reading every column's history costs far more).
            changed: dict[str, Any] = {
                key: state.dict.get(key) for key in state.committed_state if key in keys
            }
            row: dict[str, Any] = {"_id": referral.id, "_seen": self.seen[referral.id]}
            row.update({f"_new_{key}": value for key, value in changed.items()})
            if not changed:
                continue  # written already, by an autoflush that checked its version too
            shapes.setdefault(tuple(sorted(changed)), []).append(row)
            written.append((referral, changed))
        connection = self.db.connection()
        for shape, rows in shapes.items():
            statement = (
                update(table)
                .where(table.c.id == bindparam("_id"), table.c.version == bindparam("_seen"))
                .values({key: bindparam(f"_new_{key}", type_=table.c[key].type) for key in shape})
            )
            result = connection.execute(statement, rows)
            if cast(CursorResult[Any], result).rowcount != len(rows):
                raise StaleDataError("a referral changed meanwhile")
        for referral, changed in written:
            for key, value in changed.items():
                set_committed_value(referral, key, value)


@contextmanager
def _work(db: Session, staff: Staff | Automatic, *, bulk: bool = False) -> Iterator[_Work]:
    work = _Work(db, staff, bulk=bulk)
    try:
        yield work
        work.finish()
    except BaseException:
        db.rollback()
        raise


def _each(items: Sequence[int], act: Callable[[int], None]) -> None:
    """Run ``act`` on every item; if any is refused, refuse them all, saying which and why."""
    if not items:
        raise ActionRefused("nothing_selected")
    refused: list[tuple[int, ActionRefused]] = []
    for item in dict.fromkeys(items):
        try:
            act(item)
        except ReferralChanged:
            raise
        except ActionRefused as refusal:
            refused.append((item, refusal))
    if len(refused) == 1 and len(items) == 1:
        raise refused[0][1]
    if refused:
        raise BulkRefused(refused)


def _acknowledge(work: _Work, referral: Referral, version: int | None) -> int:
    work.take(referral, version)
    waiting = [loc for loc in referral.locations if loc.status in WAITING_STATUSES]
    if not waiting:
        raise ActionRefused("nothing_to_acknowledge")
    for location in waiting:
        _move(location, A.ACKNOWLEDGE)
    work.event(referral, EventCode.WITH_HOTLINE, count=len(waiting))
    work.audit(referral, "referral.acknowledged", "referral", referral.id)
    return len(waiting)


def acknowledge(
    db: Session, staff: Actor, referral: Referral, *, version: int | None = None
) -> int:
    """Take the referral on: every location waiting for this hotline is now with it."""
    with _work(db, staff) as work:
        return _acknowledge(work, referral, version)


def acknowledge_many(
    db: Session, staff: Actor, chosen: Sequence[tuple[Referral, int | None]]
) -> int:
    """Acknowledge several referrals at once (each with the version it was chosen at): all of
    them, or, if any is refused, none; :class:`BulkRefused` names each refused one."""
    by_id = {referral.id: (referral, version) for referral, version in chosen}
    counted: list[int] = []
    with _work(db, staff) as work:
        _each(
            list(by_id),
            lambda referral_id: counted.append(_acknowledge(work, *by_id[referral_id])),
        )
    return len(counted)


def _check_assessment(
    assessment: str, subtype: str | None, hosting_country: str | None
) -> tuple[Assessment, HarmfulSubtype | None, str | None]:
    chosen = _vocabulary(Assessment, assessment, "bad_assessment")
    sub: HarmfulSubtype | None = None
    if chosen == Assessment.HARMFUL_ABUSIVE:
        sub = _vocabulary(HarmfulSubtype, subtype, "subtype_required")
    elif subtype:
        raise ActionRefused("subtype_only_for_harmful")
    try:
        country = checked_country(hosting_country)
    except ValueError:
        raise ActionRefused("bad_country") from None
    return chosen, sub, country


def assess_places(
    db: Session,
    staff: Actor,
    referral: Referral,
    location_ids: Sequence[int],
    assessment: str,
    subtype: str | None = None,
    hosting_country: str | None = None,
    *,
    version: int | None = None,
) -> int:
    """Record the hotline's assessment of one or more places of the referral.

    ``csam`` and ``harmful_abusive`` (with its sub-type a, b or c) make a place actionable;
    ``not_found`` makes it ``unavailable`` and ``not_actionable`` closes it, and the survivor sees
    either. All the places, or none.
    """
    chosen, sub, country = _check_assessment(assessment, subtype, hosting_country)
    with _work(db, staff) as work:
        work.take(referral, version)

        def assess_one(location_id: int) -> None:
            location = _location(referral, location_id)
            changed = _move(location, ASSESSMENT_ACTIONS[chosen])
            location.assessment = chosen
            location.assessment_subtype = sub
            location.hosting_country = country or location.hosting_country
            if changed and location.status == S.UNAVAILABLE:
                iccam = ICCAM_ACTIONS[S.UNAVAILABLE]
                work.event(referral, EventCode.UNAVAILABLE, location=location, iccam=iccam)
            elif changed:
                reason = CloseReason.NOT_ACTIONABLE
                work.event(referral, EventCode.CLOSED, location=location, reason=reason)
            else:
                work.event(
                    referral,
                    EventCode.ASSESSED,
                    location=location,
                    visible=False,
                    assessment=chosen,
                )
            work.audit(referral, "location.assessed", "location", location.id)

        _each(location_ids, assess_one)
    return len(set(location_ids))


def assess(
    db: Session,
    staff: Actor,
    referral: Referral,
    location_id: int,
    assessment: str,
    subtype: str | None = None,
    hosting_country: str | None = None,
    *,
    version: int | None = None,
) -> None:
    """Record the hotline's assessment of one place (see :func:`assess_places`)."""
    assess_places(
        db,
        staff,
        referral,
        [location_id],
        assessment,
        subtype,
        hosting_country,
        version=version,
    )


def notice_type_for(location: Location) -> NoticeType | None:
    """The notice type the place's assessment calls for; None until it is assessed as one."""
    return ASSESSMENT_NOTICE_TYPES.get(location.assessment) if location.assessment else None


def _own_notices(location: Location, hotline_id: str) -> list[Notice]:
    """Only the hotline that sent a notice sees it (a place moved on takes its notices along)."""
    return [notice for notice in location.notices if notice.hotline_id == hotline_id]


def _answerable(notice: Notice) -> bool:
    """A notice without a response yet (or with only "no response") can still be answered."""
    return notice.response in (None, ProviderResponse.NO_RESPONSE)


def record_notices(
    db: Session,
    services: Services,
    staff: Actor,
    referral: Referral,
    location_ids: Sequence[int],
    *,
    notice_type: str,
    provider: str,
    sent_on: dt.date,
    reference: str | None = None,
    escalation: bool = False,
    version: int | None = None,
) -> list[Notice]:
    """One removal notice to one provider (or, with ``escalation``, to its upstream provider) for
    one or more places of the referral: a notice record per place, all or none.

    Only for places assessed as ``csam`` or ``harmful_abusive``; a second notice is a re-notice.
    """
    chosen = _vocabulary(NoticeType, notice_type, "bad_notice_type")
    provider_name = checked_provider(provider)
    if sent_on > today():
        raise ActionRefused("date_in_future")
    reference_text = checked_text(
        reference, MAX_REFERENCE_LENGTH, field="reference", refuse=ActionRefused, multiline=False
    )
    sealed = services.cipher.seal(reference_text, "notice.reference") if reference_text else None
    # Only a provider the directory names is kept by name in clear (DESIGN section 8).
    named = services.directory.provider_named(provider_name)
    details = NoticeDetails(
        chosen,
        named.name if named else "",
        sent_on,
        sealed,
        escalation,
        provider_sealed=None if named else services.cipher.seal(provider_name, "notice.provider"),
    )
    with _work(db, staff) as work:
        work.take(referral, version)
        recorded = notice_places(work, referral, location_ids, details)
    return recorded


def checked_provider(provider: str | None) -> str:
    """A provider's name as staff typed it, or :class:`ActionRefused`."""
    name = checked_text(
        provider, MAX_PROVIDER_LENGTH, field="provider", refuse=ActionRefused, multiline=False
    )
    if name is None:
        raise ActionRefused("provider_required")
    return name


@dataclass(frozen=True)
class NoticeDetails:
    """What the notice records of the places it covers share."""

    notice_type: NoticeType
    provider: str
    sent_on: dt.date
    reference_sealed: bytes | None = None
    escalation: bool = False
    letter: NoticeLetter | None = None
    # The harmful/abusive sub-type the notice names (a notice recorded by hand names none).
    subtype: HarmfulSubtype | None = None
    # A provider the directory does not name, as staff typed it, sealed ("provider" is then "").
    provider_sealed: bytes | None = None


def notice_places(
    work: _Work, referral: Referral, location_ids: Sequence[int], details: NoticeDetails
) -> list[Notice]:
    """A notice record per place, through the state machine, with the timeline, the provider
    figures and the audit trail (all or none; the caller finishes ``work``)."""
    recorded: list[Notice] = []
    hotline_id = referral.hotline_id
    escalation = details.escalation

    def notice_one(location_id: int) -> None:
        location = _location(referral, location_id)
        allowed = notice_type_for(location)
        if allowed is None:
            raise ActionRefused("assess_first")
        if details.notice_type != allowed:
            raise ActionRefused("notice_type_mismatch")
        if details.subtype and location.assessment_subtype not in (None, details.subtype):
            raise ActionRefused("subtype_mismatch")
        if escalation and not _own_notices(location, hotline_id):
            raise ActionRefused("notice_first")
        if details.sent_on < location.added_on:
            raise ActionRefused("date_before_place")
        changed = _move(location, A.ESCALATE if escalation else A.NOTICE)
        for earlier in _own_notices(location, hotline_id):
            if earlier.chase in (ChaseState.ACTIVE, ChaseState.PAUSED, ChaseState.NO_ANSWER):
                # A newer notice is chased instead.
                earlier.chase = ChaseState.ESCALATED if escalation else ChaseState.STOPPED
                earlier.chase_since = details.sent_on
        notice = Notice(
            hotline_id=hotline_id,
            notice_type=details.notice_type,
            provider=details.provider,
            provider_sealed=details.provider_sealed,
            escalation=escalation,
            sent_on=details.sent_on,
            reference_sealed=details.reference_sealed,
            letter=details.letter,
            chase=ChaseState.ACTIVE if details.letter is not None else None,
            chase_since=details.sent_on if details.letter is not None else None,
        )
        location.notices.append(notice)
        recorded.append(notice)
        if escalation:
            work.event(referral, EventCode.ESCALATED, location=location)
        elif changed:
            iccam = ICCAM_ACTIONS[S.NOTICE_SENT]
            work.event(referral, EventCode.NOTICE_SENT, location=location, iccam=iccam)
        else:
            work.event(referral, EventCode.NOTICE_REPEATED, location=location, visible=False)

    _each(location_ids, notice_one)
    work.db.flush()
    for notice in recorded:
        count_notice(work.db, notice)
        action = (
            "notice.escalated"
            if escalation
            else "notice.repeated"
            if len(_own_notices(notice.location, hotline_id)) > 1
            else "notice.sent"
        )
        work.audit(referral, action, "notice", notice.id)
    return recorded


def record_notice(
    db: Session,
    services: Services,
    staff: Actor,
    referral: Referral,
    location_id: int,
    *,
    notice_type: str,
    provider: str,
    sent_on: dt.date,
    reference: str | None = None,
    escalation: bool = False,
    version: int | None = None,
) -> Notice:
    """A removal notice for one place (see :func:`record_notices`)."""
    return record_notices(
        db,
        services,
        staff,
        referral,
        [location_id],
        notice_type=notice_type,
        provider=provider,
        sent_on=sent_on,
        reference=reference,
        escalation=escalation,
        version=version,
    )[0]


def answer_notice(
    work: _Work,
    referral: Referral,
    notice: Notice,
    answer: ProviderResponse,
    on: dt.date,
    *,
    by: Responder = Responder.STAFF,
    note_sealed: bytes | None = None,
) -> None:
    """The provider's answer to one notice, through the state machine (the caller finishes
    ``work``). The survivor sees a removal, a refusal or that it is gone, never the provider's
    words; an answer through the provider's own link says so ("the site says")."""
    if not _answerable(notice):
        raise ActionRefused("already_answered")
    if on > today() or on < notice.sent_on:
        raise ActionRefused("bad_response_date")
    location = notice.location
    changed = _move(location, RESPONSE_ACTIONS[answer])
    notice.response = answer
    notice.response_on = on
    notice.responded_by = by
    notice.response_note_sealed = note_sealed
    if answer in FINAL_RESPONSES:
        for own in _own_notices(location, referral.hotline_id):
            if own.chase is not None and own.chase != ChaseState.STOPPED:
                own.chase = ChaseState.ANSWERED
    count_response(work.db, notice)
    said: dict[str, Any] = {"by": by.value} if by == Responder.PROVIDER else {}
    if changed and answer == ProviderResponse.REMOVED:
        work.event(
            referral,
            EventCode.REMOVED,
            location=location,
            iccam=ICCAM_ACTIONS[S.REMOVED],
            removed_on=on.isoformat(),
            **said,
        )
    elif changed and location.status == S.UNAVAILABLE:
        iccam = ICCAM_ACTIONS[S.UNAVAILABLE]
        work.event(referral, EventCode.UNAVAILABLE, location=location, iccam=iccam, **said)
    elif changed:
        work.event(referral, EventCode.NOT_REMOVED, location=location, **said)
    else:
        work.event(referral, EventCode.NO_RESPONSE, location=location, visible=False)
    work.audit(referral, "notice.response", "notice", notice.id)


def record_response(
    db: Session,
    staff: Actor,
    referral: Referral,
    notice_id: int,
    response: str,
    response_on: dt.date,
    *,
    version: int | None = None,
) -> None:
    """What the provider did about a notice: removed (on a date), refused, or no response."""
    answer = _vocabulary(ProviderResponse, response, "bad_response")
    with _work(db, staff) as work:
        work.take(referral, version)
        notice = next(
            (
                n
                for loc in referral.locations
                for n in _own_notices(loc, staff.hotline_id)
                if n.id == notice_id
            ),
            None,
        )
        if notice is None:
            raise ActionRefused("unknown_notice")
        answer_notice(work, referral, notice, answer, response_on)


def record_responses(
    db: Session,
    staff: Actor,
    referral: Referral,
    location_ids: Sequence[int],
    response: str,
    response_on: dt.date,
    *,
    version: int | None = None,
) -> int:
    """The provider's answer to the latest notice of each of several places, all or none."""
    answer = _vocabulary(ProviderResponse, response, "bad_response")
    with _work(db, staff) as work:
        work.take(referral, version)

        def answer_one(location_id: int) -> None:
            own = _own_notices(_location(referral, location_id), staff.hotline_id)
            if not own:
                raise ActionRefused("unknown_notice")
            answer_notice(work, referral, own[-1], answer, response_on)

        _each(location_ids, answer_one)
    return len(set(location_ids))


def _without_outcome(referral: Referral) -> list[Location]:
    return [loc for loc in referral.locations if loc.status not in FINISHED_STATUSES]


def reroute_targets(directory: Directory, referral: Referral) -> list[Hotline]:
    """The hotlines this referral can be passed to: every other one, by name."""
    return sorted(
        (h for h in directory.hotlines.values() if h.id != referral.hotline_id),
        key=lambda h: h.name.casefold(),
    )


def reroute(
    db: Session,
    services: Services,
    staff: Actor,
    referral: Referral,
    to_hotline_id: str,
    reason: str,
    *,
    version: int | None = None,
) -> Referral:
    """Pass every location without an outcome to another hotline, as a new referral in its queue.

    This hotline keeps its own referral: its notes, notices, messages and the places that have an
    outcome stay with it, and the other hotline sees none of them. When nothing is left here, the
    referral closes. The survivor sees ``referred`` and where the places went.
    """
    with _work(db, staff) as work:
        work.take(referral, version)
        target = services.directory.get(to_hotline_id)
        if target is None:
            raise ActionRefused("unknown_hotline")
        if target.id == referral.hotline_id:
            raise ActionRefused("same_hotline")
        why = _vocabulary(RerouteReason, reason, "bad_reason")
        moving = _without_outcome(referral)
        if not moving:
            raise ActionRefused("nothing_to_move")
        moved = Referral(hotline_id=target.id, status=ReferralStatus.REFERRED, created_on=today())
        referral.case.referrals.append(moved)
        for location in moving:
            _move(location, A.REROUTE)
            location.route_reasons = [
                *location.route_reasons,
                {
                    "code": StaffReason.STAFF_REROUTED,
                    "params": {"hotline": target.id, "from": referral.hotline_id, "reason": why},
                },
            ]
            location.referral = moved
        work.event(
            referral,
            EventCode.REFERRED,
            iccam=ICCAM_ACTIONS[S.REFERRED],
            hotline=target.id,
            reason=why,
            count=len(moving),
        )
        moved.events.append(
            ReferralEvent(
                code=EventCode.PASSED_HERE,
                params={"count": len(moving), "hotline": referral.hotline_id, "reason": why},
                occurred_on=today(),
                visible_to_survivor=True,
                referral_version=1,
            )
        )
        if not referral.locations:
            referral.closed_reason = CloseReason.MOVED
            referral.closed_on = today()
        refresh_referral_status(moved)
        work.made.append(moved)
        enqueue_delivery(db, services.endpoints, moved)
        db.flush()
        work.audit(referral, "referral.rerouted", "referral", referral.id)
    return moved


def close(
    db: Session, staff: Actor, referral: Referral, reason: str, *, version: int | None = None
) -> None:
    """Close the referral; any location without an outcome is closed too, with this reason."""
    why = _vocabulary(CloseReason, reason, "bad_reason")
    if why not in CHOSEN_CLOSE_REASONS:
        raise ActionRefused("bad_reason")
    with _work(db, staff) as work:
        work.take(referral, version)
        for location in _without_outcome(referral):
            _move(location, A.CLOSE)
            work.event(referral, EventCode.CLOSED, location=location, reason=why)
        referral.closed_reason = why
        referral.closed_on = today()
        work.event(referral, EventCode.REFERRAL_CLOSED, visible=False, reason=why)
        work.audit(referral, "referral.closed", "referral", referral.id)


def reopen_until(referral: Referral) -> dt.date | None:
    """The last day this hotline may reopen the closed referral; None when it cannot be."""
    if is_open(referral) or referral.closed_reason not in CHOSEN_CLOSE_REASONS:
        return None
    if referral.closed_on is None or not referral.locations:
        return None
    return referral.closed_on + REOPEN_WITHIN


def reopen(db: Session, staff: Actor, referral: Referral, *, version: int | None = None) -> int:
    """Reopen a referral this hotline closed, within :data:`REOPEN_WITHIN`: the places the close
    closed are with the hotline again, and the survivor sees it reopened."""
    with _work(db, staff) as work:
        work.take(referral, version, must_be_open=False)
        until = reopen_until(referral)
        if until is None:
            raise ActionRefused("cannot_reopen")
        if today() > until:
            raise ActionRefused("reopen_too_late")
        closing = max(
            (e.referral_version for e in referral.events if e.code == EventCode.REFERRAL_CLOSED),
            default=0,
        )
        closed_by_it = {
            e.location_id
            for e in referral.events
            if e.code == EventCode.CLOSED and e.referral_version == closing and closing
        }
        reopened = [
            loc for loc in referral.locations if loc.status == S.CLOSED and loc.id in closed_by_it
        ]
        for location in reopened:
            _move(location, A.REOPEN)
        referral.closed_reason = None
        referral.closed_on = None
        work.event(referral, EventCode.REFERRAL_REOPENED, count=len(reopened))
        work.audit(referral, "referral.reopened", "referral", referral.id)
    return len(reopened)


def colleagues(db: Session, staff: Actor) -> list[Account]:
    """The active accounts of this hotline that work its referrals, by e-mail."""
    return list(
        db.scalars(
            select(Account)
            .where(
                Account.hotline_id == staff.hotline_id,
                Account.role.in_(HOTLINE_ROLES),
                Account.status == AccountStatus.ACTIVE,
            )
            .order_by(Account.email)
        )
    )


def _assign(work: _Work, referral: Referral, account_id: int | None, version: int | None) -> None:
    work.take(referral, version)
    if account_id is not None:
        account = work.db.get(Account, account_id)
        # A colleague of the same hotline, still active; anyone else is refused as unknown.
        if (
            account is None
            or account.hotline_id != work.staff.hotline_id
            or account.role not in HOTLINE_ROLES
            or account.status != AccountStatus.ACTIVE
        ):
            raise ActionRefused("unknown_colleague")
    if referral.assigned_to == account_id:
        raise ActionRefused("already_assigned" if account_id else "not_assigned")
    referral.assigned_to = account_id
    if account_id is None:
        work.event(referral, EventCode.UNASSIGNED, visible=False)
        work.audit(referral, "referral.unassigned", "referral", referral.id)
    else:
        work.event(referral, EventCode.ASSIGNED, visible=False)
        work.audit(referral, "referral.assigned", "referral", referral.id)
        work.audit(referral, "referral.assigned_to", "account", account_id)


def assign(
    db: Session,
    staff: Actor,
    referral: Referral,
    account_id: int | None,
    *,
    version: int | None = None,
) -> None:
    """Give the referral to a colleague of this hotline (or to oneself); ``None`` unassigns.
    Audited: who assigned, and to whom."""
    with _work(db, staff) as work:
        _assign(work, referral, account_id, version)


def assign_many(
    db: Session,
    staff: Actor,
    chosen: Sequence[tuple[Referral, int | None]],
    account_id: int | None,
) -> int:
    """Assign several referrals at once: all, or none with each refusal named."""
    by_id = {referral.id: (referral, version) for referral, version in chosen}
    with _work(db, staff) as work:
        _each(
            list(by_id),
            lambda referral_id: _assign(
                work, by_id[referral_id][0], account_id, by_id[referral_id][1]
            ),
        )
    return len(by_id)


def changes_since(referral: Referral, version: int) -> list[ReferralEvent]:
    """What happened to the referral after ``version``: shown when an action is refused because
    someone else changed it meanwhile."""
    return [e for e in referral.events if e.referral_version > version]


def message_survivor(
    db: Session,
    services: Services,
    staff: Actor,
    referral: Referral,
    body: str,
    *,
    also: Callable[[Message], None] | None = None,
) -> Message:
    """A message from the hotline; it appears on the survivor's status page, unsigned.
    ``also`` adds to the same transaction once the message has its id."""
    limit = services.settings.max_message_length
    text = checked_text(body, limit, field="message", refuse=ActionRefused)
    if text is None:
        raise ActionRefused("empty")
    with committed(db):
        message = Message(
            case_id=referral.case_id,
            referral_id=referral.id,
            author=MessageAuthor.HOTLINE,
            body_sealed=services.cipher.seal(text, "message.body"),
            sent_on=today(),
        )
        db.add(message)
        db.flush()
        audit.record(
            db, staff.actor, "message.sent", "message", message.id, case_id=referral.case_id
        )
        if also is not None:
            also(message)
        stamp_referrals(db, [referral])
    return message


def add_internal_note(
    db: Session, services: Services, staff: Staff, referral: Referral, body: str
) -> InternalNote:
    """A note for the hotline's staff only; never shown to the survivor."""
    text = checked_text(body, MAX_NOTE_LENGTH, field="note", refuse=ActionRefused)
    if text is None:
        raise ActionRefused("empty")
    with committed(db):
        note = InternalNote(
            account_id=staff.account_id,
            body_sealed=services.cipher.seal(text, "note.body"),
            written_at=utcnow(),
        )
        referral.notes.append(note)
        db.flush()
        audit.record(db, staff.actor, "note.added", "note", note.id, case_id=referral.case_id)
        stamp_referrals(db, [referral])
    return note


# --- what the portal offers: exactly what the functions above would accept now ---


@dataclass(frozen=True)
class PlaceActions:
    """What may be done to one place now."""

    assess: bool
    # The notice type a notice may be recorded with now; None when no notice may be.
    notice: NoticeType | None
    # A notice now would follow an earlier one of this hotline's (a re-notice).
    renotice: bool
    escalate: bool
    # This hotline's notices about the place that may still get a response.
    answerable: frozenset[int]


@dataclass(frozen=True)
class ReferralActions:
    """What may be done to a referral and its places now."""

    acknowledge: bool
    reroute: bool
    close: bool
    places: Mapping[int, PlaceActions]
    # The last day the closed referral may be reopened; None when it cannot be (any more).
    reopen_until: dt.date | None = None


def _place_actions(location: Location, hotline_id: str) -> PlaceActions:
    own = _own_notices(location, hotline_id)
    possible = {action for (status, action) in TRANSITIONS if status == location.status}
    responses = set(RESPONSE_ACTIONS.values())
    return PlaceActions(
        assess=A.ASSESS_ACTIONABLE in possible,
        notice=notice_type_for(location) if A.NOTICE in possible else None,
        renotice=bool(own),
        escalate=A.ESCALATE in possible and bool(own),
        answerable=frozenset(
            notice.id for notice in own if _answerable(notice) and responses <= possible
        ),
    )


def allowed_actions(referral: Referral, hotline_id: str) -> ReferralActions:
    """Everything staff of ``hotline_id`` may do to this referral now; a closed referral takes
    nothing."""
    if not is_open(referral):
        until = reopen_until(referral)
        return ReferralActions(
            False,
            False,
            False,
            {loc.id: _CLOSED for loc in referral.locations},
            until if until is not None and until >= today() else None,
        )
    return ReferralActions(
        acknowledge=any(loc.status in WAITING_STATUSES for loc in referral.locations),
        reroute=bool(_without_outcome(referral)),
        close=True,
        places={loc.id: _place_actions(loc, hotline_id) for loc in referral.locations},
    )


_CLOSED = PlaceActions(False, None, False, False, frozenset())
