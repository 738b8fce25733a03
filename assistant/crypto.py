"""Field encryption at rest, keyed hashes, and the Argon2id hash of passphrases and passwords.

Envelope encryption: each value gets its own random data key (AES-256-GCM); the data key is wrapped
by the current master key, whose version is stored in the ciphertext header so that keys can be
rotated without re-encrypting everything at once. The master keys live in settings, never in the
database, so a copy of the database alone reveals no reported location.

Layout of a sealed value (bytes):
    b"E1" | key version (2 bytes, big-endian) | wrap nonce (12) | wrapped data key (32 + 16 tag)
          | data nonce (12) | ciphertext + tag
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2 import Type
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"E1"
_NONCE = 12
_WRAPPED_KEY = 32 + 16
_HEADER = len(MAGIC) + 2 + _NONCE + _WRAPPED_KEY + _NONCE


class DecryptionError(Exception):
    """A sealed value could not be opened (wrong key, tampered, or not a sealed value)."""


class FieldCipher:
    """Seals and opens sensitive fields. ``context`` binds a ciphertext to its column."""

    def __init__(self, master_keys: dict[int, bytes]) -> None:
        if not master_keys:
            raise ValueError("at least one master key is required")
        self._keys = dict(master_keys)
        self.current_version = max(self._keys)

    @property
    def versions(self) -> frozenset[int]:
        """Every master key version configured: values sealed under any of them open."""
        return frozenset(self._keys)

    def seal(self, plaintext: str, context: str) -> bytes:
        data_key = AESGCM.generate_key(bit_length=256)
        wrap_nonce = secrets.token_bytes(_NONCE)
        version = struct.pack(">H", self.current_version)
        master = AESGCM(self._keys[self.current_version])
        wrapped = master.encrypt(wrap_nonce, data_key, MAGIC + version + context.encode())
        data_nonce = secrets.token_bytes(_NONCE)
        body = AESGCM(data_key).encrypt(data_nonce, plaintext.encode("utf-8"), context.encode())
        return MAGIC + version + wrap_nonce + wrapped + data_nonce + body

    def open(self, sealed: bytes, context: str) -> str:
        if len(sealed) < _HEADER + 16 or not sealed.startswith(MAGIC):
            raise DecryptionError("not a sealed value")
        (version,) = struct.unpack(">H", sealed[2:4])
        key = self._keys.get(version)
        if key is None:
            raise DecryptionError(f"master key version {version} is not configured")
        offset = 4
        wrap_nonce = sealed[offset : offset + _NONCE]
        offset += _NONCE
        wrapped = sealed[offset : offset + _WRAPPED_KEY]
        offset += _WRAPPED_KEY
        data_nonce = sealed[offset : offset + _NONCE]
        offset += _NONCE
        try:
            data_key = AESGCM(key).decrypt(wrap_nonce, wrapped, sealed[:4] + context.encode())
            plain = AESGCM(data_key).decrypt(data_nonce, sealed[offset:], context.encode())
        except InvalidTag as exc:
            raise DecryptionError("sealed value failed authentication") from exc
        return plain.decode("utf-8")


def sealed_version(sealed: bytes) -> int:
    """The master key version a sealed value's header names (bytes 2:4)."""
    (version,) = struct.unpack(">H", sealed[2:4])
    return int(version)


def key_fingerprint(key: bytes) -> str:
    """Names a hash key in the database without revealing it (an HMAC under the key itself)."""
    return hmac.new(key, b"assistant hash key fingerprint", hashlib.sha256).hexdigest()[:16]


class KeyedHasher:
    """HMAC-SHA256 of a normalised value: recognises repeats without storing the value.

    ``previous`` keys are those a change of the hash key is replacing: :meth:`digest` never uses
    them, :meth:`digests` adds their digests so that hashes stored before the change still match
    until `assistant rotate-keys` has re-computed them (see :mod:`assistant.key_rotation`).
    """

    def __init__(self, key: bytes, previous: Sequence[bytes] = ()) -> None:
        self._key = key
        self._previous = tuple(previous)

    @staticmethod
    def _hmac(key: bytes, value: str, purpose: str) -> str:
        message = purpose.encode() + b"\x00" + value.encode("utf-8")
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    def digest(self, value: str, purpose: str) -> str:
        return self._hmac(self._key, value, purpose)

    def digests(self, value: str, purpose: str) -> tuple[str, ...]:
        """The digest under the current key first, then under each previous key."""
        return tuple(self._hmac(key, value, purpose) for key in (self._key, *self._previous))

    @property
    def fingerprint(self) -> str:
        return key_fingerprint(self._key)

    @property
    def previous_fingerprints(self) -> tuple[str, ...]:
        return tuple(key_fingerprint(key) for key in self._previous)


class Argon2Hasher:
    """Argon2id with the configured cost (at or above OWASP's minimum, checked in config), for
    receipts' passphrases and accounts' passwords alike.

    A check always costs one Argon2 verification: a missing hash is checked against a dummy one,
    so timing does not tell an unknown case or account from a wrong secret.
    """

    def __init__(self, *, memory_kib: int, time_cost: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(24))

    def _hash(self, secret: str) -> str:
        return self._hasher.hash(secret)

    def _verify(self, stored_hash: str | None, candidate: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._dummy_hash, candidate)
        except (VerificationError, InvalidHashError, ValueError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)
