"""`make bench` / `make bench-full`: every workload of the performance issue in one run, with the peer
library and the physical limit measured on the same machine, written to bench/results/.

Run under `deploy/test-services.sh` (it starts PostgreSQL and Kafka and passes their directories as
TEST_PG_DATA_DIR and TEST_KAFKA_DATA_DIR):  python -m bench --profile quick|full|smoke
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import re
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

from bench import limit, peer, reads
from bench.figures import Figure, percentile, ratio
from bench.stack import REPO, Orderledger, Postgres, peak_rss_mb, wait_until
from bench.workload import Workload
from events.ledger import NewEvent, RecordedEvent, StreamAppend

Watched = queue.Queue[tuple[str, int, float] | None]  # (order id, position, answered at); None: no more
TARGETS = {
    "append embedded": "≥ 50,000 events/s, batch p99 ≤ 100 ms",
    "append server": "≥ 25,000 events/s",
    "rebuild ledger": "≥ 50,000 events/s, linear in size",
    "rebuild kafka": "≥ 15,000 events/s",
    "e2e embedded": "p50 ≤ 5 ms",
    "e2e server": "p50 ≤ 15 ms, p99 ≤ 75 ms",
    "reads": "p99 ≤ 10 ms at 1,000 req/s, 1M orders",
    "memory": "worker ≤ 300 MB RSS",
    "peer": "≥ 2× its append and rebuild rates",
}


@dataclass(frozen=True)
class Profile:
    name: str
    batch: int  # commands per POST /v1/batch
    append_batches: int  # batches per measured append run
    runs: int  # repeated runs of each figure
    sizes: tuple[int, int]  # ledger sizes (events) at which rebuilds are measured
    e2e_rate: int  # events/s
    e2e_seconds: float
    read_rate: int
    read_seconds: int
    read_orders: int  # orders in the read model for the lookups
    peer_events: int  # events given to the peer library and to the limit


PROFILES = {
    "smoke": Profile("smoke", 50, 3, 1, (300, 900), 200, 2, 100, 2, 60, 400),
    "quick": Profile("quick", 1000, 10, 3, (30_000, 100_000), 2000, 10, 1000, 15, 20_000, 20_000),
    "full": Profile("full", 1000, 30, 5, (100_000, 1_000_000), 2000, 30, 1000, 30, 1_000_000, 100_000),
}


class Bench:
    def __init__(self, profile: Profile, work: Path, pg_dir: Path | None = None) -> None:
        self.profile = profile
        self.work = work
        self.pg_dir = pg_dir or Path()  # the PostgreSQL cluster of deploy/test-services.sh (server mode)
        self.figures: list[Figure] = []
        self.facts: dict[str, Any] = {}

    def add(self, workload: str, name: str, unit: str, runs: list[float], note: str | None = None) -> Figure:
        target = next((t for k, t in TARGETS.items() if workload.startswith(k)), None)
        figure = Figure(workload=workload, name=name, unit=unit, runs=runs, target=target, note=note)
        self.figures.append(figure)
        print(f"  {workload}: {name} median {figure.median:,.2f} {unit} (min {figure.min:,.2f}, max {figure.max:,.2f})")
        return figure

    def find(self, workload: str, name: str) -> Figure | None:
        return next((f for f in self.figures if f.workload == workload and f.name == name), None)

    # ------------------------------------------------------------ the two modes

    def embedded(self) -> None:
        print("embedded (SQLite):")
        stack = Orderledger.embedded(self.work / "embedded")
        stack.start_api()
        try:
            feed = Feed(stack, Workload(seed=11), self.profile.batch)
            feed.setup()
            self.append("append embedded", feed, stack)
            for size in self.profile.sizes:
                self.rebuild("rebuild ledger (SQLite)", feed, stack, size)
            self.end_to_end("e2e embedded", feed, stack)
            self.status_lookups(feed, stack)
            sample = sqlite_events(stack.settings().ledger_path, self.profile.peer_events)
            self.peer_sqlite(sample)
        finally:
            stack.stop_all()

    def server(self, bootstrap: str) -> None:
        print("server (PostgreSQL + Kafka):")
        database = Postgres.create(self.pg_dir)
        self.facts["postgresql"] = database.version()
        stack = Orderledger.server(self.work / "server", database, bootstrap)
        stack.start_api()
        settings = stack.settings()
        try:
            feed = Feed(stack, Workload(seed=13), self.profile.batch)
            feed.setup()
            self.append("append server", feed, stack)
            for size in self.profile.sizes:
                self.rebuild("rebuild ledger (PostgreSQL)", feed, stack, size)
                self.relay_drain(stack, database)
                self.kafka_rebuild(stack, database, settings, size)
            self.end_to_end("e2e server", feed, stack, database)
            sample = postgres_events(database.app_url, self.profile.peer_events)
            self.peer_postgres(sample)
            self.limits(sample, database, bootstrap, settings.topic_prefix)
        finally:
            stack.stop_all()

    # ------------------------------------------------------------ workloads

    def append(self, workload: str, feed: Feed, stack: Orderledger) -> None:
        rates, p50s, p99s = [], [], []
        for _ in range(self.profile.runs):
            events, seconds, latencies = feed.send(self.profile.append_batches, self.profile.batch)
            rates.append(events / seconds)
            p50s.append(percentile(latencies, 50) * 1000)
            p99s.append(percentile(latencies, 99) * 1000)
        per_batch = f"{self.profile.batch} commands per batch, ~{feed.events_per_batch:.0f} events"
        self.add(workload, "events/s over HTTP", "events/s", rates, per_batch)
        self.add(workload, "batch latency p50", "ms", p50s)
        self.add(workload, "batch latency p99", "ms", p99s)
        self.add(workload, "API peak RSS", "MB", [peak_rss_mb(stack.pid("api"))])

    def rebuild(self, workload: str, feed: Feed, stack: Orderledger, size: int) -> None:
        """`orderledger rebuild` (all projections, its own process) once the ledger holds `size` events."""
        head = feed.grow_to(size)
        rates, memory = [], []
        for _ in range(self.profile.runs if size == self.profile.sizes[0] else max(1, self.profile.runs // 2)):
            started = time.perf_counter()
            _, rss = stack.cli("rebuild")
            rates.append(head / (time.perf_counter() - started))
            memory.append(rss)
        self.add(f"{workload} {head:,} events", "events/s (all 7 projections)", "events/s", rates)
        self.add(f"memory {workload} {head:,} events", "rebuild process peak RSS", "MB", memory)
        self.add(f"memory {workload} {head:,} events", "API peak RSS", "MB", [peak_rss_mb(stack.pid("api"))])

    def relay_drain(self, stack: Orderledger, database: Postgres) -> None:
        """Wait until the relay (in the API process) has published everything; its publishing rate."""
        import psycopg

        def published() -> tuple[int, int]:
            with psycopg.connect(database.app_url) as db:
                head = db.execute("SELECT COALESCE(MAX(position), 0) FROM ledger.ledger_events").fetchone()
                mark = db.execute("SELECT COALESCE(MAX(position), 0) FROM ledger.relay_progress").fetchone()
                return int(head[0]) if head else 0, int(mark[0]) if mark else 0

        def drained() -> bool:
            head, mark = published()
            return mark >= head

        wait_until(drained, 1800, "the relay to publish the ledger", every=0.2)

    def kafka_rebuild(self, stack: Orderledger, database: Postgres, settings: Any, size: int) -> None:
        """A faust worker with a new group and empty read models projects every event from Kafka."""
        from bench.kafka_progress import caught_up

        stack.stop("worker")
        database.reset_read_models()
        group = f"{settings.topic_prefix}-rebuild-{size}"
        started = time.perf_counter()
        worker = stack.spawn("worker", "worker", ORDERLEDGER_WORKER_GROUP=group)
        total, first_commit = caught_up(settings, database.app_url, lambda: worker.poll() is None, timeout=3600)
        done = time.perf_counter()
        workload = f"rebuild kafka+faust {total:,} events"
        self.add(workload, "events/s (first commit to caught up)", "events/s", [total / (done - first_commit)])
        self.add(workload, "events/s (worker start to caught up)", "events/s", [total / (done - started)])
        self.add(workload, "worker start-up (start to first commit)", "s", [first_commit - started])
        self.add(f"memory worker {total:,} events", "worker peak RSS", "MB", [peak_rss_mb(worker.pid)])
        # the worker stays up: the end-to-end test runs against it

    def end_to_end(self, workload: str, feed: Feed, stack: Orderledger, database: Postgres | None = None) -> None:
        """Batches at a steady rate; for each, the time from its answer until its last order's row shows it."""
        from processors.projection_store import ProjectionStore
        from processors.sql import PostgresDatabase, SqliteDatabase
        from projections.order_status import ORDER_STATUS

        settings = stack.settings()
        store = ProjectionStore(
            PostgresDatabase(settings.database_url, "readmodels")
            if database
            else SqliteDatabase(settings.projections_path)
        )
        p50s, p99s, achieved = [], [], []
        try:
            for _ in range(self.profile.runs):
                latencies, rate = feed.steady(self.profile.e2e_rate, self.profile.e2e_seconds, store, ORDER_STATUS)
                p50s.append(percentile(latencies, 50) * 1000)
                p99s.append(percentile(latencies, 99) * 1000)
                achieved.append(rate)
        finally:
            store.close()
        self.add(workload, "append answered → order status row updated, p50", "ms", p50s)
        self.add(workload, "append answered → order status row updated, p99", "ms", p99s)
        self.add(workload, "achieved rate", "events/s", achieved, f"target rate {self.profile.e2e_rate} events/s")

    def status_lookups(self, feed: Feed, stack: Orderledger) -> None:
        order_ids = feed.fill_orders(self.profile.read_orders)
        p50s, p99s, rates, errors = [], [], [], []
        for _ in range(self.profile.runs):
            figure = reads.status_lookup(
                stack.url, stack.key, order_ids, rate=self.profile.read_rate, seconds=self.profile.read_seconds
            )
            p50s.append(figure.p50_ms)
            p99s.append(figure.p99_ms)
            rates.append(figure.achieved_rps)
            errors.append(float(figure.errors))
        note = f"{len(order_ids):,} orders in the read model, wrk at {self.profile.read_rate} req/s, embedded"
        self.add("reads GET /v1/orders/{id}", "latency p50", "ms", p50s, note)
        self.add("reads GET /v1/orders/{id}", "latency p99", "ms", p99s, note)
        self.add("reads GET /v1/orders/{id}", "achieved rate", "req/s", rates)
        self.add("reads GET /v1/orders/{id}", "errors", "requests", errors)

    # ------------------------------------------------------------ side by side

    def peer_sqlite(self, sample: list[RecordedEvent]) -> None:
        ours_append, ours_rebuild, theirs_append, theirs_rebuild = [], [], [], []
        for run in range(self.profile.runs):
            ledger_path = self.work / f"ours-{run}.db"
            ours_append.append(our_ledger_append("sqlite", str(ledger_path), sample, self.profile.batch))
            ours_rebuild.append(our_order_status_rebuild("sqlite", str(ledger_path), self.work / f"ours-rm-{run}.db"))
            target = str(self.work / f"peer-{run}.db")
            theirs_append.append(peer.peer_append("sqlite", target, sample, self.profile.batch).events_per_s)
            theirs_rebuild.append(peer.peer_rebuild("sqlite", target).events_per_s)
        self.side_by_side("SQLite", len(sample), ours_append, theirs_append, ours_rebuild, theirs_rebuild)

    def peer_postgres(self, sample: list[RecordedEvent]) -> None:
        ours_append, ours_rebuild, theirs_append, theirs_rebuild = [], [], [], []
        for _ in range(self.profile.runs):
            ours = Postgres.create(self.pg_dir)
            ours_append.append(our_ledger_append("postgres", ours.admin_url, sample, self.profile.batch))
            ours_rebuild.append(our_order_status_rebuild("postgres", ours.admin_url, None))
            theirs = Postgres.create(self.pg_dir)
            theirs_append.append(
                peer.peer_append("postgres", theirs.admin_url, sample, self.profile.batch).events_per_s
            )
            theirs_rebuild.append(peer.peer_rebuild("postgres", theirs.admin_url).events_per_s)
        self.side_by_side("PostgreSQL", len(sample), ours_append, theirs_append, ours_rebuild, theirs_rebuild)

    def side_by_side(
        self,
        store: str,
        events: int,
        ours_append: list[float],
        theirs_append: list[float],
        ours_rebuild: list[float],
        theirs_rebuild: list[float],
    ) -> None:
        note = f"the same {events:,} events, {self.profile.batch} per transaction"
        self.add(f"peer {store}", "ours: ledger append (hash chain, expected versions)", "events/s", ours_append, note)
        self.add(f"peer {store}", "eventsourcing: insert_events", "events/s", theirs_append, note)
        self.add(f"peer {store}", "ours: order status rebuild", "events/s", ours_rebuild, note)
        self.add(f"peer {store}", "eventsourcing: order status with tracking", "events/s", theirs_rebuild, note)

    def limits(self, sample: list[RecordedEvent], database: Postgres, bootstrap: str, prefix: str) -> None:
        copy_rates, many_rates, produce, consume = [], [], [], []
        for run in range(self.profile.runs):
            copy_rates.append(limit.copy_rows(database.admin_url, sample, self.profile.batch).events_per_s)
            many_rates.append(limit.executemany_rows(database.admin_url, sample, self.profile.batch).events_per_s)
            topic = f"{prefix}.limit-{run}"
            produce.append(limit.kafka_produce(bootstrap, topic, sample).events_per_s)
            consume.append(limit.kafka_consume(bootstrap, topic, len(sample)).events_per_s)
        note = f"the same {len(sample):,} rows/messages"
        self.add("limit PostgreSQL", "COPY into an equivalent table", "events/s", copy_rates, note)
        self.add("limit PostgreSQL", "executemany into an equivalent table", "events/s", many_rates, note)
        self.add("limit Kafka", "confluent-kafka produce (relay's settings)", "events/s", produce, note)
        self.add("limit Kafka", "confluent-kafka consume", "events/s", consume, note)


class Feed:
    """Sends the workload's batches to one running orderledger and keeps count of what it appended."""

    def __init__(self, stack: Orderledger, workload: Workload, size: int) -> None:
        self.stack = stack
        self.workload = workload
        self.size = size  # commands per batch
        self.client = httpx.Client(base_url=stack.url, headers=stack.headers, timeout=300)
        self.head = 0
        self.sent_batches = 0
        self.sent_events = 0
        self.order_ids: list[str] = []

    @property
    def events_per_batch(self) -> float:
        return self.sent_events / max(1, self.sent_batches)

    def post(self, commands: list[dict[str, Any]]) -> dict[str, Any]:
        return self.post_body(json.dumps({"commands": commands}).encode())

    def post_body(self, body: bytes) -> dict[str, Any]:
        answer = self.client.post("/v1/batch", content=body)
        if answer.status_code != 200:
            raise RuntimeError(f"batch refused: {answer.status_code} {answer.text[:500]}")
        outcome: dict[str, Any] = answer.json()
        if outcome["rejected"]:
            first = next(r for r in outcome["results"] if "code" in r)
            raise RuntimeError(f"{outcome['rejected']} commands refused, e.g. {first}")
        if outcome["last_position"]:
            self.sent_events += outcome["last_position"] - self.head
            self.head = outcome["last_position"]
        self.sent_batches += 1
        for result in outcome["results"]:
            if result["status"] == 201 and result["stream_id"].startswith("ORD-"):
                self.order_ids.append(result["stream_id"])
        return outcome

    def setup(self) -> None:
        self.post(self.workload.setup())

    def send(self, batches: int, size: int) -> tuple[int, float, list[float]]:
        """Send `batches` batches (encoded beforehand); events appended, seconds, each batch's latency."""
        bodies = [json.dumps({"commands": b}).encode() for b in self.workload.batches(batches, size)]
        first = self.head
        latencies = []
        started = time.perf_counter()
        for body in bodies:
            sent = time.perf_counter()
            self.post_body(body)
            latencies.append(time.perf_counter() - sent)
        return self.head - first, time.perf_counter() - started, latencies

    def grow_to(self, events: int) -> int:
        """Send batches until the ledger holds at least `events` events; its head."""
        while self.head < events:
            self.send(1, self.size)
        return self.head

    def fill_orders(self, wanted: int) -> list[str]:
        """Place orders until the read model holds `wanted` of them; their ids."""
        while len(self.order_ids) < wanted:
            self.post(self.workload.placements(min(self.size, wanted - len(self.order_ids))))
        wait_until(lambda: self.visible(self.order_ids[-1]), 600, "the last order in the read model", every=0.2)
        return self.order_ids[:wanted]

    def visible(self, order_id: str) -> bool:
        return self.client.get(f"/v1/orders/{order_id}").status_code == 200

    def steady(self, rate: int, seconds: float, store: Any, projection: Any) -> tuple[list[float], float]:
        """Batches of about `rate`/20 events every 50 ms for `seconds`; latencies (s) and the rate achieved."""
        size = max(8, round(rate * 0.05 / max(self.events_per_batch / 1000, 1.0)))  # commands per batch
        interval = 0.05
        watch: Watched = queue.Queue()
        latencies: list[float] = []
        poller = threading.Thread(target=_poll, args=(watch, latencies, store, projection), daemon=True)
        poller.start()
        count = max(1, round(seconds / interval))
        bodies = []
        for commands in self.workload.batches(count, size):
            last_order = max(i for i, c in enumerate(commands) if c["path"].startswith("/v1/orders"))
            bodies.append((json.dumps({"commands": commands}).encode(), last_order))
        first = self.head
        started = time.perf_counter()
        for number, (body, last_order) in enumerate(bodies):
            due = started + number * interval
            time.sleep(max(0.0, due - time.perf_counter()))
            outcome = self.post_body(body)
            answered = time.perf_counter()
            result = outcome["results"][last_order]
            watch.put((result["stream_id"], result["position"], answered))
        elapsed = time.perf_counter() - started
        watch.put(None)
        poller.join(timeout=120)
        return latencies, (self.head - first) / elapsed


def _poll(
    watch: queue.Queue[tuple[str, int, float] | None], latencies: list[float], store: Any, projection: Any
) -> None:
    """Check each watched row every 0.5 ms until it has applied the watched position."""
    pending: list[tuple[str, int, float]] = []
    done = False
    while not done or pending:
        try:
            while True:
                item = watch.get_nowait()
                if item is None:
                    done = True
                    break
                pending.append(item)
        except queue.Empty:
            pass
        still = []
        for key, position, answered in pending:
            row = store.get(projection, key)
            if row is not None and row.position >= position:
                latencies.append(time.perf_counter() - answered)
            elif time.perf_counter() - answered < 60:
                still.append((key, position, answered))
        pending = still
        time.sleep(0.0005)


# ---------------------------------------------------------------- the same events, for the peer and the limit


def sqlite_events(path: Path, count: int) -> list[RecordedEvent]:
    from events.ledger.sqlite import SqliteLedger

    ledger = SqliteLedger(path)
    try:
        return _first_events(ledger.read_all, count)
    finally:
        ledger.close()


def postgres_events(url: str, count: int) -> list[RecordedEvent]:
    from events.ledger.postgres import PostgresLedger

    ledger = PostgresLedger(url)
    try:
        return _first_events(ledger.read_all, count)
    finally:
        ledger.close()


def _first_events(read_all: Callable[[int, int], list[RecordedEvent]], count: int) -> list[RecordedEvent]:
    events: list[RecordedEvent] = []
    while len(events) < count and (page := read_all(events[-1].position if events else 0, 5000)):
        events += page
    return events[:count]


def our_ledger_append(store: str, target: str, sample: list[RecordedEvent], batch: int) -> float:
    """Our ledger's own append (expected version per stream, hash chain), the same events in the same chunks."""
    ledger = _ledger(store, target)
    chunks = [_appends(sample[start : start + batch]) for start in range(0, len(sample), batch)]
    started = time.perf_counter()
    for chunk in chunks:
        ledger.append_batch(chunk)
    seconds = time.perf_counter() - started
    ledger.close()
    return len(sample) / seconds


def our_order_status_rebuild(store: str, target: str, read_models: Path | None) -> float:
    """Our order status read model rebuilt from that ledger (rows and checkpoint in one transaction per page)."""
    from processors.projection_store import ProjectionStore
    from processors.sql import PostgresDatabase, SqliteDatabase
    from projections.order_status import ORDER_STATUS

    ledger = _ledger(store, target)
    database = SqliteDatabase(read_models) if read_models else PostgresDatabase(target, "readmodels")
    projections = ProjectionStore(database)
    projections.ensure(ORDER_STATUS)
    started = time.perf_counter()
    position = projections.rebuild(ORDER_STATUS, ledger)
    seconds = time.perf_counter() - started
    projections.close()
    ledger.close()
    return position / seconds


def _ledger(store: str, target: str) -> Any:
    if store == "sqlite":
        from events.ledger.sqlite import SqliteLedger

        return SqliteLedger(target)
    from events.ledger.postgres import PostgresLedger, migrate

    migrate(target, None)
    return PostgresLedger(target)


def _appends(events: list[RecordedEvent]) -> list[StreamAppend]:
    return [
        StreamAppend(
            stream_id=e.stream_id,
            expected_version=e.stream_version - 1,
            events=(
                NewEvent(
                    event_id=e.event_id,
                    type=e.type,
                    schema_version=e.schema_version,
                    stream_type=e.stream_type,
                    data=e.data,
                    occurred_at=e.occurred_at,
                    actor=e.actor,
                    correlation_id=e.correlation_id,
                    causation_id=e.causation_id,
                ),
            ),
        )
        for e in events
    ]


# ---------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    memory = next(
        (int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line),
        0,
    )
    packages = ("fastapi", "uvicorn", "pydantic", "psycopg", "confluent-kafka", "faust-streaming", "eventsourcing")
    pom = (REPO / "deploy/kafka/pom.xml").read_text()
    kafka = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    return {
        "cores": os.cpu_count(),
        "memory_mb": memory,
        "load_average_at_start": list(os.getloadavg()),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "kafka": kafka.group(1) if kafka else "?",
        "packages": {name: metadata.version(name) for name in packages},
    }


def write_report(bench: Bench, out: Path, started: datetime) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    report = {
        "profile": bench.profile.name,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {**machine(), **bench.facts},
        "settings": bench.profile.__dict__,
        "figures": [f.summary() for f in bench.figures],
        "ratios": ratios(bench),
    }
    (out / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    markdown = out / "latest.md"
    markdown.write_text(render(report))
    return markdown


def ratios(bench: Bench) -> list[dict[str, Any]]:
    found = []
    pairs = [
        (
            "ours ÷ eventsourcing, append, SQLite",
            ("peer SQLite", "ours: ledger append (hash chain, expected versions)"),
            ("peer SQLite", "eventsourcing: insert_events"),
        ),
        (
            "ours ÷ eventsourcing, rebuild, SQLite",
            ("peer SQLite", "ours: order status rebuild"),
            ("peer SQLite", "eventsourcing: order status with tracking"),
        ),
        (
            "ours ÷ eventsourcing, append, PostgreSQL",
            ("peer PostgreSQL", "ours: ledger append (hash chain, expected versions)"),
            ("peer PostgreSQL", "eventsourcing: insert_events"),
        ),
        (
            "ours ÷ eventsourcing, rebuild, PostgreSQL",
            ("peer PostgreSQL", "ours: order status rebuild"),
            ("peer PostgreSQL", "eventsourcing: order status with tracking"),
        ),
        (
            "ours (HTTP batch, server) ÷ COPY limit",
            ("append server", "events/s over HTTP"),
            ("limit PostgreSQL", "COPY into an equivalent table"),
        ),
        (
            "ours (ledger append, PostgreSQL) ÷ COPY limit",
            ("peer PostgreSQL", "ours: ledger append (hash chain, expected versions)"),
            ("limit PostgreSQL", "COPY into an equivalent table"),
        ),
    ]
    for label, (ours_w, ours_n), (their_w, their_n) in pairs:
        ours, theirs = bench.find(ours_w, ours_n), bench.find(their_w, their_n)
        if ours and theirs:
            found.append({"ratio": label, "value": round(ratio(ours.median, theirs.median), 3)})
    kafka = [
        f for f in bench.figures if f.workload.startswith("rebuild kafka") and f.name.startswith("events/s (first")
    ]
    consume = bench.find("limit Kafka", "confluent-kafka consume")
    if kafka and consume:
        found.append(
            {
                "ratio": "ours (faust worker rebuild, largest) ÷ raw consume",
                "value": round(ratio(kafka[-1].median, consume.median), 4),
            }
        )
    return found


def render(report: dict[str, Any]) -> str:
    facts = report["machine"]
    lines = [
        f"# orderledger benchmark — profile `{report['profile']}`, {report['started_at']}",
        "",
        f"{facts['cores']} cores, {facts['memory_mb']:,} MB, {facts['platform']}, Python {facts['python']},"
        f" SQLite {facts['sqlite']}, PostgreSQL {facts.get('postgresql', '-')}, Kafka {facts['kafka']};"
        f" load average at start {', '.join(f'{x:.2f}' for x in facts['load_average_at_start'])}.",
        "Packages: " + ", ".join(f"{k} {v}" for k, v in facts["packages"].items()) + ".",
        "",
        "| workload | figure | median | min | max | unit | runs | target | note |",
        "|---|---|---:|---:|---:|---|---:|---|---|",
    ]
    for f in report["figures"]:
        lines.append(
            f"| {f['workload']} | {f['name']} | {f['median']:,.2f} | {f['min']:,.2f} | {f['max']:,.2f} | {f['unit']}"
            f" | {f['runs']} | {f['target'] or ''} | {f['note'] or ''} |"
        )
    lines += ["", "| ratio (medians, same run) | value |", "|---|---:|"]
    lines += [f"| {r['ratio']} | {r['value']:,.3f} |" for r in report["ratios"]]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    parser.add_argument("--only", choices=("embedded", "server"), help="one mode only")
    args = parser.parse_args(argv)
    pg_dir, kafka_dir = os.environ.get("TEST_PG_DATA_DIR"), os.environ.get("TEST_KAFKA_DATA_DIR")
    if args.only != "embedded" and not (pg_dir and kafka_dir):
        parser.error("server mode needs TEST_PG_DATA_DIR and TEST_KAFKA_DATA_DIR: run under deploy/test-services.sh")
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="orderledger-bench-") as work:
        bench = Bench(PROFILES[args.profile], Path(work), Path(pg_dir) if pg_dir else None)
        if args.only != "server":
            bench.embedded()
            markdown = write_report(bench, args.out, started)  # a long run keeps what it has measured
        if args.only != "embedded" and pg_dir and kafka_dir:
            bench.server((Path(kafka_dir) / "bootstrap").read_text().strip())
            markdown = write_report(bench, args.out, started)
    print(f"bench: wrote {markdown} and {markdown.with_suffix('.json')}")
    return 0
