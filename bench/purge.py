"""Benchmark: ``assistant purge`` erasing cases past retention, against bare bulk SQL (issue 17).

    .venv/bin/python bench/purge.py \\
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_purge] \\
        [--expired 10100] [--kept 40000] [--batch N] [--also-batches 500,1000] \\
        [--rounds 5] [--one-by-one 1000] [--only sqlite|postgresql] [--reuse]

What is measured. A database holds ``--expired`` cases past their retention date (the oldest)
and ``--kept`` younger ones, each with what a case gathers in a year (see "How the data is
made"). On a fresh copy of it each time, one of these erases the expired cases:

- ``purge``: the app's own ``assistant.cases.retention.purge``, ``--batch`` cases a transaction
  (by default the app's own ``PURGE_BATCH``), as ``assistant purge`` runs it (its house-keeping
  of sessions, invitations and figures included: there is none to do here);
- ``bare, cascade``: four SQL statements in one transaction, nothing else: the withdrawal records
  (``INSERT ... SELECT`` numbered with ``ROW_NUMBER()``), the feed counters, the cases' audit
  events, and the cases themselves, whose rows in every other table go by ``ON DELETE CASCADE``;
- ``bare, by table``: the same, but each table's rows deleted by a statement of its own, children
  first, as the app does (eleven statements, one transaction);
- ``bare, deletions only``: the cascade variant without the withdrawal records and counters (two
  statements), for information: it leaves the hotlines unaware.

The reference is the faster of the two bare variants that do the same work as the app (rows
deleted, withdrawal records written, counters moved). The target (issue 17): the purge's rate, in
cases a second, at least half the reference's. Each round times every variant once, in an order
that turns from round to round; ``--rounds`` rounds, medians reported. After each run the rows
left are checked: no expired case left and every younger one still there, the same count of
rows in every table after every variant that does the same work, and the same withdrawal
records (hotline, referral, feed number, reason) after the bare SQL as after the purge.
Statements are counted on the app's engine (``before_cursor_execute``) and split at each
commit: the count of each batch is printed (the full batches and the last, shorter one).
``--also-batches`` times the purge with other batch sizes as well, in the same rounds, for
information (what a batch's commit costs). With ``--one-by-one N`` a last run erases N cases one
at a time through ``erase_case`` (a transaction each, as the purge did before), for information.

It runs on SQLite (a file in a temporary directory, copied for each run) and on PostgreSQL (a
seeded database ``<name>_seed``, copied with ``CREATE DATABASE ... TEMPLATE`` into
``<name>_run`` for each run; the name must start with ``bench``, the test suite's ``test``
database is never touched). ``--reuse`` keeps a PostgreSQL seed whose comment records the same
sizes and day (retention dates count from it), and brings its schema up to date (new migrations
apply). Both engines are the app's own (``create_app``: SQLite with foreign keys, WAL and
``secure_delete``), so the bare SQL and the app pay for the same settings.

How the data is made: rows written with SQLAlchemy Core, the same on both databases (a fixed
random seed). Each case has 1 to 5 places (sealed values and keyed hashes, as intake writes
them) routed to 1 to 3 of twelve hotlines, a referral per hotline with its timeline (routed; for
two in five acknowledged and assessed; a notice sent for one in four, with its letter, its
e-mail in the outbox, and a note), audit events (filed, and staff views), messages for a third of
the cases, an advocate for one in ten, an invitation for one in twenty and a signed-in session
for one in fifty. Each referral has its number in its hotline's feed. Case numbers, draft keys,
invitation hashes and outbox keys are random, as the app makes them (their indexes spread every
batch over all their pages). Cases are dated oldest first, so the purge's order (oldest
retention date first) is the order of their ids.
Nothing here opens a network connection other than to the local PostgreSQL server.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import datetime as dt
import hashlib
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from typing import cast

from flask import Flask
from sqlalchemy import Date
from sqlalchemy import Engine
from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant import create_app
from assistant.cases.receipts import CROCKFORD
from assistant.cases.retention import PURGE_BATCH
from assistant.cases.retention import erase_case
from assistant.cases.retention import purge
from assistant.cli import upgrade_database
from assistant.extensions import Database
from assistant.models import Account
from assistant.models import AuditEvent
from assistant.models import Base
from assistant.models import Case
from assistant.models import CaseAccess
from assistant.models import FeedCounter
from assistant.models import InternalNote
from assistant.models import Invitation
from assistant.models import Location
from assistant.models import Message
from assistant.models import Notice
from assistant.models import NoticeLetter
from assistant.models import OutboxItem
from assistant.models import Referral
from assistant.models import ReferralEvent
from assistant.models import SessionRecord
from assistant.models import Withdrawal
from assistant.models import today
from assistant.models import utcnow
from assistant.vocabulary import WithdrawalReason

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_purge"
FORMAT = "purge/2"  # bump when what is seeded changes, so --reuse seeds again
CHUNK = 2000  # cases written per transaction while seeding
TARGET = 0.5
HOTLINES = [
    ("hotline_ie", "ie", 8),
    ("offlimits_nl", "nl", 6),
    ("eco_de", "de", 5),
    ("point_de_contact_fr", "fr", 4),
    ("iwf_gb", "co.uk", 4),
    ("stop_it_it", "it", 2),
    ("incibe_es", "es", 2),
    ("dyzurnet_pl", "pl", 2),
    ("stopline_at", "at", 1),
    ("child_focus_be", "be", 1),
    ("ecpat_se", "se", 1),
    ("cybertip_ca", "ca", 1),
]


def _key(label: str) -> str:
    """Fixed keys, so a seed kept with --reuse opens alike (it holds made-up data only)."""
    digest = hashlib.sha256(f"bench/purge.py {label}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


SECRETS = {
    "secret_key": "bench-purge-" + _key("secret"),
    "master_keys": f"1:{_key('master')}",
    "hash_key": _key("hash"),
}


def make_app(url: str, instance: Path) -> Flask:
    app = create_app(
        {"instance_path": str(instance), "database_url": url, "ratelimit_enabled": False, **SECRETS}
    )
    app.config["TESTING"] = True
    return app


# --- the data ---


Rows = dict[Any, list[dict[str, Any]]]


def case_rows(app: Flask, first: int, last: int, expired: int, total: int) -> Rows:
    """The rows of cases ``first`` to ``last`` (ids), deterministic for the same arguments."""
    services = app.extensions["assistant.services"]
    cipher, hasher = services.cipher, services.keyed_hasher
    on = today()
    rows: Rows = defaultdict(list)
    for i in range(first, last + 1):
        draw = random.Random(i)
        # Expired cases: retention ended 1 to 60 days ago; kept ones: it ends within a year.
        if i <= expired:
            ends = on - dt.timedelta(days=60 - (59 * (i - 1)) // max(expired - 1, 1))
        else:
            ends = on + dt.timedelta(days=(364 * (i - expired - 1)) // max(total - expired, 1))
        created = ends - dt.timedelta(days=365)
        rows[Case].append(
            {
                "id": i,
                # Random, as the app makes them (an index whose pages every batch touches).
                "case_number": "RQ-" + "".join(draw.choices(CROCKFORD, k=8)),
                "submission_key": hashlib.sha256(f"draft {i}".encode()).hexdigest()
                if draw.random() < 0.6
                else None,
                "passphrase_hash": "$argon2id$bench",
                "language": "en",
                "categories": ["abuse_material"],
                "minor_in_material": "yes",
                "filed_by": "survivor",
                "must_change_passphrase": False,
                "created_on": created,
                "retain_until": ends,
            }
        )
        places = draw.choices([1, 2, 3, 4, 5], weights=[40, 25, 15, 12, 8])[0]
        hotlines = draw.choices(HOTLINES, weights=[w for _h, _t, w in HOTLINES], k=3)
        hotlines = hotlines[: draw.choices([1, 2, 3], weights=[70, 22, 8])[0]]
        referral_of: dict[str, int] = {}
        for k in range(places):
            hotline_id, tld, _w = hotlines[k % len(hotlines)]
            if hotline_id not in referral_of:
                referral_of[hotline_id] = i * 10 + len(referral_of)
            value = f"https://files-{draw.randrange(10**6):06d}.example.{tld}/v/{i}-{k}"
            rows[Location].append(
                {
                    "id": i * 10 + k,
                    "case_id": i,
                    "referral_id": referral_of[hotline_id],
                    "position": k,
                    "kind": "url",
                    "value_sealed": cipher.seal(value, "location.value"),
                    "value_hash": hasher.digest(value, "location"),
                    "route_reasons": [{"code": "cctld", "params": {"tld": tld}}],
                    "status": "received",
                    "added_on": created,
                    "status_changed_on": created,
                }
            )
        for hotline_id, referral_id in referral_of.items():
            rows[Referral].append(
                {
                    "id": referral_id,
                    "case_id": i,
                    "hotline_id": hotline_id,
                    "status": "received",
                    "created_on": created,
                    "category_bits": 1,
                    "flag_minor": True,
                }
            )
            codes = ["routed"]
            if draw.random() < 0.4:
                codes += ["with_hotline", "assessed"]
            rows[ReferralEvent].extend(
                {
                    "referral_id": referral_id,
                    "code": code,
                    "params": {"count": places},
                    "occurred_on": created,
                    "visible_to_survivor": True,
                }
                for code in codes
            )
            rows[AuditEvent].extend(
                {
                    "actor": "account:1",
                    "action": "referral.viewed",
                    "object_type": "referral",
                    "object_id": referral_id,
                    "case_id": i,
                    "occurred_on": created,
                }
                for _view in range(draw.randrange(4))
            )
            if draw.random() < 0.25:
                letter_id = referral_id
                rows[NoticeLetter].append(
                    {
                        "id": letter_id,
                        "referral_id": referral_id,
                        "hotline_id": hotline_id,
                        "provider": "",
                        "notice_type": "csam",
                        "language": "en",
                        "channel": "email",
                        "recipient_sealed": cipher.seal("abuse@host.example", "notice.recipient"),
                        "sent_on": created,
                        "last_sent_on": created,
                        "created_at": dt.datetime.combine(created, dt.time(12)),
                    }
                )
                rows[Notice].extend(
                    {
                        "location_id": place["id"],
                        "hotline_id": hotline_id,
                        "notice_type": "csam",
                        "provider": "",
                        "sent_on": created,
                        "letter_id": letter_id,
                    }
                    for place in rows[Location][-places:]
                    if place["referral_id"] == referral_id
                )
                rows[OutboxItem].append(
                    {
                        "hotline_id": hotline_id,
                        "channel": "email",
                        "letter_id": letter_id,
                        "status": "sent",
                        "idempotency_key": draw.randbytes(16).hex(),
                        "created_at": dt.datetime.combine(created, dt.time(12)),
                        "next_attempt_at": dt.datetime.combine(created, dt.time(12)),
                    }
                )
                rows[InternalNote].append(
                    {
                        "referral_id": referral_id,
                        "body_sealed": cipher.seal("Sent to the host.", "note.body"),
                        "written_at": dt.datetime.combine(created, dt.time(12)),
                    }
                )
        rows[AuditEvent].append(
            {
                "actor": "survivor",
                "action": "case.filed",
                "object_type": "case",
                "object_id": i,
                "case_id": i,
                "occurred_on": created,
            }
        )
        first_referral = min(referral_of.values())
        if draw.random() < 1 / 3:
            rows[Message].extend(
                {
                    "case_id": i,
                    "referral_id": first_referral,
                    "author": "survivor",
                    "body_sealed": cipher.seal("Is there any news?", "message.body"),
                    "sent_on": created,
                }
                for _m in range(draw.randint(1, 3))
            )
        if draw.random() < 0.1:
            rows[CaseAccess].append(
                {
                    "case_id": i,
                    "account_id": 1 + i % 20,
                    "origin": "invited",
                    "granted_on": created,
                    "messages_read_up_to": 0,
                }
            )
        if draw.random() < 0.05:
            # Made today: the purge's clean-up of stale invitations leaves it to the erasure.
            rows[Invitation].append(
                {
                    "case_id": i,
                    "nonce_hash": hashlib.sha256(f"nonce {i}".encode()).hexdigest(),
                    "created_on": on,
                }
            )
        if draw.random() < 0.02:
            later = utcnow() + dt.timedelta(hours=1)
            rows[SessionRecord].append(
                {
                    "id_hash": hashlib.sha256(f"session {i}".encode()).hexdigest(),
                    "kind": "web",
                    "case_id": i,
                    "data_sealed": cipher.seal("{}", "session"),
                    "expires_at": later,
                    "ends_at": later,
                }
            )
    return rows


# The order tables are written in (parents first).
WRITE_ORDER = [
    Case,
    Referral,
    Location,
    ReferralEvent,
    NoticeLetter,
    Notice,
    OutboxItem,
    InternalNote,
    AuditEvent,
    Message,
    CaseAccess,
    Invitation,
    SessionRecord,
]


def seed(app: Flask, expired: int, kept: int) -> None:
    engine = Database.engine(app)
    total = expired + kept
    with engine.begin() as connection:
        connection.execute(
            insert(Account),
            [
                {
                    "id": n,
                    "email": f"advocate-{n}@support.example",
                    "role": "advocate",
                    "status": "active",
                    "created_at": utcnow(),
                }
                for n in range(1, 21)
            ],
        )
    for first in range(1, total + 1, CHUNK):
        rows = case_rows(app, first, min(total, first + CHUNK - 1), expired, total)
        with engine.begin() as connection:
            for model in WRITE_ORDER:
                if rows.get(model):
                    connection.execute(insert(model), rows[model])
        print(f"  seeded {min(total, first + CHUNK - 1):,} of {total:,} cases", flush=True)
    # Each referral's number in its hotline's feed, and the counters, as the app keeps them.
    with engine.begin() as connection:
        numbered = connection.execute(
            select(Referral.id, Referral.hotline_id).order_by(Referral.id)
        ).all()
        last: dict[str, int] = defaultdict(int)
        updates = []
        for referral_id, hotline_id in numbered:
            last[hotline_id] += 1
            updates.append({"_id": referral_id, "_seq": last[hotline_id]})
        table = cast(Table, Referral.__table__)
        connection.execute(
            update(table).where(table.c.id == bindparam("_id")).values(feed_seq=bindparam("_seq")),
            updates,
        )
        connection.execute(
            insert(FeedCounter), [{"hotline_id": h, "last_seq": n} for h, n in last.items()]
        )
        if engine.dialect.name == "postgresql":
            # Ids were written by hand: the sequences go on after them.
            for table in Base.metadata.sorted_tables:
                if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement:
                    sequence = func.pg_get_serial_sequence(table.name, "id")
                    following = func.coalesce(func.max(table.c.id), 0) + 1
                    connection.execute(select(func.setval(sequence, following, False)))


# --- the databases ---


def admin_engine(url: str) -> Engine:
    return create_engine(
        make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )


def pg_url(base: str, suffix: str) -> str:
    url = make_url(base)
    return url.set(database=f"{url.database}_{suffix}").render_as_string(hide_password=False)


def pg_command(base: str, *statements: str) -> None:
    """Run statements on the server's ``postgres`` database (creating and dropping databases)."""
    engine = admin_engine(base)
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


@dataclasses.dataclass
class Copy:
    """A fresh copy of the seeded database, and an app on it."""

    url: str
    app: Flask


class Place:
    """Where the seed lives and how a fresh copy of it is made, for one database."""

    name: str

    def prepare(self, args: argparse.Namespace, instance: Path) -> None:
        raise NotImplementedError

    def fresh(self, instance: Path) -> Copy:
        raise NotImplementedError

    def drop(self, copy: Copy) -> None:
        Database.engine(copy.app).dispose()


class SQLitePlace(Place):
    name = "SQLite"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seed_file = folder / "seed.sqlite3"
        self.run_file = folder / "run.sqlite3"

    def prepare(self, args: argparse.Namespace, instance: Path) -> None:
        url = f"sqlite:///{self.seed_file}"
        app = make_app(url, instance)
        upgrade_database(app)
        print(f"{self.name}: seeding {args.expired + args.kept:,} cases", flush=True)
        seed(app, args.expired, args.kept)
        with Database.engine(app).connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        Database.engine(app).dispose()

    def fresh(self, instance: Path) -> Copy:
        for leftover in self.folder.glob("run.sqlite3*"):
            leftover.unlink()
        shutil.copyfile(self.seed_file, self.run_file)
        url = f"sqlite:///{self.run_file}"
        return Copy(url, make_app(url, instance))


class PostgresPlace(Place):
    name = "PostgreSQL"

    def __init__(self, base: str) -> None:
        name = make_url(base).database or ""
        if not name.startswith("bench"):
            raise SystemExit(f"refusing to use the database {name!r}: give a name starting 'bench'")
        self.base = base
        self.seed_url = pg_url(base, "seed")
        self.run_url = pg_url(base, "run")
        self.seed_name = make_url(self.seed_url).database
        self.run_name = make_url(self.run_url).database

    def prepare(self, args: argparse.Namespace, instance: Path) -> None:
        # Retention dates count from the day of seeding: a seed from another day is seeded again.
        label = f"{FORMAT} expired={args.expired} kept={args.kept} on={today().isoformat()}"
        if args.reuse:
            engine = admin_engine(self.base)
            with engine.connect() as connection:
                found = connection.execute(
                    text(
                        "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                        "WHERE datname = :name"
                    ),
                    {"name": self.seed_name},
                ).scalar()
            engine.dispose()
            if found == label:
                print(f"{self.name}: reusing {self.seed_name} ({label})", flush=True)
                app = make_app(self.seed_url, instance)
                upgrade_database(app)  # new migrations apply to a seed kept from before
                Database.engine(app).dispose()
                return
        pg_command(
            self.base,
            f'DROP DATABASE IF EXISTS "{self.seed_name}" WITH (FORCE)',
            f'CREATE DATABASE "{self.seed_name}"',
        )
        app = make_app(self.seed_url, instance)
        upgrade_database(app)
        print(f"{self.name}: seeding {args.expired + args.kept:,} cases", flush=True)
        seed(app, args.expired, args.kept)
        Database.engine(app).dispose()
        vacuum = create_engine(self.seed_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with vacuum.connect() as connection:
            connection.execute(text("VACUUM ANALYZE"))
        vacuum.dispose()
        pg_command(self.base, f"COMMENT ON DATABASE \"{self.seed_name}\" IS '{label}'")

    def fresh(self, instance: Path) -> Copy:
        pg_command(
            self.base,
            f'DROP DATABASE IF EXISTS "{self.run_name}" WITH (FORCE)',
            f'CREATE DATABASE "{self.run_name}" TEMPLATE "{self.seed_name}"',
        )
        return Copy(self.run_url, make_app(self.run_url, instance))

    def drop(self, copy: Copy) -> None:
        super().drop(copy)
        pg_command(self.base, f'DROP DATABASE IF EXISTS "{self.run_name}" WITH (FORCE)')


# --- what is timed ---

# Each statement names the expired cases itself, as one bulk statement would.
WITHDRAWALS = [
    # Each hotline's numbers go on from its counter, in the order of its referrals' ids.
    """INSERT INTO withdrawals (hotline_id, referral_id, withdrawn_on, reason, feed_seq)
    SELECT r.hotline_id, r.id, :on, 'expired',
        (SELECT f.last_seq FROM feed_counters f WHERE f.hotline_id = r.hotline_id)
        + ROW_NUMBER() OVER (PARTITION BY r.hotline_id ORDER BY r.id)
    FROM referrals r
    WHERE r.case_id IN (SELECT id FROM cases WHERE retain_until < :on)""",
    """UPDATE feed_counters SET last_seq = (
        SELECT max(w.feed_seq) FROM withdrawals w WHERE w.hotline_id = feed_counters.hotline_id)
    WHERE hotline_id IN (SELECT r.hotline_id FROM referrals r
        WHERE r.case_id IN (SELECT id FROM cases WHERE retain_until < :on))""",
]
CASCADE = [
    "DELETE FROM audit_events WHERE case_id IN (SELECT id FROM cases WHERE retain_until < :on)",
    "DELETE FROM cases WHERE retain_until < :on",
]
BY_TABLE = [
    "DELETE FROM sessions WHERE case_id IN (SELECT id FROM cases WHERE retain_until < :on)",
    "DELETE FROM messages WHERE case_id IN (SELECT id FROM cases WHERE retain_until < :on)",
    "DELETE FROM case_access WHERE case_id IN (SELECT id FROM cases WHERE retain_until < :on)",
    "DELETE FROM invitations WHERE case_id IN (SELECT id FROM cases WHERE retain_until < :on)",
    """DELETE FROM referral_events WHERE referral_id IN (SELECT id FROM referrals
        WHERE case_id IN (SELECT id FROM cases WHERE retain_until < :on))""",
    "DELETE FROM locations WHERE case_id IN (SELECT id FROM cases WHERE retain_until < :on)",
    "DELETE FROM referrals WHERE case_id IN (SELECT id FROM cases WHERE retain_until < :on)",
    *CASCADE,
]
VARIANTS = {
    "bare_cascade": ("bare, cascade", WITHDRAWALS + CASCADE),
    "bare_tables": ("bare, by table", WITHDRAWALS + BY_TABLE),
    "bare_deletes": ("bare, deletions only", CASCADE),
}
SAME_WORK = ("bare_cascade", "bare_tables", "purge")


class Statements:
    """The statements an engine runs, in groups split at each commit."""

    def __init__(self, engine: Engine) -> None:
        self.groups: list[list[str]] = [[]]
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, _connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.groups[-1].append(statement)

    def _commit(self, *_args: Any) -> None:
        self.groups.append([])

    def batches(self) -> list[int]:
        """Statements in each transaction that erased cases."""
        return [
            len(group)
            for group in self.groups
            if any(s.lstrip().upper().startswith("DELETE FROM CASES") for s in group)
        ]


def run_bare(copy: Copy, statements: list[str], on: dt.date) -> float:
    compiled = [text(s).bindparams(bindparam("on", type_=Date)) for s in statements]
    engine = Database.engine(copy.app)
    started = time.perf_counter()
    with engine.begin() as connection:
        for statement in compiled:
            connection.execute(statement, {"on": on})
    return time.perf_counter() - started


def run_purge(copy: Copy, batch: int, on: dt.date) -> tuple[float, list[int], int]:
    statements = Statements(Database.engine(copy.app))
    with copy.app.app_context():
        db = Database.new_session(copy.app)
        started = time.perf_counter()
        counts = purge(db, on=on, batch=batch)
        elapsed = time.perf_counter() - started
        db.close()
    return elapsed, statements.batches(), counts["cases"]


def run_one_by_one(copy: Copy, count: int, on: dt.date) -> float:
    with copy.app.app_context():
        db = Database.new_session(copy.app)
        ids = list(
            db.scalars(
                select(Case.id)
                .where(Case.retain_until < on)
                .order_by(Case.retain_until, Case.id)
                .limit(count)
            )
        )
        db.rollback()
        started = time.perf_counter()
        for case_id in ids:
            erase_case(db, Case(id=case_id), reason=WithdrawalReason.EXPIRED)
        elapsed = time.perf_counter() - started
        db.close()
    return elapsed


def warm(copy: Copy) -> None:
    """Read every table once, so no variant pays for the copy's cold pages alone."""
    with Database.engine(copy.app).connect() as connection:
        for table in Base.metadata.sorted_tables:
            connection.execute(select(func.count()).select_from(table)).scalar()


def state(copy: Copy, on: dt.date) -> tuple[dict[str, int], set[tuple[Any, ...]], int]:
    """Rows in every table, the withdrawal records, and expired cases left."""
    with Database.engine(copy.app).connect() as connection:
        counts = {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
        }
        withdrawals = {
            (h, r, s, str(w))
            for h, r, s, w in connection.execute(
                select(
                    Withdrawal.hotline_id,
                    Withdrawal.referral_id,
                    Withdrawal.feed_seq,
                    Withdrawal.reason,
                )
            )
        }
        left = connection.execute(
            select(func.count()).select_from(Case).where(Case.retain_until < on)
        ).scalar_one()
    return counts, withdrawals, left


def source(copy: Copy, on: dt.date) -> tuple[int, int, int]:
    """Expired cases, their referrals, and the cases to keep, before anything runs."""
    with Database.engine(copy.app).connect() as connection:
        cases = connection.execute(
            select(func.count()).select_from(Case).where(Case.retain_until < on)
        ).scalar_one()
        referrals = connection.execute(
            select(func.count())
            .select_from(Referral)
            .where(Referral.case_id.in_(select(Case.id).where(Case.retain_until < on)))
        ).scalar_one()
        kept = connection.execute(
            select(func.count()).select_from(Case).where(Case.retain_until >= on)
        ).scalar_one()
    return cases, referrals, kept


@dataclasses.dataclass
class Result:
    place: str
    expired: int
    referrals: int
    kept: int
    times: dict[str, list[float]] = dataclasses.field(default_factory=lambda: defaultdict(list))
    batches: list[int] = dataclasses.field(default_factory=list)
    one_by_one: tuple[int, float] | None = None
    problems: list[str] = dataclasses.field(default_factory=list)

    def rate(self, key: str) -> float:
        return self.expired / statistics.median(self.times[key])


def measure(place: Place, args: argparse.Namespace, instance: Path) -> Result:
    on = today()
    result: Result | None = None
    reference: tuple[dict[str, int], set[tuple[Any, ...]]] | None = None
    order = ["purge", "bare_cascade", "bare_tables", "bare_deletes"]
    order += [f"purge:{size}" for size in args.also_batches]
    for round_number in range(args.rounds):
        turned = order[round_number % len(order) :] + order[: round_number % len(order)]
        for key in turned:
            copy = place.fresh(instance / f"{place.name}-{round_number}-{key}")
            try:
                if result is None:
                    result = Result(place.name, *source(copy, on))
                warm(copy)
                if key.startswith("purge"):
                    size = int(key.partition(":")[2] or args.batch)
                    elapsed, batches, erased = run_purge(copy, size, on)
                    if key == "purge":
                        result.batches = batches
                    if erased != result.expired:
                        result.problems.append(f"{key} erased {erased} of {result.expired}")
                else:
                    elapsed = run_bare(copy, VARIANTS[key][1], on)
                result.times[key].append(elapsed)
                counts, withdrawals, left = state(copy, on)
                if left or counts["cases"] != result.kept:
                    result.problems.append(
                        f"{key}: {left} expired cases left, {counts['cases']} of {result.kept} kept"
                    )
                if key in SAME_WORK or key.startswith("purge"):
                    if reference is None:
                        reference = (counts, withdrawals)
                    elif (counts, withdrawals) != reference:
                        differ = {t for t in counts if counts[t] != reference[0].get(t)}
                        result.problems.append(f"{key}: rows differ from the others in {differ}")
                print(
                    f"  {place.name} round {round_number + 1}: {key:<14} {elapsed:8.3f} s",
                    flush=True,
                )
            finally:
                place.drop(copy)
    assert result is not None
    if args.one_by_one:
        copy = place.fresh(instance / f"{place.name}-one-by-one")
        try:
            count = min(args.one_by_one, result.expired)
            warm(copy)
            result.one_by_one = (count, run_one_by_one(copy, count, on))
        finally:
            place.drop(copy)
    return result


def report(result: Result, args: argparse.Namespace) -> bool:
    print()
    print(
        f"{result.place}: {result.expired:,} cases past retention ({result.referrals:,} "
        f"referrals) among {args.expired + args.kept:,}, batches of {args.batch}, "
        f"{args.rounds} rounds (medians)"
    )
    reference = max(("bare_cascade", "bare_tables"), key=result.rate)
    rows = [(VARIANTS[k][0], k, len(VARIANTS[k][1])) for k in VARIANTS] + [
        ("purge (the app)", "purge", None)
    ]
    for label, key, count in rows:
        seconds = statistics.median(result.times[key])
        statements = f"{count} statements" if count else "per batch below"
        mark = "  <- reference" if key == reference else ""
        print(
            f"  {label:<24}{seconds:9.3f} s{result.rate(key):10,.0f} cases/s   {statements}{mark}"
        )
    for size in args.also_batches:
        key = f"purge:{size}"
        seconds = statistics.median(result.times[key])
        share = result.rate(key) / result.rate(reference)
        print(
            f"  {'purge, batches of ' + str(size):<24}{seconds:9.3f} s{result.rate(key):10,.0f} "
            f"cases/s   ratio {share:.2f} (for information)"
        )
    ratio = result.rate("purge") / result.rate(reference)
    deletes = result.rate("purge") / result.rate("bare_deletes")
    last = result.expired % args.batch or args.batch
    print(
        f"  statements per batch: {sorted(set(result.batches[:-1]))} in each of "
        f"{len(result.batches) - 1} batches of {args.batch} cases, {result.batches[-1]} in "
        f"the last one, of {last}"
    )
    if result.one_by_one:
        count, seconds = result.one_by_one
        print(
            f"  one by one (erase_case, {count:,} cases, for information): "
            f"{count / seconds:,.0f} cases/s, {result.rate('purge') * seconds / count:.0f} "
            "times slower than the purge"
        )
    ok = ratio >= TARGET and not result.problems
    print(
        f"  purge / reference: {ratio:.2f} (target at least {TARGET}); purge / deletions only: "
        f"{deletes:.2f} (for information)"
    )
    for problem in list(dict.fromkeys(result.problems))[:10]:
        print(f"  PROBLEM: {problem}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--expired", type=int, default=10_100)
    parser.add_argument("--kept", type=int, default=40_000)
    parser.add_argument("--batch", type=int, default=PURGE_BATCH)
    parser.add_argument(
        "--also-batches",
        type=lambda text: [int(n) for n in text.split(",") if n],
        default=[],
        help="other batch sizes to time the purge with, for information (e.g. 500,1000)",
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--one-by-one", type=int, default=1000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--reuse", action="store_true", help="keep a PostgreSQL seed made before")
    args = parser.parse_args()
    base = make_url(args.database_url)
    if not base.drivername.startswith("postgresql") or base.database == "test":
        raise SystemExit("give a PostgreSQL URL of a database of the benchmark's own")
    folder = Path(tempfile.mkdtemp(prefix="bench-purge-"))
    places: list[Place] = []
    if args.only != "postgresql":
        places.append(SQLitePlace(folder))
    if args.only != "sqlite":
        places.append(PostgresPlace(args.database_url))
    results = []
    try:
        for place in places:
            place.prepare(args, folder / f"{place.name}-seed")
            results.append(measure(place, args, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ok = all([report(result, args) for result in results])
    print()
    print(f"target: the purge at least {TARGET} of bare SQL's rate: {'met' if ok else 'MISSED'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
