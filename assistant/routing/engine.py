"""Where each location goes, and why (DESIGN section 6).

``route_location`` is a pure function of (location, survivor's country, directory, resolver):
no network, no database, no Flask. Every decision carries reasons as codes with parameters; the
web layer turns them into sentences in the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from .directory import Directory, Hotline
from .normalise import NormalisedLocation, is_onion

# ISO 3166-1 alpha-2, officially assigned codes.
ISO_COUNTRIES = frozenset(
    (
        "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW",
        "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN",
        "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG",
        "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ",
        "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI",
        "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL",
        "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR",
        "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
        "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA",
        "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME",
        "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU",
        "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP",
        "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR",
        "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD",
        "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV",
        "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
        "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE",
        "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
    )
)
# Country-code domains whose letters are not the ISO code of the country they belong to.
CCTLD_EXCEPTIONS: Mapping[str, str] = {"uk": "GB", "ac": "SH"}


class Resolver(Protocol):
    """Optional: the country where a host is served from (DNS + GeoIP). Never fetches content."""

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


def country_of_tld(host: str) -> str | None:
    """The country a country-code top-level domain belongs to, or None for a generic one."""
    tld = host.rsplit(".", 1)[-1].lower()
    if tld in CCTLD_EXCEPTIONS:
        return CCTLD_EXCEPTIONS[tld]
    code = tld.upper()
    return code if len(code) == 2 and code in ISO_COUNTRIES else None


def _is_ip_literal(host: str) -> bool:
    return host.startswith("[") or host.replace(".", "").isdigit()


def _accepting(directory: Directory, wants_dark_web: bool) -> Hotline | None:
    """The hotline that takes dark-web (or peer-to-peer) reports: the fallback first, if it does."""
    ordered = [directory.fallback, *sorted(directory.hotlines.values(), key=lambda h: h.id)]
    for hotline in ordered:
        accepts = hotline.accepts_dark_web if wants_dark_web else hotline.accepts_p2p
        if accepts:
            return hotline
    return None


def _country_route(
    directory: Directory, country: str, reasons: list[Reason]
) -> RouteDecision:
    hotline = directory.for_country(country)
    if hotline is not None:
        reasons.append(Reason("country_hotline", {"country": country, "hotline": hotline.id}))
        return RouteDecision(hotline, tuple(reasons))
    reasons.append(Reason("no_hotline_in_country", {"country": country}))
    reasons.append(Reason("fallback", {"hotline": directory.fallback_id}))
    return RouteDecision(directory.fallback, tuple(reasons))


def route_location(
    location: NormalisedLocation,
    directory: Directory,
    *,
    survivor_country: str | None = None,
    resolver: Resolver | None = None,
) -> RouteDecision:
    """Choose the hotline for one location and say why."""
    host = location.host
    reasons: list[Reason] = []

    if is_onion(host) or location.kind == "p2p":
        dark_web = is_onion(host)
        hotline = _accepting(directory, dark_web)
        code = "dark_web" if dark_web else "peer_to_peer"
        if hotline is not None:
            reasons.append(Reason(code, {"hotline": hotline.id}))
            return RouteDecision(hotline, tuple(reasons))
        reasons.append(Reason(f"{code}_no_hotline"))
        reasons.append(Reason("fallback", {"hotline": directory.fallback_id}))
        return RouteDecision(directory.fallback, tuple(reasons))

    if host and not _is_ip_literal(host):
        country = country_of_tld(host)
        if country is not None:
            tld = host.rsplit(".", 1)[-1]
            reasons.append(Reason("country_code_domain", {"tld": tld, "country": country}))
            return _country_route(directory, country, reasons)
        reasons.append(Reason("generic_domain", {"tld": host.rsplit(".", 1)[-1]}))
    elif host:
        reasons.append(Reason("ip_address"))

    if host and resolver is not None:
        hosting = resolver.hosting_country(host)
        if hosting:
            reasons.append(Reason("hosting_country", {"country": hosting}))
            return _country_route(directory, hosting, reasons)

    if not host:
        reasons.append(Reason("no_address"))
    if survivor_country:
        hotline = directory.for_country(survivor_country)
        if hotline is not None:
            reasons.append(
                Reason("survivor_country", {"country": survivor_country, "hotline": hotline.id})
            )
            return RouteDecision(hotline, tuple(reasons))
        reasons.append(Reason("no_hotline_in_country", {"country": survivor_country}))
    reasons.append(Reason("fallback", {"hotline": directory.fallback_id}))
    return RouteDecision(directory.fallback, tuple(reasons))
