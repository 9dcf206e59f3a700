"""Session values: refused at assignment when JSON cannot keep them; the tagged codec keeps more."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from markupsafe import Markup

from sessionward import ConfigurationError, SessionManager, SessionPolicy, SQLiteStore
from sessionward.core.client import ClientInfo
from sessionward.core.codec import TAGGED_CODEC, Codec
from sessionward.core.cookies import CookieConfig, dump_cookie
from sessionward.core.session_tokens import session_key
from sessionward.stores.memory import MemoryStore
from sessionward.testing import FakeClock

CLIENT = ClientInfo("10.0.0.1", "pytest")
COOKIE = "__Host-session"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ((1, 2), "tuple"),
        (datetime(2026, 1, 1), "datetime"),
        (b"x", "bytes"),
        ({1: "a"}, "key 1"),
        (Markup("<b>"), "Markup"),
        ({"a": [set()]}, "set"),
        (float("nan"), "NaN"),
    ],
)
def test_json_codec_refuses_at_assignment_naming_the_key(value: Any, why: str) -> None:
    manager = SessionManager(MemoryStore(), sinks=[])
    session = manager.load(None, CLIENT)
    with pytest.raises(TypeError, match="'cart'") as info:
        session["cart"] = value
    assert why.split()[0] in str(info.value)
    assert "cart" not in session


def test_json_codec_keeps_plain_values() -> None:
    value = {"a": [1, 2.5, None, True, "x", {"b": []}]}
    assert Codec("json").encode("k", value) is value


SPECIAL: dict[str, Any] = {
    "t": (1, (2, [3]), "x"),
    "b": b"\xff\x00",
    "dt": datetime(2026, 12, 1, 22, 7, 18, 123456, tzinfo=timezone(timedelta(hours=2))),
    "naive": datetime(2026, 12, 1, 22, 7),
    "d": date(2026, 12, 1),
    "tm": time(22, 7, 18),
    "u": uuid4(),
    "dec": Decimal("1.10"),
    "m": Markup("<em>hi</em>"),
    "looks_tagged": {"$sw": "uuid", "v": "not-a-uuid"},
    "nested": [{"$sw": "tuple"}],
}


def test_tagged_codec_round_trips_exact_types_through_json_text() -> None:
    for key, value in SPECIAL.items():
        stored = json.loads(json.dumps(TAGGED_CODEC.encode(key, value)))
        back = TAGGED_CODEC.decode(stored)
        assert back == value and type(back) is type(value), key
    assert type(TAGGED_CODEC.decode(TAGGED_CODEC.encode("t", SPECIAL["t"]))[1]) is tuple


def test_tagged_codec_leaves_foreign_or_damaged_tags_as_plain_json() -> None:
    for raw in ({"$sw": "uuid", "v": "zzz"}, {"$sw": "os.system", "v": "rm"}, {"$sw": 3}):
        assert TAGGED_CODEC.decode(raw) == raw


def test_tagged_codec_still_refuses_unknown_types() -> None:
    with pytest.raises(TypeError, match=r"'s'.*set"):
        TAGGED_CODEC.encode("s", {1, 2})


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
def test_tagged_values_survive_a_store_round_trip(store_kind: str, tmp_path: Path) -> None:
    store: Any = MemoryStore() if store_kind == "memory" else SQLiteStore(tmp_path / "c.db")
    manager = SessionManager(store, sinks=[], policy=SessionPolicy(codec="tagged"))
    session = manager.load(None, CLIENT)
    session.update(SPECIAL)
    headers = manager.commit(session)
    token = dict(headers)["set-cookie"].split(";")[0].split("=", 1)[1]
    stored = store.get(session_key(token))
    json.dumps(dict(stored.data))  # the store holds plain JSON
    again = manager.load(f"{COOKIE}={token}", CLIENT)
    assert dict(again) == SPECIAL
    assert type(again["m"]) is Markup and type(again["u"]) is UUID


def test_policy_refuses_an_unknown_codec() -> None:
    with pytest.raises(ConfigurationError, match="codec"):
        SessionPolicy(codec="pickle")  # type: ignore[arg-type]


def test_browser_session_cookie_has_neither_max_age_nor_expires() -> None:
    header = dump_cookie(CookieConfig(), "abc", max_age=None)
    assert "Max-Age" not in header and "Expires" not in header
    assert header.startswith("__Host-session=abc; Path=/")


def test_browser_session_option_keeps_server_timeouts(tmp_path: Path) -> None:
    clock = FakeClock()
    manager = SessionManager(
        MemoryStore(),
        sinks=[],
        clock=clock,
        cookie=CookieConfig(persistent=False),
        policy=SessionPolicy(idle_timeout=300),
    )
    session = manager.load(None, CLIENT)
    session["n"] = 1
    cookie = dict(manager.commit(session))["set-cookie"]
    assert "Max-Age" not in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    clock.advance(301)
    assert manager.load(f"{COOKIE}={token}", CLIENT).get("n") is None
