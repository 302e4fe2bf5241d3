"""The outbox relay: publishes every ledger event to Kafka in ledger order, marking it only when delivered.

The ledger table is the outbox: the relay keeps one cursor (`ledger.relay_progress`), moved
only after every delivery report up to it came back without error. A crash between report
and marking re-sends from the cursor, so Kafka may hold duplicates but never a gap. One relay
is active at a time: it holds a PostgreSQL session advisory lock; a second one waits for it.

The cursor keeps the hash of the event at its position. If the ledger no longer holds that event
(it was rolled back: an older backup restored), Kafka holds events that are not facts any more,
and publishing on would give their positions to other events: the relay stops, says so, and waits
until an operator moves the cursor (`orderledger relay-rewind`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from events.ledger import Ledger, LedgerUnavailable, RecordedEvent
from events.ledger.catalogue import STREAM_TYPES
from events.ledger.cursors import Cursor, Divergence, continuation
from events.ledger.postgres import APPENDED_CHANNEL, PostgresLedger
from events.publishing.cloud_events import data_bytes, kafka_headers, topic_for
from processors import metrics
from processors.ops_server import Heartbeat
from processors.structured_logs import log_events

log = logging.getLogger("orderledger.relay")
# librdkafka's own messages go through Python logging (JSON, redacted), not straight to stderr
KAFKA_CLIENT_LOG = logging.getLogger("orderledger.kafka")
RELAY_LOCK = 0x0DE1_ED70
RELAY_NAME = "kafka"
ROLLED_BACK_RECHECK_SECONDS = 5.0  # how often a stopped relay looks whether its cursor was moved


def dead_letter_topic(prefix: str) -> str:
    return f"{prefix}.deadletter.v1"


def ensure_topics(bootstrap: str, prefix: str, partitions: int, replication: int) -> None:
    """Create the topics the app uses (retention forever); existing ones are left as they are."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "logger": KAFKA_CLIENT_LOG})
    config = {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"}
    if replication > 1:
        config["min.insync.replicas"] = str(min(2, replication))
    wanted = [topic_for(prefix, kind) for kind in STREAM_TYPES] + [dead_letter_topic(prefix)]
    futures = admin.create_topics(
        [NewTopic(t, partitions, replication, config=config) for t in wanted], request_timeout=30
    )
    for topic, future in futures.items():
        try:
            future.result(timeout=60)
            log.info("created topic %s", topic)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise


class Relay:
    def __init__(
        self,
        database_url: str,
        bootstrap: str,
        prefix: str,
        batch: int = 2000,
        before_mark: Callable[[int], None] | None = None,
        public_url: str = "http://127.0.0.1:8000",
    ) -> None:
        self.database_url = database_url
        self.bootstrap = bootstrap
        self.prefix = prefix
        self.batch = batch
        self.public_url = public_url
        self.ledger = PostgresLedger(database_url)
        # Fault injection for tests: called with the position about to be marked.
        self.before_mark = before_mark
        self._stop = threading.Event()
        self.heartbeat = Heartbeat("relay", stale_after_seconds=60)
        self.rolled_back: Divergence | None = None  # set while stopped on a ledger rolled back under the cursor
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "logger": KAFKA_CLIENT_LOG,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "compression.type": "lz4",
                # The Java client's partitioner: a stream lands on the same partition whoever produces it.
                "partitioner": "murmur2_random",
                "message.timeout.ms": 600_000,  # keep retrying through a broker outage
            }
        )

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Wait for the relay lock, then publish until stopped. Reconnects after database errors."""
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.database_url, autocommit=True) as lock_session:
                    if not self._take_lock(lock_session):
                        continue
                    log.info("relay active")
                    self._publish_loop(lock_session)
            except (psycopg.OperationalError, LedgerUnavailable, OSError) as exc:
                log.warning("relay lost the database (%s); retrying", exc)
                time.sleep(1)
            except Exception:
                # Never die quietly: the cursor is safe in the database, so start over from it.
                log.exception("relay failed; restarting from its cursor")
                time.sleep(1)
        self._producer.flush(10)

    def _take_lock(self, session: psycopg.Connection[Any]) -> bool:
        while not self._stop.is_set():
            self.heartbeat.beat()
            row = session.execute("SELECT pg_try_advisory_lock(%s)", (RELAY_LOCK,)).fetchone()
            if row and row[0]:
                return True
            time.sleep(0.5)  # another relay is active; take over when its session ends
        return False

    def _publish_loop(self, session: psycopg.Connection[Any]) -> None:
        cursor = read_cursor(session)
        session.execute(f"LISTEN {APPENDED_CHANNEL}")  # every append notifies: publish at once, not at a poll
        while not self._stop.is_set():
            self.heartbeat.beat()
            events = self.ledger.read_all(cursor.position, self.batch)
            if rolled_back := continuation(cursor, events, self.ledger.head):
                cursor = self._stopped(session, rolled_back)
                continue
            if not events:
                session.execute("SELECT 1")  # notice a lost session (and lock) promptly
                _wait_for_appends(session)
                continue
            if self._deliver(events):
                metrics.PUBLISHED.inc(len(events))
                log_events(log, "published", events)
                cursor = Cursor("relay", events[-1].position, events[-1].hash)
                if self.before_mark:
                    self.before_mark(cursor.position)
                mark_cursor(session, cursor)

    def _stopped(self, session: psycopg.Connection[Any], rolled_back: Divergence) -> Cursor:
        """Publish nothing while the ledger does not hold the cursor; the cursor once an operator has moved it."""
        self.rolled_back = rolled_back
        log.error(
            "the ledger was rolled back under the relay (%s): Kafka holds events the ledger no longer has;"
            " not publishing until `orderledger relay-rewind --to POSITION` moves the cursor",
            rolled_back.describe(),
        )
        while not self._stop.wait(ROLLED_BACK_RECHECK_SECONDS):
            self.heartbeat.beat()  # stopped on purpose, not stalled: /readyz and the metrics say why
            cursor = read_cursor(session)
            if cursor != rolled_back.cursor:
                log.info("relay cursor moved to position %d; publishing from there", cursor.position)
                self.rolled_back = None
                return cursor
        return rolled_back.cursor

    def _deliver(self, events: list[RecordedEvent]) -> bool:
        """Produce a batch and wait for every delivery report; False if any failed (re-send it all)."""
        failures: list[str] = []
        pending = len(events)
        started = time.perf_counter()

        def report(error: KafkaError | None, _message: Any) -> None:
            nonlocal pending
            pending -= 1
            if error is not None:
                failures.append(str(error))

        for event in events:
            while True:
                try:
                    self._producer.produce(
                        topic_for(self.prefix, event.stream_type),
                        key=event.stream_id.encode(),
                        value=data_bytes(event),
                        headers=kafka_headers(event, self.public_url),
                        on_delivery=report,
                    )
                    break
                except BufferError:
                    self._producer.poll(0.1)  # local queue full: let deliveries drain
        while pending > 0 and not self._stop.is_set():
            self.heartbeat.beat()  # waiting on a broker is alive: /readyz says Kafka is unreachable
            self._producer.poll(0.1)
        if pending == 0 and not failures:
            metrics.PUBLISH_SECONDS.observe(time.perf_counter() - started)
        if failures:
            log.warning("%d deliveries failed (first: %s); re-sending from the cursor", len(failures), failures[0])
            time.sleep(0.5)
            return False
        return pending == 0


def read_cursor(session: psycopg.Connection[Any]) -> Cursor:
    row = session.execute("SELECT position, hash FROM ledger.relay_progress WHERE name = %s", (RELAY_NAME,)).fetchone()
    return Cursor("relay", int(row[0]), row[1]) if row else Cursor("relay", 0, None)


def mark_cursor(session: psycopg.Connection[Any], cursor: Cursor) -> None:
    session.execute(
        "INSERT INTO ledger.relay_progress (name, position, hash, marked_at) VALUES (%s, %s, %s, now())"
        " ON CONFLICT (name) DO UPDATE SET position = excluded.position, hash = excluded.hash, marked_at = now()",
        (RELAY_NAME, cursor.position, cursor.hash),
    )


def rewind(database_url: str, ledger: Ledger, position: int) -> tuple[Cursor, Cursor]:
    """Move the relay's cursor to `position` (at most the ledger's head); it publishes from the next event.

    The way out after the ledger was rolled back under the relay: events after `position` are
    published again (or for the first time). Returns the cursor before and after.
    """
    head = ledger.head()
    if not 0 <= position <= head:
        raise ValueError(f"position {position} is not in the ledger (0 to its head {head})")
    moved = Cursor("relay", position, ledger.hashes([position]).get(position) if position else None)
    with psycopg.connect(database_url, autocommit=True) as session:
        before = read_cursor(session)
        mark_cursor(session, moved)
    return before, moved


def _wait_for_appends(session: psycopg.Connection[Any]) -> None:
    """Until an append is notified (at most 0.5 s); the notifications queued behind it are taken too."""
    for _ in session.notifies(timeout=0.5, stop_after=1):
        pass
    for _ in session.notifies(timeout=0):
        pass
