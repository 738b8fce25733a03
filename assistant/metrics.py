"""Figures for operators in Prometheus's text format (DESIGN section 7: counters for operators
carry no case, place or address), served by ``assistant metrics`` on an address of its own.

The app runs as several gunicorn workers, maybe on several machines, so no figure is kept in one
process's memory and read from there:

- **Counters** (HTTP requests by route and status, requests filed, places filed) are added by the
  web processes to the store the rate limits already use. With Redis that is one hash per
  counter, shared by every worker of every instance: any exporter reads the service's totals.
  ``memory://`` belongs to one process: it still counts, but no other process (the exporter)
  can read it, and the exposition says so.
- **Gauges** (deliveries by state, the outbox's queue, the chase's queue) are counted in the
  database when the figures are read: it is shared already, and it is the truth.

A label holds only an endpoint's name (never the path, which can carry an id or a link's token),
a method, a status code or a code of the vocabulary: never a case number, a reference, an id, an
address or a host.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any
from typing import Protocol

from flask import Flask
from flask import Response
from flask import request
from flask import request_finished
from limits.storage import RedisStorage
from limits.storage import storage_from_string
from sqlalchemy import case as sql_case
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.orm import sessionmaker
from werkzeug.wrappers import Request as PlainRequest
from werkzeug.wrappers import Response as PlainResponse

from .extensions import Database
from .models import Case
from .models import Location
from .models import NoticeLetter
from .models import OutboxItem
from .models import utcnow
from .vocabulary import OutboxStatus

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
EXTENSION = "assistant.metrics"
# Redis keys: one hash per counter, a field per set of label values.
KEY_PREFIX = "assistant:metrics:"
FIELD_SEPARATOR = " "
UNMATCHED = "unmatched"  # no route matched (a 404 or a 405): the path itself is never kept
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# What a label value may be; anything else (a future bug) is counted as "other".
SAFE_LABEL = re.compile(r"[A-Za-z0-9_.\-]{1,80}")
# A store that stops answering: each request waits for it at most STORE_TIMEOUT seconds, then
# none does for PAUSE_AFTER_FAILURE seconds (those figures are lost); logged at most every
# WARN_EVERY seconds, never once per request.
STORE_TIMEOUT = 1.0
PAUSE_AFTER_FAILURE = 5.0
WARN_EVERY = 60.0


@dataclass(frozen=True)
class Family:
    name: str
    kind: str  # "counter" or "gauge"
    help: str
    labels: tuple[str, ...] = ()


HTTP_REQUESTS = Family(
    "assistant_http_requests_total",
    "counter",
    "HTTP requests answered, by route (the endpoint's name, never the path), method and status.",
    ("route", "method", "status"),
)
REQUESTS_FILED = Family(
    "assistant_requests_filed_total",
    "counter",
    "Removal requests filed (cases created), by who filed them.",
    ("filed_by",),
)
PLACES_FILED = Family(
    "assistant_places_filed_total",
    "counter",
    "Places filed: with a new request, or added to a request filed before.",
    ("filing",),
)
COUNTERS = (HTTP_REQUESTS, REQUESTS_FILED, PLACES_FILED)

OUTBOX_ITEMS = Family(
    "assistant_outbox_items",
    "gauge",
    "Deliveries in the outbox (webhooks and e-mails to hotlines, notices to providers), by state.",
    ("state",),
)
OUTBOX_DUE = Family(
    "assistant_outbox_due",
    "gauge",
    "Pending deliveries whose time has come: what the next delivery pass takes.",
)
OUTBOX_RETRYING = Family(
    "assistant_outbox_retrying",
    "gauge",
    "Pending deliveries that failed at least once and wait for a retry.",
)
CHASE_SCHEDULED = Family(
    "assistant_chase_scheduled",
    "gauge",
    "Notices to providers the chase will look at again (a reminder or an escalation).",
)
CHASE_DUE = Family(
    "assistant_chase_due",
    "gauge",
    "Notices whose next reminder or escalation is due: what the next chase pass takes.",
)
DATABASE_UP = Family(
    "assistant_database_up", "gauge", "1 if the database answered the queries for these figures."
)
STORE_UP = Family("assistant_counter_store_up", "gauge", "1 if the store of the counters answered.")

LabelValues = tuple[str, ...]
Counts = Mapping[tuple[str, LabelValues], int]  # (family name, label values) -> amount


def label_value(value: object) -> str:
    text = str(value)
    return text if SAFE_LABEL.fullmatch(text) else "other"


# --- where the counters are kept ---


class CounterBackend(Protocol):
    shared: bool

    def add(self, counts: Counts) -> None: ...

    def read(self) -> dict[str, dict[LabelValues, int]]: ...


class RedisCounters:
    """Counters in the rate limits' Redis: ``HINCRBY`` to add (atomic, so every worker's
    additions land), ``HGETALL`` to read. Bounded by the labels' values; nothing expires, as
    counters never go down."""

    shared = True

    def __init__(self, connection: Any) -> None:
        self._redis = connection

    def add(self, counts: Counts) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for (family, labels), amount in counts.items():
            pipe.hincrby(KEY_PREFIX + family, FIELD_SEPARATOR.join(labels), amount)
        pipe.execute()

    def read(self) -> dict[str, dict[LabelValues, int]]:
        pipe = self._redis.pipeline(transaction=False)
        for family in COUNTERS:
            pipe.hgetall(KEY_PREFIX + family.name)
        found: dict[str, dict[LabelValues, int]] = {}
        for family, fields in zip(COUNTERS, pipe.execute(), strict=True):
            found[family.name] = {
                tuple(_text(key).split(FIELD_SEPARATOR)): int(value)
                for key, value in fields.items()
            }
        return found


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


class ProcessCounters:
    """Counters in this process's memory, for ``memory://``: one process's own figures."""

    shared = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, Counter[LabelValues]] = {}

    def add(self, counts: Counts) -> None:
        with self._lock:
            for (family, labels), amount in counts.items():
                self._counts.setdefault(family, Counter())[labels] += amount

    def read(self) -> dict[str, dict[LabelValues, int]]:
        with self._lock:
            return {family: dict(counts) for family, counts in self._counts.items()}


def backend_for(storage_url: str) -> CounterBackend:
    """Redis (any form the rate limits take: plain, TLS, socket, sentinel, cluster) when the
    rate limits use it; else this process's memory."""
    scheme = storage_url.partition("://")[0].lower()
    if scheme.split("+")[0] not in ("redis", "rediss", "valkey", "valkeys"):
        return ProcessCounters()
    storage = storage_from_string(
        storage_url, socket_timeout=STORE_TIMEOUT, socket_connect_timeout=STORE_TIMEOUT
    )
    if not isinstance(storage, RedisStorage):
        return ProcessCounters()
    return RedisCounters(storage.get_connection())


class Counters:
    """The counters of one app. Adding never fails a request: a store that does not answer costs
    the figure, not the survivor's filing, and is logged by the error's type alone."""

    def __init__(self, backend: CounterBackend) -> None:
        self.backend = backend
        self._failed_at = -PAUSE_AFTER_FAILURE
        self._warned_at = -WARN_EVERY

    @property
    def shared(self) -> bool:
        return self.backend.shared

    def add(self, counts: Counts) -> None:
        if not counts or time.monotonic() - self._failed_at < PAUSE_AFTER_FAILURE:
            return
        try:
            self.backend.add(counts)
        except Exception as exc:
            moment = self._failed_at = time.monotonic()
            if moment - self._warned_at >= WARN_EVERY:
                self._warned_at = moment
                log.warning("counters not kept: the store does not answer (%s)", type(exc).__name__)

    def read(self) -> dict[str, dict[LabelValues, int]]:
        return self.backend.read()


def counters_of(app: Flask) -> Counters:
    found: Counters = app.extensions[EXTENSION]
    return found


# --- counting ---


def init_metrics(app: Flask) -> None:
    """Count every answer by route and status, and every request and place filed (once the
    transaction that files it commits), in the store of the rate limits."""
    settings = app.extensions["assistant.services"].settings
    counters = Counters(backend_for(settings.ratelimit_storage_url))
    app.extensions[EXTENSION] = counters

    def count_answer(_sender: Flask, response: Response, **_extra: Any) -> None:
        method = request.method if request.method in METHODS else "OTHER"
        route = label_value(request.endpoint) if request.endpoint else UNMATCHED
        counters.add({(HTTP_REQUESTS.name, (route, method, str(response.status_code))): 1})

    # Sent with the final answer (after the error handlers and the session are done); held
    # strongly, as the app holds it.
    request_finished.connect(count_answer, app, weak=False)
    _count_filings(app.extensions["assistant.sessionmaker"], counters)


# Per session, for the transaction under way: what it filed, and the cases it created.
_TALLY = "assistant.metrics.tally"
_NEW_CASES = "assistant.metrics.new_cases"


def _count_filings(sessions: sessionmaker[Session], counters: Counters) -> None:
    """Requests and places are counted from what the database writes, whichever way they came
    (the web form, the API, an advocate), and only when the transaction commits: a refused or
    rolled-back filing counts nothing."""

    @event.listens_for(sessions, "after_flush")
    def _tally(session: Session, _context: Any) -> None:
        written = list(session.new)  # still what this flush wrote, with their ids now
        tally: Counter[tuple[str, LabelValues]] = session.info.setdefault(_TALLY, Counter())
        new_cases: set[int] = session.info.setdefault(_NEW_CASES, set())
        for row in written:
            if isinstance(row, Case):
                new_cases.add(row.id)
                tally[(REQUESTS_FILED.name, (label_value(row.filed_by),))] += 1
        for row in written:
            if isinstance(row, Location):
                filing = "new_request" if row.case_id in new_cases else "added"
                tally[(PLACES_FILED.name, (filing,))] += 1

    @event.listens_for(sessions, "after_commit")
    def _publish(session: Session) -> None:
        tally = session.info.pop(_TALLY, None)
        session.info.pop(_NEW_CASES, None)
        if tally:
            counters.add(tally)

    @event.listens_for(sessions, "after_transaction_end")
    def _forget(session: Session, transaction: SessionTransaction) -> None:
        # Rolled back or closed without a commit: what it would have filed was never filed.
        if transaction.parent is None:
            session.info.pop(_TALLY, None)
            session.info.pop(_NEW_CASES, None)


# --- reading the database ---


@dataclass(frozen=True)
class QueueFigures:
    outbox_by_state: dict[str, int]
    outbox_due: int
    outbox_retrying: int
    chase_scheduled: int
    chase_due: int


def queue_figures(db: Session, now: dt.datetime) -> QueueFigures:
    """Two aggregate queries, nothing per row: the outbox by state (with how many of the pending
    are due and how many failed before), and the chase's notices."""
    pending = OutboxItem.status == OutboxStatus.PENDING
    outbox = db.execute(
        select(
            OutboxItem.status,
            func.count(),
            func.sum(sql_case((pending & (OutboxItem.next_attempt_at <= now), 1), else_=0)),
            func.sum(sql_case((pending & (OutboxItem.attempts > 0), 1), else_=0)),
        ).group_by(OutboxItem.status)
    ).all()
    by_state = {str(state): 0 for state in OutboxStatus}
    due = retrying = 0
    for state, count, due_here, retrying_here in outbox:
        by_state[label_value(state)] = by_state.get(label_value(state), 0) + int(count)
        due += int(due_here or 0)
        retrying += int(retrying_here or 0)
    scheduled, chase_due = db.execute(
        select(
            func.count(NoticeLetter.next_chase_at),
            func.sum(sql_case((NoticeLetter.next_chase_at <= now, 1), else_=0)),
        )
    ).one()
    db.rollback()
    return QueueFigures(by_state, due, retrying, int(scheduled or 0), int(chase_due or 0))


# --- the exposition ---


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _family(family: Family, samples: Iterable[tuple[LabelValues, int]]) -> list[str]:
    lines = [f"# HELP {family.name} {family.help}", f"# TYPE {family.name} {family.kind}"]
    for values, amount in sorted(samples):
        labels = ",".join(
            f'{name}="{_escape(value)}"' for name, value in zip(family.labels, values, strict=True)
        )
        lines.append(f"{family.name}{{{labels}}} {amount}" if labels else f"{family.name} {amount}")
    return lines


def exposition(app: Flask, *, now: dt.datetime | None = None) -> str:
    """Every figure, as Prometheus's text format (version 0.0.4). Needs no request: the
    counters come from the store, the gauges from a session of the app's own."""
    moment = now or utcnow()
    counters = counters_of(app)
    lines: list[str] = []
    try:
        counted: dict[str, dict[LabelValues, int]] | None = counters.read()
    except Exception as exc:
        log.warning("figures: the counters' store does not answer (%s)", type(exc).__name__)
        counted = None
    if not counters.shared:
        lines.append(
            "# The counters below are this process's own (memory:// storage): set "
            "ASSISTANT_RATELIMIT_STORAGE_URL to the web processes' Redis to see theirs."
        )
    for family in COUNTERS:
        found = (counted or {}).get(family.name, {})
        samples = [(values, n) for values, n in found.items() if len(values) == len(family.labels)]
        lines += _family(family, samples)
    lines += _family(STORE_UP, [((), int(counted is not None))])
    try:
        with Database.new_session(app) as db:
            queues: QueueFigures | None = queue_figures(db, moment)
    except Exception as exc:
        log.warning("figures: the database does not answer (%s)", type(exc).__name__)
        queues = None
    if queues is not None:
        states = [((state,), n) for state, n in queues.outbox_by_state.items()]
        lines += _family(OUTBOX_ITEMS, states)
        lines += _family(OUTBOX_DUE, [((), queues.outbox_due)])
        lines += _family(OUTBOX_RETRYING, [((), queues.outbox_retrying)])
        lines += _family(CHASE_SCHEDULED, [((), queues.chase_scheduled)])
        lines += _family(CHASE_DUE, [((), queues.chase_due)])
    lines += _family(DATABASE_UP, [((), int(queues is not None))])
    return "\n".join(lines) + "\n"


# --- the exporter ---


def exporter(app: Flask, *, clock: Callable[[], dt.datetime] = utcnow) -> WSGIApplication:
    """A WSGI app of its own, apart from the public one: ``GET /metrics`` and nothing else."""

    @PlainRequest.application
    def figures(asked: PlainRequest) -> PlainResponse:
        if asked.path != "/metrics":
            return PlainResponse("Not found: the figures are at /metrics\n", 404)
        if asked.method not in ("GET", "HEAD"):
            return PlainResponse("Method not allowed\n", 405, headers={"Allow": "GET, HEAD"})
        return PlainResponse(
            exposition(app, now=clock()),
            content_type=CONTENT_TYPE,
            headers={"Cache-Control": "no-store"},
        )

    wsgi: WSGIApplication = figures
    return wsgi


def parse_bind(value: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9464`` for IPv6) into its parts; ValueError if it is not one."""
    host, separator, port = value.strip().rpartition(":")
    if not separator or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("expected host:port, e.g. 127.0.0.1:9464")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)
