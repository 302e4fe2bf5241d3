"""Metric names follow orderledger_<component>_<what>_<unit>; the metered ledger counts appends and conflicts."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY

from events.ledger import AppendResult, NewEvent, StreamAppend, StreamVersionConflict
from processors import metrics
from processors.metered_ledger import MeteredLedger

COMPONENTS = "ledger|api|relay|processor|webhook|order_status|contract_capacity|service_availability|build"
UNITS = (
    "total",
    "seconds",
    "position",
    "events",
    "checkpoints",
    "cursors",
    "messages",
    "deliveries",
    "orders",
    "contracts",
    "services",
    "percent",
    "ok",
    "info",
)


@pytest.mark.parametrize("name", sorted(metrics.METRIC_NAMES))
def test_every_metric_is_named_component_what_unit(name):
    found = re.fullmatch(rf"orderledger_({COMPONENTS})_([a-z0-9_]+)", name)
    assert found, name
    assert name.rsplit("_", 1)[1] in UNITS, name


def test_the_catalogue_holds_what_the_issue_asks_for():
    for wanted in (
        "orderledger_ledger_events_appended_total",
        "orderledger_ledger_append_duration_seconds",
        "orderledger_ledger_conflicts_total",
        "orderledger_api_commands_rejected_total",
        "orderledger_relay_backlog_events",
        "orderledger_relay_publish_duration_seconds",
        "orderledger_processor_lag_events",
        "orderledger_processor_apply_duration_seconds",
        "orderledger_processor_dead_letters_total",
        "orderledger_webhook_deliveries_total",
        "orderledger_webhook_backlog_deliveries",
        "orderledger_api_requests_total",
        "orderledger_api_request_duration_seconds",
        "orderledger_ledger_head_position",
        "orderledger_ledger_verify_ok",
        "orderledger_ledger_verify_age_seconds",
        "orderledger_order_status_late_orders",
        "orderledger_contract_capacity_near_ceiling_contracts",
        "orderledger_service_availability_below_target_services",
    ):
        assert wanted in metrics.METRIC_NAMES, wanted


def _event(event_type: str) -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4(),
        type=event_type,
        schema_version=1,
        stream_type="order",
        data={},
        occurred_at=datetime(2026, 11, 24, tzinfo=UTC),
        actor="broker/test",
        correlation_id=uuid.uuid4(),
    )


class _Ledger:
    """An adapter that appends (answering positions) or finds its stream moved on."""

    def __init__(self, conflict: bool) -> None:
        self.conflict = conflict
        self.closed = False

    def append_batch(self, appends: list[StreamAppend], command: object = None) -> list[AppendResult]:
        if self.conflict:
            raise StreamVersionConflict(appends[0].stream_id, appends[0].expected_version, 3)
        return [
            AppendResult(
                stream_id=a.stream_id, stream_version=len(a.events), first_position=1, last_position=len(a.events)
            )
            for a in appends
        ]

    def close(self) -> None:
        self.closed = True


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_given_an_append_then_its_events_are_counted_by_type_and_timed():
    placed, awarded = (
        _sample("orderledger_ledger_events_appended_total", type=t) for t in ("OrderPlaced", "CallUpAwarded")
    )
    timed = _sample("orderledger_ledger_append_duration_seconds_count")
    ledger = MeteredLedger(_Ledger(conflict=False))  # type: ignore[arg-type]
    ledger.append("ORD-1", 0, [_event("OrderPlaced"), _event("CallUpAwarded"), _event("OrderPlaced")])
    assert _sample("orderledger_ledger_events_appended_total", type="OrderPlaced") == placed + 2
    assert _sample("orderledger_ledger_events_appended_total", type="CallUpAwarded") == awarded + 1
    assert _sample("orderledger_ledger_append_duration_seconds_count") == timed + 1


def test_given_a_stream_that_moved_on_then_the_conflict_is_counted_and_still_raised():
    conflicts = _sample("orderledger_ledger_conflicts_total")
    placed = _sample("orderledger_ledger_events_appended_total", type="OrderPlaced")
    ledger = MeteredLedger(_Ledger(conflict=True))  # type: ignore[arg-type]
    with pytest.raises(StreamVersionConflict):
        ledger.append("ORD-1", 1, [_event("OrderPlaced")])
    assert _sample("orderledger_ledger_conflicts_total") == conflicts + 1
    assert _sample("orderledger_ledger_events_appended_total", type="OrderPlaced") == placed


def test_every_other_method_is_the_adapters_own():
    inner = _Ledger(conflict=False)
    MeteredLedger(inner).close()  # type: ignore[arg-type]
    assert inner.closed


def test_exposition_gives_counters_then_the_state_read_now():
    class Head:
        def collect(self):
            from prometheus_client.core import GaugeMetricFamily

            yield GaugeMetricFamily("orderledger_ledger_head_position", "head", 42)

    text = metrics.exposition([Head()]).decode()
    assert "# TYPE orderledger_ledger_events_appended_total counter" in text
    assert "orderledger_ledger_head_position 42.0" in text


def test_given_a_state_collector_failing_then_the_counters_are_still_exposed():
    class Unreachable:
        def collect(self):
            raise ConnectionError("database unreachable")

    text = metrics.exposition([Unreachable()]).decode()
    assert "# TYPE orderledger_ledger_events_appended_total counter" in text
    assert "orderledger_ledger_head_position" not in text
