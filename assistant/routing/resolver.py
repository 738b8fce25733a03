"""Where a host is served from: a DNS look-up, then a GeoIP database. Off by default.

The resolver never fetches content: it asks the system's DNS resolver for the host's addresses and
looks each address up in a local GeoIP database (MaxMind's GeoLite2/GeoIP2 Country or City format,
or a compatible one such as DB-IP's). It is used only when ``ASSISTANT_GEOIP_DATABASE`` names such
a file, only for places nothing else locates, and never for the public dry runs. Operators should
know that a DNS look-up tells their DNS resolver which sites were reported: run one you trust.

The hosts of one request are looked up together, within one time budget, and a request that needs
any look-up always takes that whole budget: how long it takes does not tell whether a site was
looked up recently (by this server or by the DNS resolver's cache). Nothing is cached here.

``StaticResolver`` answers from a table: for tests, and for the answers of one batch.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait
from pathlib import Path
from typing import Any
from typing import Protocol

from .countries import ISO_COUNTRIES

AddressLookup = Callable[[str], Iterable[str]]
log = logging.getLogger(__name__)


class BatchResolver(Protocol):
    """A resolver that can answer for many hosts at once (what the app uses)."""

    def hosting_country(self, host: str) -> str | None: ...

    def countries_for(self, hosts: Iterable[str]) -> dict[str, str | None]: ...


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
        timeout_seconds: float = 1.5,
        workers: int = 8,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        try:
            import maxminddb  # noqa: PLC0415 (an optional dependency: the 'geoip' extra)
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise RuntimeError(
                "The GeoIP resolver needs the 'maxminddb' package: pip install '.[geoip]'"
            ) from exc
        self._reader: Any = maxminddb.open_database(str(database))
        self._lookup_addresses = lookup_addresses
        self._timeout = timeout_seconds
        # A hung DNS query cannot be interrupted; at most ``workers`` of them can be pending.
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dns")
        self._sleep = sleep
        self._clock = clock

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._reader.close()

    def country_of_address(self, address: str) -> str | None:
        try:
            record = self._reader.get(address)
        except ValueError:  # e.g. an IPv6 address in an IPv4-only database
            return None
        if not isinstance(record, Mapping):
            return None
        for key in ("country", "registered_country"):
            entry = record.get(key)
            code = entry.get("iso_code") if isinstance(entry, Mapping) else None
            if isinstance(code, str) and code.upper() in ISO_COUNTRIES:
                return code.upper()
        return None

    def _addresses(self, host: str) -> list[str]:
        try:
            return [str(address) for address in self._lookup_addresses(host)]
        except Exception:  # any failure to resolve means: we cannot tell
            log.info("a host could not be resolved")
            return []

    def _country_of_addresses(self, addresses: Iterable[str]) -> str | None:
        """The country most addresses are in (the first alphabetically on a tie)."""
        counts: dict[str, int] = {}
        for address in addresses:
            country = self.country_of_address(address)
            if country:
                counts[country] = counts.get(country, 0) + 1
        return max(sorted(counts), key=lambda c: counts[c]) if counts else None

    def countries_for(self, hosts: Iterable[str]) -> dict[str, str | None]:
        """The hosting country of each host (None when it cannot be told), within one budget."""
        started = self._clock()
        answers: dict[str, str | None] = {}
        pending: dict[str, Future[list[str]]] = {}
        for host in dict.fromkeys(hosts):
            literal = _literal_address(host)
            if literal is not None:
                answers[host] = self._country_of_addresses([literal])
            else:
                pending[host] = self._pool.submit(self._addresses, host)
        if not pending:
            return answers
        done, late = wait(pending.values(), timeout=self._timeout)
        for future in late:
            future.cancel()
        for host, future in pending.items():
            answers[host] = self._country_of_addresses(future.result()) if future in done else None
        left = self._timeout - (self._clock() - started)
        if left > 0:
            self._sleep(left)
        return answers

    def hosting_country(self, host: str) -> str | None:
        return self.countries_for([host]).get(host)


class StaticResolver:
    """Answers from a table of host -> country; a parent domain's answer covers its subdomains."""

    def __init__(self, answers: Mapping[str, str | None]) -> None:
        self._answers = {
            host.lower(): country.upper() for host, country in answers.items() if country
        }
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

    def countries_for(self, hosts: Iterable[str]) -> dict[str, str | None]:
        return {host: self.hosting_country(host) for host in hosts}
