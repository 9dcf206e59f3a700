"""Security response headers, computed once from validated settings plus a per-response nonce.

What each header stops:

* ``Strict-Transport-Security``: after one HTTPS visit the browser refuses plain HTTP for the
  host, so a network attacker cannot strip TLS and read the session cookie. Sent only over
  HTTPS (browsers ignore it on HTTP, and sending it there would suggest HTTP is acceptable).
* ``Content-Security-Policy``: an injected ``<script>`` (XSS) does not run unless it carries
  this response's nonce, which the attacker cannot predict; ``object-src 'none'`` blocks
  plugins, ``base-uri 'none'`` stops a planted ``<base>`` redirecting relative scripts,
  ``frame-ancestors 'none'`` stops clickjacking, ``form-action 'self'`` stops forms posting
  credentials elsewhere.
* ``X-Content-Type-Options: nosniff``: an uploaded text file is never executed as script.
* ``X-Frame-Options``: clickjacking protection for browsers that predate ``frame-ancestors``.
* ``Referrer-Policy``: URLs (which may hold tokens) do not leak to other sites.
* ``Cross-Origin-Opener-Policy``: a page we open, or that opens us, gets no handle on our
  window (tabnabbing, cross-window leaks such as XS-Leaks).
* ``Cross-Origin-Resource-Policy``: other sites cannot embed our responses (Spectre-style reads).
* ``Permissions-Policy``: powerful features (camera, microphone, geolocation...) stay off.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from ..errors import ConfigurationError

ONE_YEAR = 365 * 24 * 60 * 60

DEFAULT_CSP: Mapping[str, str] = MappingProxyType(
    {
        "default-src": "'self'",
        "script-src": "'strict-dynamic'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "object-src": "'none'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
    }
)
DEFAULT_PERMISSIONS: Mapping[str, str] = MappingProxyType(
    {
        "camera": "()",
        "microphone": "()",
        "geolocation": "()",
        "payment": "()",
        "usb": "()",
        "browsing-topics": "()",
    }
)
REFERRER_POLICIES = frozenset(
    {
        "no-referrer",
        "no-referrer-when-downgrade",
        "origin",
        "origin-when-cross-origin",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    }
)
_COOP = frozenset({"same-origin", "same-origin-allow-popups", "unsafe-none"})
_CORP = frozenset({"same-origin", "same-site", "cross-origin"})
_DIRECTIVE = re.compile(r"[a-z][a-z0-9-]*")
_VALUE = re.compile(r"[\x20-\x2b\x2d-\x3a\x3c-\x7e]*")  # printable ASCII without ',' and ';'


def new_nonce() -> str:
    """128 random bits, base64url: a CSP nonce for one response."""
    return secrets.token_urlsafe(16)


def _check_csp(policy: Mapping[str, str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for name, value in policy.items():
        if not isinstance(name, str) or not _DIRECTIVE.fullmatch(name):
            raise ConfigurationError(f"CSP directive name {name!r} is not valid")
        if not isinstance(value, str) or not _VALUE.fullmatch(value):
            raise ConfigurationError(
                f"CSP directive {name} has value {value!r}; values are printable ASCII without "
                f"';' or ',' (give each directive as its own key)"
            )
        checked[name] = value.strip()
    for required in ("object-src", "base-uri", "frame-ancestors"):
        if required not in checked and not (
            required == "object-src" and checked.get("default-src") == "'none'"
        ):
            raise ConfigurationError(
                f"the CSP must set {required} (e.g. {required} 'none'); it is a default for a "
                f"reason: see docs/web-defences.md"
            )
    if "'unsafe-inline'" in checked.get("script-src", checked.get("default-src", "")):
        raise ConfigurationError(
            "script-src 'unsafe-inline' disables XSS protection; give inline scripts the "
            "per-response nonce instead (csp_nonce(request) in templates)"
        )
    return checked


@dataclass(frozen=True, slots=True)
class SecurityHeaders:
    """The security headers to add to every response, validated on construction.

    ``csp`` entries override the defaults directive by directive; a directive given as ``""``
    is removed. ``nonce_directives`` get ``'nonce-...'`` appended per response.
    """

    hsts_max_age: int = 2 * ONE_YEAR
    hsts_include_subdomains: bool = True
    hsts_preload: bool = False
    csp: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_CSP))
    nonce_directives: tuple[str, ...] = ("script-src", "style-src")
    csp_report_only: bool = False
    referrer_policy: str = "strict-origin-when-cross-origin"
    cross_origin_opener_policy: str = "same-origin"
    cross_origin_resource_policy: str = "same-origin"
    permissions_policy: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PERMISSIONS))

    def __init__(
        self,
        *,
        hsts_max_age: int = 2 * ONE_YEAR,
        hsts_include_subdomains: bool = True,
        hsts_preload: bool = False,
        csp: Mapping[str, str] | None = None,
        nonce_directives: Sequence[str] = ("script-src", "style-src"),
        csp_report_only: bool = False,
        referrer_policy: str = "strict-origin-when-cross-origin",
        cross_origin_opener_policy: str = "same-origin",
        cross_origin_resource_policy: str = "same-origin",
        permissions_policy: Mapping[str, str] | None = None,
    ) -> None:
        if isinstance(hsts_max_age, bool) or not isinstance(hsts_max_age, int):
            raise ConfigurationError("hsts_max_age must be an integer number of seconds")
        if hsts_max_age < ONE_YEAR:
            raise ConfigurationError(
                f"hsts_max_age must be at least one year ({ONE_YEAR} s), got {hsts_max_age}; "
                f"a short HSTS leaves a window for TLS stripping"
            )
        if hsts_preload and not hsts_include_subdomains:
            raise ConfigurationError("hsts_preload requires hsts_include_subdomains=True")
        merged = dict(DEFAULT_CSP)
        for name, value in (csp or {}).items():
            if value == "":
                merged.pop(name, None)
            else:
                merged[name] = value
        checked = _check_csp(merged)
        for name in nonce_directives:
            if name not in checked:
                raise ConfigurationError(
                    f"nonce directive {name!r} is not in the CSP; add it or drop it from "
                    f"nonce_directives"
                )
        if referrer_policy not in REFERRER_POLICIES:
            raise ConfigurationError(
                f"referrer_policy must be one of {sorted(REFERRER_POLICIES)}; "
                f"'strict-origin-when-cross-origin' is a safe choice"
            )
        if cross_origin_opener_policy not in _COOP:
            raise ConfigurationError(f"cross_origin_opener_policy must be one of {sorted(_COOP)}")
        if cross_origin_resource_policy not in _CORP:
            raise ConfigurationError(f"cross_origin_resource_policy must be one of {sorted(_CORP)}")
        permissions = dict(
            DEFAULT_PERMISSIONS if permissions_policy is None else permissions_policy
        )
        for name, value in permissions.items():
            if not _DIRECTIVE.fullmatch(name) or not _VALUE.fullmatch(value):
                raise ConfigurationError(
                    f"permissions policy entry {name}={value!r} is not valid; use e.g. "
                    f"'camera': '()'"
                )
        set_ = object.__setattr__
        set_(self, "hsts_max_age", hsts_max_age)
        set_(self, "hsts_include_subdomains", hsts_include_subdomains)
        set_(self, "hsts_preload", hsts_preload)
        set_(self, "csp", MappingProxyType(checked))
        set_(self, "nonce_directives", tuple(nonce_directives))
        set_(self, "csp_report_only", csp_report_only)
        set_(self, "referrer_policy", referrer_policy)
        set_(self, "cross_origin_opener_policy", cross_origin_opener_policy)
        set_(self, "cross_origin_resource_policy", cross_origin_resource_policy)
        set_(self, "permissions_policy", MappingProxyType(permissions))

    def content_security_policy(self, nonce: str) -> str:
        parts = []
        for name, value in self.csp.items():
            if name in self.nonce_directives:
                value = f"{value} 'nonce-{nonce}'".strip()
            parts.append(f"{name} {value}".strip())
        return "; ".join(parts)

    def frame_options(self) -> str | None:
        ancestors = self.csp.get("frame-ancestors")
        return {"'none'": "DENY", "'self'": "SAMEORIGIN"}.get(ancestors or "")

    def headers(self, *, secure: bool, nonce: str) -> list[tuple[str, str]]:
        """The headers for one response (lower-case names)."""
        out: list[tuple[str, str]] = []
        if secure:
            hsts = f"max-age={self.hsts_max_age}"
            if self.hsts_include_subdomains:
                hsts += "; includeSubDomains"
            if self.hsts_preload:
                hsts += "; preload"
            out.append(("strict-transport-security", hsts))
        csp_name = (
            "content-security-policy-report-only"
            if self.csp_report_only
            else "content-security-policy"
        )
        out.append((csp_name, self.content_security_policy(nonce)))
        out.append(("x-content-type-options", "nosniff"))
        frame = self.frame_options()
        if frame is not None:
            out.append(("x-frame-options", frame))
        out.append(("referrer-policy", self.referrer_policy))
        out.append(("cross-origin-opener-policy", self.cross_origin_opener_policy))
        out.append(("cross-origin-resource-policy", self.cross_origin_resource_policy))
        if self.permissions_policy:
            policy = ", ".join(f"{k}={v}" for k, v in self.permissions_policy.items())
            out.append(("permissions-policy", policy))
        return out
