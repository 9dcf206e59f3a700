"""Anomaly rules: what to do when a session's client changes, and when a client guesses IDs.

A stolen session cookie replayed from the thief's machine usually arrives with another
User-Agent and from another network. Neither is proof (browsers update, phones change networks),
so each rule has a configurable action:

* ``allow``: do nothing;
* ``flag``: record an ``session.anomaly`` event and remember the new value on the session;
* ``reauthenticate``: flag, and mark the session so that :func:`needs_reauthentication` (and the
  ``requires_recent_auth`` helpers) send the user to re-enter their password before the next
  sensitive action;
* ``revoke``: delete the session at once; the request continues as anonymous (log in again).

Defaults: a User-Agent change revokes (browsers do not change their User-Agent mid-session
except on update, when one extra login is cheap); an IP change is flagged (mobile clients change
networks all the time).

Guessing: :class:`GuessingGuard` and :class:`GuessingRule` live in :mod:`.guessing` (re-exported
here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import ConfigurationError
from .client import ClientInfo
from .guessing import GuessingGuard as GuessingGuard  # re-exported
from .guessing import GuessingRule as GuessingRule
from .records import SessionRecord

Action = Literal["allow", "flag", "reauthenticate", "revoke"]
Rule = Literal["user_agent_change", "ip_change", "guessing"]
ACTIONS: tuple[Action, ...] = ("allow", "flag", "reauthenticate", "revoke")

#: Keys sessionward keeps in ``SessionRecord.meta``.
META_DEVICE = "device"
META_DEVICE_KEY = "device_key"
META_LAST_IP = "last_ip"
META_LAST_USER_AGENT = "last_user_agent"
META_FLAGS = "flags"
META_REAUTH = "reauth_required"
#: Device binding (``sessionward.binding``): a rotation must keep it, or whoever holds a stolen
#: cookie could rotate the session and bind it to a key of their own.
META_BINDING = "dbsc"
#: What a plain rotation keeps; re-authentication and login start afresh.
CARRIED_ON_ROTATION = (META_FLAGS, META_REAUTH, META_BINDING)


@dataclass(frozen=True, slots=True)
class AnomalyRules:
    """Which action each rule takes; ``guessing=None`` switches the throttle off."""

    user_agent_change: Action = "revoke"
    ip_change: Action = "flag"
    guessing: GuessingRule | None = field(default_factory=GuessingRule)

    def __post_init__(self) -> None:
        for name in ("user_agent_change", "ip_change"):
            if getattr(self, name) not in ACTIONS:
                raise ConfigurationError(
                    f"AnomalyRules.{name} must be one of {', '.join(ACTIONS)}, "
                    f"not {getattr(self, name)!r}"
                )

    @classmethod
    def off(cls) -> AnomalyRules:
        """Every rule disabled (tests, or apps that do their own detection)."""
        return cls(user_agent_change="allow", ip_change="allow", guessing=None)


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule that fired for a request, with the values it compared."""

    rule: Rule
    action: Action
    before: str | None
    after: str | None


def last_ip(record: SessionRecord) -> str | None:
    """The most recent address the session was used from."""
    value = record.meta.get(META_LAST_IP)
    return value if isinstance(value, str) else record.ip


def last_user_agent(record: SessionRecord) -> str | None:
    """The User-Agent the session was last used with (a flagged change updates it)."""
    value = record.meta.get(META_LAST_USER_AGENT)
    if isinstance(value, str):
        return value or None  # "" records a change to no User-Agent at all
    return record.user_agent


def inspect(record: SessionRecord, client: ClientInfo, rules: AnomalyRules) -> list[Finding]:
    """The rules a request from ``client`` trips on ``record`` (empty when all is well)."""
    findings: list[Finding] = []
    agent = last_user_agent(record)
    if rules.user_agent_change != "allow" and agent != client.user_agent:
        action = rules.user_agent_change
        if record.user_agent is None:
            # Created without a User-Agent (a test client's session_transaction(), a script):
            # its agent is unknown, so no agent seen later is evidence of theft. Flag at most,
            # for this record's life; a login creates a new record that records the agent.
            action = "flag"
        findings.append(Finding("user_agent_change", action, agent, client.user_agent))
    before = last_ip(record)
    if (
        rules.ip_change != "allow"
        and before is not None
        and client.ip is not None
        and before != client.ip
    ):
        findings.append(Finding("ip_change", rules.ip_change, before, client.ip))
    return findings


def strongest(findings: list[Finding]) -> Action:
    """The most severe action among ``findings`` (``allow`` when there are none)."""
    return max((f.action for f in findings), key=ACTIONS.index, default="allow")


def needs_reauthentication(record: SessionRecord | None, max_age: float, now: float) -> bool:
    """Whether a sensitive action must first ask for the password again.

    True for anonymous sessions, sessions authenticated longer than ``max_age`` seconds ago, and
    sessions an anomaly rule marked for re-authentication.
    """
    if record is None or record.user_id is None or record.authenticated_at is None:
        return True
    if record.meta.get(META_REAUTH):
        return True
    return now - record.authenticated_at > max_age


def meta_after(record: SessionRecord, findings: list[Finding]) -> dict[str, Any]:
    """The ``meta`` changes that remember flagged findings, so they fire once, not per request."""
    flags = [f for f in record.meta.get(META_FLAGS) or () if isinstance(f, str)]
    meta: dict[str, Any] = {}
    for finding in findings:
        if finding.rule not in flags:
            flags.append(finding.rule)
        if finding.rule == "ip_change":
            meta[META_LAST_IP] = finding.after
        elif finding.rule == "user_agent_change":
            meta[META_LAST_USER_AGENT] = finding.after or ""
        if finding.action == "reauthenticate":
            meta[META_REAUTH] = True
    meta[META_FLAGS] = flags
    return meta
