"""A ledger written before DeliveryRecorded v2, upgraded: read, rebuilt and carried on, on SQLite and PostgreSQL.

tests/samples/ledger_v1/ holds the demo ledger's rows exactly as the v1 code stored them and the projections it
built. They go into a fresh ledger of each adapter as they are (a database kept across the upgrade); today's code
must verify the chain, decode every v1 delivery as v2, rebuild projections equal to the ones the v1 code built,
decide new commands over the v1 history, and publish the stored v1 events as stored.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

from events.handling.desk import CommandContext
from events.kernel.errors import CommandRejected
from events.ledger import RecordedEvent
from events.ledger.catalogue import decode
from events.orders.commands import RecordDelivery
from events.orders.facts import DeliveredItem, DeliveryRecorded
from events.publishing.cloud_events import structured
from processors.settings import Settings
from processors.wiring import Orderledger, build
from projections.catalogue import PROJECTIONS
from projections.order_status import ORDER_STATUS
from tests.conftest import clock_on

V1 = Path(__file__).resolve().parents[1] / "samples" / "ledger_v1"
ROWS = [json.loads(line) for line in (V1 / "ledger_events.jsonl").read_text("utf-8").splitlines()]
BUILT_BY_V1 = json.loads((V1 / "projections.json").read_text("utf-8"))
COLUMNS = list(ROWS[0])
DEMO_DAY = date(2026, 11, 23)
ORDER = "ORD-2026-000028"  # 4 of 9 LAT-5450 delivered to 875 Heron Rd, Ottawa, recorded as v1


def embedded(tmp_path: Path, request: pytest.FixtureRequest) -> Orderledger:
    app = build(Settings(data_dir=tmp_path / "var"), clock=clock_on(DEMO_DAY))
    with sqlite3.connect(tmp_path / "var" / "ledger.db") as db:
        db.executemany(
            f"INSERT INTO ledger_events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            [tuple(row[c] for c in COLUMNS) for row in ROWS],
        )
    return app


def postgres(tmp_path: Path, request: pytest.FixtureRequest) -> Orderledger:
    database = request.getfixturevalue("pg_database")
    settings = Settings(database_url=database.app_url, admin_database_url=database.admin_url)
    app = build(settings, clock=clock_on(DEMO_DAY))
    with psycopg.connect(database.admin_url) as db:
        db.cursor().executemany(
            f"INSERT INTO ledger.ledger_events ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})",
            [tuple(row[c] for c in COLUMNS) for row in ROWS],
        )
    return app


@pytest.fixture(params=["embedded", "postgres"])
def upgraded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Orderledger]:
    """Today's code opening a ledger the v1 code wrote."""
    app = {"embedded": embedded, "postgres": postgres}[request.param](tmp_path, request)
    yield app
    app.close()


def every_event(app: Orderledger) -> list[RecordedEvent]:
    return app.ledger.read_all(0, len(ROWS) + 10)


def dumps(app: Orderledger) -> dict[str, list[list[str]]]:
    return {p.name: [list(row) for row in app.projections.dump(p)] for p in PROJECTIONS.values()}


def test_the_stored_v1_rows_are_there_and_their_chain_verifies(upgraded: Orderledger) -> None:
    report = upgraded.ledger.verify()
    assert (report.ok, report.checked) == (True, len(ROWS))
    stored = every_event(upgraded)
    assert [e.hash for e in stored] == [row["hash"] for row in ROWS]
    assert sum(e.type == "DeliveryRecorded" and e.schema_version == 1 for e in stored) == 34


def test_every_v1_delivery_decodes_as_v2_with_its_quantities_and_no_serial_numbers(upgraded: Orderledger) -> None:
    for event in every_event(upgraded):
        decoded = decode(event)
        if event.type != "DeliveryRecorded":
            continue
        assert isinstance(decoded, DeliveryRecorded) and decoded.schema_version == 2
        assert decoded.quantities == event.data["quantities"]
        assert [item.sku for item in decoded.items] == sorted(event.data["quantities"])  # the same on every adapter
        assert decoded.serial_numbers == {}
        assert (decoded.delivered_on.isoformat(), decoded.location, decoded.address) == (
            event.data["delivered_on"],
            event.data["location"],
            event.data["address"],
        )


def test_the_projections_rebuilt_equal_the_ones_the_v1_code_built(upgraded: Orderledger) -> None:
    assert upgraded.runner is not None
    upgraded.runner.catch_up()  # from position 0 into an empty store: a build from scratch
    assert dumps(upgraded) == BUILT_BY_V1
    upgraded.projections.rebuild_all(list(PROJECTIONS.values()), upgraded.ledger)  # beside, then swapped in
    assert dumps(upgraded) == BUILT_BY_V1


def test_new_commands_are_decided_over_the_v1_history_and_written_as_v2(upgraded: Orderledger) -> None:
    assert upgraded.runner is not None
    context = CommandContext(actor="test", now=upgraded.clock(), correlation_id=uuid.uuid4())
    rest = RecordDelivery(
        delivered_on=DEMO_DAY,
        province="ON",
        address="875 Heron Rd, Ottawa",
        quantities={"LAT-5450": 5, "LAT-7450": 1},
        serial_numbers={"LAT-5450": ("PF4A01", "PF4A02", "PF4A03", "PF4A04", "PF4A05")},
    )
    upgraded.desk.execute(ORDER, rest, context)
    with pytest.raises(CommandRejected) as refused:  # the 4 delivered in v1 count: 9 of 9 are in
        upgraded.desk.execute(
            ORDER, rest.model_copy(update={"quantities": {"LAT-5450": 1}, "serial_numbers": {}}), context
        )
    assert refused.value.code == "over_delivery"

    written = every_event(upgraded)[-1]
    assert (written.type, written.schema_version, written.stream_id) == ("DeliveryRecorded", 2, ORDER)
    delivery = decode(written)
    assert delivery.items == (
        DeliveredItem(sku="LAT-5450", quantity=5, serial_numbers=("PF4A01", "PF4A02", "PF4A03", "PF4A04", "PF4A05")),
        DeliveredItem(sku="LAT-7450", quantity=1),
    )
    assert delivery.fully_delivered is True  # with the DOCK-WD22 and the 4 + 1 laptops delivered in v1
    assert upgraded.ledger.verify().ok

    upgraded.runner.catch_up()
    row: Any = upgraded.projections.get(ORDER_STATUS, ORDER)
    assert row.status == "delivered"
    assert [line.delivered for line in row.lines] == [9, 1, 2]
    v1_entry, v2_entry = [entry for entry in row.timeline if entry.type == "DeliveryRecorded"]
    assert v1_entry.details["quantities"] == {"DOCK-WD22": 1, "LAT-5450": 4, "LAT-7450": 1}
    assert "serial_numbers" not in v1_entry.details
    assert v2_entry.details["serial_numbers"] == {"LAT-5450": ["PF4A01", "PF4A02", "PF4A03", "PF4A04", "PF4A05"]}


def test_stored_v1_events_are_published_as_stored(upgraded: Orderledger) -> None:
    """The feed, webhooks and Kafka carry what the ledger holds: the v1 type, the v1 data and the hash of it."""
    for event, row in zip(every_event(upgraded), ROWS, strict=True):
        published = structured(event, "http://127.0.0.1:8000")
        assert published["hash"] == row["hash"]
        assert published["data"] == json.loads(row["data"])
        if row["type"] == "DeliveryRecorded":
            assert published["type"] == "ca.orderledger.order.delivery_recorded.v1"
            assert published["dataschema"].endswith("/v1/schemas/ca.orderledger.order.delivery_recorded.v1.json")
