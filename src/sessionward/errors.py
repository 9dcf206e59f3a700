"""The exception tree of sessionward.

Everything sessionward raises on purpose derives from :class:`SessionwardError`::

    SessionwardError
    ├── ConfigurationError (also ValueError)   bad settings, raised at start-up
    ├── SessionDataError (also ValueError)     the app stored something that is not JSON or too big
    ├── SessionLimitExceeded                   login refused by the concurrent-session limit
    ├── GuessingBlocked                        (shells only) a blocked guesser's request, answer 429
    └── StoreError
        ├── StoreUnavailable (also ConnectionError)  the store cannot be reached in time
        └── DuplicateKey (also ValueError)   a create/put reused a key or handle that exists

Attacker-caused conditions (a forged cookie, an expired session) are *not* exceptions: they
become "no session" plus an audit event. Only programmer, configuration and infrastructure
errors raise. The one exception is :class:`GuessingBlocked`, which a manager's ``load`` raises to
the integration shells (never into application code) so that they answer 429.
"""

from __future__ import annotations


class SessionwardError(Exception):
    """Base class of every exception sessionward raises on purpose."""


class ConfigurationError(SessionwardError, ValueError):
    """A setting is invalid. The message says what to change."""


class SessionDataError(SessionwardError, ValueError):
    """Session data the application tried to save cannot be stored (not JSON, or too large)."""


class SessionLimitExceeded(SessionwardError):
    """A login was refused because the user already has the maximum number of sessions."""

    def __init__(self, user_id: str, limit: int) -> None:
        super().__init__(f"user already has the maximum of {limit} active sessions")
        self.user_id = user_id
        self.limit = limit


class StoreError(SessionwardError):
    """The session store failed."""


class StoreUnavailable(StoreError, ConnectionError):
    """The session store could not be reached, or did not answer in time.

    Integrations turn this into a 503 response: an authenticated page is never silently served
    as anonymous because the store was down.
    """


class DuplicateKey(StoreError, ValueError):
    """A store was asked to create a session or refresh token under a key (or handle) it holds.

    Keys are 256-bit random values, so this is a programming error (the same record created
    twice), never an outage: integrations do not turn it into a 503. It subclasses
    :class:`ValueError`, which stores raised before it existed.
    """


class GuessingBlocked(SessionwardError):
    """This client is blocked for guessing session IDs and presented no live session.

    Raised by ``SessionManager.load`` / ``AsyncSessionManager.load`` to the framework shells,
    which answer ``429 Too Many Requests`` with ``Retry-After``; application code never sees it.
    """

    def __init__(self, retry_after: float, headers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(
            f"client blocked for guessing session IDs; retry after {retry_after:.0f} s"
        )
        self.retry_after = retry_after
        #: Headers the 429 must carry: a ``set-cookie`` that clears the dead session cookie, so
        #: a genuine user behind the guesser's address reaches the login page next time.
        self.headers = headers
