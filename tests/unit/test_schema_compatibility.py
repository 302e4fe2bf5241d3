"""The committed event schemas never break a consumer, and the saved sample events fit them.

events/publishing/schemas/<CloudEvents type>.json are the published schemas (`python -m events.publishing.json_schemas
--write`). For every one of them the schema the models generate now must be compatible: no property
removed, none retyped, none newly required; an added optional property, a new event type or a new schema
version is fine; a committed schema with nothing generating it any more fails. tests/samples/ holds one
real `data` per event type (from the demo ledger, `python -m tests.samples.capture`, or made by hand for
the types the demo never produces); events/publishing/schemas/examples/ is their copy that the app shows.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from events.ledger.catalogue import CLOUD_TYPES, EVENT_TYPES, UPCASTERS, upcast
from events.publishing.compatibility import catalogue_problems, compatibility_problems
from events.publishing.json_schemas import (
    EXAMPLES_DIR,
    SCHEMAS_DIR,
    IncompatibleSchemas,
    dump,
    entries,
    entry,
    read_schemas,
    schemas,
    upcaster_problems,
    write_schemas,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "samples"
COMMITTED = read_schemas(SCHEMAS_DIR)
GENERATED = schemas()
REGENERATE = "run `python -m events.publishing.json_schemas --write` and commit events/publishing/schemas/"
COPY_EXAMPLES = "run `python -m events.publishing.json_schemas --write --examples-from tests/samples`"


def sample_files() -> list[Path]:
    return sorted(SAMPLES.glob("*.json"))


# ---------------------------------------------------------------- the committed schemas


def test_the_schemas_are_committed():
    assert len(COMMITTED) >= 43
    assert sorted(GENERATED) == sorted(e.ce_type for e in entries())
    missing = sorted(set(GENERATED) - set(COMMITTED))
    assert not missing, f"event types without a committed schema: {missing}; {REGENERATE}"


@pytest.mark.parametrize("ce_type", sorted(COMMITTED))
def test_a_committed_schema_is_compatible_with_the_one_generated_now(ce_type: str):
    problems = catalogue_problems({ce_type: COMMITTED[ce_type]}, GENERATED)
    assert not problems, (
        "a change to an event model would break consumers; give the event a new schema_version instead:\n"
        + "\n".join(problems)
    )


def test_the_committed_schemas_are_exactly_what_the_models_generate():
    stale = [
        ce_type
        for ce_type, document in GENERATED.items()
        if (SCHEMAS_DIR / f"{ce_type}.json").read_text("utf-8") != dump(document)
    ]
    assert not stale, f"out of date: {stale}; {REGENERATE}"


def test_a_committed_schema_has_its_id_title_and_description():
    for ce_type, document in COMMITTED.items():
        Draft202012Validator.check_schema(document)
        assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert document["$id"] == f"/v1/schemas/{ce_type}.json"
        assert document["title"] and document["description"], ce_type
        assert document["required"][:2] == ["type", "schema_version"], ce_type


# ---------------------------------------------------------------- the checker catches every kind of break


def placed() -> dict[str, Any]:
    return copy.deepcopy(GENERATED["ca.orderledger.order.placed.v1"])


def test_an_unchanged_schema_and_an_added_optional_property_are_compatible():
    assert compatibility_problems(placed(), placed()) == []
    new = placed()
    new["properties"]["delivery_instructions"] = {"type": "string"}
    new["$defs"]["OrderLine"]["properties"]["colour"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert compatibility_problems(placed(), new) == []


def test_a_removed_property_is_a_break_at_any_depth():
    new = placed()
    del new["properties"]["supplier"]
    del new["$defs"]["OrderTotals"]["properties"]["net"]
    assert compatibility_problems(placed(), new) == [
        "supplier: property removed",
        "pricing.totals.net: property removed",
    ]


def test_a_changed_type_is_a_break():
    new = placed()
    new["properties"]["order_id"] = {"type": "integer"}  # string -> integer
    new["$defs"]["OrderPricing"]["properties"]["tax_date"]["format"] = "date-time"  # a date -> a date-time
    new["$defs"]["OrderLine"]["properties"]["quantity"] = {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    new["$defs"]["PricedLine"]["properties"]["taxes"]["additionalProperties"] = {"type": "number"}  # map values
    new["properties"]["review_flags"]["items"] = {"type": "integer"}  # array items
    assert compatibility_problems(placed(), new) == [
        "order_id: type changed from string to integer",
        "lines[].quantity: type changed from integer to integer | null",
        "pricing.tax_date: type changed from string:date to string:date-time",
        "pricing.lines[].taxes{*}: type changed from string to number",
        "review_flags[]: type changed from string to integer",
    ]


def test_a_newly_required_property_is_a_break():
    new = placed()
    new["required"].append("contract_id")  # optional before
    new["properties"]["cost_centre"] = {"type": "string"}
    new["required"].append("cost_centre")  # a new property, required at once
    new["$defs"]["OrderLine"]["required"].append("supplier")  # nested
    assert compatibility_problems(placed(), new) == [
        "contract_id: newly required (it was optional)",
        "cost_centre: newly required (a new property)",
        "lines[].supplier: newly required (it was optional)",
    ]


def test_a_vanished_schema_is_a_break_and_a_new_type_or_version_is_not():
    committed = {name: GENERATED[name] for name in ("ca.orderledger.order.placed.v1", "ca.orderledger.order.closed.v1")}
    generated = {name: doc for name, doc in GENERATED.items() if name != "ca.orderledger.order.closed.v1"}
    generated["ca.orderledger.order.placed.v2"] = placed()  # a new version
    generated["ca.orderledger.order.archived.v1"] = {"type": "object", "properties": {}}  # a new type
    assert catalogue_problems(committed, generated) == [
        "ca.orderledger.order.closed.v1: no event model generates it any more (an event version must never disappear)"
    ]


def test_write_refuses_a_break_and_writes_nothing(tmp_path: Path):
    baseline = placed()
    baseline["properties"]["retired_field"] = {"type": "string"}  # committed, but no model has it now
    path = tmp_path / "ca.orderledger.order.placed.v1.json"
    path.write_text(dump(baseline), "utf-8")
    with pytest.raises(IncompatibleSchemas) as refused:
        write_schemas(tmp_path)
    assert refused.value.problems == ["ca.orderledger.order.placed.v1: retired_field: property removed"]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert path.read_text("utf-8") == dump(baseline)


def test_every_older_schema_version_has_an_upcaster_to_the_next():
    assert upcaster_problems() == []
    assert ("DeliveryRecorded", 1) in UPCASTERS  # the one breaking change so far (issue 17)


def test_a_new_version_without_an_upcaster_is_refused_and_nothing_is_written(tmp_path: Path, monkeypatch):
    """A breaking change: a new schema version of DeliveryRecorded, but nobody said how to read the old one."""
    assert upcaster_problems({}) == [
        "DeliveryRecorded v1: no upcaster to v2; stored v1 events could not be decoded"
        " (add one to the context's *_UPCASTERS in events/<context>/facts.py)"
    ]
    assert upcaster_problems({**UPCASTERS, ("OrderClosed", 1): lambda data: data, ("Gone", 1): dict}) == [
        "OrderClosed v1: an upcaster, but v1 is not an older published version",
        "Gone v1: an upcaster, but v1 is not an older published version",
    ]
    monkeypatch.setattr("events.publishing.json_schemas.UPCASTERS", {})
    with pytest.raises(IncompatibleSchemas) as refused:
        write_schemas(tmp_path)
    assert refused.value.problems[0].startswith("DeliveryRecorded v1: no upcaster to v2")
    assert list(tmp_path.iterdir()) == []


def test_an_older_sample_upcasts_to_data_the_current_model_reads_and_its_schema_accepts():
    """Every stored version reads as the current one: the v1 sample, upcast, is a valid v2 with its facts kept."""
    for event in entries():
        current = EVENT_TYPES[event.event_type]
        if current is event.model:
            continue
        data = json.loads((SAMPLES / f"{event.ce_type}.json").read_text("utf-8"))
        upcast_data = upcast(data)
        decoded = current.model_validate(upcast_data)
        latest = f"{event.ce_type.rsplit('.v', 1)[0]}.v{decoded.schema_version}"
        validator = Draft202012Validator(COMMITTED[latest], format_checker=FormatChecker())
        assert [e.message for e in validator.iter_errors(decoded.model_dump(mode="json"))] == []
        if event.event_type == "DeliveryRecorded":
            assert decoded.quantities == data["quantities"]
            assert decoded.serial_numbers == {}
            assert {k: v for k, v in upcast_data.items() if k not in ("items", "schema_version")} == {
                k: v for k, v in data.items() if k not in ("quantities", "schema_version")
            }


def test_write_writes_every_schema_into_an_empty_directory(tmp_path: Path):
    written = write_schemas(tmp_path)
    assert len(written) == len(GENERATED)
    assert write_schemas(tmp_path) == []  # idempotent
    assert read_schemas(tmp_path) == GENERATED


# ---------------------------------------------------------------- the saved samples


def test_every_event_type_has_a_sample_and_every_sample_a_type():
    names = {path.stem for path in sample_files()}
    assert sorted(set(GENERATED) - names) == [], "event types without a sample in tests/samples"
    assert sorted(names - set(GENERATED)) == [], "samples that name no event type"


@pytest.mark.parametrize("path", sample_files(), ids=lambda p: p.stem)
def test_a_sample_decodes_with_its_model_and_validates_against_its_committed_schema(path: Path):
    data = json.loads(path.read_text("utf-8"))
    found = entry(path.stem)
    assert found is not None
    event = found.model.model_validate(data)
    assert event.model_dump(mode="json") == data, "not as the ledger writes it"
    assert CLOUD_TYPES[path.stem][:2] == (data["type"], data["schema_version"])
    validator = Draft202012Validator(COMMITTED[path.stem], format_checker=FormatChecker())
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == []


def test_the_schema_validation_of_samples_is_real():
    data = json.loads((SAMPLES / "ca.orderledger.order.placed.v1.json").read_text("utf-8"))
    validator = Draft202012Validator(COMMITTED["ca.orderledger.order.placed.v1"], format_checker=FormatChecker())
    broken = copy.deepcopy(data)
    del broken["order_id"]
    broken["pricing"]["tax_date"] = "23/11/2026"
    broken["lines"][0]["quantity"] = "4"
    messages = sorted(e.message for e in validator.iter_errors(broken))
    assert messages == [
        "'23/11/2026' is not a 'date'",
        "'4' is not of type 'integer'",
        "'order_id' is a required property",
    ]


def test_the_examples_the_app_shows_are_the_samples():
    examples = {path.name: path.read_text("utf-8") for path in EXAMPLES_DIR.glob("*.json")}
    samples = {path.name: path.read_text("utf-8") for path in sample_files()}
    assert sorted(examples) == sorted(samples), COPY_EXAMPLES
    differ = sorted(name for name in samples if examples[name] != samples[name])
    assert not differ, f"{differ} differ from tests/samples; {COPY_EXAMPLES}"
