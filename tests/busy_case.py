"""A case as a survivor's pages show it at their fullest, filed through the intake: places at
several hotlines, and (``busy``) three referrals taken on by their hotlines, each of which wrote
to the survivor, an answer from the survivor, and an advocate with access. Shared by the tests
that count a page's statements and by the benchmark that times the same pages
(``bench/survivor_pages.py``), so that both measure the same case."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from assistant.cases.intake import IntakeRequest
from assistant.cases.intake import file_request
from assistant.cases.status import post_survivor_message
from assistant.extensions import Database
from assistant.hotline.referrals import Automatic
from assistant.hotline.referrals import acknowledge
from assistant.hotline.referrals import message_survivor
from assistant.models import Case
from assistant.models import CaseAccess
from assistant.models import today
from assistant.people.advocates import AdvocateProfile
from assistant.people.advocates import approve_advocate
from assistant.people.advocates import register_advocate
from assistant.routing import normalise_location
from assistant.vocabulary import AccessOrigin

# Top-level domains the shipped directory sends to as many different hotlines.
TLDS = ["ie", "nl", "fr", "de", "ca", "it", "es", "be", "at", "pl", "se", "au"]


@dataclass(frozen=True)
class Filed:
    case_number: str
    passphrase: str
    places: int
    hotlines: int


def file_case(app: Flask, places: int, hotlines: int, *, busy: bool = True) -> Filed:
    """File a case of ``places`` links spread over the first ``hotlines`` of :data:`TLDS`
    (the counts returned are what was stored)."""
    services = app.extensions["assistant.services"]
    tlds = TLDS[:hotlines]
    with app.app_context(), Database.new_session(app) as db:
        locations = [
            normalise_location("url", f"https://site{n}.{tlds[n % hotlines]}/post/{n}")
            for n in range(places)
        ]
        filed = file_request(db, services, IntakeRequest(locations=locations))
        case = filed.case
        if busy:
            for referral in case.referrals[:3]:
                staff = Automatic(referral.hotline_id, "test")
                acknowledge(db, staff, referral)
                message_survivor(db, services, staff, referral, "We are looking at this.")
            post_survivor_message(db, services, case, "Thank you.", case.referrals[0].id)
            email = f"advocate-{case.id}@support.example"
            profile = AdvocateProfile("Sam", "Support Org", "Case worker", "I help survivors.")
            register_advocate(db, services.cipher, email, profile)
            account, _code = approve_advocate(db, email=email)
            db.add(
                CaseAccess(
                    case_id=case.id,
                    account_id=account.id,
                    origin=AccessOrigin.INVITED,
                    granted_on=today(),
                    messages_read_up_to=0,
                )
            )
            db.commit()
        stored = db.get(Case, case.id)
        assert stored is not None
        assert filed.passphrase is not None
        return Filed(
            filed.case_number, str(filed.passphrase), len(stored.locations), len(stored.referrals)
        )
