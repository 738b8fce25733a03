"""What the survivor's status page and an advocate's case page share: the places as they were
given (shown one at a time on request), what to paste into a hotline's own form when it is not
connected, and writing to a connected hotline."""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash
from flask_babel import gettext as _

from ..cases.status import CaseView
from ..cases.status import MessageRejected
from ..cases.status import post_survivor_message
from ..extensions import current_services
from ..extensions import db
from ..models import Account
from ..models import Case
from ..routing import Kind
from ..services import Services
from .forms import MessageForm
from .texts import message_rejection_text
from .texts import places_summary


@dataclass(frozen=True)
class PlaceInFull:
    """A place as it was given: shown only when the reader asks to see it, on their screen."""

    kind: Kind
    value: str
    platform: str | None
    note: str | None


def places_in_full(services: Services, case: Case) -> dict[int, PlaceInFull]:
    """Every place of the case opened, by location id."""
    cipher = services.cipher
    return {
        row.id: PlaceInFull(
            kind=row.kind,
            value=cipher.open(row.value_sealed, "location.value"),
            platform=cipher.open(row.platform_sealed, "location.platform")
            if row.platform_sealed
            else None,
            note=cipher.open(row.note_sealed, "location.note") if row.note_sealed else None,
        )
        for row in case.locations
    }


def handoff_summaries(view: CaseView, places: dict[int, PlaceInFull]) -> dict[int, str]:
    """For each referral to a hotline that is not connected: its places as text to paste into
    that hotline's own reporting form, by referral id."""
    return {
        referral.id: places_summary(
            [
                (place.kind, place.value, place.platform, place.note)
                for place in (places[i] for i in referral.location_ids if i in places)
            ]
        )
        for referral in view.referrals
        if not referral.connected
    }


def shown_places(services: Services, case: Case, view: CaseView) -> dict[str, object]:
    """What a case's page shows besides the view: the places in full (behind "Show") and the
    summaries for the hotlines that are not connected."""
    places = places_in_full(services, case)
    return {"places": places, "summaries": handoff_summaries(view, places)}


def message_form_for(view: CaseView) -> MessageForm:
    """The message form of a case's page, offering the case's connected hotlines to write to:
    nobody would read a message to one that is not connected."""
    form = MessageForm()
    form.referral.choices = [
        (r.id, r.hotline.name if r.hotline else r.hotline_id) for r in view.referrals if r.connected
    ]
    return form


def send_message(form: MessageForm, case: Case, *, advocate: Account | None = None) -> bool:
    """Send what the form holds to the hotline (from the survivor, or from an advocate with
    access). False, with the reason on the form, when it cannot be sent."""
    if not form.validate_on_submit():
        return False
    offered = [choice[0] for choice in form.referral.choices or []]
    chosen = form.referral.data or None
    try:
        if not offered:
            raise MessageRejected("not_connected")
        if chosen is None and len(offered) == 1:
            chosen = offered[0]
        if chosen is not None and chosen not in offered:
            raise MessageRejected("unknown_referral")
        post_survivor_message(
            db.session,
            current_services(),
            case,
            form.body.data or "",
            chosen,
            advocate=advocate,
        )
    except MessageRejected as rejected:
        form.body.errors = [message_rejection_text(rejected.code, rejected.params)]
        return False
    flash(_("Your message was sent."))
    return True
