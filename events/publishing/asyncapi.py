"""The AsyncAPI 3.0.0 document of the ledger's Kafka topics, generated from the event models.

One channel per topic (`<prefix>.<stream type>s.v1`), one message per CloudEvents type (payload =
its JSON Schema, headers = the binary-mode `ce_*` headers), one `receive` operation per channel:
the document is the integrators' contract and describes *their* application, a consumer
(orderledger's relay is the one that sends).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from events.ledger.catalogue import STREAM_TYPES
from events.publishing.cloud_events import CONTENT_TYPE, SEQUENCE_DIGITS, SPEC_VERSION, dataschema, topic_for
from events.publishing.compatibility import DEF_REF
from events.publishing.json_schemas import DEFAULT_PREFIX, FAMILIES, Family, Json, entries, schemas

ASYNCAPI_VERSION = "3.0.0"
DOCUMENT_VERSION = "1.0.0"  # of the contract below; topics and CloudEvents types carry their own versions
KAFKA_BINDING_VERSION = "0.5.0"
PLACEHOLDER_BOOTSTRAP = "localhost:9092"
HEADERS_SCHEMA = "CloudEventHeaders"

GUARANTEES = (
    "Ordering is guaranteed per stream, not across streams: the record key is the stream id, so one"
    " stream's events are in one partition, in stream order (`ce_sequence`). Events of different streams,"
    " even of one topic, may reach a consumer in any order. Delivery is at least once: the same event may"
    " arrive more than once (after a relay restart or a consumer rebalance); de-duplicate by `ce_id`, the"
    " event id, the same on every re-send."
)


def _rewrite_refs(node: Any, names: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        match = DEF_REF.match(ref) if isinstance(ref, str) else None
        if match is not None:
            return {**node, "$ref": f"#/components/schemas/{names[match.group('name')]}"}
        return {k: _rewrite_refs(v, names) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(v, names) for v in node]
    return node


def _component_schemas() -> dict[str, Json]:
    """Every event schema as an AsyncAPI component, keyed by CloudEvents type, their `$defs` hoisted beside
    them (AsyncAPI resolves `#/...` against the whole document). Same-named parts that differ are qualified."""
    components: dict[str, Json] = {}
    for ce_type, document in schemas().items():
        defs: dict[str, Any] = document.get("$defs", {})
        names = {}
        for name, part in defs.items():
            names[name] = name if components.get(name, part) == part else f"{ce_type}.{name}"
        for name, part in defs.items():
            components[names[name]] = _rewrite_refs(part, names)
        body = {k: v for k, v in document.items() if k not in ("$schema", "$id", "$defs")}
        components[ce_type] = _rewrite_refs(body, names)
    return components


def _headers_schema() -> Json:
    uuid = {"type": "string", "format": "uuid"}
    time = {"type": "string", "format": "date-time"}
    properties: dict[str, Json] = {
        "content-type": {
            "type": "string",
            "const": CONTENT_TYPE,
            "description": "The CloudEvents datacontenttype: the record's value is the event's data as JSON.",
        },
        "ce_specversion": {"type": "string", "const": SPEC_VERSION},
        "ce_id": {**uuid, "description": "The event id, the same on every re-send: de-duplicate by it."},
        "ce_source": {
            "type": "string",
            "pattern": "^/orderledger/[a-z_]+s$",
            "description": "The stream family, e.g. /orderledger/orders.",
        },
        "ce_type": {
            "type": "string",
            "pattern": r"^ca\.orderledger\.[a-z_]+\.[a-z0-9_]+\.v[0-9]+$",
            "description": "ca.orderledger.<stream type>.<fact>.v<schema version>: which JSON Schema the value"
            " follows.",
        },
        "ce_time": {**time, "description": "Business time: when the fact happened."},
        "ce_subject": {"type": "string", "description": "The stream id (also the record key)."},
        "ce_partitionkey": {"type": "string", "description": "The stream id (CloudEvents partitioning extension)."},
        "ce_sequence": {
            "type": "string",
            "pattern": f"^[0-9]{{{SEQUENCE_DIGITS},}}$",
            "description": f"The stream version, zero-padded to {SEQUENCE_DIGITS} digits so it sorts as text;"
            " a stream's first event is 1. Within a stream, events arrive in this order.",
        },
        "ce_dataschema": {
            "type": "string",
            "format": "uri",
            "description": "The URL of the value's JSON Schema: <public URL>/v1/schemas/<ce_type>.json.",
        },
        "ce_position": {
            "type": "string",
            "pattern": "^[0-9]+$",
            "description": "The event's position in the whole ledger (gapless, increasing).",
        },
        "ce_recordedat": {**time, "description": "Ledger time: when the ledger recorded the event."},
        "ce_actor": {
            "type": "string",
            "description": "Who recorded the event: <role>/<API key id>, or a system actor such as demo/loader.",
        },
        "ce_correlationid": {**uuid, "description": "Shared by every event one request or command produced."},
        "ce_causationid": {**uuid, "description": "The event that caused this one, when there is one."},
        "ce_hash": {
            "type": "string",
            "pattern": "^[0-9a-f]{64}$",
            "description": "sha256 of the previous event's hash and this event's canonical record.",
        },
        "ce_prevhash": {
            "type": "string",
            "pattern": "^[0-9a-f]{64}$",
            "description": "The previous event's ce_hash (64 zeros for the ledger's first event).",
        },
    }
    return {
        "type": "object",
        "title": "CloudEvents 1.0 Kafka headers (binary content mode)",
        "description": "Every record's headers: content-type and ce_<attribute> per CloudEvents attribute, values"
        " as UTF-8 text. The extensions position, recordedat, actor, correlationid, causationid, hash and"
        " prevhash let a consumer rebuild the ledger's record exactly.",
        "properties": properties,
        "required": [name for name in properties if name != "ce_causationid"],
    }


def _servers(bootstrap: str | None) -> Json:
    hosts = [host.strip() for host in (bootstrap or "").split(",") if host.strip()]
    if not hosts:
        return {
            "kafka": {
                "host": PLACEHOLDER_BOOTSTRAP,
                "protocol": "kafka",
                "title": "Kafka (placeholder)",
                "description": "A placeholder: this orderledger is not configured with Kafka"
                " (ORDERLEDGER_KAFKA_BOOTSTRAP is not set). Use the bootstrap servers of the cluster the"
                " relay publishes to.",
            }
        }
    return {
        ("kafka" if n == 1 else f"kafka-{n}"): {
            "host": host,
            "protocol": "kafka",
            "title": f"Kafka bootstrap server {n} of {len(hosts)}",
            "description": "One of the bootstrap servers the relay publishes to (ORDERLEDGER_KAFKA_BOOTSTRAP).",
        }
        for n, host in enumerate(hosts, start=1)
    }


def _channel_id(stream_type: str) -> str:
    return f"{stream_type}s"


def _operation_id(stream_type: str) -> str:
    return "receive" + "".join(part.title() for part in f"{stream_type}s".split("_"))


def _info_description(prefix: str) -> str:
    return (
        "The events of orderledger, the event-sourced ledger of an IT procurement broker, as its outbox relay"
        f" publishes them to Kafka: one topic per stream family (`{prefix}.<stream type>s.v1`), every record a"
        " **CloudEvents 1.0 event in binary content mode**: the key is the stream id, the value the event's"
        " data as JSON (`content-type: application/json`), the other attributes `ce_*` headers.\n\n"
        "**Ordering is guaranteed per stream (key = stream id), not across streams**: one stream's events are"
        " in one partition, in stream order (`ce_sequence`); events of different streams, even in one topic,"
        " may arrive in any order. **Delivery is at least once**: an event may arrive more than once (a relay"
        " restart re-sends from its cursor, a consumer rebalance re-reads): **de-duplicate by `ce_id`**, the"
        " event id, the same on every re-send. Topics keep every event (`retention.ms=-1`).\n\n"
        "`ce_type` (`ca.orderledger.<stream type>.<fact>.v<schema version>`) names the JSON Schema the value"
        " follows (`ce_dataschema`). Within one type a new optional property may appear: ignore what you do not"
        " know. Anything that would break a consumer (a property removed, retyped or newly required) is a new"
        " schema version, so a new type, in the same topic.\n\n"
        "The operations are `receive`: this document describes the application of an integrator, a consumer"
        " of these topics (use a consumer group of your own). orderledger's relay is the only producer."
    )


def asyncapi_document(
    *,
    public_url: str,
    prefix: str = DEFAULT_PREFIX,
    bootstrap: str | None = None,
    partitions: int | None = None,
    replicas: int | None = None,
    examples: Mapping[str, Mapping[str, Any]] | None = None,
) -> Json:
    """The AsyncAPI 3.0.0 document of every topic and event, for the given settings.

    `public_url` is where integrators reach the API (the base of `ce_dataschema`); `bootstrap` the Kafka
    bootstrap servers (a placeholder server when None); `partitions` and `replicas` what the app creates
    topics with (left out when None); `examples` example data by CloudEvents type (from `load_examples`).
    """
    base = public_url.rstrip("/")
    examples = examples or {}
    schemas_ = _component_schemas()
    schemas_[HEADERS_SCHEMA] = _headers_schema()
    messages: dict[str, Json] = {}
    channels: dict[str, Json] = {}
    operations: dict[str, Json] = {}
    for stream_type in STREAM_TYPES:
        family = FAMILIES.get(stream_type, Family(stream_type, f"The {stream_type} events.", "the stream id"))
        address = topic_for(prefix, stream_type)
        channel_id = _channel_id(stream_type)
        channel_messages = {}
        for event in (e for e in entries() if e.stream_type == stream_type):
            message: Json = {
                "name": event.event_type,
                "title": f"{event.event_type} (schema version {event.schema_version})",
                "summary": event.description.split("\n")[0],
                "description": f"{event.description}\n\nCloudEvents type `{event.ce_type}`, source"
                f" `{event.source}`; JSON Schema of the value: {dataschema(base, event.ce_type)}",
                "contentType": CONTENT_TYPE,
                "headers": {
                    "type": "object",
                    "allOf": [{"$ref": f"#/components/schemas/{HEADERS_SCHEMA}"}],
                    "properties": {
                        "ce_type": {"type": "string", "const": event.ce_type},
                        "ce_source": {"type": "string", "const": event.source},
                        "ce_dataschema": {"type": "string", "const": dataschema(base, event.ce_type)},
                    },
                },
                "payload": {"$ref": f"#/components/schemas/{event.ce_type}"},
                "correlationId": {
                    "description": "Shared by every event one request or command produced.",
                    "location": "$message.header#/ce_correlationid",
                },
                "bindings": {
                    "kafka": {
                        "key": {"type": "string", "description": f"The stream id: {family.stream_id}."},
                        "bindingVersion": KAFKA_BINDING_VERSION,
                    }
                },
            }
            if event.ce_type in examples:
                message["examples"] = [
                    {"name": "sample", "summary": f"A {event.event_type} event", "payload": examples[event.ce_type]}
                ]
            messages[event.ce_type] = message
            channel_messages[event.ce_type] = {"$ref": f"#/components/messages/{event.ce_type}"}
        binding: Json = {
            "topic": address,
            "topicConfiguration": {"cleanup.policy": ["delete"], "retention.ms": -1, "retention.bytes": -1},
            "bindingVersion": KAFKA_BINDING_VERSION,
        }
        if partitions is not None:
            binding["partitions"] = partitions
        if replicas is not None:
            binding["replicas"] = replicas
        channels[channel_id] = {
            "address": address,
            "title": family.title,
            "description": f"{family.description}\n\nRecord key: the stream id, {family.stream_id}. {GUARANTEES}",
            "messages": channel_messages,
            "bindings": {"kafka": binding},
        }
        operations[_operation_id(stream_type)] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "title": f"Receive the {family.title.lower()} events",
            "summary": f"Consume {address}.",
            "description": f"{family.description} {GUARANTEES}",
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{ce_type}"} for ce_type in channel_messages],
            "bindings": {
                "kafka": {
                    "groupId": {"type": "string", "description": "A consumer group of your own."},
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
        }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:orderledger:events",
        "info": {
            "title": "orderledger events",
            "version": DOCUMENT_VERSION,
            "description": _info_description(prefix),
            "externalDocs": {"description": "The event catalogue", "url": f"{base}/events/catalogue"},
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": _servers(bootstrap),
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas_, "messages": messages},
    }


# ---------------------------------------------------------------- command line
