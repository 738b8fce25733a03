"""The optional DNS + GeoIP resolver, and proof that routing opens no connection without it."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from assistant.routing import load_directory
from assistant.routing import normalise_location
from assistant.routing import route_location
from assistant.routing.resolver import GeoipResolver
from assistant.routing.resolver import StaticResolver
from tests.conftest import api_request_body
from tests.conftest import make_app


@pytest.fixture(scope="module")
def geoip_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real MaxMind-format database, written for the test (documentation address blocks)."""
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country")
    writer.insert_network(IPSet(["192.0.2.0/24"]), {"country": {"iso_code": "IE"}})
    writer.insert_network(IPSet(["198.51.100.0/24"]), {"country": {"iso_code": "DE"}})
    # Only the registered country is known for this block.
    writer.insert_network(IPSet(["203.0.113.0/24"]), {"registered_country": {"iso_code": "JP"}})
    writer.insert_network(IPSet(["2001:db8::/32"]), {"country": {"iso_code": "NL"}})
    path = tmp_path_factory.mktemp("geoip") / "test-country.mmdb"
    writer.to_db_file(str(path))
    return path


def answers(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    asked: list[str] = []

    def lookup(host: str) -> list[str]:
        asked.append(host)
        if host not in table:
            raise socket.gaierror("no such host")
        return table[host]

    return lookup, asked


class FakeClock:
    """Time that passes only when the resolver sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def resolver_for(database: Path, lookup, **extra):  # type: ignore[no-untyped-def]
    clock = FakeClock()
    return GeoipResolver(
        database, lookup_addresses=lookup, clock=clock, sleep=clock.sleep, **extra
    ), clock


def test_hosting_country_comes_from_the_addresses_dns_gives(geoip_database: Path) -> None:
    lookup, asked = answers({"files.example.com": ["192.0.2.10", "192.0.2.11", "198.51.100.1"]})
    resolver, _ = resolver_for(geoip_database, lookup)
    assert resolver.hosting_country("files.example.com") == "IE"
    assert asked == ["files.example.com"]


def test_many_hosts_are_looked_up_once_each_in_one_batch(geoip_database: Path) -> None:
    lookup, asked = answers({"a.example": ["192.0.2.1"], "b.example": ["198.51.100.2"]})
    resolver, clock = resolver_for(geoip_database, lookup, timeout_seconds=1.5)
    found = resolver.countries_for(["a.example", "b.example", "a.example", "c.example"])
    assert found == {"a.example": "IE", "b.example": "DE", "c.example": None}
    assert sorted(asked) == ["a.example", "b.example", "c.example"]
    # However fast DNS answered, the batch took the whole budget: timing tells nothing.
    assert clock.slept == [1.5]


def test_nothing_is_remembered_between_batches(geoip_database: Path) -> None:
    lookup, asked = answers({"a.example": ["192.0.2.1"]})
    resolver, _ = resolver_for(geoip_database, lookup)
    resolver.hosting_country("a.example")
    resolver.hosting_country("a.example")
    assert asked == ["a.example", "a.example"]


def test_registered_country_is_used_when_no_country_is_known(geoip_database: Path) -> None:
    lookup, _ = answers({"a.example": ["203.0.113.5"]})
    resolver, _ = resolver_for(geoip_database, lookup)
    assert resolver.hosting_country("a.example") == "JP"


def test_ip_address_hosts_are_looked_up_without_dns_or_waiting(geoip_database: Path) -> None:
    lookup, asked = answers({})
    resolver, clock = resolver_for(geoip_database, lookup)
    assert resolver.hosting_country("198.51.100.7") == "DE"
    assert resolver.hosting_country("[2001:db8::1]") == "NL"
    assert asked == []
    assert clock.slept == []


def test_unknown_host_or_address_gives_no_country(geoip_database: Path) -> None:
    lookup, _ = answers({"elsewhere.example": ["100.64.0.1"]})
    resolver, _ = resolver_for(geoip_database, lookup)
    assert resolver.hosting_country("nowhere.example") is None
    assert resolver.hosting_country("elsewhere.example") is None


def test_any_failure_of_the_lookup_means_no_country(geoip_database: Path) -> None:
    def broken(host: str) -> list[str]:
        raise UnicodeError("label too long")

    resolver, _ = resolver_for(geoip_database, broken)
    assert resolver.hosting_country("a.example") is None


def test_an_ipv6_address_in_an_ipv4_only_database_is_no_crash(tmp_path: Path) -> None:
    writer = MMDBWriter(ip_version=4, database_type="GeoLite2-Country")
    writer.insert_network(IPSet(["192.0.2.0/24"]), {"country": {"iso_code": "IE"}})
    path = tmp_path / "v4.mmdb"
    writer.to_db_file(str(path))
    lookup, _ = answers({"dual.example": ["2001:db8::5", "192.0.2.8"]})
    resolver, _ = resolver_for(path, lookup)
    assert resolver.hosting_country("dual.example") == "IE"


def test_a_slow_dns_answer_is_given_up_on(geoip_database: Path) -> None:
    release = threading.Event()

    def hanging(host: str) -> list[str]:
        release.wait(5)
        return ["192.0.2.1"]

    resolver = GeoipResolver(geoip_database, lookup_addresses=hanging, timeout_seconds=0.05)
    try:
        assert resolver.hosting_country("slow.example") is None
    finally:
        release.set()
        resolver.close()


def test_routing_uses_the_resolver_for_an_unknown_generic_domain(geoip_database: Path) -> None:
    lookup, _ = answers({"cdn.example.net": ["192.0.2.99"]})
    resolver, _ = resolver_for(geoip_database, lookup)
    decision = route_location(
        normalise_location("url", "https://cdn.example.net/x"),
        load_directory(),
        survivor_country="FR",
        resolver=resolver,
    )
    assert decision.hotline.id == "hotline_ie"
    assert [r.code for r in decision.reasons] == [
        "generic_domain",
        "hosting_country",
        "country_hotline",
    ]


def test_static_resolver_answers_for_subdomains_too() -> None:
    resolver = StaticResolver({"example.com": "ie"})
    assert resolver.hosting_country("a.b.example.com") == "IE"
    assert resolver.hosting_country("example.org") is None


def test_the_app_builds_the_resolver_only_when_a_database_is_configured(
    database_url: str, tmp_path: Path, geoip_database: Path
) -> None:
    plain = make_app(database_url, tmp_path / "one")
    assert plain.extensions["assistant.services"].resolver is None
    configured = make_app(database_url, tmp_path / "two", geoip_database=str(geoip_database))
    assert isinstance(configured.extensions["assistant.services"].resolver, GeoipResolver)


def test_a_filing_asks_only_about_places_nothing_else_locates_and_a_dry_run_asks_nothing(
    database_url: str, tmp_path: Path, geoip_database: Path
) -> None:
    app = make_app(database_url, tmp_path / "app", geoip_database=str(geoip_database))
    lookup, asked = answers({"unknown.example.com": ["192.0.2.3"]})
    resolver, _ = resolver_for(geoip_database, lookup)
    services = app.extensions["assistant.services"]
    object.__setattr__(services, "resolver", resolver)
    client = app.test_client()
    places = [
        "https://unknown.example.com/a",
        "https://i.imgur.com/b",
        "https://example.de/c",
        "http://192.0.2.44/d",
    ]
    dry = client.post(
        "/api/v1/route", json={"locations": [{"kind": "url", "value": v} for v in places]}
    )
    assert dry.status_code == 200
    assert asked == []
    assert dry.get_json()["routes"][0]["reasons"][-1]["code"] == "fallback"
    filed = client.post("/api/v1/requests", json=api_request_body(*places))
    assert filed.status_code == 201
    assert asked == ["unknown.example.com"]  # not the known provider, not the .de domain
    first = filed.get_json()["referrals"][0]
    assert first["hotline"]["id"] == "hotline_ie"
    assert "hosting_country" in [r["code"] for r in first["reasons"]]


class NetworkUsed(AssertionError):
    pass


def test_routing_with_the_default_settings_opens_no_network_connection(
    app,
    client,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """Every way Python reaches the network is made to fail loudly; then places are routed
    through the dry run, a filed request and the public page."""
    attempts: list[str] = []

    def refuse(name: str):  # type: ignore[no-untyped-def]
        def refused(*args, **kwargs):  # type: ignore[no-untyped-def]
            attempts.append(f"{name}{args[:2]!r}")
            raise NetworkUsed(name)

        return refused

    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "create_connection"):
        monkeypatch.setattr(socket, name, refuse(name))
    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))

    places = [
        {"kind": "url", "value": "https://unknown-host.example.com/a"},
        {"kind": "url", "value": "http://192.0.2.1/b"},
        {"kind": "url", "value": "https://i.imgur.com/c.jpg"},
        {"kind": "url", "value": "https://example.xn--p1ai/d"},
        {"kind": "account", "value": "someone", "platform": "Insta"},
        {"kind": "p2p", "value": "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a"},
    ]
    dry = client.post("/api/v1/route", json={"locations": places, "survivor_country": "IE"})
    assert dry.status_code == 200
    assert len(dry.get_json()["routes"]) == len(places)
    filed = client.post("/api/v1/requests", json=api_request_body(locations=places))
    assert filed.status_code == 201
    assert client.get("/hotlines?q=ireland").status_code == 200
    assert app.extensions["assistant.services"].resolver is None
    assert attempts == []
