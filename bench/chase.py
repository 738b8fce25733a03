"""Benchmark: the chase (issue 15), on PostgreSQL, against a real SMTP server on loopback.

    .venv/bin/python bench/chase.py \\
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_chase] \\
        [--due 10000] [--small 1000] [--large 100000] [--rounds 3] [--idle-rounds 30] [--reuse]

What is measured.

1. Sending. ``<name>_send`` holds ``--due`` notices the app sent, each for one place of its own
   referral, all due for their first reminder. A timed run is what an operator's two commands
   do: one ``assistant chase`` pass (``chase_once``: every reminder decided, recorded through the
   state machine with its timeline event, audit event, provider figures and outbox item) and
   ``assistant deliver`` passes (``deliver_once``, batches of 500) until the outbox is empty: each
   reminder's message built from the database at send time (places decrypted, text composed,
   link signed) and sent over SMTP with STARTTLS to an aiosmtpd server in a process of its own,
   which counts what it receives. It is timed two ways: one after the other in one process (the
   chase pass, then delivery), and side by side (a delivery worker in a process of its own,
   running while the chase pass does, as ``assistant chase --loop`` and ``assistant deliver
   --loop`` run in production), each from the pass's start to the last reminder received. The
   reference ("bare") is a plain loop over the same server: one
   connection, STARTTLS, then ``--due`` ``sendmail`` calls with the bytes of one of the app's own
   reminders, built in advance. The two alternate, ``--rounds`` times each; between app runs the
   notices are made due again and what the last run wrote (outbox, events, audit, figures) is
   deleted. The rate is messages per second, every reminder received exactly once. The target,
   app / bare at least 0.5, is held to the way the app runs (side by side); the other way is
   printed too, for what one process alone does. On two cores the SMTP server, PostgreSQL and the
   app share the machine, so what the app does beside the sending competes with the server.

2. A pass with nothing due. ``<name>_small`` and ``<name>_large`` hold ``--small`` and ``--large``
   notices whose next reminder is a month away. ``chase_once`` is timed ``--idle-rounds`` times on
   each, interleaved; the target is median(large) / median(small) at most 1.3, and the same number
   of SQL statements at both sizes.

How the data is made: rows written with SQLAlchemy Core in batches (cases, referrals, places,
notices and the notices' letters, with real sealed values and keyed hashes, as the workbench's
``send_notice`` would leave them). ``--reuse`` keeps databases seeded earlier with the same sizes.
Nothing here opens a network connection other than to the local PostgreSQL server and the SMTP
server it starts on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import hashlib
import multiprocessing
import smtplib
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy import delete
from sqlalchemy import event
from sqlalchemy import insert
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant import create_app
from assistant.cli import upgrade_database
from assistant.extensions import Database
from assistant.hotline.chase import chase_once
from assistant.hotline.delivery import deliver_once
from assistant.models import AuditEvent
from assistant.models import Case
from assistant.models import Location
from assistant.models import Notice
from assistant.models import NoticeLetter
from assistant.models import OutboxItem
from assistant.models import ProviderNoticeMonth
from assistant.models import Referral
from assistant.models import ReferralEvent
from assistant.models import utcnow
from tests.hotline.delivery_support import make_certificates
from tests.hotline.delivery_support import unused_port

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_chase"
HOTLINE = "hotline_ie"
SENDER = "notices@assistant.example"


def _key(label: str) -> str:
    """A fixed key for the benchmark's databases (never a secret: they hold made-up data)."""
    return base64.b64encode(hashlib.sha256(f"bench-chase-{label}".encode()).digest()).decode()


SECRETS = {
    "secret_key": "bench-chase-" + _key("secret"),
    "master_keys": f"1:{_key('master')}",
    "hash_key": _key("hash"),
}
BATCH = 5000


# --- the SMTP server, in a process of its own ---


def _serve(port: int, cert: str, key: str, received: Any, ready: Any, stop: Any) -> None:
    from aiosmtpd.controller import Controller  # noqa: PLC0415 (only in the child)

    class Counting:
        async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
            with received.get_lock():
                received.value += 1
            return "250 OK"

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    controller = Controller(
        Counting(),
        hostname="127.0.0.1",
        port=port,
        server_hostname="localhost",
        tls_context=context,
        require_starttls=True,
    )
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()
    asyncio.set_event_loop(asyncio.new_event_loop())


# --- databases ---


def admin_engine(url: str) -> Any:
    return create_engine(
        make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )


def recreate(url: str) -> None:
    name = make_url(url).database or ""
    if not name.startswith("bench"):
        raise SystemExit(f"refusing to drop the database {name!r}: give a name starting 'bench'")
    engine = admin_engine(url)
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def exists_with(url: str, count: int) -> bool:
    engine = admin_engine(url)
    name = make_url(url).database
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
    engine.dispose()
    if not found:
        return False
    check = create_engine(url, poolclass=NullPool)
    try:
        with check.connect() as connection:
            have = connection.execute(text("SELECT count(*) FROM notice_letters")).scalar()
    except Exception:
        return False
    finally:
        check.dispose()
    return have == count


def make_app(url: str, instance: Path, **overrides: Any) -> Any:
    app = create_app(
        {
            "instance_path": str(instance),
            "database_url": url,
            "ratelimit_enabled": False,
            **SECRETS,
            **overrides,
        }
    )
    app.config["TESTING"] = True
    return app


def seed(app: Any, count: int, *, due: bool) -> None:
    """``count`` notices the app sent to one provider, each for one place of its own referral."""
    services = app.extensions["assistant.services"]
    cipher, hasher = services.cipher, services.keyed_hasher
    now = utcnow()
    today = now.date()
    sent = today - dt.timedelta(days=2)
    next_at = now - dt.timedelta(hours=1) if due else now + dt.timedelta(days=30)
    recipient = cipher.seal("abuse@filebox-bench.example", "notice.recipient")
    engine = Database.engine(app)
    for start in range(0, count, BATCH):
        ids = range(start + 1, min(count, start + BATCH) + 1)
        cases, referrals, places, letters, notices = [], [], [], [], []
        for i in ids:
            value = f"https://filebox-bench.ie/f/{i:08d}-{hashlib.sha256(str(i).encode()).hexdigest()[:12]}"
            cases.append(
                {
                    "id": i,
                    "case_number": f"RQ-B{i:07d}",
                    "passphrase_hash": "$argon2id$bench",
                    "language": "en",
                    "categories": ["abuse_material"],
                    "minor_in_material": "yes",
                    "filed_by": "survivor",
                    "must_change_passphrase": False,
                    "created_on": sent,
                    "retain_until": today + dt.timedelta(days=365),
                    "failed_checks": 0,
                    "lockouts": 0,
                }
            )
            referrals.append(
                {
                    "id": i,
                    "case_id": i,
                    "hotline_id": HOTLINE,
                    "status": "with_hotline",
                    "created_on": sent,
                    "version": 4,
                    "lane": 1,
                    "due_on": next_at.date(),
                    "due_action": "remind",
                    "suggested_notice_type": "csam",
                    "category_bits": 1,
                    "flag_minor": True,
                    "flag_identifying": False,
                    "flag_dark_web": False,
                    "flag_already_reported": False,
                }
            )
            places.append(
                {
                    "id": i,
                    "case_id": i,
                    "referral_id": i,
                    "position": 0,
                    "kind": "url",
                    "value_sealed": cipher.seal(value, "location.value"),
                    "value_hash": hasher.digest(value, "location"),
                    "host": "filebox-bench.ie",
                    "registrable_domain": "filebox-bench.ie",
                    "route_reasons": [],
                    "status": "notice_sent",
                    "added_on": sent,
                    "status_changed_on": sent,
                    "assessment": "csam",
                }
            )
            letters.append(
                {
                    "id": i,
                    "referral_id": i,
                    "hotline_id": HOTLINE,
                    "provider_id": None,
                    "provider": "Filebox Bench",
                    "notice_type": "csam",
                    "language": "en",
                    "channel": "email",
                    "recipient_sealed": recipient,
                    "escalation": False,
                    "sent_on": sent,
                    "last_sent_on": sent,
                    "created_at": now - dt.timedelta(days=2),
                    "reminders_sent": 0,
                    "next_chase_at": next_at,
                    "chase_round": 0,
                }
            )
            notices.append(
                {
                    "id": i,
                    "location_id": i,
                    "hotline_id": HOTLINE,
                    "notice_type": "csam",
                    "provider": "Filebox Bench",
                    "escalation": False,
                    "sent_on": sent,
                    "letter_id": i,
                    "chase": "active",
                }
            )
        with engine.begin() as connection:
            for model, rows in (
                (Case, cases),
                (Referral, referrals),
                (Location, places),
                (NoticeLetter, letters),
                (Notice, notices),
            ):
                connection.execute(insert(model.__table__), rows)
    with engine.begin() as connection:
        for table in ("cases", "referrals", "locations", "notice_letters", "notices"):
            connection.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {count + 1})")
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def prepare(url: str, count: int, due: bool, reuse: bool, instance: Path, **overrides: Any) -> Any:
    if not (reuse and exists_with(url, count)):
        recreate(url)
        app = make_app(url, instance, **overrides)
        upgrade_database(app)
        print(f"seeding {count:,} notices in {make_url(url).database} ...", flush=True)
        seed(app, count, due=due)
        return app
    app = make_app(url, instance, **overrides)
    upgrade_database(app)
    return app


def make_due_again(app: Any) -> None:
    """Undo what a run did: every notice due for its first reminder again, nothing sent."""
    engine = Database.engine(app)
    with engine.begin() as connection:
        connection.execute(delete(OutboxItem.__table__))
        connection.execute(delete(ReferralEvent.__table__))
        connection.execute(delete(AuditEvent.__table__))
        connection.execute(delete(ProviderNoticeMonth.__table__))
        connection.execute(
            update(NoticeLetter.__table__).values(
                next_chase_at=utcnow() - dt.timedelta(hours=1), reminders_sent=0, chase_round=0
            )
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


# --- timing ---


def app_run(app: Any, received: Any) -> tuple[float, int, float]:
    services = app.extensions["assistant.services"]

    def new_session() -> Any:
        return Database.new_session(app)

    before = received.value
    started = time.perf_counter()
    reminded = chase_once(new_session, services, batch=500).reminded
    chased = time.perf_counter() - started
    while deliver_once(new_session, services, batch=500).handled:
        pass
    elapsed = time.perf_counter() - started
    got = received.value - before
    if got != reminded:
        raise SystemExit(f"MISS: {reminded} reminders decided but {got} received")
    return elapsed, got, chased


def _delivery_worker(
    url: str, instance: str, overrides: dict[str, Any], go: Any, chased: Any, done: Any
) -> None:
    """``assistant deliver --loop`` in a process of its own, as it runs beside ``assistant chase
    --loop`` in production: passes back to back while there is something to send, until the
    chase pass is over and a pass finds nothing."""
    app = make_app(url, Path(instance), **overrides)
    services = app.extensions["assistant.services"]

    def new_session() -> Any:
        return Database.new_session(app)

    while True:
        go.wait()
        while True:
            finished = chased.is_set()
            if not deliver_once(new_session, services, batch=500).handled:
                if finished:
                    break
                time.sleep(0.05)
        go.clear()
        done.set()
        if chased.wait(0) and not go.wait(600):
            return


def app_run_alongside(
    app: Any, received: Any, worker: tuple[Any, Any, Any]
) -> tuple[float, int, float]:
    """The chase pass with the delivery worker running beside it: from the pass's start until
    the last reminder is received."""
    go, chased, done = worker
    services = app.extensions["assistant.services"]
    before = received.value
    chased.clear()
    done.clear()
    started = time.perf_counter()
    go.set()
    reminded = chase_once(lambda: Database.new_session(app), services, batch=500).reminded
    chase_time = time.perf_counter() - started
    chased.set()
    done.wait(600)
    elapsed = time.perf_counter() - started
    got = received.value - before
    if got != reminded:
        raise SystemExit(f"MISS: {reminded} reminders decided but {got} received")
    return elapsed, got, chase_time


def sample_message(app: Any) -> bytes:
    """A message of the size the app sends (its body is one of the app's own reminders)."""
    from assistant.hotline.notice_mail import chase_settings  # noqa: PLC0415
    from assistant.hotline.notice_mail import notice_message  # noqa: PLC0415
    from assistant.hotline.notice_mail import outgoing_letters  # noqa: PLC0415

    services = app.extensions["assistant.services"]
    with Database.new_session(app) as db:
        letter = outgoing_letters(db, [1])[1]
        built = notice_message(services, chase_settings(db, HOTLINE), letter, 1, "notice-1-1")
    assert built is not None
    return built[0]


def bare_run(port: int, ca_file: str, message: bytes, count: int, received: Any) -> float:
    context = ssl.create_default_context(cafile=ca_file)
    before = received.value
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, local_hostname="[127.0.0.1]", timeout=10) as smtp:
        smtp.ehlo()
        smtp.starttls(context=context)
        smtp.ehlo()
        for _ in range(count):
            smtp.sendmail(SENDER, ["abuse@filebox-bench.example"], message)
    elapsed = time.perf_counter() - started
    if received.value - before != count:
        raise SystemExit("MISS: the bare loop's messages did not all arrive")
    return elapsed


def idle_run(app: Any, statements: list[int]) -> float:
    services = app.extensions["assistant.services"]
    counted = [0]

    def count(*_args: Any) -> None:
        counted[0] += 1

    engine = Database.engine(app)
    event.listen(engine, "before_cursor_execute", count)
    started = time.perf_counter()
    report = chase_once(lambda: Database.new_session(app), services)
    elapsed = time.perf_counter() - started
    event.remove(engine, "before_cursor_execute", count)
    assert report.handled == 0
    statements.append(counted[0])
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--idle-rounds", type=int, default=30)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    base = make_url(args.database_url)
    folder = Path(tempfile.mkdtemp(prefix="bench-chase-"))
    tls = make_certificates(folder)
    port = unused_port()
    received = multiprocessing.Value("l", 0)
    ready, stop = multiprocessing.Event(), multiprocessing.Event()
    server = multiprocessing.Process(
        target=_serve,
        args=(port, str(tls.cert_file), str(tls.key_file), received, ready, stop),
        daemon=True,
    )
    server.start()
    ready.wait(30)
    ok = True
    try:
        smtp = {
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_from": SENDER,
            "tls_ca_file": str(tls.ca_file),
            "public_url": "https://assistant.example",
        }
        send_url = base.set(database=f"{base.database}_send").render_as_string(False)
        sender = prepare(send_url, args.due, True, args.reuse, folder / "send", **smtp)
        message = sample_message(sender)
        spawn = multiprocessing.get_context("spawn")
        worker_events = (spawn.Event(), spawn.Event(), spawn.Event())
        worker = spawn.Process(
            target=_delivery_worker,
            args=(send_url, str(folder / "worker"), smtp, *worker_events),
            daemon=True,
        )
        worker.start()
        rates: dict[str, list[float]] = {"bare": [], "one after the other": [], "side by side": []}
        for round_number in range(args.rounds):
            bare = bare_run(port, str(tls.ca_file), message, args.due, received)
            rates["bare"].append(args.due / bare)
            make_due_again(sender)
            elapsed, sent, chased = app_run(sender, received)
            rates["one after the other"].append(sent / elapsed)
            make_due_again(sender)
            beside, sent_beside, _chased = app_run_alongside(sender, received, worker_events)
            rates["side by side"].append(sent_beside / beside)
            print(
                f"round {round_number + 1}: bare {args.due / bare:,.0f}/s; chase then deliver "
                f"{sent / elapsed:,.0f}/s (chase {chased:.1f} s, deliver {elapsed - chased:.1f} "
                f"s); chase with a delivery worker beside it {sent_beside / beside:,.0f}/s",
                flush=True,
            )
        worker.terminate()
        bare_median = statistics.median(rates["bare"])
        for mode in ("one after the other", "side by side"):
            ratio = statistics.median(rates[mode]) / bare_median
            held = mode == "side by side"
            verdict = ("ok" if ratio >= 0.5 else "MISS") if held else "(for information)"
            ok &= ratio >= 0.5 or not held
            print(
                f"sending {args.due:,} reminders, chase and delivery {mode}: "
                f"{statistics.median(rates[mode]):,.0f}/s against bare {bare_median:,.0f}/s, "
                f"ratio {ratio:.2f} (target >= 0.5) {verdict}"
            )
        Database.engine(sender).dispose()

        sizes = {}
        for label, count in (("small", args.small), ("large", args.large)):
            url = base.set(database=f"{base.database}_{label}").render_as_string(False)
            sizes[label] = prepare(url, count, False, args.reuse, folder / label)
        times: dict[str, list[float]] = {"small": [], "large": []}
        statements: dict[str, list[int]] = {"small": [], "large": []}
        for label in ("small", "large"):
            idle_run(sizes[label], [])  # warm up
        for _ in range(args.idle_rounds):
            for label in ("small", "large"):
                times[label].append(idle_run(sizes[label], statements[label]))
        small, large = statistics.median(times["small"]), statistics.median(times["large"])
        idle_ratio = large / small
        same = set(statements["small"]) == set(statements["large"])
        verdict = "ok" if idle_ratio <= 1.3 and same else "MISS"
        ok &= idle_ratio <= 1.3 and same
        print(
            f"a pass with nothing due: {args.small:,} notices {small * 1000:.2f} ms, "
            f"{args.large:,} notices {large * 1000:.2f} ms, ratio {idle_ratio:.2f} "
            "(target <= 1.3); "
            f"statements {sorted(set(statements['small']))} vs {sorted(set(statements['large']))} "
            f"{verdict}"
        )
    finally:
        stop.set()
        server.join(10)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
