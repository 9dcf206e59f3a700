"""The wheel, installed as a user would: bare and with each extra alone, in fresh environments.

Select with ``-m install`` (or leave out with ``-m "not install"``). Without uv or a reachable
package index these tests skip locally and fail under CI, like every service-backed test.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import require_service
from distributed.services import POSTGRES_URL, REDIS_URL, postgres_problem, redis_problem

from . import matrix
from .matrix import MATRIX, Case, InstallProblem

pytestmark = pytest.mark.install

PROBES = {"redis": redis_problem, "postgres": postgres_problem}
SERVICE_ENV = {"SESSIONWARD_TEST_REDIS": REDIS_URL, "SESSIONWARD_TEST_POSTGRES": POSTGRES_URL}


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        [wheel] = matrix.build(tmp_path_factory.mktemp("dist"), "--wheel")
    except InstallProblem as exc:
        require_service("uv", str(exc))
        raise
    return wheel


class Environments:
    """The matrix's environments, made in the background as soon as the run starts."""

    def __init__(self, pool: ThreadPoolExecutor, wheel: Path, house: Path, root: Path) -> None:
        self._pool, self._wheel, self._house, self._root = pool, wheel, house, root
        self._made: dict[str, Future[Path]] = {}

    def start(self, case: Case) -> None:
        if case.name not in self._made:
            where = self._root / case.name
            self._made[case.name] = self._pool.submit(
                matrix.make_env, case, self._wheel, self._house, where
            )

    def python(self, name: str) -> Path:
        self.start(next(case for case in MATRIX if case.name == name))
        return self._made[name].result()


@pytest.fixture(scope="session")
def environments(
    request: pytest.FixtureRequest, dist: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Environments]:
    try:
        house = matrix.fill_wheelhouse(dist)
    except InstallProblem as exc:
        require_service("package index", str(exc))
        raise
    with ThreadPoolExecutor(max_workers=3) as pool:
        envs = Environments(pool, dist, house, tmp_path_factory.mktemp("envs"))
        # Start every environment this run will use (and only those), in parallel.
        for item in request.session.items:
            params = getattr(getattr(item, "callspec", None), "params", {})
            if isinstance(params.get("case"), Case):
                envs.start(params["case"])
        yield envs


@pytest.mark.parametrize("case", MATRIX, ids=lambda case: case.name)
def test_extra_installs_alone_and_works(
    case: Case, environments: Environments, tmp_path: Path
) -> None:
    for service in case.services:
        require_service(service, PROBES[service]())
    python = environments.python(case.name)
    matrix.smoke(case, python, tmp_path, SERVICE_ENV)


def test_every_extra_is_in_the_matrix(dist: Path) -> None:
    """An extra added to pyproject.toml without a matrix line fails here."""
    with zipfile.ZipFile(dist) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(name).decode().splitlines()
    declared = {
        line.split(":", 1)[1].strip() for line in lines if line.startswith("Provides-Extra")
    }
    tested = {extra for case in MATRIX for extra in case.extras}
    # sqlite needs nothing beyond the standard library (the bare case covers it); dev and bench
    # (the benchmark's peers and clients, for bench/ only) are ours.
    untested = declared - tested - {"sqlite", "dev", "bench"}
    assert not untested, (
        f"extras {sorted(untested)} are not in the install matrix: add a Case line to "
        "tests/install/matrix.py and a smoke script tests/install/smoke/smoke_<name>.py"
    )
    assert all(case.script.exists() for case in MATRIX)


def test_bare_install_holds_nothing_but_sessionward(environments: Environments) -> None:
    python = environments.python("bare")
    listed = subprocess.run(
        [str(python), "-m", "pip", "--version"], capture_output=True, text=True, check=False
    )
    assert listed.returncode != 0  # uv made the venv without pip: nothing but sessionward
    freeze = matrix.run(matrix.uv(), "pip", "freeze", "--python", str(python))
    assert [line.split(" ")[0] for line in freeze.splitlines()] == ["sessionward"]


def test_wheel_and_sdist_pass_twine_and_carry_the_data_files(tmp_path: Path) -> None:
    built = matrix.build(tmp_path, "--wheel", "--sdist")
    assert sorted(p.suffix for p in built) == [".gz", ".whl"]
    twine = Path(sys.executable).with_name("twine")
    if not twine.exists():
        require_service("twine", "twine is not installed (it is in the dev extra)")
    matrix.run(str(twine), "check", "--strict", *map(str, built))
    [wheel] = [p for p in built if p.suffix == ".whl"]
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        text = archive.read(metadata).decode()
    assert "sessionward/py.typed" in names
    assert "sessionward/demo/templates/login.html" in names
    assert "sessionward/demo/static/app.css" in names
    assert "Classifier: Typing :: Typed" in text
    assert "Project-URL: " in text
    assert "Description-Content-Type: text/markdown" in text
