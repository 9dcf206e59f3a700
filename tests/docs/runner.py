"""Run the Python blocks of README.md and docs/*.md with Sybil, in order, one test per block.

Sybil (not pytest-examples) because it runs a document's blocks in one shared namespace, as a
reader pastes them one after another, and has a documented skip directive
(``<!-- skip: next -->``); pytest-examples runs each block alone and is built around linting
and rewriting output. Why in docs/testing.md.

Sybil's own pytest plugin collects only files below the ``conftest.py`` that installs it, and
the documents live outside ``tests/``; so this module parses them with Sybil and evaluates the
examples itself. A test for block *n* first runs blocks 1..n-1 of its document (once), so
``-k`` on one block works.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import SkipTest

from sybil import Document, Example, Sybil
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser

ROOT = Path(__file__).resolve().parents[2]
SYBIL = Sybil(
    parsers=[PythonCodeBlockParser(), SkipParser()],
    path=str(ROOT),
    patterns=["README.md", "docs/*.md"],
)


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@dataclass
class Progress:
    """One document being read: its examples, how far we got, what went wrong."""

    document: Document
    examples: list[Example]
    cwd: Path
    done: int = 0
    failed: str | None = None
    skip_next: bool = False


def python_blocks(path: Path) -> list[tuple[int, Example]]:
    """(line, example) of every Python block, skip directives left out."""
    document = SYBIL.parse(path)
    return [
        (example.line, example)
        for example in document.examples()
        if not isinstance(example.parsed, tuple)  # skip directives parse to (action, reason)
    ]


@contextmanager
def inside(cwd: Path, env: dict[str, str]) -> Iterator[None]:
    before, saved = Path.cwd(), {k: os.environ.get(k) for k in env}
    os.chdir(cwd)
    os.environ.update(env)
    try:
        yield
    finally:
        os.chdir(before)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_until(progress: Progress, line: int, env: dict[str, str]) -> str:
    """Evaluate the document's examples up to and including the block at ``line``.

    Returns "ran" or "skipped" for that block; raises what the block raised.
    """
    if progress.failed is not None:
        raise AssertionError(f"an earlier block of this document failed: {progress.failed}")
    with inside(progress.cwd, env):
        while progress.done < len(progress.examples):
            example = progress.examples[progress.done]
            progress.done += 1
            outcome = _evaluate(progress, example)
            if example.line == line and not isinstance(example.parsed, tuple):
                return outcome
    raise LookupError(f"no Python block at line {line}")


def _evaluate(progress: Progress, example: Example) -> str:
    if isinstance(example.parsed, tuple):
        # A skip directive: Sybil skips the block after `<!-- skip: next -->` silently, so
        # remember it to count that block as skipped, not as run.
        progress.skip_next = example.parsed[0] == "next"
    elif progress.skip_next:
        progress.skip_next = False
        example.evaluate()
        return "skipped"
    try:
        example.evaluate()
    except SkipTest:
        return "skipped"
    except BaseException as exc:
        progress.failed = f"line {example.line}: {type(exc).__name__}: {exc}"
        raise
    return "ran"


def start(path: Path, cwd: Path) -> Progress:
    """Parse ``path`` and give its blocks the namespace of a real module, ``docs_<name>``, whose
    file is in ``cwd``: like a reader's ``app.py`` (Flask and Django look modules up by name)."""
    document = SYBIL.parse(path)
    name = "docs_" + path.stem.replace("-", "_").lower()
    module = types.ModuleType(name)
    module.__file__ = str(cwd / f"{name}.py")
    sys.modules[name] = module
    document.namespace = module.__dict__
    return Progress(document, list(document.examples()), cwd)
