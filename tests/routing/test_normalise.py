"""Turning what a person typed into a location: pure parsing, nothing is ever fetched."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from assistant.routing.normalise import Kind
from assistant.routing.normalise import LocationRejected
from assistant.routing.normalise import guess_kind
from assistant.routing.normalise import mask_location_for_display
from assistant.routing.normalise import normalise_location
from assistant.routing.normalise import registrable_domain

ONION_V3 = "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion"


def rejection_code(kind: str, value: str, **kwargs: object) -> str:
    with pytest.raises(LocationRejected) as caught:
        normalise_location(kind, value, **kwargs)  # type: ignore[arg-type]
    return caught.value.code


# --- links -------------------------------------------------------------------------------------


def test_host_is_lower_cased_but_path_keeps_its_case() -> None:
    location = normalise_location("url", "HTTPS://Example.COM/Path/Photo")
    assert location.kind == "url"
    assert location.host == "example.com"
    assert location.value == "https://example.com/Path/Photo"


def test_unicode_host_is_idna_encoded() -> None:
    location = normalise_location("url", "https://bücher.example/katalog")
    assert location.host == "xn--bcher-kva.example"
    assert location.value == "https://xn--bcher-kva.example/katalog"


def test_full_width_host_is_folded_to_the_same_host() -> None:
    full_width_example = "\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25"
    location = normalise_location("url", f"https://{full_width_example}.com/a")
    assert location.host == "example.com"
    assert location.canonical == normalise_location("url", "https://example.com/a").canonical


def test_look_alike_cyrillic_host_is_not_folded_into_the_latin_one() -> None:
    # \u0435 is CYRILLIC SMALL LETTER IE: a different site, so a different host.
    location = normalise_location("url", "https://\u0435xample.com/")
    assert location.host == "xn--xample-2of.com"
    assert location.host != "example.com"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
    ],
)
def test_default_port_is_dropped_and_other_ports_kept(text: str, value: str) -> None:
    assert normalise_location("url", text).value == value


def test_userinfo_is_kept_in_the_value_but_not_in_the_host() -> None:
    location = normalise_location("url", "https://someone:secret@Example.com/a")
    assert location.value == "https://someone:secret@example.com/a"
    assert location.host == "example.com"
    assert location.registrable_domain == "example.com"


def test_plain_fragment_is_dropped() -> None:
    location = normalise_location("url", "https://example.com/gallery#photo-3")
    assert location.value == "https://example.com/gallery"
    assert "#" not in location.canonical


@pytest.mark.parametrize("fragment", ["#!/page/42", "#/page/42"])
def test_fragment_that_names_a_page_is_kept(fragment: str) -> None:
    location = normalise_location("url", f"https://example.com/{fragment}")
    assert location.value == f"https://example.com/{fragment}"
    assert location.canonical.endswith(fragment)
    other = normalise_location("url", "https://example.com/#!/page/43")
    assert other.canonical != location.canonical


def test_tracking_parameters_are_dropped_but_others_kept() -> None:
    location = normalise_location(
        "url",
        "https://example.com/v?id=7&utm_source=x&UTM_Medium=y&fbclid=abc&gclid=1&pk_campaign=z"
        "&page=2",
    )
    assert location.value == "https://example.com/v?id=7&page=2"
    assert location.canonical == "url|example.com/v?id=7&page=2"


def test_query_made_only_of_tracking_parameters_disappears() -> None:
    location = normalise_location("url", "https://example.com?utm_source=newsletter")
    assert location.value == "https://example.com/"


def test_scheme_less_link_gets_https() -> None:
    location = normalise_location("url", "example.com/x")
    assert location.value == "https://example.com/x"
    assert location.host == "example.com"


def test_scheme_less_link_with_port_keeps_the_port() -> None:
    location = normalise_location("url", "example.com:8080/x")
    assert location.value == "https://example.com:8080/x"
    assert location.host == "example.com"


def test_protocol_relative_link_gets_https() -> None:
    assert normalise_location("url", "//example.com/a").value == "https://example.com/a"


def test_http_and_https_share_the_same_canonical() -> None:
    plain = normalise_location("url", "http://example.com/a/b")
    secure = normalise_location("url", "https://example.com/a/b")
    assert plain.value != secure.value
    assert plain.canonical == secure.canonical == "url|example.com/a/b"


def test_trailing_slash_does_not_change_the_canonical() -> None:
    with_slash = normalise_location("url", "https://example.com/a/")
    without = normalise_location("url", "https://example.com/a")
    assert with_slash.value == "https://example.com/a/"
    assert with_slash.canonical == without.canonical


def test_different_paths_have_different_canonicals() -> None:
    first = normalise_location("url", "https://example.com/a")
    second = normalise_location("url", "https://example.com/b")
    assert first.canonical != second.canonical


def test_surrounding_whitespace_is_ignored() -> None:
    assert normalise_location("url", "  https://example.com/a \t").value == (
        "https://example.com/a"
    )


def test_ip_hosts_are_kept_without_a_registrable_domain() -> None:
    v4 = normalise_location("url", "http://192.0.2.10/a")
    v6 = normalise_location("url", "http://[2001:DB8:0:0::1]/a")
    assert (v4.host, v4.registrable_domain) == ("192.0.2.10", None)
    assert (v6.host, v6.registrable_domain) == ("[2001:db8::1]", None)
    assert v6.value == "http://[2001:db8::1]/a"


def test_onion_link_keeps_its_host() -> None:
    location = normalise_location("url", f"http://{ONION_V3}/board")
    assert location.kind == "url"
    assert location.host == ONION_V3
    assert location.registrable_domain == ONION_V3


def test_normalising_twice_changes_nothing() -> None:
    first = normalise_location("url", "HTTP://Example.com:80/A/?b=1&utm_source=x#!/c")
    again = normalise_location("url", first.value)
    assert again == first


def test_note_and_platform_are_trimmed_and_multiline_note_allowed() -> None:
    location = normalise_location(
        "url", "https://example.com/a", note="  first line\r\nsecond line  ", platform=" Site "
    )
    assert location.note == "first line\nsecond line"
    assert location.platform == "Site"


def test_blank_note_and_platform_become_none() -> None:
    location = normalise_location("url", "https://example.com/a", note="   ", platform="")
    assert location.note is None
    assert location.platform is None


# --- rejections --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\t"])
def test_empty_value_is_rejected(text: str) -> None:
    assert rejection_code("url", text) == "empty"


def test_value_of_2049_characters_is_too_long_and_2048_is_accepted() -> None:
    prefix = "https://example.com/"
    at_limit = prefix + "a" * (2048 - len(prefix))
    assert normalise_location("url", at_limit).value == at_limit
    with pytest.raises(LocationRejected) as caught:
        normalise_location("url", at_limit + "a")
    assert caught.value.code == "too_long"
    assert caught.value.params == {"limit": "2048"}


def test_note_over_its_limit_is_too_long() -> None:
    assert rejection_code("url", "https://example.com/", note="n" * 2001) == "too_long"


@pytest.mark.parametrize(
    "text",
    [
        "https://example.com/\x00a",
        "https://example.com/\x07",
        "https://example.com/a\nb",
        "https://exam\u200bple.com/",  # zero-width space (format character)
        "https://example.com/\u202eab",  # right-to-left override
        "https://example.com/\x7f",
    ],
)
def test_control_characters_are_rejected(text: str) -> None:
    assert rejection_code("url", text) == "control_characters"


def test_control_characters_in_a_note_are_rejected_but_newlines_are_not() -> None:
    assert rejection_code("url", "https://example.com/", note="a\x00b") == "control_characters"
    assert normalise_location("url", "https://example.com/", note="a\nb").note == "a\nb"


@pytest.mark.parametrize(
    ("text", "scheme"),
    [
        ("javascript:alert(1)", "javascript"),
        ("JavaScript:alert(document.cookie)", "javascript"),
        ("  javascript:void(0)", "javascript"),
        ("data:text/html;base64,PGI+aGk8L2I+", "data"),
        ("data:image/png;base64,iVBORw0KGgo=", "data"),
        ("vbscript:msgbox", "vbscript"),
        ("file:///etc/passwd", "file"),
    ],
)
@pytest.mark.parametrize("kind", list(Kind))
def test_code_running_and_embedded_links_are_unsafe_in_every_kind(
    kind: str, text: str, scheme: str
) -> None:
    with pytest.raises(LocationRejected) as caught:
        normalise_location(kind, text)
    assert caught.value.code == "unsafe_scheme"
    assert caught.value.params == {"scheme": scheme}


@pytest.mark.parametrize("text", ["hello there", "a photo of me", "nothing", "@someone"])
def test_words_are_not_a_link(text: str) -> None:
    assert rejection_code("url", text) == "not_a_link"


@pytest.mark.parametrize(
    "text",
    [
        "https://exa mple.com/",
        "https://-bad-.com/",
        "https://exa_mple.com/",
        "https://localhost/",
        "https://example.123/",
        "https://example.com:99999/",
        "https://[zz::zz]/",
        "https://a..b.com/",
        "https://" + "a" * 64 + ".com/",
    ],
)
def test_bad_hosts_are_rejected(text: str) -> None:
    assert rejection_code("url", text) == "bad_host"


def test_link_without_a_host_is_rejected() -> None:
    assert rejection_code("url", "http://") == "no_host"


def test_unknown_scheme_is_rejected_with_its_name() -> None:
    with pytest.raises(LocationRejected) as caught:
        normalise_location("url", "gopher:thing")
    assert caught.value.code == "unknown_scheme"
    assert caught.value.params == {"scheme": "gopher"}


def test_unknown_kind_is_rejected() -> None:
    assert rejection_code("picture", "https://example.com/") == "unknown_kind"


# --- peer-to-peer ------------------------------------------------------------------------------


def test_magnet_link_given_as_a_url_becomes_p2p_with_btih_canonical() -> None:
    magnet = "magnet:?xt=urn:btih:C12FE1C06BBA254A9DC9F519B335AA7C1367A88A&dn=file"
    location = normalise_location("url", magnet)
    assert location.kind == "p2p"
    assert location.value == magnet
    assert location.canonical == "p2p|btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
    assert location.host is None


def test_magnet_links_with_the_same_hash_share_a_canonical() -> None:
    first = normalise_location("p2p", "magnet:?xt=urn:btih:ABCDEF0123&dn=one")
    second = normalise_location("p2p", "MAGNET:?dn=two&xt=urn:btih:abcdef0123&tr=x")
    assert first.canonical == second.canonical == "p2p|btih:abcdef0123"


def test_file_sharing_name_is_compared_without_case_or_extra_spaces() -> None:
    first = normalise_location("p2p", "Some   File Name")
    second = normalise_location("p2p", "some file name")
    assert first.canonical == second.canonical == "p2p|some file name"
    assert first.value == "Some   File Name"


# --- accounts, groups, other -------------------------------------------------------------------


def test_account_canonical_includes_platform_and_ignores_case_and_spacing() -> None:
    first = normalise_location("account", "  @Some   One ", platform="Insta")
    second = normalise_location("account", "@some one", platform="insta")
    elsewhere = normalise_location("account", "@some one", platform="Other")
    assert first.value == "@Some One"
    assert first.canonical == second.canonical == "account:insta:@some one"
    assert elsewhere.canonical != first.canonical
    assert first.host is None


def test_account_given_as_a_link_has_a_host_for_routing() -> None:
    location = normalise_location("account", "https://social.example.de/someone")
    assert location.kind == "account"
    assert location.host == "social.example.de"
    assert location.registrable_domain == "example.de"


def test_group_with_the_same_text_as_an_account_has_a_different_canonical() -> None:
    group = normalise_location("group", "name")
    account = normalise_location("account", "name")
    assert group.canonical != account.canonical


# --- guess_kind, registrable_domain ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("https://example.com/a", "url"),
        ("example.com/a", "url"),
        ("//example.com/a", "url"),
        ("  HTTP://EXAMPLE.COM  ", "url"),
        ("magnet:?xt=urn:btih:abc", "p2p"),
        ("MAGNET:?xt=urn:btih:abc", "p2p"),
        ("ed2k://|file|name|1|abc|/", "p2p"),
        ("@someone", "other"),
        ("a group called something", "other"),
        ("", "other"),
    ],
)
def test_guess_kind(text: str, kind: str) -> None:
    assert guess_kind(text) == kind


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("i.example.co.uk", "example.co.uk"),
        ("example.co.uk", "example.co.uk"),
        ("a.b.example.com", "example.com"),
        ("someone.github.io", "someone.github.io"),
        ("co.uk", None),
        ("192.0.2.1", None),
        ("[2001:db8::1]", None),
        (f"www.{ONION_V3}", ONION_V3),
        (None, None),
        ("", None),
    ],
)
def test_registrable_domain_uses_the_public_suffix_list(
    host: str | None, domain: str | None
) -> None:
    assert registrable_domain(host) == domain


# --- masking -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("https://example.com/secret/path?x=1", "example.com/…"),
        ("https://someone:pw@example.com/secret", "example.com/…"),
        ("https://example.com/?q=secret", "example.com/…"),
        ("https://example.com/", "example.com"),
        ("https://example.com", "example.com"),
        ("http://[2001:db8::1]/secret", "2001:db8::1/…"),
    ],
)
def test_masked_link_shows_only_the_site(value: str, shown: str) -> None:
    masked = mask_location_for_display("url", value)
    assert masked == shown
    assert "secret" not in masked
    assert "pw" not in masked


@pytest.mark.parametrize("kind", ["account", "group", "p2p", "other"])
def test_masked_non_link_keeps_two_characters(kind: str) -> None:
    assert mask_location_for_display(kind, "@someone") == "@s••••••"


@given(
    secret=st.from_regex(r"[a-z0-9]{6,20}", fullmatch=True),
    scheme=st.sampled_from(["http", "https"]),
)
def test_masked_link_never_contains_the_path(secret: str, scheme: str) -> None:
    location = normalise_location("url", f"{scheme}://host.test/{secret}?id={secret}")
    masked = mask_location_for_display(location.kind, location.value)
    assert secret not in masked
    assert location.value not in masked


@given(
    kind=st.sampled_from(["account", "group", "p2p", "other"]),
    value=st.text(alphabet=st.characters(blacklist_characters="•"), min_size=1),
)
def test_masked_value_never_contains_the_full_value(kind: str, value: str) -> None:
    assert value not in mask_location_for_display(kind, value)


@pytest.mark.parametrize("value", ["x", "jo", "abc", "abcd"])
def test_masked_short_value_shows_no_characters(value: str) -> None:
    # Two characters of a very short account name would give most of it away.
    assert mask_location_for_display("account", value) == "••••••"


# --- properties --------------------------------------------------------------------------------

link_like = st.one_of(
    st.text(),
    st.text(alphabet="abcxyz.-:/?#@[]%_=&!0123456789 äß\u3002", max_size=40),
    st.builds(
        lambda scheme, host, rest: scheme + host + rest,
        st.sampled_from(
            ["http://", "https://", "//", "", "ftp://", "magnet:?xt=urn:btih:", "javascript:"]
        ),
        st.text(alphabet="abcxyz.-:[]0123456789äö@", max_size=30),
        st.text(max_size=20),
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.one_of(st.sampled_from(list(Kind)), st.text(max_size=8)), text=link_like)
def test_any_text_is_either_accepted_or_rejected_with_a_code(kind: str, text: str) -> None:
    try:
        location = normalise_location(kind, text)
    except LocationRejected as rejected:
        assert rejected.code
        return
    assert location.kind in set(Kind)
    assert location.value
    assert location.canonical


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=link_like)
def test_accepted_links_normalise_to_themselves(text: str) -> None:
    try:
        location = normalise_location("url", text)
    except LocationRejected:
        return
    assert normalise_location(location.kind, location.value) == location
