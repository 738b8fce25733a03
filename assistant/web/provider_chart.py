"""The provider responsiveness chart, drawn on the server as SVG (no script, no chart service).

Each provider gets one row: a bar as long as its notices, the part removed filled dark. The
template draws the shapes from these numbers; the same figures are in a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..hotline.provider_figures import ProviderRecord

ROW_HEIGHT = 28
BAR_HEIGHT = 18
LABEL_WIDTH = 160
BAR_WIDTH = 220
VALUE_WIDTH = 90
MAX_ROWS = 15


@dataclass(frozen=True)
class ChartRow:
    label: str
    y: int
    text_y: int
    notices_width: float
    removed_width: float
    notices: int
    removed: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    label_width: int
    value_x: int
    rows: list[ChartRow]


def provider_name(provider: str) -> str:
    """The provider as the figures show it (see provider_figures.ADDRESSES)."""
    return provider or str(_l("Named by an address"))


def responsiveness_chart(records: Sequence[ProviderRecord]) -> Chart:
    """Geometry for the providers with the most notices (at most 15 rows)."""
    shown = list(records)[:MAX_ROWS]
    most = max((r.notices for r in shown), default=0) or 1
    rows = []
    for index, record in enumerate(shown):
        y = index * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) // 2
        name = provider_name(record.provider)
        label = name if len(name) <= 22 else name[:21] + "…"
        rows.append(
            ChartRow(
                label=label,
                y=y,
                text_y=y + BAR_HEIGHT - 4,
                notices_width=round(BAR_WIDTH * record.notices / most, 1),
                removed_width=round(BAR_WIDTH * record.removed / most, 1),
                notices=record.notices,
                removed=record.removed,
            )
        )
    return Chart(
        width=LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH,
        height=max(len(rows), 1) * ROW_HEIGHT,
        label_width=LABEL_WIDTH,
        value_x=LABEL_WIDTH + BAR_WIDTH + 8,
        rows=rows,
    )
