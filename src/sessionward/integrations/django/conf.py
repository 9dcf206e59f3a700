"""Django settings to a :class:`~sessionward.SessionManager`, built once per process.

Settings (only ``SESSIONWARD_STORE`` is required):

* ``SESSIONWARD_STORE``: a store URL (``sqlite:///path``, ``redis://...``, ``postgresql://...``,
  ``memory://``), see :mod:`sessionward.store_urls`; a missing SQLite file is created.
* ``SESSIONWARD_STORE_OPTIONS``: ``{"prefix": ...}`` (Redis keys) or ``{"schema": ...}``
  (PostgreSQL tables).
* ``SESSIONWARD_POLICY``: a :class:`~sessionward.SessionPolicy` or a dict of its arguments.
* ``SESSIONWARD_COOKIE``: a :class:`~sessionward.CookieConfig` or a dict of its arguments. By
  default the secure defaults, named after ``SESSION_COOKIE_NAME`` when that carries the
  ``__Host-`` prefix, and ``SameSite=Strict`` when ``SESSION_COOKIE_SAMESITE = "Strict"``.
* ``SESSIONWARD_MONITORING``: a :class:`~sessionward.monitoring.Monitoring` (anomaly rules,
  devices).
* ``SESSIONWARD_SINKS``: event sinks (default: the logging sink).
* ``SESSIONWARD_TRUSTED_PROXIES``: addresses or networks of your reverse proxies.
* ``SESSIONWARD_MANAGER``: instead of all the above, a ready ``SessionManager`` (or its dotted
  path, or a factory); the engine then uses exactly that.
* ``SESSIONWARD_ASYNC_MANAGER``: with ``SESSIONWARD_MANAGER``, its async twin (an
  ``AsyncSessionManager`` over the same data, or its dotted path, or a factory). Without it the
  async paths run the sync manager through ``sync_to_async``.

Under ASGI the engine's ``a*`` methods and the middleware's async path use an
``AsyncSessionManager`` over the store's async twin (:func:`get_async_manager`: same store
data, policy, cookie, monitoring, sinks and token keys as the sync manager), one per event loop.
In a loop asgiref makes for a single ``async_to_sync`` call (an async view under a WSGI server)
they run the sync manager through ``sync_to_async`` instead: a twin there would open its own
connections for one request.

Bad values raise :class:`~sessionward.errors.ConfigurationError`, whose message says the fix,
when the manager is first built (at start-up: the middleware builds it).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Mapping
from typing import Any, Literal

from asgiref.sync import AsyncToSync
from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from ...core.client import ClientInfo
from ...core.cookies import CookieConfig
from ...core.monitoring import Monitoring
from ...core.policy import SessionPolicy
from ...core.proxies import TrustedProxies
from ...core.request import view_of_environ
from ...errors import ConfigurationError
from ...manager import AsyncSessionManager, SessionManager
from ...store_urls import backend_of, open_async_store, open_store

_lock = threading.Lock()
_manager: SessionManager | None = None
_proxies: TrustedProxies | None = None
_PREFIX = "SESSIONWARD_"
#: The async twin per event loop (a store's connections belong to one loop); None: no twin.
_async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncSessionManager | None] = (
    weakref.WeakKeyDictionary()
)


def get_manager() -> SessionManager:
    """The process-wide manager the engine, the middleware and the sessions app share."""
    global _manager
    manager = _manager
    if manager is None:
        with _lock:
            if _manager is None:
                _manager = build_manager()
            manager = _manager
    return manager


def reset(**_: Any) -> None:
    """Forget the manager (after a settings change, e.g. ``override_settings`` in tests)."""
    global _manager, _proxies
    with _lock:
        _manager = None
        _proxies = None
        _async.clear()


def _on_setting_changed(*, setting: str, **_: Any) -> None:
    if setting.startswith((_PREFIX, "SESSION_COOKIE_")):
        reset()


setting_changed.connect(_on_setting_changed, dispatch_uid="sessionward-settings")


def _named(value: Any, name: str) -> Any:
    if isinstance(value, str):
        try:
            return import_string(value)
        except ImportError as exc:
            raise ConfigurationError(f"{name}={value!r} cannot be imported: {exc}") from exc
    return value


def _from_setting(name: str, kind: type[Any], default: Any) -> Any:
    value = _named(getattr(settings, name, None), name)
    if value is None:
        return default
    if isinstance(value, kind):
        return value
    if isinstance(value, Mapping):
        try:
            return kind(**value)
        except TypeError as exc:
            raise ConfigurationError(f"{name}: {exc}") from exc
    raise ConfigurationError(
        f"{name} must be a sessionward.{kind.__name__} or a dict of its arguments, "
        f"not {type(value).__name__}"
    )


def cookie_config() -> CookieConfig:
    """``SESSIONWARD_COOKIE``, or the secure defaults named after ``SESSION_COOKIE_NAME``."""
    configured = _from_setting("SESSIONWARD_COOKIE", CookieConfig, None)
    if configured is not None:
        return configured  # type: ignore[no-any-return]
    django_name = str(getattr(settings, "SESSION_COOKIE_NAME", ""))
    # Django's settings may make the cookie stricter, never weaker.
    strict = str(getattr(settings, "SESSION_COOKIE_SAMESITE", "")).lower() == "strict"
    same_site: Literal["lax", "strict"] = "strict" if strict else "lax"
    if django_name.startswith("__Host-") and len(django_name) > len("__Host-"):
        return CookieConfig(name=django_name[len("__Host-") :], same_site=same_site)
    return CookieConfig(same_site=same_site)


def build_manager() -> SessionManager:
    value = _named(getattr(settings, "SESSIONWARD_MANAGER", None), "SESSIONWARD_MANAGER")
    if value is not None:
        if callable(value) and not isinstance(value, SessionManager):
            value = value()
        if not isinstance(value, SessionManager):
            raise ConfigurationError(
                "SESSIONWARD_MANAGER must name a sessionward.SessionManager (the sync twin), "
                f"not {type(value).__name__}"
            )
        return value
    url = getattr(settings, "SESSIONWARD_STORE", None)
    if not isinstance(url, str) or not url:
        raise ConfigurationError(
            'set SESSIONWARD_STORE to a store URL, e.g. "sqlite:///var/lib/app/sessions.db", '
            '"redis://localhost:6379/0", "postgresql://app@localhost/app" or "memory://" '
            "(tests only)"
        )
    options = getattr(settings, "SESSIONWARD_STORE_OPTIONS", None) or {}
    if not isinstance(options, Mapping) or not set(options) <= {"prefix", "schema"}:
        raise ConfigurationError(
            'SESSIONWARD_STORE_OPTIONS takes {"prefix": ...} (Redis) or {"schema": ...} '
            "(PostgreSQL)"
        )
    store = open_store(url, create=True, **options)
    sinks = getattr(settings, "SESSIONWARD_SINKS", None)
    return SessionManager(
        store,
        policy=_from_setting("SESSIONWARD_POLICY", SessionPolicy, None),
        cookie=cookie_config(),
        monitoring=_from_setting("SESSIONWARD_MONITORING", Monitoring, None),
        sinks=None if sinks is None else [_named(s, "SESSIONWARD_SINKS") for s in sinks],
    )


def get_async_manager() -> AsyncSessionManager | None:
    """The async twin of :func:`get_manager` for the running event loop (``None``: there is
    none, and the async paths fall back to ``sync_to_async``). Call it inside the loop."""
    loop = asyncio.get_running_loop()
    with _lock:
        if loop in _async:
            return _async[loop]
    if loop in AsyncToSync.loop_thread_executors and _from_store_url():
        # A loop asgiref made for one async_to_sync call (an async view under a WSGI server,
        # Django's async tests): a store opened for it would serve that one call and be left
        # to the garbage collector (with PostgreSQL, a connection pool per request). The sync
        # manager, through sync_to_async, shares its connections instead.
        return None
    twin = build_async_manager(get_manager())
    with _lock:
        return _async.setdefault(loop, twin)


def _from_store_url() -> bool:
    """Whether the managers are built from ``SESSIONWARD_STORE`` (not ``SESSIONWARD_MANAGER``)."""
    return getattr(settings, "SESSIONWARD_MANAGER", None) is None


def build_async_manager(manager: SessionManager) -> AsyncSessionManager | None:
    if not _from_store_url():
        value = _named(
            getattr(settings, "SESSIONWARD_ASYNC_MANAGER", None), "SESSIONWARD_ASYNC_MANAGER"
        )
        if value is None:
            return None
        if callable(value) and not isinstance(value, AsyncSessionManager):
            value = value()
        if not isinstance(value, AsyncSessionManager):
            raise ConfigurationError(
                "SESSIONWARD_ASYNC_MANAGER must name a sessionward.AsyncSessionManager, "
                f"not {type(value).__name__}"
            )
        return value
    url = str(getattr(settings, "SESSIONWARD_STORE", ""))
    options = getattr(settings, "SESSIONWARD_STORE_OPTIONS", None) or {}
    store = open_async_store(url, create=True, sync=manager.store, **options)
    flows = manager.flows
    twin = AsyncSessionManager(
        store,
        policy=manager.policy,
        cookie=manager.cookie,
        clock=flows.clock,
        sinks=flows.observer.sinks,
        monitoring=flows.observer.monitoring,
        token_keys=flows.token_keys,  # the same key ring: tokens verify on both sides
    )
    twin.flows.strict_tags = flows.strict_tags
    return twin


def trusted_proxies() -> TrustedProxies:
    global _proxies
    proxies = _proxies
    if proxies is None:
        configured = getattr(settings, "SESSIONWARD_TRUSTED_PROXIES", None) or ()
        if isinstance(configured, str):
            raise ConfigurationError(
                'SESSIONWARD_TRUSTED_PROXIES is a list of addresses, e.g. ["10.0.0.0/8"]'
            )
        proxies = _proxies = TrustedProxies(configured)
    return proxies


def client_of(meta: Mapping[str, Any]) -> ClientInfo:
    """Client address (through the trusted proxies) and User-Agent of a request."""
    proxies = trusted_proxies()
    if not proxies.networks:
        # No proxy is trusted, so no forwarded header is read: the peer is the client. Taken
        # as is (ClientInfo normalises it), without parsing it only to learn it is untrusted.
        view = view_of_environ(meta)
        return ClientInfo.from_raw(view.peer, view.header("user-agent"))
    return proxies.wsgi(meta)


def backend_name() -> str | None:
    """The kind of store ``SESSIONWARD_STORE`` names (``None`` with ``SESSIONWARD_MANAGER``)."""
    url = getattr(settings, "SESSIONWARD_STORE", None)
    if getattr(settings, "SESSIONWARD_MANAGER", None) is not None or not isinstance(url, str):
        return None
    return backend_of(url)
