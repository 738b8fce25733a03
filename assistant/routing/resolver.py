"""Where a host is served from: a DNS look-up, then a GeoIP database. Off by default.

The resolver never fetches content: it asks the system's DNS resolver for the host's addresses and
looks each address up in a local GeoIP database (MaxMind's GeoLite2/GeoIP2 Country or City format,
or a compatible one such as DB-IP's). It is used only when ``ASSISTANT_GEOIP_DATABASE`` names such
a file. Operators should know that a DNS look-up tells their DNS resolver which sites were
reported; run a resolver you trust.

``StaticResolver`` answers from a table: for tests and for trying routing without a database.
"""

from __future__ import annotations

import ipaddress
import socket
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as LookupTimedOut
from pathlib import Path
from threading import Lock
from typing import Any

from .countries import ISO_COUNTRIES

AddressLookup = Callable[[str], Iterable[str]]


def system_addresses(host: str) -> list[str]:
    """The host's addresses from the system resolver (DNS only; nothing is fetched)."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


def _literal_address(host: str) -> str | None:
    candidate = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


class GeoipResolver:
    """Host -> hosting country, through DNS and a GeoIP database file."""

    def __init__(
        self,
        database: Path,
        *,
        lookup_addresses: AddressLookup = system_addresses,
        timeout_seconds: float = 2.0,
        cache_size: int = 4096,
    ) -> None:
        try:
            import maxminddb
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise RuntimeError(
                "The GeoIP resolver needs the 'maxminddb' package: pip install '.[geoip]'"
            ) from exc
        self._reader: Any = maxminddb.open_database(str(database))
        self._lookup_addresses = lookup_addresses
        self._timeout = timeout_seconds
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dns")
        self._cache: OrderedDict[str, str | None] = OrderedDict()
        self._cache_size = cache_size
        self._lock = Lock()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._reader.close()

    def country_of_address(self, address: str) -> str | None:
        record = self._reader.get(address)
        if not isinstance(record, Mapping):
            return None
        for key in ("country", "registered_country"):
            entry = record.get(key)
            code = entry.get("iso_code") if isinstance(entry, Mapping) else None
            if isinstance(code, str) and code.upper() in ISO_COUNTRIES:
                return code.upper()
        return None

    def _addresses(self, host: str) -> list[str]:
        literal = _literal_address(host)
        if literal is not None:
            return [literal]
        future = self._pool.submit(lambda: list(self._lookup_addresses(host)))
        try:
            return future.result(timeout=self._timeout)
        except (OSError, LookupTimedOut, UnicodeError, ValueError):
            return []

    def hosting_country(self, host: str) -> str | None:
        """The country most of the host's addresses are in; None when it cannot be told."""
        with self._lock:
            if host in self._cache:
                self._cache.move_to_end(host)
                return self._cache[host]
        counts: dict[str, int] = {}
        for address in self._addresses(host):
            country = self.country_of_address(address)
            if country:
                counts[country] = counts.get(country, 0) + 1
        answer = max(sorted(counts), key=lambda c: counts[c]) if counts else None
        with self._lock:
            self._cache[host] = answer
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return answer


class StaticResolver:
    """Answers from a table of host -> country; a parent domain's answer covers its subdomains."""

    def __init__(self, answers: Mapping[str, str]) -> None:
        self._answers = {host.lower(): country.upper() for host, country in answers.items()}
        self.asked: list[str] = []

    def hosting_country(self, host: str) -> str | None:
        self.asked.append(host)
        candidate = host.lower()
        while candidate:
            if candidate in self._answers:
                return self._answers[candidate]
            if "." not in candidate:
                return None
            candidate = candidate.split(".", 1)[1]
        return None
