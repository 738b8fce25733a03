"""Known providers: by host, by parent domain, by the platform a person named; shorteners."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.routing.directory import Directory
from assistant.routing.directory import DirectoryError
from assistant.routing.directory import build_directory
from assistant.routing.directory import check_data
from assistant.routing.engine import route_location
from assistant.routing.normalise import normalise_location
from tests.routing.test_engine import FakeResolver
from tests.routing.test_engine import codes
from tests.routing.test_engine import entry


def provider(
    provider_id: str,
    country: str | None,
    hosts: list[str],
    aliases: list[str] = (),  # type: ignore[assignment]
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": provider_id,
        "name": provider_id.title(),
        "operator": f"{provider_id.title()} Ltd",
        "country": country,
        "category": "shortener" if extra.get("shortener") else "image_host",
        "hosts": hosts,
        "aliases": list(aliases),
        "report_url": None,
        "shortener": False,
        "sources": ["https://source.example/provider"],
        "verified_on": None,
        **extra,
    }


def directory_with(*providers: dict[str, Any]) -> Directory:
    hotlines = {
        "hotlines": [
            entry("world", ["CA"], worldwide=True),
            entry("irish", ["IE"]),
            entry("german_a", ["DE"]),
            entry("german_b", ["DE"]),
        ],
        "fallback": "world",
    }
    return build_directory(hotlines, {"providers": list(providers)})


@pytest.fixture
def directory() -> Directory:
    return directory_with(
        provider("pictures", "IE", ["pictures.example", "pics.example"], ["Pictures", "Pics"]),
        provider("chatter", "US", ["chatter.example"], ["Chatter", "Insta Chat"]),
        provider("shorty", "IE", ["sho.rt"], ["Shorty"], shortener=True),
        provider("mystery", None, ["mystery.example.de"]),
        provider("germanhost", "DE", ["host.example"], hotline="german_b"),
    )


def test_known_host_goes_to_the_hotline_where_the_provider_is_established(
    directory: Directory,
) -> None:
    decision = route_location(normalise_location("url", "https://pictures.example/a"), directory)
    assert decision.hotline.id == "irish"
    assert codes(decision) == ["known_provider", "country_hotline"]
    assert dict(decision.reasons[0].params) == {"provider": "pictures", "country": "IE"}
    assert decision.provider is not None and decision.provider.id == "pictures"


@pytest.mark.parametrize(
    "link",
    ["https://i.pictures.example/x.jpg", "HTTPS://CDN.EU.Pics.Example:8443/a", "pics.example"],
)
def test_subdomains_and_aliases_of_a_known_host_find_the_provider(
    directory: Directory, link: str
) -> None:
    decision = route_location(normalise_location("url", link), directory)
    assert decision.hotline.id == "irish"
    assert codes(decision)[0] == "known_provider"


def test_known_provider_wins_over_the_country_code_domain(directory: Directory) -> None:
    decision = route_location(
        normalise_location("url", "https://host.example/"), directory, survivor_country="IE"
    )
    assert decision.hotline.id == "german_b"
    assert codes(decision) == ["provider_hotline"]


def test_a_host_that_only_ends_like_a_known_one_is_not_that_provider(
    directory: Directory,
) -> None:
    decision = route_location(normalise_location("url", "https://notpictures.example/"), directory)
    assert decision.provider is None
    assert codes(decision) == ["generic_domain", "fallback"]


@pytest.mark.parametrize(
    "platform", ["Pics", "pictures", "PICTURES", " pictures ", "pictures.example"]
)
def test_account_on_a_named_platform_is_routed_by_that_provider(
    directory: Directory, platform: str
) -> None:
    location = normalise_location("account", "@someone", platform=platform)
    decision = route_location(location, directory, survivor_country="DE")
    assert decision.hotline.id == "irish"
    assert codes(decision) == ["named_platform", "known_provider", "country_hotline"]


def test_platform_names_ignore_spaces_and_punctuation(directory: Directory) -> None:
    location = normalise_location("group", "some group", platform="insta-chat")
    decision = route_location(location, directory)
    assert decision.provider is not None and decision.provider.id == "chatter"


def test_unknown_platform_says_so_and_uses_the_survivors_country(directory: Directory) -> None:
    location = normalise_location("account", "@someone", platform="Nowhere Social")
    decision = route_location(location, directory, survivor_country="IE")
    assert decision.hotline.id == "irish"
    assert codes(decision) == ["platform_not_known", "no_address", "survivor_country"]


def test_provider_in_a_country_without_hotline_goes_to_the_fallback(directory: Directory) -> None:
    decision = route_location(normalise_location("url", "chatter.example/u/1"), directory)
    assert decision.hotline.id == "world"
    assert codes(decision) == ["known_provider", "no_hotline_in_country", "fallback"]
    assert dict(decision.reasons[1].params) == {"country": "US"}


def test_shortener_goes_to_the_shorteners_country_and_says_it_cannot_be_expanded(
    directory: Directory,
) -> None:
    decision = route_location(normalise_location("url", "https://sho.rt/abc"), directory)
    assert decision.hotline.id == "irish"
    assert codes(decision) == ["shortener", "known_provider", "country_hotline"]


def test_provider_with_unknown_country_falls_through_to_the_domain(directory: Directory) -> None:
    resolver = FakeResolver("IE")
    decision = route_location(
        normalise_location("url", "https://a.mystery.example.de/"), directory, resolver=resolver
    )
    assert codes(decision) == ["provider_country_unknown", "country_code_domain", "country_hotline"]
    assert decision.hotline.id == "german_a"
    assert resolver.asked == []


def test_known_provider_is_not_sent_to_the_resolver(directory: Directory) -> None:
    resolver = FakeResolver("DE")
    route_location(
        normalise_location("url", "https://pictures.example/"), directory, resolver=resolver
    )
    assert resolver.asked == []


def test_onion_is_dark_web_even_on_a_platform_we_know() -> None:
    directory = build_directory(
        {"hotlines": [entry("world", ["CA"], dark_web=True)], "fallback": "world"},
        {"providers": [provider("pictures", "IE", ["pictures.example"], ["Pictures"])]},
    )
    onion = "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion"
    location = normalise_location("account", f"http://{onion}/u", platform="Pictures")
    assert codes(route_location(location, directory)) == ["dark_web"]


@pytest.mark.parametrize(
    ("providers", "message"),
    [
        (
            [provider("one", "IE", ["same.example"]), provider("two", "IE", ["same.example"])],
            "host 'same.example' is listed by both 'one' and 'two'",
        ),
        (
            [
                provider("one", "IE", ["a.example"], ["Pics"]),
                provider("two", "IE", ["b.example"], ["pics"]),
            ],
            "name 'pics' is used by both",
        ),
        ([provider("one", "XX", ["a.example"])], "'XX' is not an ISO 3166-1"),
        ([provider("one", "IE", ["www.a.example"])], "without www."),
        ([provider("one", "IE", ["A.example"])], "lower-case"),
        ([provider("one", "GB", ["co.uk"])], "'co.uk' is a public suffix"),
        ([provider("one", "IE", ["a.example"], hotline="nobody")], "unknown hotline 'nobody'"),
        ([provider("one", "IE", ["a.example"], category="blog")], "category 'blog'"),
        ([provider("one", "IE", ["a.example"], sources=[])], "at least one source"),
        ([provider("one", "IE", ["a.example"], verified_on="last week")], "'verified_on'"),
        ([{**provider("one", "IE", ["a.example"]), "colour": "red"}], "unknown keys colour"),
    ],
)
def test_directory_refuses_broken_provider_data(
    providers: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(DirectoryError, match=message.replace("(", r"\(")):
        directory_with(*providers)


@pytest.mark.parametrize(
    "change",
    [
        {"hosts": 5},
        {"aliases": "Pics"},
        {"category": ["image_host"]},
        {"hotline": ["world"]},
        {"country": ["IE"]},
        {"sources": "https://source.example/"},
    ],
)
def test_wrong_types_are_reported_as_problems_not_crashes(change: dict[str, Any]) -> None:
    broken = {**provider("one", "IE", ["a.example"]), **change}
    problems = check_data(
        {"hotlines": [entry("world", ["CA"], worldwide=True)], "fallback": "world"},
        {"providers": [broken]},
    )
    assert problems
    hotline = {**entry("world", ["CA"]), "countries": [["CA"]], "intake": ["handoff"]}
    assert len(check_data({"hotlines": [hotline], "fallback": ["world"]}, {"providers": []})) == 3


def test_a_named_platform_does_not_override_the_address_given(directory: Directory) -> None:
    location = normalise_location("account", "https://someone.example.de/x", platform="Pictures")
    decision = route_location(location, directory)
    assert decision.provider is None
    assert codes(decision) == ["country_code_domain", "country_hotline"]


def test_a_shortener_we_cannot_place_is_not_described_as_routed_by_its_maker() -> None:
    directory = directory_with(provider("shorty", None, ["sho.rt"], shortener=True))
    decision = route_location(normalise_location("url", "https://sho.rt/abc"), directory)
    assert codes(decision) == ["provider_country_unknown", "generic_domain", "fallback"]
