"""The published shapes of the ledger's events: one JSON Schema per CloudEvents type, and an AsyncAPI 3.0.0 document.

Both come from the pydantic event models (`events.catalogue.STREAM_TYPES`), never written by hand:

- **JSON Schema** (draft 2020-12) of each event's `data`, what a Kafka record's value holds, at
  `/v1/schemas/<CloudEvents type>.json` (its `$id`, and the path of every record's `ce_dataschema`).
  Serialisation shapes: money and other decimals are strings, dates and times ISO 8601 strings.
  Schemas are open (no `additionalProperties: false`): within one schema version a new optional
  property may appear, so a consumer must ignore properties it does not know.
- **AsyncAPI 3.0.0**: one channel per Kafka topic (`<prefix>.<stream type>s.v1`), one message per
  CloudEvents type (payload = its JSON Schema, headers = the binary-mode `ce_*` headers), and one
  `receive` operation per channel. The document is the integrators' contract: it describes *their*
  application, a consumer, so its operations receive (orderledger's relay is the one that sends).

The generated schemas are committed in `events/schemas/` (`python -m events.schema_catalogue --write`).
They are also the baseline of compatibility: `--write` refuses a change that would break a consumer of
an existing type (a property removed, a property's type changed, a property newly required) and never
deletes a schema; such a change needs a new schema version, which is a new CloudEvents type. The
examples the event catalogue page shows are copies of the test suite's saved samples
(`--write --examples-from tests/samples`), checked by the suite to stay equal.
"""

from __future__ import annotations

import argparse
import copy
import inspect
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from events.catalogue import STREAM_TYPES
from events.cloud_events import CONTENT_TYPE, SEQUENCE_DIGITS, SPEC_VERSION, cloud_type, dataschema, source, topic_for
from events.model import Fact

Json = dict[str, Any]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ASYNCAPI_VERSION = "3.0.0"
DOCUMENT_VERSION = "1.0.0"  # of the contract below; topics and CloudEvents types carry their own versions
KAFKA_BINDING_VERSION = "0.5.0"
SCHEMAS_DIR = Path(__file__).parent / "schemas"
EXAMPLES_DIR = SCHEMAS_DIR / "examples"
SCHEMA_PATH = "/v1/schemas/{ce_type}.json"
DEFAULT_PREFIX = "orderledger"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
PLACEHOLDER_BOOTSTRAP = "localhost:9092"
HEADERS_SCHEMA = "CloudEventHeaders"
_DEF_REF = re.compile(r"^#/\$defs/(?P<name>[^/]+)$")


@dataclass(frozen=True)
class Family:
    """A stream family: one Kafka topic, and what its streams (the record keys) are."""

    title: str
    description: str
    stream_id: str


FAMILIES: dict[str, Family] = {
    "order": Family(
        "Orders",
        "Every fact of an order's life, from placement and pricing through security approval, award and"
        " delivery to cancellation or closing.",
        "the order number, e.g. ORD-2026-000123",
    ),
    "contract": Family(
        "Contracts",
        "Standing offers, supply arrangements, inventory and cloud contracts: registration, ceiling,"
        " consumption, inventory, capacity thresholds, renewals, expiry and termination.",
        "contract-<contract id>, e.g. contract-NMSO-E60PQ-140003",
    ),
    "organisation": Family(
        "Organisations",
        "The client organisations the broker serves and re-bills.",
        "organisation-<code>, e.g. organisation-ESDC",
    ),
    "invoice": Family(
        "Supplier invoices",
        "Supplier invoices as received and priced by the ledger, their disputes and line assignments.",
        "invoice-<supplier slug>--<invoice number>, e.g. invoice-compugen-inc--140004-202610",
    ),
    "credit": Family(
        "Credits",
        "Credits granted to an organisation: late-delivery rebates and service credits.",
        "credit-<credit id>, e.g. credit-CCAAS-2026-09-CRA",
    ),
    "billing_period": Family(
        "Billing periods",
        "The closing and the audited reopening of monthly billing periods.",
        "billing-periods (a single stream for every month)",
    ),
    "service": Family(
        "Services",
        "Subscription services: registration, maintenance windows, service desk reports, their incident log"
        " and monthly service levels.",
        "service-<service id>, e.g. service-CCAAS",
    ),
    "incident": Family(
        "Incidents",
        "Service incidents, from opening to closing; each event carries the incident as it stands after it.",
        "incident-<incident id>, e.g. incident-CC-101",
    ),
}

GUARANTEES = (
    "Ordering is guaranteed per stream, not across streams: the record key is the stream id, so one"
    " stream's events are in one partition, in stream order (`ce_sequence`). Events of different streams,"
    " even of one topic, may reach a consumer in any order. Delivery is at least once: the same event may"
    " arrive more than once (after a relay restart or a consumer rebalance); de-duplicate by `ce_id`, the"
    " event id, the same on every re-send."
)


# ---------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class EventSchema:
    """One event type at one schema version: its CloudEvents type, stream family and model."""

    ce_type: str
    event_type: str
    schema_version: int
    stream_type: str
    model: type[Fact]

    @property
    def path(self) -> str:
        """Where the app serves the schema; its `$id`, and the path of `ce_dataschema`."""
        return SCHEMA_PATH.format(ce_type=self.ce_type)

    @property
    def source(self) -> str:
        return source(self.stream_type)

    @property
    def description(self) -> str:
        """The model's own docstring, else a sentence made of its name."""
        own = self.model.__dict__.get("__doc__")
        if own:
            return inspect.cleandoc(own)
        words = re.sub(r"(?<!^)(?=[A-Z])", " ", self.event_type).lower()
        family = FAMILIES[self.stream_type].title if self.stream_type in FAMILIES else self.stream_type
        return f"{words[:1].upper()}{words[1:]}: an event of the {family} stream family."


@cache
def entries() -> tuple[EventSchema, ...]:
    """Every event type and schema version, by stream family then as each family declares them."""
    found = []
    for stream_type, models in STREAM_TYPES.items():
        for model in models:
            event_type = model.model_fields["type"].default
            version = model.model_fields["schema_version"].default
            found.append(
                EventSchema(cloud_type(event_type, stream_type, version), event_type, version, stream_type, model)
            )
    return tuple(found)


def entry(ce_type: str) -> EventSchema | None:
    return {e.ce_type: e for e in entries()}.get(ce_type)


# ---------------------------------------------------------------- JSON Schema


def _open_objects(node: Any) -> Any:
    """The schema without `additionalProperties: false` anywhere: consumers must tolerate new properties."""
    if isinstance(node, dict):
        return {k: _open_objects(v) for k, v in node.items() if not (k == "additionalProperties" and v is False)}
    if isinstance(node, list):
        return [_open_objects(v) for v in node]
    return node


def _event_schema(event: EventSchema) -> Json:
    schema: Json = _open_objects(event.model.model_json_schema(mode="serialization"))
    # `type` and `schema_version` have defaults, so pydantic leaves them optional; every event has both.
    required = [name for name in schema.get("required", []) if name not in ("type", "schema_version")]
    schema["required"] = ["type", "schema_version", *required]
    schema["title"] = f"{event.event_type} (schema version {event.schema_version})"
    schema["description"] = event.description
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": event.path, **schema}


@cache
def _schemas() -> dict[str, Json]:
    return {e.ce_type: _event_schema(e) for e in entries()}


def schemas() -> dict[str, Json]:
    """CloudEvents type -> the JSON Schema of its data (a fresh copy: callers may change it)."""
    return copy.deepcopy(_schemas())


def schema(ce_type: str) -> Json | None:
    found = _schemas().get(ce_type)
    return copy.deepcopy(found) if found is not None else None


def dump(document: Mapping[str, Any]) -> str:
    """How schemas are written and served: sorted keys, 2-space indent, a trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def dump_example(data: Mapping[str, Any]) -> str:
    """How samples and examples are written: the event's own field order, 2-space indent, a trailing newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- compatibility


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _resolve(node: Any, root: Json, seen: frozenset[str] = frozenset()) -> Json:
    """The node with its local `$ref` (to `#/$defs/...`) followed; an unresolvable one stays as it is."""
    if not isinstance(node, dict):
        return {}
    ref = node.get("$ref")
    match = _DEF_REF.match(ref) if isinstance(ref, str) else None
    if match is None or ref in seen:
        return node
    target = root.get("$defs", {}).get(match.group("name"))
    return _resolve(target, root, seen | {str(ref)}) if isinstance(target, dict) else node


def _branches(node: Any, root: Json) -> list[Json]:
    """The alternatives a value may take: anyOf/oneOf flattened, refs followed."""
    resolved = _resolve(node, root)
    alternatives = resolved.get("anyOf") or resolved.get("oneOf")
    if isinstance(alternatives, list):
        return [branch for alternative in alternatives for branch in _branches(alternative, root)]
    all_of = resolved.get("allOf")
    if isinstance(all_of, list) and all_of:
        merged: Json = {k: v for k, v in resolved.items() if k != "allOf"}
        for part in all_of:
            for branch in _branches(part, root):
                merged.setdefault("properties", {}).update(branch.get("properties", {}))
                merged["required"] = [*merged.get("required", []), *branch.get("required", [])]
                merged.update({k: v for k, v in branch.items() if k not in ("properties", "required")})
        return [merged]
    return [resolved]


def _types(branches: Sequence[Json]) -> frozenset[str]:
    """What JSON types the value may be, a string's format included (`string:date`)."""
    found: set[str] = set()
    for branch in branches:
        declared = branch.get("type")
        if isinstance(declared, str):
            names = [declared]
        elif isinstance(declared, list):
            names = [str(name) for name in declared]
        elif "const" in branch:
            names = [_json_type(branch["const"])]
        elif isinstance(branch.get("enum"), list):
            names = [_json_type(value) for value in branch["enum"]]
        else:
            names = ["any"]
        fmt = branch.get("format")
        found |= {f"{name}:{fmt}" if name == "string" and isinstance(fmt, str) else name for name in names}
    return frozenset(found)


def _of_type(branches: Sequence[Json], kind: str) -> list[Json]:
    return [b for b in branches if b.get("type") == kind or (isinstance(b.get("type"), list) and kind in b["type"])]


def _describe(types: frozenset[str]) -> str:
    return " | ".join(sorted(types))


def _compare(
    old: Any, old_root: Json, new: Any, new_root: Json, path: str, problems: list[str], seen: set[Any]
) -> None:
    key = (path, json.dumps(old, sort_keys=True), json.dumps(new, sort_keys=True))
    if key in seen:
        return
    seen.add(key)
    old_branches, new_branches = _branches(old, old_root), _branches(new, new_root)
    old_types, new_types = _types(old_branches), _types(new_branches)
    where = path or "(the event)"
    if old_types != new_types:
        problems.append(f"{where}: type changed from {_describe(old_types)} to {_describe(new_types)}")
    old_objects, new_objects = _of_type(old_branches, "object"), _of_type(new_branches, "object")
    if old_objects and new_objects:
        old_properties = {n: s for b in old_objects for n, s in b.get("properties", {}).items()}
        new_properties = {n: s for b in new_objects for n, s in b.get("properties", {}).items()}
        old_required = set.intersection(*(set(b.get("required", [])) for b in old_objects))
        new_required = set.intersection(*(set(b.get("required", [])) for b in new_objects))
        for name in sorted(new_required - old_required):
            inner = f"{path}.{name}" if path else name
            was = "it was optional" if name in old_properties else "a new property"
            problems.append(f"{inner}: newly required ({was})")
        for name, property_schema in old_properties.items():
            inner = f"{path}.{name}" if path else name
            if name not in new_properties:
                problems.append(f"{inner}: property removed")
            else:
                _compare(property_schema, old_root, new_properties[name], new_root, inner, problems, seen)
        old_values = [b["additionalProperties"] for b in old_objects if isinstance(b.get("additionalProperties"), dict)]
        new_values = [b["additionalProperties"] for b in new_objects if isinstance(b.get("additionalProperties"), dict)]
        if old_values and new_values:
            _compare(old_values[0], old_root, new_values[0], new_root, f"{path}{{*}}", problems, seen)
    old_arrays, new_arrays = _of_type(old_branches, "array"), _of_type(new_branches, "array")
    if old_arrays and new_arrays:
        old_items, new_items = old_arrays[0].get("items"), new_arrays[0].get("items")
        if isinstance(old_items, dict) and isinstance(new_items, dict):
            _compare(old_items, old_root, new_items, new_root, f"{path}[]", problems, seen)
        for n, (old_item, new_item) in enumerate(
            zip(old_arrays[0].get("prefixItems", []), new_arrays[0].get("prefixItems", []), strict=False)
        ):
            _compare(old_item, old_root, new_item, new_root, f"{path}[{n}]", problems, seen)


def compatibility_problems(old: Json, new: Json) -> list[str]:
    """Why data valid for `new` could break a consumer written for `old` (empty: compatible).

    A break is a property removed, a property's type changed (a string's format included), or a property
    newly required, at any depth (nested objects, array items, map values). Adding an optional property is
    compatible.
    """
    problems: list[str] = []
    _compare(old, old, new, new, "", problems, set())
    return problems


def catalogue_problems(committed: Mapping[str, Json], generated: Mapping[str, Json]) -> list[str]:
    """Every break between the committed schemas and the generated ones, a vanished schema included.

    A generated schema with no committed counterpart (a new event type, a new schema version) is fine.
    """
    problems = []
    for ce_type, old in sorted(committed.items()):
        new = generated.get(ce_type)
        if new is None:
            problems.append(f"{ce_type}: no event model generates it any more (an event version must never disappear)")
        else:
            problems += [f"{ce_type}: {problem}" for problem in compatibility_problems(old, new)]
    return problems


def read_schemas(directory: Path = SCHEMAS_DIR) -> dict[str, Json]:
    """The committed schemas, by CloudEvents type (the file name less `.json`)."""
    if not directory.is_dir():
        return {}
    return {path.name.removesuffix(".json"): json.loads(path.read_text("utf-8")) for path in directory.glob("*.json")}


class IncompatibleSchemas(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def write_schemas(directory: Path = SCHEMAS_DIR) -> list[Path]:
    """Write every generated schema (returns the files that changed); IncompatibleSchemas, writing nothing,
    if a committed schema would break or vanish."""
    generated = schemas()
    problems = catalogue_problems(read_schemas(directory), generated)
    if problems:
        raise IncompatibleSchemas(problems)
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    for ce_type, document in generated.items():
        path = directory / f"{ce_type}.json"
        text = dump(document)
        if not path.exists() or path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")
            changed.append(path)
    return changed


# ---------------------------------------------------------------- examples


def example_problems(ce_type: str, data: Any) -> list[str]:
    """Why `data` is not a valid, canonical example of `ce_type` (empty: it is)."""
    found = entry(ce_type)
    if found is None:
        return [f"{ce_type}: no such CloudEvents type"]
    if not isinstance(data, dict):
        return [f"{ce_type}: an example is a JSON object"]
    try:
        model = found.model.model_validate(data)
    except ValidationError as error:
        return [f"{ce_type}: {error}"]
    if model.model_dump(mode="json") != data:
        return [f"{ce_type}: not as the ledger writes it (model_dump(mode='json') differs)"]
    return []


def load_examples(directory: Path = EXAMPLES_DIR) -> dict[str, Json]:
    """The example data of each CloudEvents type that has one (none if the directory is missing)."""
    if not directory.is_dir():
        return {}
    known = {e.ce_type for e in entries()}
    found = {path.name.removesuffix(".json"): path for path in directory.glob("*.json")}
    return {ce_type: json.loads(path.read_text("utf-8")) for ce_type, path in sorted(found.items()) if ce_type in known}


def write_examples(samples: Path, directory: Path = EXAMPLES_DIR) -> list[Path]:
    """Copy one sample per CloudEvents type from `samples` into the examples; ValueError, writing nothing,
    if a type has none, a sample names no type, or a sample is not valid for its model."""
    problems = []
    texts = {}
    for event in entries():
        path = samples / f"{event.ce_type}.json"
        if not path.is_file():
            problems.append(f"{event.ce_type}: no sample {path}")
            continue
        text = path.read_text("utf-8")
        data = json.loads(text)
        problems += example_problems(event.ce_type, data)
        texts[event.ce_type] = dump_example(data)
    known = {e.ce_type for e in entries()}
    problems += [f"{p.name}: names no CloudEvents type" for p in samples.glob("*.json") if p.stem not in known]
    if problems:
        raise ValueError("\n".join(problems))
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    for ce_type, text in texts.items():
        path = directory / f"{ce_type}.json"
        if not path.exists() or path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")
            changed.append(path)
    return changed


# ---------------------------------------------------------------- AsyncAPI


def _rewrite_refs(node: Any, names: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        match = _DEF_REF.match(ref) if isinstance(ref, str) else None
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
    for ce_type, document in _schemas().items():
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m events.schema_catalogue",
        description="Regenerate the committed event JSON Schemas, or print the AsyncAPI document.",
    )
    parser.add_argument("--write", action="store_true", help=f"write {SCHEMAS_DIR}/<CloudEvents type>.json")
    parser.add_argument(
        "--examples-from", type=Path, metavar="DIR", help="with --write: copy DIR/<type>.json into the examples"
    )
    parser.add_argument("--asyncapi", action="store_true", help="print the AsyncAPI document")
    parser.add_argument("--public-url", default=DEFAULT_PUBLIC_URL)
    parser.add_argument("--prefix", default=DEFAULT_PREFIX)
    parser.add_argument("--bootstrap", default=None)
    options = parser.parse_args(argv)
    if options.examples_from and not options.write:
        parser.error("--examples-from goes with --write")
    if not (options.write or options.asyncapi):
        parser.error("say --write or --asyncapi")
    if options.write:
        try:
            changed = write_schemas()
        except IncompatibleSchemas as error:
            print("refused: these changes would break consumers of committed schemas:", file=sys.stderr)
            for problem in error.problems:
                print(f"  {problem}", file=sys.stderr)
            print("give the event a new schema_version (a new CloudEvents type) instead", file=sys.stderr)
            return 1
        if options.examples_from:
            try:
                changed += write_examples(options.examples_from)
            except ValueError as error:
                print(f"refused: bad samples in {options.examples_from}:\n{error}", file=sys.stderr)
                return 1
        print(f"{len(entries())} event schemas; {len(changed)} file(s) written", file=sys.stderr)
        for path in changed:
            print(f"  {path}", file=sys.stderr)
    if options.asyncapi:
        document = asyncapi_document(
            public_url=options.public_url, prefix=options.prefix, bootstrap=options.bootstrap, examples=load_examples()
        )
        sys.stdout.write(dump(document))
    return 0


if __name__ == "__main__":
    sys.exit(main())
