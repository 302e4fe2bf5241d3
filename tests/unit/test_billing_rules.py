"""Supplier invoices and billing periods (issue 5 groundwork): taxes computed by the ledger, duplicates
refused, disputes, and periods closed and reopened only on purpose."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from events.billing import (
    CloseBillingPeriod,
    DisputeInvoiceLine,
    InvoiceLine,
    ReceiveSupplierInvoice,
    ReopenBillingPeriod,
    ResolveDispute,
)
from events.errors import CommandRejected
from events.invoicing import decide_invoice, decide_period, fold_invoice, fold_period
from events.rates import bundled_rate_book

RATES = bundled_rate_book()


def invoice(*lines: InvoiceLine, issued_on: date = date(2026, 11, 5)) -> ReceiveSupplierInvoice:
    return ReceiveSupplierInvoice(
        invoice_number="INV-1001",
        supplier="Nimbus Cloud Canada",
        contract_id="CLOUD-2025-017",
        issued_on=issued_on,
        lines=lines,
    )


def line(org: str = "ESDC", province: str = "ON", amount: str = "1000.00", **more: object) -> InvoiceLine:
    return InvoiceLine(
        client_org=org,
        reference="USAGE-2026-10",
        charge_period="2026-10",
        amount=Decimal(amount),
        province=province,
        **more,
    )  # type: ignore[arg-type]


def test_given_an_invoice_when_received_then_the_ledger_computes_taxes_per_line_from_the_rates_file():
    [received] = decide_invoice(invoice(line(), line("ASPC", "QC", shipping=Decimal("25.00"))), None, RATES, {})
    ontario, quebec = received.lines
    assert (ontario.tax, ontario.total) == (Decimal("130.00"), Decimal("1130.00"))
    # A federal client in Quebec pays GST on amount + shipping, no QST.
    assert quebec.taxes == {"GST": Decimal("51.25")} and quebec.total == Decimal("1076.25")
    assert received.total == Decimal("2206.25")


def test_given_a_crown_corporation_in_quebec_then_it_pays_qst_too():
    [received] = decide_invoice(invoice(line("SRC", "QC")), None, RATES, {"SRC": "crown_corporation"})
    assert received.lines[0].taxes == {"GST": Decimal("50.00"), "QST": Decimal("99.75")}


def test_given_nova_scotia_then_the_rate_in_force_on_the_issue_date_applies():
    [before] = decide_invoice(invoice(line(province="NS"), issued_on=date(2025, 3, 31)), None, RATES, {})
    [after] = decide_invoice(invoice(line(province="NS"), issued_on=date(2025, 4, 1)), None, RATES, {})
    assert (before.lines[0].tax, after.lines[0].tax) == (Decimal("150.00"), Decimal("140.00"))


def test_given_an_unknown_organisation_on_a_line_then_the_invoice_is_still_received():
    [received] = decide_invoice(invoice(line("NOT-AN-ORG")), None, RATES, {})
    assert received.lines[0].client_org == "NOT-AN-ORG"


def test_given_the_same_invoice_number_for_the_supplier_when_received_again_then_refused():
    state = fold_invoice(decide_invoice(invoice(line()), None, RATES, {}))
    with pytest.raises(CommandRejected) as refused:
        decide_invoice(invoice(line()), state, RATES, {})
    assert refused.value.code == "duplicate_invoice"


def test_given_a_line_when_disputed_twice_or_resolved_without_dispute_then_refused():
    state = fold_invoice(decide_invoice(invoice(line(), line()), None, RATES, {}))
    with pytest.raises(CommandRejected) as no_dispute:
        decide_invoice(ResolveDispute(line_no=1, resolution="upheld", resolved_on=date(2026, 11, 9)), state, RATES, {})
    assert no_dispute.value.code == "not_disputed"
    disputed = decide_invoice(
        DisputeInvoiceLine(line_no=2, reason="not our usage", disputed_on=date(2026, 11, 8)), state, RATES, {}
    )
    state = fold_invoice([*decide_invoice(invoice(line(), line()), None, RATES, {}), *disputed])
    with pytest.raises(CommandRejected) as twice:
        decide_invoice(DisputeInvoiceLine(line_no=2, reason="again", disputed_on=date(2026, 11, 9)), state, RATES, {})
    assert twice.value.code == "already_disputed"
    with pytest.raises(CommandRejected) as unknown:
        decide_invoice(DisputeInvoiceLine(line_no=3, reason="x", disputed_on=date(2026, 11, 9)), state, RATES, {})
    assert unknown.value.code == "unknown_invoice_line"


def test_given_a_closed_period_then_closing_again_is_refused_and_reopening_needs_a_reason():
    closed = decide_period(CloseBillingPeriod(period="2026-10", closed_on=date(2026, 11, 7)), None)
    state = fold_period(closed)
    with pytest.raises(CommandRejected) as again:
        decide_period(CloseBillingPeriod(period="2026-10", closed_on=date(2026, 11, 8)), state)
    assert again.value.code == "period_closed"
    with pytest.raises(ValueError):
        ReopenBillingPeriod(period="2026-10", reason="oops", reopened_on=date(2026, 11, 9))
    reopened = decide_period(
        ReopenBillingPeriod(
            period="2026-10", reason="supplier re-issued invoice INV-1001", reopened_on=date(2026, 11, 9)
        ),
        state,
    )
    assert fold_period([*closed, *reopened]).closed is False  # type: ignore[union-attr]
    with pytest.raises(CommandRejected) as open_:
        decide_period(
            ReopenBillingPeriod(period="2026-11", reason="nothing to reopen here", reopened_on=date(2026, 11, 9)), None
        )
    assert open_.value.code == "period_open"


def test_given_october_closed_when_a_late_october_invoice_arrives_then_its_lines_are_corrections_billed_in_november():
    [received] = decide_invoice(invoice(line()), None, RATES, {}, fee_rate=Decimal("0.02"), closed_periods={"2026-10"})
    [late] = received.lines
    assert (late.charge_period, late.billing_period, late.correction) == ("2026-10", "2026-11", True)
    assert received.fee_rate == Decimal("0.02")


def test_given_several_closed_months_including_december_then_the_first_open_month_after_is_used():
    from events.invoicing import open_period_from

    assert open_period_from("2026-11", {"2026-11", "2026-12"}) == "2027-01"
    assert open_period_from("2026-11", set()) == "2026-11"
