"""Smoke tests of the benchmark's physical-limit measurements (bench/limit.py): tiny sizes, no timing thresholds."""

from __future__ import annotations

import ast
import inspect
import json
import textwrap
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from confluent_kafka import Consumer

from bench.limit import (
    LIMIT_TABLE,
    RELAY_PRODUCER_SETTINGS,
    LimitFigure,
    copy_rows,
    executemany_rows,
    kafka_consume,
    kafka_produce,
)
from events.ledger import RECORDED_COLUMNS, RecordedEvent, recorded_from_row
from events.ledger.catalogue import CLOUD_TYPES
from events.ledger.chain import GENESIS_HASH, event_hash, recorded_event_fields
from events.publishing.cloud_events import data_bytes
from processors.relay import Relay

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
STREAMS = 10
EVENTS_PER_STREAM = 5


def sample_events() -> list[RecordedEvent]:
    """50 events over 10 streams, interleaved in position order, with real data and a real hash chain."""
    by_stream_type: dict[str, list[tuple[str, int, dict[str, object]]]] = {}
    for path in sorted(SAMPLES.glob("ca.orderledger.*.json")):
        event_type, schema_version, stream_type = CLOUD_TYPES[path.stem]
        by_stream_type.setdefault(stream_type, []).append((event_type, schema_version, json.loads(path.read_text())))
    kinds = sorted(by_stream_type)
    recorded_at = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    events: list[RecordedEvent] = []
    prev_hash = GENESIS_HASH
    for version in range(1, EVENTS_PER_STREAM + 1):
        for stream in range(STREAMS):
            kind = kinds[stream % len(kinds)]
            event_type, schema_version, data = by_stream_type[kind][(stream + version) % len(by_stream_type[kind])]
            unhashed = RecordedEvent(
                position=len(events) + 1,
                event_id=uuid.uuid4(),
                type=event_type,
                schema_version=schema_version,
                stream_id=f"{kind}-{stream:04d}",
                stream_type=kind,
                stream_version=version,
                occurred_at=recorded_at - timedelta(minutes=5),
                recorded_at=recorded_at + timedelta(milliseconds=len(events)),
                actor="bench",
                correlation_id=uuid.uuid4(),
                causation_id=None if version == 1 else uuid.uuid4(),
                data=data,
                prev_hash=prev_hash,
                hash="",
            )
            digest = event_hash(prev_hash, recorded_event_fields(unhashed))
            events.append(unhashed.model_copy(update={"hash": digest}))
            prev_hash = digest
    return events


def stored_events(url: str) -> list[RecordedEvent]:
    with psycopg.connect(url) as db:
        rows = db.execute(f"SELECT {', '.join(RECORDED_COLUMNS)} FROM {LIMIT_TABLE} ORDER BY position").fetchall()
    return [recorded_from_row(row) for row in rows]


def assert_measured(figure: LimitFigure, events: int) -> None:
    assert figure.events == events
    assert figure.seconds > 0
    assert figure.events_per_s > 0


@pytest.mark.parametrize("insert", [copy_rows, executemany_rows], ids=["copy", "executemany"])
def test_the_ledger_rows_go_into_an_equivalent_table_in_batches(pg_database, insert):
    events = sample_events()

    figure = insert(pg_database.admin_url, events, 20)

    assert_measured(figure, len(events))
    assert figure.p50_ms is not None and figure.p99_ms is not None
    assert 0 < figure.p50_ms <= figure.p99_ms
    assert figure.settings["batch_events"] == 20
    assert stored_events(pg_database.admin_url) == events


def test_a_second_run_starts_from_an_empty_table_with_the_ledger_constraints(pg_database):
    events = sample_events()
    copy_rows(pg_database.admin_url, events, 20)

    executemany_rows(pg_database.admin_url, events, 50)

    with psycopg.connect(pg_database.admin_url) as db:
        assert db.execute(f"SELECT count(*) FROM {LIMIT_TABLE}").fetchone() == (len(events),)
        constraints = db.execute(
            "SELECT contype, count(*) FROM pg_constraint WHERE conrelid = %s::regclass GROUP BY contype",
            (LIMIT_TABLE,),
        ).fetchall()
        triggers = db.execute("SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass", (LIMIT_TABLE,))
        assert triggers.fetchone() == (0,)
    assert dict(constraints) == {"p": 1, "u": 2, "c": 1}


def test_the_relay_records_go_through_kafka_and_come_back(kafka_broker):
    events = sample_events()
    topic = f"bench-limit-{uuid.uuid4().hex[:12]}"

    produced = kafka_produce(kafka_broker.bootstrap, topic, events)
    consumed = kafka_consume(kafka_broker.bootstrap, topic, len(events))

    assert_measured(produced, len(events))
    assert_measured(consumed, len(events))
    assert consumed.join_seconds is not None and consumed.join_seconds >= 0
    assert produced.settings["partitions"] == 3
    assert read_back(kafka_broker.bootstrap, topic, len(events)) == Counter(
        (event.stream_id.encode(), data_bytes(event), event.event_id.bytes) for event in events
    )


def test_the_producer_settings_are_the_relays():
    source = textwrap.dedent(inspect.getsource(Relay.__init__))
    producer = next(
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Producer"
    )
    config = producer.args[0]
    assert isinstance(config, ast.Dict)
    relay = {
        ast.literal_eval(key): ast.literal_eval(value)
        for key, value in zip(config.keys, config.values, strict=True)
        if key is not None and ast.literal_eval(key) not in ("bootstrap.servers", "logger")
    }
    assert relay == RELAY_PRODUCER_SETTINGS


def read_back(bootstrap: str, topic: str, expected: int) -> Counter[tuple[bytes, bytes, bytes]]:
    """(key, value, event id) of every record in the topic, read by a consumer of our own."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"check-{uuid.uuid4().hex}", "auto.offset.reset": "earliest"}
    )
    found: Counter[tuple[bytes, bytes, bytes]] = Counter()
    try:
        consumer.subscribe([topic])
        for _ in range(120):
            for message in consumer.consume(num_messages=expected, timeout=0.5):
                assert message.error() is None, message.error()
                headers = dict(message.headers() or [])
                found[(message.key(), message.value(), uuid.UUID(headers["ce_id"].decode()).bytes)] += 1
            if sum(found.values()) >= expected:
                break
    finally:
        consumer.close()
    return found
