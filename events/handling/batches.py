"""Carry out a batch of commands in one transaction: a usage report, a large invoice, a day's feed.

Each command is decided in turn, exactly as it would be alone, on the state its stream is left in
by the batch's earlier accepted commands; a refused command changes nothing and does not stop the
others. The accepted commands' events are then appended in one ledger transaction, in command
order, each stream at the version it was decided on: a batch is as if its commands had been sent
one after another with nothing in between. `all_or_nothing` refuses the whole batch if one
command is refused.

For throughput, the streams the batch names are read in one query before deciding (and the
contracts of those orders in a second one), and the appends go to the ledger together.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from events.billing.decider import BillingCalendar
from events.contracts import decider as contracting
from events.contracts.decider import Contract
from events.handling.desk import CommandContext, Desk, LedgerStreams, Plan, contract_stream, fold_contract, fold_order
from events.handling.order_numbers import HeldNumbers
from events.kernel.errors import CommandRejected
from events.kernel.model import Fact
from events.ledger import (
    NO_STREAM,
    AppendResult,
    CommandRecord,
    DuplicateCommand,
    NewEvent,
    StreamAppend,
    StreamVersionConflict,
)
from events.ledger.catalogue import decode_contract_event, decode_order_event
from events.orders import decider as ordering
from events.orders.decider import Order

MAX_BATCH_COMMANDS = 5000
RETRIES_ON_CONFLICT = 5


@dataclass(frozen=True)
class BatchCommand:
    """One command of a batch, ready to decide: the plan it makes from the streams it reads."""

    plan: Callable[[LedgerStreams], Plan]
    context: CommandContext
    reads: tuple[str, ...] = ()  # the streams it names, read ahead with the others
    created: bool = False  # answers 201 (a new order or contract), else 200
    series: str | None = None  # a placement: the series its order number is taken from


class CommandOutcome(Fact):
    """What became of one command: appended (its first stream's version and last position) or refused."""

    index: int
    status: int
    stream_id: str | None = None
    stream_version: int | None = None
    position: int | None = None
    events: tuple[str, ...] = ()
    code: str | None = None
    message: str | None = None
    errors: tuple[dict[str, str], ...] | None = None  # the invalid fields of a refused body

    @property
    def accepted(self) -> bool:
        return self.code is None


class BatchOutcome(Fact):
    accepted: int
    rejected: int
    first_position: int  # 0 when nothing was appended
    last_position: int
    results: tuple[CommandOutcome, ...]
    replayed: bool = False


def refused(index: int, status: int, code: str, message: str) -> CommandOutcome:
    return CommandOutcome(index=index, status=status, code=code, message=message)


class StreamStates:
    """The folded state of recently used streams, each at the version it was folded to (bounded, LRU).

    A state is used only while its stream is still at that version (checked in one query per
    batch), so a busy contract is not read and folded again from its first event for every batch.
    Only states of committed appends are kept, and a batch takes a state out while it uses it, so a
    state is never shared: extending a contract's consumptions in place copies nothing.
    """

    def __init__(self, limit: int = 5_000) -> None:
        # 5,000: the streams of the last dozen 1,000-command batches. An order's state is several kB of
        # objects: 50,000 kept the embedded API at 1 GB after a million events.
        self.limit = limit
        self._states: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, stream_id: str, version: int) -> Any:
        """The state of the stream at `version`, handed over: the batch owns it (and may extend it in
        place) until it commits and keeps it again; a batch that does not commit drops it."""
        with self._lock:
            found = self._states.pop(stream_id, None)
            return found[0] if found is not None and found[1] == version else _MISSING

    def keep(self, states: dict[str, tuple[Any, int]]) -> None:
        with self._lock:
            for stream_id, state in states.items():
                self._states[stream_id] = state
                self._states.move_to_end(stream_id)
            while len(self._states) > self.limit:
                self._states.popitem(last=False)


_MISSING = object()


class Workspace(LedgerStreams):
    """The streams a batch reads: the ledger's state, then each accepted command's events folded in.

    Every state it holds is its own — taken out of the known states or folded here from the ledger —
    so a contract's consumptions are extended in place, never copied.
    """

    def __init__(self, desk: Desk, known: StreamStates, numbers: HeldNumbers) -> None:
        super().__init__(desk.ledger, numbers)
        self.desk = desk
        self.known = known
        self.orders: dict[str, tuple[Order | None, int]] = {}
        self.contracts: dict[str, tuple[Contract | None, int]] = {}
        self.versions: dict[str, int] = {}  # every stream the batch read or wrote, at its current version
        self._calendar: tuple[BillingCalendar, int] | None = None

    def read_ahead(self, stream_ids: Sequence[str]) -> None:
        """Read the named streams (those not known at their current version) in one query, then the
        contracts their orders draw on the same way."""
        wanted = [s for s in dict.fromkeys(stream_ids) if s not in self.versions]
        current = self.ledger.stream_versions(wanted)
        unknown = []
        for stream_id in wanted:
            version = current.get(stream_id, NO_STREAM)
            state = self.known.take(stream_id, version) if version else None
            if state is _MISSING:
                unknown.append(stream_id)
            else:
                self._keep(stream_id, (state, version))
        found = self.ledger.read_streams(unknown)
        for stream_id in unknown:
            recorded = found.get(stream_id, [])
            self._keep(stream_id, fold_contract(recorded) if _is_contract(stream_id) else fold_order(recorded))
        linked = [
            contract_stream(order.contract_id)
            for order, _ in self.orders.values()
            if order is not None and order.contract_id and contract_stream(order.contract_id) not in self.versions
        ]
        if linked:
            self.read_ahead(linked)

    def _keep(self, stream_id: str, state: tuple[Any, int]) -> None:
        (self.contracts if _is_contract(stream_id) else self.orders)[stream_id] = state
        self.versions[stream_id] = state[1]

    def states(self) -> dict[str, tuple[Any, int]]:
        return {**self.orders, **self.contracts}

    # ------------------------------------------------------------ the reads a decision makes

    def order(self, order_id: str) -> tuple[Order | None, int]:
        if order_id not in self.orders:
            self._keep(order_id, super().order(order_id))
        return self.orders[order_id]

    def contract(self, contract_id: str) -> tuple[Contract | None, int]:
        stream_id = contract_stream(contract_id)
        if stream_id not in self.contracts:
            self._keep(stream_id, super().contract(contract_id))
        return self.contracts[stream_id]

    def calendar(self) -> tuple[BillingCalendar, int]:
        if self._calendar is None:
            self._calendar = super().calendar()
        return self._calendar

    # ------------------------------------------------------------ folding a decision in

    def absorb(self, plan: Plan, context: CommandContext) -> list[StreamAppend]:
        """The command's appends, enveloped, with the workspace moved past them; refused if a stream
        it writes was decided on a version the batch has already moved past."""
        decided = []
        for stream_id, kind, version, facts in plan.appends:
            if not facts:
                continue
            if self.versions.get(stream_id, version) != version:
                raise CommandRejected(
                    "version_conflict", f"{stream_id} was changed by an earlier command of this batch", 409
                )
            events = tuple(f if isinstance(f, NewEvent) else self.desk.envelope(f, kind, context) for f in facts)
            append = StreamAppend.model_construct(stream_id=stream_id, expected_version=version, events=events)
            decided.append((append, kind, facts))
        for append, kind, facts in decided:  # only once every stream of the command is known to be in order
            self._fold(append, kind, facts)
        return [append for append, _, _ in decided]

    def _fold(self, append: StreamAppend, kind: str, facts: list[Any]) -> None:
        stream_id = append.stream_id
        version = append.expected_version + len(append.events)
        self.versions[stream_id] = version
        if kind == "contract":
            contract = self.contracts.get(stream_id, (None, NO_STREAM))[0]
            for fact in facts:
                event = decode_contract_event(fact.data) if isinstance(fact, NewEvent) else fact
                contract = contracting.evolve(contract, event, owned=True)  # see the class docstring
            self.contracts[stream_id] = (contract, version)
        elif kind == "order":
            order = self.orders.get(stream_id, (None, NO_STREAM))[0]
            for fact in facts:
                order = ordering.evolve(order, decode_order_event(fact.data) if isinstance(fact, NewEvent) else fact)
            self.orders[stream_id] = (order, version)


def _is_contract(stream_id: str) -> bool:
    return stream_id.startswith("contract-")


class BatchDesk:
    """Batches, carried out through the same desk (deciders, envelopes, idempotency) as single commands."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.ledger = desk.ledger
        self.known = StreamStates()

    def run(
        self,
        commands: Sequence[BatchCommand | CommandOutcome],
        context: CommandContext,
        all_or_nothing: bool = False,
    ) -> BatchOutcome:
        """Decide every command, append the accepted ones in one transaction; decide again on a conflict.

        An entry that is already an outcome (refused before deciding: bad body, not allowed) is kept
        in its place.
        """
        replay = self._replay(context)
        if replay is not None:
            return replay
        numbers = HeldNumbers(self.ledger)  # the batch's order numbers, taken in one allocation per year
        for series, count in Counter(c.series for c in commands if isinstance(c, BatchCommand) and c.series).items():
            numbers.expect(series, count)
        for _ in range(RETRIES_ON_CONFLICT):
            numbers.rewind()  # decided again: the same numbers, in the same order
            work = Workspace(self.desk, self.known, numbers)
            outcomes, appends, segments = self._decide(work, commands, numbers)
            if (all_or_nothing and any(not o.accepted for o in outcomes)) or not appends:
                return _outcome(outcomes, segments, [])
            decided = {"outcomes": [o.model_dump(mode="json") for o in outcomes], "segments": segments}
            record = (
                CommandRecord(key=context.idempotency_key, request_hash=context.request_hash, response=decided)
                if context.idempotency_key
                else None
            )
            try:
                results = self.ledger.append_batch(appends, record)
            except StreamVersionConflict:
                continue  # another request moved a stream: decide the whole batch again
            except DuplicateCommand:
                replay = self._replay(context)
                if replay is None:  # pragma: no cover - the key was committed by the racing request
                    raise CommandRejected("busy", "retry the request", 503) from None
                return replay
            self.known.keep(work.states())
            return _outcome(outcomes, segments, results)
        raise CommandRejected("version_conflict", "the streams of this batch keep changing; retry", 409)

    def _decide(
        self, work: Workspace, commands: Sequence[BatchCommand | CommandOutcome], numbers: HeldNumbers
    ) -> tuple[list[CommandOutcome], list[StreamAppend], list[tuple[int, int]]]:
        """Outcomes (accepted ones without positions yet), the appends in command order, and for each
        accepted command the range of appends that are its own."""
        work.read_ahead([s for c in commands if isinstance(c, BatchCommand) for s in c.reads])
        outcomes: list[CommandOutcome] = []
        appends: list[StreamAppend] = []
        segments: list[tuple[int, int]] = []
        for index, command in enumerate(commands):
            if isinstance(command, CommandOutcome):
                outcomes.append(command)
                segments.append((0, 0))
                continue
            mark = numbers.mark()
            try:
                plan = command.plan(work)
                mine = work.absorb(plan, command.context)
            except CommandRejected as rejection:
                numbers.give_back(mark)  # the next placement takes the number this one did not use
                outcomes.append(refused(index, rejection.status, rejection.code, rejection.message))
                segments.append((0, 0))
                continue
            first_stream, _, version, _ = plan.appends[0]
            outcomes.append(
                CommandOutcome.model_construct(
                    index=index,
                    status=201 if command.created else 200,
                    stream_id=first_stream,
                    stream_version=version,
                    events=tuple(e.type for e in mine[0].events) if mine else (),
                )
            )
            segments.append((len(appends), len(appends) + len(mine)))
            appends += mine
            appends += [  # streams the decision read but does not write: refused if they moved
                StreamAppend(stream_id=s, expected_version=v, events=())
                for s, v in plan.conditions
                if s not in work.versions
            ]
        return outcomes, appends, segments

    def _replay(self, context: CommandContext) -> BatchOutcome | None:
        if not context.idempotency_key:
            return None
        outcome = self.ledger.find_command(context.idempotency_key)
        if outcome is None:
            return None
        if outcome.request_hash != context.request_hash or outcome.response is None:
            raise CommandRejected(
                "idempotency_key_reused",
                "this Idempotency-Key was already used with a different request; use a new key",
            )
        outcomes = [CommandOutcome.model_validate(o) for o in outcome.response["outcomes"]]
        segments = [(int(start), int(end)) for start, end in outcome.response["segments"]]
        return _outcome(outcomes, segments, list(outcome.results)).model_copy(update={"replayed": True})


def _outcome(
    outcomes: list[CommandOutcome], segments: list[tuple[int, int]], results: list[AppendResult]
) -> BatchOutcome:
    """The answer: each accepted command's first stream at the version and position it was appended at."""
    placed = []
    for outcome, (start, end) in zip(outcomes, segments, strict=True):
        if outcome.accepted and end > start and results:  # (no results: nothing was appended)
            first = results[start]
            outcome = outcome.model_copy(
                update={"stream_version": first.stream_version, "position": first.last_position}
            )
        placed.append(outcome)
    written = [r for r in results if r.last_position >= r.first_position]
    return BatchOutcome(
        accepted=sum(1 for o in placed if o.accepted),
        rejected=sum(1 for o in placed if not o.accepted),
        first_position=min((r.first_position for r in written), default=0),
        last_position=max((r.last_position for r in written), default=0),
        results=tuple(placed),
    )
