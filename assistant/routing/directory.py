"""The directories the engine routes with: hotlines and known providers.

Loaded from ``assistant/data/hotlines.json`` and ``assistant/data/providers.json``. Both files
are checked as they load; :func:`check_data` reports every problem at once (``assistant
check-data``), and :func:`build_directory` refuses data with any problem.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any
from typing import TypeVar

from publicsuffixlist import PublicSuffixList

from .checked import CHECK_KEYS
from .checked import check_problems
from .countries import ISO_COUNTRIES

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
HOTLINES_FILE = "hotlines.json"
PROVIDERS_FILE = "providers.json"
PROVIDER_CATEGORIES = frozenset(
    {
        "social_network",
        "messaging",
        "video",
        "search_engine",
        "shortener",
        "image_host",
        "file_host",
        "forum",
        "image_board",
        "adult",
        "cloud_storage",
    }
)
_ID = re.compile(r"^[a-z0-9_]{2,64}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_HOST = re.compile(r"^(?=.{1,253}$)(?:(?!-)[a-z0-9-]{1,63}(?<!-)\.)+[a-z][a-z0-9-]{1,62}$")
_ALIAS_KEY = re.compile(r"[\W_]+")

HOTLINE_KEYS = (
    "id",
    "name",
    "operator",
    "countries",
    "languages",
    "website",
    "report_url",
    "accepts_dark_web",
    "accepts_p2p",
    "sends_notices_worldwide",
    "intake",
    "sources",
    "verified_on",
)
PROVIDER_KEYS = (
    "id",
    "name",
    "operator",
    "country",
    "category",
    "hosts",
    "aliases",
    "report_url",
    "shortener",
    "sources",
    "verified_on",
)
# Keys an entry may have beyond the required ones.
PROVIDER_OPTIONAL_KEYS = ("hotline", "remarks", "notices", "removal_deadline", *CHECK_KEYS)
HOTLINE_OPTIONAL_KEYS = ("remarks", "standing", *CHECK_KEYS)
# Where a provider takes notices (DESIGN section 6b), each with its own sources.
NOTICE_KEYS = ("emails", "forms", "language", "upstream", "sources", "verified_on")
# A deadline a rule sets for removing what a notice names, with the rule and its sources.
DEADLINE_KEYS = ("hours", "rule", "sources")
MAX_DEADLINE_HOURS = 24 * 30
# A hotline's standing to send notices in a jurisdiction: what a notice may cite.
STANDING_KEYS = ("kind", "jurisdiction", "text", "sources")
STANDING_KINDS = frozenset({"trusted_flagger", "legal_basis"})
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@(?:[a-z0-9-]{1,63}\.)+[a-z]{2,63}")


class Intake(StrEnum):
    """How a hotline takes referrals from this service."""

    PORTAL = "portal"  # its staff use this service
    WEBHOOK = "webhook"  # a signed POST to its own case system
    EMAIL = "email"  # a neutral e-mail that referrals are waiting
    HANDOFF = "handoff"  # not connected: the survivor is shown its own reporting page


class DirectoryError(ValueError):
    """The directory data is malformed; the message says where."""


@dataclass(frozen=True)
class Hotline:
    id: str
    name: str
    operator: str
    countries: tuple[str, ...]
    languages: tuple[str, ...]
    website: str
    report_url: str | None
    accepts_dark_web: bool | None
    accepts_p2p: bool | None
    sends_notices_worldwide: bool
    intake: Intake
    sources: tuple[str, ...]
    verified_on: str | None
    # What its notices may cite about its standing, per jurisdiction (each with sources).
    standing: tuple[Standing, ...] = ()
    # When its sources were last read and compared with it (see routing/checked.py).
    checked_on: dt.date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "intake", Intake(self.intake))
        if isinstance(self.checked_on, str):
            object.__setattr__(self, "checked_on", dt.date.fromisoformat(self.checked_on))
        object.__setattr__(
            self,
            "standing",
            tuple(
                item if isinstance(item, Standing) else _sub_entry(Standing, item)
                for item in self.standing or ()
            ),
        )

    @property
    def country(self) -> str:
        """The country it serves first (its home)."""
        return self.countries[0]

    @property
    def connected(self) -> bool:
        """Whether its staff or its own system receive what is sent to it through this service."""
        return self.intake != Intake.HANDOFF


@dataclass(frozen=True)
class Provider:
    """An online service: where it is established decides which hotline can act on it."""

    id: str
    name: str
    operator: str
    country: str | None
    category: str
    hosts: tuple[str, ...]
    aliases: tuple[str, ...]
    report_url: str | None
    shortener: bool
    sources: tuple[str, ...]
    verified_on: str | None
    # A hotline chosen for this provider when its country has several (or an agreement exists).
    hotline: str | None = None
    # Where it takes notices, and a deadline a rule sets for it (each with sources).
    notices: NoticeContacts | None = None
    removal_deadline: RemovalDeadline | None = None

    def __post_init__(self) -> None:
        if isinstance(self.notices, Mapping):
            object.__setattr__(self, "notices", _sub_entry(NoticeContacts, self.notices))
        if isinstance(self.removal_deadline, Mapping):
            object.__setattr__(
                self, "removal_deadline", _sub_entry(RemovalDeadline, self.removal_deadline)
            )


@dataclass(frozen=True)
class NoticeContacts:
    """Where a provider takes removal notices: addresses the app can send to, and web forms an
    analyst fills in by hand; the language to write in; the upstream provider (the hosting or
    network company) to escalate to."""

    emails: tuple[str, ...]
    forms: tuple[str, ...]
    language: str
    upstream: str | None
    sources: tuple[str, ...]
    verified_on: str | None


@dataclass(frozen=True)
class RemovalDeadline:
    """Hours a rule gives the provider to remove what a notice names."""

    hours: int
    rule: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Standing:
    """A hotline's trusted-flagger status or legal basis in one jurisdiction (EU or a country)."""

    kind: str
    jurisdiction: str
    text: str
    sources: tuple[str, ...]


def _sub_entry(cls: type[Any], entry: Mapping[str, Any]) -> Any:
    return cls(
        **{
            f.name: tuple(entry[f.name])
            if isinstance(entry.get(f.name), list)
            else entry.get(f.name)
            for f in fields(cls)
        }
    )


_Entry = TypeVar("_Entry", Hotline, Provider)


def alias_key(name: str) -> str:
    """How a platform name is compared: case, spaces and punctuation do not matter."""
    return _ALIAS_KEY.sub("", name.casefold())


@dataclass(frozen=True)
class Directory:
    hotlines: Mapping[str, Hotline]
    fallback_id: str
    by_country: Mapping[str, tuple[Hotline, ...]] = field(default_factory=dict)
    providers: Mapping[str, Provider] = field(default_factory=dict)
    provider_hosts: Mapping[str, Provider] = field(default_factory=dict)
    provider_aliases: Mapping[str, Provider] = field(default_factory=dict)

    @property
    def fallback(self) -> Hotline:
        return self.hotlines[self.fallback_id]

    def for_country(self, country: str | None) -> Hotline | None:
        """The hotline for a country: one based there before one that also serves it."""
        if not country:
            return None
        candidates = self.by_country.get(country.upper(), ())
        return candidates[0] if candidates else None

    def hotlines_for_country(self, country: str) -> tuple[Hotline, ...]:
        return self.by_country.get(country.upper(), ())

    def get(self, hotline_id: str) -> Hotline | None:
        return self.hotlines.get(hotline_id)

    def provider(self, provider_id: str) -> Provider | None:
        return self.providers.get(provider_id)

    def provider_for_host(self, host: str | None) -> Provider | None:
        """The provider a host belongs to: the host itself, or the nearest parent domain listed
        (so ``i.imgur.com`` finds ``imgur.com``)."""
        if not host:
            return None
        hosts = self.provider_hosts
        candidate = host
        while "." in candidate:
            found = hosts.get(candidate)
            if found is not None:
                return found
            candidate = candidate.split(".", 1)[1]
        return None

    def provider_named(self, name: str | None) -> Provider | None:
        """The provider a person named ("Insta", "twitter", "x.com")."""
        if not name:
            return None
        found = self.provider_aliases.get(alias_key(name))
        if found is not None:
            return found
        written = name.strip().lower()
        if written.startswith(("http://", "https://")):
            written = written.split("://", 1)[1]
        written = written.split("/", 1)[0]
        return self.provider_for_host(written) if "." in written else None


# ---- checking -------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _icann_suffixes() -> PublicSuffixList:
    """Domains like ``co.uk`` under which anyone may register: no provider owns them."""
    return PublicSuffixList(only_icann=True)


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")


def _is_web_address(value: object) -> bool:
    return (
        isinstance(value, str)
        and value.startswith(("https://", "http://"))
        and not any(ch.isspace() for ch in value)
    )


def _check_common(
    entry: Mapping[str, Any],
    where: str,
    required: Sequence[str],
    optional: Sequence[str],
    problems: _Problems,
) -> bool:
    if not isinstance(entry, Mapping):
        problems.add(where, "must be an object")
        return False
    missing = [key for key in required if key not in entry]
    unknown = [key for key in entry if key not in required and key not in optional]
    if missing:
        problems.add(where, f"missing {', '.join(missing)}")
    if unknown:
        problems.add(where, f"unknown keys {', '.join(sorted(unknown))}")
    entry_id = entry.get("id")
    if not isinstance(entry_id, str) or not _ID.match(entry_id):
        problems.add(where, f"id {entry_id!r} must be 2-64 lower-case letters, digits or _")
    for key in ("name", "operator"):
        if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
            problems.add(where, f"'{key}' must be a non-empty string")
    report_url = entry.get("report_url")
    if report_url is not None and not _is_web_address(report_url):
        problems.add(where, "'report_url' must be a web address or null")
    sources = entry.get("sources")
    if not isinstance(sources, list) or not sources:
        problems.add(where, "needs at least one source (a public page where it can be checked)")
    elif not all(_is_web_address(source) for source in sources):
        problems.add(where, "every source must be a web address")
    verified = entry.get("verified_on")
    if verified is not None:
        try:
            if not isinstance(verified, str):
                raise ValueError
            dt.date.fromisoformat(verified)
        except ValueError:
            problems.add(where, "'verified_on' must be a date (YYYY-MM-DD) or null")
    for problem in check_problems(entry, dt.date.today()):
        problems.add(where, problem)
    return not missing


def _country_problem(code: object) -> str | None:
    if not isinstance(code, str) or code not in ISO_COUNTRIES:
        return f"{code!r} is not an ISO 3166-1 alpha-2 country code"
    return None


def _check_hotline(entry: Mapping[str, Any], where: str, problems: _Problems) -> None:
    if not _check_common(entry, where, HOTLINE_KEYS, HOTLINE_OPTIONAL_KEYS, problems):
        return
    countries = entry["countries"]
    if not isinstance(countries, list) or not countries:
        problems.add(where, "'countries' must list at least one country")
    else:
        for code in countries:
            problem = _country_problem(code)
            if problem:
                problems.add(where, f"countries: {problem}")
        if all(isinstance(c, str) for c in countries) and len(set(countries)) != len(countries):
            problems.add(where, "countries: listed twice")
    languages = entry["languages"]
    if not isinstance(languages, list) or not all(
        isinstance(code, str) and _LANGUAGE.match(code) for code in languages
    ):
        problems.add(where, "'languages' must list ISO 639 codes")
    if not _is_web_address(entry["website"]):
        problems.add(where, "'website' must be a web address")
    for key in ("accepts_dark_web", "accepts_p2p"):
        if entry[key] is not None and not isinstance(entry[key], bool):
            problems.add(where, f"'{key}' must be true, false or null")
    if not isinstance(entry["sends_notices_worldwide"], bool):
        problems.add(where, "'sends_notices_worldwide' must be true or false")
    if not isinstance(entry["intake"], str) or entry["intake"] not in set(Intake):
        problems.add(where, f"'intake' must be one of {', '.join(sorted(Intake))}")
    standing = entry.get("standing")
    if standing is not None:
        if not isinstance(standing, list):
            problems.add(where, "'standing' must be a list")
        for position, item in enumerate(_listed(standing)):
            _check_standing(item, f"{where} standing[{position}]", problems)


def _check_sources(entry: Mapping[str, Any], where: str, problems: _Problems) -> None:
    sources = entry.get("sources")
    if not isinstance(sources, list) or not sources:
        problems.add(where, "needs at least one source (a public page where it can be checked)")
    elif not all(_is_web_address(source) for source in sources):
        problems.add(where, "every source must be a web address")


def _keys_problem(entry: object, keys: Sequence[str], where: str, problems: _Problems) -> bool:
    if not isinstance(entry, Mapping):
        problems.add(where, "must be an object")
        return False
    missing = [key for key in keys if key not in entry]
    unknown = sorted(key for key in entry if key not in keys)
    if missing:
        problems.add(where, f"missing {', '.join(missing)}")
    if unknown:
        problems.add(where, f"unknown keys {', '.join(unknown)}")
    return not missing


def _check_standing(item: object, where: str, problems: _Problems) -> None:
    if not _keys_problem(item, STANDING_KEYS, where, problems):
        return
    assert isinstance(item, Mapping)
    if item["kind"] not in STANDING_KINDS:
        problems.add(where, f"'kind' must be one of {', '.join(sorted(STANDING_KINDS))}")
    jurisdiction = item["jurisdiction"]
    if jurisdiction != "EU" and _country_problem(jurisdiction):
        problems.add(where, "'jurisdiction' must be EU or an ISO 3166-1 alpha-2 country code")
    if not isinstance(item["text"], str) or not item["text"].strip():
        problems.add(where, "'text' must say what the notice may cite")
    _check_sources(item, where, problems)


def _check_notices(entry: Mapping[str, Any], where: str, problems: _Problems) -> None:
    notices = entry.get("notices")
    if notices is not None and _keys_problem(notices, NOTICE_KEYS, f"{where} notices", problems):
        assert isinstance(notices, Mapping)
        here = f"{where} notices"
        emails, forms = notices["emails"], notices["forms"]
        if not isinstance(emails, list) or not all(
            isinstance(e, str) and _EMAIL.fullmatch(e) for e in emails
        ):
            problems.add(here, "'emails' must list e-mail addresses")
        if not isinstance(forms, list) or not all(
            isinstance(f, str) and f.startswith("https://") and _is_web_address(f) for f in forms
        ):
            problems.add(here, "'forms' must list https:// web addresses")
        if not _listed(emails) and not _listed(forms):
            problems.add(here, "needs an e-mail address or a web form")
        language = notices["language"]
        if not isinstance(language, str) or not _LANGUAGE.match(language):
            problems.add(here, "'language' must be an ISO 639 code")
        upstream = notices["upstream"]
        if upstream is not None and (not isinstance(upstream, str) or upstream == entry["id"]):
            problems.add(here, "'upstream' must be another provider's id or null")
        _check_sources(notices, here, problems)
        verified = notices["verified_on"]
        if verified is not None and not _is_date(verified):
            problems.add(here, "'verified_on' must be a date (YYYY-MM-DD) or null")
    deadline = entry.get("removal_deadline")
    here = f"{where} removal_deadline"
    if deadline is not None and _keys_problem(deadline, DEADLINE_KEYS, here, problems):
        assert isinstance(deadline, Mapping)
        hours = deadline["hours"]
        if (
            not isinstance(hours, int)
            or isinstance(hours, bool)
            or not 1 <= hours <= MAX_DEADLINE_HOURS
        ):
            problems.add(here, f"'hours' must be a whole number from 1 to {MAX_DEADLINE_HOURS}")
        if not isinstance(deadline["rule"], str) or not deadline["rule"].strip():
            problems.add(here, "'rule' must name the rule that sets the deadline")
        _check_sources(deadline, here, problems)


def _is_date(value: object) -> bool:
    try:
        if not isinstance(value, str):
            return False
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _check_provider(entry: Mapping[str, Any], where: str, problems: _Problems) -> None:
    if not _check_common(entry, where, PROVIDER_KEYS, PROVIDER_OPTIONAL_KEYS, problems):
        return
    if entry["country"] is not None:
        problem = _country_problem(entry["country"])
        if problem:
            problems.add(where, f"country: {problem}")
    if not isinstance(entry["category"], str) or entry["category"] not in PROVIDER_CATEGORIES:
        problems.add(where, f"category {entry['category']!r} is not one of the known categories")
    hosts = entry["hosts"]
    aliases = entry["aliases"]
    if not isinstance(hosts, list) or not hosts:
        problems.add(where, "'hosts' must list at least one host name")
    else:
        for host in hosts:
            if not isinstance(host, str) or not _HOST.match(host) or host.startswith("www."):
                problems.add(where, f"host {host!r} must be a lower-case name without www.")
            elif _icann_suffixes().is_public(host):
                problems.add(where, f"host {host!r} is a public suffix, not one provider's")
    if not isinstance(aliases, list) or not all(
        isinstance(a, str) and alias_key(a) for a in aliases
    ):
        problems.add(where, "'aliases' must list names")
    if not isinstance(entry["shortener"], bool):
        problems.add(where, "'shortener' must be true or false")
    if entry["shortener"] is True and entry["category"] != "shortener":
        problems.add(where, "a shortener's category must be 'shortener'")
    _check_notices(entry, where, problems)


def _entries(data: object, key: str, problems: _Problems, name: str) -> list[Any]:
    if not isinstance(data, Mapping):
        problems.add(name, "must be a JSON object")
        return []
    entries = data.get(key)
    if not isinstance(entries, list):
        problems.add(name, f"'{key}' must be a list")
        return []
    return entries


def _listed(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _duplicates(pairs: Iterator[tuple[str, str]]) -> Iterator[tuple[str, str, str]]:
    """(value, first owner, second owner) for every value claimed twice."""
    owners: dict[str, str] = {}
    for value, owner in pairs:
        if value in owners and owners[value] != owner:
            yield value, owners[value], owner
        owners.setdefault(value, owner)


def check_data(
    hotlines_data: object, providers_data: object, fallback_id: str | None = None
) -> list[str]:
    """Every problem in the two files, as lines a person can act on. Empty when all is well."""
    problems = _Problems()
    hotline_entries = _entries(hotlines_data, "hotlines", problems, HOTLINES_FILE)
    provider_entries = _entries(providers_data, "providers", problems, PROVIDERS_FILE)
    for position, entry in enumerate(hotline_entries):
        _check_hotline(entry, f"{HOTLINES_FILE} hotlines[{position}]", problems)
    for position, entry in enumerate(provider_entries):
        _check_provider(entry, f"{PROVIDERS_FILE} providers[{position}]", problems)
    hotline_ids = [e.get("id") for e in hotline_entries if isinstance(e, Mapping)]
    provider_ids = [e.get("id") for e in provider_entries if isinstance(e, Mapping)]
    for name, ids in ((HOTLINES_FILE, hotline_ids), (PROVIDERS_FILE, provider_ids)):
        for duplicate in sorted({i for i in ids if isinstance(i, str) and ids.count(i) > 1}):
            problems.add(name, f"id '{duplicate}' is used twice")
    known_hotlines = {i for i in hotline_ids if isinstance(i, str)}
    chosen = fallback_id or (
        hotlines_data.get("fallback") if isinstance(hotlines_data, Mapping) else None
    )
    if not isinstance(chosen, str) or chosen not in known_hotlines:
        problems.add(HOTLINES_FILE, f"the fallback hotline {chosen!r} is not in the directory")
    providers = [e for e in provider_entries if isinstance(e, Mapping)]
    for entry in providers:
        hotline = entry.get("hotline")
        if hotline is not None and (not isinstance(hotline, str) or hotline not in known_hotlines):
            problems.add(
                PROVIDERS_FILE, f"provider '{entry.get('id')}' names unknown hotline {hotline!r}"
            )
    host_pairs = (
        (host, str(e.get("id")))
        for e in providers
        for host in _listed(e.get("hosts"))
        if isinstance(host, str)
    )
    known_providers = {i for i in provider_ids if isinstance(i, str)}
    for entry in providers:
        notices = entry.get("notices")
        upstream = notices.get("upstream") if isinstance(notices, Mapping) else None
        if isinstance(upstream, str) and upstream not in known_providers:
            problems.add(
                PROVIDERS_FILE, f"provider '{entry.get('id')}' names unknown upstream {upstream!r}"
            )
    for host, first, second in _duplicates(host_pairs):
        problems.add(PROVIDERS_FILE, f"host '{host}' is listed by both '{first}' and '{second}'")
    alias_pairs = (
        (alias_key(alias), str(e.get("id")))
        for e in providers
        for alias in _listed(e.get("aliases"))
        if isinstance(alias, str)
    )
    for alias, first, second in _duplicates(alias_pairs):
        problems.add(PROVIDERS_FILE, f"name '{alias}' is used by both '{first}' and '{second}'")
    return problems.items


def unverified(hotlines_data: object, providers_data: object) -> list[str]:
    """The ids of entries no person has checked yet (``verified_on`` is null)."""
    found = []
    for name, data, key in (
        ("hotline", hotlines_data, "hotlines"),
        ("provider", providers_data, "providers"),
    ):
        entries = data.get(key) if isinstance(data, Mapping) else None
        for entry in entries or ():
            if isinstance(entry, Mapping) and entry.get("verified_on") is None:
                found.append(f"{name} {entry.get('id')}")
    return found


# ---- building -------------------------------------------------------------------------------


def _entry_as(cls: type[_Entry], entry: Mapping[str, Any]) -> _Entry:
    """A checked entry as a :class:`Hotline` or :class:`Provider` (lists become tuples)."""
    values: dict[str, Any] = {
        f.name: tuple(entry[f.name]) if isinstance(entry.get(f.name), list) else entry.get(f.name)
        for f in fields(cls)
    }
    return cls(**values)


def build_directory(
    hotlines_data: Mapping[str, Any],
    providers_data: Mapping[str, Any] | None = None,
    fallback_id: str | None = None,
) -> Directory:
    """The directory from already-parsed data; raises :class:`DirectoryError` on any problem."""
    providers_data = providers_data if providers_data is not None else {"providers": []}
    problems = check_data(hotlines_data, providers_data, fallback_id)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise DirectoryError(problems[0] + more)
    hotlines = {entry["id"]: _entry_as(Hotline, entry) for entry in hotlines_data["hotlines"]}
    home: dict[str, list[Hotline]] = {}
    also: dict[str, list[Hotline]] = {}
    for hotline in sorted(hotlines.values(), key=lambda h: h.id):
        for position, country in enumerate(hotline.countries):
            (home if position == 0 else also).setdefault(country, []).append(hotline)
    by_country = {
        country: tuple(home.get(country, []) + also.get(country, []))
        for country in set(home) | set(also)
    }
    providers = {entry["id"]: _entry_as(Provider, entry) for entry in providers_data["providers"]}
    provider_hosts = {host: p for p in providers.values() for host in p.hosts}
    provider_aliases = {alias_key(alias): p for p in providers.values() for alias in p.aliases}
    # A provider's own name always finds it, even when not listed among its aliases.
    for provider in providers.values():
        provider_aliases.setdefault(alias_key(provider.name), provider)
    return Directory(
        hotlines=hotlines,
        fallback_id=fallback_id or hotlines_data["fallback"],
        by_country=by_country,
        providers=providers,
        provider_hosts=provider_hosts,
        provider_aliases=provider_aliases,
    )


def read_data_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DirectoryError(f"{path.name}: {exc}") from exc


def load_directory(data_dir: Path | None = None, fallback_id: str | None = None) -> Directory:
    """The shipped directory, or the one in ``data_dir`` (both files must be there)."""
    folder = data_dir or DATA_DIR
    return build_directory(
        read_data_file(folder / HOTLINES_FILE),
        read_data_file(folder / PROVIDERS_FILE),
        fallback_id,
    )
