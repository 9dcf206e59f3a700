"""Find sessionward's parts in an imported application, without running it.

The app is walked, not called: the chain of ``.app`` attributes of pure ASGI and WSGI
middlewares (outermost first), Starlette's and FastAPI's middleware stack (built the way the
first request would build it), a Flask app's ``wsgi_app`` and ``session_interface``, Django's
settings, and the objects those hold (route endpoints, bound methods, closures), so a manager
or a key ring built inside a factory function is found as well.
"""

from __future__ import annotations

import functools
import importlib
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ..manager import AsyncSessionManager, SessionManager

#: Modules whose objects the walk looks inside (besides the target's own module).
_INSIDE = ("sessionward", "starlette", "fastapi", "flask", "werkzeug", "django", "uvicorn")
_MAX_OBJECTS = 20_000


class TargetError(Exception):
    """The target cannot be imported or is not an app; the message says which and why."""


@dataclass
class Deployment:
    """What the walk found. ``layers`` lists each middleware chain outermost first."""

    target: str
    app: Any = None
    chains: list[list[Any]] = field(default_factory=list)
    managers: list[SessionManager | AsyncSessionManager] = field(default_factory=list)
    found: dict[str, list[Any]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)  # Flask config / Django settings
    framework: str = "unknown"
    startup_error: str | None = None

    def of(self, kind: str) -> list[Any]:
        """Everything found of one class name (``"CSRFMiddleware"``, ``"SecretKeyRing"``...)."""
        return self.found.get(kind, [])

    def layers(self) -> Iterator[Any]:
        for chain in self.chains:
            yield from chain


def import_target(spec: str, *, factory: bool = False) -> Any:
    """``module:attribute`` (attribute may be dotted); with ``factory`` call it with no
    arguments. The current directory is importable, as for ``uvicorn module:app``."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise TargetError(f"{spec!r} is not module:attribute (e.g. myapp.main:app)")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise TargetError(f"cannot import {module_name!r}: {exc}") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TargetError(f"{module_name!r} has no attribute {attr!r}") from None
    if factory:
        if not callable(obj):
            raise TargetError(f"{spec} is not callable, so it cannot be a factory")
        obj = obj()
    return obj


def discover(app: Any, *, target: str = "<app>") -> Deployment:
    """Walk ``app`` (an ASGI or WSGI app, a Flask app, a Django handler, or a manager)."""
    found = Deployment(target=target, app=app)
    roots: list[Any] = [app]
    if isinstance(app, SessionManager | AsyncSessionManager):
        found.framework = "manager"
    elif _is_flask(app):
        found.framework = "flask"
        found.settings = dict(app.config)
        found.chains.append(_chain(app.wsgi_app))
        roots += [app.session_interface, app.wsgi_app, app.view_functions]
    elif _is_django_handler(app):
        found.framework = "django"
        roots += _django(found)
    else:
        stack = _starlette_stack(app, found)
        found.framework = "starlette" if stack is not None else "asgi/wsgi"
        found.chains.append(_chain(stack if stack is not None else app))
    for layer in found.layers():
        roots.append(layer)
    _collect(roots, found)
    found.managers = [*found.of("SessionManager"), *found.of("AsyncSessionManager")]
    return found


def _chain(app: Any) -> list[Any]:
    """``app``, ``app.app``, ``app.app.app``...: a middleware stack, outermost first."""
    chain: list[Any] = []
    seen: set[int] = set()
    node = app
    while node is not None and id(node) not in seen and len(chain) < 200:
        seen.add(id(node))
        chain.append(node)
        node = getattr(node, "app", None)
        if isinstance(node, types.ModuleType):
            break
    return chain


def _starlette_stack(app: Any, found: Deployment) -> Any | None:
    build = getattr(app, "build_middleware_stack", None)
    if build is None or not hasattr(app, "user_middleware"):
        return None
    try:
        # What Starlette does on the first request: instantiate every middleware.
        return app.middleware_stack or build()
    except ConfigurationError as exc:
        found.startup_error = str(exc)
        return None


def _is_flask(app: Any) -> bool:
    classes = type(app).__mro__
    return any(c.__name__ == "Flask" and c.__module__.startswith("flask") for c in classes)


def _is_django_handler(app: Any) -> bool:
    return type(app).__module__.startswith("django.core.handlers")


def _django(found: Deployment) -> list[Any]:
    from django.conf import settings  # the target imported Django already

    names = [n for n in dir(settings) if n.isupper()]
    found.settings = {n: getattr(settings, n) for n in names}
    roots: list[Any] = []
    spec = found.settings.get("SESSIONWARD_MANAGER")
    if isinstance(spec, str) and "." in spec:
        module, _, attr = spec.rpartition(".")
        try:
            obj = getattr(importlib.import_module(module), attr)
            roots.append(obj() if callable(obj) and not isinstance(obj, SessionManager) else obj)
        except Exception as exc:  # the app would fail the same way at start-up
            found.startup_error = f"SESSIONWARD_MANAGER={spec!r} cannot be loaded: {exc}"
    return roots


def _collect(roots: list[Any], found: Deployment) -> None:
    """Breadth-first over the objects reachable from ``roots``; records sessionward objects and
    other interesting ones by class name."""
    queue = list(roots)
    seen: set[int] = set()
    home = {type(r).__module__ for r in roots} | {found.target.partition(":")[0]}
    while queue and len(seen) < _MAX_OBJECTS:
        obj = queue.pop(0)
        if id(obj) in seen or obj is None or isinstance(obj, str | bytes | int | float | bool):
            continue
        seen.add(id(obj))
        cls = type(obj)
        module = cls.__module__ or ""
        if module.startswith(("sessionward", "werkzeug.middleware", "uvicorn.middleware")):
            found.found.setdefault(cls.__name__, []).append(obj)
        queue.extend(_children(obj, module, home))


def _children(obj: Any, module: str, home: set[str]) -> list[Any]:
    if isinstance(obj, dict):
        return list(obj.values())
    if isinstance(obj, list | tuple | set | frozenset):
        return list(obj)
    if isinstance(obj, types.MethodType):
        return [obj.__self__, obj.__func__]
    if isinstance(obj, functools.partial):
        return [obj.func, *obj.args, *obj.keywords.values()]
    if isinstance(obj, types.FunctionType):
        cells = [c.cell_contents for c in obj.__closure__ or () if _filled(c)]
        return [*cells, *(getattr(obj, "__wrapped__", None),)]
    if isinstance(obj, type | types.ModuleType):
        return []
    if not (module.startswith(_INSIDE) or module in home):
        return []
    children: list[Any] = []
    if hasattr(obj, "__dict__"):
        children.extend(vars(obj).values())
    for slot in getattr(type(obj), "__slots__", ()):
        children.append(getattr(obj, slot, None))
    return children


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises ValueError
    except ValueError:
        return False
    return True
