"""Price an order: net, environmental handling fees and taxes per line and delivery location."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from events.kernel.money import ZERO, cents
from events.kernel.rates import RateBook, TaxStatus
from events.orders.facts import DeliveryLocation, OrderLine, OrderPricing, OrderTotals, PricedLine


def price_order(
    lines: Sequence[OrderLine],
    locations: Sequence[DeliveryLocation],
    tax_status: TaxStatus,
    tax_date: date,
    rates: RateBook,
) -> OrderPricing:
    """Every (line, location) pair is one priced line, rounded half-up to the cent.

    EHF is charged per unit by the delivery province; sales tax applies on net + EHF, at the
    rates in force on `tax_date` for the client's tax status.
    """
    priced: list[PricedLine] = []
    for index, location in enumerate(locations):
        province = location.province
        taxes_due = rates.tax_rates(province, tax_status, tax_date)
        for line in lines:
            quantity = location.quantities.get(line.sku, 0)
            if quantity == 0:
                continue
            net = cents(line.unit_price * quantity)
            ehf = cents(rates.handling_fee(province, line.category, tax_date) * quantity)
            taxes = {name: cents((net + ehf) * rate) for name, rate in sorted(taxes_due.items())}
            priced.append(
                PricedLine(
                    sku=line.sku,
                    location=index,
                    quantity=quantity,
                    unit_price=line.unit_price,
                    net=net,
                    ehf=ehf,
                    taxes=taxes,
                    tax=sum(taxes.values(), ZERO),
                    standing_offer_item=line.standing_offer_item,
                )
            )
    return OrderPricing(tax_date=tax_date, lines=tuple(priced), totals=_totals(priced))


def _totals(priced: Sequence[PricedLine]) -> OrderTotals:
    net = sum((p.net for p in priced), ZERO)
    ehf = sum((p.ehf for p in priced), ZERO)
    tax = sum((p.tax for p in priced), ZERO)
    non_nmso = sum((p.net + p.ehf + p.tax for p in priced if not p.standing_offer_item), ZERO)
    return OrderTotals(
        net=net,
        ehf=ehf,
        tax=tax,
        total=net + ehf + tax,
        commitment_basis=net + ehf,
        non_standing_offer_total=non_nmso,
    )


def reprice_line(lines: Sequence[OrderLine], sku: str, unit_price: Decimal) -> tuple[OrderLine, ...]:
    """The order's lines with one line's unit price set (the procurement officer's pricing)."""
    return tuple(line.model_copy(update={"unit_price": unit_price}) if line.sku == sku else line for line in lines)
