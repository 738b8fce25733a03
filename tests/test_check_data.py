"""``assistant check-data``: the directory files are checked before anyone relies on them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.routing.directory import DATA_DIR


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("hotlines.json", "providers.json"):
        shutil.copy(DATA_DIR / name, folder / name)
    return folder


def edit(folder: Path, name: str, change: Callable[[Any], None]) -> None:
    path = folder / name
    data = json.loads(path.read_text("utf-8"))
    change(data)
    path.write_text(json.dumps(data), "utf-8")


def run(*args: str) -> Any:
    return CliRunner().invoke(main, ["check-data", *args])


def test_shipped_data_has_no_problems_and_lists_what_is_unverified() -> None:
    result = run()
    assert result.exit_code == 0, result.output
    assert "no problems found" in result.output
    shipped = json.loads((DATA_DIR / "hotlines.json").read_text("utf-8"))
    unverified = [h["id"] for h in shipped["hotlines"] if h["verified_on"] is None]
    for hotline_id in unverified:
        assert f"hotline {hotline_id}\n" in result.output


def test_runs_without_an_app_secrets_or_a_database(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", "from assistant.cli import main; main()", "check-data", "--quiet"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "no problems found" in completed.stdout
    assert not (tmp_path / "instance").exists()


def _duplicate_host(data: Any) -> None:
    data["providers"][1]["hosts"].append(data["providers"][0]["hosts"][0])


def _unknown_country(data: Any) -> None:
    data["hotlines"][0]["countries"] = ["QQ"]


def _missing_fallback(data: Any) -> None:
    data["fallback"] = "no_such_hotline"


def _provider_names_unknown_hotline(data: Any) -> None:
    data["providers"][0]["hotline"] = "no_such_hotline"


def _no_sources(data: Any) -> None:
    data["hotlines"][2]["sources"] = []


def _bad_intake(data: Any) -> None:
    data["hotlines"][1]["intake"] = "fax"


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        ("providers.json", _duplicate_host, "is listed by both"),
        ("hotlines.json", _unknown_country, "'QQ' is not an ISO 3166-1 alpha-2 country code"),
        ("hotlines.json", _missing_fallback, "fallback hotline 'no_such_hotline'"),
        ("providers.json", _provider_names_unknown_hotline, "unknown hotline 'no_such_hotline'"),
        ("hotlines.json", _no_sources, "needs at least one source"),
        ("hotlines.json", _bad_intake, "'intake' must be one of"),
    ],
)
def test_a_broken_file_fails_and_says_where(
    data_copy: Path, name: str, change: Callable[[Any], None], expected: str
) -> None:
    edit(data_copy, name, change)
    result = run("--data-dir", str(data_copy))
    assert result.exit_code == 1
    assert expected in result.output
    assert "problem(s) in the data" in result.output


def test_a_file_that_is_not_json_fails(data_copy: Path) -> None:
    (data_copy / "providers.json").write_text("{ not json", "utf-8")
    result = run("--data-dir", str(data_copy))
    assert result.exit_code == 1
    assert "providers.json" in result.output


def test_every_problem_is_reported_at_once(data_copy: Path) -> None:
    edit(data_copy, "hotlines.json", _unknown_country)
    edit(data_copy, "providers.json", _duplicate_host)
    result = run("--data-dir", str(data_copy))
    assert "'QQ' is not" in result.output
    assert "is listed by both" in result.output
