"""Givens shared by the tests: a valid order body and the steps that move an order along."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

LAPTOP = {
    "sku": "LAT-5450",
    "description": "Notebook 14-inch",
    "category": "laptop",
    "standing_offer_item": True,
    "quantity": 4,
    "unit_price": "1289.00",
}
DISPLAY = {
    "sku": "MON-P2425",
    "description": "Display 24-inch",
    "category": "display",
    "standing_offer_item": True,
    "quantity": 4,
    "unit_price": "229.00",
}
HEADSET = {
    "sku": "TB-HEADSET",
    "description": "Accessibility headset",
    "category": "peripheral",
    "standing_offer_item": False,
    "quantity": 2,
    "unit_price": "0.00",
}
OTTAWA = {"province": "ON", "address": "355 North River Rd, Ottawa"}
GATINEAU = {"province": "QC", "address": "140 promenade du Portage, Gatineau"}


def order_body(**changes: Any) -> dict[str, Any]:
    """4 laptops and 4 displays for ESDC, delegated, 2 to Ottawa and 2 to Gatineau."""
    body: dict[str, Any] = {
        "client_org": "ESDC",
        "requester": "A. Tremblay",
        "standing_offer": "NMSO-E60PQ-140003/LAPTOP",
        "supplier": "Northern Micro Inc.",
        "processing": "delegated",
        "urgency": "standard",
        "financial_reference": "ESDC-FC1001-IO12345",
        "section32_amount": "7000.00",
        "lines": [copy.deepcopy(LAPTOP), copy.deepcopy(DISPLAY)],
        "delivery_locations": [
            {**OTTAWA, "quantities": {"LAT-5450": 2, "MON-P2425": 2}},
            {**GATINEAU, "quantities": {"LAT-5450": 2, "MON-P2425": 2}},
        ],
    }
    body.update(changes)
    return body


def days_ago(n: int, today: date) -> str:
    return (today - timedelta(days=n)).isoformat()
