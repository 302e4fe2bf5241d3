"""Rebuilding every projection in one pass over the ledger gives the rows the live runner built.

On the embedded store (SQLite) and on PostgreSQL: one pass for all projections or one projection
by name, any page size, events arriving while the rebuild runs, and a runner catching up
projections that stand at different checkpoints.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from api.demo import load_demo
from events.ledger import Ledger, RecordedEvent
from processors.projection_store import ProjectionStore
from processors.settings import Settings
from processors.sql import SqliteDatabase
from processors.wiring import Orderledger, build
from projections import Projection
from projections.catalogue import PROJECTIONS
from projections.contract_capacity import CONTRACT_CAPACITY
from projections.order_status import ORDER_STATUS
from tests.conftest import clock_on

ALL = list(PROJECTIONS.values())
DEMO_DAY = date(2026, 11, 23)


def embedded(tmp_path: Any, request: pytest.FixtureRequest) -> Orderledger:
    return build(Settings(data_dir=tmp_path / "var"), clock=clock_on(DEMO_DAY))


def postgres(tmp_path: Any, request: pytest.FixtureRequest) -> Orderledger:
    database = request.getfixturevalue("pg_database")
    return build(
        Settings(database_url=database.app_url, admin_database_url=database.admin_url), clock=clock_on(DEMO_DAY)
    )


MODES = {"embedded": embedded, "postgres": postgres}


@pytest.fixture(params=sorted(MODES))
def demo_app(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Orderledger]:
    """The demo data set, projected live by the runner."""
    app = MODES[request.param](tmp_path, request)
    load_demo(app.desk, DEMO_DAY)
    assert app.runner is not None
    app.runner.catch_up()
    yield app
    app.close()


def dumps(store: ProjectionStore) -> dict[str, list[tuple[str, str]]]:
    return {p.name: store.dump(p) for p in ALL}


def checkpoints(store: ProjectionStore) -> dict[str, int]:
    return {p.name: store.checkpoint(p) for p in ALL}


class CountingLedger:
    """The ledger, counting the pages read from it."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.reads: list[int] = []

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        self.reads.append(after_position)
        return self.ledger.read_all(after_position, limit)

    def head(self) -> int:
        return self.ledger.head()


class ArrivingLedger(CountingLedger):
    """The ledger as if it held only up to `visible` at first, the rest arriving while it is read.

    `arrive_after_reads`: the rest arrives once that many pages were read; `arrive_at_end`: it
    arrives just after the reader first finds no more events (the rebuild's last page, read
    before the swap), so only the swap's own tail can pick it up.
    """

    def __init__(
        self, ledger: Ledger, visible: int, arrive_after_reads: int | None = None, arrive_at_end: bool = False
    ) -> None:
        super().__init__(ledger)
        self.visible = visible
        self.arrive_after_reads = arrive_after_reads
        self.arrive_at_end = arrive_at_end
        self.arrived_at_read: int | None = None

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        events = [e for e in super().read_all(after_position, limit) if e.position <= self.visible]
        if self.arrived_at_read is None and (
            (self.arrive_after_reads is not None and len(self.reads) >= self.arrive_after_reads)
            or (self.arrive_at_end and not events)
        ):
            self.visible = self.ledger.head()
            self.arrived_at_read = len(self.reads)
        return events

    def head(self) -> int:
        return min(self.visible, self.ledger.head())


# ---------------------------------------------------------------- one pass for every projection


def test_given_the_live_projections_when_all_are_rebuilt_in_one_pass_then_rows_and_checkpoints_are_the_same(
    demo_app,
):
    store = demo_app.projections
    live = dumps(store)
    ledger = CountingLedger(demo_app.ledger)
    head = demo_app.ledger.head()
    # When
    position = store.rebuild_all(ALL, ledger, batch=100)
    # Then: the same rows, every checkpoint at the head, and the ledger read once (not once per projection)
    assert position == head
    assert dumps(store) == live
    assert checkpoints(store) == dict.fromkeys(PROJECTIONS, head)
    pages = -(-head // 100)
    assert len(ledger.reads) == pages + 2  # the pages, the empty read ending them, the empty tail read
    assert len(live["order_status"]) == 52 and len(live["contract_capacity"]) == 7
    assert all(live[name] for name in ("chargeback", "reconciliation", "service_status", "incidents"))
    # and a second rebuild (the shadow names are free again) gives them once more
    assert store.rebuild_all(ALL, demo_app.ledger) == head
    assert dumps(store) == live


@pytest.mark.parametrize("batch", [1, 7, 250, 100_000])
def test_given_any_page_size_when_rebuilt_then_rows_are_those_of_the_live_runner(demo_app, batch):
    live = dumps(demo_app.projections)
    demo_app.projections.rebuild_all(ALL, demo_app.ledger, batch=batch)
    assert dumps(demo_app.projections) == live


def test_given_one_projection_named_when_rebuilt_then_only_it_is_rebuilt(demo_app):
    store = demo_app.projections
    live = dumps(store)
    head = demo_app.ledger.head()
    # Given: the other projections stand behind (their checkpoint is left alone by the rebuild)
    for projection in ALL:
        if projection is not ORDER_STATUS:
            store.rebuild_all([projection], ArrivingLedger(demo_app.ledger, visible=head // 2))
    behind = checkpoints(store)
    # When
    position = store.rebuild(ORDER_STATUS, demo_app.ledger)
    # Then
    assert position == head
    assert store.dump(ORDER_STATUS) == live["order_status"]
    assert checkpoints(store) == {**behind, "order_status": head}
    assert all(behind[p.name] == head // 2 for p in ALL if p is not ORDER_STATUS)


def test_given_another_store_when_rebuilt_there_then_it_holds_the_same_rows(demo_app, tmp_path):
    other = ProjectionStore(SqliteDatabase(tmp_path / "rebuilt.db"))
    try:
        for projection in ALL:
            other.ensure(projection)
        other.rebuild_all(ALL, demo_app.ledger, batch=33)
        assert dumps(other) == dumps(demo_app.projections)
        assert checkpoints(other) == dict.fromkeys(PROJECTIONS, demo_app.ledger.head())
    finally:
        other.close()


# ---------------------------------------------------------------- events arriving during the rebuild


def test_given_events_arriving_between_pages_when_rebuilding_then_none_is_lost(demo_app):
    store = demo_app.projections
    live = dumps(store)
    head = demo_app.ledger.head()
    # Given: the ledger seems to end at a third of the demo; the rest arrives after the first page
    ledger = ArrivingLedger(demo_app.ledger, visible=head // 3, arrive_after_reads=1)
    # When
    position = store.rebuild_all(ALL, ledger, batch=40)
    # Then
    assert ledger.arrived_at_read == 1
    assert position == head
    assert dumps(store) == live
    assert checkpoints(store) == dict.fromkeys(PROJECTIONS, head)


def test_given_events_arriving_after_the_last_page_when_rebuilding_then_the_swap_applies_them(demo_app):
    store = demo_app.projections
    live = dumps(store)
    head = demo_app.ledger.head()
    # Given: the rest of the ledger arrives just after the pages were read, before the swap
    ledger = ArrivingLedger(demo_app.ledger, visible=head - 25, arrive_at_end=True)
    # When
    position = store.rebuild_all(ALL, ledger, batch=40)
    # Then: the swap's tail read them, and every projection has them
    pages = -(-(head - 25) // 40)
    assert ledger.arrived_at_read == pages + 1
    assert len(ledger.reads) == pages + 3  # ..., the tail page, the empty read ending the tail
    assert position == head
    assert dumps(store) == live
    assert checkpoints(store) == dict.fromkeys(PROJECTIONS, head)


# ---------------------------------------------------------------- the runner catching up


def test_given_projections_at_different_checkpoints_when_the_runner_catches_up_then_each_reaches_the_head(
    demo_app,
):
    store = demo_app.projections
    runner = demo_app.runner
    assert runner is not None
    live = dumps(store)
    head = demo_app.ledger.head()
    # Given: projections rebuilt up to different positions (one empty, one at the head)
    stops = {ORDER_STATUS.name: 0, CONTRACT_CAPACITY.name: head}
    for n, projection in enumerate(ALL):
        visible = stops.get(projection.name, head * (n + 1) // (len(ALL) + 1))
        store.rebuild_all([projection], ArrivingLedger(demo_app.ledger, visible=visible))
    assert len(set(checkpoints(store).values())) == len(ALL)
    assert store.checkpoint(ORDER_STATUS) == 0 and store.dump(ORDER_STATUS) == []
    # When: it catches up in small pages, reading each page once for all
    ledger = CountingLedger(demo_app.ledger)
    runner.ledger = ledger  # type: ignore[assignment]
    runner.batch = 30
    reached = runner.catch_up()
    # Then
    assert reached == head
    assert checkpoints(store) == dict.fromkeys(PROJECTIONS, head)
    assert dumps(store) == live
    assert len(ledger.reads) == -(-head // 30) + 1
    assert ledger.reads == sorted(set(ledger.reads))
    # and catching up again reads one empty page
    assert runner.catch_up() == head
    assert ledger.reads[-1] == head


def test_given_apply_many_when_a_projection_already_has_a_page_then_it_skips_it(demo_app):
    store = demo_app.projections
    before = dumps(store)
    events = demo_app.ledger.read_all(0, 100_000)
    # When: the whole ledger is delivered again to every projection
    reached = store.apply_many(ALL, events)
    # Then
    assert reached == dict.fromkeys(PROJECTIONS, demo_app.ledger.head())
    assert dumps(store) == before


def rebuilt_alone(projection: Projection[Any], app: Orderledger) -> list[tuple[str, str]]:
    app.projections.rebuild(projection, app.ledger, batch=64)
    return app.projections.dump(projection)


def test_given_each_projection_rebuilt_alone_then_it_equals_the_one_pass_rebuild(demo_app):
    one_pass = dumps(demo_app.projections)
    assert {p.name: rebuilt_alone(p, demo_app) for p in ALL} == one_pass
