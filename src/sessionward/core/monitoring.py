"""The monitoring settings a session manager runs with: devices, anomaly rules, fingerprints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .anomaly import AnomalyRules
from .devices import DeviceLabeler, default_labeler
from .events import DEFAULT_FINGERPRINT_KEY


@dataclass(frozen=True, slots=True)
class Monitoring:
    """What a manager records about clients and how it reacts to anomalies.

    ``devices`` is ``"auto"`` (ua-parser when the ``devices`` extra is installed), a
    :data:`~sessionward.core.devices.DeviceLabeler`, or ``None`` for no labels.
    ``fingerprint_key`` keys the hash that names presented IDs which matched no session; set
    the same secret on every instance to correlate guesses across them.
    """

    rules: AnomalyRules = field(default_factory=AnomalyRules)
    devices: DeviceLabeler | Literal["auto"] | None = "auto"
    fingerprint_key: bytes = DEFAULT_FINGERPRINT_KEY

    def labeler(self) -> DeviceLabeler | None:
        if isinstance(self.devices, str):
            return default_labeler()
        return self.devices
