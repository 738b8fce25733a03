"""The routing engine: pure functions and the directory data they run on.

Nothing here imports Flask or the database; it can be used and tested on its own.
"""

from .directory import Directory
from .directory import DirectoryError
from .directory import Hotline
from .directory import Intake
from .directory import Provider
from .directory import build_directory
from .directory import check_data
from .directory import load_directory
from .engine import Reason
from .engine import ReasonCode
from .engine import Resolver
from .engine import RouteDecision
from .engine import country_of_tld
from .engine import route_location
from .normalise import DEFAULT_KIND
from .normalise import Kind
from .normalise import LocationRejected
from .normalise import NormalisedLocation
from .normalise import guess_kind
from .normalise import mask_location_for_display
from .normalise import normalise_location

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
