"""Token managers: drive the token flows against a session store and a token store.

``TokenManager`` pairs with a :class:`~sessionward.SessionManager` (WSGI, scripts) and a
:class:`~sessionward.tokens.store.TokenStore`; ``AsyncTokenManager`` with an
:class:`~sessionward.AsyncSessionManager` and an :class:`AsyncTokenStore`. Sessions stay the
source of truth: an access token names its session (``sid``), so ending the session ends it.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from ..calls import StoreCall, drive, drive_async
from ..core.client import ClientInfo
from ..manager import AsyncSessionManager, SessionManager
from ..session import BaseSession
from .access import AccessClaims, AccessSettings, AccessTokens
from .flows import TokenFlow, TokenFlows, TokenPair, TokenPolicy
from .keys import SigningKeys
from .store import AsyncTokenStore, TokenStore

T = TypeVar("T")


def _authenticated_record(session: BaseSession) -> Any:
    record = session.record
    if record is None or record.user_id is None:
        raise ValueError("tokens are issued only for a logged-in session; call login() first")
    return record


class _Base:
    def __init__(
        self,
        sessions: SessionManager | AsyncSessionManager,
        *,
        keys: SigningKeys,
        settings: AccessSettings,
        policy: TokenPolicy | None,
    ) -> None:
        self.sessions = sessions
        self.keys = keys
        self.flows = TokenFlows(
            AccessTokens(keys, settings, sessions.flows.clock),
            policy or TokenPolicy(),
            sessions.flows,
        )

    @property
    def settings(self) -> AccessSettings:
        return self.flows.access.settings

    @property
    def policy(self) -> TokenPolicy:
        return self.flows.policy

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The JWKS document to serve at ``/.well-known/jwks.json``."""
        return self.keys.jwks()


class TokenManager(_Base):
    """Access and refresh tokens over synchronous stores."""

    def __init__(
        self,
        sessions: SessionManager,
        store: TokenStore,
        *,
        keys: SigningKeys,
        settings: AccessSettings,
        policy: TokenPolicy | None = None,
    ) -> None:
        if not isinstance(sessions, SessionManager):
            raise TypeError("TokenManager needs a SessionManager (use AsyncTokenManager for async)")
        super().__init__(sessions, keys=keys, settings=settings, policy=policy)
        self.store = store
        self._sync_sessions = sessions

    def _run(self, flow: TokenFlow[T]) -> T:
        return drive(flow, self._call)

    def _call(self, op: StoreCall) -> Any:
        target = self._sync_sessions.store if op.target == "sessions" else self.store
        return getattr(target, op.method)(*op.args, **op.kwargs)

    def issue(self, session: BaseSession) -> TokenPair:
        """Tokens for a session that is already logged in (e.g. a browser session)."""
        return self._run(self.flows.issue(_authenticated_record(session), session.client))

    def login(self, user_id: str, client: ClientInfo) -> TokenPair:
        """A new session for ``user_id`` (already authenticated by the app) and its tokens."""
        session = self._sync_sessions.new_session(client)
        self._sync_sessions.login(session, user_id)
        return self.issue(session)

    def verify(self, token: str, client: ClientInfo | None = None) -> AccessClaims:
        return self._run(self.flows.verify(token, client))

    def refresh(self, token: str, client: ClientInfo | None = None) -> TokenPair:
        return self._run(self.flows.refresh(token, client))

    def logout(self, claims: AccessClaims, client: ClientInfo | None = None) -> bool:
        """End the session an access token belongs to, with all its tokens."""
        return self._run(
            self.flows.end_session(claims.session, owner=claims.subject, client=client)
        )


class AsyncTokenManager(_Base):
    """The asynchronous twin of :class:`TokenManager`."""

    def __init__(
        self,
        sessions: AsyncSessionManager,
        store: AsyncTokenStore,
        *,
        keys: SigningKeys,
        settings: AccessSettings,
        policy: TokenPolicy | None = None,
    ) -> None:
        if not isinstance(sessions, AsyncSessionManager):
            raise TypeError("AsyncTokenManager needs an AsyncSessionManager")
        super().__init__(sessions, keys=keys, settings=settings, policy=policy)
        self.store = store
        self._async_sessions = sessions

    async def _run(self, flow: TokenFlow[T]) -> T:
        return await drive_async(flow, self._call)

    def _call(self, op: StoreCall) -> Awaitable[Any]:
        target = self._async_sessions.store if op.target == "sessions" else self.store
        result: Awaitable[Any] = getattr(target, op.method)(*op.args, **op.kwargs)
        return result

    async def issue(self, session: BaseSession) -> TokenPair:
        return await self._run(self.flows.issue(_authenticated_record(session), session.client))

    async def login(self, user_id: str, client: ClientInfo) -> TokenPair:
        session = self._async_sessions.new_session(client)
        await self._async_sessions.login(session, user_id)
        return await self.issue(session)

    async def verify(self, token: str, client: ClientInfo | None = None) -> AccessClaims:
        return await self._run(self.flows.verify(token, client))

    async def refresh(self, token: str, client: ClientInfo | None = None) -> TokenPair:
        return await self._run(self.flows.refresh(token, client))

    async def logout(self, claims: AccessClaims, client: ClientInfo | None = None) -> bool:
        return await self._run(
            self.flows.end_session(claims.session, owner=claims.subject, client=client)
        )


def __getattr__(name: str) -> Any:
    # RevocationSink moved to sessionward.tokens.revocation; this path works for one release.
    if name == "RevocationSink":
        import warnings

        from .revocation import RevocationSink

        warnings.warn(
            "sessionward.tokens.manager.RevocationSink moved: import it from sessionward.tokens",
            DeprecationWarning,
            stacklevel=2,
        )
        return RevocationSink
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
