"""Flask sessions kept on the server: the cookie carries only a signed random id.

Answers between the steps of a request and the signed-in case live in the database, sealed; nothing
a person typed ever sits in a cookie the browser (or someone holding the phone) can read.

A visitor who only reads writes nothing: while a session holds no more than a form's CSRF secret
and the language chosen, it lives in a signed cookie of its own and no row is made. The first
answer typed (or a sign-in) moves it to the database, and that cookie goes.
"""

from __future__ import annotations

import datetime as dt
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
from werkzeug.datastructures import CallbackDict

from ..extensions import STORAGE_OUTAGES
from ..extensions import Database
from ..services import Services
from ..sessions import end_session
from ..sessions import load_session
from ..sessions import new_session_id
from ..sessions import purge_expired_sessions
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

    def renew(self) -> None:
        """Take a new id (at sign-in), so an id seen before sign-in is worthless after it."""
        self.regenerate = True
        self.modified = True


class ServerSessionInterface(SessionInterface):
    def __init__(self, services: Services) -> None:
        self.services = services

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
        try:
            with Database.new_session(app) as db:
                loaded = load_session(db, self.services.cipher, raw_id, KIND)
        except STORAGE_OUTAGES as outage:
            # Refused by a before-request handler, with a session to render the page with.
            request.environ[OUTAGE_KEY] = outage
            return ServerSession(persist=False)
        if loaded is None:
            return ServerSession(self._visit(app, request))
        return ServerSession(loaded.data, raw_id)

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
        with Database.new_session(app) as db:
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
                # as well as on `assistant purge`: an indexed delete, cheap enough to do here.
                purge_expired_sessions(db, batches=1)
            saved = save_session(
                db,
                self.services.cipher,
                session.raw_id,
                KIND,
                dict(session),
                idle=self._idle(session),
                longest=dt.timedelta(hours=8),
                case_id=session.get("case_id"),
                account_id=session.get("account_id"),
                create=created,
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


def start_signed_in_session(**values: int) -> None:
    """A new session id for someone who just signed in (or whose old sessions all ended), with
    only ``values`` and the language they chose carried over: nothing from before follows them."""
    language = current_session.get("lang")
    current_session.clear()
    current_session.renew()  # type: ignore[attr-defined]
    current_session.update(values)
    if language:
        current_session["lang"] = language
