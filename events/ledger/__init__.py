"""The ledger of record: its port (what every adapter guarantees) and the envelope of an event."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from pydantic import AwareDatetime

from events.model import Fact

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
    """A stored row back as an event: timestamps in UTC, data parsed if the database kept it as text."""
    fields = dict(zip(RECORDED_COLUMNS, row, strict=True))
    if isinstance(fields["data"], str):
        fields["data"] = json.loads(fields["data"])
    event = RecordedEvent.model_validate(fields)
    return event.model_copy(
        update={"occurred_at": event.occurred_at.astimezone(UTC), "recorded_at": event.recorded_at.astimezone(UTC)}
    )


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

    def find_command(self, key: str) -> CommandOutcome | None: ...

    def last_stream_id(self, prefix: str) -> str | None: ...

    def verify(self) -> VerifyReport: ...

    def close(self) -> None: ...
