"""Schemathesis hooks for .ci/schemathesis: a survivor's bearer token for the operations that need
one, and a hotline's API key (made by .ci/schemathesis) for the hotline systems API's. For the
token it files a throw-away request and signs in with its receipt; schemathesis asks again
whenever a call answers 401, because the run itself ends tokens (signing out, erasing the case,
putting a new passphrase in force)."""

from __future__ import annotations

import os
from typing import Any

import requests
import schemathesis

API = os.environ["SCHEMATHESIS_API"]
FILING = {"locations": [{"kind": "url", "value": "https://example.com/schemathesis"}]}


@schemathesis.auth()
class SurvivorToken:
    def get(self, case: Any, context: Any) -> str:
        receipt = requests.post(f"{API}/requests", json=FILING, timeout=10)
        receipt.raise_for_status()
        filed = receipt.json()
        session = requests.post(
            f"{API}/session",
            json={"case_number": filed["case_number"], "passphrase": filed["passphrase"]},
            timeout=10,
        )
        session.raise_for_status()
        token: str = session.json()["token"]
        return token

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = case.headers or {}
        # The hotline systems API takes a hotline's API key (made by .ci/schemathesis), not a
        # survivor's token.
        hotline = str(getattr(case, "path", "")).startswith("/hotline/")
        key = os.environ.get("SCHEMATHESIS_HOTLINE_KEY", "")
        case.headers["Authorization"] = f"Bearer {key if hotline else data}"
