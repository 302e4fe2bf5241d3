"""Server mode when the ledger is rolled back under the relay and the workers (an older backup restored).

The first test stands in for Kafka (every batch acknowledged, its positions recorded) and checks the
relay's cursor in `ledger.relay_progress` on real PostgreSQL; the second runs real Kafka and a faust
worker whose read models and topics hold events the restored ledger lost.
"""

from __future__ import annotations

import signal
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import psycopg
import pytest
from confluent_kafka import Consumer

from api.cli import main as orderledger
from events.handling.desk import CommandContext
from events.ledger import RecordedEvent
from events.orders.commands import PlaceOrder
from processors import relay as relay_module
from processors.flow import FlowCollector, FlowReader, readiness
from processors.relay import Relay, dead_letter_topic, ensure_topics, read_cursor
from processors.settings import Settings
from processors.wiring import Orderledger, build
from projections.catalogue import PROJECTIONS
from tests.conftest import free_port
from tests.contract.test_modes import ticking_clock
from tests.integration.server_stack import wait_until
from tests.integration.test_server_mode import rebuilt_from_ledger, worker_rows
from tests.orders_given import order_body

pytestmark = pytest.mark.integration
PLACED_AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


class AcknowledgingRelay(Relay):
    """The relay, with Kafka standing in as a broker that acknowledges every batch."""

    def __init__(self, database_url: str) -> None:
        # no broker listens there: nothing is produced, since delivery is stood in for below
        super().__init__(database_url, f"127.0.0.1:{free_port()}", "orderledger-test")
        self.published: list[int] = []

    def _deliver(self, events: list[RecordedEvent]) -> bool:
        self.published += [event.position for event in events]
        return True


@contextmanager
def running(relay: Relay) -> Iterator[Relay]:
    thread = threading.Thread(target=relay.run, name="relay-under-test", daemon=True)
    thread.start()
    try:
        yield relay
    finally:
        relay.stop()
        thread.join(timeout=15)


def place(app: Orderledger, requester: str = "A. Tremblay") -> str:
    draft = PlaceOrder(order_id="", placed_at=PLACED_AT, **order_body(requester=requester))
    context = CommandContext(actor="broker/test", now=PLACED_AT, correlation_id=uuid.uuid4())
    return app.desk.place(draft, context).stream_id


def restore_backup(pg_cluster, database_name: str, to: int) -> None:
    """The ledger table as an older backup ending at `to` had it (its triggers refuse DELETE; a restore does not
    ask them). Nothing else is restored: the read models and the relay's cursor stay as they were."""
    superuser = pg_cluster.superuser_url.rsplit("/", 1)[0] + f"/{database_name}"
    with psycopg.connect(superuser, autocommit=True) as admin:
        admin.execute("SET session_replication_role = replica")
        admin.execute("DELETE FROM ledger.ledger_events WHERE position > %s", (to,))


def relay_cursor(url: str) -> tuple[int, str | None]:
    with psycopg.connect(url, autocommit=True) as session:
        cursor = read_cursor(session)
    return cursor.position, cursor.hash


def test_given_the_ledger_restored_under_the_relay_then_it_publishes_nothing_until_rewound(
    pg_cluster, pg_database, monkeypatch
):
    monkeypatch.setattr(relay_module, "ROLLED_BACK_RECHECK_SECONDS", 0.2)
    settings = Settings(
        database_url=pg_database.app_url, admin_database_url=pg_database.admin_url, verify_every_seconds=0
    )
    app = build(settings, clock=ticking_clock())
    try:
        # Given: three orders, all published by the relay
        place(app)
        kept = app.ledger.head()
        place(app)
        place(app)
        published_head = app.ledger.head()
        with running(AcknowledgingRelay(pg_database.app_url)) as relay:
            wait_until(lambda: relay_cursor(pg_database.app_url)[0] == published_head, 10, "the relay to publish")
        assert relay.published == list(range(1, published_head + 1))
        # When: the ledger is restored to a backup taken after the first order, and three new orders are
        # appended at the lost positions and beyond
        restore_backup(pg_cluster, pg_database.name, kept)
        for _ in range(3):
            place(app)
        head = app.ledger.head()
        assert head > published_head
        # and the relay runs again
        with running(AcknowledgingRelay(pg_database.app_url)) as relay:
            wait_until(lambda: relay.rolled_back is not None, 10, "the relay to notice the rollback")
            # Then: it handed nothing to Kafka (the old code published from its cursor on, skipping the new
            # events at the positions it had published before) and its cursor stayed
            assert relay.published == []
            assert relay_cursor(pg_database.app_url)[0] == published_head
            # and /readyz and the metrics say so
            reader = FlowReader(
                app.ledger, app.projections, list(PROJECTIONS.values()), app.webhooks, app.verifications, relayed=True
            )
            ready, body = readiness(reader, max_lag=0)
            assert not ready and body["checks"]["relay"]["ok"] is False
            assert body["checks"]["relay"]["rolled_back"].startswith(f"relay is at position {published_head},")
            assert "`orderledger relay-rewind --to POSITION`" in body["problems"][0]
            families = FlowCollector(reader, "test", "server").collect()
            gauges = {family.name: family.samples[0].value for family in families if family.samples}
            assert gauges["orderledger_relay_diverged_cursors"] == 1
            # When: the operator rewinds the cursor to the restored backup's head
            monkeypatch.setenv("ORDERLEDGER_ADMIN_DATABASE_URL", pg_database.admin_url)
            assert orderledger(["--database-url", pg_database.app_url, "relay-rewind", "--to", str(kept)]) == 0
            # Then: the running relay publishes what the ledger holds past it, new events included
            wait_until(lambda: relay.published == list(range(kept + 1, head + 1)), 10, "the relay to publish again")
            wait_until(lambda: relay_cursor(pg_database.app_url)[0] == head, 10, "the cursor to move")
            assert relay_cursor(pg_database.app_url)[1] == app.ledger.hashes([head])[head]
            assert relay.rolled_back is None
            ready, body = readiness(reader, max_lag=0)
            assert ready, body
    finally:
        app.close()


def readyz(port: int) -> httpx.Response | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
    except httpx.HTTPError:
        return None


def parked_reasons(bootstrap: str, topic: str, wanted: int) -> list[bytes]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"check-{uuid.uuid4()}", "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([topic])
    reasons: list[bytes] = []
    deadline = time.monotonic() + 60
    while len(reasons) < wanted and time.monotonic() < deadline:
        message = consumer.poll(1)
        if message is not None and not message.error():
            reasons.append(dict(message.headers() or [])["reason"])
    consumer.close()
    return reasons


def test_given_a_worker_whose_rows_and_topics_hold_lost_events_then_it_waits_for_a_rebuild_and_parks_them(
    server_stack, pg_cluster, tmp_path, monkeypatch
):
    monkeypatch.setattr(relay_module, "ROLLED_BACK_RECHECK_SECONDS", 0.2)
    stack = server_stack
    app = build(
        Settings(
            database_url=stack.database.app_url,
            admin_database_url=stack.database.admin_url,
            kafka_bootstrap=stack.bootstrap,
            topic_prefix=stack.prefix,
            verify_every_seconds=0,
        ),
        clock=ticking_clock(),
    )
    ensure_topics(stack.bootstrap, stack.prefix, 3, 1)
    relay = Relay(stack.database.app_url, stack.bootstrap, stack.prefix)
    try:
        with running(relay):
            # Given: three orders published and projected by a worker
            first = place(app)
            kept = app.ledger.head()
            projected = [first, place(app), place(app)]
            stack.start_worker()
            wait_until(lambda: {k for k, _ in worker_rows(stack)} == set(projected), 90, "the worker to project")
            # and a fourth published while the worker is stopped
            stack.signal("worker", signal.SIGTERM)
            published = app.ledger.head()
            unseen = place(app)
            unseen_events = app.ledger.head() - published
            wait_until(lambda: relay_cursor(stack.database.app_url)[0] == app.ledger.head(), 30, "the relay")
            before = worker_rows(stack)
            # When: the ledger is restored to a backup taken after the first order, and the worker starts again
            restore_backup(pg_cluster, stack.database.name, kept)
            stack.start_worker("worker-again")
            port = stack.ops_ports["worker-again"]
            # Then: its /readyz names the projections and the relay, and it applies nothing (not the unseen order)
            wait_until(lambda: (r := readyz(port)) is not None and r.status_code == 503, 60, "the worker's /readyz")
            answer = readyz(port)
            assert answer is not None
            body = answer.json()
            assert sorted(body["checks"]["projections"]["rolled_back"]) == sorted(PROJECTIONS)
            assert "rolled back under the relay" in " ".join(body["problems"])
            wait_until(lambda: "applying nothing until" in stack.log("worker-again"), 60, "the worker to say why")
            assert worker_rows(stack) == before and unseen not in {k for k, _ in before}
            # When: the operator rebuilds the read models, appends a new order, and rewinds the relay
            rebuilt = stack.cli("rebuild")
            assert rebuilt.returncode == 0, rebuilt.stderr
            new_order = place(app, "B. Gagnon")
            # a number is never given twice: the series was not restored with the ledger, so the lost orders'
            # numbers (which Kafka still holds) are not reused
            assert new_order not in {*projected, unseen}
            rewound = stack.cli("relay-rewind", "--to", str(kept))
            assert rewound.returncode == 0, rewound.stderr
            # Then: the worker parks the unseen order's events, which Kafka holds and the ledger does not
            reasons = parked_reasons(stack.bootstrap, dead_letter_topic(stack.prefix), wanted=unseen_events)
            assert len(reasons) == unseen_events
            assert all(reason.startswith(b"not in the ledger") for reason in reasons)
            # and follows the ledger again: its rows are a rebuild's, the new order in them, and it is ready
            wait_until(lambda: worker_rows(stack) == rebuilt_from_ledger(stack, tmp_path), 90, "the worker to follow")
            assert "B. Gagnon" in dict(worker_rows(stack))[new_order]
            wait_until(lambda: (r := readyz(port)) is not None and r.status_code == 200, 30, "the worker to be ready")
    finally:
        app.close()
