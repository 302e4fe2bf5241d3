"""`POST /v1/batch`: up to 5,000 order and contract commands, decided in turn, appended in one transaction.

Each command is written as it would be sent alone (`path` and `body` of its own endpoint), so a
feed can be replayed one command at a time and give the same ledger. The answer has one result
per command, in order: the stream, version and position it was appended at, or why it was refused.
The answer does not wait for the read models (a single command's answer does): poll the order or
contract, or follow `/v1/events`, with the batch's `last_position`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import Field, ValidationError

from api.app.access import BROKER, ORDER_PARTIES, App, LedgerRoute, OrderParty
from api.app.commands import IdempotencyKey, business_today, command_context
from api.app.problems import Problem, count_rejection, field_error
from api.app.request_body import strictly
from api.contracts import routes as contracts
from api.orders import routes as orders
from events.contracts.commands import RegisterContract
from events.handling.batches import MAX_BATCH_COMMANDS, BatchCommand, BatchOutcome, CommandOutcome, refused
from events.handling.desk import CommandContext, LedgerStreams, Plan, contract_stream, placing
from events.handling.order_numbers import order_series
from events.kernel.errors import CommandRejected
from events.kernel.model import Fact
from processors.access_keys import Principal
from processors.wiring import Orderledger

router = APIRouter(tags=["batch"], route_class=LedgerRoute)

ORDER_ACTIONS = {action.path: action for action in orders.ACTIONS}
CONTRACT_ACTIONS = {path: (body, make) for path, body, make, _ in contracts.ACTIONS}
_ORDER_PATH = re.compile(r"/v1/orders/(?P<id>[A-Za-z0-9][A-Za-z0-9._-]{0,63})/(?P<action>[a-z0-9-]+)")
_CONTRACT_PATH = re.compile(r"/v1/contracts/(?P<id>[A-Za-z0-9][A-Za-z0-9._-]{0,63})/(?P<action>[a-z0-9-]+)")


class BatchItem(Fact):
    path: str = Field(
        max_length=200,
        description="the command's own endpoint: /v1/orders, /v1/orders/{id}/<action>, /v1/contracts,"
        " /v1/contracts/{id}/<action>",
        examples=["/v1/contracts/CT-2026-001/consumption"],
    )
    body: dict[str, Any] = Field(default_factory=dict, description="the body that endpoint takes")
    expected_version: int | None = Field(
        default=None, ge=0, description="like If-Match: refuse this command if its stream is at another version"
    )


class BatchRequest(Fact):
    commands: list[BatchItem] = Field(min_length=1, max_length=MAX_BATCH_COMMANDS)
    all_or_nothing: bool = Field(default=False, description="refuse the whole batch if one command is refused")


@router.post(
    "/v1/batch",
    response_model=BatchOutcome,
    response_model_exclude_none=True,
    summary="Up to 5,000 order and contract commands in one transaction, one result per command",
)
def run_batch(
    body: BatchRequest,
    request: Request,
    app: App,
    caller: OrderParty,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    context = command_context(request, app, caller, body, idempotency_key)
    today = business_today(app)
    commands = [_command(index, item, app, caller, context, today) for index, item in enumerate(body.commands)]
    outcome = app.batches.run(commands, context, body.all_or_nothing)
    for result in outcome.results:
        if result.code is not None:
            count_rejection(request.method, result.code)
    if app.runner and outcome.last_position:
        app.runner.notify()  # the embedded read models follow at once, not at the next poll
    if body.all_or_nothing and outcome.rejected:
        raise Problem(
            422,
            "batch_refused",
            f"{outcome.rejected} of {len(commands)} commands were refused, so none was appended",
            results=[r.model_dump(mode="json", exclude_none=True) for r in outcome.results if not r.accepted],
        )
    # Serialised once by pydantic-core (5,000 results), not validated again on the way out.
    answer = Response(outcome.model_dump_json(exclude_none=True), media_type="application/json")
    if outcome.replayed:
        answer.headers["Idempotent-Replayed"] = "true"
    return answer


def _command(
    index: int, item: BatchItem, app: Orderledger, caller: Principal, batch: CommandContext, today: date
) -> BatchCommand | CommandOutcome:
    """The item as a command ready to decide, or the reason it cannot be (not allowed, bad body, no such path)."""
    context = (
        batch if item.expected_version is None else batch.model_copy(update={"expected_version": item.expected_version})
    )
    try:
        return _resolve(item, app, caller, context, today)
    except Problem as problem:
        return refused(index, problem.status, problem.code, problem.detail)
    except CommandRejected as rejection:
        return refused(index, rejection.status, rejection.code, rejection.message)
    except ValidationError as invalid:
        errors = [field_error(e) for e in invalid.errors()]
        fields = ", ".join(e["field"] for e in errors[:5])
        return refused(index, 422, "invalid_request", f"the command has invalid fields: {fields}").model_copy(
            update={"errors": tuple(errors)}
        )


def _resolve(
    item: BatchItem, app: Orderledger, caller: Principal, context: CommandContext, today: date
) -> BatchCommand:
    desk = app.desk
    plan: Callable[[LedgerStreams], Plan]
    if item.path == "/v1/orders":
        ORDER_PARTIES.allow(caller)
        draft = orders.placement(strictly(orders.PlaceOrderBody, item.body), caller, app.clock())
        placed = placing(draft, context)
        reads = (contract_stream(draft.contract_id),) if draft.contract_id else ()
        return BatchCommand(partial(desk.place_plan, draft), placed, reads, created=True, series=order_series(draft))
    if item.path == "/v1/contracts":
        BROKER.allow(caller)
        registration = strictly(RegisterContract, item.body)
        plan = partial(desk.contract_plan, registration.contract_id, registration, context)
        return BatchCommand(plan, context, (contract_stream(registration.contract_id),), created=True)
    if found := _ORDER_PATH.fullmatch(item.path):
        order_id, action = found["id"], ORDER_ACTIONS.get(found["action"])
        if action is not None:
            action.access.allow(caller)
            order_command = action.command(strictly(action.body, item.body), caller, today)
            authorize = orders.authorizer(action, caller, order_id)
            plan = partial(desk.order_plan, order_id, order_command, context, authorize)
            return BatchCommand(plan, context, (order_id,))
    if found := _CONTRACT_PATH.fullmatch(item.path):
        contract_id, known = found["id"], CONTRACT_ACTIONS.get(found["action"])
        if known is not None:
            BROKER.allow(caller)
            body_model, make = known
            contract_command = make(strictly(body_model, item.body), today)
            plan = partial(desk.contract_plan, contract_id, contract_command, context)
            return BatchCommand(plan, context, (contract_stream(contract_id),))
    raise Problem(
        404,
        "unknown_command",
        f"{item.path!r} is not a command a batch carries: /v1/orders, /v1/orders/{{id}}/<action>, /v1/contracts,"
        " /v1/contracts/{id}/<action>",
    )
