"""The service as a Tor onion service (docs/onion-service.md): an instance whose public address
is a v3 ``.onion`` one, reached over plain HTTP through the local proxy that Tor hands its
connections to. Every public page answers there, the survivor's whole journey works (web and
API), and every address the app writes out (set-up links, the notice link, the safety page, the
manifest, redirects) is the onion one or a path on it, never a clear-web address of the service.

The instance runs as in production (``ASSISTANT_ENV=production``, secure cookies, behind one
proxy). The test client keeps and sends back ``Secure`` (and ``__Host-``) cookies over plain
HTTP, as Tor Browser does on an onion address, which it counts as a secure origin;
docs/onion-service.md says which browsers do not, and what that means.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from assistant.extensions import Database
from assistant.hotline.notice_mail import link_token
from assistant.hotline.referrals import Staff
from assistant.hotline.referrals import acknowledge
from assistant.hotline.referrals import assess_places
from assistant.hotline.referrals import referral_for_staff
from assistant.models import Account
from assistant.models import NoticeLetter
from assistant.models import Referral
from assistant.web.access import PUBLIC
from assistant.web.access import access_level
from tests.conftest import HOTLINE_A
from tests.conftest import Staffer
from tests.conftest import Survivor
from tests.conftest import api_request_body
from tests.conftest import csrf_token
from tests.conftest import empty_all_tables
from tests.conftest import hotlines_take_part
from tests.conftest import make_app
from tests.contract import ContractClient
from tests.contract import Document
from tests.hotline.notice_support import HOST_INBOX
from tests.hotline.notice_support import notice_data


def v3_onion_host(public_key: bytes) -> str:
    """The v3 onion address of an ed25519 public key (Tor's rend-spec: the key, a two-byte
    checksum and the version, in lower-case base32): 56 characters and ``.onion``."""
    version = b"\x03"
    checksum = hashlib.sha3_256(b".onion checksum" + public_key + version).digest()[:2]
    encoded = base64.b32encode(public_key + checksum + version).decode("ascii").lower()
    return f"{encoded}.onion"


ONION_HOST = v3_onion_host(hashlib.sha256(b"a key for the onion tests").digest())
ONION_URL = f"http://{ONION_HOST}"
# What deploy/nginx/assistant-onion.conf adds for the app: plain http, and the made-up address
# Tor gives each circuit (HiddenServiceExportCircuitID) as the client's.
THROUGH_THE_ONION_PROXY = {
    "HTTP_X_FORWARDED_FOR": "fc00:dead:beef:4dad::a1b2:c3d4",
    "HTTP_X_FORWARDED_PROTO": "http",
}
# Hosts that would send an onion visitor to another address of the service: the default public
# address and the test client's default host. (An address on the onion host itself must be
# plain http: see assert_stays_on_the_onion.)
NOT_THE_ONION = ("127.0.0.1", "localhost")
PROVIDER = "filebox_test"  # a provider the notice test data adds, reached by e-mail
FILED_LINK = "https://filebox-test.ie/f/onion-1"


class OnionClient(ContractClient):
    """A visitor of the onion address: every request goes to the onion host (the Host header,
    and the cookies kept for it), through the local proxy."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base.update(THROUGH_THE_ONION_PROXY)

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        kwargs.setdefault("base_url", ONION_URL)
        if self._document is None:
            # The contract check reads the OpenAPI document from the default host, which this
            # instance refuses (it trusts only its public URL's host): read it here instead.
            document = FlaskClient.open(self, "/api/v1/openapi.json", base_url=ONION_URL)
            self._document = Document(document.get_json())
        return super().open(*args, **kwargs)


@pytest.fixture
def onion_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(
        database_url,
        tmp_path / "instance",
        env="production",
        secure_cookies=True,
        trusted_proxies=1,
        public_url=ONION_URL,
        publish_provider_figures=True,
        data_dir=str(notice_data(tmp_path)),
    )
    app.test_client_class = OnionClient
    empty_all_tables(app)
    yield app
    empty_all_tables(app)
    Database.engine(app).dispose()


@pytest.fixture
def onion_client(onion_app: Flask) -> FlaskClient:
    client = onion_app.test_client()
    assert isinstance(client, OnionClient)
    return client


def onion_staffer(app: Flask, email: str, role: str, hotline_id: str | None) -> Staffer:
    """Staff of the onion app (its test client is an :class:`OnionClient`), signed in there."""
    staffer = Staffer(app, email, role, hotline_id)
    assert staffer.sign_in().status_code == 303
    return staffer


class _Addresses(HTMLParser):
    """Every address a page names: in links, forms, assets, and in its text."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src", "action", "formaction", "content") and value:
                self.found.append(value)

    def handle_data(self, data: str) -> None:
        self.found += re.findall(r"https?://[^\s\"'<>]+", data)


def addresses_in(response: Any) -> list[str]:
    if response.mimetype == "text/html":
        parser = _Addresses()
        parser.feed(response.get_data(as_text=True))
        return parser.found
    if response.mimetype in ("application/json", "application/manifest+json"):
        return re.findall(r"https?://[^\s\"'<>]+", response.get_data(as_text=True))
    return []


def assert_stays_on_the_onion(response: Any, where: str) -> None:
    """The response names no clear-web address of the service: every address on it is a path,
    the onion address, or a site that is not this service (a support line, the exit page)."""
    named = list(addresses_in(response))
    if "Location" in response.headers:
        named.append(response.headers["Location"])
    for address in named:
        host = urlsplit(address).hostname or ""
        assert host not in NOT_THE_ONION, f"{where}: {address}"
        if host.endswith(".onion"):
            # Plain http: the onion address has no certificate (docs/onion-service.md).
            assert address.startswith(f"{ONION_URL}/"), f"{where}: {address}"
    body = response.get_data(as_text=True)
    for host in NOT_THE_ONION:
        assert host not in body, f"{where} names {host}"


def public_pages(app: Flask) -> list[str]:
    """Every public page that takes no argument in its path."""
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        and "GET" in (rule.methods or ())
        and not rule.arguments
        and access_level(app.view_functions[rule.endpoint]) == PUBLIC
    )


# Public pages that answer with something else than 200 when nobody is signed in or filing.
NOT_A_PAGE = {
    "/exit": 303,  # the quick exit leaves for the configured neutral site
    "/account/enrol": 404,  # without a set-up code there is nothing to set up
    # The steps after the first one send a visitor with no place yet back to it.
    "/request/what": 303,
    "/request/about": 303,
    "/request/review": 303,
}


def test_every_public_page_answers_on_the_onion_address(
    onion_app: Flask, onion_client: FlaskClient
) -> None:
    pages = public_pages(onion_app)
    assert {"/", "/request/start", "/check", "/support", "/safety", "/hotlines"} <= set(pages)
    for path in pages:
        response = onion_client.get(path)
        assert response.request.host == ONION_HOST
        assert response.status_code == NOT_A_PAGE.get(path, 200), path
        assert_stays_on_the_onion(response, path)
    for size in (192, 512):
        assert onion_client.get(f"/app-icon-{size}.png").status_code == 200


def test_the_safety_page_gives_the_onion_address_to_find_the_service_again(
    onion_client: FlaskClient,
) -> None:
    page = onion_client.get("/safety").get_data(as_text=True)
    assert f'<span class="address">{ONION_URL}/</span>' in page


def test_the_manifest_and_the_worker_name_only_paths_on_this_site(
    onion_client: FlaskClient,
) -> None:
    manifest = json.loads(onion_client.get("/manifest.webmanifest").get_data(as_text=True))
    addresses = [manifest["start_url"], manifest["scope"], manifest["id"]]
    addresses += [icon["src"] for icon in manifest["icons"]]
    assert all(address.startswith("/") for address in addresses), addresses
    worker = onion_client.get("/service-worker.js").get_data(as_text=True)
    assert not re.search(r"https?://", worker)


def test_a_survivor_files_follows_adds_writes_and_erases_on_the_onion(
    onion_client: FlaskClient,
) -> None:
    survivor = Survivor(onion_client)
    number, passphrase = survivor.file(FILED_LINK, "https://example.fr/a", country="BE")
    signed_in = survivor.sign_in(number, passphrase)
    assert signed_in.status_code == 303
    assert_stays_on_the_onion(signed_in, "/check")
    page = onion_client.get(signed_in.headers["Location"])
    assert page.status_code == 200
    assert number in page.get_data(as_text=True)
    assert "Point de Contact" in page.get_data(as_text=True)  # .fr goes to France's hotline
    assert_stays_on_the_onion(page, "/my-request")

    token = csrf_token(onion_client, "/my-request/add")
    added = onion_client.post(
        "/my-request/add",
        data={"csrf_token": token, "kind": "url", "value": "https://example.ie/z"},
    )
    assert added.status_code == 303
    assert_stays_on_the_onion(added, "/my-request/add")
    hotlines_take_part(onion_client.application)
    status_page = onion_client.get("/my-request").get_data(as_text=True)
    token = csrf_token(onion_client, "/my-request")
    hotline = re.search(r'name="referral"[^>]*>\s*<option value="(\d+)"', status_page)
    assert hotline, "the survivor chooses which hotline to write to"
    written = onion_client.post(
        "/my-request/message",
        data={"csrf_token": token, "referral": hotline.group(1), "body": "Please hurry"},
    )
    assert written.status_code == 303
    assert_stays_on_the_onion(written, "/my-request/message")
    followed = onion_client.get("/my-request").get_data(as_text=True)
    assert "example.ie/…" in followed and "Please hurry" in followed

    token = csrf_token(onion_client, "/my-request/erase")
    erased = onion_client.post("/my-request/erase", data={"csrf_token": token, "confirm": "y"})
    assert erased.status_code == 200
    assert erased.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert_stays_on_the_onion(erased, "/my-request/erase")
    assert survivor.sign_in(number, passphrase).status_code == 401


def test_every_step_of_the_journey_stays_on_the_onion(onion_client: FlaskClient) -> None:
    survivor = Survivor(onion_client)
    for path in ("/request/start", "/request/not-sure", "/request/where"):
        assert_stays_on_the_onion(onion_client.get(path), path)
    added = survivor.add_places(value=FILED_LINK)
    assert added.status_code == 303
    assert_stays_on_the_onion(added, "/request/where (add)")
    onward = survivor.add_places(action="continue")
    assert_stays_on_the_onion(onward, "/request/where (continue)")
    for path in ("/request/what", "/request/about", "/request/review"):
        response = onion_client.get(path)
        assert response.status_code == 200, path
        assert_stays_on_the_onion(response, path)
    token = csrf_token(onion_client, "/request/review")
    receipt = onion_client.post("/request/send", data={"csrf_token": token})
    assert receipt.status_code == 200
    assert 'id="passphrase"' in receipt.get_data(as_text=True)
    assert_stays_on_the_onion(receipt, "/request/send")
    leaving = onion_client.get("/exit")
    assert leaving.headers["Location"] == "https://weather.example/"


def test_the_api_journey_works_on_the_onion_address(onion_client: FlaskClient) -> None:
    filed = onion_client.post("/api/v1/requests", json=api_request_body(FILED_LINK))
    assert filed.status_code == 201
    assert_stays_on_the_onion(filed, "POST /api/v1/requests")
    receipt = filed.get_json()
    session = onion_client.post(
        "/api/v1/session",
        json={"case_number": receipt["case_number"], "passphrase": receipt["passphrase"]},
    )
    assert session.status_code == 200
    headers = {"Authorization": f"Bearer {session.get_json()['token']}"}
    mine = onion_client.get("/api/v1/requests/me", headers=headers)
    assert mine.status_code == 200
    assert mine.get_json()["case_number"] == receipt["case_number"]
    assert_stays_on_the_onion(mine, "GET /api/v1/requests/me")
    document = onion_client.get("/api/v1/openapi.json").get_json()
    assert document["servers"] == [{"url": "/api/v1"}]
    assert onion_client.delete("/api/v1/requests/me", headers=headers).status_code == 204


def test_set_up_links_made_on_the_onion_point_to_the_onion(onion_app: Flask) -> None:
    admin = onion_staffer(onion_app, "admin@service.example", "admin", None)
    created = admin.post(
        "/admin/hotline-administrators", {"hotline": HOTLINE_A, "email": "lead@hotline-a.example"}
    )
    assert created.status_code == 200
    assert_stays_on_the_onion(created, "/admin/hotline-administrators")
    link = re.search(
        r"http://[^\s\"<]+/account/enrol\?code=[^\s\"<]+", created.get_data(as_text=True)
    )
    assert link, "the set-up link is shown"
    assert link.group(0).startswith(f"{ONION_URL}/account/enrol?code=")
    newcomer = onion_app.test_client()
    assert newcomer.get(link.group(0).replace("&amp;", "&")).status_code == 200


def test_the_hotline_portal_works_and_names_the_onion_address(onion_app: Flask) -> None:
    survivor = Survivor(onion_app.test_client())
    survivor.file(FILED_LINK, country="PT")
    lead = onion_staffer(onion_app, "lead@hotline-a.example", "hotline_admin", HOTLINE_A)
    for path in ("/hotline/", "/hotline/due", "/hotline/providers", "/hotline/team/"):
        response = lead.client.get(path)
        assert response.status_code == 200, path
        assert_stays_on_the_onion(response, path)
    keys = lead.client.get("/hotline/team/keys").get_data(as_text=True)
    assert f"{ONION_URL}/api/v1/hotline/" in keys

    with Database.new_session(onion_app) as db:
        account = db.get(Account, lead.id)
        assert account is not None
        staff = Staff.of(account)
        referral_id = db.scalars(select(Referral.id).where(Referral.hotline_id == HOTLINE_A)).one()
        referral = referral_for_staff(db, staff, referral_id)
        assert referral is not None
        acknowledge(db, staff, referral)
        places = [location.id for location in referral.locations]
        assess_places(db, staff, referral, places, "csam")
        version = referral.version
    page = lead.client.get(f"/hotline/referrals/{referral_id}")
    assert page.status_code == 200
    assert_stays_on_the_onion(page, "/hotline/referrals/<id>")
    notice = {
        "notice-version": version,
        "notice-places": places,
        "notice-provider": PROVIDER,
        "notice-recipient": HOST_INBOX,
        "notice-notice_type": "csam",
    }
    preview = lead.post(
        f"/hotline/referrals/{referral_id}/notice", {**notice, "notice-do": "preview"}
    )
    assert preview.status_code == 200
    # The notice's answer link, as the preview shows it, is on the onion address.
    assert f"{ONION_URL}/notice/…" in preview.get_data(as_text=True)
    seen = re.search(r'name="notice-seen" type="hidden" value="([0-9a-f]{64})"', preview.text)
    assert seen
    sent = lead.post(
        f"/hotline/referrals/{referral_id}/notice",
        {**notice, "notice-do": "send", "notice-seen": seen.group(1)},
    )
    assert sent.status_code == 303, sent.text
    assert_stays_on_the_onion(sent, "notice sent")
    with Database.new_session(onion_app) as db:
        letter_id = db.scalars(select(NoticeLetter.id)).one()
    services = onion_app.extensions["assistant.services"]
    provider = onion_app.test_client()
    answer_page = provider.get(f"/notice/{link_token(services, letter_id)}")
    assert answer_page.status_code == 200
    assert_stays_on_the_onion(answer_page, "/notice/<token>")
