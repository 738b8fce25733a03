"""Turning what a person typed into a location the engine and the database can use.

Pure functions: no network, no Flask, no database. A reported link is parsed as text and never
fetched.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from publicsuffixlist import PublicSuffixList


class Kind(StrEnum):
    """What a place is."""

    URL = "url"
    ACCOUNT = "account"
    GROUP = "group"
    P2P = "p2p"
    OTHER = "other"


# What a place is taken to be when nobody says.
DEFAULT_KIND = Kind.URL
# The longest name of a platform or service a person may give with a place.
MAX_PLATFORM_LENGTH = 100

# Schemes that run code or embed content instead of naming a place.
UNSAFE_SCHEMES = frozenset(
    {
        "javascript",
        "data",
        "vbscript",
        "file",
        "blob",
        "about",
        "chrome",
        "view-source",
        "filesystem",
    }
)
WEB_SCHEMES = frozenset({"http", "https"})
OTHER_NETWORK_SCHEMES = frozenset({"ftp", "ftps", "ws", "wss"})
P2P_SCHEMES = frozenset({"magnet", "ed2k"})

TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "igsh",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ref_src",
        "ref_url",
        "si",
        "mibextid",
        "trk",
        "spm",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "wickedid",
        "_hsenc",
        "_hsmi",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "hsa_")

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_BARE_HOST = re.compile(
    r"^(?:[^\s/?#@:]+@)?(?:\[[0-9a-fA-F:.]+\]|[^\s/?#@:\[\]]+\.[^\s/?#@:\[\]]+)(?::\d+)?(?:[/?#]|$)"
)
_BTIH = re.compile(r"xt=urn:btih:([a-zA-Z0-9]+)")


class LocationRejected(ValueError):
    """The text cannot be used as a location; ``code`` says why, in a way a person can act on."""

    def __init__(self, code: str, **params: str) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class NormalisedLocation:
    kind: Kind
    value: str
    # What two reports of the same place share: used for the keyed hash and de-duplication.
    canonical: str
    host: str | None = None
    registrable_domain: str | None = None
    platform: str | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        # Read back from a draft (JSON) it is a plain string: always the vocabulary's member.
        object.__setattr__(self, "kind", Kind(self.kind))


@lru_cache(maxsize=1)
def public_suffixes() -> PublicSuffixList:
    """The public suffix list shipped with the ``publicsuffixlist`` package (no download)."""
    return PublicSuffixList()


def has_control_characters(text: str, *, allow_format: bool = False) -> bool:
    """Control, private-use and surrogate characters; format characters (bidi overrides,
    zero-width joiners) too, unless ``allow_format`` (free text in right-to-left languages)."""
    if text.isascii() and text.isprintable():
        return False  # the common case, decided without looking at each character
    refused = ("Cc", "Co", "Cs") if allow_format else ("Cc", "Cf", "Co", "Cs")
    return any(unicodedata.category(ch) in refused and ch != "\t" for ch in text)


def clean_text(
    text: str, *, max_length: int, multiline: bool = False, allow_format: bool | None = None
) -> str:
    """Trim and check a piece of free text; raises :class:`LocationRejected`.

    Format characters (joiners, direction marks) are allowed where ``allow_format`` says, by
    default in multi-line text only.
    """
    if multiline:
        # A browser sends a text area's line ends as CR LF: each counts as one character.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        checked = text.replace("\n", "")
    else:
        checked = text
    if len(text) > max_length:
        raise LocationRejected("too_long", limit=str(max_length))
    if allow_format is None:
        allow_format = multiline
    if has_control_characters(checked, allow_format=allow_format):
        raise LocationRejected("control_characters")
    return text.strip()


def normalise_host(raw_host: str) -> str:
    """Lower-case, IDNA-encoded host; IP literals as their canonical text."""
    host = raw_host.strip().rstrip(".").lower()
    if not host:
        raise LocationRejected("no_host")
    if host.startswith("[") and host.endswith("]"):
        try:
            return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError as exc:
            raise LocationRejected("bad_host") from exc
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise LocationRejected("bad_host") from exc
    labels = ascii_host.split(".")
    if len(labels) < 2 or len(ascii_host) > 253 or not all(_HOST_LABEL.match(x) for x in labels):
        raise LocationRejected("bad_host")
    if labels[-1].isdigit():
        raise LocationRejected("bad_host")
    return ascii_host


def registrable_domain(host: str | None) -> str | None:
    if not host or host.startswith("[") or _is_ipv4(host):
        return None
    if host.endswith(".onion"):
        return ".".join(host.split(".")[-2:])
    found = public_suffixes().privatesuffix(host)
    return str(found) if found else None


def _is_ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def is_onion(host: str | None) -> bool:
    return bool(host and host.endswith(".onion"))


def _keep_query_pair(key: str) -> bool:
    lowered = key.lower()
    return lowered not in TRACKING_PARAMETERS and not lowered.startswith(TRACKING_PREFIXES)


def normalise_url(text: str) -> tuple[str, str, str]:
    """``text`` -> (value, canonical, host). Raises :class:`LocationRejected`.

    Lower-cases and IDNA-encodes the host, drops default ports, tracking parameters and fragments
    (but keeps ``#!`` and ``#/`` fragments, which name a page on some sites).
    """
    text = text.strip()
    scheme_match = _SCHEME.match(text)
    if scheme_match and not _BARE_HOST.match(text):
        scheme = scheme_match.group(1).lower()
        if scheme in UNSAFE_SCHEMES:
            raise LocationRejected("unsafe_scheme", scheme=scheme)
        if scheme in P2P_SCHEMES:
            raise LocationRejected("is_p2p")
        if scheme not in WEB_SCHEMES | OTHER_NETWORK_SCHEMES:
            raise LocationRejected("unknown_scheme", scheme=scheme)
    elif text.startswith("//"):
        text = "https:" + text
    elif _BARE_HOST.match(text):
        text = "https://" + text
    else:
        raise LocationRejected("not_a_link")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise LocationRejected("bad_host") from exc
    scheme = parts.scheme.lower()
    raw_host = parts.hostname or ""
    if "[" in parts.netloc and not raw_host.startswith("["):
        raw_host = f"[{raw_host}]"
    host = normalise_host(raw_host)
    userinfo, _, _ = parts.netloc.rpartition("@")
    netloc = host
    if port is not None and not (
        (scheme == "http" and port == 80) or (scheme == "https" and port == 443)
    ):
        netloc = f"{host}:{port}"
    if userinfo:
        netloc = f"{userinfo}@{netloc}"
    # The query is kept as written (no re-encoding), less the tracking parameters.
    query = "&".join(
        pair for pair in parts.query.split("&") if pair and _keep_query_pair(pair.split("=")[0])
    )
    fragment = parts.fragment if parts.fragment.startswith(("!", "/")) else ""
    path = parts.path or "/"
    value = urlunsplit((scheme, netloc, path, query, fragment))
    if value[-1].isspace():
        # What was dropped (a fragment, tracking parameters) followed a space: without it, the
        # address ends in white space, which names nothing. Normalised again, it is stable.
        return normalise_url(value)
    # http and https name the same place; so does a trailing slash.
    canonical = urlunsplit(("", netloc, path.rstrip("/") or "/", query, fragment)).lstrip("/")
    return value, canonical, host


def normalise_p2p(text: str) -> tuple[str, str]:
    text = text.strip()
    lowered = text.lower()
    if lowered.startswith("magnet:"):
        match = _BTIH.search(text)
        canonical = f"btih:{match.group(1).lower()}" if match else lowered
        return text, canonical
    if lowered.startswith("ed2k:"):
        return text, lowered
    # A file-sharing name or hash as the survivor knows it.
    return text, " ".join(lowered.split())


def _host_in(text: str) -> str | None:
    """The host, when an account, group or other value is itself a link."""
    try:
        _, _, host = normalise_url(text)
    except LocationRejected:
        return None
    return host


def guess_kind(text: str) -> Kind:
    """The kind of one pasted line: a link, a peer-to-peer link, or something else."""
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered.startswith(("magnet:", "ed2k:")):
        return Kind.P2P
    if _SCHEME.match(stripped) or _BARE_HOST.match(stripped) or stripped.startswith("//"):
        return Kind.URL
    return Kind.OTHER


def normalise_location(
    kind: str,
    value: str,
    *,
    note: str | None = None,
    platform: str | None = None,
    max_value_length: int = 2048,
    max_note_length: int = 2000,
) -> NormalisedLocation:
    """Validate and normalise one location; raises :class:`LocationRejected` with a reason code."""
    try:
        place_kind = Kind(kind)
    except ValueError:
        raise LocationRejected("unknown_kind") from None
    value = clean_text(value or "", max_length=max_value_length)
    if not value:
        raise LocationRejected("empty")
    clean_note = clean_text(note or "", max_length=max_note_length, multiline=True) or None
    clean_platform = clean_text(platform or "", max_length=MAX_PLATFORM_LENGTH) or None
    host: str | None = None
    if place_kind == Kind.URL:
        try:
            value, canonical, host = normalise_url(value)
        except LocationRejected as rejected:
            if rejected.code != "is_p2p":
                raise
            place_kind = Kind.P2P
            value, canonical = normalise_p2p(value)
    elif place_kind == Kind.P2P:
        scheme = _SCHEME.match(value)
        if scheme and scheme.group(1).lower() in UNSAFE_SCHEMES:
            raise LocationRejected("unsafe_scheme", scheme=scheme.group(1).lower())
        value, canonical = normalise_p2p(value)
    else:
        scheme = _SCHEME.match(value)
        if scheme and scheme.group(1).lower() in UNSAFE_SCHEMES:
            raise LocationRejected("unsafe_scheme", scheme=scheme.group(1).lower())
        value = " ".join(value.split())
        host = _host_in(value)
        platform_key = (clean_platform or "").lower()
        canonical = f"{place_kind}:{platform_key}:{value.lower()}"
    return NormalisedLocation(
        kind=place_kind,
        value=value,
        canonical=f"{place_kind}|{canonical}" if place_kind in (Kind.URL, Kind.P2P) else canonical,
        host=host,
        registrable_domain=registrable_domain(host),
        platform=clean_platform,
        note=clean_note,
    )


def mask_location_for_display(kind: str, value: str) -> str:
    """A reminder of a location that does not reveal it to someone looking over a shoulder.

    Links keep their site and hide the rest; anything else keeps its first two characters, or
    none at all when it is so short that two would give it away.
    """
    if kind == Kind.URL:
        try:
            parts = urlsplit(value)
            host = parts.hostname or ""
        except ValueError:
            host = ""
        if host:
            rest = value.split(host, 1)[-1]
            return f"{host}/…" if rest.strip("/") else host
    visible = value[:2] if len(value) > 4 else ""
    return f"{visible}{'•' * 6}"
