"""The sessions app: users see and end their sessions; staff see and revoke anyone's."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from .django_helpers import PASSWORD, Site, login

PAGE = "/account/sessions/"


def handles(html: str) -> list[str]:
    return re.findall(r'name="handle" value="([^"]+)"', html)


def test_active_sessions_page_lists_and_ends_sessions(site: Site) -> None:
    laptop, phone, tablet = Client(), Client(HTTP_USER_AGENT="Phone/1.0"), Client()
    for client in (laptop, phone, tablet):
        login(client)
    page = laptop.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("(this device)") == 1
    assert "127.0.0.1" in html and "Phone/1.0" in html
    assert page["Cache-Control"] == "no-store"
    phone_handle = next(s.handle for s in site.sessions() if s.user_agent == "Phone/1.0")
    assert set(handles(html)) == {s.handle for s in site.sessions()}
    laptop.post(PAGE, {"action": "end", "handle": phone_handle})
    assert len(site.sessions()) == 2
    assert not site.signed_in(phone)
    laptop.post(PAGE, {"action": "end_others"})
    (left,) = site.sessions()
    assert site.signed_in(laptop) and not site.signed_in(tablet)
    assert left.handle in handles(laptop.get(PAGE).content.decode())


def test_a_user_cannot_end_someone_elses_session(site: Site) -> None:
    from django.contrib.auth import get_user_model

    users: Any = get_user_model().objects
    users.create_user("bob", password=PASSWORD)
    alice, bob = Client(), Client()
    login(alice)
    login(bob, "bob")
    alices = site.sessions()[0].handle
    bob.post(PAGE, {"action": "end", "handle": alices})
    assert site.signed_in(alice)
    assert alices not in handles(bob.get(PAGE).content.decode())


def test_anonymous_visitors_are_sent_to_login(site: Site) -> None:
    response = Client().get(PAGE)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_staff_page_lists_and_revokes_by_user(site: Site) -> None:
    from django.contrib.auth import get_user_model

    users: Any = get_user_model().objects
    bob_user = users.create_user("bob", password=PASSWORD)
    staff, bob1, bob2 = Client(), Client(), Client()
    login(staff)
    login(bob1, "bob")
    login(bob2, "bob")
    url = f"{PAGE}staff/"
    assert bob1.get(url).status_code == 302  # not staff: to the admin login
    html = staff.get(url, {"user": str(bob_user.pk)}).content.decode()
    bobs = site.sessions(bob_user)
    assert set(handles(html)) == {s.handle for s in bobs}
    staff.post(url, {"action": "revoke", "user": str(bob_user.pk), "handle": bobs[0].handle})
    assert len(site.sessions(bob_user)) == 1
    staff.post(url, {"action": "revoke_user", "user": str(bob_user.pk)})
    assert site.sessions(bob_user) == []
    assert not site.signed_in(bob1) and not site.signed_in(bob2)
    assert site.signed_in(staff)
