"""The Redis and PostgreSQL stores stay optional extras."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_importing_sessionward_imports_no_database_client() -> None:
    code = (
        "import sys, sessionward, sessionward.manager, sessionward.integrations.asgi; "
        "loaded = {'redis', 'psycopg', 'psycopg_pool', 'hiredis'} & set(sys.modules); "
        "sys.exit(f'imported {sorted(loaded)}' if loaded else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize(
    ("module", "blocked", "extra"),
    [
        ("sessionward.stores.redis", "redis", "sessionward[redis]"),
        ("sessionward.stores.postgres", "psycopg", "sessionward[postgres]"),
    ],
)
def test_a_missing_extra_names_itself(module: str, blocked: str, extra: str) -> None:
    code = (
        f"import sys; sys.modules[{blocked!r}] = None\n"
        f"try:\n    import {module}\n"
        f"except ImportError as exc:\n    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    assert f"pip install '{extra}'" in out
