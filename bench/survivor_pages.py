"""Benchmark: the survivor's pages against a bare Flask "hello world" under gunicorn (issue 18).

    .venv/bin/python bench/survivor_pages.py [--rounds 5] [--seconds 2] [--clients 4] \\
        [--cases 10x6,1x1] [--checks 12] [--keep]

What it starts, all on 127.0.0.1 and all its own: the app (``assistant:create_app()``) and a bare
Flask app that answers "hello world" (:func:`bare_app`), each under gunicorn with the shipped
``assistant.gunicorn_conf`` (its two workers, its access log) on a port of its own. The app runs as
in production behind a reverse proxy (``ASSISTANT_ENV=production``, secure cookies, one proxy
trusted, rate limits in memory as one instance has them) on a SQLite database in a temporary
folder, made by the app factory and the migrations, with a case filed through the intake for each
size in ``--cases`` (PLACESxHOTLINES): by default the issue's "case of 10 places at 6 hotlines"
and a case of one place, each with three referrals (or its one) acknowledged, messages both ways
and an advocate with access (so the status page shows everything it can): ``tests/busy_case.py``,
the case the tests count these pages' statements on. Every request is sent
as the proxy would send it (``Host``, ``X-Forwarded-Proto: https``, ``X-Forwarded-For``), to both
apps alike.

What it measures:

- Requests a second for each page, with ``--clients`` connections at a time (raw sockets, one
  request per connection, as gunicorn's sync workers answer): the landing page (a first visit, no
  cookie), the status page ``/my-request`` (with the session cookie the sign-in set), and
  ``GET /api/v1/requests/me`` (with the bearer token ``POST /api/v1/session`` gave for the
  receipt), the last two for each case, each against ``GET /`` of the bare app. Each page and
  the bare app take turns for ``--seconds`` each, the order swapped every round, for ``--rounds``
  rounds; the ratio (app / bare) of each round is taken, and the median printed. Beside it, for
  reading the figures, the processor time gunicorn's workers spent on each request (from
  /proc), which other work on the machine moves less than it moves the rates, and its ratio
  (bare / app).
- The receipt check: ``POST /check`` with the right passphrase (the form's CSRF token, the
  throttle, one Argon2 verification, the new session), one at a time, each from an address of its
  own, against one Argon2 verification of the same passphrase with the same parameters in this
  process, taken in turns (``--checks`` of each a round). The ratio is median / median. For
  information, the same for ``check_receipt`` called in this process (no HTTP, no session). The
  receipt is the first case's.

Targets (issue 18): landing at least 0.5, status page and ``requests/me`` at least 0.25 (for
every case), the receipt check at most 1.3. A miss is marked MISS and the run exits with status 1,
after printing everything. Both servers share the machine's processors with this script (its
clients do real work for each request): figures move by a tenth from run to run; compare the
ratios of one run, and run again before trusting one miss.

Nothing here opens a connection other than to 127.0.0.1. Both servers are stopped by their
process id at the end, on an error or Ctrl+C too; the temporary folder is removed (``--keep``
keeps it, with both servers' logs).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant import create_app
from assistant.cases.receipts import PassphraseHasher
from assistant.cases.receipts import ReceiptThrottle
from assistant.cases.receipts import check_receipt
from assistant.cli import upgrade_database
from assistant.extensions import Database
from assistant.services import Services
from tests.busy_case import TLDS
from tests.busy_case import Filed
from tests.busy_case import file_case

PROJECT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
# The address people reach the service at; sent as Host, as a reverse proxy would.
PUBLIC_HOST = "assistant.bench.example"
TARGETS = {"landing": 0.5, "status": 0.25, "requests_me": 0.25}
MAX_RECEIPT_RATIO = 1.3
# The sizes of case timed, PLACESxHOTLINES: the "case of 10 places at 6 hotlines" first.
DEFAULT_CASES = "10x6,1x1"
PAGES = [
    ("landing", "landing page (first visit)"),
    ("status", "status page /my-request (signed in)"),
    ("requests_me", "GET /api/v1/requests/me (token)"),
]


def bare_app() -> Flask:
    """The reference: the least a Flask app can do for a request."""
    app = Flask("bare")

    @app.get("/")
    def hello() -> str:
        return "hello world"

    return app


class BenchError(Exception):
    """Something the run cannot go on without (a server that does not start, ...)."""


# --- the app's settings and data ---


def app_settings(folder: Path) -> dict[str, Any]:
    """As in production behind one reverse proxy; the rate limits as one instance keeps them."""

    def key() -> str:
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")

    return {
        "env": "production",
        "secure_cookies": True,
        "secret_key": secrets.token_urlsafe(48),
        "master_keys": f"1:{key()}",
        "hash_key": key(),
        "database_url": f"sqlite:///{folder / 'bench.sqlite3'}",
        "trusted_proxies": 1,
        "public_url": f"https://{PUBLIC_HOST}",
    }


def env_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def seed(settings: dict[str, Any], folder: Path, sizes: list[tuple[int, int]]) -> list[Filed]:
    """Migrate the database and file a case of each size (places, hotlines)."""
    app = create_app({"instance_path": str(folder / "instance"), **settings})
    upgrade_database(app)
    try:
        return [file_case(app, places, hotlines) for places, hotlines in sizes]
    finally:
        Database.engine(app).dispose()


# --- servers ---


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def workers(self) -> list[int]:
        """gunicorn's workers: the master's children (from /proc)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # "pid (name) state ppid ...": the name may hold spaces, so split after the last ")".
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                found.append(int(entry.name))
        return found

    def cpu_seconds(self) -> float:
        """Processor time its workers have used so far (user and system)."""
        total = 0
        for pid in self.workers():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        return total / os.sysconf("SC_CLK_TCK")

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return "\n".join(f"    {line}" for line in text[-lines:])


def gunicorn(name: str, app: str, folder: Path, env: dict[str, str], *extra: str) -> Server:
    """gunicorn with the shipped settings (its workers, its access log), on a port of its own."""
    port = unused_port()
    log = folder / f"{name}.log"
    command = Path(sys.executable).parent / "gunicorn"
    with log.open("wb") as handle:
        process = subprocess.Popen(  # noqa: S603 (our own command, no shell)
            [
                str(command),
                "--config",
                "python:assistant.gunicorn_conf",
                "--bind",
                f"{LOOPBACK}:{port}",
                *extra,
                app,
            ],
            cwd=PROJECT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(name, port, process, log)


def wait_until_answering(server: Server, path: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        if server.process.poll() is not None:
            raise BenchError(f"{server.name} stopped:\n{server.tail()}")
        try:
            if fetch(server.port, request_bytes("GET", path)).status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise BenchError(f"{server.name} did not answer {path}:\n{server.tail()}")
        time.sleep(0.2)


def stop(servers: list[Server]) -> None:
    for server in servers:
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGTERM)
    for server in servers:
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)


# --- the client: raw sockets, one request per connection ---


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


def request_bytes(
    method: str,
    path: str,
    *,
    address: str = "198.51.100.1",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> bytes:
    """A request as the reverse proxy in front would send it."""
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {PUBLIC_HOST}",
        "X-Forwarded-Proto: https",
        f"X-Forwarded-For: {address}",
        "Accept-Language: en",
        "Connection: close",
    ]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def fetch(port: int, raw: bytes) -> Answer:
    with socket.create_connection((LOOPBACK, port), timeout=60) as connection:
        connection.sendall(raw)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    data = b"".join(chunks)
    head, _sep, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = [tuple(line.split(": ", 1)) for line in lines[1:] if ": " in line]
    return Answer(status, headers, body)  # type: ignore[arg-type]


def cookie_from(answer: Answer, name: str) -> str:
    for value in answer.header("Set-Cookie"):
        if value.startswith(f"{name}="):
            return value.split(";", 1)[0]
    raise BenchError(f"no {name} cookie in the answer ({answer.status})")


@dataclass
class Rate:
    per_second: float
    failures: int
    # The workers' processor time for each request answered.
    cpu_per_request: float


def rate(server: Server, raw: bytes, seconds: float, clients: int, expect: int = 200) -> Rate:
    """Requests a second answered with ``expect``, ``clients`` connections at a time."""
    port = server.port
    done = [0] * clients
    failed = [0] * clients
    stop_at = time.monotonic() + seconds

    def client(n: int) -> None:
        while time.monotonic() < stop_at:
            try:
                ok = fetch(port, raw).status == expect
            except OSError:
                ok = False
            if ok:
                done[n] += 1
            else:
                failed[n] += 1

    cpu = server.cpu_seconds()
    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    answered = max(1, sum(done))
    return Rate(sum(done) / elapsed, sum(failed), (server.cpu_seconds() - cpu) / answered)


# --- the survivor's ways in ---


@dataclass
class SignedIn:
    cookie: str
    token: str
    visit_cookie: str
    csrf_token: str


CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def sign_in(port: int, filed: Filed) -> SignedIn:
    """The cookie the receipt form sets (and its CSRF token, kept for the receipt checks), the
    session cookie of a sign-in, and a token from the API."""
    form = fetch(port, request_bytes("GET", "/check"))
    found = CSRF.search(form.body.decode("utf-8", "replace"))
    if form.status != 200 or not found:
        raise BenchError(f"GET /check: {form.status}")
    visit = cookie_from(form, "__Host-rra_visit")
    token = found.group(1)
    answer = post_check(port, visit, token, filed, "198.51.100.2")
    if answer.status != 303:
        raise BenchError(f"POST /check: {answer.status}")
    cookie = cookie_from(answer, "__Host-rra_session")
    # The first visit of the status page keeps a CSRF secret in the session: after that, a page
    # like any other.
    first = fetch(port, request_bytes("GET", "/my-request", headers={"Cookie": cookie}))
    if first.status != 200:
        raise BenchError(f"GET /my-request: {first.status}")
    body = json.dumps({"case_number": filed.case_number, "passphrase": filed.passphrase})
    session = fetch(
        port,
        request_bytes(
            "POST",
            "/api/v1/session",
            headers={"Content-Type": "application/json"},
            body=body.encode(),
        ),
    )
    if session.status != 200:
        raise BenchError(f"POST /api/v1/session: {session.status} {session.body[:200]!r}")
    return SignedIn(cookie, json.loads(session.body)["token"], visit, token)


def post_check(port: int, visit: str, token: str, filed: Filed, address: str) -> Answer:
    form = urlencode(
        {"csrf_token": token, "case_number": filed.case_number, "passphrase": filed.passphrase}
    ).encode()
    return fetch(
        port,
        request_bytes(
            "POST",
            "/check",
            address=address,
            headers={"Cookie": visit, "Content-Type": "application/x-www-form-urlencoded"},
            body=form,
        ),
    )


# --- measuring ---


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


@dataclass
class ReceiptFigures:
    http: list[float]
    in_process: list[float]
    argon2: list[float]


def receipt_round(
    port: int,
    signed_in: SignedIn,
    filed: Filed,
    app: Flask,
    hasher: PassphraseHasher,
    stored_hash: str,
    checks: int,
    figures: ReceiptFigures,
    addresses: list[int],
) -> None:
    """``checks`` receipt checks over HTTP, as many in this process, and as many Argon2
    verifications, in turns; each HTTP check from an address of its own (the per-address limit
    is the route's, not what is measured)."""
    services: Services = app.extensions["assistant.services"]
    # The throttle as the app has it (memory), kept apart from the servers' own counts.
    throttle = ReceiptThrottle(
        "memory://", services.keyed_hasher, per_address="5 per 15 minutes", per_case="1000 per day"
    )

    def over_http(address: str) -> None:
        answer = post_check(port, signed_in.visit_cookie, signed_in.csrf_token, filed, address)
        if answer.status != 303:
            raise BenchError(f"POST /check answered {answer.status}")

    def in_process(address: str) -> None:
        with app.app_context(), Database.new_session(app) as db:
            check_receipt(
                db, services.passphrases, throttle, address, filed.case_number, filed.passphrase
            )
            db.commit()

    for _ in range(checks):
        addresses[0] += 1
        n = addresses[0]
        address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        figures.http.append(timed(lambda: over_http(address)))  # noqa: B023 (called at once)
        figures.argon2.append(timed(lambda: hasher.verify(stored_hash, filed.passphrase)))
        figures.in_process.append(timed(lambda: in_process(address)))  # noqa: B023


def case_sizes(text: str) -> list[tuple[int, int]]:
    """``--cases``: "10x6,1x1" is a case of 10 places at 6 hotlines and one of one place."""
    sizes = []
    for item in text.split(","):
        places, _x, hotlines = item.strip().partition("x")
        if not (places.isdigit() and hotlines.isdigit()):
            raise argparse.ArgumentTypeError(f"{item!r} is not PLACESxHOTLINES")
        size = (int(places), int(hotlines))
        if not 1 <= size[1] <= len(TLDS) or size[0] < size[1]:
            raise argparse.ArgumentTypeError(
                f"{item!r}: hotlines are 1 to {len(TLDS)}, with at least as many places"
            )
        sizes.append(size)
    return sizes


@dataclass
class Timed:
    """One page timed against the bare app (for one case, but the landing page)."""

    key: str
    label: str
    raw: bytes
    ratios: list[float]
    rates: list[float]
    bare_rates: list[float]
    cpu: list[float]
    bare_cpu: list[float]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0, help="per page and round")
    parser.add_argument("--clients", type=int, default=4, help="connections at a time")
    parser.add_argument(
        "--cases",
        type=case_sizes,
        default=case_sizes(DEFAULT_CASES),
        help=f"sizes of case, PLACESxHOTLINES, comma-separated (default {DEFAULT_CASES})",
    )
    parser.add_argument("--checks", type=int, default=12, help="receipt checks a round")
    parser.add_argument("--keep", action="store_true", help="keep the folder and the logs")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-survivor-"))
    settings = app_settings(folder)
    servers: list[Server] = []

    def interrupted(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        cases = seed(settings, folder, args.cases)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
        env.update({f"ASSISTANT_{name.upper()}": env_value(v) for name, v in settings.items()})
        app_server = gunicorn("app", "assistant:create_app()", folder, env)
        servers.append(app_server)
        bare = gunicorn(
            "bare", "survivor_pages:bare_app()", folder, env, "--pythonpath", str(PROJECT / "bench")
        )
        servers.append(bare)
        wait_until_answering(app_server, "/healthz")
        wait_until_answering(bare, "/")
        print(
            f"gunicorn with assistant.gunicorn_conf; {args.clients} connections at a time; "
            "each case with messages both ways and an advocate"
        )
        timed = [Timed("landing", PAGES[0][1], request_bytes("GET", "/"), [], [], [], [], [])]
        signed_in = []
        for filed in cases:
            print(f"case: {filed.places} places at {filed.hotlines} hotlines")
            signed = sign_in(app_server.port, filed)
            signed_in.append(signed)
            size = f"{filed.places} at {filed.hotlines}"
            status = request_bytes("GET", "/my-request", headers={"Cookie": signed.cookie})
            me = request_bytes(
                "GET", "/api/v1/requests/me", headers={"Authorization": f"Bearer {signed.token}"}
            )
            timed.append(Timed("status", f"status page ({size})", status, [], [], [], [], []))
            timed.append(Timed("requests_me", f"requests/me ({size})", me, [], [], [], [], []))
        hello = request_bytes("GET", "/")
        # In this process, for the receipt check's reference and its in-process figure.
        local = create_app({"instance_path": str(folder / "instance"), **settings})
        services: Services = local.extensions["assistant.services"]
        settings_now = services.settings
        hasher = PassphraseHasher(
            memory_kib=settings_now.argon2_memory_kib,
            time_cost=settings_now.argon2_time_cost,
            parallelism=settings_now.argon2_parallelism,
        )
        stored_hash = hasher.hash(cases[0].passphrase)  # type: ignore[arg-type]
        for page in timed:  # warm up: every worker has rendered every page once
            for _ in range(8):
                if fetch(app_server.port, page.raw).status != 200:
                    raise BenchError(f"{page.label} did not answer 200")
        failures = 0
        receipts = ReceiptFigures([], [], [])
        addresses = [0]
        print(f"timing {args.rounds} rounds of {args.seconds:g} s a page, in turns...", flush=True)
        for round_number in range(args.rounds):
            for page in timed:
                order = [(app_server, page.raw), (bare, hello)]
                if round_number % 2:
                    order.reverse()
                measured = {
                    server.name: rate(server, raw, args.seconds, args.clients)
                    for server, raw in order
                }
                failures += measured["app"].failures + measured["bare"].failures
                page.rates.append(measured["app"].per_second)
                page.bare_rates.append(measured["bare"].per_second)
                page.ratios.append(measured["app"].per_second / measured["bare"].per_second)
                page.cpu.append(measured["app"].cpu_per_request)
                page.bare_cpu.append(measured["bare"].cpu_per_request)
            receipt_round(
                app_server.port,
                signed_in[0],
                cases[0],
                local,
                hasher,
                stored_hash,
                args.checks,
                receipts,
                addresses,
            )
        Database.engine(local).dispose()
        return report(timed, receipts, failures)
    except BenchError as error:
        print(f"failed: {error}", file=sys.stderr)
        return 1
    finally:
        stop(servers)
        if args.keep:
            print(f"kept: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def report(timed: list[Timed], receipts: ReceiptFigures, failures: int) -> int:
    ok = failures == 0
    print()
    print(
        f"{'page':<40}{'app /s':>8}{'bare /s':>9}{'ratio':>7}{'target':>9}  verdict"
        f"{'cpu ms app':>12}{'bare':>6}{'ratio':>7}"
    )
    for page in timed:
        ratio = statistics.median(page.ratios)
        met = ratio >= TARGETS[page.key]
        ok = ok and met
        app_ms = statistics.median(page.cpu) * 1000
        bare_ms = statistics.median(page.bare_cpu) * 1000
        print(
            f"{page.label:<40}{statistics.median(page.rates):>8.0f}"
            f"{statistics.median(page.bare_rates):>9.0f}{ratio:>7.3f}"
            f"{'>= ' + str(TARGETS[page.key]):>9}  {'ok' if met else 'MISS':<7}"
            f"{app_ms:>12.2f}{bare_ms:>6.2f}{bare_ms / app_ms:>7.3f}"
        )
    argon2 = statistics.median(receipts.argon2)
    http = statistics.median(receipts.http)
    in_process = statistics.median(receipts.in_process)
    met = http / argon2 <= MAX_RECEIPT_RATIO
    ok = ok and met
    print()
    print(f"one Argon2 verification (this process):  {argon2 * 1000:7.2f} ms")
    print(
        f"receipt check, POST /check:               {http * 1000:7.2f} ms: ratio "
        f"{http / argon2:.2f} (target <= {MAX_RECEIPT_RATIO})  {'ok' if met else 'MISS'}"
    )
    print(
        f"check_receipt in this process:            {in_process * 1000:7.2f} ms: ratio "
        f"{in_process / argon2:.2f} (for information)"
    )
    if failures:
        print(f"MISS: {failures} requests were not answered as expected")
    print()
    print(f"targets: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
