"""The one module that builds orderledger's parts from settings: embedded default or server mode."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from events.handling.batches import BatchDesk
from events.handling.billing import BillingDesk
from events.handling.desk import CommandContext, Desk
from events.handling.services import ServiceDesk
from events.kernel.rates import RateBook, bundled_rate_book
from events.ledger import Ledger
from processors.access_keys import KeyStore
from processors.clocks import Clock, clock_started_at, system_clock
from processors.embedded import EmbeddedRunner
from processors.flow import FlowReader, KafkaWatch
from processors.metered_ledger import MeteredLedger
from processors.projection_store import ProjectionStore
from processors.settings import Settings
from processors.sql import PostgresDatabase, SqliteDatabase
from processors.verification import VerificationLog
from processors.webhook_dispatcher import Dispatcher
from processors.webhook_store import WebhookStore
from projections import Projection
from projections.catalogue import PROJECTIONS


@dataclass
class Orderledger:
    settings: Settings
    ledger: Ledger
    projections: ProjectionStore
    runner: EmbeddedRunner | None  # None when faust workers project from Kafka
    desk: Desk
    keys: KeyStore
    rates: RateBook
    clock: Clock
    webhooks: WebhookStore
    dispatcher: Dispatcher
    verifications: VerificationLog

    @property
    def server_mode(self) -> bool:
        return self.settings.database_url is not None

    @property
    def billing(self) -> BillingDesk:
        return BillingDesk(self.desk)

    @property
    def services(self) -> ServiceDesk:
        return ServiceDesk(self.desk)

    @cached_property
    def batches(self) -> BatchDesk:
        """One per process: it keeps the folded state of the streams batches use."""
        return BatchDesk(self.desk)

    @cached_property
    def flow(self) -> FlowReader:
        """Head, backlogs and lag, read on demand (metrics and /readyz)."""
        kafka = None
        if self.settings.kafka_bootstrap:
            kafka = KafkaWatch(self.settings.kafka_bootstrap, self.settings.topic_prefix)
        return FlowReader(
            self.ledger,
            self.projections,
            list(PROJECTIONS.values()),
            self.webhooks,
            self.verifications,
            kafka,
            relayed=bool(self.server_mode and kafka),
            clock=self.clock,
        )

    def wait_for(self, projection: Projection[Any], key: str, position: int, timeout: float) -> bool:
        """Read-your-writes: wait until the projection's row `key` has applied `position`."""
        if self.runner:
            self.runner.notify()
        return self.projections.wait_for_row(projection, key, position, timeout)

    def run_contract_clock(self, today: date, context: CommandContext) -> list[tuple[str, tuple[str, ...]]]:
        """Record the renewal notices and expiries due as of `today` on every active contract (idempotent)."""
        from events.contracts.commands import CheckRenewals
        from events.kernel.business_dates import check_clock
        from projections.contract_capacity import CONTRACT_CAPACITY

        check_clock(today, context.now)
        if self.runner:
            self.runner.catch_up()
        emitted = []
        for row in self.projections.query(CONTRACT_CAPACITY, "status = ?", ("active",), limit=100_000):
            result = self.desk.execute_contract(row.contract_id, CheckRenewals(today=today), context)
            if result.event_types:
                self.wait_for(CONTRACT_CAPACITY, row.contract_id, result.last_position, timeout=2.0)
                emitted.append((row.contract_id, result.event_types))
        return emitted

    def close(self) -> None:
        self.dispatcher.stop()
        if self.runner:
            self.runner.stop()
        self.ledger.close()
        self.projections.close()
        self.keys.close()
        self.webhooks.close()
        self.verifications.close()


def build(settings: Settings, clock: Clock | None = None) -> Orderledger:
    """SQLite under `settings.data_dir` by default; PostgreSQL when a database URL is set.

    The clock: `clock` when given (tests), else one started at `settings.clock`, else the system clock.
    """
    if clock is None:
        clock = clock_started_at(settings.clock) if settings.clock else system_clock
    rates = bundled_rate_book()
    ledger: Any
    if settings.database_url:
        from events.ledger.postgres import PostgresConnections, PostgresLedger, migrate

        migrate(settings.admin_database_url or settings.database_url, settings.app_role)
        # One connection per thread for the ledger and every store: a request touches several, and
        # a connection each would pass max_connections with a few dozen concurrent requests.
        url, shared = settings.database_url, PostgresConnections(settings.database_url)
        ledger = PostgresLedger(url, clock=clock, connections=shared)
        store = ProjectionStore(PostgresDatabase(url, "readmodels", shared))
        keys = KeyStore(PostgresDatabase(url, "access", shared))
        webhooks = WebhookStore(PostgresDatabase(url, "access", shared))
        verifications = VerificationLog(PostgresDatabase(url, "access", shared))
        # With Kafka, faust workers project; without it, the API process tails the ledger itself.
        runner = None if settings.kafka_bootstrap else EmbeddedRunner(ledger, store, list(PROJECTIONS.values()))
    else:
        from events.ledger.sqlite import SqliteLedger

        ledger = SqliteLedger(settings.ledger_path, clock=clock)
        # Read models are rebuilt from the ledger: their commits need not wait for the disk.
        store = ProjectionStore(SqliteDatabase(settings.projections_path, durable=False))
        keys = KeyStore(SqliteDatabase(settings.ledger_path))
        webhooks = WebhookStore(SqliteDatabase(settings.ledger_path))
        verifications = VerificationLog(SqliteDatabase(settings.ledger_path))
        runner = EmbeddedRunner(ledger, store, list(PROJECTIONS.values()))
    for projection in PROJECTIONS.values():
        store.ensure(projection)
    ledger = MeteredLedger(ledger)
    return Orderledger(
        settings=settings,
        ledger=ledger,
        projections=store,
        runner=runner,
        desk=Desk(ledger, rates),
        keys=keys,
        rates=rates,
        clock=clock,
        webhooks=webhooks,
        dispatcher=Dispatcher(
            ledger,
            webhooks,
            keys,
            settings.public_url,
            settings.webhook_allowed_hosts,
            lease_ms=settings.webhook_lease_seconds * 1000,
        ),
        verifications=verifications,
    )
