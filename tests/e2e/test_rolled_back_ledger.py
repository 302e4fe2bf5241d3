"""An operator restores an older backup of the embedded ledger: /readyz, the metrics and the runner say so,
nothing new is laid on the lost history, and `orderledger rebuild` is the way out."""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli import main as orderledger
from processors.clocks import Clock
from processors.settings import Settings
from processors.wiring import Orderledger, build
from projections.catalogue import PROJECTIONS
from projections.order_status import ORDER_STATUS
from tests.e2e.test_operations import scrape, value
from tests.orders_given import order_body


def backup(ledger: Path, to: Path) -> None:
    """What `sqlite3 ledger.db ".backup to"` does: a consistent copy of a live database."""
    with closing(sqlite3.connect(ledger)) as source, closing(sqlite3.connect(to)) as copy:
        source.backup(copy)


def restore(copy: Path, ledger: Path) -> None:
    """The backup put back in place of the ledger file (and its WAL, which belongs to the newer file)."""
    for leftover in (ledger.with_name(ledger.name + "-wal"), ledger.with_name(ledger.name + "-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(copy, ledger)


@contextmanager
def serving(data_dir: Path, clock: Clock) -> Iterator[tuple[Orderledger, TestClient]]:
    app = build(Settings(data_dir=data_dir, verify_every_seconds=0), clock=clock)
    try:
        with TestClient(create_app(app), raise_server_exceptions=False) as client:
            yield app, client
    finally:
        app.close()


def place(client: TestClient, broker: dict[str, str], requester: str) -> str:
    response = client.post("/v1/orders", json=order_body(requester=requester), headers=broker)
    assert response.status_code == 201, response.text
    return str(response.json()["order_id"])


@pytest.mark.parametrize("appended_after_restore", ["fewer_than_lost", "more_than_lost"])
def test_given_an_older_backup_restored_then_not_ready_counted_not_applied_until_rebuilt(
    tmp_path, caplog, clock, appended_after_restore
):
    data_dir = tmp_path / "var"
    ledger = Settings(data_dir=data_dir).ledger_path
    # Given: two orders, a backup, then three more orders, all projected
    with serving(data_dir, clock) as (app, client):
        broker = {"Authorization": f"Bearer {app.keys.create('broker', 'test')}"}
        for _ in range(2):
            place(client, broker, "A. Tremblay")
        backup(ledger, tmp_path / "backup.db")
        backed_up_head = app.ledger.head()
        lost = [place(client, broker, "A. Tremblay") for _ in range(3)]
        assert app.runner is not None and app.runner.catch_up() == app.ledger.head()
        applied = app.ledger.head()
        assert client.get("/readyz").status_code == 200
    # When: the operator restores the backup (the read models stay as they were) and serves again
    restore(tmp_path / "backup.db", ledger)
    caplog.set_level(logging.ERROR, logger="orderledger.runner")
    with serving(data_dir, clock) as (app, client):
        assert app.ledger.head() == backed_up_head < applied
        new_orders = 1 if appended_after_restore == "fewer_than_lost" else 4
        placed = [place(client, broker, "B. Gagnon") for _ in range(new_orders)]
        assert placed[0] == lost[0]  # the order number of a lost order is given again
        if appended_after_restore == "more_than_lost":
            assert app.ledger.head() > applied  # new appends passed the old checkpoint: positions alone look fine
        assert app.runner is not None
        app.runner.catch_up()
        # Then: /readyz fails, naming what happened and the way out
        ready = client.get("/readyz")
        assert ready.status_code == 503
        body = ready.json()
        assert body["checks"]["projections"]["ok"] is False
        assert sorted(body["checks"]["projections"]["rolled_back"]) == sorted(PROJECTIONS)
        assert "the ledger was rolled back under projections" in body["problems"][0]
        assert "Run `orderledger rebuild`" in body["problems"][0]
        # and the metric counts each projection's checkpoint
        samples = scrape(client)
        for name in PROJECTIONS:
            assert value(samples, "orderledger_processor_diverged_checkpoints", projection=name) == 1
        # and the runner applied nothing on the lost history, and said so
        assert app.projections.checkpoint(ORDER_STATUS) == applied
        assert any("orderledger rebuild" in record.getMessage() for record in caplog.records)
        # When: the documented way out
        assert orderledger(["--data-dir", str(data_dir), "rebuild"]) == 0
        # Then: ready again, nothing counted, and the read models are the restored ledger's, new events included
        assert client.get("/readyz").status_code == 200
        samples = scrape(client)
        assert value(samples, "orderledger_processor_diverged_checkpoints", projection="order_status") == 0
        assert client.get(f"/v1/orders/{placed[0]}", headers=broker).json()["requester"] == "B. Gagnon"
        # and the runner follows the ledger again
        after = place(client, broker, "C. Roy")
        assert client.get(f"/v1/orders/{after}", headers=broker).json()["requester"] == "C. Roy"
        assert app.runner.catch_up() == app.ledger.head()
