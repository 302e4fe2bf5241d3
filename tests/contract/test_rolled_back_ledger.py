"""A ledger rolled back under its read models (an older backup restored), on SQLite and on PostgreSQL.

The read models stay as they were; the ledger loses its tail and takes new appends at the lost
positions. The runner stops the projections it no longer holds, the flow reports them, a worker's
newest applied events (per partition) are checked like checkpoints, and a rebuild puts it right.
"""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from events.handling.desk import CommandContext
from events.ledger import RecordedEvent
from events.ledger.cursors import Cursor, LedgerRolledBack
from events.ledger.postgres import migrate
from events.orders.commands import PlaceOrder
from processors.projection_store import ProjectionStore
from processors.settings import Settings
from processors.sql import PostgresDatabase as ReadModels
from processors.sql import SqliteDatabase
from processors.wiring import Orderledger, build
from projections.catalogue import PROJECTIONS
from projections.order_status import ORDER_STATUS
from tests.contract.test_modes import ticking_clock
from tests.orders_given import order_body

ALL = list(PROJECTIONS.values())
PLACED_AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
TOPIC = "orderledger.orders.v1"


def place(app: Orderledger, requester: str) -> str:
    draft = PlaceOrder(order_id="", placed_at=PLACED_AT, **order_body(requester=requester))
    context = CommandContext(actor="broker/test", now=PLACED_AT, correlation_id=uuid.uuid4())
    return app.desk.place(draft, context).stream_id


class Deployment:
    """An orderledger whose ledger can be put back to an earlier position, as restoring a backup does."""

    def __init__(self, open_app: Callable[[], Orderledger], roll_back: Callable[[Orderledger, int], Orderledger]):
        self.app = open_app()
        self._roll_back = roll_back

    def roll_back(self, to: int) -> None:
        self.app = self._roll_back(self.app, to)


def embedded(tmp_path: Any, request: pytest.FixtureRequest) -> Deployment:
    settings = Settings(data_dir=tmp_path / "var", verify_every_seconds=0)

    def open_app() -> Orderledger:
        return build(settings, clock=ticking_clock())

    def roll_back(app: Orderledger, to: int) -> Orderledger:
        # A backup ending at `to` (copied from the ledger, its tail left out), put in place of the ledger file.
        app.close()
        backup = tmp_path / "backup.db"
        with closing(sqlite3.connect(settings.ledger_path)) as source, closing(sqlite3.connect(backup)) as copy:
            source.backup(copy)
            copy.executescript(
                f"DROP TRIGGER ledger_events_no_delete; DELETE FROM ledger_events WHERE position > {int(to)};"
            )
        for leftover in ("-wal", "-shm"):
            settings.ledger_path.with_name(settings.ledger_path.name + leftover).unlink(missing_ok=True)
        shutil.copyfile(backup, settings.ledger_path)
        return open_app()  # the ledger creates its trigger again

    return Deployment(open_app, roll_back)


def postgres(tmp_path: Any, request: pytest.FixtureRequest) -> Deployment:
    database = request.getfixturevalue("pg_database")
    superuser = request.getfixturevalue("pg_cluster").superuser_url.rsplit("/", 1)[0] + f"/{database.name}"
    settings = Settings(database_url=database.app_url, admin_database_url=database.admin_url, verify_every_seconds=0)

    def roll_back(app: Orderledger, to: int) -> Orderledger:
        # The ledger table as an older backup had it: its triggers refuse DELETE, a restore does not ask them.
        with psycopg.connect(superuser, autocommit=True) as admin:
            admin.execute("SET session_replication_role = replica")
            admin.execute("DELETE FROM ledger.ledger_events WHERE position > %s", (to,))
        return app

    return Deployment(lambda: build(settings, clock=ticking_clock()), roll_back)


MODES = {"embedded": embedded, "postgres": postgres}


@pytest.fixture(params=sorted(MODES))
def deployment(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Deployment]:
    deployed = MODES[request.param](tmp_path, request)
    yield deployed
    deployed.app.close()


def test_given_new_appends_past_the_old_checkpoint_then_the_runner_stops_and_a_rebuild_resumes_it(deployment):
    # Given: two orders projected, the ledger restored to the first, then three new orders (past the old head)
    app = deployment.app
    place(app, "A. Tremblay")
    kept = app.ledger.head()
    place(app, "A. Tremblay")
    assert app.runner is not None
    applied = app.runner.catch_up()
    deployment.roll_back(kept)
    app = deployment.app
    new_orders = [place(app, "B. Gagnon") for _ in range(3)]
    assert app.ledger.head() > applied
    # When: the runner catches up
    assert app.runner is not None
    app.runner.catch_up()
    # Then: it applied nothing to any projection, names them all, and the flow reports each
    assert {p.name: app.projections.checkpoint(p) for p in ALL} == dict.fromkeys(PROJECTIONS, applied)
    assert sorted(app.runner.stopped) == sorted(PROJECTIONS)
    flow = app.flow.read(with_webhooks=False)
    assert sorted(d.cursor.name for d in flow.projections_rolled_back) == sorted(PROJECTIONS)
    assert all(not d.ahead for d in flow.projections_rolled_back)
    # When: rebuilt from the restored ledger
    app.projections.rebuild_all(ALL, app.ledger)
    # Then: nothing is reported, the new orders are there, and the runner follows the ledger again
    assert app.flow.read(with_webhooks=False).projections_rolled_back == []
    assert app.projections.get(ORDER_STATUS, new_orders[0]).requester == "B. Gagnon"
    later = place(app, "C. Roy")
    assert app.runner.catch_up() == app.ledger.head()
    assert app.runner.stopped == {}
    assert app.projections.get(ORDER_STATUS, later).requester == "C. Roy"


def test_given_a_worker_applied_events_the_ledger_lost_then_they_stop_it_and_kafka_s_copies_are_not_applied(
    deployment,
):
    # Given: a worker applied four orders' events from a partition (offsets 0..n-1)
    app = deployment.app
    place(app, "A. Tremblay")
    kept = app.ledger.head()
    for _ in range(3):
        place(app, "A. Tremblay")
    published = app.ledger.read_all(0, 1000)
    batch: dict[tuple[str, int], list[tuple[int, RecordedEvent]]] = {(TOPIC, 0): list(enumerate(published))}
    assert app.projections.unheld_messages(ALL, batch, app.ledger) == []
    app.projections.apply_partitions(ALL, batch)
    newest = {(c.name, c.source): c.position for c in app.projections.cursors() if c.source != "ledger"}
    assert newest == {(p.name, f"{TOPIC}/0"): published[-1].position for p in ALL}
    # When: the ledger is restored to the first order, and a new order is appended at the lost positions
    deployment.roll_back(kept)
    app = deployment.app
    place(app, "B. Gagnon")
    # Then: the flow reports every projection's partition, and the next batch is not applied
    flow = app.flow.read(with_webhooks=False)
    assert {(d.cursor.name, d.cursor.source) for d in flow.projections_rolled_back} == set(newest)
    again = {(TOPIC, 0): [(len(published), published[-1])]}
    with pytest.raises(LedgerRolledBack):
        app.projections.unheld_messages(ALL, again, app.ledger)
    # When: rebuilt from the ledger
    app.projections.rebuild_all(ALL, app.ledger)
    # Then: the worker goes on, and the events Kafka still holds from before the restore are refused one by one
    assert app.flow.read(with_webhooks=False).projections_rolled_back == []
    replayed = {(TOPIC, 0): list(enumerate(published))}
    unheld = app.projections.unheld_messages(ALL, replayed, app.ledger)
    assert unheld == [(TOPIC, 0, offset) for offset, event in enumerate(published) if event.position > kept]


OLD_TABLES = """
CREATE TABLE IF NOT EXISTS {ns}projection_checkpoints (
    name TEXT PRIMARY KEY, version INTEGER NOT NULL, position BIGINT NOT NULL);
INSERT INTO {ns}projection_checkpoints VALUES ('order_status', {version}, 12);
CREATE TABLE IF NOT EXISTS {ns}consumer_offsets (
    name TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,
    next_offset BIGINT NOT NULL, PRIMARY KEY (name, topic, partition));
INSERT INTO {ns}consumer_offsets VALUES ('order_status', 'orderledger.orders.v1', 0, 40);
"""


@pytest.mark.parametrize("mode", ["embedded", "postgres"])
def test_given_read_models_from_before_hashes_were_kept_then_they_are_checked_by_position(mode, tmp_path, request):
    # Given: the checkpoint tables as the previous version made them, order_status at position 12
    if mode == "embedded":
        db: Any = SqliteDatabase(tmp_path / "projections.db")
    else:
        database = request.getfixturevalue("pg_database")
        migrate(database.admin_url, "orderledger_app")
        db = ReadModels(database.app_url, "readmodels")
    db.script(OLD_TABLES.format(ns=db.namespace, version=ORDER_STATUS.version))
    # When: this version opens them (twice, as two processes starting would)
    ProjectionStore(db)
    store = ProjectionStore(db)
    # Then: the checkpoint is read without a hash (only its position can be checked until its next write), and
    # the worker's offset without a newest event (nothing to check until its next batch)
    try:
        assert store.cursors() == [Cursor("order_status", 12, None)]
        assert store.next_offsets(ORDER_STATUS, "orderledger.orders.v1") == {0: 40}
    finally:
        store.close()


def test_given_a_ledger_schema_from_before_the_relay_kept_a_hash_when_migrated_then_it_gets_the_column(pg_database):
    migrate(pg_database.admin_url, "orderledger_app")
    with psycopg.connect(pg_database.admin_url, autocommit=True) as owner:
        owner.execute("ALTER TABLE ledger.relay_progress DROP COLUMN hash")
        owner.execute("DELETE FROM ledger.schema_migrations WHERE version > 1")
        migrate(pg_database.admin_url, "orderledger_app")
        columns = owner.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = 'ledger' AND table_name = 'relay_progress'"
        ).fetchall()
    assert ("hash",) in columns
