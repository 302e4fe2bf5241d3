"""How far a faust worker has got: its stored offsets against the end of every topic it reads."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg
from confluent_kafka import Consumer, TopicPartition

from events.ledger.catalogue import STREAM_TYPES
from processors.relay import topic_for
from projections.catalogue import PROJECTIONS


def end_offsets(bootstrap: str, topics: list[str]) -> dict[tuple[str, int], int]:
    """The high watermark of every partition of `topics` (partitions with no message left out)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "orderledger-bench-watermarks"})
    try:
        ends = {}
        metadata = consumer.list_topics(timeout=30)
        for topic in topics:
            for partition in metadata.topics[topic].partitions:
                _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=30)
                if high > 0:
                    ends[(topic, partition)] = high
        return ends
    finally:
        consumer.close()


def caught_up(settings: Any, database_url: str, alive: Callable[[], bool], timeout: float) -> tuple[int, float]:
    """Wait until every projection's stored offset reaches the end of every partition; the messages read,
    and when (time.perf_counter) the worker committed its first batch (its start-up is over then)."""
    topics = [topic_for(settings.topic_prefix, kind) for kind in STREAM_TYPES]
    ends = end_offsets(settings.kafka_bootstrap, topics)
    wanted = {(name, topic, partition): end for name in PROJECTIONS for (topic, partition), end in ends.items()}
    deadline = time.monotonic() + timeout
    first_commit: float | None = None
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("the worker exited before catching up")
        try:
            with psycopg.connect(database_url) as db:
                rows = db.execute("SELECT name, topic, partition, next_offset FROM readmodels.consumer_offsets")
                stored = {(name, topic, partition): offset for name, topic, partition, offset in rows}
        except psycopg.errors.UndefinedTable:
            stored = {}
        if stored and first_commit is None:
            first_commit = time.perf_counter()
        if all(stored.get(key, 0) >= end for key, end in wanted.items()):
            return sum(ends.values()), first_commit or time.perf_counter()
        time.sleep(0.05)
    raise TimeoutError(f"the worker did not catch up within {timeout:.0f} s")
