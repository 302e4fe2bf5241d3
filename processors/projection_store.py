"""Projection rows and their checkpoint, written together in one transaction (SQLite or PostgreSQL)."""

from __future__ import annotations

import gc
import re
import threading
import time
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from events.ledger import Ledger, RecordedEvent
from events.ledger.chain import canonical_json
from events.ledger.cursors import Cursor, Divergence, LedgerRolledBack, continuation, divergences
from processors.sql import Session, SqlDatabase
from projections import Projection

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# Rows read in one statement (`WHERE key IN (...)`): well under SQLite's oldest limit of 999 variables.
_KEYS_PER_QUERY = 500
# Events per page of a rebuild: each page is read (and decoded) once, folded into every projection
# and committed once. Measured on the benchmark's ledger: 5,000 is within 3% of 10,000 or 20,000
# events a page, and a rebuild's peak memory is about 130 MB (180 MB at 10,000, 290 MB at 20,000).
REBUILD_PAGE = 5_000


class ProjectionStore:
    """Read-model tables `proj_<name>` (key, doc JSON, query columns, position).

    Documents are stored as canonical JSON (sorted keys), so the same row is the same text
    whichever ledger it came from (PostgreSQL's JSONB does not keep key order).

    Two kinds of checkpoint sit beside the rows, each written in the same transaction:
    the ledger position (embedded runner, rebuilds) and Kafka offsets per topic partition
    (faust workers). Each also keeps the ledger position and hash of the newest event applied
    (events/ledger/cursors.py), so a ledger rolled back under the read models is noticed.
    """

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        ns = db.namespace
        db.script(
            f"""
            CREATE TABLE IF NOT EXISTS {ns}projection_checkpoints (
                name TEXT PRIMARY KEY, version INTEGER NOT NULL, position BIGINT NOT NULL, hash TEXT);
            CREATE TABLE IF NOT EXISTS {ns}consumer_offsets (
                name TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,
                next_offset BIGINT NOT NULL, position BIGINT, hash TEXT, PRIMARY KEY (name, topic, partition));
            """
        )
        # Tables made before the hashes were kept: without a hash, a checkpoint is checked by position only
        # until its next write.
        db.add_column("projection_checkpoints", "hash", "TEXT")
        db.add_column("consumer_offsets", "position", "BIGINT")
        db.add_column("consumer_offsets", "hash", "TEXT")

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

    def _create(self, tx: Session, projection: Projection[Any], suffix: str, indexes: bool = True) -> None:
        table = self._table(projection, suffix)
        columns = "".join(f", {name} {kind}" for name, kind in projection.columns.items())
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, doc TEXT NOT NULL{columns},"
            " position BIGINT NOT NULL)"
        )
        if not indexes:
            return
        bare = self._table(projection, suffix, qualified=False)
        for name in projection.columns:
            tx.execute(f"CREATE INDEX IF NOT EXISTS {bare}_{name} ON {table} ({name})")

    # ------------------------------------------------------------ writes

    def checkpoint(self, projection: Projection[Any]) -> int:
        row = self.db.session().fetchone(
            f"SELECT position FROM {self.db.namespace}projection_checkpoints WHERE name = ?", (projection.name,)
        )
        return int(row[0]) if row else 0

    def cursors(self) -> list[Cursor]:
        """Every projection's checkpoints: its ledger position, and the newest event a worker applied from
        each Kafka topic partition."""
        ns = self.db.namespace
        session = self.db.session()
        checkpoints = session.fetchall(f"SELECT name, position, hash FROM {ns}projection_checkpoints")
        found = [Cursor(str(name), int(position), hash_) for name, position, hash_ in checkpoints]
        for name, topic, partition, position, hash_ in session.fetchall(
            f"SELECT name, topic, partition, position, hash FROM {ns}consumer_offsets WHERE position IS NOT NULL"
        ):
            found.append(Cursor(str(name), int(position), hash_, source=f"{topic}/{partition}"))
        return found

    def apply(self, projection: Projection[Any], events: Iterable[RecordedEvent]) -> int:
        """Apply events past the ledger-position checkpoint; rows and checkpoint commit together."""
        return self.apply_many([projection], events)[projection.name]

    def apply_many(self, projections: Sequence[Projection[Any]], events: Iterable[RecordedEvent]) -> dict[str, int]:
        """`apply` for several projections in one transaction: a page read once serves them all.

        Each projection skips the events at or below its own checkpoint, so they may be at different
        positions. Returns each projection's checkpoint after the page.

        The first event past a checkpoint must follow it in the hash chain. If it does not, the ledger
        was rolled back under this read model (an older backup restored) and applying would put new
        events on rows built from a history the ledger no longer holds: nothing is written, and
        LedgerRolledBack names every such projection of the page.
        """
        events = events if isinstance(events, Sequence) else list(events)
        checkpoints = f"{self.db.namespace}projection_checkpoints"
        reached: dict[str, int] = {}
        with self.db.transaction() as tx:
            stored = {}
            broken: list[Divergence] = []
            for projection in projections:
                row = tx.fetchone(f"SELECT position, hash FROM {checkpoints} WHERE name = ?", (projection.name,))
                cursor = Cursor(projection.name, int(row[0]) if row else 0, row[1] if row else None)
                fresh = events[bisect_right(events, cursor.position, key=_position) :]
                if fresh and (divergence := continuation(cursor, fresh, lambda: events[-1].position)):
                    broken.append(divergence)
                stored[projection.name] = cursor
            if broken:
                raise LedgerRolledBack(broken)
            for projection in projections:
                checkpoint = stored[projection.name].position
                position = self._apply_rows(tx, projection, events, "", checkpoint)
                if position != checkpoint:  # pages are in ledger order: the last event is the one at `position`
                    tx.execute(
                        f"UPDATE {checkpoints} SET position = ?, hash = ? WHERE name = ?",
                        (position, events[-1].hash, projection.name),
                    )
                reached[projection.name] = position
        return reached

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
        with self.db.transaction() as tx:
            return self._apply_partition(tx, projection, topic, partition, messages, through)

    def apply_partitions(
        self, projections: Sequence[Projection[Any]], batch: dict[tuple[str, int], list[tuple[int, RecordedEvent]]]
    ) -> None:
        """`apply_partition` for every projection and every (topic, partition) of a consumer's batch, in one
        transaction and a handful of statements: the stored offsets read at once, each projection's rows
        read, folded (partition after partition, each in its order) and written once, the offsets written
        at once. Equal to applying the partitions one after another."""
        offsets = f"{self.db.namespace}consumer_offsets"
        topics = sorted({topic for topic, _ in batch})
        if not topics:
            return
        with self.db.transaction() as tx:
            marks = ", ".join("?" * len(topics))
            stored = {
                (name, topic, int(partition)): int(next_offset)
                for name, topic, partition, next_offset in tx.fetchall(
                    f"SELECT name, topic, partition, next_offset FROM {offsets} WHERE topic IN ({marks})", topics
                )
            }
            moved = []
            for projection in projections:
                fresh: list[RecordedEvent] = []
                for (topic, partition), messages in batch.items():
                    next_offset = stored.get((projection.name, topic, partition), 0)
                    applied = [event for offset, event in messages if offset >= next_offset]
                    fresh += applied
                    if applied:
                        newest = max(applied, key=_position)
                        last = max(offset for offset, _ in messages)
                        moved.append((projection.name, topic, partition, last + 1, newest.position, newest.hash))
                if fresh:
                    self._apply_rows(tx, projection, fresh, "", None)
            tx.executemany(
                f"INSERT INTO {offsets} (name, topic, partition, next_offset, position, hash) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (name, topic, partition) DO UPDATE SET next_offset = excluded.next_offset"
                + _NEWEST_EVENT.format(table=offsets),
                moved,
            )

    def unheld_messages(
        self,
        projections: Sequence[Projection[Any]],
        batch: dict[tuple[str, int], list[tuple[int, RecordedEvent]]],
        ledger: Ledger,
    ) -> list[tuple[str, int, int]]:
        """The (topic, partition, offset) of a consumer's batch whose event the ledger does not hold.

        Kafka keeps every event the relay ever published, so after the ledger was rolled back (an
        older backup restored) it holds events that are no longer facts: they must not be applied.
        If the rows already hold such events (a worker's newest applied event per partition, or the
        ledger-position checkpoint, is not the ledger's), raises LedgerRolledBack: applying more would
        build on a history the ledger no longer has, until `orderledger rebuild`. One ledger query.
        """
        names = {projection.name for projection in projections}
        stored = [cursor for cursor in self.cursors() if cursor.name in names]
        positions = [cursor.position for cursor in stored if cursor.position > 0]
        positions += [event.position for messages in batch.values() for _, event in messages]
        held = ledger.hashes(positions) if positions else {}
        if broken := divergences(stored, held, head=0):
            head = ledger.head()
            raise LedgerRolledBack([Divergence(d.cursor, head) for d in broken])
        return [
            (topic, partition, offset)
            for (topic, partition), messages in batch.items()
            for offset, event in messages
            if held.get(event.position) != event.hash
        ]

    def _apply_partition(
        self,
        tx: Session,
        projection: Projection[Any],
        topic: str,
        partition: int,
        messages: list[tuple[int, RecordedEvent]],
        through: int | None,
    ) -> int:
        offsets = f"{self.db.namespace}consumer_offsets"
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
        newest = max(fresh, key=_position, default=None)
        tx.execute(
            f"INSERT INTO {offsets} (name, topic, partition, next_offset, position, hash) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (name, topic, partition) DO UPDATE SET next_offset = excluded.next_offset"
            + _NEWEST_EVENT.format(table=offsets),
            (
                projection.name,
                topic,
                partition,
                last,
                newest.position if newest else None,
                newest.hash if newest else None,
            ),
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
        """Fold events into their rows; with a checkpoint, events at or below it are skipped.

        The rows the events touch are read first, a chunk of keys per query, then written back.
        """
        table = self._table(projection, suffix)
        touched, position = _touched(projection, events, checkpoint)
        if touched:
            rows: dict[str, Any] = dict.fromkeys(key for _, keys in touched for key in keys)
            self._read_rows(tx, projection, table, list(rows), rows)
            _fold(projection, touched, rows)
            self._write_rows(tx, projection, table, rows, position, stored=None)
        return position

    def _read_rows(
        self, tx: Session, projection: Projection[Any], table: str, keys: list[str], rows: dict[str, Any]
    ) -> None:
        """Put the stored row of each key into `rows` (keys without one are left as they are)."""
        validate = projection.row_model.model_validate_json
        for start in range(0, len(keys), _KEYS_PER_QUERY):
            chunk = keys[start : start + _KEYS_PER_QUERY]
            marks = ", ".join("?" * len(chunk))
            for key, doc in tx.fetchall(f"SELECT key, doc FROM {table} WHERE key IN ({marks})", chunk):
                rows[key] = validate(doc)

    def _write_rows(
        self,
        tx: Session,
        projection: Projection[Any],
        table: str,
        rows: dict[str, Any],
        position: int,
        stored: set[str] | None,
    ) -> None:
        """Upsert the rows (a None row is deleted); `stored`, if given, is kept as the set of keys in the table."""
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
        index = projection.index
        changed = []
        deleted = []
        for key, row in rows.items():
            if row is None:
                if stored is None or key in stored:
                    deleted.append((key,))
            else:
                columns = index(row)
                changed.append(
                    (
                        key,
                        canonical_json(row.model_dump(mode="json")),
                        *(columns[n] for n in names),
                        getattr(row, "position", position),
                    )
                )
        tx.executemany(f"DELETE FROM {table} WHERE key = ?", deleted)
        tx.executemany(upsert, changed)
        if stored is not None:
            stored.difference_update(key for (key,) in deleted)
            stored.update(key for key, *_ in changed)

    def rebuild(self, projection: Projection[Any], ledger: Ledger, batch: int = REBUILD_PAGE) -> int:
        """Build the projection again from position 0 beside the live one, then swap them."""
        return self.rebuild_all([projection], ledger, batch)

    def rebuild_all(self, projections: Sequence[Projection[Any]], ledger: Ledger, batch: int = REBUILD_PAGE) -> int:
        """Build the projections again from position 0 beside the live ones, then swap them all.

        One pass over the ledger: each page is read once and folded into every shadow table, in
        one transaction per page. Returns the position every projection is rebuilt up to.
        """
        with _young_collections_only():
            return self._rebuild_all(projections, ledger, batch)

    def _rebuild_all(self, projections: Sequence[Projection[Any]], ledger: Ledger, batch: int) -> int:
        shadow = "__rebuild"
        folds = [_ShadowFold(self, projection, self._table(projection, shadow)) for projection in projections]
        with self.db.transaction() as tx:
            for projection in projections:
                tx.execute(f"DROP TABLE IF EXISTS {self._table(projection, shadow)}")
                # No query indexes while it fills: the swap drops them and indexes the table once.
                self._create(tx, projection, shadow, indexes=False)
        position = 0
        newest: str | None = None  # the hash of the event at `position`, kept with the checkpoint
        while events := ledger.read_all(position, batch):
            with self.db.transaction() as tx:
                position, newest = events[-1].position, events[-1].hash
                for fold in folds:
                    fold.page(tx, events, position)
        with self.db.transaction() as tx:
            # Events that arrived meanwhile are applied inside the swap, so nothing is skipped.
            while tail := ledger.read_all(position, batch):
                position, newest = tail[-1].position, tail[-1].hash
                for fold in folds:
                    fold.page(tx, tail, position)
            checkpoints = f"{self.db.namespace}projection_checkpoints"
            for fold in folds:
                fold.flush(tx)
                projection = fold.projection
                tx.execute(f"DROP TABLE IF EXISTS {self._table(projection)}")
                bare_shadow = self._table(projection, shadow, qualified=False)
                for name in projection.columns:
                    tx.execute(f"DROP INDEX IF EXISTS {self.db.namespace}{bare_shadow}_{name}")
                tx.execute(
                    f"ALTER TABLE {self._table(projection, shadow)}"
                    f" RENAME TO {self._table(projection, qualified=False)}"
                )
                self._create(tx, projection, "")
                tx.execute(f"DELETE FROM {checkpoints} WHERE name = ?", (projection.name,))
                tx.execute(
                    f"INSERT INTO {checkpoints} (name, version, position, hash) VALUES (?, ?, ?, ?)",
                    (projection.name, projection.version, position, newest),
                )
                # The rows are the ledger's now: what workers applied before (perhaps events a rolled-back
                # ledger no longer holds) is no longer in them. Their Kafka offsets stay where they are.
                tx.execute(
                    f"UPDATE {self.db.namespace}consumer_offsets SET position = NULL, hash = NULL WHERE name = ?",
                    (projection.name,),
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


# A consumer offset's newest applied event only moves forward: a re-sent older event does not move it back.
_NEWEST_EVENT = (
    ", hash = CASE WHEN excluded.position > COALESCE({table}.position, 0) THEN excluded.hash ELSE {table}.hash END"
    ", position = CASE WHEN excluded.position > COALESCE({table}.position, 0)"
    " THEN excluded.position ELSE {table}.position END"
)


def _position(event: RecordedEvent) -> int:
    return event.position


def _touched(
    projection: Projection[Any], events: Iterable[RecordedEvent], checkpoint: int | None
) -> tuple[list[tuple[RecordedEvent, tuple[str, ...]]], int]:
    """The events past the checkpoint that touch rows, with their keys; and the last position seen."""
    keys_of = projection.keys
    position = checkpoint or 0
    touched = []
    for event in events:
        if checkpoint is not None:
            if event.position <= position:
                continue  # applied before (or redelivered): at-least-once in, exactly-once effect
            position = event.position
        keys = keys_of(event)
        if keys:
            touched.append((event, keys))
    return touched, position


def _fold(
    projection: Projection[Any], touched: list[tuple[RecordedEvent, tuple[str, ...]]], rows: dict[str, Any]
) -> None:
    project = projection.project
    for event, keys in touched:
        for key in keys:
            rows[key] = project(rows[key], event, key)


class _ShadowFold:
    """One projection's rows during a rebuild, page by page, into its shadow table.

    Only the rebuild writes the shadow table, and nothing reads it before the swap, so:
    - it knows which keys the table holds: a key it never wrote is a new row, not looked up;
    - the rows the last page touched stay in memory, neither written nor read back while the
      next page touches them again (a stream's events come close together); rows the next page
      leaves alone are written then. Rows in memory are bounded by what one page touches.
    As within a page, a row kept in memory is the very row `project` returned (projections are
    pure: they never change the row they are given), and equals the one read back from its JSON.
    """

    def __init__(self, store: ProjectionStore, projection: Projection[Any], table: str) -> None:
        self.store = store
        self.projection = projection
        self.table = table
        self.stored: set[str] = set()
        self.hot: dict[str, Any] = {}  # rows folded by the last page, not written yet
        self.hot_position = 0  # the last position of that page

    def page(self, tx: Session, events: list[RecordedEvent], position: int) -> None:
        """Fold a page (every event past the previous page); write the rows the page left alone."""
        touched, _ = _touched(self.projection, events, None)
        rows: dict[str, Any] = dict.fromkeys(key for _, keys in touched for key in keys)
        hot = self.hot
        missing = []
        for key in rows:
            if key in hot:
                rows[key] = hot.pop(key)
            elif key in self.stored:
                missing.append(key)
        self.store._read_rows(tx, self.projection, self.table, missing, rows)
        _fold(self.projection, touched, rows)
        self.flush(tx)  # what is left of the last page's rows: cold now
        self.hot = rows
        self.hot_position = position

    def flush(self, tx: Session) -> None:
        self.store._write_rows(tx, self.projection, self.table, self.hot, self.hot_position, self.stored)
        self.hot = {}


_gc_lock = threading.Lock()
_gc_holders = 0
_gc_threshold = gc.get_threshold()


@contextmanager
def _young_collections_only() -> Iterator[None]:
    """Put off the garbage collector's full collections (the young ones still run) while inside.

    A page of decoded events lives through many young collections, so each page's objects reach
    the oldest generation, and that generation was then collected in full every page or so: 15%
    of a rebuild's time, for objects that reference counting frees at the end of their page.
    The usual thresholds are back when the last holder leaves.
    """
    global _gc_holders, _gc_threshold
    with _gc_lock:
        if _gc_holders == 0:
            _gc_threshold = gc.get_threshold()
            young, middle, _ = _gc_threshold
            gc.set_threshold(young, middle, 1_000_000)
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0:
                gc.set_threshold(*_gc_threshold)
