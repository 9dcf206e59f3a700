"""The sans-I/O pieces: structured fields, configuration errors, metrics."""

from __future__ import annotations

import prometheus_client
import pytest

from sessionward import ConfigurationError, CookieConfig
from sessionward.binding import BindingConfig
from sessionward.binding.fields import parse_string_item, registration_entry, string_item
from sessionward.core.events import Event, EventKind
from sessionward.metrics import PrometheusSink

from .app import KEYS


def test_structured_fields_round_trip() -> None:
    assert registration_entry(["ES256", "RS256"], path="/r", challenge="c") == (
        '(ES256 RS256);path="/r";challenge="c"'
    )
    assert string_item('a"b\\c', id="s") == '"a\\"b\\\\c";id="s"'
    assert parse_string_item(string_item('a"b\\c', id="s")) == 'a"b\\c'
    assert parse_string_item(b'  "x.y.z"  ') == "x.y.z"
    assert parse_string_item("bare.jwt-value_1") == "bare.jwt-value_1"


@pytest.mark.parametrize(
    "raw", [None, "", '"open', '"a", "b"', '"\\x"', "bare value", "\u00e9", b"\xff", '"\x01"']
)
def test_bad_structured_fields_are_none(raw: str | bytes | None) -> None:
    assert parse_string_item(raw) is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"keys": "secret"}, "SecretKeyRing"),
        ({"keys": KEYS, "algorithms": ("HS256",)}, "subset"),
        ({"keys": KEYS, "algorithms": ("none",)}, "subset"),
        ({"keys": KEYS, "algorithms": ()}, "subset"),
        ({"keys": KEYS, "cookie_ttl": 5}, "cookie_ttl"),
        ({"keys": KEYS, "challenge_ttl": 86400}, "challenge_ttl"),
        ({"keys": KEYS, "refresh_path": "relative"}, "refresh_path"),
        ({"keys": KEYS, "refresh_path": "/_sessionward/dbsc/register"}, "differ"),
        ({"keys": KEYS, "cookie": CookieConfig(name="b", http_only=False)}, "http_only"),
        ({"keys": KEYS, "offer": "sometimes"}, "offer"),
        ({"keys": KEYS, "require_paths": ("admin",)}, "start with"),
    ],
)
def test_configuration_errors_say_the_fix(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        BindingConfig(**options)  # type: ignore[arg-type]


def test_bound_cookie_cannot_be_the_session_cookie() -> None:
    from sessionward import MemoryStore, SessionManager
    from sessionward.binding import DeviceBinding

    manager = SessionManager(MemoryStore(), sinks=[])
    with pytest.raises(ConfigurationError, match="session cookie"):
        DeviceBinding(manager, BindingConfig(keys=KEYS, cookie=CookieConfig(name="session")))


def test_binding_events_become_metrics() -> None:
    registry = prometheus_client.CollectorRegistry()
    sink = PrometheusSink(registry)
    for kind in (
        EventKind.BINDING_REGISTERED,
        EventKind.BINDING_MISMATCH,
        EventKind.BINDING_MISMATCH,
    ):
        sink(Event(kind=kind, at=0.0, reason="cookie_missing"))
    value = registry.get_sample_value("sessionward_device_binding_total", {"outcome": "mismatch"})
    assert value == 2
    assert (
        registry.get_sample_value("sessionward_device_binding_total", {"outcome": "registered"})
        == 1
    )


def test_public_api_of_the_binding_package() -> None:
    import sessionward.binding as binding

    assert sorted(binding.__all__) == binding.__all__
    for name in binding.__all__:
        assert hasattr(binding, name), name
    public = {n for n, v in vars(binding).items() if isinstance(v, type) and not n.startswith("_")}
    assert public <= set(binding.__all__)
