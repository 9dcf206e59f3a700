"""Session lifetime policy: how long sessions live and how often they are touched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from ..errors import ConfigurationError
from .codec import CODECS, Codec, CodecName
from .records import DEFAULT_MAX_DATA_BYTES

LimitPolicy = Literal["evict_oldest", "reject_new"]
Seconds = float | int | timedelta


def seconds(value: Seconds, name: str) -> float:
    """Normalise a duration given as seconds or a ``timedelta``."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(
            f"{name} must be a number of seconds or a timedelta, not {value!r}"
        )
    return float(value)


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """Timeouts and limits, validated on construction.

    ``idle_timeout`` ends a session nobody used for that long; ``absolute_timeout`` ends every
    session that long after login however busy it is. Both are enforced by the server on every
    load. ``touch_interval`` throttles last-seen writes: a read-only request rewrites the record
    at most once per interval, so the effective idle timeout lies between
    ``idle_timeout - touch_interval`` and ``idle_timeout``.

    ``renew_interval`` (off by default) gives an active session a new token that often; requests
    still in flight with the previous token are honoured for ``renewal_grace`` seconds (and get
    the new cookie), after which the previous token is dead.

    ``codec`` decides which values a session accepts (see :mod:`sessionward.core.codec`):
    ``"json"`` (default) only what JSON keeps exactly; ``"tagged"`` also ``tuple``, ``bytes``,
    ``datetime``, ``date``, ``time``, ``UUID``, ``Decimal`` and ``Markup``. Either way an
    unsupported value raises ``TypeError`` when it is assigned, and stores keep JSON text.
    """

    idle_timeout: float = 30 * 60
    absolute_timeout: float = 12 * 60 * 60
    touch_interval: float = 60
    max_sessions_per_user: int | None = None
    on_limit: LimitPolicy = "evict_oldest"
    max_data_bytes: int = DEFAULT_MAX_DATA_BYTES
    clear_site_data: tuple[str, ...] = ("cache", "cookies", "storage")
    renew_interval: float | None = None
    renewal_grace: float = 10
    codec: CodecName = "json"

    def __init__(
        self,
        *,
        idle_timeout: Seconds = 30 * 60,
        absolute_timeout: Seconds = 12 * 60 * 60,
        touch_interval: Seconds = 60,
        max_sessions_per_user: int | None = None,
        on_limit: LimitPolicy = "evict_oldest",
        max_data_bytes: int = DEFAULT_MAX_DATA_BYTES,
        clear_site_data: tuple[str, ...] = ("cache", "cookies", "storage"),
        renew_interval: Seconds | None = None,
        renewal_grace: Seconds = 10,
        codec: CodecName = "json",
    ) -> None:
        idle = seconds(idle_timeout, "idle_timeout")
        absolute = seconds(absolute_timeout, "absolute_timeout")
        touch = seconds(touch_interval, "touch_interval")
        if idle <= 0:
            raise ConfigurationError("idle_timeout must be positive; OWASP suggests 2-30 minutes")
        if absolute < idle:
            raise ConfigurationError(
                f"absolute_timeout ({absolute:g}s) must be at least idle_timeout ({idle:g}s)"
            )
        if not 0 <= touch < idle:
            raise ConfigurationError(
                f"touch_interval must be >= 0 and shorter than idle_timeout ({idle:g}s); "
                f"a few percent of the idle timeout is typical"
            )
        if max_sessions_per_user is not None and (
            isinstance(max_sessions_per_user, bool)
            or not isinstance(max_sessions_per_user, int)
            or max_sessions_per_user < 1
        ):
            raise ConfigurationError("max_sessions_per_user must be a positive integer or None")
        if on_limit not in ("evict_oldest", "reject_new"):
            raise ConfigurationError("on_limit must be 'evict_oldest' or 'reject_new'")
        if max_data_bytes < 1024:
            raise ConfigurationError("max_data_bytes must be at least 1024")
        allowed = {"cache", "cookies", "storage", "executionContexts", "*"}
        if not set(clear_site_data) <= allowed:
            raise ConfigurationError(f"clear_site_data entries must be among {sorted(allowed)}")
        renew = None if renew_interval is None else seconds(renew_interval, "renew_interval")
        grace = seconds(renewal_grace, "renewal_grace")
        if not 0 < grace <= 300:
            raise ConfigurationError(
                "renewal_grace must be between 0 and 300 seconds: long enough for requests "
                "already in flight, short enough that a stolen old token soon dies"
            )
        if renew is not None and not grace < renew < absolute:
            raise ConfigurationError(
                f"renew_interval must be longer than renewal_grace ({grace:g}s) and shorter "
                f"than absolute_timeout ({absolute:g}s), or None to turn renewal off"
            )
        if codec not in ("json", "tagged"):
            raise ConfigurationError(
                f"codec must be 'json' (plain JSON values) or 'tagged' (also tuple, bytes, "
                f"datetime, date, time, UUID, Decimal, Markup), not {codec!r}"
            )
        set_ = object.__setattr__
        set_(self, "idle_timeout", idle)
        set_(self, "absolute_timeout", absolute)
        set_(self, "touch_interval", touch)
        set_(self, "max_sessions_per_user", max_sessions_per_user)
        set_(self, "on_limit", on_limit)
        set_(self, "max_data_bytes", max_data_bytes)
        set_(self, "clear_site_data", tuple(clear_site_data))
        set_(self, "renew_interval", renew)
        set_(self, "renewal_grace", grace)
        set_(self, "codec", codec)

    @property
    def value_codec(self) -> Codec:
        """The :class:`~sessionward.core.codec.Codec` that ``codec`` names."""
        return CODECS[self.codec]  # codec_named without the call: read on every request
