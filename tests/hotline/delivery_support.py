"""Real receivers on loopback for the delivery tests: a private CA, an HTTPS webhook receiver and
an SMTP server that requires STARTTLS. Nothing here reaches beyond 127.0.0.1."""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import hmac
import ipaddress
import json
import shutil
import socket
import ssl
import threading
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from aiosmtpd.smtp import LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.oid import NameOID
from standardwebhooks import Webhook

from assistant.hotline.channels import SIGNATURE_HEADER
from assistant.hotline.channels import TIMESTAMP_HEADER
from assistant.hotline.channels import verify_signature
from assistant.routing.directory import DATA_DIR

LOOPBACK = "127.0.0.1"


def unused_port() -> int:
    """A loopback port with nothing listening on it (yet)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


class Clock:
    """The injected ``now``: moves only when a test moves it."""

    def __init__(self, start: dt.datetime) -> None:
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> dt.datetime:
        self.current += dt.timedelta(**delta)
        return self.current


# --- certificates ---


@dataclass(frozen=True)
class TlsFiles:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_certificates(folder: Path) -> TlsFiles:
    """A throwaway CA and a server certificate it signed for the address 127.0.0.1."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    end = start + dt.timedelta(days=2)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Delivery test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, LOOPBACK)]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


# --- the webhook receiver ---


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    signature_ok: bool
    # The deprecated X-RRA- signature checked out too (sent only when the setting is on).
    legacy_ok: bool = False

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


def verifier_secret(secret: str) -> str:
    """The secret as a Standard Webhooks verifier takes it: a ``whsec_`` secret as it is, any
    other string as ``whsec_`` + base64 of its bytes (as the README tells hotlines)."""
    if secret.startswith("whsec_"):
        return secret
    return "whsec_" + base64.b64encode(secret.encode("utf-8")).decode("ascii")


def standard_signature_ok(
    secret: str, headers: dict[str, str], body: bytes, now: dt.datetime
) -> bool:
    """The check the reference verifier (``standardwebhooks`` from PyPI) makes, against the
    tests' clock instead of the machine's: one of the signatures is the one its ``sign`` makes
    for this id, timestamp and body, and the timestamp is within five minutes."""
    message_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    sent = headers.get("webhook-signature", "")
    if not (message_id and stamp.isdigit() and sent):
        return False
    moment = dt.datetime.fromtimestamp(int(stamp), dt.UTC)
    clock = now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now
    if abs((clock - moment).total_seconds()) > 300:
        return False
    expected = Webhook(verifier_secret(secret)).sign(message_id, moment, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in sent.split(" "))


@dataclass
class WebhookReceiver:
    """An HTTPS server on 127.0.0.1 that records every request and checks its signature the way
    a hotline would: a request that fails the check gets 401."""

    port: int
    tls: TlsFiles
    secrets: dict[str, str]  # path -> the shared secret of the hotline posting there
    clock: Clock
    status: int = 200
    # When set, the first two requests wait here for each other: if they meet, they were in
    # flight at the same time (a worker sends one at a time, so they came from two workers).
    meet: threading.Barrier | None = None
    requests: list[Received] = field(default_factory=list)
    met: bool = False
    arrived: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def __enter__(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                secret = receiver.secrets.get(self.path, "")
                ok = bool(secret) and standard_signature_ok(secret, headers, body, receiver.clock())
                legacy = bool(secret) and verify_signature(
                    secret,
                    headers.get(TIMESTAMP_HEADER.lower(), ""),
                    body,
                    headers.get(SIGNATURE_HEADER.lower(), ""),
                    now=receiver.clock(),
                )
                receiver.requests.append(Received(self.path, headers, body, ok, legacy))
                receiver.arrived.set()
                barrier = receiver.meet
                if barrier is not None:
                    try:
                        barrier.wait(timeout=10)
                        receiver.met = True
                    except threading.BrokenBarrierError:
                        pass
                    receiver.meet = None
                self.send_response(receiver.status if ok else 401)
                if 300 <= receiver.status < 400:
                    self.send_header("Location", f"https://{LOOPBACK}:{receiver.port}/moved")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer((LOOPBACK, self.port), Handler)
        server.daemon_threads = True
        server.socket = self.tls.server_context().wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


# --- the SMTP server ---


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    over_tls: bool
    login: str | None

    def message(self) -> email.message.EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        return parsed


class Mailbox:
    """aiosmtpd handler and authenticator: keeps every message and who signed in."""

    def __init__(self, username: str = "", password: str = "") -> None:
        self.credentials = (username.encode(), password.encode())
        self.messages: list[ReceivedMail] = []
        # When set, every message is refused with this reply (e.g. "451 4.3.0 Try again later").
        self.refuse_with: str | None = None

    def authenticate(
        self, _server: Any, session: Any, _envelope: Any, _mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            (auth_data.login, auth_data.password) == self.credentials
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    async def handle_DATA(self, _server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_with:
            return self.refuse_with
        login = session.login_data.decode() if session.authenticated else None
        self.messages.append(
            ReceivedMail(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.original_content,
                session.ssl is not None,
                login,
            )
        )
        return "250 Message accepted"


def smtp_server(port: int, mailbox: Mailbox, tls: TlsFiles | None) -> Controller:
    """An SMTP server on 127.0.0.1 that, given ``tls``, offers STARTTLS and requires it (and
    takes AUTH only after it); without, it speaks only in clear."""
    extra: dict[str, Any] = {}
    if tls is not None:
        extra = {
            "tls_context": tls.server_context(),
            "require_starttls": True,
            "authenticator": mailbox.authenticate,
            "auth_require_tls": True,
        }
    return Controller(mailbox, hostname=LOOPBACK, port=port, server_hostname="localhost", **extra)


# --- the app's data and delivery configuration ---


def delivery_data(
    folder: Path, intakes: dict[str, str], endpoints: dict[str, Any]
) -> dict[str, str]:
    """Copies of the shipped directory with some hotlines' intake changed, and the delivery
    configuration: the settings to pass to ``make_app``."""
    data = folder / "data"
    data.mkdir(parents=True)
    hotlines = json.loads((DATA_DIR / "hotlines.json").read_text("utf-8"))
    for entry in hotlines["hotlines"]:
        entry["intake"] = intakes.get(entry["id"], entry["intake"])
    (data / "hotlines.json").write_text(json.dumps(hotlines), "utf-8")
    shutil.copy(DATA_DIR / "providers.json", data / "providers.json")
    config = folder / "delivery.json"
    config.write_text(json.dumps({"hotlines": endpoints}), "utf-8")
    return {"data_dir": str(data), "delivery_config": str(config)}
