"""Receipts: case numbers, passphrases and their Argon2id hashes (the pure parts)."""

from __future__ import annotations

import math
import re

import pytest

from assistant.cases.receipts import CROCKFORD
from assistant.cases.receipts import MAX_PASSPHRASE_INPUT
from assistant.cases.receipts import PASSPHRASE_ALPHABET
from assistant.cases.receipts import PASSPHRASE_BITS
from assistant.cases.receipts import Passphrase
from assistant.cases.receipts import PassphraseHasher
from assistant.cases.receipts import new_case_number
from assistant.cases.receipts import new_passphrase
from assistant.cases.receipts import normalise_case_number
from assistant.cases.receipts import normalise_passphrase

CASE_NUMBER = re.compile(r"^RQ-[0-9A-HJKMNP-TV-Z]{8}$")
ARGON2_PREFIX = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$")
LOOK_ALIKES = set("ilo01")


@pytest.fixture(scope="module")
def hasher() -> PassphraseHasher:
    return PassphraseHasher(memory_kib=19456, time_cost=2, parallelism=1)


# --- case numbers ------------------------------------------------------------------------------


def test_crockford_alphabet_has_no_look_alikes() -> None:
    assert len(CROCKFORD) == len(set(CROCKFORD)) == 32
    assert not set(CROCKFORD) & set("ILOU")


def test_case_number_is_rq_and_eight_crockford_characters() -> None:
    numbers = [new_case_number() for _ in range(200)]
    for number in numbers:
        assert CASE_NUMBER.match(number), number
    assert len(set(numbers)) >= 199


def test_new_case_number_survives_normalisation() -> None:
    for _ in range(50):
        number = new_case_number()
        assert normalise_case_number(number) == number
        assert normalise_case_number(number.lower()) == number


@pytest.mark.parametrize(
    "typed",
    [
        "RQ-ABCD1234",
        "rq-abcd1234",
        "rq-abcd 1234",
        "  RQ ABCD 1234  ",
        "RQABCD1234",
        "ABCD1234",
        "abcd-1234",
        "ab cd 12 34",
    ],
)
def test_case_number_accepts_the_ways_people_type_it(typed: str) -> None:
    assert normalise_case_number(typed) == "RQ-ABCD1234"


def test_case_number_reads_look_alike_letters_as_digits() -> None:
    assert normalise_case_number("RQ-OIL0ABCD") == "RQ-0110ABCD"
    assert normalise_case_number("rq-oil0abcd") == "RQ-0110ABCD"


def test_case_number_whose_body_starts_with_rq_keeps_it_when_prefixed() -> None:
    assert normalise_case_number("RQ-RQAB1234") == "RQ-RQAB1234"


def test_case_number_whose_body_starts_with_rq_is_accepted_without_prefix() -> None:
    # One case number in 1024 has a body that starts with RQ; it must not lose those letters.
    assert normalise_case_number("RQAB1234") == "RQ-RQAB1234"
    assert normalise_case_number("rqab 1234") == "RQ-RQAB1234"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "RQ-",
        "RQ-ABC1234",  # seven characters
        "RQ-ABCD12345",  # nine characters
        "RQ-ABCD123U",  # U is not Crockford
        "RQ-ABCD123!",
        "RQ-ABCD123É",
    ],
)
def test_case_number_refuses_what_cannot_be_one(typed: str) -> None:
    assert normalise_case_number(typed) is None


# --- passphrases -------------------------------------------------------------------------------


def test_case_number_input_over_40_characters_is_refused() -> None:
    assert normalise_case_number("RQ-ABCD1234" + " " * 29) == "RQ-ABCD1234"
    assert normalise_case_number("RQ-ABCD1234" + " " * 30) is None


def test_passphrase_has_at_least_80_bits() -> None:
    assert len(PASSPHRASE_ALPHABET) == len(set(PASSPHRASE_ALPHABET))
    assert PASSPHRASE_BITS >= 80
    letters = normalise_passphrase(new_passphrase())
    assert letters is not None
    assert len(letters) * math.log2(len(PASSPHRASE_ALPHABET)) >= 80


def test_passphrase_is_groups_of_lower_case_letters_without_look_alikes() -> None:
    seen: set[str] = set()
    for _ in range(200):
        passphrase = new_passphrase()
        assert re.fullmatch(r"[a-z]{4}( [a-z]{4}){4}", passphrase), passphrase
        assert not LOOK_ALIKES & set(passphrase)
        assert set(passphrase.replace(" ", "")) <= set(PASSPHRASE_ALPHABET)
        seen.update(passphrase)
    assert not LOOK_ALIKES & seen
    assert len(seen - {" "}) >= 20  # the whole alphabet is in use, not a few letters


def test_passphrases_differ() -> None:
    assert len({new_passphrase() for _ in range(100)}) == 100


@pytest.mark.parametrize(
    "typed",
    [
        "abcd efgh jkmn pqrs",
        "ABCD-EFGH-JKMN-PQRS",
        "  abcdefghjkmnpqrs ",
        "Abcd\tefgh\njkmn.pqrs",
        "abcd - efgh - jkmn - pqrs",
    ],
)
def test_passphrase_ignores_spaces_dashes_and_case(typed: str) -> None:
    assert normalise_passphrase(typed) == "abcdefghjkmnpqrs"


def test_passphrase_input_over_the_limit_is_refused_before_anything_else() -> None:
    letters = "abcd efgh jkmn pqrs tuvw"
    at_limit = letters + " " * (MAX_PASSPHRASE_INPUT - len(letters))
    assert normalise_passphrase(at_limit) == "abcdefghjkmnpqrstuvw"
    assert normalise_passphrase(at_limit + " ") is None
    assert normalise_passphrase("a" * (MAX_PASSPHRASE_INPUT + 1)) is None


@pytest.mark.parametrize("typed", ["", "   ", "- - -", "a" * 65])
def test_passphrase_refuses_empty_or_too_many_letters(typed: str) -> None:
    assert normalise_passphrase(typed) is None


# --- hashing -----------------------------------------------------------------------------------


def test_hash_is_argon2id_at_or_above_owasp_minimum(hasher: PassphraseHasher) -> None:
    stored = hasher.hash(new_passphrase())
    match = ARGON2_PREFIX.match(stored)
    assert match, stored
    memory, time_cost, parallelism = (int(x) for x in match.groups())
    assert memory >= 19456
    assert time_cost >= 2
    assert parallelism >= 1


def test_hash_does_not_contain_the_passphrase(hasher: PassphraseHasher) -> None:
    passphrase = new_passphrase()
    stored = hasher.hash(passphrase)
    assert passphrase.replace(" ", "") not in stored
    assert hasher.hash(passphrase) != stored


def test_verify_accepts_the_right_passphrase_however_it_is_typed(
    hasher: PassphraseHasher,
) -> None:
    passphrase = new_passphrase()
    stored = hasher.hash(passphrase)
    assert hasher.verify(stored, normalise_passphrase(passphrase)) is True
    typed = passphrase.upper().replace(" ", "-")
    assert hasher.verify(stored, normalise_passphrase(typed)) is True


def test_verify_refuses_a_wrong_or_missing_passphrase(hasher: PassphraseHasher) -> None:
    stored = hasher.hash(Passphrase("abcd efgh jkmn pqrs tuvw"))
    assert hasher.verify(stored, Passphrase("abcdefghjkmnpqrstuvx")) is False
    assert hasher.verify(stored, None) is False
    assert hasher.verify(stored, Passphrase("")) is False


def test_verify_refuses_against_a_broken_hash(hasher: PassphraseHasher) -> None:
    assert hasher.verify("not a hash", Passphrase("abcdefghjkmnpqrstuvw")) is False


def test_hash_refuses_what_cannot_be_a_passphrase(hasher: PassphraseHasher) -> None:
    with pytest.raises(ValueError):
        hasher.hash(Passphrase("a" * (MAX_PASSPHRASE_INPUT + 1)))
    with pytest.raises(ValueError):
        hasher.hash(Passphrase("  "))


def test_burn_does_the_work_without_failing(hasher: PassphraseHasher) -> None:
    assert hasher.burn() is None


def test_hash_made_with_weaker_settings_needs_rehash(hasher: PassphraseHasher) -> None:
    stored = hasher.hash(new_passphrase())
    assert hasher.needs_rehash(stored) is False
    stronger = PassphraseHasher(memory_kib=19456, time_cost=3, parallelism=1)
    assert stronger.needs_rehash(stored) is True
