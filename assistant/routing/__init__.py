"""The routing engine: pure functions and the directory data they run on.

Nothing here imports Flask or the database; it can be used and tested on its own.
"""

from .directory import (
    Directory,
    DirectoryError,
    Hotline,
    Intake,
    Provider,
    build_directory,
    check_data,
    load_directory,
)
from .engine import Reason, ReasonCode, Resolver, RouteDecision, country_of_tld, route_location
from .normalise import (
    DEFAULT_KIND,
    Kind,
    LocationRejected,
    NormalisedLocation,
    guess_kind,
    mask_location_for_display,
    normalise_location,
)

__all__ = [
    "DEFAULT_KIND",
    "Directory",
    "DirectoryError",
    "Hotline",
    "Intake",
    "Kind",
    "LocationRejected",
    "NormalisedLocation",
    "Provider",
    "Reason",
    "ReasonCode",
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
