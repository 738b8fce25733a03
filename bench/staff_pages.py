"""Benchmark: the hotline portal's pages at 1,000 and at 100,000 cases, on PostgreSQL (issue 14).

    .venv/bin/python bench/staff_pages.py \\
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_staff] \\
        [--small 1000] [--large 100000] [--rounds 7] [--reuse] [--explain] \\
        [--workers 2] [--advance-share 0.15] [--seed 7]

What is measured. For the hotline with the most referrals, signed in as one of its staff (password
and TOTP, through the sign-in page), the Flask test client requests eight pages: the queue's first
page, its last page (the ``rel="last"`` link of the first), a filtered queue
(``?flag=minor&sort=time_left``), the search by a pasted link (one of that hotline's places, as it
was seeded), "due today", one referral of three places (open, assigned and with notices where there
is one, so it has the same shape at both sizes), its JSON export and the provider page. Each page is
requested once to warm up, then ``--rounds`` times, the two sizes interleaved page by page, and the
median is reported. For each page the table gives the median at the small and the large size, the
ratio (large / small), the body's size in bytes and the SQL statements one request executes at each
size (counted with a ``before_cursor_execute`` listener on the app's engine; the session's own read
and write count too).

How to read it. The target (issue 14): every ratio at most 1.3, and a page's statement count the
same at both sizes (a count that grows with the data is an N+1). A line that misses either is
marked MISS and the run exits with status 1, after printing everything, so the script can be used as
a check. With ``--explain``, every SELECT a page runs against the case tables is run again at the
large size under ``EXPLAIN (ANALYZE, BUFFERS)`` with its real parameters: a "Seq Scan" on one of
the big tables (cases, referrals, locations, notices, referral_events, audit_events) is flagged, as
is a statement that reads more than a few thousand rows of them through an index (a scan of one
hotline's whole share is a scan that grows with the data, too; the provider figures' tables are
held to that as well). Other work on the same machine makes times noisy: run again before trusting
one miss.

How the data is made. Two databases, ``<name>_small`` and ``<name>_large`` (never the one named
``test``), each created, migrated with the app's own alembic path (what ``assistant init-db`` runs)
and seeded once by ``--workers`` processes; ``--reuse`` keeps a database seeded earlier with the
same size, seed and share (its database comment records them) and only brings its schema up to date
(new migrations, such as indexes, apply). Seed again after a change to what intake or the state
machine writes on a row. Cases are built with the app's own intake: the same ``collect_locations``
normalisation, ``plan_routes`` routing over the shipped directory and ``_store_locations`` as
``file_request``, so Case, Referral, Location and ReferralEvent rows, keyed hashes, sealed values
and the queue's columns on each referral are what production writes. 1 to 5 places a case: links on
known platforms, on a few thousand recurring small sites and on hosts seen once, accounts on known
platforms, .onion links, magnet links, free text, and links several survivors report (3% of places,
from a pool a fortieth the number of cases, so "already reported" flags exist at both sizes).
Categories, the under-18 answer, country and language vary; ``created_on`` is spread over the past
120 days, oldest case first.

What is not as in production, and why:
- One Argon2id passphrase hash is computed and shared by every seeded case: it is the one expensive
  step of filing (about 50 ms) and no page measured here reads it. Staff accounts (two a hotline)
  are enrolled with real password hashes.
- Cases are committed 500 at a time, and each case's places are stored with autoflush off. The
  batch's referrals take their numbers in their hotlines' changes feeds together, at the end of
  the batch, rather than case by case. The
  one look-up ``_store_locations`` makes per case (``open_cases_listing``: other open cases that
  list the same place) is run by the app's own function once per batch of 500, for all the
  batch's places, and answered per case from that (see ``BatchListing``): 100,000 single queries
  were a third of the filing time. It sees the cases of earlier batches but not those of its own,
  as the per-case query would with autoflush off: a link reported twice within one batch is not
  flagged "already reported". Nothing else is skipped.
- A sample of referrals proportional to the data (``--advance-share``, 15% by default, older
  referrals more likely; none of today's) is taken through the real state machine in
  ``assistant.hotline.referrals``: acknowledged (``acknowledge_many``), assessed
  (``assess_places``), noticed per provider (``record_notices``, which also keeps the provider
  figures), answered (``record_responses``), some closed (``close``) and some assigned
  (``assign_many``). Those functions date what they do today (status changes, events, audit),
  except notices and answers, which are dated within the referral's own history.
- The seeding connections run with ``synchronous_commit`` off (the state machine commits once per
  action); the timed apps do not. Tables are analysed while they fill, and VACUUM ANALYZE runs at
  the end, as autovacuum would have by then in production.
Nothing here opens a network connection other than to the local PostgreSQL server.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import datetime as dt
import hashlib
import html
import json
import multiprocessing
import random
import re
import statistics
import string
import sys
import tempfile
import time
from collections import Counter
from collections import defaultdict
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any
from unittest import mock

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant import create_app
from assistant.cases import intake
from assistant.cases.intake import LocationEntry
from assistant.cases.intake import _store_locations
from assistant.cases.intake import collect_within_limits
from assistant.cases.intake import plan_routes
from assistant.cases.receipts import new_case_number
from assistant.cases.receipts import new_passphrase
from assistant.cli import upgrade_database
from assistant.extensions import Database
from assistant.hotline import referrals as machine
from assistant.hotline.feed import stamp_referrals
from assistant.models import Account
from assistant.models import Base
from assistant.models import Case
from assistant.models import Location
from assistant.models import Notice
from assistant.models import Referral
from assistant.models import today
from assistant.people import audit
from assistant.people.accounts import complete_enrolment
from assistant.people.accounts import create_account
from assistant.routing import Directory
from assistant.routing.engine import place_key
from assistant.services import Services
from assistant.vocabulary import CHOSEN_CLOSE_REASONS
from assistant.vocabulary import FINISHED_STATUSES
from assistant.vocabulary import Assessment
from assistant.vocabulary import Category
from assistant.vocabulary import CloseReason
from assistant.vocabulary import FiledBy
from assistant.vocabulary import HarmfulSubtype
from assistant.vocabulary import Lane
from assistant.vocabulary import LocationStatus
from assistant.vocabulary import MinorAnswer
from assistant.vocabulary import ProviderResponse
from assistant.vocabulary import Role

# The app's look-up of other open cases listing a place (see BatchListing).
LISTING = intake.open_cases_listing
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_staff"
FORMAT = "staff_pages/1"  # bump when what is seeded changes, so --reuse seeds again
BATCH = 500
DAYS = 120
MAX_RATIO = 1.3
BIG_TABLES = ("cases", "referrals", "locations", "notices", "referral_events", "audit_events")
WATCHED_TABLES = (
    *BIG_TABLES,
    "provider_notice_months",
    "provider_notice_days",
    "provider_removal_months",
    "messages",
)
# A scan reading more rows than this from a case table (or the provider figures) is reported as
# growing with the data.
MANY_ROWS = 2000
# The seeded staff accounts' password (a benchmark database holds nothing real).
STAFF_PASSWORD = "a long benchmark passphrase 5521"  # noqa: S105
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
CSRF_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
LAST_LINK = re.compile(
    r'<a\s[^>]*href="([^"]+)"[^>]*rel="last"|<a\s[^>]*rel="last"[^>]*href="([^"]+)"'
)


def _key(label: str) -> str:
    """Fixed keys, so that a database seeded earlier (``--reuse``) opens and hashes alike."""
    digest = hashlib.sha256(f"bench/staff_pages.py {label}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


SECRETS = {
    "secret_key": "bench-staff-pages-" + _key("secret"),
    "master_keys": f"1:{_key('master')}",
    "hash_key": _key("hash"),
}

# --- what a survivor reports ---

GENERIC_TLDS = ["com", "net", "org", "info", "xyz", "io", "tv", "eu", "cc", "me", "site", "top"]
COUNTRY_TLDS = ["de", "fr", "co.uk", "jp", "ru", "com.br", "nl", "pl", "it", "es", "ca", "ie"]
COUNTRIES = [None] * 8 + ["IE", "FR", "DE", "US", "GB", "NL", "CA", "AU", "BR", "ES", "IT", "PL"]
LANGUAGES = ["en"] * 12 + ["fr", "es", "de", "nl", "pt_BR", "ar"]
CATEGORY_ODDS = {
    Category.ABUSE_MATERIAL: 0.6,
    Category.ABUSE_SERIES: 0.3,
    Category.SEXUALISED_CONTEXT: 0.25,
    Category.PHYSICAL_ABUSE: 0.1,
    Category.IDENTIFYING_INFORMATION: 0.2,
    Category.THREATS_HARASSMENT: 0.15,
    Category.UNSURE: 0.1,
}
MINOR_ANSWERS = [MinorAnswer.YES] * 6 + [MinorAnswer.UNSURE] * 2 + [MinorAnswer.NO, None]
NOTES = ["seen in a group chat", "my old school name is on it", "posted again last week", "cropped"]
OTHER_TEXTS = ["a private chat group", "a forum thread about my town", "a file shared at school"]
# Hosting companies the hotlines write down for sites the directory does not name.
HOSTING = [f"Hosting company {n:02d}" for n in range(1, 41)]


def _word(rng: random.Random, low: int = 4, high: int = 10) -> str:
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=rng.randint(low, high)))


@dataclasses.dataclass
class CaseSpec:
    entries: list[LocationEntry]
    popular: set[int]  # positions (1-based) of entries from the pool of links many report
    categories: set[Category]
    minor: MinorAnswer | None
    country: str | None
    language: str
    on: dt.date


class CaseFactory:
    """Reproducible cases: the same seed and count give the same cases, whichever worker makes
    each one."""

    def __init__(self, directory: Directory, count: int, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.provider_hosts = sorted(directory.provider_hosts)
        self.platforms = sorted(
            {p.aliases[0] for p in directory.providers.values() if p.aliases}, key=str.casefold
        )
        self.sites = [
            f"{_word(self.rng)}.{self.rng.choice(GENERIC_TLDS + COUNTRY_TLDS)}" for _ in range(3000)
        ]
        self.popular = [self._fresh_link() for _ in range(max(20, count // 40))]
        # Oldest first, as ids grow with time in production.
        first = today() - dt.timedelta(days=DAYS - 1)
        self.days = sorted(
            first + dt.timedelta(days=self.rng.randrange(DAYS)) for _ in range(count)
        )

    def _path(self) -> str:
        return "/".join(_word(self.rng, 3, 12) for _ in range(self.rng.randint(1, 3)))

    def _fresh_link(self) -> str:
        host = f"{_word(self.rng)}.{self.rng.choice(GENERIC_TLDS + COUNTRY_TLDS)}"
        return f"https://{host}/{self._path()}"

    def _entry(self) -> tuple[LocationEntry, bool]:
        rng = self.rng
        roll = rng.random()
        note = rng.choice(NOTES) if rng.random() < 0.15 else None
        if roll < 0.30:
            host = rng.choice(self.provider_hosts)
            sub = rng.choice(["", "", "www.", "i.", "m."])
            return LocationEntry("url", f"https://{sub}{host}/{self._path()}", note), False
        if roll < 0.55:
            site = rng.choice(self.sites)
            return LocationEntry(
                "url", f"https://{site}/{self._path()}?p={rng.randint(1, 999)}"
            ), False
        if roll < 0.82:
            return LocationEntry("url", self._fresh_link(), note), False
        if roll < 0.87:
            kind = rng.choice(["account", "account", "group"])
            return LocationEntry(kind, f"@{_word(rng)}", note, rng.choice(self.platforms)), False
        if roll < 0.90:
            onion = "".join(rng.choices(string.ascii_lowercase + "234567", k=56))
            return LocationEntry("url", f"http://{onion}.onion/{self._path()}"), False
        if roll < 0.93:
            digest = "".join(rng.choices("0123456789abcdef", k=40))
            return LocationEntry("p2p", f"magnet:?xt=urn:btih:{digest}"), False
        if roll < 0.97:
            return LocationEntry("other", rng.choice(OTHER_TEXTS), note), False
        return LocationEntry("url", rng.choice(self.popular)), True

    def case(self, index: int) -> CaseSpec:
        """Case number ``index``, the same whichever worker makes it."""
        self.rng = rng = random.Random(self.seed * 1_000_003 + index)
        count = rng.choices([1, 2, 3, 4, 5], weights=[35, 25, 18, 12, 10])[0]
        entries: list[LocationEntry] = []
        popular: set[int] = set()
        for position in range(1, count + 1):
            entry, is_popular = self._entry()
            entries.append(entry)
            if is_popular:
                popular.add(position)
        return CaseSpec(
            entries=entries,
            popular=popular,
            categories={c for c, odds in CATEGORY_ODDS.items() if rng.random() < odds},
            minor=rng.choice(MINOR_ANSWERS),
            country=rng.choice(COUNTRIES),
            language=rng.choice(LANGUAGES),
            on=self.days[index],
        )


# --- databases ---


def make_app(url: str, instance: Path) -> Flask:
    app = create_app(
        {
            "instance_path": str(instance),
            "database_url": url,
            "ratelimit_enabled": False,
            **SECRETS,
        }
    )
    app.config["TESTING"] = True
    return app


def admin_engine(url: str) -> Engine:
    return create_engine(
        make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )


def database_comment(url: str) -> dict[str, Any] | None:
    name = make_url(url).database
    engine = admin_engine(url)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text(
                    "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                    "WHERE datname = :name"
                ),
                {"name": name},
            ).first()
    finally:
        engine.dispose()
    if found is None:
        return None
    try:
        loaded = json.loads(found[0] or "null")
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def recreate_database(url: str) -> None:
    name = make_url(url).database or ""
    if name in ("test", "postgres", "template0", "template1") or not name.startswith("bench"):
        raise SystemExit(f"refusing to drop the database {name!r}: give a name starting 'bench'")
    engine = admin_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()


def set_database_comment(url: str, meta: dict[str, Any]) -> None:
    name = make_url(url).database
    literal = json.dumps(meta, sort_keys=True).replace("'", "''")
    engine = admin_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text(f"COMMENT ON DATABASE \"{name}\" IS '{literal}'"))
    finally:
        engine.dispose()


# --- seeding ---


def staff_email(hotline_id: str, number: int) -> str:
    return f"analyst{number}.{hotline_id.replace('_', '-')}@bench.example"


def totp_secret(email: str) -> str:
    """A TOTP secret the benchmark can find again for a database seeded earlier."""
    return base64.b32encode(hashlib.sha256(email.encode()).digest()[:20]).decode("ascii")


def enrol_staff(db: Session, services: Services, hotline_id: str, number: int) -> Account:
    email = staff_email(hotline_id, number)
    account = create_account(db, services.directory, email, Role.STAFF, hotline_id).account
    secret = totp_secret(email)
    complete_enrolment(
        db,
        services.passwords,
        services.cipher,
        account,
        STAFF_PASSWORD,
        secret,
        pyotp.TOTP(secret).now(),
    )
    return account


def _no_synchronous_commit(connection: Any, _record: Any) -> None:
    connection.execute("SET synchronous_commit TO off")
    connection.commit()  # a SET inside a transaction rolled back would be undone


def _worker_app(url: str) -> Flask:
    app = make_app(url, Path(tempfile.mkdtemp(prefix="bench-staff-worker-")))
    # Durability is not needed while seeding: the state machine commits once per action.
    event.listen(Database.engine(app), "connect", _no_synchronous_commit)
    return app


class BatchListing:
    """Stands in for ``intake.open_cases_listing`` while seeding: the app's own query, run once
    for the 500 cases of a batch (:meth:`fetch`) instead of once per case, then answered per case
    from what it found. Each case's places are stored with autoflush off, so the per-case query
    would not see the cases of its own batch either: the answers are the same."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def fetch(self, db: Session, value_hashes: set[str]) -> None:
        self.counts = LISTING(db, sorted(value_hashes), exclude_case_id=None)

    def __call__(
        self, db: Session, value_hashes: Sequence[str], *, exclude_case_id: int | None
    ) -> dict[str, int]:
        return {h: self.counts[h] for h in value_hashes if h in self.counts}


def file_cases(
    url: str, count: int, seed: int, passphrase_hash: str, worker: int, workers: int
) -> dict[str, tuple[int, str]]:
    """File this worker's share of ``count`` cases (every ``workers``-th batch of 500, so ids
    still grow with time) through the app's intake. Returns, per hotline, the newest case index
    and a link one of its referrals holds there, as it was typed (for the search by link)."""
    app = _worker_app(url)
    services: Services = app.extensions["assistant.services"]
    factory = CaseFactory(services.directory, count, seed)
    search_links: dict[str, tuple[int, str]] = {}
    started = time.perf_counter()
    batches = range(worker * BATCH, count, workers * BATCH)
    listing = BatchListing()
    stamped: list[Referral] = []
    with (
        app.app_context(),
        Database.new_session(app) as db,
        mock.patch.object(intake, "open_cases_listing", listing),
        # Each case puts its referrals in their hotlines' changes feeds; 500 cases share one
        # transaction here, so they are put there together, once, at the end of the batch (as
        # one filing does for its own referrals: every counter in one order, so two seeding
        # processes never wait on each other's counters in a circle).
        mock.patch.object(intake, "stamp_referrals", lambda _db, refs: stamped.extend(refs)),
    ):
        for number, start in enumerate(batches, start=1):
            planned_cases = []
            for index in range(start, min(start + BATCH, count)):
                spec = factory.case(index)
                batch = collect_within_limits(spec.entries, services)
                if not batch.accepted:
                    fallback = LocationEntry("url", factory._fresh_link())
                    batch = collect_within_limits([fallback], services)
                plan = plan_routes(batch.accepted, services, spec.country)
                planned_cases.append((index, spec, batch, plan))
            listing.fetch(
                db,
                {
                    services.keyed_hasher.digest(place_key(loc, services.directory), "location")
                    for _i, _s, batch, _p in planned_cases
                    for loc in batch.accepted
                },
            )
            filed: list[Case] = []
            for index, spec, batch, plan in planned_cases:
                case = Case(
                    case_number=new_case_number(),
                    passphrase_hash=passphrase_hash,
                    language=spec.language,
                    survivor_country=spec.country,
                    categories=sorted(spec.categories),
                    minor_in_material=spec.minor,
                    filed_by=FiledBy.SURVIVOR,
                    created_on=spec.on,
                    retain_until=spec.on + dt.timedelta(days=services.settings.retention_days),
                    failed_checks=0,
                    lockouts=0,
                    must_change_passphrase=False,
                )
                db.add(case)
                with db.no_autoflush:
                    _store_locations(db, services, case, batch.accepted, plan, spec.on)
                filed.append(case)
                for planned in plan:
                    for location_index in planned.location_indexes:
                        position = batch.positions[location_index][0]
                        entry = spec.entries[position - 1]
                        if entry.kind == "url" and position not in spec.popular:
                            search_links[planned.hotline.id] = (index, entry.value)
            db.flush()
            for case in filed:
                event_row = audit.record_on_case(db, audit.SURVIVOR, "case.filed", case.id)
                event_row.occurred_on = case.created_on
            db.flush()
            stamp_referrals(db, stamped)
            stamped.clear()
            db.commit()
            db.expunge_all()
            if worker == 0 and (number in (1, 5) or number % 10 == 0):
                # Fresh tables have no statistics: without them the planner scans locations for
                # the look-up, and seeding slows down as the table grows.
                db.execute(text("ANALYZE cases, referrals, locations"))
                db.commit()
            if worker == 0 and (number % 10 == 0 or number == len(batches)):
                done = min(count, number * BATCH * workers)
                rate = done / (time.perf_counter() - started)
                print(f"  filed about {done:>7,} cases ({rate:,.0f} a second)", flush=True)
    Database.engine(app).dispose()
    return search_links


def _provider_name(directory: Directory, location: Location, rng: random.Random) -> str:
    provider = directory.provider_for_host(location.host) or directory.provider_for_host(
        location.registrable_domain
    )
    return provider.name if provider is not None else rng.choice(HOSTING)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def choose_referrals(app: Flask, share: float, seed: int) -> list[int]:
    """``share`` of the referrals, older ones more likely (none of today's)."""
    rng = random.Random(seed * 31 + 1)
    on = today()
    with Database.engine(app).connect() as connection:
        rows = connection.execute(
            select(Referral.id, Referral.created_on).order_by(Referral.id)
        ).all()
    return [
        row.id for row in rows if rng.random() < share * 2 * (on - row.created_on).days / (DAYS - 1)
    ]


def enrol_teams(app: Flask) -> dict[str, list[tuple[int, str]]]:
    """Two active staff accounts for every hotline that has referrals (real password hashes)."""
    services: Services = app.extensions["assistant.services"]
    with app.app_context(), Database.new_session(app) as db:
        hotlines = sorted(db.scalars(select(Referral.hotline_id).distinct()))
        return {
            hotline_id: [(enrol_staff(db, services, hotline_id, n).id, hotline_id) for n in (1, 2)]
            for hotline_id in hotlines
        }


def advance_referrals(
    url: str,
    chosen: Sequence[int],
    teams: dict[str, list[tuple[int, str]]],
    seed: int,
    worker: int,
    workers: int,
) -> Counter[str]:
    """Take this worker's part of the chosen referrals (every ``workers``-th chunk of 400)
    through the state machine; returns how many of each action were done."""
    app = _worker_app(url)
    services: Services = app.extensions["assistant.services"]
    directory = services.directory
    team = {h: [machine.Staff(*member) for member in members] for h, members in teams.items()}
    done: Counter[str] = Counter()
    chunks = list(_chunks(chosen, 400))[worker::workers]
    with app.app_context(), Database.new_session(app) as db:
        for number, chunk in enumerate(chunks, start=1):
            found = list(
                db.scalars(
                    select(Referral)
                    .where(Referral.id.in_(chunk))
                    .order_by(Referral.id)
                    .options(
                        selectinload(Referral.locations).selectinload(Location.notices),
                        selectinload(Referral.events),
                        selectinload(Referral.case),
                    )
                )
            )
            by_hotline: dict[str, list[Referral]] = defaultdict(list)
            for referral in found:
                by_hotline[referral.hotline_id].append(referral)
            for hotline_id, group in by_hotline.items():
                for part in _chunks(group, 100):
                    machine.acknowledge_many(db, team[hotline_id][0], [(r, None) for r in part])
                    done["acknowledge"] += len(part)
            for referral in found:
                rng = random.Random(seed * 1_000_003 + referral.id)
                staff = team[referral.hotline_id][0]
                _advance_one(db, services, directory, rng, staff, referral, done)
            rng = random.Random(seed * 7_919 + chunk[0])
            for hotline_id, group in by_hotline.items():
                taken = [r for r in group if r.closed_reason is None and rng.random() < 0.4]
                for mate in team[hotline_id]:
                    mine = [r for r in taken if r.assigned_to is None and rng.random() < 0.5]
                    if mine:
                        machine.assign_many(db, mate, [(r, None) for r in mine], mate.account_id)
                        done["assign"] += len(mine)
            db.expunge_all()
            if worker == 0 and (number % 10 == 0 or number == len(chunks)):
                print(f"  advanced about {done['acknowledge'] * workers:>7,} referrals", flush=True)
    Database.engine(app).dispose()
    return done


def _advance_one(
    db: Session,
    services: Services,
    directory: Directory,
    rng: random.Random,
    staff: machine.Staff,
    referral: Referral,
    done: Counter[str],
) -> None:
    on = today()
    if rng.random() < 0.1:
        return  # acknowledged only
    groups: dict[tuple[Assessment, HarmfulSubtype | None], list[int]] = defaultdict(list)
    uniform = rng.random() < 0.7  # most referrals get one assessment for all their places
    first: tuple[Assessment, HarmfulSubtype | None] | None = None
    for location in referral.locations:
        if location.status != LocationStatus.WITH_HOTLINE:
            continue
        if first is None or not uniform:
            roll = rng.random()
            if roll < 0.45:
                first = (Assessment.CSAM, None)
            elif roll < 0.75:
                first = (Assessment.HARMFUL_ABUSIVE, rng.choice(list(HarmfulSubtype)))
            elif roll < 0.87:
                first = (Assessment.NOT_FOUND, None)
            else:
                first = (Assessment.NOT_ACTIONABLE, None)
        if first is not None:
            groups[first].append(location.id)
    for (assessment, subtype), ids in groups.items():
        machine.assess_places(db, staff, referral, ids, assessment, subtype)
        done["assess"] += 1
    by_provider: dict[tuple[str, str], list[Location]] = defaultdict(list)
    for location in referral.locations:
        called_for = machine.notice_type_for(location)
        if called_for is not None and location.status == LocationStatus.WITH_HOTLINE:
            by_provider[(_provider_name(directory, location, rng), called_for)].append(location)
    for (provider, notice_type), places in by_provider.items():
        if rng.random() < 0.1:
            continue  # assessed, notice not sent yet
        sent_on = min(on, referral.created_on + dt.timedelta(days=rng.randint(0, 6)))
        notices = machine.record_notices(
            db,
            services,
            staff,
            referral,
            [loc.id for loc in places],
            notice_type=notice_type,
            provider=provider,
            sent_on=sent_on,
            reference=f"T-{rng.randint(10000, 99999)}" if rng.random() < 0.5 else None,
        )
        done["notice"] += len(notices)
        roll = rng.random()
        answer = (
            ProviderResponse.REMOVED
            if roll < 0.55
            else ProviderResponse.REFUSED
            if roll < 0.65
            else ProviderResponse.NO_RESPONSE
            if roll < 0.75
            else None
        )
        if answer is not None:
            response_on = min(on, sent_on + dt.timedelta(days=int(rng.expovariate(1 / 4))))
            machine.record_responses(
                db, staff, referral, [loc.id for loc in places], answer, response_on
            )
            done[f"response {answer}"] += 1
    finished = all(loc.status in FINISHED_STATUSES for loc in referral.locations)
    if (finished and rng.random() < 0.7) or rng.random() < 0.05:
        reason = CloseReason.COMPLETED if finished else rng.choice(CHOSEN_CLOSE_REASONS)
        machine.close(db, staff, referral, reason)
        done["close"] += 1


def in_workers(workers: int, function: Callable[..., Any], *args: Any) -> list[Any]:
    """``function(*args, worker, workers)`` in ``workers`` fresh processes (spawned: nothing of
    this process's connections is shared)."""
    if workers == 1:
        return [function(*args, 0, 1)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(function, *(*args, worker, workers)) for worker in range(workers)]
        return [future.result() for future in futures]


def summary(app: Flask) -> dict[str, int]:
    with Database.engine(app).connect() as connection:
        return {
            name: connection.execute(
                select(func.count()).select_from(Base.metadata.tables[name])
            ).scalar_one()
            for name in (*BIG_TABLES, "provider_notice_days")
        }


def prepare(url: str, count: int, args: argparse.Namespace, instance: Path) -> Flask:
    """A migrated, seeded database of ``count`` cases, and the app over it."""
    meta: dict[str, Any] = {
        "format": FORMAT,
        "cases": count,
        "seed": args.seed,
        "advance_share": args.advance_share,
    }
    found = database_comment(url) if args.reuse else None
    if found is not None and all(found.get(k) == v for k, v in meta.items()):
        app = make_app(url, instance)
        upgrade_database(app)  # new migrations (indexes) apply to a reused database too
        app.config["BENCH_META"] = found
        print(f"{make_url(url).database}: reusing {count:,} cases seeded {found.get('seeded_on')}")
        return app
    print(f"{make_url(url).database}: seeding {count:,} cases", flush=True)
    recreate_database(url)
    app = make_app(url, instance)
    upgrade_database(app)
    started = time.perf_counter()
    services: Services = app.extensions["assistant.services"]
    passphrase_hash = services.passphrases.hash(new_passphrase())  # one hash for every case
    links: dict[str, tuple[int, str]] = {}
    for found_links in in_workers(args.workers, file_cases, url, count, args.seed, passphrase_hash):
        for hotline_id, (index, link) in found_links.items():
            if hotline_id not in links or links[hotline_id][0] < index:
                links[hotline_id] = (index, link)
    filed = time.perf_counter() - started
    with Database.engine(app).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    teams = enrol_teams(app)
    chosen = choose_referrals(app, args.advance_share, args.seed)
    actions: Counter[str] = Counter()
    for counted in in_workers(args.workers, advance_referrals, url, chosen, teams, args.seed):
        actions.update(counted)
    advanced = time.perf_counter() - started - filed
    with Database.engine(app).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    total = time.perf_counter() - started
    meta.update(
        seeded_on=today().isoformat(),
        search_links={hotline_id: link for hotline_id, (_i, link) in links.items()},
        seconds={
            "filing": round(filed, 1),
            "advancing": round(advanced, 1),
            "total": round(total, 1),
        },
        actions=dict(actions),
    )
    set_database_comment(url, meta)
    app.config["BENCH_META"] = meta
    print(
        f"  seeded in {total:,.1f} s: filing {filed:,.1f} s, staff and state machine "
        f"{advanced:,.1f} s ({len(chosen):,} referrals: "
        f"{', '.join(f'{k} {v:,}' for k, v in sorted(actions.items()))}), "
        "the rest VACUUM ANALYZE",
        flush=True,
    )
    return app


# --- timing ---


class StatementLog:
    """Every statement the app's engine sends while ``on``, with its parameters."""

    def __init__(self, engine: Engine) -> None:
        self.on = False
        self.statements: list[tuple[str, Any]] = []
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if self.on:
            self.statements.append((statement, parameters))


@dataclasses.dataclass
class Size:
    label: str
    app: Flask
    client: FlaskClient
    log: StatementLog
    urls: dict[str, str]
    times: dict[str, list[float]] = dataclasses.field(default_factory=lambda: defaultdict(list))
    statements: dict[str, int] = dataclasses.field(default_factory=dict)
    sizes: dict[str, int] = dataclasses.field(default_factory=dict)
    problems: list[str] = dataclasses.field(default_factory=list)
    search_form: dict[str, str] = dataclasses.field(default_factory=dict)


PAGES = [
    ("queue", "queue, first page"),
    ("last", "queue, last page"),
    ("filtered", "queue, ?flag=minor&sort=time_left"),
    ("search", "queue, search by link"),
    ("due", "due today"),
    ("referral", "one referral (3 places)"),
    ("export", "its export.json"),
    ("providers", "provider page"),
]


def busiest_hotline(app: Flask) -> tuple[str, int]:
    with Database.engine(app).connect() as connection:
        row = connection.execute(
            select(Referral.hotline_id, func.count())
            .group_by(Referral.hotline_id)
            .order_by(func.count().desc(), Referral.hotline_id)
            .limit(1)
        ).one()
    return row[0], row[1]


def sample_referral(app: Flask, hotline_id: str) -> int:
    """A referral of the hotline with three places, the same shape at both sizes so that their
    statement counts compare: open, assigned to a colleague of the signed-in analyst and with
    notices where such a one exists (else the first with three places or more)."""
    places = (
        select(Location.referral_id, func.count().label("places"))
        .group_by(Location.referral_id)
        .subquery()
    )
    noticed = (
        select(Location.referral_id)
        .join(Notice, Notice.location_id == Location.id)
        .where(Location.referral_id == Referral.id)
        .exists()
    )
    with Database.engine(app).connect() as connection:
        me = connection.execute(
            select(Account.id).where(Account.email == staff_email(hotline_id, 1))
        ).scalar_one()
        found = connection.execute(
            select(Referral.id)
            .join(places, places.c.referral_id == Referral.id)
            .where(Referral.hotline_id == hotline_id, places.c.places >= 3)
            .order_by(
                (places.c.places == 3).desc(),
                (Referral.lane == Lane.OPEN).desc(),
                (Referral.assigned_to.is_not(None) & (Referral.assigned_to != me)).desc(),
                noticed.desc(),
                Referral.id,
            )
            .limit(1)
        ).scalar()
    if found is None:
        raise SystemExit(f"{hotline_id} has no referral with three places")
    return int(found)


def signed_in_client(app: Flask, hotline_id: str) -> FlaskClient:
    services: Services = app.extensions["assistant.services"]
    email = staff_email(hotline_id, 1)
    with app.app_context(), Database.new_session(app) as db:
        account = db.scalar(select(Account).where(Account.email == email))
        if account is None:
            enrol_staff(db, services, hotline_id, 1)
        # Let the account accept the current TOTP step again (a run a moment ago spent it).
        db.execute(update(Account).where(Account.email == email).values(totp_last_step=0))
        db.commit()
    client = app.test_client()
    page = client.get("/account/sign-in").get_data(as_text=True)
    token = CSRF.search(page)
    assert token, "no sign-in form"
    signed = client.post(
        "/account/sign-in",
        data={
            "csrf_token": token.group(1),
            "email": email,
            "password": STAFF_PASSWORD,
            "code": pyotp.TOTP(totp_secret(email)).now(),
        },
    )
    if signed.status_code != 303:
        raise SystemExit(f"could not sign in as {email}: {signed.status_code}")
    return client


def page_urls(size: Size, hotline_id: str) -> dict[str, str]:
    meta = size.app.config["BENCH_META"]
    link = (meta.get("search_links") or {}).get(hotline_id)
    if not link:
        raise SystemExit(f"no seeded link recorded for {hotline_id}; seed again without --reuse")
    first = size.client.get("/hotline/").get_data(as_text=True)
    found = LAST_LINK.search(first)
    last = html.unescape(found.group(1) or found.group(2)) if found else None
    if last is None:
        size.problems.append("the first page has no rel=last link (one page only?)")
        last = "/hotline/?page=last"
    referral_id = sample_referral(size.app, hotline_id)
    # The search is a POST (a pasted link never goes into an address): its form data rides along.
    token = CSRF_TOKEN.search(first)
    size.search_form = {"q": link, "csrf_token": token.group(1) if token else ""}
    search = "/hotline/search"
    found_rows = (
        size.client.post(search, data=size.search_form)
        .get_data(as_text=True)
        .count('class="row-link"')
    )
    if found_rows != 1:
        size.problems.append(f"the search by link lists {found_rows} referrals, not 1")
    return {
        "queue": "/hotline/",
        "last": last,
        "filtered": "/hotline/?flag=minor&sort=time_left",
        "search": search,
        "due": "/hotline/due",
        "referral": f"/hotline/referrals/{referral_id}",
        "export": f"/hotline/referrals/{referral_id}/export.json",
        "providers": "/hotline/providers",
    }


def request_once(size: Size, key: str) -> tuple[float, int, int]:
    size.log.statements.clear()
    size.log.on = True
    started = time.perf_counter()
    if key == "search":
        response = size.client.post(size.urls[key], data=size.search_form)
    else:
        response = size.client.get(size.urls[key])
    body = response.get_data()
    elapsed = time.perf_counter() - started
    size.log.on = False
    if response.status_code != 200:
        size.problems.append(f"{key}: HTTP {response.status_code}")
    return elapsed, len(body), len(size.log.statements)


def time_pages(sizes: list[Size], rounds: int) -> None:
    for size in sizes:  # warm up: templates compiled, caches and pools filled
        for key, _label in PAGES:
            request_once(size, key)
    for _round in range(rounds):
        for key, _label in PAGES:
            for size in sizes:
                elapsed, length, count = request_once(size, key)
                size.times[key].append(elapsed)
                size.sizes[key] = length
                size.statements[key] = max(count, size.statements.get(key, 0))


def report(small: Size, large: Size) -> bool:
    print()
    print(
        f"{'page':<36}{small.label + ' ms':>12}{large.label + ' ms':>14}{'ratio':>8}"
        f"{'bytes ' + small.label:>16}{'bytes ' + large.label:>18}"
        f"{'SQL ' + small.label:>11}{'SQL ' + large.label:>13}  verdict"
    )
    ok = True
    for key, label in PAGES:
        a = statistics.median(small.times[key]) * 1000
        b = statistics.median(large.times[key]) * 1000
        ratio = round(b / a, 2) if a else float("inf")  # judged as printed
        grows = large.statements[key] > small.statements[key]
        miss = []
        if ratio > MAX_RATIO:
            miss.append(f"ratio > {MAX_RATIO}")
        if grows:
            miss.append("SQL grows")
        ok = ok and not miss
        print(
            f"{label:<36}{a:>12.1f}{b:>14.1f}{ratio:>8.2f}{small.sizes[key]:>16,}"
            f"{large.sizes[key]:>18,}{small.statements[key]:>11}{large.statements[key]:>13}  "
            f"{'MISS: ' + ', '.join(miss) if miss else 'ok'}"
        )
    for size in (small, large):
        for problem in dict.fromkeys(size.problems):
            print(f"PROBLEM at {size.label}: {problem}")
            ok = False
    return ok


# --- EXPLAIN ---

_TABLE = re.compile(r"\b(?:FROM|JOIN|UPDATE|INTO)\s+(\w+)", re.IGNORECASE)


def _walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _walk(child)


def explain(large: Size) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every SELECT each page sends to the case tables."""
    engine = Database.engine(large.app)
    print()
    print(f"EXPLAIN (ANALYZE, BUFFERS) at {large.label} cases, every SELECT on the case tables:")
    for key, label in PAGES:
        large.log.statements.clear()
        large.log.on = True
        large.client.get(large.urls[key])
        large.log.on = False
        captured = list(large.log.statements)
        print(f"\n== {label}: {large.urls[key][:90]} ({len(captured)} statements)")
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for statement, parameters in captured:
                tables = {t.lower() for t in _TABLE.findall(statement)}
                if not statement.lstrip().upper().startswith("SELECT") or not tables & set(
                    WATCHED_TABLES
                ):
                    continue
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters)
                row = cursor.fetchone()
                if row is not None:
                    _print_plan(cursor, statement, parameters, row[0][0])
            raw.rollback()
        finally:
            raw.close()


def _print_plan(cursor: Any, statement: str, parameters: Any, plan: dict[str, Any]) -> None:
    nodes = list(_walk(plan["Plan"]))
    scans = []
    flags = []
    for node in nodes:
        relation = node.get("Relation Name")
        if relation is None:
            continue
        rows = int(node.get("Actual Rows", 0) * node.get("Actual Loops", 1))
        removed = int(node.get("Rows Removed by Filter", 0) * node.get("Actual Loops", 1))
        scans.append(f"{node['Node Type']} on {relation} ({rows:,} rows)")
        if relation in BIG_TABLES and node["Node Type"] == "Seq Scan":
            flags.append(f"SEQ SCAN on {relation} ({rows + removed:,} rows read)")
        elif relation in WATCHED_TABLES and rows + removed > MANY_ROWS:
            flags.append(f"{node['Node Type']} reads {rows + removed:,} rows of {relation}")
    top = plan["Plan"]
    hits = top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
    one_line = " ".join(statement.split())
    print(
        f"  {plan['Execution Time']:8.2f} ms {hits:>7,} buffers  {one_line[:110]}"
        f"{'...' if len(one_line) > 110 else ''}"
    )
    print(f"      {'; '.join(scans) or 'no table read'}")
    if flags:
        print(f"      !! {'; '.join(flags)}")
        print(f"      SQL: {one_line}")
        print(f"      parameters: {parameters}")
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        for (line,) in cursor.fetchall():
            print(f"        {line}")


# --- main ---


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--advance-share",
        type=float,
        default=0.15,
        help="share of referrals taken through the state machine (default 0.15)",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="processes that seed (default 2, one a core)"
    )
    parser.add_argument("--reuse", action="store_true", help="keep databases seeded earlier")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN each page's SQL at --large")
    args = parser.parse_args()
    base = make_url(args.database_url)
    if not base.drivername.startswith("postgresql"):
        raise SystemExit("this benchmark runs on PostgreSQL")
    if base.database == "test":
        raise SystemExit("the database named 'test' belongs to the test suite; choose another")

    instance = Path(tempfile.mkdtemp(prefix="bench-staff-"))
    apps = {}
    for label, count in (("small", args.small), ("large", args.large)):
        url = base.set(database=f"{base.database}_{label}").render_as_string(hide_password=False)
        apps[label] = prepare(url, count, args, instance / label)

    hotline_id, referral_count = busiest_hotline(apps["large"])
    small_busiest, _n = busiest_hotline(apps["small"])
    sizes = []
    for label, count in (("small", args.small), ("large", args.large)):
        app = apps[label]
        client = signed_in_client(app, hotline_id)
        size = Size(f"{count:,}", app, client, StatementLog(Database.engine(app)), {})
        size.urls = page_urls(size, hotline_id)
        sizes.append(size)
        counts = summary(app)
        meta = app.config["BENCH_META"]
        with Database.engine(app).connect() as connection:
            mine = connection.execute(
                select(Referral.status, func.count())
                .where(Referral.hotline_id == hotline_id)
                .group_by(Referral.status)
            ).all()
        print(
            f"{size.label} cases: "
            + ", ".join(f"{table} {n:,}" for table, n in counts.items())
            + f"; seeding took {meta.get('seconds', {}).get('total', '?')} s"
        )
        print(
            f"  {hotline_id}: "
            + ", ".join(f"{status} {n:,}" for status, n in sorted(mine))
            + f"; referral page: {size.urls['referral']}"
        )
    note = "" if small_busiest == hotline_id else f" (at {sizes[0].label}: {small_busiest})"
    print(f"hotline: {hotline_id}, {referral_count:,} referrals at {sizes[1].label}{note}")
    print(f"timing {len(PAGES)} pages, {args.rounds} rounds, sizes interleaved...", flush=True)
    time_pages(sizes, args.rounds)
    ok = report(sizes[0], sizes[1])
    if args.explain:
        explain(sizes[1])
    print()
    print(
        f"target: every ratio <= {MAX_RATIO}, SQL per page not growing: {'met' if ok else 'MISSED'}"
    )
    for app in apps.values():
        Database.engine(app).dispose()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
