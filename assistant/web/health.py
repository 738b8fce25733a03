"""Health for operators and their orchestrators (DESIGN section 7): ``GET /healthz`` says the
process answers; ``GET /readyz`` says the database and the rate-limit store answer too. Neither
says anything more (no version, no host, no error): a 503 means "not now", with ``Retry-After``.
They read no session and write nothing."""

from __future__ import annotations

import logging

from flask import Blueprint
from flask import Response
from flask import jsonify
from sqlalchemy import text

from ..extensions import current_services
from ..extensions import db
from ..extensions import limiter
from .access import public

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)
RETRY_AFTER = "5"


@bp.get("/healthz")
@limiter.exempt
@public
def healthz() -> Response:
    """The process is up and answers."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@limiter.exempt
@public
def readyz() -> Response:
    """Ready to serve: the database answers a query, and the rate-limit store (memory or Redis)
    answers a check. Which one failed goes to the log, never to the caller."""
    ready = True
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception as exc:  # any failure means "not ready"; the reason is the log's
        log.warning("not ready: the database (%s)", type(exc).__name__)
        ready = False
    try:
        # The app's own store (the one receipts' tries are counted in), whatever the limiter of
        # another app in the same process was last set up with.
        if not current_services().receipt_tries.store_answers():
            log.warning("not ready: the rate-limit store does not answer")
            ready = False
    except Exception as exc:
        log.warning("not ready: the rate-limit store (%s)", type(exc).__name__)
        ready = False
    response = jsonify({"status": "ready" if ready else "unavailable"})
    if not ready:
        response.status_code = 503
        response.headers["Retry-After"] = RETRY_AFTER
    return response
