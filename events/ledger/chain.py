"""The hash chain: each event stores its predecessor's hash and the hash of its canonical JSON."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from events.ledger import RECORDED_COLUMNS, NewEvent, RecordedEvent, VerifyReport

GENESIS_HASH = "0" * 64
# Every stored column but the two hashes themselves.
CHAINED_FIELDS = RECORDED_COLUMNS[:-2]
_SORTED_FIELDS = tuple(sorted(CHAINED_FIELDS))


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept; the form that is hashed and stored."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(prev_hash: str, fields: dict[str, Any], data_text: str | None = None) -> str:
    """sha256 over the predecessor's hash and the canonical JSON of the chained fields.

    `fields` holds the stored text forms (ISO timestamps, UUID strings, data as a dict). An
    appender that has the canonical JSON of `data` already (it stores that text) passes it as
    `data_text`: the same body is hashed without serialising the data twice.
    """
    if data_text is None:
        body = canonical_json({name: fields[name] for name in CHAINED_FIELDS})
    else:  # the same text, written field by field (every field but data is a string, an integer or null)
        body = "{" + ",".join(f'"{name}":{_scalar_json(name, fields, data_text)}' for name in _SORTED_FIELDS) + "}"
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _scalar_json(name: str, fields: dict[str, Any], data_text: str) -> str:
    if name == "data":
        return data_text
    value = fields[name]
    if value is None:
        return "null"
    if isinstance(value, str):
        return encode_basestring(value)  # json.dumps's own escaping with ensure_ascii=False
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"{name} is not a string, an integer or null")


def stored_time(moment: datetime) -> str:
    """The one text form of a timestamp in the chain: UTC, microseconds, whatever the adapter."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def new_event_fields(event: NewEvent, stream_id: str, position: int, version: int, recorded_at: str) -> dict[str, Any]:
    """The chained fields of an event about to be appended, in their stored text forms."""
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


def recorded_event_fields(event: RecordedEvent) -> dict[str, Any]:
    """The chained fields of a stored event, as they were when its hash was taken."""
    return {
        "position": event.position,
        "event_id": str(event.event_id),
        "type": event.type,
        "schema_version": event.schema_version,
        "stream_id": event.stream_id,
        "stream_type": event.stream_type,
        "stream_version": event.stream_version,
        "occurred_at": stored_time(event.occurred_at),
        "recorded_at": stored_time(event.recorded_at),
        "actor": event.actor,
        "correlation_id": str(event.correlation_id),
        "causation_id": str(event.causation_id) if event.causation_id else None,
        "data": event.data,
    }


class UnreadableRow(Exception):
    """A stored row that cannot even be read back as an event (raised by an adapter's reader)."""

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(reason)
        self.position = position
        self.reason = reason


def verify_chain(events: Iterable[RecordedEvent]) -> VerifyReport:
    """Walk events from position 1; name the first position that is missing, unlinked or altered."""
    prev_hash = GENESIS_HASH
    expected = 0
    try:
        for event in events:
            expected += 1
            problem = None
            if event.position != expected:
                problem = f"position {expected} is missing (next is {event.position})"
            elif event.prev_hash != prev_hash:
                problem = "prev_hash does not match the hash of the event before"
            elif event_hash(prev_hash, recorded_event_fields(event)) != event.hash:
                problem = "content does not match its hash (the row was changed)"
            if problem:
                return VerifyReport(ok=False, checked=expected - 1, first_bad_position=expected, reason=problem)
            prev_hash = event.hash
    except UnreadableRow as row:
        return VerifyReport(
            ok=False,
            checked=row.position - 1,
            first_bad_position=row.position,
            reason=f"row cannot be read: {row.reason}",
        )
    return VerifyReport(ok=True, checked=expected)
