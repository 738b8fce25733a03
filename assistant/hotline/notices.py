"""Notices the app writes, sends and answers for (DESIGN section 6b).

A hotline's analyst composes a notice from the workbench for one or more places of a referral at
one provider: the notice type the assessment allows, a recipient from the directory's notice
contacts (or one they type), a preview, then :func:`send_notice`, which records a notice per place
through the referral state machine and puts the message in the outbox, in one transaction. The
delivery worker builds the message when it sends it (:func:`notice_message`): the hotline's
identity, the notice type in the framework's words, each place exactly as reported, what is
asked, the reference and a signed response link. It never carries anything about the survivor:
no case number, answer, country, message or note.

The response link (:func:`link_token`, :func:`open_link`) needs no account: it is bound to one
notice and works until every place in it has a final answer, or for :data:`LINK_VALID_FOR`. A
provider's answers (:func:`answer_by_provider`) go through the state machine as the provider's
actions.

The chase that reminds and escalates is :mod:`assistant.hotline.chase`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from itsdangerous import BadSignature
from itsdangerous import URLSafeSerializer
from sqlalchemy.orm import Session

from ..models import HotlineSettings
from ..models import InternalNote
from ..models import Location
from ..models import Notice
from ..models import NoticeLetter
from ..models import OutboxItem
from ..models import Referral
from ..models import today
from ..models import utcnow
from ..people import audit
from ..routing import Hotline
from ..routing import Provider
from ..text_input import checked_text
from ..vocabulary import FINAL_RESPONSES
from ..vocabulary import ChaseHold
from ..vocabulary import ChaseState
from ..vocabulary import EventCode
from ..vocabulary import HarmfulSubtype
from ..vocabulary import LocationStatus
from ..vocabulary import NoticeChannel
from ..vocabulary import NoticeType
from ..vocabulary import OutboxStatus
from ..vocabulary import ProviderResponse
from ..vocabulary import Responder
from .channels import EMAIL_ADDRESS
from .notice_mail import LINK_SALT
from .notice_mail import ChaseSettings
from .notice_mail import NoticeParts
from .notice_mail import NoticeText
from .notice_mail import chase_pace
from .notice_mail import chase_settings
from .notice_mail import compose_text
from .notice_mail import letter_provider
from .notice_mail import load_letters
from .notice_mail import notice_language
from .notice_mail import notice_reference
from .notice_mail import standing_for
from .places import stored_host
from .referrals import ActionRefused
from .referrals import Actor
from .referrals import Automatic
from .referrals import NoticeDetails
from .referrals import _each
from .referrals import _location
from .referrals import _vocabulary
from .referrals import _Work
from .referrals import _work
from .referrals import answer_notice
from .referrals import checked_provider
from .referrals import notice_places

if TYPE_CHECKING:
    from ..services import Services

MIN_CHASE_HOURS, MAX_CHASE_HOURS = 1, 24 * 14
MAX_REMINDER_LIMIT = 10
LINK_VALID_FOR = dt.timedelta(days=60)
# What a preview shows for the reference and the link: they exist once the notice is sent.
PREVIEW_REFERENCE = notice_reference(0).removesuffix("0") + "…"
MAX_ANSWER_LENGTH = 2000


def checked_email(value: str | None, code: str = "bad_email") -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if not EMAIL_ADDRESS.fullmatch(text):
        raise ActionRefused(code)
    return text


def save_chase_settings(
    db: Session,
    hotline_id: str,
    actor: str,
    *,
    chase_hours: int | None,
    reminder_limit: int | None,
    contact_email: str | None,
) -> ChaseSettings:
    """A hotline administrator sets how the chase runs and where providers reply. Audited (what
    changed is not recorded: only that the settings did)."""
    if chase_hours is None or not MIN_CHASE_HOURS <= chase_hours <= MAX_CHASE_HOURS:
        raise ActionRefused("bad_chase_hours", low=str(MIN_CHASE_HOURS), high=str(MAX_CHASE_HOURS))
    if reminder_limit is None or not 0 <= reminder_limit <= MAX_REMINDER_LIMIT:
        raise ActionRefused("bad_reminder_limit", high=str(MAX_REMINDER_LIMIT))
    contact = checked_email(contact_email, "bad_contact")
    row = db.get(HotlineSettings, hotline_id) or HotlineSettings(hotline_id=hotline_id)
    row.chase_hours = chase_hours
    row.reminder_limit = reminder_limit
    row.contact_email = contact
    row.updated_on = today()
    db.add(row)
    audit.record(db, actor, "hotline.settings_changed", "hotline_settings", None)
    db.commit()
    return chase_settings(db, hotline_id)


# --- where a place's notice goes ---


def place_provider(services: Services, location: Location) -> Provider | None:
    """The directory's provider for a place: by its host, or by the platform the survivor
    named (an account or a group)."""
    directory = services.directory
    found = directory.provider_for_host(
        stored_host(services.cipher, location) or location.registrable_domain
    )
    if found is None and location.platform_sealed is not None:
        found = directory.provider_named(
            services.cipher.open(location.platform_sealed, "location.platform")
        )
    return found


@dataclass(frozen=True)
class ProviderGroup:
    """Places of one referral that go to the same provider (None: not in the directory)."""

    provider: Provider | None
    location_ids: tuple[int, ...]


def provider_groups(services: Services, referral: Referral) -> list[ProviderGroup]:
    groups: dict[str | None, list[int]] = {}
    providers: dict[str | None, Provider | None] = {}
    for location in referral.locations:
        provider = place_provider(services, location)
        key = provider.id if provider else None
        providers[key] = provider
        groups.setdefault(key, []).append(location.id)
    return [ProviderGroup(providers[key], tuple(ids)) for key, ids in groups.items()]


# --- composing and sending ---


@dataclass(frozen=True)
class Draft:
    """A notice as the analyst previews it before it goes."""

    provider: Provider | None
    provider_name: str
    recipient: str
    notice_type: NoticeType
    subtype: HarmfulSubtype | None
    location_ids: tuple[int, ...]
    text: NoticeText


def _notice_type_of(
    referral: Referral, location_ids: Sequence[int], notice_type: str, subtype: str | None
) -> tuple[NoticeType, HarmfulSubtype | None]:
    chosen = _vocabulary(NoticeType, notice_type, "bad_notice_type")
    sub: HarmfulSubtype | None = None
    if chosen == NoticeType.HARMFUL_ABUSIVE:
        sub = _vocabulary(HarmfulSubtype, subtype, "subtype_required")
    elif subtype:
        raise ActionRefused("subtype_only_for_harmful")
    if not location_ids:
        raise ActionRefused("nothing_selected")
    for location_id in location_ids:
        _location(referral, location_id)
    return chosen, sub


def draft_notice(
    db: Session,
    services: Services,
    referral: Referral,
    location_ids: Sequence[int],
    *,
    notice_type: str,
    subtype: str | None,
    provider_id: str | None,
    provider_name: str | None,
    recipient: str | None,
) -> Draft:
    """The notice as it would go, for the analyst to read first; nothing is written."""
    chosen, sub = _notice_type_of(referral, location_ids, notice_type, subtype)
    provider = services.directory.provider(provider_id) if provider_id else None
    if provider_id and provider is None:
        raise ActionRefused("unknown_provider")
    name = provider.name if provider else checked_provider(provider_name)
    address = checked_email(recipient, "bad_recipient")
    if address is None:
        raise ActionRefused("recipient_required")
    hotline = services.directory.get(referral.hotline_id)
    if hotline is None:
        raise ActionRefused("unknown_hotline")
    settings = chase_settings(db, referral.hotline_id)
    places = [
        services.cipher.open(_location(referral, i).value_sealed, "location.value")
        for i in dict.fromkeys(location_ids)
    ]
    text = compose_text(
        NoticeParts(
            hotline=hotline,
            contact=settings.contact_email or "",
            provider=name,
            notice_type=chosen,
            subtype=sub,
            places=places,
            reference=PREVIEW_REFERENCE,
            link=f"{services.settings.public_url.rstrip('/')}/notice/…",
            standing=standing_for(hotline, provider),
            language=notice_language(provider),
            sent_on=today(),
        )
    )
    return Draft(provider, name, address, chosen, sub, tuple(dict.fromkeys(location_ids)), text)


def enqueue_notice(work: _Work, letter: NoticeLetter, reminder: int, moment: dt.datetime) -> None:
    """The outbox item that sends the notice (``reminder`` 0) or a reminder of it, in the work's
    transaction: its key makes a second item for the same sending impossible, whoever writes
    it."""
    row = {
        "hotline_id": letter.hotline_id,
        "channel": NoticeChannel.EMAIL.value,
        "letter_id": letter.id,
        "reminder": reminder,
        "status": OutboxStatus.PENDING,
        "idempotency_key": f"notice-{letter.id}-{reminder}",
        "attempts": 0,
        "created_at": moment,
        "next_attempt_at": moment,
    }
    if work.bulk:
        work.add_later(OutboxItem, row)
    else:
        work.db.add(OutboxItem(**row))


def write_letter(
    work: _Work,
    services: Services,
    referral: Referral,
    location_ids: Sequence[int],
    *,
    provider: Provider | None,
    provider_name: str,
    recipient: str,
    notice_type: NoticeType,
    subtype: HarmfulSubtype | None,
    moment: dt.datetime,
    escalated_from: NoticeLetter | None = None,
) -> NoticeLetter:
    """A notice to send: the letter, a notice record per place (through the state machine) and
    the outbox item, in ``work``'s transaction."""
    db = work.db
    settings = chase_settings(db, referral.hotline_id)
    # Only a provider the directory names is kept by name in clear (DESIGN section 8).
    in_clear = provider.name if provider else ""
    letter = NoticeLetter(
        referral_id=referral.id,
        hotline_id=referral.hotline_id,
        provider_id=provider.id if provider else None,
        provider=in_clear,
        provider_sealed=None
        if provider
        else services.cipher.seal(provider_name, "notice.provider"),
        notice_type=notice_type,
        subtype=subtype,
        language=notice_language(provider),
        channel=NoticeChannel.EMAIL,
        recipient_sealed=services.cipher.seal(recipient, "notice.recipient"),
        escalation=escalated_from is not None,
        escalated_from_id=escalated_from.id if escalated_from is not None else None,
        sent_on=moment.date(),
        last_sent_on=moment.date(),
        created_at=moment,
        reminders_sent=0,
        next_chase_at=moment + chase_pace(settings, provider),
        chase_round=0,
    )
    db.add(letter)
    db.flush()
    notice_places(
        work,
        referral,
        location_ids,
        NoticeDetails(
            notice_type,
            in_clear,
            moment.date(),
            escalation=escalated_from is not None,
            letter=letter,
            subtype=subtype,
        ),
    )
    enqueue_notice(work, letter, 0, moment)
    work.audit(referral, "notice.composed", "notice_letter", letter.id)
    return letter


def send_notice(
    db: Session,
    services: Services,
    staff: Actor,
    referral: Referral,
    location_ids: Sequence[int],
    *,
    notice_type: str,
    subtype: str | None,
    provider_id: str | None,
    provider_name: str | None,
    recipient: str | None,
    version: int | None = None,
) -> NoticeLetter:
    """Send a notice for these places: recorded per place and queued for the outbox in one
    transaction, all or none; the chase follows it up."""
    draft = draft_notice(
        db,
        services,
        referral,
        location_ids,
        notice_type=notice_type,
        subtype=subtype,
        provider_id=provider_id,
        provider_name=provider_name,
        recipient=recipient,
    )
    with _work(db, staff) as work:
        work.take(referral, version)
        letter = write_letter(
            work,
            services,
            referral,
            draft.location_ids,
            provider=draft.provider,
            provider_name=draft.provider_name,
            recipient=draft.recipient,
            notice_type=draft.notice_type,
            subtype=draft.subtype,
            moment=utcnow(),
        )
    return letter


# --- the provider's response link ---


class LinkProblem(ActionRefused):
    """A response link that cannot be used: ``forged`` (or gone), ``expired`` or ``final``."""


def letter_id_from(services: Services, token: str) -> int | None:
    try:
        value = URLSafeSerializer(services.settings.secret_key, salt=LINK_SALT).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class LinkPlace:
    """One place as the provider's page shows it (as text, never as a link)."""

    notice_id: int
    value: str
    response: ProviderResponse | None
    response_on: dt.date | None
    open: bool
    # The hotline has gone further for this place since (the page offers no refusal then).
    superseded: bool = False


@dataclass(frozen=True)
class LinkView:
    letter_id: int
    hotline: Hotline | None
    reference: str
    provider: str
    sent_on: dt.date
    valid_until: dt.date
    places: list[LinkPlace]


def _superseded(letter: NoticeLetter, notice: Notice) -> bool:
    """Whether the hotline has since gone further for this place: the chase moved on to the
    upstream provider or was stopped, or a newer notice of the same hotline asks about it."""
    if notice.chase in (ChaseState.ESCALATED, ChaseState.STOPPED):
        return True
    return any(
        other.id > notice.id and other.hotline_id == letter.hotline_id
        for other in notice.location.notices
    )


def _answerable_by_provider(letter: NoticeLetter, notice: Notice) -> bool:
    location = notice.location
    return (
        notice.response not in FINAL_RESPONSES
        and location.status == LocationStatus.NOTICE_SENT
        and location.referral is not None
        and location.referral.hotline_id == letter.hotline_id
    )


def open_link(
    db: Session, services: Services, token: str, *, on: dt.date | None = None
) -> tuple[NoticeLetter, LinkView]:
    """The notice a response link is bound to, or :class:`LinkProblem` saying why not."""
    letter_id = letter_id_from(services, token)
    letters = load_letters(db, [letter_id]) if letter_id is not None else []
    if not letters:
        raise LinkProblem("forged")
    letter = letters[0]
    valid_until = letter.last_sent_on + LINK_VALID_FOR
    if (on or today()) > valid_until:
        raise LinkProblem("expired")
    places = [
        LinkPlace(
            notice.id,
            services.cipher.open(notice.location.value_sealed, "location.value"),
            notice.response,
            notice.response_on,
            _answerable_by_provider(letter, notice),
            _superseded(letter, notice),
        )
        for notice in letter.notices
    ]
    if not any(place.open for place in places):
        raise LinkProblem("final")
    view = LinkView(
        letter.id,
        services.directory.get(letter.hotline_id),
        notice_reference(letter.id),
        letter_provider(services, letter),
        letter.sent_on,
        valid_until,
        places,
    )
    return letter, view


@dataclass(frozen=True)
class Answer:
    """A provider's answer about one place: ``removed`` (on a date), ``not_found``, ``refused``
    (with a reason) or ``question`` (a question to the hotline)."""

    notice_id: int
    kind: str
    on: dt.date | None = None
    text: str | None = None


ANSWER_KINDS = ("removed", "not_found", "refused", "question")


def answer_by_provider(
    db: Session, services: Services, token: str, answers: Sequence[Answer]
) -> int:
    """Record a provider's answers through its link: each through the state machine as the
    provider's action, audited, all or none. Returns how many places were answered."""
    letter, view = open_link(db, services, token)
    if not answers:
        raise ActionRefused("nothing_selected")
    by_id = {notice.id: notice for notice in letter.notices}
    open_ids = {place.notice_id for place in view.places if place.open}
    checked: list[tuple[Notice, Answer, str | None]] = []
    for answer in answers:
        notice = by_id.get(answer.notice_id)
        if notice is None or answer.notice_id not in open_ids:
            raise ActionRefused("already_answered")
        if answer.kind not in ANSWER_KINDS:
            raise ActionRefused("bad_response")
        text = checked_text(answer.text, MAX_ANSWER_LENGTH, field="answer", refuse=ActionRefused)
        if answer.kind == "removed" and answer.on is None:
            raise ActionRefused("removed_date_required")
        if answer.kind in ("refused", "question") and text is None:
            raise ActionRefused(f"{answer.kind}_text_required")
        if answer.kind == "refused" and _superseded(letter, notice):
            # The notice went on to the upstream provider (or staff stopped it): a refusal
            # through this older one must not end what is being asked now.
            raise ActionRefused("refused_superseded")
        checked.append((notice, answer, text))
    provider = Automatic(letter.hotline_id, "provider")
    with _work(db, provider) as work:
        for notice, answer, text in checked:
            referral = notice.location.referral
            assert referral is not None
            if referral.id not in work.touched:
                work.take(referral, None)
            if answer.kind == "question":
                # The chase waits while the hotline answers (it resumes it when it has).
                if notice.chase == ChaseState.ACTIVE:
                    notice.chase = ChaseState.PAUSED
                    notice.chase_reason = ChaseHold.PROVIDER_QUESTION
                    notice.chase_since = today()
                referral.notes.append(
                    InternalNote(
                        account_id=None,
                        body_sealed=services.cipher.seal(text or "", "note.body"),
                        written_at=utcnow(),
                        from_letter_id=letter.id,
                    )
                )
                work.event(
                    referral,
                    EventCode.PROVIDER_QUESTION,
                    location=notice.location,
                    visible=False,
                    letter=letter.id,
                )
                work.audit(referral, "notice.question", "notice", notice.id)
                continue
            sealed = services.cipher.seal(text, "notice.response") if text else None
            response = {
                "removed": ProviderResponse.REMOVED,
                "not_found": ProviderResponse.NOT_FOUND,
                "refused": ProviderResponse.REFUSED,
            }[answer.kind]
            on = answer.on or today()
            answer_notice(
                work, referral, notice, response, on, by=Responder.PROVIDER, note_sealed=sealed
            )
    return len(checked)


# --- the chase, paused or stopped by staff ---


def hold_chase(
    db: Session,
    staff: Actor,
    referral: Referral,
    location_ids: Sequence[int],
    *,
    state: str,
    reason: str | None,
    version: int | None = None,
) -> int:
    """Pause, stop or resume the chase for places (with a reason to pause or stop), all or none."""
    wanted = _vocabulary(ChaseState, state, "bad_chase_state")
    if wanted not in (ChaseState.PAUSED, ChaseState.STOPPED, ChaseState.ACTIVE):
        raise ActionRefused("bad_chase_state")
    why = _vocabulary(ChaseHold, reason, "reason_required") if wanted != ChaseState.ACTIVE else None
    event = {
        ChaseState.PAUSED: EventCode.CHASE_PAUSED,
        ChaseState.STOPPED: EventCode.CHASE_STOPPED,
        ChaseState.ACTIVE: EventCode.CHASE_RESUMED,
    }[wanted]
    with _work(db, staff) as work:
        work.take(referral, version)

        def hold_one(location_id: int) -> None:
            location = _location(referral, location_id)
            chased = [
                n
                for n in location.notices
                if n.hotline_id == referral.hotline_id and n.letter_id is not None
            ]
            current = chased[-1] if chased else None
            allowed_from = (
                (ChaseState.PAUSED,)
                if wanted == ChaseState.ACTIVE
                else (ChaseState.ACTIVE, ChaseState.PAUSED, ChaseState.NO_ANSWER)
            )
            if (
                current is None
                or current.chase not in allowed_from
                or current.chase == wanted
                or location.status != LocationStatus.NOTICE_SENT
            ):
                raise ActionRefused("chase_not_possible")
            current.chase = wanted
            current.chase_reason = why
            current.chase_since = today()
            if wanted == ChaseState.ACTIVE and current.letter is not None:
                # Looked at on the next pass. Always set: a pass running right now that found
                # nothing left to chase must not leave it at "never" (its write comes first,
                # or this one waits for its lock and comes after).
                current.letter.next_chase_at = utcnow()
            params = {"reason": why.value} if why else {}
            work.event(referral, event, location=location, visible=False, **params)
            work.audit(referral, f"chase.{wanted.value}", "notice", current.id)

        _each(location_ids, hold_one)
    return len(set(location_ids))
