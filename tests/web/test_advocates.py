"""Trusted advocates: registration and approval, filing with consent, the handed-over receipt,
invitations, revocation, the dashboard and messages (issue 6)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from assistant.cases.access import AccessRefused
from assistant.cases.access import create_invitation
from assistant.cases.access import invitation_serializer
from assistant.cases.access import redeem_invitation
from assistant.cases.retention import purge
from assistant.cli import main
from assistant.extensions import Database
from assistant.hotline.api_keys import create_key
from assistant.models import Account
from assistant.models import AuditEvent
from assistant.models import Case
from assistant.models import CaseAccess
from assistant.models import Invitation
from assistant.models import today
from assistant.models import utcnow
from tests.conftest import ADVOCATE_ORG
from tests.conftest import HOTLINE_A
from tests.conftest import SECRETS
from tests.conftest import STAFF_PASSWORD
from tests.conftest import Staffer
from tests.conftest import Survivor
from tests.conftest import csrf_token
from tests.conftest import hotlines_take_part
from tests.conftest import without_csrf_tokens

CASE_NUMBER = re.compile(r'id="case-number">([^<]+)<')
PASSPHRASE = re.compile(r'id="passphrase">([^<]+)<')
INVITATION = re.compile(r'id="invitation-code">([^<]+)<')
LINK = re.compile(r'id="enrolment-link">([^<]+)<')


def file_as(
    advocate: Staffer,
    *lines: str,
    receipt: str = "yes",
    method: str = "in_person",
    given_on: dt.date | None = None,
    country: str = "IE",
) -> tuple[str, str | None, Any]:
    """Every step of filing for a survivor; returns the case number, the passphrase shown (if
    any) and the last page."""
    checked = advocate.post(
        "/advocate/file/places", {"pasted": "\n".join(lines), "action": "check"}
    )
    assert checked.status_code == 200
    assert (
        advocate.post("/advocate/file/places", {"action": "continue"})
        .headers["Location"]
        .endswith("/advocate/file/details")
    )
    assert (
        advocate.post(
            "/advocate/file/details",
            {
                "categories": ["abuse_material"],
                "minor": "yes",
                "country": country,
                "language": "en",
            },
        ).status_code
        == 303
    )
    consent = advocate.post(
        "/advocate/file/consent",
        {
            "method": method,
            "given_on": (given_on or today()).isoformat(),
            "survivor_receipt": receipt,
        },
    )
    assert consent.status_code == 303, consent.get_data(as_text=True)
    assert "Check and send" in advocate.client.get("/advocate/file/review").get_data(as_text=True)
    sent = advocate.post("/advocate/file/send")
    assert sent.status_code == 200
    page = sent.get_data(as_text=True)
    number = CASE_NUMBER.search(page)
    passphrase = PASSPHRASE.search(page)
    assert number
    return number.group(1), passphrase.group(1) if passphrase else None, sent


def case_id_of(app: Any, number: str) -> int:
    with Database.new_session(app) as db:
        found = db.scalar(select(Case.id).where(Case.case_number == number))
        assert found is not None
        return found


def invitation_from(survivor: Survivor) -> str:
    token = csrf_token(survivor.client, "/my-request")
    page = survivor.client.post("/my-request/invitation", data={"csrf_token": token})
    assert page.status_code == 200
    found = INVITATION.search(page.get_data(as_text=True))
    assert found
    return found.group(1)


def signed_in_survivor(app: Any, *places: str) -> Survivor:
    survivor = Survivor(app.test_client())
    number, passphrase = survivor.file(*places, country="IE")
    assert survivor.sign_in(number, passphrase).status_code == 303
    return survivor


def register(client: Any, **answers: str) -> Any:
    form = {
        "name": "Ada Okafor",
        "organisation": "Riverside Victim Services",
        "role": "Case worker",
        "email": "ada@riverside.example",
        "reason": "We support adult survivors through removal requests.",
        **answers,
    }
    token = csrf_token(client, "/advocate/register")
    return client.post("/advocate/register", data={"csrf_token": token, **form})


# Becoming an advocate


def test_a_registration_waits_for_an_administrator_and_opens_nothing(app, client):
    response = register(client)
    assert response.status_code == 200
    assert "waiting for an administrator" in response.get_data(as_text=True)
    with Database.new_session(app) as db:
        account = db.scalar(select(Account).where(Account.email == "ada@riverside.example"))
        assert account is not None
        assert (account.role, account.status) == ("advocate", "pending")
        assert account.password_hash is None and account.enrolment_code_hash is None
    token = csrf_token(client, "/account/sign-in")
    refused = client.post(
        "/account/sign-in",
        data={
            "csrf_token": token,
            "email": "ada@riverside.example",
            "password": "anything at all 1",
            "code": "123456",
        },
    )
    assert refused.status_code == 401


def test_registering_an_address_that_has_an_account_looks_the_same_and_changes_nothing(
    app, client, staff_a
):
    first = register(client, email=staff_a.email)
    second = register(app.test_client(), email="new.person@riverside.example")
    assert first.status_code == second.status_code == 200
    assert without_csrf_tokens(first.get_data()) == without_csrf_tokens(second.get_data())
    with Database.new_session(app) as db:
        account = db.scalar(select(Account).where(Account.email == staff_a.email))
        assert account is not None and (account.role, account.status) == ("staff", "active")


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        ({"name": " "}, "Enter your name."),
        ({"organisation": ""}, "Enter your organisation."),
        ({"reason": ""}, "Say why you need access."),
        ({"email": "not an address"}, "Enter your work e-mail address"),
        ({"role": "x" * 121}, "An answer is too long"),
    ],
)
def test_registration_says_what_is_missing_and_stores_nothing(app, client, answers, problem):
    response = register(client, **answers)
    assert response.status_code == 400
    assert problem in response.get_data(as_text=True)
    with Database.new_session(app) as db:
        assert db.scalar(select(Account.id)) is None


def test_an_administrator_approves_and_the_advocate_must_set_up_totp_before_first_use(
    app, client, admin
):
    register(client)
    with Database.new_session(app) as db:
        account_id = db.scalar(select(Account.id).where(Account.role == "advocate"))
    overview = admin.client.get("/admin/").get_data(as_text=True)
    assert "Riverside Victim Services" in overview
    assert "We support adult survivors" in overview
    approved = admin.post(f"/admin/advocates/{account_id}/approve")
    assert approved.status_code == 200
    link = LINK.search(approved.get_data(as_text=True))
    assert link and "/account/enrol?code=" in link.group(1)
    enrol = app.test_client().get(link.group(1).split("127.0.0.1:5000")[-1])
    assert enrol.status_code == 200
    assert "<svg" in enrol.get_data(as_text=True)  # the TOTP set-up comes before any use
    with Database.new_session(app) as db:
        account = db.get(Account, account_id)
        assert account is not None and account.status == "enrolling"
        assert account.password_hash is None
        actions = db.scalars(
            select(AuditEvent.action).where(
                AuditEvent.object_id == account_id, AuditEvent.object_type == "account"
            )
        ).all()
        assert "advocate.approved" in actions


def test_approve_advocate_command_prints_a_one_time_link(app, client):
    register(client)
    result = app.test_cli_runner().invoke(main, ["approve-advocate", "ADA@riverside.example"])
    assert result.exit_code == 0, result.output
    assert "/account/enrol?code=" in result.output
    again = app.test_cli_runner().invoke(main, ["approve-advocate", "nobody@riverside.example"])
    assert again.exit_code != 0
    assert "no advocate's registration" in again.output


def test_declining_deletes_the_registration(app, client, admin):
    register(client)
    with Database.new_session(app) as db:
        account_id = db.scalar(select(Account.id).where(Account.role == "advocate"))
    assert admin.post(f"/admin/advocates/{account_id}/decline").status_code == 303
    with Database.new_session(app) as db:
        assert db.get(Account, account_id) is None


def test_suspending_ends_the_advocates_sessions_and_access_at_once(app, admin, advocate_a):
    number, _passphrase, _page = file_as(advocate_a, "https://example.ie/suspend-1")
    case_id = case_id_of(app, number)
    assert advocate_a.client.get(f"/advocate/cases/{case_id}").status_code == 200
    assert admin.post(f"/admin/advocates/{advocate_a.id}/suspend").status_code == 303
    after = advocate_a.client.get(f"/advocate/cases/{case_id}")
    assert after.status_code == 303 and "/account/sign-in" in after.headers["Location"]
    assert advocate_a.sign_in().status_code == 401
    assert admin.post(f"/admin/advocates/{advocate_a.id}/reinstate").status_code == 303
    assert advocate_a.sign_in().status_code == 303
    assert advocate_a.client.get(f"/advocate/cases/{case_id}").status_code == 200


def test_suspend_advocate_command(app, advocate_a):
    result = app.test_cli_runner().invoke(main, ["suspend-advocate", advocate_a.email])
    assert result.exit_code == 0, result.output
    assert advocate_a.client.get("/advocate/").status_code == 303


# Filing for a survivor


def test_an_advocate_files_with_consent_and_the_hotline_sees_their_organisation(
    app, advocate_a, staff_a
):
    number, passphrase, _page = file_as(
        advocate_a,
        "https://example.ie/filed-1",
        method="phone",
        given_on=today() - dt.timedelta(days=2),
    )
    assert passphrase
    with Database.new_session(app) as db:
        case = db.scalar(select(Case).where(Case.case_number == number))
        assert case is not None and case.filed_by == "advocate"
        referral_id = case.referrals[0].id
        (access,) = case.advocates
        assert (access.account_id, access.origin) == (advocate_a.id, "filed")
    page = staff_a.client.get(f"/hotline/referrals/{referral_id}").get_data(as_text=True)
    assert f"Filed by an advocate from {ADVOCATE_ORG}" in page
    assert "By phone or video call" in page
    assert "The survivor has their own receipt." in page
    assert advocate_a.email not in page
    exported = staff_a.client.get(f"/hotline/referrals/{referral_id}/export.json").get_json()
    assert exported["reporter"]["type"] == "survivor_advocate"
    assert exported["reporter"]["consent"] == {
        "method": "phone",
        "given_on": (today() - dt.timedelta(days=2)).isoformat(),
        "survivor_receipt": True,
    }
    assert exported["reporter"]["advocates"] == [{"organisation": ADVOCATE_ORG, "filed": True}]


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        ({"method": ""}, "Say how the survivor gave their consent."),
        ({"given_on": ""}, "Give the date the survivor gave their consent."),
        ({"given_on": "not a date"}, "That date could not be read."),
        ({"given_on": (today() + dt.timedelta(days=2)).isoformat()}, "cannot be in the future"),
        ({"survivor_receipt": ""}, "Say whether the survivor wants their own receipt."),
    ],
)
def test_the_consent_record_must_be_complete(app, advocate_a, answers, problem):
    advocate_a.post("/advocate/file/places", {"pasted": "https://example.ie/c", "action": "check"})
    form = {
        "method": "written",
        "given_on": today().isoformat(),
        "survivor_receipt": "no",
        **answers,
    }
    response = advocate_a.post("/advocate/file/consent", form)
    assert response.status_code == 400
    assert problem in response.get_data(as_text=True)
    review = advocate_a.client.get("/advocate/file/review")
    assert review.status_code == 303 and review.headers["Location"].endswith("/file/consent")


def test_consent_and_the_advocates_profile_are_sealed_at_rest(app, advocate_a):
    number, _passphrase, _page = file_as(
        advocate_a, "https://example.ie/sealed-1", method="written"
    )
    with Database.new_session(app) as db:
        case = db.scalar(select(Case).where(Case.case_number == number))
        account = db.get(Account, advocate_a.id)
        assert case is not None and case.consent_sealed and account is not None
        assert b"written" not in case.consent_sealed
        assert account.profile_sealed and ADVOCATE_ORG.encode() not in account.profile_sealed


def test_without_a_receipt_for_the_survivor_no_passphrase_is_ever_shown(app, advocate_a):
    number, passphrase, page = file_as(advocate_a, "https://example.ie/no-receipt", receipt="no")
    assert passphrase is None
    assert "did not want a receipt" in page.get_data(as_text=True)
    with Database.new_session(app) as db:
        case = db.scalar(select(Case).where(Case.case_number == number))
        assert case is not None and not case.must_change_passphrase


def test_each_pasted_line_gets_its_own_verdict(app, advocate_a):
    file_lines = [
        "https://example.ie/line-1",
        "",
        "https://example.ie/line-1",  # the same as line 1
        "javascript:alert(1)",  # refused
        "https://example.ie/line-5",
    ]
    first = advocate_a.post(
        "/advocate/file/places", {"pasted": "\n".join(file_lines), "action": "check"}
    )
    page = first.get_data(as_text=True)
    assert "4 lines checked:" in page
    assert "2 added" in page and "1 already on the list" in page and "1 not accepted" in page
    rows = re.findall(r'<tr class="outcome-(\w+)">\s*<th scope="row">(\d+)</th>', page)
    assert rows == [("accepted", "1"), ("duplicate", "3"), ("rejected", "4"), ("accepted", "5")]
    assert "Same place as line 1" in page
    assert "Added: goes to Hotline.ie" in page
    # Only the refused line goes back in the box.
    box = re.search(r'<textarea[^>]*name="pasted"[^>]*>([^<]*)</textarea>', page)
    assert box and box.group(1).strip() == "javascript:alert(1)"
    again = advocate_a.post(
        "/advocate/file/places", {"pasted": "https://example.ie/line-5", "action": "check"}
    )
    assert "Already on the list" in again.get_data(as_text=True)


# The handed-over receipt


PROPOSAL = re.compile(r'name="proposal" value="([^"]+)"')


def replace_passphrase_on_the_web(survivor: Survivor) -> tuple[str, Any]:
    """Read the new passphrase on the page, then confirm it; returns it and the answer."""
    page = survivor.client.get("/my-request/new-passphrase").get_data(as_text=True)
    shown, proposal = PASSPHRASE.search(page), PROPOSAL.search(page)
    assert shown and proposal
    token = csrf_token(survivor.client, "/my-request/new-passphrase")
    confirmed = survivor.client.post(
        "/my-request/new-passphrase", data={"csrf_token": token, "proposal": proposal.group(1)}
    )
    return shown.group(1), confirmed


def test_a_handed_over_receipt_is_replaced_at_the_survivors_first_sign_in(app, advocate_a):
    number, handed_over, _page = file_as(advocate_a, "https://example.ie/handover-1")
    assert handed_over
    survivor = Survivor(app.test_client())
    assert survivor.sign_in(number, handed_over).status_code == 303
    for path in ("/my-request", "/my-request/add", "/my-request/erase"):
        response = survivor.client.get(path)
        assert response.status_code == 303, path
        assert response.headers["Location"].endswith("/my-request/new-passphrase")
    # Looking at a proposal changes nothing: the handed-over passphrase still works.
    survivor.client.get("/my-request/new-passphrase")
    assert Survivor(app.test_client()).sign_in(number, handed_over).status_code == 303
    new, confirmed = replace_passphrase_on_the_web(survivor)
    assert confirmed.status_code == 303 and confirmed.headers["Location"].endswith("/my-request")
    assert new != handed_over
    status = survivor.client.get("/my-request")
    assert status.status_code == 200
    assert "Last replaced on" in status.get_data(as_text=True)
    # The advocate's copy no longer opens anything; the survivor's does.
    assert Survivor(app.test_client()).sign_in(number, handed_over).status_code == 401
    assert Survivor(app.test_client()).sign_in(number, new).status_code == 303
    # The advocate's own access is separate, and they can no longer make a receipt.
    case_id = case_id_of(app, number)
    case_page = advocate_a.client.get(f"/advocate/cases/{case_id}").get_data(as_text=True)
    assert "Make a new receipt to hand over" not in case_page
    assert advocate_a.post(f"/advocate/cases/{case_id}/receipt").status_code == 409


def test_a_proposal_for_another_case_or_a_forged_one_changes_nothing(app, advocate_a):
    number, handed_over, _page = file_as(advocate_a, "https://example.ie/proposal-1")
    other = signed_in_survivor(app, "https://example.ie/proposal-2")
    foreign = PROPOSAL.search(other.client.get("/my-request/new-passphrase").get_data(as_text=True))
    assert foreign
    survivor = Survivor(app.test_client())
    survivor.sign_in(number, handed_over)
    token = csrf_token(survivor.client, "/my-request/new-passphrase")
    for proposal in (foreign.group(1), "forged", ""):
        answer = survivor.client.post(
            "/my-request/new-passphrase", data={"csrf_token": token, "proposal": proposal}
        )
        assert answer.headers["Location"].endswith("/my-request/new-passphrase")
    assert Survivor(app.test_client()).sign_in(number, handed_over).status_code == 303


def test_a_survivor_can_replace_their_passphrase_at_any_time(app):
    survivor = signed_in_survivor(app, "https://example.ie/anytime-1")
    assert "Get a new passphrase" in survivor.client.get("/my-request").get_data(as_text=True)
    page = survivor.client.get("/my-request/new-passphrase").get_data(as_text=True)
    assert "Keep my current passphrase" in page
    _new, confirmed = replace_passphrase_on_the_web(survivor)
    assert confirmed.status_code == 303
    assert survivor.client.get("/my-request").status_code == 200


def test_the_filing_advocate_can_make_a_new_receipt_until_the_survivor_replaces_it(
    app, advocate_a, advocate_b
):
    number, first, _page = file_as(advocate_a, "https://example.ie/reissue-1", receipt="no")
    assert first is None
    case_id = case_id_of(app, number)
    page = advocate_a.client.get(f"/advocate/cases/{case_id}").get_data(as_text=True)
    assert "Make a new receipt to hand over" in page
    issued = advocate_a.post(f"/advocate/cases/{case_id}/receipt")
    passphrase = PASSPHRASE.search(issued.get_data(as_text=True))
    assert issued.status_code == 200 and passphrase
    again = PASSPHRASE.search(
        advocate_a.post(f"/advocate/cases/{case_id}/receipt").get_data(as_text=True)
    )
    assert again
    assert Survivor(app.test_client()).sign_in(number, passphrase.group(1)).status_code == 401
    survivor = Survivor(app.test_client())
    assert survivor.sign_in(number, again.group(1)).status_code == 303
    assert survivor.client.get("/my-request").headers["Location"].endswith("/new-passphrase")
    # An invited advocate can never make one.
    signed_in = signed_in_survivor(app, "https://example.ie/reissue-2")
    advocate_b.post("/advocate/redeem", {"code": invitation_from(signed_in)})
    with Database.new_session(app) as db:
        invited_case = db.scalar(
            select(CaseAccess.case_id).where(CaseAccess.account_id == advocate_b.id)
        )
    assert advocate_b.post(f"/advocate/cases/{invited_case}/receipt").status_code == 409


def test_the_api_allows_only_a_new_passphrase_until_a_handed_over_receipt_is_replaced(
    app, advocate_a
):
    number, handed_over, _page = file_as(advocate_a, "https://example.ie/handover-api")
    client = app.test_client()
    signed_in = client.post(
        "/api/v1/session", json={"case_number": number, "passphrase": handed_over}
    )
    assert signed_in.status_code == 200 and signed_in.get_json()["must_change_passphrase"]
    bearer = {"Authorization": f"Bearer {signed_in.get_json()['token']}"}
    refused = client.get("/api/v1/requests/me", headers=bearer)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "passphrase_change_required"
    proposed = client.post("/api/v1/requests/me/passphrase", headers=bearer, json={})
    assert proposed.status_code == 200
    offer = proposed.get_json()
    assert offer["passphrase"] != handed_over
    assert client.get("/api/v1/requests/me", headers=bearer).status_code == 403  # not yet
    bad = client.post("/api/v1/requests/me/passphrase", headers=bearer, json={"proposal": "forged"})
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "bad_proposal"
    replaced = client.post(
        "/api/v1/requests/me/passphrase", headers=bearer, json={"proposal": offer["proposal"]}
    )
    assert replaced.status_code == 200
    assert replaced.get_json()["must_change_passphrase"] is False
    assert client.get("/api/v1/requests/me", headers=bearer).status_code == 401
    fresh = {"Authorization": f"Bearer {replaced.get_json()['token']}"}
    assert client.get("/api/v1/requests/me", headers=fresh).status_code == 200
    again = client.post(
        "/api/v1/session", json={"case_number": number, "passphrase": offer["passphrase"]}
    )
    assert again.status_code == 200 and again.get_json()["must_change_passphrase"] is False


# Who has access: the survivor decides


def test_an_advocate_sees_only_the_cases_they_filed_or_were_invited_to(app, advocate_a, advocate_b):
    mine, _p, _page = file_as(advocate_a, "https://example.ie/mine-1")
    theirs, _p2, _page2 = file_as(advocate_b, "https://example.ie/theirs-1")
    survivor_case = signed_in_survivor(app, "https://example.ie/survivor-only")
    assert survivor_case
    dashboard = advocate_a.client.get("/advocate/").get_data(as_text=True)
    assert mine in dashboard and theirs not in dashboard
    other = advocate_a.client.get(f"/advocate/cases/{case_id_of(app, theirs)}")
    missing = advocate_a.client.get("/advocate/cases/999999")
    assert other.status_code == missing.status_code == 404
    assert without_csrf_tokens(other.get_data()) == without_csrf_tokens(missing.get_data())
    assert (
        advocate_a.post(
            f"/advocate/cases/{case_id_of(app, theirs)}/message", {"body": "hello"}
        ).status_code
        == 404
    )


def test_an_invitation_gives_access_once(app, advocate_a, advocate_b):
    survivor = signed_in_survivor(app, "https://example.ie/invite-1")
    code = invitation_from(survivor)
    used = advocate_a.post("/advocate/redeem", {"code": code})
    assert used.status_code == 303
    assert advocate_a.client.get(used.headers["Location"]).status_code == 200
    again = advocate_b.post("/advocate/redeem", {"code": code})
    assert again.status_code == 400
    assert "does not work" in again.get_data(as_text=True)
    status = survivor.client.get("/my-request").get_data(as_text=True)
    assert "Lawyer" in status and ADVOCATE_ORG in status
    assert advocate_a.email not in status


def _serializer() -> URLSafeTimedSerializer:
    return invitation_serializer(SECRETS["secret_key"])


def test_an_expired_invitation_is_refused_as_expired(app, advocate_a):
    survivor = signed_in_survivor(app, "https://example.ie/expire-1")
    assert survivor
    with Database.new_session(app) as db:
        case = db.scalar(select(Case))
        code = create_invitation(db, _serializer(), case)
        account = db.get(Account, advocate_a.id)
        later = utcnow() + dt.timedelta(hours=72, minutes=1)
        with pytest.raises(AccessRefused) as refused:
            redeem_invitation(db, _serializer(), account, code, now=later)
        assert refused.value.code == "expired"
        # Within the 72 hours the same code works.
        redeemed = redeem_invitation(
            db, _serializer(), account, code, now=utcnow() + dt.timedelta(hours=71)
        )
        assert redeemed.case.id == case.id


@pytest.mark.parametrize("tamper", ["forged", "other_key", "junk", "empty"])
def test_a_forged_or_damaged_invitation_is_refused(app, advocate_a, tamper):
    signed_in_survivor(app, "https://example.ie/forge-1")
    with Database.new_session(app) as db:
        case = db.scalar(select(Case))
        code = create_invitation(db, _serializer(), case)
        bad = {
            "forged": code[:-3] + ("AAA" if not code.endswith("AAA") else "BBB"),
            "other_key": URLSafeTimedSerializer(
                "another key " * 4, salt="advocate-invitation"
            ).dumps([case.id, "nonce"]),
            "junk": "hello there",
            "empty": "   ",
        }[tamper]
        with pytest.raises(AccessRefused) as refused:
            redeem_invitation(db, _serializer(), db.get(Account, advocate_a.id), bad)
        assert refused.value.code == "invalid"
        assert db.scalar(select(CaseAccess.id)) is None


def test_an_invitation_naming_another_case_is_refused(app, advocate_a):
    signed_in_survivor(app, "https://example.ie/case-one")
    signed_in_survivor(app, "https://example.ie/case-two")
    with Database.new_session(app) as db:
        one, two = db.scalars(select(Case).order_by(Case.id)).all()
        code = create_invitation(db, _serializer(), one)
        _case_id, nonce = _serializer().loads(code)
        swapped = _serializer().dumps([two.id, nonce])  # signed, but the nonce belongs to case one
        with pytest.raises(AccessRefused) as refused:
            redeem_invitation(db, _serializer(), db.get(Account, advocate_a.id), swapped)
        assert refused.value.code == "invalid"
        assert db.scalar(select(CaseAccess.id)) is None
        # The real code still works for its own case.
        assert (
            redeem_invitation(db, _serializer(), db.get(Account, advocate_a.id), code).case.id
            == one.id
        )


def test_cancelled_invitations_stop_working(app, advocate_a):
    survivor = signed_in_survivor(app, "https://example.ie/cancel-1")
    code = invitation_from(survivor)
    assert "1 invitation has not been used yet." in survivor.client.get("/my-request").get_data(
        as_text=True
    )
    token = csrf_token(survivor.client, "/my-request")
    survivor.client.post("/my-request/invitation/cancel", data={"csrf_token": token})
    assert advocate_a.post("/advocate/redeem", {"code": code}).status_code == 400


def test_a_suspended_or_pending_advocate_cannot_redeem(app, advocate_a):
    signed_in_survivor(app, "https://example.ie/suspended-redeem")
    with Database.new_session(app) as db:
        case = db.scalar(select(Case))
        code = create_invitation(db, _serializer(), case)
        account = db.get(Account, advocate_a.id)
        account.status = "suspended"
        db.commit()
        with pytest.raises(AccessRefused):
            redeem_invitation(db, _serializer(), account, code)


def test_revoking_takes_effect_on_the_advocates_next_request(app, advocate_a):
    survivor = signed_in_survivor(app, "https://example.ie/revoke-1")
    advocate_a.post("/advocate/redeem", {"code": invitation_from(survivor)})
    spare = invitation_from(survivor)  # a second code, never used
    with Database.new_session(app) as db:
        access = db.scalar(select(CaseAccess))
        assert access is not None
        access_id, case_id = access.id, access.case_id
    assert advocate_a.client.get(f"/advocate/cases/{case_id}").status_code == 200
    token = csrf_token(survivor.client, "/my-request")
    revoked = survivor.client.post(
        f"/my-request/access/{access_id}/revoke", data={"csrf_token": token}
    )
    assert revoked.status_code == 303
    assert advocate_a.client.get(f"/advocate/cases/{case_id}").status_code == 404
    # A spare code cannot bring them back.
    assert advocate_a.post("/advocate/redeem", {"code": spare}).status_code == 400
    assert "revoke-1" not in advocate_a.client.get("/advocate/").get_data(as_text=True)
    assert "Only you, and the hotlines" in survivor.client.get("/my-request").get_data(as_text=True)
    with Database.new_session(app) as db:
        events = db.scalars(select(AuditEvent).where(AuditEvent.action == "access.revoked"))
        assert [(e.object_type, e.object_id) for e in events] == [("account", advocate_a.id)]
    # Someone else's access cannot be revoked from this case.
    assert (
        survivor.client.post(
            f"/my-request/access/{access_id}/revoke", data={"csrf_token": token}
        ).status_code
        == 404
    )


def test_messages_between_the_advocate_the_hotline_and_the_survivor(app, advocate_a, staff_a):
    survivor = signed_in_survivor(app, "https://example.ie/messages-1")
    hotlines_take_part(app)
    advocate_a.post("/advocate/redeem", {"code": invitation_from(survivor)})
    with Database.new_session(app) as db:
        case = db.scalar(select(Case))
        assert case is not None
        case_id, referral_id = case.id, case.referrals[0].id
    sent = advocate_a.post(
        f"/advocate/cases/{case_id}/message",
        {"body": "Writing for the survivor: the second link moved."},
    )
    assert sent.status_code == 303
    staff_page = staff_a.client.get(f"/hotline/referrals/{referral_id}").get_data(as_text=True)
    assert f"Advocate from {ADVOCATE_ORG}" in staff_page
    assert f"Accompanied by an advocate from {ADVOCATE_ORG}" in staff_page
    staff_a.post(
        f"/hotline/referrals/{referral_id}/message",
        {"message-body": "Thank you, we will look at it today."},
    )
    dashboard = advocate_a.client.get("/advocate/?unread=1").get_data(as_text=True)
    assert "1 unread message" in dashboard
    case_page = advocate_a.client.get(f"/advocate/cases/{case_id}").get_data(as_text=True)
    assert "Thank you, we will look at it today." in case_page
    assert "1 unread message" not in advocate_a.client.get("/advocate/").get_data(as_text=True)
    assert "0 requests" in advocate_a.client.get("/advocate/?unread=1").get_data(as_text=True)
    with Database.new_session(app) as db:
        views = db.scalars(select(AuditEvent).where(AuditEvent.action == "case.viewed")).all()
        assert [(e.actor, e.case_id) for e in views] == [(f"account:{advocate_a.id}", case_id)]
        assert views[0].occurred_at is not None
    survivor_page = survivor.client.get("/my-request").get_data(as_text=True)
    assert "the second link moved" in survivor_page
    assert f"Lawyer, {ADVOCATE_ORG}" in survivor_page


def test_the_dashboard_filters_by_status(app, advocate_a):
    number, _p, _page = file_as(advocate_a, "https://example.ie/filter-1")
    assert number in advocate_a.client.get("/advocate/?status=received").get_data(as_text=True)
    assert number not in advocate_a.client.get("/advocate/?status=finished").get_data(as_text=True)


def test_erasing_the_case_removes_every_access_and_invitation(app, advocate_a):
    survivor = signed_in_survivor(app, "https://example.ie/erase-1")
    advocate_a.post("/advocate/redeem", {"code": invitation_from(survivor)})
    invitation_from(survivor)
    token = csrf_token(survivor.client, "/my-request/erase")
    survivor.client.post("/my-request/erase", data={"csrf_token": token, "confirm": "y"})
    with Database.new_session(app) as db:
        assert db.scalar(select(CaseAccess.id)) is None
        assert db.scalar(select(Invitation.id)) is None
        assert db.scalar(select(Case.id)) is None
    assert "0 requests" in advocate_a.client.get("/advocate/").get_data(as_text=True)


def test_purge_clears_invitation_rows_that_can_no_longer_be_used(app):
    signed_in_survivor(app, "https://example.ie/purge-1")
    with Database.new_session(app) as db:
        case = db.scalar(select(Case))
        create_invitation(db, _serializer(), case)
        db.add(
            Invitation(
                case_id=case.id, nonce_hash="0" * 64, created_on=today() - dt.timedelta(days=5)
            )
        )
        db.commit()
        purge(db)
        assert len(db.scalars(select(Invitation)).all()) == 1


def test_an_advocate_changes_their_password_like_staff(app, advocate_a):
    page = advocate_a.client.get("/account/password")
    assert page.status_code == 200
    assert STAFF_PASSWORD not in page.get_data(as_text=True)
    assert HOTLINE_A not in page.get_data(as_text=True)


def test_continuing_with_the_refused_lines_still_in_the_box_leaves_them_out(app, advocate_a):
    advocate_a.post(
        "/advocate/file/places",
        {"pasted": "https://example.ie/keep-1\njavascript:alert(1)", "action": "check"},
    )
    stuck = advocate_a.post(
        "/advocate/file/places", {"pasted": "javascript:alert(1)", "action": "continue"}
    )
    assert stuck.status_code == 303 and stuck.headers["Location"].endswith("/file/details")
    assert "were left out" in advocate_a.client.get("/advocate/file/details").get_data(as_text=True)
    # With an empty box, Continue simply goes on, saying nothing was left out.
    plain = advocate_a.post("/advocate/file/places", {"pasted": "", "action": "continue"})
    assert plain.status_code == 303
    assert "were left out" not in advocate_a.client.get("/advocate/file/details").get_data(
        as_text=True
    )
    # A corrected line in the box is checked before going on.
    advocate_a.post("/advocate/file/places", {"pasted": "javascript:x", "action": "check"})
    checked = advocate_a.post(
        "/advocate/file/places", {"pasted": "https://example.ie/fixed", "action": "continue"}
    )
    assert checked.status_code == 200
    assert "1 added" in checked.get_data(as_text=True)


def test_refused_administrator_actions_say_why_and_change_nothing(app, admin, advocate_a):
    approved = admin.post(f"/admin/advocates/{advocate_a.id}/approve")
    assert approved.status_code == 303
    page = admin.client.get(approved.headers["Location"]).get_data(as_text=True)
    assert "This account is already approved." in page
    declined = admin.post(f"/admin/advocates/{advocate_a.id}/decline")
    assert "no longer waiting" in admin.client.get(declined.headers["Location"]).get_data(
        as_text=True
    )
    reinstated = admin.post(f"/admin/advocates/{advocate_a.id}/reinstate")
    assert "Only a suspended account" in admin.client.get(reinstated.headers["Location"]).get_data(
        as_text=True
    )
    with Database.new_session(app) as db:
        account = db.get(Account, advocate_a.id)
        assert account is not None and account.status == "active"
        assert account.enrolment_code_hash is None
    assert advocate_a.client.get("/advocate/").status_code == 200


def test_the_api_refuses_a_proposal_that_is_not_a_string(app, advocate_a):
    number, handed_over, _page = file_as(advocate_a, "https://example.ie/proposal-type")
    client = app.test_client()
    token = client.post(
        "/api/v1/session", json={"case_number": number, "passphrase": handed_over}
    ).get_json()["token"]
    answer = client.post(
        "/api/v1/requests/me/passphrase",
        headers={"Authorization": f"Bearer {token}"},
        json={"proposal": 7},
    )
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "bad_proposal"
    assert Survivor(app.test_client()).sign_in(number, handed_over).status_code == 303


def test_a_refused_message_page_is_an_audited_view_too(app, advocate_a):
    number, _p, _page = file_as(advocate_a, "https://example.ie/audit-refused")
    case_id = case_id_of(app, number)
    assert advocate_a.post(f"/advocate/cases/{case_id}/message", {"body": ""}).status_code == 400
    with Database.new_session(app) as db:
        views = db.scalars(select(AuditEvent).where(AuditEvent.action == "case.viewed")).all()
        assert [e.case_id for e in views] == [case_id]


def test_the_hotlines_system_hears_when_an_advocate_is_given_or_loses_access(app, advocate_a):
    """Who has access to the case is part of the referral a hotline's system reads: each change
    comes through its changes feed."""
    services = app.extensions["assistant.services"]
    with Database.new_session(app) as db:
        key = create_key(db, services.directory, "hotline_ie", "CMS", ["read"], by=None).raw
    system = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    survivor = signed_in_survivor(app, "https://example.ie/access-feed")
    after = system.get("/api/v1/hotline/referrals", headers=headers).get_json()["next"]

    def changes() -> list[dict[str, Any]]:
        nonlocal after
        page = system.get(
            "/api/v1/hotline/referrals", query_string={"after": after}, headers=headers
        ).get_json()
        after = page["next"]
        return page["referrals"]

    advocate_a.post("/advocate/redeem", {"code": invitation_from(survivor)})
    [given] = changes()
    referral = system.get(
        f"/api/v1/hotline/referrals/{given['reporting_reference']}", headers=headers
    ).get_json()
    assert [a["organisation"] for a in referral["reporter"]["advocates"]] == [ADVOCATE_ORG]
    with Database.new_session(app) as db:
        access_id = db.scalar(select(CaseAccess.id))
    token = csrf_token(survivor.client, "/my-request")
    survivor.client.post(f"/my-request/access/{access_id}/revoke", data={"csrf_token": token})
    [taken] = changes()
    assert taken["reporting_reference"] == given["reporting_reference"]
    assert taken["change"] > given["change"]
