"""The one check for free text a person typed (messages, notes, names, profiles)."""

from __future__ import annotations

import pytest

from assistant.errors import Refused
from assistant.routing.normalise import normalise_location
from assistant.text_input import checked_text


class OwnRefusal(Refused):
    pass


def test_text_is_trimmed_and_empty_text_is_none() -> None:
    assert checked_text("  hello \n", 10, field="note") == "hello"
    assert checked_text("   \n ", 10, field="note") is None
    assert checked_text(None, 10, field="note") is None


def test_surrounding_spaces_do_not_count_against_the_limit_but_the_text_does() -> None:
    assert checked_text("   " + "a" * 5 + "   ", 5, field="note") == "a" * 5
    with pytest.raises(OwnRefusal) as caught:
        checked_text("a" * 6, 5, field="note", refuse=OwnRefusal)
    assert (caught.value.code, caught.value.params) == ("too_long", {"field": "note", "limit": "5"})


def test_a_browsers_line_ends_count_as_one_character_each() -> None:
    # A text area sends CR LF; the limit is about what the reader sees.
    assert checked_text("ab\r\ncd", 5, field="message") == "ab\ncd"
    assert checked_text("ab\rcd", 5, field="message") == "ab\ncd"


def test_control_characters_are_refused_as_the_callers_own_kind() -> None:
    with pytest.raises(OwnRefusal) as caught:
        checked_text("a\x00b", 10, field="message", refuse=OwnRefusal)
    assert (caught.value.code, caught.value.params) == ("control_characters", {"field": "message"})


def test_single_line_text_refuses_a_line_end_and_multi_line_text_keeps_it() -> None:
    assert checked_text("a\nb", 10, field="message") == "a\nb"
    for text in ("a\nb", "a\r\nb", "a\rb"):
        with pytest.raises(Refused) as caught:
            checked_text(text, 10, field="provider", multiline=False)
        assert caught.value.code == "control_characters"


def test_format_characters_in_names_and_scripts_are_kept() -> None:
    # A zero-width joiner is part of how some scripts and emoji are written.
    assert checked_text("\u0915\u094d\u200d\u0937", 10, field="provider", multiline=False)


def test_a_location_note_counts_line_ends_the_same_way() -> None:
    note = "n\r\n" * 999 + "n"  # 1,999 characters as a reader sees them (the limit is 2,000)
    location = normalise_location("url", "https://example.com/", note=note)
    assert location.note == note.replace("\r\n", "\n")
