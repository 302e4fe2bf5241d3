"""Projection rows and their checkpoint, written together in one transaction (SQLite or PostgreSQL)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Any

from events.ledger import Ledger, RecordedEvent
from events.ledger.chain import canonical_json
from processors.sql import Session, SqlDatabase
from projections import Projection

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class ProjectionStore:
    """Read-model tables `proj_<name>` (key, doc JSON, query columns, position).

    Documents are stored as canonical JSON (sorted keys), so the same row is the same text
    whichever ledger it came from (PostgreSQL's JSONB does not keep key order).

    Two kinds of checkpoint sit beside the rows, each written in the same transaction:
    the ledger position (embedded runner, rebuilds) and Kafka offsets per topic partition
    (faust workers).
    """

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        ns = db.namespace
        db.script(
            f"""
            CREATE TABLE IF NOT EXISTS {ns}projection_checkpoints (
                name TEXT PRIMARY KEY, version INTEGER NOT NULL, position BIGINT NOT NULL);
            CREATE TABLE IF NOT EXISTS {ns}consumer_offsets (
                name TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,
                next_offset BIGINT NOT NULL, PRIMARY KEY (name, topic, partition));
            """
        )

    def close(self) -> None:
        self.db.close()

    def _table(self, projection: Projection[Any], suffix: str = "", qualified: bool = True) -> str:
        assert _NAME.match(projection.name), projection.name
        return f"{self.db.namespace if qualified else ''}proj_{projection.name}{suffix}"

    # ------------------------------------------------------------ schema

    def ensure(self, projection: Projection[Any]) -> None:
        with self.db.transaction() as tx:
            self._create(tx, projection, "")
            row = tx.fetchone(
                f"SELECT version FROM {self.db.namespace}projection_checkpoints WHERE name = ?", (projection.name,)
            )
            if row is not None and row[0] != projection.version:
                # The read model's shape changed: start it again from position 0.
                tx.execute(f"DROP TABLE IF EXISTS {self._table(projection)}")
                self._create(tx, projection, "")
                tx.execute(f"DELETE FROM {self.db.namespace}projection_checkpoints WHERE name = ?", (projection.name,))
                tx.execute(f"DELETE FROM {self.db.namespace}consumer_offsets WHERE name = ?", (projection.name,))
                row = None
            if row is None:
                tx.execute(
                    f"INSERT INTO {self.db.namespace}projection_checkpoints (name, version, position) VALUES (?, ?, 0)",
                    (projection.name, projection.version),
                )

    def _create(self, tx: Session, projection: Projection[Any], suffix: str) -> None:
        table = self._table(projection, suffix)
        columns = "".join(f", {name} {kind}" for name, kind in projection.columns.items())
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, doc TEXT NOT NULL{columns},"
            " position BIGINT NOT NULL)"
        )
        bare = self._table(projection, suffix, qualified=False)
        for name in projection.columns:
            tx.execute(f"CREATE INDEX IF NOT EXISTS {bare}_{name} ON {table} ({name})")

    # ------------------------------------------------------------ writes

    def checkpoint(self, projection: Projection[Any]) -> int:
        row = self.db.session().fetchone(
            f"SELECT position FROM {self.db.namespace}projection_checkpoints WHERE name = ?", (projection.name,)
        )
        return int(row[0]) if row else 0

    def apply(self, projection: Projection[Any], events: Iterable[RecordedEvent]) -> int:
        """Apply events past the ledger-position checkpoint; rows and checkpoint commit together."""
        with self.db.transaction() as tx:
            checkpoints = f"{self.db.namespace}projection_checkpoints"
            row = tx.fetchone(f"SELECT position FROM {checkpoints} WHERE name = ?", (projection.name,))
            checkpoint = int(row[0]) if row else 0
            position = self._apply_rows(tx, projection, events, "", checkpoint)
            if position != checkpoint:
                tx.execute(f"UPDATE {checkpoints} SET position = ? WHERE name = ?", (position, projection.name))
            return position

    def apply_partition(
        self,
        projection: Projection[Any],
        topic: str,
        partition: int,
        messages: list[tuple[int, RecordedEvent]],
        through: int | None = None,
    ) -> int:
        """Apply Kafka messages (offset, event) past the stored offset; rows and offset commit together.

        Kafka may hold an event twice (the relay re-sends what it is unsure of); each row ignores
        events at or below its stream version, so a duplicate changes nothing. `through` moves the
        offset past a message that was not applied (a dead letter).
        """
        offsets = f"{self.db.namespace}consumer_offsets"
        with self.db.transaction() as tx:
            row = tx.fetchone(
                f"SELECT next_offset FROM {offsets} WHERE name = ? AND topic = ? AND partition = ?",
                (projection.name, topic, partition),
            )
            next_offset = int(row[0]) if row else 0
            fresh = [event for offset, event in messages if offset >= next_offset]
            offsets_seen = [offset for offset, _ in messages] + ([through] if through is not None else [])
            if not offsets_seen or max(offsets_seen) < next_offset:
                return next_offset
            self._apply_rows(tx, projection, fresh, "", None)
            last = max(offsets_seen) + 1
            if row is None:
                tx.execute(
                    f"INSERT INTO {offsets} (name, topic, partition, next_offset) VALUES (?, ?, ?, ?)",
                    (projection.name, topic, partition, last),
                )
            else:
                tx.execute(
                    f"UPDATE {offsets} SET next_offset = ? WHERE name = ? AND topic = ? AND partition = ?",
                    (last, projection.name, topic, partition),
                )
            return last

    def next_offsets(self, projection: Projection[Any], topic: str) -> dict[int, int]:
        rows = self.db.session().fetchall(
            f"SELECT partition, next_offset FROM {self.db.namespace}consumer_offsets WHERE name = ? AND topic = ?",
            (projection.name, topic),
        )
        return {int(p): int(o) for p, o in rows}

    def _apply_rows(
        self,
        tx: Session,
        projection: Projection[Any],
        events: Iterable[RecordedEvent],
        suffix: str,
        checkpoint: int | None,
    ) -> int:
        """Fold events into their rows; with a checkpoint, events at or below it are skipped."""
        table = self._table(projection, suffix)
        rows: dict[str, Any] = {}
        position = checkpoint or 0
        for event in events:
            if checkpoint is not None:
                if event.position <= position:
                    continue  # applied before (or redelivered): at-least-once in, exactly-once effect
                position = event.position
            for key in projection.keys(event):
                if key not in rows:
                    found = tx.fetchone(f"SELECT doc FROM {table} WHERE key = ?", (key,))
                    rows[key] = projection.row_model.model_validate_json(found[0]) if found else None
                rows[key] = projection.project(rows[key], event, key)
        names = list(projection.columns)
        marks = ", ".join("?" * len(names))
        upsert = (
            f"INSERT INTO {table} (key, doc, {', '.join(names)}, position) VALUES (?, ?, {marks}, ?)"
            f" ON CONFLICT (key) DO UPDATE SET doc = excluded.doc, position = excluded.position"
            + "".join(f", {n} = excluded.{n}" for n in names)
            # Rows only move forward: a late writer (a worker losing its partition in a rebalance)
            # cannot put back an older state.
            + f" WHERE {table}.position <= excluded.position"
        )
        changed = []
        for key, row in rows.items():
            if row is None:
                tx.execute(f"DELETE FROM {table} WHERE key = ?", (key,))
            else:
                index = projection.index(row)
                changed.append(
                    (
                        key,
                        canonical_json(row.model_dump(mode="json")),
                        *(index[n] for n in names),
                        getattr(row, "position", position),
                    )
                )
        tx.executemany(upsert, changed)
        return position

    def rebuild(self, projection: Projection[Any], ledger: Ledger, batch: int = 2000) -> int:
        """Build the projection again from position 0 beside the live one, then swap them."""
        shadow = "__rebuild"
        with self.db.transaction() as tx:
            tx.execute(f"DROP TABLE IF EXISTS {self._table(projection, shadow)}")
            self._create(tx, projection, shadow)
        position = 0
        while events := ledger.read_all(position, batch):
            with self.db.transaction() as tx:
                position = self._apply_rows(tx, projection, events, shadow, position)
        with self.db.transaction() as tx:
            # Events that arrived meanwhile are applied inside the swap, so nothing is skipped.
            while tail := ledger.read_all(position, batch):
                position = self._apply_rows(tx, projection, tail, shadow, position)
            tx.execute(f"DROP TABLE IF EXISTS {self._table(projection)}")
            bare_shadow = self._table(projection, shadow, qualified=False)
            for name in projection.columns:
                tx.execute(f"DROP INDEX IF EXISTS {self.db.namespace}{bare_shadow}_{name}")
            tx.execute(
                f"ALTER TABLE {self._table(projection, shadow)} RENAME TO {self._table(projection, qualified=False)}"
            )
            self._create(tx, projection, "")
            checkpoints = f"{self.db.namespace}projection_checkpoints"
            tx.execute(f"DELETE FROM {checkpoints} WHERE name = ?", (projection.name,))
            tx.execute(
                f"INSERT INTO {checkpoints} (name, version, position) VALUES (?, ?, ?)",
                (projection.name, projection.version, position),
            )
        return position

    # ------------------------------------------------------------ reads

    def get(self, projection: Projection[Any], key: str) -> Any:
        row = self.db.session().fetchone(f"SELECT doc FROM {self._table(projection)} WHERE key = ?", (key,))
        return projection.row_model.model_validate_json(row[0]) if row else None

    def wait_for_row(self, projection: Projection[Any], key: str, position: int, timeout: float) -> bool:
        """Wait until the row has applied the event at `position` (read-your-writes), or time out."""
        deadline = time.monotonic() + timeout
        while True:
            row = self.db.session().fetchone(f"SELECT position FROM {self._table(projection)} WHERE key = ?", (key,))
            if row is not None and int(row[0]) >= position:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def query(
        self,
        projection: Projection[Any],
        where: str = "",
        params: tuple[Any, ...] = (),
        order_by: str = "key",
        limit: int = 100,
        offset: int = 0,
    ) -> list[Any]:
        sql = f"SELECT doc FROM {self._table(projection)}"
        if where:
            sql += f" WHERE {where}"
        sql += f" ORDER BY {order_by} LIMIT ? OFFSET ?"
        rows = self.db.session().fetchall(sql, (*params, limit, offset))
        return [projection.row_model.model_validate_json(r[0]) for r in rows]

    def count(self, projection: Projection[Any], where: str = "", params: tuple[Any, ...] = ()) -> int:
        sql = f"SELECT COUNT(*) FROM {self._table(projection)}" + (f" WHERE {where}" if where else "")
        row = self.db.session().fetchone(sql, params)
        return int(row[0]) if row else 0

    def dump(self, projection: Projection[Any]) -> list[tuple[str, str]]:
        """Every row as (key, JSON document), in key order: what "identical" is checked on."""
        rows = self.db.session().fetchall(f"SELECT key, doc FROM {self._table(projection)} ORDER BY key")
        return [(str(k), str(d)) for k, d in rows]

    def distinct(self, projection: Projection[Any], column: str) -> list[tuple[Any]]:
        if column not in projection.columns:
            raise ValueError(f"{column} is not a column of {projection.name}")
        rows = self.db.session().fetchall(f"SELECT DISTINCT {column} FROM {self._table(projection)} ORDER BY {column}")
        return [(r[0],) for r in rows]
