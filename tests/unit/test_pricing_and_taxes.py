"""Pricing an order: EHF and sales taxes by delivery province, date and client tax status.

Domain, "Money and taxes": exact decimals rounded half-up to the cent at line level; tax rates
with effective dates (Nova Scotia HST 15 % -> 14 % on 2025-04-01); federal buyers pay GST/HST
but not QST/PST/RST; EHF is charged per unit by province and taxed. Rule 8: EHF and taxes
depend on each delivery location's province.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from events.kernel.rates import bundled_rate_book
from events.orders.commands import PlaceOrder
from events.orders.decider import decide
from events.orders.facts import DeliveryLocation, OrderLine, OrderPlaced, OrderPricing
from events.orders.pricing import price_order

RATES = bundled_rate_book()
EASTERN = ZoneInfo("America/Toronto")

HALIFAX = DeliveryLocation(province="NS", address="1505 Barrington St, Halifax")
GATINEAU = DeliveryLocation(province="QC", address="140 promenade du Portage, Gatineau")
OTTAWA = DeliveryLocation(province="ON", address="355 North River Rd, Ottawa")
REGINA = DeliveryLocation(province="SK", address="1783 Hamilton St, Regina")


# ---------------------------------------------------------------- builders


def a_line(**changes: Any) -> OrderLine:
    """One standing-offer laptop at 1,000.00."""
    fields: dict[str, Any] = {
        "sku": "LAT-5450",
        "description": "Notebook 14-inch",
        "category": "laptop",
        "standing_offer_item": True,
        "quantity": 1,
        "unit_price": "1000.00",
    }
    return OrderLine(**{**fields, **changes})


def place_order(**changes: Any) -> PlaceOrder:
    """A valid PlaceOrder: one laptop for a federal client in Gatineau, placed mid-June 2026."""
    fields: dict[str, Any] = {
        "order_id": "PO-2026-000456",
        "placed_at": datetime(2026, 6, 15, 10, 30, tzinfo=EASTERN),
        "client_org": "ESDC",
        "requester": "A. Tremblay",
        "standing_offer": "NMSO-E60PQ-140003/LAPTOP",
        "supplier": "Northern Micro Inc.",
        "processing": "broker",
        "financial_reference": "ESDC-FC1001-IO12345",
        "section32_amount": "100000.00",
        "lines": (a_line(),),
        "delivery_locations": (GATINEAU,),
    }
    return PlaceOrder(**{**fields, **changes})


def priced(command: PlaceOrder) -> OrderPricing:
    """The pricing carried by the OrderPlaced event the command produces."""
    (placed,) = decide(command, None, RATES)
    assert isinstance(placed, OrderPlaced)
    return placed.pricing


# ---------------------------------------------------------------- rates with effective dates


def test_given_nova_scotia_on_31_march_2025_when_placed_then_hst_is_15_percent():
    # Given a laptop to Halifax: 1,000.00 + EHF 1.25 = 1,001.25
    command = place_order(placed_at=datetime(2025, 3, 31, 16, 0, tzinfo=EASTERN), delivery_locations=(HALIFAX,))
    # When
    pricing = priced(command)
    # Then HST 15 % of 1,001.25 = 150.1875 -> 150.19
    (line,) = pricing.lines
    assert line.ehf == Decimal("1.25")
    assert line.taxes == {"HST": Decimal("150.19")}
    assert pricing.totals.total == Decimal("1151.44")


def test_given_nova_scotia_on_1_april_2025_when_placed_then_hst_is_14_percent():
    # Given
    command = place_order(placed_at=datetime(2025, 4, 1, 9, 0, tzinfo=EASTERN), delivery_locations=(HALIFAX,))
    # When
    pricing = priced(command)
    # Then HST 14 % of 1,001.25 = 140.175 -> 140.18
    assert pricing.tax_date == date(2025, 4, 1)
    assert pricing.lines[0].taxes == {"HST": Decimal("140.18")}
    assert pricing.totals.total == Decimal("1141.43")


def test_given_1_april_in_utc_but_31_march_in_ottawa_when_placed_then_old_hst_applies():
    # Given 02:00 UTC on 1 April 2025 is 22:00 on 31 March, Eastern time
    command = place_order(placed_at=datetime(2025, 4, 1, 2, 0, tzinfo=ZoneInfo("UTC")), delivery_locations=(HALIFAX,))
    # When
    pricing = priced(command)
    # Then
    assert pricing.tax_date == date(2025, 3, 31)
    assert pricing.lines[0].taxes == {"HST": Decimal("150.19")}


def test_given_the_rate_book_when_asked_for_nova_scotia_then_the_rate_changes_on_1_april():
    assert RATES.tax_rates("NS", "federal", date(2025, 3, 31)) == {"HST": Decimal("0.15")}
    assert RATES.tax_rates("NS", "federal", date(2025, 4, 1)) == {"HST": Decimal("0.14")}


# ---------------------------------------------------------------- tax status of the client


def test_given_a_federal_client_in_quebec_when_placed_then_only_gst_is_charged():
    # Given a laptop to Gatineau: 1,000.00 + EHF 0.70 = 1,000.70
    command = place_order(client_tax_status="federal")
    # When
    pricing = priced(command)
    # Then GST 5 % of 1,000.70 = 50.035 -> 50.04, and no QST
    (line,) = pricing.lines
    assert line.taxes == {"GST": Decimal("50.04")}
    assert line.tax == Decimal("50.04")
    assert pricing.totals.total == Decimal("1050.74")


def test_given_a_crown_corporation_in_quebec_when_placed_then_gst_and_qst_are_charged():
    # Given
    command = place_order(client_tax_status="crown_corporation")
    # When
    pricing = priced(command)
    # Then GST 50.04 and QST 9.975 % of 1,000.70 = 99.819825 -> 99.82, each on net + EHF
    (line,) = pricing.lines
    assert line.taxes == {"GST": Decimal("50.04"), "QST": Decimal("99.82")}
    assert line.tax == Decimal("149.86")
    assert pricing.totals.total == Decimal("1150.56")


def test_given_a_federal_and_an_other_client_in_saskatchewan_then_only_other_pays_pst():
    # Given the same display for two kinds of client in Regina
    display = a_line(sku="MON-P2425", category="display", unit_price="200.00")
    federal = place_order(lines=(display,), delivery_locations=(REGINA,))
    other = place_order(lines=(display,), delivery_locations=(REGINA,), client_tax_status="other")
    # When / Then: 200.00 + EHF 5.00 = 205.00; GST 10.25; PST 6 % = 12.30
    assert priced(federal).lines[0].taxes == {"GST": Decimal("10.25")}
    assert priced(other).lines[0].taxes == {"GST": Decimal("10.25"), "PST": Decimal("12.30")}


# ---------------------------------------------------------------- rounding half-up, per line


def test_given_a_net_ending_in_half_a_cent_when_priced_then_rounded_half_up():
    # Given a unit price to the tenth of a cent: 12.345, whose banker's rounding is 12.34
    command = place_order(lines=(a_line(unit_price="12.345"),), delivery_locations=(OTTAWA,))
    assert Decimal("12.345").quantize(Decimal("0.01"), ROUND_HALF_EVEN) == Decimal("12.34")
    # When
    pricing = priced(command)
    # Then
    assert pricing.lines[0].net == Decimal("12.35")


def test_given_a_tax_ending_in_half_a_cent_when_priced_then_rounded_half_up():
    # Given 100.50 to Ottawa (no EHF in ON): HST 13 % = 13.065, banker's rounding 13.06
    command = place_order(lines=(a_line(unit_price="100.50"),), delivery_locations=(OTTAWA,))
    # When
    pricing = priced(command)
    # Then
    assert pricing.lines[0].taxes == {"HST": Decimal("13.07")}
    assert pricing.totals.total == Decimal("113.57")


def test_given_two_lines_with_half_cent_taxes_when_priced_then_each_line_is_rounded():
    # Given two SKUs at 100.50 to Ottawa: each HST 13.065 -> 13.07
    lines = (
        a_line(sku="LAT-5450", unit_price="100.50"),
        a_line(sku="LAT-7450", unit_price="100.50"),
    )
    command = place_order(lines=lines, delivery_locations=(OTTAWA,))
    # When
    pricing = priced(command)
    # Then the tax is the sum of rounded lines (26.14), not 13 % of 201.00 rounded (26.13)
    assert [line.tax for line in pricing.lines] == [Decimal("13.07"), Decimal("13.07")]
    assert pricing.totals.tax == Decimal("26.14")


# ---------------------------------------------------------------- environmental handling fees


def test_given_displays_to_saskatchewan_when_placed_then_ehf_is_per_unit_and_taxed():
    # Given 3 displays at 200.00 to Regina: EHF 5.00 a unit
    display = a_line(sku="MON-P2425", category="display", quantity=3, unit_price="200.00")
    command = place_order(lines=(display,), delivery_locations=(REGINA,))
    # When
    pricing = priced(command)
    # Then GST 5 % on 600.00 + 15.00 = 615.00 is 30.75 (30.00 if the fee were untaxed)
    (line,) = pricing.lines
    assert (line.net, line.ehf, line.tax) == (Decimal("600.00"), Decimal("15.00"), Decimal("30.75"))
    assert pricing.totals.commitment_basis == Decimal("615.00")
    assert pricing.totals.total == Decimal("645.75")


def test_given_a_delivery_in_ontario_when_placed_then_no_ehf_is_charged():
    # Given Ontario has no visible EHF since 2021
    command = place_order(delivery_locations=(OTTAWA,))
    # When
    pricing = priced(command)
    # Then
    assert pricing.lines[0].ehf == Decimal("0.00")
    assert pricing.totals.total == Decimal("1130.00")


def test_given_two_locations_when_priced_then_each_location_uses_its_province():
    # Given one laptop to Halifax and one to Gatineau, priced directly on 2026-06-15
    lines = (a_line(quantity=2),)
    locations = (
        HALIFAX.model_copy(update={"quantities": {"LAT-5450": 1}}),
        GATINEAU.model_copy(update={"quantities": {"LAT-5450": 1}}),
    )
    # When
    pricing = price_order(lines, locations, "federal", date(2026, 6, 15), RATES)
    # Then
    halifax, gatineau = pricing.lines
    assert (halifax.ehf, halifax.taxes) == (Decimal("1.25"), {"HST": Decimal("140.18")})
    assert (gatineau.ehf, gatineau.taxes) == (Decimal("0.70"), {"GST": Decimal("50.04")})
    assert pricing.totals.ehf == Decimal("1.95")
    assert pricing.totals.total == Decimal("2192.17")
