"""Every Python block in README.md and docs/*.md runs as a reader would copy it."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import COUNTS, progress
from .runner import ROOT, Progress, documents, python_blocks, run_until

BLOCKS = [(path, line) for path in documents() for line, _ in python_blocks(path)]


@pytest.mark.parametrize(
    ("path", "line"), BLOCKS, ids=[f"{p.relative_to(ROOT)}:{line}" for p, line in BLOCKS]
)
def test_block_runs_as_written(
    path: Path,
    line: int,
    docs_env: dict[str, str],
    progress_of: dict[Path, Progress],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    outcome = run_until(progress(path, progress_of, tmp_path_factory), line, docs_env)
    COUNTS[outcome] += 1
    if outcome == "skipped":
        pytest.skip("marked <!-- skip: next --> in the document, with the reason in its prose")


def test_every_document_is_read() -> None:
    assert len(BLOCKS) >= 12
    assert {p.name for p in documents()} >= {"README.md", "testing.md", "stores.md"}
