"""What ``django.contrib.auth`` does, told to sessionward (connected when the package loads).

* ``user_logged_in``: the session is logged in through sessionward at once (new token, user
  recorded so per-user listing, revocation and limits work, a login event).
* A user saved with a new password (``set_password()`` then ``save()``): every other session of
  that user ends now; the request's own session survives only when it belongs to that user
  (``update_session_auth_hash()`` then rotates it). Django's session-hash check would catch the
  others on their next request; this ends them in the store, at once, on every store.
* A user saved with ``is_active = False``: all their sessions end.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.core.signals import request_started
from django.db.models.signals import post_save

from ...core.events import RevokeReason
from . import conf
from .engine import SessionStore, current_store


def on_login(sender: Any, request: Any, user: Any, **_: Any) -> None:
    session = getattr(request, "session", None)
    if isinstance(session, SessionStore):
        session.learn_user()


def on_user_saved(sender: Any, instance: Any, created: bool = False, **_: Any) -> None:
    from django.contrib.auth import get_user_model

    if created or sender is not get_user_model():
        return
    user_id = instance._meta.pk.value_to_string(instance)
    if getattr(instance, "is_active", True) is False:
        conf.get_manager().revoke_user(user_id, reason=RevokeReason.ADMIN)
    elif getattr(instance, "_password", None) is not None:
        # set_password() was called: the password changed in this save.
        store = current_store.get()
        mine = None if store is None else store._sw
        keep = mine if mine is not None and mine.user_id == user_id else None
        conf.get_manager().revoke_user(user_id, reason=RevokeReason.USER, keep=keep)


def on_request_started(**_: Any) -> None:
    current_store.set(None)


user_logged_in.connect(on_login, dispatch_uid="sessionward-login")
post_save.connect(on_user_saved, dispatch_uid="sessionward-user-saved")
request_started.connect(on_request_started, dispatch_uid="sessionward-request-started")
