"""A form sent again after its request was erased is answered "This request was erased".

Erasing ends the session and asks the browser to forget the site (Clear-Site-Data), so the erase
form sent again afterwards (the page that said "erased" reloaded, or Back then Forward) arrives
without a session and fails its CSRF check: it used to get "Something went wrong". A cookie set at
erase time cannot tell it apart, because the same Clear-Site-Data clears it, and anything kept
on the server would outlive the erasure. So the erase form carries the proof itself: the case's
id and the time, sealed (a reader of the page learns nothing from it). A refused form with a fresh
proof whose case is gone was that request's, and the request was erased. Without one (a random
post, a form whose sign-in only expired and whose request still exists), the usual answer stands:
nothing here tells anyone that a request existed.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json

from sqlalchemy.orm import Session

from ..crypto import DecryptionError
from ..crypto import FieldCipher
from ..models import Case
from ..models import utcnow

# The erase form's hidden field that carries the proof.
PROOF_FIELD = "erasing"
CONTEXT = "web.erasure-proof"
# As long as a form's CSRF token lasts: an older page is not answered about its request.
VALID_FOR = dt.timedelta(hours=1)
# A sealed id and time, base64: a few hundred characters. Anything longer is not a proof.
MAX_LENGTH = 512


def erasure_proof(cipher: FieldCipher, case_id: int, *, now: dt.datetime | None = None) -> str:
    """The proof for a signed-in survivor's erase form: their case's id and the time, sealed."""
    made = int((now or utcnow()).replace(tzinfo=dt.UTC).timestamp())
    sealed = cipher.seal(json.dumps({"case": case_id, "at": made}), CONTEXT)
    return base64.urlsafe_b64encode(sealed).decode("ascii")


def erased_case_behind(
    db: Session, cipher: FieldCipher, proof: str, *, now: dt.datetime | None = None
) -> bool:
    """Whether ``proof`` was made for a case, within :data:`VALID_FOR`, that no longer exists."""
    if not proof or len(proof) > MAX_LENGTH:
        return False
    try:
        opened = json.loads(cipher.open(base64.urlsafe_b64decode(proof), CONTEXT))
        case_id, made = int(opened["case"]), int(opened["at"])
    except (binascii.Error, DecryptionError, ValueError, TypeError, KeyError):
        return False
    age = int((now or utcnow()).replace(tzinfo=dt.UTC).timestamp()) - made
    if not 0 <= age <= VALID_FOR.total_seconds():
        return False
    return db.get(Case, case_id) is None
