"""Factories for every store the contract suite runs against.

Each factory returns a *synchronous-looking* store that starts empty, or calls
``require_service`` when its server is missing. Add a backend here and the whole suite runs on it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sessionward import AsyncMemoryStore, AsyncSQLiteStore, MemoryStore, SQLiteStore

from .adapters import Blocking

Factory = Callable[[Path], Any]


def memory(tmp: Path) -> Any:
    return MemoryStore()


def memory_async(tmp: Path) -> Any:
    return Blocking(AsyncMemoryStore())


def sqlite(tmp: Path) -> Any:
    return SQLiteStore(tmp / "sessions.sqlite3")


def sqlite_async(tmp: Path) -> Any:
    return Blocking(AsyncSQLiteStore(tmp / "sessions.sqlite3"))


FACTORIES: dict[str, Factory] = {
    "memory": memory,
    "memory-async": memory_async,
    "sqlite": sqlite,
    "sqlite-async": sqlite_async,
}
