"""The long-lived objects the domain needs, built once from settings by the app factory.

Passed explicitly to domain functions (never reached through module globals), so tests can build
their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config import Settings, decode_key, parse_master_keys
from .crypto import FieldCipher, KeyedHasher
from .receipts import PassphraseHasher
from .routing import Directory, load_directory
from .routing.resolver import BatchResolver, GeoipResolver


@dataclass(frozen=True)
class Services:
    settings: Settings
    cipher: FieldCipher
    keyed_hasher: KeyedHasher
    passphrases: PassphraseHasher
    directory: Directory
    resolver: BatchResolver | None = None


def build_services(settings: Settings) -> Services:
    return Services(
        settings=settings,
        cipher=FieldCipher(parse_master_keys(settings.master_keys)),
        keyed_hasher=KeyedHasher(decode_key(settings.hash_key, "ASSISTANT_HASH_KEY")),
        passphrases=PassphraseHasher(
            memory_kib=settings.argon2_memory_kib,
            time_cost=settings.argon2_time_cost,
            parallelism=settings.argon2_parallelism,
        ),
        directory=load_directory(
            Path(settings.data_dir) if settings.data_dir else None,
            fallback_id=settings.fallback_hotline or None,
        ),
        resolver=GeoipResolver(Path(settings.geoip_database)) if settings.geoip_database else None,
    )
