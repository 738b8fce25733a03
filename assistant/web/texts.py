"""Words for codes: routing reasons, statuses, timeline events and rejections, in the reader's
language. The domain speaks in codes with parameters; only this module turns them into sentences.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from enum import StrEnum
from functools import cache
from typing import Any
from typing import TypeVar
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates
from babel.core import get_global
from babel.dates import get_day_names
from babel.dates import get_timezone_location
from babel.support import NullTranslations
from flask import g
from flask import request
from flask_babel import format_date as babel_format_date
from flask_babel import get_locale
from flask_babel import get_translations
from flask_babel.speaklater import LazyString

from ..config import RTL_LANGUAGES
from ..routing import Directory
from ..routing import Intake
from ..routing import Kind
from ..routing import ReasonCode
from ..routing.countries import ISO_COUNTRIES
from ..support_resources import DAYS
from ..vocabulary import CaseStatus
from ..vocabulary import Category
from ..vocabulary import CloseReason
from ..vocabulary import EventCode
from ..vocabulary import LocationStatus
from ..vocabulary import MinorAnswer
from ..vocabulary import RerouteReason
from ..vocabulary import StaffReason
from ..vocabulary import member

# ---- the reader's language, found once a request --------------------------------------------


@dataclass(frozen=True)
class Reader:
    """The reader's language as this request found it (Flask-Babel's choice): its code, its
    locale (``None`` outside a request), the names of things in it (``names``: the locale, or
    English) and its translations.

    A page says a hundred sentences or more. Asking Flask-Babel for its locale and translations
    each time walks its request-local state through several proxies, which cost more than the
    translation itself: the answer is kept here, on the request, and found again while
    Flask-Babel's locale for the request is the same object (``force_locale`` and ``refresh``
    replace it, and so this too). Nothing here outlives the request.
    """

    locale: Locale | None
    language: str
    names: Locale
    translations: NullTranslations
    right_to_left: bool
    # The language's own digits, where it writes numbers with them (see native_digits).
    digits: dict[int, int] | None
    # Dates formatted for this reader in this request (a page shows the same day many times),
    # and routing reasons (places at the same hotline share theirs).
    dates: dict[dt.date, str] = field(default_factory=dict, compare=False)
    reasons: dict[Any, str] = field(default_factory=dict, compare=False)


# Where Flask-Babel keeps a request's locale (``g._flask_babel.babel_locale``), and where the
# reader is kept: on the request itself, so that nothing it remembers outlives it.
_BABEL_STATE = "_flask_babel"
_READER = "rra_reader"


@cache
def _english() -> Locale:
    return Locale.parse("en")


def reader() -> Reader:
    """The reader's language, translations and locale for this request (found anew for each use
    outside a request: English where there is no app context, as Flask-Babel answers there)."""
    try:
        current = request._get_current_object()  # type: ignore[attr-defined]
    except RuntimeError:
        return _new_reader()
    found: Reader | None = current.__dict__.get(_READER)
    if found is not None:
        state = g._get_current_object().__dict__.get(_BABEL_STATE)
        if found.locale is getattr(state, "babel_locale", None):
            return found
    found = _new_reader()
    setattr(current, _READER, found)
    return found


def _new_reader() -> Reader:
    locale = get_locale()
    language = str(locale or "en")
    return Reader(
        locale,
        language,
        locale or _english(),
        get_translations(),
        language in RTL_LANGUAGES,
        NATIVE_DIGITS.get(language),
    )


# Languages whose readers write numbers in their own digits (CLDR's default numbering system
# for Persian is "arabext": ۰۱۲…۹). Babel formats dates and numbers with European digits in
# every locale, so they are changed here: in dates, and in counts put into sentences. Codes
# (a case number, a passphrase, an address) are text, never changed.
NATIVE_DIGITS = {"fa": str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")}
_COUNT = re.compile(r"%\((\w+)\)d")


def native_digits(text: str) -> str:
    """``text`` with its digits in the reader's own, where their language has them."""
    table = reader().digits
    return text.translate(table) if table else text


def in_native_digits(
    text: str, variables: dict[str, Any], found: Reader
) -> tuple[str, dict[str, Any]]:
    """A sentence and the values put into it, each count (a value that is an ``int``) written in
    the reader's own digits, where their language has them. Text is left as it is, digits and
    all: a note or a name someone typed is shown, and copied, as they typed it."""
    table = found.digits
    if not table or not variables:
        return text, variables
    counts = {
        name: str(value).translate(table)
        for name, value in variables.items()
        if isinstance(value, int) and not isinstance(value, bool)
    }
    if not counts:
        return text, variables
    text = _COUNT.sub(lambda m: f"%({m.group(1)})s" if m.group(1) in counts else m.group(0), text)
    return text, {**variables, **counts}


# Flask-Babel's gettext, ngettext and lazy_gettext, through :func:`reader` (same results).
def _(string: str, **variables: Any) -> str:
    found = reader()
    translated: str = found.translations.ugettext(string)
    if not variables:
        return translated
    translated, variables = in_native_digits(translated, variables, found)
    return translated % variables


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    found = reader()
    translated: str = found.translations.ungettext(singular, plural, num)
    translated, variables = in_native_digits(translated, variables, found)
    return translated % variables


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    return LazyString(_, string, **variables)


def format_date(date: dt.date | None = None, format: str | None = None) -> str:
    """A day in the reader's words (Flask-Babel's ``format_date``, its "medium" format)."""
    if format is not None or not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        return str(babel_format_date(date, format))
    found = reader()
    if found.locale is None:
        return str(babel_format_date(date))
    text = found.dates.get(date)
    if text is None:
        text = dates.format_date(date, "medium", locale=found.locale)
        if found.digits:
            text = text.translate(found.digits)
        found.dates[date] = text
    return text


KIND_LABELS = {
    Kind.URL: lazy_gettext("Link"),
    Kind.ACCOUNT: lazy_gettext("Account or profile"),
    Kind.GROUP: lazy_gettext("Group, channel or chat"),
    Kind.P2P: lazy_gettext("File-sharing (peer-to-peer)"),
    Kind.OTHER: lazy_gettext("Something else"),
}
# In the question itself, "other" also takes "I'm not sure": every question has that answer.
KIND_CHOICE_LABELS = {
    **KIND_LABELS,
    Kind.OTHER: lazy_gettext("Something else, or I'm not sure"),
}

CATEGORY_LABELS = {
    Category.ABUSE_MATERIAL: lazy_gettext("Images or videos of the sexual abuse itself"),
    Category.ABUSE_SERIES: lazy_gettext(
        "Other images from the same abuse: before, after, cropped or covered"
    ),
    Category.SEXUALISED_CONTEXT: lazy_gettext("Images of me as a child shared in a sexual way"),
    Category.PHYSICAL_ABUSE: lazy_gettext("Images of me being hurt, tied up or restrained"),
    Category.IDENTIFYING_INFORMATION: lazy_gettext(
        "My name, school, city or current photos posted with it"
    ),
    Category.THREATS_HARASSMENT: lazy_gettext("Someone is contacting or threatening me with it"),
    Category.UNSURE: lazy_gettext("I'm not sure"),
}

MINOR_LABELS = {
    MinorAnswer.YES: lazy_gettext("Yes"),
    MinorAnswer.NO: lazy_gettext("No"),
    MinorAnswer.UNSURE: lazy_gettext("I'm not sure"),
}

STATUS_LABELS = {
    LocationStatus.RECEIVED: lazy_gettext("Received"),
    LocationStatus.WITH_HOTLINE: lazy_gettext("With the hotline"),
    LocationStatus.NOTICE_SENT: lazy_gettext("Removal requested"),
    LocationStatus.REMOVED: lazy_gettext("Removed"),
    LocationStatus.NOT_REMOVED: lazy_gettext("Not removed yet"),
    LocationStatus.UNAVAILABLE: lazy_gettext("No longer there"),
    LocationStatus.REFERRED: lazy_gettext("Passed on"),
    LocationStatus.CLOSED: lazy_gettext("Closed"),
}

STATUS_EXPLANATIONS = {
    LocationStatus.RECEIVED: lazy_gettext(
        "Your request is waiting for the hotline. Most hotlines look at new requests within a few "
        "working days."
    ),
    LocationStatus.WITH_HOTLINE: lazy_gettext(
        "The hotline is checking this place. This usually takes a few days. You do not need to do "
        "anything."
    ),
    LocationStatus.NOTICE_SENT: lazy_gettext(
        "The hotline asked the site to remove it, and asks again every day until it is gone. Many "
        "sites act within a few days."
    ),
    LocationStatus.REMOVED: lazy_gettext("The site removed it."),
    LocationStatus.NOT_REMOVED: lazy_gettext(
        "The site has not removed it yet. The hotline may contact the company that hosts the site. "
        "This can take a few weeks."
    ),
    LocationStatus.UNAVAILABLE: lazy_gettext(
        "It could no longer be found at this place. If you learn that it is back, you can add the "
        "place again."
    ),
    LocationStatus.REFERRED: lazy_gettext(
        "It was passed to another hotline or to the police, who can act where it is. Any news "
        "appears on this page."
    ),
    LocationStatus.CLOSED: lazy_gettext(
        "The hotline closed this place without sending a removal request."
    ),
}

V = TypeVar("V", bound=StrEnum)
T = TypeVar("T")

CASE_STATUS_LABELS = {
    CaseStatus.RECEIVED: lazy_gettext("Received, waiting for the hotline"),
    CaseStatus.IN_PROGRESS: lazy_gettext("In progress"),
    CaseStatus.FINISHED: lazy_gettext("Every place has an outcome"),
}


def looked_up(table: Mapping[V, T], vocabulary: type[V], value: object) -> T | None:
    """What ``table`` has for ``value`` read as a member of ``vocabulary``, if anything."""
    found = member(vocabulary, value)
    return None if found is None else table.get(found)


def current_language() -> str:
    return reader().language


def country_name(code: str | None) -> str:
    return _country_name(code, reader())


def _country_name(code: str | None, found: Reader) -> str:
    if not code:
        return ""
    upper = code.upper()
    return str(found.names.territories.get(upper, upper))


def country_choices() -> list[tuple[str, str]]:
    """ISO 3166 countries named in the reader's language, sorted by that name."""
    territories = reader().names.territories
    names = {code: str(territories.get(code, code)) for code in ISO_COUNTRIES}
    return sorted(names.items(), key=lambda item: item[1].casefold())


# Unicode's first-strong isolate and its end: what <bdi> is to markup, for text that has no
# markup (a sentence, a page title, an attribute). A name, an address or a reference put into a
# right-to-left sentence keeps its own direction and leaves the sentence's punctuation in place.
FSI = "\u2068"
PDI = "\u2069"


def reading_right_to_left() -> bool:
    """Whether the reader's language is written right to left."""
    return reader().right_to_left


def isolated(value: T) -> T:
    """``value`` (a name, an address, a reference) isolated for a right-to-left reader; as it is
    otherwise, and for anything that is not text (a count)."""
    return _isolated(value, reader())


def _isolated(value: T, found: Reader) -> T:
    if not isinstance(value, str) or not value or not found.right_to_left:
        return value
    if value.startswith(FSI):
        return value
    return type(value)(FSI) + value + type(value)(PDI)  # type: ignore[return-value]


def hotline_name(directory: Directory, hotline_id: str | None) -> str:
    hotline = directory.get(hotline_id or "")
    return hotline.name if hotline else _("another hotline")


# ---- why a place went where it went ----------------------------------------------------------

# Each routing reason as a sentence; the parameters come from :class:`_ReasonWords`.
REASON_TEXTS = {
    ReasonCode.DARK_WEB: lazy_gettext(
        "It is on the dark web; %(hotline)s takes reports of dark-web sites."
    ),
    ReasonCode.PEER_TO_PEER: lazy_gettext(
        "It is shared peer-to-peer; %(hotline)s takes reports of file-sharing."
    ),
    ReasonCode.KIND_NOT_ACCEPTED: lazy_gettext(
        "%(hotline)s, the hotline where you live, does not say it takes reports of file-sharing."
    ),
    ReasonCode.DARK_WEB_NO_HOTLINE: lazy_gettext(
        "No hotline in our list says it takes reports of dark-web sites."
    ),
    ReasonCode.PEER_TO_PEER_NO_HOTLINE: lazy_gettext(
        "No hotline in our list says it takes reports of file-sharing."
    ),
    ReasonCode.NAMED_PLATFORM: lazy_gettext("You said it is on %(provider)s."),
    ReasonCode.PLATFORM_NOT_KNOWN: lazy_gettext("The platform you named is not in our list."),
    ReasonCode.SHORTENER: lazy_gettext(
        "%(provider)s makes short links. We never open a link, so we cannot see where this "
        "one leads; it goes to the hotline that can ask %(provider)s to act on it."
    ),
    ReasonCode.PROVIDER_HOTLINE: lazy_gettext("%(hotline)s handles reports about %(provider)s."),
    ReasonCode.PROVIDER_COUNTRY_UNKNOWN: lazy_gettext(
        "%(provider)s is a service we know, but we are not sure where it is established."
    ),
    ReasonCode.KNOWN_PROVIDER: lazy_gettext(
        "%(provider)s is run by %(operator)s, established in %(country)s."
    ),
    ReasonCode.COUNTRY_CODE_DOMAIN: lazy_gettext(
        "The address ends in .%(tld)s, the domain of %(country)s. Sites are often, but not "
        "always, hosted in the country of their domain."
    ),
    ReasonCode.GENERIC_COUNTRY_CODE: lazy_gettext(
        "The address ends in .%(tld)s, the domain of %(country)s, but sites anywhere use it, "
        "so it does not tell where the site is."
    ),
    ReasonCode.GENERIC_DOMAIN: lazy_gettext(
        "The address ends in .%(tld)s, which does not point to any country."
    ),
    ReasonCode.IP_ADDRESS: lazy_gettext(
        "The address is a number, which does not point to any country on its own."
    ),
    ReasonCode.HOSTING_COUNTRY: lazy_gettext("The site appears to be hosted in %(country)s."),
    ReasonCode.COUNTRY_HOTLINE: lazy_gettext("%(hotline)s is the hotline for %(country)s."),
    ReasonCode.NO_HOTLINE_IN_COUNTRY: lazy_gettext(
        "There is no hotline for %(country)s in our list."
    ),
    ReasonCode.NO_ADDRESS: lazy_gettext("There is no web address to tell where it is hosted."),
    ReasonCode.SURVIVOR_COUNTRY: lazy_gettext(
        "We could not tell where it is hosted, so it goes to %(hotline)s, the hotline for "
        "%(country)s, where you live."
    ),
    ReasonCode.FALLBACK: lazy_gettext(
        "%(hotline)s sends removal requests to sites anywhere in the world."
    ),
    StaffReason.STAFF_REROUTED: lazy_gettext("%(old)s passed it to %(hotline)s."),
}
# The real special cases: the same code, other words.
KNOWN_PROVIDER_NOT_LISTED = lazy_gettext("The service is established in %(country)s.")
DARK_WEB_NOT_ACCEPTED = lazy_gettext(
    "%(hotline)s, the hotline where you live, does not say it takes reports of dark-web sites."
)

REROUTE_EXPLANATIONS = {
    RerouteReason.HOSTED_ELSEWHERE: lazy_gettext(
        "The site is hosted in a country that hotline covers."
    ),
    RerouteReason.PROVIDER_ELSEWHERE: lazy_gettext(
        "The company that runs the site is established where that hotline works."
    ),
    RerouteReason.LANGUAGE: lazy_gettext("That hotline can write to you in your language."),
}


def _with_explanation(text: str, reason: object) -> str:
    """A sentence, then why staff moved it when they said (``other`` says nothing more)."""
    why = looked_up(REROUTE_EXPLANATIONS, RerouteReason, reason)
    return f"{text} {why}" if why else text


class _ReasonWords(dict[str, str]):
    """The words a reason's sentence puts in, each found when the sentence asks for it (most
    sentences want one or two of them)."""

    def __init__(self, params: Mapping[str, Any], directory: Directory, found: Reader) -> None:
        super().__init__()
        self.params = params
        self.directory = directory
        self.found = found

    def __missing__(self, key: str) -> str:
        params, directory, found = self.params, self.directory, self.found
        if key == "country":
            word = _isolated(_country_name(params.get("country"), found), found)
        elif key == "hotline":
            word = _isolated(hotline_name(directory, params.get("hotline")), found)
        elif key == "old":
            word = _isolated(hotline_name(directory, params.get("from")), found)
        elif key == "tld":
            word = _isolated(str(params.get("tld", "")), found)
        elif key in ("provider", "operator"):
            provider = directory.provider(params.get("provider") or "")
            if key == "operator":
                word = _isolated(provider.operator, found) if provider else ""
            else:
                word = _isolated(provider.name, found) if provider else _("this service")
        else:
            raise KeyError(key)
        self[key] = word
        return word


def reason_text(reason: Mapping[str, Any], directory: Directory) -> str:
    """One routing reason as a sentence."""
    found = reader()
    code = reason.get("code", "")
    params = reason.get("params") or {}
    try:
        key: Any = (code, id(directory), *sorted(params.items()))
        text = found.reasons.get(key)
    except TypeError:  # a parameter that is not a plain value: not kept
        key = text = None
    if text is None:
        text = _reason_text(code, params, directory, found)
        if key is not None:
            found.reasons[key] = text
    return text


def _reason_text(code: Any, params: Mapping[str, Any], directory: Directory, found: Reader) -> str:
    words = _ReasonWords(params, directory, found)
    template = REASON_TEXTS.get(code)
    if (
        code == ReasonCode.KNOWN_PROVIDER
        and directory.provider(params.get("provider") or "") is None
    ):
        template = KNOWN_PROVIDER_NOT_LISTED
    elif code == ReasonCode.KIND_NOT_ACCEPTED and params.get("kind") == ReasonCode.DARK_WEB:
        template = DARK_WEB_NOT_ACCEPTED
    if template is None:
        return _("Routing decision")
    text = str(template) % words
    if code == StaffReason.STAFF_REROUTED:
        return _with_explanation(text, params.get("reason"))
    return text


# ---- what happened, as the survivor reads it --------------------------------------------------

# A reason not listed here (a duplicate among them: saying so would tell the survivor that someone
# else reported the place) reads as the plain "closed" explanation.
SURVIVOR_CLOSE_REASONS = {
    CloseReason.NOT_ACTIONABLE: lazy_gettext(
        "The hotline closed this place: it found nothing there that it can ask the site to remove."
    ),
    CloseReason.OUTSIDE_REMIT: lazy_gettext(
        "The hotline closed this place because it cannot act on it. Support is still here for you."
    ),
}


@dataclass(frozen=True)
class EventWords:
    """What a timeline entry's words are made of."""

    count: int
    hotline: str
    reason: str
    # A reminder's number; whether the provider itself answered (through its response link);
    # the day the provider says it removed the material, in the reader's language.
    reminder: int = 0
    by_provider: bool = False
    removed_on: str = ""


def _event_words(params: Mapping[str, Any], directory: Directory | None) -> EventWords:
    hotline = params.get("hotline")
    removed_on = ""
    try:
        if params.get("removed_on"):
            removed_on = format_date(dt.date.fromisoformat(str(params["removed_on"])))
    except ValueError:
        removed_on = ""
    return EventWords(
        count=int(params.get("count", 0) or 0),
        hotline=isolated(hotline_name(directory, hotline)) if directory and hotline else "",
        reason=str(params.get("reason") or ""),
        reminder=int(params.get("reminder", 0) or 0),
        by_provider=params.get("by") == "provider",
        removed_on=removed_on,
    )


def _removed(w: EventWords) -> str:
    if w.by_provider and w.removed_on:
        return _("The site says it was removed (%(date)s).", date=w.removed_on)
    if w.by_provider:
        return _("The site says it was removed.")
    return str(STATUS_EXPLANATIONS[LocationStatus.REMOVED])


EVENT_TEXTS: dict[EventCode, Callable[[EventWords], str]] = {
    EventCode.ROUTED: lambda w: (
        ngettext(
            "Your request was assigned to %(hotline)s (%(num)d place).",
            "Your request was assigned to %(hotline)s (%(num)d places).",
            w.count,
            hotline=w.hotline,
        )
        if w.hotline
        else ngettext(
            "Your request was assigned to this hotline (%(num)d place).",
            "Your request was assigned to this hotline (%(num)d places).",
            w.count,
        )
    ),
    EventCode.LOCATIONS_ADDED: lambda w: ngettext(
        "You added %(num)d more place.", "You added %(num)d more places.", w.count
    ),
    EventCode.WITH_HOTLINE: lambda w: ngettext(
        "The hotline took on your request (%(num)d place) and is checking it. You do not "
        "need to do anything.",
        "The hotline took on your request (%(num)d places) and is checking them. You do not "
        "need to do anything.",
        w.count,
    ),
    EventCode.NOTICE_SENT: lambda w: _("The hotline asked the site to remove it."),
    EventCode.NOTICE_REPEATED: lambda w: (
        _("The hotline asked the site again (reminder %(num)d).", num=w.reminder)
        if w.reminder
        else _("The hotline asked the site again.")
    ),
    EventCode.REMOVED: _removed,
    EventCode.UNAVAILABLE: lambda w: (
        _("The site says it is no longer there.")
        if w.by_provider
        else str(STATUS_EXPLANATIONS[LocationStatus.UNAVAILABLE])
    ),
    EventCode.ESCALATED: lambda w: _(
        "The site had not removed it, so the hotline asked the company that hosts the "
        "site to remove it."
    ),
    EventCode.NOT_REMOVED: lambda w: _(
        "The site refused to remove it. The hotline can ask the company that hosts the site."
    ),
    EventCode.REFERRED: lambda w: _with_explanation(
        _(
            "Passed to %(hotline)s, which can act where it is.",
            hotline=w.hotline or _("another hotline"),
        ),
        w.reason,
    ),
    EventCode.PASSED_HERE: lambda w: ngettext(
        "%(hotline)s passed %(num)d place to this hotline.",
        "%(hotline)s passed %(num)d places to this hotline.",
        w.count,
        hotline=w.hotline or _("another hotline"),
    ),
    EventCode.CLOSED: lambda w: str(
        looked_up(SURVIVOR_CLOSE_REASONS, CloseReason, w.reason)
        or STATUS_EXPLANATIONS[LocationStatus.CLOSED]
    ),
    EventCode.REFERRAL_REOPENED: lambda w: _(
        "The hotline reopened your request and is working on it again. You do not need to do "
        "anything."
    ),
}


def event_text(code: str, params: Mapping[str, Any], directory: Directory | None = None) -> str:
    """A timeline entry as the survivor reads it: what happened, in plain words, never who."""
    render = looked_up(EVENT_TEXTS, EventCode, code)
    if render is not None:
        return str(render(_event_words(params, directory)))
    status = member(LocationStatus, code)
    return str(STATUS_EXPLANATIONS[status]) if status else _("Update from the hotline")


REJECTION_TEXTS = {
    "empty": lazy_gettext("This is empty. Write where the material is, or remove this line."),
    "too_long": lazy_gettext("This is too long: at most %(limit)s characters."),
    "control_characters": lazy_gettext(
        "This contains invisible control characters. Please type or paste it again."
    ),
    "unsafe_scheme": lazy_gettext(
        "A “%(scheme)s:” address is not a place on the internet and cannot be sent. Copy the "
        "address from the browser's address bar instead."
    ),
    "unknown_scheme": lazy_gettext(
        "Addresses starting with “%(scheme)s:” cannot be used here. If it is a place on the "
        "internet, copy the address from the browser's address bar; otherwise choose "
        "“Something else”."
    ),
    "not_a_link": lazy_gettext(
        "This does not look like a web address. If it is a name, account or group, choose that "
        "kind instead."
    ),
    "no_host": lazy_gettext("This address has no site name in it."),
    "bad_host": lazy_gettext(
        "The site name in this address is not valid. Check for typing errors."
    ),
    "is_p2p": lazy_gettext("This is a file-sharing link; choose “File-sharing”."),
    "unknown_kind": lazy_gettext("Choose what kind of place this is."),
    "too_many_locations": lazy_gettext(
        "A request can hold at most %(limit)s places. Send these first; you can add more later "
        "from your request's page."
    ),
    "too_many_lines": lazy_gettext(
        "That is more than %(limit)s lines. Please paste at most %(places)s places at a time."
    ),
    "no_locations": lazy_gettext("Add at least one place where the material appears."),
    "already_listed": lazy_gettext("These places are already part of your request."),
}


MESSAGE_REFUSALS = {
    "empty": lazy_gettext("Write a message first."),
    "too_long": lazy_gettext("This message is too long: at most %(limit)s characters."),
    "control_characters": lazy_gettext(
        "This message contains invisible control characters. Please type it again."
    ),
    "choose_hotline": lazy_gettext("Choose which hotline to write to."),
    "unknown_referral": lazy_gettext("Choose which hotline to write to."),
    "not_connected": lazy_gettext(
        "This hotline is not connected to this service, so nobody there would read a message "
        "written here."
    ),
}


def refusal_text(
    table: Mapping[str, Any], code: str, params: Mapping[str, str], fallback: str | None = None
) -> str:
    """A refusal's code (with its parameters) as the sentence ``table`` has for it."""
    template = table.get(code)
    if template is None:
        return fallback or _("That could not be done.")
    # A refusal's parameters are the domain's own (a limit, an address's scheme), never what
    # someone typed, and travel as text: one written in digits is a count.
    values: dict[str, Any] = {
        name: int(value)
        if isinstance(value, str) and value.isascii() and value.isdecimal()
        else value
        for name, value in params.items()
    }
    text, values = in_native_digits(str(template), values, reader())
    return text % values


def rejection_text(code: str, params: Mapping[str, str]) -> str:
    """Why a place (or a list of them) could not be used."""
    return refusal_text(REJECTION_TEXTS, code, params, _("This could not be used."))


def message_rejection_text(code: str, params: Mapping[str, str]) -> str:
    """Why a message to the hotline could not be sent."""
    return refusal_text(MESSAGE_REFUSALS, code, params, _("Write a message first."))


INTAKE_TEXTS = {
    Intake.HANDOFF: lazy_gettext(
        "Not connected to this service yet. Requests are assigned to it, and we show you its own "
        "reporting page so that you can report there too."
    ),
    Intake.PORTAL: lazy_gettext("Connected: its staff receive requests in this service directly."),
    Intake.WEBHOOK: lazy_gettext("Connected: requests reach its own case system directly."),
    Intake.EMAIL: lazy_gettext("Connected: requests reach it by encrypted e-mail."),
}


def place_kind_text(kind: str, platform: str | None = None) -> str:
    """What a place is, as its line starts: "Account or profile on Instagram"."""
    label = str(looked_up(KIND_LABELS, Kind, kind) or KIND_LABELS[Kind.OTHER])
    if platform:
        return _("%(kind)s on %(platform)s", kind=label, platform=isolated(platform))
    return label


def places_summary(places: list[tuple[str, str, str | None, str | None]]) -> str:
    """The places going to one hotline as plain text, for the survivor to paste into that
    hotline's own reporting form: one numbered line each (what it is, the place as given), and
    its note under it. ``places`` holds (kind, value, platform, note)."""
    lines = [_("Places where the material appears:")]
    for number, (kind, value, platform, note) in enumerate(places, start=1):
        # Text to paste elsewhere: no invisible direction marks in it.
        label = str(looked_up(KIND_LABELS, Kind, kind) or KIND_LABELS[Kind.OTHER])
        if platform:
            label = _("%(kind)s on %(platform)s", kind=label, platform=platform)
        lines.append(f"{number}. {label}: {value}")
        if note:
            lines.append("   " + _("Note: %(note)s", note=" ".join(note.split())))
    return "\n".join(lines)


def accepts_text(flag: bool | None) -> str:
    """Whether a hotline takes a kind of report: yes, no, or it does not say."""
    if flag is None:
        return _("Not stated")
    return _("Yes") if flag else _("No")


def language_name(code: str) -> str:
    return str(reader().names.languages.get(code, code))


# ---- support resources ----------------------------------------------------------------------

RESOURCE_KIND_LABELS = {
    "emergency": lazy_gettext("Emergency number"),
    "crisis_line": lazy_gettext("Crisis line: someone to talk to now"),
    "child_helpline": lazy_gettext("Helpline for children and young people"),
    "survivor_organisation": lazy_gettext("Support for survivors of sexual abuse"),
    "reporting_help": lazy_gettext("Help with reporting images online"),
}

AUDIENCE_LABELS = {
    "everyone": lazy_gettext("For everyone"),
    "children": lazy_gettext("For children and young people"),
    "adults": lazy_gettext("For adults"),
}


def _day_range(days: tuple[str, ...]) -> str:
    """ "mon".."fri" as the reader's short day names; a run of 3 or more days as a range."""
    names = get_day_names("abbreviated", locale=reader().names)
    indexes = sorted(DAYS.index(day) for day in days)
    runs: list[list[int]] = []
    for index in indexes:
        if runs and index == runs[-1][-1] + 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{names[run[0]]}–{names[run[-1]]}")
        else:
            parts.extend(str(names[index]) for index in run)
    return ", ".join(parts)


def hours_text(resource: Any) -> str:
    """When a service answers, in the reader's words, and where those hours are counted."""
    if resource.always_open:
        return _("Open day and night, every day")
    if not resource.hours:
        return _("Opening hours: see their website")
    times = "; ".join(
        f"{_day_range(item.days)} {item.opens}–{item.closes}" for item in resource.hours
    )
    city = get_timezone_location(resource.timezone, locale=reader().names, return_city=True)
    if not resource.country:
        place = city
    elif _one_clock(resource.country):
        place = country_name(resource.country)
    else:  # "Australia, Sydney": the country alone would not say which clock
        place = f"{country_name(resource.country)}, {city}"
    return _("%(times)s (%(zone)s)", times=times, zone=place)


@cache
def _one_clock(country: str) -> bool:
    """Whether every time zone of a country keeps the same time today."""
    zones = get_global("territory_zones").get(country, ())
    now = dt.datetime.now(dt.UTC)
    return len({ZoneInfo(zone).utcoffset(now) for zone in zones}) <= 1


def languages_text(resource: Any) -> str:
    """The languages a service answers in, each named in the reader's language."""
    return ", ".join(map(language_name, resource.languages))
