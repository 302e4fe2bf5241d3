"""Order status read model: status, timeline, lines and totals, delivery progress, expected date."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from events.kernel.money import ZERO, Money
from events.kernel.working_days import working_days_between
from events.ledger import RecordedEvent
from events.ledger.catalogue import decode_order_event
from events.orders.facts import (
    CallUpAwarded,
    DeliveryDateRevised,
    DeliveryRecorded,
    LateDeliveryRebateApplied,
    NonStandingOfferLinePriced,
    OrderCancelled,
    OrderClosed,
    OrderPlaced,
    OrderPricing,
    Section32Amended,
    SecurityAssessmentRecorded,
    SecurityRiskApproved,
    add_quantities,
)
from projections import Projection

AT_RISK_WORKING_DAYS = 5
Lateness = Literal["on_time", "at_risk", "late"]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LineStatus(_Part):
    sku: str
    description: str
    category: str
    standing_offer_item: bool
    quantity: int
    delivered: int
    unit_price: Money
    priced: bool


class LocationStatus(_Part):
    province: str
    address: str
    ordered: dict[str, int]
    delivered: dict[str, int]
    complete: bool


class Totals(_Part):
    net: Money
    ehf: Money
    tax: Money
    total: Money
    rebates: Money


class TimelineEntry(_Part):
    position: int
    stream_version: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    details: dict[str, Any]


class Cancellation(_Part):
    reason: str
    cancelled_on: date
    note: str
    requested_by: str


class OrderStatus(_Part):
    order_id: str
    client_org: str
    status: str
    standing_offer: str
    supplier: str
    processing: str
    urgency: str
    requester: str
    financial_reference: str
    section32_amount: Money
    currency: str
    placed_at: datetime
    contract_number: str | None = None
    awarded_on: date | None = None
    agreed_delivery_date: date | None = None
    standard_delivery_date: bool | None = None
    last_delivery_on: date | None = None
    delivered_late: bool = False
    lines: tuple[LineStatus, ...]
    locations: tuple[LocationStatus, ...]
    totals: Totals
    security_risk: str | None = None
    security_approvals: tuple[str, ...] = ()
    review_flags: tuple[str, ...] = ()
    cancellation: Cancellation | None = None
    closed_on: date | None = None
    timeline: tuple[TimelineEntry, ...] = ()
    last_changed_at: datetime
    stream_version: int
    position: int

    @property
    def fully_delivered(self) -> bool:
        return all(location.complete for location in self.locations)


def keys(event: RecordedEvent) -> tuple[str, ...]:
    return (event.stream_id,) if event.stream_type == "order" else ()


def project(row: OrderStatus | None, recorded: RecordedEvent, key: str) -> OrderStatus | None:
    """The order's status after one more of its events."""
    if row is not None and recorded.stream_version <= row.stream_version:
        return row  # already applied: redelivery changes nothing
    event = decode_order_event(recorded.data)
    if isinstance(event, OrderPlaced):
        row = _placed(event, recorded)
    elif row is None:
        return None
    else:
        row = _apply(row, event)
    entry = TimelineEntry(
        position=recorded.position,
        stream_version=recorded.stream_version,
        type=recorded.type,
        occurred_at=recorded.occurred_at,
        recorded_at=recorded.recorded_at,
        details=_details(event),
    )
    return row.model_copy(
        update={
            "timeline": (*row.timeline, entry),
            "last_changed_at": max(row.last_changed_at, recorded.occurred_at),
            "stream_version": recorded.stream_version,
            "position": recorded.position,
        }
    )


def _placed(event: OrderPlaced, recorded: RecordedEvent) -> OrderStatus:
    return OrderStatus(
        order_id=event.order_id,
        client_org=event.client_org,
        status="placed",
        standing_offer=event.standing_offer,
        supplier=event.supplier,
        processing=event.processing,
        urgency=event.urgency,
        requester=event.requester,
        financial_reference=event.financial_reference,
        section32_amount=event.section32_amount,
        currency=event.currency,
        placed_at=recorded.occurred_at,
        lines=tuple(
            LineStatus(
                sku=line.sku,
                description=line.description,
                category=line.category,
                standing_offer_item=line.standing_offer_item,
                quantity=line.quantity,
                delivered=0,
                unit_price=line.unit_price,
                priced=line.standing_offer_item,
            )
            for line in event.lines
        ),
        locations=tuple(
            LocationStatus(
                province=loc.province, address=loc.address, ordered=dict(loc.quantities), delivered={}, complete=False
            )
            for loc in event.delivery_locations
        ),
        totals=_totals(event.pricing, ZERO),
        review_flags=event.review_flags,
        last_changed_at=recorded.occurred_at,
        stream_version=0,
        position=0,
    )


def _totals(pricing: OrderPricing, rebates: Decimal) -> Totals:
    t = pricing.totals
    return Totals(net=t.net, ehf=t.ehf, tax=t.tax, total=t.total, rebates=rebates)


def _apply(row: OrderStatus, event: Any) -> OrderStatus:
    match event:
        case NonStandingOfferLinePriced():
            lines = tuple(
                line.model_copy(update={"unit_price": event.unit_price, "priced": True})
                if line.sku == event.sku
                else line
                for line in row.lines
            )
            return row.model_copy(
                update={
                    "lines": lines,
                    "totals": _totals(event.pricing, row.totals.rebates),
                    "processing": event.processing,
                }
            )
        case Section32Amended():
            return row.model_copy(update={"section32_amount": event.section32_amount})
        case SecurityAssessmentRecorded():
            return row.model_copy(update={"security_risk": event.risk, "security_approvals": ()})
        case SecurityRiskApproved():
            return row.model_copy(update={"security_approvals": (*row.security_approvals, event.authority)})
        case CallUpAwarded():
            return row.model_copy(
                update={
                    "status": "awarded",
                    "contract_number": event.contract_number,
                    "awarded_on": event.awarded_on,
                    "agreed_delivery_date": event.agreed_delivery_date,
                    "standard_delivery_date": event.standard_delivery_date,
                }
            )
        case DeliveryDateRevised():
            return row.model_copy(
                update={"agreed_delivery_date": event.agreed_delivery_date, "standard_delivery_date": False}
            )
        case DeliveryRecorded():
            return _delivered(row, event)
        case LateDeliveryRebateApplied():
            return row.model_copy(
                update={"totals": row.totals.model_copy(update={"rebates": row.totals.rebates + event.amount})}
            )
        case OrderCancelled():
            return row.model_copy(
                update={
                    "status": "cancelled",
                    "cancellation": Cancellation(
                        reason=event.reason,
                        cancelled_on=event.cancelled_on,
                        note=event.note,
                        requested_by=event.requested_by,
                    ),
                }
            )
        case OrderClosed():
            return row.model_copy(update={"status": "closed", "closed_on": event.closed_on})
    return row


def _delivered(row: OrderStatus, event: DeliveryRecorded) -> OrderStatus:
    locations = list(row.locations)
    location = locations[event.location]
    delivered = add_quantities(location.delivered, event.quantities)
    complete = all(delivered.get(sku, 0) >= q for sku, q in location.ordered.items())
    locations[event.location] = location.model_copy(update={"delivered": delivered, "complete": complete})
    lines = tuple(
        line.model_copy(update={"delivered": line.delivered + event.quantities.get(line.sku, 0)}) for line in row.lines
    )
    late = row.agreed_delivery_date is not None and event.delivered_on > row.agreed_delivery_date
    return row.model_copy(
        update={
            "locations": tuple(locations),
            "lines": lines,
            "last_delivery_on": event.delivered_on,
            "status": "delivered" if event.fully_delivered else "partially_delivered",
            "delivered_late": row.delivered_late or late,
        }
    )


def _details(event: Any) -> dict[str, Any]:
    """What the timeline says of each event (money amounts only where the event is about money)."""
    data: dict[str, Any] = event.model_dump(
        mode="json",
        exclude={"type", "schema_version", "pricing", "lines", "delivery_locations", "justification", "requester"},
    )
    if isinstance(event, DeliveryRecorded):
        # What the timeline said of a delivery before serial numbers (schema version 1), and the serial numbers
        # when there are some: a delivery stored as version 1 reads the same after the upgrade as before it.
        data = {key: value for key, value in data.items() if key != "items"}
        data["quantities"] = event.quantities
        if event.serial_numbers:
            data["serial_numbers"] = {sku: list(serials) for sku, serials in event.serial_numbers.items()}
        return data
    if isinstance(event, OrderPlaced):
        return {
            "locations": len(event.delivery_locations),
            "lines": len(event.lines),
            "processing": event.processing,
            "urgency": event.urgency,
            "review_flags": list(event.review_flags),
        }
    return data


def lateness(row: OrderStatus, today: date) -> Lateness | None:
    """on_time / at_risk (<= 5 working days left) / late (past the agreed date, not all delivered).

    None while there is no agreed date (not awarded) or once the order is cancelled.
    """
    if row.cancellation is not None or row.agreed_delivery_date is None:
        return None
    if row.fully_delivered:
        return "on_time"
    if today > row.agreed_delivery_date:
        return "late"
    if working_days_between(today, row.agreed_delivery_date) <= AT_RISK_WORKING_DAYS:
        return "at_risk"
    return "on_time"


def index(row: OrderStatus) -> dict[str, Any]:
    return {
        "client_org": row.client_org,
        "status": row.status,
        "agreed_delivery_date": row.agreed_delivery_date.isoformat() if row.agreed_delivery_date else None,
        "cancelled": int(row.cancellation is not None),
        "open_delivery": int(row.cancellation is None and row.closed_on is None and not row.fully_delivered),
        "last_changed_at": row.last_changed_at.astimezone(UTC).isoformat(),
    }


ORDER_STATUS = Projection(
    name="order_status",
    version=2,
    row_model=OrderStatus,
    keys=keys,
    project=project,
    columns={
        "client_org": "TEXT",
        "status": "TEXT",
        "agreed_delivery_date": "TEXT",
        "cancelled": "INTEGER",
        "open_delivery": "INTEGER",
        "last_changed_at": "TEXT",
    },
    index=index,
)
