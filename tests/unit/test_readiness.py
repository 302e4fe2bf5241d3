"""/readyz's verdict from the flow: what is wrong is named, with the first thing to check."""

from __future__ import annotations

from typing import Any

from events.ledger.cursors import Cursor, Divergence
from processors.flow import Flow, readiness


class Reader:
    """The flow as the database and Kafka would report it (server mode when `kafka` is set)."""

    def __init__(self, flow: Flow | Exception, kafka: Any = None) -> None:
        self.flow = flow
        self.kafka = kafka

    def read(self, with_webhooks: bool = True) -> Flow:
        if isinstance(self.flow, Exception):
            raise self.flow
        return self.flow


def test_given_server_mode_all_flowing_then_ready_with_each_check():
    flow = Flow(
        head=500, relay_backlog=3, lag={("order_status", "t.orders.v1/0"): 2, ("order_status", "t.orders.v1/1"): 7}
    )
    ready, body = readiness(Reader(flow, kafka=object()), max_lag=100)  # type: ignore[arg-type]
    assert ready and body["status"] == "ready" and body["problems"] == []
    assert body["checks"]["kafka"] == {"ok": True}
    assert body["checks"]["relay"] == {"ok": True, "backlog_events": 3, "threshold_events": 100}
    assert body["checks"]["projections"]["lag_events"] == {"order_status": 7}  # the worst partition


def test_given_kafka_unreachable_then_not_ready_naming_kafka():
    flow = Flow(head=500, relay_backlog=0, kafka_error="Local: Broker transport failure")
    ready, body = readiness(Reader(flow, kafka=object()), max_lag=100)  # type: ignore[arg-type]
    assert not ready and body["status"] == "not_ready"
    assert body["checks"]["kafka"] == {"ok": False, "error": "Local: Broker transport failure"}
    assert body["problems"] == ["Kafka cannot be reached (Local: Broker transport failure); check the brokers"]


def test_given_the_relay_behind_the_threshold_then_not_ready_naming_the_relay():
    ready, body = readiness(Reader(Flow(head=5000, relay_backlog=4000), kafka=object()), max_lag=1000)  # type: ignore[arg-type]
    assert not ready and body["checks"]["relay"]["ok"] is False
    assert body["problems"][0].startswith("the relay is 4000 events behind the ledger (threshold 1000)")


def test_given_threshold_zero_then_lag_never_makes_it_unready():
    flow = Flow(head=10**6, relay_backlog=10**6, lag={("chargeback", "ledger"): 10**6})
    ready, body = readiness(Reader(flow, kafka=object()), max_lag=0)  # type: ignore[arg-type]
    assert ready and body["checks"]["relay"]["ok"] and body["checks"]["projections"]["ok"]


def test_given_the_ledger_unreadable_then_not_ready_and_nothing_else_is_claimed():
    ready, body = readiness(Reader(ConnectionError("server closed the connection\nmore")), max_lag=10)  # type: ignore[arg-type]
    assert not ready
    assert body["checks"] == {"ledger": {"ok": False, "error": "ConnectionError: server closed the connection"}}
    assert body["problems"] == [
        "the ledger cannot be read (ConnectionError: server closed the connection); check the database"
    ]


def test_given_the_ledger_rolled_back_under_projections_then_not_ready_naming_them_and_rebuild_even_at_threshold_zero():
    # Given: the ledger restored to position 100 while order_status and chargeback had applied up to 120
    behind = [
        Divergence(Cursor("order_status", 120, "h120"), head=100),
        Divergence(Cursor("chargeback", 120, "h120"), head=100),
    ]
    flow = Flow(head=100, lag={("order_status", "ledger"): -20}, projections_rolled_back=behind)
    # When: /readyz asks, lag not checked at all
    ready, body = readiness(Reader(flow), max_lag=0)  # type: ignore[arg-type]
    # Then
    assert not ready and body["status"] == "not_ready"
    assert body["checks"]["projections"]["ok"] is False
    assert body["checks"]["projections"]["rolled_back"] == {
        "chargeback": "chargeback is at position 120, past the ledger's head 100",
        "order_status": "order_status is at position 120, past the ledger's head 100",
    }
    (problem,) = body["problems"]
    assert problem.startswith("the ledger was rolled back under projections chargeback, order_status (")
    assert "Run `orderledger rebuild`" in problem


def test_given_the_ledger_rolled_back_under_the_relay_then_not_ready_naming_the_way_out():
    flow = Flow(head=107, relay_backlog=1, relay_rolled_back=Divergence(Cursor("relay", 106, "h106"), head=107))
    ready, body = readiness(Reader(flow, kafka=object()), max_lag=0)  # type: ignore[arg-type]
    assert not ready
    relay = body["checks"]["relay"]
    assert relay["ok"] is False
    assert relay["rolled_back"] == "relay is at position 106, where the ledger now holds another event"
    (problem,) = body["problems"]
    assert "Kafka holds events the ledger no longer has" in problem
    assert "`orderledger relay-rewind --to POSITION`" in problem
