"""The codes the product speaks in: statuses, roles, answers, assessments, actions.

Each vocabulary is defined once, here, as a :class:`~enum.StrEnum`, so the type checker catches a
misspelt code and every list of choices, label table and schema enum is derived from the same
definition. The values are the strings stored in the database and exchanged through the API; they
are stable. (The routing engine's own vocabularies, the kinds of place and the reasons for a
route, live in :mod:`assistant.routing`, which depends on nothing of the app.)
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from enum import StrEnum
from typing import TypeVar

V = TypeVar("V", bound=StrEnum)


def member(vocabulary: type[V], value: object) -> V | None:
    """``value`` as a member of ``vocabulary``, or None when it is not one: what the database,
    a session or a parameter holds is read back as a plain string."""
    try:
        return vocabulary(value) if isinstance(value, str) else None
    except ValueError:
        return None


class LocationStatus(StrEnum):
    """What a survivor sees per place (DESIGN section 5); the last four are outcomes."""

    RECEIVED = "received"
    WITH_HOTLINE = "with_hotline"
    NOTICE_SENT = "notice_sent"
    REMOVED = "removed"
    NOT_REMOVED = "not_removed"
    UNAVAILABLE = "unavailable"
    REFERRED = "referred"
    CLOSED = "closed"


# A place with one of these has an outcome: nothing more is done about it.
FINISHED_STATUSES = frozenset(
    {
        LocationStatus.REMOVED,
        LocationStatus.NOT_REMOVED,
        LocationStatus.UNAVAILABLE,
        LocationStatus.CLOSED,
    }
)
# Places waiting for a hotline to take them on: new, or passed on from another hotline.
WAITING_STATUSES = frozenset({LocationStatus.RECEIVED, LocationStatus.REFERRED})


class ReferralStatus(StrEnum):
    """A referral as its hotline's queue shows it."""

    RECEIVED = "received"  # new, or new places were added
    WITH_HOTLINE = "with_hotline"  # acknowledged
    REFERRED = "referred"  # moved here by another hotline, not yet acknowledged
    CLOSED = "closed"


class CaseStatus(StrEnum):
    """A case as a whole, as the survivor and their advocate see it."""

    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    FINISHED = "finished"


class Category(StrEnum):
    """What the survivor says the material shows or what is happening; all optional."""

    ABUSE_MATERIAL = "abuse_material"
    ABUSE_SERIES = "abuse_series"
    SEXUALISED_CONTEXT = "sexualised_context"
    PHYSICAL_ABUSE = "physical_abuse"
    IDENTIFYING_INFORMATION = "identifying_information"
    THREATS_HARASSMENT = "threats_harassment"
    UNSURE = "unsure"


class MinorAnswer(StrEnum):
    """Was the person under 18 in the material."""

    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


class FiledBy(StrEnum):
    SURVIVOR = "survivor"
    ADVOCATE = "advocate"


class Assessment(StrEnum):
    """A hotline's assessment of one place: one of the two notice types, or neither."""

    CSAM = "csam"
    HARMFUL_ABUSIVE = "harmful_abusive"
    NOT_ACTIONABLE = "not_actionable"
    NOT_FOUND = "not_found"


class NoticeType(StrEnum):
    """The framework's two notice types (DESIGN section 1)."""

    CSAM = "csam"
    HARMFUL_ABUSIVE = "harmful_abusive"


class HarmfulSubtype(StrEnum):
    """A harmful/abusive image: (a) from the abusive incident, (b) in a sexualised context,
    (c) physical abuse."""

    A = "a"
    B = "b"
    C = "c"


# Categories a survivor ticks -> the notice type they suggest (DESIGN section 5), and the sub-type
# of a harmful/abusive image each one suggests.
CATEGORY_NOTICE_TYPES: dict[Category, NoticeType] = {
    Category.ABUSE_MATERIAL: NoticeType.CSAM,
    Category.ABUSE_SERIES: NoticeType.HARMFUL_ABUSIVE,
    Category.SEXUALISED_CONTEXT: NoticeType.HARMFUL_ABUSIVE,
    Category.PHYSICAL_ABUSE: NoticeType.HARMFUL_ABUSIVE,
}
CATEGORY_SUBTYPES: dict[Category, HarmfulSubtype] = {
    Category.ABUSE_SERIES: HarmfulSubtype.A,
    Category.SEXUALISED_CONTEXT: HarmfulSubtype.B,
    Category.PHYSICAL_ABUSE: HarmfulSubtype.C,
}


def suggested_notice_type(categories: Iterable[Category]) -> NoticeType | None:
    """The notice type the survivor's answers suggest; type 1 wins over type 2."""
    suggested = {CATEGORY_NOTICE_TYPES[c] for c in categories if c in CATEGORY_NOTICE_TYPES}
    return min(suggested, key=list(NoticeType).index) if suggested else None


# An assessment as type 1 or type 2 calls for a notice of that type; the others for none.
ASSESSMENT_NOTICE_TYPES: dict[Assessment, NoticeType] = {
    Assessment.CSAM: NoticeType.CSAM,
    Assessment.HARMFUL_ABUSIVE: NoticeType.HARMFUL_ABUSIVE,
}


class ProviderResponse(StrEnum):
    REMOVED = "removed"
    REFUSED = "refused"
    NO_RESPONSE = "no_response"
    # The provider (through its response link) says the material is no longer there.
    NOT_FOUND = "not_found"


# Answers after which nothing more is asked of the provider about that place.
FINAL_RESPONSES = frozenset(
    {ProviderResponse.REMOVED, ProviderResponse.REFUSED, ProviderResponse.NOT_FOUND}
)


class Responder(StrEnum):
    """Who recorded a provider's answer: the provider itself through its response link, or
    hotline staff who heard it another way."""

    PROVIDER = "provider"
    STAFF = "staff"


class ChaseState(StrEnum):
    """Where the chase stands for one place of a sent notice (DESIGN section 6b)."""

    ACTIVE = "active"  # reminded every so often until a final answer
    PAUSED = "paused"  # held by staff, with a reason; resumable
    STOPPED = "stopped"  # ended by staff, with a reason
    ESCALATED = "escalated"  # the notice went to the upstream provider, which is chased instead
    NO_ANSWER = "no_answer"  # reminders ran out and nobody upstream is known: staff escalate
    ANSWERED = "answered"  # a final answer came


class ChaseHold(StrEnum):
    """Why staff paused or stopped the chase for a place."""

    PROVIDER_IN_CONTACT = "provider_in_contact"
    LAW_ENFORCEMENT = "law_enforcement"
    HANDLED_ELSEWHERE = "handled_elsewhere"
    OTHER = "other"
    # Set by the app, never chosen: the provider asked the hotline a question through its link.
    PROVIDER_QUESTION = "provider_question"


# The reasons staff choose from.
CHOSEN_CHASE_HOLDS = tuple(hold for hold in ChaseHold if hold != ChaseHold.PROVIDER_QUESTION)


class NoticeChannel(StrEnum):
    """How a composed notice reaches the provider."""

    EMAIL = "email"  # sent by the app, through the outbox


class LocationAction(StrEnum):
    """What staff do to a place; :data:`assistant.hotline.referrals.TRANSITIONS` says when."""

    ACKNOWLEDGE = "acknowledge"
    ASSESS_ACTIONABLE = "assess_actionable"
    ASSESS_NOT_ACTIONABLE = "assess_not_actionable"
    ASSESS_NOT_FOUND = "assess_not_found"
    NOTICE = "notice"
    RESPONSE_REMOVED = "response_removed"
    RESPONSE_REFUSED = "response_refused"
    RESPONSE_NO_RESPONSE = "response_no_response"
    RESPONSE_NOT_FOUND = "response_not_found"
    ESCALATE = "escalate"
    REROUTE = "reroute"
    CLOSE = "close"
    REOPEN = "reopen"


class CloseReason(StrEnum):
    """Why a referral (and its places without an outcome) was closed."""

    COMPLETED = "completed"
    DUPLICATE = "duplicate"
    NOT_ACTIONABLE = "not_actionable"
    OUTSIDE_REMIT = "outside_remit"
    OTHER = "other"
    # Set by the app, never chosen: every place of the referral was passed to another hotline.
    MOVED = "moved"


# The reasons staff choose from.
CHOSEN_CLOSE_REASONS = tuple(reason for reason in CloseReason if reason != CloseReason.MOVED)


class RerouteReason(StrEnum):
    """Why staff passed places to another hotline."""

    HOSTED_ELSEWHERE = "hosted_elsewhere"
    PROVIDER_ELSEWHERE = "provider_elsewhere"
    LANGUAGE = "language"
    OTHER = "other"


class StaffReason(StrEnum):
    """Why a place is where it is, besides the routing engine's reasons: staff moved it."""

    STAFF_REROUTED = "staff_rerouted"


class EventCode(StrEnum):
    """A step in a referral's timeline."""

    ROUTED = "routed"
    LOCATIONS_ADDED = "locations_added"
    ALREADY_REPORTED = "already_reported"  # never shown to the survivor
    WITH_HOTLINE = "with_hotline"
    ASSESSED = "assessed"
    UNAVAILABLE = "unavailable"
    CLOSED = "closed"
    NOTICE_SENT = "notice_sent"
    NOTICE_REPEATED = "notice_repeated"
    ESCALATED = "escalated"
    REMOVED = "removed"
    NOT_REMOVED = "not_removed"
    NO_RESPONSE = "no_response"
    REFERRED = "referred"
    PASSED_HERE = "passed_here"
    REFERRAL_CLOSED = "referral_closed"
    REFERRAL_REOPENED = "referral_reopened"
    PROVIDER_QUESTION = "provider_question"  # never shown to the survivor
    CHASE_PAUSED = "chase_paused"  # never shown to the survivor
    CHASE_STOPPED = "chase_stopped"  # never shown to the survivor
    CHASE_RESUMED = "chase_resumed"  # never shown to the survivor
    NO_ANSWER = "no_answer"  # never shown to the survivor: reminders ran out, escalate by hand
    ASSIGNED = "assigned"  # never shown to the survivor
    UNASSIGNED = "unassigned"  # never shown to the survivor


class Lane(IntEnum):
    """Where a referral sits in its hotline's queue: waiting for acknowledgement first, then open
    work, then closed. Kept on the row so every page of the queue is one index range."""

    WAITING = 0
    OPEN = 1
    CLOSED = 2


class DueAction(StrEnum):
    """What is due next on a referral or a place (DESIGN section 6b)."""

    ACKNOWLEDGE = "acknowledge"  # within 2 days of arriving
    RENOTICE = "renotice"  # 24 hours after a notice without removal
    SEND_NOTICE = "send_notice"  # assessed as actionable, and no notice yet
    REMIND = "remind"  # the chase reminds the provider (nothing for staff to do)
    ESCALATE = "escalate"  # reminders ran out with no upstream provider known
    ANSWER = "answer"  # the provider asked the hotline a question
    REVIEW_CHASE = "review_chase"  # a chase paused by staff, a week on


class MessageAuthor(StrEnum):
    SURVIVOR = "survivor"
    HOTLINE = "hotline"
    ADVOCATE = "advocate"


class Role(StrEnum):
    STAFF = "staff"
    # Staff of one hotline who also manage its accounts and settings.
    HOTLINE_ADMIN = "hotline_admin"
    ADMIN = "admin"
    ADVOCATE = "advocate"


# The roles that work a hotline's referrals.
HOTLINE_ROLES = frozenset({Role.STAFF, Role.HOTLINE_ADMIN})


class AccountStatus(StrEnum):
    PENDING = "pending"  # an advocate's registration, not yet approved
    ENROLLING = "enrolling"  # waiting for the person to set a password and TOTP
    ACTIVE = "active"
    SUSPENDED = "suspended"  # an advocate, for now
    DISABLED = "disabled"


class ConsentMethod(StrEnum):
    """How a survivor gave an advocate their consent to file for them."""

    IN_PERSON = "in_person"
    PHONE = "phone"
    WRITTEN = "written"
    OTHER = "other"


class AccessOrigin(StrEnum):
    """How an advocate came to a case: they filed it, or the survivor invited them."""

    FILED = "filed"
    INVITED = "invited"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"  # given up after the retry period; an administrator can retry it
    CANCELLED = "cancelled"  # the referral was re-routed to another hotline before it was sent


class ApiScope(StrEnum):
    """What a hotline's API key may do (DESIGN section 7, "Hotline systems API")."""

    READ = "read"  # the changes feed, a referral in full, its messages
    ACT = "act"  # the portal's actions on a referral
    MESSAGE = "message"  # write to the survivor


class WebhookEvent(StrEnum):
    """What a delivery to a hotline's own system is about (the ``type`` of its body)."""

    CREATED = "referral.created"
    PLACES_ADDED = "referral.places_added"
    SURVIVOR_MESSAGE = "referral.message"
    WITHDRAWN = "referral.withdrawn"


class WithdrawalReason(StrEnum):
    """Why a referral left its hotline's queue with nothing of it kept."""

    WITHDRAWN = "withdrawn"  # the survivor withdrew and erased the case
    EXPIRED = "expired"  # the case reached the end of its retention
