"""A pasted list of places, one on each line: split, each line's kind guessed, and every line given
its own verdict (added, a repeat, or not accepted and why)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from enum import StrEnum
from typing import TYPE_CHECKING

from ..routing import Kind
from ..routing import NormalisedLocation
from ..routing import guess_kind
from .intake import IntakeError
from .intake import LocationEntry
from .intake import collect_within_limits

if TYPE_CHECKING:
    from ..services import Services

# A pasted box longer than this is refused before it is split, whatever the location cap.
MAX_PASTED_LINES = 10_000


class LineOutcome(StrEnum):
    """What became of one pasted line."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # of an earlier line, or of a place already listed
    REJECTED = "rejected"


def _split_lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def entries_from_pasted_text(
    text: str, platform: str | None = None, *, most_places: int
) -> list[LocationEntry]:
    """One location a line; blank lines are skipped; the kind is guessed from the line.

    With a ``platform`` named, a line that is not a link is an account on that platform. Over
    :data:`MAX_PASTED_LINES` lines, refused with the advice to paste at most ``most_places`` (as
    many as a request holds) at a time.
    """
    lines = [line.strip() for line in _split_lines(text)]
    if len(lines) > MAX_PASTED_LINES:
        raise IntakeError("too_many_lines", limit=str(MAX_PASTED_LINES), places=str(most_places))
    entries = []
    for line in filter(None, lines):
        kind = guess_kind(line)
        if platform and kind == Kind.OTHER:
            entries.append(LocationEntry(Kind.ACCOUNT, line, platform=platform))
        else:
            entries.append(LocationEntry(kind, line))
    return entries


@dataclass(frozen=True)
class LineResult:
    """What became of one line of a pasted list. ``line`` counts every line, blank ones too, so
    that it matches what the person sees in their own list.

    ``outcome`` is ``accepted``, ``duplicate`` (of ``same_as``, an earlier line, or of a place
    already listed when ``same_as`` is None) or ``rejected`` (``code`` and ``params`` say why).
    """

    line: int
    text: str
    outcome: LineOutcome
    location: NormalisedLocation | None = None
    same_as: int | None = None
    code: str = ""
    params: dict[str, str] = field(default_factory=dict)


def check_pasted_lines(
    text: str,
    services: Services,
    *,
    already: Sequence[NormalisedLocation] = (),
    platform: str | None = None,
) -> list[LineResult]:
    """Every non-blank line checked as in :func:`entries_from_pasted_text` and
    :func:`collect_locations`, with its own verdict."""
    # Refuses an over-long list first.
    entries = entries_from_pasted_text(text, platform, most_places=services.settings.max_locations)
    line_numbers = [number for number, raw in enumerate(_split_lines(text), start=1) if raw.strip()]
    batch = collect_within_limits(entries, services, already=already)
    results: dict[int, LineResult] = {}
    for location, positions in zip(batch.accepted, batch.positions, strict=True):
        first = line_numbers[positions[0] - 1]
        results[positions[0]] = LineResult(
            first, entries[positions[0] - 1].value, LineOutcome.ACCEPTED, location
        )
        for later in positions[1:]:
            results[later] = LineResult(
                line_numbers[later - 1],
                entries[later - 1].value,
                LineOutcome.DUPLICATE,
                location,
                same_as=first,
            )
    for rejection in batch.rejections:
        results[rejection.position] = LineResult(
            line_numbers[rejection.position - 1],
            entries[rejection.position - 1].value,
            LineOutcome.REJECTED,
            code=rejection.code,
            params=dict(rejection.params),
        )
    for position, entry in enumerate(entries, start=1):
        results.setdefault(
            position, LineResult(line_numbers[position - 1], entry.value, LineOutcome.DUPLICATE)
        )
    return [results[position] for position in range(1, len(entries) + 1)]
