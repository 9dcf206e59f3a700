"""Security header values and their validation."""

from __future__ import annotations

import pytest

from sessionward import ConfigurationError, SecurityHeaders
from sessionward.core.headers import ONE_YEAR, new_nonce


def as_dict(headers: SecurityHeaders, *, secure: bool = True) -> dict[str, str]:
    return dict(headers.headers(secure=secure, nonce="NONCE"))


def test_defaults() -> None:
    values = as_dict(SecurityHeaders())
    assert values["strict-transport-security"] == "max-age=63072000; includeSubDomains"
    csp = values["content-security-policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "script-src 'strict-dynamic' 'nonce-NONCE'" in csp
    assert "unsafe-inline" not in csp
    assert values["x-content-type-options"] == "nosniff"
    assert values["x-frame-options"] == "DENY"
    assert values["referrer-policy"] == "strict-origin-when-cross-origin"
    assert values["cross-origin-opener-policy"] == "same-origin"
    assert values["cross-origin-resource-policy"] == "same-origin"
    assert "camera=()" in values["permissions-policy"]


def test_hsts_only_over_https() -> None:
    assert "strict-transport-security" not in as_dict(SecurityHeaders(), secure=False)


def test_hsts_options() -> None:
    headers = SecurityHeaders(hsts_max_age=ONE_YEAR, hsts_include_subdomains=False)
    assert as_dict(headers)["strict-transport-security"] == f"max-age={ONE_YEAR}"
    preload = SecurityHeaders(hsts_preload=True)
    assert as_dict(preload)["strict-transport-security"].endswith("; includeSubDomains; preload")


def test_csp_overrides_merge_and_empty_removes() -> None:
    headers = SecurityHeaders(
        csp={"default-src": "'none'", "img-src": "", "frame-ancestors": "'self'"},
        csp_report_only=True,
    )
    values = as_dict(headers)
    csp = values["content-security-policy-report-only"]
    assert csp.startswith("default-src 'none'") and "img-src" not in csp
    assert values["x-frame-options"] == "SAMEORIGIN"
    no_frame = as_dict(SecurityHeaders(csp={"frame-ancestors": "https://partner.test"}))
    assert "x-frame-options" not in no_frame


def test_nonces_are_fresh() -> None:
    assert len({new_nonce() for _ in range(100)}) == 100


@pytest.mark.parametrize(
    "kwargs",
    [
        {"hsts_max_age": 3600},
        {"hsts_max_age": "31536000"},
        {"hsts_preload": True, "hsts_include_subdomains": False},
        {"csp": {"script-src": "'self' 'unsafe-inline'"}},
        {"csp": {"object-src": ""}},
        {"csp": {"base-uri": ""}},
        {"csp": {"frame-ancestors": ""}},
        {"csp": {"script-src": "'self'; object-src *"}},
        {"csp": {"Bad Name": "'self'"}},
        {"nonce_directives": ("worker-src",)},
        {"referrer_policy": "unsafe-url"},
        {"cross_origin_opener_policy": "nope"},
        {"cross_origin_resource_policy": "nope"},
        {"permissions_policy": {"camera": "();x"}},
    ],
)
def test_bad_settings_raise_configuration_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        SecurityHeaders(**kwargs)  # type: ignore[arg-type]


def test_hsts_error_message_says_what_to_do() -> None:
    with pytest.raises(ConfigurationError, match="at least one year"):
        SecurityHeaders(hsts_max_age=60)
