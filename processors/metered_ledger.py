"""The ledger as the application uses it, counted: events appended by type, append time, conflicts."""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

from events.ledger import AppendResult, CommandRecord, Ledger, NewEvent, StreamAppend, StreamVersionConflict
from processors import metrics

log = logging.getLogger("orderledger.ledger")


class MeteredLedger:
    """Wraps any ledger adapter; every other method is the adapter's own."""

    def __init__(self, ledger: Ledger) -> None:
        self.inner = ledger

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def append(
        self, stream_id: str, expected_version: int, events: list[NewEvent], command: CommandRecord | None = None
    ) -> AppendResult:
        return self.append_batch(
            [StreamAppend(stream_id=stream_id, expected_version=expected_version, events=tuple(events))], command
        )[0]

    def append_batch(self, appends: list[StreamAppend], command: CommandRecord | None = None) -> list[AppendResult]:
        started = time.perf_counter()
        try:
            results = self.inner.append_batch(appends, command)
        except StreamVersionConflict:
            metrics.CONFLICTS.inc()
            raise
        metrics.APPEND_SECONDS.observe(time.perf_counter() - started)
        types = Counter(event.type for append in appends for event in append.events)
        for event_type, count in types.items():
            metrics.EVENTS_APPENDED.labels(event_type).inc(count)
        if results and log.isEnabledFor(logging.INFO):
            correlations = sorted({str(e.correlation_id) for a in appends for e in a.events})
            # one request's events share its correlation id; a batch of many requests lists a few of them
            extra: dict[str, Any] = {"event_types": dict(types)}
            if len(correlations) == 1:
                extra["correlation_id"] = correlations[0]
            else:
                extra["correlation_ids"] = correlations[:20]
            log.info(
                "appended %d events at positions %d-%d",
                sum(types.values()),
                min(r.first_position for r in results),
                max(r.last_position for r in results),
                extra=extra,
            )
        return results
