"""Old import paths of renamed internals keep working for one release, with a warning."""

from __future__ import annotations

import importlib
import sys

import pytest

from sessionward.calls import StoreCall


def test_the_old_ops_module_warns_and_still_gives_the_store_call_type() -> None:
    sys.modules.pop("sessionward.ops", None)
    with pytest.warns(DeprecationWarning, match="sessionward.calls"):
        old = importlib.import_module("sessionward.ops")
    assert old.Op is StoreCall
    assert old.Op("get", ("k",)) == StoreCall("get", ("k",))
