"""Every Prometheus metric orderledger exports, named orderledger_<component>_<what>_<unit>.

Two kinds. Counters and histograms are counted where things happen (this module's objects, in the
process's default registry). Gauges of state — the ledger head, backlogs, lag, domain counts — are
read from the database (and Kafka) when Prometheus scrapes, by collectors given to `exposition`:
every process that can see the database reports the same truth, and nothing goes stale.

With PROMETHEUS_MULTIPROC_DIR set (several server processes behind one port), counters and
histograms are summed over the processes' files, as prometheus-client documents.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

log = logging.getLogger("orderledger.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

EVENTS_APPENDED = Counter(
    "orderledger_ledger_events_appended", "Events appended to the ledger, by event type", ["type"]
)
APPEND_SECONDS = Histogram(
    "orderledger_ledger_append_duration_seconds", "Time to append one command's or batch's events", buckets=_FAST
)
CONFLICTS = Counter(
    "orderledger_ledger_conflicts", "Appends refused because a stream moved on (optimistic concurrency)"
)
REQUESTS = Counter(
    "orderledger_api_requests", "HTTP requests answered, by route template and status", ["route", "method", "status"]
)
REQUEST_SECONDS = Histogram(
    "orderledger_api_request_duration_seconds",
    "HTTP request time, by route template",
    ["route", "method"],
    buckets=_FAST,
)
COMMANDS_REJECTED = Counter(
    "orderledger_api_commands_rejected", "Commands refused, by the problem's stable code", ["code"]
)
PUBLISHED = Counter("orderledger_relay_events_published", "Ledger events the relay published to Kafka (acknowledged)")
PUBLISH_SECONDS = Histogram(
    "orderledger_relay_publish_duration_seconds", "From producing a batch to its last delivery report", buckets=_FAST
)
APPLIED = Counter("orderledger_processor_events_applied", "Events applied to the projections, by runner", ["runner"])
APPLY_SECONDS = Histogram(
    "orderledger_processor_apply_duration_seconds",
    "Time to apply one batch to every projection, by runner",
    ["runner"],
    buckets=_FAST,
)
DEAD_LETTERED = Counter("orderledger_processor_dead_letters", "Messages the worker parked on the dead-letter topic")
WEBHOOK_DELIVERIES = Counter(
    "orderledger_webhook_deliveries",
    "Webhook delivery attempts, by outcome (delivered, retrying, dead, gone)",
    ["outcome"],
)

# Read when scraped (see the collectors in processors/flow.py and api/app/domain_gauges.py).
STATE_GAUGES = frozenset(
    {
        "orderledger_build_info",
        "orderledger_ledger_head_position",
        "orderledger_ledger_verify_ok",
        "orderledger_ledger_verify_age_seconds",
        "orderledger_relay_backlog_events",
        "orderledger_relay_diverged_cursors",
        "orderledger_processor_lag_events",
        "orderledger_processor_diverged_checkpoints",
        "orderledger_processor_dead_letters_parked_messages",
        "orderledger_webhook_backlog_deliveries",
        "orderledger_webhook_retrying_deliveries",
        "orderledger_webhook_dead_deliveries",
        "orderledger_order_status_late_orders",
        "orderledger_contract_capacity_near_ceiling_contracts",
        "orderledger_service_availability_below_target_services",
        "orderledger_service_availability_month_percent",
    }
)
_COUNTED = (
    EVENTS_APPENDED,
    APPEND_SECONDS,
    CONFLICTS,
    REQUESTS,
    REQUEST_SECONDS,
    COMMANDS_REJECTED,
    PUBLISHED,
    PUBLISH_SECONDS,
    APPLIED,
    APPLY_SECONDS,
    DEAD_LETTERED,
    WEBHOOK_DELIVERIES,
)
# The names as Prometheus shows them (counters with `_total`; histograms by their base name).
METRIC_NAMES = frozenset({f"{m._name}_total" if isinstance(m, Counter) else m._name for m in _COUNTED} | STATE_GAUGES)


def exposition(state: Iterable[Collector] = ()) -> bytes:
    """The text Prometheus scrapes: this process's counters and histograms, then the state read now."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    readings = CollectorRegistry(auto_describe=False)
    for collector in state:
        readings.register(_Guarded(collector))
    return generate_latest(counted) + generate_latest(readings)


class _Guarded:
    """A state collector whose database is unreachable drops its gauges from this scrape, not the counters:
    the counters still show what happened, and /readyz and the missing series say what is wrong."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    def collect(self) -> Iterable[Metric]:
        try:
            return list(self.collector.collect())
        except Exception as exc:
            log.warning(
                "metrics: %s could not be read (%s: %s)", type(self.collector).__name__, type(exc).__name__, exc
            )
            return []
