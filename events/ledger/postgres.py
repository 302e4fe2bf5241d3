"""The server-mode ledger: an append-only PostgreSQL table, appends serialised, gapless positions.

Why appends are serialised (a transaction-level advisory lock): a position taken from a
sequence can commit out of order, and a reader that has passed position 12 would never see 11
committing late. Holding one lock from "read the head" to COMMIT makes positions visible in
order; the hash chain needs the predecessor's hash anyway, so nothing is lost by it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from events.ledger import (
    RECORDED_COLUMNS,
    AppendResult,
    CommandOutcome,
    CommandRecord,
    DuplicateCommand,
    LedgerUnavailable,
    NewEvent,
    RecordedEvent,
    StreamAppend,
    StreamVersionConflict,
    VerifyReport,
    outcome_from_stored,
    recorded_from_row,
    stored_outcome,
)
from events.ledger.chain import GENESIS_HASH, canonical_json, event_hash, new_event_fields, stored_time, verify_chain

APPEND_LOCK = 0x0DE1_ED6E  # advisory lock key held by every append transaction
APPENDED_CHANNEL = "orderledger_appended"  # NOTIFY'd by every append, delivered at its commit (the relay listens)

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS ledger;
CREATE TABLE IF NOT EXISTS ledger.ledger_events (
    position        BIGINT      PRIMARY KEY,
    event_id        UUID        NOT NULL UNIQUE,
    type            TEXT        NOT NULL,
    schema_version  INTEGER     NOT NULL,
    stream_id       TEXT        NOT NULL,
    stream_type     TEXT        NOT NULL,
    stream_version  INTEGER     NOT NULL CHECK (stream_version >= 1),
    occurred_at     TIMESTAMPTZ NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL,
    actor           TEXT        NOT NULL,
    correlation_id  UUID        NOT NULL,
    causation_id    UUID,
    data            JSONB       NOT NULL,
    prev_hash       TEXT        NOT NULL,
    hash            TEXT        NOT NULL,
    UNIQUE (stream_id, stream_version)
);
CREATE OR REPLACE FUNCTION ledger.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE OR REPLACE TRIGGER ledger_events_append_only BEFORE UPDATE OR DELETE ON ledger.ledger_events
    FOR EACH ROW EXECUTE FUNCTION ledger.refuse_change();
CREATE OR REPLACE TRIGGER ledger_events_no_truncate BEFORE TRUNCATE ON ledger.ledger_events
    FOR EACH STATEMENT EXECUTE FUNCTION ledger.refuse_change();
CREATE TABLE IF NOT EXISTS ledger.relay_progress (
    name      TEXT PRIMARY KEY,
    position  BIGINT NOT NULL,
    marked_at TIMESTAMPTZ NOT NULL
);
-- the hash of the event at `position`: a restored (rolled back) ledger that no longer holds it stops the relay
ALTER TABLE ledger.relay_progress ADD COLUMN IF NOT EXISTS hash TEXT;
CREATE TABLE IF NOT EXISTS ledger.ledger_commands (
    key          TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    results      JSONB NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger.number_series (
    series      TEXT   PRIMARY KEY,
    last_number BIGINT NOT NULL CHECK (last_number >= 0)
);
"""
_COLUMNS = ", ".join(RECORDED_COLUMNS)


SCHEMA_VERSION = 3  # 2: number series (order numbers); 3: relay_progress.hash
MIGRATION_LOCK = APPEND_LOCK + 1


def migrate(admin_url: str, app_role: str | None) -> None:
    """Create the ledger schema as its owner; the application role may only SELECT and INSERT.

    One transaction, so a second instance starting while the first serves changes nothing the
    first can see half-done; the DDL runs only when the schema is behind, so a start does not
    lock the ledger table.
    """
    with psycopg.connect(admin_url) as db, db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))  # one migration at a time
        db.execute("CREATE SCHEMA IF NOT EXISTS ledger")
        db.execute(
            "CREATE TABLE IF NOT EXISTS ledger.schema_migrations"
            " (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        row = db.execute("SELECT COALESCE(MAX(version), 0) FROM ledger.schema_migrations").fetchone()
        if row is None or row[0] < SCHEMA_VERSION:
            db.execute(SCHEMA)
            db.execute("INSERT INTO ledger.schema_migrations (version) VALUES (%s)", (SCHEMA_VERSION,))
        for schema in ("readmodels", "access"):
            # Read models and API keys live in schemas where the application role creates its tables.
            db.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        if app_role:
            _grant(db, app_role)


def _grant(db: psycopg.Connection[Any], app_role: str) -> None:
    role = sql.Identifier(app_role)
    allowed = {
        "ledger.ledger_events": ("SELECT", "INSERT"),
        "ledger.ledger_commands": ("SELECT", "INSERT"),
        "ledger.relay_progress": ("SELECT", "INSERT", "UPDATE"),
        "ledger.number_series": ("SELECT", "INSERT", "UPDATE"),  # a counter per series, moved up only
    }
    for table, privileges in allowed.items():
        for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"):
            held = db.execute("SELECT has_table_privilege(%s, %s, %s)", (app_role, table, privilege)).fetchone()
            wanted = privilege in privileges
            if held and held[0] != wanted:
                verb = "GRANT {} ON {} TO {}" if wanted else "REVOKE {} ON {} FROM PUBLIC, {}"
                schema, name = table.split(".")
                db.execute(sql.SQL(verb).format(sql.SQL(privilege), sql.Identifier(schema, name), role))
    db.execute(sql.SQL("GRANT USAGE ON SCHEMA ledger TO {}").format(role))
    for schema in ("readmodels", "access"):
        db.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(sql.Identifier(schema), role))


class PostgresConnections:
    """One connection per thread; a broken connection is replaced on next use.

    The API's worker threads end when idle and new ones start with the next burst of requests: a
    new thread's first connection closes those of threads that have ended, so a server holds one
    connection per live thread, not one per thread it ever had (which ran into max_connections).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[tuple[threading.Thread, psycopg.Connection[Any]]] = []

    def get(self) -> psycopg.Connection[Any]:
        connection: psycopg.Connection[Any] | None = getattr(self._local, "connection", None)
        if connection is None or connection.closed or connection.broken:
            with self._lock:
                self._close_unused()
            try:
                connection = psycopg.connect(self.url, autocommit=True, connect_timeout=5, options="-c timezone=UTC")
            except psycopg.OperationalError as exc:
                raise LedgerUnavailable(f"PostgreSQL cannot be reached: {exc}") from exc
            self._local.connection = connection
            with self._lock:
                self._open.append((threading.current_thread(), connection))
        return connection

    def _close_unused(self) -> None:
        """Close the connections of threads that have ended (and forget broken ones); the lock is held."""
        kept = []
        for thread, connection in self._open:
            if thread.is_alive() and not connection.closed:
                kept.append((thread, connection))
            else:
                connection.close()
        self._open = kept

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        with self.unavailable_as_503():
            connection = self.get()
            with connection.transaction():
                yield connection

    def fetchall(self, query: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[tuple[Any, ...]]:
        with self.unavailable_as_503():
            return self.get().execute(query, params).fetchall()

    @staticmethod
    @contextmanager
    def unavailable_as_503() -> Iterator[None]:
        """A lost or refused connection is the ledger being unavailable, which a retry may fix."""
        try:
            yield
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise LedgerUnavailable(f"PostgreSQL connection lost: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            for _, connection in self._open:
                connection.close()
            self._open.clear()
        self._local = threading.local()


class PostgresLedger:
    """The Ledger port on PostgreSQL; the same guarantees as the SQLite one."""

    def __init__(
        self,
        url: str,
        clock: Callable[[], datetime] | None = None,
        before_commit: Callable[[], None] | None = None,
        connections: PostgresConnections | None = None,  # shared with the stores on the same database
    ) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self._db = connections or PostgresConnections(url)
        # Fault injection for tests: runs inside the append transaction, lock held.
        self.before_commit = before_commit

    def close(self) -> None:
        self._db.close()

    def append(
        self, stream_id: str, expected_version: int, events: list[NewEvent], command: CommandRecord | None = None
    ) -> AppendResult:
        append = StreamAppend(stream_id=stream_id, expected_version=expected_version, events=tuple(events))
        return self.append_batch([append], command)[0]

    def append_batch(self, appends: list[StreamAppend], command: CommandRecord | None = None) -> list[AppendResult]:
        with self._db.transaction() as db:
            db.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
            if (
                command is not None
                and db.execute("SELECT 1 FROM ledger.ledger_commands WHERE key = %s", (command.key,)).fetchone()
            ):
                raise DuplicateCommand(command.key)
            head = db.execute(
                "SELECT position, hash FROM ledger.ledger_events ORDER BY position DESC LIMIT 1"
            ).fetchone()
            position, prev_hash = head if head else (0, GENESIS_HASH)
            recorded_at = self._clock()
            recorded_text = stored_time(recorded_at)
            versions = _stream_versions(db, [a.stream_id for a in appends])
            rows: list[tuple[Any, ...]] = []
            results = []
            for append in appends:
                version = versions.get(append.stream_id, 0)
                if version != append.expected_version:
                    raise StreamVersionConflict(append.stream_id, append.expected_version, version)
                first = position + 1
                for event in append.events:
                    position += 1
                    version += 1
                    fields = new_event_fields(event, append.stream_id, position, version, recorded_text)
                    data_text = canonical_json(event.data)  # COPY sends it as the jsonb column's text
                    digest = event_hash(prev_hash, fields, data_text)
                    rows.append(
                        (
                            position,
                            event.event_id,
                            event.type,
                            event.schema_version,
                            append.stream_id,
                            event.stream_type,
                            version,
                            event.occurred_at,
                            recorded_at,
                            event.actor,
                            event.correlation_id,
                            event.causation_id,
                            data_text,
                            prev_hash,
                            digest,
                        )
                    )
                    prev_hash = digest
                versions[append.stream_id] = version
                results.append(
                    AppendResult.model_construct(  # our own values: no validation on the hot path
                        stream_id=append.stream_id, stream_version=version, first_position=first, last_position=position
                    )
                )
            with db.cursor() as cursor, cursor.copy(f"COPY ledger.ledger_events ({_COLUMNS}) FROM STDIN") as copy:
                for row in rows:  # COPY: one round trip for the whole batch, not one per event
                    copy.write_row(row)
            if command is not None:
                db.execute(
                    "INSERT INTO ledger.ledger_commands (key, request_hash, results, recorded_at)"
                    " VALUES (%s, %s, %s, %s)",
                    (command.key, command.request_hash, Jsonb(stored_outcome(command, results)), recorded_at),
                )
            db.execute(f"NOTIFY {APPENDED_CHANNEL}")
            if self.before_commit:
                self.before_commit()
            return results

    def read_stream(self, stream_id: str) -> list[RecordedEvent]:
        rows = self._db.fetchall(
            f"SELECT {_COLUMNS} FROM ledger.ledger_events WHERE stream_id = %s ORDER BY stream_version", (stream_id,)
        )
        return [recorded_from_row(row) for row in rows]

    def stream_versions(self, stream_ids: list[str]) -> dict[str, int]:
        with self._db.unavailable_as_503():
            return _stream_versions(self._db.get(), stream_ids)

    def read_streams(self, stream_ids: list[str]) -> dict[str, list[RecordedEvent]]:
        found: dict[str, list[RecordedEvent]] = {}
        if not stream_ids:
            return found
        rows = self._db.fetchall(
            f"SELECT {_COLUMNS} FROM ledger.ledger_events WHERE stream_id = ANY(%s) ORDER BY stream_id, stream_version",
            (sorted(set(stream_ids)),),
        )
        for row in rows:
            event = recorded_from_row(row)
            found.setdefault(event.stream_id, []).append(event)
        return found

    def read_events(self, event_ids: list[str]) -> list[RecordedEvent]:
        if not event_ids:
            return []
        rows = self._db.fetchall(
            f"SELECT {_COLUMNS} FROM ledger.ledger_events WHERE event_id = ANY(%s::uuid[]) ORDER BY position",
            (event_ids,),
        )
        return [recorded_from_row(row) for row in rows]

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        rows = self._db.fetchall(
            f"SELECT {_COLUMNS} FROM ledger.ledger_events WHERE position > %s ORDER BY position LIMIT %s",
            (after_position, limit),
        )
        return [recorded_from_row(row) for row in rows]

    def head(self) -> int:
        rows = self._db.fetchall("SELECT MAX(position) FROM ledger.ledger_events")
        return int(rows[0][0] or 0)

    def hashes(self, positions: list[int]) -> dict[int, str]:
        if not positions:
            return {}
        rows = self._db.fetchall(
            "SELECT position, hash FROM ledger.ledger_events WHERE position = ANY(%s)", (sorted(set(positions)),)
        )
        return {int(position): str(digest) for position, digest in rows}

    def find_command(self, key: str) -> CommandOutcome | None:
        rows = self._db.fetchall("SELECT request_hash, results FROM ledger.ledger_commands WHERE key = %s", (key,))
        if not rows:
            return None
        request_hash, stored = rows[0]
        return outcome_from_stored(key, request_hash, stored)

    def allocate_numbers(self, series: str, count: int = 1) -> range:
        # Not under the append lock: an allocation holds the series' row for one statement, so it never
        # waits for an append and an append never waits for it.
        rows = self._db.fetchall(
            "UPDATE ledger.number_series SET last_number = last_number + %s WHERE series = %s RETURNING last_number",
            (count, series),
        )
        if not rows:
            # The series' first allocation: continue after its streams already in the ledger. The prefix is
            # matched exactly, not as a range, which the database's collation may order otherwise.
            rows = self._db.fetchall(
                "INSERT INTO ledger.number_series (series, last_number)"
                " SELECT %(series)s, COALESCE(MAX(substr(stream_id, %(start)s)::bigint), 0) + %(count)s"
                " FROM ledger.ledger_events WHERE starts_with(stream_id, %(series)s)"
                " AND substr(stream_id, %(start)s) ~ '^[0-9]{1,18}$'"
                " ON CONFLICT (series) DO UPDATE SET last_number = ledger.number_series.last_number + %(count)s"
                " RETURNING last_number",
                {"series": series, "start": len(series) + 1, "count": count},
            )
        last = int(rows[0][0])
        return range(last - count + 1, last + 1)

    def verify(self) -> VerifyReport:
        """Walk the chain from position 1; name the first position whose row does not hold."""
        with self._db.unavailable_as_503(), self._db.get().cursor() as cursor:
            cursor.execute(f"SELECT {_COLUMNS} FROM ledger.ledger_events ORDER BY position")
            return verify_chain(recorded_from_row(row) for row in cursor)


def _stream_versions(db: psycopg.Connection[Any], stream_ids: list[str]) -> dict[str, int]:
    rows = db.execute(
        "SELECT stream_id, MAX(stream_version) FROM ledger.ledger_events WHERE stream_id = ANY(%s) GROUP BY stream_id",
        (sorted(set(stream_ids)),),
    )
    return {stream_id: int(version) for stream_id, version in rows}
