"""Two instances on one PostgreSQL and one Redis, one of everything killed half-way (issue 17,
"Two instances"): nothing lost, nothing sent twice that a receiver cannot recognise, every limit
shared.

    .venv/bin/python bench/two_instances.py \\
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_two] \\
        [--redis-url redis://127.0.0.1:6379/11] [--filings 200] [--clients 6] \\
        [--hook-delay 0.1] [--drain-timeout 300] [--real-claim-expiry]

What it starts, all on 127.0.0.1 and all its own: the database (dropped and created, migrated
with ``assistant init-db``; its name must start with ``bench``), the Redis database (flushed);
two app instances A and B (gunicorn with the shipped ``assistant.gunicorn_conf``, 2 workers
each, ``ASSISTANT_ENV=production``, the rate limits in Redis, one proxy trusted, as behind a
reverse proxy), two delivery workers (``assistant deliver --loop --interval 1``) and two chase
workers (``assistant chase --loop --interval 2``); and, in this process, what they deliver to:
an HTTPS webhook receiver for the two hotlines given a webhook intake (``hotline_ie`` for .ie
links, ``offlimits_nl`` for .nl; a throwaway certificate authority is trusted through
``ASSISTANT_TLS_CA_FILE``) that checks each Standard Webhooks signature and answers after
``--hook-delay`` seconds, as a hotline's system might, and an SMTP server with STARTTLS that
takes the notices to providers and their reminders. Both record every delivery with its id
(``webhook-id``; a notice's ``Message-ID``, made of its outbox key).

What it does, in order:

1. Limits, with both instances up, each counted through one address (sent as
   ``X-Forwarded-For``) or one key: the filing limit (10 filings through A, then A and B refuse;
   and 24 filings at once, half through each: no more than 10 accepted), the receipt limit per
   address (the same with wrong receipts), the per-case receipt lock (wrong passphrases through A
   until it locks, then the right one through B, from the same address, is refused; and 16
   wrong passphrases at once, half through each: no more passphrase checks than the lock
   allowed one after another), and a hotline API key's limit (640 calls at once through both:
   no more than 600 answered).
2. The workload, through both instances at once: ``--filings`` survivors file over the JSON API
   (each from an address of its own, with an ``Idempotency-Key``; 1 to 3 places routed to the
   two webhook hotlines and to a hotline without deliveries); one in four then signs in with
   the receipt and writes to the hotline, one in eight adds a place. Each webhook hotline's
   system (a feed poller and four workers, each with an API key of its own) follows its changes
   feed and takes every new referral on: read, acknowledge, assess every place, and for one
   referral in two send a notice through the app (``send_notice``), each action with the
   referral's version and an ``Idempotency-Key``. A call that finds no instance listening is
   sent again, with the same key, to the other. Meanwhile every notice is made due for its next
   reminder every two seconds (``notice_letters.next_chase_at``): the stand-in for the chase's
   24 hours, so the chase workers work the whole time.
3. Half-way (when half the filings are answered, and once two deliveries are in flight at the
   receivers, so the first delivery worker is in the middle of a send, or after 15 s): SIGKILL
   to the first delivery worker, the first chase worker and instance A's gunicorn master.
   Requests go on to A until one goes unanswered, as a load balancer notices; from then on
   everything goes to B. A's two workers, orphaned, answer what reaches them until they notice
   (gunicorn's workers look at their parent when no connection is waiting) and exit; the time
   they take is measured.
4. The killed delivery worker's claims (outbox rows it had taken, for 15 minutes from the claim,
   so that no other worker sends them meanwhile) are what recovery waits for. By default the
   script stands in for those 15 minutes by ending those claims now (``claimed_until``, only
   the dead worker's rows, after it is reaped); ``--real-claim-expiry`` waits for them instead.
5. The rest of the filings, through B; then it waits for the outbox to empty and no notice to be
   due (``--drain-timeout``), and checks.

What it checks (the run exits with status 1 if any check fails, after printing everything):

- Nothing lost: every filing answered 201 is in the database, with a referral to each hotline
  its answer named and every place; its receipt still opens it through B (``POST
  /api/v1/session``, ``GET /api/v1/requests/me``: every place there), except the cases the
  receipt-lock checks locked. Every outbox row ended sent (none pending or given up); every sent
  webhook and notice was received; every referral of a webhook hotline was announced
  (``referral.created``); every notice has one outbox row per reminder, all received.
- Nothing sent twice that a receiver cannot drop: a delivery is at least once. A worker killed
  after the receiver took a delivery but before it recorded it sent leaves the row claimed;
  once the claim ends another worker sends it again, with the same id. So every id received
  twice must be one the killed worker held; every webhook's ``delivery_id`` in its signed body
  equals its ``webhook-id``; each referral is announced under one id only; every hotline
  action, retried or not, took effect once (one notice per referral sent one, one timeline
  step per place and action).
- Every limit shared: the checks of step 1, each with the figures.
- The survivors kept running; the killed ones are gone.

A filing whose answer was lost to the kill (sent to A, no answer) is sent again to B with the
same ``Idempotency-Key``. Cases in the database that no answer named are counted; when the
OpenAPI document says filings take an ``Idempotency-Key``, there must be none.

Nothing here opens a connection other than to 127.0.0.1. Every process it starts is stopped by
its id when it ends, also on an error or Ctrl+C; the database is left for inspection (the next
run drops it).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import concurrent.futures
import datetime as dt
import email.parser
import email.policy
import json
import os
import queue
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import redis
import requests
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.hotline.delivery_support import TlsFiles
from tests.hotline.delivery_support import delivery_data
from tests.hotline.delivery_support import make_certificates
from tests.hotline.delivery_support import unused_port

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_two"
DEFAULT_REDIS = "redis://127.0.0.1:6379/11"
LOOPBACK = "127.0.0.1"
# The address people reach the service at; sent as Host, as a reverse proxy would.
PUBLIC_HOST = "assistant.bench.example"
# The limits, set explicitly so that the checks know them.
FILING_LIMIT = 10  # filings per address and hour
RECEIPT_LIMIT = 10  # receipt checks per address and minute
KEY_LIMIT = 600  # calls per API key and minute
LIMIT_SETTINGS = {
    "ASSISTANT_RATELIMIT_FILING": f"{FILING_LIMIT} per hour;40 per day",
    "ASSISTANT_RATELIMIT_RECEIPT": f"{RECEIPT_LIMIT} per minute;60 per hour",
    "ASSISTANT_RATELIMIT_HOTLINE_API": f"{KEY_LIMIT} per minute;20000 per hour",
}
# Hotlines given a webhook intake, and the top-level domain routed to each.
WEBHOOK_HOTLINES = {"hotline_ie": "ie", "offlimits_nl": "nl"}
# Routed to point_de_contact_fr, which takes no deliveries.
OTHER_TLD = "fr"
ACTORS_PER_HOTLINE = 4
NOTICE_RECIPIENT = "abuse@files.bench.example"
SMTP_FROM = "notices@assistant.bench.example"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
WRONG_PASSPHRASE = "wrong horse battery staple again"  # noqa: S105 (a wrong one, on purpose)
# The timeline steps of the actions the hotline systems take: each at most once per place.
ACTION_STEPS = ("with_hotline", "assessed", "notice_sent")
KEY_SCOPES = ("--scope", "read", "--scope", "act", "--scope", "message")


class BenchError(Exception):
    """Something the run cannot go on without (a process that does not start, ...)."""


# --- processes ---


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (name) state ppid ...": the name may hold spaces, so split after the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def is_running(pid: int, marker: bytes) -> bool:
    """Whether ``pid`` is alive (not a zombie) and its command line holds ``marker``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z" and marker in command


@dataclass
class Started:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


class Processes:
    """Every process this run starts, each stopped by its id at the end."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = env
        self.started: dict[str, Started] = {}
        # Workers of a gunicorn master this run killed: started by it, so stopped by it too.
        self.orphans: set[int] = set()

    def start(self, name: str, argv: list[str]) -> Started:
        log = self.folder / f"{name}.log"
        with log.open("wb") as handle:
            process = subprocess.Popen(  # noqa: S603 (our own commands, no shell)
                argv,
                cwd=PROJECT,
                env=self.env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started = Started(name, process, log)
        self.started[name] = started
        return started

    def kill(self, name: str) -> None:
        process = self.started[name].process
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    def tail(self, name: str, lines: int = 15) -> str:
        try:
            text_lines = self.started[name].log.read_text("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return "\n".join(f"    {line}" for line in text_lines[-lines:])

    def stop_all(self) -> None:
        for started in self.started.values():
            if started.process.poll() is None:
                started.process.terminate()
        deadline = time.monotonic() + 20
        for started in self.started.values():
            try:
                started.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                started.process.kill()
                started.process.wait(timeout=10)
        for pid in sorted(self.orphans):
            if is_running(pid, b"gunicorn"):
                os.kill(pid, signal.SIGKILL)


def command(name: str) -> str:
    """A console script of this environment (the one running this file)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise BenchError(f"no {name} beside {sys.executable}: run this with the venv's python")
    return str(path)


# --- the receivers ---


@dataclass(frozen=True)
class Hook:
    path: str
    webhook_id: str
    event: str
    reference: str
    delivery_id: str
    signed: bool


@dataclass(frozen=True)
class Mail:
    message_id: str
    subject: str


class Receivers:
    """A hotline system's webhook endpoint (HTTPS) and a provider's mail server (SMTP with
    STARTTLS), recording every delivery as it arrives (before answering, as a receiver that
    acts on what it gets would)."""

    def __init__(self, tls: TlsFiles, secrets_by_path: dict[str, str], hook_delay: float) -> None:
        self.tls = tls
        self.secrets_by_path = secrets_by_path
        self.hook_delay = hook_delay
        self.hooks: list[Hook] = []
        self.mails: list[Mail] = []
        self.in_flight = 0
        self.lock = threading.Lock()
        self.hook_port = unused_port()
        self.smtp_port = unused_port()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._smtp: Controller | None = None

    def start(self) -> None:
        receivers = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                secret = receivers.secrets_by_path.get(self.path)
                signed = False
                if secret:
                    try:
                        Webhook(secret).verify(body, headers)
                        signed = True
                    except WebhookVerificationError:
                        pass
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {}
                data = payload.get("data") or {}
                hook = Hook(
                    self.path,
                    headers.get("webhook-id", ""),
                    str(payload.get("type", "")),
                    str(data.get("reporting_reference", "")),
                    str(payload.get("delivery_id", "")),
                    signed,
                )
                with receivers.lock:
                    receivers.hooks.append(hook)
                    receivers.in_flight += 1
                try:
                    time.sleep(receivers.hook_delay)
                finally:
                    with receivers.lock:
                        receivers.in_flight -= 1
                self.send_response(200 if signed else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # an answer to a worker killed meanwhile: nobody reads it

        server = Server((LOOPBACK, self.hook_port), Handler)
        server.daemon_threads = True
        server.socket = self.tls.server_context().wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

        class Sink:
            async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
                raw = envelope.original_content or envelope.content
                parsed = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(raw)
                mail = Mail(str(parsed.get("Message-ID", "")).strip(), str(parsed["Subject"]))
                with receivers.lock:
                    receivers.mails.append(mail)
                return "250 OK"

        self._smtp = Controller(
            Sink(),
            hostname=LOOPBACK,
            port=self.smtp_port,
            server_hostname="localhost",
            tls_context=self.tls.server_context(),
            require_starttls=True,
        )
        self._smtp.start()

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = None
        if self._smtp is not None:
            self._smtp.stop()
            self._smtp = None
            asyncio.set_event_loop(asyncio.new_event_loop())


# --- the two instances, seen from outside ---


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]
    port: int


class Unreachable(Exception):
    """No instance answered."""


class Cluster:
    """The instances' ports, as a load balancer sees them: requests go round them; a request
    that finds nobody listening goes to the next; a killed one is marked down (and gets no more)
    at its first request that goes unanswered."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.down: set[int] = set()
        # Killed: marked down at its first unanswered request, as a load balancer would notice.
        self.expected_down: set[int] = set()
        self.lock = threading.Lock()
        self.counts: Counter[tuple[str, str, int]] = Counter()  # (instance, kind, status)
        self.unanswered: Counter[tuple[str, str]] = Counter()  # (instance, kind)
        self.sent_again: Counter[str] = Counter()  # kind
        self.local = threading.local()

    def name(self, port: int) -> str:
        return "AB"[self.ports.index(port)]

    def answered(self, instance: str) -> int:
        return sum(n for (i, _kind, _status), n in self.counts.items() if i == instance)

    def alive(self) -> list[int]:
        return [port for port in self.ports if port not in self.down]

    def pick(self, turn: int) -> int:
        alive = self.alive()
        return alive[turn % len(alive)]

    def call(
        self,
        method: str,
        path: str,
        *,
        kind: str,
        address: str,
        turn: int = 0,
        port: int | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        again: bool = True,
    ) -> Answer:
        """One request; ``again``: to the next instance if this one does not answer."""
        target = port if port is not None else self.pick(turn)
        tried: list[int] = []
        while True:
            try:
                return self._send(method, path, target, kind, address, body, headers, params)
            except (requests.ConnectionError, requests.Timeout):
                with self.lock:
                    self.unanswered[(self.name(target), kind)] += 1
                    if target in self.expected_down:
                        self.down.add(target)
                tried.append(target)
                others = [p for p in self.alive() if p not in tried]
                if not again or not others:
                    raise Unreachable(f"{method} {path}") from None
                with self.lock:
                    self.sent_again[kind] += 1
                target = others[0]

    def _send(
        self,
        method: str,
        path: str,
        port: int,
        kind: str,
        address: str,
        body: Any,
        headers: dict[str, str] | None,
        params: dict[str, str] | None,
    ) -> Answer:
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
            session.trust_env = False  # no proxy from the environment: loopback only
        response = session.request(
            method,
            f"http://{LOOPBACK}:{port}{path}",
            json=body,
            params=params,
            headers={
                "Host": PUBLIC_HOST,
                "X-Forwarded-For": address,
                "X-Forwarded-Proto": "https",
                **(headers or {}),
            },
            timeout=60,
        )
        try:
            parsed = response.json() if response.content else None
        except ValueError:
            parsed = None
        with self.lock:
            self.counts[(self.name(port), kind, response.status_code)] += 1
        return Answer(response.status_code, parsed, dict(response.headers), port)


def error_code(answer: Answer) -> str:
    if isinstance(answer.body, dict) and isinstance(answer.body.get("error"), dict):
        return str(answer.body["error"].get("code", ""))
    return ""


# --- what a survivor files ---


@dataclass
class Receipt:
    case_number: str
    passphrase: str
    hotlines: set[str]
    places: int
    source: str  # "workload" or "limits"
    locked: bool = False  # a receipt-lock check locked it on purpose


def filing_body(label: str, tlds: Iterable[str]) -> dict[str, Any]:
    return {
        "locations": [
            {"kind": "url", "value": f"https://{label}-{n}.bench.example.{tld}/item"}
            for n, tld in enumerate(tlds)
        ],
        "categories": ["abuse_material"],
        "minor_in_material": "yes",
    }


def unknown_case_number() -> str:
    return "RQ-" + "".join(secrets.choice(CROCKFORD) for _ in range(8))


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    informational: bool = False


@dataclass
class Kill:
    at_filings: int = 0
    at_seconds: float = 0.0
    in_flight: int = 0
    claims: dict[int, str] = field(default_factory=dict)  # outbox id -> key, the dead worker's
    claims_until: str = ""
    orphan_workers: list[int] = field(default_factory=list)
    orphans_gone_after: float | None = None
    answered_by_a_before: int = 0  # requests A had answered when its master was killed


class Bench:
    def __init__(self, options: argparse.Namespace, folder: Path) -> None:
        self.options = options
        self.folder = folder
        self.checks: list[Check] = []
        self.receipts: dict[str, Receipt] = {}
        self.receipts_lock = threading.Lock()
        self.filing_outcomes: Counter[str] = Counter()
        self.filings_answered = 0
        self.follow_ups: Counter[str] = Counter()
        self.added_places: Counter[str] = Counter()  # case number -> places added
        self.actions: Counter[str] = Counter()  # "acknowledge 200", "send_notice replayed", ...
        self.action_problems: list[str] = []
        self.noticed: set[int] = set()  # referral ids a notice was sent for
        self.pokes = 0
        self.kill = Kill()
        self.timings: dict[str, float] = {}
        self.engine: Engine = create_engine(options.database_url, poolclass=NullPool)
        self.filing_idempotency = False
        self.workload_done = threading.Event()
        self.workload_ended = 0.0  # when, on the monotonic clock
        self.abort = threading.Event()  # the run is ending early: every loop stops
        self.poking = threading.Event()
        self.hook_secrets = {
            f"/{tld}": "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
            for tld in WEBHOOK_HOTLINES.values()
        }
        self.tls = make_certificates(folder)
        self.receivers = Receivers(self.tls, self.hook_secrets, options.hook_delay)
        self.processes: Processes | None = None
        self.orphan_watch = threading.Thread(target=self.watch_orphans, daemon=True)
        self.cluster = Cluster([unused_port(), unused_port()])
        self.keys: dict[str, list[str]] = {}
        self.limit_key = ""

    # --- set-up ---

    def settings(self) -> dict[str, str]:
        data = delivery_data(
            self.folder,
            intakes=dict.fromkeys(WEBHOOK_HOTLINES, "webhook"),
            endpoints={
                hotline: {
                    "webhook_url": f"https://{LOOPBACK}:{self.receivers.hook_port}/{tld}",
                    "webhook_secret": self.hook_secrets[f"/{tld}"],
                }
                for hotline, tld in WEBHOOK_HOTLINES.items()
            },
        )

        def key() -> str:
            return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")

        return {
            "ASSISTANT_ENV": "production",
            "ASSISTANT_SECURE_COOKIES": "true",
            "ASSISTANT_SECRET_KEY": secrets.token_urlsafe(48),
            "ASSISTANT_MASTER_KEYS": f"1:{key()}",
            "ASSISTANT_HASH_KEY": key(),
            "ASSISTANT_DATABASE_URL": self.options.database_url,
            "ASSISTANT_RATELIMIT_STORAGE_URL": self.options.redis_url,
            "ASSISTANT_TRUSTED_PROXIES": "1",
            "ASSISTANT_PUBLIC_URL": f"https://{PUBLIC_HOST}",
            "ASSISTANT_DATA_DIR": data["data_dir"],
            "ASSISTANT_DELIVERY_CONFIG": data["delivery_config"],
            "ASSISTANT_TLS_CA_FILE": str(self.tls.ca_file),
            "ASSISTANT_SMTP_HOST": LOOPBACK,
            "ASSISTANT_SMTP_PORT": str(self.receivers.smtp_port),
            "ASSISTANT_SMTP_FROM": SMTP_FROM,
            **LIMIT_SETTINGS,
        }

    def prepare_stores(self) -> None:
        """Drop and create the database, flush the Redis database: both this run's own."""
        url = make_url(self.options.database_url)
        name = url.database or ""
        if not name.startswith("bench"):
            raise BenchError(f"refusing to drop the database {name!r}: its name must start 'bench'")
        store = redis.Redis.from_url(self.options.redis_url)
        if store.connection_pool.connection_kwargs.get("db", 0) == 0:
            raise BenchError("give the Redis database a number of its own (not 0): it is flushed")
        admin = create_engine(
            url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        store.flushdb()
        store.close()

    def run_command(self, env: dict[str, str], *args: str) -> str:
        done = subprocess.run(  # noqa: S603 (our own command, no shell)
            [command("assistant"), *args],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise BenchError(f"assistant {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def make_keys(self, env: dict[str, str]) -> None:
        """API keys, made at once by the operator's command: one per hotline system's thread
        (the per-key limit is per thread then), and one for the limit check."""
        wanted = [(h, f"{h} {n}") for h in WEBHOOK_HOTLINES for n in range(ACTORS_PER_HOTLINE + 1)]
        wanted.append(("hotline_ie", "limit check"))

        def make(hotline: str, name: str) -> tuple[str, str, str]:
            out = self.run_command(
                env, "api-key", "create", "--hotline", hotline, "--name", name, *KEY_SCOPES
            )
            raw = next(w for w in out.split() if w.startswith("rra_"))
            return hotline, name, raw

        with concurrent.futures.ThreadPoolExecutor(len(wanted)) as pool:
            for hotline, name, raw in pool.map(lambda w: make(*w), wanted):
                if name == "limit check":
                    self.limit_key = raw
                else:
                    self.keys.setdefault(hotline, []).append(raw)

    def start(self) -> None:
        started = time.monotonic()
        self.receivers.start()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
        env.update(self.settings())
        self.prepare_stores()
        self.run_command(env, "init-db")
        self.make_keys(env)
        self.processes = processes = Processes(self.folder, env)
        for name, port in zip("AB", self.cluster.ports, strict=True):
            processes.start(
                f"gunicorn-{name}",
                [
                    command("gunicorn"),
                    "--config",
                    "python:assistant.gunicorn_conf",
                    "--bind",
                    f"{LOOPBACK}:{port}",
                    "--workers",
                    "2",
                    "assistant:create_app()",
                ],
            )
        for n in (1, 2):
            processes.start(
                f"deliver-{n}", [command("assistant"), "deliver", "--loop", "--interval", "1"]
            )
            processes.start(
                f"chase-{n}", [command("assistant"), "chase", "--loop", "--interval", "2"]
            )
        deadline = time.monotonic() + 60
        for port in self.cluster.ports:
            name = f"gunicorn-{self.cluster.name(port)}"
            while not self.ready(port):
                if processes.started[name].process.poll() is not None:
                    raise BenchError(f"{name} stopped:\n{processes.tail(name)}")
                if time.monotonic() > deadline:
                    raise BenchError(f"{name} did not answer /readyz:\n{processes.tail(name)}")
                time.sleep(0.2)
        for name in ("deliver-1", "deliver-2", "chase-1", "chase-2"):
            if processes.started[name].process.poll() is not None:
                raise BenchError(f"{name} stopped:\n{processes.tail(name)}")
        document = self.cluster.call(
            "GET", "/api/v1/openapi.json", kind="openapi", address=LOOPBACK
        ).body
        operation = ((document or {}).get("paths") or {}).get("/requests", {}).get("post", {})
        self.filing_idempotency = any(
            p.get("name") == "Idempotency-Key" for p in operation.get("parameters", [])
        )
        with self.cluster.lock:  # the start's own calls are not part of the figures
            self.cluster.counts.clear()
            self.cluster.unanswered.clear()
        self.timings["start"] = time.monotonic() - started

    def ready(self, port: int) -> bool:
        try:
            answer = self.cluster.call(
                "GET", "/readyz", kind="ready", address=LOOPBACK, port=port, again=False
            )
        except Unreachable:
            return False
        return answer.status == 200

    # --- 1. limits, with both instances up ---

    def file(
        self, label: str, tlds: list[str], *, address: str, kind: str, source: str, **where: Any
    ) -> Answer:
        """File a request; a 201 (or a replay of one) is remembered as a receipt."""
        key = uuid.uuid4().hex
        answer = self.cluster.call(
            "POST",
            "/api/v1/requests",
            kind=kind,
            address=address,
            body=filing_body(label, tlds),
            headers={"Idempotency-Key": key},
            **where,
        )
        if answer.status in (200, 201) and isinstance(answer.body, dict):
            receipt = Receipt(
                answer.body["case_number"],
                answer.body["passphrase"],
                {r["hotline"]["id"] for r in answer.body["referrals"]},
                len(tlds),
                source,
            )
            with self.receipts_lock:
                self.receipts[receipt.case_number] = receipt
        return answer

    def receipt_try(
        self, case_number: str, passphrase: str, *, address: str, port: int, kind: str
    ) -> Answer:
        return self.cluster.call(
            "POST",
            "/api/v1/session",
            kind=kind,
            address=address,
            port=port,
            body={"case_number": case_number, "passphrase": passphrase},
            again=False,
        )

    # Each of these makes one call of its kind from ``address`` to the instance on ``port``.

    def limit_filing(self, address: str, port: int) -> int:
        label = f"limit-{uuid.uuid4().hex[:8]}"
        return self.file(
            label, ["ie"], address=address, kind="limit", source="limits", port=port, again=False
        ).status

    def limit_guess(self, address: str, port: int, case_number: str = "") -> int:
        """A wrong passphrase (for a case number that exists nowhere, unless given)."""
        number = case_number or unknown_case_number()
        return self.receipt_try(
            number, WRONG_PASSPHRASE, address=address, port=port, kind="limit"
        ).status

    def limit_key_call(self, address: str, port: int) -> int:
        return self.cluster.call(
            "GET",
            "/api/v1/hotline/referrals",
            kind="limit",
            address=address,
            port=port,
            params={"limit": "1"},
            headers={"Authorization": f"Bearer {self.limit_key}"},
            again=False,
        ).status

    def one_after_another(
        self, call: Callable[[str, int], int], address: str, count: int
    ) -> tuple[list[int], int, int]:
        """``count`` calls through A, then one more through A and one through B."""
        port_a, port_b = self.cluster.ports
        statuses = [call(address, port_a) for _ in range(count)]
        return statuses, call(address, port_a), call(address, port_b)

    def at_once(
        self, call: Callable[[str, int], int], address: str, count: int, threads: int = 0
    ) -> list[int]:
        """``count`` calls, half through each instance, released together by a barrier (or,
        with ``threads``, by that many threads as fast as they go)."""
        width = threads or count
        barrier = threading.Barrier(width)

        def run(n: int) -> list[int]:
            barrier.wait()
            return [
                call(address, self.cluster.ports[(k + k // width) % 2])
                for k in range(n, count, width)
            ]

        with concurrent.futures.ThreadPoolExecutor(width) as pool:
            return [status for batch in pool.map(run, range(width)) for status in batch]

    def check_limits(self) -> None:
        """Each limit through one address (or key), with both instances up."""
        started = time.monotonic()
        port_b = self.cluster.ports[1]

        statuses, over_a, over_b = self.one_after_another(
            self.limit_filing, "10.9.0.1", FILING_LIMIT
        )
        self.check(
            f"filing limit ({FILING_LIMIT} an hour) shared, one after another",
            statuses.count(201) == FILING_LIMIT and (over_a, over_b) == (429, 429),
            f"{statuses.count(201)} x 201 through A, then A {over_a}, B {over_b}",
        )
        together = self.at_once(self.limit_filing, "10.9.0.2", 2 * FILING_LIMIT + 4)
        accepted = together.count(201)
        self.check(
            f"filing limit shared, {len(together)} at once through both",
            0 < accepted <= FILING_LIMIT and together.count(429) == len(together) - accepted,
            f"{accepted} x 201, {together.count(429)} x 429",
        )

        statuses, over_a, over_b = self.one_after_another(
            self.limit_guess, "10.9.0.3", RECEIPT_LIMIT
        )
        self.check(
            f"receipt limit per address ({RECEIPT_LIMIT} a minute) shared, one after another",
            statuses.count(401) == RECEIPT_LIMIT and (over_a, over_b) == (429, 429),
            f"{statuses.count(401)} x 401 through A, then A {over_a}, B {over_b}",
        )
        together = self.at_once(self.limit_guess, "10.9.0.4", 2 * RECEIPT_LIMIT + 4)
        self.check(
            f"receipt limit per address shared, {len(together)} at once through both",
            0 < len(together) - together.count(429) <= RECEIPT_LIMIT,
            f"{together.count(401)} x 401, {together.count(429)} x 429",
        )

        # The lock of one case: wrong passphrases through A until it locks (fewer than the
        # address's limit, so only the case's lock can refuse), then the right one through B,
        # from the same address.
        first, second = [r for r in self.receipts.values() if r.source == "limits"][:2]
        first.locked = second.locked = True
        wrong: list[int] = []
        while len(wrong) < RECEIPT_LIMIT - 2 and (not wrong or wrong[-1] == 401):
            wrong.append(self.limit_guess("10.9.0.5", self.cluster.ports[0], first.case_number))
        allowed = wrong.count(401)
        right = self.receipt_try(
            first.case_number, first.passphrase, address="10.9.0.5", port=port_b, kind="limit"
        ).status
        self.check(
            "receipt lock per case shared, one after another",
            wrong[-1] == 429 and right == 429,
            f"{allowed} wrong passphrases checked (401) through A, then A {wrong[-1]}; the right "
            f"one through B: {right}",
        )
        together = self.at_once(
            lambda address, port: self.limit_guess(address, port, second.case_number),
            "10.9.0.6",
            16,
        )
        self.check(
            f"receipt lock per case shared, {len(together)} wrong passphrases at once through both",
            together.count(401) <= allowed,
            f"{together.count(401)} checked (401), {together.count(429)} refused (429); one "
            f"after another the lock allowed {allowed}",
        )

        answered = self.at_once(self.limit_key_call, "10.9.0.7", KEY_LIMIT + 40, threads=8)
        last = [self.limit_key_call("10.9.0.7", port) for port in self.cluster.ports]
        self.check(
            f"hotline API key limit ({KEY_LIMIT} a minute) shared, {len(answered)} calls "
            "through both",
            0 < answered.count(200) <= KEY_LIMIT and last == [429, 429],
            f"{answered.count(200)} x 200, {answered.count(429)} x 429; then A {last[0]}, "
            f"B {last[1]}",
        )
        self.timings["limits"] = time.monotonic() - started

    # --- 2. the workload ---

    def survivor(self, n: int) -> None:
        """One survivor: file, then perhaps write to the hotline or add a place."""
        address = f"10.1.{n // 250}.{n % 250 + 1}"
        tlds = [["ie"], ["nl"], ["ie", "nl", OTHER_TLD]][n % 3]
        answer: Answer | None = None
        outcome = "unanswered"
        try:
            answer = self.file(
                f"s{n}", tlds, address=address, kind="filing", source="workload", turn=n
            )
            outcome = str(answer.status)
        except Unreachable:
            pass
        finally:
            with self.receipts_lock:
                self.filing_outcomes[outcome] += 1
                self.filings_answered += 1
        if answer is None or answer.status not in (200, 201):
            return
        case_number = answer.body["case_number"]
        if n % 4 and n % 8 != 3:
            return
        try:
            signed_in = self.cluster.call(
                "POST",
                "/api/v1/session",
                kind="survivor",
                address=address,
                turn=n + 1,
                body={"case_number": case_number, "passphrase": answer.body["passphrase"]},
            )
            if signed_in.status != 200:
                self.note_follow_up(f"sign-in {signed_in.status}")
                return
            bearer = {"Authorization": f"Bearer {signed_in.body['token']}"}
            if n % 4 == 0:
                self.write_to_hotline(n, address, bearer)
            if n % 8 == 3:
                added = self.cluster.call(
                    "POST",
                    "/api/v1/requests/me/locations",
                    kind="survivor",
                    address=address,
                    turn=n,
                    body={"locations": [{"kind": "url", "value": f"https://s{n}-x.example.ie/"}]},
                    headers=bearer,
                    again=False,
                )
                self.note_follow_up(f"place added {added.status} {error_code(added)}".strip())
                if added.status == 201:
                    with self.receipts_lock:
                        self.added_places[case_number] += 1
                        # An .ie place: to hotline_ie, in a referral of its own if need be.
                        self.receipts[case_number].hotlines.add("hotline_ie")
        except Unreachable:
            self.note_follow_up("unanswered")

    def write_to_hotline(self, n: int, address: str, bearer: dict[str, str]) -> None:
        """A message to the first webhook hotline of the case (its referral named, as a case
        with several hotlines needs). Not sent again if unanswered: it takes no idempotency
        key."""
        me = self.cluster.call(
            "GET", "/api/v1/requests/me", kind="survivor", address=address, turn=n, headers=bearer
        )
        if me.status != 200:
            self.note_follow_up(f"status page {me.status}")
            return
        referral_id = next(
            r["id"] for r in me.body["referrals"] if r["hotline"]["id"] in WEBHOOK_HOTLINES
        )
        wrote = self.cluster.call(
            "POST",
            "/api/v1/requests/me/messages",
            kind="survivor",
            address=address,
            turn=n,
            body={"body": "Is there any news?", "referral_id": referral_id},
            headers=bearer,
            again=False,
        )
        self.note_follow_up(f"message {wrote.status} {error_code(wrote)}".strip())

    def note_follow_up(self, what: str) -> None:
        with self.receipts_lock:
            self.follow_ups[what] += 1

    def poll_feed(self, hotline: str, key: str, work: queue.Queue[str | None]) -> None:
        """A hotline system's poller: every new referral in the changes feed, once."""
        seen: set[str] = set()
        cursor: str | None = None
        quiet_after_workload = 0
        turn = 0
        while quiet_after_workload < 2 and not self.abort.is_set():
            turn += 1
            try:
                answer = self.cluster.call(
                    "GET",
                    "/api/v1/hotline/referrals",
                    kind="hotline feed",
                    address="10.2.0.1",
                    turn=turn,
                    params={"after": cursor} if cursor else None,
                    headers={"Authorization": f"Bearer {key}"},
                )
            except Unreachable:
                time.sleep(0.5)
                continue
            if answer.status == 429:
                time.sleep(float(answer.headers.get("Retry-After", "1")))
                continue
            if answer.status != 200:
                self.action_problems.append(f"{hotline} feed: {answer.status}")
                time.sleep(0.5)
                continue
            for entry in answer.body["referrals"]:
                reference = entry["reporting_reference"]
                if reference not in seen:
                    seen.add(reference)
                    work.put(reference)
            cursor = answer.body["next"]
            if answer.body["more"]:
                continue
            if self.workload_done.is_set():
                quiet_after_workload += 1
            time.sleep(0.3)
        for _ in range(ACTORS_PER_HOTLINE):
            work.put(None)

    def hotline_worker(self, hotline: str, key: str, work: queue.Queue[str | None]) -> None:
        """A hotline system's worker: takes each new referral on."""
        turn = [0]
        auth = {"Authorization": f"Bearer {key}"}

        def read(reference: str) -> dict[str, Any] | None:
            for _attempt in range(20):
                turn[0] += 1
                try:
                    answer = self.cluster.call(
                        "GET",
                        f"/api/v1/hotline/referrals/{reference}",
                        kind="hotline read",
                        address="10.2.0.2",
                        turn=turn[0],
                        headers=auth,
                    )
                except Unreachable:
                    time.sleep(0.5)
                    continue
                if answer.status == 429:
                    time.sleep(float(answer.headers.get("Retry-After", "1")))
                    continue
                if answer.status == 200:
                    return dict(answer.body)
                self.action_problems.append(f"read {reference}: {answer.status}")
                return None
            return None

        def step(reference: str, detail: dict[str, Any], action: str, **fields: Any) -> bool:
            """One action with the version read and an Idempotency-Key; a conflict reads the
            referral again and tries with a new key; an unanswered call goes to the other
            instance with the same key."""
            version = detail["version"]
            for _attempt in range(8):
                idempotency_key = uuid.uuid4().hex
                turn[0] += 1
                try:
                    answer = self.cluster.call(
                        "POST",
                        f"/api/v1/hotline/referrals/{reference}/actions",
                        kind="hotline action",
                        address="10.2.0.2",
                        turn=turn[0],
                        body={"action": action, "version": version, **fields},
                        headers={**auth, "Idempotency-Key": idempotency_key},
                    )
                except Unreachable:
                    time.sleep(0.5)
                    continue
                if answer.status == 200:
                    replayed = answer.headers.get("Idempotent-Replayed") == "true"
                    with self.receipts_lock:
                        self.actions[f"{action} {'replayed' if replayed else 'done'}"] += 1
                    detail["version"] = answer.body["version"]
                    return True
                if answer.status == 429:
                    time.sleep(float(answer.headers.get("Retry-After", "1")))
                    continue
                if answer.status == 409 and error_code(answer) == "version_conflict":
                    with self.receipts_lock:
                        self.actions[f"{action} version conflict"] += 1
                    again = read(reference)
                    if again is None:
                        return False
                    version = detail["version"] = again["version"]
                    continue
                self.action_problems.append(
                    f"{action} {reference}: {answer.status} {error_code(answer)}"
                )
                return False
            self.action_problems.append(f"{action} {reference}: gave up")
            return False

        while (reference := work.get()) is not None and not self.abort.is_set():
            detail = read(reference)
            if detail is None:
                continue
            places = [p["id"] for p in detail["locations"]]
            if detail["allowed_actions"]["acknowledge"] and not step(
                reference, detail, "acknowledge"
            ):
                continue
            if not step(reference, detail, "assess", places=places, assessment="csam"):
                continue
            number = int(reference.removeprefix("RRA-"))
            if number % 2 == 0 and step(
                reference,
                detail,
                "send_notice",
                places=places,
                notice_type="csam",
                provider="Bench Files Ltd",
                recipient=NOTICE_RECIPIENT,
            ):
                with self.receipts_lock:
                    self.noticed.add(number)

    def poke_chase(self) -> None:
        """Every notice due for its next reminder, every two seconds: the 24 hours' stand-in."""
        while self.poking.is_set():
            moment = dt_utcnow()
            with self.engine.begin() as connection:
                connection.execute(
                    text(
                        "UPDATE notice_letters SET next_chase_at = :now "
                        "WHERE next_chase_at IS NOT NULL AND next_chase_at > :now"
                    ),
                    {"now": moment},
                )
            self.pokes += 1
            time.sleep(2)

    def workload(self) -> None:
        started = time.monotonic()
        threads: list[threading.Thread] = []
        for hotline, keys in self.keys.items():
            work: queue.Queue[str | None] = queue.Queue()
            threads.append(threading.Thread(target=self.poll_feed, args=(hotline, keys[0], work)))
            threads.extend(
                threading.Thread(target=self.hotline_worker, args=(hotline, key, work))
                for key in keys[1:]
            )
        self.poking.set()
        poker = threading.Thread(target=self.poke_chase)
        for thread in [*threads, poker]:
            thread.daemon = True  # never keeps the script from ending
            thread.start()
        half = self.options.filings // 2
        pool = concurrent.futures.ThreadPoolExecutor(self.options.clients)
        try:
            futures = [pool.submit(self.survivor, n) for n in range(self.options.filings)]
            while self.filings_answered < half and not all(f.done() for f in futures):
                time.sleep(0.05)
            self.kill_one_of_everything(started)
            for future in futures:
                future.result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            self.workload_done.set()
            self.workload_ended = time.monotonic()
        for thread in threads:
            thread.join()
        self.poking.clear()
        poker.join()
        self.timings["workload"] = time.monotonic() - started

    # --- 3. and 4. the kill ---

    def kill_one_of_everything(self, workload_started: float) -> None:
        assert self.processes is not None
        processes = self.processes
        # Wait (15 s at most) for two deliveries in flight at once: each worker sends one at a
        # time, so both are in the middle of a send.
        deadline = time.monotonic() + 15
        while self.receivers.in_flight < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        self.kill.in_flight = self.receivers.in_flight
        # Its rows are claimed by "<host>-<pid>-<random>" (assistant.hotline.delivery).
        worker = f"{socket.gethostname()[:40]}-{processes.started['deliver-1'].process.pid}-%"
        master = processes.started["gunicorn-A"].process.pid
        self.kill.orphan_workers = children_of(master)
        processes.orphans.update(self.kill.orphan_workers)
        processes.kill("deliver-1")
        processes.kill("chase-1")
        processes.kill("gunicorn-A")
        with self.cluster.lock:
            self.cluster.expected_down.add(self.cluster.ports[0])
            self.kill.answered_by_a_before = self.cluster.answered("A")
        self.kill.at_filings = self.filings_answered
        self.kill.at_seconds = time.monotonic() - workload_started
        self.orphan_watch.start()
        with self.engine.begin() as connection:
            rows = connection.execute(
                text(
                    "SELECT id, idempotency_key, claimed_until FROM outbox "
                    "WHERE status = 'pending' AND claimed_by LIKE :worker"
                ),
                {"worker": worker},
            ).all()
            self.kill.claims = {row[0]: row[1] for row in rows}
            if rows:
                self.kill.claims_until = max(row[2] for row in rows).strftime("%H:%M:%S UTC")
            if rows and not self.options.real_claim_expiry:
                connection.execute(
                    text(
                        "UPDATE outbox SET claimed_until = :now "
                        "WHERE status = 'pending' AND claimed_by LIKE :worker"
                    ),
                    {"now": dt_utcnow(), "worker": worker},
                )

    def watch_orphans(self) -> None:
        """How long A's workers outlive their master: they answer what reaches them, and look
        at their parent only when no connection is waiting (given up 90 s after the workload,
        when the check says so)."""
        started = time.monotonic()
        while not self.abort.is_set():
            if not any(is_running(pid, b"gunicorn") for pid in self.kill.orphan_workers):
                self.kill.orphans_gone_after = time.monotonic() - started
                return
            if self.workload_ended and time.monotonic() - self.workload_ended > 90:
                return
            time.sleep(0.2)

    # --- 5. drain ---

    def drain(self) -> bool:
        started = time.monotonic()
        timeout = self.options.drain_timeout
        if self.options.real_claim_expiry and self.kill.claims:
            timeout = max(timeout, 15 * 60 + 120)
        quiet = 0
        while time.monotonic() - started < timeout:
            with self.engine.connect() as connection:
                pending = connection.execute(
                    text("SELECT count(*) FROM outbox WHERE status = 'pending'")
                ).scalar_one()
                due = connection.execute(
                    text("SELECT count(*) FROM notice_letters WHERE next_chase_at <= :now"),
                    {"now": dt_utcnow()},
                ).scalar_one()
            quiet = quiet + 1 if pending == 0 and due == 0 else 0
            if quiet >= 3:
                self.timings["drain"] = time.monotonic() - started
                return True
            time.sleep(1)
        self.timings["drain"] = time.monotonic() - started
        return False

    # --- checks ---

    def check(self, name: str, ok: bool, detail: str, informational: bool = False) -> None:
        self.checks.append(Check(name, ok, detail, informational))

    def check_everything(self, drained: bool) -> dict[str, Any]:
        figures: dict[str, Any] = {}
        self.check(
            "the outbox emptied and no notice is due",
            drained,
            f"after {self.timings['drain']:.1f} s",
        )
        with self.engine.connect() as connection:
            cases: dict[str, int] = {
                number: case_id
                for number, case_id in connection.execute(
                    text("SELECT case_number, id FROM cases")
                ).all()
            }
            referrals = connection.execute(
                text("SELECT id, case_id, hotline_id FROM referrals")
            ).all()
            places: dict[int, int] = {
                case_id: count
                for case_id, count in connection.execute(
                    text("SELECT case_id, count(*) FROM locations GROUP BY case_id")
                ).all()
            }
            outbox = connection.execute(
                text(
                    "SELECT id, idempotency_key, channel, status, referral_id, letter_id, "
                    "reminder, event, api_key_id, account_id FROM outbox"
                )
            ).all()
            letters = connection.execute(
                text(
                    "SELECT id, referral_id, reminders_sent, escalated_from_id FROM notice_letters"
                )
            ).all()
            steps = connection.execute(
                text(
                    "SELECT referral_id, location_id, code, count(DISTINCT referral_version) "
                    "FROM referral_events WHERE code = ANY(:codes) "
                    "GROUP BY referral_id, location_id, code"
                ),
                {"codes": list(ACTION_STEPS)},
            ).all()

        # Nothing lost: every 201 is there, with its referrals and places.
        hotlines_of: dict[int, set[str]] = {}
        for _id, case_id, hotline in referrals:
            hotlines_of.setdefault(case_id, set()).add(hotline)
        missing, wrong_referrals, wrong_places = [], [], []
        for receipt in self.receipts.values():
            case_id = cases.get(receipt.case_number)
            if case_id is None:
                missing.append(receipt.case_number)
                continue
            if hotlines_of.get(case_id, set()) != receipt.hotlines:
                wrong_referrals.append(receipt.case_number)
            expected = receipt.places + self.added_places[receipt.case_number]
            if places.get(case_id, 0) != expected:
                wrong_places.append(receipt.case_number)
        self.check(
            "every filing answered 201 is in the database with its referrals and places",
            not (missing or wrong_referrals or wrong_places),
            f"{len(self.receipts)} receipts: {len(missing)} missing, {len(wrong_referrals)} "
            f"with other referrals, {len(wrong_places)} with other places",
        )
        unnamed = len(set(cases) - set(self.receipts))
        figures["cases"] = len(cases)
        self.check(
            "every case in the database is one a 201 named (no receipt lost to the kill)",
            unnamed == 0,
            f"{len(cases)} cases, {unnamed} that no answer named"
            + ("" if self.filing_idempotency else " (filings take no Idempotency-Key yet)"),
            informational=not self.filing_idempotency,
        )
        self.check_receipts_open()

        # Every outbox row sent; what was sent was received.
        by_status = Counter(row[3] for row in outbox)
        figures["outbox"] = by_status
        cancelled_kinds = Counter(
            "API key notice" if row[8] else "account notice" if row[9] else "referral/notice"
            for row in outbox
            if row[3] == "cancelled"
        )
        figures["cancelled"] = cancelled_kinds
        self.check(
            "every outbox row ended sent (none pending or given up)",
            by_status.get("pending", 0) == 0
            and by_status.get("dead", 0) == 0
            and cancelled_kinds.get("referral/notice", 0) == 0,
            ", ".join(f"{n} {status}" for status, n in sorted(by_status.items()))
            + (
                f" (cancelled: {', '.join(f'{n} {k}' for k, n in cancelled_kinds.items())}: "
                "the hotlines have no administrator to tell)"
                if cancelled_kinds
                else ""
            ),
        )
        hooks = list(self.receivers.hooks)
        mails = list(self.receivers.mails)
        hook_ids = Counter(h.webhook_id for h in hooks)
        mail_ids = Counter(m.message_id.strip("<>").split("@")[0] for m in mails)
        sent_hooks = {row[1] for row in outbox if row[2] == "webhook" and row[3] == "sent"}
        sent_letters = {row[1] for row in outbox if row[5] is not None and row[3] == "sent"}
        known_keys = {row[1] for row in outbox}
        figures["hooks"] = (len(hooks), len(hook_ids), Counter(h.event for h in hooks))
        figures["mails"] = (len(mails), len(mail_ids))
        self.check(
            "every webhook sent was received, signed, under a known id",
            sent_hooks <= set(hook_ids)
            and all(h.signed for h in hooks)
            and set(hook_ids) <= known_keys,
            f"{len(sent_hooks)} sent, {len(sent_hooks - set(hook_ids))} never received; "
            f"{sum(not h.signed for h in hooks)} badly signed; "
            f"{len(set(hook_ids) - known_keys)} unknown ids",
        )
        referral_hotline = {row[0]: row[2] for row in referrals}
        announced = {h.reference for h in hooks if h.event == "referral.created"}
        unannounced = [
            rid
            for rid, hotline in referral_hotline.items()
            if hotline in WEBHOOK_HOTLINES and f"RRA-{rid}" not in announced
        ]
        self.check(
            "every referral of a webhook hotline was announced (referral.created)",
            not unannounced,
            f"{sum(h in WEBHOOK_HOTLINES for h in referral_hotline.values())} referrals, "
            f"{len(unannounced)} not announced",
        )
        self.check(
            "every notice and reminder sent was received (by Message-ID)",
            sent_letters <= set(mail_ids) and set(mail_ids) <= known_keys,
            f"{len(sent_letters)} sent, {len(sent_letters - set(mail_ids))} never received, "
            f"{len(set(mail_ids) - known_keys)} unknown ids",
        )
        reminders: dict[int, list[int]] = {}
        for row in outbox:
            if row[5] is not None and row[6]:
                reminders.setdefault(row[5], []).append(row[6])
        uneven = [
            letter_id
            for letter_id, _referral, sent, _from in letters
            if sorted(reminders.get(letter_id, [])) != list(range(1, sent + 1))
        ]
        figures["letters"] = (
            len(letters),
            sum(row[2] for row in letters),
            sum(row[3] is not None for row in letters),
        )
        self.check(
            "every reminder the chase recorded has exactly one outbox row (1, 2, 3 ...)",
            not uneven,
            f"{len(letters)} notices, {sum(row[2] for row in letters)} reminders recorded, "
            f"{len(uneven)} notices whose rows differ",
        )

        # Nothing sent twice that a receiver could not drop.
        repeated = {i for i, n in hook_ids.items() if n > 1} | {
            i for i, n in mail_ids.items() if n > 1
        }
        held = set(self.kill.claims.values())
        figures["repeats"] = (
            sum(n - 1 for n in hook_ids.values()),
            sum(n - 1 for n in mail_ids.values()),
            len(repeated & held),
        )
        self.check(
            "every delivery received twice was held by the killed worker (same id: droppable)",
            repeated <= held,
            f"{len(repeated)} ids received more than once, {len(repeated - held)} of them "
            f"not the killed worker's ({len(held)} rows it held)",
        )
        ids_per_announcement: dict[str, set[str]] = {}
        for hook in hooks:
            if hook.event == "referral.created":
                ids_per_announcement.setdefault(hook.reference, set()).add(hook.webhook_id)
        self.check(
            "each referral announced under one id, and each body's delivery_id is its webhook-id",
            all(len(ids) == 1 for ids in ids_per_announcement.values())
            and all(h.delivery_id == h.webhook_id for h in hooks),
            f"{sum(len(ids) > 1 for ids in ids_per_announcement.values())} referrals under "
            f"several ids, {sum(h.delivery_id != h.webhook_id for h in hooks)} bodies differing",
        )
        first_letters = Counter(row[1] for row in letters if row[3] is None)
        twice = [rid for rid, n in first_letters.items() if n > 1]
        lost = [rid for rid in self.noticed if first_letters.get(rid, 0) != 1]
        self.check(
            "every hotline action took effect once (one notice per referral sent one; one "
            "timeline step per place and action)",
            not twice and not lost and all(row[3] <= 1 for row in steps),
            f"{len(self.noticed)} notices sent through the API: {len(twice)} referrals with "
            f"two, {len(lost)} without; {sum(row[3] > 1 for row in steps)} steps taken twice",
        )
        self.check(
            "every hotline action answered (none refused but by a version conflict)",
            not self.action_problems,
            "; ".join(self.action_problems[:5]) or "all answered",
        )
        unexpected = {k: n for k, n in self.filing_outcomes.items() if k not in ("200", "201")}
        self.check(
            "every survivor's filing answered 201",
            not unexpected,
            ", ".join(f"{n} x {k}" for k, n in sorted(self.filing_outcomes.items())),
        )

        # The survivors kept running; the killed ones are gone.
        assert self.processes is not None
        if self.orphan_watch.is_alive():
            self.orphan_watch.join()
        alive = {name: s.process.poll() is None for name, s in self.processes.started.items()}
        killed = ("gunicorn-A", "deliver-1", "chase-1")
        self.check(
            "the processes not killed kept running; the killed ones are gone",
            all(alive[n] != (n in killed) for n in alive)
            and self.kill.orphans_gone_after is not None,
            ", ".join(f"{n} {'up' if up else 'down'}" for n, up in alive.items())
            + (
                f"; A's orphaned workers exited {self.kill.orphans_gone_after:.1f} s after "
                "their master"
                if self.kill.orphans_gone_after is not None
                else "; A's orphaned workers still running"
            ),
        )
        return figures

    def check_receipts_open(self) -> None:
        """Every receipt (but the ones locked on purpose) opens its case through B, with every
        place; each from an address of its own (the receipt limit is per address)."""
        open_ones = [r for r in self.receipts.values() if not r.locked]

        def try_one(item: tuple[int, Receipt]) -> bool:
            n, receipt = item
            address = f"10.20.{n // 250}.{n % 250 + 1}"
            try:
                signed_in = self.cluster.call(
                    "POST",
                    "/api/v1/session",
                    kind="final check",
                    address=address,
                    body={"case_number": receipt.case_number, "passphrase": receipt.passphrase},
                )
                if signed_in.status != 200:
                    return False
                me = self.cluster.call(
                    "GET",
                    "/api/v1/requests/me",
                    kind="final check",
                    address=address,
                    headers={"Authorization": f"Bearer {signed_in.body['token']}"},
                )
            except Unreachable:
                return False
            expected = receipt.places + self.added_places[receipt.case_number]
            return me.status == 200 and len(me.body["locations"]) == expected

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            results = list(pool.map(try_one, enumerate(open_ones)))
        self.check(
            "every receipt opens its case through B, with every place",
            all(results),
            f"{results.count(True)} of {len(results)} (the {len(self.receipts) - len(open_ones)} "
            "locked by the receipt-lock checks left out)",
        )

    # --- the report ---

    def report(self, figures: dict[str, Any], total: float) -> bool:
        counts = self.cluster.counts
        print()
        print("Two instances on one PostgreSQL and one Redis (2 gunicorn x 2 workers, 2 deliver,")
        print(f"2 chase workers), {self.options.filings} survivors, {self.options.clients} at once")
        print()
        print("requests (by instance and kind: answers by status)")
        kinds = sorted({(k[1]) for k in counts})
        for kind in kinds:
            parts = []
            for instance in "AB":
                statuses = {s: n for (i, k, s), n in counts.items() if i == instance and k == kind}
                if statuses:
                    listed = ", ".join(f"{n} x {s}" for s, n in sorted(statuses.items()))
                    parts.append(f"{instance}: {listed}")
            print(f"  {kind:<15} {'; '.join(parts)}")
        total_requests = sum(counts.values())
        unanswered = sum(self.cluster.unanswered.values())
        print(
            f"  in all: {total_requests} answered, {unanswered} unanswered "
            f"({dict(self.cluster.unanswered) or 'none'}), sent again to the other instance: "
            f"{dict(self.cluster.sent_again) or 'none'}"
        )
        print()
        print("workload")
        filed = sum(r.source == "workload" for r in self.receipts.values())
        print(
            f"  filings: {self.options.filings} made, {filed} receipts "
            f"({', '.join(f'{n} x {k}' for k, n in sorted(self.filing_outcomes.items()))}); "
            f"{sum(r.source == 'limits' for r in self.receipts.values())} more by the limit "
            f"checks; {figures['cases']} cases in the database"
        )
        print(f"  survivors afterwards: {dict(sorted(self.follow_ups.items()))}")
        print(f"  hotline actions: {dict(sorted(self.actions.items()))}")
        print(f"  chase: notices made due {self.pokes} times")
        print(
            f"  the kill: after {self.kill.at_filings} filings answered, "
            f"{self.kill.at_seconds:.1f} s into the workload; {self.kill.in_flight} deliveries "
            f"in flight at the receivers; the killed delivery worker held "
            f"{len(self.kill.claims)} outbox rows"
            + (
                f" (claimed until {self.kill.claims_until}; "
                + ("waited for" if self.options.real_claim_expiry else "claims ended by the script")
                + ")"
                if self.kill.claims
                else ""
            )
        )
        after = self.cluster.answered("A") - self.kill.answered_by_a_before
        gone = self.kill.orphans_gone_after
        print(
            f"  instance A after its master was killed: its orphaned workers answered {after} "
            + (f"requests and exited {gone:.1f} s later" if gone is not None else "requests")
            + f"; {sum(self.cluster.unanswered.values())} requests went unanswered"
        )
        print()
        print("deliveries")
        hooks_total, hooks_unique, events = figures["hooks"]
        mails_total, mails_unique = figures["mails"]
        letters, reminders, escalated = figures["letters"]
        print(f"  outbox: {dict(sorted(figures['outbox'].items()))}")
        print(
            f"  webhooks received: {hooks_total} ({hooks_unique} ids; "
            f"{', '.join(f'{n} {e}' for e, n in sorted(events.items()))})"
        )
        print(
            f"  e-mails received: {mails_total} ({mails_unique} ids): {letters} notices "
            f"({escalated} escalations), {reminders} reminders"
        )
        hook_repeats, mail_repeats, held = figures["repeats"]
        print(
            f"  received twice: {hook_repeats} webhooks, {mail_repeats} e-mails "
            f"({held} ids the killed worker held; a receiver drops them by id)"
        )
        print()
        print("time")
        for phase, seconds in self.timings.items():
            print(f"  {phase:<10} {seconds:7.1f} s")
        print(f"  {'in all':<10} {total:7.1f} s")
        print()
        print("checks")
        failed = False
        for item in self.checks:
            mark = "ok  " if item.ok else ("info" if item.informational else "FAIL")
            failed |= not item.ok and not item.informational
            print(f"  [{mark}] {item.name}: {item.detail}")
        print()
        print("FAILED" if failed else "PASSED")
        return not failed


def dt_utcnow() -> dt.datetime:
    """Now, as the app stores it (naive UTC)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--filings", type=int, default=200)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--hook-delay", type=float, default=0.1)
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument("--real-claim-expiry", action="store_true")
    options = parser.parse_args()
    if options.filings < 8:
        parser.error("--filings must be at least 8")

    # Ctrl+C or SIGTERM: stop everything started, then leave.
    def stop(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-two-") as folder:
        bench = Bench(options, Path(folder))
        try:
            bench.start()
            print(
                f"started in {bench.timings['start']:.1f} s: A on port {bench.cluster.ports[0]},"
                f" B on port {bench.cluster.ports[1]}",
                flush=True,
            )
            bench.check_limits()
            print(f"limits checked in {bench.timings['limits']:.1f} s", flush=True)
            bench.workload()
            print(f"workload done in {bench.timings['workload']:.1f} s", flush=True)
            drained = bench.drain()
            figures = bench.check_everything(drained)
            passed = bench.report(figures, time.monotonic() - started)
        except BenchError as problem:
            print(f"error: {problem}", file=sys.stderr)
            passed = False
        except KeyboardInterrupt:
            print("interrupted: stopping what was started", file=sys.stderr)
            passed = False
        finally:
            bench.abort.set()
            bench.poking.clear()
            if bench.processes is not None:
                bench.processes.stop_all()
            bench.receivers.stop()
            bench.engine.dispose()
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
