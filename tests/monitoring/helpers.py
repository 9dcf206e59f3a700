"""Small helpers shared by the monitoring tests."""

from __future__ import annotations

from sessionward import ClientInfo, Session, SessionManager

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
HOME = ClientInfo(ip="203.0.113.9", user_agent=FIREFOX)


def cookie_of(headers: list[tuple[str, str]]) -> str:
    values = [v for k, v in headers if k == "set-cookie"]
    assert len(values) == 1
    return values[0].split(";")[0]


def logged_in(manager: SessionManager, user: str = "alice", client: ClientInfo = HOME) -> str:
    """Log ``user`` in from ``client``; return the Cookie header value of the new session."""
    session = manager.load(None, client)
    session.login(user)
    return cookie_of(manager.commit(session))


def visit(manager: SessionManager, cookie: str | None, client: ClientInfo = HOME) -> Session:
    session = manager.load(cookie, client)
    manager.commit(session)
    return session
