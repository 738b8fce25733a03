"""Every routing reason reads as a sentence in each language, never as a bare code."""

from __future__ import annotations

import pytest

from assistant.config import SUPPORTED_LANGUAGES
from assistant.people.advocates import AdvocateAction
from assistant.routing import Intake
from assistant.routing import Kind
from assistant.routing import ReasonCode
from assistant.vocabulary import AccessOrigin
from assistant.vocabulary import AccountStatus
from assistant.vocabulary import Assessment
from assistant.vocabulary import CaseStatus
from assistant.vocabulary import Category
from assistant.vocabulary import CloseReason
from assistant.vocabulary import ConsentMethod
from assistant.vocabulary import EventCode
from assistant.vocabulary import FiledBy
from assistant.vocabulary import HarmfulSubtype
from assistant.vocabulary import LocationStatus
from assistant.vocabulary import MinorAnswer
from assistant.vocabulary import NoticeType
from assistant.vocabulary import ProviderResponse
from assistant.vocabulary import ReferralStatus
from assistant.vocabulary import RerouteReason
from assistant.vocabulary import Role
from assistant.vocabulary import StaffReason
from assistant.web import advocate_texts
from assistant.web import staff_texts
from assistant.web import texts
from assistant.web.forms import LANGUAGE_NAMES
from assistant.web.texts import reason_text

REASON_CODES = (*ReasonCode, *StaffReason)
PARAMS = {
    "country": "DE",
    "hotline": "eco_de",
    "provider": "imgur",
    "tld": "de",
    "kind": "dark_web",
    "from": "hotline_ie",
    "reason": "hosted_elsewhere",
}


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_reason_code_has_its_own_sentence(app, services, language):
    with app.test_request_context(f"/?lang={language}"):
        fallback = reason_text({"code": "no_such_code"}, services.directory)
        texts = {
            code: reason_text({"code": code, "params": PARAMS}, services.directory)
            for code in REASON_CODES
        }
    assert all(text != fallback for text in texts.values()), texts
    assert len(set(texts.values())) == len(REASON_CODES)
    assert all("%(" not in text for text in texts.values())


def test_a_reason_naming_a_provider_no_longer_listed_still_reads_well(app, services):
    with app.test_request_context("/"):
        text = reason_text(
            {"code": "known_provider", "params": {"provider": "gone", "country": "IE"}},
            services.directory,
        )
    assert text == "The service is established in Ireland."


LABEL_TABLES = [
    (texts.KIND_LABELS, Kind),
    (texts.KIND_CHOICE_LABELS, Kind),
    (texts.CATEGORY_LABELS, Category),
    (texts.MINOR_LABELS, MinorAnswer),
    (texts.STATUS_LABELS, LocationStatus),
    (texts.STATUS_EXPLANATIONS, LocationStatus),
    (texts.CASE_STATUS_LABELS, CaseStatus),
    (texts.INTAKE_TEXTS, Intake),
    (staff_texts.ASSESSMENT_LABELS, Assessment),
    (staff_texts.SUBTYPE_LABELS, HarmfulSubtype),
    (staff_texts.NOTICE_TYPE_LABELS, NoticeType),
    (staff_texts.RESPONSE_LABELS, ProviderResponse),
    (staff_texts.CLOSE_REASON_LABELS, CloseReason),
    (staff_texts.REROUTE_REASON_LABELS, RerouteReason),
    (staff_texts.REFERRAL_STATUS_LABELS, ReferralStatus),
    (staff_texts.ACCOUNT_STATUS_LABELS, AccountStatus),
    (staff_texts.ROLE_LABELS, Role),
    (staff_texts.FILED_BY_LABELS, FiledBy),
    (staff_texts.ADVOCATE_ACTION_LABELS, AdvocateAction),
    (advocate_texts.CATEGORY_LABELS, Category),
    (advocate_texts.MINOR_LABELS, MinorAnswer),
    (advocate_texts.CONSENT_METHOD_LABELS, ConsentMethod),
    (advocate_texts.ORIGIN_LABELS, AccessOrigin),
]


@pytest.mark.parametrize(("table", "vocabulary"), LABEL_TABLES)
def test_every_code_of_a_vocabulary_has_its_words(table, vocabulary):
    assert set(table) == set(vocabulary)


def test_every_reason_code_has_a_sentence_in_the_table():
    assert set(texts.REASON_TEXTS) == set(REASON_CODES)


# Timeline entries the survivor never sees (visible_to_survivor is False for them).
STAFF_ONLY = {
    EventCode.ALREADY_REPORTED,
    EventCode.ASSIGNED,
    EventCode.UNASSIGNED,
    EventCode.ASSESSED,
    EventCode.PROVIDER_QUESTION,
    EventCode.CHASE_PAUSED,
    EventCode.CHASE_STOPPED,
    EventCode.CHASE_RESUMED,
    EventCode.NO_ANSWER,
    EventCode.NO_RESPONSE,
    EventCode.REFERRAL_CLOSED,
}


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_timeline_entry_reads_as_a_sentence_for_staff_and_survivors(app, services, language):
    params = {"count": 3, "open_cases": 2, "hotline": "eco_de", "reason": "language"}
    with app.test_request_context(f"/?lang={language}"):
        fallback = texts.event_text("no_such_event", {}, services.directory)
        for code in EventCode:
            staff = staff_texts.staff_event_text(
                code, {**params, "assessment": "csam"}, services.directory
            )
            assert staff != code and "%(" not in staff
            if code not in STAFF_ONLY:
                survivor = texts.event_text(code, params, services.directory)
                assert survivor != fallback and "%(" not in survivor, code


def test_counts_in_the_timeline_agree_with_their_number(app, services):
    with app.test_request_context("/?lang=en"):
        one = staff_texts.staff_event_text("locations_added", {"count": 1}, services.directory)
        two = staff_texts.staff_event_text("locations_added", {"count": 2}, services.directory)
        routed = staff_texts.staff_event_text("routed", {"count": 1}, services.directory)
    assert one == "The survivor added 1 place."
    assert two == "The survivor added 2 places."
    assert routed == "Routed here (1 place)."


def test_every_language_offered_is_named_in_itself():
    assert set(LANGUAGE_NAMES) == set(SUPPORTED_LANGUAGES)
