"""Where each location goes, and why (DESIGN section 6).

``route_location`` is a pure function of (location, survivor's country, directory, resolver):
no network, no database, no Flask. Every decision carries reasons as codes with parameters; the
web layer turns them into sentences in the reader's language.

The order, first match wins:

1. dark-web (``.onion``) and peer-to-peer places go to a hotline that says it takes them;
2. a known provider (by host, by a parent domain, or by the platform a person named) goes to the
   hotline of the country where the provider is established;
3. a country-code domain goes to that country's hotline (a weaker signal, and said so);
4. the optional resolver's hosting country, when one is configured;
5. the hotline of the survivor's country, else the fallback that sends notices worldwide.

Wherever a country has no hotline, or a hotline does not take a kind of report, the reasons say so
and name what was chosen instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from .countries import (
    CCTLD_EXCEPTIONS,
    GENERIC_USE_CCTLDS,
    IDN_CCTLDS,
    ISO_COUNTRIES,
)
from .directory import Directory, Hotline, Provider
from .normalise import NormalisedLocation, is_onion

__all__ = [
    "ISO_COUNTRIES",
    "REASON_CODES",
    "Reason",
    "Resolver",
    "RouteDecision",
    "TopLevelDomain",
    "needs_resolver",
    "place_key",
    "route_location",
    "top_level_domain",
]


# Every reason code the engine gives, in the order they can appear. Stable: stored with each
# location and part of the API.
REASON_CODES = (
    "dark_web",
    "peer_to_peer",
    "kind_not_accepted",
    "dark_web_no_hotline",
    "peer_to_peer_no_hotline",
    "named_platform",
    "platform_not_known",
    "shortener",
    "provider_hotline",
    "provider_country_unknown",
    "known_provider",
    "country_code_domain",
    "generic_country_code",
    "generic_domain",
    "ip_address",
    "hosting_country",
    "country_hotline",
    "no_hotline_in_country",
    "no_address",
    "survivor_country",
    "fallback",
)


class Resolver(Protocol):
    """Optional: the country where a host is served from. Never fetches content."""

    def hosting_country(self, host: str) -> str | None: ...


@dataclass(frozen=True)
class Reason:
    code: str
    params: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "params": dict(self.params)}


@dataclass(frozen=True)
class RouteDecision:
    hotline: Hotline
    reasons: tuple[Reason, ...]
    provider: Provider | None = None


@dataclass(frozen=True)
class TopLevelDomain:
    """The last label of a host: ``written`` as a person reads it, ``country`` if it has one."""

    written: str
    country: str | None
    generic_use: bool = False


def top_level_domain(host: str) -> TopLevelDomain:
    tld = host.rsplit(".", 1)[-1].lower()
    if tld in IDN_CCTLDS:
        country, written = IDN_CCTLDS[tld]
        return TopLevelDomain(written, country)
    if tld in CCTLD_EXCEPTIONS:
        return TopLevelDomain(tld, CCTLD_EXCEPTIONS[tld])
    code = tld.upper()
    if len(code) == 2 and code in ISO_COUNTRIES:
        return TopLevelDomain(tld, code, generic_use=tld in GENERIC_USE_CCTLDS)
    return TopLevelDomain(tld, None)


def country_of_tld(host: str) -> str | None:
    """The country a country-code domain points to; None for a generic one (or one used as such)."""
    tld = top_level_domain(host)
    return None if tld.generic_use else tld.country


def _is_ip_literal(host: str) -> bool:
    return host.startswith("[") or host.replace(".", "").isdigit()


def _accepts(hotline: Hotline, dark_web: bool) -> bool:
    return bool(hotline.accepts_dark_web if dark_web else hotline.accepts_p2p)


def _route_special_kind(
    directory: Directory, dark_web: bool, survivor_country: str | None
) -> RouteDecision:
    """Dark web or peer-to-peer: the survivor's own hotline if it takes them, else the fallback,
    else any hotline that does."""
    kind = "dark_web" if dark_web else "peer_to_peer"
    reasons: list[Reason] = []
    own = directory.for_country(survivor_country)
    ordered = [
        *directory.hotlines_for_country(survivor_country or ""),
        directory.fallback,
        *sorted(directory.hotlines.values(), key=lambda h: h.id),
    ]
    chosen = next((hotline for hotline in ordered if _accepts(hotline, dark_web)), None)
    if chosen is None:
        reasons.append(Reason(f"{kind}_no_hotline"))
        reasons.append(Reason("fallback", {"hotline": directory.fallback_id}))
        return RouteDecision(directory.fallback, tuple(reasons))
    if own is not None and not _accepts(own, dark_web):
        reasons.append(Reason("kind_not_accepted", {"hotline": own.id, "kind": kind}))
    reasons.append(Reason(kind, {"hotline": chosen.id}))
    return RouteDecision(chosen, tuple(reasons))


def _country_route(
    directory: Directory,
    country: str,
    reasons: list[Reason],
    provider: Provider | None = None,
) -> RouteDecision:
    hotline = directory.for_country(country)
    if hotline is not None:
        reasons.append(Reason("country_hotline", {"country": country, "hotline": hotline.id}))
        return RouteDecision(hotline, tuple(reasons), provider)
    reasons.append(Reason("no_hotline_in_country", {"country": country}))
    reasons.append(Reason("fallback", {"hotline": directory.fallback_id}))
    return RouteDecision(directory.fallback, tuple(reasons), provider)


def _provider_route(
    directory: Directory, provider: Provider, reasons: list[Reason]
) -> RouteDecision | None:
    """Route by where the provider is established; None when that is not known."""
    if provider.shortener and (provider.hotline is not None or provider.country is not None):
        reasons.append(Reason("shortener", {"provider": provider.id}))
    if provider.hotline is not None:
        hotline = directory.hotlines[provider.hotline]
        reasons.append(Reason("provider_hotline", {"provider": provider.id, "hotline": hotline.id}))
        return RouteDecision(hotline, tuple(reasons), provider)
    if provider.country is None:
        reasons.append(Reason("provider_country_unknown", {"provider": provider.id}))
        return None
    reasons.append(Reason("known_provider", {"provider": provider.id, "country": provider.country}))
    return _country_route(directory, provider.country, reasons, provider)


def place_key(location: NormalisedLocation, directory: Directory) -> str:
    """What two reports of the same place share (the keyed hash is taken of it).

    An account or group on a platform we know is keyed by that provider, so "bob" on "Insta"
    and "bob" on "Instagram" are one place.
    """
    if location.host or location.kind not in ("account", "group") or not location.platform:
        return location.canonical
    provider = directory.provider_named(location.platform)
    if provider is None:
        return location.canonical
    return f"{location.kind}:@{provider.id}:{location.value.lower()}"


def needs_resolver(location: NormalisedLocation, directory: Directory) -> bool:
    """Whether routing would ask the resolver about this place: only when nothing else (the dark
    web, a known provider, a country-code domain) says where it is."""
    host = location.host
    if not host or is_onion(host) or location.kind == "p2p":
        return False
    provider = directory.provider_for_host(host)
    if provider is not None and (provider.hotline is not None or provider.country is not None):
        return False
    if _is_ip_literal(host):
        return True
    tld = top_level_domain(host)
    return tld.country is None or tld.generic_use


def route_location(
    location: NormalisedLocation,
    directory: Directory,
    *,
    survivor_country: str | None = None,
    resolver: Resolver | None = None,
) -> RouteDecision:
    """Choose the hotline for one location and say why."""
    host = location.host
    survivor_country = survivor_country.upper() if survivor_country else None
    if is_onion(host) or location.kind == "p2p":
        return _route_special_kind(directory, is_onion(host), survivor_country)

    reasons: list[Reason] = []
    provider = directory.provider_for_host(host)
    # The platform a person named counts only when there is no address: a link says more.
    if not host and location.platform:
        provider = directory.provider_named(location.platform)
        if provider is not None:
            reasons.append(Reason("named_platform", {"provider": provider.id}))
        else:
            reasons.append(Reason("platform_not_known"))
    if provider is not None:
        decision = _provider_route(directory, provider, reasons)
        if decision is not None:
            return decision

    if host and not _is_ip_literal(host):
        tld = top_level_domain(host)
        if tld.country is not None and not tld.generic_use:
            reasons.append(
                Reason("country_code_domain", {"tld": tld.written, "country": tld.country})
            )
            return _country_route(directory, tld.country, reasons, provider)
        if tld.country is not None:
            reasons.append(
                Reason("generic_country_code", {"tld": tld.written, "country": tld.country})
            )
        else:
            reasons.append(Reason("generic_domain", {"tld": tld.written}))
    elif host:
        reasons.append(Reason("ip_address"))

    if host and resolver is not None:
        hosting = resolver.hosting_country(host)
        if hosting and hosting in ISO_COUNTRIES:
            reasons.append(Reason("hosting_country", {"country": hosting}))
            return _country_route(directory, hosting, reasons, provider)

    if not host and provider is None:
        reasons.append(Reason("no_address"))
    if survivor_country:
        hotline = directory.for_country(survivor_country)
        if hotline is not None:
            reasons.append(
                Reason("survivor_country", {"country": survivor_country, "hotline": hotline.id})
            )
            return RouteDecision(hotline, tuple(reasons), provider)
        reasons.append(Reason("no_hotline_in_country", {"country": survivor_country}))
    reasons.append(Reason("fallback", {"hotline": directory.fallback_id}))
    return RouteDecision(directory.fallback, tuple(reasons), provider)
