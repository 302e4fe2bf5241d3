"""The FOCUS harness itself: the FinOps Foundation's focus-validator passes a hand-written, minimal FOCUS 1.2
dataset and fails broken copies of it, naming the rules they break.

Slow the first time on a machine: deploy/focus/focus-validator.sh pip-installs the validator into a venv of
its own (Python >= 3.12); after that each validation takes a few seconds.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.focus_validation import validate_focus

# The columns FOCUS 1.2 requires of every provider (MUST be present) and the three it RECOMMENDS, which the
# validator reports as failures when absent: ChargeFrequency, InvoiceId, ServiceSubcategory.
COLUMNS = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceId",
    "InvoiceIssuerName",
    "ListCost",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
)

# January 2025 for ESDC: 4 laptops, the HST on them, and a correction of December's invoice.
# An empty string is written as an empty, unquoted field: FOCUS's null.
USAGE = {
    "BilledCost": "5156.00",
    "BillingAccountId": "ESDC",
    "BillingAccountName": "Employment and Social Development Canada",
    "BillingCurrency": "CAD",
    "BillingPeriodEnd": "2025-02-01T00:00:00Z",
    "BillingPeriodStart": "2025-01-01T00:00:00Z",
    "ChargeCategory": "Usage",
    "ChargeClass": "",
    "ChargeDescription": "LAT-5450 Notebook 14-inch, 4 delivered",
    "ChargeFrequency": "Usage-Based",
    "ChargePeriodEnd": "2025-01-16T00:00:00Z",
    "ChargePeriodStart": "2025-01-15T00:00:00Z",
    "ContractedCost": "5156.00",
    "EffectiveCost": "5156.00",
    "InvoiceId": "INV-2025-0001",
    "InvoiceIssuerName": "Orderledger Broker",
    "ListCost": "5156.00",
    "PricingQuantity": "4.0",
    "PricingUnit": "Units",
    "ProviderName": "Orderledger Broker",
    "PublisherName": "Northern Micro Inc.",
    "ServiceCategory": "Compute",
    "ServiceName": "Laptops",
    "ServiceSubcategory": "End User Computing",
}
TAX = {
    **USAGE,
    "BilledCost": "670.28",
    "ChargeCategory": "Tax",
    "ChargeDescription": "HST 13% on LAT-5450 Notebook 14-inch",
    "ContractedCost": "670.28",
    "EffectiveCost": "670.28",
    "ListCost": "670.28",
    "PricingQuantity": "",
    "PricingUnit": "",
}
CORRECTION = {
    **USAGE,
    "BilledCost": "-1289.00",
    "ChargeClass": "Correction",
    "ChargeDescription": "Correction of December: LAT-5450 Notebook 14-inch billed once too often",
    "ChargePeriodEnd": "2024-12-11T00:00:00Z",
    "ChargePeriodStart": "2024-12-10T00:00:00Z",
    "ContractedCost": "-1289.00",
    "EffectiveCost": "-1289.00",
    "ListCost": "-1289.00",
    "PricingQuantity": "",
    "PricingUnit": "",
}


def write_focus_csv(path: Path, rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_a_minimal_focus_1_2_dataset_with_usage_tax_and_a_correction_passes(tmp_path: Path) -> None:
    dataset = write_focus_csv(tmp_path / "focus.csv", [USAGE, TAX, CORRECTION])

    assert validate_focus(dataset, tmp_path / "report") == []
    assert (tmp_path / "report" / "focus.focus-junit.xml").is_file()


@pytest.mark.parametrize(
    ("rows", "columns", "rule"),
    [
        pytest.param(
            [{**USAGE, "BilledCost": "5156.00 CAD"}, TAX, CORRECTION],
            COLUMNS,
            "BilledCost-C-002-M",  # BilledCost MUST conform to NumericFormat requirements.
            id="a BilledCost that is not a number",
        ),
        pytest.param(
            [USAGE, TAX, CORRECTION],
            tuple(column for column in COLUMNS if column != "BillingCurrency"),
            "CostAndUsage-D-035-M",  # BillingCurrency MUST be present in a FOCUS dataset.
            id="no BillingCurrency column",
        ),
    ],
)
def test_a_broken_copy_fails_and_the_broken_rule_is_named(
    tmp_path: Path, rows: list[dict[str, str]], columns: tuple[str, ...], rule: str
) -> None:
    dataset = write_focus_csv(tmp_path / "broken.csv", rows, columns)

    failures = validate_focus(dataset, tmp_path / "report")

    assert any(failure.startswith(f"{rule}: ") for failure in failures), failures
