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
from dataclasses import dataclass
from dataclasses import field
from enum import StrEnum
from typing import Protocol

from .countries import CCTLD_EXCEPTIONS
from .countries import GENERIC_USE_CCTLDS
from .countries import IDN_CCTLDS
from .countries import ISO_COUNTRIES
from .directory import Directory
from .directory import Hotline
from .directory import Provider
from .normalise import Kind
from .normalise import NormalisedLocation
from .normalise import is_onion

__all__ = [
    "ISO_COUNTRIES",
    "Reason",
    "ReasonCode",
    "Resolver",
    "RouteDecision",
    "TopLevelDomain",
    "needs_resolver",
    "place_key",
    "route_location",
    "top_level_domain",
]


class ReasonCode(StrEnum):
    """Every reason the engine gives, in the order they can appear. Stable: stored with each
    location and part of the API."""

    DARK_WEB = "dark_web"
    PEER_TO_PEER = "peer_to_peer"
    KIND_NOT_ACCEPTED = "kind_not_accepted"
    DARK_WEB_NO_HOTLINE = "dark_web_no_hotline"
    PEER_TO_PEER_NO_HOTLINE = "peer_to_peer_no_hotline"
    NAMED_PLATFORM = "named_platform"
    PLATFORM_NOT_KNOWN = "platform_not_known"
    SHORTENER = "shortener"
    PROVIDER_HOTLINE = "provider_hotline"
    PROVIDER_COUNTRY_UNKNOWN = "provider_country_unknown"
    KNOWN_PROVIDER = "known_provider"
    COUNTRY_CODE_DOMAIN = "country_code_domain"
    GENERIC_COUNTRY_CODE = "generic_country_code"
    GENERIC_DOMAIN = "generic_domain"
    IP_ADDRESS = "ip_address"
    HOSTING_COUNTRY = "hosting_country"
    COUNTRY_HOTLINE = "country_hotline"
    NO_HOTLINE_IN_COUNTRY = "no_hotline_in_country"
    NO_ADDRESS = "no_address"
    SURVIVOR_COUNTRY = "survivor_country"
    FALLBACK = "fallback"


class Resolver(Protocol):
    """Optional: the country where a host is served from. Never fetches content."""

    def hosting_country(self, host: str) -> str | None: ...


@dataclass(frozen=True)
class Reason:
    code: ReasonCode
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
    kind, nobody = (
        (ReasonCode.DARK_WEB, ReasonCode.DARK_WEB_NO_HOTLINE)
        if dark_web
        else (ReasonCode.PEER_TO_PEER, ReasonCode.PEER_TO_PEER_NO_HOTLINE)
    )
    reasons: list[Reason] = []
    own = directory.for_country(survivor_country)
    ordered = [
        *directory.hotlines_for_country(survivor_country or ""),
        directory.fallback,
        *sorted(directory.hotlines.values(), key=lambda h: h.id),
    ]
    chosen = next((hotline for hotline in ordered if _accepts(hotline, dark_web)), None)
    if chosen is None:
        reasons.append(Reason(nobody))
        reasons.append(Reason(ReasonCode.FALLBACK, {"hotline": directory.fallback_id}))
        return RouteDecision(directory.fallback, tuple(reasons))
    if own is not None and not _accepts(own, dark_web):
        reasons.append(Reason(ReasonCode.KIND_NOT_ACCEPTED, {"hotline": own.id, "kind": kind}))
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
        reasons.append(
            Reason(ReasonCode.COUNTRY_HOTLINE, {"country": country, "hotline": hotline.id})
        )
        return RouteDecision(hotline, tuple(reasons), provider)
    reasons.append(Reason(ReasonCode.NO_HOTLINE_IN_COUNTRY, {"country": country}))
    reasons.append(Reason(ReasonCode.FALLBACK, {"hotline": directory.fallback_id}))
    return RouteDecision(directory.fallback, tuple(reasons), provider)


def _provider_route(
    directory: Directory, provider: Provider, reasons: list[Reason]
) -> RouteDecision | None:
    """Route by where the provider is established; None when that is not known."""
    if provider.shortener and (provider.hotline is not None or provider.country is not None):
        reasons.append(Reason(ReasonCode.SHORTENER, {"provider": provider.id}))
    if provider.hotline is not None:
        hotline = directory.hotlines[provider.hotline]
        reasons.append(
            Reason(ReasonCode.PROVIDER_HOTLINE, {"provider": provider.id, "hotline": hotline.id})
        )
        return RouteDecision(hotline, tuple(reasons), provider)
    if provider.country is None:
        reasons.append(Reason(ReasonCode.PROVIDER_COUNTRY_UNKNOWN, {"provider": provider.id}))
        return None
    reasons.append(
        Reason(ReasonCode.KNOWN_PROVIDER, {"provider": provider.id, "country": provider.country})
    )
    return _country_route(directory, provider.country, reasons, provider)


def place_key(location: NormalisedLocation, directory: Directory) -> str:
    """What two reports of the same place share (the keyed hash is taken of it).

    An account or group on a platform we know is keyed by that provider, so "bob" on "Insta"
    and "bob" on "Instagram" are one place.
    """
    if location.host or location.kind not in (Kind.ACCOUNT, Kind.GROUP) or not location.platform:
        return location.canonical
    provider = directory.provider_named(location.platform)
    if provider is None:
        return location.canonical
    return f"{location.kind}:@{provider.id}:{location.value.lower()}"


def needs_resolver(location: NormalisedLocation, directory: Directory) -> bool:
    """Whether routing would ask the resolver about this place: only when nothing else (the dark
    web, a known provider, a country-code domain) says where it is."""
    host = location.host
    if not host or is_onion(host) or location.kind == Kind.P2P:
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
    if is_onion(host) or location.kind == Kind.P2P:
        return _route_special_kind(directory, is_onion(host), survivor_country)

    reasons: list[Reason] = []
    provider = directory.provider_for_host(host)
    # The platform a person named counts only when there is no address: a link says more.
    if not host and location.platform:
        provider = directory.provider_named(location.platform)
        if provider is not None:
            reasons.append(Reason(ReasonCode.NAMED_PLATFORM, {"provider": provider.id}))
        else:
            reasons.append(Reason(ReasonCode.PLATFORM_NOT_KNOWN))
    if provider is not None:
        decision = _provider_route(directory, provider, reasons)
        if decision is not None:
            return decision

    if host and not _is_ip_literal(host):
        tld = top_level_domain(host)
        if tld.country is not None and not tld.generic_use:
            reasons.append(
                Reason(ReasonCode.COUNTRY_CODE_DOMAIN, {"tld": tld.written, "country": tld.country})
            )
            return _country_route(directory, tld.country, reasons, provider)
        if tld.country is not None:
            reasons.append(
                Reason(
                    ReasonCode.GENERIC_COUNTRY_CODE, {"tld": tld.written, "country": tld.country}
                )
            )
        else:
            reasons.append(Reason(ReasonCode.GENERIC_DOMAIN, {"tld": tld.written}))
    elif host:
        reasons.append(Reason(ReasonCode.IP_ADDRESS))

    if host and resolver is not None:
        hosting = resolver.hosting_country(host)
        if hosting and hosting in ISO_COUNTRIES:
            reasons.append(Reason(ReasonCode.HOSTING_COUNTRY, {"country": hosting}))
            return _country_route(directory, hosting, reasons, provider)

    if not host and provider is None:
        reasons.append(Reason(ReasonCode.NO_ADDRESS))
    if survivor_country:
        hotline = directory.for_country(survivor_country)
        if hotline is not None:
            reasons.append(
                Reason(
                    ReasonCode.SURVIVOR_COUNTRY,
                    {"country": survivor_country, "hotline": hotline.id},
                )
            )
            return RouteDecision(hotline, tuple(reasons), provider)
        reasons.append(Reason(ReasonCode.NO_HOTLINE_IN_COUNTRY, {"country": survivor_country}))
    reasons.append(Reason(ReasonCode.FALLBACK, {"hotline": directory.fallback_id}))
    return RouteDecision(directory.fallback, tuple(reasons), provider)
