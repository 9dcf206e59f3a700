"""A small Starlette app behind the session, CSRF and header middlewares, for the web tests."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from sessionward import AsyncMemoryStore, AsyncSession, AsyncSessionManager, SecretKeyRing
from sessionward.integrations.asgi import SessionMiddleware
from sessionward.integrations.csrf import CSRFMiddleware, csrf_token
from sessionward.monitoring import MemorySink
from sessionward.testing import FakeClock, same_origin

ORIGIN = "https://app.test"
SAME_ORIGIN = same_origin(ORIGIN)
KEYS = SecretKeyRing(["test-secret-" * 3])


def session_of(request: Request) -> AsyncSession:
    session: AsyncSession = request.session  # type: ignore[assignment]
    return session


async def form(request: Request) -> Response:
    return JSONResponse({"token": csrf_token(request), "user": session_of(request).user_id})


async def action(request: Request) -> Response:
    session = session_of(request)
    session["n"] = session.get("n", 0) + 1
    async with request.form() as data:
        fields = {k: v if isinstance(v, str) else (v.filename or "") for k, v in data.items()}
    return JSONResponse({"n": session["n"], "form": fields, "user": session.user_id})


async def raw(request: Request) -> Response:
    return JSONResponse({"length": len(await request.body())})


async def login(request: Request) -> Response:
    await session_of(request).login("alice")
    return JSONResponse({"token": csrf_token(request)})


async def cached(request: Request) -> Response:
    body = csrf_token(request) if request.query_params.get("token") else "no token"
    return Response(body, headers={"cache-control": "public, max-age=600"})


async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(f"user={websocket.session.get('n')}")
    await websocket.close()


async def hook(request: Request) -> Response:
    return JSONResponse({"hooked": True})


def build(clock: FakeClock, sink: MemorySink, keys: SecretKeyRing = KEYS) -> Starlette:
    manager = AsyncSessionManager(AsyncMemoryStore(), clock=clock, sinks=[sink])
    routes = [
        Route("/form", form),
        Route("/action", action, methods=["POST", "PUT", "PATCH", "DELETE"]),
        Route("/raw", raw, methods=["POST"]),
        Route("/login", login, methods=["POST"]),
        Route("/hook", hook, methods=["POST"]),
        Route("/cached", cached),
        WebSocketRoute("/ws", ws),
    ]
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(SessionMiddleware, manager=manager),
            Middleware(CSRFMiddleware, manager=manager, keys=keys, exempt=["/hook"]),
        ],
    )
