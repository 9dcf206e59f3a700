"""[devices]: a User-Agent becomes a device label."""

from __future__ import annotations

from _drive import check

from sessionward.monitoring import UAParserLabeler

UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
device = UAParserLabeler()(UA)
check(device is not None and "Chrome" in device.label, f"no Chrome label: {device!r}")
