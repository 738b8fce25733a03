"""Words for codes: routing reasons, statuses, timeline events and rejections, in the reader's
language. The domain speaks in codes with parameters; only this module turns them into sentences.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.core import get_global
from babel.dates import get_day_names, get_timezone_location
from flask_babel import get_locale, lazy_gettext, ngettext
from flask_babel import gettext as _

from ..routing import Directory
from ..routing.countries import ISO_COUNTRIES
from ..support_resources import DAYS

KIND_LABELS = {
    "url": lazy_gettext("Link"),
    "account": lazy_gettext("Account or profile"),
    "group": lazy_gettext("Group, channel or chat"),
    "p2p": lazy_gettext("File-sharing (peer-to-peer)"),
    "other": lazy_gettext("Something else"),
}
# In the question itself, "other" also takes "I'm not sure": every question has that answer.
KIND_CHOICE_LABELS = {
    **KIND_LABELS,
    "other": lazy_gettext("Something else, or I'm not sure"),
}

CATEGORY_LABELS = {
    "abuse_material": lazy_gettext("Images or videos of the sexual abuse itself"),
    "abuse_series": lazy_gettext(
        "Other images from the same abuse: before, after, cropped or covered"
    ),
    "sexualised_context": lazy_gettext("Images of me as a child shared in a sexual way"),
    "physical_abuse": lazy_gettext("Images of me being hurt, tied up or restrained"),
    "identifying_information": lazy_gettext(
        "My name, school, city or current photos posted with it"
    ),
    "threats_harassment": lazy_gettext("Someone is contacting or threatening me with it"),
    "unsure": lazy_gettext("I'm not sure"),
}

MINOR_LABELS = {
    "yes": lazy_gettext("Yes"),
    "no": lazy_gettext("No"),
    "unsure": lazy_gettext("I'm not sure"),
}

STATUS_LABELS = {
    "received": lazy_gettext("Received"),
    "with_hotline": lazy_gettext("With the hotline"),
    "notice_sent": lazy_gettext("Removal requested"),
    "removed": lazy_gettext("Removed"),
    "not_removed": lazy_gettext("Not removed yet"),
    "unavailable": lazy_gettext("No longer there"),
    "referred": lazy_gettext("Passed on"),
    "closed": lazy_gettext("Closed"),
}

STATUS_EXPLANATIONS = {
    "received": lazy_gettext(
        "Your request is waiting for the hotline. Most hotlines look at new requests within a few "
        "working days."
    ),
    "with_hotline": lazy_gettext(
        "The hotline is checking this place. This usually takes a few days. You do not need to do "
        "anything."
    ),
    "notice_sent": lazy_gettext(
        "The hotline asked the site to remove it, and asks again every day until it is gone. Many "
        "sites act within a few days."
    ),
    "removed": lazy_gettext("The site removed it."),
    "not_removed": lazy_gettext(
        "The site has not removed it yet. The hotline may contact the company that hosts the site. "
        "This can take a few weeks."
    ),
    "unavailable": lazy_gettext(
        "It could no longer be found at this place. If you learn that it is back, you can add the "
        "place again."
    ),
    "referred": lazy_gettext(
        "It was passed to another hotline or to the police, who can act where it is. Any news "
        "appears on this page."
    ),
    "closed": lazy_gettext("The hotline closed this place without sending a removal request."),
}

CASE_STATUS_LABELS = {
    "received": lazy_gettext("Received, waiting for the hotline"),
    "in_progress": lazy_gettext("In progress"),
    "finished": lazy_gettext("Every place has an outcome"),
}


def current_language() -> str:
    return str(get_locale() or "en")


def country_name(code: str | None) -> str:
    if not code:
        return ""
    locale = get_locale() or Locale("en")
    return str(locale.territories.get(code.upper(), code.upper()))


def country_choices() -> list[tuple[str, str]]:
    """ISO 3166 countries named in the reader's language, sorted by that name."""
    locale = get_locale() or Locale("en")
    names = {code: str(locale.territories.get(code, code)) for code in ISO_COUNTRIES}
    return sorted(names.items(), key=lambda item: item[1].casefold())


def hotline_name(directory: Directory, hotline_id: str | None) -> str:
    hotline = directory.get(hotline_id or "")
    return hotline.name if hotline else _("another hotline")


def reason_text(reason: Mapping[str, Any], directory: Directory) -> str:
    """One routing reason as a sentence."""
    code = reason.get("code", "")
    params = reason.get("params") or {}
    country = country_name(params.get("country"))
    hotline = hotline_name(directory, params.get("hotline"))
    tld = params.get("tld", "")
    provider = directory.provider(params.get("provider") or "")
    provider_name = provider.name if provider else _("this service")
    if code == "known_provider":
        if provider is None:
            return _("The service is established in %(country)s.", country=country)
        return _(
            "%(provider)s is run by %(operator)s, established in %(country)s.",
            provider=provider_name,
            operator=provider.operator,
            country=country,
        )
    if code == "named_platform":
        return _("You said it is on %(provider)s.", provider=provider_name)
    if code == "provider_country_unknown":
        return _(
            "%(provider)s is a service we know, but we are not sure where it is established.",
            provider=provider_name,
        )
    if code == "provider_hotline":
        return _(
            "%(hotline)s handles reports about %(provider)s.",
            hotline=hotline,
            provider=provider_name,
        )
    if code == "shortener":
        return _(
            "%(provider)s makes short links. We never open a link, so we cannot see where this "
            "one leads; it goes to the hotline that can ask %(provider)s to act on it.",
            provider=provider_name,
        )
    if code == "platform_not_known":
        return _("The platform you named is not in our list.")
    if code == "generic_country_code":
        return _(
            "The address ends in .%(tld)s, the domain of %(country)s, but sites anywhere use it, "
            "so it does not tell where the site is.",
            tld=tld,
            country=country,
        )
    if code == "kind_not_accepted":
        if params.get("kind") == "dark_web":
            return _(
                "%(hotline)s, the hotline where you live, does not say it takes reports of "
                "dark-web sites.",
                hotline=hotline,
            )
        return _(
            "%(hotline)s, the hotline where you live, does not say it takes reports of "
            "file-sharing.",
            hotline=hotline,
        )
    if code == "dark_web":
        return _(
            "It is on the dark web; %(hotline)s takes reports of dark-web sites.", hotline=hotline
        )
    if code == "peer_to_peer":
        return _(
            "It is shared peer-to-peer; %(hotline)s takes reports of file-sharing.", hotline=hotline
        )
    if code == "dark_web_no_hotline":
        return _("No hotline in our list says it takes reports of dark-web sites.")
    if code == "peer_to_peer_no_hotline":
        return _("No hotline in our list says it takes reports of file-sharing.")
    if code == "country_code_domain":
        return _(
            "The address ends in .%(tld)s, the domain of %(country)s. Sites are often, but not "
            "always, hosted in the country of their domain.",
            tld=tld,
            country=country,
        )
    if code == "generic_domain":
        return _("The address ends in .%(tld)s, which does not point to any country.", tld=tld)
    if code == "ip_address":
        return _("The address is a number, which does not point to any country on its own.")
    if code == "hosting_country":
        return _("The site appears to be hosted in %(country)s.", country=country)
    if code == "country_hotline":
        return _("%(hotline)s is the hotline for %(country)s.", hotline=hotline, country=country)
    if code == "no_hotline_in_country":
        return _("There is no hotline for %(country)s in our list.", country=country)
    if code == "no_address":
        return _("There is no web address to tell where it is hosted.")
    if code == "survivor_country":
        return _(
            "We could not tell where it is hosted, so it goes to %(hotline)s, the hotline for "
            "%(country)s, where you live.",
            hotline=hotline,
            country=country,
        )
    if code == "staff_rerouted":
        why = REROUTE_EXPLANATIONS.get(str(params.get("reason")))
        text = _(
            "%(old)s passed it to %(hotline)s.",
            old=hotline_name(directory, params.get("from")),
            hotline=hotline,
        )
        return f"{text} {why}" if why else text
    if code == "fallback":
        return _(
            "%(hotline)s sends removal requests to sites anywhere in the world.", hotline=hotline
        )
    return _("Routing decision")


REROUTE_EXPLANATIONS = {
    "hosted_elsewhere": lazy_gettext("The site is hosted in a country that hotline covers."),
    "provider_elsewhere": lazy_gettext(
        "The company that runs the site is established where that hotline works."
    ),
    "language": lazy_gettext("That hotline can write to you in your language."),
}

# A reason not listed here (a duplicate among them: saying so would tell the survivor that someone
# else reported the place) reads as the plain "closed" explanation.
SURVIVOR_CLOSE_REASONS = {
    "not_actionable": lazy_gettext(
        "The hotline closed this place: it found nothing there that it can ask the site to remove."
    ),
    "outside_remit": lazy_gettext(
        "The hotline closed this place because it cannot act on it. Support is still here for you."
    ),
}


def event_text(code: str, params: Mapping[str, Any], directory: Directory | None = None) -> str:
    """A timeline entry as the survivor reads it: what happened, in plain words, never who."""
    count = int(params.get("count", 0) or 0)
    if code == "routed" and directory is not None and params.get("hotline"):
        return ngettext(
            "Your request was assigned to %(hotline)s (%(num)d place).",
            "Your request was assigned to %(hotline)s (%(num)d places).",
            count,
            hotline=hotline_name(directory, params.get("hotline")),
        )
    if code == "routed":
        return ngettext(
            "Your request was assigned to this hotline (%(num)d place).",
            "Your request was assigned to this hotline (%(num)d places).",
            count,
        )
    if code == "locations_added":
        return ngettext("You added %(num)d more place.", "You added %(num)d more places.", count)
    if code == "with_hotline":
        return ngettext(
            "The hotline took on your request (%(num)d place) and is checking it. You do not "
            "need to do anything.",
            "The hotline took on your request (%(num)d places) and is checking them. You do not "
            "need to do anything.",
            count,
        )
    if code == "escalated":
        return _(
            "The site had not removed it, so the hotline asked the company that hosts the "
            "site to remove it."
        )
    if code == "not_removed":
        return _(
            "The site refused to remove it. The hotline can ask the company that hosts the site."
        )
    if code == "referred":
        name = hotline_name(directory, params.get("hotline")) if directory else _("another hotline")
        why = REROUTE_EXPLANATIONS.get(str(params.get("reason")))
        text = _("Passed to %(hotline)s, which can act where it is.", hotline=name)
        return f"{text} {why}" if why else text
    if code == "passed_here":
        name = hotline_name(directory, params.get("hotline")) if directory else _("another hotline")
        return ngettext(
            "%(hotline)s passed %(num)d place to this hotline.",
            "%(hotline)s passed %(num)d places to this hotline.",
            count,
            hotline=name,
        )
    if code == "closed":
        reason = SURVIVOR_CLOSE_REASONS.get(str(params.get("reason")))
        return str(reason) if reason else str(STATUS_EXPLANATIONS["closed"])
    if code in STATUS_LABELS:
        return str(STATUS_EXPLANATIONS[code])
    return _("Update from the hotline")


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
        "That is more than %(limit)s lines. Please paste at most 500 places at a time."
    ),
    "no_locations": lazy_gettext("Add at least one place where the material appears."),
    "already_listed": lazy_gettext("These places are already part of your request."),
}


def rejection_text(code: str, params: Mapping[str, str]) -> str:
    template = REJECTION_TEXTS.get(code)
    if template is None:
        return _("This could not be used.")
    return str(template) % dict(params) if params else str(template)


def message_rejection_text(code: str, params: Mapping[str, str]) -> str:
    """Why a message to the hotline could not be sent."""
    if code == "too_long":
        return _("This message is too long: at most %(limit)s characters.", **params)
    if code in ("choose_hotline", "unknown_referral"):
        return _("Choose which hotline to write to.")
    if code == "control_characters":
        return _("This message contains invisible control characters. Please type it again.")
    return _("Write a message first.")


INTAKE_TEXTS = {
    "handoff": lazy_gettext(
        "Not connected to this service yet. Requests are assigned to it, and we show you its own "
        "reporting page so that you can report there too."
    ),
    "portal": lazy_gettext("Connected: its staff receive requests in this service directly."),
    "webhook": lazy_gettext("Connected: requests reach its own case system directly."),
    "email": lazy_gettext("Connected: requests reach it by encrypted e-mail."),
}


def accepts_text(flag: bool | None) -> str:
    """Whether a hotline takes a kind of report: yes, no, or it does not say."""
    if flag is None:
        return _("Not stated")
    return _("Yes") if flag else _("No")


def language_name(code: str) -> str:
    locale = get_locale() or Locale("en")
    return str(locale.languages.get(code, code))


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
    names = get_day_names("abbreviated", locale=get_locale() or Locale("en"))
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
    city = get_timezone_location(
        resource.timezone, locale=get_locale() or Locale("en"), return_city=True
    )
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
