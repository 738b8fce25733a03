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
PostgreSQL and taken with one conditional UPDATE (still due: one that another process handled
since has its next look later, or none), each referral's version is checked as for any other
action, and each sending has an outbox key of its own (``notice-<id>-<reminder>``), unique in the
database. A batch is one transaction; if another writer got in its way, its notices are taken
again one by one.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload

from ..models import Location
from ..models import Notice
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
from .notices import enqueue_notice
from .notices import write_letter
from .provider_figures import count_chase
from .referrals import ActionRefused
from .referrals import Automatic
from .referrals import _Work
from .referrals import _work

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


def _claim(db: Session, letters: list[NoticeLetter], moment: dt.datetime) -> set[int]:
    """Take the notices still due for this round, in one statement; a notice another process
    handled since it was read (its next look is now later, or never) is left out."""
    if not letters:
        return set()
    return set(
        db.scalars(
            update(NoticeLetter)
            .where(
                NoticeLetter.id.in_([letter.id for letter in letters]),
                NoticeLetter.next_chase_at <= moment,
            )
            .values(chase_round=NoticeLetter.chase_round + 1)
            .returning(NoticeLetter.id)
            .execution_options(synchronize_session=False)
        )
    )


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
    # The referrals first, with their places and notices: the notices' places are then found
    # in the session by key.
    referral_ids = set(db.scalars(select(NoticeLetter.referral_id).where(NoticeLetter.id.in_(ids))))
    referrals = {r.id: r for r in referrals_for_chase(db, referral_ids)}
    letters = load_letters(db, ids, with_places=False)
    settings: dict[str, ChaseSettings] = {}
    counts = ChaseReport()
    # The provider figures, added once per batch (a row per provider and month, not per notice).
    figures: Counter[tuple[str, str, str]] = Counter()
    with _work(db, Automatic("", CHASER), bulk=True) as work, db.no_autoflush:
        due = [
            letter
            for letter in letters
            if letter.next_chase_at is not None and letter.next_chase_at <= moment
        ]
        claimed = _claim(db, due, moment)
        counts.skipped += len(due) - len(claimed)
        for letter in due:
            if letter.id not in claimed:
                continue
            if letter.hotline_id not in settings:
                settings[letter.hotline_id] = chase_settings(db, letter.hotline_id)
            outcome = _chase_letter(
                work, services, letter, referrals, settings[letter.hotline_id], moment, counts
            )
            if outcome:
                figures[(letter.hotline_id, letter.provider, outcome)] += 1
        for (hotline_id, provider, outcome), number in figures.items():
            count_chase(db, hotline_id, provider, moment.date(), **{outcome: number})
    report.reminded += counts.reminded
    report.escalated += counts.escalated
    report.flagged += counts.flagged
    report.finished += counts.finished
    report.skipped += counts.skipped


def referrals_for_chase(db: Session, referral_ids: set[int]) -> list[Referral]:
    """Referrals with what the chase reads and changes (places, their notices and the notices'
    letters), in a few statements; not the case or the timeline, which the chase only adds to."""
    return list(
        db.scalars(
            select(Referral)
            .where(Referral.id.in_(referral_ids))
            .options(
                selectinload(Referral.locations)
                .selectinload(Location.notices)
                .joinedload(Notice.letter)
            )
        )
    )


def _chase_letter(
    work: _Work,
    services: Services,
    letter: NoticeLetter,
    referrals: dict[int, Referral],
    settings: ChaseSettings,
    moment: dt.datetime,
    counts: ChaseReport,
) -> str | None:
    """Remind, escalate or flag one notice; says what the provider figures count ("reminders"
    or "escalations"), if anything."""
    chased = chased_notices(letter)
    referral = referrals.get(letter.referral_id)
    if not chased or referral is None or referral.closed_reason:
        letter.next_chase_at = None
        counts.finished += 1
        return None
    if referral.id not in work.touched:
        work.take(referral, None)
    directory = services.directory
    provider = directory.provider(letter.provider_id) if letter.provider_id else None
    if letter.reminders_sent < settings.reminder_limit:
        letter.reminders_sent += 1
        letter.last_sent_on = moment.date()
        number = letter.reminders_sent
        letter.next_chase_at = moment + chase_pace(settings, provider)
        enqueue_notice(work, letter, number, moment)
        for notice in chased:
            work.event(
                referral, EventCode.NOTICE_REPEATED, location=notice.location, reminder=number
            )
        work.audit(referral, "notice.reminded", "notice_letter", letter.id)
        counts.reminded += 1
        return "reminders"
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
        counts.escalated += 1
        return "escalations"
    for notice in chased:
        notice.chase = ChaseState.NO_ANSWER
        notice.chase_since = moment.date()
        work.event(referral, EventCode.NO_ANSWER, location=notice.location, visible=False)
    work.audit(referral, "notice.no_answer", "notice_letter", letter.id)
    counts.flagged += 1
    return None


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
