"""``sessionward check``: the demo is clean, every check fires on a misconfigured app, and the
command's output and exit codes are what docs/check.md says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import check_apps
from sessionward import AsyncMemoryStore, AsyncSessionManager, SessionManager, SessionPolicy
from sessionward.checks import CHECKS, Severity, check_app, discover
from sessionward.cli import main

DOCS = Path(__file__).resolve().parents[1] / "docs" / "check.md"

MISCONFIGURED = [
    check_apps.bad,
    check_apps.bare_wsgi_on_shared_redis(),
    check_apps.flask_with_memory_store(),
    check_apps.flask_sharing_its_key(),
    check_apps.does_not_start(),
    check_apps.no_sessionward,
]


def ids(app: object, *, deploy: bool = False) -> set[str]:
    return {f.id for f in check_app(app, deploy=deploy)}


@pytest.mark.parametrize("deploy", [False, True])
def test_the_demo_comes_out_clean(deploy: bool) -> None:
    assert check_app(check_apps.demo, deploy=deploy) == []


def test_discovery_finds_the_demo_stack_in_order() -> None:
    found = discover(check_apps.demo)
    names = [type(layer).__name__ for layer in found.chains[0]]
    wanted = ["HTTPSRedirectMiddleware", "SecurityHeadersMiddleware", "DeviceBindingMiddleware"]
    assert [n for n in names if n in wanted] == wanted
    assert names.index("CSRFMiddleware") > names.index("DeviceBindingMiddleware")
    assert len(found.managers) == 1 and found.framework == "starlette"


def test_every_check_fires_on_some_misconfigured_app() -> None:
    fired = set().union(*(ids(app, deploy=True) for app in MISCONFIGURED))
    assert fired == {c.id for c in CHECKS}


def test_the_bad_starlette_app_in_detail() -> None:
    findings = {f.id: f for f in check_app(check_apps.bad, deploy=True)}
    assert findings["SW003"].severity is Severity.ERROR  # development cookies in production
    assert "runs before any session is loaded" in findings["SW008"].message
    assert "0.0.0.0/0" in findings["SW012"].message or "every address" in findings["SW012"].message
    assert "db.internal.example" in findings["SW009"].message
    assert "CSRF key and JWT key" in findings["SW016"].message
    assert "900 s" in findings["SW017"].message
    assert "http://a.example" in findings["SW022"].message
    # without --deploy the development cookie is only a note, and production-only checks are off
    relaxed = {f.id: f for f in check_app(check_apps.bad)}
    assert relaxed["SW003"].severity is Severity.INFO
    assert "SW006" not in relaxed and "SW020" not in relaxed


def test_an_app_that_cannot_start_or_has_no_session_gets_only_that_finding() -> None:
    assert ids(check_apps.does_not_start(), deploy=True) == {"SW002"}
    assert ids(check_apps.no_sessionward, deploy=True) == {"SW001"}


def test_a_good_app_is_clean_and_deploy_adds_production_checks() -> None:
    assert ids(check_apps.good) == set()
    assert ids(check_apps.good, deploy=True) == {"SW018", "SW020"}  # memory store, no audit log


def test_a_manager_alone_is_checked() -> None:
    manager = SessionManager(check_apps.MemoryStore(), policy=SessionPolicy(idle_timeout=3 * 3600))
    assert ids(manager) == {"SW013"}


def test_docs_list_every_check_with_its_severity() -> None:
    text = DOCS.read_text()
    for c in CHECKS:
        row = re.search(rf"^\| `{c.id}` \|[^\n]*", text, re.M)
        assert row is not None, f"{c.id} is missing from docs/check.md"
        assert str(c.severity) in row.group(0) and c.title in row.group(0)
        assert c.fix.replace("|", "/") in row.group(0), f"{c.id}: the fix in docs/check.md is stale"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["check", *args])
    return code, capsys.readouterr().out


def test_cli_text_json_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "check_apps:demo", "--deploy")
    assert code == 0 and "no findings" in out
    code, out = run(capsys, "check_apps:good", "--deploy")
    assert code == 1 and "SW018 warning: memory store in production" in out and "fix:" in out
    code, out = run(capsys, "check_apps:bad", "--json")
    assert code == 5
    body = json.loads(out)
    assert body["framework"] == "starlette" and body["deploy"] is False
    assert {"id", "severity", "title", "message", "fix"} <= set(body["findings"][0])
    assert body["findings"][0]["severity"] == "error"  # worst first


def test_cli_factory_manager_and_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "check_apps:flask_with_memory_store", "--factory", "--deploy")
    assert code == 5 and "Flask SECRET_KEY is weak" in out
    code, out = run(capsys, "--manager", "test_check:long_idle_manager")
    assert code == 1 and "SW013" in out
    code, out = run(capsys, "no_such_module_here:app")
    assert code == 2 and "cannot import" in out
    code, out = run(capsys, "check_apps")
    assert code == 2 and "module:attribute" in out
    code, out = run(capsys)
    assert code == 2 and "--manager" in out


def long_idle_manager() -> AsyncSessionManager:
    """A factory for the --manager test."""
    return AsyncSessionManager(AsyncMemoryStore(), policy=SessionPolicy(idle_timeout=7200))


DJANGO_MANAGER = SessionManager(check_apps.MemoryStore())


def test_django_settings_are_checked() -> None:
    from frameworks.django_settings import configure

    configure()  # the one Django configuration every test module in this process shares
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    middleware = ["sessionward.integrations.django.SessionwardMiddleware"]
    with override_settings(
        MIDDLEWARE=middleware,
        SESSIONWARD_MANAGER=f"{__name__}.DJANGO_MANAGER",
        SECRET_KEY=check_apps.STRONG,
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    ):
        found = check_app(WSGIHandler(), deploy=True)
    assert {f.id for f in found} == {"SW005", "SW006", "SW007", "SW011", "SW018", "SW020"}
    with override_settings(
        MIDDLEWARE=[*middleware, "django.middleware.csrf.CsrfViewMiddleware"],
        SESSIONWARD_MANAGER=f"{__name__}.DJANGO_MANAGER",
        SECRET_KEY=check_apps.STRONG,
        SECURE_SSL_REDIRECT=True,
        SECURE_HSTS_SECONDS=63072000,
    ):
        assert {f.id for f in check_app(WSGIHandler(), deploy=True)} == {"SW018", "SW020"}


def test_cli_reports_a_start_up_configuration_error_as_sw002(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(capsys, "check_apps:refuses_its_cookie", "--factory")
    assert code == 5 and "SW002 error" in out and "__Host- prefix requires secure=True" in out


def test_django_engine_manager_and_proxy_settings_are_checked(tmp_path: Path) -> None:
    from frameworks.django_settings import configure

    configure()
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    from sessionward.integrations.django import conf

    with override_settings(
        SESSION_ENGINE="sessionward.integrations.django.engine",
        SESSIONWARD_MANAGER=None,
        SESSIONWARD_STORE=str(tmp_path / "dj.sqlite3"),
        SESSIONWARD_POLICY=SessionPolicy(idle_timeout=4 * 3600),
        MIDDLEWARE=["sessionward.integrations.django.SessionwardMiddleware"],
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    ):
        conf.reset()
        try:
            found = {f.id for f in check_app(WSGIHandler())}
        finally:
            conf.reset()
    assert {"SW011", "SW013"} <= found


def test_the_checks_package_lists_its_public_api() -> None:
    import sessionward.checks as checks

    assert all(hasattr(checks, name) for name in checks.__all__)
    assert sorted(checks.__all__) == checks.__all__


def test_flask_csrf_extension_counts_and_its_settings_are_checked() -> None:
    found = {f.id: f for f in check_app(check_apps.flask_with_csrf_trusting_http())}
    assert "SW007" not in found
    assert "http://old.example" in found["SW022"].message
    assert "CSRF key is weak" in found["SW015"].message
