"""A bound session's state, kept in its record's ``meta["dbsc"]``.

Every store persists ``meta`` atomically with the record, so any instance reads what another
wrote, and logout, revocation and expiry delete the binding with the session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..core.anomaly import META_BINDING
from ..core.records import SessionRecord

META = META_BINDING


@dataclass(frozen=True, slots=True)
class BindingState:
    """What a bound session remembers of its key (from ``meta["dbsc"]``)."""

    alg: str
    jwk: Mapping[str, str]
    thumbprint: str
    bound_at: float
    refreshed_at: float
    floor: int
    nonces: tuple[str, ...]

    def as_meta(self) -> dict[str, Any]:
        return {
            "alg": self.alg,
            "jwk": dict(self.jwk),
            "jkt": self.thumbprint,
            "bound_at": self.bound_at,
            "refreshed_at": self.refreshed_at,
            "floor": self.floor,
            "nonces": list(self.nonces),
        }


def binding_state(record: SessionRecord | None) -> BindingState | None:
    """The binding of ``record``, or ``None`` when it is unbound (or the state is unreadable)."""
    raw = None if record is None else record.meta.get(META)
    if not isinstance(raw, dict):
        return None
    try:
        jwk = raw["jwk"]
        nonces = raw.get("nonces") or []
        state = BindingState(
            alg=str(raw["alg"]),
            jwk={str(k): str(v) for k, v in jwk.items()},
            thumbprint=str(raw["jkt"]),
            bound_at=float(raw["bound_at"]),
            refreshed_at=float(raw["refreshed_at"]),
            floor=int(raw["floor"]),
            nonces=tuple(str(n) for n in nonces),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return state
