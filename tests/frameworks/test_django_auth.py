"""Django's stock auth, admin, messages and CSRF on sessionward, through the example project."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from .django_helpers import COOKIE, PASSWORD, Site, login


def test_stock_login_view_rotates_keeps_data_and_records_the_user(site: Site) -> None:
    client = Client()
    before = client.session
    before["cart"] = "book"
    before.save()
    old_key = before.session_key
    assert login(client).status_code == 302
    new_key = client.cookies[COOKIE].value
    assert new_key != old_key
    assert not site.manager.exists(old_key)  # the pre-login ID died at once
    assert client.session["cart"] == "book"
    (info,) = site.sessions()
    assert info.user_id == str(site.user.pk) and info.authenticated_at == site.clock.now()
    assert "login.succeeded" in site.sink.kinds()
    assert site.signed_in(client)


def test_stock_logout_view_ends_the_session_and_clears_the_browser(site: Site) -> None:
    client = Client()
    login(client)
    key = client.cookies[COOKIE].value
    response = client.post("/logout/")
    assert response.status_code == 302
    assert "Max-Age=0" in response.cookies[COOKIE].output()
    assert "cache" in response["Clear-Site-Data"]
    assert not site.manager.exists(key)
    replay = Client()
    replay.cookies[COOKIE] = key
    assert not site.signed_in(replay)
    assert site.sessions() == []


def test_password_change_ends_the_other_sessions_at_once(site: Site) -> None:
    laptop, phone = Client(), Client()
    login(laptop)
    login(phone)
    phone_key = phone.cookies[COOKIE].value
    assert len(site.sessions()) == 2
    new = "a much longer new password 42"
    response = laptop.post(
        "/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    # The phone's session is gone from the store, not merely refused on its next request.
    assert not site.manager.exists(phone_key)
    assert [s.current for s in site.sessions()] == [False]
    assert site.signed_in(laptop)
    assert not site.signed_in(phone)


def test_deactivating_a_user_ends_their_sessions(site: Site) -> None:
    first, second = Client(), Client()
    login(first)
    second.force_login(site.user)
    assert len(site.sessions()) == 2
    site.user.is_active = False
    site.user.save()
    assert site.sessions() == []
    assert not site.signed_in(first) and not site.signed_in(second)


def test_test_client_login_and_force_login(site: Site) -> None:
    client = Client()
    assert client.login(username="alice", password=PASSWORD)
    assert site.signed_in(client)
    other = Client()
    other.force_login(site.user)
    assert site.signed_in(other)
    assert len(site.sessions()) == 2
    client.logout()
    assert len(site.sessions()) == 1


def test_idle_timeout_and_clearsessions(site: Site) -> None:
    client = Client()
    login(client)
    site.clock.advance(601)
    call_command("clearsessions")
    assert site.manager.store.list_all() == []
    assert not site.signed_in(client)


def test_admin_login_and_logout(site: Site) -> None:
    site.user.is_superuser = True
    site.user.save()
    client = Client()
    assert client.get("/admin/").status_code == 302
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "alice", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert len(site.sessions()) == 1
    assert client.post("/admin/logout/").status_code == 302  # to LOGOUT_REDIRECT_URL
    assert site.sessions() == []


@pytest.mark.parametrize(
    "storage",
    [
        "django.contrib.messages.storage.fallback.FallbackStorage",
        "django.contrib.messages.storage.session.SessionStorage",
    ],
)
def test_messages_survive_a_redirect(site: Site, storage: str) -> None:
    client = Client()
    login(client)
    with override_settings(MESSAGE_STORAGE=storage):
        response = client.post("/", follow=True)
    assert "Hello again, alice." in response.content.decode()


def test_csrf_use_sessions(site: Site) -> None:
    client = Client(enforce_csrf_checks=True)
    with override_settings(CSRF_USE_SESSIONS=True):
        form = client.get("/login/").content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
        assert token is not None
        assert "csrftoken" not in client.cookies  # kept in the session, not a cookie
        refused = client.post("/login/", {"username": "alice", "password": PASSWORD})
        assert refused.status_code == 403
        accepted = client.post(
            "/login/",
            {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
        )
        assert accepted.status_code == 302
        assert site.signed_in(client)


def test_engine_under_djangos_own_session_middleware(site: Site) -> None:
    from django.conf import settings

    middleware = [
        "django.contrib.sessions.middleware.SessionMiddleware" if "Sessionward" in m else m
        for m in settings.MIDDLEWARE
    ]
    with override_settings(MIDDLEWARE=middleware, SESSION_SAVE_EVERY_REQUEST=True):
        client = Client()
        assert login(client).status_code == 302
        (info,) = site.sessions()
        assert info.user_id == str(site.user.pk)
        assert site.signed_in(client)
        key = client.cookies[COOKIE].value
        client.post("/logout/")
        assert not site.manager.exists(key)
        assert site.sessions() == []
