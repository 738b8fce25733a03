"""Delivery to hotlines that use their own systems: the outbox and the worker.

Where each hotline is reached, and how a delivery leaves, is :mod:`assistant.hotline.channels`.
An outbox row is written in the same transaction as the referral it is about
(:func:`enqueue_delivery`); it holds no case content. :func:`deliver_once` is one pass of the
worker (``assistant deliver``; :func:`run_forever` for ``--loop``):

- it *claims* the items that are due with a conditional UPDATE (and, on PostgreSQL, ``SELECT ...
  FOR UPDATE SKIP LOCKED``), committed before anything is sent, so several workers never send the
  same item;
- an item whose referral no longer belongs to the item's hotline is ``cancelled``;
- webhook: an event (:class:`~assistant.vocabulary.WebhookEvent`) as compact UTF-8 JSON,
  ``{type, timestamp, delivery_id, data}``, built at send time and never stored: a new referral
  or added places carry the referral (:func:`assistant.hotline.reports.export_referral`), a
  survivor's message only the reporting reference, a withdrawal (an item with
  ``withdrawal_id``, which outlives the erased case) only the reference and the date. POSTed
  over verified HTTPS without following redirects, signed as Standard Webhooks says (see
  :mod:`assistant.hotline.channels`), with the item's key as ``webhook-id`` and
  ``Idempotency-Key``, the same on every retry;
- e-mail: one neutral message per hotline and pass saying how many referrals are waiting in the
  portal, sent over SMTP with STARTTLS required and the certificate verified;
- a new account of a hotline (an item with ``account_id``, written by
  :mod:`assistant.people.team` with the account), or a new API key (``api_key_id``, written by
  :mod:`assistant.hotline.api_keys`): one neutral message per hotline, kind and pass to the
  people :func:`assistant.people.team.notice_recipients` names, whatever the hotline's intake;
- a failure is retried with exponential backoff (30 s doubling, at most an hour apart) and
  recorded as a short code, never an answer's body; after 24 hours of failures the item is
  ``dead`` until an administrator retries it (:func:`dead_letters`, :func:`retry_dead_letter`).

Logs carry outbox ids, hotline ids and error codes only: never a payload, a reported location or
a case number.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import queue
import secrets
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING
from typing import Any
from typing import cast

from sqlalchemy import CursorResult
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from ..config import Settings
from ..config import supported_language
from ..models import OutboxItem
from ..models import Referral
from ..models import Withdrawal
from ..models import utcnow
from ..people import audit
from ..people.team import notice_recipients
from ..routing import Intake
from ..transactions import committed
from ..vocabulary import OutboxStatus
from ..vocabulary import WebhookEvent
from .channels import NETWORK_ERRORS
from .channels import DeliveryFailure
from .channels import Endpoint
from .channels import account_notice_email
from .channels import failure_code
from .channels import key_notice_email
from .channels import mail_domain
from .channels import notification_email
from .channels import post_webhook
from .channels import send_email
from .channels import smtp_connection
from .channels import tls_context
from .notice_mail import ChaseSettings
from .notice_mail import chase_settings
from .notice_mail import notice_message
from .notice_mail import outgoing_letters
from .reports import export_referral
from .reports import reporting_reference

if TYPE_CHECKING:
    from ..services import Services

log = logging.getLogger(__name__)

# Retries: 30 s, doubling, at most an hour apart, for 24 hours; then the item is dead.
FIRST_RETRY = dt.timedelta(seconds=30)
MAX_RETRY = dt.timedelta(hours=1)
RETRY_PERIOD = dt.timedelta(hours=24)
# A claim outlives the longest pass: a worker stops starting sends SEND_MARGIN before its claim
# ends, and every network operation times out after NETWORK_TIMEOUT seconds.
CLAIM_FOR = dt.timedelta(minutes=15)
SEND_MARGIN = dt.timedelta(minutes=3)


# What an e-mail hotline hears of: referrals waiting. Everything else is for a system's webhook.
EMAILED_EVENTS = frozenset({WebhookEvent.CREATED, WebhookEvent.PLACES_ADDED})


def enqueue_delivery(
    db: Session,
    endpoints: Mapping[str, Endpoint],
    referral: Referral,
    event: WebhookEvent = WebhookEvent.CREATED,
) -> None:
    """Add an outbox row for this referral if its hotline takes deliveries (in the caller's
    transaction, so the referral and its delivery are written together or not at all). A
    survivor's message reaches only a webhook; an e-mail hotline reads it in the portal."""
    endpoint = endpoints.get(referral.hotline_id)
    if endpoint is None:
        return
    if endpoint.channel != Intake.WEBHOOK and event not in EMAILED_EVENTS:
        return
    db.add(outbox_item(referral.hotline_id, endpoint.channel, referral=referral, event=event))


def enqueue_withdrawals(
    db: Session, endpoints: Mapping[str, Endpoint], withdrawals: Sequence[Withdrawal]
) -> None:
    """A ``referral.withdrawn`` webhook to each hotline system that received the referral. The
    row names the withdrawal (reference and date), not the case, so it outlives the erasure."""
    for withdrawal in withdrawals:
        endpoint = endpoints.get(withdrawal.hotline_id)
        if endpoint is None or endpoint.channel != Intake.WEBHOOK:
            continue
        db.add(
            outbox_item(
                withdrawal.hotline_id,
                endpoint.channel,
                withdrawal_id=withdrawal.id,
                event=WebhookEvent.WITHDRAWN,
            )
        )


def outbox_item(hotline_id: str, channel: str, **about: Any) -> OutboxItem:
    """A pending outbox row, due now, with a fresh idempotency key; ``about`` says what it is
    about (a referral, a withdrawal, a new API key ...)."""
    now = utcnow()
    return OutboxItem(
        hotline_id=hotline_id,
        channel=channel,
        status=OutboxStatus.PENDING,
        idempotency_key=secrets.token_hex(16),
        attempts=0,
        created_at=now,
        next_attempt_at=now,
        **about,
    )


# --- the worker ---


@dataclass(frozen=True)
class DeliveryReport:
    """What one pass did, in outbox items (an e-mail may stand for several)."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    cancelled: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.dead + self.cancelled


@dataclass(frozen=True)
class _Claimed:
    """A claimed item, read once so that nothing depends on the session after a commit."""

    id: int
    hotline_id: str
    referral_id: int | None
    referral_hotline_id: str | None
    idempotency_key: str
    attempts: int
    window_start: dt.datetime
    account_id: int | None = None  # a new account of the hotline, to announce
    letter_id: int | None = None  # a notice to a provider, or ``reminder`` number of it
    reminder: int = 0
    withdrawal_id: int | None = None  # a referral withdrawn: its reference, for the webhook
    api_key_id: int | None = None  # a new API key of the hotline, to announce
    event: WebhookEvent | None = None


Clock = Callable[[], dt.datetime]


def email_language(services: Services, hotline_id: str) -> str:
    """The hotline's first language, if the app speaks it; else the default language."""
    hotline = services.directory.get(hotline_id)
    for language in hotline.languages if hotline else ():
        spoken = supported_language(language)
        if spoken:
            return spoken
    return services.settings.default_language


# --- the worker ---


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(4)}"


def retry_delay(attempts: int) -> dt.timedelta:
    """30 s after the first failure, doubling, at most an hour; up to 10% later so that items
    that failed together do not all come back at the same second."""
    delay = min(FIRST_RETRY * (1 << min(max(attempts - 1, 0), 16)), MAX_RETRY)
    return delay * (1 + secrets.randbelow(101) / 1000)


class _Tally:
    def __init__(self) -> None:
        self.counts = {"sent": 0, "retried": 0, "dead": 0, "cancelled": 0}

    def add(self, outcomes: Iterable[str]) -> None:
        for outcome in outcomes:
            self.counts[outcome] += 1

    def report(self) -> DeliveryReport:
        return DeliveryReport(**self.counts)


def deliver_once(
    new_session: Callable[[], Session],
    services: Services,
    *,
    now: Clock = utcnow,
    worker_id: str | None = None,
    batch: int = 50,
    stop: threading.Event | None = None,
) -> DeliveryReport:
    """One pass: claim up to ``batch`` due items, send them, record what happened.

    The claim is committed before anything is sent, and every outcome is recorded only while the
    claim is still this worker's, so several workers never send the same item. A worker stops
    starting sends when ``stop`` is set or its claim is about to run out; what it did not reach
    is released for the next pass.
    """
    worker = (worker_id or new_worker_id())[:64]  # the width of claimed_by
    tally = _Tally()
    with new_session() as db:
        started = now()
        items = _claim(db, worker, started, batch)
        if not items:
            return tally.report()
        send_until = started + CLAIM_FOR - SEND_MARGIN
        # ``None``: the hotline's new accounts (or API keys), announced to its people whatever
        # its intake.
        jobs: list[tuple[Endpoint | None, list[_Claimed]]] = []
        by_email: dict[str, list[_Claimed]] = {}
        new_accounts: dict[tuple[str, bool], list[_Claimed]] = {}
        notices: list[_Claimed] = []
        for item in items:
            endpoint = services.endpoints.get(item.hotline_id)
            if item.letter_id is not None:
                notices.append(item)
            elif item.account_id is not None or item.api_key_id is not None:
                kind = (item.hotline_id, item.api_key_id is not None)
                new_accounts.setdefault(kind, []).append(item)
            elif item.withdrawal_id is not None:
                if endpoint is None or endpoint.channel != Intake.WEBHOOK:
                    tally.add(_record_failure(db, [item], "no_endpoint", worker, now()))
                else:
                    jobs.append((endpoint, [item]))
            elif item.referral_hotline_id != item.hotline_id:
                # Re-routed: the new hotline has an item of its own; this one must not see it.
                tally.add(_finish(db, [item], worker, status=OutboxStatus.CANCELLED))
            elif endpoint is None:
                # The hotline stopped taking deliveries; fixing the configuration revives it.
                tally.add(_record_failure(db, [item], "no_endpoint", worker, now()))
            elif endpoint.channel == Intake.WEBHOOK:
                jobs.append((endpoint, [item]))
            else:
                by_email.setdefault(item.hotline_id, []).append(item)
        jobs.extend((services.endpoints[hotline], group) for hotline, group in by_email.items())
        jobs.extend((None, group) for group in new_accounts.values())
        context = tls_context(services.settings) if jobs or notices else None
        if notices:
            assert context is not None
            tally.add(
                _deliver_notices(db, services, notices, context, worker, now, send_until, stop)
            )
        for index, (endpoint, group) in enumerate(jobs):
            if (stop is not None and stop.is_set()) or now() >= send_until:
                _release(db, [item for _e, rest in jobs[index:] for item in rest], worker)
                break
            assert context is not None
            if endpoint is None:
                tally.add(_deliver_account_notice(db, services, group, context, worker, now))
            elif endpoint.channel == Intake.WEBHOOK:
                tally.add(_deliver_webhook(db, services, endpoint, group[0], context, worker, now))
            else:
                tally.add(_deliver_email(db, services, endpoint, group, context, worker, now))
    return tally.report()


def _claim(db: Session, worker: str, moment: dt.datetime, batch: int) -> list[_Claimed]:
    unclaimed = or_(OutboxItem.claimed_until.is_(None), OutboxItem.claimed_until < moment)
    due = (
        select(OutboxItem.id)
        .where(
            OutboxItem.status == OutboxStatus.PENDING,
            OutboxItem.next_attempt_at <= moment,
            unclaimed,
        )
        .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
        .limit(batch)
    )
    if db.get_bind().dialect.name == "postgresql":
        # Rows another worker is claiming right now are passed over, not waited for.
        due = due.with_for_update(skip_locked=True)
    claimed: list[int] = []
    with committed(db):
        found = list(db.scalars(due))
        if found:
            # The conditions again, in one statement: on SQLite (no row locks) this UPDATE is
            # what decides.
            claimed = list(
                db.scalars(
                    update(OutboxItem)
                    .where(
                        OutboxItem.id.in_(found),
                        OutboxItem.status == OutboxStatus.PENDING,
                        unclaimed,
                    )
                    .values(claimed_by=worker, claimed_until=moment + CLAIM_FOR)
                    .returning(OutboxItem.id)
                    .execution_options(synchronize_session=False)
                )
            )
    if not claimed:
        return []
    rows = db.execute(
        select(
            OutboxItem.id,
            OutboxItem.hotline_id,
            OutboxItem.referral_id,
            Referral.hotline_id,
            OutboxItem.idempotency_key,
            OutboxItem.attempts,
            OutboxItem.created_at,
            OutboxItem.retry_from,
            OutboxItem.account_id,
            OutboxItem.letter_id,
            OutboxItem.reminder,
            OutboxItem.withdrawal_id,
            OutboxItem.api_key_id,
            OutboxItem.event,
        )
        .outerjoin(Referral, Referral.id == OutboxItem.referral_id)
        .where(OutboxItem.id.in_(claimed))
        .order_by(OutboxItem.id)
    ).all()
    db.rollback()
    return [
        _Claimed(
            item,
            hotline,
            referral,
            referral_hotline,
            key,
            attempts,
            retry_from or created,
            account,
            letter,
            reminder,
            withdrawal,
            api_key,
            event,
        )
        for (
            item,
            hotline,
            referral,
            referral_hotline,
            key,
            attempts,
            created,
            retry_from,
            account,
            letter,
            reminder,
            withdrawal,
            api_key,
            event,
        ) in rows
    ]


def _stable_message_id(message: EmailMessage, settings: Settings, live: list[_Claimed]) -> None:
    """The same Message-ID whenever the same items are sent again (a worker killed after the
    mail server took the message, before the row said so): the receiver can drop the repeat."""
    key = min(item.idempotency_key for item in live)
    message.replace_header("Message-ID", f"<{key}@{mail_domain(settings.smtp_from)}>")


def _deliver_account_notice(
    db: Session,
    services: Services,
    group: list[_Claimed],
    context: ssl.SSLContext,
    worker: str,
    now: Clock,
) -> list[str]:
    """One neutral e-mail for a hotline's new accounts, to the people it goes to at send time;
    nobody to tell (no active account in the hotline yet) leaves nothing to send."""
    live = _still_claimed(db, group, worker)
    if not live:
        return []
    hotline_id = live[0].hotline_id
    recipients = notice_recipients(db, hotline_id)
    db.rollback()
    if not recipients:
        return _finish(db, live, worker, status=OutboxStatus.CANCELLED)
    settings = services.settings
    try:
        language = email_language(services, hotline_id)
        if live[0].api_key_id is not None:
            message = key_notice_email(settings, len(live), language)
        else:
            message = account_notice_email(settings, len(live), language)
        _stable_message_id(message, settings, live)
        send_email(settings, message, recipients, context)
    except NETWORK_ERRORS as exc:
        return _record_failure(db, live, failure_code(exc), worker, now())
    return _finish(db, live, worker, status=OutboxStatus.SENT, moment=now())


def _deliver_webhook(
    db: Session,
    services: Services,
    endpoint: Endpoint,
    item: _Claimed,
    context: ssl.SSLContext,
    worker: str,
    now: Clock,
) -> list[str]:
    if item.withdrawal_id is not None:
        return _deliver_withdrawal(db, services, endpoint, item, context, worker, now)
    referral = db.get(Referral, item.referral_id) if item.referral_id is not None else None
    if referral is None:
        db.rollback()
        return []  # the case was erased since the claim; its outbox row went with it
    if referral.hotline_id != item.hotline_id or not referral.locations:
        # Every place was passed to another hotline since: that hotline gets its own item.
        db.rollback()
        return _finish(db, [item], worker, status=OutboxStatus.CANCELLED)
    case_id = referral.case_id
    event = item.event or WebhookEvent.CREATED
    try:
        data: dict[str, Any]
        if event == WebhookEvent.SURVIVOR_MESSAGE:
            # Only that there is one: the system reads it through the API (an audited view).
            data = {"reporting_reference": reporting_reference(referral)}
        else:
            data = export_referral(db, services, referral)
        data["version"] = referral.version
        body = webhook_body(event, now(), data, item.idempotency_key)
    except Exception as exc:  # one unreadable referral must not stop the others
        db.rollback()
        log.error(
            "outbox item %d: the referral could not be exported (%s)", item.id, type(exc).__name__
        )
        return _record_failure(db, [item], "export_failed", worker, now())
    db.rollback()  # end the read: no transaction stays open while the network is slow
    return _post(db, services, endpoint, item, body, context, worker, now, delivered_case=case_id)


def _post(
    db: Session,
    services: Services,
    endpoint: Endpoint,
    item: _Claimed,
    body: bytes,
    context: ssl.SSLContext,
    worker: str,
    now: Clock,
    *,
    delivered_case: int | None = None,
) -> list[str]:
    """POST one webhook and record how it went."""
    try:
        post_webhook(
            endpoint,
            body,
            item.idempotency_key,
            now(),
            context,
            legacy_signature=services.settings.webhook_legacy_signature,
        )
    except NETWORK_ERRORS as exc:
        return _record_failure(db, [item], failure_code(exc), worker, now())
    return _finish(
        db, [item], worker, status=OutboxStatus.SENT, moment=now(), delivered_case=delivered_case
    )


def webhook_body(
    event: WebhookEvent, moment: dt.datetime, data: dict[str, Any], delivery_id: str
) -> bytes:
    """A webhook's body as the Standard Webhooks specification shapes it: ``type``,
    ``timestamp`` and ``data``; the delivery's id inside the signed body too."""
    stamp = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment
    payload = {
        "type": event.value,
        "timestamp": stamp.isoformat().replace("+00:00", "Z"),
        "delivery_id": delivery_id,
        "data": data,
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _deliver_withdrawal(
    db: Session,
    services: Services,
    endpoint: Endpoint,
    item: _Claimed,
    context: ssl.SSLContext,
    worker: str,
    now: Clock,
) -> list[str]:
    """A survivor withdrew the case: the hotline's system gets the reporting reference and the
    date, nothing else (the case is gone)."""
    withdrawal = db.get(Withdrawal, item.withdrawal_id)
    db.rollback()
    if withdrawal is None:
        return _finish(db, [item], worker, status=OutboxStatus.CANCELLED)
    data = {
        "reporting_reference": reporting_reference(withdrawal.referral_id),
        "withdrawn_on": withdrawal.withdrawn_on.isoformat(),
    }
    body = webhook_body(WebhookEvent.WITHDRAWN, now(), data, item.idempotency_key)
    return _post(db, services, endpoint, item, body, context, worker, now)


def _deliver_email(
    db: Session,
    services: Services,
    endpoint: Endpoint,
    group: list[_Claimed],
    context: ssl.SSLContext,
    worker: str,
    now: Clock,
) -> list[str]:
    live = _still_claimed(db, group, worker)
    if not live:
        return []
    settings = services.settings
    try:
        if endpoint.email is None:
            raise DeliveryFailure("no_endpoint")
        # Referrals, not items: places added to a waiting referral make a second item.
        waiting = len({item.referral_id for item in live})
        language = email_language(services, live[0].hotline_id)
        message = notification_email(settings, endpoint.email, waiting, language)
        _stable_message_id(message, settings, live)
        send_email(settings, message, endpoint.email, context)
    except NETWORK_ERRORS as exc:
        return _record_failure(db, live, failure_code(exc), worker, now())
    return _finish(db, live, worker, status=OutboxStatus.SENT, moment=now())


# Notices sent over one connection are marked sent this many at a time, so a worker that stops
# half-way leaves little to send twice (and each message's Message-ID lets a receiver drop it).
MARK_SENT_EVERY = 25
# Refusals of one message that leave the connection usable for the next.
_ONE_MESSAGE_REFUSED = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPDataError,
)


def _deliver_notices(
    db: Session,
    services: Services,
    items: list[_Claimed],
    context: ssl.SSLContext,
    worker: str,
    now: Clock,
    send_until: dt.datetime,
    stop: threading.Event | None,
) -> list[str]:
    """Notices and reminders to providers, built now from what is still asked (a place
    answered since is left out; nothing left: the item is cancelled), sent over one connection.

    A thread of its own holds the SMTP conversation: while it waits for the server, this one
    builds the next messages and records the ones sent (only this thread uses the database)."""
    live = _still_claimed(db, items, worker)
    if not live:
        return []
    letters = outgoing_letters(db, [i.letter_id for i in live if i.letter_id])
    db.rollback()
    settings: dict[str, ChaseSettings] = {}
    nothing_to_ask: list[_Claimed] = []
    unbuildable: list[_Claimed] = []
    outbound: queue.Queue[tuple[_Claimed, bytes, str] | None] = queue.Queue(maxsize=256)
    results: queue.Queue[tuple[str, _Claimed | None, str | None]] = queue.Queue()
    sender = threading.Thread(
        target=_send_notices,
        args=(services.settings, context, outbound, results, now, send_until, stop),
        name="notice-sender",
        daemon=True,
    )
    sender.start()
    queued = 0
    for item in live:
        letter = letters.get(item.letter_id or 0)
        if letter is None:
            continue  # the case was erased since the claim; its outbox row went with it
        if letter.hotline_id not in settings:
            settings[letter.hotline_id] = chase_settings(db, letter.hotline_id)
        try:
            built = notice_message(
                services, settings[letter.hotline_id], letter, item.reminder, item.idempotency_key
            )
        except Exception as exc:  # one message that cannot be built must not stop the others
            log.error(
                "outbox item %d: the notice could not be built (%s)", item.id, type(exc).__name__
            )
            unbuildable.append(item)
            continue
        if built is None:
            nothing_to_ask.append(item)
        else:
            outbound.put((item, *built))
            queued += 1
    outbound.put(None)
    db.rollback()
    outcomes = _finish(db, nothing_to_ask, worker, status=OutboxStatus.CANCELLED)
    outcomes += _record_failure(db, unbuildable, "bad_message", worker, now())
    sent: list[_Claimed] = []
    failed: dict[str, list[_Claimed]] = {}
    unsent: list[_Claimed] = []
    for _ in range(queued):
        outcome, answered, code = results.get()
        assert answered is not None
        if outcome == "sent":
            sent.append(answered)
            if len(sent) >= MARK_SENT_EVERY:
                outcomes += _finish(db, sent, worker, status=OutboxStatus.SENT, moment=now())
                sent = []
        elif outcome == "failed":
            failed.setdefault(code or "error", []).append(answered)
        else:
            unsent.append(answered)
    sender.join()
    outcomes += _finish(db, sent, worker, status=OutboxStatus.SENT, moment=now())
    for code, group in failed.items():
        outcomes += _record_failure(db, group, code, worker, now())
    _release(db, unsent, worker)
    return outcomes


def _send_notices(
    settings: Settings,
    context: ssl.SSLContext,
    outbound: queue.Queue[tuple[_Claimed, bytes, str] | None],
    results: queue.Queue[tuple[str, _Claimed | None, str | None]],
    now: Clock,
    send_until: dt.datetime,
    stop: threading.Event | None,
) -> None:
    """The SMTP side of :func:`_deliver_notices`: says for every message queued whether it was
    ``sent``, ``failed`` (with a short code) or left ``unsent`` (stopping, or the claim about to
    end). It never touches the database."""
    broken: str | None = None
    current: _Claimed | None = None  # taken from the queue, not answered yet
    try:
        with smtp_connection(settings, context) as smtp:
            while (entry := outbound.get()) is not None:
                current, message, recipient = entry
                if (stop is not None and stop.is_set()) or now() >= send_until:
                    results.put(("unsent", current, None))
                else:
                    _send_one(smtp, settings.smtp_from, recipient, message, current, results)
                current = None
    except NETWORK_ERRORS as exc:
        broken = failure_code(exc)
    except Exception as exc:  # whatever happens here, every queued message gets an answer
        log.error("the notice sender stopped (%s)", type(exc).__name__)
        broken = "error"
    if broken is not None:
        # The connection failed: the message in hand and what is still queued failed with it.
        if current is not None:
            results.put(("failed", current, broken))
        while (entry := outbound.get()) is not None:
            results.put(("failed", entry[0], broken))


def _send_one(
    smtp: smtplib.SMTP,
    sender: str,
    recipient: str,
    message: bytes,
    item: _Claimed,
    results: queue.Queue[tuple[str, _Claimed | None, str | None]],
) -> None:
    """Send one message; a refusal of this message alone is its own failure (the connection
    stays usable), anything else is raised to the caller."""
    try:
        smtp.sendmail(sender, [recipient], message)
    except _ONE_MESSAGE_REFUSED as exc:
        results.put(("failed", item, failure_code(exc)))
        return
    results.put(("sent", item, None))


def _still_claimed(db: Session, items: Sequence[_Claimed], worker: str) -> list[_Claimed]:
    """The items still here and still ours (a case erased since the claim takes its rows)."""
    found = set(
        db.scalars(
            select(OutboxItem.id).where(
                OutboxItem.id.in_([item.id for item in items]),
                OutboxItem.claimed_by == worker,
                OutboxItem.status == OutboxStatus.PENDING,
            )
        )
    )
    db.rollback()
    return [item for item in items if item.id in found]


def _update_claimed(db: Session, item: _Claimed, worker: str, **values: Any) -> bool:
    result = db.execute(
        update(OutboxItem)
        .where(
            OutboxItem.id == item.id,
            OutboxItem.claimed_by == worker,
            OutboxItem.status == OutboxStatus.PENDING,
        )
        .values(claimed_by=None, claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount == 1


def _finish(
    db: Session,
    items: Sequence[_Claimed],
    worker: str,
    *,
    status: OutboxStatus,
    moment: dt.datetime | None = None,
    delivered_case: int | None = None,
) -> list[str]:
    """Mark items sent (``moment``) or cancelled, and audit a delivered referral."""
    outcomes: list[str] = []
    if delivered_case is None and items:
        # Nothing to audit: one statement for all of them.
        values: dict[str, Any] = {
            "status": status,
            "last_error": None,
            "claimed_by": None,
            "claimed_until": None,
        }
        if status == OutboxStatus.SENT:
            values.update(sent_at=moment, attempts=OutboxItem.attempts + 1)
        with committed(db):
            done = db.scalars(
                update(OutboxItem)
                .where(
                    OutboxItem.id.in_([item.id for item in items]),
                    OutboxItem.claimed_by == worker,
                    OutboxItem.status == OutboxStatus.PENDING,
                )
                .values(**values)
                .returning(OutboxItem.id)
                .execution_options(synchronize_session=False)
            ).all()
        return [status] * len(done)
    with committed(db):
        for item in items:
            changes: dict[str, Any] = {"status": status, "last_error": None}
            if status == OutboxStatus.SENT:
                changes.update(sent_at=moment, attempts=item.attempts + 1)
            if not _update_claimed(db, item, worker, **changes):
                continue  # erased meanwhile: nothing may name its case now
            outcomes.append(status)
            if delivered_case is not None:
                audit.record(
                    db,
                    "delivery",
                    "referral.delivered",
                    "referral",
                    item.referral_id,
                    case_id=delivered_case,
                )
    return outcomes


def _record_failure(
    db: Session, items: Sequence[_Claimed], code: str, worker: str, moment: dt.datetime
) -> list[str]:
    """Schedule a retry, or give up once the retry period has passed."""
    outcomes: list[str] = []
    with committed(db):
        for item in items:
            attempts = item.attempts + 1
            if moment - item.window_start >= RETRY_PERIOD:
                changed = _update_claimed(
                    db, item, worker, status=OutboxStatus.DEAD, attempts=attempts, last_error=code
                )
                outcome = "dead"
            else:
                changed = _update_claimed(
                    db,
                    item,
                    worker,
                    attempts=attempts,
                    last_error=code,
                    next_attempt_at=moment + retry_delay(attempts),
                )
                outcome = "retried"
            if changed:
                outcomes.append(outcome)
                log.warning(
                    "outbox item %d for %s: %s on attempt %d%s",
                    item.id,
                    item.hotline_id,
                    code,
                    attempts,
                    "; giving up" if outcome == "dead" else "",
                )
    return outcomes


def _release(db: Session, items: Sequence[_Claimed], worker: str) -> None:
    if not items:
        return
    db.execute(
        update(OutboxItem)
        .where(OutboxItem.id.in_([item.id for item in items]), OutboxItem.claimed_by == worker)
        .values(claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    db.commit()


def run_forever(
    new_session: Callable[[], Session],
    services: Services,
    *,
    interval: float = 10.0,
    stop: threading.Event | None = None,
    now: Clock = utcnow,
    batch: int = 50,
) -> None:
    """Pass after pass until ``stop`` is set (``assistant deliver --loop``).

    After a full batch the next pass starts at once; otherwise it waits ``interval`` seconds (or
    until ``stop``). A pass that fails (the database is away) is logged by the error's type and
    tried again: a worker that dies quietly would leave referrals unsent.
    """
    stop = stop or threading.Event()
    worker = new_worker_id()
    while not stop.is_set():
        try:
            report = deliver_once(
                new_session, services, now=now, worker_id=worker, batch=batch, stop=stop
            )
        except Exception as exc:
            log.error("a delivery pass failed (%s)", type(exc).__name__)
            report = DeliveryReport()
        if report.handled:
            log.info(
                "delivery: %d sent, %d to retry, %d dead, %d cancelled",
                report.sent,
                report.retried,
                report.dead,
                report.cancelled,
            )
        if report.handled < batch:
            stop.wait(interval)


# --- for administrators ---


def dead_letters(db: Session) -> list[OutboxItem]:
    """Deliveries given up on, newest first."""
    return list(
        db.scalars(
            select(OutboxItem)
            .where(OutboxItem.status == OutboxStatus.DEAD)
            .order_by(OutboxItem.created_at.desc(), OutboxItem.id.desc())
        )
    )


def retry_dead_letter(
    db: Session, item_id: int, *, now: dt.datetime | None = None, actor: str = "cli"
) -> bool:
    """Put a dead item back in the queue, due at once, with a fresh 24-hour retry period
    (``retry_from``) and backoff starting again from 30 s. Audited; committed.

    False (and nothing changed) for an unknown item or one that is not dead.
    """
    moment = now or utcnow()
    found = db.execute(
        select(Referral.case_id)
        .select_from(OutboxItem)
        .outerjoin(Referral, OutboxItem.referral_id == Referral.id)
        .where(OutboxItem.id == item_id)
    ).first()
    if found is None:
        return False
    with committed(db):
        result = db.execute(
            update(OutboxItem)
            .where(OutboxItem.id == item_id, OutboxItem.status == OutboxStatus.DEAD)
            .values(
                status=OutboxStatus.PENDING,
                attempts=0,
                next_attempt_at=moment,
                retry_from=moment,
                claimed_by=None,
                claimed_until=None,
            )
            .execution_options(synchronize_session=False)
        )
        if cast(CursorResult[Any], result).rowcount != 1:
            return False  # not dead (any more): the update changed nothing
        audit.record(db, actor, "outbox.retried", "outbox", item_id, case_id=found[0])
    return True
