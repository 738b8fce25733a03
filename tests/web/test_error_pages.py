"""Error pages say what happened, calmly: a page refused to an account says it is not for that
account and where to go instead; the erase form sent again after the request was erased says the
request was erased (and tells nobody else that a request existed); the other errors say what they
said before."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from assistant.extensions import Database
from assistant.models import Case
from assistant.models import Referral
from assistant.web.access import public
from assistant.web.erasure_proof import erasure_proof
from tests.conftest import Staffer
from tests.conftest import Survivor
from tests.conftest import csrf_token
from tests.conftest import row_counts

ON_OUR_SIDE = "This is a problem on our side, not something you did."
NOT_READ = (
    "The form could not be read, perhaps because it was open for a long time. Please go back "
    "and try again. Nothing was saved."
)
PROOF = re.compile(r'name="erasing" type="hidden" value="([^"]*)"')


def text_of(response: Any) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


# --- 403: not for this account ----------------------------------------------------------------


def test_an_advocate_opening_a_staff_page_is_told_it_is_not_for_their_account(advocate_a):
    response = advocate_a.client.get("/hotline/")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    words = text_of(response)
    assert "<title>Not open to this account – Request Assistant</title>" in page
    assert "This page is not open to your account" in words
    assert "The account you are signed in with cannot open this page. Nothing was changed." in words
    assert "If you have another account here, sign out, then sign in with that one." in words
    assert ON_OUR_SIDE not in words and "Something went wrong" not in words
    # Where to go instead: signing out (to sign in as another), or their own pages.
    assert 'action="/account/sign-out"' in page and 'name="csrf_token"' in page
    assert 'href="/advocate/">Go to your own pages' in page


def test_hotline_staff_opening_their_teams_admin_pages_are_sent_to_their_own(staff_a):
    response = staff_a.client.get("/hotline/team/")
    assert response.status_code == 403
    assert "This page is not open to your account" in text_of(response)
    assert 'href="/hotline/">Go to your own pages' in response.get_data(as_text=True)


def test_signing_out_from_a_refused_page_leads_to_signing_in_again(advocate_a):
    page = advocate_a.client.get("/hotline/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    out = advocate_a.client.post("/account/sign-out", data={"csrf_token": token.group(1)})
    assert out.status_code == 303 and out.headers["Location"].endswith("/account/sign-in")
    assert advocate_a.client.get("/advocate/").status_code == 303  # signed out


def test_a_page_refused_to_anyone_does_not_speak_of_an_account(app, client):
    """A route that declares no access is refused to everyone (deny by default)."""
    app.add_url_rule("/undeclared-for-this-test", "undeclared", lambda: "never shown")
    response = client.get("/undeclared-for-this-test")
    assert response.status_code == 403
    words = text_of(response)
    assert "This page is not open to you" in words and "your account" not in words
    assert "never shown" not in words and ON_OUR_SIDE not in words


# --- after an erasure --------------------------------------------------------------------------


def _erase_form(survivor: Survivor) -> dict[str, str]:
    page = survivor.client.get("/my-request/erase").get_data(as_text=True)
    proof = PROOF.search(page)
    assert proof and proof.group(1), "the erase form carries its proof"
    return {
        "csrf_token": csrf_token(survivor.client, "/my-request/erase"),
        "erasing": proof.group(1),
    }


def test_the_erase_form_sent_again_after_erasing_says_the_request_was_erased(survivor, app):
    survivor.sign_in(*survivor.file("https://example.ie/erase-me"))
    form = {**_erase_form(survivor), "confirm": "y"}
    erased = survivor.client.post("/my-request/erase", data=form)
    assert erased.status_code == 200 and row_counts(app)["cases"] == 0
    # Reloaded, or Back then Forward: the same form again, without the session it had.
    again = survivor.client.post("/my-request/erase", data=form)
    assert again.status_code == 410
    words = text_of(again)
    assert "This request was erased" in words
    assert "nothing more can be done with it" in words
    assert "Something went wrong" not in words and "Nothing was saved" not in words
    page = again.get_data(as_text=True)
    assert 'href="/support">Get support now' in page
    assert "<title>Done – Request Assistant</title>" in page  # a neutral title, as ever
    assert again.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert again.headers["Cache-Control"].startswith("no-store")
    # Its other pages, opened again, get the neutral "signed out" note, as any lost sign-in does.
    status = survivor.client.get("/my-request")
    assert status.status_code == 303 and status.headers["Location"].endswith("/check")


def test_an_erase_form_whose_sign_in_only_ended_does_not_say_erased(survivor, app):
    """The request still exists: nothing was erased, and the page must not say it was."""
    survivor.sign_in(*survivor.file("https://example.ie/still-here"))
    form = {**_erase_form(survivor), "confirm": "y"}
    token = csrf_token(survivor.client, "/my-request")
    survivor.client.post("/my-request/sign-out", data={"csrf_token": token})
    response = survivor.client.post("/my-request/erase", data=form)
    assert response.status_code == 400
    words = text_of(response)
    assert NOT_READ in words and "erased" not in words
    assert row_counts(app)["cases"] == 1


@pytest.mark.parametrize(
    "proof",
    ["", "not-a-proof", "A" * 400, "x" * 2000],
    ids=["none", "garbage", "not-sealed", "too-long"],
)
def test_a_random_post_without_a_session_never_speaks_of_a_request(client, proof):
    response = client.post(
        "/my-request/erase", data={"csrf_token": "forged", "confirm": "y", "erasing": proof}
    )
    assert response.status_code == 400
    assert NOT_READ in text_of(response) and "erased" not in text_of(response)


def test_an_old_or_altered_proof_is_not_believed(app, client, services, survivor):
    survivor.sign_in(*survivor.file("https://example.ie/old"))
    with Database.new_session(app) as db:
        case_id = db.query(Case.id).scalar()
        db.query(Case).delete()
        db.commit()
    long_ago = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=2)
    fresh = erasure_proof(services.cipher, case_id)
    old = erasure_proof(services.cipher, case_id, now=long_ago)
    altered = fresh[:-8] + ("A" * 8 if not fresh.endswith("A" * 8) else "B" * 8)
    for proof, believed in ((fresh, True), (old, False), (altered, False)):
        response = client.post(
            "/my-request/erase", data={"csrf_token": "stale", "confirm": "y", "erasing": proof}
        )
        assert (response.status_code == 410) is believed, proof


# --- what the other errors still say ----------------------------------------------------------


def test_a_form_without_its_token_still_says_it_could_not_be_read(client):
    response = client.post("/request/where", data={"value": "example.com", "action": "add"})
    assert response.status_code == 400
    assert NOT_READ in text_of(response)
    assert "<title>Something went wrong – Request Assistant</title>" in response.get_data(
        as_text=True
    )


def test_an_unexpected_failure_still_says_it_is_on_our_side(app, client):
    def broken() -> str:
        raise RuntimeError("a bug")

    app.add_url_rule("/broken-for-this-test", "broken", public(broken))
    response = client.get("/broken-for-this-test")
    assert response.status_code == 500
    words = text_of(response)
    assert "Something went wrong" in words
    assert ON_OUR_SIDE + " Nothing was saved. Please try again in a little while." in words
    assert "a bug" not in words


def test_a_missing_page_still_says_it_does_not_exist(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "This page does not exist." in text_of(response)


def test_a_staffer_of_another_hotline_is_not_told_more_than_before(app, staff_b: Staffer):
    """Another hotline's referral stays a 404, not a 403 that would say it exists."""
    survivor = Survivor(app.test_client())
    survivor.file("https://example.ie/for-hotline-a")
    with Database.new_session(app) as db:
        referral_id = db.query(Referral.id).scalar()
    response = staff_b.client.get(f"/hotline/referrals/{referral_id}")
    assert response.status_code == 404
