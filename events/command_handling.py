"""Carry out a command: load the stream, decide, append with the expected version, once per key."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime

from events.catalogue import decode_order_event
from events.errors import CommandRejected
from events.ledger import (
    NO_STREAM,
    AppendResult,
    CommandRecord,
    DuplicateCommand,
    Ledger,
    NewEvent,
    StreamVersionConflict,
)
from events.model import Fact
from events.ordering import Order, decide, evolve
from events.orders import OrderCommand, OrderEvent, PlaceOrder
from events.rates import RateBook

EASTERN = ZoneInfo("America/Toronto")
RETRIES_ON_CONFLICT = 5
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


class OrderDesk:
    """The one place order commands are carried out, whatever the ledger adapter."""

    def __init__(self, ledger: Ledger, rates: RateBook, new_id: Callable[[], uuid.UUID] = uuid.uuid4) -> None:
        self.ledger = ledger
        self.rates = rates
        self.new_id = new_id

    def load(self, order_id: str) -> tuple[Order | None, int]:
        order: Order | None = None
        version = NO_STREAM
        for recorded in self.ledger.read_stream(order_id):
            order = evolve(order, decode_order_event(recorded.data))
            version = recorded.stream_version
        return order, version

    def place(self, draft: PlaceOrder, context: CommandContext) -> CommandResult:
        """Place an order: the order number (its `order_id`) is assigned here, never before.

        Numbers run per calendar year of placement: ORD-2026-000001, ORD-2026-000002, ...
        """
        replay = self._replay(context)
        if replay:
            return replay
        prefix = f"ORD-{draft.placed_at.astimezone(EASTERN).year}-"
        placed = context.model_copy(update={"now": draft.placed_at})
        for _ in range(RETRIES_ON_CONFLICT * 4):
            last = self.ledger.last_stream_id(prefix)
            number = int(last.removeprefix(prefix)) + 1 if last else 1
            command = draft.model_copy(update={"order_id": f"{prefix}{number:06d}"})
            events = decide(command, None, self.rates)
            try:
                return self._append(command.order_id, NO_STREAM, events, placed)
            except StreamVersionConflict:
                continue  # another request took this number first: take the next
            except DuplicateCommand:
                return self._replay_or_fail(context)
        raise CommandRejected("busy", "could not assign an order number; retry", 503)

    def execute(
        self,
        order_id: str,
        command: OrderCommand,
        context: CommandContext,
        authorize: Callable[[Order], None] | None = None,
    ) -> CommandResult:
        """Decide and append; `authorize` sees the order (from the ledger) first and may refuse."""
        replay = self._replay(context)
        if replay:
            return replay
        for _ in range(RETRIES_ON_CONFLICT):
            order, version = self.load(order_id)
            if order is None:
                raise CommandRejected("order_not_found", f"there is no order {order_id}", 404)
            if authorize:
                authorize(order)
            if context.expected_version is not None and context.expected_version != version:
                raise CommandRejected(
                    "version_conflict",
                    f"order {order_id} is at version {version}, not {context.expected_version}:"
                    " read it again and retry",
                    409,
                )
            events = decide(command, order, self.rates)
            try:
                return self._append(order_id, version, events, context)
            except StreamVersionConflict:
                if context.expected_version is not None:
                    raise CommandRejected("version_conflict", f"order {order_id} changed meanwhile", 409) from None
                continue  # decide again against the newer state
            except DuplicateCommand:
                return self._replay_or_fail(context)
        raise CommandRejected("version_conflict", f"order {order_id} keeps changing; retry", 409)

    # ------------------------------------------------------------ internals

    def _append(self, stream_id: str, version: int, events: list[OrderEvent], context: CommandContext) -> CommandResult:
        new = [self._envelope(event, context) for event in events]
        command = (
            CommandRecord(key=context.idempotency_key, request_hash=context.request_hash)
            if context.idempotency_key
            else None
        )
        result = self.ledger.append(stream_id, version, new, command)
        return _result(result, tuple(e.type for e in events))

    def _envelope(self, event: OrderEvent, context: CommandContext) -> NewEvent:
        return NewEvent(
            event_id=self.new_id(),
            type=event.type,
            schema_version=event.schema_version,
            stream_type="order",
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
        types = tuple(
            e.type
            for e in self.ledger.read_all(first.first_position - 1, first.last_position - first.first_position + 1)
        )
        return _result(first, types, replayed=True)

    def _replay_or_fail(self, context: CommandContext) -> CommandResult:
        replay = self._replay(context)
        if replay is None:  # pragma: no cover - the key was committed by the racing request
            raise CommandRejected("busy", "retry the request", 503)
        return replay


def _result(result: AppendResult, types: tuple[str, ...], replayed: bool = False) -> CommandResult:
    return CommandResult(
        stream_id=result.stream_id,
        stream_version=result.stream_version,
        first_position=result.first_position,
        last_position=result.last_position,
        event_types=types,
        replayed=replayed,
    )


def business_time(event: Any, now: datetime) -> datetime:
    """When the fact happened in business terms: its own date (00:00 Eastern), else `now`."""
    for field in _BUSINESS_DATE_FIELDS:
        day = getattr(event, field, None)
        if isinstance(day, date):
            return datetime.combine(day, time(0, 0), tzinfo=EASTERN)
    return now
