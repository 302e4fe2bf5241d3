"""The ledger of record: its port (what every adapter guarantees) and the envelope of an event."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from pydantic import AwareDatetime

from events.kernel.model import Fact

NO_STREAM = 0  # expected version of a stream that must not exist yet; versions start at 1


class NewEvent(Fact):
    """An event ready to append: the decider's fact plus who, when and why."""

    event_id: UUID
    type: str
    schema_version: int
    stream_type: str
    data: dict[str, Any]
    occurred_at: AwareDatetime  # business time
    actor: str
    correlation_id: UUID
    causation_id: UUID | None = None


class RecordedEvent(Fact):
    """An event as the ledger holds it: position, stream version, ledger time and hash chain."""

    position: int
    event_id: UUID
    type: str
    schema_version: int
    stream_id: str
    stream_type: str
    stream_version: int
    occurred_at: datetime
    recorded_at: datetime  # ledger time
    actor: str
    correlation_id: UUID
    causation_id: UUID | None
    data: dict[str, Any]
    prev_hash: str
    hash: str


# The stored columns of an event, in the order both adapters select them.
RECORDED_COLUMNS = (
    "position",
    "event_id",
    "type",
    "schema_version",
    "stream_id",
    "stream_type",
    "stream_version",
    "occurred_at",
    "recorded_at",
    "actor",
    "correlation_id",
    "causation_id",
    "data",
    "prev_hash",
    "hash",
)


def recorded_from_row(row: tuple[Any, ...]) -> RecordedEvent:
    """A stored row back as an event: timestamps in UTC, data parsed if the database kept it as text.

    Every reader of the ledger goes through here (a rebuild reads each event once per page), so the
    columns are checked and converted one by one instead of through pydantic's validation of the
    whole model: a row of the wrong shape still raises ValueError or TypeError (the chain verifier
    reports it as unreadable).
    """
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
        hash_,
    ) = row
    if isinstance(data, str):
        data = json.loads(data)
    if not isinstance(data, dict):
        raise TypeError(f"event data must be a JSON object, not {type(data).__name__}")
    return RecordedEvent.model_construct(
        position=_integer(position),
        event_id=_uuid(event_id),
        type=_text(type_),
        schema_version=_integer(schema_version),
        stream_id=_text(stream_id),
        stream_type=_text(stream_type),
        stream_version=_integer(stream_version),
        occurred_at=_utc(occurred_at),
        recorded_at=_utc(recorded_at),
        actor=_text(actor),
        correlation_id=_uuid(correlation_id),
        causation_id=None if causation_id is None else _uuid(causation_id),
        data=data,
        prev_hash=_text(prev_hash),
        hash=_text(hash_),
    )


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer column, got {value!r}")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a text column, got {value!r}")
    return value


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(_text(value))


def _utc(value: Any) -> datetime:
    moment = datetime.fromisoformat(_text(value)) if not isinstance(value, datetime) else value
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a UTC offset: {value!r}")
    return moment.astimezone(UTC)


class StreamAppend(Fact):
    stream_id: str
    expected_version: int
    events: tuple[NewEvent, ...]


class CommandRecord(Fact):
    """An idempotency key, the hash of the request it first came with, and (for a batch) its answer."""

    key: str
    request_hash: str
    response: dict[str, Any] | None = None  # a batch's per-command answer, replayed as it was


def stored_outcome(record: CommandRecord, results: list[AppendResult]) -> Any:
    """What the ledger keeps of a command: its append results, and a batch's answer beside them."""
    appended = [r.model_dump(mode="json") for r in results]
    return appended if record.response is None else {"results": appended, "response": record.response}


def outcome_from_stored(key: str, request_hash: str, stored: Any) -> CommandOutcome:
    response = None
    if isinstance(stored, dict):
        stored, response = stored["results"], stored["response"]
    return CommandOutcome(
        key=key, request_hash=request_hash, results=tuple(AppendResult(**r) for r in stored), response=response
    )


class AppendResult(Fact):
    stream_id: str
    stream_version: int
    first_position: int
    last_position: int


class CommandOutcome(Fact):
    """What a command with an idempotency key appended the first time."""

    key: str
    request_hash: str
    results: tuple[AppendResult, ...]
    response: dict[str, Any] | None = None


class VerifyReport(Fact):
    ok: bool
    checked: int
    first_bad_position: int | None = None
    reason: str | None = None


class StreamVersionConflict(Exception):
    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(f"stream {stream_id} is at version {actual}, not {expected}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class DuplicateCommand(Exception):
    """Another request with the same idempotency key committed first."""


class LedgerUnavailable(Exception):
    """The ledger's database cannot be reached; the request may be retried."""


class Ledger(Protocol):
    def append(
        self,
        stream_id: str,
        expected_version: int,
        events: list[NewEvent],
        command: CommandRecord | None = None,
    ) -> AppendResult: ...

    def append_batch(self, appends: list[StreamAppend], command: CommandRecord | None = None) -> list[AppendResult]: ...

    def read_stream(self, stream_id: str) -> list[RecordedEvent]: ...

    def read_streams(self, stream_ids: list[str]) -> dict[str, list[RecordedEvent]]:
        """Several streams in one query: each named stream that exists, its events in version order."""
        ...

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]: ...

    def stream_versions(self, stream_ids: list[str]) -> dict[str, int]:
        """The current version of each named stream that exists, in one query."""
        ...

    def read_events(self, event_ids: list[str]) -> list[RecordedEvent]:
        """The events with these ids (unknown ids are left out), in ledger order."""
        ...

    def head(self) -> int: ...

    def hashes(self, positions: list[int]) -> dict[int, str]:
        """The hash of the event at each of these positions the ledger holds (positions past the head are left out)."""
        ...

    def find_command(self, key: str) -> CommandOutcome | None: ...

    def allocate_numbers(self, series: str, count: int = 1) -> range:
        """`count` consecutive numbers of a series (a stream-id prefix such as "ORD-2026-") that no caller
        was or will be given.

        Taken in a short transaction of their own, outside appends: commands take their numbers before
        deciding, so concurrent commands never race for one. A number whose command is then refused or
        never appended stays unused (a gap). The first allocation of a series continues after the highest
        `<series><digits>` stream already in the ledger (one written before the series existed).
        """
        ...

    def verify(self) -> VerifyReport: ...

    def close(self) -> None: ...
