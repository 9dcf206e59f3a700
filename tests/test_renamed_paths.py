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


def test_the_old_monitor_module_warns_and_names_the_observer() -> None:
    from sessionward.observer import Observer

    sys.modules.pop("sessionward.monitor", None)
    with pytest.warns(DeprecationWarning, match="sessionward.observer"):
        old = importlib.import_module("sessionward.monitor")
    assert old.Monitor is Observer


def test_the_flows_observe_through_a_collaborator_not_a_base_class() -> None:
    from sessionward import MemoryStore, SessionManager
    from sessionward.flows import SessionFlows
    from sessionward.observer import Observer

    flows = SessionManager(MemoryStore()).flows
    assert isinstance(flows, SessionFlows)
    assert isinstance(flows.observer, Observer)
    assert not isinstance(flows, Observer)


def test_the_old_flows_name_warns_and_is_the_session_flows() -> None:
    import sessionward.flows as flows

    with pytest.warns(DeprecationWarning, match="SessionFlows"):
        old = flows.Flows
    assert old is flows.SessionFlows


def test_the_old_core_tokens_module_warns_and_gives_the_session_token_functions() -> None:
    from sessionward.core import session_tokens

    sys.modules.pop("sessionward.core.tokens", None)
    with pytest.warns(DeprecationWarning, match="sessionward.core.session_tokens"):
        old = importlib.import_module("sessionward.core.tokens")
    assert old.new_token is session_tokens.new_token
    assert old.session_key is session_tokens.session_key
    assert set(old.__all__) <= set(dir(session_tokens))


@pytest.mark.parametrize("module_name", ["sessionward.tokens", "sessionward.tokens.keys"])
def test_the_old_key_ring_name_warns_and_is_the_signing_keys(module_name: str) -> None:
    from sessionward.tokens import SigningKeys

    module = importlib.import_module(module_name)
    with pytest.warns(DeprecationWarning, match="SigningKeys"):
        old = module.KeyRing
    assert old is SigningKeys
    assert "KeyRing" not in getattr(module, "__all__", ())


def test_the_old_urls_module_warns_and_gives_the_store_factory() -> None:
    from sessionward import store_urls

    sys.modules.pop("sessionward.urls", None)
    with pytest.warns(DeprecationWarning, match="sessionward.store_urls"):
        old = importlib.import_module("sessionward.urls")
    assert old.open_store is store_urls.open_store
    assert old.open_async_store is store_urls.open_async_store
    assert old.open_audit_log is store_urls.open_audit_log


def test_the_cookie_config_names_its_wire_name_and_the_old_alias_warns() -> None:
    from sessionward import CookieConfig

    config = CookieConfig(name="sid")
    assert config.wire_name == "__Host-sid"
    with pytest.warns(UserWarning, match="insecure development cookies"):
        development = CookieConfig.development(name="sid")
    assert development.wire_name == "sid"
    with pytest.warns(DeprecationWarning, match="wire_name"):
        old = config.cookie_name
    assert old == "__Host-sid"
