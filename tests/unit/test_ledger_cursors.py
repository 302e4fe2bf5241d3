"""A cursor (position + hash) is held by the ledger, past its head, or on an event the ledger no longer holds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from events.ledger import RecordedEvent
from events.ledger.cursors import Cursor, continuation, divergences

WHEN = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def event(position: int, prev_hash: str, digest: str) -> RecordedEvent:
    return RecordedEvent(
        position=position,
        event_id=uuid.UUID(int=position),
        type="OrderPlaced",
        schema_version=1,
        stream_id=f"ORD-2026-{position:06d}",
        stream_type="order",
        stream_version=1,
        occurred_at=WHEN,
        recorded_at=WHEN,
        actor="broker/test",
        correlation_id=uuid.UUID(int=position),
        causation_id=None,
        data={},
        prev_hash=prev_hash,
        hash=digest,
    )


def head(value: int):
    return lambda: value


def test_given_cursors_on_events_the_ledger_holds_then_none_diverges():
    held = {5: "h5", 9: "h9"}
    cursors = [Cursor("order_status", 9, "h9"), Cursor("relay", 5, "h5"), Cursor("chargeback", 0, None)]
    assert divergences(cursors, held, head=9) == []


def test_given_a_cursor_past_the_head_then_it_is_ahead():
    # Given: order_status applied up to 12, then the ledger was restored to a backup ending at 9
    (found,) = divergences([Cursor("order_status", 12, "h12")], {}, head=9)
    assert found.ahead
    assert found.describe() == "order_status is at position 12, past the ledger's head 9"


def test_given_new_appends_past_the_old_checkpoint_then_the_other_hash_gives_it_away():
    # Given: order_status applied up to 12 (hash h12); the ledger restored to 9 and 5 new events appended
    (found,) = divergences([Cursor("order_status", 12, "h12")], {12: "new12"}, head=14)
    # Then: its position is below the head, but the ledger's event there is another one
    assert not found.ahead
    assert "where the ledger now holds another event" in found.describe()


def test_given_a_cursor_written_before_hashes_were_kept_then_only_its_position_is_checked():
    assert divergences([Cursor("order_status", 12, None)], {12: "new12"}, head=14) == []
    assert len(divergences([Cursor("order_status", 12, None)], {}, head=9)) == 1


def test_given_a_worker_partition_cursor_then_the_description_names_the_partition():
    (found,) = divergences([Cursor("order_status", 12, "h12", source="orderledger.orders.v1/3")], {}, head=9)
    assert found.describe() == "order_status (orderledger.orders.v1/3) is at position 12, past the ledger's head 9"


def test_given_the_next_events_follow_the_cursor_in_the_chain_then_they_continue_it():
    assert continuation(Cursor("relay", 4, "h4"), [event(5, "h4", "h5"), event(6, "h5", "h6")], head(6)) is None
    assert continuation(Cursor("relay", 0, None), [event(1, "0" * 64, "h1")], head(1)) is None


def test_given_the_next_event_names_another_predecessor_then_the_cursor_diverged():
    # Given: the relay published up to 6 (hash h6); the ledger restored to 4, then 3 new events (5, 6, 7)
    found = continuation(Cursor("relay", 6, "h6"), [event(7, "new6", "new7")], head(7))
    assert found is not None and not found.ahead


def test_given_nothing_after_the_cursor_and_the_head_behind_it_then_it_is_ahead():
    found = continuation(Cursor("relay", 6, "h6"), [], head(4))
    assert found is not None and found.ahead and found.head == 4
    # and at the head itself, nothing is wrong: there is just nothing new
    assert continuation(Cursor("relay", 6, "h6"), [], head(6)) is None
