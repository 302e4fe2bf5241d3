"""What every command endpoint shares: the command context built from the request and its headers."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Header, Request, Response

from api.app.problems import Problem
from events.handling.desk import CommandContext, CommandResult
from events.kernel.model import Fact
from events.ledger.chain import canonical_json
from processors.access_keys import Principal
from processors.structured_logs import correlation_id as current_correlation
from processors.wiring import Orderledger
from projections import Projection
from projections.catalogue import PROJECTIONS

EASTERN = ZoneInfo("America/Toronto")
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, description="retry-safe key: same key and body, same result"),
]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", max_length=40, description="the stream version you read; 409 if it moved on"),
]


def business_today(app: Orderledger) -> date:
    """Today in Eastern Time, the business calendar's zone."""
    return app.clock().astimezone(EASTERN).date()


def command_context(
    request: Request,
    app: Orderledger,
    caller: Principal,
    body: Fact,
    idempotency_key: str | None,
    if_match: str | None = None,
) -> CommandContext:
    # RequestLog gave the request its id (the header's when it is a UUID): the events carry that one.
    correlation = request.headers.get("X-Correlation-Id") or current_correlation.get()
    try:
        correlation_id = uuid.UUID(correlation) if correlation else uuid.uuid4()
    except ValueError:
        raise Problem(400, "invalid_correlation_id", "X-Correlation-Id must be a UUID") from None
    expected = None
    if if_match is not None:
        text = if_match.strip().strip('"')
        if not text.isdigit():
            raise Problem(400, "invalid_if_match", 'If-Match must be the stream version you read, e.g. "3"')
        expected = int(text)

    # The same key with the same request (method, path, body) replays; another body is refused.
    def fingerprint() -> str:  # only with a key: a batch's body is large
        return f"{request.method} {request.url.path}\n{canonical_json(body.model_dump(mode='json'))}"

    return CommandContext(
        actor=f"{caller.role}/{caller.key_id}",
        now=app.clock(),
        correlation_id=correlation_id,
        idempotency_key=f"{caller.key_id}:{idempotency_key}" if idempotency_key else None,
        request_hash=hashlib.sha256(fingerprint().encode()).hexdigest() if idempotency_key else "",
        expected_version=expected,
    )


def settle(app: Orderledger, response: Response, projection: Projection[Any], key: str, result: CommandResult) -> None:
    """Read-your-writes and headers for a command's answer: wait (bounded) for the projection, set the ETag."""
    if result.last_position:
        app.wait_for(projection, key, result.last_position, timeout=2.0)
    response.headers["ETag"] = f'"{result.stream_version}"'
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"


def settle_all(app: Orderledger, response: Response, result: CommandResult) -> None:
    """Read-your-writes across every read model the command's whole batch touches (e.g. an incident
    and its service's months, an assessment and the statements its credits land on)."""
    if result.last_position and not result.replayed:
        last = max(result.batch_last_position, result.last_position)
        for event in app.ledger.read_all(result.first_position - 1, last - result.first_position + 1):
            for projection in PROJECTIONS.values():
                for key in projection.keys(event):
                    app.wait_for(projection, key, event.position, timeout=2.0)
    response.headers["ETag"] = f'"{result.stream_version}"'
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"


class Accepted(Fact):
    """What a command appended: the stream it answers for, its version and last position, the event types."""

    stream_id: str
    stream_version: int
    position: int
    events: list[str]
    replayed: bool


def accepted(result: CommandResult) -> Accepted:
    return Accepted(
        stream_id=result.stream_id,
        stream_version=result.stream_version,
        position=result.last_position,
        events=list(result.event_types),
        replayed=result.replayed,
    )
