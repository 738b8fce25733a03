"""The pages around notices the app sends: the analyst composes, previews and sends one from the
workbench; the provider answers through the signed link in it; the survivor reads each step in
plain words. Real SMTP on loopback; the link's page is public and rate-limited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from assistant.extensions import Database
from assistant.hotline.notice_mail import link_token
from assistant.models import Location
from assistant.models import NoticeLetter
from assistant.models import OutboxItem
from assistant.models import Referral
from assistant.models import today
from assistant.vocabulary import LocationStatus
from tests.hotline.delivery_support import TlsFiles
from tests.hotline.delivery_support import make_certificates
from tests.hotline.notice_support import HOST_INBOX
from tests.hotline.notice_support import NoticeWorld
from tests.hotline.notice_support import notice_world

HOST_LINK = "https://filebox-test.ie/f/4711-holiday"
SECOND_LINK = "https://filebox-test.ie/f/4712-beach"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def world(database_url: str, tmp_path: Path, tls: TlsFiles) -> Iterator[NoticeWorld]:
    with notice_world(database_url, tmp_path, tls) as built:
        built.analyst.sign_in()
        yield built


def version(world: NoticeWorld, referral_id: int) -> int:
    with world.session() as db:
        return db.get(Referral, referral_id).version


def compose(world: NoticeWorld, referral_id: int, ids: list[int], **fields: Any) -> Any:
    return world.analyst.post(
        f"/hotline/referrals/{referral_id}/notice",
        {
            "notice-version": version(world, referral_id),
            "notice-places": ids,
            "notice-provider": "filebox_test",
            "notice-recipient": HOST_INBOX,
            "notice-notice_type": "csam",
            **{f"notice-{name}": value for name, value in fields.items()},
        },
    )


def preview_and_send(world: NoticeWorld, referral_id: int, ids: list[int]) -> int:
    preview = compose(world, referral_id, ids, do="preview")
    assert preview.status_code == 200
    seen = re.search(r'name="notice-seen" type="hidden" value="([0-9a-f]{64})"', preview.text)
    assert seen, "the preview carries a digest of what was read"
    sent = compose(world, referral_id, ids, do="send", seen=seen.group(1))
    assert sent.status_code == 303, sent.text
    with world.session() as db:
        return db.scalars(select(NoticeLetter.id).order_by(NoticeLetter.id.desc())).first()


def test_the_analyst_previews_then_sends_and_the_referral_page_shows_the_chase(world):
    _survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK, SECOND_LINK)
    page = world.analyst.client.get(f"/hotline/referrals/{referral_id}").text
    assert "Write a notice to Filebox Test (2 places)" in page
    form = world.analyst.client.get(
        f"/hotline/referrals/{referral_id}/notice?places={ids[0]}&places={ids[1]}"
        "&provider=filebox_test"
    )
    assert form.status_code == 200
    assert f'value="{HOST_INBOX}"' in form.text
    assert f'href="{HOST_LINK}"' not in form.text

    preview = compose(world, referral_id, ids, do="preview")
    assert "Notice type 1: child sexual abuse material." in preview.text
    assert HOST_LINK in preview.text and SECOND_LINK in preview.text
    with world.session() as db:
        assert db.scalars(select(OutboxItem)).all() == []  # a preview sends nothing

    letter_id = preview_and_send(world, referral_id, ids)
    page = world.analyst.client.get(f"/hotline/referrals/{referral_id}").text
    assert f"Notice RRA-N{letter_id} is on its way." in page
    assert "chased by the app" in page
    assert world.deliver().sent == 1
    assert [m.rcpt_tos for m in world.mailbox.messages] == [[HOST_INBOX]]


def test_sending_without_reading_the_preview_sends_nothing(world):
    _survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
    response = compose(world, referral_id, ids, do="send", seen="0" * 64)
    assert response.status_code == 409
    assert "The notice changed since your preview." in response.text
    with world.session() as db:
        assert db.scalars(select(OutboxItem)).all() == []
        assert db.get(Location, ids[0]).status == LocationStatus.WITH_HOTLINE


def test_the_provider_answers_removed_and_the_survivor_reads_it_in_two_languages(world):
    survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
    letter_id = preview_and_send(world, referral_id, ids)
    provider = world.app.test_client()
    link = f"/notice/{link_token(world.services, letter_id)}"
    page = provider.get(link)
    assert page.status_code == 200
    assert HOST_LINK in page.text and f'href="{HOST_LINK}"' not in page.text
    assert f"RRA-N{letter_id}" in page.text and "Hotline.ie" in page.text
    assert "my school photo" not in page.text  # nothing about the survivor
    [notice_id] = re.findall(r'name="answer-([0-9]+)"', page.text)[:1]
    answered = provider.post(
        link,
        data={
            f"answer-{notice_id}": "removed",
            f"on-{notice_id}": today().isoformat(),
        },
    )
    assert answered.status_code == 303
    after = provider.get(link)
    assert "Nothing more is needed" in after.text
    assert "Thank you. Your answer for 1 place was recorded" in after.text

    english = survivor.client.get("/my-request?lang=en").text
    assert "The site says it was removed" in english
    french = survivor.client.get("/my-request?lang=fr").text
    assert "Le site indique avoir retiré le contenu" in french
    assert "The site says it was removed" not in french

    replay = provider.post(
        link,
        data={
            f"answer-{notice_id}": "refused",
            f"text-{notice_id}": "changed our mind",
        },
    )
    assert replay.status_code == 200 and "Nothing more is needed" in replay.text
    with world.session() as db:
        assert db.get(Location, ids[0]).status == LocationStatus.REMOVED


def test_forged_and_expired_links_get_a_clear_page_and_change_nothing(world):
    _survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
    letter_id = preview_and_send(world, referral_id, ids)
    provider = world.app.test_client()
    token = link_token(world.services, letter_id)
    forged = provider.get(f"/notice/{token[:-3]}abc")
    assert forged.status_code == 404 and "This link does not work" in forged.text
    assert provider.get("/notice/" + "x" * 500).status_code == 404
    with Database.new_session(world.app) as db:
        letter = db.get(NoticeLetter, letter_id)
        letter.last_sent_on = letter.last_sent_on.replace(year=letter.last_sent_on.year - 1)
        db.commit()
    expired = provider.get(f"/notice/{token}")
    assert expired.status_code == 410 and "This link has expired" in expired.text
    with world.session() as db:
        assert db.get(Location, ids[0]).status == LocationStatus.NOTICE_SENT


def test_an_answer_the_page_cannot_take_is_refused_kindly_and_records_nothing(world):
    _survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
    letter_id = preview_and_send(world, referral_id, ids)
    provider = world.app.test_client()
    link = f"/notice/{link_token(world.services, letter_id)}"
    [notice_id] = re.findall(r'name="answer-([0-9]+)"', provider.get(link).text)[:1]
    for fields, words in (
        ({}, "Choose an answer for at least one place."),
        ({f"answer-{notice_id}": "refused"}, "Say why you will not remove it."),
        ({f"answer-{notice_id}": "removed", f"on-{notice_id}": "2001-01-01"}, "between"),
        ({f"answer-{notice_id}": "delete-everything"}, "Choose one of the answers offered."),
    ):
        response = provider.post(link, data=fields)
        assert response.status_code == 422, fields
        assert words in response.text
    with world.session() as db:
        assert db.get(Location, ids[0]).status == LocationStatus.NOTICE_SENT


def test_answers_through_a_link_are_rate_limited(database_url, tmp_path, tls):
    with notice_world(
        database_url, tmp_path, tls, ratelimit_enabled=True, ratelimit_provider="2 per minute"
    ) as world:
        world.analyst.sign_in()
        _survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK)
        letter_id = preview_and_send(world, referral_id, ids)
        provider = world.app.test_client()
        link = f"/notice/{link_token(world.services, letter_id)}"
        statuses = [provider.post(link, data={}).status_code for _ in range(3)]
        assert statuses == [422, 422, 429]
        with world.session() as db:
            assert db.get(Location, ids[0]).status == LocationStatus.NOTICE_SENT


def test_published_figures_name_only_providers_the_directory_names(database_url, tmp_path, tls):
    with notice_world(database_url, tmp_path, tls, publish_provider_figures=True) as world:
        world.analyst.sign_in()
        _survivor, _receipt, referral_id, ids = world.file_and_assess(HOST_LINK, SECOND_LINK)
        preview_and_send(world, referral_id, ids[:1])
        sent = world.analyst.post(
            f"/hotline/referrals/{referral_id}/notice",
            {
                "notice-version": version(world, referral_id),
                "notice-places": ids[1:],
                "notice-provider_name": "Tiny Private Host",
                "notice-recipient": "abuse@tiny-host.example",
                "notice-notice_type": "csam",
                "notice-do": "preview",
            },
        )
        seen = re.search(r'name="notice-seen" type="hidden" value="([0-9a-f]{64})"', sent.text)
        assert seen
        world.analyst.post(
            f"/hotline/referrals/{referral_id}/notice",
            {
                "notice-version": version(world, referral_id),
                "notice-places": ids[1:],
                "notice-provider_name": "Tiny Private Host",
                "notice-recipient": "abuse@tiny-host.example",
                "notice-notice_type": "csam",
                "notice-do": "send",
                "notice-seen": seen.group(1),
            },
        )
        page = world.app.test_client().get("/figures")
        assert page.status_code == 200
        assert "Filebox Test" in page.text
        assert "Other providers (counted together)" in page.text
        assert "Tiny Private Host" not in page.text


def test_figures_are_not_published_unless_the_service_chose_to(world):
    assert world.app.test_client().get("/figures").status_code == 404
