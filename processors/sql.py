"""One small SQL interface over SQLite and PostgreSQL, so read-model stores are written once.

Statements use `?` placeholders; the PostgreSQL side turns them into `%s`. `namespace` is the
schema prefix of read-model tables ("" in SQLite, "readmodels." in PostgreSQL).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Protocol

from events.ledger.postgres import PostgresConnections
from events.ledger.sqlite import SqliteConnections


class Session(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None: ...
    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


class SqlDatabase(Protocol):
    namespace: str

    def session(self) -> Session: ...
    def transaction(self) -> Any: ...  # a context manager yielding a Session
    def script(self, sql: str) -> None: ...
    def add_column(self, table: str, column: str, kind: str) -> None: ...
    def close(self) -> None: ...


class _DbApiSession:
    def __init__(self, connection: Any, placeholder: str, guard: Any = nullcontext) -> None:
        self._connection = connection
        self._placeholder = placeholder
        self._guard = guard  # turns a lost connection into LedgerUnavailable (PostgreSQL)

    def _sql(self, sql: str) -> str:
        return sql if self._placeholder == "?" else sql.replace("%", "%%").replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._guard():
            return int(self._connection.execute(self._sql(sql), tuple(params)).rowcount)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with self._guard():
                self._connection.cursor().executemany(self._sql(sql), [tuple(r) for r in rows])

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        with self._guard():
            row = self._connection.execute(self._sql(sql), tuple(params)).fetchone()
        return tuple(row) if row is not None else None

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._guard():
            return [tuple(r) for r in self._connection.execute(self._sql(sql), tuple(params)).fetchall()]


class SqliteDatabase:
    def __init__(self, path: Path | str, durable: bool = True) -> None:
        self._connections = SqliteConnections(path, durable)
        self.namespace = ""

    def session(self) -> Session:
        return _DbApiSession(self._connections.get(), "?")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._connections.write() as connection:
            yield _DbApiSession(connection, "?")

    def script(self, sql: str) -> None:
        self._connections.get().executescript(sql)

    def add_column(self, table: str, column: str, kind: str) -> None:
        """Add a column to a table made by an older version (SQLite has no ADD COLUMN IF NOT EXISTS)."""
        connection = self._connections.get()
        if column in {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}:
            return
        try:
            connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        except sqlite3.OperationalError as exc:  # another process added it since we looked
            if "duplicate column" not in str(exc):
                raise

    def close(self) -> None:
        self._connections.close()


class PostgresDatabase:
    def __init__(self, url: str, schema: str, connections: PostgresConnections | None = None) -> None:
        self._connections = connections or PostgresConnections(url)
        self.namespace = f"{schema}."

    def session(self) -> Session:
        with self._connections.unavailable_as_503():
            return _DbApiSession(self._connections.get(), "%s", self._connections.unavailable_as_503)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._connections.transaction() as connection:
            yield _DbApiSession(connection, "%s", self._connections.unavailable_as_503)

    def script(self, sql: str) -> None:
        with self._connections.unavailable_as_503():
            self._connections.get().execute(sql.replace(" STRICT;", ";"))

    def add_column(self, table: str, column: str, kind: str) -> None:
        """Add a column to a table made by an older version; looked up first, as ALTER TABLE locks the table
        even when the column is there (workers are writing to it)."""
        with self._connections.unavailable_as_503():
            connection = self._connections.get()
            found = connection.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = %s AND table_name = %s"
                " AND column_name = %s",
                (self.namespace.rstrip("."), table, column),
            ).fetchone()
            if found is None:
                connection.execute(f"ALTER TABLE {self.namespace}{table} ADD COLUMN IF NOT EXISTS {column} {kind}")

    def close(self) -> None:
        self._connections.close()
