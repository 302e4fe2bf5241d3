"""The published shapes of the ledger's events: one JSON Schema per CloudEvents type, and an AsyncAPI 3.0.0 document.

Both come from the pydantic event models (`events.ledger.catalogue.PUBLISHED_TYPES`), never written by hand:

- **JSON Schema** (draft 2020-12) of each event's `data`, what a Kafka record's value holds, at
  `/v1/schemas/<CloudEvents type>.json` (its `$id`, and the path of every record's `ce_dataschema`).
  Serialisation shapes: money and other decimals are strings, dates and times ISO 8601 strings.
  Schemas are open (no `additionalProperties: false`): within one schema version a new optional
  property may appear, so a consumer must ignore properties it does not know.
- **AsyncAPI 3.0.0**: one channel per Kafka topic (`<prefix>.<stream type>s.v1`), one message per
  CloudEvents type (payload = its JSON Schema, headers = the binary-mode `ce_*` headers), and one
  `receive` operation per channel. The document is the integrators' contract: it describes *their*
  application, a consumer, so its operations receive (orderledger's relay is the one that sends).

The generated schemas are committed in `events/publishing/schemas/`
(`python -m events.publishing.json_schemas --write`).
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

from events.kernel.model import Fact
from events.ledger.catalogue import PUBLISHED_TYPES, UPCASTERS
from events.publishing.cloud_events import cloud_type, source
from events.publishing.compatibility import catalogue_problems

Json = dict[str, Any]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMAS_DIR = Path(__file__).parent / "schemas"
EXAMPLES_DIR = SCHEMAS_DIR / "examples"
SCHEMA_PATH = "/v1/schemas/{ce_type}.json"
DEFAULT_PREFIX = "orderledger"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


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
    for stream_type, models in PUBLISHED_TYPES.items():
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


def read_schemas(directory: Path = SCHEMAS_DIR) -> dict[str, Json]:
    """The committed schemas, by CloudEvents type (the file name less `.json`)."""
    if not directory.is_dir():
        return {}
    return {path.name.removesuffix(".json"): json.loads(path.read_text("utf-8")) for path in directory.glob("*.json")}


class IncompatibleSchemas(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def upcaster_problems(upcasters: Mapping[tuple[str, int], object] | None = None) -> list[str]:
    """A breaking change is a new schema version, and a new version needs an upcaster from the one before it:
    the ledger keeps every event as stored, so the code must read each older version (empty: it can)."""
    upcasters = UPCASTERS if upcasters is None else upcasters
    versions: dict[str, list[int]] = {}
    for event in entries():
        versions.setdefault(event.event_type, []).append(event.schema_version)
    problems = [
        f"{event_type} v{older}: no upcaster to v{older + 1}; stored v{older} events could not be decoded"
        " (add one to the context's *_UPCASTERS in events/<context>/facts.py)"
        for event_type, found in versions.items()
        for older in sorted(found)[:-1]
        if (event_type, older) not in upcasters
    ]
    problems += [
        f"{event_type} v{version}: an upcaster, but v{version} is not an older published version"
        for event_type, version in upcasters
        if version not in versions.get(event_type, []) or version == max(versions[event_type])
    ]
    return problems


def write_schemas(directory: Path = SCHEMAS_DIR) -> list[Path]:
    """Write every generated schema (returns the files that changed); IncompatibleSchemas, writing nothing,
    if a committed schema would break or vanish, or a new schema version has no upcaster from the one before."""
    generated = schemas()
    problems = catalogue_problems(read_schemas(directory), generated) + upcaster_problems()
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m events.publishing.json_schemas",
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
            print(
                "give the event a new schema_version (a new CloudEvents type) and an upcaster from the old one",
                file=sys.stderr,
            )
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
        from events.publishing.asyncapi import asyncapi_document

        document = asyncapi_document(
            public_url=options.public_url, prefix=options.prefix, bootstrap=options.bootstrap, examples=load_examples()
        )
        sys.stdout.write(dump(document))
    return 0


if __name__ == "__main__":
    sys.exit(main())
