"""Chargeback statements and invoice reconciliation, projected from decided billing events as the ledger records."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from events.billing.commands import (
    AssignInvoiceLine,
    CloseBillingPeriod,
    DisputeInvoiceLine,
    InvoiceCommand,
    ReceiveSupplierInvoice,
    ResolveDispute,
)
from events.billing.decider import (
    BillingCalendar,
    CreditDue,
    InvoiceContext,
    decide_invoice,
    decide_period,
    evolve_calendar,
    fold_invoice,
    grant_credit,
)
from events.billing.facts import InvoiceLine, invoice_id
from events.kernel.rates import TaxStatus, bundled_rate_book
from events.ledger import RecordedEvent
from events.ledger.catalogue import decode_invoice_event
from projections import chargeback, reconciliation
from projections.chargeback import ChargebackLine, Statement, fiscal_year, totals
from projections.reconciliation import InvoiceReconciliation

RATES = bundled_rate_book()
ORGANISATIONS: dict[str, TaxStatus] = {"ESDC": "federal", "CBC": "crown_corporation"}
FEE_RATE = Decimal("0.0350")
SUPPLIER = "Nimbus Cloud Canada"
INVOICE = invoice_id(SUPPLIER, "INV-1001")  # "nimbus-cloud-canada--INV-1001"
D = Decimal


# ---------------------------------------------------------------- the ledger, in miniature


class Books:
    """Commands decided on the state so far, their events recorded one ledger position after the other."""

    def __init__(self, contract_known: bool = True) -> None:
        self.recorded: list[RecordedEvent] = []
        self.calendar = BillingCalendar()
        self.contract_known = contract_known

    def record(self, stream_type: str, stream_id: str, events: list[Any]) -> list[RecordedEvent]:
        """Positions 101, 102, ... across the ledger; stream versions 1, 2, ... per stream; event id = position."""
        version = sum(1 for r in self.recorded if r.stream_id == stream_id)
        at = datetime(2026, 11, 5, 14, 0, tzinfo=UTC)
        new: list[RecordedEvent] = []
        for event in events:
            version += 1
            position = 101 + len(self.recorded)
            recorded = RecordedEvent(
                position=position,
                event_id=UUID(int=position),
                type=event.type,
                schema_version=event.schema_version,
                stream_id=stream_id,
                stream_type=stream_type,
                stream_version=version,
                occurred_at=at,
                recorded_at=at,
                actor="broker",
                correlation_id=UUID(int=1000),
                causation_id=None,
                data=event.model_dump(mode="json"),
                prev_hash=f"hash-{position - 1}",
                hash=f"hash-{position}",
            )
            self.recorded.append(recorded)
            new.append(recorded)
        return new

    def invoice(self, command: InvoiceCommand, number: str = "INV-1001") -> RecordedEvent:
        """Decide an invoice command on the invoice as recorded so far, and record its event."""
        stream = f"invoice-{invoice_id(SUPPLIER, number)}"
        state = fold_invoice(decode_invoice_event(r.data) for r in self.recorded if r.stream_id == stream)
        context = InvoiceContext(
            rates=RATES,
            organisations=ORGANISATIONS,
            calendar=self.calendar,
            contract_known=self.contract_known,
            contract_kind="cloud" if self.contract_known else None,
            fee_rate=FEE_RATE if self.contract_known else D("0"),
        )
        [recorded] = self.record("invoice", stream, decide_invoice(command, state, context))
        return recorded

    def close(self, period: str, on: date) -> RecordedEvent:
        [event] = decide_period(CloseBillingPeriod(period=period, closed_on=on), self.calendar)
        self.calendar = evolve_calendar(self.calendar, event)
        [recorded] = self.record("billing_period", "billing-periods", [event])
        return recorded

    def credit(self, rebate: CreditDue) -> RecordedEvent:
        credit = grant_credit(rebate, RATES, self.calendar)
        [recorded] = self.record("credit", f"credit-{rebate.credit_id}", [credit])
        return recorded

    def statements(self) -> dict[str, Statement]:
        return _project_all(self.recorded, chargeback.keys, chargeback.project)

    def reconciliations(self) -> dict[str, InvoiceReconciliation]:
        return _project_all(self.recorded, reconciliation.keys, reconciliation.project)


def _project_all(recorded: list[RecordedEvent], keys: Any, project: Any) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for event in recorded:
        for key in keys(event):
            rows[key] = project(rows.get(key), event, key)
    return rows


def line(org: str | None = "ESDC", province: str = "ON", amount: str = "1000.00", **more: Any) -> InvoiceLine:
    fields: dict[str, Any] = {
        "client_org": org,
        "reference": "USAGE-2026-10",
        "charge_period": "2026-10",
        "amount": amount,
        "province": province,
    }
    return InvoiceLine(**{**fields, **more})


def receive(
    *lines: InvoiceLine, number: str = "INV-1001", issued_on: date = date(2026, 11, 5)
) -> ReceiveSupplierInvoice:
    return ReceiveSupplierInvoice(
        invoice_number=number, supplier=SUPPLIER, contract_id="CLOUD-2025-017", issued_on=issued_on, lines=lines
    )


def dispute(line_no: int, on: date = date(2026, 11, 8)) -> DisputeInvoiceLine:
    return DisputeInvoiceLine(line_no=line_no, reason="not our usage", disputed_on=on)


def resolve(line_no: int, resolution: str, on: date = date(2026, 11, 12)) -> ResolveDispute:
    return ResolveDispute(line_no=line_no, resolution=resolution, resolved_on=on)


def assign(line_no: int, org: str, on: date = date(2026, 11, 9)) -> AssignInvoiceLine:
    return AssignInvoiceLine(line_no=line_no, client_org=org, assigned_on=on)


def parts(statement: Statement) -> list[tuple[Any, ...]]:
    """Each line as (invoice line, item, category, action, amount), in statement order."""
    return [(x.invoice_line, x.item, x.category, x.action, x.amount) for x in statement.lines]


def nonzero(statement: Statement) -> dict[str, Decimal]:
    return {name: amount for name, amount in totals(statement.lines).items() if amount != 0}


# ---------------------------------------------------------------- statements of invoice lines


def test_given_a_received_invoice_when_projected_then_the_statement_lists_charge_shipping_ehf_tax_and_fee():
    # Given 1,234.57 of cloud usage for ESDC in Ontario, 25.00 shipping and 4.25 EHF, contract fee 3.5 %
    books = Books()
    received = books.invoice(receive(line(amount="1234.57", shipping="25.00", ehf="4.25")))
    # When
    assert chargeback.keys(received) == ("ESDC|2026-10",)
    statement = books.statements()["ESDC|2026-10"]
    # Then HST 13 % of 1,263.82 = 164.30; fee 3.5 % of 1,234.57 = 43.21
    assert (statement.organisation, statement.period, statement.fiscal_year) == ("ESDC", "2026-10", 2026)
    assert parts(statement) == [
        (1, "charge", "usage", "billed", D("1234.57")),
        (1, "shipping", "usage", "billed", D("25.00")),
        (1, "ehf", "ehf", "billed", D("4.25")),
        (1, "tax", "tax", "billed", D("164.30")),
        (1, "fee", "management_fee", "billed", D("43.21")),
    ]
    charge, *_, tax, fee = statement.lines
    assert charge.line_id == f"{UUID(int=101)}/1/charge"
    assert (charge.invoice_id, charge.invoice_number, charge.supplier) == (INVOICE, "INV-1001", SUPPLIER)
    assert (charge.contract_id, charge.reference, charge.province) == ("CLOUD-2025-017", "USAGE-2026-10", "ON")
    assert (charge.charge_period, charge.corrects, charge.source_events) == ("2026-10", None, (str(UUID(int=101)),))
    assert tax.tax_component == "HST"
    assert fee.fee_rate == FEE_RATE
    # 1,259.57 + 4.25 + 164.30 + 43.21 = 1,471.33
    assert nonzero(statement) == {
        "usage": D("1259.57"),
        "ehf": D("4.25"),
        "tax": D("164.30"),
        "management_fee": D("43.21"),
        "total": D("1471.33"),
    }
    assert (statement.applied, statement.position) == ({f"invoice-{INVOICE}": 1}, 101)


def test_given_lines_for_two_organisations_when_projected_then_each_gets_its_own_statement():
    # Given
    books = Books()
    received = books.invoice(receive(line("ESDC"), line("CBC", "QC", amount="200.00")))
    # When
    statements = books.statements()
    # Then
    assert chargeback.keys(received) == ("CBC|2026-10", "ESDC|2026-10")
    assert {x.invoice_line for x in statements["ESDC|2026-10"].lines} == {1}
    # GST 10.00 and QST 9.975 % of 200.00 = 19.95; fee 7.00
    assert nonzero(statements["CBC|2026-10"]) == {
        "usage": D("200.00"),
        "tax": D("29.95"),
        "management_fee": D("7.00"),
        "total": D("236.95"),
    }


def test_given_several_events_when_projected_then_lines_are_in_ledger_order_then_charge_shipping_ehf_taxes_fee():
    # Given two Quebec lines for CBC, an unassigned line, then that line assigned to CBC
    books = Books()
    books.invoice(
        receive(
            line("CBC", "QC", amount="200.00", shipping="10.00", ehf="2.55"),
            line("CBC", "QC", amount="50.00"),
            line(None, "QC", amount="80.00"),
        )
    )
    books.invoice(assign(3, "CBC"))
    # When
    statement = books.statements()["CBC|2026-10"]
    # Then line 1 on 212.55: GST 10.6275 -> 10.63, QST 21.2018625 -> 21.20, fee 7.00;
    # line 2 on 50.00: GST 2.50, QST 4.9875 -> 4.99, fee 1.75; line 3 on 80.00: GST 4.00, QST 7.98, fee 2.80
    assert [(x.position, x.invoice_line, x.item, x.tax_component, x.amount) for x in statement.lines] == [
        (101, 1, "charge", None, D("200.00")),
        (101, 1, "shipping", None, D("10.00")),
        (101, 1, "ehf", None, D("2.55")),
        (101, 1, "tax", "GST", D("10.63")),
        (101, 1, "tax", "QST", D("21.20")),
        (101, 1, "fee", None, D("7.00")),
        (101, 2, "charge", None, D("50.00")),
        (101, 2, "tax", "GST", D("2.50")),
        (101, 2, "tax", "QST", D("4.99")),
        (101, 2, "fee", None, D("1.75")),
        (102, 3, "charge", None, D("80.00")),
        (102, 3, "tax", "GST", D("4.00")),
        (102, 3, "tax", "QST", D("7.98")),
        (102, 3, "fee", None, D("2.80")),
    ]
    # And the total is the sum of the categories, to the cent: 340.00 + 2.55 + 51.30 + 11.55 = 405.40
    summed = totals(statement.lines)
    assert nonzero(statement) == {
        "usage": D("340.00"),
        "ehf": D("2.55"),
        "tax": D("51.30"),
        "management_fee": D("11.55"),
        "total": D("405.40"),
    }
    assert summed["total"] == sum((amount for name, amount in summed.items() if name != "total"), D("0"))
    assert summed["total"] == sum((x.amount for x in statement.lines), D("0"))
    assert set(summed) == {*chargeback.CATEGORIES, "total"}


def test_given_an_applied_event_when_it_is_delivered_again_then_the_statement_does_not_change():
    # Given
    books = Books()
    received = books.invoice(receive(line()))
    disputed = books.invoice(dispute(1))
    statement = books.statements()["ESDC|2026-10"]
    # When
    again = chargeback.project(statement, received, "ESDC|2026-10")
    again = chargeback.project(again, disputed, "ESDC|2026-10")
    # Then
    assert again == statement
    assert statement.applied == {f"invoice-{INVOICE}": 2}


def test_given_events_of_other_streams_when_keyed_then_the_chargeback_ignores_them():
    books = Books()
    closing = books.close("2026-10", date(2026, 11, 1))
    assert chargeback.keys(closing) == ()
    assert reconciliation.keys(closing) == ()


@pytest.mark.parametrize(
    ("period", "year"), [("2026-03", 2025), ("2026-04", 2026), ("2026-12", 2026), ("2027-01", 2026)]
)
def test_given_a_month_when_its_fiscal_year_is_asked_then_it_is_the_year_april_starts_in(period, year):
    assert fiscal_year(period) == year


# ---------------------------------------------------------------- unknown organisations and assignments


def test_given_unknown_and_unassigned_lines_when_received_then_they_are_not_rebilled_and_reconciliation_says_why():
    # Given ESDC 1,000.00, "ESDC-TYPO" 500.00 and an unassigned 80.00, all in Ontario
    books = Books()
    received = books.invoice(receive(line("ESDC"), line("ESDC-TYPO", amount="500.00"), line(None, amount="80.00")))
    # Then only ESDC is re-billed
    assert chargeback.keys(received) == ("ESDC|2026-10",)
    assert {x.invoice_line for x in books.statements()["ESDC|2026-10"].lines} == {1}
    row = books.reconciliations()[INVOICE]
    assert reconciliation.keys(received) == (INVOICE,)
    assert [(x.line_no, x.client_org, x.billed_to, x.causes) for x in row.lines] == [
        (1, "ESDC", "ESDC", ()),
        (2, "ESDC-TYPO", None, ("unknown_organisation",)),
        (3, None, None, ("unassigned_line",)),
    ]
    # invoiced 1,130.00 + 565.00 + 90.40; re-billed 1,130.00 only
    assert (row.invoiced, row.rebilled, row.difference) == (D("1785.40"), D("1130.00"), D("655.40"))
    assert (row.fee, row.reconciled) == (D("35.00"), False)


def test_given_unknown_and_unassigned_lines_when_assigned_then_they_are_rebilled_and_the_invoice_reconciles():
    # Given
    books = Books()
    books.invoice(receive(line("ESDC"), line("ESDC-TYPO", amount="500.00"), line(None, amount="80.00")))
    # When
    to_esdc = books.invoice(assign(2, "ESDC"))
    to_cbc = books.invoice(assign(3, "CBC"))
    # Then
    assert (chargeback.keys(to_esdc), chargeback.keys(to_cbc)) == (("ESDC|2026-10",), ("CBC|2026-10",))
    statements = books.statements()
    assert nonzero(statements["ESDC|2026-10"]) == {
        "usage": D("1500.00"),
        "tax": D("195.00"),
        "management_fee": D("52.50"),
        "total": D("1747.50"),
    }
    assert parts(statements["CBC|2026-10"]) == [
        (3, "charge", "usage", "billed", D("80.00")),
        (3, "tax", "tax", "billed", D("10.40")),
        (3, "fee", "management_fee", "billed", D("2.80")),
    ]
    row = books.reconciliations()[INVOICE]
    assert [(x.billed_to, x.causes) for x in row.lines] == [("ESDC", ()), ("ESDC", ()), ("CBC", ())]
    assert (row.invoiced, row.rebilled, row.difference, row.fee) == (D("1785.40"), D("1785.40"), D("0.00"), D("55.30"))
    assert row.reconciled is True
    assert (row.stream_version, row.position) == (3, 103)
    assert row.source_events == tuple(str(UUID(int=n)) for n in (101, 102, 103))


def test_given_an_unassigned_quebec_line_when_assigned_to_a_crown_corporation_then_gst_and_qst_are_rebilled():
    # Given 80.00 in Quebec, priced as federal (GST 4.00) while unassigned
    books = Books()
    books.invoice(receive(line("ESDC"), line(None, "QC", amount="80.00")))
    # When
    books.invoice(assign(2, "CBC"))
    # Then GST 4.00 and QST 7.98
    statement = books.statements()["CBC|2026-10"]
    assert [(x.item, x.tax_component, x.amount) for x in statement.lines] == [
        ("charge", None, D("80.00")),
        ("tax", "GST", D("4.00")),
        ("tax", "QST", D("7.98")),
        ("fee", None, D("2.80")),
    ]


def test_given_an_unassigned_quebec_line_with_stated_crown_taxes_when_assigned_to_the_crown_then_it_reconciles():
    # Given the supplier states GST 4.00 + QST 7.98 = 11.98 on an unassigned 80.00 Quebec line;
    # the ledger, not knowing the client, priced it as federal (GST 4.00 only)
    books = Books()
    books.invoice(receive(line(None, "QC", amount="80.00", taxes="11.98")))
    assert books.reconciliations()[INVOICE].lines[0].causes == ("tax_difference", "unassigned_line")
    # When the line is assigned to the crown corporation: re-billed 80.00 + 11.98
    books.invoice(assign(1, "CBC"))
    # Then what is re-billed is what the supplier invoiced, and nothing is left to explain
    row = books.reconciliations()[INVOICE]
    assert (row.invoiced, row.rebilled, row.difference) == (D("91.98"), D("91.98"), D("0.00"))
    assert row.lines[0].causes == ()
    assert row.reconciled is True


def test_given_an_unassigned_quebec_line_without_stated_taxes_when_assigned_to_a_crown_then_no_unexplained_gap():
    # Given an unassigned 80.00 Quebec line, no taxes stated: the ledger's GST 4.00 (as federal)
    books = Books()
    books.invoice(receive(line(None, "QC", amount="80.00")))
    # When assigned to the crown corporation: GST 4.00 + QST 7.98 re-billed
    books.invoice(assign(1, "CBC"))
    # Then every difference has a cause: either none is left, or it is explained
    row = books.reconciliations()[INVOICE]
    assert row.difference == D("0.00") or row.lines[0].causes != ()


# ---------------------------------------------------------------- disputes


def test_given_a_billed_line_when_disputed_then_its_lines_are_withheld_and_reconciliation_shows_the_dispute():
    # Given ESDC billed 1,000.00 + HST 130.00 + fee 35.00 for October
    books = Books()
    books.invoice(receive(line()))
    # When
    disputed = books.invoice(dispute(1))
    # Then the same lines, negated, in the same month: October nets to zero
    assert chargeback.keys(disputed) == ("ESDC|2026-10",)
    statement = books.statements()["ESDC|2026-10"]
    assert parts(statement) == [
        (1, "charge", "usage", "billed", D("1000.00")),
        (1, "tax", "tax", "billed", D("130.00")),
        (1, "fee", "management_fee", "billed", D("35.00")),
        (1, "charge", "usage", "withheld", D("-1000.00")),
        (1, "tax", "tax", "withheld", D("-130.00")),
        (1, "fee", "management_fee", "withheld", D("-35.00")),
    ]
    assert totals(statement.lines)["total"] == D("0.00")
    assert statement.lines[3].source_events == (str(disputed.event_id),)
    row = books.reconciliations()[INVOICE]
    assert (row.lines[0].disputed, row.lines[0].causes) == (True, ("disputed",))
    assert (row.rebilled, row.fee, row.difference, row.reconciled) == (D("0.00"), D("0.00"), D("1130.00"), False)


def test_given_october_closed_when_an_october_line_is_disputed_then_it_is_withheld_as_a_correction_in_november():
    # Given
    books = Books()
    books.invoice(receive(line()))
    books.close("2026-10", date(2026, 11, 6))
    october = books.statements()["ESDC|2026-10"]
    # When
    disputed = books.invoice(dispute(1))
    # Then October is frozen; November corrects it
    assert chargeback.keys(disputed) == ("ESDC|2026-11",)
    statements = books.statements()
    assert statements["ESDC|2026-10"] == october
    assert [
        (x.category, x.corrects, x.action, x.charge_period, x.amount) for x in statements["ESDC|2026-11"].lines
    ] == [
        ("correction", "usage", "withheld", "2026-10", D("-1000.00")),
        ("correction", "tax", "withheld", "2026-10", D("-130.00")),
        ("correction", "management_fee", "withheld", "2026-10", D("-35.00")),
    ]


def test_given_a_disputed_line_when_the_dispute_is_withdrawn_then_it_is_rebilled_and_the_cause_cleared():
    # Given
    books = Books()
    books.invoice(receive(line()))
    books.invoice(dispute(1))
    # When
    withdrawn = books.invoice(resolve(1, "withdrawn"))
    # Then
    assert chargeback.keys(withdrawn) == ("ESDC|2026-10",)
    statement = books.statements()["ESDC|2026-10"]
    assert parts(statement)[-3:] == [
        (1, "charge", "usage", "rebilled", D("1000.00")),
        (1, "tax", "tax", "rebilled", D("130.00")),
        (1, "fee", "management_fee", "rebilled", D("35.00")),
    ]
    assert nonzero(statement) == {
        "usage": D("1000.00"),
        "tax": D("130.00"),
        "management_fee": D("35.00"),
        "total": D("1165.00"),
    }
    row = books.reconciliations()[INVOICE]
    assert (row.lines[0].disputed, row.lines[0].causes) == (False, ())
    assert (row.rebilled, row.fee, row.difference, row.reconciled) == (D("1130.00"), D("35.00"), D("0.00"), True)


def test_given_a_disputed_line_when_the_dispute_is_upheld_then_nothing_is_rebilled():
    # Given
    books = Books()
    books.invoice(receive(line()))
    books.invoice(dispute(1))
    before = books.statements()
    # When
    upheld = books.invoice(resolve(1, "upheld"))
    # Then
    assert chargeback.keys(upheld) == ()
    assert books.statements() == before
    row = books.reconciliations()[INVOICE]
    assert (row.lines[0].disputed, row.lines[0].upheld, row.lines[0].causes) == (False, True, ("dispute_upheld",))
    assert (row.rebilled, row.difference, row.reconciled) == (D("0.00"), D("1130.00"), False)


def test_given_an_unassigned_line_when_disputed_then_no_statement_changes():
    books = Books()
    books.invoice(receive(line(None)))
    disputed = books.invoice(dispute(1))
    assert chargeback.keys(disputed) == ()
    assert books.reconciliations()[INVOICE].lines[0].causes == ("unassigned_line", "disputed")


# ---------------------------------------------------------------- correction lines


def test_given_october_closed_when_a_late_october_invoice_arrives_then_its_lines_correct_october_in_november():
    # Given
    books = Books()
    books.close("2026-10", date(2026, 11, 1))
    # When
    received = books.invoice(receive(line()))
    # Then
    assert chargeback.keys(received) == ("ESDC|2026-11",)
    statement = books.statements()["ESDC|2026-11"]
    assert (statement.period, statement.fiscal_year) == ("2026-11", 2026)
    assert [(x.item, x.category, x.corrects, x.charge_period, x.amount) for x in statement.lines] == [
        ("charge", "correction", "usage", "2026-10", D("1000.00")),
        ("tax", "correction", "tax", "2026-10", D("130.00")),
        ("fee", "correction", "management_fee", "2026-10", D("35.00")),
    ]
    assert nonzero(statement) == {"correction": D("1165.00"), "total": D("1165.00")}


def test_given_october_and_november_closed_when_a_late_october_invoice_arrives_then_it_lands_in_december():
    books = Books()
    books.close("2026-10", date(2026, 11, 1))
    books.close("2026-11", date(2026, 12, 1))
    received = books.invoice(receive(line(), issued_on=date(2026, 12, 3)))
    assert chargeback.keys(received) == ("ESDC|2026-12",)
    assert {x.charge_period for x in books.statements()["ESDC|2026-12"].lines} == {"2026-10"}


def test_given_december_closed_when_a_late_december_invoice_arrives_then_it_lands_in_january_of_the_next_year():
    books = Books()
    books.close("2026-12", date(2027, 1, 4))
    received = books.invoice(receive(line(charge_period="2026-12"), issued_on=date(2027, 1, 8)))
    assert chargeback.keys(received) == ("ESDC|2027-01",)
    statement = books.statements()["ESDC|2027-01"]
    assert (statement.fiscal_year, {x.category for x in statement.lines}) == (2026, {"correction"})


# ---------------------------------------------------------------- credits


def test_given_a_late_delivery_rebate_when_credited_then_the_statement_has_negative_credit_tax_and_fee_lines():
    # Given a rebate of 123.45 for ESDC on an Ontario order, justified by the rebate event 42
    books = Books()
    recorded = books.credit(
        CreditDue(
            credit_id="CR-0001",
            kind="late_delivery_rebate",
            client_org="ESDC",
            tax_status="federal",
            reference="ORD-2026-000123",
            order_id="ORD-2026-000123",
            contract_id="NMSO-2026-042",
            supplier="Northern Micro",
            province="ON",
            amount=D("123.45"),
            reason="delivered 12 working days late",
            granted_on=date(2026, 11, 20),
            charge_period="2026-11",
            fee_rate=FEE_RATE,
            based_on=(UUID(int=42),),
        )
    )
    # When
    assert (chargeback.keys(recorded), reconciliation.keys(recorded)) == (("ESDC|2026-11",), ())
    statement = books.statements()["ESDC|2026-11"]
    # Then HST 13 % of 123.45 = 16.0485 -> 16.05; fee 3.5 % of 123.45 = 4.32075 -> 4.32
    assert [(x.item, x.category, x.action, x.tax_component, x.amount) for x in statement.lines] == [
        ("credit", "credit", "credited", None, D("-123.45")),
        ("tax", "tax", "credited", "HST", D("-16.05")),
        ("fee", "management_fee", "credited", None, D("-4.32")),
    ]
    credit_line: ChargebackLine = statement.lines[0]
    assert (credit_line.credit_id, credit_line.order_id, credit_line.reference) == (
        "CR-0001",
        "ORD-2026-000123",
        "ORD-2026-000123",
    )
    assert all(x.source_events == (str(recorded.event_id), str(UUID(int=42))) for x in statement.lines)
    assert statement.applied == {"credit-CR-0001": 1}
    assert nonzero(statement) == {
        "credit": D("-123.45"),
        "tax": D("-16.05"),
        "management_fee": D("-4.32"),
        "total": D("-143.82"),
    }


# ---------------------------------------------------------------- reconciliation of stated taxes


@pytest.mark.parametrize(
    ("org", "province", "stated", "tax", "causes", "difference"),
    [
        ("ESDC", "ON", "130.00", "130.00", (), "0.00"),
        ("ESDC", "ON", "130.01", "130.00", ("rounding",), "0.01"),
        ("ESDC", "ON", "129.99", "130.00", ("rounding",), "-0.01"),
        ("ESDC", "ON", "135.00", "130.00", ("tax_difference",), "5.00"),
        ("ESDC", "ON", "130.02", "130.00", ("tax_difference",), "0.02"),  # one component: a cent at most
        ("CBC", "QC", "149.77", "149.75", ("rounding",), "0.02"),  # GST 50.00 + QST 99.75: two components, two cents
        ("CBC", "QC", "149.78", "149.75", ("tax_difference",), "0.03"),
    ],
)
def test_given_supplier_stated_taxes_when_reconciled_then_the_difference_is_rounding_or_a_tax_difference(
    org, province, stated, tax, causes, difference
):
    # Given a 1,000.00 line and the taxes the supplier states
    books = Books()
    books.invoice(receive(line(org, province, taxes=stated)))
    # When
    row = books.reconciliations()[INVOICE]
    # Then
    [reconciled] = row.lines
    assert reconciled.causes == causes
    assert (reconciled.invoiced, reconciled.rebilled) == (D("1000.00") + D(stated), D("1000.00") + D(tax))
    assert row.difference == D(difference) == row.invoiced - row.rebilled
    assert row.reconciled is (causes == ())


def test_given_a_reconciled_invoice_when_projected_then_it_names_the_invoice_and_its_figures():
    # Given
    books = Books()
    books.invoice(receive(line(taxes="130.00"), line("CBC", "QC", amount="200.00")))
    # When
    row = books.reconciliations()[INVOICE]
    # Then 1,130.00 + 229.95 invoiced and re-billed; fees 35.00 + 7.00
    assert (row.invoice_id, row.invoice_number, row.supplier, row.contract_id) == (
        INVOICE,
        "INV-1001",
        SUPPLIER,
        "CLOUD-2025-017",
    )
    assert (row.issued_on, row.issued_period, row.contract_known) == (date(2026, 11, 5), "2026-11", True)
    assert (row.invoiced, row.rebilled, row.fee, row.difference) == (D("1359.95"), D("1359.95"), D("42.00"), D("0.00"))
    assert row.reconciled is True
    assert reconciliation.exceptions(row) == []


def test_given_an_unknown_contract_when_an_invoice_is_reconciled_then_it_is_not_reconciled():
    books = Books(contract_known=False)
    books.invoice(receive(line()))
    row = books.reconciliations()[INVOICE]
    assert (row.contract_known, row.fee, row.difference, row.reconciled) == (False, D("0.00"), D("0.00"), False)
    assert reconciliation.exceptions(row) == [{"line_no": None, "causes": ["unknown_contract"], "difference": "0.00"}]


def test_given_a_reconciliation_when_an_applied_event_is_delivered_again_then_it_does_not_change():
    books = Books()
    received = books.invoice(receive(line()))
    disputed = books.invoice(dispute(1))
    row = books.reconciliations()[INVOICE]
    assert reconciliation.project(reconciliation.project(row, received, INVOICE), disputed, INVOICE) == row
