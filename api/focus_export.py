"""A month of chargeback as a FOCUS 1.2 cost and usage dataset (FinOps Foundation), one row per statement line.

The broker is the invoice issuer; the supplier is the provider and publisher; the billing account is
the broker's chargeback account of the organisation, and the sub-account the organisation itself.
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
# FOCUS charge categories: usage and purchases as such; EHF and the management fee are fees the
# broker passes on or earns, which FOCUS files under Purchase (one-time, not consumption).
_CHARGE_CATEGORY: dict[Category, str] = {
    "usage": "Usage",
    "purchase": "Purchase",
    "ehf": "Purchase",
    "management_fee": "Purchase",
    "tax": "Tax",
    "credit": "Credit",
    "correction": "Adjustment",
}


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
        "ConsumedQuantity": "1" if usage else "",
        "ConsumedUnit": "Charge" if usage else "",
        "ContractedCost": cost,
        "ContractedUnitPrice": cost if line.item in ("charge", "shipping", "ehf", "fee") else "",
        "EffectiveCost": cost,
        "InvoiceId": line.invoice_number or line.credit_id or "",
        "InvoiceIssuerName": BROKER,
        "ListCost": cost,
        "ListUnitPrice": cost if line.item in ("charge", "shipping", "ehf", "fee") else "",
        "PricingCategory": "Standard" if line.item in ("charge", "shipping", "ehf", "fee") else "",
        "PricingQuantity": "1" if line.item in ("charge", "shipping", "ehf", "fee") else "",
        "PricingUnit": "Charge" if line.item in ("charge", "shipping", "ehf", "fee") else "",
        "ProviderName": line.supplier,
        "PublisherName": line.supplier,
        "ServiceCategory": "Other",
        "ServiceName": line.contract_id or line.reference,
        "ServiceSubcategory": "Other",
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


def focus_csv(statement: Statement, organisation: dict[str, Any], closed: bool) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FOCUS_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for line in statement.lines:
        writer.writerow(focus_row(statement, organisation, line))
    return out.getvalue()
