"""The pure CSRF decisions: where a request came from, tokens, the pre-session cookie."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionward import ConfigurationError, SecretKeyRing
from sessionward.core import csrf, forms
from sessionward.core.csrf import Reason

APP = "https://app.test"
KEYS = SecretKeyRing(["k" * 32])
BINDING = csrf.session_binding("a" * 64)


def source(
    method: str = "POST",
    *,
    site: str | None = None,
    origin: str | None = None,
    referer: str | None = None,
    secure: bool = True,
    trusted: frozenset[str] = frozenset(),
) -> Reason | None:
    return csrf.check_source(
        method,
        app_origin=APP,
        trusted=trusted,
        secure=secure,
        sec_fetch_site=site,
        origin=origin,
        referer=referer,
    )


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "TRACE", "get"])
def test_safe_methods_always_pass(method: str) -> None:
    assert source(method, site="cross-site", origin="https://evil.test") is None


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_fetch_metadata_decides_when_present(method: str) -> None:
    assert source(method, site="same-origin") is None
    assert source(method, site="none") is None  # typed in the address bar, a bookmark
    assert source(method, site="cross-site", origin=APP) is Reason.CROSS_SITE
    assert source(method, site="same-site") is Reason.CROSS_SITE
    assert source(method, site="bogus") is Reason.FETCH_METADATA_INVALID


def test_same_site_or_cross_site_only_from_a_trusted_origin() -> None:
    trusted = frozenset({"https://admin.app.test"})
    assert source(site="same-site", origin="https://admin.app.test", trusted=trusted) is None
    assert source(site="same-site", origin="https://other.app.test", trusted=trusted) is (
        Reason.CROSS_SITE
    )


def test_origin_decides_without_fetch_metadata() -> None:
    assert source(origin=APP) is None
    assert source(origin="https://APP.test:443") is None
    assert source(origin="https://evil.test") is Reason.ORIGIN_MISMATCH
    assert source(origin="http://app.test") is Reason.ORIGIN_MISMATCH  # scheme matters
    assert source(origin="https://app.test:8443") is Reason.ORIGIN_MISMATCH  # port matters
    assert source(origin="null") is Reason.ORIGIN_MISMATCH
    assert source(origin="https://x.test", trusted=frozenset({"https://x.test"})) is None


def test_referer_is_the_fallback_over_https_only() -> None:
    assert source(referer=APP + "/form?x=1") is None
    assert source(referer="https://evil.test/app.test") is Reason.REFERER_MISMATCH
    assert source(referer="not a url") is Reason.REFERER_MISMATCH
    assert source() is Reason.REFERER_MISSING
    assert source(secure=False, referer=APP + "/") is Reason.ORIGIN_MISSING


@given(
    site=st.one_of(st.none(), st.text(max_size=40)),
    origin=st.one_of(st.none(), st.text(max_size=80)),
    referer=st.one_of(st.none(), st.text(max_size=80)),
)
def test_source_check_is_total(site: str | None, origin: str | None, referer: str | None) -> None:
    result = source(site=site, origin=origin, referer=referer)
    assert result is None or isinstance(result, Reason)


def test_tokens_are_masked_differently_every_time_and_all_verify() -> None:
    tokens = {csrf.issue_token(KEYS, BINDING) for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert len(token) == csrf.MASKED_LENGTH
        assert csrf.verify_token(KEYS, token, [BINDING]) is None
        assert csrf.verify_token(KEYS, token.encode(), [BINDING]) is None


def test_a_token_is_bound_to_its_session() -> None:
    token = csrf.issue_token(KEYS, BINDING)
    other = csrf.session_binding("b" * 64)
    assert csrf.verify_token(KEYS, token, [other]) is Reason.TOKEN_INVALID
    assert csrf.verify_token(KEYS, token, []) is Reason.TOKEN_INVALID
    assert csrf.verify_token(KEYS, token, [other, BINDING]) is None


def test_tokens_survive_key_rotation_until_the_old_key_is_dropped() -> None:
    old = SecretKeyRing(["o" * 32])
    token = csrf.issue_token(old, BINDING)
    assert csrf.verify_token(SecretKeyRing(["o" * 32, "n" * 32]), token, [BINDING]) is None
    assert csrf.verify_token(SecretKeyRing(["n" * 32]), token, [BINDING]) is Reason.TOKEN_INVALID


def test_a_flipped_bit_is_rejected() -> None:
    token = csrf.issue_token(KEYS, BINDING)
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert csrf.verify_token(KEYS, flipped, [BINDING]) in (
        Reason.TOKEN_INVALID,
        Reason.TOKEN_MALFORMED,
    )


@pytest.mark.parametrize(
    ("presented", "reason"),
    [
        (None, Reason.TOKEN_MISSING),
        ("", Reason.TOKEN_MISSING),
        (b"", Reason.TOKEN_MISSING),
        ("A" * 85, Reason.TOKEN_MALFORMED),
        ("A" * 87, Reason.TOKEN_MALFORMED),
        ("A" * 1_000_000, Reason.TOKEN_MALFORMED),
        ("é" * 86, Reason.TOKEN_MALFORMED),
        ("A" * 85 + "\u2028", Reason.TOKEN_MALFORMED),
        (b"\xff\xfe" * 43, Reason.TOKEN_MALFORMED),
        ("=" * 86, Reason.TOKEN_MALFORMED),
        ("A" * 85 + "=", Reason.TOKEN_MALFORMED),
        ("A" * 86, Reason.TOKEN_INVALID),
    ],
)
def test_malformed_tokens_are_reasons_not_errors(
    presented: str | bytes | None, reason: Reason
) -> None:
    assert csrf.verify_token(KEYS, presented, [BINDING]) is reason


@given(st.one_of(st.text(max_size=200), st.binary(max_size=200)))
def test_verify_is_total(presented: str | bytes) -> None:
    assert csrf.verify_token(KEYS, presented, [BINDING]) in set(Reason)


def test_presession_cookie_round_trip_expiry_and_forgery() -> None:
    nonce, value = csrf.new_presession(KEYS, 1000.0)
    assert csrf.read_presession(KEYS, value, 1000.0, 7200) == nonce
    assert csrf.read_presession(KEYS, value, 1000.0 + 7199, 7200) == nonce
    assert csrf.read_presession(KEYS, value, 1000.0 + 7200, 7200) is None
    assert csrf.read_presession(SecretKeyRing(["z" * 32]), value, 1000.0, 7200) is None
    tampered = ("B" if value[0] != "B" else "C") + value[1:]
    assert csrf.read_presession(KEYS, tampered, 1000.0, 7200) is None
    for junk in (None, "", "x", "é" * 75, value + "A"):
        assert csrf.read_presession(KEYS, junk, 1000.0, 7200) is None


def test_presession_and_session_bindings_never_collide() -> None:
    nonce, _ = csrf.new_presession(KEYS, 0)
    token = csrf.issue_token(KEYS, csrf.presession_binding(nonce))
    assert csrf.verify_token(KEYS, token, [BINDING]) is Reason.TOKEN_INVALID


URLENCODED = "application/x-www-form-urlencoded"


def test_scan_urlencoded_bodies() -> None:
    found = forms.scan_form(
        b"a=1&csrf_token=abc%2Bd+e&b=2", URLENCODED, complete=True, field="csrf_token"
    )
    assert found == forms.FormScan(b"abc+d e", True)
    # A pair that may still be arriving is not trusted yet.
    assert forms.scan_form(
        b"a=1&csrf_token=ab", URLENCODED, complete=False, field="csrf_token"
    ) == forms.FormScan(None, False)
    assert forms.scan_form(b"a=1", URLENCODED, complete=True, field="csrf_token") == forms.FormScan(
        None, True
    )


def multipart(value: bytes, boundary: str = "XyZ") -> tuple[bytes, str]:
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'.encode()
        + value
        + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\nDATA\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_scan_multipart_bodies_including_partial_ones() -> None:
    body, content_type = multipart(b"tok")
    assert forms.scan_form(body, content_type, complete=True, field="csrf_token").value == b"tok"
    first_part = body[: body.index(b'name="f"')]
    assert (
        forms.scan_form(first_part, content_type, complete=False, field="csrf_token").value
        == b"tok"
    )
    assert forms.scan_form(
        body[:30], content_type, complete=False, field="csrf_token"
    ) == forms.FormScan(None, False)
    assert forms.scan_form(
        body, "multipart/form-data", complete=True, field="csrf_token"
    ) == forms.FormScan(None, True)


@given(st.binary(max_size=300), st.text(max_size=60), st.booleans())
def test_scan_is_total(body: bytes, content_type: str, complete: bool) -> None:
    result = forms.scan_form(body, content_type, complete=complete, field="csrf_token")
    assert isinstance(result, forms.FormScan)


@pytest.mark.parametrize(
    ("accept", "json_wanted"),
    [
        (None, False),
        ("text/html,application/xhtml+xml,*/*;q=0.8", False),
        ("application/json", True),
        ("application/problem+json, text/html", True),
        ("text/html, application/json", False),
        ("*/*", False),
    ],
)
def test_rejection_is_json_or_html_by_accept(accept: str | None, json_wanted: bool) -> None:
    content_type, body = csrf.rejection(Reason.CROSS_SITE, accept)
    if json_wanted:
        assert content_type == "application/json"
        assert json.loads(body)["reason"] == "fetch-metadata-cross-site"
    else:
        assert content_type.startswith("text/html")
        assert b"403" in body and b"fetch-metadata-cross-site" in body


@pytest.mark.parametrize(
    "kwargs",
    [
        {"keys": "secret"},
        {"origin": "app.test"},
        {"origin": "https://app.test/path"},
        {"trusted_origins": "https://a.test"},
        {"trusted_origins": ["https://*.a.test"]},
        {"trusted_origins": ["ftp://a.test"]},
        {"exempt": "/hook"},
        {"exempt": ["hook"]},
        {"exempt": ["/hooks/*/x"]},
        {"exempt": ["/hooks*"]},
        {"exempt": ["/items/{id"]},
        {"exempt": ["/items/x{id}"]},
        {"exempt": ["/items/{id:int}"]},
        {"max_body_bytes": 10},
        {"presession_max_age": True},
    ],
)
def test_bad_configuration_raises_with_a_message(kwargs: dict[str, object]) -> None:
    values: dict[str, object] = {"keys": KEYS, **kwargs}
    with pytest.raises(ConfigurationError):
        csrf.CSRFConfig(**values)  # type: ignore[arg-type]


def test_good_configuration_is_normalised() -> None:
    config = csrf.CSRFConfig(
        keys=KEYS,
        origin="HTTPS://App.Test:443",
        trusted_origins=["https://admin.app.test/"],
        exempt=["/webhooks/stripe"],
    )
    assert config.origin == APP
    assert config.trusted_origins == {"https://admin.app.test"}
    assert "/webhooks/stripe" in config.exempt
    assert "/webhooks/stripe/" not in config.exempt
