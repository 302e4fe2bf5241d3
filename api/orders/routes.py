"""Order endpoints: commands (POST) and the order status read model (GET)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, Field

from api.app.access import BROKER, ORDER_PARTIES, Access, App, LedgerRoute, OrderParty, Reader
from api.app.commands import IdempotencyKey, IfMatch, business_today, command_context, settle
from api.app.problems import Problem
from events.handling.desk import CommandResult
from events.kernel.errors import CommandRejected
from events.kernel.model import Fact
from events.kernel.money import Amount, UnitPrice
from events.kernel.rates import Province
from events.kernel.working_days import add_working_days
from events.orders.commands import (
    AmendSection32,
    ApplyLateDeliveryRebate,
    ApproveSecurityRisk,
    AwardCallUp,
    CancelOrder,
    CloseOrder,
    OrderCommand,
    OrderRequest,
    PlaceOrder,
    PriceNonStandingOfferLine,
    RecordDelivery,
    RecordSecurityAssessment,
    ReviseDeliveryDate,
)
from events.orders.decider import Order
from events.orders.facts import CancellationReason, SerialNumber, ShortText, Sku, Text
from processors.access_keys import Principal
from projections.order_status import AT_RISK_WORKING_DAYS, ORDER_STATUS, OrderStatus, lateness

EASTERN = ZoneInfo("America/Toronto")
router = APIRouter(prefix="/v1/orders", tags=["orders"], route_class=LedgerRoute)
# Late: an open delivery past its agreed date (`lateness` of a row, as one indexed SQL condition on today).
LATE = "open_delivery = 1 AND agreed_delivery_date < ?"

# ---------------------------------------------------------------- request bodies
# Where a command needs nothing from the server, its model is the body itself.


class PlaceOrderBody(OrderRequest):
    placed_at: AwareDatetime | None = Field(default=None, description="business time; default: now")


class LocationRef(Fact):
    province: Province
    address: ShortText


class DeliveryBody(Fact):
    delivered_on: date
    location: LocationRef
    quantities: dict[Sku, Annotated[int, Field(gt=0, le=1_000_000)]] = Field(min_length=1)
    serial_numbers: dict[Sku, tuple[SerialNumber, ...]] = Field(
        default_factory=dict,
        description="for asset tracking: the serial numbers of the units received, by SKU (at most one per unit,"
        " each once per order)",
    )


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
    amended_on: date | None = Field(default=None, description="default: today (Eastern Time)")


class CommandAccepted(Fact):
    order_id: str
    stream_version: int
    position: int
    events: list[str]
    replayed: bool


# ---------------------------------------------------------------- helpers


def _accepted(app: App, response: Response, result: CommandResult) -> CommandAccepted:
    settle(app, response, ORDER_STATUS, result.stream_id, result)
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


# ---------------------------------------------------------------- commands


@router.post(
    "", status_code=201, response_model=CommandAccepted, summary="Place an order: the order number is assigned here"
)
def place_order(
    body: PlaceOrderBody,
    request: Request,
    response: Response,
    app: App,
    caller: OrderParty,
    idempotency_key: IdempotencyKey = None,
) -> CommandAccepted:
    draft = placement(body, caller, app.clock())
    result = app.desk.place(draft, command_context(request, app, caller, body, idempotency_key))
    response.headers["Location"] = f"/v1/orders/{result.stream_id}"
    return _accepted(app, response, result)


@dataclass(frozen=True)
class Action:
    """One order command endpoint: its path, body, who may send it, and the command it makes."""

    path: str
    body: type[Fact]
    access: Access
    command: Callable[[Any, Principal, date], OrderCommand]
    summary: str


def _delivery(body: DeliveryBody, caller: Principal, today: date) -> RecordDelivery:
    return RecordDelivery(
        delivered_on=body.delivered_on,
        province=body.location.province,
        address=body.location.address,
        quantities=body.quantities,
        serial_numbers=body.serial_numbers,
    )


def _cancellation(body: CancellationBody, caller: Principal, today: date) -> CancelOrder:
    return CancelOrder(**body.model_dump(), requested_by="client" if caller.client_org else "broker")


def _rebate(body: RebateBody, caller: Principal, today: date) -> ApplyLateDeliveryRebate:
    return ApplyLateDeliveryRebate(amount=body.amount, reason=body.reason, applied_on=body.applied_on or today)


def _pricing(body: PricingBody, caller: Principal, today: date) -> PriceNonStandingOfferLine:
    return PriceNonStandingOfferLine(sku=body.sku, unit_price=body.unit_price, priced_on=body.priced_on or today)


def _section32(body: Section32Body, caller: Principal, today: date) -> AmendSection32:
    return AmendSection32(section32_amount=body.section32_amount, amended_on=body.amended_on or today)


def _as_is(body: Any, caller: Principal, today: date) -> OrderCommand:
    command: OrderCommand = body
    return command


ACTIONS = (
    Action(
        "award", AwardCallUp, ORDER_PARTIES, _as_is, "Record the call-up award (a client only for delegated orders)"
    ),
    Action("deliveries", DeliveryBody, ORDER_PARTIES, _delivery, "Record a (partial) delivery at one location"),
    Action(
        "delivery-date",
        ReviseDeliveryDate,
        ORDER_PARTIES,
        _as_is,
        "Record a delivery date agreed in writing after award",
    ),
    Action("cancellation", CancellationBody, ORDER_PARTIES, _cancellation, "Cancel an order"),
    Action("rebates", RebateBody, BROKER, _rebate, "Apply a late-delivery rebate"),
    Action("pricing", PricingBody, BROKER, _pricing, "Price a non-standing-offer item (procurement officer)"),
    Action("section32", Section32Body, ORDER_PARTIES, _section32, "Raise the Section 32 funding commitment"),
    Action(
        "security-assessment",
        RecordSecurityAssessment,
        BROKER,
        _as_is,
        "Record a cyber-security assessment of non-standard items",
    ),
    Action("security-approvals", ApproveSecurityRisk, BROKER, _as_is, "Record an approval of a medium-risk assessment"),
    Action("close", CloseOrder, BROKER, _as_is, "Close a delivered or cancelled order"),
)


def authorizer(action: Action, caller: Principal, order_id: str) -> Callable[[Order], None]:
    """Checked on the ledger's own state, not a projection that may lag behind it."""

    def authorize(order: Order) -> None:
        if not caller.may_see(order.client_org):
            raise CommandRejected("order_not_found", f"there is no order {order_id}", 404)
        if action.path == "award" and caller.client_org and order.processing != "delegated":
            raise CommandRejected("forbidden_role", "only the broker awards a call-up it processes", 403)

    return authorize


def placement(body: PlaceOrderBody, caller: Principal, now: datetime) -> PlaceOrder:
    """The order to place, its number still to be assigned; a client key orders only for itself."""
    if caller.client_org and caller.client_org != body.client_org:
        raise CommandRejected(
            "forbidden_organisation", f"a client:{caller.client_org} key can only order for {caller.client_org}", 403
        )
    return PlaceOrder(order_id="", placed_at=body.placed_at or now, **body.model_dump(exclude={"placed_at"}))


def _endpoint(action: Action) -> Callable[..., CommandAccepted]:
    def endpoint(
        order_id: str,
        body: Any,
        request: Request,
        response: Response,
        app: App,
        caller: Principal,
        idempotency_key: IdempotencyKey = None,
        if_match: IfMatch = None,
    ) -> CommandAccepted:
        command = action.command(body, caller, business_today(app))
        context = command_context(request, app, caller, body, idempotency_key, if_match)
        return _accepted(
            app, response, app.desk.execute(order_id, command, context, authorizer(action, caller, order_id))
        )

    # FastAPI reads the body's model and the caller's access from the annotations: give each endpoint its own.
    endpoint.__annotations__ = {
        **endpoint.__annotations__,
        "body": action.body,
        "caller": Annotated[Principal, Depends(action.access)],
    }
    endpoint.__name__ = action.path.replace("-", "_")
    return endpoint


for _action in ACTIONS:
    router.post(f"/{{order_id}}/{_action.path}", response_model=CommandAccepted, summary=_action.summary)(
        _endpoint(_action)
    )


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
    caller: Reader,
    after_position: Annotated[int | None, Query(ge=0, description="wait until this ledger position is applied")] = None,
) -> JSONResponse:
    if after_position is not None:
        if app.runner:
            app.runner.wait_for(after_position, timeout=5.0)
        else:
            app.wait_for(ORDER_STATUS, order_id, after_position, timeout=5.0)
    row = _visible_order(app, caller, order_id)
    # The view is JSON-ready already: answered as is, without FastAPI's encoder walking it again.
    return JSONResponse(order_view(row, business_today(app)), headers={"ETag": f'"{row.stream_version}"'})


@router.get("", summary="Orders, filtered by organisation, status and lateness")
def list_orders(
    app: App,
    caller: Reader,
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
    if client_org is not None and not caller.may_see(client_org):
        raise Problem(403, "forbidden_organisation", f"this {caller.role} key may not see the orders of {client_org}")
    today = business_today(app)
    # Lateness needs today's date, so it is a condition on the agreed date rather than a column:
    # at risk while fewer than 6 working days are left, i.e. agreed date < today + 6 working days.
    risk_end = add_working_days(today, AT_RISK_WORKING_DAYS + 1).isoformat()
    clauses: list[str] = []
    params: list[Any] = []
    if client_org:
        clauses.append("client_org = ?")
        params.append(client_org)
    elif (visible := caller.visible_organisations) is not None:
        clauses.append(f"client_org IN ({', '.join('?' * len(visible))})" if visible else "0 = 1")
        params.extend(sorted(visible))
    if status:
        clauses.append("status = ?")
        params.append(status)
    late_clause = {
        "true": (LATE, [today.isoformat()]),
        "late": (LATE, [today.isoformat()]),
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
