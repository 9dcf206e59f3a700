"""[redis]: sessions in the real Redis server, sync and async, under a private key prefix."""

from __future__ import annotations

import asyncio
import os
import secrets
from typing import Any

from _drive import check, login_logout, wsgi_call

from sessionward import SessionManager
from sessionward.integrations.wsgi import ENVIRON_KEY, WSGISessionMiddleware
from sessionward.stores.redis import AsyncRedisStore, RedisStore

URL = os.environ["SESSIONWARD_TEST_REDIS"]
PREFIX = "smoke-" + secrets.token_hex(6)


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    session = environ[ENVIRON_KEY]
    if environ["PATH_INFO"] == "/login":
        session.login("alice")
    elif environ["PATH_INFO"] == "/logout":
        session.logout()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [(session.user_id or "anonymous").encode()]


store = RedisStore(url=URL, prefix=PREFIX)
try:
    wrapped = WSGISessionMiddleware(app, manager=SessionManager(store))
    login_logout(lambda method, path, cookie: wsgi_call(wrapped, method, path, cookie))
finally:
    store.delete_all()
    store.close()


async def async_store() -> None:
    astore = AsyncRedisStore(url=URL, prefix=PREFIX)
    try:
        check(await astore.list_all() == [], "the private prefix is not empty")
    finally:
        await astore.close()


asyncio.run(async_store())
