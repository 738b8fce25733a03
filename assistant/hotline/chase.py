"""The chase: notices are repeated until the material is gone (DESIGN section 6b).

:func:`chase_once` is one pass (``assistant chase``; :func:`run_forever` for ``--loop``). Every
notice whose time has come (``next_chase_at``, one index range, so a pass with nothing due costs
the same whatever the number of notices) is looked at:

- its places still waiting for a final answer and still chased get a **reminder**, the hotline's
  pace after the last one (24 hours unless the hotline set another, sooner where a rule in the
  directory gives the provider less time), up to the hotline's limit (3 unless set);
- after the last reminder, the notice goes to the **upstream provider** the directory names (the
  hosting or network company), as a notice of its own that is chased in turn;
- with nobody upstream, the places are flagged to staff: "no answer: escalate by hand".

Every reminder and escalation is an event in the referral's timeline (the survivor sees "asked
again", "asked the company that hosts the site"), counts in the provider figures, and is sent
through the outbox. Nothing is ever fetched to check whether a place is still online.

Safe on several machines at once: due notices are read with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, every change to a notice is conditional on the round it was read at
(``chase_round``), each referral's version is checked as for any other action, and each sending
has an outbox key of its own (``notice-<id>-<reminder>``), unique in the database.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any
from typing import cast

from sqlalchemy import CursorResult
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ..models import NoticeLetter
from ..models import Referral
from ..models import utcnow
from ..vocabulary import ChaseState
from ..vocabulary import EventCode
from .notice_mail import ChaseSettings
from .notice_mail import chase_pace
from .notice_mail import chase_settings
from .notice_mail import chased_notices
from .notice_mail import load_letters
from .notice_mail import upstream_of
from .notices import _enqueue
from .notices import write_letter
from .provider_figures import count_chase
from .referrals import ActionRefused
from .referrals import Automatic
from .referrals import _Work
from .referrals import _work
from .referrals import referrals_for_staff

if TYPE_CHECKING:
    from ..services import Services

log = logging.getLogger(__name__)
CHASER = "chase"

Clock = Callable[[], dt.datetime]


@dataclass
class ChaseReport:
    reminded: int = 0
    escalated: int = 0
    flagged: int = 0
    finished: int = 0
    skipped: int = 0

    @property
    def handled(self) -> int:
        return self.reminded + self.escalated + self.flagged + self.finished


def _due(db: Session, moment: dt.datetime, batch: int) -> list[int]:
    due = (
        select(NoticeLetter.id)
        .where(NoticeLetter.next_chase_at <= moment)
        .order_by(NoticeLetter.next_chase_at, NoticeLetter.id)
        .limit(batch)
    )
    if db.get_bind().dialect.name == "postgresql":
        # Notices another chase process holds right now are passed over, not waited for.
        due = due.with_for_update(skip_locked=True, of=NoticeLetter)
    return list(db.scalars(due))


def _claim(db: Session, letter: NoticeLetter, moment: dt.datetime) -> bool:
    """Take the notice for this round; False when another process took it first."""
    result = db.execute(
        update(NoticeLetter)
        .where(
            NoticeLetter.id == letter.id,
            NoticeLetter.chase_round == letter.chase_round,
            NoticeLetter.next_chase_at <= moment,
        )
        .values(chase_round=NoticeLetter.chase_round + 1)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        return False
    db.expire(letter, ["chase_round"])
    return True


def chase_once(
    new_session: Callable[[], Session],
    services: Services,
    *,
    now: Clock = utcnow,
    batch: int = 200,
) -> ChaseReport:
    """One pass over every notice that is due: remind, escalate or flag each (see the module)."""
    report = ChaseReport()
    seen: set[int] = set()
    while True:
        with new_session() as db:
            moment = now()
            ids = [i for i in _due(db, moment, batch) if i not in seen]
            if not ids:
                return report
            seen.update(ids)
            try:
                _chase_batch(db, services, ids, moment, report)
            except (ActionRefused, IntegrityError, OperationalError):
                # Someone else changed one of these referrals or notices meanwhile: go one by
                # one, so only the notice that changed waits for the next pass.
                db.rollback()
                for letter_id in ids:
                    try:
                        _chase_batch(db, services, [letter_id], moment, report)
                    except (ActionRefused, IntegrityError, OperationalError):
                        db.rollback()
                        report.skipped += 1


def _chase_batch(
    db: Session, services: Services, ids: list[int], moment: dt.datetime, report: ChaseReport
) -> None:
    letters = load_letters(db, ids)
    referrals = {r.id: r for r in referrals_for_any(db, {letter.referral_id for letter in letters})}
    settings: dict[str, ChaseSettings] = {}
    counts = ChaseReport()
    with _work(db, Automatic("", CHASER)) as work:
        for letter in letters:
            if letter.next_chase_at is None or letter.next_chase_at > moment:
                continue
            if not _claim(db, letter, moment):
                counts.skipped += 1
                continue
            if letter.hotline_id not in settings:
                settings[letter.hotline_id] = chase_settings(db, letter.hotline_id)
            _chase_letter(
                work, services, letter, referrals, settings[letter.hotline_id], moment, counts
            )
    report.reminded += counts.reminded
    report.escalated += counts.escalated
    report.flagged += counts.flagged
    report.finished += counts.finished
    report.skipped += counts.skipped


def referrals_for_any(db: Session, referral_ids: set[int]) -> list[Referral]:
    """Referrals with everything the state machine reads, loaded in a few statements."""
    found: list[Referral] = []
    by_hotline: dict[str, list[int]] = {}
    for referral_id, hotline_id in db.execute(
        select(Referral.id, Referral.hotline_id).where(Referral.id.in_(referral_ids))
    ):
        by_hotline.setdefault(hotline_id, []).append(referral_id)
    for hotline_id, wanted in by_hotline.items():
        found += referrals_for_staff(db, Automatic(hotline_id, CHASER), wanted)
    return found


def _chase_letter(
    work: _Work,
    services: Services,
    letter: NoticeLetter,
    referrals: dict[int, Referral],
    settings: ChaseSettings,
    moment: dt.datetime,
    counts: ChaseReport,
) -> None:
    chased = chased_notices(letter)
    referral = referrals.get(letter.referral_id)
    if not chased or referral is None or referral.closed_reason:
        letter.next_chase_at = None
        counts.finished += 1
        return
    work.take(referral, None)
    directory = services.directory
    provider = directory.provider(letter.provider_id) if letter.provider_id else None
    if letter.reminders_sent < settings.reminder_limit:
        letter.reminders_sent += 1
        number = letter.reminders_sent
        letter.next_chase_at = moment + chase_pace(settings, provider)
        _enqueue(work.db, letter, number, moment)
        for notice in chased:
            work.event(
                referral, EventCode.NOTICE_REPEATED, location=notice.location, reminder=number
            )
        count_chase(work.db, letter.hotline_id, letter.provider, moment.date(), reminders=1)
        work.audit(referral, "notice.reminded", "notice_letter", letter.id)
        counts.reminded += 1
        return
    letter.next_chase_at = None
    upstream = upstream_of(directory, provider)
    if upstream is not None and upstream.notices is not None and not letter.escalation:
        write_letter(
            work,
            services,
            referral,
            [notice.location.id for notice in chased],
            provider=upstream,
            provider_name=upstream.name,
            recipient=upstream.notices.emails[0],
            notice_type=letter.notice_type,
            subtype=letter.subtype,
            moment=moment,
            escalated_from=letter,
        )
        count_chase(work.db, letter.hotline_id, letter.provider, moment.date(), escalations=1)
        counts.escalated += 1
        return
    for notice in chased:
        notice.chase = ChaseState.NO_ANSWER
        work.event(referral, EventCode.NO_ANSWER, location=notice.location, visible=False)
    work.audit(referral, "notice.no_answer", "notice_letter", letter.id)
    counts.flagged += 1


def run_forever(
    new_session: Callable[[], Session],
    services: Services,
    *,
    interval: float = 60.0,
    stop: threading.Event | None = None,
    now: Clock = utcnow,
) -> None:
    """Pass after pass until ``stop`` is set (``assistant chase --loop``); a failed pass (the
    database is away) is logged by the error's type and tried again."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            report = chase_once(new_session, services, now=now)
        except Exception as exc:
            log.error("a chase pass failed (%s)", type(exc).__name__)
            report = ChaseReport()
        if report.handled:
            log.info(
                "chase: %d reminded, %d escalated, %d flagged to staff, %d finished",
                report.reminded,
                report.escalated,
                report.flagged,
                report.finished,
            )
        stop.wait(interval)
