"""Support services shown to survivors: crisis lines, child helplines, survivor organisations,
reporting help and emergency numbers, by country and language.

The data lives in ``data/resources.json`` (or ``resources.json`` in ``ASSISTANT_DATA_DIR``). Like
the directory, every entry names its sources and carries ``verified_on`` (null until a person has
checked it); ``check_resources`` is what ``assistant check-data`` runs. No Flask, no database.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from .routing.checked import CHECK_KEYS
from .routing.checked import check_problems
from .routing.countries import ISO_COUNTRIES

DATA_DIR = Path(__file__).resolve().parent / "data"
RESOURCES_FILE = "resources.json"

# In the order they are shown: what to do in danger first.
KINDS = ("emergency", "crisis_line", "child_helpline", "survivor_organisation", "reporting_help")
# The groups the support page shows, most useful first: someone to talk to now, then by need.
TOPICS = ("talk_now", "survivors", "reporting")
TOPIC_OF_KIND = {
    "emergency": "talk_now",
    "crisis_line": "talk_now",
    "child_helpline": "talk_now",
    "survivor_organisation": "survivors",
    "reporting_help": "reporting",
}
AUDIENCES = ("everyone", "children", "adults")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS_OPEN = "24/7"
MIN_COUNTRIES = 20

KEYS = (
    "id",
    "country",
    "name",
    "kind",
    "audience",
    "phone",
    "text",
    "web",
    "hours",
    "timezone",
    "languages",
    "free",
    "sources",
    "verified_on",
)
# A resource that is a hotline's own service names it (``hotline``: its id in hotlines.json), and
# must then agree with it (see check_agreement); and when a resource was last checked.
OPTIONAL_KEYS = ("hotline", *CHECK_KEYS)
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{1,24}$")
_TIME = re.compile(r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")


class ResourcesError(ValueError):
    """The resources file cannot be read or does not pass its checks."""


@dataclass(frozen=True)
class Opening:
    days: tuple[str, ...]
    opens: str
    closes: str


@dataclass(frozen=True)
class Resource:
    id: str
    country: str | None
    name: str
    kind: str
    audience: str
    phone: str | None
    text_number: str | None
    text_keyword: str | None
    web: str | None
    always_open: bool
    hours: tuple[Opening, ...]
    timezone: str | None
    languages: tuple[str, ...]
    free: bool | None
    sources: tuple[str, ...]
    verified_on: dt.date | None
    # When its sources were last read and compared with it (see routing/checked.py).
    checked_on: dt.date | None = None

    @property
    def topic(self) -> str:
        """The support page's group for it (one of ``TOPICS``)."""
        return TOPIC_OF_KIND[self.kind]

    def speaks(self, language: str) -> bool:
        """Whether the service answers in a language ("pt_BR" is answered by "pt")."""
        return language.split("_")[0].casefold() in self.languages


@dataclass(frozen=True)
class Resources:
    entries: tuple[Resource, ...]

    def countries(self) -> frozenset[str]:
        return frozenset(entry.country for entry in self.entries if entry.country)

    def for_reader(self, country: str | None, language: str) -> list[Resource]:
        """The country's services, then the international ones; in each, by kind (emergency
        first), and within a kind those that answer in the reader's language first."""

        def order(entry: Resource) -> tuple[int, int, int, str]:
            return (
                0 if entry.country else 1,
                KINDS.index(entry.kind),
                0 if entry.speaks(language) else 1,
                entry.name.casefold(),
            )

        wanted = country.upper() if country else None
        chosen = [e for e in self.entries if e.country is None or e.country == wanted]
        return sorted(chosen, key=order)

    def emergency_number(self, country: str | None) -> str | None:
        for entry in self.entries:
            if (
                entry.country
                and entry.country == (country or "").upper()
                and (entry.kind == "emergency")
            ):
                return entry.phone
        return None


# ---- checking -------------------------------------------------------------------------------


def _is_https(value: object) -> bool:
    return (
        isinstance(value, str)
        and value.startswith("https://")
        and not any(ch.isspace() for ch in value)
    )


def _check_hours(entry: Mapping[str, Any], where: str, problems: list[str]) -> None:
    hours = entry.get("hours")
    zone = entry.get("timezone")
    if hours is None or hours == ALWAYS_OPEN:
        if zone is not None:
            problems.append(f"{where}: 'timezone' belongs only with a list of opening hours")
        return
    if not isinstance(hours, list) or not hours:
        problems.append(f"{where}: 'hours' must be \"24/7\", a list of opening hours or null")
        return
    if not isinstance(zone, str) or zone not in _zones():
        problems.append(f"{where}: opening hours need an IANA 'timezone' (e.g. Europe/Paris)")
    for number, item in enumerate(hours, 1):
        if not isinstance(item, Mapping) or set(item) != {"days", "opens", "closes"}:
            problems.append(f"{where}: opening {number} needs exactly days, opens and closes")
            continue
        days = item["days"]
        if not isinstance(days, list) or not days or any(day not in DAYS for day in days):
            problems.append(f"{where}: opening {number} days must be from {', '.join(DAYS)}")
        for key in ("opens", "closes"):
            if not isinstance(item[key], str) or not _TIME.match(item[key]):
                problems.append(f"{where}: opening {number} '{key}' must be HH:MM")


def _check_contact(entry: Mapping[str, Any], where: str, problems: list[str]) -> None:
    phone, text, web = entry.get("phone"), entry.get("text"), entry.get("web")
    if phone is not None and (not isinstance(phone, str) or not _PHONE.match(phone)):
        problems.append(f"{where}: 'phone' must be digits, spaces, + ( ) - or null")
    if text is not None:
        number = text.get("number") if isinstance(text, Mapping) else text
        keyword = text.get("keyword") if isinstance(text, Mapping) else None
        if isinstance(text, Mapping) and set(text) - {"number", "keyword"}:
            problems.append(f"{where}: 'text' takes only number and keyword")
        if not isinstance(number, str) or not _PHONE.match(number):
            problems.append(f"{where}: 'text' must be a number, or {{number, keyword}}")
        if keyword is not None and (not isinstance(keyword, str) or not keyword.strip()):
            problems.append(f"{where}: a text 'keyword' must be a non-empty string")
    if web is not None and not _is_https(web):
        problems.append(f"{where}: 'web' must be an https address or null")
    if phone is None and text is None and web is None:
        problems.append(f"{where}: needs at least one way to reach it (phone, text or web)")
    if entry.get("kind") == "emergency" and phone is None:
        problems.append(f"{where}: an emergency entry needs its phone number")


def _check_entry(entry: object, where: str, problems: list[str]) -> None:
    if not isinstance(entry, Mapping):
        problems.append(f"{where}: must be an object")
        return
    missing = [key for key in KEYS if key not in entry]
    unknown = sorted(key for key in entry if key not in KEYS and key not in OPTIONAL_KEYS)
    if missing:
        problems.append(f"{where}: missing {', '.join(missing)}")
    if unknown:
        problems.append(f"{where}: unknown keys {', '.join(unknown)}")
    if missing:
        return
    if not isinstance(entry["id"], str) or not _ID.match(entry["id"]):
        problems.append(f"{where}: id {entry['id']!r} must be lower-case letters, digits or -")
    country = entry["country"]
    if country is not None and (not isinstance(country, str) or country not in ISO_COUNTRIES):
        problems.append(f"{where}: {country!r} is not an ISO 3166-1 alpha-2 code (or null)")
    if not isinstance(entry["name"], str) or not entry["name"].strip():
        problems.append(f"{where}: 'name' must be a non-empty string")
    if entry["kind"] not in KINDS:
        problems.append(f"{where}: 'kind' must be one of {', '.join(KINDS)}")
    if entry["audience"] not in AUDIENCES:
        problems.append(f"{where}: 'audience' must be one of {', '.join(AUDIENCES)}")
    if entry["kind"] == "emergency" and country is None:
        problems.append(f"{where}: an emergency number belongs to a country")
    languages = entry["languages"]
    if (
        not isinstance(languages, list)
        or not languages
        or not all(isinstance(code, str) and _LANGUAGE.match(code) for code in languages)
    ):
        problems.append(f"{where}: 'languages' must list ISO 639-1 codes")
    if entry["free"] not in (True, False, None):
        problems.append(f"{where}: 'free' must be true, false or null")
    sources = entry["sources"]
    if not isinstance(sources, list) or not sources or not all(map(_is_https, sources)):
        problems.append(f"{where}: needs at least one source, each an https address")
    verified = entry["verified_on"]
    if verified is not None:
        try:
            if dt.date.fromisoformat(str(verified)) > dt.date.today():
                problems.append(f"{where}: 'verified_on' is in the future")
        except ValueError:
            problems.append(f"{where}: 'verified_on' must be a date (YYYY-MM-DD) or null")
    problems.extend(f"{where}: {problem}" for problem in check_problems(entry, dt.date.today()))
    _check_contact(entry, where, problems)
    _check_hours(entry, where, problems)


def check_resources(data: object) -> list[str]:
    """Every problem in a resources file, as sentences naming the entry; empty when it is sound."""
    if not isinstance(data, Mapping) or not isinstance(data.get("resources"), list):
        return [f"{RESOURCES_FILE}: must be an object with a 'resources' list"]
    problems: list[str] = []
    seen: set[str] = set()
    for index, entry in enumerate(data["resources"]):
        entry_id = entry.get("id") if isinstance(entry, Mapping) else None
        where = f"{RESOURCES_FILE}: {entry_id or f'entry {index}'}"
        _check_entry(entry, where, problems)
        if isinstance(entry_id, str):
            if entry_id in seen:
                problems.append(f"{where}: id is used twice")
            seen.add(entry_id)
    countries = {
        e["country"]
        for e in data["resources"]
        if isinstance(e, Mapping) and isinstance(e.get("country"), str)
    }
    if len(countries) < MIN_COUNTRIES:
        problems.append(
            f"{RESOURCES_FILE}: covers {len(countries)} countries; "
            f"at least {MIN_COUNTRIES} are needed"
        )
    return problems


def check_agreement(
    resources_data: Mapping[str, Any], hotlines_data: Mapping[str, Any]
) -> list[str]:
    """Where resources.json and hotlines.json say different things about one organisation.

    A resource that is a hotline's own service must name it (``hotline``). It is found by its
    name: the hotline's name, or, for a place to report, its operator's (before any bracket),
    one name the start of the other ("Te Protejo", "Te Protejo Colombia"), the hotline serving
    the resource's country. A place to report that names a hotline must then be on one of the
    hotline's own sites (its website's or its reporting page's host), and be its ``report_url``
    (or its site, where the hotline gives no reporting page): one truth for both files.
    """
    hotlines = {
        e["id"]: e
        for e in hotlines_data.get("hotlines", [])
        if isinstance(e, Mapping) and isinstance(e.get("id"), str)
    }
    problems = []
    for entry in resources_data.get("resources", []):
        if not isinstance(entry, Mapping):
            continue
        where = f"{RESOURCES_FILE}: {entry.get('id')}"
        named = entry.get("hotline")
        if named is None:
            found = _hotlines_named(entry, hotlines)
            if len(found) == 1:
                problems.append(
                    f"{where}: has the name of hotline {found[0]!r}; say so ('hotline')"
                )
            continue
        hotline = hotlines.get(named)
        if hotline is None:
            problems.append(f"{where}: names unknown hotline {named!r}")
            continue
        web = entry.get("web")
        if entry.get("kind") != "reporting_help" or web is None:
            continue  # another service of the hotline's operator (a helpline) may be elsewhere
        sites = {
            host
            for host in (_host(hotline.get("website")), _host(hotline.get("report_url")))
            if host is not None
        }
        report_url = hotline.get("report_url")
        if _host(web) not in sites:
            problems.append(
                f"{where}: is on {_host(web)}, hotline {named!r} on {', '.join(sorted(sites))}"
            )
        elif report_url is None and urlsplit(web).path.strip("/"):
            problems.append(f"{where}: gives {web} to report, hotline {named!r} no 'report_url'")
        elif report_url is not None and web.rstrip("/") != str(report_url).rstrip("/"):
            problems.append(f"{where}: gives {web} to report, hotline {named!r} {report_url}")
    return problems


def _hotlines_named(
    entry: Mapping[str, Any], hotlines: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """The hotlines a resource has the name of (see check_agreement)."""
    name = _name_key(str(entry.get("name") or ""))
    if not name:
        return []
    country = entry.get("country")
    found = []
    for hotline_id, hotline in hotlines.items():
        if country is not None and country not in hotline.get("countries", []):
            continue
        names = [hotline.get("name")]
        if entry.get("kind") == "reporting_help":
            names.append(hotline.get("operator"))
        for other in filter(None, map(_name_key, filter(None, names))):
            if f"{name} ".startswith(f"{other} ") or f"{other} ".startswith(f"{name} "):
                found.append(hotline_id)
                break
    return found


def _name_key(name: str) -> str:
    """A name compared without case, punctuation or what a bracket adds."""
    return re.sub(r"\W+", " ", name.split("(")[0]).strip().casefold()


def _host(address: object) -> str | None:
    if not isinstance(address, str):
        return None
    host = urlsplit(address).hostname or ""
    return host.removeprefix("www.") or None


def unverified_resources(data: Mapping[str, Any]) -> list[str]:
    return [f"resource {e['id']}" for e in data["resources"] if e.get("verified_on") is None]


# ---- loading --------------------------------------------------------------------------------


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def resources_path(data_dir: Path | None = None) -> Path:
    """``resources.json`` in the configured data folder if it has one, else the shipped file."""
    if data_dir is not None and (data_dir / RESOURCES_FILE).is_file():
        return data_dir / RESOURCES_FILE
    return DATA_DIR / RESOURCES_FILE


def read_resources_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ResourcesError(f"{path.name}: {exc}") from exc


def _resource(entry: Mapping[str, Any]) -> Resource:
    text = entry["text"]
    hours = entry["hours"]
    return Resource(
        id=entry["id"],
        country=entry["country"],
        name=entry["name"].strip(),
        kind=entry["kind"],
        audience=entry["audience"],
        phone=entry["phone"],
        text_number=text.get("number") if isinstance(text, Mapping) else text,
        text_keyword=text.get("keyword") if isinstance(text, Mapping) else None,
        web=entry["web"],
        always_open=hours == ALWAYS_OPEN,
        hours=tuple(
            Opening(tuple(item["days"]), item["opens"], item["closes"])
            for item in (hours if isinstance(hours, list) else ())
        ),
        timezone=entry["timezone"],
        languages=tuple(entry["languages"]),
        free=entry["free"],
        sources=tuple(entry["sources"]),
        verified_on=dt.date.fromisoformat(entry["verified_on"]) if entry["verified_on"] else None,
        checked_on=(
            dt.date.fromisoformat(entry["checked_on"]) if entry.get("checked_on") else None
        ),
    )


def build_resources(data: object) -> Resources:
    problems = check_resources(data)
    if problems:
        raise ResourcesError("; ".join(problems[:5]))
    assert isinstance(data, Mapping)
    return Resources(tuple(_resource(entry) for entry in data["resources"]))


def load_resources(data_dir: Path | None = None) -> Resources:
    return build_resources(read_resources_file(resources_path(data_dir)))
