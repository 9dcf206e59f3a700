"""Which scheme a request used behind proxies, and where the HTTPS redirect points."""

from __future__ import annotations

import pytest

from sessionward import ConfigurationError, TrustedProxies
from sessionward.core.transport import (
    check_host,
    forwarded_scheme,
    parse_proxies,
    redirect_target,
)

PROXIES = parse_proxies(["10.0.0.0/8", "::1"])
RFC_PROXIES = TrustedProxies(["10.0.0.0/8", "::1"], proto_header="forwarded")


def scheme(peer: str | None, xfp: str | None = None, fwd: str | None = None) -> str:
    proxies = RFC_PROXIES if fwd is not None else PROXIES
    return forwarded_scheme(
        "http", peer=peer, proxies=proxies, x_forwarded_proto=xfp, forwarded=fwd
    )


def test_forwarded_headers_are_believed_only_from_configured_proxies() -> None:
    assert scheme("10.1.2.3", xfp="https") == "https"
    assert scheme("::1", fwd="for=1.2.3.4;proto=https") == "https"
    assert scheme("203.0.113.9", xfp="https") == "http"
    assert scheme("203.0.113.9", fwd="proto=https") == "http"
    assert scheme(None, xfp="https") == "http"
    assert scheme("not-an-ip", xfp="https") == "http"


def test_the_last_hop_is_the_one_our_proxy_wrote() -> None:
    assert scheme("10.0.0.1", xfp="https, http") == "http"
    assert scheme("10.0.0.1", fwd='proto=http, for=1.2.3.4;proto="https"') == "https"
    assert scheme("10.0.0.1", xfp="gopher") == "http"


def test_no_proxies_means_headers_are_ignored() -> None:
    none = parse_proxies([])
    assert (
        forwarded_scheme(
            "http", peer="10.0.0.1", proxies=none, x_forwarded_proto="https", forwarded=None
        )
        == "http"
    )


@pytest.mark.parametrize("bad", ["10.0.0.1", ["proxy.example.com"], ["10.0.0.0/33"]])
def test_bad_proxy_settings_raise_at_start_up(bad: object) -> None:
    with pytest.raises(ConfigurationError):
        parse_proxies(bad)  # type: ignore[arg-type]


def test_trusted_proxies_objects_are_accepted_as_they_are() -> None:
    proxies = TrustedProxies(["10.0.0.1"])
    assert parse_proxies(proxies) is proxies


def test_redirect_targets() -> None:
    assert redirect_target("example.com", "/a b", "x=1") == "https://example.com/a%20b?x=1"
    assert redirect_target("example.com:80", "/", "") == "https://example.com/"
    assert redirect_target("127.0.0.1:8080", "/p", "", port=8443) == "https://127.0.0.1:8443/p"
    assert redirect_target("[::1]:80", "/", "", port=443) == "https://[::1]/"
    assert redirect_target("evil.test", "/", "", host="app.test") == "https://app.test/"
    # A path starting with // would make an off-site, protocol-relative URL.
    assert redirect_target("example.com", "//evil.test/x", "") == "https://example.com/evil.test/x"


@pytest.mark.parametrize("host", [None, "", "exa mple.com", "a/b", "x" * 400, "a\r\nb"])
def test_unusable_host_headers_give_no_redirect(host: str | None) -> None:
    assert redirect_target(host, "/", "") is None


def test_configured_redirect_host_is_validated() -> None:
    assert check_host("app.example.com") == "app.example.com"
    with pytest.raises(ConfigurationError, match="host"):
        check_host("https://app.example.com/")
