"""What the survivor's status page and an advocate's case page share: writing to the hotline."""

from __future__ import annotations

from flask import flash
from flask_babel import gettext as _

from ..cases.status import CaseView
from ..cases.status import MessageRejected
from ..cases.status import post_survivor_message
from ..extensions import current_services
from ..extensions import db
from ..models import Account
from ..models import Case
from .forms import MessageForm
from .texts import message_rejection_text


def message_form_for(view: CaseView) -> MessageForm:
    """The message form of a case's page, offering the case's hotlines to write to."""
    form = MessageForm()
    form.referral.choices = [
        (r.id, r.hotline.name if r.hotline else r.hotline_id) for r in view.referrals
    ]
    return form


def send_message(form: MessageForm, case: Case, *, advocate: Account | None = None) -> bool:
    """Send what the form holds to the hotline (from the survivor, or from an advocate with
    access). False, with the reason on the form, when it cannot be sent."""
    if not form.validate_on_submit():
        return False
    try:
        post_survivor_message(
            db.session,
            current_services(),
            case,
            form.body.data or "",
            form.referral.data or None,
            advocate=advocate,
        )
    except MessageRejected as rejected:
        form.body.errors = [message_rejection_text(rejected.code, rejected.params)]
        return False
    flash(_("Your message was sent."))
    return True
