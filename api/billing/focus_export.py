"""A month of chargeback as a FOCUS 1.2 cost and usage dataset (FinOps Foundation), one row per statement line.

Who is who: the broker issues the invoice and makes the services available (InvoiceIssuer and
Provider: FOCUS requires a zero BilledCost whenever they differ, the marketplace case), the supplier
produced them (Publisher); the billing account is the organisation's chargeback account with the
broker, and the sub-account the organisation itself.

Charge categories: FOCUS keeps "Purchase" for commitments bought to cover future charges (its
validator requires EffectiveCost 0 on every Purchase row). Goods delivered, EHF and the management
fee are consumed when charged, so they are "Usage" with ChargeFrequency "One-Time"; cloud usage is
"Usage-Based". EffectiveCost therefore always equals what the organisation is charged.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from projections.chargeback import Category, ChargebackLine, Statement

BROKER = "orderledger procurement broker"
FOCUS_COLUMNS = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceId",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    "SkuId",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
)
_CHARGE_CATEGORY: dict[Category, str] = {
    "usage": "Usage",
    "purchase": "Usage",
    "ehf": "Usage",
    "management_fee": "Usage",
    "tax": "Tax",
    "credit": "Credit",
    "correction": "Adjustment",
}
PRICED_ITEMS = ("charge", "shipping", "ehf", "fee")
ONE = "1.00"


def _month_bounds(period: str) -> tuple[str, str]:
    year, month = (int(part) for part in period.split("-"))
    start = date(year, month, 1)
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return f"{start.isoformat()}T00:00:00Z", f"{end.isoformat()}T00:00:00Z"


def _decimal(value: Any) -> str:
    return format(value, "f")


def focus_row(statement: Statement, organisation: dict[str, Any], line: ChargebackLine) -> dict[str, str]:
    billing_start, billing_end = _month_bounds(statement.period)
    charge_start, charge_end = _month_bounds(line.charge_period)
    category = line.corrects if line.category == "correction" and line.corrects else line.category
    cost = _decimal(line.amount)
    priced = line.item in PRICED_ITEMS
    usage = category == "usage" and line.item == "charge"
    return {
        "BilledCost": cost,
        "BillingAccountId": f"chargeback-{statement.organisation}",
        "BillingAccountName": f"Chargeback {organisation['name_en']}",
        "BillingAccountType": "Chargeback Account",
        "BillingCurrency": "CAD",
        "BillingPeriodEnd": billing_end,
        "BillingPeriodStart": billing_start,
        "ChargeCategory": _CHARGE_CATEGORY[category],
        "ChargeClass": "Correction" if line.category == "correction" else "",
        "ChargeDescription": _description(line),
        "ChargeFrequency": "Usage-Based" if usage else "One-Time",
        "ChargePeriodEnd": charge_end,
        "ChargePeriodStart": charge_start,
        "ConsumedQuantity": ONE if usage else "",
        "ConsumedUnit": "Charge" if usage else "",
        "ContractedCost": cost,
        "ContractedUnitPrice": cost if priced else "",
        "EffectiveCost": cost,
        "InvoiceId": line.invoice_number or line.credit_id or "",
        "InvoiceIssuerName": BROKER,
        "ListCost": cost,
        "ListUnitPrice": cost if priced else "",
        "PricingCategory": "Standard" if priced else "",
        "PricingQuantity": ONE if priced else "",
        "PricingUnit": "Charge" if priced else "",
        "ProviderName": BROKER,
        "PublisherName": line.supplier,
        "ServiceCategory": "Other",
        "ServiceName": line.contract_id or line.reference,
        "ServiceSubcategory": "Other (Other)",
        "SkuId": line.reference,
        "SkuPriceId": line.line_id,
        "SubAccountId": statement.organisation,
        "SubAccountName": organisation["name_en"],
        "SubAccountType": "Organisation",
        "Tags": "{}",
    }


def _description(line: ChargebackLine) -> str:
    what = {
        "charge": "charge",
        "shipping": "shipping at cost",
        "ehf": "environmental handling fee",
        "tax": f"{line.tax_component} sales tax",
        "fee": "broker management fee",
        "credit": "late-delivery rebate",
    }[line.item]
    return f"{line.reference}: {what} ({line.action})"


def focus_csv(statement: Statement, organisation: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FOCUS_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for line in statement.lines:
        writer.writerow(focus_row(statement, organisation, line))
    return out.getvalue()
