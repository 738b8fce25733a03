"""From a validated request to a case, its locations and referrals, in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING

from sqlalchemy import case as sql_case
from sqlalchemy import distinct
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import Refused
from ..hotline.delivery import enqueue_delivery
from ..hotline.feed import stamp_referrals
from ..hotline.places import host_columns
from ..hotline.referrals import is_open
from ..hotline.referrals import refresh_referral_status
from ..models import Case
from ..models import CaseAccess
from ..models import Location
from ..models import Referral
from ..models import ReferralEvent
from ..models import today
from ..people import audit
from ..people.advocates import Consent
from ..people.advocates import seal_consent
from ..routing import Hotline
from ..routing import LocationRejected
from ..routing import NormalisedLocation
from ..routing import Reason
from ..routing import RouteDecision
from ..routing import normalise_location
from ..routing import route_location
from ..routing.countries import checked_country
from ..routing.engine import needs_resolver
from ..routing.engine import place_key
from ..routing.resolver import StaticResolver
from ..transactions import committed
from ..vocabulary import FINISHED_STATUSES
from ..vocabulary import AccessOrigin
from ..vocabulary import Category
from ..vocabulary import EventCode
from ..vocabulary import FiledBy
from ..vocabulary import LocationStatus
from ..vocabulary import MinorAnswer
from ..vocabulary import ReferralStatus
from ..vocabulary import WebhookEvent
from ..vocabulary import member
from .receipts import CaseNumber
from .receipts import Passphrase
from .receipts import new_case_number
from .receipts import new_passphrase

if TYPE_CHECKING:
    from ..services import Services


class IntakeError(Refused):
    """The request as a whole cannot be accepted (``code`` says why); nothing was stored."""


@dataclass(frozen=True)
class LocationEntry:
    """One location as a person gave it, before any checking."""

    kind: str
    value: str
    note: str | None = None
    platform: str | None = None


@dataclass(frozen=True)
class Rejection:
    """Why entry number ``position`` (1-based, in the order given) could not be used."""

    position: int
    code: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class LocationBatch:
    accepted: list[NormalisedLocation] = field(default_factory=list)
    # For each accepted location, the 1-based positions of every entry that named it.
    positions: list[list[int]] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    duplicates: int = 0


def collect_locations(
    entries: Sequence[LocationEntry],
    *,
    max_locations: int,
    max_value_length: int,
    max_note_length: int,
    already: Sequence[NormalisedLocation] = (),
) -> LocationBatch:
    """Normalise, de-duplicate (also against ``already``) and cap a list of entries."""
    batch = LocationBatch()
    seen = {location.canonical for location in already}
    accepted_at: dict[str, int] = {}
    room = max_locations - len(already)
    for position, entry in enumerate(entries, start=1):
        try:
            location = normalise_location(
                entry.kind,
                entry.value,
                note=entry.note,
                platform=entry.platform,
                max_value_length=max_value_length,
                max_note_length=max_note_length,
            )
        except LocationRejected as rejected:
            batch.rejections.append(Rejection(position, rejected.code, rejected.params))
            continue
        if location.canonical in seen:
            batch.duplicates += 1
            if location.canonical in accepted_at:
                batch.positions[accepted_at[location.canonical]].append(position)
            continue
        if len(batch.accepted) >= room:
            batch.rejections.append(
                Rejection(position, "too_many_locations", {"limit": str(max_locations)})
            )
            continue
        seen.add(location.canonical)
        accepted_at[location.canonical] = len(batch.accepted)
        batch.accepted.append(location)
        batch.positions.append([position])
    return batch


def collect_within_limits(
    entries: Sequence[LocationEntry],
    services: Services,
    already: Sequence[NormalisedLocation] = (),
) -> LocationBatch:
    """:func:`collect_locations` with the limits of the settings."""
    settings = services.settings
    return collect_locations(
        entries,
        max_locations=settings.max_locations,
        max_value_length=settings.max_value_length,
        max_note_length=settings.max_note_length,
        already=already,
    )


@dataclass(frozen=True)
class PlannedReferral:
    """Where a group of locations goes: indexes into the list given, with each one's reasons."""

    hotline: Hotline
    location_indexes: tuple[int, ...]
    reasons: tuple[tuple[Reason, ...], ...]


def plan_routes(
    locations: Sequence[NormalisedLocation],
    services: Services,
    survivor_country: str | None,
) -> list[PlannedReferral]:
    """Route every location and group them by hotline, in the order they were given.

    With a resolver configured, the hosts that need it are looked up together first, within one
    time budget.
    """
    resolver: StaticResolver | None = None
    if services.resolver is not None:
        hosts = [
            location.host
            for location in locations
            if location.host and needs_resolver(location, services.directory)
        ]
        if hosts:
            resolver = StaticResolver(services.resolver.countries_for(hosts))
    grouped: dict[str, tuple[Hotline, list[int], list[tuple[Reason, ...]]]] = {}
    for index, location in enumerate(locations):
        decision = route_location(
            location,
            services.directory,
            survivor_country=survivor_country,
            resolver=resolver,
        )
        _hotline, indexes, reasons = grouped.setdefault(
            decision.hotline.id, (decision.hotline, [], [])
        )
        indexes.append(index)
        reasons.append(decision.reasons)
    return [
        PlannedReferral(hotline, tuple(indexes), tuple(reasons))
        for hotline, indexes, reasons in grouped.values()
    ]


def dry_run_routes(
    locations: Sequence[NormalisedLocation], services: Services, survivor_country: str | None
) -> list[RouteDecision]:
    """Where each location would go, in the order given. Stores nothing, and never asks the
    resolver: a public dry run must not make the server look anything up for whoever asks."""
    return [
        route_location(location, services.directory, survivor_country=survivor_country)
        for location in locations
    ]


@dataclass(frozen=True)
class IntakeRequest:
    """A request as a survivor or an advocate made it, its answers already in the vocabularies;
    :meth:`validate` checks what only the whole request can tell."""

    locations: Sequence[NormalisedLocation]
    categories: frozenset[Category] = frozenset()
    minor_in_material: MinorAnswer | None = None
    survivor_country: str | None = None
    language: str = "en"
    filed_by: FiledBy = FiledBy.SURVIVOR
    submission_key: str | None = None
    # For a request an advocate files: their account and the survivor's consent.
    advocate_id: int | None = None
    consent: Consent | None = None

    def __post_init__(self) -> None:
        # Answers can arrive as plain strings (from a form, a session, a caller): each is made a
        # member of its vocabulary here, so that one outside it is refused before anything else.
        try:
            object.__setattr__(self, "categories", frozenset(map(Category, self.categories)))
        except ValueError:
            raise IntakeError("unknown_category") from None
        if self.minor_in_material is not None:
            minor = member(MinorAnswer, self.minor_in_material)
            if minor is None:
                raise IntakeError("bad_minor_answer")
            object.__setattr__(self, "minor_in_material", minor)

    def validate(self, services: Services) -> None:
        check_location_count(len(self.locations), services.settings.max_locations)
        try:
            checked_country(self.survivor_country)
        except ValueError:
            raise IntakeError("bad_country") from None
        by_advocate = self.filed_by == FiledBy.ADVOCATE
        if by_advocate != (self.advocate_id is not None) or (by_advocate and self.consent is None):
            raise IntakeError("bad_filed_by")


def check_location_count(count: int, limit: int) -> None:
    """A request holds at least one place and at most ``limit`` (the setting)."""
    if count < 1:
        raise IntakeError("no_locations")
    if count > limit:
        raise IntakeError("too_many_locations", limit=str(limit))


@dataclass(frozen=True)
class FiledRequest:
    case: Case
    case_number: CaseNumber
    # The passphrase to show, once; None when nobody is to hold one (an advocate filed, and the
    # survivor wants no receipt of their own).
    passphrase: Passphrase | None
    referrals: list[PlannedReferral]


def _store_locations(
    db: Session,
    services: Services,
    case: Case,
    locations: Sequence[NormalisedLocation],
    plan: Sequence[PlannedReferral],
    on: dt.date,
) -> None:
    cipher, hasher = services.cipher, services.keyed_hasher
    open_referrals = {r.hotline_id: r for r in case.referrals if is_open(r)}
    start = len(case.locations)
    keys = [place_key(loc, services.directory) for loc in locations]
    hashes = [hasher.digest(key, "location") for key in keys]
    # While the hash key changes, a place listed before may still carry the old key's hash.
    older = {
        old: new
        for key, new in zip(keys, hashes, strict=True)
        for old in hasher.digests(key, "location")[1:]
    }
    elsewhere = open_cases_listing(db, hashes, exclude_case_id=case.id, older=older)
    flagged: list[tuple[Referral, Location, int]] = []
    touched: list[Referral] = []
    for planned in plan:
        referral = open_referrals.get(planned.hotline.id)
        is_new = referral is None
        if referral is None:
            referral = Referral(
                hotline_id=planned.hotline.id, status=ReferralStatus.RECEIVED, created_on=on
            )
            case.referrals.append(referral)
        for index, reasons in zip(planned.location_indexes, planned.reasons, strict=True):
            location = locations[index]
            row = Location(
                position=start + index,
                kind=location.kind,
                value_sealed=cipher.seal(location.value, "location.value"),
                note_sealed=cipher.seal(location.note, "location.note") if location.note else None,
                platform_sealed=(
                    cipher.seal(location.platform, "location.platform")
                    if location.platform
                    else None
                ),
                value_hash=hashes[index],
                **host_columns(cipher, services.directory, location),
                route_reasons=[reason.as_dict() for reason in reasons],
                status=LocationStatus.RECEIVED,
                added_on=on,
                status_changed_on=on,
            )
            case.locations.append(row)
            referral.locations.append(row)
            if elsewhere.get(hashes[index]):
                flagged.append((referral, row, elsewhere[hashes[index]]))
        if not is_new:
            referral.version += 1  # staff looking at it now see it changed
        touched.append(referral)
        enqueue_delivery(
            db,
            services.endpoints,
            referral,
            WebhookEvent.CREATED if is_new else WebhookEvent.PLACES_ADDED,
        )
        referral.events.append(
            ReferralEvent(
                code=EventCode.ROUTED if is_new else EventCode.LOCATIONS_ADDED,
                params={"count": len(planned.location_indexes), "hotline": planned.hotline.id},
                occurred_on=on,
                visible_to_survivor=True,
            )
        )
    if flagged:
        db.flush()  # the new locations need their ids
        for referral, row, count in flagged:
            referral.events.append(
                ReferralEvent(
                    code=EventCode.ALREADY_REPORTED,
                    location_id=row.id,
                    params={"open_cases": count},
                    occurred_on=on,
                    # Never shown to the survivor: it would let anyone probe whether a link has
                    # been reported.
                    visible_to_survivor=False,
                )
            )
    for referral in touched:
        refresh_referral_status(referral)  # new places wait for the hotline; the queue's columns
    db.flush()
    stamp_referrals(db, touched)  # last: the hotlines' changes feeds (assistant.hotline.feed)


def open_cases_listing(
    db: Session,
    value_hashes: Sequence[str],
    *,
    exclude_case_id: int | None,
    older: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """For each keyed hash: how many other cases list that place while it is still open (not
    removed, gone or closed). One query for the whole batch; nothing is decrypted.

    ``older`` maps a place's hash under a previous hash key to its hash under the current one
    (while the hash key changes: assistant.key_rotation): a row with either is that place."""
    if not value_hashes:
        return {}
    place = (
        sql_case(dict(older), value=Location.value_hash, else_=Location.value_hash)
        if older
        else Location.value_hash
    )
    query = (
        select(place.label("place"), func.count(distinct(Location.case_id)))
        .where(Location.value_hash.in_(set(value_hashes) | set(older or {})))
        .where(Location.status.not_in(FINISHED_STATUSES))
        .group_by("place")
    )
    if exclude_case_id is not None:
        query = query.where(Location.case_id != exclude_case_id)
    return {value_hash: int(count) for value_hash, count in db.execute(query)}


def file_request(
    db: Session,
    services: Services,
    request: IntakeRequest,
    *,
    on_filed: Callable[[FiledRequest], None] | None = None,
) -> FiledRequest:
    """Create the case, its locations and referrals in one transaction and return the receipt.

    The passphrase in the result is the only copy that will ever exist in readable form (but for
    ``on_filed``, called inside the filing's transaction, which may keep the answer sealed for a
    retry: see assistant.cases.replays).
    """
    request.validate(services)
    if request.submission_key is not None and _already_filed(db, request.submission_key):
        raise IntakeError("already_sent")
    on = today()
    country = checked_country(request.survivor_country)
    passphrase = new_passphrase()
    plan = plan_routes(request.locations, services, country)
    passphrase_hash = services.passphrases.hash(passphrase)
    for _attempt in range(5):
        case_number = new_case_number()
        case = Case(
            case_number=case_number,
            passphrase_hash=passphrase_hash,
            language=request.language,
            survivor_country=country,
            categories=sorted(request.categories),
            minor_in_material=request.minor_in_material,
            filed_by=request.filed_by,
            submission_key=request.submission_key,
            created_on=on,
            retain_until=on + dt.timedelta(days=services.settings.retention_days),
            consent_sealed=(
                seal_consent(services.cipher, request.consent) if request.consent else None
            ),
            # A receipt an advocate hands over is replaced at the survivor's first sign-in.
            must_change_passphrase=bool(request.consent and request.consent.survivor_receipt),
        )
        db.add(case)
        actor = audit.SURVIVOR
        if request.advocate_id is not None:
            case.advocates.append(
                CaseAccess(
                    account_id=request.advocate_id,
                    origin=AccessOrigin.FILED,
                    granted_on=on,
                    messages_read_up_to=0,
                )
            )
            actor = audit.account_actor(request.advocate_id)
        handed_to_nobody = request.consent is not None and not request.consent.survivor_receipt
        filed = FiledRequest(case, case_number, None if handed_to_nobody else passphrase, plan)
        try:
            with committed(db):
                if on_filed is not None:
                    on_filed(filed)  # first: the feeds' numbers stay the last statement
                _store_locations(db, services, case, request.locations, plan, on)
                db.flush()
                audit.record_on_case(db, actor, "case.filed", case.id)
        except IntegrityError:
            if request.submission_key is not None and _already_filed(db, request.submission_key):
                raise IntakeError("already_sent") from None  # a double submit that lost the race
            continue  # a case number collision (40 random bits): try another one
        return filed
    raise IntakeError("could_not_allocate_case_number")


@dataclass(frozen=True)
class AddedLocations:
    """``plan`` indexes into the new places only; ``kept[i]`` is that place's index in the input."""

    plan: list[PlannedReferral]
    kept: list[int]


def add_locations(
    db: Session, services: Services, case: Case, locations: Sequence[NormalisedLocation]
) -> AddedLocations:
    """Route more locations for an existing case, joining open referrals to the same hotline.

    Places the case already lists (same keyed hash) are left out; if nothing new remains, that
    is an error of its own.
    """
    check_location_count(len(locations), services.settings.max_locations)
    listed = {row.value_hash for row in case.locations}
    kept = [
        index
        for index, location in enumerate(locations)
        # Under the current hash key, or a previous one while the key changes.
        if listed.isdisjoint(
            services.keyed_hasher.digests(place_key(location, services.directory), "location")
        )
    ]
    if not kept:
        raise IntakeError("already_listed")
    fresh = [locations[index] for index in kept]
    check_location_count(len(case.locations) + len(fresh), services.settings.max_locations)
    plan = plan_routes(fresh, services, case.survivor_country)
    with committed(db):
        _store_locations(db, services, case, fresh, plan, today())
        audit.record_on_case(db, audit.SURVIVOR, "case.locations_added", case.id)
    return AddedLocations(plan, kept)


def _already_filed(db: Session, submission_key: str) -> bool:
    found = db.scalar(select(Case.id).where(Case.submission_key == submission_key))
    return found is not None
