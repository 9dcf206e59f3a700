from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionward import ConfigurationError, SessionPolicy
from sessionward.core import lifecycle
from sessionward.core.lifecycle import Verdict
from sessionward.stores import SessionRecord

T0 = 1_800_000_000.0
POLICY = SessionPolicy(idle_timeout=1800, absolute_timeout=43200, touch_interval=60)


def record(created: float = T0, seen: float = T0) -> SessionRecord:
    r = SessionRecord(
        key="k", handle="h", user_id="u", created_at=created, last_seen_at=seen, expires_at=0
    )
    return r.evolve(expires_at=lifecycle.expires_at(r, POLICY))


def test_idle_timeout() -> None:
    assert lifecycle.check(record(), POLICY, T0 + 1799) is Verdict.VALID
    assert lifecycle.check(record(), POLICY, T0 + 1800) is Verdict.EXPIRED_IDLE


def test_absolute_timeout_wins_even_for_a_busy_session() -> None:
    busy = record(seen=T0 + 43199)
    assert lifecycle.check(busy, POLICY, T0 + 43199.5) is Verdict.VALID
    assert lifecycle.check(busy, POLICY, T0 + 43200) is Verdict.EXPIRED_ABSOLUTE


def test_touch_is_throttled() -> None:
    assert not lifecycle.needs_touch(record(), POLICY, T0 + 59)
    assert lifecycle.needs_touch(record(), POLICY, T0 + 60)


def test_touch_moves_expiry_but_never_past_the_absolute_deadline() -> None:
    late = lifecycle.touched(record(), POLICY, T0 + 43000)
    assert late.expires_at == T0 + 43200


@given(
    seen=st.floats(min_value=0, max_value=43000),
    elapsed=st.floats(min_value=0, max_value=50000),
)
def test_cookie_never_outlives_the_server_record(seen: float, elapsed: float) -> None:
    r = lifecycle.touched(record(), POLICY, T0 + seen)
    now = T0 + seen + elapsed
    max_age = lifecycle.cookie_max_age(r, POLICY, now)
    assert now + max_age <= r.expires_at or max_age == 0
    if max_age > 0:
        assert lifecycle.check(r, POLICY, now + max_age - 0.001) is Verdict.VALID


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"idle_timeout": 0}, "idle_timeout must be positive"),
        ({"idle_timeout": 100, "absolute_timeout": 50}, "at least idle_timeout"),
        ({"touch_interval": 1800}, "shorter than idle_timeout"),
        ({"idle_timeout": "30"}, "number of seconds"),
        ({"max_sessions_per_user": 0}, "positive integer"),
        ({"on_limit": "random"}, "evict_oldest"),
        ({"clear_site_data": ("everything",)}, "clear_site_data"),
    ],
)
def test_policy_validation_raises_configuration_error(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        SessionPolicy(**options)  # type: ignore[arg-type]


def test_timedelta_durations_are_accepted() -> None:
    policy = SessionPolicy(idle_timeout=timedelta(minutes=5), absolute_timeout=timedelta(hours=1))
    assert (policy.idle_timeout, policy.absolute_timeout) == (300.0, 3600.0)


def test_configuration_errors_are_value_errors_not_asserts() -> None:
    assert issubclass(ConfigurationError, ValueError)
