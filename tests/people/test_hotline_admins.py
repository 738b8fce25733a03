"""Hotline administrators: a service administrator creates only a hotline's first administrator;
the hotline's administrators invite, disable and reset their own hotline's accounts, never
another hotline's; every new account is audited, listed as new and announced to the hotline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.cli import main
from assistant.extensions import Database
from assistant.models import Account
from assistant.models import AuditEvent
from assistant.models import OutboxItem
from assistant.models import SessionRecord
from assistant.models import utcnow
from assistant.people import team
from assistant.people.accounts import ENROLMENT_VALID_FOR
from assistant.people.accounts import AccountRefused
from assistant.people.accounts import account_for_enrolment
from assistant.people.accounts import create_account
from assistant.people.team import Creator
from assistant.people.team import TeamAction
from assistant.people.team import TeamAdmin
from tests.conftest import HOTLINE_A
from tests.conftest import HOTLINE_B
from tests.conftest import Staffer
from tests.conftest import empty_all_tables
from tests.conftest import make_app
from tests.conftest import row_counts

UNKNOWN_ID = 987654


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A session outside any app context (conftest's ``db`` keeps one open, and Flask-WTF would
    then share one CSRF token between the test's several signed-in people)."""
    with Database.new_session(app) as session:
        yield session


def create_user(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(main, ["create-user", *args])


def account_by_email(app: Flask, email: str) -> Account | None:
    with Database.new_session(app) as db:
        return db.scalar(select(Account).where(Account.email == email))


def audit_actions(app: Flask, object_id: int | None = None) -> list[tuple[str, str]]:
    """(actor, action) of every event, oldest first; only about ``object_id`` when given."""
    with Database.new_session(app) as db:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if object_id is not None:
            query = query.where(AuditEvent.object_id == object_id)
        return [(event.actor, event.action) for event in db.scalars(query)]


def admin_of(app: Flask, staffer: Staffer) -> TeamAdmin:
    with Database.new_session(app) as db:
        account = db.get(Account, staffer.id)
        assert account is not None
        return TeamAdmin.of(account)


# --- the command line: a service administrator creates a hotline's first administrator only ---


def test_the_command_refuses_to_create_staff_and_says_who_invites_them(app):
    result = create_user(app, "--role", "staff", "--hotline", HOTLINE_A, "new@hotline-a.example")
    assert result.exit_code != 0
    assert "invited by their hotline's administrator" in result.output
    assert "--role hotline_admin" in result.output
    assert account_by_email(app, "new@hotline-a.example") is None


def test_the_command_creates_a_first_hotline_administrator_only_while_there_is_none(app):
    first = create_user(app, "--role", "hotline_admin", "--hotline", HOTLINE_A, "one@a.example")
    assert first.exit_code == 0, first.output
    # Still setting up counts: the hotline has an administrator on the way.
    second = create_user(app, "--role", "hotline_admin", "--hotline", HOTLINE_A, "two@a.example")
    assert second.exit_code != 0
    assert "already has an administrator" in second.output
    assert account_by_email(app, "two@a.example") is None
    # Another hotline is another matter.
    other = create_user(app, "--role", "hotline_admin", "--hotline", HOTLINE_B, "one@b.example")
    assert other.exit_code == 0, other.output
    # Once the last one is gone, the service administrator can give the hotline a new one.
    assert app.test_cli_runner().invoke(main, ["disable-user", "one@a.example"]).exit_code == 0
    again = create_user(app, "--role", "hotline_admin", "--hotline", HOTLINE_A, "two@a.example")
    assert again.exit_code == 0, again.output
    created = account_by_email(app, "two@a.example")
    assert created is not None
    assert (created.role, created.hotline_id, created.status) == (
        "hotline_admin",
        HOTLINE_A,
        "enrolling",
    )
    assert ("cli", "account.created") in audit_actions(app, created.id)


def test_a_first_administrator_whose_link_expired_does_not_block_a_new_one(app, db, services):
    team.create_first_hotline_admin(db, services, "one@a.example", HOTLINE_A, actor="cli")
    later = utcnow() + ENROLMENT_VALID_FOR + dt.timedelta(minutes=1)
    assert team.has_live_admin(db, HOTLINE_A)
    assert not team.has_live_admin(db, HOTLINE_A, now=later)
    team.create_first_hotline_admin(
        db, services, "two@a.example", HOTLINE_A, actor="cli", now=later
    )
    assert account_by_email(app, "two@a.example") is not None


def test_an_active_hotline_administrator_also_blocks_the_command(app, hotline_admin_a):
    result = create_user(app, "--role", "hotline_admin", "--hotline", HOTLINE_A, "x@a.example")
    assert result.exit_code != 0 and "already has an administrator" in result.output


# --- inviting ---


def test_an_invitation_makes_an_account_of_the_administrators_hotline_waiting_to_enrol(
    app, db, services, hotline_admin_a
):
    admin = admin_of(app, hotline_admin_a)
    created = team.invite_member(db, services, admin, " New@Hotline-A.example ", "staff")
    account = account_by_email(app, "new@hotline-a.example")
    assert account is not None
    assert (account.role, account.hotline_id, account.status, account.password_hash) == (
        "staff",
        HOTLINE_A,
        "enrolling",
        None,
    )
    assert account_for_enrolment(db, created.enrolment_code) is not None
    assert audit_actions(app, account.id) == [(f"account:{hotline_admin_a.id}", "account.created")]


@pytest.mark.parametrize(
    ("email", "role", "code"),
    [
        ("analyst@hotline-b.example", "staff", "account_exists"),  # any hotline's address
        ("not-an-address", "staff", "bad_email"),
        ("new@hotline-a.example", "admin", "bad_role"),  # never a service administrator
        ("new@hotline-a.example", "advocate", "bad_role"),
        ("new@hotline-a.example", "", "bad_role"),
    ],
)
def test_a_refused_invitation_writes_nothing(
    app, db, services, hotline_admin_a, staff_b, email, role, code
):
    admin = admin_of(app, hotline_admin_a)
    before = row_counts(app)
    with pytest.raises(AccountRefused) as refused:
        team.invite_member(db, services, admin, email, role)
    assert refused.value.code == code
    assert row_counts(app) == before


def test_only_an_active_hotline_administrator_acts_for_a_team(app, staff_a, admin):
    with Database.new_session(app) as db:
        for staffer in (staff_a, admin):
            account = db.get(Account, staffer.id)
            assert account is not None
            with pytest.raises(AccountRefused) as refused:
                TeamAdmin.of(account)
            assert refused.value.code == "not_hotline_admin"


# --- one hotline never reaches another's accounts ---


def test_an_administrator_cannot_see_disable_or_reset_another_hotlines_account(
    app, db, hotline_admin_a, staff_b
):
    admin = admin_of(app, hotline_admin_a)
    before = row_counts(app)
    for account_id in (staff_b.id, UNKNOWN_ID):
        for act in (team.member_of_team, team.disable_member, team.reset_member_totp):
            with pytest.raises(AccountRefused) as refused:
                act(db, admin, account_id)
            # The same answer as for an id no account has.
            assert refused.value.code == "unknown_account"
    assert row_counts(app) == before
    assert staff_b.client.get("/hotline/").status_code == 200  # still signed in, untouched
    members = team.list_team(db, admin)
    assert staff_b.email not in {member.email for member in members}


def test_an_administrator_cannot_reach_service_administrators_or_advocates(
    app, db, hotline_admin_a, admin, advocate_a
):
    hotline_admin = admin_of(app, hotline_admin_a)
    for account_id in (admin.id, advocate_a.id):
        with pytest.raises(AccountRefused) as refused:
            team.disable_member(db, hotline_admin, account_id)
        assert refused.value.code == "unknown_account"


# --- disabling and resetting ---


def test_disabling_ends_the_accounts_sessions_at_once_and_is_audited(
    app, db, hotline_admin_a, staff_a
):
    assert staff_a.client.get("/hotline/").status_code == 200
    team.disable_member(db, admin_of(app, hotline_admin_a), staff_a.id)
    assert staff_a.client.get("/hotline/").status_code == 303  # signed out
    assert staff_a.sign_in().status_code == 401
    assert (f"account:{hotline_admin_a.id}", "account.disabled") in audit_actions(app, staff_a.id)
    with pytest.raises(AccountRefused) as again:
        team.disable_member(db, admin_of(app, hotline_admin_a), staff_a.id)
    assert again.value.code == "already_disabled"


def test_the_last_active_administrator_cannot_disable_themselves(app, db, hotline_admin_a):
    admin = admin_of(app, hotline_admin_a)
    members = {member.id: member for member in team.list_team(db, admin)}
    assert TeamAction.DISABLE not in members[hotline_admin_a.id].actions
    before = row_counts(app)
    with pytest.raises(AccountRefused) as refused:
        team.disable_member(db, admin, hotline_admin_a.id)
    assert refused.value.code == "last_administrator"
    assert row_counts(app) == before
    # With a second active administrator, either may leave.
    second = Staffer(app, "second@hotline-a.example", "hotline_admin", HOTLINE_A)
    members = {member.id: member for member in team.list_team(db, admin)}
    assert TeamAction.DISABLE in members[hotline_admin_a.id].actions
    team.disable_member(db, admin_of(app, second), hotline_admin_a.id)
    with pytest.raises(AccountRefused) as last:
        team.disable_member(db, admin_of(app, second), second.id)
    assert last.value.code == "last_administrator"


def test_resetting_the_authenticator_sends_the_account_back_to_enrolment(
    app, db, services, hotline_admin_a, staff_a
):
    other_device = app.test_client()
    assert staff_a.sign_in(other_device).status_code == 303
    created = team.reset_member_totp(db, admin_of(app, hotline_admin_a), staff_a.id)
    account = account_by_email(app, staff_a.email)
    assert account is not None
    assert (account.status, account.password_hash, account.totp_secret_sealed) == (
        "enrolling",
        None,
        None,
    )
    with Database.new_session(app) as check:
        assert (
            check.scalars(select(SessionRecord).where(SessionRecord.account_id == staff_a.id)).all()
            == []
        )
    assert other_device.get("/hotline/").status_code == 303
    # The old password and authenticator no longer open the account; the new link does.
    assert staff_a.sign_in().status_code == 401
    link = "/account/enrol?" + urlencode({"code": created.enrolment_code})
    assert app.test_client().get(link).status_code == 200
    assert (f"account:{hotline_admin_a.id}", "account.totp_reset") in audit_actions(app, staff_a.id)


def test_an_account_still_setting_up_gets_a_new_link_and_the_old_one_stops(
    app, db, services, hotline_admin_a
):
    admin = admin_of(app, hotline_admin_a)
    first = team.invite_member(db, services, admin, "new@hotline-a.example", "staff")
    again = team.reset_member_totp(db, admin, first.account.id)
    assert account_for_enrolment(db, first.enrolment_code) is None
    assert account_for_enrolment(db, again.enrolment_code) is not None
    assert (f"account:{hotline_admin_a.id}", "account.enrolment_renewed") in audit_actions(
        app, first.account.id
    )


def test_a_disabled_account_and_ones_own_cannot_be_reset(app, db, hotline_admin_a, staff_a):
    admin = admin_of(app, hotline_admin_a)
    team.disable_member(db, admin, staff_a.id)
    before = row_counts(app)
    for account_id, code in ((staff_a.id, "not_live"), (hotline_admin_a.id, "not_yourself")):
        with pytest.raises(AccountRefused) as refused:
            team.reset_member_totp(db, admin, account_id)
        assert refused.value.code == code
    assert row_counts(app) == before
    assert account_by_email(app, staff_a.email).status == "disabled"


# --- the team list ---


def test_the_team_lists_new_accounts_as_new_with_who_created_them(
    app, db, services, hotline_admin_a, admin, staff_b
):
    create_account(
        db,
        services.directory,
        "veteran@hotline-a.example",
        "staff",
        HOTLINE_A,
        now=utcnow() - dt.timedelta(days=20),
    )
    invited = team.invite_member(
        db, services, admin_of(app, hotline_admin_a), "new@hotline-a.example", "hotline_admin"
    )
    members = {
        member.email: member for member in team.list_team(db, admin_of(app, hotline_admin_a))
    }
    assert set(members) == {
        hotline_admin_a.email,
        "veteran@hotline-a.example",
        "new@hotline-a.example",
    }
    assert members["new@hotline-a.example"].is_new
    assert not members["veteran@hotline-a.example"].is_new
    assert (
        members["new@hotline-a.example"].created_by,
        members["new@hotline-a.example"].created_by_email,
    ) == (
        Creator.COLLEAGUE,
        hotline_admin_a.email,
    )
    assert members["veteran@hotline-a.example"].created_by == Creator.COMMAND_LINE
    assert members[hotline_admin_a.email].is_you
    assert invited.account.id == members["new@hotline-a.example"].id
    # Looking at the list is audited.
    assert (f"account:{hotline_admin_a.id}", "team.listed") in audit_actions(app)


def test_a_first_administrator_made_by_the_service_administrator_says_so(app, db, services, admin):
    created = team.create_first_hotline_admin(
        db, services, "first@hotline-a.example", HOTLINE_A, actor=f"account:{admin.id}"
    )
    [member] = team.list_team(db, TeamAdmin(created.account.id, HOTLINE_A))
    assert (member.created_by, member.created_by_email) == (Creator.SERVICE_ADMIN, admin.email)


# --- the announcement ---


@pytest.fixture
def mailing_app(database_url, tmp_path):
    """An app that sends e-mail (the worker sends it; see tests/hotline for the exchange)."""
    app = make_app(
        database_url,
        tmp_path / "mailing",
        smtp_host="127.0.0.1",
        smtp_from="alerts@assistant.example",
    )
    empty_all_tables(app)
    yield app
    empty_all_tables(app)
    Database.engine(app).dispose()


def outbox(app: Flask) -> list[OutboxItem]:
    with Database.new_session(app) as db:
        return list(db.scalars(select(OutboxItem).order_by(OutboxItem.id)))


def test_each_new_account_of_a_hotline_is_put_in_the_outbox_with_it(mailing_app):
    services = mailing_app.extensions["assistant.services"]
    lead = Staffer(mailing_app, "lead@hotline-a.example", "hotline_admin", HOTLINE_A)
    with Database.new_session(mailing_app) as db:
        created = team.invite_member(
            db, services, admin_of(mailing_app, lead), "new@hotline-a.example", "staff"
        )
        with pytest.raises(AccountRefused):
            team.invite_member(db, services, admin_of(mailing_app, lead), "bad", "staff")
    [item] = outbox(mailing_app)
    assert (item.hotline_id, item.account_id, item.referral_id, item.status) == (
        HOTLINE_A,
        created.account.id,
        None,
        "pending",
    )


def test_without_e_mail_set_up_nothing_waits_in_the_outbox(app, db, services, hotline_admin_a):
    team.invite_member(db, services, admin_of(app, hotline_admin_a), "n@hotline-a.example", "staff")
    assert outbox(app) == []


def test_the_e_mail_goes_to_the_active_administrators_or_else_to_the_staff(app, db, staff_a):
    assert team.notice_recipients(db, HOTLINE_A) == [staff_a.email]
    lead = Staffer(app, "lead@hotline-a.example", "hotline_admin", HOTLINE_A)
    assert team.notice_recipients(db, HOTLINE_A) == [lead.email]
    assert team.notice_recipients(db, HOTLINE_B) == []
