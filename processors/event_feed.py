"""Reading the ledger for one integrator: events in ledger order, filtered to what its key was granted.

Which organisations an event concerns can depend on its stream's opening event (an order's award
names no organisation; the order does): openings are read once and remembered.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from events.ledger import Ledger, RecordedEvent
from events.ledger.catalogue import decode
from events.publishing.audience import EventGrant, concerned_organisations
from events.publishing.cloud_events import cloud_type

OPENINGS_REMEMBERED = 20_000
SCAN_LIMIT = 5_000  # events read per page at most, however few pass the filter: the cursor still moves


class Audience:
    """The organisations each event concerns, with the streams' opening events cached."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._openings: OrderedDict[str, Any] = OrderedDict()

    def organisations(self, recorded: RecordedEvent) -> frozenset[str]:
        event = decode(recorded)
        if recorded.stream_version == 1:
            self._remember(recorded.stream_id, event)
            return concerned_organisations(event)
        opening = self._openings.get(recorded.stream_id)
        if opening is None:
            opening = decode(self.ledger.read_stream(recorded.stream_id)[0])
            self._remember(recorded.stream_id, opening)
        else:
            self._openings.move_to_end(recorded.stream_id)
        return concerned_organisations(event, opening)

    def _remember(self, stream_id: str, opening: Any) -> None:
        self._openings[stream_id] = opening
        if len(self._openings) > OPENINGS_REMEMBERED:
            self._openings.popitem(last=False)


@dataclass(frozen=True)
class FeedPage:
    events: list[RecordedEvent]
    cursor: int  # the last position read: pass it as `after` for the next page


def visible(
    audience: Audience,
    grant: EventGrant,
    wanted: EventGrant | None,
    recorded: RecordedEvent,
    streams: frozenset[str] | None = None,
) -> bool:
    """Granted to the key, and within what the caller asked for (types, organisations, streams)."""
    if streams is not None and recorded.stream_id not in streams:
        return False
    ce_type = cloud_type(recorded.type, recorded.stream_type, recorded.schema_version)
    if (wanted is not None and not wanted.allows_type(ce_type)) or not grant.allows_type(ce_type):
        return False
    organisations = audience.organisations(recorded)
    return grant.allows(ce_type, organisations) and (wanted is None or wanted.allows(ce_type, organisations))


def read_page(
    ledger: Ledger,
    audience: Audience,
    grant: EventGrant,
    wanted: EventGrant | None,
    after: int,
    limit: int,
    streams: frozenset[str] | None = None,
) -> FeedPage:
    """Up to `limit` visible events after `after`; reads at most SCAN_LIMIT events for one page."""
    found: list[RecordedEvent] = []
    cursor = after
    scanned = 0
    while len(found) < limit and scanned < SCAN_LIMIT:
        batch = ledger.read_all(cursor, min(1000, SCAN_LIMIT - scanned))
        if not batch:
            break
        for recorded in batch:
            cursor = recorded.position
            scanned += 1
            if visible(audience, grant, wanted, recorded, streams):
                found.append(recorded)
                if len(found) == limit:
                    break
    return FeedPage(found, cursor)
