"""Chargeback statements: per organisation and billing month, every line with the events it comes from.

A statement row is keyed `ORG|YYYY-MM` (the billing period the ledger decided for each fact). Facts
for a closed month were given the next open month when they were recorded, so a closed month's row
never changes again: late facts land in a later statement as correction lines pointing back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from events.billing.decider import rebill_as_received
from events.billing.facts import (
    BilledIn,
    CreditGranted,
    DisputeResolved,
    InvoiceLineAssigned,
    InvoiceLineDisputed,
    LineRebill,
    SupplierInvoiceReceived,
    invoice_id,
)
from events.kernel.money import ZERO, Money
from events.ledger import RecordedEvent
from events.ledger.catalogue import decode
from projections import Projection

Category = Literal["usage", "purchase", "management_fee", "ehf", "tax", "credit", "correction"]
CATEGORIES: tuple[Category, ...] = ("usage", "purchase", "ehf", "tax", "management_fee", "credit", "correction")
# What a line is (item) and why it is there (action): the statement page words them in either language.
Item = Literal["charge", "shipping", "ehf", "tax", "fee", "credit"]
Action = Literal["billed", "withheld", "rebilled", "credited"]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ChargebackLine(_Part):
    line_id: str  # "<event id>/<part>": stable, so a line is found again from any export
    position: int  # the ledger position of the event it comes from
    category: Category
    corrects: Category | None = None  # on a correction line: the category it corrects
    item: Item
    action: Action
    amount: Money
    charge_period: str  # the month the charge is for (on a correction: the closed month it corrects)
    reference: str
    order_id: str | None = None
    contract_id: str | None = None
    supplier: str
    invoice_id: str | None = None
    invoice_number: str | None = None
    invoice_line: int | None = None
    credit_id: str | None = None
    province: str | None = None
    tax_component: str | None = None
    fee_rate: Decimal | None = None
    source_events: tuple[str, ...]


class Statement(_Part):
    organisation: str
    period: str
    fiscal_year: int
    lines: tuple[ChargebackLine, ...] = ()
    applied: dict[str, int] = {}  # source stream -> last version applied here (redelivery changes nothing)
    position: int = 0


def fiscal_year(period: str) -> int:
    """The federal fiscal year a month belongs to, named by the year it starts in (April to March)."""
    year, month = (int(part) for part in period.split("-"))
    return year if month >= 4 else year - 1


def statement_key(organisation: str, period: str) -> str:
    return f"{organisation}|{period}"


def totals(lines: tuple[ChargebackLine, ...]) -> dict[str, Decimal]:
    """The amount per category, every category present (zero if none), and the overall total."""
    by_category: dict[str, Decimal] = {category: ZERO for category in CATEGORIES}
    for line in lines:
        by_category[line.category] += line.amount
    return {**by_category, "total": sum(by_category.values(), ZERO)}


# ---------------------------------------------------------------- which statements an event touches


def _billed_to(event: Any) -> list[tuple[str, BilledIn]]:
    match event:
        case SupplierInvoiceReceived():
            return [
                (rebill.client_org, line.billed)
                for line in event.lines
                if (rebill := rebill_as_received(event, line)) is not None
            ]
        case InvoiceLineDisputed(withheld=LineRebill() as rebill) | DisputeResolved(rebilled=LineRebill() as rebill):
            return [(rebill.client_org, event.billed)]
        case InvoiceLineAssigned():
            return [(event.rebill.client_org, event.billed)]
        case CreditGranted():
            return [(event.client_org, event.billed)]
    return []


def keys(recorded: RecordedEvent) -> tuple[str, ...]:
    if recorded.stream_type not in ("invoice", "credit"):
        return ()
    found = {statement_key(org, billed.billing_period) for org, billed in _billed_to(decode(recorded))}
    return tuple(sorted(found))


# ---------------------------------------------------------------- the lines an event adds


def project(row: Statement | None, recorded: RecordedEvent, key: str) -> Statement | None:
    organisation, period = key.split("|")
    statement = row or Statement(organisation=organisation, period=period, fiscal_year=fiscal_year(period))
    if statement.applied.get(recorded.stream_id, 0) >= recorded.stream_version:
        return statement  # already applied: redelivery changes nothing
    event = decode(recorded)
    added: list[ChargebackLine] = []
    match event:
        case SupplierInvoiceReceived():
            for line in event.lines:
                rebill = rebill_as_received(event, line)
                if rebill and statement_key(rebill.client_org, line.billed.billing_period) == key:
                    added += _rebill_lines(rebill, line.billed, recorded, "billed", 1, f"{line.line_no}/")
        case InvoiceLineDisputed(withheld=LineRebill() as rebill):
            added += _rebill_lines(rebill, event.billed, recorded, "withheld", -1, "")
        case DisputeResolved(rebilled=LineRebill() as rebill):
            added += _rebill_lines(rebill, event.billed, recorded, "rebilled", 1, "")
        case InvoiceLineAssigned():
            added += _rebill_lines(event.rebill, event.billed, recorded, "billed", 1, "")
        case CreditGranted():
            added += _credit_lines(event, recorded)
    return statement.model_copy(
        update={
            "lines": tuple(sorted((*statement.lines, *added), key=_statement_order)),
            "applied": {**statement.applied, recorded.stream_id: recorded.stream_version},
            "position": max(statement.position, recorded.position),
        }
    )


_ITEM_ORDER: tuple[Item, ...] = ("charge", "credit", "shipping", "ehf", "tax", "fee")


def _statement_order(line: ChargebackLine) -> tuple[int, int, int, str]:
    """In ledger order; within an invoice, line by line: the charge, shipping, EHF, taxes, then the fee."""
    return (line.position, line.invoice_line or 0, _ITEM_ORDER.index(line.item), line.line_id)


def _line(
    billed: BilledIn, recorded: RecordedEvent, part: str, category: Category, **fields: Any
) -> ChargebackLine | None:
    if fields["amount"] == ZERO:
        return None
    correction = billed.correction
    return ChargebackLine(
        line_id=f"{recorded.event_id}/{part}",
        position=recorded.position,
        category="correction" if correction else category,
        corrects=category if correction else None,
        charge_period=billed.charge_period,
        **fields,
    )


def _rebill_lines(
    rebill: LineRebill, billed: BilledIn, recorded: RecordedEvent, action: Action, sign: int, prefix: str
) -> list[ChargebackLine]:
    common: dict[str, Any] = {
        "action": action,
        "reference": rebill.reference,
        "order_id": rebill.order_id,
        "contract_id": rebill.contract_id,
        "supplier": rebill.supplier,
        "invoice_id": invoice_id(rebill.supplier, rebill.invoice_number),
        "invoice_number": rebill.invoice_number,
        "invoice_line": rebill.line_no,
        "province": rebill.province,
        "source_events": (str(recorded.event_id),),
    }
    parts = [
        _line(billed, recorded, f"{prefix}charge", rebill.kind, item="charge", amount=sign * rebill.amount, **common),
        _line(
            billed, recorded, f"{prefix}shipping", rebill.kind, item="shipping", amount=sign * rebill.shipping, **common
        ),
        _line(billed, recorded, f"{prefix}ehf", "ehf", item="ehf", amount=sign * rebill.ehf, **common),
        *(
            _line(
                billed,
                recorded,
                f"{prefix}tax-{name}",
                "tax",
                item="tax",
                amount=sign * amount,
                tax_component=name,
                **common,
            )
            for name, amount in sorted(rebill.taxes.items())
        ),
        _line(
            billed,
            recorded,
            f"{prefix}fee",
            "management_fee",
            item="fee",
            amount=sign * rebill.fee,
            fee_rate=rebill.fee_rate,
            **common,
        ),
    ]
    return [line for line in parts if line is not None]


def _credit_lines(credit: CreditGranted, recorded: RecordedEvent) -> list[ChargebackLine]:
    common: dict[str, Any] = {
        "action": "credited",
        "reference": credit.reference,
        "order_id": credit.order_id,
        "contract_id": credit.contract_id,
        "supplier": credit.supplier,
        "credit_id": credit.credit_id,
        "province": credit.province,
        "source_events": (str(recorded.event_id), *(str(e) for e in credit.based_on)),
    }
    parts = [
        _line(credit.billed, recorded, "credit", "credit", item="credit", amount=-credit.amount, **common),
        *(
            _line(
                credit.billed, recorded, f"tax-{name}", "tax", item="tax", amount=-amount, tax_component=name, **common
            )
            for name, amount in sorted(credit.taxes.items())
        ),
        _line(
            credit.billed,
            recorded,
            "fee",
            "management_fee",
            item="fee",
            amount=-credit.fee,
            fee_rate=credit.fee_rate,
            **common,
        ),
    ]
    return [line for line in parts if line is not None]


def _index(row: Statement) -> dict[str, Any]:
    return {"organisation": row.organisation, "period": row.period, "fiscal_year": row.fiscal_year}


CHARGEBACK = Projection(
    name="chargeback",
    version=1,
    row_model=Statement,
    keys=keys,
    project=project,
    columns={"organisation": "TEXT", "period": "TEXT", "fiscal_year": "INTEGER"},
    index=_index,
)
