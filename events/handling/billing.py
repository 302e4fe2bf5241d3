"""Carry out billing commands: organisations, supplier invoices, disputes and the billing calendar.

Every command that re-bills something reads the billing calendar and appends on condition that it
did not move: a month closed while an invoice was being priced makes the invoice be decided again,
so no charge ever lands in a month that was closed before it committed.
"""

from __future__ import annotations

from events.billing.commands import (
    AssignInvoiceLine,
    InvoiceCommand,
    PeriodCommand,
    ReceiveSupplierInvoice,
    RegisterOrganisation,
)
from events.billing.decider import (
    ORDER_NUMBER,
    Invoice,
    InvoiceContext,
    decide_invoice,
    decide_organisation,
    decide_period,
    fold_invoice,
)
from events.billing.facts import BILLING_PERIODS_STREAM, invoice_id
from events.handling.desk import CommandContext, CommandResult, Desk, Plan, organisation_stream
from events.kernel.business_dates import check_dates
from events.kernel.errors import CommandRejected
from events.kernel.money import ZERO
from events.kernel.rates import TaxStatus
from events.ledger import NO_STREAM
from events.ledger.catalogue import decode_invoice_event

INVOICE_STREAM_PREFIX = "invoice-"


def invoice_stream(invoice: str) -> str:
    return f"{INVOICE_STREAM_PREFIX}{invoice}"


class BillingDesk:
    """Billing commands, carried out through the same desk (idempotency, conflicts, batches) as orders."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.ledger = desk.ledger

    def register_organisation(self, command: RegisterOrganisation, context: CommandContext) -> CommandResult:
        check_dates(command, context.now)

        def plan() -> Plan:
            known = self.desk.load_organisation(command.code) is not None
            events = decide_organisation(command, known)
            return Plan([(organisation_stream(command.code), "organisation", NO_STREAM, list(events))])

        return self.desk.run(plan, context)

    def tax_statuses(self, codes: set[str]) -> dict[str, TaxStatus]:
        """The registered organisations among `codes`, with their tax status."""
        found = {code: self.desk.load_organisation(code) for code in sorted(codes)}
        return {code: org.tax_status for code, org in found.items() if org is not None}

    def load_invoice(self, invoice: str) -> tuple[Invoice | None, int]:
        recorded = self.ledger.read_stream(invoice_stream(invoice))
        state = fold_invoice(decode_invoice_event(r.data) for r in recorded)
        return state, recorded[-1].stream_version if recorded else NO_STREAM

    def receive_invoice(self, command: ReceiveSupplierInvoice, context: CommandContext) -> CommandResult:
        check_dates(command, context.now)
        stream = invoice_stream(invoice_id(command.supplier, command.invoice_number))

        def plan() -> Plan:
            calendar, calendar_version = self.desk.load_calendar()
            invoice, version = self.load_invoice(stream.removeprefix(INVOICE_STREAM_PREFIX))
            contract, _ = self.desk.load_contract(command.contract_id)
            if contract is not None and contract.supplier != command.supplier:
                raise CommandRejected(
                    "contract_supplier_mismatch",
                    f"{command.contract_id} is with {contract.supplier}, the invoice from {command.supplier}",
                )
            numbers = {line.reference for line in command.lines if ORDER_NUMBER.match(line.reference)}
            orders = {number for number in numbers if self.ledger.read_stream(number)}
            invoice_context = InvoiceContext(
                rates=self.desk.rates,
                organisations=self.tax_statuses({line.client_org for line in command.lines if line.client_org}),
                calendar=calendar,
                contract_known=contract is not None,
                contract_kind=contract.kind if contract else None,
                fee_rate=contract.fee_rate if contract else ZERO,
                known_orders=orders,
            )
            events = decide_invoice(command, invoice, invoice_context)
            return Plan([(stream, "invoice", version, list(events))], [(BILLING_PERIODS_STREAM, calendar_version)])

        return self.desk.run(plan, context)

    def execute_invoice(self, invoice: str, command: InvoiceCommand, context: CommandContext) -> CommandResult:
        check_dates(command, context.now)

        def plan() -> Plan:
            calendar, calendar_version = self.desk.load_calendar()
            state, version = self.load_invoice(invoice)
            codes = {command.client_org} if isinstance(command, AssignInvoiceLine) else set()
            invoice_context = InvoiceContext(
                rates=self.desk.rates, organisations=self.tax_statuses(codes), calendar=calendar
            )
            events = decide_invoice(command, state, invoice_context)
            return Plan(
                [(invoice_stream(invoice), "invoice", version, list(events))],
                [(BILLING_PERIODS_STREAM, calendar_version)],
            )

        return self.desk.run(plan, context)

    def execute_period(self, command: PeriodCommand, context: CommandContext) -> CommandResult:
        check_dates(command, context.now)

        def plan() -> Plan:
            calendar, version = self.desk.load_calendar()
            return Plan([(BILLING_PERIODS_STREAM, "billing_period", version, list(decide_period(command, calendar)))])

        return self.desk.run(plan, context)
