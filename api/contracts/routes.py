"""Contract endpoints: register, consume, amend, renew, terminate, the renewal clock, and the read models."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import Field

from api.app.access import App, Broker, BrokersOwnReader, LedgerRoute, Reader
from api.app.commands import IdempotencyKey, IfMatch, business_today, command_context, settle
from api.app.problems import Problem
from events.contracts.commands import (
    AmendCeiling,
    ContractCommand,
    ExerciseRenewal,
    RecordConsumption,
    RegisterContract,
    ReverseConsumption,
    TerminateContract,
)
from events.contracts.facts import ConsumptionSource, Period
from events.handling.desk import CommandResult
from events.kernel.business_dates import MONTH_PATTERN
from events.kernel.model import Fact
from events.kernel.money import ZERO, Amount, Currency
from events.orders.facts import OrgCode, ShortText, Text
from processors.access_keys import Principal
from projections.contract_capacity import (
    CONTRACT_CAPACITY,
    ContractStatus,
    burn_rate,
    forecast_exhaustion,
    next_decision_date,
)

router = APIRouter(tags=["contracts"], route_class=LedgerRoute)
ContractPath = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class ConsumptionBody(Fact):
    client_org: OrgCode
    amount: Amount
    quantity: int = Field(default=0, ge=0, le=100_000_000)
    period: Period
    source: ConsumptionSource
    reference: ShortText
    consumption_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    recorded_on: date | None = Field(default=None, description="default: today (Eastern Time)")
    currency: Currency = "CAD"


class ReversalBody(Fact):
    consumption_id: Annotated[str, Field(min_length=1, max_length=64)]
    reason: Text
    reversed_on: date | None = None


class AmendmentBody(Fact):
    ceiling: Amount
    reason: Text = ""
    amended_on: date | None = None


class RenewalBody(Fact):
    option_id: Annotated[str, Field(min_length=1, max_length=32)]
    exercised_on: date | None = None


class ClockBody(Fact):
    today: date | None = Field(default=None, description="default: today (Eastern Time)")


class ContractAccepted(Fact):
    contract_id: str
    stream_version: int
    position: int
    events: list[str]
    replayed: bool


def contract_view(row: ContractStatus, today: date) -> dict[str, Any]:
    view = row.model_dump(mode="json", exclude={"usage", "reservations"})
    used = (row.used_fraction * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    forecast = forecast_exhaustion(row, today)
    decision = next_decision_date(row, today)
    view |= {
        "remaining": str(row.remaining),
        "used_pct": str(used),
        "expires_on": row.end_date.isoformat(),
        "options_left": [o.option_id for o in row.renewal_options if not o.exercised],
        "burn_rate_per_day": str(burn_rate(row, today).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)),
        "forecast_exhaustion_date": forecast.isoformat() if forecast else None,
        "next_decision_date": decision.isoformat() if decision else None,
    }
    return view


def _accepted(app: App, response: Response, contract_id: str, result: CommandResult) -> ContractAccepted:
    settle(app, response, CONTRACT_CAPACITY, contract_id, result)
    return ContractAccepted(
        contract_id=contract_id,
        stream_version=result.stream_version,
        position=result.last_position,
        events=list(result.event_types),
        replayed=result.replayed,
    )


def _execute(
    request: Request,
    response: Response,
    app: App,
    caller: Principal,
    contract_id: str,
    body: Fact,
    command: Any,
    key: str | None,
    if_match: str | None = None,
) -> ContractAccepted:
    context = command_context(request, app, caller, body, key, if_match)
    return _accepted(app, response, contract_id, app.desk.execute_contract(contract_id, command, context))


@router.post("/v1/contracts", status_code=201, response_model=ContractAccepted, summary="Register a contract")
def register(
    body: RegisterContract,
    request: Request,
    response: Response,
    app: App,
    caller: Broker,
    idempotency_key: IdempotencyKey = None,
) -> ContractAccepted:
    response.headers["Location"] = f"/v1/contracts/{body.contract_id}"
    return _execute(request, response, app, caller, body.contract_id, body, body, idempotency_key)


def _consumption(body: ConsumptionBody, today: date) -> RecordConsumption:
    return RecordConsumption(
        consumption_id=body.consumption_id or str(uuid.uuid4()),
        client_org=body.client_org,
        amount=body.amount,
        quantity=body.quantity,
        period=body.period,
        source=body.source,
        reference=body.reference,
        recorded_on=body.recorded_on or today,
    )


def _reversal(body: ReversalBody, today: date) -> ReverseConsumption:
    return ReverseConsumption(
        consumption_id=body.consumption_id, reason=body.reason, reversed_on=body.reversed_on or today
    )


def _amendment(body: AmendmentBody, today: date) -> AmendCeiling:
    return AmendCeiling(ceiling=body.ceiling, reason=body.reason, amended_on=body.amended_on or today)


def _renewal(body: RenewalBody, today: date) -> ExerciseRenewal:
    return ExerciseRenewal(option_id=body.option_id, exercised_on=body.exercised_on or today)


def _as_is(body: Any, today: date) -> ContractCommand:
    command: ContractCommand = body
    return command


# path, body, the command it makes, summary: all broker-only.
ACTIONS: tuple[tuple[str, type[Fact], Callable[[Any, date], ContractCommand], str], ...] = (
    (
        "consumption",
        ConsumptionBody,
        _consumption,
        "Record consumption (invoice line, usage report, ...)",
    ),
    ("reversals", ReversalBody, _reversal, "Reverse a consumption (refers to the original)"),
    ("amendments", AmendmentBody, _amendment, "Amend the ceiling"),
    ("renewals", RenewalBody, _renewal, "Exercise a renewal option"),
    ("termination", TerminateContract, _as_is, "Terminate a contract"),
)


def _endpoint(
    path: str, body_model: type[Fact], make: Callable[[Any, date], ContractCommand]
) -> Callable[..., ContractAccepted]:
    def endpoint(
        contract_id: ContractPath,
        body: Any,
        request: Request,
        response: Response,
        app: App,
        caller: Broker,
        idempotency_key: IdempotencyKey = None,
        if_match: IfMatch = None,
    ) -> ContractAccepted:
        command = make(body, business_today(app))
        return _execute(request, response, app, caller, contract_id, body, command, idempotency_key, if_match)

    # FastAPI reads the body's model from the annotation: give each endpoint its own.
    endpoint.__annotations__ = {**endpoint.__annotations__, "body": body_model}
    endpoint.__name__ = path
    return endpoint


for _path, _body, _make, _summary in ACTIONS:
    router.post(f"/v1/contracts/{{contract_id}}/{_path}", response_model=ContractAccepted, summary=_summary)(
        _endpoint(_path, _body, _make)
    )


@router.post("/v1/contract-clock", summary="Run the renewal clock: renewal notices and expiries due as of a date")
def renewal_clock(body: ClockBody, request: Request, app: App, caller: Broker) -> dict[str, Any]:
    today = body.today or business_today(app)
    emitted = app.run_contract_clock(today, command_context(request, app, caller, body, None))
    return {
        "today": today.isoformat(),
        "emitted": [{"contract_id": contract_id, "events": list(types)} for contract_id, types in emitted],
    }


# ---------------------------------------------------------------- reads


def _contract(app: App, contract_id: str) -> ContractStatus:
    row: ContractStatus | None = app.projections.get(CONTRACT_CAPACITY, contract_id)
    if row is None:
        raise Problem(404, "contract_not_found", f"there is no contract {contract_id}")
    return row


@router.get("/v1/contracts/{contract_id}", summary="A contract's capacity, burn rate, renewals and stock")
def get_contract(contract_id: ContractPath, app: App, caller: BrokersOwnReader) -> dict[str, Any]:
    return contract_view(_contract(app, contract_id), business_today(app))


@router.get("/v1/contracts", summary="Contracts, filtered by expiry, supplier and use of the ceiling")
def list_contracts(
    app: App,
    caller: BrokersOwnReader,
    expiring_within_days: Annotated[int | None, Query(ge=0, le=3650)] = None,
    supplier: Annotated[str | None, Query(max_length=200)] = None,
    min_used_pct: Annotated[Decimal | None, Query(ge=0, le=1000)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    today = business_today(app)
    clauses: list[str] = []
    params: list[Any] = []
    if expiring_within_days is not None:
        clauses.append("status = 'active' AND end_date <= ?")
        params.append((today + timedelta(days=expiring_within_days)).isoformat())
    if supplier:
        clauses.append("supplier = ?")
        params.append(supplier)
    if min_used_pct is not None:
        clauses.append("used_basis_points >= ?")
        params.append(int(min_used_pct * 100))
    where = " AND ".join(clauses)
    total = app.projections.count(CONTRACT_CAPACITY, where, tuple(params))
    rows = app.projections.query(
        CONTRACT_CAPACITY, where, tuple(params), order_by="end_date, key", limit=limit, offset=offset
    )
    return {
        "contracts": [contract_view(r, today) for r in rows],
        "count": total,
        "next_offset": offset + limit if offset + limit < total else None,
    }


@router.get("/v1/organisations/{org}/consumption", summary="An organisation's consumption per contract in a month")
def organisation_consumption(
    org: Annotated[str, Path(max_length=16, pattern=r"^[A-Z][A-Z0-9-]*$")],
    app: App,
    caller: Reader,
    period: Annotated[str, Query(pattern=MONTH_PATTERN)],
) -> dict[str, Any]:
    if not caller.may_see(org):
        raise Problem(404, "organisation_not_found", f"no consumption is visible for {org}")
    lines = []
    total = ZERO
    for row in app.projections.query(CONTRACT_CAPACITY, limit=100_000):
        amount = row.consumption_by_organisation.get(org, {}).get(period)
        if amount:
            lines.append(
                {"contract_id": row.contract_id, "supplier": row.supplier, "kind": row.kind, "amount": str(amount)}
            )
            total += amount
    return {"organisation": org, "period": period, "currency": "CAD", "contracts": lines, "total": str(total)}


@router.get("/v1/suppliers/concentration", summary="Share of contract value and of consumption per supplier")
def supplier_concentration(app: App, caller: BrokersOwnReader) -> dict[str, Any]:
    value: dict[str, Decimal] = defaultdict(lambda: ZERO)
    consumed: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in app.projections.query(CONTRACT_CAPACITY, limit=100_000):
        value[row.supplier] += row.ceiling
        consumed[row.supplier] += row.consumed
    total_value, total_consumed = sum(value.values(), ZERO), sum(consumed.values(), ZERO)

    def share(part: Decimal, whole: Decimal) -> str:
        return str((part * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)) if whole else "0.0"

    suppliers = sorted(value, key=lambda s: (-value[s], s))
    return {
        "suppliers": [
            {
                "supplier": s,
                "contract_value": str(value[s]),
                "value_share_pct": share(value[s], total_value),
                "consumed": str(consumed[s]),
                "consumption_share_pct": share(consumed[s], total_consumed),
            }
            for s in suppliers
        ],
        "total_contract_value": str(total_value),
        "total_consumed": str(total_consumed),
    }
