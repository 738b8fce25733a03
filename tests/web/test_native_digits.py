"""Persian readers see numbers in Persian digits (CLDR's "arabext" numbering, which Babel does
not apply by itself): in dates, in counts put into sentences, in formatted numbers. Codes and
addresses, which are text, keep their own characters, and other languages keep European digits
(Arabic included: CLDR's default for "ar" is European digits)."""

from __future__ import annotations

import datetime as dt

from flask import render_template_string
from flask_babel import force_locale

from assistant.web import texts

DAY = dt.date(2026, 12, 5)


def test_dates_counts_and_numbers_in_persian_digits(app):
    with app.test_request_context("/"), force_locale("fa"):
        assert texts.reader().digits
        day = texts.format_date(DAY)
        assert "۵" in day and "۲۰۲۶" in day and not any(c.isascii() and c.isdigit() for c in day)
        counted = texts.ngettext("%(num)d place", "%(num)d places", 12)
        assert "۱۲" in counted and "12" not in counted
        page = render_template_string(
            "{{ ngettext('%(num)d place', '%(num)d places', 3) }}|{{ 1234567|format_number }}"
            "|{{ _('Case number: %(number)s', number='RQ-AB12CD34') }}"
        )
        count, number, code = page.split("|")
        assert "۳" in count and "3" not in count
        assert number.startswith("۱") and not any(c.isascii() and c.isdigit() for c in number)
        assert "RQ-AB12CD34" in code  # a code is text: typed back as it is shown
        # A refusal's limits travel as text, and are counts all the same.
        limit = texts.rejection_text("too_many_lines", {"limit": "10000", "places": "500"})
        assert (
            "۱۰۰۰۰" in limit
            and "۵۰۰" in limit
            and not any(c.isascii() and c.isdigit() for c in limit)
        )
        # What someone typed stays as typed, digits included: the summary of places is pasted
        # into a hotline's own form, and a group's number must reach it unchanged.
        summary = texts.places_summary([("url", "https://t.me/+12345", None, "group 12345")])
        assert "12345" in summary and "۱۲۳۴۵" not in summary
        assert "12345" in texts._("Note: %(note)s", note="12345")


def test_other_languages_keep_european_digits(app):
    for language in ("ar", "fr", "en"):
        with app.test_request_context("/"), force_locale(language):
            assert not texts.reader().digits
            assert "2026" in texts.format_date(DAY)
            assert "12" in texts.ngettext("%(num)d place", "%(num)d places", 12)
