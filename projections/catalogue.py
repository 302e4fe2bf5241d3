"""Every projection orderledger maintains, by name."""

from __future__ import annotations

from typing import Any

from projections import Projection
from projections.chargeback import CHARGEBACK
from projections.contract_capacity import CONTRACT_CAPACITY
from projections.incidents import INCIDENTS
from projections.order_status import ORDER_STATUS
from projections.reconciliation import RECONCILIATION
from projections.service_availability import SERVICE_AVAILABILITY
from projections.service_status import SERVICE_STATUS

PROJECTIONS: dict[str, Projection[Any]] = {
    p.name: p
    for p in (
        ORDER_STATUS,
        CONTRACT_CAPACITY,
        CHARGEBACK,
        RECONCILIATION,
        SERVICE_STATUS,
        SERVICE_AVAILABILITY,
        INCIDENTS,
    )
}
