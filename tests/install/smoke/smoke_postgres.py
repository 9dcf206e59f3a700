"""[postgres]: sessions in the real PostgreSQL server, in a private schema dropped after."""

from __future__ import annotations

import asyncio
import os
import secrets
from typing import Any

import psycopg
from _drive import check, login_logout, wsgi_call
from psycopg import sql

from sessionward import SessionManager
from sessionward.integrations.wsgi import ENVIRON_KEY, WSGISessionMiddleware
from sessionward.stores.postgres import AsyncPostgresStore, PostgresStore

URL = os.environ["SESSIONWARD_TEST_POSTGRES"]
SCHEMA = "smoke_" + secrets.token_hex(6)


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    session = environ[ENVIRON_KEY]
    if environ["PATH_INFO"] == "/login":
        session.login("alice")
    elif environ["PATH_INFO"] == "/logout":
        session.logout()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [(session.user_id or "anonymous").encode()]


async def async_store() -> None:
    astore = AsyncPostgresStore(URL, schema=SCHEMA)
    try:
        check(await astore.list_all() == [], "the private schema is not empty")
    finally:
        await astore.close()


try:
    store = PostgresStore(URL, schema=SCHEMA)
    try:
        wrapped = WSGISessionMiddleware(app, manager=SessionManager(store))
        login_logout(lambda method, path, cookie: wsgi_call(wrapped, method, path, cookie))
    finally:
        store.close()
    asyncio.run(async_store())
finally:
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
