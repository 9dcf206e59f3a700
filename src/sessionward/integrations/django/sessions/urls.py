"""``path("account/sessions/", include("sessionward.integrations.django.sessions.urls"))``."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "sessionward"
urlpatterns = [
    path("", views.active_sessions, name="sessions"),
    path("staff/", views.staff_sessions, name="staff"),
]
