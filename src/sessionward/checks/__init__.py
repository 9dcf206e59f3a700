"""``sessionward check``: is this deployment configured safely?

:func:`check_app` walks an imported app (ASGI, WSGI, Starlette/FastAPI, Flask, Django, or a
bare session manager), finds sessionward's middlewares, managers and keys, and returns numbered
findings (``SW001``...), each with a severity, what is wrong and the fix. docs/check.md lists
every check. ``deploy=True`` adds the production-only checks and treats development settings
as errors.
"""

from __future__ import annotations

from typing import Any

from . import rules  # noqa: F401  (registers the checks)
from .discover import Deployment, TargetError, discover, import_target
from .model import CHECKS, Check, Finding, Severity

__all__ = [
    "CHECKS",
    "Check",
    "Deployment",
    "Finding",
    "Severity",
    "TargetError",
    "check_app",
    "discover",
    "import_target",
    "run_checks",
]


def run_checks(deployment: Deployment, *, deploy: bool = False) -> list[Finding]:
    """Every finding for ``deployment``, worst first, then by id."""
    findings = [f for c in CHECKS for f in c.findings(deployment, deploy)]
    return sorted(findings, key=lambda f: (-f.severity, f.id))


def check_app(app: Any, *, deploy: bool = False, target: str = "<app>") -> list[Finding]:
    """Discover ``app``'s configuration and run every check on it."""
    return run_checks(discover(app, target=target), deploy=deploy)
