"""A body sent without a length (``Transfer-Encoding: chunked``) held to the same limit as one
with a length: read up to the limit before the app sees it, and refused with 413 beyond it.

Werkzeug caps such a stream at ``MAX_CONTENT_LENGTH`` by cutting it short, which the app would
then read as a malformed body (400); and a chunked body bypasses any check made on
``Content-Length``. This middleware gives both kinds of body the same answer.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from flask import abort
from flask import request

TOO_LARGE_KEY = "assistant.body_too_large"
_READ = 64 * 1024


class BoundedBody:
    """WSGI middleware: a body without Content-Length is read (at most ``limit`` + 1 bytes) and
    handed on with its length, or marked too large for :func:`refuse_too_large`."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if (
            not environ.get("CONTENT_LENGTH")
            and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        ):
            stream = environ["wsgi.input"]
            body = bytearray()
            while len(body) <= self.limit:
                piece = stream.read(min(_READ, self.limit + 1 - len(body)))
                if not piece:
                    break
                body += piece
            if len(body) > self.limit:
                environ[TOO_LARGE_KEY] = True
                body = bytearray()
            environ["wsgi.input"] = io.BytesIO(bytes(body))
            # From here on the app sees a body with a length, no longer a chunked one.
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            environ.pop("wsgi.input_terminated", None)
        return self.app(environ, start_response)  # type: ignore[no-any-return]


def refuse_too_large() -> None:
    """Before anything reads the form or the JSON: 413 for a body the middleware refused."""
    if request.environ.get(TOO_LARGE_KEY):
        abort(413)
