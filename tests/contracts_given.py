"""Givens of the contracts dashboard tests: a standing offer near its ceiling, an inventory contract unused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

Post = Callable[[str, dict[str, Any]], Any]


def near_ceiling_and_unused_inventory(post: Post, today: date) -> date:
    """SO-NEAR: started 300 days ago, expires in 60 days, used to 92 % (the last 32 % in the last 90 days);
    INV-7: started 30 days ago, expires in 400 days, nothing used. Returns SO-NEAR's expiry."""
    expires = today + timedelta(days=60)
    post(
        "/v1/contracts",
        {
            "contract_id": "SO-NEAR",
            "kind": "standing_offer",
            "supplier": "Compugen Inc.",
            "ceiling": "100000.00",
            "start_date": (today - timedelta(days=300)).isoformat(),
            "end_date": expires.isoformat(),
            "renewal_options": [{"option_id": "OPT-1", "months": 12}],
            "fee_rate": "0.02",
        },
    )
    for days_ago, amount in ((250, "30000.00"), (150, "30000.00"), (40, "32000.00")):
        on = today - timedelta(days=days_ago)
        consumption = {
            "client_org": "ESDC",
            "amount": amount,
            "period": on.strftime("%Y-%m"),
            "source": "supplier_invoice_line",
            "reference": "INV-1001",
            "recorded_on": on.isoformat(),
        }
        post("/v1/contracts/SO-NEAR/consumption", consumption)
    post(
        "/v1/contracts",
        {
            "contract_id": "INV-7",
            "kind": "inventory",
            "supplier": "Northern Micro",
            "ceiling": "60000.00",
            "start_date": (today - timedelta(days=30)).isoformat(),
            "end_date": (today + timedelta(days=400)).isoformat(),
            "inventory": [{"sku": "LAT-5450", "quantity": 40, "unit_price": "1289.00"}],
        },
    )
    return expires
