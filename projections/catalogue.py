"""Every projection orderledger maintains, by name."""

from __future__ import annotations

from typing import Any

from projections import Projection
from projections.chargeback import CHARGEBACK
from projections.contract_capacity import CONTRACT_CAPACITY
from projections.order_status import ORDER_STATUS
from projections.reconciliation import RECONCILIATION

PROJECTIONS: dict[str, Projection[Any]] = {
    p.name: p for p in (ORDER_STATUS, CONTRACT_CAPACITY, CHARGEBACK, RECONCILIATION)
}
