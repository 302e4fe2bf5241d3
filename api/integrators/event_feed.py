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

from api.app.access import App, EventReader, LedgerRoute
from api.app.problems import Problem
from events.ledger import Ledger
from events.ledger.catalogue import CLOUD_TYPES
from events.publishing.audience import ALL, EventGrant, type_patterns
from events.publishing.cloud_events import structured
from processors.access_keys import Principal
from processors.event_feed import Audience, read_page

router = APIRouter(tags=["events"], route_class=LedgerRoute)
KEEP_ALIVE_SECONDS = 15.0
POLL_SECONDS = 0.2
Types = Annotated[
    str | None,
    Query(max_length=4000, description="comma list of CloudEvents types or `ca.orderledger.<family>.*`"),
]
MAX_POSITION = 2**62
ALL_ORGS = frozenset({ALL})
After = Annotated[int, Query(ge=0, le=MAX_POSITION, description="a ledger position: the events after it")]


def _grant(caller: Principal) -> EventGrant:
    grant = caller.events
    if not grant.event_types or not grant.organisations:
        raise Problem(
            403,
            "no_event_grant",
            "this integrator key was granted no event types or no organisations:"
            " create one with `orderledger keys create --role integrator --event-types ... --organisations ...`",
        )
    return grant


def wanted_types(types: str | None, grant: EventGrant) -> EventGrant | None:
    """The caller's own type filter, validated: an unknown type is a 422 and a type the key was not granted a
    403, never an empty feed (which would look like a quiet one)."""
    if types is None:
        return None
    try:
        patterns = type_patterns(types.split(","), CLOUD_TYPES)
    except ValueError as exc:
        raise Problem(422, "unknown_event_type", str(exc)) from None
    if not patterns:
        # An empty filter would match nothing and move a consumer's cursor past every event.
        raise Problem(422, "empty_type_filter", "`types` names no event type: leave it out to get every type")
    # A pattern of which the key was granted nothing is refused; one it was granted part of is narrowed by the grant.
    granted = [ce_type for ce_type in CLOUD_TYPES if grant.allows_type(ce_type)]
    refused = sorted(
        pattern
        for pattern in patterns
        if not any(EventGrant(frozenset({pattern}), ALL_ORGS).allows_type(t) for t in granted)
    )
    if refused:
        raise Problem(
            403,
            "event_type_not_granted",
            f"this key was not granted {', '.join(refused[:5])}: ask the broker to grant it, or leave it out of"
            " `types`",
            not_granted=refused,
        )
    return EventGrant(patterns, ALL_ORGS)


def within_the_ledger(ledger: Ledger, after: int) -> int:
    """The head, if `after` does not lie past it: a cursor past the head is a consumer's mistake (another
    ledger's cursor, a restored older ledger), answered as such rather than with a quiet empty page."""
    head = ledger.head()
    if after > head:
        raise Problem(
            409,
            "cursor_past_head",
            f"position {after} is past the ledger's head ({head}): resume from a position you received, at most {head}",
            head=head,
        )
    return head


@router.get("/v1/events", summary="Events after a position, in ledger order, as CloudEvents (JSON format)")
def feed(
    app: App,
    caller: EventReader,
    after: After = 0,
    types: Types = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    grant = _grant(caller)
    wanted = wanted_types(types, grant)
    head = within_the_ledger(app.ledger, after)
    page = read_page(app.ledger, Audience(app.ledger), grant, wanted, after, limit)
    base = app.settings.public_url
    return {
        "events": [structured(e, base) for e in page.events],
        "next_after": page.cursor,
        "head": max(head, page.cursor),
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
    caller: EventReader,
    after: After = 0,
    types: Types = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
) -> StreamingResponse:
    grant = _grant(caller)
    wanted = wanted_types(types, grant)
    if last_event_id is not None:
        if not last_event_id.isdigit() or int(last_event_id) > MAX_POSITION:
            raise Problem(400, "invalid_last_event_id", "Last-Event-ID must be the position of the last event received")
        after = int(last_event_id)
    within_the_ledger(app.ledger, after)
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
