"""Billing deciders: organisations, supplier invoices, fees and taxes, disputes, assignments, credits and periods."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from events.billing.commands import (
    AssignInvoiceLine,
    CloseBillingPeriod,
    DisputeInvoiceLine,
    InvoiceCommand,
    ReceiveSupplierInvoice,
    RegisterOrganisation,
    ReopenBillingPeriod,
    ResolveDispute,
)
from events.billing.decider import (
    BillingCalendar,
    CreditDue,
    Invoice,
    InvoiceContext,
    billed_in,
    decide_invoice,
    decide_organisation,
    decide_period,
    fold_calendar,
    fold_invoice,
    grant_credit,
)
from events.billing.facts import (
    BilledIn,
    BillingPeriodClosed,
    BillingPeriodReopened,
    DisputeResolved,
    InvoiceEvent,
    InvoiceLine,
    InvoiceLineAssigned,
    InvoiceLineDisputed,
    OrganisationRegistered,
    SupplierInvoiceReceived,
)
from events.kernel.errors import CommandRejected
from events.kernel.rates import TaxStatus, bundled_rate_book

RATES = bundled_rate_book()
# Registered organisations and their tax status: a federal department, a crown corporation, another public body.
ORGANISATIONS: dict[str, TaxStatus] = {"ESDC": "federal", "CBC": "crown_corporation", "SQ": "other"}
OPEN = BillingCalendar()
FEE_RATE = Decimal("0.0350")


# ---------------------------------------------------------------- builders


def context(calendar: BillingCalendar = OPEN, fee_rate: Decimal = FEE_RATE, **more: Any) -> InvoiceContext:
    """What the ledger knows: the bundled rates, the registered organisations, a known cloud contract."""
    fields: dict[str, Any] = {
        "rates": RATES,
        "organisations": ORGANISATIONS,
        "calendar": calendar,
        "contract_known": True,
        "contract_kind": "cloud",
        "fee_rate": fee_rate,
    }
    return InvoiceContext(**{**fields, **more})


def closed(*periods: str) -> BillingCalendar:
    return BillingCalendar(closed=frozenset(periods))


def line(org: str | None = "ESDC", province: str = "ON", amount: str = "1000.00", **more: Any) -> InvoiceLine:
    fields: dict[str, Any] = {
        "client_org": org,
        "reference": "USAGE-2026-10",
        "charge_period": "2026-10",
        "amount": amount,
        "province": province,
    }
    return InvoiceLine(**{**fields, **more})


def invoice(*lines: InvoiceLine, issued_on: date = date(2026, 11, 5)) -> ReceiveSupplierInvoice:
    return ReceiveSupplierInvoice(
        invoice_number="INV-1001",
        supplier="Nimbus Cloud Canada",
        contract_id="CLOUD-2025-017",
        issued_on=issued_on,
        lines=lines,
    )


def received(*lines: InvoiceLine, issued_on: date = date(2026, 11, 5), **ctx: Any) -> SupplierInvoiceReceived:
    [event] = decide_invoice(invoice(*lines, issued_on=issued_on), None, context(**ctx))
    assert isinstance(event, SupplierInvoiceReceived)
    return event


def history(*commands: InvoiceCommand, ctx: InvoiceContext | None = None) -> list[InvoiceEvent]:
    """The events `decide_invoice` produces for the commands, each decided on the invoice so far."""
    events: list[InvoiceEvent] = []
    for command in commands:
        events.extend(decide_invoice(command, fold_invoice(events), ctx or context()))
    return events


def given(*commands: InvoiceCommand) -> Invoice:
    state = fold_invoice(history(*commands))
    assert state is not None
    return state


def refused(command: Any, state: Invoice | None, ctx: InvoiceContext | None = None) -> CommandRejected:
    with pytest.raises(CommandRejected) as rejection:
        decide_invoice(command, state, ctx or context())
    return rejection.value


def dispute(line_no: int, on: date = date(2026, 11, 8)) -> DisputeInvoiceLine:
    return DisputeInvoiceLine(line_no=line_no, reason="not our usage", disputed_on=on)


def resolve(line_no: int, resolution: str, on: date = date(2026, 11, 12)) -> ResolveDispute:
    return ResolveDispute(line_no=line_no, resolution=resolution, note="supplier answered", resolved_on=on)


def assign(line_no: int, org: str, on: date = date(2026, 11, 9)) -> AssignInvoiceLine:
    return AssignInvoiceLine(line_no=line_no, client_org=org, assigned_on=on)


# ---------------------------------------------------------------- organisations


def test_given_a_new_organisation_when_registered_then_it_is_recorded_with_its_tax_status():
    # Given
    command = RegisterOrganisation(
        code="CBC",
        name_en="Canadian Broadcasting Corporation",
        name_fr="Société Radio-Canada",
        tax_status="crown_corporation",
        registered_on=date(2026, 9, 1),
    )
    # When
    [registered] = decide_organisation(command, known=False)
    # Then
    assert registered == OrganisationRegistered(
        code="CBC",
        name_en="Canadian Broadcasting Corporation",
        name_fr="Société Radio-Canada",
        tax_status="crown_corporation",
        registered_on=date(2026, 9, 1),
    )


def test_given_a_registered_organisation_when_registered_again_then_refused():
    command = RegisterOrganisation(
        code="ESDC", name_en="ESDC", name_fr="EDSC", tax_status="federal", registered_on=date(2026, 9, 1)
    )
    with pytest.raises(CommandRejected) as rejection:
        decide_organisation(command, known=True)
    assert (rejection.value.code, rejection.value.status) == ("organisation_exists", 409)


# ---------------------------------------------------------------- management fee


def test_given_a_contract_fee_rate_when_an_invoice_is_received_then_the_fee_is_on_the_amount_only():
    # Given a 3.5 % contract, a line of 1,234.57 with 25.00 shipping and 4.25 EHF delivered in Ontario
    # When
    event = received(line(amount="1234.57", shipping="25.00", ehf="4.25"))
    # Then the fee is 3.5 % of 1,234.57 = 43.20995 -> 43.21 (not on shipping, EHF or taxes)
    [priced] = event.lines
    assert priced.fee == Decimal("43.21")
    assert event.fee_rate == Decimal("0.0350")
    # and HST 13 % of 1,263.82 (amount + shipping + EHF) = 164.2966 -> 164.30; owed 1,263.82 + 164.30
    assert (priced.taxes, priced.tax) == ({"HST": Decimal("164.30")}, Decimal("164.30"))
    assert priced.total == Decimal("1428.12")
    assert event.total == Decimal("1428.12")


@pytest.mark.parametrize(
    ("fee_rate", "amount", "fee"),
    [
        ("0.005", "1.00", "0.01"),  # 0.005 exactly: half-up gives 0.01, banker's rounding would give 0.00
        ("0.025", "1.00", "0.03"),  # 0.025: half-up 0.03, banker's 0.02
        ("0.0350", "0.14", "0.00"),  # 0.0049 rounds down
        ("0", "1000.00", "0.00"),
    ],
)
def test_given_a_fee_rate_when_the_fee_falls_on_a_half_cent_then_it_is_rounded_half_up(fee_rate, amount, fee):
    # When
    [priced] = received(line(amount=amount), fee_rate=Decimal(fee_rate)).lines
    # Then
    assert priced.fee == Decimal(fee)


def test_given_an_unknown_contract_when_an_invoice_is_received_then_it_is_a_fact_with_no_fee():
    # When
    event = received(line(), contract_known=False, contract_kind=None, fee_rate=Decimal("0"))
    # Then
    assert (event.contract_known, event.fee_rate) == (False, Decimal("0"))
    assert event.lines[0].fee == Decimal("0.00")


def test_given_a_contract_kind_when_received_then_cloud_lines_are_usage_and_call_ups_are_purchases():
    # When
    cloud = received(line())
    call_up = received(line(reference="ORD-2026-000123"), contract_kind="nmso", known_orders={"ORD-2026-000123"})
    unknown = received(line(reference="ORD-2026-000124"), contract_kind=None)
    # Then
    assert (cloud.lines[0].kind, cloud.lines[0].order_id) == ("usage", None)
    assert (call_up.lines[0].kind, call_up.lines[0].order_id) == ("purchase", "ORD-2026-000123")
    assert (unknown.lines[0].kind, unknown.lines[0].order_id) == ("purchase", None)


# ---------------------------------------------------------------- taxes


def test_given_a_federal_client_in_ontario_when_received_then_hst_13_percent():
    # When
    [priced] = received(line("ESDC", "ON", amount="1000.00")).lines
    # Then
    assert (priced.tax_status, priced.taxes, priced.total) == (
        "federal",
        {"HST": Decimal("130.00")},
        Decimal("1130.00"),
    )


def test_given_a_federal_client_in_quebec_when_received_then_it_pays_gst_only():
    # When: base 1,000.00 + 25.00 shipping + 1.55 EHF = 1,026.55
    [priced] = received(line("ESDC", "QC", shipping="25.00", ehf="1.55")).lines
    # Then GST 5 % = 51.3275 -> 51.33; no QST for a federal body
    assert priced.taxes == {"GST": Decimal("51.33")}
    assert (priced.tax, priced.total) == (Decimal("51.33"), Decimal("1077.88"))


@pytest.mark.parametrize("org", ["CBC", "SQ"])
def test_given_a_crown_corporation_or_other_body_in_quebec_when_received_then_gst_and_qst(org):
    # When: base 1,026.55
    [priced] = received(line(org, "QC", shipping="25.00", ehf="1.55")).lines
    # Then GST 51.3275 -> 51.33 and QST 9.975 % = 102.3983625 -> 102.40
    assert priced.taxes == {"GST": Decimal("51.33"), "QST": Decimal("102.40")}
    assert (priced.tax, priced.total) == (Decimal("153.73"), Decimal("1180.28"))
    assert priced.tax_status == ORGANISATIONS[org]


def test_given_two_tax_components_when_received_then_each_is_rounded_half_up_separately():
    # When: 10.10 for a crown corporation in Quebec
    [priced] = received(line("CBC", "QC", amount="10.10")).lines
    # Then GST 0.505 -> 0.51 and QST 1.007475 -> 1.01: 1.52 (one rounding of 14.975 % would give 1.51)
    assert priced.taxes == {"GST": Decimal("0.51"), "QST": Decimal("1.01")}
    assert priced.tax == Decimal("1.52")


def test_given_the_rates_file_when_nova_scotia_hst_changes_on_2025_04_01_then_the_issue_date_decides():
    # Given the rates file has NS HST 15 % to 2025-03-31 and 14 % from 2025-04-01
    assert RATES.tax_rates("NS", "federal", date(2025, 3, 31)) == {"HST": Decimal("0.15")}
    assert RATES.tax_rates("NS", "federal", date(2025, 4, 1)) == {"HST": Decimal("0.14")}
    # When the same March line is invoiced on either side of the change
    before = received(line(province="NS", charge_period="2025-03"), issued_on=date(2025, 3, 31))
    after = received(line(province="NS", charge_period="2025-03"), issued_on=date(2025, 4, 1))
    # Then
    assert before.lines[0].taxes == {"HST": Decimal("150.00")}
    assert after.lines[0].taxes == {"HST": Decimal("140.00")}


def test_given_supplier_stated_taxes_when_received_then_the_ledger_keeps_them_and_computes_its_own():
    # When
    [priced] = received(line(taxes="130.01")).lines
    # Then
    assert (priced.stated_taxes, priced.tax) == (Decimal("130.01"), Decimal("130.00"))


# ---------------------------------------------------------------- unknown organisations and assignments


def test_given_unknown_and_unassigned_lines_when_received_then_the_invoice_is_accepted_and_they_are_not_rebilled():
    # When
    event = received(line("ESDC"), line("ESDC-TYPO"), line(None, "QC", amount="80.00"))
    # Then every line is a fact; only the registered organisation is re-billed
    assert [(p.client_org, p.organisation_known) for p in event.lines] == [
        ("ESDC", True),
        ("ESDC-TYPO", False),
        (None, False),
    ]
    # Unknown lines are taxed as a federal body: GST 5 % of 80.00 = 4.00 in Quebec
    assert (event.lines[2].tax_status, event.lines[2].taxes) == ("federal", {"GST": Decimal("4.00")})
    state = fold_invoice([event])
    assert state is not None
    assert {n: (r.client_org if r else None) for n, r in state.rebills.items()} == {1: "ESDC", 2: None, 3: None}


def test_given_an_unassigned_line_when_assigned_to_a_crown_corporation_then_taxes_are_recomputed_for_it():
    # Given an unassigned Quebec line of 80.00, priced as federal (GST 4.00)
    state = given(invoice(line("ESDC"), line(None, "QC", amount="80.00")))
    # When
    [assigned] = decide_invoice(assign(2, "CBC"), state, context())
    # Then GST 4.00 and QST 9.975 % of 80.00 = 7.98; the fee 3.5 % of 80.00 = 2.80
    assert isinstance(assigned, InvoiceLineAssigned)
    assert (assigned.line_no, assigned.client_org) == (2, "CBC")
    rebill = assigned.rebill
    assert (rebill.client_org, rebill.invoice_number, rebill.line_no) == ("CBC", "INV-1001", 2)
    assert rebill.taxes == {"GST": Decimal("4.00"), "QST": Decimal("7.98")}
    assert (rebill.tax, rebill.fee, rebill.fee_rate) == (Decimal("11.98"), Decimal("2.80"), FEE_RATE)
    assert assigned.billed == BilledIn(charge_period="2026-10", billing_period="2026-10", correction=False)
    after = fold_invoice([*history(invoice(line("ESDC"), line(None, "QC", amount="80.00"))), assigned])
    assert after is not None and after.rebills[2] == rebill


def test_given_a_line_when_assigned_to_an_unregistered_organisation_then_refused():
    state = given(invoice(line("ESDC-TYPO")))
    rejection = refused(assign(1, "NOPE"), state)
    assert (rejection.code, rejection.status) == ("unknown_organisation", 422)


def test_given_a_billed_line_when_assigned_then_refused_as_already_billed():
    # Given line 1 billed to ESDC as received, line 2 assigned to ESDC afterwards
    state = given(invoice(line("ESDC"), line(None)), assign(2, "ESDC"))
    # Then
    rejection = refused(assign(1, "CBC"), state)
    assert (rejection.code, rejection.status) == ("line_already_billed", 409)
    assert refused(assign(2, "CBC"), state).code == "line_already_billed"


def test_given_a_line_in_dispute_when_assigned_then_refused_until_resolved():
    state = given(invoice(line(None)), dispute(1))
    assert refused(assign(1, "ESDC"), state).code == "line_in_dispute"


# ---------------------------------------------------------------- duplicates and disputes


def test_given_an_invoice_when_the_same_number_is_received_again_then_refused_as_duplicate():
    state = given(invoice(line()))
    rejection = refused(invoice(line()), state)
    assert (rejection.code, rejection.status) == ("duplicate_invoice", 409)


def test_given_no_invoice_when_a_line_is_disputed_then_refused_as_not_found():
    rejection = refused(dispute(1), None)
    assert (rejection.code, rejection.status) == ("invoice_not_found", 404)


def test_given_a_two_line_invoice_when_line_3_is_disputed_then_refused_as_unknown_line():
    state = given(invoice(line(), line()))
    rejection = refused(dispute(3), state)
    assert (rejection.code, rejection.status) == ("unknown_invoice_line", 404)
    assert refused(assign(3, "ESDC"), state).code == "unknown_invoice_line"
    assert refused(resolve(3, "upheld"), state).code == "unknown_invoice_line"


def test_given_a_billed_line_when_disputed_then_its_charges_are_withheld_in_the_current_billing_period():
    # Given
    state = given(invoice(line()))
    # When
    [disputed] = decide_invoice(dispute(1), state, context())
    # Then
    assert isinstance(disputed, InvoiceLineDisputed)
    assert disputed.withheld == state.rebills[1]
    assert disputed.withheld is not None and disputed.withheld.tax == Decimal("130.00")
    assert disputed.billed == BilledIn(charge_period="2026-10", billing_period="2026-10", correction=False)
    assert fold_invoice([*history(invoice(line())), disputed]).disputed == {1}  # type: ignore[union-attr]


def test_given_october_closed_when_an_october_line_is_disputed_then_it_is_withheld_in_november_as_a_correction():
    state = given(invoice(line()))
    [disputed] = decide_invoice(dispute(1), state, context(closed("2026-10")))
    assert isinstance(disputed, InvoiceLineDisputed)
    assert disputed.billed == BilledIn(charge_period="2026-10", billing_period="2026-11", correction=True)


def test_given_an_unassigned_line_when_disputed_then_nothing_is_withheld():
    [disputed] = decide_invoice(dispute(1), given(invoice(line(None))), context())
    assert isinstance(disputed, InvoiceLineDisputed) and disputed.withheld is None


def test_given_a_disputed_line_when_disputed_again_then_refused():
    state = given(invoice(line(), line()), dispute(2))
    rejection = refused(dispute(2), state)
    assert (rejection.code, rejection.status) == ("already_disputed", 409)


def test_given_a_line_not_in_dispute_when_resolved_then_refused():
    state = given(invoice(line(), line()), dispute(2))
    rejection = refused(resolve(1, "upheld"), state)
    assert (rejection.code, rejection.status) == ("not_disputed", 409)


def test_given_a_disputed_line_when_the_dispute_is_withdrawn_then_its_charges_are_rebilled():
    # Given
    state = given(invoice(line()), dispute(1))
    # When
    [resolved] = decide_invoice(resolve(1, "withdrawn"), state, context())
    # Then
    assert isinstance(resolved, DisputeResolved)
    assert (resolved.resolution, resolved.rebilled) == ("withdrawn", state.rebills[1])
    after = fold_invoice([*history(invoice(line()), dispute(1)), resolved])
    assert after is not None and (after.disputed, after.upheld) == (frozenset(), frozenset())
    # and it can be disputed again
    assert decide_invoice(dispute(1, on=date(2026, 11, 20)), after, context())[0].type == "InvoiceLineDisputed"


def test_given_a_disputed_line_when_the_dispute_is_upheld_then_nothing_is_rebilled():
    # Given
    state = given(invoice(line()), dispute(1))
    # When
    [resolved] = decide_invoice(resolve(1, "upheld"), state, context())
    # Then
    assert isinstance(resolved, DisputeResolved)
    assert (resolved.resolution, resolved.rebilled) == ("upheld", None)
    after = fold_invoice([*history(invoice(line()), dispute(1)), resolved])
    assert after is not None and (after.disputed, after.upheld) == (frozenset(), frozenset({1}))


def test_given_an_upheld_dispute_when_the_line_is_disputed_or_assigned_again_then_refused():
    # Given an unassigned line and a billed line, both disputed and upheld
    state = given(invoice(line(None), line("ESDC")), dispute(1), resolve(1, "upheld"), dispute(2), resolve(2, "upheld"))
    # Then
    rejection = refused(dispute(1), state)
    assert (rejection.code, rejection.status) == ("dispute_upheld", 409)
    assert refused(dispute(2), state).code == "dispute_upheld"
    assert refused(assign(1, "ESDC"), state).code == "dispute_upheld"


# ---------------------------------------------------------------- billing periods


def test_given_october_not_over_when_closed_on_its_last_day_then_refused():
    with pytest.raises(CommandRejected) as rejection:
        decide_period(CloseBillingPeriod(period="2026-10", closed_on=date(2026, 10, 31)), OPEN)
    assert rejection.value.code == "period_not_over"


def test_given_october_over_when_closed_on_november_1st_then_it_is_closed():
    # When
    events = decide_period(CloseBillingPeriod(period="2026-10", closed_on=date(2026, 11, 1)), OPEN)
    # Then
    assert events == [BillingPeriodClosed(period="2026-10", closed_on=date(2026, 11, 1))]
    assert fold_calendar(events) == closed("2026-10")


def test_given_october_closed_when_closed_again_then_refused():
    calendar = fold_calendar(decide_period(CloseBillingPeriod(period="2026-10", closed_on=date(2026, 11, 1)), OPEN))
    with pytest.raises(CommandRejected) as rejection:
        decide_period(CloseBillingPeriod(period="2026-10", closed_on=date(2026, 11, 8)), calendar)
    assert (rejection.value.code, rejection.value.status) == ("period_closed", 409)


def test_given_an_open_month_when_reopened_then_refused():
    with pytest.raises(CommandRejected) as rejection:
        decide_period(
            ReopenBillingPeriod(period="2026-11", reason="nothing to reopen here", reopened_on=date(2026, 12, 2)), OPEN
        )
    assert (rejection.value.code, rejection.value.status) == ("period_open", 409)


def test_given_a_reopen_command_when_its_reason_is_under_10_characters_then_it_is_invalid():
    with pytest.raises(ValidationError):
        ReopenBillingPeriod(period="2026-10", reason="123456789", reopened_on=date(2026, 11, 9))
    assert ReopenBillingPeriod(period="2026-10", reason="1234567890", reopened_on=date(2026, 11, 9)).reason


def test_given_october_closed_when_reopened_with_a_reason_then_it_is_open_again():
    # Given
    closing = decide_period(CloseBillingPeriod(period="2026-10", closed_on=date(2026, 11, 1)), OPEN)
    # When
    reopening = decide_period(
        ReopenBillingPeriod(period="2026-10", reason="supplier re-issued INV-1001", reopened_on=date(2026, 11, 9)),
        fold_calendar(closing),
    )
    # Then
    assert reopening == [
        BillingPeriodReopened(period="2026-10", reason="supplier re-issued INV-1001", reopened_on=date(2026, 11, 9))
    ]
    assert fold_calendar([*closing, *reopening]) == OPEN


# ---------------------------------------------------------------- correction lines


@pytest.mark.parametrize(
    ("charge_period", "closed_periods", "billing_period", "correction"),
    [
        ("2026-10", (), "2026-10", False),
        ("2026-10", ("2026-10",), "2026-11", True),
        ("2026-10", ("2026-10", "2026-11"), "2026-12", True),
        ("2026-11", ("2026-10",), "2026-11", False),
        ("2026-12", ("2026-12",), "2027-01", True),  # December rolls over into January of the next year
        ("2026-11", ("2026-11", "2026-12"), "2027-01", True),
    ],
)
def test_given_closed_months_when_a_charge_is_billed_then_it_goes_to_the_first_open_month(
    charge_period, closed_periods, billing_period, correction
):
    assert billed_in(charge_period, closed(*closed_periods)) == BilledIn(
        charge_period=charge_period, billing_period=billing_period, correction=correction
    )


def test_given_october_closed_when_a_late_october_invoice_arrives_then_its_line_is_a_correction_in_november():
    # When
    [late] = received(line(), calendar=closed("2026-10")).lines
    # Then
    assert late.billed == BilledIn(charge_period="2026-10", billing_period="2026-11", correction=True)


def test_given_october_and_november_closed_when_a_late_october_invoice_arrives_then_it_is_billed_in_december():
    [late] = received(line(), calendar=closed("2026-10", "2026-11")).lines
    assert (late.billed.billing_period, late.billed.correction) == ("2026-12", True)


def test_given_december_closed_when_a_late_december_invoice_arrives_then_it_is_billed_in_january():
    [late] = received(line(charge_period="2026-12"), issued_on=date(2027, 1, 8), calendar=closed("2026-12")).lines
    assert late.billed == BilledIn(charge_period="2026-12", billing_period="2027-01", correction=True)


# ---------------------------------------------------------------- rebate credits


def rebate(**changes: Any) -> CreditDue:
    """A late-delivery rebate of 123.45 for ESDC on an Ontario order, contract fee 3.5 %."""
    fields: dict[str, Any] = {
        "credit_id": "CR-0001",
        "kind": "late_delivery_rebate",
        "client_org": "ESDC",
        "tax_status": "federal",
        "reference": "ORD-2026-000123",
        "order_id": "ORD-2026-000123",
        "contract_id": "NMSO-2026-042",
        "supplier": "Northern Micro",
        "province": "ON",
        "amount": Decimal("123.45"),
        "reason": "delivered 12 working days late",
        "granted_on": date(2026, 11, 20),
        "charge_period": "2026-11",
        "fee_rate": FEE_RATE,
        "based_on": (UUID(int=42),),
    }
    return CreditDue(**{**fields, **changes})


def test_given_a_late_delivery_rebate_when_granted_then_the_credit_carries_its_taxes_fee_and_source():
    # When
    credit = grant_credit(rebate(), RATES, OPEN)
    # Then HST 13 % of 123.45 = 16.0485 -> 16.05; fee 3.5 % of 123.45 = 4.32075 -> 4.32
    assert (credit.kind, credit.client_org, credit.reference) == ("late_delivery_rebate", "ESDC", "ORD-2026-000123")
    assert credit.amount == Decimal("123.45")
    assert (credit.taxes, credit.tax) == ({"HST": Decimal("16.05")}, Decimal("16.05"))
    assert (credit.fee_rate, credit.fee) == (FEE_RATE, Decimal("4.32"))
    assert credit.based_on == (UUID(int=42),)
    assert credit.billed == BilledIn(charge_period="2026-11", billing_period="2026-11", correction=False)


def test_given_a_crown_corporation_in_quebec_when_a_rebate_is_granted_then_gst_and_qst_are_credited():
    # When: 200.00 -> GST 10.00, QST 19.95
    cbc = rebate(client_org="CBC", tax_status="crown_corporation", province="QC", amount=Decimal("200.00"))
    credit = grant_credit(cbc, RATES, OPEN)
    # Then
    assert credit.taxes == {"GST": Decimal("10.00"), "QST": Decimal("19.95")}
    assert (credit.tax, credit.fee) == (Decimal("29.95"), Decimal("7.00"))


def test_given_november_closed_when_a_november_rebate_is_granted_then_it_is_billed_in_december():
    credit = grant_credit(rebate(granted_on=date(2026, 11, 30), charge_period="2026-11"), RATES, closed("2026-11"))
    assert credit.billed == BilledIn(charge_period="2026-11", billing_period="2026-12", correction=True)
