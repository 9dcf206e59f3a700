from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionward import ConfigurationError, CookieConfig
from sessionward.core.cookies import dump_cookie, expire_cookie, find_cookie


def test_defaults_are_the_secure_ones() -> None:
    header = dump_cookie(CookieConfig(), "abc", max_age=60)
    assert header == "__Host-session=abc; Path=/; Max-Age=60; Secure; HttpOnly; SameSite=Lax"
    assert "Domain" not in header


def test_strict_same_site_is_selectable() -> None:
    assert "SameSite=Strict" in dump_cookie(CookieConfig(same_site="strict"), "v", max_age=1)


def test_expiry_cookie_clears_the_value_in_every_client() -> None:
    header = expire_cookie(CookieConfig())
    assert header.startswith("__Host-session=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970")


@pytest.mark.parametrize(
    ("options", "fix"),
    [
        ({"same_site": "none", "secure": False, "host_prefix": False}, "SameSite=None requires"),
        ({"domain": "example.com"}, "forbids a Domain"),
        ({"path": "/app"}, "requires path='/'"),
        ({"secure": False}, "CookieConfig.development()"),
        ({"name": "__Host-x"}, "adds __Host- itself"),
        ({"name": "bad name"}, "plain token"),
        ({"same_site": "sometimes"}, "same_site must be"),
        ({"partitioned": True, "secure": False, "host_prefix": False}, "partitioned"),
    ],
)
def test_invalid_combinations_fail_at_start_up_with_the_fix(
    options: dict[str, object], fix: str
) -> None:
    with pytest.raises(ConfigurationError, match=fix):
        CookieConfig(**options)  # type: ignore[arg-type]


def test_development_cookies_warn_loudly() -> None:
    with pytest.warns(UserWarning, match="never use this in production"):
        config = CookieConfig.development()
    assert dump_cookie(config, "v", max_age=5) == (
        "session=v; Path=/; Max-Age=5; HttpOnly; SameSite=Lax"
    )


@pytest.mark.parametrize("value", ["a;b", "a b", 'a"b', "é", "a\r\nSet-Cookie: x=y"])
def test_cookie_writer_refuses_header_injection(value: str) -> None:
    with pytest.raises(ValueError, match="cookie-octet"):
        dump_cookie(CookieConfig(), value, max_age=1)


def test_find_cookie_among_others() -> None:
    found = find_cookie("a=1; __Host-session=tok; b=2", "__Host-session")
    assert (found.value, found.duplicate) == ("tok", False)


def test_duplicate_cookies_are_ambiguous_and_none_is_used() -> None:
    found = find_cookie("__Host-session=one; __Host-session=two", "__Host-session")
    assert found.present and found.duplicate and found.value is None


def test_non_utf8_bytes_are_just_a_value_that_will_not_validate() -> None:
    found = find_cookie(b"__Host-session=\xff\xfe\x80", "__Host-session")
    assert found.value == "\xff\xfe\x80"


def test_oversized_header_is_ignored_wholesale() -> None:
    found = find_cookie("__Host-session=" + "a" * 20_000, "__Host-session")
    assert found.present and found.value is None


@given(st.binary(max_size=300))
def test_any_header_bytes_parse_without_raising(raw: bytes) -> None:
    find_cookie(raw, "__Host-session")
