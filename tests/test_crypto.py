"""Field encryption at rest and keyed hashes."""

from __future__ import annotations

import os
import struct

import pytest

from assistant.crypto import MAGIC
from assistant.crypto import DecryptionError
from assistant.crypto import FieldCipher
from assistant.crypto import KeyedHasher

KEY_1 = bytes(range(32))
KEY_2 = bytes(range(32, 64))
LINK = "https://example.com/a/very/specific/page?id=12345"
CONTEXT = "location.value"


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher({1: KEY_1})


@pytest.mark.parametrize("plaintext", [LINK, "", "ça va — ☃ 日本語", "x" * 10_000])
def test_sealed_value_opens_to_the_same_text(cipher: FieldCipher, plaintext: str) -> None:
    sealed = cipher.seal(plaintext, CONTEXT)
    assert cipher.open(sealed, CONTEXT) == plaintext


def test_ciphertext_does_not_contain_the_plaintext(cipher: FieldCipher) -> None:
    sealed = cipher.seal(LINK, CONTEXT)
    assert sealed.startswith(MAGIC)
    assert LINK.encode() not in sealed
    assert b"example.com" not in sealed
    assert b"12345" not in sealed


def test_sealing_the_same_text_twice_gives_different_ciphertexts(cipher: FieldCipher) -> None:
    assert cipher.seal(LINK, CONTEXT) != cipher.seal(LINK, CONTEXT)


def test_value_sealed_for_one_column_does_not_open_in_another(cipher: FieldCipher) -> None:
    sealed = cipher.seal(LINK, "location.value")
    with pytest.raises(DecryptionError):
        cipher.open(sealed, "location.note")


def test_value_does_not_open_with_another_master_key(cipher: FieldCipher) -> None:
    sealed = cipher.seal(LINK, CONTEXT)
    with pytest.raises(DecryptionError):
        FieldCipher({1: KEY_2}).open(sealed, CONTEXT)


@pytest.mark.parametrize(
    "position",
    [4, 4 + 12, 4 + 12 + 48, -1, -17],  # wrap nonce, wrapped key, data nonce, tag, body
)
def test_tampered_value_fails_to_open(cipher: FieldCipher, position: int) -> None:
    sealed = bytearray(cipher.seal(LINK, CONTEXT))
    sealed[position] ^= 0x01
    with pytest.raises(DecryptionError):
        cipher.open(bytes(sealed), CONTEXT)


def test_truncated_value_fails_to_open(cipher: FieldCipher) -> None:
    sealed = cipher.seal(LINK, CONTEXT)
    with pytest.raises(DecryptionError):
        cipher.open(sealed[:-5], CONTEXT)
    with pytest.raises(DecryptionError):
        cipher.open(sealed[:40], CONTEXT)


@pytest.mark.parametrize("garbage", [b"", b"E1", b"not sealed at all", os.urandom(200)])
def test_something_that_is_not_a_sealed_value_fails_to_open(
    cipher: FieldCipher, garbage: bytes
) -> None:
    with pytest.raises(DecryptionError):
        cipher.open(garbage, CONTEXT)


def test_older_key_version_still_opens_after_rotation() -> None:
    before = FieldCipher({1: KEY_1})
    sealed_before = before.seal(LINK, CONTEXT)
    after = FieldCipher({1: KEY_1, 2: KEY_2})
    assert after.open(sealed_before, CONTEXT) == LINK
    assert struct.unpack(">H", sealed_before[2:4]) == (1,)


def test_new_seals_use_the_newest_key_version() -> None:
    after = FieldCipher({1: KEY_1, 2: KEY_2})
    assert after.current_version == 2
    sealed = after.seal(LINK, CONTEXT)
    assert struct.unpack(">H", sealed[2:4]) == (2,)
    # Only the new key can open it: the old key alone cannot.
    with pytest.raises(DecryptionError):
        FieldCipher({1: KEY_1}).open(sealed, CONTEXT)
    assert FieldCipher({2: KEY_2}).open(sealed, CONTEXT) == LINK


def test_unknown_key_version_raises_decryption_error() -> None:
    sealed = FieldCipher({1: KEY_1, 2: KEY_2}).seal(LINK, CONTEXT)
    with pytest.raises(DecryptionError, match="version 2"):
        FieldCipher({1: KEY_1}).open(sealed, CONTEXT)


def test_changing_the_version_in_the_header_fails_to_open() -> None:
    cipher = FieldCipher({1: KEY_1, 2: KEY_2})
    sealed = cipher.seal(LINK, CONTEXT)
    relabelled = sealed[:2] + struct.pack(">H", 1) + sealed[4:]
    with pytest.raises(DecryptionError):
        cipher.open(relabelled, CONTEXT)


def test_cipher_needs_at_least_one_key() -> None:
    with pytest.raises(ValueError, match="master key"):
        FieldCipher({})


def test_keyed_hash_is_deterministic() -> None:
    hasher = KeyedHasher(KEY_1)
    first = hasher.digest(LINK, "location")
    assert first == KeyedHasher(KEY_1).digest(LINK, "location")
    assert len(first) == 64
    assert int(first, 16) >= 0


def test_keyed_hash_depends_on_the_key_value_and_purpose() -> None:
    hasher = KeyedHasher(KEY_1)
    digest = hasher.digest(LINK, "location")
    assert KeyedHasher(KEY_2).digest(LINK, "location") != digest
    assert hasher.digest(LINK + "6", "location") != digest
    assert hasher.digest(LINK, "other-purpose") != digest
