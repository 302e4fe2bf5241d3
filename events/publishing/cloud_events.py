"""Ledger events as CloudEvents 1.0 (binary mode): the attributes every way out of the ledger carries.

The type names the stream family, the fact and its schema version (`ca.orderledger.order.placed.v1`);
`id` is the event id, stable across re-sends; `subject` and `partitionkey` are the stream id;
`sequence` is the stream version zero-padded so it sorts as text; `time` is business time and the
`recordedat` extension ledger time. The other extensions (`position`, `actor`, `correlationid`,
`causationid`, `hash`, `prevhash`) let a consumer rebuild the ledger's record exactly: the faust
worker does, from Kafka headers alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from events.ledger import RecordedEvent

SPEC_VERSION = "1.0"
TYPE_PREFIX = "ca.orderledger."
SEQUENCE_DIGITS = 10
CONTENT_TYPE = "application/json"
_WORD = re.compile(r"(?<!^)(?=[A-Z])")


def topic_for(prefix: str, stream_type: str) -> str:
    """One Kafka topic per stream family, e.g. orderledger.orders.v1; its records are binary-mode CloudEvents."""
    return f"{prefix}.{stream_type}s.v1"


def fact_name(event_type: str, stream_type: str) -> str:
    """OrderPlaced on an order stream -> placed; ServiceRestored on an incident stream -> service_restored."""
    snake = _WORD.sub("_", event_type).lower()
    return snake.removeprefix(f"{stream_type}_")


def cloud_type(event_type: str, stream_type: str, schema_version: int) -> str:
    return f"{TYPE_PREFIX}{stream_type}.{fact_name(event_type, stream_type)}.v{schema_version}"


def source(stream_type: str) -> str:
    return f"/orderledger/{stream_type}s"


def dataschema(base_url: str, ce_type: str) -> str:
    return f"{base_url.rstrip('/')}/v1/schemas/{ce_type}.json"


def attributes(event: RecordedEvent, base_url: str) -> dict[str, str]:
    """Every CloudEvents attribute of a ledger event, as text (what Kafka headers and HTTP headers carry)."""
    ce_type = cloud_type(event.type, event.stream_type, event.schema_version)
    found = {
        "specversion": SPEC_VERSION,
        "id": str(event.event_id),
        "source": source(event.stream_type),
        "type": ce_type,
        "time": event.occurred_at.isoformat(),
        "subject": event.stream_id,
        "partitionkey": event.stream_id,
        "sequence": f"{event.stream_version:0{SEQUENCE_DIGITS}d}",
        "dataschema": dataschema(base_url, ce_type),
        "datacontenttype": CONTENT_TYPE,
        "position": str(event.position),
        "recordedat": event.recorded_at.isoformat(),
        "actor": event.actor,
        "correlationid": str(event.correlation_id),
        "hash": event.hash,
        "prevhash": event.prev_hash,
    }
    if event.causation_id is not None:
        found["causationid"] = str(event.causation_id)
    return found


def structured(event: RecordedEvent, base_url: str) -> dict[str, Any]:
    """The event in CloudEvents JSON format (structured mode): its attributes and `data`.

    What the HTTP feed, the Server-Sent Events stream and webhook deliveries carry.
    """
    return {**attributes(event, base_url), "data": event.data}


def data_bytes(event: RecordedEvent) -> bytes:
    return json.dumps(event.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def kafka_headers(event: RecordedEvent, base_url: str) -> list[tuple[str, bytes]]:
    """Binary content mode over Kafka: `content-type`, then `ce_<attribute>` for the rest."""
    found = attributes(event, base_url)
    headers = [("content-type", found.pop("datacontenttype").encode())]
    return headers + [(f"ce_{name}", value.encode()) for name, value in found.items()]


def header_map(headers: Any) -> dict[str, str]:
    """Kafka headers (a list of pairs or a mapping, bytes or text) as a dict of text."""
    pairs = headers.items() if isinstance(headers, Mapping) else (headers or [])
    return {name: value.decode() if isinstance(value, bytes) else str(value) for name, value in pairs}


def recorded_from_kafka(headers: Any, value: bytes, types: Mapping[str, tuple[str, int, str]]) -> RecordedEvent:
    """The ledger's record back from a binary-mode CloudEvent; `types` maps a CloudEvents type to
    (event type, schema version, stream type). ValueError if something is missing or unknown."""
    found = header_map(headers)
    try:
        event_type, schema_version, stream_type = types[found["ce_type"]]
        return RecordedEvent(
            position=int(found["ce_position"]),
            event_id=UUID(found["ce_id"]),
            type=event_type,
            schema_version=schema_version,
            stream_id=found["ce_subject"],
            stream_type=stream_type,
            stream_version=int(found["ce_sequence"]),
            occurred_at=datetime.fromisoformat(found["ce_time"]),
            recorded_at=datetime.fromisoformat(found["ce_recordedat"]),
            actor=found["ce_actor"],
            correlation_id=UUID(found["ce_correlationid"]),
            causation_id=UUID(found["ce_causationid"]) if "ce_causationid" in found else None,
            data=json.loads(value),
            prev_hash=found["ce_prevhash"],
            hash=found["ce_hash"],
        )
    except KeyError as missing:
        raise ValueError(f"not an orderledger CloudEvent: {missing} missing or unknown") from None
