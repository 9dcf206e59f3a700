"""Findings, severities and the registry of checks (``SW001``...)."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .discover import Deployment


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: which check, how bad, what is wrong (``message``), and ``fix``."""

    id: str
    severity: Severity
    title: str
    message: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "severity": str(self.severity),
            "title": self.title,
            "message": self.message,
            "fix": self.fix,
        }


#: A check yields one message per problem it sees (``""`` or ``None`` entries are ignored).
CheckFunction = Callable[[Deployment, bool], Iterable[str]]


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    title: str
    severity: Severity
    fix: str
    run: CheckFunction
    deploy_only: bool = False
    #: the severity under ``--deploy`` when it differs (development settings in production)
    deploy_severity: Severity | None = None

    def findings(self, deployment: Deployment, deploy: bool) -> list[Finding]:
        if self.deploy_only and not deploy:
            return []
        severity = self.deploy_severity if deploy and self.deploy_severity else self.severity
        return [
            Finding(self.id, severity, self.title, message, self.fix)
            for message in self.run(deployment, deploy)
            if message
        ]


CHECKS: list[Check] = []


def check(
    id: str,
    title: str,
    severity: Severity,
    fix: str,
    *,
    deploy_only: bool = False,
    deploy_severity: Severity | None = None,
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check under ``id``; the ids are documented in docs/check.md."""

    def register(run: CheckFunction) -> CheckFunction:
        if any(c.id == id for c in CHECKS):
            raise ValueError(f"check id {id} registered twice")
        CHECKS.append(Check(id, title, severity, fix, run, deploy_only, deploy_severity))
        return run

    return register
