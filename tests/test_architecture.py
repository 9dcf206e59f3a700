"""House rules that keep the codebase honest, checked mechanically."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import sessionward

SRC = Path(sessionward.__file__).parent


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            prefix = "." * node.level
            found.add(prefix + (node.module or ""))
    return found


def test_public_api_is_complete_and_sorted() -> None:
    assert len(set(sessionward.__all__)) == len(sessionward.__all__)
    for name in sessionward.__all__:
        assert hasattr(sessionward, name), name
    public_classes = {
        name
        for name, value in vars(sessionward).items()
        if isinstance(value, type) and not name.startswith("_")
    }
    assert public_classes <= set(sessionward.__all__)


FRAMEWORKS_AND_DRIVERS = {
    "starlette",
    "fastapi",
    "flask",
    "werkzeug",
    "django",
    "uvicorn",
    "jinja2",
    "httpx",
    "redis",
    "psycopg",
    "psycopg_pool",
    "sqlite3",
    "asyncpg",
    "anyio",
    "asyncio",
}


def test_core_depends_on_no_framework_driver_or_outer_module() -> None:
    core_modules = {p.stem for p in (SRC / "core").glob("*.py")}
    for path in (SRC / "core").glob("*.py"):
        for name in imports_of(path):
            if name.startswith(".."):
                assert name == "..errors", f"core/{path.name} reaches outward: {name}"
            elif name.startswith("."):
                assert name[1:].split(".")[0] in core_modules | {""}, name
            else:
                top = name.split(".")[0]
                assert top not in FRAMEWORKS_AND_DRIVERS, f"core/{path.name} imports {name}"


def test_no_pickle_and_no_assert_for_validation_anywhere() -> None:
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        assert "import pickle" not in text and "pickle." not in text, path
        tree = ast.parse(text)
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.Assert)], path


def test_set_cookie_is_written_in_one_place() -> None:
    writers = [
        p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py") if "Max-Age=" in p.read_text()
    ]
    assert writers == ["core/cookies.py"]


def test_importing_sessionward_pulls_in_no_framework_or_driver() -> None:
    code = (
        "import sys, sessionward; "
        "bad = [m for m in ('starlette', 'jinja2', 'redis', 'psycopg', 'jwt', 'flask', "
        "'django', 'click', 'prometheus_client', 'ua_parser') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
