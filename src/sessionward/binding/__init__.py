"""Device Bound Session Credentials (DBSC): a copied session cookie stops working elsewhere.

The browser keeps a private key on the device; sessionward stores its public key with the
session and hands out a short-lived bound cookie only for a signature over a fresh challenge.
See ``docs/dbsc.md``. Needs the ``jwt`` extra (PyJWT with cryptography).
"""

from __future__ import annotations

from .config import BindingConfig
from .proof import ProofError
from .protocol import BindingRequest, DeviceBinding, Reply
from .state import BindingState, binding_state

__all__ = [
    "BindingConfig",
    "BindingRequest",
    "BindingState",
    "DeviceBinding",
    "ProofError",
    "Reply",
    "binding_state",
]
