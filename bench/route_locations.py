"""Benchmark: route 100,000 mixed locations with the shipped directory, on one core.

    python bench/route_locations.py [--count 100000] [--seed 7]

Prints locations per second for routing alone and for normalising plus routing, how long 500
pasted links take, and the peak memory of the routing run. The target (issue 3) is at least
50,000 locations per second routed, and 500 pasted links well under a tenth of a second.
Nothing here opens a network connection.
"""

from __future__ import annotations

import argparse
import random
import resource
import string
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.routing import Directory
from assistant.routing import LocationRejected
from assistant.routing import NormalisedLocation
from assistant.routing import load_directory
from assistant.routing import normalise_location
from assistant.routing import route_location

ONION = "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion"
GENERIC_TLDS = ["com", "net", "org", "info", "xyz", "io", "tv", "eu"]
COUNTRY_TLDS = ["de", "fr", "co.uk", "jp", "ru", "com.br", "nl", "pl", "xn--p1ai", "kz", "it"]
PLATFORMS = ["Instagram", "Insta", "Telegram", "X", "Discord", "Snap", "Some App", "TikTok"]
COUNTRIES = [None, None, "IE", "FR", "DE", "US", "GB", "ZW"]


def _word(rng: random.Random, low: int = 3, high: int = 10) -> str:
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=rng.randint(low, high)))


def mixed_entries(
    directory: Directory, count: int, seed: int
) -> list[tuple[str, str, str | None, str | None]]:
    """(kind, text, platform, survivor country): a realistic mix, reproducible from the seed."""
    rng = random.Random(seed)
    hosts = sorted(directory.provider_hosts)
    entries: list[tuple[str, str, str | None, str | None]] = []
    for _ in range(count):
        roll = rng.random()
        country = rng.choice(COUNTRIES)
        path = "/".join(_word(rng) for _ in range(rng.randint(1, 3)))
        if roll < 0.40:
            host = rng.choice(hosts)
            sub = rng.choice(["", "www.", "i.", "cdn.eu."])
            entries.append(("url", f"https://{sub}{host}/{path}", None, country))
        elif roll < 0.60:
            entries.append(
                ("url", f"https://{_word(rng)}.{rng.choice(COUNTRY_TLDS)}/{path}", None, country)
            )
        elif roll < 0.75:
            entries.append(
                (
                    "url",
                    f"http://{_word(rng)}.{rng.choice(GENERIC_TLDS)}/{path}?id=1",
                    None,
                    country,
                )
            )
        elif roll < 0.80:
            octets = ".".join(str(rng.randint(1, 254)) for _ in range(4))
            entries.append(("url", f"http://{octets}:8080/{path}", None, country))
        elif roll < 0.85:
            entries.append(("url", f"http://{ONION}/{path}", None, country))
        elif roll < 0.90:
            digest = "".join(rng.choices("0123456789abcdef", k=40))
            entries.append(("p2p", f"magnet:?xt=urn:btih:{digest}", None, country))
        else:
            kind = rng.choice(["account", "group", "other"])
            platform = rng.choice(PLATFORMS) if kind != "other" else None
            entries.append((kind, f"@{_word(rng)}", platform, country))
    return entries


def normalised(
    entries: list[tuple[str, str, str | None, str | None]],
) -> list[tuple[NormalisedLocation, str | None]]:
    out = []
    for kind, text, platform, country in entries:
        try:
            out.append((normalise_location(kind, text, platform=platform), country))
        except LocationRejected:
            continue
    return out


def route_all(directory: Directory, locations: list[tuple[NormalisedLocation, str | None]]) -> int:
    routed = 0
    for location, country in locations:
        route_location(location, directory, survivor_country=country)
        routed += 1
    return routed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    directory = load_directory()
    entries = mixed_entries(directory, args.count, args.seed)
    print(f"directory: {len(directory.hotlines)} hotlines, {len(directory.providers)} providers")
    print(f"locations: {len(entries):,} (seed {args.seed})")

    started = time.perf_counter()
    locations = normalised(entries)
    normalise_seconds = time.perf_counter() - started

    route_all(directory, locations[:1000])  # warm up
    started = time.perf_counter()
    routed = route_all(directory, locations)
    route_seconds = time.perf_counter() - started

    print(
        f"routing alone:         {routed / route_seconds:>12,.0f} locations/s "
        f"({route_seconds * 1000:,.0f} ms for {routed:,})"
    )
    both = normalise_seconds + route_seconds
    print(f"normalise + route:     {routed / both:>12,.0f} locations/s ({both * 1000:,.0f} ms)")

    paste = entries[:500]
    started = time.perf_counter()
    route_all(directory, normalised(paste))
    print(
        f"500 pasted links:      {(time.perf_counter() - started) * 1000:>12.1f} ms "
        "(normalise + route)"
    )

    tracemalloc.start()
    route_all(directory, locations)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"peak memory, routing:  {peak / 1024:>12,.0f} KiB allocated while routing "
        f"{routed:,} locations"
    )
    max_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"peak memory, process:  {max_rss_kib / 1024:>12,.1f} MiB resident "
        "(directory, the generated input and the interpreter)"
    )
    target = 50_000
    verdict = "meets" if routed / route_seconds >= target else "MISSES"
    print(f"target {target:,} locations/s routed on one core: {verdict}")


if __name__ == "__main__":
    main()
