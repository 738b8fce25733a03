# ruff: noqa: E501  (one row a line reads best as a table)
"""Where real-looking places go with the shipped directory: every kind, IDN hosts, subdomains,
upper case, ports, user info, IP addresses, onion v3, magnet links, shorteners, platforms named
for accounts and groups, unknown hosts with and without the survivor's country.

Each row: kind, what was typed, platform named, survivor's country, expected hotline, expected
reason codes. A change to the shipped data that moves a row must be a deliberate one.
"""

from __future__ import annotations

import pytest

from assistant.routing import Directory
from assistant.routing import load_directory
from assistant.routing import normalise_location
from assistant.routing import route_location

ONION = "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion"
MAGNET = "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=file"

# fmt: off
TABLE = [
    ('url', 'https://x.com/someone/status/1', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://twitter.com/someone', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://mobile.twitter.com/someone', None, 'FR', 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://t.co/AbCdEf', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://i.imgur.com/abc.jpg', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'imgur.com/gallery/xyz', None, 'DE', 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'HTTPS://WWW.INSTAGRAM.COM/p/abc/', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://scontent.cdninstagram.com/v/abc.jpg', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://www.facebook.com/groups/123', None, 'GB', 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://m.facebook.com/profile.php?id=1', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://fb.watch/abc/', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://www.reddit.com/r/something/comments/1', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://old.reddit.com/u/someone', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://t.me/somechannel', None, None, 'cybertip_ca', 'known_provider no_hotline_in_country fallback'),
    ('url', 'https://telegram.me/joinchat/abc', None, None, 'cybertip_ca', 'known_provider no_hotline_in_country fallback'),
    ('url', 'https://discord.gg/abc123', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://cdn.discordapp.com/attachments/1/2/a.png', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://www.youtube.com/watch?v=abc', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://youtu.be/abc', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://vimeo.com/12345', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://www.dailymotion.com/video/x1', None, None, 'point_de_contact_fr', 'known_provider country_hotline'),
    ('url', 'https://mega.nz/file/abc#key', None, None, 'netsafe_nz', 'known_provider country_hotline'),
    ('url', 'https://mega.co.nz/#!abc', None, None, 'netsafe_nz', 'known_provider country_hotline'),
    ('url', 'https://www.mediafire.com/file/abc/f.zip', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://www.dropbox.com/s/abc/f.zip?dl=0', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://dl.dropboxusercontent.com/s/abc', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://drive.google.com/file/d/abc/view', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://lh3.googleusercontent.com/abc', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://www.google.com/search?q=x', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://1drv.ms/u/s!abc', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://www.pornhub.com/view_video.php?viewkey=1', None, None, 'cybertip_ca', 'known_provider no_hotline_in_country fallback'),
    ('url', 'https://www.xvideos.com/video1/x', None, None, 'stoponline_cz', 'known_provider country_hotline'),
    ('url', 'https://xhamster.com/videos/x', None, None, 'cybertip_ca', 'known_provider no_hotline_in_country fallback'),
    ('url', 'https://onlyfans.com/someone', None, None, 'iwf_gb', 'known_provider country_hotline'),
    ('url', 'https://boards.4chan.org/b/thread/1', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://vk.com/id1', None, None, 'cybertip_ca', 'known_provider no_hotline_in_country fallback'),
    ('url', 'https://ok.ru/profile/1', None, None, 'cybertip_ca', 'known_provider no_hotline_in_country fallback'),
    ('url', 'https://www.tiktok.com/@someone/video/1', None, None, 'cybertip_ca', 'provider_country_unknown generic_domain fallback'),
    ('url', 'https://www.tiktok.com/@someone/video/1', None, 'IE', 'hotline_ie', 'provider_country_unknown generic_domain survivor_country'),
    ('url', 'https://www.snapchat.com/add/someone', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://www.pinterest.com/pin/1', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://someone.tumblr.com/post/1', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://www.twitch.tv/someone', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://www.bing.com/images/search?q=x', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://yandex.ru/images/', None, None, 'cybertip_ca', 'known_provider no_hotline_in_country fallback'),
    ('url', 'https://disk.yandex.ru/d/abc', None, None, 'cybertip_ca', 'known_provider no_hotline_in_country fallback'),
    ('url', 'https://wetransfer.com/downloads/abc', None, None, 'offlimits_nl', 'known_provider country_hotline'),
    ('url', 'https://we.tl/t-abc', None, None, 'offlimits_nl', 'known_provider country_hotline'),
    ('url', 'https://gofile.io/d/abc', None, None, 'point_de_contact_fr', 'known_provider country_hotline'),
    ('url', 'https://www.flickr.com/photos/someone/1', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://bsky.app/profile/someone', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://wa.me/123', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://chat.whatsapp.com/abc', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://bucket.s3.amazonaws.com/file.jpg', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://pub-abc.r2.dev/a.jpg', None, None, 'ncmec_us', 'known_provider country_hotline'),
    ('url', 'https://bit.ly/3abcDEF', None, None, 'ncmec_us', 'shortener known_provider country_hotline'),
    ('url', 'http://j.mp/abc', None, None, 'ncmec_us', 'shortener known_provider country_hotline'),
    ('url', 'https://tinyurl.com/abc', None, None, 'ncmec_us', 'shortener known_provider country_hotline'),
    ('url', 'https://cutt.ly/abc', None, None, 'dyzurnet_pl', 'shortener known_provider country_hotline'),
    ('url', 'https://ow.ly/abc', None, None, 'cybertip_ca', 'shortener known_provider country_hotline'),
    ('url', 'https://rebrand.ly/abc', None, 'IE', 'cybertip_ca', 'provider_country_unknown country_code_domain no_hotline_in_country fallback'),
    ('url', 'https://example.de/a', None, None, 'eco_de', 'country_code_domain country_hotline'),
    ('url', 'https://www.example.fr/a', None, 'IE', 'point_de_contact_fr', 'country_code_domain country_hotline'),
    ('url', 'https://example.co.uk/a', None, None, 'iwf_gb', 'country_code_domain country_hotline'),
    ('url', 'https://sub.example.org.uk/a', None, None, 'iwf_gb', 'country_code_domain country_hotline'),
    ('url', 'https://example.ie/a', None, None, 'hotline_ie', 'country_code_domain country_hotline'),
    ('url', 'https://example.nl/a', None, None, 'offlimits_nl', 'country_code_domain country_hotline'),
    ('url', 'https://example.jp/a', None, None, 'ihc_jp', 'country_code_domain country_hotline'),
    ('url', 'https://example.com.br/a', None, None, 'safernet_br', 'country_code_domain country_hotline'),
    ('url', 'https://example.com.au/a', None, None, 'esafety_au', 'country_code_domain country_hotline'),
    ('url', 'https://example.ca/a', None, None, 'cybertip_ca', 'country_code_domain country_hotline'),
    ('url', 'https://example.at/a', None, None, 'stopline_at', 'country_code_domain country_hotline'),
    ('url', 'https://example.be/a', None, None, 'child_focus_be', 'country_code_domain country_hotline'),
    ('url', 'https://example.pl/a', None, None, 'dyzurnet_pl', 'country_code_domain country_hotline'),
    ('url', 'https://example.kr/a', None, None, 'kcsc_kr', 'country_code_domain country_hotline'),
    ('url', 'https://example.za/a', None, None, 'fpb_za', 'country_code_domain country_hotline'),
    ('url', 'https://example.es/a', None, None, 'incibe_es', 'country_code_domain country_hotline'),
    ('url', 'https://example.it/a', None, None, 'stop_it_it', 'country_code_domain country_hotline'),
    ('url', 'https://example.us/a', None, None, 'ncmec_us', 'country_code_domain country_hotline'),
    ('url', 'https://example.ac/a', None, None, 'cybertip_ca', 'country_code_domain no_hotline_in_country fallback'),
    ('url', 'https://example.ru/a', None, None, 'cybertip_ca', 'country_code_domain no_hotline_in_country fallback'),
    ('url', 'https://example.ru/a', None, 'FR', 'cybertip_ca', 'country_code_domain no_hotline_in_country fallback'),
    ('url', 'https://example.kz/a', None, None, 'cybertip_ca', 'country_code_domain no_hotline_in_country fallback'),
    ('url', 'https://EXAMPLE.SE:8443/a', None, None, 'ecpat_se', 'country_code_domain country_hotline'),
    ('url', 'https://user:pass@example.fi/a', None, None, 'nettivihje_fi', 'country_code_domain country_hotline'),
    ('url', 'https://example.fi./a', None, None, 'nettivihje_fi', 'country_code_domain country_hotline'),
    ('url', 'https://пример.рф/a', None, None, 'cybertip_ca', 'country_code_domain no_hotline_in_country fallback'),
    ('url', 'https://example.xn--p1ai/a', None, None, 'cybertip_ca', 'country_code_domain no_hotline_in_country fallback'),
    ('url', 'https://例子.中国/a', None, None, 'cybertip_ca', 'country_code_domain no_hotline_in_country fallback'),
    ('url', 'https://例子.香港/a', None, None, 'cybertip_ca', 'country_code_domain no_hotline_in_country fallback'),
    ('url', 'https://예시.한국/a', None, None, 'kcsc_kr', 'country_code_domain country_hotline'),
    ('url', 'https://مثال.السعودية/a', None, None, 'cybertip_ca', 'country_code_domain no_hotline_in_country fallback'),
    ('url', 'https://bücher.de/a', None, None, 'eco_de', 'country_code_domain country_hotline'),
    ('url', 'https://xn--bcher-kva.de/a', None, None, 'eco_de', 'country_code_domain country_hotline'),
    ('url', 'https://münchen.example.com/a', None, None, 'cybertip_ca', 'generic_domain fallback'),
    ('url', 'https://münchen.example.com/a', None, 'DE', 'eco_de', 'generic_domain survivor_country'),
    ('url', 'https://example.com/a', None, None, 'cybertip_ca', 'generic_domain fallback'),
    ('url', 'https://example.com/a', None, 'NL', 'offlimits_nl', 'generic_domain survivor_country'),
    ('url', 'https://example.org/a', None, 'JP', 'ihc_jp', 'generic_domain survivor_country'),
    ('url', 'https://example.net/a', None, 'ZW', 'cybertip_ca', 'generic_domain no_hotline_in_country fallback'),
    ('url', 'https://example.eu/a', None, 'BE', 'child_focus_be', 'generic_domain survivor_country'),
    ('url', 'https://example.io/a', None, None, 'cybertip_ca', 'generic_country_code fallback'),
    ('url', 'https://example.tv/a', None, 'GB', 'iwf_gb', 'generic_country_code survivor_country'),
    ('url', 'https://example.co/a', None, None, 'cybertip_ca', 'generic_country_code fallback'),
    ('url', 'https://example.me/a', None, 'IE', 'hotline_ie', 'generic_country_code survivor_country'),
    ('url', 'https://example.xyz/a', None, None, 'cybertip_ca', 'generic_domain fallback'),
    ('url', 'http://192.0.2.1/a', None, None, 'cybertip_ca', 'ip_address fallback'),
    ('url', 'http://192.0.2.1:8080/a', None, 'FR', 'point_de_contact_fr', 'ip_address survivor_country'),
    ('url', 'http://[2001:db8::1]/a', None, None, 'cybertip_ca', 'ip_address fallback'),
    ('url', f'http://{ONION}/', None, None, 'cybertip_ca', 'dark_web'),
    ('url', f'http://forum.{ONION}/t/1', None, 'DE', 'cybertip_ca', 'kind_not_accepted dark_web'),
    ('group', f'http://{ONION}/board', None, 'GB', 'cybertip_ca', 'kind_not_accepted dark_web'),
    ('url', f'{MAGNET}', None, None, 'cybertip_ca', 'peer_to_peer'),
    ('p2p', f'{MAGNET}', None, 'GR', 'safeline_gr', 'peer_to_peer'),
    ('p2p', 'ed2k://|file|name.avi|123|ABC|/', None, None, 'cybertip_ca', 'peer_to_peer'),
    ('p2p', 'holiday_2009_video.avi', None, 'IT', 'stop_it_it', 'peer_to_peer'),
    ('account', '@someone', 'Instagram', None, 'ncmec_us', 'named_platform known_provider country_hotline'),
    ('account', 'someone', 'Insta', None, 'ncmec_us', 'named_platform known_provider country_hotline'),
    ('account', 'someone', 'IG', 'DE', 'ncmec_us', 'named_platform known_provider country_hotline'),
    ('account', 'someone', 'twitter', None, 'ncmec_us', 'named_platform known_provider country_hotline'),
    ('account', 'someone', 'X', None, 'ncmec_us', 'named_platform known_provider country_hotline'),
    ('account', 'someone', 'x.com', None, 'ncmec_us', 'named_platform known_provider country_hotline'),
    ('group', 'Some group', 'Telegram', None, 'cybertip_ca', 'named_platform known_provider no_hotline_in_country fallback'),
    ('group', 'Some group', 'telegram', 'IE', 'cybertip_ca', 'named_platform known_provider no_hotline_in_country fallback'),
    ('group', 'server name', 'Discord', None, 'ncmec_us', 'named_platform known_provider country_hotline'),
    ('account', 'someone', 'Snap', None, 'ncmec_us', 'named_platform known_provider country_hotline'),
    ('account', 'someone', 'ВКонтакте', None, 'cybertip_ca', 'named_platform known_provider no_hotline_in_country fallback'),
    ('account', 'someone', 'OnlyFans', None, 'iwf_gb', 'named_platform known_provider country_hotline'),
    ('account', 'someone', 'MEGA', None, 'netsafe_nz', 'named_platform known_provider country_hotline'),
    ('account', 'someone', 'Mastodon.social', None, 'eco_de', 'named_platform known_provider country_hotline'),
    ('account', 'someone', 'TikTok', None, 'cybertip_ca', 'named_platform provider_country_unknown fallback'),
    ('account', 'someone', 'TikTok', 'FR', 'point_de_contact_fr', 'named_platform provider_country_unknown survivor_country'),
    ('account', 'someone', 'Some Unknown App', None, 'cybertip_ca', 'platform_not_known no_address fallback'),
    ('account', 'someone', 'Some Unknown App', 'NL', 'offlimits_nl', 'platform_not_known no_address survivor_country'),
    ('account', 'someone', None, None, 'cybertip_ca', 'no_address fallback'),
    ('account', 'someone', None, 'AU', 'esafety_au', 'no_address survivor_country'),
    ('account', 'https://www.instagram.com/someone', 'Facebook', None, 'ncmec_us', 'known_provider country_hotline'),
    ('account', 'https://example.de/user/1', None, None, 'eco_de', 'country_code_domain country_hotline'),
    ('group', 'https://chat.whatsapp.com/abc', 'WhatsApp', None, 'ncmec_us', 'known_provider country_hotline'),
    ('other', 'A file called holiday.jpg', None, None, 'cybertip_ca', 'no_address fallback'),
    ('other', 'A file called holiday.jpg', None, 'CA', 'cybertip_ca', 'no_address survivor_country'),
    ('other', 'example.co.uk/page', None, None, 'iwf_gb', 'country_code_domain country_hotline'),
    ('account', 'https://someone.example.ru/x', 'Instagram', None, 'cybertip_ca', 'country_code_domain no_hotline_in_country fallback'),
    ('url', 'http://192.0.2.7/x', None, 'DE', 'eco_de', 'ip_address survivor_country'),
    ('url', 'https://example.xn--mgbbh1a/a', None, None, 'iwf_portal_in', 'country_code_domain country_hotline'),
    ('url', 'https://example.भारत/a', None, None, 'iwf_portal_in', 'country_code_domain country_hotline'),
    # Issue 19: the hotlines added (Moldova, Ukraine, Cambodia, the IWF's portal for Argentina),
    # by the address and by where the survivor lives.
    ('url', 'https://forum.example.md/t/1', None, None, 'siguronline_md', 'country_code_domain country_hotline'),
    ('url', 'https://example.com/x', None, 'MD', 'siguronline_md', 'generic_domain survivor_country'),
    ('url', 'https://site.com.ua/x', None, None, 'stopcrime_ua', 'country_code_domain country_hotline'),
    ('account', 'https://example.com/u/1', None, 'UA', 'stopcrime_ua', 'generic_domain survivor_country'),
    ('url', 'https://example.kh/a', None, None, 'aple_kh', 'country_code_domain country_hotline'),
    ('url', 'https://foro.example.com.ar/1', None, None, 'iwf_portal_ar', 'country_code_domain country_hotline'),
    # Cyprus, decided in issue 19: no current INHOPE hotline was confirmed there, so the large
    # adult sites established in Cyprus, and Cypriot addresses, still go to the fallback.
    ('url', 'https://stripchat.com/someone', None, None, 'cybertip_ca', 'known_provider no_hotline_in_country fallback'),
    ('url', 'https://xhamster.com/videos/x', None, None, 'cybertip_ca', 'known_provider no_hotline_in_country fallback'),
    ('url', 'https://www.youporn.com/watch/1', None, None, 'cybertip_ca', 'known_provider no_hotline_in_country fallback'),
    ('url', 'https://example.cy/x', None, None, 'cybertip_ca', 'country_code_domain no_hotline_in_country fallback'),
    ('url', 'https://example.com/x', None, 'CY', 'cybertip_ca', 'generic_domain no_hotline_in_country fallback'),
]
# fmt: on


@pytest.fixture(scope="module")
def shipped() -> Directory:
    return load_directory()


def test_the_table_is_large_and_covers_every_kind() -> None:
    assert len(TABLE) >= 100
    assert {row[0] for row in TABLE} == {"url", "account", "group", "p2p", "other"}


@pytest.mark.parametrize(("kind", "typed", "platform", "country", "hotline", "codes"), TABLE)
def test_place_goes_to_the_expected_hotline_for_the_expected_reasons(
    shipped: Directory,
    kind: str,
    typed: str,
    platform: str | None,
    country: str | None,
    hotline: str,
    codes: str,
) -> None:
    location = normalise_location(kind, typed, platform=platform)
    decision = route_location(location, shipped, survivor_country=country)
    assert (decision.hotline.id, " ".join(r.code for r in decision.reasons)) == (hotline, codes)
