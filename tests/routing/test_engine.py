"""Where each location goes, and why (DESIGN section 6)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from assistant.routing.countries import GENERIC_USE_CCTLDS
from assistant.routing.directory import Directory
from assistant.routing.directory import DirectoryError
from assistant.routing.directory import build_directory
from assistant.routing.directory import load_directory
from assistant.routing.engine import ISO_COUNTRIES
from assistant.routing.engine import country_of_tld
from assistant.routing.engine import route_location
from assistant.routing.normalise import Kind
from assistant.routing.normalise import LocationRejected
from assistant.routing.normalise import NormalisedLocation
from assistant.routing.normalise import normalise_location

ONION_V3 = "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion"
MAGNET = "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a"


def entry(
    hotline_id: str,
    countries: list[str],
    *,
    dark_web: bool | None = None,
    p2p: bool | None = None,
    worldwide: bool = False,
) -> dict[str, Any]:
    return {
        "id": hotline_id,
        "name": hotline_id.replace("_", " ").title(),
        "operator": "Operator",
        "countries": countries,
        "languages": ["en"],
        "website": f"https://{hotline_id}.example",
        "report_url": None,
        "accepts_dark_web": dark_web,
        "accepts_p2p": p2p,
        "sends_notices_worldwide": worldwide,
        "intake": "handoff",
        "sources": ["https://source.example/list"],
        "verified_on": "2025-01-01",
    }


def directory_of(*entries: dict[str, Any], fallback: str = "world") -> Directory:
    return build_directory({"hotlines": list(entries), "fallback": fallback})


@pytest.fixture
def small() -> Directory:
    """Ireland and Britain have hotlines; nobody takes dark-web or peer-to-peer reports."""
    return directory_of(
        entry("world", ["CA"], worldwide=True),
        entry("irish", ["IE"]),
        entry("british", ["GB"]),
    )


def url(text: str) -> NormalisedLocation:
    return normalise_location("url", text)


def codes(decision: Any) -> list[str]:
    return [reason.code for reason in decision.reasons]


class FakeResolver:
    def __init__(self, answer: str | None) -> None:
        self.answer = answer
        self.asked: list[str] = []

    def hosting_country(self, host: str) -> str | None:
        self.asked.append(host)
        return self.answer


# --- country-code domains ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "country"),
    [
        ("example.de", "DE"),
        ("example.JP", "JP"),
        ("example.co.uk", "GB"),
        ("example.ac", "SH"),
        ("example.com", None),
        ("example.eu", None),
        ("example.org", None),
        ("example.zz", None),
    ],
)
def test_country_of_tld(host: str, country: str | None) -> None:
    assert country_of_tld(host) == country


def test_country_code_domain_goes_to_that_countrys_hotline(small: Directory) -> None:
    decision = route_location(url("https://www.example.ie/a"), small)
    assert decision.hotline.id == "irish"
    assert codes(decision) == ["country_code_domain", "country_hotline"]
    assert dict(decision.reasons[0].params) == {"tld": "ie", "country": "IE"}
    assert dict(decision.reasons[1].params) == {"country": "IE", "hotline": "irish"}


def test_uk_domain_goes_to_the_hotline_for_gb(small: Directory) -> None:
    decision = route_location(url("https://i.example.co.uk/a"), small)
    assert decision.hotline.id == "british"
    assert codes(decision) == ["country_code_domain", "country_hotline"]
    assert dict(decision.reasons[0].params) == {"tld": "uk", "country": "GB"}


def test_country_code_domain_wins_over_the_survivors_country(small: Directory) -> None:
    decision = route_location(url("https://example.ie/a"), small, survivor_country="GB")
    assert decision.hotline.id == "irish"


def test_country_with_no_hotline_goes_to_the_fallback(small: Directory) -> None:
    decision = route_location(url("https://example.it/a"), small, survivor_country="IE")
    assert decision.hotline.id == "world"
    assert codes(decision) == ["country_code_domain", "no_hotline_in_country", "fallback"]
    assert dict(decision.reasons[1].params) == {"country": "IT"}
    assert dict(decision.reasons[2].params) == {"hotline": "world"}


def test_hotline_based_in_a_country_comes_before_one_that_also_serves_it() -> None:
    directory = directory_of(
        entry("world", ["CA"]),
        entry("aa_regional", ["FR", "BE"]),
        entry("zz_belgian", ["BE"]),
    )
    assert directory.for_country("be").id == "zz_belgian"  # type: ignore[union-attr]
    assert route_location(url("https://example.be/"), directory).hotline.id == "zz_belgian"
    assert route_location(url("https://example.fr/"), directory).hotline.id == "aa_regional"


def test_hotline_that_also_serves_a_country_is_used_when_none_is_based_there() -> None:
    directory = directory_of(entry("world", ["CA"]), entry("regional", ["FR", "LU"]))
    decision = route_location(url("https://example.lu/"), directory)
    assert decision.hotline.id == "regional"
    assert codes(decision) == ["country_code_domain", "country_hotline"]


# --- generic domains and the survivor's country ------------------------------------------------


def test_generic_domain_without_survivor_country_goes_to_the_fallback(small: Directory) -> None:
    decision = route_location(url("https://example.com/a"), small)
    assert decision.hotline.id == "world"
    assert codes(decision) == ["generic_domain", "fallback"]
    assert dict(decision.reasons[0].params) == {"tld": "com"}


def test_generic_domain_goes_to_the_survivors_country(small: Directory) -> None:
    decision = route_location(url("https://example.com/a"), small, survivor_country="IE")
    assert decision.hotline.id == "irish"
    assert codes(decision) == ["generic_domain", "survivor_country"]
    assert dict(decision.reasons[1].params) == {"country": "IE", "hotline": "irish"}


def test_survivor_country_in_lower_case_is_understood(small: Directory) -> None:
    decision = route_location(url("https://example.com/a"), small, survivor_country="gb")
    assert decision.hotline.id == "british"


def test_survivor_country_without_hotline_goes_to_the_fallback(small: Directory) -> None:
    decision = route_location(url("https://example.org/a"), small, survivor_country="JP")
    assert decision.hotline.id == "world"
    assert codes(decision) == ["generic_domain", "no_hotline_in_country", "fallback"]
    assert dict(decision.reasons[1].params) == {"country": "JP"}


@pytest.mark.parametrize("link", ["http://192.0.2.10/a", "http://[2001:db8::1]/a"])
def test_ip_address_host_says_so(small: Directory, link: str) -> None:
    decision = route_location(url(link), small)
    assert decision.hotline.id == "world"
    assert codes(decision) == ["ip_address", "fallback"]
    with_country = route_location(url(link), small, survivor_country="IE")
    assert codes(with_country) == ["ip_address", "survivor_country"]
    assert with_country.hotline.id == "irish"


def test_location_without_an_address_says_so(small: Directory) -> None:
    location = normalise_location("group", "a group called something")
    assert codes(route_location(location, small)) == ["no_address", "fallback"]
    decision = route_location(location, small, survivor_country="IE")
    assert codes(decision) == ["no_address", "survivor_country"]
    assert decision.hotline.id == "irish"


def test_account_given_as_a_link_is_routed_by_its_domain(small: Directory) -> None:
    location = normalise_location("account", "https://social.example.ie/someone")
    assert route_location(location, small).hotline.id == "irish"


# --- dark web and peer-to-peer -----------------------------------------------------------------


def test_onion_goes_to_a_hotline_that_accepts_dark_web_reports() -> None:
    directory = directory_of(
        entry("world", ["CA"], dark_web=False),
        entry("darkweb_ok", ["NL"], dark_web=True),
        entry("p2p_only", ["DE"], p2p=True),
    )
    decision = route_location(url(f"http://{ONION_V3}/board"), directory)
    assert decision.hotline.id == "darkweb_ok"
    assert codes(decision) == ["dark_web"]
    assert dict(decision.reasons[0].params) == {"hotline": "darkweb_ok"}


def test_survivors_hotline_that_does_not_take_dark_web_reports_is_named() -> None:
    directory = directory_of(
        entry("world", ["CA"], dark_web=False),
        entry("darkweb_ok", ["NL"], dark_web=True),
        entry("p2p_only", ["DE"], p2p=True),
    )
    decision = route_location(url(f"http://{ONION_V3}/board"), directory, survivor_country="DE")
    assert decision.hotline.id == "darkweb_ok"
    assert codes(decision) == ["kind_not_accepted", "dark_web"]
    assert dict(decision.reasons[0].params) == {"hotline": "p2p_only", "kind": "dark_web"}


def test_survivors_own_hotline_is_chosen_when_it_takes_peer_to_peer_reports() -> None:
    directory = directory_of(
        entry("world", ["CA"], dark_web=True, p2p=True),
        entry("sharing_ok", ["DE"], p2p=True),
    )
    decision = route_location(normalise_location("p2p", MAGNET), directory, survivor_country="de")
    assert decision.hotline.id == "sharing_ok"
    assert codes(decision) == ["peer_to_peer"]


def test_fallback_that_accepts_dark_web_is_chosen_first() -> None:
    directory = directory_of(
        entry("world", ["CA"], dark_web=True), entry("aa_first", ["NL"], dark_web=True)
    )
    assert route_location(url(f"http://{ONION_V3}/"), directory).hotline.id == "world"


def test_onion_with_no_accepting_hotline_goes_to_the_fallback(small: Directory) -> None:
    decision = route_location(url(f"http://{ONION_V3}/"), small, survivor_country="IE")
    assert decision.hotline.id == "world"
    assert codes(decision) == ["dark_web_no_hotline", "fallback"]


def test_unknown_dark_web_policy_does_not_count_as_accepting() -> None:
    directory = directory_of(entry("world", ["CA"], dark_web=None), entry("nl", ["NL"]))
    assert codes(route_location(url(f"http://{ONION_V3}/"), directory)) == [
        "dark_web_no_hotline",
        "fallback",
    ]


def test_onion_written_as_a_group_is_still_dark_web() -> None:
    directory = directory_of(entry("world", ["CA"]), entry("darkweb_ok", ["NL"], dark_web=True))
    location = normalise_location("group", f"http://{ONION_V3}/forum")
    assert route_location(location, directory).hotline.id == "darkweb_ok"


def test_p2p_goes_to_a_hotline_that_accepts_p2p_reports() -> None:
    directory = directory_of(
        entry("world", ["CA"]),
        entry("darkweb_only", ["NL"], dark_web=True),
        entry("sharing_ok", ["DE"], p2p=True),
    )
    decision = route_location(normalise_location("url", MAGNET), directory)
    assert decision.hotline.id == "sharing_ok"
    assert codes(decision) == ["peer_to_peer"]
    assert dict(decision.reasons[0].params) == {"hotline": "sharing_ok"}


def test_p2p_with_no_accepting_hotline_goes_to_the_fallback(small: Directory) -> None:
    decision = route_location(normalise_location("p2p", "some file name"), small)
    assert decision.hotline.id == "world"
    assert codes(decision) == ["peer_to_peer_no_hotline", "fallback"]


# --- resolver ----------------------------------------------------------------------------------


def test_resolver_hosting_country_is_used_for_a_generic_domain(small: Directory) -> None:
    resolver = FakeResolver("IE")
    decision = route_location(
        url("https://cdn.example.com/a"), small, survivor_country="GB", resolver=resolver
    )
    assert resolver.asked == ["cdn.example.com"]
    assert decision.hotline.id == "irish"
    assert codes(decision) == ["generic_domain", "hosting_country", "country_hotline"]
    assert dict(decision.reasons[1].params) == {"country": "IE"}


def test_resolver_is_used_for_an_ip_address(small: Directory) -> None:
    resolver = FakeResolver("GB")
    decision = route_location(url("http://192.0.2.10/"), small, resolver=resolver)
    assert resolver.asked == ["192.0.2.10"]
    assert decision.hotline.id == "british"
    assert codes(decision) == ["ip_address", "hosting_country", "country_hotline"]


def test_resolver_country_without_hotline_goes_to_the_fallback(small: Directory) -> None:
    decision = route_location(
        url("https://example.com/"), small, survivor_country="IE", resolver=FakeResolver("JP")
    )
    assert decision.hotline.id == "world"
    assert codes(decision) == [
        "generic_domain",
        "hosting_country",
        "no_hotline_in_country",
        "fallback",
    ]


def test_resolver_without_an_answer_falls_through_to_the_survivors_country(
    small: Directory,
) -> None:
    decision = route_location(
        url("https://example.com/"), small, survivor_country="GB", resolver=FakeResolver(None)
    )
    assert decision.hotline.id == "british"
    assert codes(decision) == ["generic_domain", "survivor_country"]


def test_resolver_is_not_asked_about_country_code_domains_or_onions(small: Directory) -> None:
    resolver = FakeResolver("GB")
    assert route_location(url("https://example.ie/"), small, resolver=resolver).hotline.id == (
        "irish"
    )
    route_location(url(f"http://{ONION_V3}/"), small, resolver=resolver)
    route_location(normalise_location("other", "some words"), small, resolver=resolver)
    assert resolver.asked == []


# --- directory ---------------------------------------------------------------------------------


def test_directory_refuses_a_fallback_it_does_not_contain() -> None:
    with pytest.raises(DirectoryError, match="fallback"):
        directory_of(entry("irish", ["IE"]), fallback="world")


def test_directory_refuses_duplicate_ids() -> None:
    with pytest.raises(DirectoryError, match="used twice"):
        directory_of(entry("world", ["CA"]), entry("world", ["IE"]))


def test_directory_fallback_can_be_chosen_by_configuration() -> None:
    data = {"hotlines": [entry("world", ["CA"]), entry("irish", ["IE"])], "fallback": "world"}
    directory = build_directory(data, fallback_id="irish")
    assert directory.fallback.id == "irish"
    decision = route_location(url("https://example.com/"), directory)
    assert decision.hotline.id == "irish"
    assert dict(decision.reasons[-1].params) == {"hotline": "irish"}


# --- the shipped directory ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> Directory:
    return load_directory()


def test_shipped_fallback_sends_notices_worldwide(shipped: Directory) -> None:
    assert shipped.fallback_id == "cybertip_ca"
    assert shipped.fallback.sends_notices_worldwide is True


def test_shipped_uk_domain_goes_to_the_iwf(shipped: Directory) -> None:
    decision = route_location(url("https://i.example.co.uk/a"), shipped)
    assert decision.hotline.id == "iwf_gb"
    assert codes(decision) == ["country_code_domain", "country_hotline"]


def test_shipped_jp_domain_goes_to_the_japanese_hotline(shipped: Directory) -> None:
    assert route_location(url("https://example.jp/"), shipped).hotline.id == "ihc_jp"


def test_shipped_every_hotlines_home_domain_routes_to_a_hotline_based_there(
    shipped: Directory,
) -> None:
    for hotline in shipped.hotlines.values():
        tld = "uk" if hotline.country == "GB" else hotline.country.lower()
        if tld in GENERIC_USE_CCTLDS:
            continue  # .co, .ad...: used by sites everywhere, so they point nowhere
        decision = route_location(url(f"https://example.{tld}/"), shipped)
        assert decision.hotline.country == hotline.country, tld
        assert codes(decision) == ["country_code_domain", "country_hotline"]


def test_shipped_country_without_hotline_goes_to_the_fallback(shipped: Directory) -> None:
    country = next(
        c
        for c in sorted(ISO_COUNTRIES)
        if shipped.for_country(c) is None and c.lower() not in GENERIC_USE_CCTLDS
    )
    decision = route_location(url(f"https://example.{country.lower()}/"), shipped)
    assert decision.hotline.id == "cybertip_ca"
    assert codes(decision) == ["country_code_domain", "no_hotline_in_country", "fallback"]


def test_shipped_onion_and_p2p_go_to_hotlines_that_accept_them(shipped: Directory) -> None:
    dark = route_location(url(f"http://{ONION_V3}/"), shipped)
    sharing = route_location(normalise_location("url", MAGNET), shipped)
    assert dark.hotline.accepts_dark_web is True
    assert codes(dark) == ["dark_web"]
    assert sharing.hotline.accepts_p2p is True
    assert codes(sharing) == ["peer_to_peer"]


def test_shipped_generic_domain_goes_to_the_survivors_country(shipped: Directory) -> None:
    decision = route_location(url("https://example.com/"), shipped, survivor_country="GB")
    assert decision.hotline.id == "iwf_gb"
    assert codes(decision) == ["generic_domain", "survivor_country"]


# --- properties --------------------------------------------------------------------------------

location_text = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda scheme, host, tld, rest: f"{scheme}{host}.{tld}{rest}",
        st.sampled_from(["http://", "https://", "//", ""]),
        st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,10}){0,2}", fullmatch=True),
        st.sampled_from(
            [
                "com",
                "ie",
                "uk",
                "jp",
                "it",
                "onion",
                "xn--p1ai",
                "рф",
                "中国",
                "org",
                "eu",
                "ac",
                "tv",
            ]
        ),
        st.text(alphabet="/?#=&ab", max_size=10),
    ),
    st.builds(lambda a, b, c, d: f"http://{a}.{b}.{c}.{d}/", *[st.integers(0, 255)] * 4),
    st.just(f"http://{ONION_V3}/"),
    st.just(MAGNET),
)
directories = st.sampled_from(
    [
        load_directory(),
        directory_of(entry("world", ["CA"]), entry("irish", ["IE"])),
        directory_of(entry("world", ["CA"], dark_web=False, p2p=False)),
    ]
)
resolvers = st.one_of(
    st.none(), st.builds(FakeResolver, st.sampled_from([None, "IE", "JP", "ZZ", ""]))
)
platforms = st.one_of(
    st.none(), st.text(max_size=20), st.sampled_from(["Insta", "X", "twitter.com", "TikTok", "."])
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(list(Kind)),
    text=location_text,
    directory=directories,
    survivor_country=st.one_of(st.none(), st.sampled_from(["IE", "gb", "JP", "XX", ""])),
    resolver=resolvers,
    platform=platforms,
)
def test_every_accepted_location_is_routed_with_at_least_one_reason(
    kind: str,
    text: str,
    directory: Directory,
    survivor_country: str | None,
    resolver: FakeResolver | None,
    platform: str | None,
) -> None:
    try:
        location = normalise_location(kind, text, platform=platform)
    except LocationRejected:
        return
    decision = route_location(
        location, directory, survivor_country=survivor_country, resolver=resolver
    )
    assert decision.hotline is directory.hotlines[decision.hotline.id]
    assert len(decision.reasons) >= 1
    assert all(reason.code for reason in decision.reasons)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(list(Kind)),
    host=st.one_of(st.none(), st.text(max_size=30), st.from_regex(r"[a-z.]{0,12}", fullmatch=True)),
    platform=platforms,
    survivor_country=st.one_of(st.none(), st.text(max_size=3)),
    resolver=resolvers,
)
def test_routing_never_raises_even_for_locations_that_skipped_normalising(
    kind: str,
    host: str | None,
    platform: str | None,
    survivor_country: str | None,
    resolver: FakeResolver | None,
) -> None:
    location = NormalisedLocation(kind=kind, value="x", canonical="x", host=host, platform=platform)
    decision = route_location(
        location, load_directory(), survivor_country=survivor_country, resolver=resolver
    )
    assert decision.hotline.id in load_directory().hotlines
    assert decision.reasons
