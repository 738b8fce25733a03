"""The notice as the provider reads it: its text in the provider's language, and the e-mail the
outbox sends (DESIGN section 6b). Built when it is sent, from the places still asked about and the
hotline's own details; no field here can hold anything about the survivor.

Kept apart from :mod:`assistant.hotline.notices` (which composes and records notices through the
state machine) so that the delivery worker needs nothing of the state machine.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr
from email.utils import formatdate
from email.utils import parseaddr
from functools import lru_cache
from typing import TYPE_CHECKING

from babel.support import NullTranslations
from babel.support import Translations
from itsdangerous import URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import aliased
from sqlalchemy.orm import selectinload

from ..config import supported_language
from ..models import HotlineSettings
from ..models import Location
from ..models import Notice
from ..models import NoticeLetter
from ..models import Referral
from ..routing import Directory
from ..routing import Hotline
from ..routing import Provider
from ..vocabulary import FINAL_RESPONSES
from ..vocabulary import ChaseState
from ..vocabulary import HarmfulSubtype
from ..vocabulary import LocationStatus
from ..vocabulary import NoticeType
from ..vocabulary import ProviderResponse
from .channels import TRANSLATIONS

if TYPE_CHECKING:
    from ..services import Services

# The chase's defaults; each hotline's administrators can change them (HotlineSettings).
CHASE_HOURS = 24
REMINDER_LIMIT = 3
LINK_SALT = "provider-notice-link"
# Member states of the European Union: a standing in "EU" applies to a provider in any of them.
EU_COUNTRIES = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    }
)


# --- a hotline's settings ---


@dataclass(frozen=True)
class ChaseSettings:
    """How the chase runs for one hotline, and who its notices come from."""

    chase_hours: int = CHASE_HOURS
    reminder_limit: int = REMINDER_LIMIT
    contact_email: str | None = None


def chase_settings(db: Session, hotline_id: str) -> ChaseSettings:
    row = db.get(HotlineSettings, hotline_id)
    if row is None:
        return ChaseSettings()
    return ChaseSettings(row.chase_hours, row.reminder_limit, row.contact_email)


def chase_pace(settings: ChaseSettings, provider: Provider | None) -> dt.timedelta:
    """Hours between reminders: the hotline's pace, or sooner where a rule in the directory gives
    the provider less time to remove it."""
    hours = settings.chase_hours
    deadline = provider.removal_deadline if provider is not None else None
    if deadline is not None:
        hours = min(hours, deadline.hours)
    return dt.timedelta(hours=hours)


def upstream_of(directory: Directory, provider: Provider | None) -> Provider | None:
    """The hosting or network company the directory names for a provider, when it takes notices
    by e-mail."""
    if provider is None or provider.notices is None or not provider.notices.upstream:
        return None
    upstream = directory.provider(provider.notices.upstream)
    if upstream is None or upstream.notices is None or not upstream.notices.emails:
        return None
    return upstream


# --- the text ---


@lru_cache(maxsize=16)
def _words(language: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS), [language])


def notice_language(provider: Provider | None) -> str:
    """The provider's language where the app writes it; English otherwise."""
    wanted = provider.notices.language if provider and provider.notices else "en"
    return supported_language(wanted) or "en"


def notice_reference(letter_id: int) -> str:
    """The reference a notice carries: its own, never the survivor's case number."""
    return f"RRA-N{letter_id}"


def link_token(services: Services, letter_id: int) -> str:
    return str(URLSafeSerializer(services.settings.secret_key, salt=LINK_SALT).dumps(letter_id))


def link_address(services: Services, letter_id: int) -> str:
    return f"{services.settings.public_url.rstrip('/')}/notice/{link_token(services, letter_id)}"


def type_words(
    words: NullTranslations, notice_type: NoticeType, subtype: HarmfulSubtype | None
) -> str:
    """The notice type in the words of the framework ("How We Are Failing Children: Changing the
    Paradigm", Canadian Centre for Child Protection, 2019)."""
    if notice_type == NoticeType.CSAM:
        return words.gettext("Notice type 1: child sexual abuse material.")
    if subtype == HarmfulSubtype.A:
        return words.gettext(
            "Notice type 2a: a harmful/abusive image of a child, recorded in the course of the "
            "abusive incident (including crops, covered or innocent-looking stills from it)."
        )
    if subtype == HarmfulSubtype.B:
        return words.gettext(
            "Notice type 2b: a harmful/abusive image of a child: a nude or partly nude image, or "
            "a clothed image used in a sexualised context."
        )
    if subtype == HarmfulSubtype.C:
        return words.gettext(
            "Notice type 2c: a harmful/abusive image of a child being physically abused, "
            "tortured or restrained."
        )
    return words.gettext("Notice type 2: a harmful/abusive image of a child.")


def standing_for(hotline: Hotline, provider: Provider | None) -> list[str]:
    """What the directory records of the hotline's standing where the provider is established:
    a trusted-flagger status or a legal basis, each with its sources in the data."""
    country = provider.country if provider else None
    if not country:
        return []
    return [
        item.text
        for item in hotline.standing
        if item.jurisdiction == country or (item.jurisdiction == "EU" and country in EU_COUNTRIES)
    ]


@dataclass(frozen=True)
class NoticeText:
    subject: str
    body: str
    language: str


@dataclass(frozen=True)
class NoticeParts:
    """What a notice says, and nothing else: no field here can hold anything about the
    survivor."""

    hotline: Hotline
    # The address providers reply to, as the hotline set it ("" when it set none).
    contact: str
    provider: str
    notice_type: NoticeType
    subtype: HarmfulSubtype | None
    places: Sequence[str]
    reference: str
    link: str
    standing: Sequence[str]
    language: str
    sent_on: dt.date
    reminder: int = 0
    # For an escalation: the provider first asked, whose service this one hosts or carries.
    escalated_from: str | None = None


def compose_text(parts: NoticeParts) -> NoticeText:
    words = _words(parts.language)
    gettext = words.gettext
    hotline = parts.hotline
    subject = gettext("Removal notice %(reference)s: %(what)s") % {
        "reference": parts.reference,
        "what": gettext("child sexual abuse material")
        if parts.notice_type == NoticeType.CSAM
        else gettext("harmful/abusive image of a child"),
    }
    if parts.reminder:
        subject = gettext("Reminder %(num)d: %(subject)s") % {
            "num": parts.reminder,
            "subject": subject,
        }
    lines: list[str] = []
    if parts.reminder:
        lines += [
            gettext(
                "This is reminder %(num)d. We sent this notice on %(date)s and have no answer "
                "yet for the places below."
            )
            % {"num": parts.reminder, "date": parts.sent_on.isoformat()},
            "",
        ]
    lines += [
        gettext("To: %(provider)s") % {"provider": parts.provider},
        gettext("From: %(hotline)s (%(operator)s), %(website)s")
        % {"hotline": hotline.name, "operator": hotline.operator, "website": hotline.website},
        "",
    ]
    if parts.escalated_from:
        lines += [
            gettext(
                "We write to you as the company that hosts or carries %(provider)s. We asked "
                "%(provider)s to remove the material below and it has not done so."
            )
            % {"provider": parts.escalated_from},
            "",
        ]
    lines += [
        gettext(
            "%(hotline)s is a hotline that assesses reports of child sexual abuse material "
            "online. We act for the child, who should not have to find, view or judge this "
            "material."
        )
        % {"hotline": hotline.name},
        "",
        type_words(words, parts.notice_type, parts.subtype),
        "",
        gettext("Where it is (exactly as reported; as text, not as links):"),
        *(f"{number}. {place}" for number, place in enumerate(parts.places, start=1)),
        "",
        gettext(
            "We ask you to remove the material at each of these places, and to keep it from "
            "being uploaded again (for example by adding it to the hash lists you check "
            "uploads against)."
        ),
        "",
    ]
    if parts.standing:
        lines += [*parts.standing, ""]
    lines += [
        gettext("Reference: %(reference)s") % {"reference": parts.reference},
        gettext(
            "Please answer for each place (removed, not found, refused, or a question) here; "
            "no account is needed: %(link)s"
        )
        % {"link": parts.link},
        (
            gettext("You can also write to %(contact)s, quoting the reference.")
            % {"contact": parts.contact}
            if parts.contact
            else gettext(
                "You can also reach %(hotline)s through %(website)s, quoting the reference."
            )
            % {"hotline": hotline.name, "website": hotline.website}
        ),
        "",
    ]
    return NoticeText(subject, "\n".join(lines), parts.language)


# --- the message the outbox sends ---


def letter_provider(services: Services, letter: NoticeLetter) -> str:
    """The provider a notice went to, as staff named it."""
    if letter.provider_sealed is not None:
        return services.cipher.open(letter.provider_sealed, "notice.provider")
    return letter.provider


def notice_provider(services: Services, notice: Notice) -> str:
    """The provider a notice record names: its letter's, for a notice the app sent."""
    if notice.letter is not None:
        return letter_provider(services, notice.letter)
    if notice.provider_sealed is not None:
        return services.cipher.open(notice.provider_sealed, "notice.provider")
    return notice.provider


def chased_notices(letter: NoticeLetter) -> list[Notice]:
    """The places of a notice still waiting for a final answer, and still chased."""
    return [n for n in asked_notices(letter) if n.chase == ChaseState.ACTIVE]


def _still_asked(
    letter_hotline: str,
    chase: ChaseState | None,
    response: ProviderResponse | None,
    status: LocationStatus,
    place_hotline: str | None,
) -> bool:
    """Whether a reminder asks about a place: no final answer, not paused or stopped by staff,
    and still with the hotline that sent the notice (a reminder queued just before the
    reminders ran out still goes)."""
    return (
        chase not in (ChaseState.PAUSED, ChaseState.STOPPED, ChaseState.ANSWERED)
        and response not in FINAL_RESPONSES
        and status == LocationStatus.NOTICE_SENT
        and place_hotline == letter_hotline
    )


def asked_notices(letter: NoticeLetter) -> list[Notice]:
    """The places a reminder of this notice asks about when it is sent."""
    return [
        notice
        for notice in letter.notices
        if _still_asked(
            letter.hotline_id,
            notice.chase,
            notice.response,
            notice.location.status,
            notice.location.referral.hotline_id if notice.location.referral else None,
        )
    ]


def load_letters(
    db: Session, letter_ids: Sequence[int], *, with_places: bool = True
) -> list[NoticeLetter]:
    """Notices with their places (each place's notice record, and the place and its referral
    unless the caller loaded those already: they are then found in the session by key)."""
    notices = selectinload(NoticeLetter.notices)
    return list(
        db.scalars(
            select(NoticeLetter)
            .where(NoticeLetter.id.in_(letter_ids))
            .options(
                notices.joinedload(Notice.location).joinedload(Location.referral)
                if with_places
                else notices
            )
            .order_by(NoticeLetter.id)
        )
    )


@dataclass(frozen=True)
class Outgoing:
    """What a notice's message is made of, read as plain rows when it is sent."""

    id: int
    hotline_id: str
    provider_id: str | None
    provider: str
    provider_sealed: bytes | None
    notice_type: NoticeType
    subtype: HarmfulSubtype | None
    language: str
    recipient_sealed: bytes
    sent_on: dt.date
    # The provider first asked, when this notice escalated to its upstream provider.
    escalated_from: str | None
    # Each place's sealed value, and whether a reminder still asks about it.
    places: tuple[tuple[bytes, bool], ...]


def outgoing_letters(db: Session, letter_ids: Sequence[int]) -> dict[int, Outgoing]:
    """The notices to send, in two statements whatever their number: what the delivery worker
    reads for each sending."""
    if not letter_ids:
        return {}
    first = aliased(NoticeLetter)
    places: dict[int, list[tuple[bytes, bool]]] = {}
    letters = db.execute(
        select(
            NoticeLetter.id,
            NoticeLetter.hotline_id,
            NoticeLetter.provider_id,
            NoticeLetter.provider,
            NoticeLetter.provider_sealed,
            NoticeLetter.notice_type,
            NoticeLetter.subtype,
            NoticeLetter.language,
            NoticeLetter.recipient_sealed,
            NoticeLetter.sent_on,
            first.provider,
        )
        .outerjoin(first, first.id == NoticeLetter.escalated_from_id)
        .where(NoticeLetter.id.in_(letter_ids))
    ).all()
    hotline_of: dict[int | None, str] = {row[0]: row[1] for row in letters}
    for letter_id, value, chase, response, status, place_hotline in db.execute(
        select(
            Notice.letter_id,
            Location.value_sealed,
            Notice.chase,
            Notice.response,
            Location.status,
            Referral.hotline_id,
        )
        .join(Location, Location.id == Notice.location_id)
        .outerjoin(Referral, Referral.id == Location.referral_id)
        .where(Notice.letter_id.in_(letter_ids))
        .order_by(Notice.id)
    ):
        asked = _still_asked(hotline_of[letter_id], chase, response, status, place_hotline)
        places.setdefault(letter_id or 0, []).append((value, asked))
    # Each row is an Outgoing's fields in order, but for the places.
    return {row[0]: Outgoing(*row, tuple(places.get(row[0], ()))) for row in letters}


def notice_message(
    services: Services,
    settings: ChaseSettings,
    letter: Outgoing,
    reminder: int,
    key: str,
) -> tuple[bytes, str] | None:
    """The e-mail for a notice or its ``reminder``, and its recipient; None when there is
    nothing left to ask (every place answered, paused or moved since)."""
    # The first sending too: a place stopped, paused, answered or moved since the analyst sent
    # the notice is left out (and with nothing left, nothing goes).
    sealed = [value for value, asked in letter.places if asked]
    if not sealed:
        return None
    hotline = services.directory.get(letter.hotline_id)
    if hotline is None:
        return None
    provider = services.directory.provider(letter.provider_id) if letter.provider_id else None
    text = compose_text(
        NoticeParts(
            hotline=hotline,
            contact=settings.contact_email or "",
            provider=services.cipher.open(letter.provider_sealed, "notice.provider")
            if letter.provider_sealed is not None
            else letter.provider,
            notice_type=letter.notice_type,
            subtype=letter.subtype,
            places=[services.cipher.open(value, "location.value") for value in sealed],
            reference=notice_reference(letter.id),
            link=link_address(services, letter.id),
            standing=standing_for(hotline, provider),
            language=letter.language,
            sent_on=letter.sent_on,
            reminder=reminder,
            escalated_from=letter.escalated_from,
        )
    )
    recipient = services.cipher.open(letter.recipient_sealed, "notice.recipient")
    # Who notices come from is the service's configuration (a hotline's own address where the
    # operator set one up with its mail system), never a hotline administrator's choice.
    sender = (
        services.notice_senders.get(letter.hotline_id) or parseaddr(services.settings.smtp_from)[1]
    )
    # The same on every retry of this sending, so a receiver can drop a duplicate.
    domain = sender.rpartition("@")[2].strip(" >") or "localhost"
    headers = [
        ("Subject", _header_text(text.subject)),
        ("From", formataddr((hotline.name, sender), charset="utf-8")),
        ("To", recipient),
        *((("Reply-To", settings.contact_email),) if settings.contact_email else ()),
        ("Date", formatdate(usegmt=True)),
        ("Message-ID", f"<{key}@{domain}>"),
        ("Content-Language", text.language.replace("_", "-")),
    ]
    message = plain_text_message(headers, text.body)
    return message, recipient


def _header_text(value: str) -> str:
    """A header's value as it travels: as it is in ASCII, else as RFC 2047 encoded words."""
    return value if value.isascii() else Header(value, "utf-8").encode()


def plain_text_message(headers: Sequence[tuple[str, str]], body: str) -> bytes:
    """A UTF-8 plain-text message (RFC 5322 with MIME, body in base64), as the bytes SMTP sends.

    Written out directly rather than through :mod:`email`'s generator, which refolds every header
    on every sending (most of the time a notice took to send). The values are ASCII by then
    (:func:`_header_text`, :func:`email.utils.formataddr` with a charset, checked addresses)."""
    lines = [f"{name}: {value}" for name, value in headers]
    if any("\r" in line or "\n" in line.replace("\n ", "") for line in lines):
        raise ValueError("a header value holds a line break")
    lines += [
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: base64",
        "",
        base64.encodebytes(body.encode("utf-8")).decode("ascii"),
    ]
    return "\r\n".join(lines).replace("\n", "\r\n").replace("\r\r\n", "\r\n").encode("ascii")
