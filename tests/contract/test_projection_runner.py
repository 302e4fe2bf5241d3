"""The runner applies each event exactly once in effect, and a rebuild equals the live projection."""

from __future__ import annotations

from datetime import date

import pytest

from api.demo import load_demo
from processors.projection_store import ProjectionStore
from processors.sql import SqliteDatabase
from projections.catalogue import PROJECTIONS
from projections.order_status import ORDER_STATUS

DEMO_DAY = date(2026, 11, 23)


@pytest.fixture
def today() -> date:
    """The demo's day: the ledger's clock runs on it too."""
    return DEMO_DAY


def test_given_the_demo_ledger_when_projected_live_and_rebuilt_from_zero_then_rows_are_identical(ledger_app, tmp_path):
    # Given: the demo data, projected by the live runner as it arrives
    load_demo(ledger_app.desk, DEMO_DAY)
    ledger_app.runner.catch_up()
    live = ledger_app.projections.dump(ORDER_STATUS)
    # When: rebuilt from position 0 into another store, and in place
    other = ProjectionStore(SqliteDatabase(tmp_path / "rebuilt.db"))
    other.ensure(ORDER_STATUS)
    other.rebuild(ORDER_STATUS, ledger_app.ledger)
    ledger_app.projections.rebuild(ORDER_STATUS, ledger_app.ledger)
    # Then
    assert len(live) == 52
    assert other.dump(ORDER_STATUS) == live
    assert ledger_app.projections.dump(ORDER_STATUS) == live
    assert ledger_app.projections.checkpoint(ORDER_STATUS) == ledger_app.ledger.head()


def test_given_applied_events_when_delivered_again_then_nothing_changes(ledger_app):
    # Given
    load_demo(ledger_app.desk, DEMO_DAY)
    ledger_app.runner.catch_up()
    before = ledger_app.projections.dump(ORDER_STATUS)
    everything = ledger_app.ledger.read_all(0, 100_000)
    # When: the whole ledger is applied again (a redelivery after a crash)
    ledger_app.projections.apply(ORDER_STATUS, everything)
    # and each row is handed an event it has already seen, bypassing the checkpoint
    for event in everything:
        for projection in PROJECTIONS.values():
            for key in projection.keys(event):
                row = ledger_app.projections.get(projection, key)
                assert projection.project(row, event, key) == row
    # Then
    assert ledger_app.projections.dump(ORDER_STATUS) == before


def test_given_every_order_when_projected_then_its_timeline_has_one_entry_per_event(ledger_app):
    load_demo(ledger_app.desk, DEMO_DAY)
    ledger_app.runner.catch_up()
    for key, _doc in ledger_app.projections.dump(ORDER_STATUS):  # orders only: contracts have no timeline
        row = ledger_app.projections.get(ORDER_STATUS, key)
        stream = ledger_app.ledger.read_stream(key)
        assert [e.position for e in row.timeline] == [e.position for e in stream]
        assert row.stream_version == len(stream)


def test_given_the_demo_data_then_orders_are_in_every_state(ledger_app):
    load_demo(ledger_app.desk, DEMO_DAY)
    ledger_app.runner.catch_up()
    rows = [ledger_app.projections.get(ORDER_STATUS, k) for k, _ in ledger_app.projections.dump(ORDER_STATUS)]
    assert {r.status for r in rows} == {"placed", "awarded", "partially_delivered", "delivered", "cancelled", "closed"}
    assert {r.client_org for r in rows} >= {"ASPC", "SRC", "ESDC"}
    from projections.order_status import lateness

    kinds = {lateness(r, date(2026, 11, 23)) for r in rows}
    assert {"on_time", "at_risk", "late", None} <= kinds
