"""A hotline's own case system, in miniature: how it works with the Removal Request Assistant.

It keeps its place in the assistant's changes feed, takes on each new referral (acknowledges it,
so the survivor sees that the hotline has it), records an analyst's assessment, and checks the
webhooks the assistant sends. Only the Python standard library, plus ``standardwebhooks`` (the
Standard Webhooks reference verifier, ``pip install standardwebhooks``) for the webhooks.

    ASSISTANT_URL=https://assistant.example ASSISTANT_KEY=rra_... python hotline_client.py

Every call carries the hotline's API key; every action carries the version the system read and
an Idempotency-Key, so a call retried after a timeout never acts twice. The cursor is saved only
after a page is handled, so a crash means a page is handled again, never skipped.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from standardwebhooks import Webhook


class ApiError(Exception):
    def __init__(self, status: int, error: dict[str, Any]) -> None:
        super().__init__(f"{status} {error.get('code')}: {error.get('message')}")
        self.status, self.code = status, error.get("code")


class Assistant:
    """The hotline systems API (``/api/v1/hotline/``)."""

    def __init__(self, base_url: str, key: str) -> None:
        self.base = base_url.rstrip("/") + "/api/v1/hotline"
        self.key = key

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.key}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
            headers["Idempotency-Key"] = str(uuid.uuid4())
        if not self.base.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError("the key only ever travels over https://")
        request = urllib.request.Request(self.base + path, data, headers, method=method)  # noqa: S310
        for _attempt in range(3):  # the same Idempotency-Key on every try
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (checked)
                    return json.loads(answer.read())
            except urllib.error.HTTPError as failed:
                raise ApiError(failed.code, json.loads(failed.read())["error"]) from None
            except (TimeoutError, urllib.error.URLError):
                continue
        raise ConnectionError("the assistant did not answer")

    def changes(self, after: str | None) -> dict[str, Any]:
        query = f"?after={urllib.parse.quote(after)}" if after else ""
        return self.call("GET", f"/referrals{query}")  # type: ignore[no-any-return]

    def referral(self, reference: str) -> dict[str, Any]:
        return self.call("GET", f"/referrals/{reference}")  # type: ignore[no-any-return]

    def act(self, reference: str, action: str, version: int, **fields: Any) -> dict[str, Any]:
        body = {"action": action, "version": version, **fields}
        return self.call("POST", f"/referrals/{reference}/actions", body)  # type: ignore[no-any-return]


def sync(assistant: Assistant, cursor_file: Path, cases: dict[str, dict[str, Any]]) -> int:
    """Read every change since the saved cursor into ``cases`` (the system's own records, by
    reporting reference); acknowledge what is new. Returns how many changes it read."""
    after = cursor_file.read_text().strip() if cursor_file.exists() else None
    read = 0
    while True:
        page = assistant.changes(after)
        for entry in page["referrals"]:
            reference = entry["reporting_reference"]
            read += 1
            if entry["state"] in ("withdrawn", "expired"):
                cases.pop(reference, None)  # the survivor withdrew it: stop work, keep nothing
                continue
            referral = assistant.referral(reference)
            if referral["state"] in ("withdrawn", "expired"):
                cases.pop(reference, None)  # gone since this page was read
                continue
            if referral["allowed_actions"]["acknowledge"]:
                try:
                    assistant.act(reference, "acknowledge", referral["version"])
                except ApiError as refused:
                    if refused.code != "version_conflict":
                        raise  # else someone took it on meanwhile: read it again below
                referral = assistant.referral(reference)
            cases[reference] = referral
        after = page["next"]
        cursor_file.write_text(after)  # only once the page is handled
        if not page["more"]:
            return read


def record_assessment(
    assistant: Assistant,
    cases: dict[str, dict[str, Any]],
    reference: str,
    assessment: str,
    subtype: str | None = None,
) -> None:
    """An analyst assessed every place of a referral in this system: tell the assistant."""
    referral = cases[reference]
    fields: dict[str, Any] = {"places": [p["id"] for p in referral["locations"]]}
    if subtype:
        fields["subtype"] = subtype
    try:
        assistant.act(reference, "assess", referral["version"], assessment=assessment, **fields)
    except ApiError as refused:
        if refused.code != "version_conflict":
            raise
        # Someone changed it meanwhile (in the portal?): read it again and let the analyst look.
    cases[reference] = assistant.referral(reference)


def webhook_event(secret: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """A webhook from the assistant, checked: raises if it is not genuine or is too old.
    ``secret``: the ``whsec_...`` form of the hotline's webhook secret."""
    event: dict[str, Any] = Webhook(secret).verify(body, headers)
    return event


if __name__ == "__main__":
    client = Assistant(os.environ["ASSISTANT_URL"], os.environ["ASSISTANT_KEY"])
    records: dict[str, dict[str, Any]] = {}
    count = sync(client, Path("assistant.cursor"), records)
    print(f"{count} changes read; {len(records)} referrals open here")
