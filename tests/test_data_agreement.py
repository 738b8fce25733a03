"""The directory files agree with each other, and say when each entry was last checked against
its sources (issue 19): a resource that is a hotline's own service says so and gives the same
site and reporting page as the hotline; ``checked_on`` and ``checked`` go together, are well
formed, and ``assistant check-data`` lists the entries due to be read again."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.routing.checked import CHECK_VALID_FOR
from assistant.routing.checked import check_due
from assistant.routing.checked import check_problems
from assistant.routing.checked import checks_due
from assistant.routing.directory import DATA_DIR
from assistant.support_resources import check_agreement

TODAY = dt.date(2026, 12, 5)

HOTLINES = {
    "hotlines": [
        {
            "id": "meldpunt_xx",
            "name": "Meldpunt Voorbeeld (Example)",
            "operator": "Example Foundation",
            "countries": ["NL"],
            "website": "https://www.meldpunt.example/",
            "report_url": "https://www.meldpunt.example/melden",
        },
        {
            "id": "quiet_xx",
            "name": "Quiet Hotline",
            "operator": "Quiet Org",
            "countries": ["BE"],
            "website": "https://quiet.example/",
            "report_url": None,
        },
    ]
}


def resource(**changes: object) -> dict:
    entry = {
        "id": "nl-meldpunt",
        "country": "NL",
        "name": "Meldpunt Voorbeeld",
        "kind": "reporting_help",
        "web": "https://www.meldpunt.example/melden",
    }
    entry.update(changes)
    return entry


def agreement(*resources: dict) -> list[str]:
    return check_agreement({"resources": list(resources)}, HOTLINES)


def test_a_hotlines_own_service_that_says_so_and_agrees_passes():
    assert agreement(resource(hotline="meldpunt_xx")) == []
    # The operator's other services (a helpline) may be on another site.
    helpline = resource(id="nl-help", kind="child_helpline", web="https://help.example/")
    assert agreement({**helpline, "hotline": "meldpunt_xx"}) == []
    # A hotline without a reporting page: its site is the place to report.
    quiet = resource(id="be-quiet", country="BE", name="Quiet Hotline", web="https://quiet.example")
    assert agreement({**quiet, "hotline": "quiet_xx"}) == []


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        # The name of a hotline (before its bracket), in its country, without saying so.
        (resource(), "has the name of hotline 'meldpunt_xx'"),
        # Its operator's name, for a place to report.
        (resource(name="Example Foundation"), "has the name of hotline 'meldpunt_xx'"),
        # Another site than the hotline's (offlimits.nl / meldpunt-kinderporno.nl).
        (
            resource(hotline="meldpunt_xx", web="https://www.other-site.example/"),
            "is on other-site.example, hotline 'meldpunt_xx' on meldpunt.example",
        ),
        # Another reporting page than the hotline's.
        (
            resource(hotline="meldpunt_xx", web="https://www.meldpunt.example/"),
            "gives https://www.meldpunt.example/ to report, hotline 'meldpunt_xx' "
            "https://www.meldpunt.example/melden",
        ),
        # A reporting page the hotline's entry does not give (eSafety's report_url was null).
        (
            resource(
                country="BE", name="Quiet Hotline", hotline="quiet_xx",
                web="https://quiet.example/report",
            ),
            "gives https://quiet.example/report to report, hotline 'quiet_xx' no 'report_url'",
        ),
        (resource(hotline="nobody_xx"), "names unknown hotline 'nobody_xx'"),
    ],
)  # fmt: skip
def test_a_disagreement_between_the_files_is_named(entry, expected):
    problems = agreement(entry)
    assert len(problems) == 1 and expected in problems[0], problems


def test_a_name_alike_in_another_country_is_not_taken_for_the_hotline():
    assert agreement(resource(country="DE")) == []


def test_checked_on_and_checked_go_together_and_are_well_formed():
    good = {"checked_on": "2026-12-01", "checked": "Phone and hours against its own page."}
    assert check_problems(good, TODAY) == []
    assert check_problems({}, TODAY) == []
    assert check_problems({"checked_on": "2026-12-01"}, TODAY) == [
        "'checked_on' and 'checked' go together"
    ]
    assert check_problems({**good, "checked_on": "2027-01-01"}, TODAY) == [
        "'checked_on' is in the future"
    ]
    assert check_problems({**good, "checked_on": "1 Dec"}, TODAY) == [
        "'checked_on' must be a date (YYYY-MM-DD)"
    ]
    assert check_problems({**good, "checked": " "}, TODAY) == [
        "'checked' must say what was compared with the sources"
    ]


def test_an_entry_is_due_when_never_checked_or_checked_over_a_year_ago():
    year = CHECK_VALID_FOR.days
    assert check_due({}, TODAY)
    assert check_due({"checked_on": str(TODAY - dt.timedelta(days=year + 1))}, TODAY)
    assert not check_due({"checked_on": str(TODAY - dt.timedelta(days=year))}, TODAY)
    recent = {"id": "recent", "checked_on": str(TODAY)}
    assert checks_due(TODAY, hotline=[recent, {"id": "never"}], resource=[recent]) == [
        "hotline never"
    ]


def test_check_data_lists_the_entries_due_and_refuses_a_bad_check(tmp_path: Path):
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("hotlines.json", "providers.json", "resources.json"):
        shutil.copy(DATA_DIR / name, folder / name)
    hotlines = json.loads((folder / "hotlines.json").read_text("utf-8"))
    first, second = hotlines["hotlines"][:2]
    first.update(checked_on=str(dt.date.today()), checked="Name and site against its page.")
    second.update(checked_on="2020-01-01", checked="Name and site against its page.")
    (folder / "hotlines.json").write_text(json.dumps(hotlines), "utf-8")
    result = CliRunner().invoke(main, ["check-data", "--data-dir", str(folder)])
    assert result.exit_code == 0, result.output
    due = result.output.split("due to be checked against their sources again", 1)[1]
    assert f"  hotline {second['id']}\n" in due
    assert f"  hotline {first['id']}\n" not in due
    second["checked"] = ""
    (folder / "hotlines.json").write_text(json.dumps(hotlines), "utf-8")
    result = CliRunner().invoke(main, ["check-data", "--data-dir", str(folder)])
    assert result.exit_code == 1
    assert "'checked' must say what was compared with the sources" in result.output
