"""What the install matrix installs, and the machinery to do it fast.

Each :class:`Case` is one fresh virtual environment holding the wheel built from this checkout
plus one extra, and one script ``smoke/smoke_<name>.py`` run in it. Adding an extra to the
matrix is one line in :data:`MATRIX` and one smoke script.

Speed: the wheel is built once per run (``uv build``); the dependencies of every extra are kept
in a wheelhouse (``~/.cache/sessionward/wheelhouse``, or ``SESSIONWARD_WHEELHOUSE``) filled by
``pip wheel`` when the set of requirements changes, so each environment is made offline by
``uv venv`` + ``uv pip install --no-index`` in a second or two.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
SMOKE = Path(__file__).resolve().parent / "smoke"


@dataclass(frozen=True)
class Case:
    name: str  #: also names the smoke script: smoke/smoke_<name>.py
    extras: tuple[str, ...] = ()
    services: tuple[str, ...] = ()  #: real servers the smoke scenario talks to

    @property
    def script(self) -> Path:
        return SMOKE / f"smoke_{self.name}.py"


MATRIX: list[Case] = [
    Case("bare"),
    Case("asgi", ("asgi",)),
    Case("fastapi", ("fastapi",)),
    Case("flask", ("flask",)),
    Case("flask-login", ("flask-login",)),
    Case("django", ("django",)),
    Case("redis", ("redis",), services=("redis",)),
    Case("postgres", ("postgres",), services=("postgres",)),
    Case("jwt", ("jwt",)),
    Case("devices", ("devices",)),
    Case("cli", ("cli",)),
    Case("metrics", ("metrics",)),
    Case("speedups", ("speedups",)),
    Case("demo", ("demo",)),
]


class InstallProblem(Exception):
    """A tool or a package the matrix needs is not available on this machine."""


def uv() -> str:
    beside = Path(sys.executable).with_name("uv")
    found = str(beside) if beside.exists() else shutil.which("uv")
    if found is None:
        raise InstallProblem("uv is not installed (it is in the dev extra)")
    return found


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300
    )
    if done.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def build(out: Path, *kinds: str) -> list[Path]:
    """Build this checkout into ``out`` (``--wheel``, ``--sdist`` or both)."""
    run(uv(), "build", "-q", *kinds, "--out-dir", str(out), str(ROOT))
    return sorted(p for p in out.iterdir() if p.name.endswith((".whl", ".tar.gz")))


def requirements(wheel: Path) -> list[str]:
    """Every requirement of every extra in the matrix, read from the wheel's metadata."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(name).decode())
    wanted = {extra for case in MATRIX for extra in case.extras}
    found: set[str] = set()
    for line in metadata.get_all("Requires-Dist") or []:
        req = Requirement(line)
        if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in wanted):
            extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
            found.add(f"{req.name}{extras}{req.specifier}")
    return sorted(found)


def wheelhouse_dir() -> Path:
    default = Path.home() / ".cache" / "sessionward" / "wheelhouse"
    return Path(os.environ.get("SESSIONWARD_WHEELHOUSE", default))


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    # Several checkouts on one machine share the wheelhouse: fill it one at a time.
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def fill_wheelhouse(wheel: Path) -> Path:
    """Make sure the wheelhouse holds wheels for every requirement; download only on change."""
    house = wheelhouse_dir()
    reqs = requirements(wheel)
    digest = hashlib.sha256("\n".join([sys.version, *reqs]).encode()).hexdigest()
    stamp = house / f".filled-{digest[:16]}"
    with _locked(house.parent / "wheelhouse.lock"):
        if not stamp.exists():
            house.mkdir(parents=True, exist_ok=True)
            pip = [sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check"]
            try:
                run(*pip, "--wheel-dir", str(house), *reqs)
            except AssertionError as exc:
                raise InstallProblem(f"cannot fill the wheelhouse {house}: {exc}") from exc
            stamp.touch()
    return house


def make_env(case: Case, wheel: Path, house: Path, where: Path) -> Path:
    """A fresh virtual environment with the wheel and the case's extras; returns its python."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env["UV_NO_PROGRESS"] = "1"
    run(uv(), "venv", "-q", "--python", sys.executable, str(where), env=env)
    python = where / "bin" / "python"
    extras = f"[{','.join(case.extras)}]" if case.extras else ""
    run(
        uv(), "pip", "install", "-q", "--python", str(python), "--no-index",
        "--find-links", str(house), f"sessionward{extras} @ {wheel.as_uri()}",
        env=env,
    )  # fmt: skip
    return python


def smoke(case: Case, python: Path, cwd: Path, services: dict[str, str]) -> str:
    """Run the case's smoke script in its environment, from a directory outside the checkout
    (so nothing can be imported from the source tree)."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env.update(services)
    return run(str(python), str(case.script), cwd=cwd, env=env)
