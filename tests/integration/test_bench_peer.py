"""Smoke test of the bench's `eventsourcing` peer (bench/peer.py) on SQLite and PostgreSQL: tiny sizes, no timing
thresholds. The peer must store our events, read them back exactly and build the same order-status rows as
ORDER_STATUS applied directly."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import pytest
from eventsourcing.persistence import IntegrityError

from bench.peer import Store, peer_append, peer_rebuild, peer_view
from events.ledger import RecordedEvent
from projections.order_status import ORDER_STATUS, OrderStatus

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def sample(name: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / f"ca.orderledger.{name}.v1.json").read_text())
    return {**data, **changes}


def order_story(order_id: str, i: int) -> list[dict[str, Any]]:
    """The data of one order's events: delivered and closed, rebated and closed, or cancelled."""
    placed = sample("order.placed", order_id=order_id, financial_reference=f"FIN-{i}")
    sku, address = placed["lines"][0]["sku"], placed["delivery_locations"][0]["address"]
    awarded = sample("order.call_up_awarded", contract_number=f"CU-{i}")

    def delivery(quantity: int, full: bool) -> dict[str, Any]:
        return sample(
            "order.delivery_recorded",
            location=0,
            province="ON",
            address=address,
            quantities={sku: quantity},
            fully_delivered=full,
        )

    if i % 3 == 0:
        return [
            placed,
            sample("order.security_assessment_recorded"),
            awarded,
            sample("order.delivery_date_revised"),
            delivery(2, False),
            delivery(2, True),
            sample("order.closed"),
        ]
    if i % 3 == 1:
        return [
            placed,
            sample("order.section32_amended"),
            awarded,
            delivery(4, True),
            sample("order.late_delivery_rebate_applied"),
            sample("order.closed"),
        ]
    return [
        placed,
        sample("order.security_assessment_recorded"),
        sample("order.security_risk_approved"),
        awarded,
        sample("order.cancelled"),
    ]


def make_events() -> list[RecordedEvent]:
    """60 events over 10 streams (9 orders, 1 contract), interleaved in position order."""
    streams: dict[str, tuple[str, list[dict[str, Any]]]] = {
        f"ORD-2026-{i:06d}": ("order", order_story(f"ORD-2026-{i:06d}", i)) for i in range(1, 10)
    }
    contract = sample("contract.registered", contract_id="CT-1")
    streams["contract-CT-1"] = (
        "contract",
        [contract, *(sample("contract.ceiling_amended", ceiling=f"{200000 + 1000 * n}.00") for n in range(5))],
    )
    events: list[RecordedEvent] = []
    prev_hash = "0" * 64
    for round_ in range(max(len(story) for _, story in streams.values())):
        for stream_id, (stream_type, story) in streams.items():
            if round_ >= len(story):
                continue
            position = len(events) + 1
            data = story[round_]
            digest = hashlib.sha256(f"{prev_hash}{position}{json.dumps(data)}".encode()).hexdigest()
            occurred = START + timedelta(minutes=position)
            events.append(
                RecordedEvent(
                    position=position,
                    event_id=uuid5(NAMESPACE_URL, f"event/{position}"),
                    type=data["type"],
                    schema_version=1,
                    stream_id=stream_id,
                    stream_type=stream_type,
                    stream_version=round_ + 1,
                    occurred_at=occurred,
                    recorded_at=occurred + timedelta(seconds=1, microseconds=position),
                    actor="broker:smoke",
                    correlation_id=uuid5(NAMESPACE_URL, f"correlation/{stream_id}"),
                    causation_id=events[-1].event_id if round_ and position % 2 else None,
                    data=data,
                    prev_hash=prev_hash,
                    hash=digest,
                )
            )
            prev_hash = digest
    return events


def projected_directly(events: list[RecordedEvent]) -> dict[str, str]:
    rows: dict[str, OrderStatus | None] = {}
    for event in events:
        for key in ORDER_STATUS.keys(event):
            rows[key] = ORDER_STATUS.project(rows.get(key), event, key)
    return {key: row.model_dump_json() for key, row in sorted(rows.items()) if row is not None}


def check_peer(store: Store, target: str) -> None:
    events = make_events()
    assert len(events) == 60
    expected = projected_directly(events)
    assert len(expected) == 9

    appended = peer_append(store, target, events, batch_events=25)
    assert (appended.events, appended.batches) == (60, 3)
    assert appended.batch_p50_ms is not None and appended.batch_p99_ms is not None

    rebuilt = peer_rebuild(store, target)
    assert (rebuilt.events, rebuilt.batches) == (60, 1)
    view = peer_view(store, target)
    assert view.tracked == 60
    assert len(view.rows) == 9
    assert view.rows["ORD-2026-000004"] == expected["ORD-2026-000004"]
    assert view.rows == expected

    # Small pages: rows carried from one page to the next are read back from the view table.
    rebuilt = peer_rebuild(store, target, page_size=7)
    assert (rebuilt.events, rebuilt.batches) == (60, 9)
    assert peer_view(store, target).rows == expected

    # The library's expected-version check: a stream version already taken is refused.
    with pytest.raises(IntegrityError):
        peer_append(store, target, [events[-1]], batch_events=25)


def test_peer_on_sqlite(tmp_path: Path) -> None:
    check_peer("sqlite", str(tmp_path / "peer.sqlite"))


@pytest.mark.integration
def test_peer_on_postgres(pg_database: Any) -> None:
    check_peer("postgres", pg_database.admin_url)
