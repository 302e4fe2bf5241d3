"""Whether the ledger still holds what a consumer consumed: a cursor is a position and the hash of the event there.

A consumer of the ledger (a projection's checkpoint, the relay's published position, a worker's
last applied event per partition) keeps the hash of the event its position stands on. Because
each hash covers the one before it, one comparison proves the consumer's whole history is the
ledger's: if the ledger holds another event at that position, or none (its tail was cut off, as
when an older backup is restored), the consumer stands on a history the ledger no longer has.
Comparing positions alone would miss a rollback once new appends have passed the old position.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from events.ledger import RecordedEvent


@dataclass(frozen=True)
class Cursor:
    """What a consumer has consumed: up to `position`, whose event hashed to `hash`."""

    name: str  # who consumes: a projection's name, or "relay"
    position: int
    hash: str | None  # None: nothing consumed yet, or a cursor written before hashes were kept
    source: str = "ledger"  # read from the ledger, or from a Kafka topic partition ("<topic>/<n>", workers)


@dataclass(frozen=True)
class Divergence:
    """A cursor standing on a history the ledger no longer holds."""

    cursor: Cursor
    head: int

    @property
    def ahead(self) -> bool:
        """Past the ledger's head (rather than on another event at a position the ledger holds)."""
        return self.cursor.position > self.head

    def describe(self) -> str:
        where = f"past the ledger's head {self.head}" if self.ahead else "where the ledger now holds another event"
        name = self.cursor.name if self.cursor.source == "ledger" else f"{self.cursor.name} ({self.cursor.source})"
        return f"{name} is at position {self.cursor.position}, {where}"


class LedgerRolledBack(Exception):
    """Consumers whose cursor the ledger no longer holds: applying or publishing more would build on a lost history."""

    def __init__(self, divergences: Sequence[Divergence]) -> None:
        super().__init__("; ".join(d.describe() for d in divergences))
        self.divergences = tuple(divergences)


def divergences(cursors: Iterable[Cursor], held: Mapping[int, str], head: int) -> list[Divergence]:
    """The cursors the ledger does not hold, given the hash of the ledger's event at each of their positions.

    A cursor at position 0 has consumed nothing; one without a hash is checked by position only.
    """
    found = []
    for cursor in cursors:
        if cursor.position <= 0:
            continue
        ledger_hash = held.get(cursor.position)
        if ledger_hash is None or (cursor.hash is not None and cursor.hash != ledger_hash):
            found.append(Divergence(cursor, head))
    return found


def continuation(cursor: Cursor, events: Sequence[RecordedEvent], head: Callable[[], int]) -> Divergence | None:
    """Whether `events`, read from the ledger after the cursor's position, continue the history it stands on.

    The first event must come right after the cursor and name the cursor's event as its predecessor
    (`prev_hash`), so this costs no read of its own. With nothing after the cursor, the ledger's head
    must not be behind it.
    """
    if events:
        first = events[0]
        linked = cursor.hash is None or cursor.position == 0 or first.prev_hash == cursor.hash
        if first.position == cursor.position + 1 and linked:
            return None
        return Divergence(cursor, head())
    now = head()
    return Divergence(cursor, now) if now < cursor.position else None
