"""The hotline directory the engine routes to, loaded from ``assistant/data/hotlines.json``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
INTAKE_CHANNELS = frozenset({"portal", "webhook", "email", "handoff"})
_ID = re.compile(r"^[a-z0-9_]{2,64}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


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
    intake: str
    sources: tuple[str, ...]
    verified_on: str | None

    @property
    def country(self) -> str:
        """The country it serves first (its home)."""
        return self.countries[0]


@dataclass(frozen=True)
class Directory:
    hotlines: Mapping[str, Hotline]
    fallback_id: str
    by_country: Mapping[str, tuple[Hotline, ...]] = field(default_factory=dict)

    @property
    def fallback(self) -> Hotline:
        return self.hotlines[self.fallback_id]

    def for_country(self, country: str | None) -> Hotline | None:
        """The hotline for a country: one based there before one that also serves it."""
        if not country:
            return None
        candidates = self.by_country.get(country.upper(), ())
        return candidates[0] if candidates else None

    def get(self, hotline_id: str) -> Hotline | None:
        return self.hotlines.get(hotline_id)


def _hotline_from(entry: Mapping[str, Any], where: str) -> Hotline:
    def text(key: str, *, optional: bool = False) -> str | None:
        value = entry.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise DirectoryError(f"{where}: '{key}' must be a non-empty string")
        return value

    def flag(key: str) -> bool | None:
        value = entry.get(key)
        if value is not None and not isinstance(value, bool):
            raise DirectoryError(f"{where}: '{key}' must be true, false or null")
        return value

    hotline_id = text("id") or ""
    if not _ID.match(hotline_id):
        raise DirectoryError(f"{where}: id '{hotline_id}' must be lower-case letters, digits, _")
    countries = tuple(entry.get("countries") or ())
    if not countries or not all(isinstance(c, str) and _COUNTRY.match(c) for c in countries):
        raise DirectoryError(f"{where}: 'countries' must list ISO 3166-1 alpha-2 codes")
    intake = text("intake") or ""
    if intake not in INTAKE_CHANNELS:
        raise DirectoryError(f"{where}: intake must be one of {sorted(INTAKE_CHANNELS)}")
    sources = tuple(entry.get("sources") or ())
    if not sources:
        raise DirectoryError(f"{where}: every entry needs at least one source")
    return Hotline(
        id=hotline_id,
        name=text("name") or "",
        operator=text("operator") or "",
        countries=countries,
        languages=tuple(entry.get("languages") or ()),
        website=text("website") or "",
        report_url=text("report_url", optional=True),
        accepts_dark_web=flag("accepts_dark_web"),
        accepts_p2p=flag("accepts_p2p"),
        sends_notices_worldwide=bool(flag("sends_notices_worldwide")),
        intake=intake,
        sources=sources,
        verified_on=text("verified_on", optional=True),
    )


def build_directory(data: Mapping[str, Any], fallback_id: str | None = None) -> Directory:
    hotlines: dict[str, Hotline] = {}
    for position, entry in enumerate(data.get("hotlines") or ()):
        hotline = _hotline_from(entry, f"hotlines[{position}]")
        if hotline.id in hotlines:
            raise DirectoryError(f"hotlines[{position}]: duplicate id '{hotline.id}'")
        hotlines[hotline.id] = hotline
    chosen = fallback_id or data.get("fallback")
    if not isinstance(chosen, str) or chosen not in hotlines:
        raise DirectoryError(f"fallback hotline '{chosen}' is not in the directory")
    home: dict[str, list[Hotline]] = {}
    also: dict[str, list[Hotline]] = {}
    for hotline in sorted(hotlines.values(), key=lambda h: h.id):
        for position, country in enumerate(hotline.countries):
            (home if position == 0 else also).setdefault(country, []).append(hotline)
    by_country = {
        country: tuple(home.get(country, []) + also.get(country, []))
        for country in set(home) | set(also)
    }
    return Directory(hotlines=hotlines, fallback_id=chosen, by_country=by_country)


def load_directory(path: Path | None = None, fallback_id: str | None = None) -> Directory:
    source = path or DATA_DIR / "hotlines.json"
    try:
        data = json.loads(source.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DirectoryError(f"{source.name}: {exc}") from exc
    return build_directory(data, fallback_id)
