"""Extensions, created here and wired to the app only in :func:`assistant.create_app`."""

from __future__ import annotations

from typing import Any

import sqlalchemy.exc
from flask import Flask
from flask import current_app
from flask import g
from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from .services import Services

csrf = CSRFProtect()

# A database or rate-limit store that does not answer: the request is refused with 503, to be tried
# again, rather than failed with 500 (OperationalError covers a refused connection, a server gone
# mid-statement and SQLite's "database is locked").
_OUTAGES: list[type[BaseException]] = [
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
]
try:
    import redis.exceptions

    _OUTAGES += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
except ImportError:  # pragma: no cover (Redis is optional)
    pass
STORAGE_OUTAGES = tuple(_OUTAGES)


def rate_limit_key() -> str:
    """A keyed hash of the client's address: the limiter's storage never holds the address."""
    address = request.remote_addr or "unknown"
    return current_services().keyed_hasher.digest(address, "rate-limit")[:32]


limiter = Limiter(rate_limit_key)


def receipt_limit() -> str:
    """Tries of a receipt (web and API): each costs an Argon2 hash."""
    return current_services().settings.ratelimit_receipt


def filing_limit() -> str:
    """New requests and added places: against floods of false reports. Only what was filed
    counts (:func:`note_filed`); refusals have their own, more generous limit."""
    return current_services().settings.ratelimit_filing


def refused_filing_limit() -> str:
    """Filings refused (a typo, a place already listed): someone correcting their answers must
    not use up the quota of what they file, but an endless stream of refusals is still slowed."""
    return current_services().settings.ratelimit_refused_filing


def note_filed() -> None:
    """This request filed something (a request, or places added): it keeps its place in the
    filing quota; a request that filed nothing gives it back and counts as a refusal (see
    assistant.web.quota)."""
    g.filed = True


def advocate_filing_limit() -> str:
    """Requests an advocate files, counted per account."""
    return current_services().settings.ratelimit_advocate_filing


def provider_limit() -> str:
    """A provider's answers through a response link."""
    return current_services().settings.ratelimit_provider


def lookup_limit() -> str:
    """Dry runs and other work that stores nothing."""
    return current_services().settings.ratelimit_lookup


babel = Babel()


def make_engine(url: str) -> Engine:
    # hide_parameters: an error message must never carry a value into the logs.
    engine = create_engine(url, hide_parameters=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

    return engine


class Database:
    """One engine per app; one session per app context, closed when the context ends."""

    def init_app(self, app: Flask, url: str) -> None:
        engine = make_engine(url)
        app.extensions["assistant.engine"] = engine
        app.extensions["assistant.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
        app.teardown_appcontext(self._close)

    @staticmethod
    def engine(app: Flask) -> Engine:
        engine: Engine = app.extensions["assistant.engine"]
        return engine

    @staticmethod
    def new_session(app: Flask) -> Session:
        factory: sessionmaker[Session] = app.extensions["assistant.sessionmaker"]
        return factory()

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = self.new_session(current_app)
        session: Session = g.db_session
        return session

    @staticmethod
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()


db = Database()


def current_services() -> Services:
    """The services of the running app (see :func:`assistant.services.build_services`)."""
    found: Services = current_app.extensions["assistant.services"]
    return found
