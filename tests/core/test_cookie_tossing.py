"""Cookie tossing and duplicates: only a cookie named exactly like ours is ours (issue 9, 1-2).

A sibling subdomain can set a cookie for the parent domain under any name the browser accepts.
Names such as ``"\\xa0__Host-session"`` are not ``__Host-`` cookies to the browser (so it stores
them despite ``Domain=``) but read as ours after ``str.strip()``; they must never be used, and
their arrival is an audit event.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionward import ClientInfo, MemoryStore, SessionManager
from sessionward.core.cookies import find_cookie
from sessionward.monitoring import EventKind, MemorySink
from sessionward.testing import FakeClock

NAME = "__Host-session"
CLIENT = ClientInfo(ip="203.0.113.9", user_agent="test")

# Names that a lenient reader would take for ours. None is a cookie-name token.
LOOKALIKES = [
    f"\xa0{NAME}",
    f"{NAME}\xa0",
    f"\x85{NAME}",
    f"\u3000{NAME}",
    f"\x0b{NAME}",
    f"\x0c{NAME}",
    f"\r{NAME}",
    f"\n{NAME}",
    NAME.lower(),
    NAME.upper(),
    "__HOST-session",
]


@pytest.mark.parametrize("tossed", LOOKALIKES)
def test_a_lookalike_name_is_never_read_as_ours_and_is_reported(tossed: str) -> None:
    header = f"{tossed}=attacker"
    alone = find_cookie(header, NAME)
    assert alone.value is None and not alone.present
    assert alone.tossed
    beside = find_cookie(f"{NAME}=mine; {header}", NAME)
    assert (beside.value, beside.present, beside.duplicate, beside.tossed) == (
        "mine",
        True,
        False,
        True,
    )


def test_latin1_bytes_of_the_tossed_name_are_refused() -> None:
    # What Chromium sends back byte for byte: 0xA0 then the name.
    found = find_cookie(b"\xa0__Host-session=attacker; other=1", NAME)
    assert found.value is None and found.tossed


def test_space_and_tab_are_the_only_optional_whitespace() -> None:
    found = find_cookie(f" \t{NAME} \t= \tvalue \t;x=1", NAME)
    assert (found.value, found.tossed) == ("value", False)


def test_names_with_non_token_bytes_are_not_ours() -> None:
    for name in (f"{NAME}\x00", f'"{NAME}"', f"{NAME}(x)"):
        found = find_cookie(f"{name}=v", NAME)
        assert found.value is None and not found.present


def test_unrelated_cookies_are_not_reported() -> None:
    found = find_cookie("__Host-session2=a; session=b; theme=dark", NAME)
    assert not (found.present or found.tossed)


def test_identical_duplicates_are_accepted() -> None:
    found = find_cookie(f"{NAME}=same; a=1; {NAME}=same", NAME)
    assert (found.value, found.present, found.duplicate) == ("same", True, False)


def test_differing_duplicates_are_still_refused() -> None:
    found = find_cookie(f"{NAME}=one; {NAME}=same; {NAME}=same", NAME)
    assert found.present and found.duplicate and found.value is None


@given(st.text(max_size=40), st.text(max_size=40))
def test_only_the_exact_name_ever_yields_a_value(name: str, value: str) -> None:
    found = find_cookie(f"{name}={value}", NAME)
    if found.value is not None:
        assert name.strip(" \t") == NAME


def test_the_manager_reports_tossing_and_keeps_the_real_session() -> None:
    sink = MemorySink()
    manager = SessionManager(MemoryStore(), clock=FakeClock(), sinks=[sink])
    session = manager.load(None, CLIENT)
    session.login("alice")
    cookie = next(v for k, v in manager.commit(session) if k == "set-cookie").split(";")[0]
    # The attacker's own valid session, tossed in under a lookalike name.
    evil = manager.load(None, CLIENT)
    evil.login("mallory")
    evil_value = next(v for k, v in manager.commit(evil) if k == "set-cookie").split(";")[0]
    tossed = "\xa0" + evil_value

    victim = manager.load(f"{tossed}; {cookie}", CLIENT)
    assert victim.user_id == "alice"
    anonymous = manager.load(tossed, CLIENT)
    assert anonymous.user_id is None
    tossing = [e for e in sink.events if e.reason == "cookie_tossing"]
    assert [e.kind for e in tossing] == [EventKind.MALFORMED_ID] * 2


def test_a_tossed_refresh_cookie_is_never_used() -> None:
    from sessionward.tokens.cookie import RefreshCookie
    from sessionward.tokens.refresh import new_refresh_token

    cookie = RefreshCookie()
    token = new_refresh_token()
    assert cookie.read(f"{cookie.name}={token}") == token
    assert cookie.read(f"\xa0{cookie.name}={token}") is None
    assert cookie.read(f"\x85{cookie.name}={token}; {cookie.name}={token}") == token


def test_a_tossed_csrf_presession_cookie_is_never_used() -> None:
    from sessionward.core import csrf
    from sessionward.core.keys import SecretKeyRing
    from sessionward.integrations._csrf_state import CSRFState, presession_cookie
    from sessionward.session import Session

    clock = FakeClock()
    keys = SecretKeyRing([b"k" * 32])
    config = csrf.CSRFConfig(
        keys=keys, origin=None, trusted_origins=(), exempt=(), max_body_bytes=1024
    )
    cookie = presession_cookie(SessionManager(MemoryStore(), clock=clock).cookie)
    _nonce, value = csrf.new_presession(keys, clock.now())
    manager = SessionManager(MemoryStore(), clock=clock)
    session = manager.load(None, CLIENT)
    assert isinstance(session, Session)
    genuine = CSRFState(config, cookie, clock, session, f"{cookie.wire_name}={value}")
    assert genuine.nonce is not None
    tossed = CSRFState(config, cookie, clock, session, f"\xa0{cookie.wire_name}={value}")
    assert tossed.nonce is None
