"""[metrics]: session events become Prometheus counters."""

from __future__ import annotations

import prometheus_client
from _drive import check

from sessionward import ClientInfo, MemoryStore, SessionManager
from sessionward.metrics import PrometheusSink, render

registry = prometheus_client.CollectorRegistry()
manager = SessionManager(MemoryStore(), sinks=[PrometheusSink(registry)])
session = manager.new_session(ClientInfo(ip="127.0.0.1"))
manager.login(session, "alice")
text, content_type = render(registry)
check(b"sessionward_logins_total 1.0" in text, f"no login counted:\n{text.decode()}")
check(content_type.startswith("text/plain"), content_type)
