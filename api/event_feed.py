"""The HTTP event feed: ledger events as CloudEvents, by page (`/v1/events`) or as Server-Sent Events.

The cursor is the ledger position of the last event read (an integer, not a secret): events come
in ledger order, which keeps every stream's order. A key sees only the event types and
organisations it was granted (`orderledger keys create --role integrator --event-types ... --organisations ...`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from api.access import App, Caller, require
from api.problems import Problem
from events.audience import EventGrant, type_patterns
from events.catalogue import CLOUD_TYPES
from events.cloud_events import structured
from processors.access_keys import Principal
from processors.event_feed import Audience, read_page

router = APIRouter(tags=["events"])
KEEP_ALIVE_SECONDS = 15.0
POLL_SECONDS = 0.2
Types = Annotated[
    str | None,
    Query(max_length=4000, description="comma list of CloudEvents types or `ca.orderledger.<family>.*`"),
]
MAX_POSITION = 2**62
After = Annotated[int, Query(ge=0, le=MAX_POSITION, description="a ledger position: the events after it")]


def _grant(caller: Principal) -> EventGrant:
    require(caller, "broker", "integrator")
    grant = caller.events
    if not grant.event_types or not grant.organisations:
        raise Problem(
            403,
            "no_event_grant",
            "this integrator key was granted no event types or no organisations:"
            " create one with `orderledger keys create --role integrator --event-types ... --organisations ...`",
        )
    return grant


def wanted_types(types: str | None) -> EventGrant | None:
    """The caller's own type filter, validated (an unknown type is a 422, never an empty feed)."""
    if types is None:
        return None
    try:
        patterns = type_patterns(types.split(","), CLOUD_TYPES)
    except ValueError as exc:
        raise Problem(422, "unknown_event_type", str(exc)) from None
    if not patterns:
        # An empty filter would match nothing and move a consumer's cursor past every event.
        raise Problem(422, "empty_type_filter", "`types` names no event type: leave it out to get every type")
    return EventGrant(patterns, frozenset({"*"}))


@router.get("/v1/events", summary="Events after a position, in ledger order, as CloudEvents (JSON format)")
def feed(
    app: App,
    caller: Caller,
    after: After = 0,
    types: Types = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    grant = _grant(caller)
    page = read_page(app.ledger, Audience(app.ledger), grant, wanted_types(types), after, limit)
    base = app.settings.public_url
    return {
        "events": [structured(e, base) for e in page.events],
        "next_after": page.cursor,
        "head": app.ledger.head(),
    }


@router.get(
    "/v1/events/stream",
    summary="Server-Sent Events: every new event as it is recorded; resumes from Last-Event-ID",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    request: Request,
    app: App,
    caller: Caller,
    after: After = 0,
    types: Types = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
) -> StreamingResponse:
    grant = _grant(caller)
    wanted = wanted_types(types)
    if last_event_id is not None:
        if not last_event_id.isdigit() or int(last_event_id) > MAX_POSITION:
            raise Problem(400, "invalid_last_event_id", "Last-Event-ID must be the position of the last event received")
        after = int(last_event_id)
    audience = Audience(app.ledger)
    base = app.settings.public_url

    async def events() -> AsyncIterator[bytes]:
        cursor = after
        quiet_since = time.monotonic()
        yield b"retry: 2000\n\n"
        while not await request.is_disconnected():
            page = await asyncio.to_thread(read_page, app.ledger, audience, grant, wanted, cursor, 100)
            for event in page.events:
                cloud_event = structured(event, base)
                data = json.dumps(cloud_event, separators=(",", ":"), ensure_ascii=False)
                yield f"id: {event.position}\nevent: {cloud_event['type']}\ndata: {data}\n\n".encode()
            if page.cursor != cursor:
                cursor = page.cursor
                quiet_since = time.monotonic()
                continue
            if time.monotonic() - quiet_since >= KEEP_ALIVE_SECONDS:
                yield b": keep-alive\n\n"  # proxies close idle connections
                quiet_since = time.monotonic()
            await asyncio.sleep(POLL_SECONDS)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
