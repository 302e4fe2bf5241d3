"""The `eventsourcing` library (PyPI, 9.5) as a peer in `make bench`: the same appends and the same projection.

Comparable to ours because the work is the same and goes through the library's own machinery:

- appends: each chunk of `batch_events` of our events (the grouping of our `POST /v1/batch`) is one
  `EventStore.put` call of an `eventsourcing` `Application`: its `Mapper` and `JSONTranscoder` turn a
  domain-event object carrying our record into a `StoredEvent` (serialisation counted, as ours is), then
  its application recorder (`SQLiteApplicationRecorder` / `PostgresApplicationRecorder`) inserts the chunk
  in one transaction, writing the notification log (the application sequence) as it goes;
- per-stream expected version: the originator id is our stream id (9.5 lets text ids,
  `ORIGINATOR_ID_TYPE=text`) and the originator version our stream version. The library's primary key
  (originator_id, originator_version) is its optimistic-concurrency check: an append whose version another
  writer already took fails with `IntegrityError`, as ours fails with `StreamVersionConflict`. (It only
  refuses duplicates: it does not check that versions are contiguous, which our ledger does.)
- rebuild: every event read back from the notification log in pages (`select_notifications`), decoded by
  the mapper to our `RecordedEvent`, folded by OUR order-status projection, and the touched rows written
  with the library's `Tracking` record in one transaction per page, through a `TrackingRecorder` subclass
  (the library's materialised-view pattern) — like our `ProjectionStore.rebuild`, which also reads a row
  it has not seen in the page from its table and writes rows and checkpoint together.

The peer's view table holds key and JSON document only; ours also keeps query columns and their indexes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import HasOriginatorIDVersion
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.utils import Environment, EnvType
from psycopg.conninfo import conninfo_to_dict
from psycopg.sql import SQL, Identifier
from pydantic import BaseModel

from events.ledger import RecordedEvent
from projections.order_status import ORDER_STATUS, OrderStatus

Store = Literal["sqlite", "postgres"]
VIEW_TABLE = "peer_order_status"  # the peer's order-status rows: key, doc (OrderStatus.model_dump_json())


class PeerFigure(BaseModel):
    """What one peer run measured; batch latencies (per `insert_events` call) for appends only."""

    store: Store
    operation: Literal["append", "rebuild"]
    events: int
    seconds: float
    events_per_s: float
    batches: int
    batch_p50_ms: float | None = None
    batch_p99_ms: float | None = None


@dataclass(frozen=True)
class LedgerEventRecorded(HasOriginatorIDVersion[str]):
    """One of our recorded events as an `eventsourcing` domain event.

    The stream id is the originator id and the stream version the originator version; the rest of our
    record is the event's state, so the mapper gives back exactly the `RecordedEvent` it was given.
    """

    originator_id: str
    originator_version: int
    position: int
    event_id: UUID
    type: str
    schema_version: int
    stream_type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    correlation_id: UUID
    causation_id: UUID | None
    data: dict[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, event: RecordedEvent) -> LedgerEventRecorded:
        return cls(
            originator_id=event.stream_id,
            originator_version=event.stream_version,
            position=event.position,
            event_id=event.event_id,
            type=event.type,
            schema_version=event.schema_version,
            stream_type=event.stream_type,
            occurred_at=event.occurred_at,
            recorded_at=event.recorded_at,
            actor=event.actor,
            correlation_id=event.correlation_id,
            causation_id=event.causation_id,
            data=event.data,
            prev_hash=event.prev_hash,
            hash=event.hash,
        )

    def recorded(self) -> RecordedEvent:
        return RecordedEvent(
            position=self.position,
            event_id=self.event_id,
            type=self.type,
            schema_version=self.schema_version,
            stream_id=self.originator_id,
            stream_type=self.stream_type,
            stream_version=self.originator_version,
            occurred_at=self.occurred_at,
            recorded_at=self.recorded_at,
            actor=self.actor,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
            data=self.data,
            prev_hash=self.prev_hash,
            hash=self.hash,
        )


class PeerLedger(Application[str]):
    """The peer's event-sourced application: its mapper (JSON transcoder with the UUID, Decimal and datetime
    transcodings), its application recorder and event store, configured only by the settings given here
    (not merged with os.environ, so a stray variable cannot change what is measured)."""

    name = "PeerLedger"

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        return Environment(name, env)


def _settings(store: Store, target: str) -> dict[str, str]:
    if store == "sqlite":
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": target, "ORIGINATOR_ID_TYPE": "text"}
    params = conninfo_to_dict(target)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(params["dbname"]),
        "POSTGRES_HOST": str(params.get("host", "127.0.0.1")),
        "POSTGRES_PORT": str(params.get("port", 5432)),
        "POSTGRES_USER": str(params["user"]),
        "POSTGRES_PASSWORD": str(params.get("password", "")),
        "POSTGRES_POOL_SIZE": "1",  # one writer, like the bench's client
        "POSTGRES_MAX_OVERFLOW": "1",
        "ORIGINATOR_ID_TYPE": "text",
    }


def _percentile_ms(seconds: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile, in milliseconds."""
    if not seconds:
        return None
    ordered = sorted(seconds)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000


def peer_append(store: Store, target: str, events: list[RecordedEvent], batch_events: int) -> PeerFigure:
    """Append our events to the peer, `batch_events` per `EventStore.put` (one `insert_events` transaction).

    Timed: the puts only (mapper serialisation, insert, commit) — not table creation, not building the
    domain-event objects from our records (the bench's input). `target` must hold no peer events yet.
    """
    if batch_events < 1:
        raise ValueError("batch_events must be at least 1")
    domain_events = [LedgerEventRecorded.of(event) for event in events]
    chunks = [domain_events[i : i + batch_events] for i in range(0, len(domain_events), batch_events)]
    app = PeerLedger(_settings(store, target))  # creates the tables
    try:
        latencies: list[float] = []
        started = time.perf_counter()
        for chunk in chunks:
            before = time.perf_counter()
            app.events.put(chunk)
            latencies.append(time.perf_counter() - before)
        seconds = time.perf_counter() - started
    finally:
        app.close()
    return PeerFigure(
        store=store,
        operation="append",
        events=len(events),
        seconds=seconds,
        events_per_s=len(events) / seconds if seconds > 0 else 0.0,
        batches=len(chunks),
        batch_p50_ms=_percentile_ms(latencies, 50),
        batch_p99_ms=_percentile_ms(latencies, 99),
    )


def peer_rebuild(store: Store, target: str, page_size: int = 1000) -> PeerFigure:
    """Rebuild the order-status view from the peer's notification log, one transaction per page.

    Timed: the whole loop — `select_notifications`, mapper decoding, `ORDER_STATUS` folding, reading rows
    seen in an earlier page, writing the touched rows with the `Tracking` record. Not timed: emptying the
    view and its tracking record first, so each call is a rebuild from the start.
    """
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    app = PeerLedger(_settings(store, target))
    try:
        view = _view(app, store)
        view.reset(app.name)
        events = pages = 0
        started = time.perf_counter()
        last = view.max_tracking_id(app.name) or 0
        while page := app.recorder.select_notifications(start=last, limit=page_size, inclusive_of_start=False):
            recorded = [_decoded(app, notification) for notification in page]
            last = page[-1].id
            view.apply_page(recorded, Tracking(application_name=app.name, notification_id=last))
            events += len(page)
            pages += 1
        seconds = time.perf_counter() - started
    finally:
        app.close()
    return PeerFigure(
        store=store,
        operation="rebuild",
        events=events,
        seconds=seconds,
        events_per_s=events / seconds if seconds > 0 else 0.0,
        batches=pages,
    )


@dataclass(frozen=True)
class PeerView:
    rows: dict[str, str]  # key -> OrderStatus JSON
    tracked: int | None  # the notification id the view's tracking record holds


def peer_view(store: Store, target: str) -> PeerView:
    """The peer's order-status rows and tracking position, to check it against ours (not timed)."""
    app = PeerLedger(_settings(store, target))
    try:
        view = _view(app, store)
        return PeerView(rows=view.rows(), tracked=view.max_tracking_id(app.name))
    finally:
        app.close()


def _decoded(app: PeerLedger, notification: Any) -> RecordedEvent:
    event = app.mapper.to_domain_event(notification)
    if not isinstance(event, LedgerEventRecorded):
        raise TypeError(f"unexpected event in the peer's log: {notification.topic}")
    return event.recorded()


# ---------------------------------------------------------------- the materialised view


class _View(Protocol):
    def reset(self, application_name: str) -> None: ...
    def apply_page(self, events: Sequence[RecordedEvent], tracking: Tracking) -> None: ...
    def rows(self) -> dict[str, str]: ...
    def max_tracking_id(self, application_name: str) -> int | None: ...


def _view(app: PeerLedger, store: Store) -> _View:
    """The view as a tracking recorder from the application's own factory (same datastore, same database)."""
    cls = SQLiteOrderStatusView if store == "sqlite" else PostgresOrderStatusView
    view = app.factory.tracking_recorder(cls)
    assert isinstance(view, cls)
    return view


@dataclass(frozen=True)
class _Statements:
    select: Any
    upsert: Any
    delete: Any


def _apply_page(
    cursor: Any,
    sql: _Statements,
    events: Sequence[RecordedEvent],
    tracking: Tracking,
    insert_tracking: Callable[[Any, Tracking], None],
) -> None:
    """Fold a page of events into the rows they touch, then write them and the tracking record (one cursor,
    one transaction). A row not yet seen in this page is read from the table, as our runner does."""
    rows: dict[str, OrderStatus | None] = {}
    for event in events:
        for key in ORDER_STATUS.keys(event):
            if key not in rows:
                cursor.execute(sql.select, (key,))
                found = cursor.fetchone()
                rows[key] = OrderStatus.model_validate_json(found["doc"]) if found else None
            rows[key] = ORDER_STATUS.project(rows[key], event, key)
    upserts = [(key, row.model_dump_json()) for key, row in rows.items() if row is not None]
    deletes = [(key,) for key, row in rows.items() if row is None]
    if upserts:
        cursor.executemany(sql.upsert, upserts)
    if deletes:
        cursor.executemany(sql.delete, deletes)
    insert_tracking(cursor, tracking)


class SQLiteOrderStatusView(SQLiteTrackingRecorder):
    """Order-status rows beside the library's tracking table, in the peer's SQLite database."""

    sql = _Statements(
        select=f"SELECT doc FROM {VIEW_TABLE} WHERE key = ?",
        upsert=f"INSERT INTO {VIEW_TABLE} (key, doc) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET doc = excluded.doc",
        delete=f"DELETE FROM {VIEW_TABLE} WHERE key = ?",
    )

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        statements.append(f"CREATE TABLE IF NOT EXISTS {VIEW_TABLE} (key TEXT PRIMARY KEY, doc TEXT NOT NULL)")
        return statements

    def reset(self, application_name: str) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"DELETE FROM {VIEW_TABLE}")
            cursor.execute("DELETE FROM tracking WHERE application_name = ?", (application_name,))

    def apply_page(self, events: Sequence[RecordedEvent], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            _apply_page(cursor, self.sql, events, tracking, self._insert_tracking)

    def rows(self) -> dict[str, str]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT key, doc FROM {VIEW_TABLE} ORDER BY key")
            return {str(row["key"]): str(row["doc"]) for row in cursor.fetchall()}


class PostgresOrderStatusView(PostgresTrackingRecorder):
    """Order-status rows beside the library's tracking table, in the peer's PostgreSQL database."""

    def __init__(
        self, datastore: PostgresDatastore, *, tracking_table_name: str = "notification_tracking", **kwargs: Any
    ) -> None:
        super().__init__(datastore, tracking_table_name=tracking_table_name, **kwargs)
        table = SQL("{}.{}").format(Identifier(datastore.schema), Identifier(VIEW_TABLE))
        self.view_table = table
        self.sql_create_statements.append(
            SQL("CREATE TABLE IF NOT EXISTS {} (key text PRIMARY KEY, doc text NOT NULL)").format(table)
        )
        self.sql = _Statements(
            select=SQL("SELECT doc FROM {} WHERE key = %s").format(table),
            upsert=SQL(
                "INSERT INTO {} (key, doc) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET doc = excluded.doc"
            ).format(table),
            delete=SQL("DELETE FROM {} WHERE key = %s").format(table),
        )

    def reset(self, application_name: str) -> None:
        tracking = SQL("{}.{}").format(Identifier(self.datastore.schema), Identifier(self.tracking_table_name))
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(SQL("DELETE FROM {}").format(self.view_table))
            cursor.execute(SQL("DELETE FROM {} WHERE application_name = %s").format(tracking), (application_name,))

    def apply_page(self, events: Sequence[RecordedEvent], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            _apply_page(cursor, self.sql, events, tracking, self._insert_tracking)

    def rows(self) -> dict[str, str]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(SQL("SELECT key, doc FROM {} ORDER BY key").format(self.view_table))
            return {str(row["key"]): str(row["doc"]) for row in cursor.fetchall()}
