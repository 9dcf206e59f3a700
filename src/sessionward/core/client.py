"""What the request tells us about the client, as plain data for the core."""

from __future__ import annotations

from dataclasses import dataclass

MAX_USER_AGENT = 512


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Client address and User-Agent as the integration determined them.

    Both are attacker-controlled and kept for display and anomaly detection only; the
    User-Agent is truncated so a huge header cannot bloat every record.
    """

    ip: str | None = None
    user_agent: str | None = None

    @classmethod
    def from_raw(cls, ip: str | None, user_agent: str | bytes | None) -> ClientInfo:
        if isinstance(user_agent, bytes):
            user_agent = user_agent.decode("latin-1")
        if user_agent is not None:
            user_agent = user_agent[:MAX_USER_AGENT]
            if not user_agent.isprintable():
                user_agent = "".join(ch for ch in user_agent if ch.isprintable())
        return cls(ip=ip, user_agent=user_agent or None)
