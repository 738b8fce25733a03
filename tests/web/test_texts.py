"""Every routing reason reads as a sentence in each language, never as a bare code."""

from __future__ import annotations

import pytest

from assistant.config import SUPPORTED_LANGUAGES
from assistant.routing import ReasonCode
from assistant.vocabulary import StaffReason
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
