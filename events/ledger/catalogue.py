"""Every event type the ledger knows, by name: decoding stored events back into models, older versions upcast.

A stored event is never rewritten. When an event's shape changes in a way old consumers cannot read, it gets a
new schema version (a new CloudEvents type) and its context an upcaster from the old version's data; decoding
upcasts what the ledger holds to the version the code knows, so deciders and projections see one shape. The
superseded versions stay in the catalogue: their JSON Schemas stay published and the ledger still serves
their stored events as they were recorded (as stored, hash and all).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter

from events.billing.facts import (
    CREDIT_EVENT_TYPES,
    INVOICE_EVENT_TYPES,
    ORGANISATION_EVENT_TYPES,
    PERIOD_EVENT_TYPES,
    InvoiceEvent,
    PeriodEvent,
)
from events.contracts.facts import CONTRACT_EVENT_TYPES, ContractEvent
from events.kernel.model import Fact
from events.ledger import RecordedEvent
from events.orders.facts import ORDER_EVENT_TYPES, ORDER_UPCASTERS, SUPERSEDED_ORDER_EVENT_TYPES, OrderEvent
from events.publishing.cloud_events import cloud_type
from events.services.facts import INCIDENT_EVENT_TYPES, SERVICE_EVENT_TYPES, IncidentEvent, ServiceEvent

# Stream type -> its event types; each stream type is one Kafka topic (`<prefix>.<type>s.v1`).
STREAM_TYPES: dict[str, tuple[type[Fact], ...]] = {
    "order": ORDER_EVENT_TYPES,
    "contract": CONTRACT_EVENT_TYPES,
    "organisation": ORGANISATION_EVENT_TYPES,
    "invoice": INVOICE_EVENT_TYPES,
    "credit": CREDIT_EVENT_TYPES,
    "billing_period": PERIOD_EVENT_TYPES,
    "service": SERVICE_EVENT_TYPES,
    "incident": INCIDENT_EVENT_TYPES,
}
SUPERSEDED: tuple[type[Fact], ...] = SUPERSEDED_ORDER_EVENT_TYPES
UPCASTERS = ORDER_UPCASTERS


def _name(model: type[Fact]) -> str:
    return str(model.model_fields["type"].default)


def _version(model: type[Fact]) -> int:
    return int(model.model_fields["schema_version"].default)


# Stream type -> every version of its event types the ledger may hold, each superseded one just before its successor:
# what is published (JSON Schemas, AsyncAPI, the feed's types).
PUBLISHED_TYPES: dict[str, tuple[type[Fact], ...]] = {
    kind: tuple(
        older
        for model in models
        for older in (*sorted((s for s in SUPERSEDED if _name(s) == _name(model)), key=_version), model)
    )
    for kind, models in STREAM_TYPES.items()
}
# Event type -> the model of the version the code writes.
EVENT_TYPES: dict[str, type[Fact]] = {_name(model): model for models in STREAM_TYPES.values() for model in models}
# CloudEvents type -> (event type, schema version, stream type): how a consumer maps a record back.
CLOUD_TYPES: dict[str, tuple[str, int, str]] = {
    cloud_type(_name(model), kind, _version(model)): (_name(model), _version(model), kind)
    for kind, models in PUBLISHED_TYPES.items()
    for model in models
}


def upcast(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The data of a stored event as the version the code writes: each upcaster in turn from its stored version."""
    while True:
        version = data.get("schema_version")
        step = UPCASTERS.get((str(data.get("type")), version)) if isinstance(version, int) else None
        if step is None:
            return data
        data = step(data)


_order_event = TypeAdapter(OrderEvent)
_contract_event = TypeAdapter(ContractEvent)
_invoice_event = TypeAdapter(InvoiceEvent)
_period_event = TypeAdapter(PeriodEvent)
_service_event = TypeAdapter(ServiceEvent)
_incident_event = TypeAdapter(IncidentEvent)


def decode(event: RecordedEvent) -> Any:
    """The typed domain event behind a stored one (ValueError if the type is unknown)."""
    model = EVENT_TYPES.get(event.type)
    if model is None:
        raise ValueError(f"unknown event type {event.type!r}")
    return model.model_validate(upcast(event.data))


def decode_order_event(data: dict[str, Any]) -> OrderEvent:
    return _order_event.validate_python(upcast(data))


def decode_contract_event(data: dict[str, Any]) -> ContractEvent:
    return _contract_event.validate_python(upcast(data))


def decode_invoice_event(data: dict[str, Any]) -> InvoiceEvent:
    return _invoice_event.validate_python(upcast(data))


def decode_period_event(data: dict[str, Any]) -> PeriodEvent:
    return _period_event.validate_python(upcast(data))


def decode_service_event(data: dict[str, Any]) -> ServiceEvent:
    return _service_event.validate_python(upcast(data))


def decode_incident_event(data: dict[str, Any]) -> IncidentEvent:
    return _incident_event.validate_python(upcast(data))
