"""The embedded ledger: an append-only SQLite table (WAL), one writer at a time, gapless positions."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from events.ledger import (
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
)
from events.ledger.chain import GENESIS_HASH, canonical_json, event_hash, stored_time

SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger_events (
    position        INTEGER PRIMARY KEY,
    event_id        TEXT    NOT NULL UNIQUE,
    type            TEXT    NOT NULL,
    schema_version  INTEGER NOT NULL,
    stream_id       TEXT    NOT NULL,
    stream_type     TEXT    NOT NULL,
    stream_version  INTEGER NOT NULL CHECK (stream_version >= 1),
    occurred_at     TEXT    NOT NULL,
    recorded_at     TEXT    NOT NULL,
    actor           TEXT    NOT NULL,
    correlation_id  TEXT    NOT NULL,
    causation_id    TEXT,
    data            TEXT    NOT NULL,
    prev_hash       TEXT    NOT NULL,
    hash            TEXT    NOT NULL,
    UNIQUE (stream_id, stream_version)
) STRICT;
CREATE TRIGGER IF NOT EXISTS ledger_events_no_update BEFORE UPDATE ON ledger_events
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS ledger_events_no_delete BEFORE DELETE ON ledger_events
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: DELETE refused'); END;
CREATE TABLE IF NOT EXISTS ledger_commands (
    key          TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    results      TEXT NOT NULL,
    recorded_at  TEXT NOT NULL
) STRICT;
"""

_COLUMNS = (
    "position, event_id, type, schema_version, stream_id, stream_type, stream_version,"
    " occurred_at, recorded_at, actor, correlation_id, causation_id, data, prev_hash, hash"
)


def open_database(path: Path | str, timeout: float = 30.0) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, durable commits."""
    connection = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    # FULL: an acknowledged append survives a power cut, not only a process crash.
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA foreign_keys=ON")
    return connection


class SqliteConnections:
    """One connection per thread to one SQLite file, and explicit write transactions on it."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[sqlite3.Connection] = []

    def get(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = open_database(self.path)
            self._local.connection = connection
            with self._lock:
                self._open.append(connection)
        return connection

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A transaction that holds the file's write lock from its first statement (no upgrade races)."""
        connection = self.get()
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise LedgerUnavailable(f"the database {self.path.name} is busy or unreachable: {exc}") from exc
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        else:
            connection.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            for connection in self._open:
                connection.close()
            self._open.clear()
        self._local = threading.local()


class SqliteLedger:
    """The Ledger port on one SQLite file; safe to share between threads."""

    def __init__(self, path: Path | str, clock: Callable[[], datetime] | None = None) -> None:
        self.path = Path(path)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._db = SqliteConnections(self.path)
        self._db.get().executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    # ------------------------------------------------------------ appends

    def append(
        self,
        stream_id: str,
        expected_version: int,
        events: list[NewEvent],
        command: CommandRecord | None = None,
    ) -> AppendResult:
        return self.append_batch(
            [StreamAppend(stream_id=stream_id, expected_version=expected_version, events=tuple(events))], command
        )[0]

    def append_batch(self, appends: list[StreamAppend], command: CommandRecord | None = None) -> list[AppendResult]:
        """All the appends or none: one transaction, one writer, positions without gaps."""
        with self._db.write() as db:
            if (
                command is not None
                and db.execute("SELECT 1 FROM ledger_commands WHERE key = ?", (command.key,)).fetchone()
            ):
                raise DuplicateCommand(command.key)
            head = db.execute("SELECT position, hash FROM ledger_events ORDER BY position DESC LIMIT 1").fetchone()
            position, prev_hash = head if head else (0, GENESIS_HASH)
            recorded_at = stored_time(self._clock())
            versions: dict[str, int] = {}
            results = []
            for append in appends:
                version = versions.get(append.stream_id)
                if version is None:
                    row = db.execute(
                        "SELECT MAX(stream_version) FROM ledger_events WHERE stream_id = ?", (append.stream_id,)
                    ).fetchone()
                    version = row[0] or 0
                if version != append.expected_version:
                    raise StreamVersionConflict(append.stream_id, append.expected_version, version)
                first = position + 1
                rows = []
                for event in append.events:
                    position += 1
                    version += 1
                    fields = _stored_fields(event, append.stream_id, position, version, recorded_at)
                    digest = event_hash(prev_hash, fields)
                    rows.append((*_row_values(fields), prev_hash, digest))
                    prev_hash = digest
                db.executemany(f"INSERT INTO ledger_events ({_COLUMNS}) VALUES ({', '.join('?' * 15)})", rows)
                versions[append.stream_id] = version
                results.append(
                    AppendResult(
                        stream_id=append.stream_id, stream_version=version, first_position=first, last_position=position
                    )
                )
            if command is not None:
                db.execute(
                    "INSERT INTO ledger_commands (key, request_hash, results, recorded_at) VALUES (?, ?, ?, ?)",
                    (
                        command.key,
                        command.request_hash,
                        json.dumps([r.model_dump(mode="json") for r in results]),
                        recorded_at,
                    ),
                )
            return results

    # ------------------------------------------------------------ reads

    def read_stream(self, stream_id: str) -> list[RecordedEvent]:
        rows = (
            self._db.get()
            .execute(f"SELECT {_COLUMNS} FROM ledger_events WHERE stream_id = ? ORDER BY stream_version", (stream_id,))
            .fetchall()
        )
        return [_recorded(row) for row in rows]

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        rows = (
            self._db.get()
            .execute(
                f"SELECT {_COLUMNS} FROM ledger_events WHERE position > ? ORDER BY position LIMIT ?",
                (after_position, limit),
            )
            .fetchall()
        )
        return [_recorded(row) for row in rows]

    def head(self) -> int:
        row = self._db.get().execute("SELECT MAX(position) FROM ledger_events").fetchone()
        return int(row[0] or 0)

    def find_command(self, key: str) -> CommandOutcome | None:
        row = (
            self._db.get().execute("SELECT request_hash, results FROM ledger_commands WHERE key = ?", (key,)).fetchone()
        )
        if row is None:
            return None
        return CommandOutcome(
            key=key, request_hash=row[0], results=tuple(AppendResult(**r) for r in json.loads(row[1]))
        )

    def last_stream_id(self, prefix: str) -> str | None:
        row = (
            self._db.get()
            .execute(
                "SELECT MAX(stream_id) FROM ledger_events WHERE stream_id >= ? AND stream_id < ?",
                (prefix, prefix + "\uffff"),
            )
            .fetchone()
        )
        return str(row[0]) if row[0] is not None else None

    def verify(self) -> VerifyReport:
        """Walk the chain from position 1; name the first position whose row does not hold."""
        prev_hash = GENESIS_HASH
        expected_position = 0
        cursor = self._db.get().execute(f"SELECT {_COLUMNS} FROM ledger_events ORDER BY position")
        for row in cursor:
            expected_position += 1
            fields = dict(zip(_COLUMNS.replace(" ", "").split(","), row, strict=True))
            position = fields["position"]
            if position != expected_position:
                return VerifyReport(
                    ok=False,
                    checked=expected_position - 1,
                    first_bad_position=expected_position,
                    reason=f"position {expected_position} is missing (next is {position})",
                )
            if fields["prev_hash"] != prev_hash:
                return VerifyReport(
                    ok=False,
                    checked=position - 1,
                    first_bad_position=position,
                    reason="prev_hash does not match the hash of the event before",
                )
            try:
                fields["data"] = json.loads(fields["data"])
                digest = event_hash(prev_hash, fields)
            except (ValueError, TypeError) as exc:
                return VerifyReport(
                    ok=False, checked=position - 1, first_bad_position=position, reason=f"row cannot be read: {exc}"
                )
            if digest != fields["hash"]:
                return VerifyReport(
                    ok=False,
                    checked=position - 1,
                    first_bad_position=position,
                    reason="content does not match its hash (the row was changed)",
                )
            prev_hash = fields["hash"]
        return VerifyReport(ok=True, checked=expected_position)


def _stored_fields(event: NewEvent, stream_id: str, position: int, version: int, recorded_at: str) -> dict[str, Any]:
    return {
        "position": position,
        "event_id": str(event.event_id),
        "type": event.type,
        "schema_version": event.schema_version,
        "stream_id": stream_id,
        "stream_type": event.stream_type,
        "stream_version": version,
        "occurred_at": stored_time(event.occurred_at),
        "recorded_at": recorded_at,
        "actor": event.actor,
        "correlation_id": str(event.correlation_id),
        "causation_id": str(event.causation_id) if event.causation_id else None,
        "data": event.data,
    }


def _row_values(fields: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(canonical_json(v) if k == "data" else v for k, v in fields.items())


def _recorded(row: tuple[Any, ...]) -> RecordedEvent:
    (
        position,
        event_id,
        type_,
        schema_version,
        stream_id,
        stream_type,
        stream_version,
        occurred_at,
        recorded_at,
        actor,
        correlation_id,
        causation_id,
        data,
        prev_hash,
        digest,
    ) = row
    return RecordedEvent(
        position=position,
        event_id=event_id,
        type=type_,
        schema_version=schema_version,
        stream_id=stream_id,
        stream_type=stream_type,
        stream_version=stream_version,
        occurred_at=datetime.fromisoformat(occurred_at),
        recorded_at=datetime.fromisoformat(recorded_at),
        actor=actor,
        correlation_id=correlation_id,
        causation_id=causation_id,
        data=json.loads(data),
        prev_hash=prev_hash,
        hash=digest,
    )
