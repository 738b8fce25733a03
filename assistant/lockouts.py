"""How failed sign-ins lock an account (a receipt's tries are counted differently: see
assistant.cases.receipts.ReceiptThrottle).

The count is kept on the row itself (never by address); after :data:`MAX_FAILURES` within
:data:`FAILURE_WINDOW` the row is locked, for 15 minutes the first time and twice as long each time
after, up to a day.
"""

from __future__ import annotations

import datetime as dt

MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
FIRST_LOCKOUT = dt.timedelta(minutes=15)
LONGEST_LOCKOUT = dt.timedelta(hours=24)


def lockout_for(lockouts: int) -> dt.timedelta:
    """15 minutes, then 30, 60, ... up to a day."""
    return min(FIRST_LOCKOUT * (1 << max(lockouts - 1, 0)), LONGEST_LOCKOUT)
