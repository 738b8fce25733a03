"""Database models (SQLAlchemy 2, typed).

What is stored in clear, and why (the threat model in DESIGN section 8):
- a location's ``host`` and ``registrable_domain``, only where the provider directory names them
  (a big platform: they reveal nothing); any other host is sealed, since a one-off subdomain or an
  onion address is the link in all but its path;
- routing reason codes and their parameters: they repeat the host, a country and a hotline;
- dates, never times, for anything a survivor does. Session rows carry times because they expire;
  they are deleted when they do;
- an account's e-mail address (it is the sign-in name, looked up directly) and which advocate's
  account has access to which case (checked on every request). An advocate's name, organisation,
  role and reason, and every consent record, are sealed.
Everything a person typed (location values, notes, platform names, messages) is sealed by
:mod:`assistant.crypto` before it reaches a column named ``*_sealed``.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any
from typing import TypeVar

from sqlalchemy import JSON
from sqlalchemy import BigInteger
from sqlalchemy import CheckConstraint
from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import LargeBinary
from sqlalchemy import MetaData
from sqlalchemy import SmallInteger
from sqlalchemy import String
from sqlalchemy import TypeDecorator
from sqlalchemy import UniqueConstraint
from sqlalchemy import false
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from .routing.normalise import Kind
from .vocabulary import AccessOrigin
from .vocabulary import AccountStatus
from .vocabulary import ApiScope
from .vocabulary import Assessment
from .vocabulary import Category
from .vocabulary import ChaseHold
from .vocabulary import ChaseState
from .vocabulary import CloseReason
from .vocabulary import DueAction
from .vocabulary import EventCode
from .vocabulary import FiledBy
from .vocabulary import HarmfulSubtype
from .vocabulary import Lane
from .vocabulary import LocationStatus
from .vocabulary import MessageAuthor
from .vocabulary import MinorAnswer
from .vocabulary import NoticeChannel
from .vocabulary import NoticeType
from .vocabulary import OutboxStatus
from .vocabulary import ProviderResponse
from .vocabulary import ReferralStatus
from .vocabulary import Responder
from .vocabulary import Role
from .vocabulary import WebhookEvent
from .vocabulary import WithdrawalReason

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# SQLite would otherwise hand an erased case's id to the next case; nothing that still names the
# old id (a session, a log line, a staff bookmark) may ever point at someone else's case.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}
# The largest id an Integer primary key holds on every database we run on.
MAX_ROW_ID = 2**31 - 1
# A referral with nothing due sorts after every dated one (the queue's "time left" order).
NO_DEADLINE = dt.date(9999, 12, 31)


V = TypeVar("V", bound=StrEnum)


class Code(TypeDecorator[V]):
    """A code from one of :mod:`assistant.vocabulary`'s vocabularies, stored as its plain string
    (``String(length)``) and read back as the vocabulary's member. A string that is not in the
    vocabulary is refused before it reaches the database."""

    impl = String
    cache_ok = True

    def __init__(self, vocabulary: type[V], length: int) -> None:
        super().__init__(length)
        self.vocabulary = vocabulary

    def process_bind_param(self, value: V | str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, self.vocabulary):  # already a member: nothing to look up
            return value.value
        return self.vocabulary(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> V | None:
        return None if value is None else self.vocabulary(value)


class CodeList(TypeDecorator[list[V]]):
    """A list of codes from one vocabulary, stored as a JSON list of plain strings."""

    impl = JSON
    cache_ok = True

    def __init__(self, vocabulary: type[V]) -> None:
        super().__init__()
        self.vocabulary = vocabulary

    def process_bind_param(self, value: list[V] | None, dialect: Dialect) -> list[str] | None:
        return None if value is None else [self.vocabulary(item).value for item in value]

    def process_result_value(self, value: list[str] | None, dialect: Dialect) -> list[V] | None:
        return None if value is None else [self.vocabulary(item) for item in value]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    """Naive UTC, the same on SQLite and PostgreSQL."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def today() -> dt.date:
    return utcnow().date()


class Case(Base):
    """One survivor's request. Found by ``case_number``; unlocked by the passphrase."""

    __tablename__ = "cases"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    case_number: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    passphrase_hash: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    survivor_country: Mapped[str | None] = mapped_column(String(2))
    categories: Mapped[list[Category]] = mapped_column(CodeList(Category), default=list)
    minor_in_material: Mapped[MinorAnswer | None] = mapped_column(Code(MinorAnswer, 8))
    filed_by: Mapped[FiledBy] = mapped_column(Code(FiledBy, 16), default=FiledBy.SURVIVOR)
    # For a case an advocate filed: how and when the survivor consented, and whether they wanted
    # their own receipt (sealed JSON; see assistant.people.advocates).
    consent_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The receipt was handed over by an advocate: at first sign-in the survivor gets a new
    # passphrase, so that nobody else holds it.
    must_change_passphrase: Mapped[bool] = mapped_column(default=False)
    # When the survivor last replaced their passphrase (a date, never a time): shown to them, so
    # that a replacement they did not make is noticed.
    passphrase_replaced_on: Mapped[dt.date | None] = mapped_column(Date)
    # Keyed hash of the web draft this case came from: sending the same draft twice files once.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_on: Mapped[dt.date] = mapped_column(Date)
    retain_until: Mapped[dt.date] = mapped_column(Date, index=True)
    # Tries of the receipt are counted in the rate-limit store, never here (see
    # assistant.cases.receipts.ReceiptThrottle).

    locations: Mapped[list[Location]] = relationship(
        back_populates="case", order_by="Location.position", cascade="all, delete-orphan"
    )
    referrals: Mapped[list[Referral]] = relationship(
        back_populates="case", order_by="Referral.id", cascade="all, delete-orphan"
    )
    messages: Mapped[list[Message]] = relationship(
        back_populates="case", order_by="Message.id", cascade="all, delete-orphan"
    )
    advocates: Mapped[list[CaseAccess]] = relationship(
        back_populates="case", order_by="CaseAccess.id", cascade="all, delete-orphan"
    )


class Referral(Base):
    """The locations of one case routed to one hotline."""

    __tablename__ = "referrals"
    __table_args__ = (
        # The queue's pages, each one index range whatever the filter (see reports.queue_page).
        Index("ix_referrals_queue", "hotline_id", "lane", "created_on", "id"),
        Index("ix_referrals_status_queue", "hotline_id", "status", "created_on", "id"),
        Index(
            "ix_referrals_assigned_queue", "hotline_id", "assigned_to", "lane", "created_on", "id"
        ),
        Index("ix_referrals_due", "hotline_id", "due_on", "id"),
        # The hotline's changes feed (assistant.hotline.feed): one index range per page.
        Index("ix_referrals_feed", "hotline_id", "feed_seq"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    hotline_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[ReferralStatus] = mapped_column(
        Code(ReferralStatus, 16), default=ReferralStatus.RECEIVED
    )
    created_on: Mapped[dt.date] = mapped_column(Date)
    # Why it was closed, shown to the survivor in words.
    closed_reason: Mapped[CloseReason | None] = mapped_column(Code(CloseReason, 32))
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    # Raised by every change staff make; an action decided on an older version is refused, and
    # two writers racing on the same version cannot both succeed (the UPDATE checks it).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    # Kept by assistant.hotline.referrals.refresh_referral_status from the places, so the queue
    # filters and sorts on indexed columns of this row alone (DESIGN section 5; issue: the queue
    # must cost the same at 100,000 cases as at 1,000).
    lane: Mapped[int] = mapped_column(SmallInteger, default=Lane.WAITING, server_default="0")
    due_on: Mapped[dt.date] = mapped_column(Date, default=NO_DEADLINE)
    due_action: Mapped[DueAction | None] = mapped_column(Code(DueAction, 16))
    suggested_notice_type: Mapped[NoticeType | None] = mapped_column(Code(NoticeType, 20))
    # One bit per Category, in the vocabulary's order.
    category_bits: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    flag_minor: Mapped[bool] = mapped_column(default=False, server_default=false())
    flag_identifying: Mapped[bool] = mapped_column(default=False, server_default=false())
    flag_dark_web: Mapped[bool] = mapped_column(default=False, server_default=false())
    flag_already_reported: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Where the referral's latest change stands in its hotline's changes feed (0: none yet).
    feed_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    case: Mapped[Case] = relationship(back_populates="referrals")
    locations: Mapped[list[Location]] = relationship(
        back_populates="referral", order_by="Location.position"
    )
    events: Mapped[list[ReferralEvent]] = relationship(
        back_populates="referral", order_by="ReferralEvent.id", cascade="all, delete-orphan"
    )
    notes: Mapped[list[InternalNote]] = relationship(
        back_populates="referral", order_by="InternalNote.id", cascade="all, delete-orphan"
    )


class Location(Base):
    """One place where material appears. The value itself is sealed."""

    __tablename__ = "locations"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    referral_id: Mapped[int | None] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[Kind] = mapped_column(Code(Kind, 16))
    value_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    note_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    platform_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    value_hash: Mapped[str] = mapped_column(String(64), index=True)
    # In clear only when the provider directory names them (see
    # assistant.hotline.places.host_columns); any other host is sealed.
    host: Mapped[str | None] = mapped_column(String(255))
    host_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    registrable_domain: Mapped[str | None] = mapped_column(String(255))
    route_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[LocationStatus] = mapped_column(
        Code(LocationStatus, 16), default=LocationStatus.RECEIVED
    )
    added_on: Mapped[dt.date] = mapped_column(Date)
    status_changed_on: Mapped[dt.date] = mapped_column(Date)
    # The hotline's assessment; the hosting country it found, if any.
    assessment: Mapped[Assessment | None] = mapped_column(Code(Assessment, 20))
    assessment_subtype: Mapped[HarmfulSubtype | None] = mapped_column(Code(HarmfulSubtype, 1))
    hosting_country: Mapped[str | None] = mapped_column(String(2))

    case: Mapped[Case] = relationship(back_populates="locations")
    referral: Mapped[Referral | None] = relationship(back_populates="locations")
    notices: Mapped[list[Notice]] = relationship(
        back_populates="location", order_by="Notice.id", cascade="all, delete-orphan"
    )


class ReferralEvent(Base):
    """A step in a referral's timeline. Dated, never timed; no staff name."""

    __tablename__ = "referral_events"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("locations.id", ondelete="CASCADE"), index=True
    )
    # Staff actions: a status (DESIGN section 5) or a timeline code; the ICCAM action code, if any,
    # goes in ``params["iccam"]``. Who did it is in the audit log, never here.
    code: Mapped[EventCode] = mapped_column(Code(EventCode, 40))
    # The referral's version this change made: what changed since version N is every event above N.
    referral_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    visible_to_survivor: Mapped[bool] = mapped_column(default=True)

    referral: Mapped[Referral] = relationship(back_populates="events")


class Message(Base):
    """Between the survivor and a hotline; the body is sealed."""

    __tablename__ = "messages"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    referral_id: Mapped[int | None] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[MessageAuthor] = mapped_column(Code(MessageAuthor, 16))
    # The advocate who wrote it (staff messages are never signed); NULL once the account is gone.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    sent_on: Mapped[dt.date] = mapped_column(Date)

    case: Mapped[Case] = relationship(back_populates="messages")


class Notice(Base):
    """A hotline's removal request to a provider for one location, and what came of it.

    A re-notice or an escalation to the upstream provider is a notice of its own.
    """

    __tablename__ = "notices"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(
        ForeignKey("locations.id", ondelete="CASCADE"), index=True
    )
    # The hotline that sent it: a place passed to another hotline takes its notices along, but only
    # the hotline that sent a notice sees it.
    hotline_id: Mapped[str] = mapped_column(String(64), index=True)
    notice_type: Mapped[NoticeType] = mapped_column(Code(NoticeType, 20))
    # The provider, by the directory's name when the directory names it; any other name staff
    # typed is sealed (it may be the reported site's host), with "" in clear.
    provider: Mapped[str] = mapped_column(String(200), index=True)
    provider_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    escalation: Mapped[bool] = mapped_column(default=False)
    sent_on: Mapped[dt.date] = mapped_column(Date, index=True)
    # The provider's ticket number can identify the report to whoever sees it: sealed.
    reference_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    response: Mapped[ProviderResponse | None] = mapped_column(Code(ProviderResponse, 16))
    response_on: Mapped[dt.date | None] = mapped_column(Date)
    # Who recorded the answer; a refusal's reason in the provider's words (sealed: staff read it,
    # the survivor never does).
    responded_by: Mapped[Responder | None] = mapped_column(Code(Responder, 16))
    response_note_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The composed notice this place was sent in (None for a notice recorded by hand), and where
    # the chase stands for this place.
    letter_id: Mapped[int | None] = mapped_column(
        ForeignKey("notice_letters.id", ondelete="CASCADE"), index=True
    )
    chase: Mapped[ChaseState | None] = mapped_column(Code(ChaseState, 16))
    chase_reason: Mapped[ChaseHold | None] = mapped_column(Code(ChaseHold, 24))
    # When the chase last changed state for this place (a pause is looked at again after a while).
    chase_since: Mapped[dt.date | None] = mapped_column(Date)

    location: Mapped[Location] = relationship(back_populates="notices")
    letter: Mapped[NoticeLetter | None] = relationship(back_populates="notices")


class NoticeLetter(Base):
    """A notice as the provider receives it: one message to one provider about one or more places
    of one referral, sent by the app and chased until every place has a final answer (DESIGN
    section 6b). Each place has its :class:`Notice` row; this row holds what they share.

    Nothing about the survivor is here or in the message: the text is built when it is sent, from
    the places as reported and the hotline's own details.
    """

    __tablename__ = "notice_letters"
    __table_args__ = (
        # The chase's pass: the notices due, oldest first, one index range (nothing due: one probe).
        Index("ix_notice_letters_due", "next_chase_at", "id"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    hotline_id: Mapped[str] = mapped_column(String(64), index=True)
    # The directory's provider, when the notice goes to one it names; the name as written on it.
    provider_id: Mapped[str | None] = mapped_column(String(64))
    # A provider the directory names, by that name; one staff named themselves is sealed (the
    # name could be the reported site's), and "" is kept in clear, as on its Notice rows.
    provider: Mapped[str] = mapped_column(String(200))
    provider_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    notice_type: Mapped[NoticeType] = mapped_column(Code(NoticeType, 20))
    subtype: Mapped[HarmfulSubtype | None] = mapped_column(Code(HarmfulSubtype, 1))
    language: Mapped[str] = mapped_column(String(8))
    channel: Mapped[NoticeChannel] = mapped_column(Code(NoticeChannel, 8))
    # Where it goes: a provider's abuse address can name a small site, so it is sealed.
    recipient_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    escalation: Mapped[bool] = mapped_column(default=False)
    # The notice this one escalated (to the upstream provider).
    escalated_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("notice_letters.id", ondelete="SET NULL"), index=True
    )
    sent_on: Mapped[dt.date] = mapped_column(Date)
    # The day of the last sending (the notice or its latest reminder): its link works for a while
    # after the last message that carries it.
    last_sent_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    # When the chase next looks at it; None when nothing is left to chase.
    next_chase_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Raised by every change the chase makes, so two chase processes never both act on it.
    chase_round: Mapped[int] = mapped_column(Integer, default=0)

    notices: Mapped[list[Notice]] = relationship(back_populates="letter", order_by="Notice.id")
    referral: Mapped[Referral] = relationship()


class HotlineSettings(Base):
    """A hotline's own settings, kept by its administrators: how the chase runs and where
    providers reply. A hotline without a row has the defaults."""

    __tablename__ = "hotline_settings"

    hotline_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Hours from one notice or reminder to the next.
    chase_hours: Mapped[int] = mapped_column(Integer, default=24)
    reminder_limit: Mapped[int] = mapped_column(Integer, default=3)
    # The address providers reply to and that each notice names. (Who notices come from is the
    # service's configuration, never a hotline's choice: see assistant.hotline.channels.)
    contact_email: Mapped[str | None] = mapped_column(String(254))
    updated_on: Mapped[dt.date | None] = mapped_column(Date)


class InternalNote(Base):
    """A note between a hotline's staff; never shown to the survivor. Sealed."""

    __tablename__ = "internal_notes"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    # Kept so a note can be attributed inside the hotline; NULL once the account is gone.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    written_at: Mapped[dt.datetime] = mapped_column(DateTime)
    # A provider's question through its response link, about this notice (not a colleague's).
    from_letter_id: Mapped[int | None] = mapped_column(
        ForeignKey("notice_letters.id", ondelete="SET NULL"), index=True
    )

    referral: Mapped[Referral] = relationship(back_populates="notes")


class Account(Base):
    """Hotline staff, an administrator or an advocate: Argon2id password and TOTP, both required.

    Until enrolment the account has neither; it holds only a hash of the one-time enrolment code.
    An advocate's account starts ``pending`` (registered, waiting for an administrator) and holds
    not even that until it is approved.
    """

    __tablename__ = "accounts"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    role: Mapped[Role] = mapped_column(Code(Role, 16))
    hotline_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[AccountStatus] = mapped_column(
        Code(AccountStatus, 16), default=AccountStatus.ENROLLING
    )
    # An advocate's name, organisation, role and reason for access, as they registered (sealed
    # JSON: it ties a person to the survivors they help).
    profile_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The last TOTP time step accepted: a code, once used, cannot be used again.
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    enrolment_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    enrolment_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    failed_window_start: Mapped[dt.datetime | None] = mapped_column(DateTime)
    lockouts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class CaseAccess(Base):
    """An advocate's access to one case: they filed it, or the survivor invited them.

    Deleting the row is revoking it; every request checks it, so it ends on the next one.
    """

    __tablename__ = "case_access"
    __table_args__ = (
        UniqueConstraint("case_id", "account_id"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    origin: Mapped[AccessOrigin] = mapped_column(Code(AccessOrigin, 16))
    granted_on: Mapped[dt.date] = mapped_column(Date)
    # The newest message this advocate has seen: anything newer from someone else is unread.
    messages_read_up_to: Mapped[int] = mapped_column(Integer, default=0)

    case: Mapped[Case] = relationship(back_populates="advocates")
    account: Mapped[Account] = relationship()


class Invitation(Base):
    """A survivor's invitation for an advocate, waiting to be redeemed.

    The code itself (signed, with its own time) is shown once and never stored; this row holds
    a hash of its random part, so that it works once, and a date for clearing old rows.
    """

    __tablename__ = "invitations"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    nonce_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_on: Mapped[dt.date] = mapped_column(Date, index=True)


# An outbox item is about a referral, a new account or a notice to a provider: exactly one.
ABOUT_ONE_THING = (
    "(CASE WHEN referral_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN account_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN letter_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN withdrawal_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN api_key_id IS NULL THEN 0 ELSE 1 END) = 1"
)


class OutboxItem(Base):
    """A delivery to make, written in the same transaction as what it is about: a referral (to
    the hotline's own system), a new account of the hotline (a neutral e-mail to its
    administrators), or a notice to a provider (and each reminder of it).

    It holds no case content and no address: the payload is built when it is sent, so erasing
    the case (which deletes this row with it) leaves nothing to send.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # About exactly one thing.
        CheckConstraint(ABOUT_ONE_THING, name="about_one_thing"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hotline_id: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    referral_id: Mapped[int | None] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    # The new account of the hotline this item announces.
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    # A notice to a provider (its first sending, or reminder number ``reminder``).
    letter_id: Mapped[int | None] = mapped_column(
        ForeignKey("notice_letters.id", ondelete="CASCADE"), index=True
    )
    reminder: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A referral a survivor withdrew: its hotline's system is told, with the reference only.
    withdrawal_id: Mapped[int | None] = mapped_column(
        ForeignKey("withdrawals.id", ondelete="CASCADE"), index=True
    )
    # A new API key of the hotline (a neutral e-mail to its administrators).
    api_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), index=True
    )
    # For a webhook: what it is about (None: a new referral, as before events had types).
    event: Mapped[WebhookEvent | None] = mapped_column(Code(WebhookEvent, 32))
    status: Mapped[OutboxStatus] = mapped_column(
        Code(OutboxStatus, 16), default=OutboxStatus.PENDING, index=True
    )
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    # A worker's claim, so that several workers never send the same item at once.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # A short code (http_503, timeout, tls, ...): never a payload or an answer's body.
    last_error: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # When an administrator last retried it after it died: the retry period counts from here
    # instead of ``created_at``.
    retry_from: Mapped[dt.datetime | None] = mapped_column(DateTime)

    referral: Mapped[Referral | None] = relationship()


class AuditEvent(Base):
    """Who did what to which object, and when. Never the content.

    ``occurred_at`` (a time) is kept only for accounts; a survivor's actions carry a date.
    ``case_id`` is a plain column so that erasing a case can remove its trail too.
    """

    __tablename__ = "audit_events"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int | None] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    occurred_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class SessionRecord(Base):
    """Server-side state behind a browser cookie or an API token.

    Only a SHA-256 of the random session id is stored, so a database copy cannot be used to take
    over a session. The data (journey answers, the signed-in case) is sealed.
    """

    __tablename__ = "sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    data_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ProviderNoticeMonth(Base):
    """How one hotline's notices sent to one provider in one month fared: anonymous counts, kept
    apart from cases so that erasing a case leaves them (DESIGN section 6b). Updated in the same
    transaction as the action that changes them."""

    __tablename__ = "provider_notice_months"

    hotline_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(200), primary_key=True)
    # Its first day; 0001-01-01 for the row that counts every month together.
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    notices: Mapped[int] = mapped_column(Integer, default=0)
    # Answered (removed or refused) within NO_RESPONSE_AFTER of being sent.
    answered_in_time: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    # Reminders the chase sent, and notices it took to the upstream provider.
    reminders: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalations: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Of the days from notice to removal, kept up to date from ProviderRemovalMonth with each
    # removal, so the page reads one row and never the distribution.
    median_days: Mapped[float | None] = mapped_column(Float)


class ProviderNoticeDay(Base):
    """The same counts per day the notices were sent: only the last days are read, to leave out
    notices too recent to count as unanswered."""

    __tablename__ = "provider_notice_days"

    hotline_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(200), primary_key=True)
    sent_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    notices: Mapped[int] = mapped_column(Integer, default=0)
    answered_in_time: Mapped[int] = mapped_column(Integer, default=0)


class ProviderRemovalMonth(Base):
    """How many notices sent in a month led to removal after how many days: the distribution the
    median is read from, without keeping any notice."""

    __tablename__ = "provider_removal_months"

    hotline_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(200), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)
    removals: Mapped[int] = mapped_column(Integer, default=0)


class FeedCounter(Base):
    """Each hotline's last number in its changes feed. Taken, a block at a time, as the last
    statement of every transaction that changes the hotline's referrals, so numbers become
    visible in the order they were taken (see :mod:`assistant.hotline.feed`)."""

    __tablename__ = "feed_counters"

    hotline_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class Withdrawal(Base):
    """A referral whose case the survivor withdrew and erased (or that reached the end of its
    retention), as its hotline may still know it: the referral's id (its reporting reference),
    a date and which of the two, nothing else. Kept for
    :data:`assistant.hotline.feed.WITHDRAWAL_KEPT_DAYS` so the hotline's system learns of it."""

    __tablename__ = "withdrawals"
    __table_args__ = (
        UniqueConstraint("hotline_id", "referral_id"),
        Index("ix_withdrawals_feed", "hotline_id", "feed_seq"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hotline_id: Mapped[str] = mapped_column(String(64))
    # A plain number, no foreign key: the referral is gone.
    referral_id: Mapped[int] = mapped_column(Integer)
    withdrawn_on: Mapped[dt.date] = mapped_column(Date, index=True)
    reason: Mapped[WithdrawalReason] = mapped_column(
        Code(WithdrawalReason, 16), default=WithdrawalReason.WITHDRAWN
    )
    feed_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class ApiKey(Base):
    """A hotline's key for its own case system. Only a SHA-256 of the key is stored: the key
    itself is shown once, when it is made."""

    __tablename__ = "api_keys"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    hotline_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(60))
    scopes: Mapped[list[ApiScope]] = mapped_column(CodeList(ApiScope), default=list)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The administrator who made it; NULL for the service operator (the CLI) or a gone account.
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    by_operator: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    # A date, never a time: enough to see a key nobody uses, without a trail of its calls here.
    last_used_on: Mapped[dt.date | None] = mapped_column(Date)
    # Set when the key is rotated: it keeps working until then, beside its successor.
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    replaced_by: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class ApiRequest(Base):
    """An action a hotline's system asked for with an ``Idempotency-Key``: the same key again
    gets the same answer and changes nothing. Written in the action's own transaction; kept for
    a day."""

    __tablename__ = "api_requests"
    __table_args__ = (UniqueConstraint("hotline_id", "idempotency_key"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    hotline_id: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    # SHA-256 of the method, path and body: the same key with another request is refused.
    request_digest: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class FilingReplay(Base):
    """The answer to a filing made with an ``Idempotency-Key`` (or from a web draft), kept for
    ten minutes so that a retry gets the same receipt instead of a second case.

    Unreadable from the database alone: the key is stored only as a keyed hash, and the answer
    (the receipt) is sealed with a key derived from the idempotency key itself, which only the
    client holds (see assistant.cases.replays)."""

    __tablename__ = "filing_replays"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Erasing the case erases its answer too, even within the ten minutes.
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # A keyed hash of what was sent: the same key with another request is refused.
    request_digest: Mapped[str] = mapped_column(String(64))
    answer_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)

    case: Mapped[Case] = relationship()
