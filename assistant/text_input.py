"""Free text a person typed (a message, a note, a provider's name, a profile): one check for all.

Trimmed; refused when longer than its limit or when it holds invisible control characters (which
can hide or reorder what a reader sees). A refusal is raised as the caller's own kind of
:class:`~assistant.errors.Refused`, with the codes ``too_long`` (``limit``, ``field``) and
``control_characters`` (``field``).
"""

from __future__ import annotations

from .errors import Refused
from .routing.normalise import has_control_characters


def checked_text(
    value: str | None,
    limit: int,
    *,
    field: str,
    refuse: type[Refused] = Refused,
    multiline: bool = True,
) -> str | None:
    """The text, trimmed, with line ends made ``\\n``; None when nothing is left."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return None
    if len(text) > limit:
        raise refuse("too_long", field=field, limit=str(limit))
    if has_control_characters(text.replace("\n", "") if multiline else text, allow_format=True):
        raise refuse("control_characters", field=field)
    return text
