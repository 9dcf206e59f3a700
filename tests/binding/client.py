"""A DBSC client written from the W3C draft (and Chromium's behaviour), for tests.

It plays the browser: keeps its own cookie jar on the injected clock, answers a
``Secure-Session-Registration`` offer with a proof signed by its own key (EC P-256 or RSA,
made with ``cryptography``), remembers the session configuration, caches challenges from
``Secure-Session-Challenge`` and, before any request whose bound cookie is missing or expired,
refreshes at the ``refresh_url``: sign the cached challenge or, without one, ask, take the
403's challenge and retry once. Nothing here imports sessionward's binding code.
"""

from __future__ import annotations

import base64
import re
from typing import Any, Literal

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from sessionward.testing import FakeClock

_ENTRY = re.compile(r'\(([^)]*)\)((?:;[a-z_]+="[^"]*")*)')
_PARAM = re.compile(r';([a-z_]+)="([^"]*)"')
_CHALLENGE = re.compile(r'"([^"]*)"((?:;[a-z_]+="[^"]*")*)')


def b64(number: int, size: int) -> str:
    return base64.urlsafe_b64encode(number.to_bytes(size, "big")).rstrip(b"=").decode()


def sf(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Key:
    """A device key: private half kept here, public half exported as a JWK."""

    def __init__(self, alg: Literal["ES256", "RS256"] = "ES256") -> None:
        self.alg = alg
        self.private: Any
        if alg == "ES256":
            self.private = ec.generate_private_key(ec.SECP256R1())
            numbers = self.private.public_key().public_numbers()
            self.jwk = {
                "kty": "EC",
                "crv": "P-256",
                "x": b64(numbers.x, 32),
                "y": b64(numbers.y, 32),
            }
        else:
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            numbers = self.private.public_key().public_numbers()
            self.jwk = {"kty": "RSA", "n": b64(numbers.n, 256), "e": b64(numbers.e, 3)}

    def proof(self, challenge: str, *, registration: bool, **extra_header: Any) -> str:
        header: dict[str, Any] = {"typ": "dbsc+jwt"}
        if registration:
            header["jwk"] = self.jwk
        header.update(extra_header)  # tests forge headers through this
        return jwt.encode({"jti": challenge}, self.private, algorithm=self.alg, headers=header)


class DbscClient:
    """One browser profile: cookies, an optional device key and its DBSC session."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        clock: FakeClock,
        key: Key | None = None,
        *,
        cookies: dict[str, tuple[str, float | None]] | None = None,
    ) -> None:
        self.http = http
        self.clock = clock
        self.key = key
        self.jar: dict[str, tuple[str, float | None]] = dict(cookies or {})
        self.config: dict[str, Any] | None = None
        self.challenge: str | None = None
        self.refreshes = 0

    # -- cookies ------------------------------------------------------------------------

    def cookie(self, name: str) -> str | None:
        found = self.jar.get(name)
        if found is None:
            return None
        value, expires = found
        if expires is not None and self.clock.now() >= expires:
            return None
        return value

    def cookie_header(self) -> str:
        live = [(n, self.cookie(n)) for n in self.jar]
        return "; ".join(f"{n}={v}" for n, v in live if v is not None)

    def absorb(self, response: httpx.Response) -> None:
        for line in response.headers.get_list("set-cookie"):
            pair, *attrs = [p.strip() for p in line.split(";")]
            name, _, value = pair.partition("=")
            expires = None
            for attr in attrs:
                key, _, val = attr.partition("=")
                if key.lower() == "max-age":
                    expires = self.clock.now() + int(val)
            if expires is not None and expires <= self.clock.now():
                self.jar.pop(name, None)
            else:
                self.jar[name] = (value, expires)
        for line in response.headers.get_list("secure-session-challenge"):
            for value, params in _CHALLENGE.findall(line):
                ident = dict(_PARAM.findall(params)).get("id")
                if self.config is not None and ident == self.config["session_identifier"]:
                    self.challenge = value

    # -- requests -----------------------------------------------------------------------

    def _bound_cookie_missing(self) -> bool:
        if self.config is None:
            return False
        return any(self.cookie(c["name"]) is None for c in self.config["credentials"])

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self.key is not None and self._bound_cookie_missing():
            await self.refresh()  # the spec's deferral: refresh first, then send
        headers = {"cookie": self.cookie_header(), **kwargs.pop("headers", {})}
        response = await self.http.request(method, path, headers=headers, **kwargs)
        self.absorb(response)
        offer = response.headers.get("secure-session-registration")
        if offer and self.key is not None:
            await self.register(offer)
        return response

    async def register(self, offer: str) -> httpx.Response:
        match = _ENTRY.search(offer)
        if match is None or self.key is None:
            raise AssertionError(f"unparseable registration offer {offer!r}")
        algorithms, params = match.group(1).split(), dict(_PARAM.findall(match.group(2)))
        if self.key.alg not in algorithms:
            raise AssertionError(f"{self.key.alg} not offered in {offer!r}")
        proof = self.key.proof(params["challenge"], registration=True)
        response = await self.http.post(
            params["path"],
            headers={"cookie": self.cookie_header(), "secure-session-response": sf(proof)},
        )
        if response.status_code == 200:
            self.config = response.json()
        self.absorb(response)
        return response

    async def refresh(self) -> httpx.Response:
        if self.config is None or self.key is None:
            raise AssertionError("no DBSC session to refresh")
        self.refreshes += 1
        response = await self._refresh_once()
        if response.status_code == 403 and self.challenge is not None:
            response = await self._refresh_once()
        if (
            response.status_code >= 400
            and response.status_code < 500
            and response.status_code != 403
        ):
            self.config = None  # the spec: a 4xx terminates the session
        elif response.status_code == 200 and response.content:
            body = response.json()
            self.config = None if body.get("continue") is False else body
        return response

    async def _refresh_once(self) -> httpx.Response:
        if self.config is None or self.key is None:
            raise AssertionError("no DBSC session to refresh")
        headers = {
            "cookie": self.cookie_header(),
            "sec-secure-session-id": sf(self.config["session_identifier"]),
        }
        if self.challenge is not None:
            headers["secure-session-response"] = sf(
                self.key.proof(self.challenge, registration=False)
            )
            self.challenge = None
        response = await self.http.post(self.config["refresh_url"], headers=headers)
        self.absorb(response)
        return response

    def stolen_cookies(self) -> dict[str, tuple[str, float | None]]:
        """What cookie-stealing malware copies: every value, with no expiry attached."""
        return {name: (value, None) for name, (value, _) in self.jar.items()}
