"""Users' "active sessions" page and the staff page (sessions by user, with revoke).

Both read and change sessions only through the manager: a user can end only their own
sessions (``revoke_own`` checks the owner), staff any. Handles, never tokens, name sessions.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ....session import SessionInfo
from ..conf import get_manager
from ..engine import SessionStore


def _rows(infos: list[SessionInfo]) -> list[dict[str, object]]:
    def when(at: float) -> datetime:
        return datetime.fromtimestamp(at, UTC)

    return [
        {
            "handle": info.handle,
            "device": info.device or info.user_agent or "unknown device",
            "ip": info.last_ip or info.ip or "unknown",
            "signed_in": when(info.authenticated_at or info.created_at),
            "last_seen": when(info.last_seen_at),
            "current": info.current,
            "flags": ", ".join(info.flags),
        }
        for info in infos
    ]


@login_required  # type: ignore[untyped-decorator]
@require_http_methods(["GET", "POST"])  # type: ignore[untyped-decorator]
def active_sessions(request: HttpRequest) -> HttpResponse:
    store = request.session
    if not isinstance(store, SessionStore):
        return HttpResponseBadRequest("sessionward's session engine is not in use")
    manager, mine = store.manager, store.sessionward
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "end":
            manager.revoke_own(mine, request.POST.get("handle", ""))
            if mine.ended:
                return redirect("/")
        elif action == "end_others" and mine.user_id is not None:
            manager.revoke_user(mine.user_id, keep=mine)
        return redirect(request.path)
    rows = _rows(manager.sessions_of_current(mine))
    return render(request, "sessionward/sessions.html", {"sessions": rows})


@staff_member_required  # type: ignore[untyped-decorator]
@require_http_methods(["GET", "POST"])  # type: ignore[untyped-decorator]
def staff_sessions(request: HttpRequest) -> HttpResponse:
    manager = get_manager()
    user_id = (request.POST.get("user") or request.GET.get("user") or "").strip()
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "revoke":
            manager.revoke(request.POST.get("handle", ""))
        elif action == "revoke_user" and user_id:
            manager.revoke_user(user_id)
        return redirect(f"{request.path}?user={user_id}" if user_id else request.path)
    rows = _rows(manager.sessions_of(user_id)) if user_id else []
    context = {"sessions": rows, "user_id": user_id}
    return render(request, "sessionward/staff.html", context)
