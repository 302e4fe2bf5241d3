"""Demo chargeback: organisations, supplier invoices, a dispute, a closed month and a late correction.

Loaded after the demo orders, through the real commands, so every figure is the ledger's own.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from events.billing.commands import CloseBillingPeriod, DisputeInvoiceLine, ReceiveSupplierInvoice, RegisterOrganisation
from events.billing.facts import InvoiceLine, invoice_id
from events.handling.billing import BillingDesk
from events.handling.desk import CommandContext, Desk

EASTERN = ZoneInfo("America/Toronto")
# code, English name, French name, tax status
ORGANISATION_NAMES = {
    "ESDC": ("Employment and Social Development Canada", "Emploi et Développement social Canada", "federal"),
    "CRA": ("Canada Revenue Agency", "Agence du revenu du Canada", "federal"),
    "DND": ("National Defence", "Défense nationale", "federal"),
    "ASPC": ("Public Health Agency of Canada", "Agence de la santé publique du Canada", "federal"),
    "SRC": ("CBC/Radio-Canada", "CBC/Radio-Canada", "crown_corporation"),
}
CLOUD = ("CLOUD-2025-017", "Nimbus Cloud Canada")
# Monthly cloud usage per organisation and province (the supplier's usage report, re-billed as is).
CLOUD_USAGE = [
    ("ESDC", "ON", "18250.40"),
    ("ASPC", "QC", "9120.15"),
    ("CRA", "NS", "7433.33"),
    ("SRC", "QC", "4100.00"),
]


def month_of(day: date, back: int) -> str:
    year, month = day.year, day.month - back
    while month < 1:
        year, month = year - 1, month + 12
    return f"{year:04d}-{month:02d}"


def first_day(period: str) -> date:
    year, month = (int(part) for part in period.split("-"))
    return date(year, month, 1)


def register_organisations(desk: Desk, new_context: Any, day: date) -> None:
    billing = BillingDesk(desk)
    for code, (name_en, name_fr, status) in ORGANISATION_NAMES.items():
        billing.register_organisation(
            RegisterOrganisation(code=code, name_en=name_en, name_fr=name_fr, tax_status=status, registered_on=day),  # type: ignore[arg-type]
            new_context(datetime.combine(day, time(8, 0), EASTERN)),
        )


def load_chargeback(desk: Desk, new_context: Any, today: date, order_ids: list[str]) -> None:
    """Three months of cloud invoices, suppliers' invoices for delivered orders, a dispute, a close."""
    billing = BillingDesk(desk)

    def at(day: date) -> CommandContext:
        context: CommandContext = new_context(datetime.combine(day, time(11, 0), EASTERN))
        return context

    two_back, one_back = month_of(today, 2), month_of(today, 1)
    # Cloud usage, invoiced by the supplier on the 5th of the following month.
    for back in (3, 2, 1):
        period = month_of(today, back)
        issued = first_day(month_of(today, back - 1)) + timedelta(days=4)
        lines = [
            InvoiceLine(
                client_org=org,
                reference=f"USAGE-{period}-{org}",
                charge_period=period,
                amount=Decimal(amount) + back,
                province=province,  # type: ignore[arg-type]
            )
            for org, province, amount in CLOUD_USAGE
        ]
        if back == 2:
            # The supplier names an organisation the broker does not serve, and leaves a line unassigned.
            lines.append(
                InvoiceLine(
                    client_org="NRCAN",
                    reference=f"USAGE-{period}-NRCAN",
                    charge_period=period,
                    amount=Decimal("512.00"),
                    province="ON",
                )
            )
            lines.append(
                InvoiceLine(
                    reference=f"USAGE-{period}-SHARED",
                    charge_period=period,
                    amount=Decimal("88.00"),
                    province="ON",
                    taxes=Decimal("11.45"),  # the ledger computes 11.44: a rounding difference
                )
            )
        billing.receive_invoice(
            ReceiveSupplierInvoice(
                invoice_number=f"NC-{period.replace('-', '')}",
                supplier=CLOUD[1],
                contract_id=CLOUD[0],
                issued_on=issued,
                lines=tuple(lines),
            ),
            at(issued),
        )
    # Suppliers invoice delivered orders: each order's lines by delivery province, with EHF.
    by_supplier: dict[tuple[str, str], list[InvoiceLine]] = defaultdict(list)
    for order_id in order_ids:
        order, _ = desk.load(order_id)
        if order is None or order.last_delivery_on is None or not order.fully_delivered or not order.contract_id:
            continue
        period = order.last_delivery_on.strftime("%Y-%m")
        if period < two_back:
            continue
        provinces: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal("0.00"), Decimal("0.00")])
        for line in order.pricing.lines:
            province = order.locations[line.location].province
            provinces[province][0] += line.net
            provinces[province][1] += line.ehf
        for province, (net, ehf) in sorted(provinces.items()):
            by_supplier[(order.contract_id, period)].append(
                InvoiceLine(
                    client_org=order.client_org,
                    reference=order_id,
                    charge_period=period,
                    amount=net,
                    shipping=Decimal("35.00"),
                    ehf=ehf,
                    province=province,  # type: ignore[arg-type]
                )
            )
    suppliers = {order.contract_id: order.supplier for order in (desk.load(o)[0] for o in order_ids) if order}
    for (contract_id, period), lines in sorted(by_supplier.items()):
        issued = min(first_day(period) + timedelta(days=27), today - timedelta(days=1))
        billing.receive_invoice(
            ReceiveSupplierInvoice(
                invoice_number=f"{contract_id[-6:]}-{period.replace('-', '')}",
                supplier=suppliers[contract_id] or "",
                contract_id=contract_id,
                issued_on=issued,
                lines=tuple(lines),
            ),
            at(issued),
        )
    # ESDC disputes its usage of last month: charged twice for one workload.
    last = f"NC-{one_back.replace('-', '')}"
    dispute_day = first_day(today.strftime("%Y-%m")) + timedelta(days=6)
    billing.execute_invoice(
        invoice_id(CLOUD[1], last),
        DisputeInvoiceLine(line_no=1, reason="Workload billed twice (ticket NC-88231)", disputed_on=dispute_day),
        at(dispute_day),
    )
    # The month before last is closed; then the supplier sends a late invoice for it: corrections.
    close_day = first_day(one_back) + timedelta(days=9)
    billing.execute_period(CloseBillingPeriod(period=two_back, closed_on=close_day), at(close_day))
    late_day = first_day(one_back) + timedelta(days=14)
    billing.receive_invoice(
        ReceiveSupplierInvoice(
            invoice_number=f"NC-{two_back.replace('-', '')}-B",
            supplier=CLOUD[1],
            contract_id=CLOUD[0],
            issued_on=late_day,
            lines=(
                InvoiceLine(
                    client_org="ESDC",
                    reference=f"USAGE-{two_back}-ESDC-STORAGE",
                    charge_period=two_back,
                    amount=Decimal("1240.60"),
                    province="ON",
                ),
            ),
        ),
        at(late_day),
    )
