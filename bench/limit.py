"""The physical limit of our appends and our Kafka transport, measured with the raw clients in the same run.

Each function does what our code does with none of its work on top, so `make bench` can say "ours ÷ limit":

- `copy_rows` / `executemany_rows`: the ledger's rows inserted into an equivalent table (same columns, types,
  primary key and UNIQUE constraints, so the same index maintenance) without the append lock, the head and
  version reads, the hash computation or the triggers: what PostgreSQL costs for the rows alone.
- `kafka_produce` / `kafka_consume`: the relay's records (same key, value bytes and headers, same producer
  settings) sent and read back with confluent-kafka alone, without reading the ledger or moving a cursor.

Rows and records are built before the clock starts: the figures time the database and the transport only.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field

from events.ledger import RECORDED_COLUMNS, RecordedEvent
from events.ledger.postgres import SCHEMA
from events.publishing.cloud_events import data_bytes, kafka_headers

LIMIT_SCHEMA = "bench_limit"
LIMIT_TABLE = f"{LIMIT_SCHEMA}.ledger_events"
RELAY_BASE_URL = "http://127.0.0.1:8000"  # the relay's default public_url, carried in ce_dataschema

# The relay's producer settings (processors/relay.py, Relay.__init__), bootstrap.servers and logger aside.
RELAY_PRODUCER_SETTINGS: dict[str, Any] = {
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 5,
    "compression.type": "lz4",
    "partitioner": "murmur2_random",
    "message.timeout.ms": 600_000,
}
# The topic config of processors/relay.py `ensure_topics` for replication 1.
RELAY_TOPIC_CONFIG = {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"}

_COLUMNS = ", ".join(RECORDED_COLUMNS)
_LEDGER_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS ledger\.ledger_events \(.*?\n\);", re.DOTALL)


class LimitFigure(BaseModel):
    """One measured limit: how many events, in how long, and the settings it was measured with.

    `p50_ms`/`p99_ms` are per-batch (per-transaction) latencies, PostgreSQL only; `join_seconds` is the
    consumer group join, Kafka consume only, and is not part of `seconds`.
    """

    model_config = ConfigDict(frozen=True)

    events: int
    seconds: float
    events_per_s: float
    p50_ms: float | None = None
    p99_ms: float | None = None
    join_seconds: float | None = None
    settings: dict[str, Any] = Field(default_factory=dict)


# ---------------------------------------------------------------- PostgreSQL


def copy_rows(url: str, events: list[RecordedEvent], batch_events: int) -> LimitFigure:
    """The limit of our appends with COPY: the rows written by `COPY ... FROM STDIN` (text format, one row at a
    time with `write_row`), `batch_events` rows per transaction, into an empty equivalent table."""

    def insert(cursor: psycopg.Cursor[Any], rows: Sequence[tuple[Any, ...]]) -> None:
        with cursor.copy(f"COPY {LIMIT_TABLE} ({_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    return _insert_rows(url, events, batch_events, "COPY FROM STDIN (text)", insert)


def executemany_rows(url: str, events: list[RecordedEvent], batch_events: int) -> LimitFigure:
    """The limit of our appends as the ledger writes them: `cursor.executemany` of one INSERT per row
    (psycopg pipelines it), `batch_events` rows per transaction, into an empty equivalent table."""
    statement = f"INSERT INTO {LIMIT_TABLE} ({_COLUMNS}) VALUES ({', '.join(['%s'] * len(RECORDED_COLUMNS))})"

    def insert(cursor: psycopg.Cursor[Any], rows: Sequence[tuple[Any, ...]]) -> None:
        cursor.executemany(statement, rows)

    return _insert_rows(url, events, batch_events, "executemany INSERT", insert)


def limit_table_ddl() -> str:
    """Our ledger table's CREATE TABLE, read from its SCHEMA, in the bench_limit schema (no triggers)."""
    found = _LEDGER_TABLE.search(SCHEMA)
    if found is None:
        raise RuntimeError("ledger.ledger_events is no longer created as expected in events/ledger/postgres.py")
    return found.group(0).replace("IF NOT EXISTS ledger.ledger_events", LIMIT_TABLE)


def _insert_rows(
    url: str,
    events: list[RecordedEvent],
    batch_events: int,
    method: str,
    insert: Callable[[psycopg.Cursor[Any], Sequence[tuple[Any, ...]]], None],
) -> LimitFigure:
    if batch_events < 1:
        raise ValueError("batch_events must be at least 1")
    rows = [_row(event) for event in events]
    latencies: list[float] = []
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f"DROP SCHEMA IF EXISTS {LIMIT_SCHEMA} CASCADE")
        db.execute(f"CREATE SCHEMA {LIMIT_SCHEMA}")
        db.execute(limit_table_ddl())
        synchronous_commit = db.execute("SHOW synchronous_commit").fetchone()
        with db.cursor() as cursor:
            for start in range(0, len(rows), batch_events):
                began = time.perf_counter()
                with db.transaction():
                    insert(cursor, rows[start : start + batch_events])
                latencies.append(time.perf_counter() - began)
    seconds = sum(latencies)
    return LimitFigure(
        events=len(rows),
        seconds=seconds,
        events_per_s=len(rows) / seconds if seconds > 0 else 0.0,
        p50_ms=_percentile(latencies, 50) * 1000,
        p99_ms=_percentile(latencies, 99) * 1000,
        settings={
            "method": method,
            "batch_events": batch_events,
            "table": LIMIT_TABLE,
            "synchronous_commit": synchronous_commit[0] if synchronous_commit else None,
        },
    )


def _row(event: RecordedEvent) -> tuple[Any, ...]:
    """The stored row of an event, in RECORDED_COLUMNS order, data as JSONB."""
    return tuple(Jsonb(event.data) if name == "data" else getattr(event, name) for name in RECORDED_COLUMNS)


def _percentile(values: list[float], percent: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


# ---------------------------------------------------------------- Kafka


def kafka_produce(
    bootstrap: str,
    topic: str,
    events: list[RecordedEvent],
    partitions: int = 3,
    base_url: str = RELAY_BASE_URL,
    timeout_s: float = 120.0,
) -> LimitFigure:
    """The limit of our relay's publishing: the relay's records (key = stream id, value = the data's compact
    JSON, binary-mode CloudEvents headers) produced with the relay's settings into a new topic (created here,
    `partitions` partitions, replication 1; it must not exist yet), from the first `produce` to `flush`
    returning with every delivery report OK.

    Like the relay's long-lived producer, this one is warm when the clock starts: connected, its idempotent
    producer id acquired and the topic's metadata known, by one record sent to `<topic>.warmup` (a topic of
    its own, so `topic` holds exactly the events). A fresh broker can take a second over that first record.
    """
    _create_topic(bootstrap, topic, partitions, timeout_s)
    _create_topic(bootstrap, f"{topic}.warmup", 1, timeout_s)
    records = [(event.stream_id.encode(), data_bytes(event), kafka_headers(event, base_url)) for event in events]
    producer = Producer({"bootstrap.servers": bootstrap, **RELAY_PRODUCER_SETTINGS})
    producer.produce(f"{topic}.warmup", value=b"warmup")
    if producer.flush(timeout_s):
        raise TimeoutError(f"the warm-up record to {topic}.warmup was not delivered in {timeout_s} s")
    producer.list_topics(topic, timeout=timeout_s)
    failures: list[str] = []
    delivered = 0

    def report(error: KafkaError | None, _message: Any) -> None:
        nonlocal delivered
        if error is None:
            delivered += 1
        else:
            failures.append(str(error))

    began = time.perf_counter()
    for key, value, headers in records:
        while True:
            try:
                producer.produce(topic, key=key, value=value, headers=headers, on_delivery=report)
                break
            except BufferError:
                producer.poll(0.1)  # local queue full: let deliveries drain
    left = producer.flush(timeout_s)
    seconds = time.perf_counter() - began
    if left or failures or delivered != len(records):
        first = failures[0] if failures else "none"
        raise RuntimeError(f"{delivered} of {len(records)} delivered, {left} still queued, first failure: {first}")
    return LimitFigure(
        events=len(records),
        seconds=seconds,
        events_per_s=len(records) / seconds if seconds > 0 else 0.0,
        settings={**RELAY_PRODUCER_SETTINGS, "partitions": partitions, "replication": 1},
    )


def kafka_consume(
    bootstrap: str, topic: str, expected: int, batch: int = 1000, timeout_s: float = 120.0
) -> LimitFigure:
    """The limit of reading our records back: a fresh consumer group (earliest offsets, no commits) reading
    `expected` messages with `Consumer.consume` in batches of `batch`.

    `join_seconds` is from `subscribe` to the partitions being assigned (the group join); `seconds` is from
    the assignment to the last message, so it holds the offset look-up and every fetch but not the join.
    (Timing from the first message would leave out the first batch, which may be all of a small topic.)
    """
    settings: dict[str, Any] = {
        "group.id": f"bench-limit-{uuid.uuid4().hex}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "batch": batch,
    }
    consumer = Consumer({"bootstrap.servers": bootstrap, **{k: v for k, v in settings.items() if k != "batch"}})
    assigned: list[float] = []
    read = 0
    try:
        began = time.perf_counter()
        consumer.subscribe([topic], on_assign=lambda _consumer, _partitions: assigned.append(time.perf_counter()))
        deadline = began + timeout_s
        last = began
        while read < expected:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"read {read} of {expected} messages from {topic} in {timeout_s} s")
            # Never ask for more than is left: consume() waits for num_messages or the timeout.
            for message in consumer.consume(num_messages=min(batch, expected - read), timeout=0.5):
                error = message.error()
                if error is not None and error.code() != KafkaError._PARTITION_EOF:
                    raise KafkaException(error)
                if error is None:
                    read += 1
            last = time.perf_counter()
    finally:
        consumer.close()
    joined = assigned[0] if assigned else began
    seconds = last - joined
    return LimitFigure(
        events=read,
        seconds=seconds,
        events_per_s=read / seconds if seconds > 0 else 0.0,
        join_seconds=joined - began,
        settings=settings,
    )


def _create_topic(bootstrap: str, topic: str, partitions: int, timeout_s: float) -> None:
    """Create the topic and wait until the broker lists it with a leader for every partition."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(topic, partitions, 1, config=RELAY_TOPIC_CONFIG)], request_timeout=30)
    futures[topic].result(timeout=timeout_s)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = admin.list_topics(topic, timeout=10).topics.get(topic)
        if (
            found is not None
            and found.error is None
            and len(found.partitions) == partitions
            and all(p.error is None and p.leader >= 0 for p in found.partitions.values())
        ):
            return
        time.sleep(0.1)
    raise TimeoutError(f"topic {topic} has no leader for every partition after {timeout_s} s")
