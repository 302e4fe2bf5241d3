"""Order endpoints: commands (POST) and the order status read model (GET)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import AwareDatetime, Field

from api.access import App, Caller, require
from api.problems import Problem
from events.calendar import add_working_days
from events.command_handling import CommandContext, CommandResult
from events.ledger.chain import canonical_json
from events.model import Fact
from events.money import Amount, UnitPrice
from events.orders import (
    AmendSection32,
    ApplyLateDeliveryRebate,
    ApproveSecurityRisk,
    AwardCallUp,
    CancellationReason,
    CancelOrder,
    CloseOrder,
    DeliveryLocation,
    OrderCommand,
    OrderLine,
    OrgCode,
    PlaceOrder,
    PriceNonStandingOfferLine,
    Processing,
    RecordDelivery,
    RecordSecurityAssessment,
    ReviseDeliveryDate,
    Risk,
    SecurityAuthority,
    ShortText,
    Sku,
    Text,
    Urgency,
)
from events.rates import Province, TaxStatus
from processors.access_keys import Principal
from projections.order_status import AT_RISK_WORKING_DAYS, ORDER_STATUS, OrderStatus, lateness

EASTERN = ZoneInfo("America/Toronto")
router = APIRouter(prefix="/v1/orders", tags=["orders"])
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, description="retry-safe key: same key and body, same result"),
]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", max_length=40, description="the order's stream version you read; 409 if it moved on"),
]


# ---------------------------------------------------------------- request bodies


class PlaceOrderBody(Fact):
    client_org: OrgCode
    client_tax_status: TaxStatus = "federal"
    requester: ShortText
    standing_offer: ShortText
    supplier: ShortText
    processing: Processing
    urgency: Urgency = "standard"
    justification: Text | None = None
    supplier_quote: Text | None = None
    financial_reference: Annotated[str, Field(max_length=500)] = ""
    section32_amount: Amount
    lines: list[OrderLine] = Field(max_length=500)
    delivery_locations: list[DeliveryLocation] = Field(max_length=200)
    placed_at: AwareDatetime | None = Field(default=None, description="business time; default: now")


class AwardBody(Fact):
    contract_number: ShortText
    awarded_on: date
    agreed_delivery_date: date | None = Field(
        default=None, description="default: 30 federal working days after the award"
    )


class LocationRef(Fact):
    province: Province
    address: ShortText


class DeliveryBody(Fact):
    delivered_on: date
    location: LocationRef
    quantities: dict[Sku, Annotated[int, Field(gt=0, le=1_000_000)]] = Field(min_length=1)


class DeliveryDateBody(Fact):
    agreed_delivery_date: date
    agreed_on: date


class CancellationBody(Fact):
    reason: CancellationReason
    cancelled_on: date
    note: Text = ""


class RebateBody(Fact):
    amount: Amount
    reason: ShortText
    applied_on: date | None = Field(default=None, description="default: today (Eastern Time)")


class PricingBody(Fact):
    sku: Sku
    unit_price: UnitPrice
    priced_on: date | None = Field(default=None, description="default: today (Eastern Time)")


class Section32Body(Fact):
    section32_amount: Amount
    amended_on: date | None = None


class SecurityAssessmentBody(Fact):
    risk: Risk
    assessed_on: date


class SecurityApprovalBody(Fact):
    authority: SecurityAuthority
    approved_by: ShortText
    approved_on: date


class CloseBody(Fact):
    closed_on: date


class CommandAccepted(Fact):
    order_id: str
    stream_version: int
    position: int
    events: list[str]
    replayed: bool


# ---------------------------------------------------------------- helpers


def _today(app: App) -> date:
    return app.clock().astimezone(EASTERN).date()


def _context(
    request: Request, app: App, caller: Principal, body: Fact, idempotency_key: str | None, if_match: str | None = None
) -> CommandContext:
    correlation = request.headers.get("X-Correlation-Id")
    try:
        correlation_id = uuid.UUID(correlation) if correlation else uuid.uuid4()
    except ValueError:
        raise Problem(400, "invalid_correlation_id", "X-Correlation-Id must be a UUID") from None
    expected = None
    if if_match is not None:
        text = if_match.strip().strip('"')
        if not text.isdigit():
            raise Problem(400, "invalid_if_match", 'If-Match must be the order\'s stream version, e.g. "3"')
        expected = int(text)
    fingerprint = f"{request.method} {request.url.path}\n{canonical_json(body.model_dump(mode='json'))}"
    return CommandContext(
        actor=f"{caller.role}/{caller.key_id}",
        now=app.clock(),
        correlation_id=correlation_id,
        idempotency_key=f"{caller.key_id}:{idempotency_key}" if idempotency_key else None,
        request_hash=hashlib.sha256(fingerprint.encode()).hexdigest(),
        expected_version=expected,
    )


def _accepted(app: App, response: Response, result: CommandResult) -> CommandAccepted:
    # Read-your-writes: the embedded runner applies the events before we answer (bounded wait).
    app.runner.wait_for(result.last_position, timeout=2.0)
    response.headers["ETag"] = f'"{result.stream_version}"'
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return CommandAccepted(
        order_id=result.stream_id,
        stream_version=result.stream_version,
        position=result.last_position,
        events=list(result.event_types),
        replayed=result.replayed,
    )


def _visible_order(app: App, caller: Principal, order_id: str) -> OrderStatus:
    row: OrderStatus | None = app.projections.get(ORDER_STATUS, order_id)
    if row is None or not caller.may_see(row.client_org):
        # Another organisation's order is "not found": its existence is not disclosed.
        raise Problem(404, "order_not_found", f"there is no order {order_id}")
    return row


def _run(
    request: Request,
    response: Response,
    app: App,
    caller: Principal,
    order_id: str,
    body: Fact,
    command: OrderCommand,
    key: str | None,
    if_match: str | None,
) -> CommandAccepted:
    _visible_order(app, caller, order_id)
    context = _context(request, app, caller, body, key, if_match)
    return _accepted(app, response, app.desk.execute(order_id, command, context))


# ---------------------------------------------------------------- commands


@router.post(
    "", status_code=201, response_model=CommandAccepted, summary="Place an order: the order number is assigned here"
)
def place_order(
    body: PlaceOrderBody,
    request: Request,
    response: Response,
    app: App,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> CommandAccepted:
    require(caller, "broker", "client")
    if caller.client_org and caller.client_org != body.client_org:
        raise Problem(
            403, "forbidden_organisation", f"a client:{caller.client_org} key can only order for {caller.client_org}"
        )
    draft = PlaceOrder(order_id="", placed_at=body.placed_at or app.clock(), **body.model_dump(exclude={"placed_at"}))
    result = app.desk.place(draft, _context(request, app, caller, body, idempotency_key))
    response.headers["Location"] = f"/v1/orders/{result.stream_id}"
    return _accepted(app, response, result)


@router.post("/{order_id}/award", response_model=CommandAccepted, summary="Record the call-up award")
def award(
    order_id: str,
    body: AwardBody,
    request: Request,
    response: Response,
    app: App,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> CommandAccepted:
    require(caller, "broker", "client")
    if caller.client_org and _visible_order(app, caller, order_id).processing != "delegated":
        raise Problem(403, "forbidden_role", "only the broker awards a call-up it processes")
    command = AwardCallUp(**body.model_dump())
    return _run(request, response, app, caller, order_id, body, command, idempotency_key, if_match)


@router.post("/{order_id}/deliveries", response_model=CommandAccepted, summary="Record a (partial) delivery")
def deliver(
    order_id: str,
    body: DeliveryBody,
    request: Request,
    response: Response,
    app: App,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> CommandAccepted:
    require(caller, "broker", "client")
    command = RecordDelivery(
        delivered_on=body.delivered_on,
        province=body.location.province,
        address=body.location.address,
        quantities=body.quantities,
    )
    return _run(request, response, app, caller, order_id, body, command, idempotency_key, if_match)


@router.post(
    "/{order_id}/delivery-date",
    response_model=CommandAccepted,
    summary="Record a delivery date agreed in writing after award",
)
def revise_delivery_date(
    order_id: str,
    body: DeliveryDateBody,
    request: Request,
    response: Response,
    app: App,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> CommandAccepted:
    require(caller, "broker", "client")
    command = ReviseDeliveryDate(**body.model_dump())
    return _run(request, response, app, caller, order_id, body, command, idempotency_key, if_match)


@router.post("/{order_id}/cancellation", response_model=CommandAccepted, summary="Cancel an order")
def cancel(
    order_id: str,
    body: CancellationBody,
    request: Request,
    response: Response,
    app: App,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> CommandAccepted:
    require(caller, "broker", "client")
    command = CancelOrder(**body.model_dump(), requested_by="client" if caller.client_org else "broker")
    return _run(request, response, app, caller, order_id, body, command, idempotency_key, if_match)


@router.post("/{order_id}/rebates", response_model=CommandAccepted, summary="Apply a late-delivery rebate")
def rebate(
    order_id: str,
    body: RebateBody,
    request: Request,
    response: Response,
    app: App,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> CommandAccepted:
    require(caller, "broker")
    command = ApplyLateDeliveryRebate(amount=body.amount, reason=body.reason, applied_on=body.applied_on or _today(app))
    return _run(request, response, app, caller, order_id, body, command, idempotency_key, if_match)


@router.post(
    "/{order_id}/pricing",
    response_model=CommandAccepted,
    summary="Price a non-standing-offer item (procurement officer)",
)
def price(
    order_id: str,
    body: PricingBody,
    request: Request,
    response: Response,
    app: App,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> CommandAccepted:
    require(caller, "broker")
    command = PriceNonStandingOfferLine(
        sku=body.sku, unit_price=body.unit_price, priced_on=body.priced_on or _today(app)
    )
    return _run(request, response, app, caller, order_id, body, command, idempotency_key, if_match)


@router.post("/{order_id}/section32", response_model=CommandAccepted, summary="Raise the Section 32 funding commitment")
def amend_section32(
    order_id: str,
    body: Section32Body,
    request: Request,
    response: Response,
    app: App,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> CommandAccepted:
    require(caller, "broker", "client")
    command = AmendSection32(section32_amount=body.section32_amount, amended_on=body.amended_on or _today(app))
    return _run(request, response, app, caller, order_id, body, command, idempotency_key, if_match)


@router.post(
    "/{order_id}/security-assessment",
    response_model=CommandAccepted,
    summary="Record a cyber-security assessment of non-standard items",
)
def assess(
    order_id: str,
    body: SecurityAssessmentBody,
    request: Request,
    response: Response,
    app: App,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> CommandAccepted:
    require(caller, "broker")
    command = RecordSecurityAssessment(**body.model_dump())
    return _run(request, response, app, caller, order_id, body, command, idempotency_key, if_match)


@router.post(
    "/{order_id}/security-approvals",
    response_model=CommandAccepted,
    summary="Record an approval of a medium-risk assessment",
)
def approve(
    order_id: str,
    body: SecurityApprovalBody,
    request: Request,
    response: Response,
    app: App,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> CommandAccepted:
    require(caller, "broker")
    command = ApproveSecurityRisk(**body.model_dump())
    return _run(request, response, app, caller, order_id, body, command, idempotency_key, if_match)


@router.post("/{order_id}/close", response_model=CommandAccepted, summary="Close a delivered or cancelled order")
def close(
    order_id: str,
    body: CloseBody,
    request: Request,
    response: Response,
    app: App,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> CommandAccepted:
    require(caller, "broker")
    command = CloseOrder(**body.model_dump())
    return _run(request, response, app, caller, order_id, body, command, idempotency_key, if_match)


# ---------------------------------------------------------------- reads


def order_view(row: OrderStatus, today: date) -> dict[str, Any]:
    view = row.model_dump(mode="json")
    view["lateness"] = lateness(row, today)
    view["expected_delivery_date"] = view["agreed_delivery_date"]
    view["fully_delivered"] = row.fully_delivered
    return view


@router.get("/{order_id}", summary="An order's status, timeline, lines, totals and delivery progress")
def get_order(
    order_id: str,
    app: App,
    caller: Caller,
    response: Response,
    after_position: Annotated[int | None, Query(ge=0, description="wait until this ledger position is applied")] = None,
) -> dict[str, Any]:
    if after_position is not None:
        app.runner.wait_for(after_position, timeout=5.0)
    row = _visible_order(app, caller, order_id)
    response.headers["ETag"] = f'"{row.stream_version}"'
    return order_view(row, _today(app))


@router.get("", summary="Orders, filtered by organisation, status and lateness")
def list_orders(
    app: App,
    caller: Caller,
    client_org: Annotated[str | None, Query(max_length=16)] = None,
    status: Annotated[
        Literal["placed", "awarded", "partially_delivered", "delivered", "cancelled", "closed"] | None, Query()
    ] = None,
    late: Annotated[
        Literal["on_time", "at_risk", "late", "true", "false"] | None,
        Query(description="true: late only; false: not late; or a lateness value"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    if caller.client_org:
        if client_org not in (None, caller.client_org):
            raise Problem(403, "forbidden_organisation", f"a client:{caller.client_org} key sees only its own orders")
        client_org = caller.client_org
    today = _today(app)
    # Lateness needs today's date, so it is a condition on the agreed date rather than a column:
    # at risk while fewer than 6 working days are left, i.e. agreed date < today + 6 working days.
    risk_end = add_working_days(today, AT_RISK_WORKING_DAYS + 1).isoformat()
    clauses: list[str] = []
    params: list[Any] = []
    if client_org:
        clauses.append("client_org = ?")
        params.append(client_org)
    if status:
        clauses.append("status = ?")
        params.append(status)
    late_clause = {
        "true": ("open_delivery = 1 AND agreed_delivery_date < ?", [today.isoformat()]),
        "late": ("open_delivery = 1 AND agreed_delivery_date < ?", [today.isoformat()]),
        "false": (
            "NOT (open_delivery = 1 AND agreed_delivery_date IS NOT NULL AND agreed_delivery_date < ?)",
            [today.isoformat()],
        ),
        "at_risk": (
            "open_delivery = 1 AND agreed_delivery_date >= ? AND agreed_delivery_date < ?",
            [today.isoformat(), risk_end],
        ),
        "on_time": (
            "cancelled = 0 AND agreed_delivery_date IS NOT NULL AND (open_delivery = 0 OR agreed_delivery_date >= ?)",
            [risk_end],
        ),
    }
    if late:
        clause, values = late_clause[late]
        clauses.append(clause)
        params.extend(values)
    where = " AND ".join(clauses)
    total = app.projections.count(ORDER_STATUS, where, tuple(params))
    rows = app.projections.query(ORDER_STATUS, where, tuple(params), limit=limit, offset=offset)
    page = [order_view(r, today) for r in rows]
    next_offset = offset + limit if offset + limit < total else None
    return {"orders": page, "count": total, "next_offset": next_offset}
