"""Optional dependencies: a missing extra is an ImportError that names it."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("blocked", "module", "extra"),
    [
        ("jwt", "sessionward.tokens", "sessionward[jwt]"),
        ("jwt", "sessionward.integrations.bearer", "sessionward[jwt]"),
        ("fastapi", "sessionward.integrations.fastapi", "sessionward[fastapi,jwt]"),
    ],
)
def test_missing_extra_names_it(blocked: str, module: str, extra: str) -> None:
    code = f"import sys; sys.modules[{blocked!r}] = None; import {module}"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "ImportError" in result.stderr and extra in result.stderr


def test_import_sessionward_does_not_import_pyjwt() -> None:
    code = "import sys, sessionward; sys.exit(1 if 'jwt' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_tokens_public_api_is_complete_and_sorted() -> None:
    import sessionward.tokens as tokens

    assert tokens.__all__ == sorted(tokens.__all__)
    for name in tokens.__all__:
        assert hasattr(tokens, name), name
    public_classes = {
        name
        for name, value in vars(tokens).items()
        if isinstance(value, type) and not name.startswith("_")
    }
    assert public_classes <= set(tokens.__all__)
