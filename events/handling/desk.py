"""Carry out commands: load the streams, decide, append with expected versions, once per key.

An order that draws on a registered contract is decided together with that contract, and both
streams are appended in one all-or-nothing batch: an award that would overdraw the contract, or
an inventory order for stock that is not there, is refused as a whole.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, cast
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime

from events.billing.decider import BillingCalendar, CreditDue, fold_calendar, grant_credit
from events.billing.facts import BILLING_PERIODS_STREAM, OrganisationRegistered
from events.contracts import decider as contracting
from events.contracts.commands import (
    ContractCommand,
    RecordConsumption,
    ReleaseInventory,
    ReserveInventory,
    ReverseConsumption,
)
from events.handling.order_numbers import HeldNumbers, order_number, order_series
from events.kernel.business_dates import check_dates
from events.kernel.errors import CommandRejected
from events.kernel.model import Fact
from events.kernel.money import ZERO
from events.kernel.rates import RateBook, TaxStatus
from events.ledger import (
    NO_STREAM,
    AppendResult,
    CommandRecord,
    DuplicateCommand,
    Ledger,
    NewEvent,
    RecordedEvent,
    StreamAppend,
    StreamVersionConflict,
)
from events.ledger.catalogue import decode_contract_event, decode_order_event, decode_period_event
from events.orders import decider as ordering
from events.orders.commands import AwardCallUp, CancelOrder, OrderCommand, PlaceOrder
from events.orders.decider import Order
from events.orders.facts import LateDeliveryRebateApplied, OrderPlaced

EASTERN = ZoneInfo("America/Toronto")
RETRIES_ON_CONFLICT = 5
ORDERABLE_KINDS = ("standing_offer", "supply_arrangement", "inventory")
# Which payload field holds the business date of each date-only fact.
_BUSINESS_DATE_FIELDS = (
    "priced_on",
    "amended_on",
    "assessed_on",
    "approved_on",
    "awarded_on",
    "agreed_on",
    "delivered_on",
    "applied_on",
    "cancelled_on",
    "closed_on",
    "exercised_on",
    "recorded_on",
    "reversed_on",
    "reserved_on",
    "released_on",
    "withdrawn_on",
    "reinstated_on",
    "reached_on",
    "noticed_on",
    "expired_on",
    "terminated_on",
    "registered_on",
    "issued_on",
    "disputed_on",
    "resolved_on",
    "assigned_on",
    "granted_on",
    "reopened_on",
)
# Service and incident facts happen at a moment, not on a day.
_BUSINESS_TIME_FIELDS = (
    "opened_at",
    "updated_at",
    "restored_at",
    "closed_at",
    "recurred_at",
    "approved_at",
    "started_at",
)


class CommandContext(Fact):
    """Who asks, when (ledger clock of the request), and the ids that tie events together."""

    actor: str
    now: AwareDatetime
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None
    idempotency_key: str | None = None  # already scoped to the caller
    request_hash: str = ""
    expected_version: int | None = None  # from If-Match: refuse if the stream moved on


class CommandResult(Fact):
    stream_id: str
    stream_version: int
    first_position: int
    last_position: int
    event_types: tuple[str, ...]
    replayed: bool = False
    batch_last_position: int = 0  # the last position of the whole batch (other streams appended with it)


@dataclass
class Plan:
    """What a command appends: events per stream, each at the version it was decided on.

    `conditions` are streams the decision read but does not write (stream_id, version): the append
    is refused if one moved meanwhile, and the command is decided again (e.g. a month closed while
    an invoice was being priced for it).
    """

    appends: list[tuple[str, str, int, list[Any]]]  # (stream_id, stream_type, version, events)
    conditions: list[tuple[str, int]] = field(default_factory=list)


class LedgerStreams:
    """The state of the streams a decision reads, folded from the ledger as it is now.

    A batch reads through its own streams (events.handling.batches.Workspace): the ledger's state
    plus what the batch's earlier commands decided.
    """

    def __init__(self, ledger: Ledger, numbers: HeldNumbers | None = None) -> None:
        self.ledger = ledger
        self.numbers = numbers  # the request's own numbers; without them each is allocated afresh

    def order(self, order_id: str) -> tuple[Order | None, int]:
        return fold_order(self.ledger.read_stream(order_id))

    def contract(self, contract_id: str) -> tuple[contracting.Contract | None, int]:
        return fold_contract(self.ledger.read_stream(contract_stream(contract_id)))

    def calendar(self) -> tuple[BillingCalendar, int]:
        """The closed months and the version of the billing-periods stream they were read at."""
        recorded = self.ledger.read_stream(BILLING_PERIODS_STREAM)
        calendar = fold_calendar(decode_period_event(r.data) for r in recorded)
        return calendar, recorded[-1].stream_version if recorded else NO_STREAM

    def order_number(self, series: str) -> int:
        """A number of the series for a new order, no other request's (events.handling.order_numbers)."""
        return self.numbers.take(series) if self.numbers else self.ledger.allocate_numbers(series)[0]


def fold_order(recorded: Sequence[RecordedEvent]) -> tuple[Order | None, int]:
    order: Order | None = None
    for event in recorded:
        order = ordering.evolve(order, decode_order_event(event.data))
    return order, recorded[-1].stream_version if recorded else NO_STREAM


def fold_contract(recorded: Sequence[RecordedEvent]) -> tuple[contracting.Contract | None, int]:
    contract = contracting.fold(decode_contract_event(event.data) for event in recorded)
    return contract, recorded[-1].stream_version if recorded else NO_STREAM


class Desk:
    """The one place commands are carried out, whatever the ledger adapter."""

    def __init__(self, ledger: Ledger, rates: RateBook, new_id: Callable[[], uuid.UUID] = uuid.uuid4) -> None:
        self.ledger = ledger
        self.rates = rates
        self.new_id = new_id
        self.streams = LedgerStreams(ledger)

    # ------------------------------------------------------------ loading

    def load(self, order_id: str) -> tuple[Order | None, int]:
        return self.streams.order(order_id)

    def load_contract(self, contract_id: str) -> tuple[contracting.Contract | None, int]:
        return self.streams.contract(contract_id)

    # ------------------------------------------------------------ orders

    def place(self, draft: PlaceOrder, context: CommandContext) -> CommandResult:
        """Place an order: the order number (its `order_id`) is assigned here, never before.

        Numbers run per calendar year of placement (ORD-2026-000001, ...) and are allocated, not read
        and incremented, so placements at the same moment never conflict over one (events.handling.order_numbers).
        """
        numbers = HeldNumbers(self.ledger)
        streams = LedgerStreams(self.ledger, numbers)

        def plan() -> Plan:
            numbers.rewind()  # decided again after a conflict: with the number it was given
            return self.place_plan(draft, streams)

        # An order on an inventory contract reserves stock on the contract's stream, which every
        # placement on that contract moves: decide again on a conflict, more often than elsewhere.
        return self.run(plan, placing(draft, context), RETRIES_ON_CONFLICT * 4)

    def place_plan(self, draft: PlaceOrder, streams: LedgerStreams) -> Plan:
        contract = streams.contract(draft.contract_id) if draft.contract_id else None
        series = order_series(draft)
        command = draft.model_copy(update={"order_id": order_number(series, streams.order_number(series))})
        events = ordering.decide(command, None, self.rates)
        appends: list[tuple[str, str, int, list[Any]]] = [(command.order_id, "order", NO_STREAM, events)]
        if contract is not None:
            appends.append(self._reservation(command, events[0], *contract))
        return Plan(appends)

    def execute(
        self,
        order_id: str,
        command: OrderCommand,
        context: CommandContext,
        authorize: Callable[[Order], None] | None = None,
    ) -> CommandResult:
        """Decide and append; `authorize` sees the order (from the ledger) first and may refuse."""
        return self.run(lambda: self.order_plan(order_id, command, context, authorize, self.streams), context)

    def order_plan(
        self,
        order_id: str,
        command: OrderCommand,
        context: CommandContext,
        authorize: Callable[[Order], None] | None,
        streams: LedgerStreams,
    ) -> Plan:
        order, version = streams.order(order_id)
        if order is None:
            raise CommandRejected("order_not_found", f"there is no order {order_id}", 404)
        if authorize:
            authorize(order)
        check_dates(command, context.now)
        _expect(context, order_id, version)
        events: list[Any] = ordering.decide(command, order, self.rates)
        conditions: list[tuple[str, int]] = []
        credits: list[tuple[str, str, int, list[Any]]] = []
        if any(isinstance(e, LateDeliveryRebateApplied) for e in events):
            # The credit names the rebate's event id, so the order's events get theirs now.
            decided, events = events, [self.envelope(e, "order", context) for e in events]
            calendar, calendar_version = streams.calendar()
            conditions.append((BILLING_PERIODS_STREAM, calendar_version))
            for number, (fact, enveloped) in enumerate(zip(decided, events, strict=True), 1):
                if isinstance(fact, LateDeliveryRebateApplied):
                    credits.append(self._rebate_credit(order, version + number, enveloped, fact, calendar, streams))
        appends: list[tuple[str, str, int, list[Any]]] = [(order_id, "order", version, events), *credits]
        if order.contract_id:
            linked = self._contract_effect(order, command, streams)
            if linked:
                appends.append(linked)
        return Plan(appends, conditions)

    def _rebate_credit(
        self,
        order: Order,
        rebate_version: int,
        enveloped: NewEvent,
        rebate: LateDeliveryRebateApplied,
        calendar: BillingCalendar,
        streams: LedgerStreams,
    ) -> tuple[str, str, int, list[Any]]:
        """The credit for a rebate: one stream per rebate, named by the rebate's place in the order's stream."""
        contract = streams.contract(order.contract_id)[0] if order.contract_id else None
        credit_id = f"{order.order_id}-rebate-{rebate_version}"
        credit = grant_credit(
            CreditDue(
                credit_id=credit_id,
                kind="late_delivery_rebate",
                client_org=order.client_org,
                tax_status=cast(TaxStatus, order.client_tax_status),
                reference=order.order_id,
                order_id=order.order_id,
                contract_id=order.contract_id,
                supplier=order.supplier,
                province=order.locations[0].province,
                amount=rebate.amount,
                reason=rebate.reason,
                granted_on=rebate.applied_on,
                charge_period=rebate.applied_on.strftime("%Y-%m"),
                fee_rate=contract.fee_rate if contract else ZERO,
                based_on=(enveloped.event_id,),
            ),
            self.rates,
            calendar,
        )
        return (f"credit-{credit_id}", "credit", NO_STREAM, [credit])

    # ------------------------------------------------------------ billing reads

    def load_calendar(self) -> tuple[BillingCalendar, int]:
        """The closed months and the version of the billing-periods stream they were read at."""
        return self.streams.calendar()

    def load_organisation(self, code: str) -> OrganisationRegistered | None:
        recorded = self.ledger.read_stream(organisation_stream(code))
        return OrganisationRegistered.model_validate(recorded[0].data) if recorded else None

    def _reservation(
        self, command: PlaceOrder, placed: Any, contract: contracting.Contract | None, version: int
    ) -> tuple[str, str, int, list[Any]]:
        assert isinstance(placed, OrderPlaced) and command.contract_id
        if contract is None:
            raise CommandRejected("unknown_contract", f"there is no registered contract {command.contract_id}")
        if contract.kind not in ORDERABLE_KINDS:
            raise CommandRejected(
                "contract_kind_not_orderable",
                f"{command.contract_id} is a {contract.kind}; orders draw on standing offers,"
                " supply arrangements or inventory",
            )
        if contract.supplier != command.supplier:
            raise CommandRejected(
                "contract_supplier_mismatch",
                f"{command.contract_id} is with {contract.supplier}, the order with {command.supplier}",
            )
        events: list[Any] = []
        if contract.kind == "inventory":
            for line in command.lines:
                price = contract.unit_prices.get(line.sku)
                if price is not None and price != line.unit_price:
                    raise CommandRejected(
                        "inventory_price_mismatch",
                        f"{line.sku} is {price} on {command.contract_id}, not {line.unit_price}",
                    )
            reserve = ReserveInventory(
                order_id=command.order_id,
                reserved_on=placed.pricing.tax_date,
                quantities={line.sku: line.quantity for line in command.lines},
            )
            events = contracting.decide(reserve, contract)
        return (contract_stream(command.contract_id), "contract", version, events)

    def _contract_effect(
        self, order: Order, command: OrderCommand, streams: LedgerStreams
    ) -> tuple[str, str, int, list[Any]] | None:
        """Awarding draws the order on its contract; cancelling gives it back."""
        assert order.contract_id
        contract, version = streams.contract(order.contract_id)
        if contract is None:
            return None
        linked: Any
        if isinstance(command, AwardCallUp):
            linked = RecordConsumption(
                consumption_id=f"{order.order_id}/award",
                client_org=order.client_org,
                amount=order.pricing.totals.commitment_basis,
                quantity=sum(line.quantity for line in order.lines),
                period=command.awarded_on.strftime("%Y-%m"),
                source="awarded_order",
                reference=order.order_id,
                recorded_on=command.awarded_on,
                reservation_order_id=order.order_id if order.order_id in contract.reservations else None,
            )
        elif isinstance(command, CancelOrder) and f"{order.order_id}/award" in contract.consumptions:
            linked = ReverseConsumption(
                consumption_id=f"{order.order_id}/award",
                reason=f"order cancelled: {command.reason}",
                reversed_on=command.cancelled_on,
            )
        elif isinstance(command, CancelOrder) and order.order_id in contract.reservations:
            linked = ReleaseInventory(
                order_id=order.order_id, reason=f"order cancelled: {command.reason}", released_on=command.cancelled_on
            )
        else:
            return None
        return (contract_stream(order.contract_id), "contract", version, contracting.decide(linked, contract))

    # ------------------------------------------------------------ contracts

    def execute_contract(self, contract_id: str, command: ContractCommand, context: CommandContext) -> CommandResult:
        return self.run(lambda: self.contract_plan(contract_id, command, context, self.streams), context)

    def contract_plan(
        self, contract_id: str, command: ContractCommand, context: CommandContext, streams: LedgerStreams
    ) -> Plan:
        check_dates(command, context.now)
        contract, version = streams.contract(contract_id)
        _expect(context, contract_id, version)
        return Plan([(contract_stream(contract_id), "contract", version, contracting.decide(command, contract))])

    # ------------------------------------------------------------ appending

    def run(
        self, plan: Callable[[], Plan], context: CommandContext, retries: int = RETRIES_ON_CONFLICT
    ) -> CommandResult:
        """Decide with `plan` and append all its streams or none; decide again on a version conflict."""
        replay = self._replay(context)
        if replay:
            return replay
        for _ in range(retries):
            decided = plan()
            appends = [
                StreamAppend(
                    stream_id=stream_id,
                    expected_version=version,
                    events=tuple(e if isinstance(e, NewEvent) else self.envelope(e, kind, context) for e in events),
                )
                for stream_id, kind, version, events in decided.appends
                if events
            ]
            if not appends:
                stream_id, _, version, _ = decided.appends[0]
                return CommandResult(
                    stream_id=stream_id, stream_version=version, first_position=0, last_position=0, event_types=()
                )
            appends += [StreamAppend(stream_id=s, expected_version=v, events=()) for s, v in decided.conditions]
            record = (
                CommandRecord(key=context.idempotency_key, request_hash=context.request_hash)
                if context.idempotency_key
                else None
            )
            try:
                results = self.ledger.append_batch(appends, record)
            except StreamVersionConflict:
                if context.expected_version is not None:
                    raise CommandRejected(
                        "version_conflict", "the stream changed meanwhile; read it again", 409
                    ) from None
                continue  # decide again against the newer state
            except DuplicateCommand:
                return self._replay_or_fail(context)
            return _result(results[0], tuple(e.type for e in appends[0].events), results)
        raise CommandRejected("version_conflict", "the stream keeps changing; retry", 409)

    def envelope(self, event: Any, stream_type: str, context: CommandContext) -> NewEvent:
        # Every field comes from a validated fact and context: constructed without validating again.
        return NewEvent.model_construct(
            event_id=self.new_id(),
            type=event.type,
            schema_version=event.schema_version,
            stream_type=stream_type,
            data=event.model_dump(mode="json"),
            occurred_at=business_time(event, context.now),
            actor=context.actor,
            correlation_id=context.correlation_id,
            causation_id=context.causation_id,
        )

    def _replay(self, context: CommandContext) -> CommandResult | None:
        if not context.idempotency_key:
            return None
        outcome = self.ledger.find_command(context.idempotency_key)
        if outcome is None:
            return None
        if outcome.request_hash != context.request_hash:
            raise CommandRejected(
                "idempotency_key_reused",
                "this Idempotency-Key was already used with a different request; use a new key",
            )
        first = outcome.results[0]
        count = first.last_position - first.first_position + 1
        types = tuple(e.type for e in self.ledger.read_all(first.first_position - 1, count))
        return _result(first, types, outcome.results, replayed=True)

    def _replay_or_fail(self, context: CommandContext) -> CommandResult:
        replay = self._replay(context)
        if replay is None:  # pragma: no cover - the key was committed by the racing request
            raise CommandRejected("busy", "retry the request", 503)
        return replay


def organisation_stream(code: str) -> str:
    return f"organisation-{code}"


def contract_stream(contract_id: str) -> str:
    return f"contract-{contract_id}"


def placing(draft: PlaceOrder, context: CommandContext) -> CommandContext:
    """An order's events are stamped with its placement time, the ledger clock of its placing (which, like
    every date of the order, lies in its window around the ledger's clock)."""
    check_dates(draft, context.now)
    return context.model_copy(update={"now": draft.placed_at})


def _expect(context: CommandContext, stream_id: str, version: int) -> None:
    if context.expected_version is not None and context.expected_version != version:
        raise CommandRejected(
            "version_conflict",
            f"{stream_id} is at version {version}, not {context.expected_version}: read it again and retry",
            409,
        )


def _result(
    result: AppendResult, types: tuple[str, ...], batch: Sequence[AppendResult], replayed: bool = False
) -> CommandResult:
    return CommandResult(
        batch_last_position=max(r.last_position for r in batch),
        stream_id=result.stream_id,
        stream_version=result.stream_version,
        first_position=result.first_position,
        last_position=result.last_position,
        event_types=types,
        replayed=replayed,
    )


def business_time(event: Any, now: datetime) -> datetime:
    """When the fact happened in business terms: its own moment or date (00:00 Eastern), else `now`."""
    for name in _business_fields(type(event)):
        value = getattr(event, name, None)
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime.combine(value, time(0, 0), tzinfo=EASTERN)
    return now


def _business_fields(kind: type) -> tuple[str, ...]:
    """The fields of a fact type that may hold its business time, moments first (looked up once per type)."""
    found = _FIELDS_BY_TYPE.get(kind)
    if found is None:
        fields = getattr(kind, "model_fields", None)
        names = (*_BUSINESS_TIME_FIELDS, *_BUSINESS_DATE_FIELDS)
        found = _FIELDS_BY_TYPE[kind] = tuple(n for n in names if fields is None or n in fields)
    return found


_FIELDS_BY_TYPE: dict[type, tuple[str, ...]] = {}
