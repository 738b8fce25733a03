"""The administrator's page offers, for an advocate's account in every state it can be in,
exactly the actions the domain accepts: each button it shows works, and each action it does not
show is refused and changes nothing."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest
from sqlalchemy import func
from sqlalchemy import select

from assistant.extensions import Database
from assistant.models import Account
from assistant.models import AuditEvent
from assistant.people.accounts import complete_enrolment
from assistant.people.accounts import disable_account
from assistant.people.advocates import AdvocateAction
from assistant.people.advocates import AdvocateProfile
from assistant.people.advocates import approve_advocate
from assistant.people.advocates import register_advocate
from assistant.people.advocates import suspend_advocate
from tests.conftest import STAFF_PASSWORD

EMAIL = "someone@riverside.example"
# What each action writes in the audit log when it is done.
AUDITED = {
    AdvocateAction.APPROVE: "advocate.approved",
    AdvocateAction.RENEW_LINK: "advocate.approved",
    AdvocateAction.DECLINE: "advocate.declined",
    AdvocateAction.SUSPEND: "advocate.suspended",
    AdvocateAction.REINSTATE: "advocate.reinstated",
}
ROUTES = {
    AdvocateAction.APPROVE: "approve",
    AdvocateAction.RENEW_LINK: "approve",
    AdvocateAction.DECLINE: "decline",
    AdvocateAction.SUSPEND: "suspend",
    AdvocateAction.REINSTATE: "reinstate",
}
STATES = (
    "pending",
    "enrolling",
    "active",
    "suspended after set-up",
    "suspended before set-up",
    "disabled",
)


def advocate_in(app: Any, state: str) -> int:
    """An advocate's account brought to ``state`` the way it gets there in real life."""
    services = app.extensions["assistant.services"]
    with app.app_context(), Database.new_session(app) as db:
        profile = AdvocateProfile("Someone", "Riverside", "Case worker", "I help survivors.")
        register_advocate(db, services.cipher, EMAIL, profile)
        account = db.scalar(select(Account).where(Account.email == EMAIL))
        assert account is not None
        if state != "pending":
            approve_advocate(db, email=EMAIL)
        if state in ("active", "suspended after set-up", "disabled"):
            secret = pyotp.random_base32()
            code = pyotp.TOTP(secret).now()
            complete_enrolment(
                db, services.passwords, services.cipher, account, STAFF_PASSWORD, secret, code
            )
        if state.startswith("suspended"):
            suspend_advocate(db, email=EMAIL)
        if state == "disabled":
            disable_account(db, EMAIL)
        return account.id


def offered_on_the_page(admin: Any, account_id: int) -> set[str]:
    page = admin.client.get("/admin/").get_data(as_text=True)
    item = re.search(rf'id="advocate-{account_id}".*?</li>', page, re.S)
    assert item, "the advocate is listed"
    return set(re.findall(r'data-action="([a-z_]+)"', item.group(0)))


def audited(app: Any, account_id: int, action: str) -> int:
    with Database.new_session(app) as db:
        return int(
            db.scalar(
                select(func.count(AuditEvent.id)).where(
                    AuditEvent.object_id == account_id, AuditEvent.action == action
                )
            )
        )


def state_of(app: Any, account_id: int) -> tuple[Any, ...] | None:
    with Database.new_session(app) as db:
        account = db.get(Account, account_id)
        if account is None:
            return None
        return (account.status, account.enrolment_code_hash, account.password_hash)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("route", sorted(set(ROUTES.values())))
def test_each_offered_action_is_accepted_and_each_accepted_one_is_offered(app, admin, state, route):
    account_id = advocate_in(app, state)
    # Approving and sending a new set-up link are one route: the button says which it is.
    actions = {action for action, name in ROUTES.items() if name == route}
    offered = bool(actions & offered_on_the_page(admin, account_id))
    audit_action = AUDITED[next(iter(actions))]
    before = state_of(app, account_id)
    done_before = audited(app, account_id, audit_action)
    response = admin.post(f"/admin/advocates/{account_id}/{route}")
    accepted = audited(app, account_id, audit_action) > done_before
    assert offered == accepted, (state, route)
    if not accepted:
        assert response.status_code == 303
        assert state_of(app, account_id) == before  # a refused action changes nothing


@pytest.mark.parametrize("state", STATES)
def test_every_state_offers_what_the_design_says(app, admin, state):
    """The states and their actions, as an administrator would expect them."""
    expected = {
        "pending": {"approve", "decline"},
        "enrolling": {"renew_link", "suspend"},
        "active": {"suspend"},
        "suspended after set-up": {"reinstate"},
        "suspended before set-up": {"approve"},
        "disabled": set(),
    }[state]
    assert offered_on_the_page(admin, advocate_in(app, state)) == expected
