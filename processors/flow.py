"""How events flow right now: ledger head, relay backlog, projection lag, webhook queues, verification.

Read from the database (and Kafka's end offsets) when asked: by Prometheus scrapes (`FlowCollector`)
and by `/readyz` (`readiness`). Lag is counted in events: the embedded runner's as ledger head − its
checkpoint (partition "ledger"); faust workers' per Kafka partition as the partition's end offset −
the offset stored with the rows. The relay's backlog (head − its cursor) is the rest of the way.
Every cursor (checkpoints, workers' newest applied events, the relay's) is also checked against the
ledger's hash at its position: one the ledger no longer holds means the ledger was rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric

from events.ledger import Ledger
from events.ledger.catalogue import STREAM_TYPES
from events.ledger.cursors import Cursor, Divergence, divergences
from events.publishing.cloud_events import topic_for
from processors.clocks import Clock, system_clock
from processors.projection_store import ProjectionStore
from processors.relay import KAFKA_CLIENT_LOG, RELAY_NAME, dead_letter_topic
from processors.structured_logs import redact
from processors.verification import Verification, VerificationLog
from processors.webhook_store import WebhookStore
from projections import Projection

KAFKA_TIMEOUT_S = 3.0


class KafkaUnreachable(Exception):
    pass


class KafkaWatch:
    """End offsets of orderledger's topics, through one admin client kept for the process's life."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        from confluent_kafka.admin import AdminClient

        self.topics = [topic_for(prefix, kind) for kind in STREAM_TYPES]
        self.dead_letter_topic = dead_letter_topic(prefix)
        self._admin = AdminClient(
            {
                "bootstrap.servers": bootstrap,
                "socket.timeout.ms": int(KAFKA_TIMEOUT_S * 1000),
                "logger": KAFKA_CLIENT_LOG,
            }
        )

    def end_offsets(self, topics: list[str]) -> dict[tuple[str, int], int]:
        """(topic, partition) → the offset the next message will get; raises KafkaUnreachable."""
        from confluent_kafka import KafkaException, TopicPartition
        from confluent_kafka.admin import OffsetSpec

        try:
            metadata = self._admin.list_topics(timeout=KAFKA_TIMEOUT_S)
            wanted = [
                TopicPartition(topic, partition)
                for topic in topics
                if topic in metadata.topics
                for partition in metadata.topics[topic].partitions
            ]
            if not wanted:
                return {}
            futures = self._admin.list_offsets(
                {tp: OffsetSpec.latest() for tp in wanted}, request_timeout=KAFKA_TIMEOUT_S
            )
            return {(tp.topic, tp.partition): int(f.result().offset) for tp, f in futures.items()}
        except KafkaException as exc:
            raise KafkaUnreachable(str(exc.args[0])) from exc


@dataclass
class Flow:
    head: int
    relay_backlog: int | None = None  # None without a relay (embedded, or no Kafka)
    lag: dict[tuple[str, str], int] = field(default_factory=dict)  # (projection, partition) → events
    dead_letters: int | None = None
    webhooks: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    verification: Verification | None = None
    kafka_error: str | None = None
    # Cursors the ledger no longer holds (it was rolled back under them): projections' checkpoints, the relay's
    projections_rolled_back: list[Divergence] = field(default_factory=list)
    relay_rolled_back: Divergence | None = None


class FlowReader:
    def __init__(
        self,
        ledger: Ledger,
        projections: ProjectionStore,
        projection_list: list[Projection[Any]],
        webhooks: WebhookStore,
        verifications: VerificationLog,
        kafka: KafkaWatch | None = None,
        relayed: bool = False,  # server mode with Kafka: the relay's cursor is in ledger.relay_progress
        clock: Clock = system_clock,  # the ledger's: verifications are stamped with it
    ) -> None:
        self.ledger = ledger
        self.projections = projections
        self.projection_list = projection_list
        self.webhooks = webhooks
        self.verifications = verifications
        self.relayed = relayed
        self.kafka = kafka
        self.clock = clock

    def read(self, with_webhooks: bool = True) -> Flow:
        flow = Flow(head=self.ledger.head())
        cursors = self.projections.cursors()
        relay = None
        if self.relayed:
            # the read models' connection: the same PostgreSQL database, the ledger schema named in full
            row = self.projections.db.session().fetchone(
                "SELECT position, hash FROM ledger.relay_progress WHERE name = ?", (RELAY_NAME,)
            )
            relay = Cursor("relay", int(row[0]), row[1]) if row else Cursor("relay", 0, None)
            flow.relay_backlog = flow.head - relay.position
        everything = [*cursors, relay] if relay else cursors
        held = self.ledger.hashes(sorted({c.position for c in everything if c.position > 0}))
        for divergence in divergences(everything, held, flow.head):
            if divergence.cursor is relay:
                flow.relay_rolled_back = divergence
            else:
                flow.projections_rolled_back.append(divergence)
        if self.kafka is None:
            checkpoints = {c.name: c.position for c in cursors if c.source == "ledger"}
            flow.lag = {(p.name, "ledger"): flow.head - checkpoints.get(p.name, 0) for p in self.projection_list}
        else:
            try:
                ends = self.kafka.end_offsets([*self.kafka.topics, self.kafka.dead_letter_topic])
            except KafkaUnreachable as exc:
                flow.kafka_error = str(exc)
            else:
                flow.dead_letters = sum(
                    end for (topic, _), end in ends.items() if topic == self.kafka.dead_letter_topic
                )
                stored = self._offsets()
                for projection in self.projection_list:
                    for (topic, partition), end in ends.items():
                        if topic != self.kafka.dead_letter_topic:
                            done = stored.get((projection.name, topic, partition), 0)
                            flow.lag[(projection.name, f"{topic}/{partition}")] = max(0, end - done)
        if with_webhooks:
            flow.webhooks = self.webhooks.delivery_counts()
            flow.verification = self.verifications.latest()
        return flow

    def _offsets(self) -> dict[tuple[str, str, int], int]:
        db = self.projections.db
        rows = db.session().fetchall(f"SELECT name, topic, partition, next_offset FROM {db.namespace}consumer_offsets")
        return {(str(n), str(t), int(p)): int(o) for n, t, p, o in rows}


class FlowCollector:
    """The flow as Prometheus gauges, read at each scrape."""

    def __init__(self, reader: FlowReader, version: str, mode: str) -> None:
        self.reader = reader
        self.version = version
        self.mode = mode

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily("orderledger_build_info", "orderledger's version and mode", labels=["version", "mode"])
        info.add_metric([self.version, self.mode], 1)
        yield info
        flow = self.reader.read()
        yield GaugeMetricFamily("orderledger_ledger_head_position", "Position of the last ledger event", flow.head)
        if flow.relay_backlog is not None:
            yield GaugeMetricFamily(
                "orderledger_relay_backlog_events", "Ledger events not yet published to Kafka", flow.relay_backlog
            )
            yield GaugeMetricFamily(
                "orderledger_relay_diverged_cursors",
                "1 when the ledger no longer holds the relay's cursor (rolled back under it; the relay stops)",
                int(flow.relay_rolled_back is not None),
            )
        diverged = GaugeMetricFamily(
            "orderledger_processor_diverged_checkpoints",
            "Checkpoints of a projection the ledger no longer holds (rolled back under it; not applied until rebuilt)",
            labels=["projection"],
        )
        for name in sorted(p.name for p in self.reader.projection_list):
            diverged.add_metric([name], sum(d.cursor.name == name for d in flow.projections_rolled_back))
        yield diverged
        lag = GaugeMetricFamily(
            "orderledger_processor_lag_events",
            "Events a projection has still to apply, by partition (`ledger`: the embedded runner)",
            labels=["projection", "partition"],
        )
        for (projection, partition), behind in sorted(flow.lag.items()):
            lag.add_metric([projection, partition], behind)
        yield lag
        if flow.dead_letters is not None:
            yield GaugeMetricFamily(
                "orderledger_processor_dead_letters_parked_messages",
                "Messages parked on the dead-letter topic",
                flow.dead_letters,
            )
        families = [
            GaugeMetricFamily(name, text, labels=["subscription"])
            for name, text in (
                ("orderledger_webhook_backlog_deliveries", "Webhook deliveries waiting, by subscription"),
                ("orderledger_webhook_retrying_deliveries", "Waiting deliveries that failed at least once"),
                ("orderledger_webhook_dead_deliveries", "Deliveries parked as dead after every retry"),
            )
        ]
        for subscription, counts in sorted(flow.webhooks.items()):
            for family, count in zip(families, counts, strict=True):
                family.add_metric([subscription], count)
        yield from families
        if flow.verification is not None:
            yield GaugeMetricFamily(
                "orderledger_ledger_verify_ok",
                "1 when the last hash-chain verification found the chain intact, 0 when it failed",
                int(flow.verification.ok),
            )
            yield GaugeMetricFamily(
                "orderledger_ledger_verify_age_seconds",
                "Seconds since the hash chain was last verified",
                max(0.0, (self.reader.clock() - flow.verification.checked_at).total_seconds()),
            )


def readiness(reader: FlowReader, max_lag: int) -> tuple[bool, dict[str, Any]]:
    """Ready when the ledger answers and, in server mode, Kafka answers and the relay backlog and every
    projection's lag are at most `max_lag` events (0: lag is not checked); and, whatever `max_lag`, when
    the ledger holds every projection's checkpoint and the relay's cursor (it was not rolled back under
    them). The body says what is wrong."""
    problems: list[str] = []
    try:
        flow = reader.read(with_webhooks=False)
    except Exception as exc:
        reason = redact(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        return False, {
            "status": "not_ready",
            "problems": [f"the ledger cannot be read ({reason}); check the database"],
            "checks": {"ledger": {"ok": False, "error": reason}},
        }
    checks: dict[str, Any] = {"ledger": {"ok": True, "head_position": flow.head}}
    if reader.kafka is not None:
        checks["kafka"] = {"ok": flow.kafka_error is None}
        if flow.kafka_error is not None:
            checks["kafka"]["error"] = flow.kafka_error
            problems.append(f"Kafka cannot be reached ({flow.kafka_error}); check the brokers")
    if flow.relay_backlog is not None:
        late = 0 < max_lag < flow.relay_backlog
        rolled_back = flow.relay_rolled_back
        checks["relay"] = {
            "ok": not late and rolled_back is None,
            "backlog_events": flow.relay_backlog,
            "threshold_events": max_lag,
        }
        if rolled_back is not None:
            checks["relay"]["rolled_back"] = rolled_back.describe()
            problems.append(
                f"the ledger was rolled back under the relay ({rolled_back.describe()}), e.g. an older backup"
                " restored: Kafka holds events the ledger no longer has, and the relay has stopped publishing."
                " Tell Kafka's consumers, then run `orderledger relay-rewind --to POSITION` to publish again"
                " (README: Operating orderledger)"
            )
        elif late:
            problems.append(
                f"the relay is {flow.relay_backlog} events behind the ledger (threshold {max_lag});"
                " check that one relay is running and can publish"
            )
    behind: dict[str, int] = {}
    for (projection, _), lag in flow.lag.items():
        behind[projection] = max(behind.get(projection, 0), lag)
    late_ones = sorted(name for name, lag in behind.items() if 0 < max_lag < lag)
    rolled_back_under: dict[str, str] = {}
    for divergence in flow.projections_rolled_back:
        rolled_back_under.setdefault(divergence.cursor.name, divergence.describe())
    checks["projections"] = {
        "ok": not late_ones and not rolled_back_under,
        "lag_events": behind,
        "threshold_events": max_lag,
    }
    if rolled_back_under:
        names = sorted(rolled_back_under)
        checks["projections"]["rolled_back"] = {name: rolled_back_under[name] for name in names}
        problems.append(
            f"the ledger was rolled back under projections {', '.join(names)} ({rolled_back_under[names[0]]}),"
            " e.g. an older backup restored: their read models hold events the ledger no longer has, and new"
            " events are not applied to them. Run `orderledger rebuild` to build them again from the ledger"
        )
    if late_ones:
        problems.append(
            f"projections behind by more than {max_lag} events: {', '.join(late_ones)};"
            " check the projection workers (or the embedded runner's log)"
        )
    ready = not problems
    return ready, {"status": "ready" if ready else "not_ready", "problems": problems, "checks": checks}
