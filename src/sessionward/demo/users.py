"""The demo's user directory: a few seeded accounts with argon2id-hashed passwords."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the user name is unknown, so that a wrong name takes as long as a wrong
# password and response times do not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class User:
    username: str
    display_name: str
    password_hash: str


class UserDirectory:
    def __init__(self, passwords: dict[str, tuple[str, str]]) -> None:
        """``passwords`` maps user name to (display name, clear-text password)."""
        self._users = {
            name: User(name, display, _hasher.hash(password))
            for name, (display, password) in passwords.items()
        }
        self._disabled: set[str] = set()

    def get(self, username: str) -> User | None:
        return self._users.get(username)

    def names(self) -> list[str]:
        return sorted(self._users)

    def authenticate(self, username: str, password: str) -> User | None:
        user = self._users.get(username)
        try:
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if username in self._disabled:
            return None
        return user

    def change_password(self, username: str, password: str) -> None:
        user = self._users[username]
        self._users[username] = User(user.username, user.display_name, _hasher.hash(password))

    def disable(self, username: str) -> None:
        """Refuse the account's logins from now on (its sessions are ended separately)."""
        self._disabled.add(username)

    def enable(self, username: str) -> None:
        self._disabled.discard(username)

    def is_disabled(self, username: str) -> bool:
        return username in self._disabled


def seed_users(shared_password: str | None = None) -> dict[str, tuple[str, str]]:
    """The demo accounts. Passwords are random per start unless one is given."""

    def password() -> str:
        return shared_password or secrets.token_urlsafe(9)

    return {
        "alice": ("Alice Liddell", password()),
        "bob": ("Bob <script>alert('xss')</script>", password()),
    }
