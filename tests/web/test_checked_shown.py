"""The pages say which directory entries no person at the service has confirmed, and (the
hotlines page) when their sources were last read (issue 19)."""

from __future__ import annotations

import json

from assistant.routing.directory import DATA_DIR


def test_each_support_entry_says_it_is_not_yet_confirmed(client):
    page = client.get("/support?country=IE&lang=en").get_data(as_text=True)
    shipped = json.loads((DATA_DIR / "resources.json").read_text("utf-8"))["resources"]
    # Ireland's entries, and those that help wherever one is: none confirmed by a person yet.
    shown = [e for e in shipped if e["country"] in ("IE", None)]
    assert all(e["verified_on"] is None and e.get("checked_on") for e in shown)
    entries = page.count('<li class="resource">')
    assert entries >= 6
    assert page.count("Not yet confirmed by the service itself.") == entries


def test_each_hotline_says_when_its_sources_were_last_read(client):
    page = client.get("/hotlines?lang=en").get_data(as_text=True)
    hotlines = json.loads((DATA_DIR / "hotlines.json").read_text("utf-8"))["hotlines"]
    checked = [h for h in hotlines if h.get("checked_on")]
    assert checked
    assert page.count("<dt>Sources last read</dt>") == len(checked)
