"""The filing quota: what was filed counts, what was refused does not, and neither can be raced.

Flask-Limiter can count a request only before it runs, or only after (``deduct_when``); after
means that requests arriving together are all checked before any is counted, and get past the
limit. Here a filing takes its place in the quota first, atomically, in the shared rate-limit store
(one INCR per window, so no number of simultaneous requests exceeds the limit), and gives it back
when nothing was filed (a typo, a place already listed), counting a refusal instead: refusals
have a limit of their own, more generous.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from typing import TypeVar

from flask import current_app
from flask import g
from flask import request
from limits import RateLimitItem
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from ..extensions import current_services

F = TypeVar("F", bound=Callable[..., Any])
# Where the app keeps its Quota (one per app, made with the app: memory counters must be shared).
QUOTA = "assistant.filing_quota"


class Quota:
    """Counters in the rate-limit store (memory, or Redis shared by every process)."""

    def __init__(self, storage_url: str) -> None:
        self._windows = FixedWindowRateLimiter(storage_from_string(storage_url))

    def take(self, limits: str, *keys: str) -> float | None:
        """Count one against every window of ``limits``: None if it fits in all of them, else
        the seconds until it would (and nothing stays counted)."""
        taken: list[RateLimitItem] = []
        for item in parse_many(limits):
            taken.append(item)
            if not self._windows.hit(item, *keys):
                self._give_back(taken, keys)
                reset = self._windows.get_window_stats(item, *keys).reset_time
                return max(1.0, reset - time.time())
        return None

    def give_back(self, limits: str, *keys: str) -> None:
        self._give_back(parse_many(limits), keys)

    def _give_back(self, items: list[RateLimitItem], keys: tuple[str, ...]) -> None:
        for item in items:
            self._windows.hit(item, *keys, cost=-1)

    def full(self, limits: str, *keys: str) -> float | None:
        """Without counting: the seconds to wait if a window of ``limits`` is already full."""
        for item in parse_many(limits):
            if not self._windows.test(item, *keys):
                reset = self._windows.get_window_stats(item, *keys).reset_time
                return max(1.0, reset - time.time())
        return None


def filing_quota(
    scope: str,
    limit: Callable[[], str],
    refused_limit: Callable[[], str],
    key: Callable[[], str],
    *,
    methods: tuple[str, ...] = ("POST",),
) -> Callable[[F], F]:
    """Hold a view that files to ``limit`` (counted first, given back unless it filed) and to
    ``refused_limit`` (what it refused), per ``key`` (an address's keyed hash, an account)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            services = current_services()
            if not services.settings.ratelimit_enabled or request.method not in methods:
                return view(*args, **kwargs)
            quota: Quota = current_app.extensions[QUOTA]
            who = key()
            refused_scope = f"{scope}-refused"
            wait = quota.full(refused_limit(), refused_scope, who) or quota.take(
                limit(), scope, who
            )
            if wait is not None:
                raise TooManyRequests(retry_after=int(wait) + 1)
            filed = False
            try:
                response = view(*args, **kwargs)
                filed = bool(g.get("filed"))
                return response
            finally:
                if not filed:
                    quota.give_back(limit(), scope, who)
                    quota.take(refused_limit(), refused_scope, who)

        return wrapped  # type: ignore[return-value]

    return decorate
