"""Free text a person typed (a message, a note, a provider's name, a profile): one check for all.

Trimmed; refused when longer than its limit or when it holds invisible control characters (which
can hide or reorder what a reader sees). A refusal is raised as the caller's own kind of
:class:`~assistant.errors.Refused`, with the codes ``too_long`` (``limit``, ``field``) and
``control_characters`` (``field``).
"""

from __future__ import annotations

from .errors import Refused
from .routing.normalise import LocationRejected
from .routing.normalise import clean_text


def checked_text(
    value: str | None,
    limit: int,
    *,
    field: str,
    refuse: type[Refused] = Refused,
    multiline: bool = True,
) -> str | None:
    """The text, trimmed, with line ends made ``\\n``; None when nothing is left.

    The check is :func:`~assistant.routing.normalise.clean_text`'s, with format characters
    allowed; the text is trimmed first, so surrounding spaces never count against the limit.
    """
    text = (value or "").strip()
    if not text:
        return None
    try:
        return clean_text(text, max_length=limit, multiline=multiline, allow_format=True)
    except LocationRejected as exc:
        raise refuse(exc.code, field=field, **exc.params) from exc
