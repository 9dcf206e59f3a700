"""House rules that keep the codebase honest, checked mechanically."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

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


PUBLIC_MODULES = [
    "sessionward",
    "sessionward.stores",
    "sessionward.monitoring",
    "sessionward.tokens",
    "sessionward.audit",
    "sessionward.integrations.fastapi",
    "sessionward.integrations.flask",
    "sessionward.integrations.django",
]


FACADES = {"sessionward", "sessionward.stores", "sessionward.monitoring", "sessionward.tokens"}


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_each_public_all_is_complete_importable_and_has_nothing_private(module_name: str) -> None:
    module = importlib.import_module(module_name)
    names = list(module.__all__)
    assert len(set(names)) == len(names), "duplicates in __all__"
    for name in names:
        assert hasattr(module, name), f"{module_name}.{name} is listed but missing"
        assert not name.startswith("_") or name == "__version__", f"{module_name}.{name}"
    # A facade (a package __init__ of re-exports) lists every class it imports; a framework
    # module lists the classes it defines (its imports of sessionward's own types are not its API).
    home = "sessionward" if module_name in FACADES else module_name
    public_classes = {
        name
        for name, value in vars(module).items()
        if isinstance(value, type)
        and not name.startswith("_")
        and value.__module__.startswith(home)
    }
    assert public_classes <= set(names), f"{module_name} has public classes not in __all__"


def test_the_top_level_api_holds_what_an_app_needs_and_not_the_store_or_monitoring_layers() -> None:
    import sessionward.monitoring
    import sessionward.stores

    app_names = set(sessionward.__all__)
    assert {"SessionManager", "SessionMiddleware", "WSGISessionMiddleware", "CookieConfig"} <= (
        app_names
    )
    assert not app_names & (
        set(sessionward.stores.__all__)
        - {"MemoryStore", "AsyncMemoryStore", "SQLiteStore", "AsyncSQLiteStore"}
    )
    assert not app_names & set(sessionward.monitoring.__all__)


@pytest.mark.parametrize("name", sorted(sessionward.MOVED))
def test_names_moved_out_of_the_top_level_still_work_with_a_warning(name: str) -> None:
    home = importlib.import_module(sessionward.MOVED[name])
    with pytest.warns(DeprecationWarning, match=sessionward.MOVED[name]):
        old = getattr(sessionward, name)
    assert old is getattr(home, name)
    assert name in home.__all__


def test_an_unknown_top_level_name_is_still_an_attribute_error() -> None:
    missing = "NoSuchThing"
    with pytest.raises(AttributeError, match="NoSuchThing"):
        getattr(sessionward, missing)


def test_no_private_module_is_imported_from_another_package() -> None:
    for path in SRC.rglob("*.py"):
        for name in imports_of(path):
            if not name.startswith(".."):
                continue
            parts = name.lstrip(".").split(".")
            private = [p for p in parts[1:] if p.startswith("_")]
            assert not private, f"{path.relative_to(SRC)} imports private module {name}"


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
