"""What ``sessionward check`` prints and the exit code it returns (the CLI is a thin shell)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from ..manager import AsyncSessionManager, SessionManager
from . import run_checks
from .discover import Deployment, TargetError, discover, import_target
from .model import Finding, Severity

EXIT_CLEAN = 0  #: nothing worse than info
EXIT_WARNINGS = 1  #: the worst finding is a warning
EXIT_USAGE = 2  #: the target cannot be imported (the message says why)
EXIT_ERRORS = 5  #: at least one error


def exit_code(findings: list[Finding]) -> int:
    worst = max((f.severity for f in findings), default=Severity.INFO)
    return {Severity.ERROR: EXIT_ERRORS, Severity.WARNING: EXIT_WARNINGS}.get(worst, EXIT_CLEAN)


def load(target: str | None, manager: str | None, *, factory: bool) -> Deployment:
    """The deployment named on the command line; raises TargetError with the reason."""
    if target is None and manager is None:
        raise TargetError("name the app (module:app) or the manager (--manager module:factory)")
    found: Deployment | None = None
    if target is not None:
        found = discover(import_target(target, factory=factory), target=target)
    if manager is not None:
        obj = import_target(manager)
        if not isinstance(obj, SessionManager | AsyncSessionManager):
            obj = obj() if callable(obj) else obj
        if not isinstance(obj, SessionManager | AsyncSessionManager):
            raise TargetError(f"{manager} is not a session manager nor a factory of one")
        extra = discover(obj, target=manager)
        if found is None:
            found = extra
        elif all(m is not obj for m in found.managers):
            found.managers.append(obj)
            for kind, objs in extra.found.items():
                found.found.setdefault(kind, []).extend(objs)
    if found is None:  # pragma: no cover - ruled out above
        raise TargetError("nothing to check")
    return found


def run(
    target: str | None,
    manager: str | None,
    *,
    factory: bool,
    deploy: bool,
    as_json: bool,
    echo: Callable[[str], Any],
) -> int:
    try:
        deployment = load(target, manager, factory=factory)
    except TargetError as exc:
        echo(f"error: {exc}")
        return EXIT_USAGE
    findings = run_checks(deployment, deploy=deploy)
    if as_json:
        body = {
            "target": deployment.target,
            "framework": deployment.framework,
            "deploy": deploy,
            "findings": [f.as_dict() for f in findings],
        }
        echo(json.dumps(body, indent=2))
    else:
        for finding in findings:
            echo(f"{finding.id} {finding.severity}: {finding.title}")
            echo(f"  {finding.message}")
            echo(f"  fix: {finding.fix}")
        counts = Counter(str(f.severity) for f in findings)
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no findings"
        mode = " (--deploy)" if deploy else ""
        echo(f"{deployment.target} [{deployment.framework}]{mode}: {summary}")
    return exit_code(findings)
