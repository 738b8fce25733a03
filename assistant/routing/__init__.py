"""The routing engine: pure functions and the directory data they run on.

Nothing here imports Flask or the database; it can be used and tested on its own.
"""

from .directory import (
    Directory,
    DirectoryError,
    Hotline,
    Provider,
    build_directory,
    check_data,
    load_directory,
)
from .engine import Reason, Resolver, RouteDecision, country_of_tld, route_location
from .normalise import (
    KINDS,
    LocationRejected,
    NormalisedLocation,
    guess_kind,
    mask_location_for_display,
    normalise_location,
)

__all__ = [
    "KINDS",
    "Directory",
    "DirectoryError",
    "Hotline",
    "LocationRejected",
    "NormalisedLocation",
    "Provider",
    "Reason",
    "Resolver",
    "RouteDecision",
    "build_directory",
    "check_data",
    "country_of_tld",
    "guess_kind",
    "load_directory",
    "mask_location_for_display",
    "normalise_location",
    "route_location",
]
