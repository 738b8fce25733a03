"""Filing a request: one transaction, sealed values, routed referrals."""

from __future__ import annotations

import pytest

from assistant.cases.intake import IntakeError
from assistant.cases.intake import IntakeRequest
from assistant.cases.intake import add_locations
from assistant.cases.intake import file_request
from assistant.crypto import FieldCipher
from assistant.hotline.places import stored_host
from assistant.routing import normalise_location
from tests.conftest import row_counts


def _request(*values, **extra):
    return IntakeRequest(locations=[normalise_location("url", v) for v in values], **extra)


def test_a_request_is_stored_sealed_and_routed(db, services):
    filed = file_request(
        db,
        services,
        _request("https://example.fr/a", "https://example.com/b", survivor_country="IE"),
    )
    case = filed.case
    assert [r.hotline_id for r in case.referrals] == ["point_de_contact_fr", "hotline_ie"]
    first = case.locations[0]
    assert b"example.fr" not in first.value_sealed
    assert services.cipher.open(first.value_sealed, "location.value") == "https://example.fr/a"
    # A host the directory does not name is sealed; the place still knows it.
    assert first.host is None and first.registrable_domain is None
    assert b"example.fr" not in first.host_sealed
    assert stored_host(services.cipher, first) == "example.fr"
    assert [r["code"] for r in first.route_reasons] == ["country_code_domain", "country_hotline"]
    assert case.passphrase_hash.startswith("$argon2id$")
    assert filed.passphrase.replace(" ", "") not in case.passphrase_hash


def test_a_failure_halfway_leaves_nothing_behind(app, db, services, monkeypatch):
    before = row_counts(app)
    calls = {"n": 0}
    real_seal = FieldCipher.seal

    def failing_seal(self, plaintext, context):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real_seal(self, plaintext, context)

    monkeypatch.setattr(FieldCipher, "seal", failing_seal)
    with pytest.raises(RuntimeError):
        file_request(db, services, _request("https://example.fr/a", "https://example.de/b"))
    assert row_counts(app) == before


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"categories": frozenset({"made_up"})}, "unknown_category"),
        ({"minor_in_material": "maybe"}, "bad_minor_answer"),
        ({"survivor_country": "France"}, "bad_country"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_stored(app, db, services, extra, code):
    before = row_counts(app)
    with pytest.raises(IntakeError) as error:
        file_request(db, services, _request("https://example.com/", **extra))
    assert error.value.code == code
    assert row_counts(app) == before


def test_added_places_join_the_open_referral_and_repeats_are_skipped(db, services):
    filed = file_request(db, services, _request("https://example.fr/a"))
    added = add_locations(
        db,
        services,
        filed.case,
        [
            normalise_location("url", "https://example.fr/a"),
            normalise_location("url", "https://autre.example.fr/b"),
        ],
    )
    assert added.kept == [1]
    assert len(filed.case.referrals) == 1
    assert [e.code for e in filed.case.referrals[0].events] == ["routed", "locations_added"]
    with pytest.raises(IntakeError):
        add_locations(db, services, filed.case, [normalise_location("url", "http://example.fr/a")])


def test_the_same_draft_sent_twice_files_one_case(app, db, services):
    key = services.keyed_hasher.digest("draft-key", "submission")
    file_request(db, services, _request("https://example.com/a", submission_key=key))
    with pytest.raises(IntakeError) as error:
        file_request(db, services, _request("https://example.com/a", submission_key=key))
    assert error.value.code == "already_sent"
    assert row_counts(app)["cases"] == 1


def _hidden_events(case):
    return [
        (e.code, dict(e.params), e.location_id)
        for r in case.referrals
        for e in r.events
        if not e.visible_to_survivor
    ]


def test_a_place_already_in_another_open_case_is_flagged_for_the_hotline_only(db, services):
    first = file_request(db, services, _request("https://example.fr/a"))
    second = file_request(
        db, services, _request("http://EXAMPLE.fr/a/?utm_source=x", "https://example.fr/other")
    )
    third = file_request(db, services, _request("https://example.fr/a"))
    assert _hidden_events(first.case) == []
    assert _hidden_events(second.case) == [
        ("already_reported", {"open_cases": 1}, second.case.locations[0].id)
    ]
    assert _hidden_events(third.case) == [
        ("already_reported", {"open_cases": 2}, third.case.locations[0].id)
    ]


def test_a_place_whose_other_case_is_finished_is_not_flagged(db, services):
    first = file_request(db, services, _request("https://example.fr/a"))
    first.case.locations[0].status = "removed"
    db.commit()
    second = file_request(db, services, _request("https://example.fr/a"))
    assert _hidden_events(second.case) == []


def test_a_place_added_later_is_flagged_too(db, services):
    file_request(db, services, _request("https://example.fr/a"))
    mine = file_request(db, services, _request("https://example.de/b"))
    add_locations(db, services, mine.case, [normalise_location("url", "https://example.fr/a")])
    assert [code for code, _params, _id in _hidden_events(mine.case)] == ["already_reported"]


def test_an_account_named_with_another_word_for_the_same_platform_is_the_same_place(db, services):
    def account(platform):
        return IntakeRequest(
            locations=[normalise_location("account", "Bob_123", platform=platform)]
        )

    file_request(db, services, account("Insta"))
    second = file_request(db, services, account("instagram"))
    third = file_request(db, services, account("Telegram"))
    assert [code for code, _params, _id in _hidden_events(second.case)] == ["already_reported"]
    assert _hidden_events(third.case) == []
