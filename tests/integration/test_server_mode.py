"""Server mode on real Kafka and PostgreSQL: parity with the embedded mode, an outside consumer,
and the faults a deployment meets (killed worker and relay, stopped broker, restarted database,
a poison message)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from confluent_kafka import Consumer, Producer

from api.demo import load_demo
from events.ledger.postgres import PostgresLedger
from processors.projection_store import ProjectionStore
from processors.relay import Relay, dead_letter_topic, ensure_topics, topic_for
from processors.settings import Settings
from processors.sql import PostgresDatabase as ReadModels
from processors.sql import SqliteDatabase
from processors.wiring import build
from projections.catalogue import PROJECTIONS
from projections.order_status import ORDER_STATUS
from tests.conftest import EASTERN
from tests.contract.test_modes import TICKING_DAY, ticking_clock
from tests.integration.server_stack import wait_until
from tests.orders_given import OTTAWA, days_ago, order_body

pytestmark = pytest.mark.integration


def worker_rows(stack) -> list[tuple[str, str]]:
    store = ProjectionStore(ReadModels(stack.database.app_url, "readmodels"))
    try:
        return store.dump(ORDER_STATUS)
    except Exception:  # the worker has not created its tables yet
        return []
    finally:
        store.close()


def worker_dumps(stack) -> dict[str, list[tuple[str, str]]]:
    store = ProjectionStore(ReadModels(stack.database.app_url, "readmodels"))
    try:
        return {p.name: store.dump(p) for p in PROJECTIONS.values()}
    except Exception:  # the worker has not created its tables yet
        return {}
    finally:
        store.close()


def rebuilt_from_ledger(stack, tmp_path) -> list[tuple[str, str]]:
    """The order status projection rebuilt from position 0 of the PostgreSQL ledger, elsewhere."""
    ledger = PostgresLedger(stack.database.app_url)
    store = ProjectionStore(SqliteDatabase(tmp_path / f"rebuilt-{time.monotonic_ns()}.db"))
    store.ensure(ORDER_STATUS)
    store.rebuild(ORDER_STATUS, ledger)
    rows = store.dump(ORDER_STATUS)
    ledger.close()
    store.close()
    return rows


def wait_for_worker_to_match(stack, tmp_path, seconds: float = 90) -> list[tuple[str, str]]:
    expected: list[tuple[str, str]] = []

    def caught_up() -> bool:
        nonlocal expected
        expected = rebuilt_from_ledger(stack, tmp_path)
        return worker_rows(stack) == expected

    wait_until(caught_up, seconds, "the worker's projection to equal a rebuild from the ledger", every=0.5)
    return expected


class Load:
    """Clients placing, awarding and delivering orders over HTTP; remembers what was acknowledged."""

    def __init__(self, stack, clients: int = 2) -> None:
        self.stack = stack
        self.today = stack.clock().astimezone(EASTERN).date()
        self.acknowledged: list[tuple[str, int]] = []
        self.errors: list[int] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _client(self) -> None:
        with httpx.Client(base_url=self.stack.url, headers=self.stack.broker_headers, timeout=10) as http:
            while not self._stop.is_set():
                try:
                    placed = http.post("/v1/orders", json=order_body())
                    if placed.status_code != 201:
                        self.errors.append(placed.status_code)
                        time.sleep(0.1)
                        continue
                    order_id = placed.json()["order_id"]
                    self.acknowledged.append((order_id, 1))
                    award = {"contract_number": "CU-1", "awarded_on": days_ago(0, self.today)}
                    awarded = http.post(f"/v1/orders/{order_id}/award", json=award)
                    if awarded.status_code == 200:
                        self.acknowledged.append((order_id, 2))
                        delivered = http.post(
                            f"/v1/orders/{order_id}/deliveries",
                            json={
                                "delivered_on": days_ago(0, self.today),
                                "location": OTTAWA,
                                "quantities": {"LAT-5450": 1},
                            },
                        )
                        if delivered.status_code == 200:
                            self.acknowledged.append((order_id, 3))
                except httpx.HTTPError:
                    time.sleep(0.1)

    def wait_for(self, count: int, seconds: float = 60) -> None:
        wait_until(lambda: len(self.acknowledged) >= count, seconds, f"{count} acknowledged commands")

    def assert_all_in(self, ledger: PostgresLedger) -> None:
        for order_id, version in self.acknowledged:
            assert len(ledger.read_stream(order_id)) >= version, (order_id, version)


# ---------------------------------------------------------------- parity and an outside consumer


def test_given_the_demo_data_when_projected_through_kafka_and_faust_then_it_equals_the_embedded_mode(
    server_stack, tmp_path
):
    stack = server_stack
    # Given: the demo data in the PostgreSQL ledger, with the same ledger clock as an embedded run
    server = build(
        Settings(
            database_url=stack.database.app_url,
            admin_database_url=stack.database.admin_url,
            kafka_bootstrap=stack.bootstrap,
            topic_prefix=stack.prefix,
        ),
        clock=ticking_clock(),
    )
    load_demo(server.desk, TICKING_DAY)
    embedded = build(Settings(data_dir=tmp_path / "embedded"), clock=ticking_clock())
    load_demo(embedded.desk, TICKING_DAY)
    assert embedded.runner is not None
    embedded.runner.catch_up()
    # When: the relay publishes it and a faust worker projects it
    ensure_topics(stack.bootstrap, stack.prefix, 3, 1)
    relay = Relay(stack.database.app_url, stack.bootstrap, stack.prefix)
    threading.Thread(target=relay.run, daemon=True).start()
    stack.start_worker()
    try:
        expected = {p.name: embedded.projections.dump(p) for p in PROJECTIONS.values()}
        try:
            wait_until(lambda: worker_dumps(stack) == expected, 120, "the worker to project the demo data", every=0.5)
        except AssertionError:
            got = worker_dumps(stack)
            differing = {
                name: sorted({k for k, _ in set(rows) ^ set(got.get(name, []))})[:5] for name, rows in expected.items()
            }
            raise AssertionError(
                f"rows differ (projection: keys): { {n: k for n, k in differing.items() if k} }\n"
                f"worker log:\n{stack.log('worker')[-3000:]}"
            ) from None
        # Then: identical rows for every projection, and `rebuild` reproduces them in both modes
        rebuilt = stack.cli("rebuild")
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert worker_dumps(stack) == expected
        for projection in PROJECTIONS.values():
            embedded.projections.rebuild(projection, embedded.ledger)
        assert {p.name: embedded.projections.dump(p) for p in PROJECTIONS.values()} == expected
        assert len(expected["contract_capacity"]) == 7
    finally:
        relay.stop()
        server.close()
        embedded.close()


@pytest.mark.skipif(shutil.which("kcat") is None, reason="Debian's kcat is not installed")
def test_given_published_orders_when_kcat_reads_the_topic_then_an_orders_events_come_in_order(server_stack, today):
    stack = server_stack
    stack.start_api()
    with httpx.Client(base_url=stack.url, headers=stack.broker_headers, timeout=10) as http:
        order_id = http.post("/v1/orders", json=order_body()).json()["order_id"]
        http.post("/v1/orders", json=order_body())
        http.post(f"/v1/orders/{order_id}/award", json={"contract_number": "CU-1", "awarded_on": days_ago(0, today)})
        http.post(
            f"/v1/orders/{order_id}/deliveries",
            json={"delivered_on": days_ago(0, today), "location": OTTAWA, "quantities": {"LAT-5450": 1}},
        )
    topic = topic_for(stack.prefix, "order")

    def read() -> list[tuple[dict[str, str], dict]]:
        # kcat prints the CloudEvents headers as name=value pairs; the value is the event data alone.
        out = subprocess.run(
            ["kcat", "-b", stack.bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%k\t%h\t%s\n"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        lines = [line.split("\t", 2) for line in out.stdout.splitlines() if line.count("\t") >= 2]
        return [
            (dict(pair.split("=", 1) for pair in headers.split(",")), json.loads(value))
            for key, headers, value in lines
            if key == order_id
        ]

    wait_until(lambda: len(read()) >= 3, 60, "kcat to see the order's 3 events", every=1)
    records = read()
    assert [h["ce_type"] for h, _ in records] == [
        "ca.orderledger.order.placed.v1",
        "ca.orderledger.order.call_up_awarded.v1",
        "ca.orderledger.order.delivery_recorded.v2",  # written since DeliveryRecorded v2 (serial numbers)
    ]
    assert [h["ce_sequence"] for h, _ in records] == ["0000000001", "0000000002", "0000000003"]
    assert {h["ce_subject"] for h, _ in records} == {h["ce_partitionkey"] for h, _ in records} == {order_id}
    assert all(h["content-type"] == "application/json" and h["ce_specversion"] == "1.0" for h, _ in records)
    assert records[0][1]["order_id"] == order_id and "type" in records[0][1]
    assert records[2][1]["schema_version"] == 2 and records[2][1]["items"][0]["serial_numbers"] == []


def test_given_published_events_when_read_with_the_cloudevents_sdk_then_they_are_the_ledgers_events(
    server_stack, today
):
    from cloudevents.core.bindings.kafka import KafkaMessage, from_binary
    from cloudevents.core.formats.json import JSONFormat

    stack = server_stack
    stack.start_api()
    with httpx.Client(base_url=stack.url, headers=stack.broker_headers, timeout=10) as http:
        order_id = http.post("/v1/orders", json=order_body()).json()["order_id"]
        http.post(f"/v1/orders/{order_id}/award", json={"contract_number": "CU-7", "awarded_on": days_ago(0, today)})
    consumer = Consumer(
        {"bootstrap.servers": stack.bootstrap, "group.id": f"{stack.prefix}-sdk", "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([topic_for(stack.prefix, "order")])
    received = []
    deadline = time.monotonic() + 60
    while len(received) < 2 and time.monotonic() < deadline:
        message = consumer.poll(1)
        if message is None or message.error() or message.key() != order_id.encode():
            continue
        # The SDK's KafkaMessage wants a dict of headers; confluent-kafka gives a list of pairs.
        kafka = KafkaMessage(headers=dict(message.headers() or []), key=message.key(), value=message.value())
        received.append(from_binary(kafka, JSONFormat()))
    consumer.close()
    ledger = PostgresLedger(stack.database.app_url)
    recorded = ledger.read_stream(order_id)
    ledger.close()
    assert [e.get_id() for e in received] == [str(r.event_id) for r in recorded]
    assert [e.get_type() for e in received] == [
        "ca.orderledger.order.placed.v1",
        "ca.orderledger.order.call_up_awarded.v1",
    ]
    assert [e.get_data() for e in received] == [r.data for r in recorded]
    assert [e.get_subject() for e in received] == [order_id, order_id]
    assert [e.get_time() for e in received] == [r.occurred_at for r in recorded]
    assert [e.get_extension("sequence") for e in received] == ["0000000001", "0000000002"]
    assert [e.get_extension("partitionkey") for e in received] == [order_id, order_id]
    assert received[0].get_dataschema().endswith("/v1/schemas/ca.orderledger.order.placed.v1.json")


def test_given_an_append_held_open_when_others_wait_then_neither_relay_nor_worker_skips_it(
    server_stack, tmp_path, clock
):
    """The late-commit trap end to end: the held event reaches Kafka and the projection too."""
    stack = server_stack
    ensure_topics(stack.bootstrap, stack.prefix, 3, 1)
    relay = Relay(stack.database.app_url, stack.bootstrap, stack.prefix)
    threading.Thread(target=relay.run, daemon=True).start()
    stack.start_worker()
    settings = Settings(
        database_url=stack.database.app_url,
        admin_database_url=stack.database.admin_url,
        kafka_bootstrap=stack.bootstrap,
        topic_prefix=stack.prefix,
    )
    held, others = build(settings, clock=clock), build(settings, clock=clock)
    release, holding = threading.Event(), threading.Event()

    def hold() -> None:
        holding.set()
        release.wait(10)

    held.ledger.inner.before_commit = hold  # type: ignore[attr-defined]
    from tests.e2e.fuzz_given import draft

    try:
        for _ in range(3):
            others.desk.place(*draft(order_body(), clock()))
        slow = threading.Thread(target=lambda: held.desk.place(*draft(order_body(client_org="ASPC"), clock())))
        slow.start()
        assert holding.wait(10)
        fast = [threading.Thread(target=lambda: others.desk.place(*draft(order_body(), clock()))) for _ in range(4)]
        for thread in fast:
            thread.start()
        time.sleep(3)  # the relay and the worker keep polling meanwhile
        release.set()
        slow.join()
        for thread in fast:
            thread.join()
        rows = wait_for_worker_to_match(stack, tmp_path)
        assert len(rows) == 8
        assert any('"client_org":"ASPC"' in doc for _, doc in rows)
    finally:
        relay.stop()
        held.close()
        others.close()


# ---------------------------------------------------------------- faults


def test_given_a_worker_killed_mid_stream_when_restarted_then_projections_equal_a_clean_rebuild(server_stack, tmp_path):
    stack = server_stack
    stack.start_api()
    stack.start_worker()
    with Load(stack) as load:
        load.wait_for(40)
        wait_until(lambda: len(worker_rows(stack)) > 5, 60, "the worker to project something")
        stack.signal("worker", signal.SIGKILL)
        load.wait_for(len(load.acknowledged) + 30)
        stack.start_worker()
        load.wait_for(len(load.acknowledged) + 30)
    ledger = PostgresLedger(stack.database.app_url)
    load.assert_all_in(ledger)
    ledger.close()
    rows = wait_for_worker_to_match(stack, tmp_path)
    assert len(rows) >= 20


def last_assignment(stack, worker: str) -> set[int]:
    """The orders-topic partitions of the worker's last "partitions assigned" log line."""
    topic = topic_for(stack.prefix, "order")
    lines = [json.loads(line) for line in stack.log(worker).splitlines() if "partitions assigned" in line]
    assignments = [line["partitions"] for line in lines if line["message"] == "partitions assigned"]
    return set(assignments[-1].get(topic, [])) if assignments else set()


def test_given_two_workers_when_one_stops_then_the_other_takes_its_partitions_without_loss_or_doubles(
    server_stack, tmp_path
):
    stack = server_stack
    stack.start_api()
    stack.start_worker("worker-a")
    stack.start_worker("worker-b")
    with Load(stack) as load:
        # Given: the two workers in one group split the 3 partitions between them. Each logs its whole
        # assignment once its rebalance is done, so the first to finish may briefly read beside the
        # other's previous one: wait for the split itself.
        def split() -> bool:
            a, b = last_assignment(stack, "worker-a"), last_assignment(stack, "worker-b")
            return bool(a and b) and a | b == {0, 1, 2} and not a & b

        wait_until(split, 60, "both workers to hold partitions, none held twice")
        load.wait_for(40)
        wait_until(lambda: len(worker_rows(stack)) > 5, 60, "the workers to project something")
        # When: one stops
        stack.signal("worker-a", signal.SIGTERM)
        # Then: the other takes every partition, and the projection ends equal to a rebuild
        wait_until(lambda: last_assignment(stack, "worker-b") == {0, 1, 2}, 60, "worker-b to take all partitions")
        load.wait_for(len(load.acknowledged) + 40)
    wait_for_worker_to_match(stack, tmp_path)


def test_given_the_relay_killed_between_delivery_report_and_marking_then_nothing_is_missing(server_stack, tmp_path):
    stack = server_stack
    stack.env["ORDERLEDGER_RUN_RELAY"] = "false"
    stack.start_api()
    stack.start_worker()
    ensure_topics(stack.bootstrap, stack.prefix, 3, 1)
    # A relay that SIGKILLs itself right after its third batch was delivered, before marking it.
    harness = (
        "import os, signal, sys\n"
        "from processors.relay import Relay\n"
        "marks = []\n"
        "def die(position):\n"
        "    marks.append(position)\n"
        "    if len(marks) == 3:\n"
        "        print('killed before marking', position, flush=True)\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "Relay(sys.argv[1], sys.argv[2], sys.argv[3], batch=5, before_mark=die).run()\n"
    )
    with Load(stack) as load:
        load.wait_for(30)
        dying = subprocess.run(
            [sys.executable, "-c", harness, stack.database.app_url, stack.bootstrap, stack.prefix],
            capture_output=True,
            text=True,
            timeout=60,
            env=stack.env,
            check=False,
        )
        assert dying.returncode == -signal.SIGKILL, dying.stderr
        assert "killed before marking" in dying.stdout
        stack.start_relay()
        load.wait_for(len(load.acknowledged) + 20)
    ledger = PostgresLedger(stack.database.app_url)
    load.assert_all_in(ledger)
    ledger.close()
    wait_for_worker_to_match(stack, tmp_path)
    # the relay alone answers on its ops port: alive, ready, and counting what it published
    ops = f"http://127.0.0.1:{stack.ops_ports['relay']}"
    assert httpx.get(f"{ops}/healthz", timeout=5).json()["status"] == "ok"
    assert httpx.get(f"{ops}/readyz", timeout=5).status_code == 200
    published = [
        line
        for line in httpx.get(f"{ops}/metrics", timeout=5).text.splitlines()
        if line.startswith("orderledger_relay_events_published_total ")
    ]
    assert published and float(published[0].split()[1]) > 0


def test_given_the_broker_stopped_for_30_s_under_load_then_appends_go_on_and_the_relay_catches_up(
    server_stack, kafka_broker, tmp_path
):
    stack = server_stack
    stack.start_api()
    stack.start_worker()
    # While the broker is stopped each answer waits out its 2 s read-your-writes bound: more clients.
    with Load(stack, clients=4) as load:
        load.wait_for(20)
        os.kill(kafka_broker.pid, signal.SIGSTOP)
        try:
            before = len(load.acknowledged)
            time.sleep(30)
            during = len(load.acknowledged) - before
        finally:
            os.kill(kafka_broker.pid, signal.SIGCONT)
        load.wait_for(len(load.acknowledged) + 10)
    print(f"{during} commands acknowledged while the broker was stopped for 30 s")
    assert during >= 10, f"only {during} commands acknowledged while the broker was stopped"
    ledger = PostgresLedger(stack.database.app_url)
    load.assert_all_in(ledger)
    ledger.close()
    wait_for_worker_to_match(stack, tmp_path, seconds=180)


def test_given_postgres_restarted_under_load_then_503_problems_meanwhile_and_nothing_acknowledged_is_lost(
    server_stack, pg_cluster
):
    stack = server_stack
    stack.start_api()
    statuses: list[tuple[int, str]] = []

    def probe() -> None:
        deadline = time.monotonic() + 20
        with httpx.Client(base_url=stack.url, headers=stack.broker_headers, timeout=10) as http:
            while time.monotonic() < deadline:
                try:
                    response = http.post("/v1/orders", json=order_body())
                    statuses.append((response.status_code, response.headers.get("content-type", "")))
                except httpx.HTTPError:
                    pass
                time.sleep(0.02)

    with Load(stack) as load:
        load.wait_for(20)
        prober = threading.Thread(target=probe)
        prober.start()
        time.sleep(1)
        pg_cluster.restart()
        prober.join()
        acknowledged_after = len(load.acknowledged)
        load.wait_for(acknowledged_after + 10, seconds=60)
    codes = {code for code, _ in statuses}
    assert codes <= {201, 503}, codes
    assert 503 in codes, "no request met the restart"
    assert all(kind.startswith("application/problem+json") for code, kind in statuses if code == 503)
    ledger = PostgresLedger(stack.database.app_url)
    load.assert_all_in(ledger)
    ledger.close()


def test_given_a_poison_message_then_it_lands_in_the_dead_letter_topic_and_the_partition_moves_on(
    server_stack, tmp_path
):
    stack = server_stack
    stack.start_api()
    stack.start_worker()
    topic = topic_for(stack.prefix, "order")
    with httpx.Client(base_url=stack.url, headers=stack.broker_headers, timeout=10) as http:
        first = http.post("/v1/orders", json=order_body()).json()["order_id"]
        producer = Producer({"bootstrap.servers": stack.bootstrap})
        for partition in range(3):  # one poison message in every partition
            producer.produce(topic, key=b"poison", value=b"{not an event", partition=partition)
        producer.flush(10)
        second = http.post("/v1/orders", json=order_body()).json()["order_id"]
    rows = wait_for_worker_to_match(stack, tmp_path)
    assert {first, second} <= {key for key, _ in rows}
    consumer = Consumer(
        {"bootstrap.servers": stack.bootstrap, "group.id": f"{stack.prefix}-dlq-check", "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([dead_letter_topic(stack.prefix)])
    parked = []
    deadline = time.monotonic() + 30
    while len(parked) < 3 and time.monotonic() < deadline:
        message = consumer.poll(1)
        if message is not None and not message.error():
            parked.append(message)
    consumer.close()
    assert len(parked) == 3
    assert all(m.value() == b"{not an event" for m in parked)
    assert all(dict(m.headers())["reason"].startswith(b"undecodable") for m in parked)
