"""A realistic demo data set: organisations, ~50 orders in every state, through the real commands."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from api.demo.chargeback import load_chargeback, register_organisations
from api.demo.services import load_services
from events.contracts.commands import CheckRenewals, RecordConsumption, RegisterContract
from events.contracts.facts import InventoryItem, RenewalOption
from events.handling.desk import CommandContext, Desk
from events.kernel.errors import CommandRejected
from events.orders.commands import (
    ApplyLateDeliveryRebate,
    ApproveSecurityRisk,
    AwardCallUp,
    CancelOrder,
    CloseOrder,
    PlaceOrder,
    PriceNonStandingOfferLine,
    RecordDelivery,
    RecordSecurityAssessment,
    ReviseDeliveryDate,
)
from events.orders.facts import DeliveryLocation, OrderLine

__all__ = ["load_demo"]  # what other packages may import (tests/unit/test_dependency_rule.py)

EASTERN = ZoneInfo("America/Toronto")
# (code, tax status, where its offices are)
ORGANISATIONS = [
    ("ESDC", "federal", [("QC", "140 promenade du Portage, Gatineau"), ("ON", "355 North River Rd, Ottawa")]),
    (
        "CRA",
        "federal",
        [("ON", "875 Heron Rd, Ottawa"), ("MB", "66 Stapon Rd, Winnipeg"), ("NS", "145 Hobsons Lake Dr, Halifax")],
    ),
    (
        "DND",
        "federal",
        [
            ("ON", "101 Colonel By Dr, Ottawa"),
            ("BC", "CFB Esquimalt, Victoria"),
            ("AB", "CFB Edmonton"),
            ("NS", "CFB Halifax"),
            ("NB", "CFB Gagetown"),
        ],
    ),
    ("ASPC", "federal", [("QC", "Complexe Guy-Favreau, Montréal"), ("MB", "1015 Arlington St, Winnipeg")]),
    ("SRC", "crown_corporation", [("QC", "1400 boul. René-Lévesque Est, Montréal"), ("ON", "250 Front St W, Toronto")]),
]
OFFERS = [
    (
        "NMSO-E60PQ-140003/LAPTOP",
        "Northern Micro Inc.",
        [
            ("LAT-5450", "Notebook 14-inch, 16 GB, 512 GB SSD", "laptop", "1289.00"),
            ("LAT-7450", "Notebook 14-inch rugged-lite, 32 GB", "laptop", "1849.50"),
            ("DOCK-WD22", "USB-C docking station", "peripheral", "219.99"),
            ("MON-P2425", "Display 24-inch IPS", "display", "229.00"),
        ],
    ),
    (
        "NMSO-E60PQ-140004/DESKTOP",
        "Compugen Inc.",
        [
            ("DT-M70Q", "Tiny desktop, 16 GB, 512 GB SSD", "desktop", "949.00"),
            ("DT-P360", "Workstation tower, 64 GB", "desktop", "2399.00"),
            ("MON-E27", "Display 27-inch", "display", "319.00"),
            ("KB-ERGO", "Ergonomic keyboard", "peripheral", "89.00"),
        ],
    ),
    (
        "NMSO-E60PQ-140007/TABLET",
        "Softchoice LP",
        [
            ("TAB-SP10", "Tablet 13-inch with keyboard cover", "tablet", "1599.00"),
            ("PEN-SP", "Active pen", "peripheral", "129.00"),
        ],
    ),
]
NON_STANDARD = [
    ("RAM-32G", "32 GB memory upgrade (non-standing-offer)", "upgrade"),
    ("TB-HEADSET", "Accessibility headset (non-standing-offer)", "peripheral"),
]
NON_STANDARD_PRICE = Decimal("145.00")  # what the procurement officer prices them at
PEOPLE = ["A. Tremblay", "J. Singh", "M. Gagnon", "S. Nguyen", "R. MacDonald", "L. Roy", "K. Okafor"]
# (state, how many): every state an order can be in, with the odd cases the status page must show.
PLAN = [
    ("placed", 6),
    ("non_standard_pending", 3),
    ("awarded", 7),
    ("at_risk", 3),
    ("partial", 6),
    ("late", 6),
    ("delivered", 5),
    ("delivered_late_rebate", 2),
    ("closed", 4),
    ("revised_date", 2),
    ("cancelled_client", 3),
    ("cancelled_late", 2),
    ("medium_risk_awarded", 1),
]


def load_demo(desk: Desk, today: date, seed: int = 20261123, now: datetime | None = None) -> list[str]:
    """Register the demo contracts, place and advance the demo orders as of `today`; returns the order numbers.

    `now` (default: 00:30 of `today`) is when the demo's open incident is 40 minutes old.
    """
    rnd = random.Random(seed)
    ids = _Ids(seed)
    # Event ids from the seed too: the demo's statements (whose line ids name events) are the same
    # on every load, in every mode.
    desk = Desk(desk.ledger, desk.rates, new_id=_Ids(seed + 1))
    register_organisations(desk, lambda at: _context(ids, at), today - timedelta(days=800))
    _contracts(desk, ids, today)
    order_ids = []
    slots = [state for state, count in PLAN for _ in range(count)]
    for n, state in enumerate(slots):
        org, tax_status, sites = ORGANISATIONS[n % len(ORGANISATIONS)]
        offer, supplier, catalogue = OFFERS[n % len(OFFERS)]
        age = {
            "placed": 3,
            "non_standard_pending": 5,
            "awarded": 12,
            "at_risk": 44,
            "partial": 30,
            "late": 75,
            "delivered": 50,
            "delivered_late_rebate": 80,
            "closed": 110,
            "revised_date": 60,
            "cancelled_client": 9,
            "cancelled_late": 90,
            "medium_risk_awarded": 20,
        }[state] + rnd.randint(0, 4)
        placed_on = today - timedelta(days=age)
        placed_at = datetime.combine(placed_on, time(9 + rnd.randint(0, 7), rnd.randint(0, 59)), EASTERN)
        system = next(item for item in catalogue if item[2] in ("laptop", "desktop", "tablet"))
        extras = [item for item in catalogue if item is not system]
        lines = [
            OrderLine(
                sku=system[0],
                description=system[1],
                category=system[2],
                standing_offer_item=True,
                quantity=rnd.randint(2, 12),
                unit_price=Decimal(system[3]),
            )
        ]
        for extra in rnd.sample(extras, k=rnd.randint(0, len(extras))):
            lines.append(
                OrderLine(
                    sku=extra[0],
                    description=extra[1],
                    category=extra[2],
                    standing_offer_item=True,
                    quantity=rnd.randint(1, 10),
                    unit_price=Decimal(extra[3]),
                )
            )
        if state in ("non_standard_pending", "medium_risk_awarded"):
            sku, description, category = NON_STANDARD[n % len(NON_STANDARD)]
            lines.append(
                OrderLine(
                    sku=sku,
                    description=description,
                    category=category,
                    standing_offer_item=False,
                    quantity=lines[0].quantity,
                )
            )
        count = 1 if state in ("partial", "late") and n % 2 else rnd.randint(1, min(len(sites), 4))
        if state == "delivered" and n % 5 == 0:
            count = min(len(sites), 4)  # more than 3 locations: flagged for the procurement officer
        locations = _split(lines, sites[:count], rnd)
        estimate = sum(
            (line.unit_price if line.standing_offer_item else NON_STANDARD_PRICE) * line.quantity for line in lines
        )
        context = _context(ids, placed_at)
        draft = PlaceOrder(
            order_id="",
            placed_at=placed_at,
            client_org=org,
            client_tax_status=tax_status,  # type: ignore[arg-type]
            requester=rnd.choice(PEOPLE),
            standing_offer=offer,
            supplier=supplier,
            processing="delegated",
            urgency="time_sensitive" if n % 9 == 4 else "standard",
            justification="Field office reopening on a fixed date; staff cannot work without equipment"
            if n % 9 == 4
            else None,
            supplier_quote=f"Q-{supplier[:3].upper()}-{4000 + n}" if n % 9 == 4 else None,
            financial_reference=f"{org}-FC{1000 + n}-IO{rnd.randint(10000, 99999)}",
            section32_amount=(estimate * Decimal("1.02") + 500).quantize(Decimal("1")),
            lines=tuple(lines),
            delivery_locations=tuple(locations),
            contract_id=offer.split("/")[0],
        )
        try:
            result = desk.place(draft, context)
        except CommandRejected as exc:
            if exc.code != "delegated_limit_exceeded":
                raise
            result = desk.place(draft.model_copy(update={"processing": "broker"}), context)
        order_id = result.stream_id
        order_ids.append(order_id)
        _advance(desk, ids, order_id, state, placed_on, today, rnd, lines)
    order_ids += _inventory_orders(desk, ids, today)
    load_services(desk, lambda at: _context(ids, at), today, now)
    load_chargeback(desk, lambda at: _context(ids, at), today, order_ids)
    return order_ids


def _advance(
    desk: Desk,
    ids: _Ids,
    order_id: str,
    state: str,
    placed_on: date,
    today: date,
    rnd: random.Random,
    lines: list[OrderLine],
) -> None:
    def run(command: object, day: date) -> None:
        at = datetime.combine(day, time(14, 0), EASTERN)
        desk.execute(order_id, command, _context(ids, at))  # type: ignore[arg-type]

    if state == "placed":
        return
    if state == "cancelled_client":
        run(
            CancelOrder(
                reason="client_request",
                cancelled_on=placed_on + timedelta(days=2),
                note="Requirement merged into a volume discount request",
                requested_by="client",
            ),
            placed_on + timedelta(days=2),
        )
        return
    for line in lines:
        if not line.standing_offer_item:
            run(
                PriceNonStandingOfferLine(
                    sku=line.sku, unit_price=NON_STANDARD_PRICE, priced_on=placed_on + timedelta(days=1)
                ),
                placed_on + timedelta(days=1),
            )
    if state == "non_standard_pending":
        return
    if state == "medium_risk_awarded":
        # Each fact is recorded on the day it happens (the ledger refuses facts dated after tomorrow).
        run(
            RecordSecurityAssessment(risk="medium", assessed_on=placed_on + timedelta(days=2)),
            placed_on + timedelta(days=2),
        )
        for authority, who in (
            ("cse", "CSE duty analyst"),
            ("ssc_security", "SSC security office"),
            ("technical_authority", "Registered technical authority"),
        ):
            run(
                ApproveSecurityRisk(
                    authority=authority,
                    approved_by=who,  # type: ignore[arg-type]
                    approved_on=placed_on + timedelta(days=3),
                ),
                placed_on + timedelta(days=3),
            )
    awarded_on = placed_on + timedelta(days=rnd.randint(1, 4))
    if state == "medium_risk_awarded":
        awarded_on = max(awarded_on, placed_on + timedelta(days=3))  # once every approval is in
    contract = f"CU-{awarded_on:%y%m}-{rnd.randint(1000, 9999)}"
    if state == "at_risk":
        # 30 working days from award ends within the next five working days.
        awarded_on = today - timedelta(days=40)
    run(AwardCallUp(contract_number=contract, awarded_on=awarded_on), awarded_on)
    order, _ = desk.load(order_id)
    assert order is not None and order.agreed_delivery_date is not None
    agreed = order.agreed_delivery_date
    first_location = order.locations[0]
    half = {sku: max(1, q // 2) for sku, q in first_location.quantities.items()}
    if state == "revised_date":
        run(
            ReviseDeliveryDate(
                agreed_delivery_date=agreed + timedelta(days=21), agreed_on=awarded_on + timedelta(days=10)
            ),
            awarded_on + timedelta(days=10),
        )
        return
    if state in ("partial", "late"):
        delivered_on = min(today, awarded_on + timedelta(days=12))
        run(
            RecordDelivery(
                delivered_on=delivered_on,
                province=first_location.province,
                address=first_location.address,
                quantities=half,
            ),
            delivered_on,
        )
        return
    if state == "cancelled_late":
        cancelled_on = agreed + timedelta(days=3)
        run(
            CancelOrder(
                reason="late_delivery",
                cancelled_on=cancelled_on,
                note="Supplier missed the agreed date",
                requested_by="client",
            ),
            cancelled_on,
        )
        return
    if state in ("delivered", "closed", "delivered_late_rebate"):
        late = state == "delivered_late_rebate"
        for location in order.locations:
            day = agreed + timedelta(days=6) if late else min(today, awarded_on + timedelta(days=rnd.randint(10, 25)))
            run(
                RecordDelivery(
                    delivered_on=day,
                    province=location.province,
                    address=location.address,
                    quantities=dict(location.quantities),
                ),
                day,
            )
        if late:
            run(
                ApplyLateDeliveryRebate(
                    amount=Decimal("250.00"),
                    reason="Delivered 6 days after the agreed date",
                    applied_on=agreed + timedelta(days=10),
                ),
                agreed + timedelta(days=10),
            )
        if state == "closed":
            run(CloseOrder(closed_on=min(today, agreed)), min(today, agreed))


def _contracts(desk: Desk, ids: _Ids, today: date) -> None:
    """Contracts in every situation: the standing offers the orders draw on, one near its ceiling,
    an exhausted inventory item, one with a renewal decision due, one expired."""
    fy_start = date(today.year if today.month >= 4 else today.year - 1, 4, 1)

    def run(contract_id: str, command: object, day: date) -> None:
        at = datetime.combine(day, time(10, 0), EASTERN)
        desk.execute_contract(contract_id, command, _context(ids, at))  # type: ignore[arg-type]

    start = fy_start - timedelta(days=365)
    for offer, supplier, _ in OFFERS:
        contract_id = offer.split("/")[0]
        run(
            contract_id,
            RegisterContract(
                contract_id=contract_id,
                kind="standing_offer",
                supplier=supplier,
                ceiling=Decimal("3000000.00"),
                start_date=start,
                end_date=fy_start + timedelta(days=729),
                renewal_options=(
                    RenewalOption(option_id="OPT-1", months=12),
                    RenewalOption(option_id="OPT-2", months=12),
                ),
                fee_rate=Decimal("0.015"),
            ),
            start,
        )
    # A cloud framework contract near its ceiling, fed by monthly usage reports.
    cloud_start = today - timedelta(days=400)
    run(
        "CLOUD-2025-017",
        RegisterContract(
            contract_id="CLOUD-2025-017",
            kind="cloud",
            supplier="Nimbus Cloud Canada",
            ceiling=Decimal("250000.00"),
            start_date=cloud_start,
            end_date=cloud_start + timedelta(days=729),
            renewal_options=(RenewalOption(option_id="R1", months=12),),
            fee_rate=Decimal("0.02"),
        ),
        cloud_start,
    )
    for month_back, (org, amount) in enumerate(
        [("ESDC", "61000.00"), ("ASPC", "58500.00"), ("CRA", "52250.00"), ("ESDC", "59750.00")]
    ):
        day = today - timedelta(days=30 * (4 - month_back))
        run(
            "CLOUD-2025-017",
            RecordConsumption(
                consumption_id=f"usage-{day:%Y-%m}-{org}",
                client_org=org,
                amount=Decimal(amount),
                quantity=0,
                period=f"{day:%Y-%m}",
                source="cloud_usage_report",
                reference=f"USAGE-{day:%Y%m}-{org}",
                recorded_on=day,
            ),
            day,
        )
    # A supply arrangement with a renewal decision coming due, and one already expired.
    run(
        "SA-EN578-2024-03",
        RegisterContract(
            contract_id="SA-EN578-2024-03",
            kind="supply_arrangement",
            supplier="Softchoice LP",
            ceiling=Decimal("400000.00"),
            start_date=today - timedelta(days=640),
            end_date=today + timedelta(days=85),
            renewal_options=(RenewalOption(option_id="Y3", months=12),),
            fee_rate=Decimal("0.015"),
        ),
        today - timedelta(days=640),
    )
    run(
        "SA-EN578-2023-11",
        RegisterContract(
            contract_id="SA-EN578-2023-11",
            kind="supply_arrangement",
            supplier="Compugen Inc.",
            ceiling=Decimal("150000.00"),
            start_date=today - timedelta(days=760),
            end_date=today - timedelta(days=35),
            fee_rate=Decimal("0.015"),
        ),
        today - timedelta(days=760),
    )
    # An inventory contract (optional quantities left from a volume discount request).
    inventory_start = today - timedelta(days=120)
    run(
        "INV-2026-DOCK",
        RegisterContract(
            contract_id="INV-2026-DOCK",
            kind="inventory",
            supplier="Northern Micro Inc.",
            ceiling=Decimal("60000.00"),
            start_date=inventory_start,
            end_date=inventory_start + timedelta(days=364),
            fee_rate=Decimal("0.01"),
            inventory=(
                InventoryItem(sku="DOCK-WD22", quantity=6, unit_price=Decimal("219.99")),
                InventoryItem(sku="LAT-5450", quantity=40, unit_price=Decimal("1189.00")),
            ),
        ),
        inventory_start,
    )
    for contract_id in ("SA-EN578-2024-03", "SA-EN578-2023-11", "CLOUD-2025-017"):
        run(contract_id, CheckRenewals(today=today), today)


def _inventory_orders(desk: Desk, ids: _Ids, today: date) -> list[str]:
    """Orders that draw on the inventory: one takes the last docking stations (withdrawn)."""
    placed = []
    for n, (org, docks, laptops) in enumerate([("DND", 6, 10), ("ASPC", 0, 4)]):
        at = datetime.combine(today - timedelta(days=20 - n), time(11, 0), EASTERN)
        lines = [
            OrderLine(
                sku="LAT-5450",
                description="Notebook 14-inch, 16 GB, 512 GB SSD",
                category="laptop",
                standing_offer_item=True,
                quantity=laptops,
                unit_price=Decimal("1189.00"),
            )
        ]
        if docks:
            lines.append(
                OrderLine(
                    sku="DOCK-WD22",
                    description="USB-C docking station",
                    category="peripheral",
                    standing_offer_item=True,
                    quantity=docks,
                    unit_price=Decimal("219.99"),
                )
            )
        draft = PlaceOrder(
            order_id="",
            placed_at=at,
            client_org=org,
            requester="Inventory desk",
            standing_offer="INV-2026-DOCK",
            supplier="Northern Micro Inc.",
            processing="broker",
            financial_reference=f"{org}-INV-{n}",
            section32_amount=Decimal("20000.00"),
            lines=tuple(lines),
            delivery_locations=(DeliveryLocation(province="ON", address="101 Colonel By Dr, Ottawa"),),
            contract_id="INV-2026-DOCK",
        )
        result = desk.place(draft, _context(ids, at))
        placed.append(result.stream_id)
        if n == 0:
            award = AwardCallUp(contract_number=f"CU-INV-{n}", awarded_on=at.date() + timedelta(days=2))
            desk.execute(result.stream_id, award, _context(ids, at + timedelta(days=2)))
    return placed


def _split(lines: list[OrderLine], sites: list[tuple[str, str]], rnd: random.Random) -> list[DeliveryLocation]:
    """Spread each line's quantity over the sites, every site getting at least one of the system."""
    shares: list[dict[str, int]] = [{} for _ in sites]
    for line in lines:
        left = line.quantity
        for index in range(len(sites)):
            take = left if index == len(sites) - 1 else max(0, min(left - (len(sites) - 1 - index), rnd.randint(1, 3)))
            if take:
                shares[index][line.sku] = take
            left -= take
    return [
        DeliveryLocation(province=province, address=address, quantities=share)  # type: ignore[arg-type]
        for (province, address), share in zip(sites, shares, strict=True)
        if share
    ]


class _Ids:
    """Deterministic correlation ids, so a demo load can be told apart and repeated."""

    def __init__(self, seed: int) -> None:
        self._rnd = random.Random(seed)

    def __call__(self) -> uuid.UUID:
        return uuid.UUID(int=self._rnd.getrandbits(128), version=4)


def _context(ids: _Ids, at: datetime) -> CommandContext:
    return CommandContext(actor="demo/loader", now=at, correlation_id=ids())
