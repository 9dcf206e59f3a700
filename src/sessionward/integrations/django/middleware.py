"""``SessionwardMiddleware``: a drop-in replacement for Django's ``SessionMiddleware``.

A subclass of it (so the admin's checks pass), sync and async capable like its parent. It adds
what Django's lacks: the cookie written by sessionward's one cookie writer with its secure
defaults, the client address through ``SESSIONWARD_TRUSTED_PROXIES``, device labels and anomaly
rules (the manager's monitoring), the guessing guard (429), ``Cache-Control: no-store`` and
``Vary: Cookie`` on every response that used the session, ``Clear-Site-Data`` at logout, and
503 when the store is down. Django's behaviour is kept: nothing saved on a 5xx response,
``SessionInterrupted`` when the session was deleted mid-request, no ``Set-Cookie`` when there
was no cookie and nothing to store.

Under ASGI (``__acall__``) the session is loaded and saved over the async twin of the manager
(:func:`conf.get_async_manager`), awaited on the event loop: no thread hop for session I/O.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Generator
from http.cookies import Morsel
from typing import Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.contrib.sessions.exceptions import SessionInterrupted
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_vary_headers
from django.utils.deprecation import MiddlewareMixin

from ...core.header_merge import merge_headers
from ...core.request import view_of_environ
from ...errors import GuessingBlocked, StoreUnavailable
from ...session import BaseSession
from . import conf
from .engine import SessionStore

logger = logging.getLogger("sessionward")
Headers = list[tuple[str, str]]
_INTERRUPTED = (
    "The request's session was deleted before the request completed. "
    "The user may have logged out in a concurrent request, for example."
)


def _plain(status: int, text: str, retry_after: int) -> HttpResponse:
    response = HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


class SessionwardMiddleware(SessionMiddleware):  # type: ignore[misc]
    """Load the session before the view; commit it and add its headers after."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[..., Any]) -> None:
        # Not SessionMiddleware.__init__: that imports SESSION_ENGINE, which must be ours anyway.
        MiddlewareMixin.__init__(self, get_response)
        self.manager = conf.get_manager()  # a configuration error shows at start-up
        self.SessionStore = SessionStore

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        client = conf.client_of(request.META)
        manager = self.manager
        header = view_of_environ(request.META).cookie
        try:
            session: BaseSession | None
            if header:
                session = manager.load(header, client)
            else:
                # No raw header (a RequestFactory that filled request.COOKIES directly).
                token = request.COOKIES.get(manager.cookie.wire_name)
                session = manager.load_token(token, client) if token else None
            store = SessionStore(manager=manager, client=client)
            store.adopt(session)
        except GuessingBlocked as blocked:
            return _blocked(blocked)
        except StoreUnavailable as exc:
            return _unavailable("loading a session", exc)
        _attach(request, store)
        return None

    async def aprocess_request(self, request: HttpRequest) -> HttpResponse | None:
        """:meth:`process_request` over the async manager."""
        amanager = conf.get_async_manager()
        if amanager is None:
            return await sync_to_async(self.process_request)(request)
        client = conf.client_of(request.META)
        header = request.META.get("HTTP_COOKIE")
        try:
            session: BaseSession | None
            if header:
                session = await amanager.load(header, client)
            else:
                token = request.COOKIES.get(amanager.cookie.wire_name)
                session = await amanager.load_token(token, client) if token else None
            store = SessionStore(manager=self.manager, amanager=amanager, client=client)
            await store.aadopt(session)
        except GuessingBlocked as blocked:
            return _blocked(blocked)
        except StoreUnavailable as exc:
            return _unavailable("loading a session", exc)
        _attach(request, store)
        return None

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> None:
        # Under ASGI a sync view runs in a thread and calls request.sessionward's methods
        # without await: give it the sync Session (no I/O here; the I/O stays async).
        store = getattr(request, "session", None)
        if isinstance(store, SessionStore) and not iscoroutinefunction(view):
            store.for_sync_view()
            request.sessionward = store.sessionward

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response = await self.aprocess_request(request)
        if response is None:
            response = await self.get_response(request)
        return await self.aprocess_response(request, response)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # The store failed while a view used the session (a login's rotation, a revoke): the
        # same 503 as at load time, never a 500 or a page served as if anonymous.
        if isinstance(exception, StoreUnavailable):
            logger.warning("sessionward: store unavailable during the view: %s", exception)
            return _plain(503, "Session store unavailable; please retry shortly.\n", 5)
        return None

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        store = getattr(request, "session", None)
        if not isinstance(store, SessionStore):
            return response
        try:
            # Django's rule, which every shell follows: a failed (5xx) request saves nothing.
            failed = response.status_code >= 500
            headers = _cookie_only(store) if failed else _drive(_commit(store), store)
        except StoreUnavailable as exc:
            return _unavailable("saving", exc)
        apply_headers(response, headers)
        return response

    async def aprocess_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        """:meth:`process_response` over the async manager."""
        store = getattr(request, "session", None)
        if not isinstance(store, SessionStore):
            return response
        if store.amanager is None:
            return await sync_to_async(self.process_response)(request, response)
        try:
            failed = response.status_code >= 500
            headers = _cookie_only(store) if failed else await _adrive(_commit(store), store)
        except StoreUnavailable as exc:
            return _unavailable("saving", exc)
        apply_headers(response, headers)
        return response


def _attach(request: HttpRequest, store: SessionStore) -> None:
    request.session = store
    request.sessionward = store.sessionward


def _blocked(blocked: GuessingBlocked) -> HttpResponse:
    # A client guessing session IDs: refused until its block ends; others unaffected.
    refused = _plain(
        429,
        "Too many unknown session IDs from this address; retry later.\n",
        max(1, math.ceil(blocked.retry_after)),
    )
    for name, value in blocked.headers:
        # Expires the dead cookie, so the next request (no cookie) reaches the login page.
        refused.headers[name] = value
    return refused


def _unavailable(doing: str, exc: StoreUnavailable) -> HttpResponse:
    logger.warning("sessionward: store unavailable while %s: %s", doing, exc)
    return _plain(503, "Session store unavailable; please retry shortly.\n", 5)


#: What :func:`_commit` asks its driver to save: ``None`` for the store's own session (its
#: ``commit()``, which also learns the user), or a session that ended in this request.
Commit = Generator[BaseSession | None, Headers, Headers]


def _drive(steps: Commit, store: SessionStore) -> Headers:
    try:
        step = next(steps)
        while True:
            step = steps.send(store.commit() if step is None else store.manager.commit(step))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def _adrive(steps: Commit, store: SessionStore) -> Headers:
    amanager = store.amanager
    if amanager is None:  # pragma: no cover - callers check
        raise RuntimeError("no async manager")
    try:
        step = next(steps)
        while True:
            headers = await store.acommit() if step is None else await amanager.commit(step)
            step = steps.send(headers)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def _commit(store: SessionStore) -> Commit:
    """Headers of the logged-out session (if any) and of the current one, saved now (the one
    decision path of both drivers: it yields what to save and gets back the headers)."""
    current = store.sessionward
    if current.ended and store.ended is current and store.modified:
        # Changed, then delete()d without flush() (Django: saving a deleted session fails).
        # A logout through request.sessionward is not this: it just ends the session.
        raise SessionInterrupted(_INTERRUPTED)
    was_ended = current.ended
    headers = yield None
    if current.ended and not was_ended:
        raise SessionInterrupted(_INTERRUPTED)  # revoked or logged out concurrently
    ended = store.ended
    if ended is None or ended is current:
        return headers
    closing = yield ended
    if not any(name == "set-cookie" for name, _ in headers):
        return merge_headers(closing, headers)
    # A new session began after the logout (e.g. a message or CSRF token stored): keep its
    # cookie, and do not let Clear-Site-Data remove it.
    kept: Headers = []
    for name, value in closing:
        if name == "clear-site-data":
            value = ", ".join(v for v in value.split(", ") if v != '"cookies"')
            if not value:
                continue
        if name != "set-cookie":
            kept.append((name, value))
    return merge_headers(kept, headers)


def _cookie_only(store: SessionStore) -> Headers:
    """On a 5xx: the rule every shell follows (nothing saved; a changed token still sent)."""
    sw: BaseSession | None = store._sw
    return [] if sw is None else store.manager.failed_response_headers(sw)


def apply_headers(response: HttpResponseBase, headers: Headers) -> None:
    """Put sessionward's response headers on a Django response."""
    for name, value in headers:
        if name == "vary":
            patch_vary_headers(response, [v.strip() for v in value.split(",")])
        elif name == "set-cookie":
            morsel = WrittenCookie(value)
            response.cookies[morsel.key] = morsel
        else:
            response[name] = value


_ATTRIBUTES = {
    "path": "path",
    "max-age": "max-age",
    "expires": "expires",
    "domain": "domain",
    "secure": "secure",
    "httponly": "httponly",
    "samesite": "samesite",
}


class WrittenCookie(Morsel[str]):
    """Carries a header written by sessionward's cookie writer through ``response.cookies``.

    Django emits cookies (and its test client reads them) only from ``response.cookies``; this
    morsel outputs exactly the string ``dump_cookie`` produced instead of re-encoding it, and
    its attributes (``morsel["secure"]``...) say the same for code that inspects them.
    """

    def __init__(self, header: str) -> None:
        super().__init__()
        first, *attributes = header.split("; ")
        name, _, value = first.partition("=")
        self.set(name, value, value)
        for attribute in attributes:
            key, sep, val = attribute.partition("=")
            known = _ATTRIBUTES.get(key.lower())
            if known is not None:
                self[known] = val if sep else True
        self._header = header

    def OutputString(self, attrs: Any = None) -> str:  # the http.cookies API name
        return self._header
