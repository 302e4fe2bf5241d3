"""/metrics, /healthz and /readyz of the processes without an API: workers, the relay, webhook dispatchers.

The API serves the same three paths on its own port (api/app/__init__.py); Kubernetes probes and Prometheus
scrapes use these constants on both (tests/unit/test_k8s_manifests.py checks the manifests).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from processors.metrics import CONTENT_TYPE

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"

log = logging.getLogger("orderledger.ops")

Check = Callable[[], tuple[bool, dict[str, Any]]]


class Heartbeat:
    """Beaten by a process's main loop; the process is alive while the last beat is recent."""

    def __init__(self, name: str, stale_after_seconds: float) -> None:
        self.name = name
        self.stale_after_seconds = stale_after_seconds
        self._last = time.monotonic()

    def beat(self) -> None:
        self._last = time.monotonic()

    def check(self) -> tuple[bool, dict[str, Any]]:
        age = time.monotonic() - self._last
        alive = age <= self.stale_after_seconds
        body: dict[str, Any] = {
            "status": "ok" if alive else "stalled",
            "loop": self.name,
            "last_beat_seconds": round(age, 1),
        }
        if not alive:
            body["problems"] = [f"the {self.name} loop has not turned for {age:.0f} s; restart the process"]
        return alive, body


class OpsServer:
    def __init__(self, host: str, port: int, health: Check, ready: Check, metrics: Callable[[], bytes]) -> None:
        routes: dict[str, Callable[[], tuple[int, str, bytes]]] = {
            HEALTH_PATH: lambda: _json(health()),
            READY_PATH: lambda: _json(ready()),
            METRICS_PATH: lambda: (200, CONTENT_TYPE, metrics()),
        }

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                route = routes.get(self.path.split("?", 1)[0])
                try:
                    status, content_type, body = route() if route else (404, "text/plain", b"not found\n")
                except Exception as exc:  # a failing check is an answer, not a dropped connection
                    log.exception("ops endpoint %s failed", self.path)
                    status, content_type, body = _json((False, {"status": "error", "problems": [type(exc).__name__]}))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # scrapes every few seconds: not logged
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="ops-server", daemon=True)

    def start(self) -> OpsServer:
        self._thread.start()
        log.info("metrics and health on port %d", self.port)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _json(result: tuple[bool, dict[str, Any]]) -> tuple[int, str, bytes]:
    ok, body = result
    return (200 if ok else 503), "application/json", json.dumps(body).encode()
