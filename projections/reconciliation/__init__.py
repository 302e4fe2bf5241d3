"""Invoice reconciliation: for each supplier invoice, what it bills vs what was re-billed, and why they differ.

Amounts re-billed are counted before the management fee: an invoice is reconciled when the lines
re-billed to organisations add up to what the supplier invoiced. Every difference is listed with
its cause, so a finance team knows what to chase.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from events.billing.decider import rebill_as_received
from events.billing.facts import (
    DisputeResolved,
    InvoiceLineAssigned,
    InvoiceLineDisputed,
    LineRebill,
    PricedInvoiceLine,
    SupplierInvoiceReceived,
    invoice_id,
)
from events.kernel.money import CENT, ZERO, Money
from events.ledger import RecordedEvent
from events.ledger.catalogue import decode_invoice_event
from projections import Projection

Cause = Literal["unassigned_line", "unknown_organisation", "disputed", "dispute_upheld", "rounding", "tax_difference"]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReconciledLine(_Part):
    line_no: int
    client_org: str | None  # as the supplier wrote it
    billed_to: str | None  # who is re-billed (after an assignment, the assigned organisation)
    reference: str
    charge_period: str
    base: Money  # amount + shipping + EHF
    stated_taxes: Money | None
    tax: Money  # the taxes as the ledger computes them for whoever is billed
    tax_components: int
    invoiced: Money  # base + the taxes the supplier states (or the ledger's if none stated)
    rebilled: Money  # what organisations are charged for it, before the management fee
    fee: Money
    disputed: bool = False
    upheld: bool = False
    causes: tuple[Cause, ...] = ()


class InvoiceReconciliation(_Part):
    invoice_id: str
    invoice_number: str
    supplier: str
    contract_id: str
    contract_known: bool
    issued_on: date
    issued_period: str
    lines: tuple[ReconciledLine, ...]
    invoiced: Money
    rebilled: Money
    fee: Money
    difference: Money  # invoiced - re-billed
    reconciled: bool
    source_events: tuple[str, ...]
    stream_version: int
    position: int


def keys(recorded: RecordedEvent) -> tuple[str, ...]:
    return (recorded.stream_id.removeprefix("invoice-"),) if recorded.stream_type == "invoice" else ()


def project(row: InvoiceReconciliation | None, recorded: RecordedEvent, key: str) -> InvoiceReconciliation | None:
    if row is not None and recorded.stream_version <= row.stream_version:
        return row  # already applied: redelivery changes nothing
    event = decode_invoice_event(recorded.data)
    if isinstance(event, SupplierInvoiceReceived):
        lines = tuple(_received(event, line) for line in event.lines)
        return _summed(
            InvoiceReconciliation(
                invoice_id=invoice_id(event.supplier, event.invoice_number),
                invoice_number=event.invoice_number,
                supplier=event.supplier,
                contract_id=event.contract_id,
                contract_known=event.contract_known,
                issued_on=event.issued_on,
                issued_period=event.issued_on.strftime("%Y-%m"),
                lines=lines,
                invoiced=ZERO,
                rebilled=ZERO,
                fee=ZERO,
                difference=ZERO,
                reconciled=False,
                source_events=(),
                stream_version=0,
                position=0,
            ),
            recorded,
        )
    if row is None:
        return None
    line = row.lines[event.line_no - 1]
    match event:
        case InvoiceLineDisputed():
            line = line.model_copy(update={"disputed": True})
            if event.withheld:
                line = _add(line, event.withheld, -1)
        case DisputeResolved():
            line = line.model_copy(update={"disputed": False, "upheld": event.resolution == "upheld"})
            if event.rebilled:
                line = _add(line, event.rebilled, 1)
        case InvoiceLineAssigned():
            # The taxes are now those of the organisation billed (its tax status may differ from the guess).
            assigned = {
                "billed_to": event.client_org,
                "tax": event.rebill.tax,
                "tax_components": len(event.rebill.taxes),
            }
            line = _add(line.model_copy(update=assigned), event.rebill, 1)
    lines = tuple(_with_causes(line) if n == event.line_no else old for n, old in enumerate(row.lines, 1))
    return _summed(row.model_copy(update={"lines": lines}), recorded)


def _received(event: SupplierInvoiceReceived, line: PricedInvoiceLine) -> ReconciledLine:
    rebill = rebill_as_received(event, line)
    reconciled = ReconciledLine(
        line_no=line.line_no,
        client_org=line.client_org,
        billed_to=rebill.client_org if rebill else None,
        reference=line.reference,
        charge_period=line.billed.charge_period,
        base=line.amount + line.shipping + line.ehf,
        stated_taxes=line.stated_taxes,
        tax=line.tax,
        tax_components=len(line.taxes),
        invoiced=ZERO,
        rebilled=line.amount + line.shipping + line.ehf + line.tax if rebill else ZERO,
        fee=line.fee if rebill else ZERO,
    )
    return _with_causes(reconciled)


def _add(line: ReconciledLine, rebill: LineRebill, sign: int) -> ReconciledLine:
    billed = rebill.amount + rebill.shipping + rebill.ehf + rebill.tax
    return line.model_copy(update={"rebilled": line.rebilled + sign * billed, "fee": line.fee + sign * rebill.fee})


def _with_causes(line: ReconciledLine) -> ReconciledLine:
    """The line's invoiced amount and the causes of any difference, from what is known of it now."""
    invoiced = line.base + (line.stated_taxes if line.stated_taxes is not None else line.tax)
    causes: list[Cause] = []
    if line.stated_taxes is not None and line.stated_taxes != line.tax:
        # A cent per tax component is what rounding each component separately can account for.
        tolerance = CENT * max(1, line.tax_components)
        causes.append("rounding" if abs(line.stated_taxes - line.tax) <= tolerance else "tax_difference")
    if line.billed_to is None:
        causes.append("unassigned_line" if line.client_org is None else "unknown_organisation")
    if line.disputed:
        causes.append("disputed")
    if line.upheld:
        causes.append("dispute_upheld")
    return line.model_copy(update={"invoiced": invoiced, "causes": tuple(causes)})


def _summed(row: InvoiceReconciliation, recorded: RecordedEvent) -> InvoiceReconciliation:
    invoiced = sum((line.invoiced for line in row.lines), ZERO)
    rebilled = sum((line.rebilled for line in row.lines), ZERO)
    return row.model_copy(
        update={
            "invoiced": invoiced,
            "rebilled": rebilled,
            "fee": sum((line.fee for line in row.lines), ZERO),
            "difference": invoiced - rebilled,
            "reconciled": row.contract_known and invoiced == rebilled and not any(line.causes for line in row.lines),
            "source_events": (*row.source_events, str(recorded.event_id)),
            "stream_version": recorded.stream_version,
            "position": recorded.position,
        }
    )


def exceptions(row: InvoiceReconciliation) -> list[dict[str, Any]]:
    """Every line that keeps the invoice from reconciling, with its causes and the amount at stake."""
    found: list[dict[str, Any]] = []
    if not row.contract_known:
        found.append({"line_no": None, "causes": ["unknown_contract"], "difference": "0.00"})
    for line in row.lines:
        if line.causes or line.invoiced != line.rebilled:
            found.append(
                {
                    "line_no": line.line_no,
                    "client_org": line.client_org,
                    "causes": list(line.causes),
                    "invoiced": format(line.invoiced, "f"),
                    "rebilled": format(line.rebilled, "f"),
                    "difference": format(line.invoiced - line.rebilled, "f"),
                }
            )
    return found


def _index(row: InvoiceReconciliation) -> dict[str, Any]:
    return {"supplier": row.supplier, "issued_period": row.issued_period, "reconciled": 1 if row.reconciled else 0}


RECONCILIATION = Projection(
    name="reconciliation",
    version=1,
    row_model=InvoiceReconciliation,
    keys=keys,
    project=project,
    columns={"supplier": "TEXT", "issued_period": "TEXT", "reconciled": "INTEGER"},
    index=_index,
)
