"""Projection rows and their checkpoint in SQLite, written together in one transaction."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from events.ledger import Ledger, RecordedEvent
from events.ledger.sqlite import SqliteConnections
from projections import Projection

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
CHECKPOINTS = """
CREATE TABLE IF NOT EXISTS projection_checkpoints (
    name     TEXT PRIMARY KEY,
    version  INTEGER NOT NULL,
    position INTEGER NOT NULL
) STRICT;
"""


def _table(projection: Projection[Any], suffix: str = "") -> str:
    assert _NAME.match(projection.name), projection.name
    return f"proj_{projection.name}{suffix}"


class SqliteProjectionStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._db = SqliteConnections(self.path)
        self._db.get().executescript(CHECKPOINTS)

    def close(self) -> None:
        self._db.close()

    def ensure(self, projection: Projection[Any]) -> None:
        with self._db.write() as db:
            self._create(db, projection, "")
            row = db.execute("SELECT version FROM projection_checkpoints WHERE name = ?", (projection.name,)).fetchone()
            if row is not None and row[0] != projection.version:
                # The read model's shape changed: start it again from position 0.
                self._drop(db, projection, "")
                self._create(db, projection, "")
                db.execute("DELETE FROM projection_checkpoints WHERE name = ?", (projection.name,))
                row = None
            if row is None:
                db.execute(
                    "INSERT INTO projection_checkpoints (name, version, position) VALUES (?, ?, 0)",
                    (projection.name, projection.version),
                )

    def _create(self, db: sqlite3.Connection, projection: Projection[Any], suffix: str) -> None:
        table = _table(projection, suffix)
        columns = "".join(f", {name} {kind}" for name, kind in projection.columns.items())
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, doc TEXT NOT NULL{columns},"
            " position INTEGER NOT NULL)"
        )
        for name in projection.columns:
            db.execute(f"CREATE INDEX IF NOT EXISTS {table}_{name} ON {table} ({name})")

    # ------------------------------------------------------------ writes

    def checkpoint(self, projection: Projection[Any]) -> int:
        row = (
            self._db.get()
            .execute("SELECT position FROM projection_checkpoints WHERE name = ?", (projection.name,))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def apply(self, projection: Projection[Any], events: Iterable[RecordedEvent]) -> int:
        """Apply events past the checkpoint; rows and the new checkpoint commit together."""
        with self._db.write() as db:
            row = db.execute(
                "SELECT position FROM projection_checkpoints WHERE name = ?", (projection.name,)
            ).fetchone()
            checkpoint = int(row[0]) if row else 0
            position = self._apply_rows(db, projection, events, "", checkpoint)
            if position != checkpoint:
                db.execute("UPDATE projection_checkpoints SET position = ? WHERE name = ?", (position, projection.name))
            return position

    def _apply_rows(
        self,
        db: sqlite3.Connection,
        projection: Projection[Any],
        events: Iterable[RecordedEvent],
        suffix: str,
        checkpoint: int,
    ) -> int:
        table = _table(projection, suffix)
        rows: dict[str, Any] = {}
        position = checkpoint
        for event in events:
            if event.position <= position:
                continue  # applied before (or redelivered): at-least-once in, exactly-once effect
            position = event.position
            key = projection.key(event)
            if key is None:
                continue
            if key not in rows:
                found = db.execute(f"SELECT doc FROM {table} WHERE key = ?", (key,)).fetchone()
                rows[key] = projection.row_model.model_validate_json(found[0]) if found else None
            rows[key] = projection.project(rows[key], event)
        names = list(projection.columns)
        upsert = (
            f"INSERT OR REPLACE INTO {table} (key, doc, {', '.join(names)}, position)"
            f" VALUES (?, ?, {', '.join('?' * len(names))}, ?)"
        )
        for key, row in rows.items():
            if row is None:
                db.execute(f"DELETE FROM {table} WHERE key = ?", (key,))
            else:
                index = projection.index(row)
                db.execute(upsert, (key, row.model_dump_json(), *(index[n] for n in names), position))
        return position

    def rebuild(self, projection: Projection[Any], ledger: Ledger, batch: int = 2000) -> int:
        """Build the projection again from position 0 beside the live one, then swap them."""
        shadow = "__rebuild"
        with self._db.write() as db:
            self._drop(db, projection, shadow)
            self._create(db, projection, shadow)
        position = 0
        while events := ledger.read_all(position, batch):
            with self._db.write() as db:
                position = self._apply_rows(db, projection, events, shadow, position)
        with self._db.write() as db:
            # Events that arrived meanwhile are applied inside the swap, so nothing is skipped.
            while tail := ledger.read_all(position, batch):
                position = self._apply_rows(db, projection, tail, shadow, position)
            self._drop(db, projection, "")
            for name in projection.columns:
                db.execute(f"DROP INDEX IF EXISTS {_table(projection, shadow)}_{name}")
            db.execute(f"ALTER TABLE {_table(projection, shadow)} RENAME TO {_table(projection)}")
            self._create(db, projection, "")
            db.execute(
                "INSERT OR REPLACE INTO projection_checkpoints (name, version, position) VALUES (?, ?, ?)",
                (projection.name, projection.version, position),
            )
        return position

    def _drop(self, db: sqlite3.Connection, projection: Projection[Any], suffix: str) -> None:
        db.execute(f"DROP TABLE IF EXISTS {_table(projection, suffix)}")

    # ------------------------------------------------------------ reads

    def get(self, projection: Projection[Any], key: str) -> Any:
        row = self._db.get().execute(f"SELECT doc FROM {_table(projection)} WHERE key = ?", (key,)).fetchone()
        return projection.row_model.model_validate_json(row[0]) if row else None

    def query(
        self,
        projection: Projection[Any],
        where: str = "",
        params: tuple[Any, ...] = (),
        order_by: str = "key",
        limit: int = 100,
        offset: int = 0,
    ) -> list[Any]:
        sql = f"SELECT doc FROM {_table(projection)}"
        if where:
            sql += f" WHERE {where}"
        sql += f" ORDER BY {order_by} LIMIT ? OFFSET ?"
        rows = self._db.get().execute(sql, (*params, limit, offset)).fetchall()
        return [projection.row_model.model_validate_json(r[0]) for r in rows]

    def count(self, projection: Projection[Any], where: str = "", params: tuple[Any, ...] = ()) -> int:
        sql = f"SELECT COUNT(*) FROM {_table(projection)}" + (f" WHERE {where}" if where else "")
        return int(self._db.get().execute(sql, params).fetchone()[0])

    def dump(self, projection: Projection[Any]) -> list[tuple[str, str]]:
        """Every row as (key, JSON document), in key order: what "identical" is checked on."""
        return [
            tuple(r)
            for r in self._db.get().execute(f"SELECT key, doc FROM {_table(projection)} ORDER BY key").fetchall()
        ]

    def distinct(self, projection: Projection[Any], column: str) -> list[tuple[Any]]:
        if column not in projection.columns:
            raise ValueError(f"{column} is not a column of {projection.name}")
        return [
            tuple(r)
            for r in self._db.get()
            .execute(f"SELECT DISTINCT {column} FROM {_table(projection)} ORDER BY {column}")
            .fetchall()
        ]
