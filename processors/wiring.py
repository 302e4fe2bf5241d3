"""The one module that builds orderledger's parts from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from events.command_handling import OrderDesk
from events.ledger.sqlite import SqliteLedger
from events.rates import RateBook, bundled_rate_book
from processors.access_keys import SqliteKeyStore
from processors.embedded import EmbeddedRunner
from processors.projection_store import SqliteProjectionStore
from processors.settings import Settings
from projections.catalogue import PROJECTIONS


@dataclass
class Orderledger:
    settings: Settings
    ledger: SqliteLedger
    projections: SqliteProjectionStore
    runner: EmbeddedRunner
    desk: OrderDesk
    keys: SqliteKeyStore
    rates: RateBook
    clock: Callable[[], datetime]

    def close(self) -> None:
        self.runner.stop()
        self.ledger.close()
        self.projections.close()
        self.keys.close()


def build(settings: Settings, clock: Callable[[], datetime] | None = None) -> Orderledger:
    """The embedded default: SQLite ledger and projections under `settings.data_dir`."""
    clock = clock or (lambda: datetime.now(UTC))
    ledger = SqliteLedger(settings.ledger_path, clock=clock)
    store = SqliteProjectionStore(settings.projections_path)
    runner = EmbeddedRunner(ledger, store, list(PROJECTIONS.values()))
    rates = bundled_rate_book()
    return Orderledger(
        settings=settings,
        ledger=ledger,
        projections=store,
        runner=runner,
        desk=OrderDesk(ledger, rates),
        keys=SqliteKeyStore(settings.ledger_path),
        rates=rates,
        clock=clock,
    )
