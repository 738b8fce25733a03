"""Rules 4 and 5 of DESIGN section 3, checked on the real artefacts: the database file and
everything the app and its servers write to their logs."""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy.engine import make_url

from assistant.cli import upgrade_database
from assistant.extensions import Database
from tests.conftest import SECRETS
from tests.conftest import TEST_DATABASE_URL
from tests.conftest import Staffer
from tests.conftest import Survivor
from tests.conftest import csrf_token
from tests.conftest import make_app

SECRET_LINK = "https://very-secret-host.example/private/path-4471"
SECRET_NOTE = "the password is hunter-7781"
SECRET_MESSAGE = "my message body 5521"
BROWSER_UA = "Mozilla/5.0 (Linux; Android 14) UA-MARKER-9931"
CLIENT_IP = "203.0.113.77"


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="reads the raw bytes of the SQLite file")
def test_the_raw_database_file_holds_no_reported_link_note_or_message(tmp_path):
    database = tmp_path / "raw.sqlite3"
    app = make_app(f"sqlite:///{database}", tmp_path / "instance")

    upgrade_database(app)
    survivor = Survivor(app.test_client())
    number, passphrase = survivor.file(SECRET_LINK, note=SECRET_NOTE)
    survivor.sign_in(number, passphrase)

    token = csrf_token(survivor.client, "/my-request")
    survivor.client.post("/my-request/message", data={"csrf_token": token, "body": SECRET_MESSAGE})

    Database.engine(app).dispose()  # checkpoint the WAL into the file
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("raw.sqlite3*"))
    assert number.encode() in raw  # the check can see what is stored in clear
    for secret in (
        SECRET_LINK,
        "private/path-4471",
        SECRET_NOTE,
        SECRET_MESSAGE,
        passphrase,
        passphrase.replace(" ", ""),
    ):
        assert secret.encode() not in raw, secret
        assert secret.encode("utf-16-le") not in raw


UNIQUE_HOSTS = [
    "img-4f2a-q81.example.de",
    "sd7k2mwq3f5h4xyzabcdefghijklmnopqrstuvwxyzabcdefgh234567.onion",
    "files-77x9.cdn-zq.example.net",
]


def _journey_with_unique_hosts(app) -> None:
    """Places on hosts nobody else has (a one-off subdomain, an onion address), filed on the web
    and through the API, one added later, and a place on a platform the directory names."""
    survivor = Survivor(app.test_client())
    number, passphrase = survivor.file(
        f"https://{UNIQUE_HOSTS[0]}/a.jpg", f"http://{UNIQUE_HOSTS[1]}/gallery/3"
    )
    survivor.sign_in(number, passphrase)
    token = csrf_token(survivor.client, "/my-request/add")
    survivor.client.post(
        "/my-request/add",
        data={"csrf_token": token, "kind": "url", "value": f"https://{UNIQUE_HOSTS[2]}/v/9"},
    )
    body = {
        "locations": [
            {"kind": "url", "value": f"https://{UNIQUE_HOSTS[0]}/other"},
            {"kind": "url", "value": "https://imgur.com/a/kept-in-clear"},
        ]
    }
    assert app.test_client().post("/api/v1/requests", json=body).status_code == 201


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="reads the raw bytes of the SQLite file")
def test_the_raw_database_file_holds_no_host_the_directory_does_not_name(tmp_path):
    database = tmp_path / "raw.sqlite3"
    app = make_app(f"sqlite:///{database}", tmp_path / "instance")
    upgrade_database(app)
    _journey_with_unique_hosts(app)
    Database.engine(app).dispose()  # checkpoint the WAL into the file
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("raw.sqlite3*"))
    assert b"imgur.com" in raw  # a named platform is kept in clear: the check can see it
    for host in UNIQUE_HOSTS:
        for part in {host, host.split(".")[0]}:
            assert part.encode() not in raw, part
            assert part.encode("utf-16-le") not in raw, part


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="dumps the PostgreSQL database")
def test_a_postgresql_dump_holds_no_host_the_directory_does_not_name(app):
    _journey_with_unique_hosts(app)
    url = make_url(TEST_DATABASE_URL)
    dump = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            url.database or "test",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    assert b"imgur.com" in dump
    for host in UNIQUE_HOSTS:
        for part in {host, host.split(".")[0]}:
            assert part.encode() not in dump, part


def test_a_whole_journey_logs_no_reported_value_passphrase_address_or_agent(app, caplog):
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": CLIENT_IP, "HTTP_USER_AGENT": BROWSER_UA})
    survivor = Survivor(client)
    number, passphrase = survivor.file(SECRET_LINK, note=SECRET_NOTE)
    survivor.sign_in(number, "wrong passphrase")
    survivor.sign_in(number, passphrase)
    survivor.client.get("/my-request")
    survivor.client.post("/api/v1/requests", data="{bad json", content_type="application/json")
    survivor.client.get("/does-not-exist")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (
        SECRET_LINK,
        "very-secret-host",
        SECRET_NOTE,
        passphrase,
        CLIENT_IP,
        BROWSER_UA,
        "UA-MARKER",
    ):
        assert secret not in logged


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("server did not start")


def _journey_over_http(port: int) -> str:
    """File a request over real HTTP with a browser-like agent and a forwarded address."""
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    headers = {"User-Agent": BROWSER_UA, "X-Forwarded-For": CLIENT_IP}

    def call(path: str, data: bytes | None = None, content_type: str | None = None) -> str:
        request = urllib.request.Request(base + path, data=data, headers=dict(headers))
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with opener.open(request, timeout=10) as response:
                return response.read().decode()
        except urllib.error.HTTPError as error:
            return error.read().decode()

    body = json.dumps(
        {"locations": [{"kind": "url", "value": SECRET_LINK, "note": SECRET_NOTE}]}
    ).encode()
    created = call("/api/v1/requests?lang=fr", body, "application/json")
    passphrase = re.search(r'"passphrase":\s*"([^"]+)"', created)
    assert passphrase, created
    page = call("/request/where")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token

    form = urlencode(
        {"csrf_token": token.group(1), "kind": "url", "value": SECRET_LINK, "action": "add"}
    ).encode()
    call("/request/where", form, "application/x-www-form-urlencoded")
    return passphrase.group(1)


def _server_says_little_and_holds_chunked_bodies_to_the_limit(port: int) -> None:
    """On the real server: no Server header, a forged Host refused without being echoed, and a
    chunked body over the limit refused as too large (413), one within it read whole."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/hotline", headers={"Host": "forged-host.example"})
    forged = connection.getresponse()
    assert forged.status == 400 and forged.getheader("Location") is None
    assert b"forged-host" not in forged.read()
    assert forged.getheader("Server") is None
    connection.close()
    for size, expected in ((3 * 1024 * 1024, 413), (0, 201)):
        value = "https://example.com/" + "a" * 1000
        count = max(1, size // 1050)
        body = json.dumps({"locations": [{"kind": "url", "value": value}] * count}).encode()
        if size == 0:
            body = json.dumps({"locations": [{"kind": "url", "value": value}]}).encode()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        connection.putrequest("POST", "/api/v1/requests")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        try:
            for start in range(0, len(body), 65536):
                piece = body[start : start + 65536]
                connection.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            connection.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered 413 and closed without reading the rest
        answer = connection.getresponse()
        assert (answer.status, answer.getheader("Server")) == (expected, None)
        answer.read()
        connection.close()


def _server_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        {
            "ASSISTANT_DATABASE_URL": database_url,
            "ASSISTANT_SECRET_KEY": SECRETS["secret_key"],
            "ASSISTANT_MASTER_KEYS": SECRETS["master_keys"],
            "ASSISTANT_HASH_KEY": SECRETS["hash_key"],
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _run_and_read(command: list[str], env: dict[str, str], port: int, tmp_path: Path) -> str:
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parent.parent,
        )
        try:
            _wait_for(port)
            passphrase = _journey_over_http(port)
            _server_says_little_and_holds_chunked_bodies_to_the_limit(port)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
    output = log_path.read_text()
    assert "/request/where" in output, output  # the access log is really there
    for secret in (
        SECRET_LINK,
        "very-secret-host",
        SECRET_NOTE,
        passphrase,
        CLIENT_IP,
        "127.0.0.1 -",
        BROWSER_UA,
        "UA-MARKER",
        "lang=fr",
    ):
        assert secret not in output, secret
    return output


def test_assistant_serve_access_log_keeps_nothing_personal(database_url, tmp_path):
    port = _free_port()
    command = [str(Path(sys.executable).with_name("assistant")), "serve", "--port", str(port)]
    _run_and_read(command, _server_env(tmp_path, database_url), port, tmp_path)


def test_documented_gunicorn_command_access_log_keeps_nothing_personal(database_url, tmp_path):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    documented = re.search(r"^gunicorn .*$", readme, re.M)
    assert documented, "the README documents the gunicorn command"
    port = _free_port()
    line = documented.group(0).replace("0.0.0.0:8000", f"127.0.0.1:{port}")
    line = line.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    command = [str(Path(sys.executable).with_name("gunicorn")), *line.split()[1:]]
    command = [part.strip("'\"") for part in command]
    _run_and_read(command, _server_env(tmp_path, database_url), port, tmp_path)


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="reads the raw bytes of the SQLite file")
def test_the_raw_database_file_holds_no_advocate_profile_consent_or_pasted_link(tmp_path):
    database = tmp_path / "raw.sqlite3"
    app = make_app(f"sqlite:///{database}", tmp_path / "instance")
    upgrade_database(app)
    advocate = Staffer(app, "lawyer@quietharbour.example", "advocate", "Quiet Harbour Legal")
    assert advocate.sign_in().status_code == 303
    advocate.post(
        "/advocate/file/places",
        {"pasted": f"{SECRET_LINK}\nhttps://x.example.ie/2", "action": "check"},
    )
    advocate.post("/advocate/file/places", {"action": "continue"})
    advocate.post("/advocate/file/details", {"language": "en"})
    advocate.post(
        "/advocate/file/consent",
        {"method": "written", "given_on": "2026-01-02", "survivor_receipt": "no"},
    )
    assert advocate.post("/advocate/file/send").status_code == 200
    Database.engine(app).dispose()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("raw.sqlite3*"))
    assert b"lawyer@quietharbour.example" in raw  # the e-mail address is the sign-in name
    for secret in (
        SECRET_LINK,
        "Quiet Harbour Legal",
        "I help survivors",
        "Case worker",
        '"written"',
        "2026-01-02",
    ):
        assert secret.encode() not in raw, secret
