"""What the request tells us about the client, as plain data for the core."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .slots import slot_setters

MAX_USER_AGENT = 512


def normalise_ip(ip: str | None) -> str | None:
    """An address in one canonical spelling; IPv4-mapped IPv6 (``::ffff:a.b.c.d``) as IPv4.

    A dual-stack socket reports IPv4 clients as mapped IPv6 addresses. Left as they are, all of
    them fall into one IPv6 /64, so the guessing guard would block every IPv4 user for one
    guesser, and the IP-change rule, audit trail and device history would disagree with a
    plain IPv4 socket. Text that is not an address (a test client's name) is kept as given.
    """
    if not ip or (":" not in ip and ip == ip.strip()):
        # IPv4 (or a name): already in its one spelling. No parse on the hot path.
        return ip
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Client address and User-Agent as the integration determined them.

    Both are attacker-controlled and kept for display and anomaly detection only; the
    User-Agent is truncated so a huge header cannot bloat every record. The address is
    normalised however the object is made (see :func:`normalise_ip`).
    """

    ip: str | None = None
    user_agent: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.ip, str):
            object.__setattr__(self, "ip", normalise_ip(self.ip))

    @classmethod
    def from_raw(cls, ip: str | None, user_agent: str | bytes | None) -> ClientInfo:
        if isinstance(user_agent, bytes):
            user_agent = user_agent.decode("latin-1")
        if user_agent is not None:
            user_agent = user_agent[:MAX_USER_AGENT]
            if not user_agent.isprintable():
                user_agent = "".join(ch for ch in user_agent if ch.isprintable())
        if cls is not ClientInfo:
            return cls(ip=ip, user_agent=user_agent or None)
        # Built as .slots says (once per request), doing __post_init__'s work here.
        info: ClientInfo = object.__new__(ClientInfo)
        _set_ip(info, normalise_ip(ip) if isinstance(ip, str) else ip)
        _set_user_agent(info, user_agent or None)
        return info


_set_ip, _set_user_agent = slot_setters(ClientInfo)
