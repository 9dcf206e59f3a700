"""The client's IP address behind reverse proxies, trusting forwarded headers only from proxies.

``X-Forwarded-For`` and ``Forwarded`` are plain request headers: any client can send them. A
server that believes them from anyone lets an attacker choose the IP address recorded for their
session, dodge the IP-change rule and the guessing throttle, and blame someone else in the audit
log. So the headers are read only when the peer that connected to us is a configured trusted
proxy, and then from right to left: each trusted hop vouches for the one before it, and the
first address that is *not* a trusted proxy is the client.

Which header carries the chain is configuration, never guessed: ``header="x-forwarded-for"``
(the default: nginx ``proxy_add_x_forwarded_for``, HAProxy ``forwardfor``, most load balancers)
or ``header="forwarded"`` (RFC 7239). A proxy maintains one of them and passes the other through
from the client untouched, so believing "``Forwarded`` if present" would let any client choose
its own address. ``proto_header`` says the same for the scheme (see
:func:`sessionward.core.transport.forwarded_scheme`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any, Literal, get_args

from ..errors import ConfigurationError
from .client import ClientInfo
from .request import view_of_environ, view_of_scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

AddressHeader = Literal["x-forwarded-for", "forwarded"]
ProtoHeader = Literal["x-forwarded-proto", "forwarded"]

#: At most this many hops are examined; a longer chain is cut, never walked to its (forgeable)
#: left end.
MAX_HOPS = 20


def parse_address(text: str) -> Address | None:
    """An IP address from a header element: bare, ``[v6]:port``, ``v4:port`` or quoted."""
    text = text.strip().strip('"').strip()
    if not text:
        return None
    if text.startswith("["):
        end = text.find("]")
        text = text[1:end] if end > 0 else ""
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def forwarded_for(values: Iterable[str]) -> list[str]:
    """The ``for=`` elements of RFC 7239 ``Forwarded`` header lines, in order."""
    hops: list[str] = []
    for line in values:
        for element in line.split(","):
            found = "unknown"
            for pair in element.split(";"):
                name, _, value = pair.partition("=")
                if name.strip().lower() == "for":
                    found = value
            hops.append(found)
    return hops


def x_forwarded_for(values: Iterable[str]) -> list[str]:
    return [hop for line in values for hop in line.split(",")]


class TrustedProxies:
    """Resolve the client address from the peer and forwarded headers.

    ``proxies`` are addresses or networks (``"10.0.0.0/8"``, ``"127.0.0.1"``). With none, the
    peer address is the client and forwarded headers are ignored: the safe default. ``header``
    and ``proto_header`` name the headers your proxy maintains; the others are ignored.
    """

    def __init__(
        self,
        proxies: Iterable[str] = (),
        *,
        header: AddressHeader = "x-forwarded-for",
        proto_header: ProtoHeader = "x-forwarded-proto",
    ) -> None:
        if header not in get_args(AddressHeader):
            raise ConfigurationError(
                f"TrustedProxies header={header!r}: name the header your proxy maintains, "
                f"'x-forwarded-for' or 'forwarded'"
            )
        if proto_header not in get_args(ProtoHeader):
            raise ConfigurationError(
                f"TrustedProxies proto_header={proto_header!r}: name the header your proxy "
                f"maintains, 'x-forwarded-proto' or 'forwarded'"
            )
        self.header: AddressHeader = header
        self.proto_header: ProtoHeader = proto_header
        networks: list[Network] = []
        for item in proxies:
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise ConfigurationError(
                    f"trusted proxy {item!r} is not an IP address or network (e.g. 10.0.0.0/8)"
                ) from None
        self.networks = tuple(networks)

    def __repr__(self) -> str:
        return (
            f"TrustedProxies({[str(n) for n in self.networks]!r}, header={self.header!r}, "
            f"proto_header={self.proto_header!r})"
        )

    def is_trusted(self, address: Address | None) -> bool:
        return address is not None and any(address in net for net in self.networks)

    def client_ip(
        self,
        peer: str | None,
        *,
        forwarded: Iterable[str] = (),
        x_forwarded_for_values: Iterable[str] = (),
    ) -> str | None:
        """The client's address as a string (the peer's when it is not a trusted proxy).

        Only the values of the configured ``header`` are read; pass both, the other is ignored.
        """
        current = parse_address(peer) if peer else None
        if current is None:
            return peer or None
        if not self.is_trusted(current):
            return str(current)
        if self.header == "forwarded":
            hops = forwarded_for(forwarded)
        else:
            hops = x_forwarded_for(x_forwarded_for_values)
        for hop in reversed(hops[-MAX_HOPS:]):
            address = parse_address(hop)
            if address is None:
                # "unknown", an obfuscated identifier or junk: we cannot see past it, so the
                # last address we could vouch for is the best we have.
                break
            current = address
            if not self.is_trusted(current):
                break
        return str(current)

    # -- resolvers for the middlewares --------------------------------------------------------

    def asgi(self, scope: Mapping[str, Any]) -> ClientInfo:
        """A ``client_resolver`` for the ASGI ``SessionMiddleware``."""
        view = view_of_scope(scope)
        ip = self.client_ip(
            view.peer,
            forwarded=list(view.lines("forwarded")),
            x_forwarded_for_values=list(view.lines("x-forwarded-for")),
        )
        return ClientInfo.from_raw(ip, view.header("user-agent"))

    def wsgi(self, environ: Mapping[str, Any]) -> ClientInfo:
        """A ``client_resolver`` for the WSGI middleware (``WSGISessionMiddleware``)."""
        view = view_of_environ(environ)
        ip = self.client_ip(
            view.peer,
            forwarded=[line for line in view.lines("forwarded") if line],
            x_forwarded_for_values=[line for line in view.lines("x-forwarded-for") if line],
        )
        return ClientInfo.from_raw(ip, view.header("user-agent"))
