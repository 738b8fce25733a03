"""Where hotlines are reached, and the two ways a delivery leaves: a signed webhook over HTTPS,
and a neutral e-mail over SMTP with STARTTLS. :mod:`assistant.hotline.delivery` decides what to
send and when; this module only sends, and turns every failure into a short code that is safe to
store and log.

A hotline's directory entry says how it takes referrals (``intake``): ``portal`` (its staff use
this service; nothing to send), ``webhook`` (a signed POST of the referral to its HTTPS endpoint),
``email`` (a neutral notice that referrals are waiting, never their content), or ``handoff`` (not
connected). Where to send is deployment configuration, not public data: a JSON file named by
``ASSISTANT_DELIVERY_CONFIG``::

    {"hotlines": {"hotline-a": {"webhook_url": "https://...", "webhook_secret": "..."},
                  "hotline-b": {"email": "referrals@hotline-b.example"}},
     "notice_senders": {"hotline-a": "notices@hotline-a.example"}}

Webhooks are signed the way the Standard Webhooks specification says (https://www.standardwebhooks.com),
so a hotline can check them with the published verifier for its own language: the headers
``webhook-id`` (the delivery's id, the same on every retry), ``webhook-timestamp`` (Unix seconds)
and ``webhook-signature`` (``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>." + body>``, one per
secret, space-separated, while a secret is being rotated). The secret is the configured string: a
``whsec_<base64>`` secret is used as the bytes it encodes, any other string as its UTF-8 bytes
(give the verifier ``"whsec_" + base64(secret)`` then). The older ``X-RRA-Timestamp`` and
``X-RRA-Signature`` headers (:func:`verify_signature`) are still sent when
``ASSISTANT_WEBHOOK_LEGACY_SIGNATURE`` is on: deprecated, for one release.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import http.client
import ipaddress
import json
import re
import smtplib
import socket
import ssl
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from email.utils import make_msgid
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from babel.support import Translations

from ..config import ConfigError
from ..config import Settings
from ..models import utcnow
from ..routing import Directory
from ..routing import Intake

NETWORK_TIMEOUT = 10.0

TIMESTAMP_HEADER = "X-RRA-Timestamp"
SIGNATURE_HEADER = "X-RRA-Signature"
SIGNATURE_VERSION = "v1"
TRANSLATIONS = Path(__file__).resolve().parent.parent.parent / "translations"
# The intakes that take deliveries from the outbox.
CHANNELS = frozenset({Intake.WEBHOOK, Intake.EMAIL})
MIN_WEBHOOK_SECRET = 32


STANDARD_SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


@dataclass(frozen=True)
class Endpoint:
    """Where one hotline's deliveries go. ``webhook_secrets``: the current secret first, then
    any older one still accepted by the receiver during a rotation (each signs)."""

    channel: Intake
    webhook_url: str | None = None
    webhook_secrets: tuple[str, ...] = ()
    email: str | None = None

    @property
    def webhook_secret(self) -> str | None:
        return self.webhook_secrets[0] if self.webhook_secrets else None


def load_endpoints(path: Path | None, directory: Directory) -> dict[str, Endpoint]:
    """The endpoints of every hotline whose intake is ``webhook`` or ``email``.

    Refuses (:class:`ConfigError`) a hotline that takes deliveries but has no endpoint, a webhook
    that is not HTTPS or has a short secret, and an endpoint for a hotline that takes none.
    """
    raw: Mapping[str, object] = {}
    if path is not None:
        try:
            loaded = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError("ASSISTANT_DELIVERY_CONFIG cannot be read as JSON") from exc
        hotlines = loaded.get("hotlines", {}) if isinstance(loaded, dict) else None
        if not isinstance(hotlines, dict):
            raise ConfigError('ASSISTANT_DELIVERY_CONFIG: "hotlines" must be an object')
        raw = hotlines
    endpoints: dict[str, Endpoint] = {}
    for hotline in directory.hotlines.values():
        if hotline.intake not in CHANNELS:
            continue
        entry = raw.get(hotline.id)
        if not isinstance(entry, dict):
            raise ConfigError(
                f"hotline {hotline.id} takes {hotline.intake} deliveries, but "
                "ASSISTANT_DELIVERY_CONFIG has no endpoint for it"
            )
        if hotline.intake == Intake.WEBHOOK:
            url = entry.get("webhook_url")
            if not isinstance(url, str) or not url.startswith("https://"):
                raise ConfigError(f"hotline {hotline.id}: webhook_url must be an https:// address")
            endpoints[hotline.id] = Endpoint(
                Intake.WEBHOOK, webhook_url=url, webhook_secrets=_secrets(hotline.id, entry)
            )
        else:
            email = entry.get("email")
            if not isinstance(email, str) or "@" not in email:
                raise ConfigError(f"hotline {hotline.id}: email must be an e-mail address")
            endpoints[hotline.id] = Endpoint(Intake.EMAIL, email=email)
    extra = sorted(set(raw) - set(endpoints))
    if extra:
        raise ConfigError(
            f"ASSISTANT_DELIVERY_CONFIG names hotlines that take no deliveries: {', '.join(extra)}"
        )
    return endpoints


def _secrets(hotline_id: str, entry: Mapping[str, object]) -> tuple[str, ...]:
    """``webhook_secret`` (one), or ``webhook_secrets`` (the current one first, then those the
    receiver still accepts while it switches); each long enough, and a ``whsec_`` one valid."""
    raw = entry.get("webhook_secrets", [entry.get("webhook_secret")])
    if "webhook_secret" in entry and "webhook_secrets" in entry:
        raise ConfigError(f"hotline {hotline_id}: give webhook_secret or webhook_secrets, not both")
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"hotline {hotline_id}: webhook_secrets must be a list of secrets")
    for secret in raw:
        if not isinstance(secret, str) or len(secret) < MIN_WEBHOOK_SECRET:
            raise ConfigError(
                f"hotline {hotline_id}: webhook_secret must be at least "
                f"{MIN_WEBHOOK_SECRET} characters"
            )
        try:
            secret_bytes(secret)
        except ValueError:
            raise ConfigError(
                f"hotline {hotline_id}: a whsec_ secret must be base64 of at least 24 bytes"
            ) from None
    return tuple(raw)


# An e-mail address, whole (``fullmatch``: no trailing line break slips through).
EMAIL_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}")


def load_notice_senders(path: Path | None, directory: Directory) -> dict[str, str]:
    """Who each hotline's notices to providers come from, where the operator set it up with
    their mail system: ``"notice_senders": {"hotline_ie": "notices@hotline.example"}`` in the
    file ``ASSISTANT_DELIVERY_CONFIG`` names. A hotline not listed sends from the service's own
    ``ASSISTANT_SMTP_FROM`` address, with its name shown. Never set by a hotline itself: the
    service's mail server would send as any address it was given."""
    if path is None:
        return {}
    try:
        loaded = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError("ASSISTANT_DELIVERY_CONFIG cannot be read as JSON") from exc
    senders = loaded.get("notice_senders", {}) if isinstance(loaded, dict) else {}
    if not isinstance(senders, dict):
        raise ConfigError('ASSISTANT_DELIVERY_CONFIG: "notice_senders" must be an object')
    for hotline_id, address in senders.items():
        if directory.get(hotline_id) is None:
            raise ConfigError(f"notice_senders names an unknown hotline: {hotline_id}")
        if not isinstance(address, str) or not EMAIL_ADDRESS.fullmatch(address):
            raise ConfigError(f"notice_senders: {hotline_id} needs an e-mail address")
    return dict(senders)


class DeliveryFailure(Exception):
    """A delivery that did not go through. ``code`` is short and safe to store and log."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- signatures, for the worker and for hotlines checking what they receive ---


def sign(secret: str, timestamp: str | int, body: bytes) -> str:
    """HMAC-SHA256 over ``b"<timestamp>." + body`` with the hotline's secret, in hex."""
    message = f"{timestamp}.".encode("ascii") + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    header: str,
    *,
    now: dt.datetime | None = None,
    tolerance: int = 300,
) -> bool:
    """Whether a webhook request is genuine: the ``X-RRA-Signature`` header (``v1=<hex>``, or
    several comma-separated during a secret rotation) matches the timestamp and the raw body, and
    the timestamp is within ``tolerance`` seconds of ``now`` so a captured request cannot be
    replayed later. Compared in constant time."""
    if not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs(_epoch(now or utcnow()) - int(timestamp)) > tolerance:
        return False
    expected = f"{SIGNATURE_VERSION}={sign(secret, timestamp, body)}".encode("ascii")
    found = False
    for candidate in header.split(","):
        # No early exit: every candidate is compared.
        found |= hmac.compare_digest(candidate.strip().encode("utf-8"), expected)
    return found


def secret_bytes(secret: str) -> bytes:
    """The key a Standard Webhooks signature is made with (see the module's note)."""
    if not secret.startswith(STANDARD_SECRET_PREFIX):
        return secret.encode("utf-8")
    try:
        key = base64.b64decode(secret.removeprefix(STANDARD_SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
    if len(key) < 24:
        raise ValueError("too short")
    return key


def standard_signature(
    secrets: Sequence[str], message_id: str, timestamp: str | int, body: bytes
) -> str:
    """The ``webhook-signature`` header: ``v1,<base64>`` for each secret, space-separated."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1,"
        + base64.b64encode(hmac.new(secret_bytes(s), signed, hashlib.sha256).digest()).decode()
        for s in secrets
    )


def _epoch(moment: dt.datetime) -> int:
    """Seconds since the epoch; a naive time is UTC, as everywhere in this app."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp())


# --- the two channels ---


def tls_context(settings: Settings) -> ssl.SSLContext:
    """Certificates verified against the system's CAs, plus ``tls_ca_file`` when it is set.
    Built once per CA file and process (loading the system's CAs takes longer than a send)."""
    return _tls_context(settings.tls_ca_file)


@lru_cache(maxsize=4)
def _tls_context(ca_file: str) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def post_webhook(
    endpoint: Endpoint,
    body: bytes,
    idempotency_key: str,
    moment: dt.datetime,
    context: ssl.SSLContext,
    *,
    legacy_signature: bool = False,
) -> None:
    """POST a signed body (Standard Webhooks headers, with ``idempotency_key`` as the
    ``webhook-id``; the deprecated ``X-RRA-`` headers too with ``legacy_signature``); anything
    but a 2xx answer raises :class:`DeliveryFailure`.

    http.client rather than urllib: no redirect is ever followed (a 3xx is a failure, so the
    referral cannot be bounced to another address), no proxy from the environment, no other
    scheme. The answer's body is never read.
    """
    if not endpoint.webhook_url or not endpoint.webhook_secrets:
        raise DeliveryFailure("no_endpoint")
    try:
        url = urlsplit(endpoint.webhook_url)
        port = url.port or 443
    except ValueError:
        raise DeliveryFailure("bad_endpoint") from None
    if url.scheme != "https" or not url.hostname:
        raise DeliveryFailure("bad_endpoint")
    timestamp = str(_epoch(moment))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "removal-request-assistant",
        "Idempotency-Key": idempotency_key,
        "webhook-id": idempotency_key,
        "webhook-timestamp": timestamp,
        "webhook-signature": standard_signature(
            endpoint.webhook_secrets, idempotency_key, timestamp, body
        ),
    }
    if legacy_signature:
        headers[TIMESTAMP_HEADER] = timestamp
        headers[SIGNATURE_HEADER] = ",".join(
            f"{SIGNATURE_VERSION}={sign(secret, timestamp, body)}"
            for secret in endpoint.webhook_secrets
        )
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    connection = http.client.HTTPSConnection(
        url.hostname, port, timeout=NETWORK_TIMEOUT, context=context
    )
    try:
        connection.request("POST", path, body=body, headers=headers)
        status = connection.getresponse().status
    finally:
        connection.close()
    if not 200 <= status < 300:
        raise DeliveryFailure(f"http_{status}")


def notification_email(
    settings: Settings, to_address: str, count: int, language: str = "en"
) -> EmailMessage:
    """The neutral notice: how many referrals wait, and where. Nothing about any of them (no
    case, place, category or reference), because e-mail is read on phones, forwarded and kept."""
    words = Translations.load(str(TRANSLATIONS), [language])
    portal = settings.public_url.rstrip("/") + "/hotline/"
    message = EmailMessage()
    message["Subject"] = words.gettext("New referrals are waiting")
    message["From"] = settings.smtp_from
    message["To"] = to_address
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=mail_domain(settings.smtp_from))
    waiting = words.ngettext(
        "%(num)d new referral is waiting in the portal: %(portal)s",
        "%(num)d new referrals are waiting in the portal: %(portal)s",
        count,
    ) % {"num": count, "portal": portal}
    explanation = words.gettext(
        "Sign in there to read them. This message says nothing about them on purpose."
    )
    message.set_content(f"{waiting}\n\n{explanation}\n")
    return message


def account_notice_email(settings: Settings, count: int, language: str = "en") -> EmailMessage:
    """The neutral notice that accounts were created for a hotline: how many, and where its
    administrators see them. It names nobody, neither the new person nor who created the
    account: the Team page says that to the administrators, signed in. The recipients are not
    shown to each other."""
    words = Translations.load(str(TRANSLATIONS), [language])
    team_page = settings.public_url.rstrip("/") + "/hotline/team/"
    return _to_administrators(
        settings,
        words.ngettext(
            "A new account was created for your hotline",
            "New accounts were created for your hotline",
            count,
        ),
        words.ngettext(
            "%(num)d new account was created for your hotline in the portal.",
            "%(num)d new accounts were created for your hotline in the portal.",
            count,
        )
        % {"num": count},
        words.gettext(
            "Your hotline's administrators see every account, and who created it, on the Team "
            "page: %(page)s"
        )
        % {"page": team_page},
        words.gettext(
            "If nobody at your hotline expected it, disable it there or tell your administrator. "
            "This message names no one on purpose."
        ),
    )


def key_notice_email(settings: Settings, count: int, language: str = "en") -> EmailMessage:
    """The neutral notice that API keys were made for a hotline: how many, and where its
    administrators see them (who made each, its name and what it may do). Nothing more: a key
    nobody at the hotline expected is revoked there."""
    words = Translations.load(str(TRANSLATIONS), [language])
    keys_page = settings.public_url.rstrip("/") + "/hotline/team/keys"
    return _to_administrators(
        settings,
        words.ngettext(
            "A new API key was made for your hotline",
            "New API keys were made for your hotline",
            count,
        ),
        words.ngettext(
            "%(num)d new API key was made for your hotline's own systems.",
            "%(num)d new API keys were made for your hotline's own systems.",
            count,
        )
        % {"num": count},
        words.gettext(
            "Your hotline's administrators see every key, who made it and what it may do, on the "
            "API keys page: %(page)s"
        )
        % {"page": keys_page},
        words.gettext(
            "If nobody at your hotline expected it, revoke it there. This message names no one "
            "on purpose."
        ),
    )


def _to_administrators(
    settings: Settings, subject: str, what: str, where: str, explanation: str
) -> EmailMessage:
    """A neutral message to a hotline's people, who are not shown to each other."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.smtp_from
    message["To"] = "undisclosed-recipients:;"
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=mail_domain(settings.smtp_from))
    message.set_content(f"{what}\n{where}\n\n{explanation}\n")
    return message


@contextmanager
def smtp_connection(settings: Settings, context: ssl.SSLContext) -> Iterator[smtplib.SMTP]:
    """A connection to the SMTP relay with STARTTLS and a verified certificate, signed in when a
    user name is set; several messages may be sent over it. Refuses to speak in clear."""
    if not settings.smtp_host or not settings.smtp_from:
        raise DeliveryFailure("smtp_not_configured")
    with smtplib.SMTP(
        settings.smtp_host,
        settings.smtp_port,
        # Named here: smtplib would otherwise look up this machine's name in the DNS.
        local_hostname=_ehlo_name(settings.public_url),
        timeout=NETWORK_TIMEOUT,
    ) as smtp:
        smtp.ehlo()
        if not smtp.has_extn("starttls"):
            raise DeliveryFailure("no_starttls")
        smtp.starttls(context=context)
        smtp.ehlo()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        yield smtp


def send_email(
    settings: Settings,
    message: EmailMessage,
    to_address: str | Sequence[str],
    context: ssl.SSLContext,
) -> None:
    """Send one message over its own connection (see :func:`smtp_connection`)."""
    with smtp_connection(settings, context) as smtp:
        recipients = [to_address] if isinstance(to_address, str) else list(to_address)
        smtp.send_message(message, from_addr=settings.smtp_from, to_addrs=recipients)


def mail_domain(address: str) -> str:
    """The domain of the sender's address, for Message-IDs."""
    _name, _at, domain = address.rpartition("@")
    return domain.strip(" >") or "localhost"


def _ehlo_name(public_url: str) -> str:
    host = urlsplit(public_url).hostname or "localhost"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    return f"[IPv6:{ip}]" if ip.version == 6 else f"[{ip}]"


def failure_code(exc: BaseException) -> str:
    """A short code for what went wrong: never a message, an answer or an address."""
    if isinstance(exc, DeliveryFailure):
        return exc.code
    # smtplib's and ssl's errors are OSErrors too: the specific ones first.
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"smtp_{exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "smtp_recipient_refused"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "smtp_disconnected"
    if isinstance(exc, smtplib.SMTPException):
        return "smtp_error"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "tls_certificate"
    if isinstance(exc, ssl.SSLError):
        return "tls"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "connection_refused"
    if isinstance(exc, ConnectionResetError):
        return "connection_reset"
    if isinstance(exc, socket.gaierror):
        return "dns"
    if isinstance(exc, http.client.HTTPException):
        return "http_protocol"
    if isinstance(exc, OSError):
        return "network"
    return "error"


NETWORK_ERRORS = (DeliveryFailure, OSError, http.client.HTTPException)
