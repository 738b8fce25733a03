"""Settings, read once from ``ASSISTANT_*`` environment variables and then frozen.

Nothing else in the code reads ``os.environ``: the app factory builds one :class:`Settings` and
passes it where it is needed.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import secrets
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from limits import parse as parse_limit

log = logging.getLogger(__name__)

ENVIRONMENTS = ("development", "production")
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
# Every language a catalogue is kept for, in the order the language menu lists them; Babel's
# locale names (pt_BR), shown to browsers as pt-BR. English is the source.
CATALOGUE_LANGUAGES = (
    "en", "fr", "es", "de", "it", "nl", "pl", "pt_BR", "uk", "ar", "fa", "ja"
)  # fmt: skip
RTL_LANGUAGES = frozenset({"ar", "fa"})


# In a catalogue as Babel writes it: a translation left empty (a ``msgstr ""`` that no line of
# text follows), or one marked as a guess.
_UNTRANSLATED = re.compile(r'^msgstr(\[\d+\])? ""\n(?!")|^#,.*\bfuzzy\b', re.MULTILINE)


def complete_catalogues(folder: Path, languages: Iterable[str]) -> tuple[str, ...]:
    """The languages offered: English, and each of ``languages`` whose catalogue
    (``LANG/LC_MESSAGES/messages.po``, compiled beside it) has every sentence translated, each
    plural in all its forms, none of them a guess. As SecureDrop does, a language only partly
    translated is not offered: a survivor would meet English in the middle of a page in their
    language, at the moment it matters most. That each catalogue has every sentence of the
    template, and is compiled, the tests check (tests/test_translations.py). Read once a
    process, a millisecond a language."""
    offered = []
    for code in languages:
        if code != "en":
            catalogue = folder / code / "LC_MESSAGES" / "messages.po"
            compiled = catalogue.with_suffix(".mo")
            if not (catalogue.is_file() and compiled.is_file()):
                continue
            text = catalogue.read_text("utf-8")
            # The header is the first entry, its msgstr the catalogue's own details.
            header_end = text.find("\n\n", text.find('msgid ""'))
            if _UNTRANSLATED.search(text, header_end if header_end > 0 else 0):
                continue
        offered.append(code)
    return tuple(offered)


# The languages offered (see complete_catalogues).
SUPPORTED_LANGUAGES = complete_catalogues(TRANSLATIONS, CATALOGUE_LANGUAGES)
SECRET_NAMES = ("secret_key", "master_keys", "hash_key")

# OWASP's minimum for Argon2id (m=19456 KiB, t=2, p=1); settings may raise it, never lower it.
ARGON2_MIN_MEMORY_KIB = 19456
ARGON2_MIN_TIME_COST = 2


def supported_language(raw: object) -> str | None:
    """The supported language a tag names, or None: "pt-BR", "pt_br" and "pt" all name pt_BR,
    "fr-CA" names fr."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    wanted = raw.strip().replace("-", "_").casefold()
    for code in SUPPORTED_LANGUAGES:
        if code.casefold() == wanted:
            return code
    primary = wanted.split("_")[0]
    for code in SUPPORTED_LANGUAGES:
        if code.split("_")[0].casefold() == primary:
            return code
    return None


def language_tag(code: str) -> str:
    """A BCP 47 tag for HTML and HTTP ("pt_BR" -> "pt-BR")."""
    return code.replace("_", "-")


class ConfigError(Exception):
    """Settings are missing or invalid; the app must not start."""


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = ""
    secret_key: str = ""
    # Versioned master keys for field encryption, "1:<base64 32 bytes>,2:<...>"; the highest
    # version encrypts, every listed version can still decrypt.
    master_keys: str = ""
    # Key for the keyed hash that recognises the same location twice without decrypting it.
    hash_key: str = ""
    # While the hash key changes: the keys it replaces, comma-separated, still used to look
    # stored hashes up until `assistant rotate-keys` has re-computed them (docs/key-rotation.md).
    previous_hash_keys: str = ""
    # The name on every page, in the browser's tab and on a home screen: neutral on purpose.
    site_name: str = "Request Assistant"
    # A square PNG (at least 192 px) to use as the home-screen icon instead of the shipped one.
    app_icon: str = ""
    exit_url: str = "https://www.bbc.com/weather"
    fallback_hotline: str = ""
    # A folder with hotlines.json and providers.json to use instead of the shipped ones.
    data_dir: str = ""
    # A GeoIP database (.mmdb) turns on the DNS + GeoIP resolver; empty: no look-ups at all.
    geoip_database: str = ""
    # The address people reach this service at: enrolment links and e-mails point there.
    public_url: str = "http://127.0.0.1:5000"
    # Other host names this instance answers to, comma-separated (say, its onion address when
    # one instance serves both). Requests for any other Host are refused.
    allowed_hosts: str = ""
    # This service's onion address (http://<56 letters>.onion): clear-web pages then carry an
    # Onion-Location header, and Tor Browser offers the onion service. Empty: no header.
    onion_location: str = ""
    # Where hotlines that take webhooks or e-mail are reached: a JSON file (see README).
    delivery_config: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    # A CA bundle to trust for STARTTLS and webhooks besides the system's (a private CA).
    tls_ca_file: str = ""
    default_language: str = "en"
    survivor_idle_minutes: int = 15
    draft_idle_minutes: int = 60
    # Staff and administrators: 30 idle minutes; every session ends after 8 hours at most.
    account_idle_minutes: int = 30
    api_token_max_hours: int = 8
    max_locations: int = 500
    max_value_length: int = 2048
    max_note_length: int = 2000
    max_message_length: int = 5000
    max_body_bytes: int = 2 * 1024 * 1024
    retention_days: int = 365
    argon2_memory_kib: int = ARGON2_MIN_MEMORY_KIB
    argon2_time_cost: int = ARGON2_MIN_TIME_COST
    argon2_parallelism: int = 1
    secure_cookies: bool = False
    # Deprecated, for one release: webhooks also carry the older X-RRA-Timestamp and
    # X-RRA-Signature headers beside the Standard Webhooks ones, so receivers that check those
    # keep working while they move. On in this release; the next one drops them.
    webhook_legacy_signature: bool = True
    # Calls of one hotline's API key (its own case system polling and acting).
    ratelimit_hotline_api: str = "600 per minute;20000 per hour"
    # Publish each provider's notice figures (counts only) on a public page, like C3P's.
    publish_provider_figures: bool = False
    # Per-address limits (the address is held only as a keyed hash, in memory or Redis, expiring).
    ratelimit_enabled: bool = True
    ratelimit_storage_url: str = "memory://"
    ratelimit_receipt: str = "10 per minute;60 per hour"
    # Tries of one case number: from one address (the survivor's own typos), and from every
    # address together (an alarm: far above what a survivor and their advocate ever need).
    # Always on, whatever ASSISTANT_RATELIMIT_ENABLED says: these replace a lock on the case.
    receipt_tries_per_address: str = "5 per 15 minutes"
    receipt_tries_per_case: str = "100 per day"
    ratelimit_filing: str = "10 per hour;40 per day"
    # Filings the app refused (invalid places, one already listed...), counted apart.
    ratelimit_refused_filing: str = "60 per hour;200 per day"
    # Per advocate's account (an organisation's advocates share one address).
    ratelimit_advocate_filing: str = "60 per hour;300 per day"
    ratelimit_lookup: str = "120 per minute"
    # A provider's answers through a notice's response link, per address and per link.
    ratelimit_provider: str = "20 per minute;200 per day"
    # How many reverse proxies in front set X-Forwarded-For (0: use the connection's address).
    trusted_proxies: int = 0
    instance_path: str = field(default="", compare=False)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def trusted_hosts(self) -> list[str]:
        """Host names requests may carry: the public URL's, the allowed ones, and in
        development the loopback names a developer uses."""
        hosts = [urlsplit(self.public_url).hostname or ""]
        hosts += [h.strip() for h in self.allowed_hosts.split(",") if h.strip()]
        if not self.is_production:
            hosts += ["localhost", "127.0.0.1"]
        return list(dict.fromkeys(h for h in hosts if h))

    def validate(self) -> None:
        if self.env not in ENVIRONMENTS:
            raise ConfigError(f"ASSISTANT_ENV must be one of {', '.join(ENVIRONMENTS)}")
        for name in SECRET_NAMES:
            if not getattr(self, name):
                raise ConfigError(f"ASSISTANT_{name.upper()} is not set")
        if len(self.secret_key) < 32:
            raise ConfigError("ASSISTANT_SECRET_KEY must be at least 32 characters")
        parse_master_keys(self.master_keys)
        if len(decode_key(self.hash_key, "ASSISTANT_HASH_KEY")) < 32:
            raise ConfigError("ASSISTANT_HASH_KEY must be at least 32 bytes")
        previous = parse_previous_hash_keys(self.previous_hash_keys)
        if decode_key(self.hash_key, "ASSISTANT_HASH_KEY") in previous:
            raise ConfigError("ASSISTANT_PREVIOUS_HASH_KEYS must not list ASSISTANT_HASH_KEY")
        if self.argon2_memory_kib < ARGON2_MIN_MEMORY_KIB or self.argon2_time_cost < (
            ARGON2_MIN_TIME_COST
        ):
            raise ConfigError("Argon2 settings are below OWASP's minimum (m=19456 KiB, t=2)")
        for limit_name in ("receipt_tries_per_address", "receipt_tries_per_case"):
            try:
                parse_limit(getattr(self, limit_name))
            except ValueError as exc:
                raise ConfigError(
                    f"ASSISTANT_{limit_name.upper()} must read like '5 per 15 minutes'"
                ) from exc
        if self.argon2_parallelism < 1:
            raise ConfigError("ASSISTANT_ARGON2_PARALLELISM must be at least 1")
        if self.default_language not in SUPPORTED_LANGUAGES:
            raise ConfigError("ASSISTANT_DEFAULT_LANGUAGE is not a supported language")
        if not self.exit_url.startswith(("https://", "http://", "/")):
            raise ConfigError("ASSISTANT_EXIT_URL must be an http(s) address or a path")
        if not self.public_url.startswith(("https://", "http://")):
            raise ConfigError("ASSISTANT_PUBLIC_URL must be an http(s) address")
        if self.onion_location and not re.fullmatch(
            r"https?://[a-z2-7]{56}\.onion/?", self.onion_location
        ):
            raise ConfigError("ASSISTANT_ONION_LOCATION must be an onion service's address")
        for path_name in ("delivery_config", "tls_ca_file"):
            value = getattr(self, path_name)
            if value and not Path(value).is_file():
                raise ConfigError(f"ASSISTANT_{path_name.upper()} does not name a file")
        for name in (
            "survivor_idle_minutes",
            "draft_idle_minutes",
            "account_idle_minutes",
            "max_locations",
            "max_value_length",
            "max_body_bytes",
            "retention_days",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"ASSISTANT_{name.upper()} must be positive")
        if self.app_icon:
            size = png_size(self.app_icon)
            if size is None or size[0] != size[1] or size[0] < 192:
                raise ConfigError("ASSISTANT_APP_ICON must name a square PNG of at least 192 px")
        if not self.site_name.strip():
            raise ConfigError("ASSISTANT_SITE_NAME must not be empty")
        if self.geoip_database and not Path(self.geoip_database).is_file():
            raise ConfigError("ASSISTANT_GEOIP_DATABASE does not name a file")
        if self.data_dir and not Path(self.data_dir).is_dir():
            raise ConfigError("ASSISTANT_DATA_DIR does not name a folder")
        if self.is_production:
            if self.database_url.startswith("sqlite"):
                log.warning("Running in production on SQLite; PostgreSQL is recommended.")
            if not self.secure_cookies:
                raise ConfigError("ASSISTANT_SECURE_COOKIES must be true in production")


def png_size(path: str | Path) -> tuple[int, int] | None:
    """Width and height from a PNG file's header, or None if it is not a readable PNG."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(24)
    except OSError:
        return None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def decode_key(text: str, name: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text.encode("ascii") + b"=" * (-len(text) % 4))
    except (ValueError, UnicodeEncodeError) as exc:
        raise ConfigError(f"{name} is not valid base64") from exc


def parse_master_keys(text: str) -> dict[int, bytes]:
    """``"1:<b64>,2:<b64>"`` -> {1: key, 2: key}; every key must be 32 bytes (AES-256)."""
    keys: dict[int, bytes] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        version_text, sep, key_text = part.partition(":")
        if not sep or not version_text.isdigit() or not 0 < int(version_text) < 65536:
            raise ConfigError("ASSISTANT_MASTER_KEYS entries look like '1:<base64 key>'")
        key = decode_key(key_text, "ASSISTANT_MASTER_KEYS")
        if len(key) != 32:
            raise ConfigError("each ASSISTANT_MASTER_KEYS key must be 32 bytes")
        keys[int(version_text)] = key
    if not keys:
        raise ConfigError("ASSISTANT_MASTER_KEYS holds no key")
    return keys


def parse_previous_hash_keys(text: str) -> list[bytes]:
    """``"<b64>,<b64>"`` -> the hash keys being replaced; each at least 32 bytes, as the key."""
    keys = [
        decode_key(part, "ASSISTANT_PREVIOUS_HASH_KEYS")
        for part in filter(None, (p.strip() for p in text.split(",")))
    ]
    if any(len(key) < 32 for key in keys):
        raise ConfigError("each ASSISTANT_PREVIOUS_HASH_KEYS key must be at least 32 bytes")
    return keys


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")


def _convert(raw: str, default: Any, name: str) -> Any:
    if isinstance(default, bool):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name} must be true or false")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"{name} must be a whole number") from exc
    return raw


def _development_secrets(instance_path: Path) -> dict[str, str]:
    """Secrets kept in the instance folder for development, generated once."""
    path = instance_path / "secrets.json"
    if path.exists():
        try:
            stored = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path.name} in the instance folder cannot be read") from exc
        if not isinstance(stored, dict) or not all(
            isinstance(stored.get(name), str) for name in SECRET_NAMES
        ):
            raise ConfigError(f"{path.name} in the instance folder is incomplete")
        return {name: str(stored[name]) for name in SECRET_NAMES}
    generated = {
        "secret_key": secrets.token_urlsafe(48),
        "master_keys": f"1:{new_key()}",
        "hash_key": new_key(),
    }
    instance_path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(generated, handle)
    log.warning(
        "Generated development secrets in the instance folder. "
        "Set ASSISTANT_SECRET_KEY, ASSISTANT_MASTER_KEYS and ASSISTANT_HASH_KEY in production."
    )
    return generated


def load_settings(
    environ: Mapping[str, str],
    instance_path: str | Path,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build and validate the settings from ``environ`` (normally ``os.environ``).

    ``overrides`` (by field name; used by tests) win over the environment.
    """
    instance = Path(instance_path)
    values: dict[str, Any] = {}
    known = {f.name for f in fields(Settings)} - {"instance_path"}
    unknown = set(overrides or {}) - known
    if unknown:
        raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
    for f in fields(Settings):
        if f.name == "instance_path":
            continue
        name = f"ASSISTANT_{f.name.upper()}"
        if name in environ and environ[name] != "":
            values[f.name] = _convert(environ[name], f.default, name)
    values.update(overrides or {})
    env = values.get("env", "development")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"ASSISTANT_ENV must be one of {', '.join(ENVIRONMENTS)}")
    missing = [name for name in SECRET_NAMES if name not in values]
    if missing and env == "production":
        names = ", ".join(f"ASSISTANT_{n.upper()}" for n in missing)
        raise ConfigError(f"refusing to start in production without {names}")
    if missing:
        generated = _development_secrets(instance)
        for name in missing:
            values[name] = generated[name]
    values.setdefault("database_url", f"sqlite:///{instance / 'assistant.sqlite3'}")
    settings = Settings(**values, instance_path=str(instance))
    settings.validate()
    return settings
