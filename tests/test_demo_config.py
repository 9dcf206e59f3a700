from __future__ import annotations

from pathlib import Path

import pytest

from sessionward import ConfigurationError
from sessionward.demo import config
from sessionward.demo.__main__ import main


def test_defaults() -> None:
    c = config.load([], env={})
    assert (c.host, c.port, c.insecure_http) == ("127.0.0.1", 8443, False)
    assert c.store_path == Path(".sessionward-demo/sessions.sqlite3")


def test_options_beat_environment() -> None:
    env = {"SESSIONWARD_DEMO_PORT": "9000", "SESSIONWARD_DEMO_IDLE_TIMEOUT": "120"}
    c = config.load(["--port", "9001"], env=env)
    assert (c.port, c.idle_timeout) == (9001, 120)
    assert c.policy().idle_timeout == 120


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "0"], "--port must be between 1 and 65535"),
        (["--port", "eighty"], "--port must be a whole number"),
        (["--idle-timeout", "-5"], "--idle-timeout must be between"),
        (["--idle-timeout", "600", "--absolute-timeout", "60"], "at least idle_timeout"),
        (["--insecure-http", "--host", "0.0.0.0"], "only on a loopback address"),  # noqa: S104
    ],
)
def test_bad_values_are_rejected_with_a_clear_message(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        config.load(argv, env={})


def test_bad_environment_value() -> None:
    with pytest.raises(ConfigurationError, match="INSECURE_HTTP must be 1 or 0"):
        config.load([], env={"SESSIONWARD_DEMO_INSECURE_HTTP": "maybe"})


def test_main_exits_2_with_the_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", "70000"]) == 2
    assert "--port must be between 1 and 65535" in capsys.readouterr().err


def test_insecure_http_uses_development_cookies(tmp_path: Path) -> None:
    from sessionward.demo import create_app
    from sessionward.demo.users import UserDirectory

    c = config.load(["--insecure-http", "--store", str(tmp_path / "s.db")], env={})
    with pytest.warns(UserWarning, match="insecure development cookies"):
        create_app(c, UserDirectory({}))
