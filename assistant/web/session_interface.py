"""Flask sessions kept on the server: the cookie carries only a signed random id.

Answers between the steps of a request and the signed-in case live in the database, sealed; nothing
a person typed ever sits in a cookie the browser (or someone holding the phone) can read.

A visitor who only reads writes nothing: while a session holds no more than a form's CSRF secret
and the language chosen, it lives in a signed cookie of its own and no row is made. The first
answer typed (or a sign-in) moves it to the database, and that cookie goes. A signed-in person who
only reads writes their row at most once a minute, to push its idle expiry forward (see
:func:`assistant.sessions.refresh_session`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask import Request
from flask import Response
from flask import request as current_request
from flask import session as current_session
from flask.sessions import SessionInterface
from flask.sessions import SessionMixin
from itsdangerous import BadSignature
from itsdangerous import Signer
from itsdangerous import URLSafeSerializer
from sqlalchemy.orm import Session
from werkzeug.datastructures import CallbackDict

from ..extensions import STORAGE_OUTAGES
from ..extensions import Database
from ..extensions import db as request_db
from ..models import utcnow
from ..services import Services
from ..sessions import end_session
from ..sessions import load_session
from ..sessions import new_session_id
from ..sessions import purge_expired_sessions
from ..sessions import refresh_session
from ..sessions import save_session

COOKIE_NAME = "rra_session"
# Where open_session leaves a database outage for the app to answer with 503.
OUTAGE_KEY = "assistant.storage_outage"
# A reader's session: only these keys, signed, in a cookie; nothing on the server.
VISIT_COOKIE_NAME = "rra_visit"
# Over HTTPS (always in production) both names take the __Host- prefix: the browser then keeps
# them only when they were set by this exact host, over HTTPS, for every path, so a sibling
# subdomain or a plain-HTTP man in the middle cannot plant a session (session fixation).
SECURE_PREFIX = "__Host-"
VISIT_KEYS = frozenset({"csrf_token", "lang"})
KIND = "web"
# The API authenticates with bearer tokens: it neither reads nor sets the session cookie.
STATELESS_PREFIX = "/api/"
# The longest a session lasts, however active.
LONGEST = dt.timedelta(hours=8)


class ServerSession(CallbackDict[str, Any], SessionMixin):
    def __init__(
        self,
        initial: dict[str, Any] | None = None,
        raw_id: str | None = None,
        *,
        persist: bool = True,
    ) -> None:
        def on_update(_self: Any) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.raw_id = raw_id
        self.modified = False
        self.regenerate = False
        self.persist = persist
        # The row's expiries as loaded: whether its idle expiry is due to be pushed forward.
        self.expires_at: dt.datetime | None = None
        self.ends_at: dt.datetime | None = None
        # The signed-in case read with it, held for the request (the database session keeps
        # it only while something does): the page's own look-up of it costs no statement.
        self.case: Any = None

    def renew(self) -> None:
        """Take a new id (at sign-in), so an id seen before sign-in is worthless after it."""
        self.regenerate = True
        self.modified = True


class ServerSessionInterface(SessionInterface):
    def __init__(self, services: Services, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.services = services
        # "Now" for expiries (naive UTC); tests move it.
        self.clock = clock

    def cookie_name(self, name: str) -> str:
        return SECURE_PREFIX + name if self.services.settings.secure_cookies else name

    def _signer(self, app: Flask) -> Signer:
        return Signer(str(app.secret_key), salt="rra-session-cookie")

    def _visit_serializer(self, app: Flask) -> URLSafeSerializer:
        return URLSafeSerializer(str(app.secret_key), salt="rra-visit-cookie")

    def _visit(self, app: Flask, request: Request) -> dict[str, Any]:
        """What a reader's cookie holds (the CSRF secret, the language), or nothing."""
        cookie = request.cookies.get(self.cookie_name(VISIT_COOKIE_NAME))
        if not cookie:
            return {}
        try:
            loaded = self._visit_serializer(app).loads(cookie)
        except BadSignature:
            return {}
        if not isinstance(loaded, dict):
            return {}
        return {k: v for k, v in loaded.items() if k in VISIT_KEYS and isinstance(v, str)}

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        if request.path.startswith(STATELESS_PREFIX):
            return ServerSession(persist=False)
        cookie = request.cookies.get(self.cookie_name(COOKIE_NAME))
        if not cookie:
            return ServerSession(self._visit(app, request))
        try:
            raw_id = self._signer(app).unsign(cookie).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return ServerSession(self._visit(app, request))
        # Read in the request's own database session (the app context is there already): the
        # page's queries go on in the same connection and transaction.
        db = request_db.session
        try:
            loaded = load_session(db, self.services.cipher, raw_id, KIND, now=self.clock())
        except STORAGE_OUTAGES as outage:
            # Refused by a before-request handler, with a session to render the page with.
            db.rollback()
            request.environ[OUTAGE_KEY] = outage
            return ServerSession(persist=False)
        if loaded is None:
            return ServerSession(self._visit(app, request))
        session = ServerSession(loaded.data, raw_id)
        session.expires_at, session.ends_at = loaded.record.expires_at, loaded.record.ends_at
        session.case = loaded.case
        return session

    def _idle(self, session: ServerSession) -> dt.timedelta:
        settings = self.services.settings
        if "account_id" in session:
            return dt.timedelta(minutes=settings.account_idle_minutes)
        minutes = (
            settings.survivor_idle_minutes
            if "case_id" in session
            else (settings.draft_idle_minutes)
        )
        return dt.timedelta(minutes=minutes)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        if not session.persist:
            return
        secure = self.services.settings.secure_cookies
        had_visit = self.cookie_name(VISIT_COOKIE_NAME) in current_request.cookies
        if session.raw_id is None and set(session) <= VISIT_KEYS:
            # A reader: a signed cookie, no row (and none when there is nothing to keep).
            if not session:
                if had_visit:
                    response.delete_cookie(
                        self.cookie_name(VISIT_COOKIE_NAME), path="/", secure=secure
                    )
            elif session.modified or not had_visit:
                visit = self._visit_serializer(app).dumps(dict(session))
                self._set_cookie(response, VISIT_COOKIE_NAME, visit)
            return
        if had_visit:
            response.delete_cookie(self.cookie_name(VISIT_COOKIE_NAME), path="/", secure=secure)
        now = self.clock()
        if session.raw_id and session and not session.modified:
            # Only read: the row is written when its idle expiry is due to move (once a minute
            # at most), and the cookie, which has not changed, is not sent again.
            assert session.expires_at is not None and session.ends_at is not None
            with Database.new_session(app) as db:
                live = refresh_session(
                    db,
                    session.raw_id,
                    expires_at=session.expires_at,
                    ends_at=session.ends_at,
                    idle=self._idle(session),
                    now=now,
                )
            if not live:
                response.delete_cookie(
                    self.cookie_name(COOKIE_NAME), path="/", secure=secure, httponly=True
                )
            response.vary.add("Cookie")
            return
        with _writing_session(app) as db:
            if session.raw_id and (session.regenerate or not session):
                end_session(db, session.raw_id)
                if not session:
                    response.delete_cookie(
                        self.cookie_name(COOKIE_NAME), path="/", secure=secure, httponly=True
                    )
                    return
                session.raw_id = None
            if not session:
                return
            created = session.raw_id is None
            if session.raw_id is None:
                session.raw_id = new_session_id()
                # Expired sessions (abandoned drafts among them) go whenever a new one starts,
                # as well as on `assistant purge`: an indexed delete, cheap enough to do here,
                # committed with the new session (one write to the disk, not two).
                purge_expired_sessions(db, batches=1, now=now, commit=False)
            saved = save_session(
                db,
                self.services.cipher,
                session.raw_id,
                KIND,
                dict(session),
                idle=self._idle(session),
                longest=LONGEST,
                case_id=session.get("case_id"),
                account_id=session.get("account_id"),
                create=created,
                now=now,
            )
            if not saved:
                response.delete_cookie(
                    self.cookie_name(COOKIE_NAME), path="/", secure=secure, httponly=True
                )
                return
        signed = self._signer(app).sign(session.raw_id.encode("ascii")).decode("ascii")
        self._set_cookie(response, COOKIE_NAME, signed)

    def _set_cookie(self, response: Response, name: str, value: str) -> None:
        """Either cookie: for this host only, never read by scripts, not sent cross-site."""
        response.set_cookie(
            self.cookie_name(name),
            value,
            httponly=True,
            secure=self.services.settings.secure_cookies,
            samesite="Lax",
            path="/",
        )
        response.vary.add("Cookie")


@contextmanager
def _writing_session(app: Flask) -> Iterator[Session]:
    """Where a session's row is written: the request's own database session when it is idle
    (the view committed its work and has nothing pending: a sign-in), which saves taking a second
    connection; otherwise one of its own, so that nothing the view left unwritten is ever
    committed with the session."""
    current = request_db.session
    if not current.in_transaction() and not (current.new or current.dirty or current.deleted):
        yield current
        return
    with Database.new_session(app) as db:
        yield db


def session_clock(app: Flask) -> Callable[[], dt.datetime]:
    """The app's "now" for every session's expiries, the API's tokens included."""
    interface = app.session_interface
    return interface.clock if isinstance(interface, ServerSessionInterface) else utcnow


def start_signed_in_session(**values: int) -> None:
    """A new session id for someone who just signed in (or whose old sessions all ended), with
    only ``values`` and the language they chose carried over: nothing from before follows them."""
    language = current_session.get("lang")
    current_session.clear()
    current_session.renew()  # type: ignore[attr-defined]
    current_session.update(values)
    if language:
        current_session["lang"] = language
