"""WCAG 2.2 AA in real Chromium at 390x844: axe-core (installed from PyPI with the tests, never
fetched at run time) on every page of every audience, including error states and a right-to-left
page, with zero violations; and every page reflows at 320 px and at 200% zoom without sideways
scrolling. A coverage check makes sure no page of the app was left out."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import axe_playwright_python
import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import update
from werkzeug.exceptions import NotFound

from assistant.extensions import Database
from assistant.hotline.notice_mail import link_token
from assistant.hotline.notices import send_notice
from assistant.hotline.referrals import Staff
from assistant.hotline.referrals import acknowledge
from assistant.hotline.referrals import assess_places
from assistant.hotline.referrals import referral_for_staff
from assistant.models import Account
from assistant.models import SessionRecord
from assistant.people import accounts
from assistant.people.advocates import AdvocateProfile
from assistant.people.advocates import register_advocate
from tests.browser.conftest import PHONE
from tests.browser.conftest import sign_in_with_receipt
from tests.conftest import ADVOCATE_ORG
from tests.conftest import HOTLINE_A
from tests.conftest import STAFF_PASSWORD
from tests.conftest import Staffer
from tests.conftest import Survivor
from tests.conftest import hotlines_take_part

pytestmark = pytest.mark.browser

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Routes that are not pages: data, files, scripts, and the exit (a redirect).
NOT_PAGES = {
    "static",
    "pwa.manifest",
    "pwa.icon",
    "pwa.service_worker",
    "public.quick_exit",
    "hotline.export",
    "health.healthz",
    "health.readyz",
}


def _axe_source() -> str:
    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text("utf-8")


class Audit:
    """Runs axe on the page in front of it and remembers which route each page came from."""

    def __init__(self, app: Flask) -> None:
        self.source = _axe_source()
        self.adapter = app.url_map.bind("127.0.0.1")
        self.violations: dict[str, list[str]] = {}
        self.endpoints: set[str] = set()

    def check(self, page: Any, label: str, method: str = "GET") -> None:
        page.wait_for_load_state()
        path = re.sub(r"^https?://[^/]+", "", page.url).split("?")[0].split("#")[0]
        try:
            endpoint, _ = self.adapter.match(path, method=method)
        except NotFound:
            endpoint = "404"
        self.endpoints.add(endpoint)
        page.evaluate(self.source)
        found = page.evaluate(
            """tags => axe.run(document, {runOnly: {type: "tag", values: tags},
                                           resultTypes: ["violations"]})
                .then(result => result.violations.map(v =>
                    v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", ")))""",
            TAGS,
        )
        if found:
            self.violations[label] = found


@pytest.fixture
def context(browser: Any, live_server: str) -> Any:
    made = browser.new_context(viewport=PHONE, base_url=live_server, is_mobile=True, has_touch=True)
    yield made
    made.close()


def _anonymous_pages(page: Any, audit: Audit, enrol_code: str) -> None:
    for path in (
        "/",
        "/support",
        "/support?country=GB",
        "/safety",
        "/if-you-have-a-copy",
        "/hotlines",
        "/request/start",
        "/request/not-sure",
        "/check",
        "/offline",
        "/account/sign-in",
        "/account/enrol?code=not-a-code",
        f"/account/enrol?code={enrol_code}",
        "/figures",
        "/notice/not-a-real-link",
    ):
        page.goto(path)
        audit.check(page, path)
    page.goto("/?lang=ar")
    audit.check(page, "/ in Arabic (right to left)")
    page.goto("/support?country=EG&lang=ar")
    audit.check(page, "/support in Arabic")
    page.goto("/?lang=fa")
    audit.check(page, "/ in Persian (right to left)")
    page.goto("/support?country=IR&lang=fa")
    audit.check(page, "/support in Persian")
    page.goto("/?lang=ja")
    audit.check(page, "/ in Japanese")
    page.goto("/?lang=en")
    page.goto("/no-such-page")
    audit.check(page, "404 page")

    page.goto("/hotlines")
    page.locator("form[method=post] button[type=submit]").click()
    audit.check(page, "dry run with nothing in it (error)", "POST")
    page.get_by_label("Links or names, one on each line").fill("https://gallery.example.ie/1")
    page.locator("form[method=post] button[type=submit]").click()
    audit.check(page, "dry run result", "POST")

    page.goto("/check")
    page.get_by_label("Case number").fill("RQ-AAAAAAAA")
    page.get_by_label("Passphrase").fill("not the passphrase")
    page.get_by_role("button", name="Show my request").click()
    audit.check(page, "wrong receipt (error)", "POST")

    page.goto("/account/sign-in")
    page.get_by_label("E-mail address").fill("nobody@example.org")
    page.get_by_label("Password").fill("wrong")
    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Sign in").click()
    audit.check(page, "wrong sign-in (error)", "POST")

    page.goto(f"/account/enrol?code={enrol_code}")
    page.get_by_role("button", name="Finish setting up").click()
    audit.check(page, "enrolment with nothing filled in (error)", "POST")


def _a_notice_sent(app: Flask, person: Staffer, referral_id: int) -> str:
    """A notice the app sent for the referral's places (through the domain, as the workbench
    would), and its response link's token."""
    services = app.extensions["assistant.services"]
    with Database.new_session(app) as session:
        staff = Staff.of(session.get(Account, person.id))
        referral = referral_for_staff(session, staff, referral_id)
        assert referral is not None
        ids = [location.id for location in referral.locations]
        acknowledge(session, staff, referral)
        assess_places(session, staff, referral, ids, "csam")
        letter = send_notice(
            session,
            services,
            staff,
            referral,
            ids,
            notice_type="csam",
            subtype=None,
            provider_id=None,
            provider_name="Gallery Example",
            recipient="abuse@gallery.example.ie",
        )
        return link_token(services, letter.id)


def _request_journey(page: Any, audit: Audit) -> None:
    page.goto("/request/where")
    audit.check(page, "/request/where")
    page.get_by_label("Where is it?").fill("javascript:alert(1)")
    page.get_by_role("button", name="Add this place").click()
    audit.check(page, "a refused place (error)", "POST")
    page.get_by_label("Where is it?").fill("https://gallery.example.ie/album/7")
    page.get_by_role("button", name="Add this place").click()
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "/request/what")
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "/request/about")
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "/request/review")
    page.get_by_role("button", name="Send my request").click()
    audit.check(page, "receipt", "POST")
    page.get_by_role("button", name="I have kept my receipt").click()
    audit.check(page, "the last group asked back", "POST")
    page.get_by_role("button", name="Check", exact=True).click()
    audit.check(page, "the last group not given (error)", "POST")
    page.get_by_role("button", name="Skip this step").click()
    audit.check(page, "the check skipped", "POST")


def _survivor_pages(page: Any, audit: Audit, number: str, passphrase: str, app: Flask) -> None:
    sign_in_with_receipt(page, number, passphrase)
    audit.check(page, "/my-request")
    page.get_by_role("link", name=re.compile("^Show the places for")).first.click()
    page.get_by_role("link", name=re.compile("^Show")).first.click()
    audit.check(page, "/my-request with a place and the summary shown")
    page.evaluate("document.getElementById('idle-warning').hidden = false")
    audit.check(page, "/my-request with the idle warning")
    hotlines_take_part(app)
    page.goto("/my-request")
    page.get_by_role("button", name="Send message").click()
    audit.check(page, "empty message (error)", "POST")
    page.get_by_label("Your message").fill("A message typed as the sign-in ends")
    _end_sign_ins(app)
    page.get_by_role("button", name="Send message").click()
    audit.check(page, "signed out, the message kept (sign-in)", "POST")
    page.get_by_label("Case number").fill(number)
    page.get_by_label("Passphrase").fill(passphrase)
    page.get_by_role("button", name="Show my request").click()
    audit.check(page, "signed in again, the message not sent yet", "POST")
    page.goto("/my-request/add")
    audit.check(page, "/my-request/add")
    page.get_by_label("Where is it?").fill("javascript:alert(1)")
    page.get_by_role("button", name="Add these places").click()
    audit.check(page, "adding a place that is refused (error)", "POST")
    page.goto("/my-request/erase")
    audit.check(page, "/my-request/erase")
    page.get_by_role("button", name="Erase everything").click()
    audit.check(page, "erase without confirming (error)", "POST")
    page.get_by_label(re.compile("I understand that everything")).check()
    page.get_by_role("button", name="Erase everything").click()
    audit.check(page, "erased", "POST")


def _end_sign_ins(app: Flask) -> None:
    """Every sign-in ended, as the idle time does."""
    past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    with Database.engine(app).begin() as connection:
        connection.execute(update(SessionRecord).values(expires_at=past))


def _signed_out_page(page: Any, audit: Audit, number: str, passphrase: str) -> None:
    sign_in_with_receipt(page, number, passphrase)
    page.get_by_role("button", name="Sign out").click()
    audit.check(page, "signed out", "POST")


def _account_pages(page: Any, audit: Audit, person: Staffer, paths: tuple[str, ...]) -> None:
    page.goto("/account/sign-in")
    page.get_by_label("E-mail address").fill(person.email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(person.code())
    page.get_by_role("button", name="Sign in").click()
    for path in paths:
        page.goto(path)
        audit.check(page, f"{person.email} {path}")
    page.goto("/account/password")
    audit.check(page, f"{person.email} /account/password")
    page.get_by_role("button", name="Change password").click()
    audit.check(page, f"{person.email} password change with nothing filled in (error)", "POST")


def _advocate_pages(page: Any, audit: Audit, advocate: Staffer, app: Flask) -> tuple[str, str]:
    """Registration, the dashboard, filing with its report and consent errors, a case, an
    invitation code. Returns the handed-over receipt."""
    page.goto("/advocate/register")
    audit.check(page, "/advocate/register")
    page.get_by_role("button", name="Ask for an account").click()
    audit.check(page, "registration with nothing filled in (error)", "POST")
    page.goto("/account/sign-in")
    page.get_by_label("E-mail address").fill(advocate.email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(advocate.code())
    page.get_by_role("button", name="Sign in").click()
    audit.check(page, "advocate's dashboard (empty)")
    page.goto("/advocate/redeem")
    audit.check(page, "/advocate/redeem")
    page.get_by_label("Invitation code").fill("not a code")
    page.get_by_role("button", name="Use this code").click()
    audit.check(page, "a wrong invitation code (error)", "POST")
    page.goto("/advocate/file/places")
    audit.check(page, "/advocate/file/places")
    page.get_by_label("Places, one on each line").fill(
        "https://gallery.example.ie/a/1\nhttps://gallery.example.ie/a/1\njavascript:x"
    )
    page.get_by_role("button", name="Check and add these lines").click()
    audit.check(page, "the per-line report", "POST")
    page.get_by_label("Places, one on each line").fill("")
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "/advocate/file/details")
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "/advocate/file/consent")
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "consent not filled in (error)", "POST")
    page.get_by_label("By phone or video call").check()
    page.get_by_label("On what date?").fill("2026-01-15")
    page.get_by_label(re.compile("^Yes: I will hand it to them")).check()
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "/advocate/file/review")
    page.get_by_role("button", name="Send the request").click()
    audit.check(page, "the receipt to hand over", "POST")
    receipt = (page.locator("#case-number").inner_text(), page.locator("#passphrase").inner_text())
    page.get_by_role("link", name="Open the request").click()
    audit.check(page, "an advocate's case page")
    page.get_by_role("button", name="Make a new receipt to hand over").click()
    audit.check(page, "a new receipt to hand over", "POST")
    receipt = (page.locator("#case-number").inner_text(), page.locator("#passphrase").inner_text())
    page.get_by_role("link", name="Back to the request").click()
    hotlines_take_part(app)  # a message box only for a hotline that reads it
    page.reload()
    page.get_by_role("button", name="Send message").click()
    audit.check(page, "an advocate's empty message (error)", "POST")
    page.goto("/advocate/")
    audit.check(page, "advocate's dashboard")
    return receipt


def _handed_over_receipt(page: Any, audit: Audit, number: str, passphrase: str) -> None:
    sign_in_with_receipt(page, number, passphrase, lands_on="First, a passphrase only you know")
    audit.check(page, "/my-request/new-passphrase")
    page.get_by_role("button", name="I have saved it: use this passphrase").click()
    audit.check(page, "/my-request with an advocate")
    page.goto("/my-request/new-passphrase")
    audit.check(page, "a new passphrase when nothing forces it")
    page.goto("/my-request")
    page.get_by_role("button", name="Make an invitation code").click()
    audit.check(page, "an invitation code", "POST")


def test_every_page_of_every_audience_has_no_wcag_22_aa_violations(
    context: Any, live_app: Flask, live_server: str
) -> None:
    audit = Audit(live_app)
    filer = Survivor(live_app.test_client())
    number, passphrase = filer.file("https://gallery.example.ie/album/5", country="IE")
    second = filer.file("https://gallery.example.ie/album/6", country="IE")
    lead = Staffer(live_app, "lead@hotline-a.example", "hotline_admin", HOTLINE_A)
    administrator = Staffer(live_app, "admin@service.example", "admin", None)
    advocate = Staffer(live_app, "lawyer@northside.example", "advocate", ADVOCATE_ORG)
    with live_app.app_context():
        session = Database.new_session(live_app)
        services = live_app.extensions["assistant.services"]
        created = accounts.create_account(
            session, services.directory, "new@hotline-a.example", "staff", HOTLINE_A
        )
        session.commit()
        enrol_code = str(created.enrolment_code)
        new_member_id = created.account.id
        register_advocate(
            session,
            services.cipher,
            "waiting@riverside.example",
            AdvocateProfile(
                "Ada Okafor",
                "Riverside Victim Services",
                "Case worker",
                "Removal requests for survivors.",
            ),
        )
        session.close()

    page = context.new_page()
    _anonymous_pages(page, audit, enrol_code)
    _request_journey(page, audit)
    _signed_out_page(context.new_page(), audit, *second)
    _survivor_pages(context.new_page(), audit, number, passphrase, live_app)

    staff_context = context.browser.new_context(
        viewport=PHONE, base_url=live_server, is_mobile=True, has_touch=True
    )
    staff_page = staff_context.new_page()
    _account_pages(
        staff_page,
        audit,
        lead,
        (
            "/hotline/",
            "/hotline/due",
            "/hotline/providers",
            "/hotline/help",
            "/hotline/?status=nope",
            "/hotline/team/",
            "/hotline/team/invite",
            "/hotline/team/settings",
            f"/hotline/team/{new_member_id}/disable",
            f"/hotline/team/{new_member_id}/reset",
        ),
    )
    staff_page.goto("/hotline/team/keys")
    staff_page.get_by_role("button", name="Make the key").click()
    audit.check(staff_page, "a key without a name (refused)", "POST")
    staff_page.locator("#name").fill("Case system")
    staff_page.locator('input[name="scopes"][value="read"]').check()
    staff_page.get_by_role("button", name="Make the key").click()
    audit.check(staff_page, "a new API key, shown once", "POST")
    staff_page.goto("/hotline/team/keys")
    audit.check(staff_page, "the API keys, one of them new")
    staff_page.locator('a[data-action="rotate"]').first.click()
    audit.check(staff_page, "rotating a key: the confirmation")
    staff_page.goto("/hotline/team/keys")
    staff_page.locator('a[data-action="revoke"]').first.click()
    audit.check(staff_page, "revoking a key: the confirmation")
    staff_page.goto("/hotline/")
    staff_page.locator("a[href^='/hotline/referrals/']").first.click()
    audit.check(staff_page, "a referral")
    referral_url = staff_page.url
    staff_page.locator('input[name="close-reason"][value="duplicate"]').check()
    staff_page.get_by_role("button", name="Close…").click()
    audit.check(staff_page, "close: the confirmation", "POST")
    staff_page.goto(referral_url)
    staff_page.locator("#reroute-hotline").select_option(index=1)
    staff_page.locator('input[name="reroute-reason"]').first.check()
    staff_page.get_by_role("button", name="Move…").click()
    audit.check(staff_page, "move: the confirmation", "POST")
    staff_page.goto(referral_url)
    staff_page.get_by_role("button", name="Record the assessment").click()
    audit.check(staff_page, "an assessment with nothing ticked (refused)", "POST")
    token = _a_notice_sent(live_app, lead, int(referral_url.rsplit("/", 1)[1]))
    staff_page.goto(referral_url)
    audit.check(staff_page, "a referral with a notice being chased")
    staff_page.goto(f"{referral_url}/notice")
    audit.check(staff_page, "writing a notice")
    staff_page.locator('input[name="notice-notice_type"][value="csam"]').check()
    staff_page.get_by_role("button", name="Preview the notice").click()
    audit.check(staff_page, "a notice with no place ticked (refused)", "POST")
    staff_context.close()
    provider_page = context.new_page()
    provider_page.goto(f"/notice/{token}")
    audit.check(provider_page, "the provider's page")
    provider_page.locator('input[value="refused"]').first.check()
    provider_page.get_by_role("button", name="Send the answers").click()
    audit.check(provider_page, "the provider's page: a refusal without a reason", "POST")

    advocate_context = context.browser.new_context(
        viewport=PHONE, base_url=live_server, is_mobile=True, has_touch=True
    )
    handed_over = _advocate_pages(advocate_context.new_page(), audit, advocate, live_app)
    advocate_context.close()
    _handed_over_receipt(context.new_page(), audit, *handed_over)

    admin_context = context.browser.new_context(
        viewport=PHONE, base_url=live_server, is_mobile=True, has_touch=True
    )
    admin_page = admin_context.new_page()
    _account_pages(admin_page, audit, administrator, ("/admin/", "/admin/audit"))
    admin_page.goto("/admin/")
    audit.check(admin_page, "/admin/ with a registration waiting")
    admin_page.get_by_role("button", name=re.compile("^Approve")).click()
    audit.check(admin_page, "an approved advocate's set-up link", "POST")
    admin_context.close()

    pages = {
        rule.endpoint
        for rule in live_app.url_map.iter_rules()
        if "GET" in (rule.methods or ())
        and not rule.endpoint.startswith(("api.", "hotline_api."))
        and rule.endpoint not in NOT_PAGES
    }
    assert pages - audit.endpoints == set(), "pages the audit never opened"
    assert audit.violations == {}


@pytest.mark.parametrize("width", [320, 640], ids=["320px", "200%-zoom"])
def test_every_public_and_survivor_page_reflows_without_sideways_scrolling(
    browser: Any, live_server: str, live_app: Flask, width: int
) -> None:
    number, passphrase = Survivor(live_app.test_client()).file(
        "https://example.com/a/very/long/path/" + "x" * 120
    )
    context = browser.new_context(viewport={"width": width, "height": 640}, base_url=live_server)
    page = context.new_page()
    paths = [
        "/",
        "/support?country=GB",
        "/safety",
        "/hotlines",
        "/request/start",
        "/request/where",
        "/check",
        "/offline",
        "/account/sign-in",
        "/?lang=ar",
        "/support?country=EG",
        "/?lang=fa",
        "/support?country=IR",
        "/hotlines",
        "/?lang=uk",
        "/request/where",
        "/?lang=en",
    ]
    for path in paths:
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
    sign_in_with_receipt(page, number, passphrase)
    for path in ("/my-request", "/my-request/add", "/my-request/erase"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
    page.goto("/my-request")
    page.get_by_role("button", name="Make an invitation code").click()
    expect(page.locator("#invitation-code")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "invitation code"
    context.close()


@pytest.mark.parametrize("width", [320, 640], ids=["320px", "200%-zoom"])
def test_the_advocates_pages_and_the_per_line_report_reflow(
    browser: Any, live_server: str, live_app: Flask, width: int
) -> None:
    advocate = Staffer(live_app, "lawyer@northside.example", "advocate", ADVOCATE_ORG)
    context = browser.new_context(viewport={"width": width, "height": 640}, base_url=live_server)
    page = context.new_page()
    page.goto("/advocate/register")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.goto("/account/sign-in")
    page.get_by_label("E-mail address").fill(advocate.email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(advocate.code())
    page.get_by_role("button", name="Sign in").click()
    page.goto("/advocate/file/places")
    page.get_by_label("Places, one on each line").fill(
        "https://example.com/a/very/long/path/" + "y" * 150 + "\njavascript:" + "z" * 150
    )
    page.get_by_role("button", name="Check and add these lines").click()
    assert page.locator(".line-report tbody tr").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "report"
    for path in (
        "/advocate/",
        "/advocate/file/details",
        "/advocate/file/consent",
        "/advocate/redeem",
    ):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
    context.close()


def test_the_audit_reports_what_axe_finds(context: Any, live_app: Flask) -> None:
    audit = Audit(live_app)
    page = context.new_page()
    page.set_content('<html><body><img src="/app-icon-192.png"><a href="/"></a></body></html>')
    audit.check(page, "a careless page")
    found = " ".join(audit.violations["a careless page"])
    assert "html-has-lang" in found and "image-alt" in found and "link-name" in found
