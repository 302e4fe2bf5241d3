"""SIGKILL the server in the middle of a stream of appends: nothing acknowledged is lost or doubled."""

from __future__ import annotations

import random
import threading
import time

import httpx

from events.ledger.sqlite import SqliteLedger
from processors.projection_store import ProjectionStore
from processors.sql import SqliteDatabase
from projections.order_status import ORDER_STATUS
from tests.conftest import LiveServer, orderledger_cli
from tests.orders_given import OTTAWA, days_ago, order_body


def test_given_appends_in_flight_when_the_server_is_killed_then_every_acknowledged_command_survives(
    tmp_path, clock, today
):
    # Given: a server taking a steady stream of orders, awards and deliveries from 3 clients
    server = LiveServer(tmp_path / "crash", clock=clock)
    server.start()
    acknowledged: list[tuple[str, int]] = []  # (order_id, stream_version) of each 2xx answer
    stop = threading.Event()

    def client(seed: int) -> None:
        rnd = random.Random(seed)
        with httpx.Client(base_url=server.url, headers=server.broker, timeout=5) as http:
            while not stop.is_set():
                try:
                    placed = http.post("/v1/orders", json=order_body())
                    if placed.status_code != 201:
                        continue
                    order_id = placed.json()["order_id"]
                    acknowledged.append((order_id, placed.json()["stream_version"]))
                    if rnd.random() < 0.7:
                        award = {"contract_number": "CU-1", "awarded_on": days_ago(0, today)}
                        awarded = http.post(f"/v1/orders/{order_id}/award", json=award)
                        if awarded.status_code == 200:
                            acknowledged.append((order_id, awarded.json()["stream_version"]))
                            delivered = http.post(
                                f"/v1/orders/{order_id}/deliveries",
                                json={
                                    "delivered_on": days_ago(0, today),
                                    "location": OTTAWA,
                                    "quantities": {"LAT-5450": 1},
                                },
                            )
                            if delivered.status_code == 200:
                                acknowledged.append((order_id, delivered.json()["stream_version"]))
                except httpx.HTTPError:
                    pass  # the server died under us: this request is not acknowledged

    threads = [threading.Thread(target=client, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    # When: it is killed mid-stream, once it has acknowledged a good number of commands
    deadline = time.monotonic() + 60
    while len(acknowledged) < 60 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()
    stop.set()
    for thread in threads:
        thread.join()
    killed_with = len(acknowledged)
    assert killed_with >= 60

    # Then, after a restart: every acknowledged command is in the ledger
    server.start()
    try:
        ledger = SqliteLedger(server.data_dir / "ledger.db")
        for order_id, version in acknowledged:
            assert len(ledger.read_stream(order_id)) >= version, (order_id, version)
        # the hash chain holds
        verified = orderledger_cli(server.data_dir, "verify", clock=clock)
        assert verified.returncode == 0, verified.stdout
        # the live projection catches up and applied no event twice
        head = ledger.head()
        order_ids = sorted({order_id for order_id, _ in acknowledged})
        with httpx.Client(base_url=server.url, headers=server.broker, timeout=10) as http:
            for order_id in order_ids:
                row = http.get(f"/v1/orders/{order_id}", params={"after_position": head}).json()
                stream = ledger.read_stream(order_id)
                assert [e["position"] for e in row["timeline"]] == [e.position for e in stream]
        # and the live projection equals one rebuilt from scratch
        live = ProjectionStore(SqliteDatabase(server.data_dir / "projections.db"))
        rebuilt = ProjectionStore(SqliteDatabase(tmp_path / "rebuilt.db"))
        rebuilt.ensure(ORDER_STATUS)
        rebuilt.rebuild(ORDER_STATUS, ledger)
        assert live.dump(ORDER_STATUS) == rebuilt.dump(ORDER_STATUS)
        print(f"killed after {killed_with} acknowledged commands; ledger head {head}")
    finally:
        server.stop()


def test_given_a_tampered_row_when_verify_runs_then_it_names_that_position(tmp_path, clock):
    import sqlite3

    # Given: the demo ledger, with one row changed behind the trigger's back
    data_dir = tmp_path / "tamper"
    assert orderledger_cli(data_dir, "demo", clock=clock).returncode == 0
    assert orderledger_cli(data_dir, "verify", clock=clock).returncode == 0
    raw = sqlite3.connect(data_dir / "ledger.db")
    raw.execute("DROP TRIGGER ledger_events_no_update")
    raw.execute("UPDATE ledger_events SET actor = 'someone-else' WHERE position = 17")
    raw.commit()
    raw.close()
    # When
    verified = orderledger_cli(data_dir, "verify", clock=clock)
    # Then
    assert verified.returncode == 1
    assert "FAILED at position 17" in verified.stdout
