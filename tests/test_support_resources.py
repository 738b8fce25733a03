"""The support resources: the shipped file passes its checks and covers enough countries, the
checks catch what a careless edit would bring in, and a reader sees their country's services,
in their language first, before the international ones."""

from __future__ import annotations

import copy
import json

import pytest

from assistant.support_resources import DATA_DIR
from assistant.support_resources import KINDS
from assistant.support_resources import MIN_COUNTRIES
from assistant.support_resources import RESOURCES_FILE
from assistant.support_resources import TOPIC_OF_KIND
from assistant.support_resources import TOPICS
from assistant.support_resources import ResourcesError
from assistant.support_resources import build_resources
from assistant.support_resources import check_resources
from assistant.support_resources import load_resources
from assistant.support_resources import unverified_resources


@pytest.fixture(scope="module")
def shipped() -> dict:
    return json.loads((DATA_DIR / RESOURCES_FILE).read_text("utf-8"))


def _entry(**changes: object) -> dict:
    entry = {
        "id": "xx-line",
        "country": "FR",
        "name": "Une ligne",
        "kind": "crisis_line",
        "audience": "everyone",
        "phone": "3114",
        "text": None,
        "web": "https://line.example",
        "hours": "24/7",
        "timezone": None,
        "languages": ["fr"],
        "free": True,
        "sources": ["https://line.example/about"],
        "verified_on": None,
    }
    entry.update(changes)
    return entry


def _with(shipped: dict, *entries: dict) -> dict:
    data = copy.deepcopy(shipped)
    data["resources"].extend(entries)
    return data


def test_the_shipped_file_passes_and_covers_at_least_twenty_countries(shipped):
    assert check_resources(shipped) == []
    resources = load_resources()
    assert len(resources.countries()) >= MIN_COUNTRIES
    # Every covered country has its emergency number, and nothing is marked checked by nobody.
    # Except where none could be confirmed (issue 19): Zambia's police number is reported not to
    # work, and the DR Congo has no national one (112 was a pilot in Kinshasa). Their pages say
    # "call your local emergency number".
    without = {
        country for country in resources.countries() if not resources.emergency_number(country)
    }
    assert without == {"ZM", "CD"}
    assert {entry.kind for entry in resources.entries} == set(KINDS)
    assert len(unverified_resources(shipped)) == sum(
        1 for entry in shipped["resources"] if entry["verified_on"] is None
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"kind": "chat"}, "'kind' must be one of"),
        ({"audience": "teens"}, "'audience' must be one of"),
        ({"country": "XX"}, "not an ISO 3166-1 alpha-2 code"),
        ({"country": ["FR"]}, "not an ISO 3166-1 alpha-2 code"),
        ({"phone": "call 3114"}, "'phone' must be digits"),
        ({"phone": None, "web": None, "text": None}, "needs at least one way to reach it"),
        ({"web": "http://line.example"}, "'web' must be an https address"),
        ({"sources": []}, "needs at least one source"),
        ({"sources": ["line.example"]}, "needs at least one source"),
        ({"verified_on": "yesterday"}, "'verified_on' must be a date"),
        ({"verified_on": "2999-01-01"}, "'verified_on' is in the future"),
        ({"languages": ["french"]}, "'languages' must list ISO 639-1 codes"),
        ({"hours": "weekdays"}, "'hours' must be"),
        (
            {"hours": [{"days": ["mon"], "opens": "09:00", "closes": "17:00"}]},
            "need an IANA 'timezone'",
        ),
        (
            {
                "hours": [{"days": ["monday"], "opens": "09:00", "closes": "17:00"}],
                "timezone": "Europe/Paris",
            },
            "days must be from",
        ),
        (
            {
                "hours": [{"days": ["mon"], "opens": "9am", "closes": "17:00"}],
                "timezone": "Europe/Paris",
            },
            "'opens' must be HH:MM",
        ),
        ({"timezone": "Europe/Paris"}, "'timezone' belongs only with"),
        ({"kind": "emergency", "phone": None}, "an emergency entry needs its phone number"),
        ({"kind": "emergency", "country": None}, "an emergency number belongs to a country"),
        ({"text": {"number": "3114", "colour": "red"}}, "'text' takes only number and keyword"),
        ({"invented": True}, "unknown keys invented"),
    ],
)
def test_a_careless_entry_is_named_with_what_is_wrong(shipped, changes, expected):
    problems = check_resources(_with(shipped, _entry(**changes)))
    assert len(problems) >= 1
    assert all(problem.startswith("resources.json: xx-line") for problem in problems)
    assert any(expected in problem for problem in problems), problems


def test_a_missing_field_an_id_used_twice_and_too_few_countries_are_problems(shipped):
    entry = _entry()
    del entry["sources"]
    assert any("missing sources" in p for p in check_resources(_with(shipped, entry)))
    twice = shipped["resources"][0]
    assert any("id is used twice" in p for p in check_resources(_with(shipped, dict(twice))))
    few = {"resources": [e for e in shipped["resources"] if e["country"] in ("FR", "CA", None)]}
    assert any("at least 20 are needed" in p for p in check_resources(few))
    with pytest.raises(ResourcesError):
        build_resources(few)


def test_a_well_formed_entry_with_opening_hours_and_a_text_keyword_is_accepted(shipped):
    entry = _entry(
        hours=[{"days": ["mon", "tue", "wed", "thu", "fri"], "opens": "09:00", "closes": "24:00"}],
        timezone="Europe/Paris",
        text={"number": "114", "keyword": "AIDE"},
        verified_on="2026-01-05",
    )
    resources = build_resources(_with(shipped, entry))
    added = next(item for item in resources.entries if item.id == "xx-line")
    assert added.hours[0].days == ("mon", "tue", "wed", "thu", "fri")
    assert (added.text_number, added.text_keyword) == ("114", "AIDE")
    assert added.verified_on is not None and added.verified_on.isoformat() == "2026-01-05"


def test_a_reader_sees_their_country_first_emergency_first_their_language_first(shipped):
    entries = [
        _entry(
            id="zz-en", country="BE", kind="crisis_line", name="A line in English", languages=["en"]
        ),
        _entry(
            id="zz-nl",
            country="BE",
            kind="crisis_line",
            name="Z lijn in het Nederlands",
            languages=["nl"],
        ),
    ]
    resources = build_resources(_with(shipped, *entries))
    for_dutch = resources.for_reader("BE", "nl")
    assert for_dutch[0].kind == "emergency"
    assert {entry.country for entry in for_dutch} == {"BE", None}
    countries = [entry.country for entry in for_dutch]
    assert countries.index(None) > max(i for i, c in enumerate(countries) if c == "BE")
    crisis = [entry.id for entry in for_dutch if entry.kind == "crisis_line" and entry.country]
    assert crisis.index("zz-nl") < crisis.index("zz-en")
    crisis_en = [e.id for e in resources.for_reader("be", "en") if e.kind == "crisis_line"]
    assert crisis_en.index("zz-en") < crisis_en.index("zz-nl")
    # No country: only the services that help anywhere.
    assert {entry.country for entry in resources.for_reader(None, "en")} == {None}


def test_brazilian_portuguese_readers_are_answered_by_portuguese_speaking_services():
    resources = load_resources()
    brazil = [entry for entry in resources.for_reader("BR", "pt_BR") if entry.country == "BR"]
    assert brazil and all(entry.speaks("pt_BR") for entry in brazil)


def test_every_kind_of_service_belongs_to_one_group_of_the_support_page():
    assert set(TOPIC_OF_KIND) == set(KINDS)
    assert set(TOPIC_OF_KIND.values()) == set(TOPICS)
    resources = load_resources()
    assert all(entry.topic == TOPIC_OF_KIND[entry.kind] for entry in resources.entries)
