"""The hash chain: each event stores its predecessor's hash and the hash of its canonical JSON."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
CHAINED_FIELDS = (
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
)


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept; the form that is hashed and stored."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """sha256 over the predecessor's hash and the canonical JSON of the chained fields.

    `fields` holds the stored text forms (ISO timestamps, UUID strings, data as a dict).
    """
    body = canonical_json({name: fields[name] for name in CHAINED_FIELDS})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def stored_time(moment: datetime) -> str:
    """The one text form of a timestamp in the chain: UTC, microseconds, whatever the adapter."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
