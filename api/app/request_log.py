"""Every HTTP request: its correlation id set for the code it runs, counted, timed and logged as one line.

The id is the caller's `X-Correlation-Id` when it is a UUID, else a new one; it is answered in the
same header, carried by the events the request appends, and logged by the processors that apply them.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from processors import metrics
from processors.ops_server import HEALTH_PATH, METRICS_PATH, READY_PATH
from processors.structured_logs import correlated

log = logging.getLogger("orderledger.http")
UNMATCHED = "unmatched"  # 404s are not labelled by their path: a scanner would make unbounded series
QUIET = frozenset({HEALTH_PATH, READY_PATH, METRICS_PATH})  # scraped and probed every few seconds: not logged


def request_correlation(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == b"x-correlation-id":
            try:
                return str(uuid.UUID(value.decode("latin-1")))
            except ValueError:
                break  # command_context answers 400 for it; this request still gets an id for its log line
    return str(uuid.uuid4())


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id = request_correlation(scope["headers"])
        status = 500
        started = time.perf_counter()

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-correlation-id", correlation_id.encode())]
            await send(message)

        with correlated(correlation_id):
            try:
                await self.app(scope, receive, answer)
            finally:
                self._observe(scope, status, time.perf_counter() - started)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or UNMATCHED
        method = scope["method"]
        metrics.REQUESTS.labels(template, method, str(status)).inc()
        metrics.REQUEST_SECONDS.labels(template, method).observe(seconds)
        if scope["path"] not in QUIET and log.isEnabledFor(logging.INFO):
            log.info(
                "%s %s %d",
                method,
                scope["path"],
                status,
                extra={"route": template, "status": status, "duration_ms": round(seconds * 1000, 2)},
            )
