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
from events.ledger.chain import (
    GENESIS_HASH,
    UnreadableRow,
    canonical_json,
    event_hash,
    new_event_fields,
    stored_time,
    verify_chain,
)

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
CREATE TABLE IF NOT EXISTS ledger_number_series (
    series      TEXT    PRIMARY KEY,
    last_number INTEGER NOT NULL CHECK (last_number >= 0)
) STRICT;
"""

_COLUMNS = ", ".join(RECORDED_COLUMNS)


def open_database(path: Path | str, timeout: float = 30.0, durable: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, durable commits.

    `durable=False` (read models only): commits are not fsynced. Each transaction stays atomic, so
    a power cut can only lose the last ones, which are applied again from the ledger.
    """
    connection = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    # FULL: an acknowledged append survives a power cut, not only a process crash.
    connection.execute("PRAGMA synchronous=FULL" if durable else "PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA foreign_keys=ON")
    return connection


class SqliteConnections:
    """One connection per thread to one SQLite file, and explicit write transactions on it.

    A new thread's first connection closes those of threads that have ended (a server's idle worker
    threads end), so the files stay open once per live thread, not once per thread there ever was.
    """

    def __init__(self, path: Path | str, durable: bool = True) -> None:
        self.path = Path(path)
        self.durable = durable
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[tuple[threading.Thread, sqlite3.Connection]] = []

    def get(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = open_database(self.path, durable=self.durable)
            self._local.connection = connection
            with self._lock:
                ended = [c for thread, c in self._open if not thread.is_alive()]
                self._open = [(t, c) for t, c in self._open if t.is_alive()]
                self._open.append((threading.current_thread(), connection))
            for unused in ended:
                unused.close()
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
            for _, connection in self._open:
                connection.close()
            self._open.clear()
        self._local = threading.local()


class SqliteLedger:
    """The Ledger port on one SQLite file; safe to share between threads."""

    def __init__(self, path: Path | str, clock: Callable[[], datetime] | None = None) -> None:
        self.path = Path(path)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._db = SqliteConnections(self.path)
        # Number allocations commit without an fsync of their own: an append that uses a number commits
        # after it, and its fsync of the WAL writes the allocation out too. One lost in a power cut was
        # never used by a durable append, so handing its numbers out again is harmless.
        self._numbers = SqliteConnections(self.path, durable=False)
        self._db.get().executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()
        self._numbers.close()

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
            versions = _stream_versions(db, [a.stream_id for a in appends])
            results = []
            for append in appends:
                version = versions.get(append.stream_id, 0)
                if version != append.expected_version:
                    raise StreamVersionConflict(append.stream_id, append.expected_version, version)
                first = position + 1
                rows = []
                for event in append.events:
                    position += 1
                    version += 1
                    fields = new_event_fields(event, append.stream_id, position, version, recorded_at)
                    data_text = canonical_json(event.data)
                    digest = event_hash(prev_hash, fields, data_text)
                    rows.append((*_row_values(fields, data_text), prev_hash, digest))
                    prev_hash = digest
                db.executemany(f"INSERT INTO ledger_events ({_COLUMNS}) VALUES ({', '.join('?' * 15)})", rows)
                versions[append.stream_id] = version
                results.append(
                    AppendResult.model_construct(  # our own values: no validation on the hot path
                        stream_id=append.stream_id, stream_version=version, first_position=first, last_position=position
                    )
                )
            if command is not None:
                db.execute(
                    "INSERT INTO ledger_commands (key, request_hash, results, recorded_at) VALUES (?, ?, ?, ?)",
                    (command.key, command.request_hash, json.dumps(stored_outcome(command, results)), recorded_at),
                )
            return results

    # ------------------------------------------------------------ reads

    def read_stream(self, stream_id: str) -> list[RecordedEvent]:
        rows = (
            self._db.get()
            .execute(f"SELECT {_COLUMNS} FROM ledger_events WHERE stream_id = ? ORDER BY stream_version", (stream_id,))
            .fetchall()
        )
        return [recorded_from_row(row) for row in rows]

    def stream_versions(self, stream_ids: list[str]) -> dict[str, int]:
        return _stream_versions(self._db.get(), stream_ids)

    def read_streams(self, stream_ids: list[str]) -> dict[str, list[RecordedEvent]]:
        found: dict[str, list[RecordedEvent]] = {}
        select = f"SELECT {_COLUMNS} FROM ledger_events"
        for row in self._where_in(select, "stream_id", stream_ids, " ORDER BY stream_id, stream_version"):
            event = recorded_from_row(row)
            found.setdefault(event.stream_id, []).append(event)
        return found

    def _where_in(self, select: str, column: str, values: list[Any], order: str = "") -> Iterator[Any]:
        """The rows of `select` whose `column` is one of `values`, asked for 500 at a time (under SQLite's
        bound on parameters)."""
        unique = sorted(set(values))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            yield from self._db.get().execute(f"{select} WHERE {column} IN ({marks}){order}", chunk).fetchall()

    def read_events(self, event_ids: list[str]) -> list[RecordedEvent]:
        if not event_ids:
            return []
        marks = ", ".join("?" * len(event_ids))
        rows = (
            self._db.get()
            .execute(f"SELECT {_COLUMNS} FROM ledger_events WHERE event_id IN ({marks}) ORDER BY position", event_ids)
            .fetchall()
        )
        return [recorded_from_row(row) for row in rows]

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        rows = (
            self._db.get()
            .execute(
                f"SELECT {_COLUMNS} FROM ledger_events WHERE position > ? ORDER BY position LIMIT ?",
                (after_position, limit),
            )
            .fetchall()
        )
        return [recorded_from_row(row) for row in rows]

    def head(self) -> int:
        row = self._db.get().execute("SELECT MAX(position) FROM ledger_events").fetchone()
        return int(row[0] or 0)

    def hashes(self, positions: list[int]) -> dict[int, str]:
        rows = self._where_in("SELECT position, hash FROM ledger_events", "position", positions)
        return {int(position): str(digest) for position, digest in rows}

    def find_command(self, key: str) -> CommandOutcome | None:
        row = (
            self._db.get().execute("SELECT request_hash, results FROM ledger_commands WHERE key = ?", (key,)).fetchone()
        )
        return None if row is None else outcome_from_stored(key, row[0], json.loads(row[1]))

    def allocate_numbers(self, series: str, count: int = 1) -> range:
        with self._numbers.write() as db:
            row = db.execute(
                "UPDATE ledger_number_series SET last_number = last_number + ? WHERE series = ? RETURNING last_number",
                (count, series),
            ).fetchone()
            if row is None:  # the series' first allocation: continue after its streams already in the ledger
                row = db.execute(
                    "INSERT INTO ledger_number_series (series, last_number)"
                    " SELECT :series, COALESCE(MAX(CAST(substr(stream_id, :start) AS INTEGER)), 0) + :count"
                    " FROM ledger_events WHERE stream_id >= :series AND stream_id < :after"
                    " AND substr(stream_id, :start) <> '' AND substr(stream_id, :start) NOT GLOB '*[^0-9]*'"
                    " RETURNING last_number",
                    {"series": series, "start": len(series) + 1, "count": count, "after": _after_prefix(series)},
                ).fetchone()
        last = int(row[0])
        return range(last - count + 1, last + 1)

    def verify(self) -> VerifyReport:
        """Walk the chain from position 1; name the first position whose row does not hold."""
        cursor = self._db.get().execute(f"SELECT {_COLUMNS} FROM ledger_events ORDER BY position")
        return verify_chain(_readable(row) for row in cursor)


def _readable(row: tuple[Any, ...]) -> RecordedEvent:
    try:
        return recorded_from_row(row)
    except (ValueError, TypeError) as exc:
        raise UnreadableRow(int(row[0]), str(exc)) from exc


def _stream_versions(db: sqlite3.Connection, stream_ids: list[str]) -> dict[str, int]:
    """The current version of each named stream that exists, in one query per 500 streams."""
    versions: dict[str, int] = {}
    unique = sorted(set(stream_ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        query = (
            "SELECT stream_id, MAX(stream_version) FROM ledger_events"
            f" WHERE stream_id IN ({', '.join('?' * len(chunk))}) GROUP BY stream_id"
        )
        versions.update({stream_id: int(version) for stream_id, version in db.execute(query, chunk)})
    return versions


def _after_prefix(prefix: str) -> str:
    """The least text above every text that starts with `prefix` (SQLite compares text bytewise)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _row_values(fields: dict[str, Any], data_text: str) -> tuple[Any, ...]:
    return tuple(data_text if k == "data" else v for k, v in fields.items())
