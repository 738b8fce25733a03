"""When the sources of a directory entry (a hotline, a provider, a support resource) were last
read and compared with it, and what was compared: ``checked_on`` (a date) and ``checked`` (a
sentence, for the next person who checks). Separate from ``verified_on``, which is kept for a
person at the organisation confirming the entry. ``assistant check-data`` lists the entries never
checked, and those checked more than :data:`CHECK_VALID_FOR` ago, to be read again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

CHECK_KEYS = ("checked_on", "checked")
CHECK_VALID_FOR = dt.timedelta(days=365)


def check_problems(entry: Mapping[str, Any], today: dt.date) -> list[str]:
    """What is wrong with an entry's record of its last check (both fields or neither)."""
    present = [key for key in CHECK_KEYS if entry.get(key) is not None]
    if not present:
        return []
    if len(present) == 1:
        return ["'checked_on' and 'checked' go together"]
    problems = []
    try:
        if dt.date.fromisoformat(str(entry["checked_on"])) > today:
            problems.append("'checked_on' is in the future")
    except ValueError:
        problems.append("'checked_on' must be a date (YYYY-MM-DD)")
    if not isinstance(entry["checked"], str) or not entry["checked"].strip():
        problems.append("'checked' must say what was compared with the sources")
    return problems


def check_due(entry: Mapping[str, Any], today: dt.date) -> bool:
    """Whether an entry's sources are to be read again: never checked, or too long ago."""
    checked_on = entry.get("checked_on")
    if checked_on is None:
        return True
    try:
        return today - dt.date.fromisoformat(str(checked_on)) > CHECK_VALID_FOR
    except ValueError:
        return True


def checks_due(today: dt.date, **entries: Iterable[Mapping[str, Any]]) -> list[str]:
    """Each entry whose sources are to be read again (:func:`check_due`), named by its kind (the
    keyword it came under) and id: "hotline hotline_ie"."""
    return [
        f"{kind} {entry['id']}"
        for kind, found in entries.items()
        for entry in found
        if check_due(entry, today)
    ]
