"""The hash an appender takes with the data text it stores is the hash the verifier recomputes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from events.ledger import NewEvent
from events.ledger.chain import GENESIS_HASH, canonical_json, event_hash, new_event_fields


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"type": "OrderPlaced", "amount": "12.50", "lines": [{"sku": "LAT-5450", "quantity": 2}]},
        {"note": "livraison à Gatineau — « urgent »", "z": None, "a": {"nested": [1, 2, {"k": "v"}]}},
        {"data": "a key named data", "event_id": "a key named like a column"},
    ],
)
@pytest.mark.parametrize("causation", [None, uuid.UUID(int=7)])
@pytest.mark.parametrize("actor", ["broker/k1", 'client:ESDC/"quoted" \\ é\n\u2028'])
def test_given_the_stored_data_text_then_the_hash_equals_the_hash_of_the_whole_fields(data, causation, actor):
    event = NewEvent(
        event_id=uuid.UUID(int=1),
        type="OrderPlaced",
        schema_version=1,
        stream_type="order",
        data=data,
        occurred_at=datetime(2026, 11, 23, 15, 0, tzinfo=UTC),
        actor=actor,
        correlation_id=uuid.UUID(int=2),
        causation_id=causation,
    )
    fields = new_event_fields(event, "ORD-2026-000001", 41, 3, "2026-11-23T15:00:00.000001+00:00")
    whole = event_hash(GENESIS_HASH, fields)
    assert event_hash(GENESIS_HASH, fields, canonical_json(data)) == whole
    assert event_hash(GENESIS_HASH, fields, canonical_json({**data, "x": 1})) != whole
