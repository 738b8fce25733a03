"""Benchmark: the hotline systems API at 1,000 and at 100,000 cases, on PostgreSQL (issue 16).

    .venv/bin/python bench/hotline_api.py [--reuse] [--rounds 9] [--small 1000] [--large 100000]

What is measured. With an API key of the hotline with the most referrals (made through the app's
own ``create_key``), the Flask test client calls: the changes feed from the beginning (a full
page of 100), from a cursor in the middle of the feed (a full page), from a cursor near its end
(what a system polling every minute gets: the newest changes), one referral in full (three places,
the same one ``staff_pages.py`` reads), its messages, and an action (``assign``, from one
colleague to the other and back, each with the version it read). Each call is made once to
warm up, then ``--rounds`` times, the two sizes interleaved call by call, and the median is
reported with the ratio (large / small) and the SQL statements one call executes at each size
(counted on the app's engine in the timed rounds: the key's look-up and the audit write count
too; the day's first call of a key also marks it used, one statement more, once a day).

How to read it. The target (issue 16): every ratio at most 1.3, and a call's statement count the
same at both sizes; a full page of the feed (100 referrals) the same count as any other full page.
A line that misses is marked MISS and the run exits with status 1, after printing everything.
Other work on the same machine makes times noisy: run again before trusting one miss.

The data is ``staff_pages.py``'s: the same two databases (``bench_staff_small`` and
``bench_staff_large`` by default), seeded by its code the same way (see its docstring), so one
seeding serves both benchmarks; ``--reuse`` keeps them. Nothing here opens a network connection
other than to the local PostgreSQL server.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import staff_pages
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.engine import make_url

from assistant.extensions import Database
from assistant.hotline.api_keys import create_key
from assistant.hotline.feed import cursor_for
from assistant.models import Account
from assistant.models import Referral
from assistant.services import Services

MAX_RATIO = 1.3
CALLS = [
    ("feed_first", "feed, first page (100)"),
    ("feed_middle", "feed, a page in the middle (100)"),
    ("feed_tail", "feed, the newest changes"),
    ("referral", "one referral in full (3 places)"),
    ("messages", "its messages"),
    ("act", "an action (assign to a colleague)"),
]
FULL_PAGES = ("feed_first", "feed_middle")


@dataclasses.dataclass
class Size:
    label: str
    app: Flask
    client: FlaskClient
    log: staff_pages.StatementLog
    headers: dict[str, str]
    urls: dict[str, str]
    colleagues: list[int]
    times: dict[str, list[float]] = dataclasses.field(default_factory=lambda: defaultdict(list))
    counts: dict[str, list[int]] = dataclasses.field(default_factory=lambda: defaultdict(list))
    statements: dict[str, int] = dataclasses.field(default_factory=dict)
    listed: dict[str, int] = dataclasses.field(default_factory=dict)
    problems: list[str] = dataclasses.field(default_factory=list)
    assigned: bool = False


def setup(label: str, app: Flask, hotline_id: str) -> Size:
    services: Services = app.extensions["assistant.services"]
    with Database.new_session(app) as db:
        key = create_key(db, services.directory, hotline_id, "bench", ["read", "act"], by=None)
        seqs = list(
            db.scalars(
                select(Referral.feed_seq)
                .where(Referral.hotline_id == hotline_id, Referral.feed_seq > 0)
                .order_by(Referral.feed_seq)
            )
        )
        colleagues = list(
            db.scalars(
                select(Account.id)
                .where(Account.hotline_id == hotline_id)
                .order_by(Account.id)
                .limit(2)
            )
        )
    if len(seqs) < 300 or len(colleagues) < 2:
        raise SystemExit(f"{hotline_id} has too few referrals in its feed at {label}")
    referral_id = staff_pages.sample_referral(app, hotline_id)
    middle = cursor_for(services, hotline_id, seqs[len(seqs) // 2])
    tail = cursor_for(services, hotline_id, seqs[-5])
    reference = f"RRA-{referral_id}"
    return Size(
        label,
        app,
        app.test_client(),
        staff_pages.StatementLog(Database.engine(app)),
        {"Authorization": f"Bearer {key.raw}"},
        {
            "feed_first": "/api/v1/hotline/referrals",
            "feed_middle": f"/api/v1/hotline/referrals?after={middle}",
            "feed_tail": f"/api/v1/hotline/referrals?after={tail}",
            "referral": f"/api/v1/hotline/referrals/{reference}",
            "messages": f"/api/v1/hotline/referrals/{reference}/messages",
            "act": f"/api/v1/hotline/referrals/{reference}/actions",
        },
        colleagues,
    )


def call_once(size: Size, key: str) -> float:
    body: dict[str, Any] | None = None
    if key == "act":
        current = size.client.get(size.urls["referral"], headers=size.headers).get_json()
        assigned = (current.get("assigned_to") or {}).get("id")
        first, second = size.colleagues
        body = {
            "action": "assign",
            "version": current["version"],
            # From one colleague to the other: every call the same work, the referral always
            # assigned (so its page's statements do not change between rounds either).
            "assignee": second if assigned == first else first,
        }
    size.log.statements.clear()
    size.log.on = True
    started = time.perf_counter()
    if body is not None:
        response = size.client.post(size.urls[key], json=body, headers=size.headers)
    else:
        response = size.client.get(size.urls[key], headers=size.headers)
    answer = response.get_json()
    elapsed = time.perf_counter() - started
    size.log.on = False
    if response.status_code != 200:
        size.problems.append(f"{key}: HTTP {response.status_code} {answer}")
    if key.startswith("feed"):
        size.listed[key] = len(answer.get("referrals", []))
    size.counts[key].append(len(size.log.statements))
    return elapsed


def report(small: Size, large: Size) -> bool:
    print()
    print(
        f"{'call':<46}{small.label + ' ms':>12}{large.label + ' ms':>14}{'ratio':>8}"
        f"{'SQL ' + small.label:>11}{'SQL ' + large.label:>13}  verdict"
    )
    ok = True
    for key, label in CALLS:
        a = statistics.median(small.times[key]) * 1000
        b = statistics.median(large.times[key]) * 1000
        ratio = round(b / a, 2) if a else float("inf")
        miss = []
        if ratio > MAX_RATIO:
            miss.append("ratio")
        if large.statements[key] != small.statements[key]:
            miss.append("SQL grows")
        ok = ok and not miss
        listed = f" [{large.listed[key]} listed]" if key in large.listed else ""
        print(
            f"{label + listed:<46}{a:>12.2f}{b:>14.2f}{ratio:>8.2f}"
            f"{small.statements[key]:>11}{large.statements[key]:>13}  "
            f"{'MISS: ' + ', '.join(miss) if miss else 'ok'}"
        )
    for size in (small, large):
        pages = {size.statements[key] for key in FULL_PAGES}
        full = all(size.listed[key] == 100 for key in FULL_PAGES)
        if len(pages) != 1 or not full:
            ok = False
            print(f"MISS at {size.label}: full pages of the feed take {sorted(pages)} statements")
        for problem in size.problems[:5]:
            ok = False
            print(f"problem at {size.label}: {problem}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=staff_pages.DEFAULT_URL)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--advance-share", type=float, default=0.15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reuse", action="store_true", help="keep databases seeded earlier")
    args = parser.parse_args()
    base = make_url(args.database_url)
    if not base.drivername.startswith("postgresql") or base.database == "test":
        raise SystemExit("this benchmark runs on a PostgreSQL database of its own")
    instance = Path(tempfile.mkdtemp(prefix="bench-hotline-api-"))
    apps = {}
    for label, count in (("small", args.small), ("large", args.large)):
        url = base.set(database=f"{base.database}_{label}").render_as_string(hide_password=False)
        apps[label] = staff_pages.prepare(url, count, args, instance / label)
    hotline_id, referral_count = staff_pages.busiest_hotline(apps["large"])
    sizes = [
        setup(f"{count:,}", apps[label], hotline_id)
        for label, count in (("small", args.small), ("large", args.large))
    ]
    print(f"hotline: {hotline_id}, {referral_count:,} referrals at {sizes[1].label}")
    print(f"timing {len(CALLS)} calls, {args.rounds} rounds, sizes interleaved...", flush=True)
    for size in sizes:
        for key, _label in CALLS:
            call_once(size, key)
    for _round in range(args.rounds):
        for key, _label in CALLS:
            for size in sizes:
                size.times[key].append(call_once(size, key))
    for size in sizes:
        # The count of the timed rounds (the warm-up's first call also marks the key used today).
        size.statements = {key: statistics.mode(size.counts[key][1:]) for key, _l in CALLS}
    ok = report(sizes[0], sizes[1])
    print()
    print(f"target: every ratio <= {MAX_RATIO}, SQL not growing: {'met' if ok else 'MISSED'}")
    for app in apps.values():
        Database.engine(app).dispose()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
