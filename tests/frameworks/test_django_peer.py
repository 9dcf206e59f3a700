"""Django's own session and auth tests, from the sdist of the installed Django, on sessionward.

The sdist is downloaded once into ``~/.cache/sessionward/peers`` (``pip download``); without
network the tests skip locally and fail under CI (``require_service``). Nothing of Django's
code is in this repository. ``runner.py`` runs them in a process of its own (Django is
configured once per process); every failure must be listed, with its reason, in
``django_expected_failures.txt``, and every listed test must still fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import django
import pytest

from conftest import require_service
from distributed.services import postgres_problem, redis_problem

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "django_peer" / "runner.py"
EXPECTED = HERE / "django_expected_failures.txt"
CACHE = Path(os.environ.get("SESSIONWARD_PEER_CACHE", Path.home() / ".cache/sessionward/peers"))
WANTED = ("tests/sessions_tests/", "tests/auth_tests/")


def _download(version: str) -> tuple[Path | None, str | None]:
    sdist = CACHE / f"django-{version}.tar.gz"
    if sdist.is_file():
        return sdist, None
    CACHE.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps"]
    command += ["--disable-pip-version-check", f"django=={version}", "-d", str(CACHE)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    except subprocess.TimeoutExpired:
        return None, "pip download timed out"
    if done.returncode != 0 or not sdist.is_file():
        lines = (done.stderr or done.stdout).strip().splitlines()
        return None, lines[-1] if lines else f"pip download exited {done.returncode}"
    return sdist, None


@pytest.fixture(scope="module")
def django_tests() -> Path:
    version = django.__version__
    target = CACHE / f"django-{version}-tests"
    if not (target / "sessions_tests" / "tests.py").is_file():
        sdist, problem = _download(version)
        require_service("pypi (Django sdist)", problem)
        if sdist is None:  # pragma: no cover - require_service skipped or failed
            raise RuntimeError(problem)
        prefix = f"django-{version}/"
        with tarfile.open(sdist) as archive:
            members = []
            for member in archive.getmembers():
                inner = member.name.removeprefix(prefix)
                if inner.startswith(WANTED) and (member.isfile() or member.isdir()):
                    member.name = inner.removeprefix("tests/")
                    members.append(member)
            archive.extractall(target, members=members, filter="data")
    return target


def expected_failures() -> dict[str, str]:
    listed: dict[str, str] = {}
    for line in EXPECTED.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            test, _, reason = line.partition(" | ")
            listed[test.strip()] = reason.strip()
    return listed


def run(django_tests: Path, store: str, suites: str, tmp_path: Path) -> dict[str, str]:
    result = tmp_path / f"{store}.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, str(RUNNER), str(django_tests), store, str(result), suites],
        capture_output=True,
        text=True,
        timeout=110,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-6000:]
    outcomes: dict[str, str] = json.loads(result.read_text())["outcomes"]
    return outcomes


def check(outcomes: dict[str, str], store: str) -> None:
    listed = expected_failures()
    failed = {t for t, o in outcomes.items() if o in ("fail", "error")}
    unexpected = sorted(failed - set(listed))
    fixed = sorted(t for t in listed if outcomes.get(t) == "pass")
    assert not unexpected, f"{store}: failing and not in {EXPECTED.name}: {unexpected}"
    assert not fixed, f"{store}: listed as failing but passing (remove them): {fixed}"
    mixin = [o for t, o in outcomes.items() if t.startswith("SessionTestsMixin.")]
    assert len(mixin) >= 65, f"{store}: only {len(mixin)} SessionTestsMixin tests ran"
    assert mixin.count("pass") >= 60, f"{store}: {mixin.count('pass')} of 65 passed"


def test_django_session_and_auth_tests_on_sqlite(django_tests: Path, tmp_path: Path) -> None:
    outcomes = run(django_tests, "sqlite", "all", tmp_path)
    check(outcomes, "sqlite")
    assert any(t.startswith("LoginTest.") for t in outcomes)
    assert any(t.startswith("SessionMiddlewareTests.") for t in outcomes)


def test_django_session_tests_on_redis(django_tests: Path, tmp_path: Path) -> None:
    require_service("redis", redis_problem())
    check(run(django_tests, "redis", "mixin", tmp_path), "redis")


def test_django_session_tests_on_postgres(django_tests: Path, tmp_path: Path) -> None:
    require_service("postgres", postgres_problem())
    check(run(django_tests, "postgres", "mixin", tmp_path), "postgres")
