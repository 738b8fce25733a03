"""Where a reported place is, as stored: its host in clear only where the provider directory
names it, sealed otherwise (DESIGN section 8; the threat model's "raw dump of the database")."""

from __future__ import annotations

from typing import Any

from ..crypto import FieldCipher
from ..models import Location
from ..routing import Directory
from ..routing import NormalisedLocation

HOST_CONTEXT = "location.host"


def host_columns(
    cipher: FieldCipher, directory: Directory, location: NormalisedLocation
) -> dict[str, Any]:
    """A place's host and registrable domain as stored: in clear only where the provider
    directory names them (a big platform, which reveals nothing); any other host (a one-off
    subdomain, an onion address, an IP address) is sealed, since it is the link in all but its
    path. The registrable domain of an unnamed host is not kept: it can be read from the host."""
    named = directory.provider_hosts
    host, domain = location.host, location.registrable_domain
    return {
        "host": host if host in named else None,
        "host_sealed": cipher.seal(host, HOST_CONTEXT) if host and host not in named else None,
        "registrable_domain": domain if domain in named else None,
    }


def stored_host(cipher: FieldCipher, location: Location) -> str | None:
    """The host of a stored place, whether it was kept in clear or sealed."""
    if location.host_sealed is not None:
        return cipher.open(location.host_sealed, HOST_CONTEXT)
    return location.host
