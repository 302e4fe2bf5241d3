"""Turns an order body into a PlaceOrder draft and its context, for tests that skip HTTP."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from events.handling.desk import CommandContext
from events.orders.commands import PlaceOrder


def draft(body: dict[str, Any], now: datetime) -> tuple[PlaceOrder, CommandContext]:
    """The order placed at `now` (the ledger clock of its placing)."""
    return (
        PlaceOrder(order_id="", placed_at=now, **body),
        CommandContext(actor="test", now=now, correlation_id=uuid.uuid4()),
    )
