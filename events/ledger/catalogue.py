"""Every event type the ledger knows, by name: decoding stored events back into models."""

from __future__ import annotations

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
from events.orders.facts import ORDER_EVENT_TYPES, OrderEvent
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
EVENT_TYPES: dict[str, type[Fact]] = {
    model.model_fields["type"].default: model for models in STREAM_TYPES.values() for model in models
}
# CloudEvents type -> (event type, schema version, stream type): how a consumer maps a record back.
CLOUD_TYPES: dict[str, tuple[str, int, str]] = {
    cloud_type(model.model_fields["type"].default, kind, model.model_fields["schema_version"].default): (
        model.model_fields["type"].default,
        model.model_fields["schema_version"].default,
        kind,
    )
    for kind, models in STREAM_TYPES.items()
    for model in models
}
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
    return model.model_validate(event.data)


def decode_order_event(data: dict[str, Any]) -> OrderEvent:
    return _order_event.validate_python(data)


def decode_contract_event(data: dict[str, Any]) -> ContractEvent:
    return _contract_event.validate_python(data)


def decode_invoice_event(data: dict[str, Any]) -> InvoiceEvent:
    return _invoice_event.validate_python(data)


def decode_period_event(data: dict[str, Any]) -> PeriodEvent:
    return _period_event.validate_python(data)


def decode_service_event(data: dict[str, Any]) -> ServiceEvent:
    return _service_event.validate_python(data)


def decode_incident_event(data: dict[str, Any]) -> IncidentEvent:
    return _incident_event.validate_python(data)
