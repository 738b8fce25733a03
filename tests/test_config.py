"""Settings: read once from ASSISTANT_* variables, validated, then frozen."""

from __future__ import annotations

import base64
import dataclasses
import json
import stat
from pathlib import Path

import pytest

from assistant.config import ARGON2_MIN_MEMORY_KIB
from assistant.config import ConfigError
from assistant.config import Settings
from assistant.config import load_settings
from assistant.config import new_key
from assistant.config import parse_master_keys

SECRET_KEY = "s" * 48


def key_text(length: int = 32, fill: int = 7) -> str:
    return base64.urlsafe_b64encode(bytes([fill]) * length).decode("ascii")


def production_environ(**extra: str) -> dict[str, str]:
    environ = {
        "ASSISTANT_ENV": "production",
        "ASSISTANT_SECRET_KEY": SECRET_KEY,
        "ASSISTANT_MASTER_KEYS": f"1:{key_text()}",
        "ASSISTANT_HASH_KEY": key_text(fill=9),
        "ASSISTANT_SECURE_COOKIES": "true",
        "ASSISTANT_DATABASE_URL": "postgresql+psycopg://assistant@db/assistant",
    }
    environ.update(extra)
    return environ


# --- development -------------------------------------------------------------------------------


def test_development_generates_secrets_once_into_the_instance_folder(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    first = load_settings({}, instance)
    path = instance / "secrets.json"
    stored = json.loads(path.read_text("utf-8"))
    assert set(stored) == {"secret_key", "master_keys", "hash_key"}
    assert first.secret_key == stored["secret_key"]
    assert first.master_keys == stored["master_keys"]
    assert first.hash_key == stored["hash_key"]
    assert len(first.secret_key) >= 32
    assert set(parse_master_keys(first.master_keys)) == {1}

    second = load_settings({}, instance)
    assert (second.secret_key, second.master_keys, second.hash_key) == (
        first.secret_key,
        first.master_keys,
        first.hash_key,
    )


def test_development_secrets_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    load_settings({}, tmp_path)
    assert stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode) == 0o600


def test_development_secrets_differ_between_instances(tmp_path: Path) -> None:
    one = load_settings({}, tmp_path / "one")
    two = load_settings({}, tmp_path / "two")
    assert one.secret_key != two.secret_key
    assert one.master_keys != two.master_keys
    assert one.hash_key != two.hash_key


def test_development_defaults(tmp_path: Path) -> None:
    settings = load_settings({}, tmp_path)
    assert settings.env == "development"
    assert settings.is_production is False
    assert settings.database_url == f"sqlite:///{tmp_path / 'assistant.sqlite3'}"
    assert settings.instance_path == str(tmp_path)
    assert settings.argon2_memory_kib == ARGON2_MIN_MEMORY_KIB


def test_secrets_given_in_the_environment_are_used_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    environ = {
        "ASSISTANT_SECRET_KEY": SECRET_KEY,
        "ASSISTANT_MASTER_KEYS": f"1:{key_text()}",
        "ASSISTANT_HASH_KEY": key_text(fill=9),
    }
    settings = load_settings(environ, tmp_path)
    assert settings.secret_key == SECRET_KEY
    assert not (tmp_path / "secrets.json").exists()


def test_one_secret_in_the_environment_overrides_the_generated_one(tmp_path: Path) -> None:
    generated = load_settings({}, tmp_path)
    settings = load_settings({"ASSISTANT_SECRET_KEY": SECRET_KEY}, tmp_path)
    assert settings.secret_key == SECRET_KEY
    assert settings.hash_key == generated.hash_key


def test_environment_values_are_converted_to_their_types(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "ASSISTANT_MAX_LOCATIONS": "20",
            "ASSISTANT_SECURE_COOKIES": "yes",
            "ASSISTANT_DEFAULT_LANGUAGE": "fr",
            "ASSISTANT_SITE_NAME": "",  # empty means "not set"
        },
        tmp_path,
    )
    assert settings.max_locations == 20
    assert settings.secure_cookies is True
    assert settings.default_language == "fr"
    assert settings.site_name == Settings.site_name


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("ASSISTANT_MAX_LOCATIONS", "lots"),
        ("ASSISTANT_SECURE_COOKIES", "maybe"),
        ("ASSISTANT_RECEIPT_TRIES_PER_ADDRESS", "five a quarter"),
        ("ASSISTANT_RECEIPT_TRIES_PER_CASE", "100"),
    ],
)
def test_values_of_the_wrong_type_are_refused(tmp_path: Path, name: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({name: raw}, tmp_path)


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load_settings({}, tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.secret_key = "changed"  # type: ignore[misc]


# --- production --------------------------------------------------------------------------------


def test_production_with_every_secret_starts(tmp_path: Path) -> None:
    settings = load_settings(production_environ(), tmp_path)
    assert settings.is_production is True
    assert settings.secure_cookies is True
    assert not (tmp_path / "secrets.json").exists()


def test_production_without_secrets_names_every_missing_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"ASSISTANT_ENV": "production", "ASSISTANT_SECURE_COOKIES": "1"}, tmp_path)
    message = str(caught.value)
    for name in ("ASSISTANT_SECRET_KEY", "ASSISTANT_MASTER_KEYS", "ASSISTANT_HASH_KEY"):
        assert name in message
    assert not (tmp_path / "secrets.json").exists()


def test_production_names_only_the_missing_secret(tmp_path: Path) -> None:
    environ = production_environ()
    del environ["ASSISTANT_HASH_KEY"]
    with pytest.raises(ConfigError) as caught:
        load_settings(environ, tmp_path)
    message = str(caught.value)
    assert "ASSISTANT_HASH_KEY" in message
    assert "ASSISTANT_SECRET_KEY" not in message
    assert "ASSISTANT_MASTER_KEYS" not in message


def test_production_never_uses_development_secrets(tmp_path: Path) -> None:
    load_settings({}, tmp_path)  # leaves a secrets.json behind
    with pytest.raises(ConfigError, match="ASSISTANT_SECRET_KEY"):
        load_settings({"ASSISTANT_ENV": "production", "ASSISTANT_SECURE_COOKIES": "1"}, tmp_path)


def test_production_needs_secure_cookies(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_SECURE_COOKIES"):
        load_settings(production_environ(ASSISTANT_SECURE_COOKIES="false"), tmp_path)


# --- bad values --------------------------------------------------------------------------------


def test_unknown_environment_is_refused_before_writing_secrets(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_ENV"):
        load_settings({"ASSISTANT_ENV": "staging"}, tmp_path)
    assert not (tmp_path / "secrets.json").exists()


def test_secret_key_shorter_than_32_characters_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_SECRET_KEY"):
        load_settings({"ASSISTANT_SECRET_KEY": "s" * 31}, tmp_path)
    assert load_settings({"ASSISTANT_SECRET_KEY": "s" * 32}, tmp_path).secret_key == "s" * 32


@pytest.mark.parametrize(
    "master_keys",
    [
        "1:short",
        f"one:{key_text()}",
        f"0:{key_text()}",
        f"65536:{key_text()}",
        f"1:{key_text(16)}",
        f"1:{key_text(33)}",
        key_text(),
        "1:",
        ",",
    ],
)
def test_bad_master_keys_are_refused(tmp_path: Path, master_keys: str) -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_MASTER_KEYS"):
        load_settings(production_environ(ASSISTANT_MASTER_KEYS=master_keys), tmp_path)


def test_several_master_keys_are_read_by_version(tmp_path: Path) -> None:
    text = f"1:{key_text(fill=1)}, 2:{key_text(fill=2)}"
    settings = load_settings(production_environ(ASSISTANT_MASTER_KEYS=text), tmp_path)
    assert parse_master_keys(settings.master_keys) == {1: bytes([1]) * 32, 2: bytes([2]) * 32}


def test_master_key_without_base64_padding_is_accepted() -> None:
    text = new_key()
    assert not text.endswith("=")
    assert len(parse_master_keys(f"1:{text}")[1]) == 32


def test_short_hash_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_HASH_KEY"):
        load_settings(production_environ(ASSISTANT_HASH_KEY=key_text(16)), tmp_path)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("ASSISTANT_ARGON2_MEMORY_KIB", str(ARGON2_MIN_MEMORY_KIB - 1)),
        ("ASSISTANT_ARGON2_MEMORY_KIB", "1024"),
        ("ASSISTANT_ARGON2_TIME_COST", "1"),
        ("ASSISTANT_ARGON2_PARALLELISM", "0"),
    ],
)
def test_argon2_settings_below_the_minimum_are_refused(tmp_path: Path, name: str, raw: str) -> None:
    with pytest.raises(ConfigError):
        load_settings({name: raw}, tmp_path)


def test_argon2_settings_may_be_raised(tmp_path: Path) -> None:
    settings = load_settings(
        {"ASSISTANT_ARGON2_MEMORY_KIB": "65536", "ASSISTANT_ARGON2_TIME_COST": "3"}, tmp_path
    )
    assert (settings.argon2_memory_kib, settings.argon2_time_cost) == (65536, 3)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("ASSISTANT_DEFAULT_LANGUAGE", "xx"),
        ("ASSISTANT_EXIT_URL", "javascript:alert(1)"),
        ("ASSISTANT_MAX_LOCATIONS", "0"),
        ("ASSISTANT_RETENTION_DAYS", "-1"),
    ],
)
def test_other_bad_values_are_refused(tmp_path: Path, name: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({name: raw}, tmp_path)


# --- overrides ---------------------------------------------------------------------------------


def test_overrides_with_unknown_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no_such_setting"):
        load_settings({}, tmp_path, overrides={"no_such_setting": 1, "max_locations": 3})


def test_overrides_are_validated_like_the_environment(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_settings({}, tmp_path, overrides={"argon2_memory_kib": 1024})
    with pytest.raises(ConfigError):
        load_settings({}, tmp_path, overrides={"env": "staging"})


def test_load_settings_overrides_win_over_the_environment(tmp_path: Path) -> None:
    settings = load_settings(
        {"ASSISTANT_MAX_LOCATIONS": "20"}, tmp_path, overrides={"max_locations": 5}
    )
    assert settings.max_locations == 5


def test_load_settings_refuses_unknown_overrides(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no_such_setting"):
        load_settings({}, tmp_path, overrides={"no_such_setting": 1})
    assert not (tmp_path / "secrets.json").exists()
