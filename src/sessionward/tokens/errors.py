"""Why a token was refused, as data the integrations turn into a 401.

::

    SessionwardError
    └── TokenError
        ├── MissingToken     no credentials at all (challenge without an error code, RFC 6750 3.1)
        ├── InvalidToken     an access token failed verification (RFC 6750 ``invalid_token``)
        ├── InvalidRequest   the Authorization header is malformed (RFC 6750 ``invalid_request``)
        └── InvalidGrant     a refresh token was refused (RFC 6749 ``invalid_grant``)

These are raised by the verifier and caught by the integrations, which answer 401 with a
``WWW-Authenticate`` challenge; they never reach the application as a 500. ``description`` is a
fixed, attacker-independent sentence safe to send to the client; ``reason`` is a short machine
tag for the audit trail.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..errors import SessionwardError


class TokenError(SessionwardError):
    """A presented token (access or refresh) was refused.

    ``reason`` is one of our fixed codes, never text from the token; what the attacker sent
    (bounded) goes in ``detail``, which the audit event carries as structured data.
    """

    error: ClassVar[str | None] = "invalid_token"

    def __init__(
        self,
        reason: str,
        description: str = "The access token is invalid.",
        *,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{reason}: {description}")
        self.reason = reason
        self.description = description
        self.detail: Mapping[str, Any] = dict(detail or {})


class MissingToken(TokenError):
    error = None

    def __init__(self) -> None:
        super().__init__("missing", "Authentication is required.")


class InvalidToken(TokenError):
    error = "invalid_token"


class InvalidRequest(TokenError):
    error = "invalid_request"


class InvalidGrant(TokenError):
    error = "invalid_grant"

    def __init__(self, reason: str, description: str = "The refresh token is invalid.") -> None:
        super().__init__(reason, description)
