"""The faust worker: every projection handler of the embedded runner, fed from the Kafka topics.

at_least_once in, exactly-once effect out: rows and the (topic, partition, offset) checkpoint
are written in one PostgreSQL transaction, and a message at or below the stored offset, or an
event at or below a row's stream version, changes nothing. A message that cannot be decoded or
applied goes to the dead-letter topic with its reason and the partition moves on.

Each batch is checked against the ledger first (one query): a message whose event the ledger does
not hold (published before the ledger was rolled back) is parked on the dead-letter topic, never
applied; and while the rows hold such events already, the worker applies nothing until
`orderledger rebuild` has built them again from the ledger.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from typing import Any

import faust

from events.ledger import RecordedEvent
from events.ledger.catalogue import CLOUD_TYPES, STREAM_TYPES
from events.ledger.cursors import LedgerRolledBack
from events.ledger.postgres import PostgresLedger
from events.publishing.cloud_events import header_map, recorded_from_kafka
from processors import metrics, structured_logs
from processors.ops_server import Heartbeat
from processors.projection_store import ProjectionStore
from processors.relay import dead_letter_topic, ensure_topics, topic_for
from processors.settings import Settings
from processors.sql import PostgresDatabase
from projections.catalogue import PROJECTIONS

log = logging.getLogger("orderledger.worker")
RUNNER = "faust"
ROLLED_BACK_RECHECK_SECONDS = 5.0  # how often a worker stopped on a rolled-back ledger looks again
Batch = dict[tuple[str, int], list[tuple[int, RecordedEvent]]]  # (topic, partition) → (offset, event)


def create_worker_app(settings: Settings, heartbeat: Heartbeat) -> faust.App:
    if not settings.database_url or not settings.kafka_bootstrap:
        raise ValueError("the worker needs a database URL and Kafka bootstrap servers")
    ensure_topics(
        settings.kafka_bootstrap, settings.topic_prefix, settings.topic_partitions, settings.topic_replication
    )
    datadir = settings.data_dir / "faust" / settings.worker_group
    datadir.parent.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.worker_group,
        broker=[f"kafka://{server}" for server in settings.kafka_bootstrap.split(",")],
        processing_guarantee="at_least_once",
        store="memory://",
        # faust keeps a `<id>-data` directory even with memory tables: under the data dir, not the cwd.
        datadir=str(datadir),
        web_enabled=False,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        broker_commit_every=500,
        broker_commit_interval=1.0,
        # A killed worker's partitions move to the others after 10 s, not faust's default 60 s.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=3.0,
        # Catching up on a long backlog, the consumer's prefetch (4 MB per partition by default, over
        # every partition of every topic) held ~290 MB: 512 kB a partition keeps the worker near 170.
        consumer_max_fetch_size=512 * 1024,
    )
    store = ProjectionStore(PostgresDatabase(settings.database_url, "readmodels"))
    for projection in PROJECTIONS.values():
        store.ensure(projection)
    ledger = PostgresLedger(settings.database_url)  # read only: is an event from Kafka still the ledger's?
    dead_letters = app.topic(
        dead_letter_topic(settings.topic_prefix),
        key_type=bytes,
        value_type=bytes,
        value_serializer="raw",
        key_serializer="raw",
    )
    topics = [topic_for(settings.topic_prefix, kind) for kind in STREAM_TYPES]
    source = app.topic(*topics, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")

    async def dead_letter(event: Any, reason: str) -> None:
        metrics.DEAD_LETTERED.inc()
        message = event.message
        attributes = header_map(message.headers)
        log.error(
            "dead letter %s[%s]@%s: %s",
            message.topic,
            message.partition,
            message.offset,
            reason,
            extra={"correlation_id": attributes.get("ce_correlationid"), "event_id": attributes.get("ce_id")},
        )
        await dead_letters.send(
            key=event.key,
            value=event.value,
            headers={
                # the CloudEvents attributes, so the parked record can be replayed as it was
                **{name: value.encode() for name, value in attributes.items()},
                "reason": reason.encode()[:2000],
                "source-topic": message.topic.encode(),
                "source-partition": str(message.partition).encode(),
                "source-offset": str(message.offset).encode(),
            },
        )

    async def apply(
        topic: str, partition: int, decoded: list[tuple[int, RecordedEvent]], events: dict[int, Any]
    ) -> None:
        loop = asyncio.get_running_loop()
        for projection in PROJECTIONS.values():
            try:
                await loop.run_in_executor(None, store.apply_partition, projection, topic, partition, decoded)
            except Exception:
                # One bad event must not stop the partition: apply one by one, park the bad one.
                for offset, recorded in decoded:
                    try:
                        await loop.run_in_executor(
                            None, store.apply_partition, projection, topic, partition, [(offset, recorded)]
                        )
                    except Exception as exc:
                        await dead_letter(events[offset], f"{projection.name}: {type(exc).__name__}: {exc}")
                        await loop.run_in_executor(
                            None,
                            lambda o=offset, p=projection: store.apply_partition(p, topic, partition, [], through=o),
                        )

    async def not_in_ledger(decoded: Batch) -> list[tuple[str, int, int]]:
        """The batch's messages the ledger does not hold; waits while the rows hold events it does not."""
        loop = asyncio.get_running_loop()
        reported = False
        while True:
            try:
                return await loop.run_in_executor(
                    None, store.unheld_messages, list(PROJECTIONS.values()), decoded, ledger
                )
            except LedgerRolledBack as rolled_back:
                if not reported:
                    log.error(
                        "the ledger was rolled back under the read models (%s); applying nothing until"
                        " `orderledger rebuild` builds them again from the ledger",
                        rolled_back,
                    )
                    reported = True
                await asyncio.sleep(ROLLED_BACK_RECHECK_SECONDS)

    @app.agent(source, name="projections")
    async def project(stream: Any) -> None:
        # Up to 2,000 messages, or what arrived within 10 ms: big batches under load, little wait when quiet.
        async for batch in stream.take_events(2000, within=0.01):
            groups: dict[tuple[str, int], list[Any]] = defaultdict(list)
            for event in batch:
                groups[(event.message.topic, event.message.partition)].append(event)
            decoded: Batch = {}
            parked: dict[tuple[str, int], list[int]] = defaultdict(list)  # dead-lettered: offsets only move past
            for (topic, partition), events in groups.items():
                decoded[(topic, partition)] = []
                for event in events:
                    try:
                        recorded = recorded_from_kafka(event.message.headers, event.value, CLOUD_TYPES)
                        decoded[(topic, partition)].append((event.message.offset, recorded))
                    except Exception as exc:
                        await dead_letter(event, f"undecodable: {type(exc).__name__}: {str(exc)[:500]}")
                        parked[(topic, partition)].append(event.message.offset)
            for topic, partition, offset in await not_in_ledger(decoded):
                message = next(e for e in groups[(topic, partition)] if e.message.offset == offset)
                recorded = next(r for o, r in decoded[(topic, partition)] if o == offset)
                await dead_letter(
                    message,
                    f"not in the ledger: it holds no event {recorded.event_id} at position {recorded.position}"
                    " (the ledger was rolled back after this event was published)",
                )
                decoded[(topic, partition)] = [(o, r) for o, r in decoded[(topic, partition)] if o != offset]
                parked[(topic, partition)].append(offset)
            loop = asyncio.get_running_loop()
            started = time.perf_counter()
            try:  # the whole batch, every projection, one transaction
                await loop.run_in_executor(None, store.apply_partitions, list(PROJECTIONS.values()), decoded)
                metrics.APPLY_SECONDS.labels(RUNNER).observe(time.perf_counter() - started)
                metrics.APPLIED.labels(RUNNER).inc(len(batch))
                for applied in decoded.values():
                    structured_logs.log_events(log, "applied", (recorded for _, recorded in applied))
            except Exception:
                log.warning("a batch could not be applied at once; applying it partition by partition")
                for (topic, partition), events in groups.items():
                    await apply(topic, partition, decoded[(topic, partition)], {e.message.offset: e for e in events})
            for (topic, partition), offsets in parked.items():
                for offset in offsets:
                    for projection in PROJECTIONS.values():
                        store.apply_partition(projection, topic, partition, [], through=offset)

    @app.on_partitions_assigned.connect
    async def assigned(sender: Any, assigned: Any, **kwargs: Any) -> None:
        # one JSON line operators (and tests) read, rather than faust's own table
        partitions: dict[str, list[int]] = defaultdict(list)
        for tp in assigned:
            partitions[tp.topic].append(tp.partition)
        log.info("partitions assigned", extra={"partitions": {t: sorted(p) for t, p in sorted(partitions.items())}})

    @app.timer(interval=5.0)
    async def beat() -> None:  # the event loop turns: the worker is alive
        heartbeat.beat()

    return app


def run_worker(settings: Settings, heartbeat: Heartbeat) -> None:
    """Until stopped; `heartbeat` turns with faust's event loop (the ops port's /healthz reads it)."""
    app = create_worker_app(settings, heartbeat)
    worker = faust.Worker(
        app,
        loglevel=settings.log_level,
        quiet=True,
        # mode's setup runs this dictConfig instead of its coloured one: the worker logs JSON like the API
        logging_config=structured_logs.faust_logging_config(settings.log_level),
    )
    worker.spinner = None  # at warning and above faust adds a terminal spinner writing escape codes to stdout
    worker.execute_from_commandline()
