"""Deny by default (DESIGN section 3, rule 8): each route says who may use it, or nobody can."""

from __future__ import annotations

from assistant.web.access import ACCOUNT
from assistant.web.access import ADMIN
from assistant.web.access import ADVOCATE
from assistant.web.access import HOTLINE_ADMIN
from assistant.web.access import HOTLINE_SYSTEM
from assistant.web.access import PUBLIC
from assistant.web.access import STAFF
from assistant.web.access import SURVIVOR
from assistant.web.access import access_level
from tests.conftest import csrf_token

PUBLIC_ON_PURPOSE = {
    "public.landing",
    "public.support",
    "public.quick_exit",
    "where.where",
    "where.try_routing",
    "survivor.before_you_begin",
    "survivor.not_sure",
    "survivor.where",
    "survivor.what",
    "survivor.about",
    "survivor.review",
    "survivor.send",
    "survivor.check",
    "survivor.sign_out",
    # After the receipt: checks a signed hash the page itself carries; reads nothing stored.
    "survivor.kept",
    # A message typed when the sign-in has ended comes back on the sign-in page, unsent; with a
    # sign-in it needs the case's session (checked in the view).
    "survivor.message",
    # "Stay signed in": 204 with a sign-in, 401 without.
    "survivor.still_here",
    "api.create_request",
    "api.create_session",
    "api.dry_run",
    "api.hotlines",
    "api.openapi",
    "account.sign_in",
    "account.sign_out",
    "account.enrol",
    "public.safety",
    "public.have_a_copy",
    "pwa.manifest",
    "pwa.icon",
    "pwa.service_worker",
    "pwa.offline",
    "api.resources",
    "advocate.register",
    # A provider's response link: the signed token in the address is the permission.
    "public.figures",  # off (404) unless the service publishes provider figures
    "provider.notice",
    "provider.answer",
    # For operators: up, and ready; nothing more.
    "health.healthz",
    "health.readyz",
}


def test_every_route_declares_who_may_use_it_and_only_the_listed_ones_are_public(app):
    levels = {
        rule.endpoint: access_level(app.view_functions[rule.endpoint])
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
    }
    assert None not in levels.values(), [e for e, level in levels.items() if level is None]
    assert {e for e, level in levels.items() if level == PUBLIC} == PUBLIC_ON_PURPOSE
    allowed = {PUBLIC, SURVIVOR, STAFF, HOTLINE_ADMIN, HOTLINE_SYSTEM, ADVOCATE, ADMIN, ACCOUNT}
    assert set(levels.values()) <= allowed
    # Every portal and administration page is for an account, never public.
    for endpoint, level in levels.items():
        if endpoint.startswith("hotline."):
            assert level == STAFF, endpoint
        if endpoint.startswith("admin."):
            assert level == ADMIN, endpoint
        if endpoint.startswith("team."):
            assert level == HOTLINE_ADMIN, endpoint
        if endpoint.startswith("hotline_api."):
            assert level == HOTLINE_SYSTEM, endpoint
        if endpoint.startswith("advocate.") and endpoint != "advocate.register":
            assert level == ADVOCATE, endpoint


def test_survivor_routes_turn_away_anyone_not_signed_in(client):
    for path in (
        "/my-request",
        "/my-request/add",
        "/my-request/erase",
        "/my-request/new-passphrase",
    ):
        assert client.get(path).status_code == 303
    token = csrf_token(client, "/check")
    for path in (
        "/my-request/invitation",
        "/my-request/invitation/cancel",
        "/my-request/access/1/revoke",
        "/my-request/new-passphrase",
    ):
        response = client.post(path, data={"csrf_token": token})
        assert response.status_code == 303
        assert response.headers["Location"].endswith("/check")
    for path in ("/api/v1/requests/me",):
        assert client.get(path).status_code == 401
        assert client.delete(path).status_code == 401


def test_a_route_that_forgets_to_declare_its_access_is_refused(app):
    def forgotten() -> str:
        return "secret case list"

    app.add_url_rule("/forgotten", "forgotten", forgotten)
    response = app.test_client().get("/forgotten")
    assert response.status_code == 403
    assert "secret case list" not in response.get_data(as_text=True)
