"""The order decider: decide(command, order) -> events, and evolve(order, event) -> order. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from pydantic import Field

from events.kernel.errors import CommandRejected
from events.kernel.model import Fact
from events.kernel.money import ZERO
from events.kernel.rates import RateBook
from events.kernel.working_days import STANDARD_DELIVERY_WORKING_DAYS, add_working_days
from events.orders.commands import (
    AmendSection32,
    ApplyLateDeliveryRebate,
    ApproveSecurityRisk,
    AwardCallUp,
    CancelOrder,
    CloseOrder,
    OrderCommand,
    PlaceOrder,
    PriceNonStandingOfferLine,
    RecordDelivery,
    RecordSecurityAssessment,
    ReviseDeliveryDate,
)
from events.orders.facts import (
    ADD_ON_CATEGORIES,
    SECURITY_AUTHORITIES,
    SYSTEM_CATEGORIES,
    CallUpAwarded,
    DeliveredItem,
    DeliveryDateRevised,
    DeliveryLocation,
    DeliveryRecorded,
    LateDeliveryRebateApplied,
    NonStandingOfferLinePriced,
    OrderCancelled,
    OrderClosed,
    OrderEvent,
    OrderLine,
    OrderPlaced,
    OrderPricing,
    Processing,
    Risk,
    Section32Amended,
    SecurityAssessmentRecorded,
    SecurityRiskApproved,
    add_quantities,
)
from events.orders.pricing import price_order, reprice_line

EASTERN = ZoneInfo("America/Toronto")
FINANCIAL_REFERENCE_MAX = 50
DELEGATED_LIMIT = Decimal("25000.00")  # per order, taxes included (seed 000)
NON_STANDING_OFFER_LIMIT = Decimal("25000.00")  # taxes included; cannot be raised
CHECKOUT_LOCATIONS = 3
JUSTIFICATION_MIN_CHARS = 20
YEAR_END_GUARANTEE_LAST_DAY = 7  # award before 31 March is guaranteed up to 7 December


class Order(Fact):
    """What the decider needs to know of an order, folded from its events."""

    order_id: str
    status: str  # placed | awarded | partially_delivered | delivered | cancelled | closed
    placed_on: date
    client_org: str
    client_tax_status: str
    supplier: str
    processing: Processing
    urgency: str
    section32_amount: Decimal
    lines: tuple[OrderLine, ...]
    locations: tuple[DeliveryLocation, ...]
    pricing: OrderPricing
    contract_id: str | None = None
    delivered: dict[int, dict[str, int]] = Field(default_factory=dict)
    awarded_on: date | None = None
    agreed_delivery_date: date | None = None
    last_delivery_on: date | None = None
    late_delivery_seen: bool = False
    security_risk: Risk | None = None
    security_approvals: frozenset[str] = frozenset()
    priced_skus: frozenset[str] = frozenset()
    serial_numbers: frozenset[str] = frozenset()  # every serial number delivered on the order
    rebates: Decimal = ZERO
    cancelled: bool = False
    closed: bool = False

    @property
    def fully_delivered(self) -> bool:
        return all(
            self.delivered.get(index, {}).get(sku, 0) >= quantity
            for index, location in enumerate(self.locations)
            for sku, quantity in location.quantities.items()
        )

    @property
    def unpriced_skus(self) -> list[str]:
        return [line.sku for line in self.lines if not line.standing_offer_item and line.sku not in self.priced_skus]


# ---------------------------------------------------------------- decide


def decide(command: OrderCommand, order: Order | None, rates: RateBook) -> list[OrderEvent]:
    """The events a command produces on an order, or CommandRejected with a stable code."""
    if isinstance(command, PlaceOrder):
        if order is not None:
            raise CommandRejected("order_exists", f"order {command.order_id} already exists", 409)
        return [_place(command, rates)]
    if order is None:
        raise CommandRejected("order_not_found", "there is no such order", 404)
    if order.closed:
        raise CommandRejected("order_closed", f"order {order.order_id} is closed; nothing more can be recorded on it")
    match command:
        case PriceNonStandingOfferLine():
            return [_price(command, order, rates)]
        case AmendSection32():
            return [_amend_section32(command, order)]
        case RecordSecurityAssessment():
            _require_open_before_award(order, "record a security assessment")
            if all(line.standing_offer_item for line in order.lines):
                raise CommandRejected(
                    "no_non_standard_items",
                    "security assessments are for non-standing-offer items, and this order has none",
                )
            return [SecurityAssessmentRecorded(risk=command.risk, assessed_on=command.assessed_on)]
        case ApproveSecurityRisk():
            return [_approve_security(command, order)]
        case AwardCallUp():
            return [_award(command, order)]
        case ReviseDeliveryDate():
            return [_revise_delivery_date(command, order)]
        case RecordDelivery():
            return [_deliver(command, order)]
        case ApplyLateDeliveryRebate():
            return [_rebate(command, order)]
        case CancelOrder():
            return [_cancel(command, order)]
        case CloseOrder():
            if not (order.cancelled or order.fully_delivered):
                raise CommandRejected(
                    "order_still_open",
                    "only a fully delivered or cancelled order can be closed",
                )
            _not_before(command.closed_on, order.placed_on, "closed_on", "the order was placed")
            return [OrderClosed(closed_on=command.closed_on)]
    raise CommandRejected("unknown_command", f"{type(command).__name__} is not an order command")


def _place(command: PlaceOrder, rates: RateBook) -> OrderPlaced:
    if not command.lines:
        raise CommandRejected("no_lines", "an order needs at least one line")
    if not command.delivery_locations:
        raise CommandRejected("no_delivery_location", "an order needs at least one delivery location")
    if len(command.financial_reference) > FINANCIAL_REFERENCE_MAX:
        raise CommandRejected(
            "financial_reference_too_long",
            f"the financial reference holds at most {FINANCIAL_REFERENCE_MAX} characters"
            f" ({len(command.financial_reference)} given)",
        )
    skus = [line.sku for line in command.lines]
    if len(set(skus)) != len(skus):
        raise CommandRejected("duplicate_sku", "each SKU may appear on only one line; add up the quantities")
    _one_standing_offer(command)
    _non_standing_offer_items(command.lines)
    if command.urgency == "time_sensitive":
        if len((command.justification or "").strip()) < JUSTIFICATION_MIN_CHARS:
            raise CommandRejected(
                "justification_required",
                "a time-sensitive order needs a detailed justification"
                f" (at least {JUSTIFICATION_MIN_CHARS} characters): the project affected,"
                " the consequences for the department, any duty to accommodate",
            )
        if not (command.supplier_quote or "").strip():
            raise CommandRejected("supplier_quote_required", "a time-sensitive order needs a valid supplier quote")
    locations = _allocate(command.lines, command.delivery_locations)
    placed_on = command.placed_at.astimezone(EASTERN).date()
    pricing = price_order(command.lines, locations, command.client_tax_status, placed_on, rates)
    _limits(pricing, command.processing, command.section32_amount)
    flags = []
    if len(locations) > CHECKOUT_LOCATIONS:
        flags.append("more_than_3_locations")
    if (placed_on.month == 12 and placed_on.day > YEAR_END_GUARANTEE_LAST_DAY) or placed_on.month <= 3:
        flags.append("year_end_award_not_guaranteed")
    return OrderPlaced(
        order_id=command.order_id,
        client_org=command.client_org,
        client_tax_status=command.client_tax_status,
        requester=command.requester,
        standing_offer=command.standing_offer,
        supplier=command.supplier,
        processing=command.processing,
        urgency=command.urgency,
        justification=command.justification,
        supplier_quote=command.supplier_quote,
        financial_reference=command.financial_reference,
        section32_amount=command.section32_amount,
        lines=tuple(line.model_copy(update={"standing_offer": None, "supplier": None}) for line in command.lines),
        delivery_locations=locations,
        pricing=pricing,
        contract_id=command.contract_id,
        review_flags=tuple(flags),
    )


def _one_standing_offer(command: PlaceOrder) -> None:
    for line in command.lines:
        if line.standing_offer not in (None, command.standing_offer):
            raise CommandRejected(
                "mixed_standing_offers",
                f"line {line.sku} is from standing offer {line.standing_offer}, the order from"
                f" {command.standing_offer}: items of several standing offers need separate orders",
            )
        if line.supplier not in (None, command.supplier):
            raise CommandRejected(
                "mixed_suppliers",
                f"line {line.sku} is from supplier {line.supplier}, the order from"
                f" {command.supplier}: one order goes to one supplier",
            )


def _non_standing_offer_items(lines: Iterable[OrderLine]) -> None:
    lines = list(lines)
    has_system = any(line.standing_offer_item and line.category in SYSTEM_CATEGORIES for line in lines)
    for line in lines:
        if line.standing_offer_item:
            continue
        if line.category not in ADD_ON_CATEGORIES:
            raise CommandRejected(
                "non_standing_offer_system",
                f"{line.sku} is a {line.category}: a non-standing-offer item may only be a peripheral,"
                " an upgrade or a component, never another system",
            )
        if not has_system:
            raise CommandRejected(
                "non_standing_offer_without_system",
                f"{line.sku} is not on the standing offer: such items may only be added to a"
                " standing-offer system on the same order",
            )
        if line.unit_price != ZERO:
            raise CommandRejected(
                "non_standing_offer_price",
                f'{line.sku} is priced by the procurement officer: send unit_price "0.00" or leave it out',
            )


def _allocate(lines: tuple[OrderLine, ...], locations: tuple[DeliveryLocation, ...]) -> tuple[DeliveryLocation, ...]:
    """Check each line's quantity is split exactly over the locations (one location: all of it)."""
    if len(locations) == 1 and not locations[0].quantities:
        return (locations[0].model_copy(update={"quantities": {line.sku: line.quantity for line in lines}}),)
    seen = set()
    for location in locations:
        key = (location.province, location.address.strip().lower())
        if key in seen:
            raise CommandRejected("duplicate_location", f"{location.address} ({location.province}) is listed twice")
        seen.add(key)
    ordered = {line.sku: line.quantity for line in lines}
    allocated: dict[str, int] = {}
    for location in locations:
        for sku, quantity in location.quantities.items():
            if sku not in ordered:
                raise CommandRejected(
                    "unknown_sku", f"delivery location {location.address} names {sku}, which is not on the order"
                )
            allocated[sku] = allocated.get(sku, 0) + quantity
    for sku, quantity in ordered.items():
        if allocated.get(sku, 0) != quantity:
            raise CommandRejected(
                "location_quantities_mismatch",
                f"{sku}: {quantity} ordered but {allocated.get(sku, 0)} allocated to delivery locations",
            )
    return locations


def _limits(pricing: OrderPricing, processing: str, section32: Decimal) -> None:
    totals = pricing.totals
    if processing == "delegated" and totals.total > DELEGATED_LIMIT:
        raise CommandRejected(
            "delegated_limit_exceeded",
            f"client-delegated processing is limited to {DELEGATED_LIMIT} per order, taxes included;"
            f" this order comes to {totals.total}: choose broker processing",
        )
    if totals.non_standing_offer_total > NON_STANDING_OFFER_LIMIT:
        raise CommandRejected(
            "non_standing_offer_limit_exceeded",
            f"non-standing-offer items are capped at {NON_STANDING_OFFER_LIMIT} per order, taxes"
            f" included; they come to {totals.non_standing_offer_total}",
        )
    if section32 < totals.commitment_basis:
        raise CommandRejected(
            "section32_insufficient",
            f"the Section 32 commitment ({section32}) must cover the net total with environmental"
            f" fees, taxes excluded: {totals.commitment_basis}",
        )


def _price(command: PriceNonStandingOfferLine, order: Order, rates: RateBook) -> NonStandingOfferLinePriced:
    _require_open_before_award(order, "price an item")
    line = next((line for line in order.lines if line.sku == command.sku), None)
    if line is None:
        raise CommandRejected("unknown_sku", f"{command.sku} is not on order {order.order_id}")
    if line.standing_offer_item:
        raise CommandRejected(
            "standing_offer_item_price",
            f"{command.sku} is a standing-offer item: its price is the standing offer's",
        )
    _not_before(command.priced_on, order.placed_on, "priced_on", "the order was placed")
    lines = reprice_line(order.lines, command.sku, command.unit_price)
    pricing = price_order(lines, order.locations, order.client_tax_status, order.pricing.tax_date, rates)  # type: ignore[arg-type]
    # Above the delegation limit the broker processes the order: pricing reroutes it.
    processing: Processing = "broker" if pricing.totals.total > DELEGATED_LIMIT else order.processing
    _limits(pricing, processing, order.section32_amount)
    return NonStandingOfferLinePriced(
        sku=command.sku,
        unit_price=command.unit_price,
        priced_on=command.priced_on,
        pricing=pricing,
        processing=processing,
    )


def _amend_section32(command: AmendSection32, order: Order) -> Section32Amended:
    _require_open_before_award(order, "amend the Section 32 commitment")
    basis = order.pricing.totals.commitment_basis
    if command.section32_amount < basis:
        raise CommandRejected(
            "section32_insufficient",
            f"the Section 32 commitment ({command.section32_amount}) must cover the net total with"
            f" environmental fees, taxes excluded: {basis}",
        )
    return Section32Amended(
        section32_amount=command.section32_amount,
        previous_amount=order.section32_amount,
        amended_on=command.amended_on,
    )


def _approve_security(command: ApproveSecurityRisk, order: Order) -> SecurityRiskApproved:
    _require_open_before_award(order, "approve a security risk")
    if order.security_risk != "medium":
        raise CommandRejected(
            "no_medium_risk",
            "approvals are given to a medium-risk assessment, and this order has none",
        )
    if command.authority in order.security_approvals:
        raise CommandRejected("already_approved", f"{command.authority} has already approved this order")
    return SecurityRiskApproved(
        authority=command.authority, approved_by=command.approved_by, approved_on=command.approved_on
    )


def _award(command: AwardCallUp, order: Order) -> CallUpAwarded:
    _require_open_before_award(order, "award the call-up")
    _not_before(command.awarded_on, order.placed_on, "awarded_on", "the order was placed")
    if order.unpriced_skus:
        raise CommandRejected(
            "unpriced_items",
            "the procurement officer must price these non-standing-offer items before award: "
            + ", ".join(order.unpriced_skus),
        )
    if order.security_risk == "high":
        raise CommandRejected(
            "security_risk_high", "a high-risk security assessment stops the contract: replace the items"
        )
    if order.security_risk == "medium":
        missing = [a for a in SECURITY_AUTHORITIES if a not in order.security_approvals]
        if missing:
            raise CommandRejected(
                "security_approvals_missing",
                "a medium-risk security assessment needs these approvals before any contract is"
                " issued: " + ", ".join(missing),
            )
    standard = add_working_days(command.awarded_on, STANDARD_DELIVERY_WORKING_DAYS)
    agreed = command.agreed_delivery_date or standard
    _not_before(agreed, command.awarded_on, "agreed_delivery_date", "the award")
    return CallUpAwarded(
        contract_number=command.contract_number,
        awarded_on=command.awarded_on,
        agreed_delivery_date=agreed,
        standard_delivery_date=agreed == standard,
    )


def _revise_delivery_date(command: ReviseDeliveryDate, order: Order) -> DeliveryDateRevised:
    _require_awarded_and_open(order, "revise the delivery date")
    assert order.awarded_on is not None and order.agreed_delivery_date is not None
    if order.fully_delivered:
        raise CommandRejected("order_fully_delivered", "the order is fully delivered")
    _not_before(
        command.agreed_on, order.awarded_on, "agreed_on", "the award (a new date is agreed in writing after award)"
    )
    _not_before(command.agreed_delivery_date, order.awarded_on, "agreed_delivery_date", "the award")
    if command.agreed_delivery_date == order.agreed_delivery_date:
        raise CommandRejected("same_delivery_date", "that is already the agreed delivery date")
    return DeliveryDateRevised(
        agreed_delivery_date=command.agreed_delivery_date,
        previous_delivery_date=order.agreed_delivery_date,
        agreed_on=command.agreed_on,
    )


def _deliver(command: RecordDelivery, order: Order) -> DeliveryRecorded:
    _require_awarded_and_open(order, "record a delivery")
    assert order.awarded_on is not None
    _not_before(command.delivered_on, order.awarded_on, "delivered_on", "the award")
    wanted = (command.province, command.address.strip().lower())
    index = next(
        (i for i, loc in enumerate(order.locations) if (loc.province, loc.address.strip().lower()) == wanted),
        None,
    )
    if index is None:
        raise CommandRejected(
            "unknown_location",
            f"{command.address} ({command.province}) is not a delivery location of this order",
        )
    ordered = order.locations[index].quantities
    already = order.delivered.get(index, {})
    for sku, quantity in command.quantities.items():
        if sku not in ordered:
            raise CommandRejected("unknown_sku", f"{sku} is not ordered for this location")
        if already.get(sku, 0) + quantity > ordered[sku]:
            raise CommandRejected(
                "over_delivery",
                f"{sku}: {ordered[sku]} ordered for this location, {already.get(sku, 0)} already"
                f" delivered, {quantity} more is too many",
            )
    items = _delivered_items(command, order)
    delivery = DeliveryRecorded(
        delivered_on=command.delivered_on,
        location=index,
        province=command.province,
        address=order.locations[index].address,
        items=items,
        fully_delivered=False,
    )
    return delivery.model_copy(update={"fully_delivered": evolve(order, delivery).fully_delivered})


def _delivered_items(command: RecordDelivery, order: Order) -> tuple[DeliveredItem, ...]:
    """The items of a delivery in SKU order, each with its serial numbers: one per unit at most, each once per order."""
    seen: set[str] = set()
    for sku, serials in command.serial_numbers.items():
        if sku not in command.quantities:
            raise CommandRejected("serial_numbers_unknown_sku", f"serial numbers for {sku}, which this delivery lacks")
        if len(serials) > command.quantities[sku]:
            raise CommandRejected(
                "too_many_serial_numbers",
                f"{sku}: {len(serials)} serial numbers for {command.quantities[sku]} units received",
            )
        for serial in serials:
            if serial in seen or serial in order.serial_numbers:
                raise CommandRejected(
                    "serial_number_repeated", f"serial number {serial} is already recorded on this order"
                )
            seen.add(serial)
    return tuple(
        DeliveredItem(sku=sku, quantity=quantity, serial_numbers=command.serial_numbers.get(sku, ()))
        for sku, quantity in sorted(command.quantities.items())
    )


def _rebate(command: ApplyLateDeliveryRebate, order: Order) -> LateDeliveryRebateApplied:
    if order.awarded_on is None or order.agreed_delivery_date is None:
        raise CommandRejected("not_awarded", "a late-delivery rebate needs an awarded call-up")
    if command.amount <= ZERO:
        raise CommandRejected("invalid_amount", "a rebate is a positive amount")
    late_now = command.applied_on > order.agreed_delivery_date and not order.fully_delivered
    if not (order.late_delivery_seen or late_now):
        raise CommandRejected(
            "not_late",
            f"nothing was delivered after the agreed date {order.agreed_delivery_date}:"
            " no late-delivery rebate applies",
        )
    if order.rebates + command.amount > order.pricing.totals.total:
        raise CommandRejected(
            "rebate_exceeds_total",
            f"rebates would come to {order.rebates + command.amount}, more than the order total"
            f" {order.pricing.totals.total}",
        )
    return LateDeliveryRebateApplied(amount=command.amount, reason=command.reason, applied_on=command.applied_on)


def _cancel(command: CancelOrder, order: Order) -> OrderCancelled:
    if order.cancelled:
        raise CommandRejected("already_cancelled", f"order {order.order_id} is already cancelled")
    if order.fully_delivered and order.awarded_on is not None:
        raise CommandRejected("order_fully_delivered", "a fully delivered order cannot be cancelled")
    _not_before(command.cancelled_on, order.placed_on, "cancelled_on", "the order was placed")
    if command.reason == "late_delivery":
        if order.agreed_delivery_date is None:
            raise CommandRejected("not_awarded", "an order not yet awarded has no delivery date to miss")
        if command.cancelled_on <= order.agreed_delivery_date:
            raise CommandRejected(
                "not_late_yet",
                f"cancellation for late delivery is possible only after the agreed delivery date"
                f" {order.agreed_delivery_date}",
            )
    if command.reason == "missing_justification" and order.urgency != "time_sensitive":
        raise CommandRejected(
            "not_time_sensitive",
            "only a time-sensitive order can be cancelled for a missing justification or quote",
        )
    # Seed 000: after award, a client cancels on its own only for a missed delivery date;
    # otherwise it asks the broker, who works out a solution with the supplier.
    if command.requested_by == "client" and order.awarded_on is not None and command.reason != "late_delivery":
        raise CommandRejected(
            "cancellation_needs_broker",
            "after award a client can cancel only for late delivery; ask the broker to cancel",
            403,
        )
    return OrderCancelled(
        reason=command.reason,
        cancelled_on=command.cancelled_on,
        note=command.note,
        requested_by=command.requested_by,
    )


def _require_open_before_award(order: Order, action: str) -> None:
    if order.cancelled:
        raise CommandRejected("order_cancelled", f"order {order.order_id} was cancelled: cannot {action}")
    if order.awarded_on is not None:
        raise CommandRejected("already_awarded", f"the call-up is already awarded: cannot {action}")


def _require_awarded_and_open(order: Order, action: str) -> None:
    if order.cancelled:
        raise CommandRejected("order_cancelled", f"order {order.order_id} was cancelled: cannot {action}")
    if order.awarded_on is None:
        raise CommandRejected("not_awarded", f"the call-up is not awarded yet: cannot {action}")


def _not_before(day: date, floor: date, field: str, what: str) -> None:
    if day < floor:
        raise CommandRejected("date_out_of_order", f"{field} {day} is before {what} ({floor})")


# ---------------------------------------------------------------- evolve


def evolve(order: Order | None, event: OrderEvent) -> Order:
    """The order after one of its events."""
    if isinstance(event, OrderPlaced):
        return Order(
            order_id=event.order_id,
            status="placed",
            placed_on=event.pricing.tax_date,
            client_org=event.client_org,
            client_tax_status=event.client_tax_status,
            supplier=event.supplier,
            processing=event.processing,
            urgency=event.urgency,
            section32_amount=event.section32_amount,
            lines=event.lines,
            locations=event.delivery_locations,
            pricing=event.pricing,
            contract_id=event.contract_id,
        )
    if order is None:
        raise ValueError(f"{event.type} before OrderPlaced")
    match event:
        case NonStandingOfferLinePriced():
            return order.model_copy(
                update={
                    "lines": reprice_line(order.lines, event.sku, event.unit_price),
                    "pricing": event.pricing,
                    "processing": event.processing,
                    "priced_skus": order.priced_skus | {event.sku},
                }
            )
        case Section32Amended():
            return order.model_copy(update={"section32_amount": event.section32_amount})
        case SecurityAssessmentRecorded():
            return order.model_copy(update={"security_risk": event.risk, "security_approvals": frozenset()})
        case SecurityRiskApproved():
            return order.model_copy(update={"security_approvals": order.security_approvals | {event.authority}})
        case CallUpAwarded():
            return order.model_copy(
                update={
                    "status": "awarded",
                    "awarded_on": event.awarded_on,
                    "agreed_delivery_date": event.agreed_delivery_date,
                }
            )
        case DeliveryDateRevised():
            return order.model_copy(update={"agreed_delivery_date": event.agreed_delivery_date})
        case DeliveryRecorded():
            delivered = {
                **order.delivered,
                event.location: add_quantities(order.delivered.get(event.location, {}), event.quantities),
            }
            late = order.agreed_delivery_date is not None and event.delivered_on > order.agreed_delivery_date
            after = order.model_copy(
                update={
                    "delivered": delivered,
                    "serial_numbers": order.serial_numbers.union(*event.serial_numbers.values()),
                    "last_delivery_on": event.delivered_on,
                    "late_delivery_seen": order.late_delivery_seen or late,
                }
            )
            status = "delivered" if after.fully_delivered else "partially_delivered"
            return after.model_copy(update={"status": status})
        case LateDeliveryRebateApplied():
            return order.model_copy(update={"rebates": order.rebates + event.amount})
        case OrderCancelled():
            return order.model_copy(update={"status": "cancelled", "cancelled": True})
        case OrderClosed():
            return order.model_copy(update={"status": "closed", "closed": True})
    raise ValueError(f"unknown order event {event!r}")


def fold(events: Iterable[OrderEvent]) -> Order | None:
    order: Order | None = None
    for event in events:
        order = evolve(order, event)
    return order
