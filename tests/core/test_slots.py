"""The hot-path builders of frozen dataclasses give exactly what the classes' own __init__ does."""

from __future__ import annotations

import dataclasses

import pytest

from sessionward.core.client import ClientInfo
from sessionward.core.cookies import CookieLookup, find_cookie
from sessionward.core.records import SessionRecord, record_of
from sessionward.core.request import RequestView, from_asgi
from sessionward.core.slots import slot_setters
from sessionward.stores.base import RecordUpdate, update_of


def test_record_of_builds_what_the_dataclass_builds() -> None:
    fields = ("k", "h", "u", 1.0, 2.0, 3.0, None, "login", "1.2.3.4", "ua", {"a": 1}, {"m": 2})
    built = record_of(*fields)
    assert built == SessionRecord(*fields) and type(built) is SessionRecord
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.user_id = "mallory"  # type: ignore[misc]


def test_update_of_builds_what_the_dataclass_builds() -> None:
    built = update_of({"a": 1}, frozenset({"b"}), {"m": 1}, 5.0, None, False)
    assert built == RecordUpdate(
        set_data={"a": 1},
        delete_data=frozenset({"b"}),
        set_meta={"m": 1},
        last_seen_at=5.0,
        reply_data=False,
    )


def test_the_request_view_and_cookie_lookup_match_their_classes() -> None:
    scope = {
        "type": "http",
        "method": "get",
        "path": "/p",
        "headers": [(b"host", b"a"), (b"cookie", b"s=1"), (b"host", b"b")],
        "client": ("203.0.113.9", 1),
    }
    assert from_asgi(scope) == RequestView(
        method="GET",
        path="/p",
        scheme="http",
        peer="203.0.113.9",
        cookie=b"s=1",
        headers={"host": ("a", "b")},
    )
    assert find_cookie("s=1; s=1", "s") == CookieLookup(value="1", present=True)
    assert find_cookie("s=1; s=2", "s") == CookieLookup(present=True, duplicate=True)


def test_client_info_from_raw_normalises_as_its_init_does() -> None:
    for ip in ("::ffff:192.0.2.1", " 192.0.2.1", "2001:db8::1", None, "testclient"):
        assert ClientInfo.from_raw(ip, "UA\x00") == ClientInfo(ip=ip, user_agent="UA")

    class Mine(ClientInfo):
        pass

    assert type(Mine.from_raw("::ffff:192.0.2.1", None)) is Mine


def test_only_slotted_classes_have_setters() -> None:
    @dataclasses.dataclass(frozen=True)
    class Plain:
        x: int

    with pytest.raises(TypeError):
        slot_setters(Plain)
