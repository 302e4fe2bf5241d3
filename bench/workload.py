"""The benchmark's event mix: a broker's day, as `POST /v1/batch` bodies.

Many organisations, standing-offer contracts and cloud contracts; each batch places orders,
awards the ones placed in the batch before (which draws them on their contract), records the
delivery of the ones awarded before that, closes the delivered ones, and carries lines of cloud
usage reports. Measured on the embedded ledger: about 300 bytes of event data on average.

The generator predicts order numbers (ORD-<year>-000001, ...), so it needs a ledger with no
orders of this year yet; each `Workload` is deterministic for its seed.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/Toronto")
SUPPLIERS = ("Northern Micro Inc.", "CDW Canada Corp.", "Softchoice LP", "Compugen Inc.")
PRODUCTS = (
    ("LAT-5450", "Notebook 14-inch", "laptop", "1289.00"),
    ("MON-P2425", "Display 24-inch", "display", "229.00"),
    ("DOCK-WD19", "USB-C dock", "peripheral", "289.50"),
    ("TAB-S9", "Tablet 11-inch", "tablet", "499.00"),
)
ADDRESSES = (
    ("ON", "355 North River Rd, Ottawa"),
    ("QC", "140 promenade du Portage, Gatineau"),
    ("NS", "1505 Barrington St, Halifax"),
    ("BC", "401 Burrard St, Vancouver"),
)


@dataclass
class Workload:
    organisations: int = 60
    standing_offers: int = 40
    cloud_contracts: int = 40
    seed: int = 7
    today: date = field(default_factory=lambda: datetime.now(EASTERN).date())
    _random: random.Random = field(init=False)
    _placed: int = field(default=0, init=False)
    _usage: int = field(default=0, init=False)
    _to_award: deque[str] = field(default_factory=deque, init=False)
    _to_deliver: deque[tuple[str, str, int]] = field(default_factory=deque, init=False)
    _to_close: deque[str] = field(default_factory=deque, init=False)
    _products: dict[str, tuple[str, int]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def setup(self) -> list[dict[str, Any]]:
        """The contracts every later batch draws on (one batch)."""
        year = self.today.year
        standing = [
            self._contract(f"SO-{n:04d}", n, "standing_offer", f"{year + 2}-12-31", "0.02")
            for n in range(self.standing_offers)
        ]
        cloud = [
            self._contract(f"CLOUD-{n:04d}", n, "cloud", f"{year + 1}-12-31", "0.015")
            for n in range(self.cloud_contracts)
        ]
        return standing + cloud

    def _contract(self, contract_id: str, n: int, kind: str, end: str, fee_rate: str) -> dict[str, Any]:
        body = {
            "contract_id": contract_id,
            "kind": kind,
            "supplier": SUPPLIERS[n % len(SUPPLIERS)],
            "ceiling": "900000000000.00",
            "start_date": f"{self.today.year - 1}-01-01",
            "end_date": end,
            "fee_rate": fee_rate,
        }
        return {"path": "/v1/contracts", "body": body}

    def batches(self, count: int, size: int) -> Iterator[list[dict[str, Any]]]:
        for _ in range(count):
            yield self.batch(size)

    def batch(self, size: int) -> list[dict[str, Any]]:
        """`size` commands: the next steps of earlier orders first, then new orders and usage lines."""
        commands: list[dict[str, Any]] = []
        day = self.today.isoformat()
        for _ in range(min(len(self._to_close), size // 8)):
            order_id = self._to_close.popleft()
            commands.append({"path": f"/v1/orders/{order_id}/close", "body": {"closed_on": day}})
        for _ in range(min(len(self._to_deliver), size // 8)):
            order_id, sku, quantity = self._to_deliver.popleft()
            province, address = ADDRESSES[int(order_id[-6:]) % len(ADDRESSES)]
            body = {
                "delivered_on": day,
                "location": {"province": province, "address": address},
                "quantities": {sku: quantity},
            }
            commands.append({"path": f"/v1/orders/{order_id}/deliveries", "body": body})
            self._to_close.append(order_id)
        for _ in range(min(len(self._to_award), size // 8)):
            order_id = self._to_award.popleft()
            body = {"contract_number": f"CU-{order_id[-6:]}", "awarded_on": day}
            commands.append({"path": f"/v1/orders/{order_id}/award", "body": body})
            self._to_deliver.append((order_id, *self._products.pop(order_id)))
        placements = max(1, size // 8)
        for _ in range(placements):
            commands.append(self._placement())
        while len(commands) < size:
            commands.append(self._usage_line())
        return commands

    def placements(self, size: int) -> list[dict[str, Any]]:
        """`size` new orders and nothing else (to fill the order status read model for the read test)."""
        return [self._placement(follow=False) for _ in range(size)]

    def _placement(self, follow: bool = True) -> dict[str, Any]:
        self._placed += 1
        order_id = f"ORD-{self.today.year}-{self._placed:06d}"
        contract = self._random.randrange(self.standing_offers)
        sku, description, category, price = PRODUCTS[self._random.randrange(len(PRODUCTS))]
        quantity = self._random.randint(1, 15)  # under the 25,000.00 delegated limit
        province, address = ADDRESSES[int(order_id[-6:]) % len(ADDRESSES)]
        org = f"ORG-{self._random.randrange(self.organisations):03d}"
        if follow:  # awarded in the next batch, delivered and closed later
            self._to_award.append(order_id)
            self._products[order_id] = (sku, quantity)
        return {
            "path": "/v1/orders",
            "body": {
                "client_org": org,
                "requester": "A. Tremblay",
                "standing_offer": f"SO-{contract:04d}",
                "supplier": SUPPLIERS[contract % len(SUPPLIERS)],
                "processing": "delegated",
                "financial_reference": f"{org}-FC{self._placed:07d}",
                "section32_amount": "999999.00",
                "contract_id": f"SO-{contract:04d}",
                "lines": [
                    {
                        "sku": sku,
                        "description": description,
                        "category": category,
                        "standing_offer_item": True,
                        "quantity": quantity,
                        "unit_price": price,
                    }
                ],
                "delivery_locations": [{"province": province, "address": address, "quantities": {sku: quantity}}],
            },
        }

    def _usage_line(self) -> dict[str, Any]:
        self._usage += 1
        contract = self._random.randrange(self.cloud_contracts)
        org = f"ORG-{self._random.randrange(self.organisations):03d}"
        return {
            "path": f"/v1/contracts/CLOUD-{contract:04d}/consumption",
            "body": {
                "consumption_id": f"usage-{self.seed}-{self._usage:09d}",
                "client_org": org,
                "amount": f"{self._random.randint(1, 500_000) / 100:.2f}",
                "quantity": self._random.randint(1, 5000),
                "period": self.today.strftime("%Y-%m"),
                "source": "cloud_usage_report",
                "reference": f"daily usage report line {self._usage}",
                "recorded_on": self.today.isoformat(),
            },
        }
