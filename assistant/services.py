"""The long-lived objects the domain needs, built once from settings by the app factory.

Passed explicitly to domain functions (never reached through module globals), so tests can build
their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from .cases.receipts import PassphraseHasher
from .cases.receipts import ReceiptThrottle
from .config import Settings
from .config import decode_key
from .config import parse_master_keys
from .config import parse_previous_hash_keys
from .crypto import FieldCipher
from .crypto import KeyedHasher
from .hotline.channels import Endpoint
from .hotline.channels import load_endpoints
from .hotline.channels import load_notice_senders
from .people.accounts import AccountPasswords
from .routing import Directory
from .routing import load_directory
from .routing.resolver import BatchResolver
from .routing.resolver import GeoipResolver
from .support_resources import Resources
from .support_resources import load_resources


@dataclass(frozen=True)
class Services:
    settings: Settings
    cipher: FieldCipher
    keyed_hasher: KeyedHasher
    passphrases: PassphraseHasher
    receipt_tries: ReceiptThrottle
    directory: Directory
    passwords: AccountPasswords
    resources: Resources = field(default_factory=lambda: Resources(()))
    resolver: BatchResolver | None = None
    # Where hotlines that take webhooks or e-mail are reached (see assistant.hotline.channels).
    endpoints: Mapping[str, Endpoint] = field(default_factory=dict)
    # Who each hotline's notices to providers come from, where the operator set one up.
    notice_senders: Mapping[str, str] = field(default_factory=dict)


def build_services(settings: Settings) -> Services:
    argon2 = {
        "memory_kib": settings.argon2_memory_kib,
        "time_cost": settings.argon2_time_cost,
        "parallelism": settings.argon2_parallelism,
    }
    data_dir = Path(settings.data_dir) if settings.data_dir else None
    directory = load_directory(
        data_dir,
        fallback_id=settings.fallback_hotline or None,
    )
    keyed_hasher = KeyedHasher(
        decode_key(settings.hash_key, "ASSISTANT_HASH_KEY"),
        previous=parse_previous_hash_keys(settings.previous_hash_keys),
    )
    return Services(
        settings=settings,
        cipher=FieldCipher(parse_master_keys(settings.master_keys)),
        keyed_hasher=keyed_hasher,
        passphrases=PassphraseHasher(**argon2),
        receipt_tries=ReceiptThrottle(
            settings.ratelimit_storage_url,
            keyed_hasher,
            per_address=settings.receipt_tries_per_address,
            per_case=settings.receipt_tries_per_case,
        ),
        passwords=AccountPasswords(**argon2),
        directory=directory,
        resources=load_resources(data_dir),
        endpoints=load_endpoints(
            Path(settings.delivery_config) if settings.delivery_config else None, directory
        ),
        notice_senders=load_notice_senders(
            Path(settings.delivery_config) if settings.delivery_config else None, directory
        ),
        resolver=GeoipResolver(Path(settings.geoip_database)) if settings.geoip_database else None,
    )
