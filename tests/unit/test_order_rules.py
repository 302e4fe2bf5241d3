"""The order decider against the order rules of /work/shared/domain.md (rules 2-11 and 15).

Each test reads Given / When / Then: the Given is an order folded from the events `decide`
produced for earlier commands, the When is one command, the Then is the events it produces
or the code of the CommandRejected it raises.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from events.kernel.errors import CommandRejected
from events.kernel.rates import bundled_rate_book
from events.orders.commands import (
    AmendSection32,
    ApplyLateDeliveryRebate,
    ApproveSecurityRisk,
    AwardCallUp,
    CancelOrder,
    CloseOrder,
    OrderCommand,
    PlaceOrder,
    PriceNonStandingOfferLine,
    RecordDelivery,
    RecordSecurityAssessment,
    ReviseDeliveryDate,
)
from events.orders.decider import Order, decide, evolve, fold
from events.orders.facts import (
    CallUpAwarded,
    DeliveredItem,
    DeliveryDateRevised,
    DeliveryLocation,
    DeliveryRecorded,
    LateDeliveryRebateApplied,
    NonStandingOfferLinePriced,
    OrderCancelled,
    OrderClosed,
    OrderEvent,
    OrderLine,
    OrderPlaced,
    Section32Amended,
    SecurityAssessmentRecorded,
    SecurityRiskApproved,
)

RATES = bundled_rate_book()
EASTERN = ZoneInfo("America/Toronto")

STANDING_OFFER = "NMSO-E60PQ-140003/LAPTOP"
SUPPLIER = "Northern Micro Inc."
GATINEAU = DeliveryLocation(province="QC", address="140 promenade du Portage, Gatineau")
OTTAWA = DeliveryLocation(province="ON", address="355 North River Rd, Ottawa")
HALIFAX = DeliveryLocation(province="NS", address="1505 Barrington St, Halifax")
EDMONTON = DeliveryLocation(province="AB", address="9700 Jasper Ave, Edmonton")

# The default order: 2 standing-offer laptops at 1,289.00 for a federal client, delivered to
# Gatineau (QC): net 2,578.00 + EHF 2 x 0.70 = 2,579.40, GST 5 % = 128.97, total 2,708.37.
DEFAULT_COMMITMENT_BASIS = Decimal("2579.40")
DEFAULT_TOTAL = Decimal("2708.37")


# ---------------------------------------------------------------- builders


def a_laptop(**changes: Any) -> OrderLine:
    """A standing-offer system: 2 laptops at 1,289.00."""
    fields: dict[str, Any] = {
        "sku": "LAT-5450",
        "description": "Notebook 14-inch",
        "category": "laptop",
        "standing_offer_item": True,
        "quantity": 2,
        "unit_price": "1289.00",
    }
    return OrderLine(**{**fields, **changes})


def a_non_standing_offer_upgrade(**changes: Any) -> OrderLine:
    """A non-NMSO memory upgrade, not priced yet (0.00)."""
    fields: dict[str, Any] = {
        "sku": "RAM-16GB",
        "description": "Memory upgrade 16 GB",
        "category": "upgrade",
        "standing_offer_item": False,
        "quantity": 1,
    }
    return OrderLine(**{**fields, **changes})


def place_order(**changes: Any) -> PlaceOrder:
    """A valid PlaceOrder: the default order above, delegated, placed mid-June 2026."""
    fields: dict[str, Any] = {
        "order_id": "PO-2026-000123",
        "placed_at": datetime(2026, 6, 15, 10, 30, tzinfo=EASTERN),
        "client_org": "ESDC",
        "requester": "A. Tremblay",
        "standing_offer": STANDING_OFFER,
        "supplier": SUPPLIER,
        "processing": "delegated",
        "financial_reference": "ESDC-FC1001-IO12345",
        "section32_amount": "100000.00",
        "lines": (a_laptop(),),
        "delivery_locations": (GATINEAU,),
    }
    return PlaceOrder(**{**fields, **changes})


def with_upgrade(**changes: Any) -> PlaceOrder:
    """The default order with a non-NMSO upgrade added to its laptops."""
    return place_order(lines=(a_laptop(), a_non_standing_offer_upgrade()), **changes)


def award(on: date = date(2026, 11, 23), **changes: Any) -> AwardCallUp:
    return AwardCallUp(contract_number="EW-2026-0042", awarded_on=on, **changes)


def price_upgrade(unit_price: str, on: date = date(2026, 6, 20)) -> PriceNonStandingOfferLine:
    return PriceNonStandingOfferLine(sku="RAM-16GB", unit_price=unit_price, priced_on=on)


def deliver(quantity: int, on: date, where: DeliveryLocation = GATINEAU) -> RecordDelivery:
    return RecordDelivery(
        delivered_on=on,
        province=where.province,
        address=where.address,
        quantities={"LAT-5450": quantity},
    )


def cancel(reason: str, on: date, by: str = "broker") -> CancelOrder:
    return CancelOrder(reason=reason, cancelled_on=on, requested_by=by)


def approve(authority: str) -> ApproveSecurityRisk:
    return ApproveSecurityRisk(authority=authority, approved_by="J. Security", approved_on=date(2026, 7, 2))


def history(*commands: OrderCommand) -> list[OrderEvent]:
    """The events `decide` produces for the commands, each decided on the order so far."""
    events: list[OrderEvent] = []
    for command in commands:
        events.extend(decide(command, fold(events), RATES))
    return events


def given(*commands: OrderCommand) -> Order:
    """The order after the commands, folded event by event with `evolve`."""
    order: Order | None = None
    for event in history(*commands):
        order = evolve(order, event)
    assert order is not None
    return order


def only_event(command: OrderCommand, order: Order | None) -> OrderEvent:
    events = decide(command, order, RATES)
    assert len(events) == 1
    return events[0]


def rejection(command: OrderCommand, order: Order | None) -> str:
    with pytest.raises(CommandRejected) as refused:
        decide(command, order, RATES)
    return refused.value.code


# ---------------------------------------------------------------- rule 2: order number


def test_rule2_given_no_order_when_placed_then_order_number_is_the_command_order_id():
    # Given no order yet / When
    placed = only_event(place_order(order_id="PO-2026-000777"), None)
    # Then
    assert isinstance(placed, OrderPlaced)
    assert placed.order_id == "PO-2026-000777"
    assert fold([placed]).order_id == "PO-2026-000777"


def test_rule2_given_a_placed_order_when_placed_again_then_rejected_order_exists():
    # Given
    order = given(place_order())
    # When / Then
    assert rejection(place_order(), order) == "order_exists"


def test_rule2_given_no_order_when_awarded_then_rejected_order_not_found():
    assert rejection(award(), None) == "order_not_found"


# ---------------------------------------------------------------- rule 3: one offer, one supplier


def test_rule3_given_a_line_of_another_standing_offer_when_placed_then_rejected_mixed():
    # Given
    line = a_laptop(standing_offer="NMSO-E60PQ-140004/DESKTOP")
    # When / Then
    assert rejection(place_order(lines=(line,)), None) == "mixed_standing_offers"


def test_rule3_given_a_line_of_another_supplier_when_placed_then_rejected_mixed_suppliers():
    # Given
    line = a_laptop(supplier="Other Reseller Ltd.")
    # When / Then
    assert rejection(place_order(lines=(line,)), None) == "mixed_suppliers"


def test_rule3_given_lines_naming_the_order_offer_and_supplier_when_placed_then_accepted():
    # Given
    line = a_laptop(standing_offer=STANDING_OFFER, supplier=SUPPLIER)
    # When
    placed = only_event(place_order(lines=(line,)), None)
    # Then
    assert isinstance(placed, OrderPlaced)
    assert (placed.standing_offer, placed.supplier) == (STANDING_OFFER, SUPPLIER)


# ---------------------------------------------------------------- rule 4: non-NMSO items


def test_rule4_given_a_non_standing_offer_laptop_when_placed_then_rejected_system():
    # Given a standing-offer laptop and a second, non-NMSO, laptop
    other_system = a_laptop(sku="LAT-OTHER", standing_offer_item=False, unit_price="0.00")
    # When / Then
    command = place_order(lines=(a_laptop(), other_system))
    assert rejection(command, None) == "non_standing_offer_system"


@pytest.mark.parametrize("category", ["desktop", "laptop", "tablet"])
def test_rule4_given_any_non_standing_offer_system_when_placed_then_rejected(category):
    # Given
    system = a_non_standing_offer_upgrade(sku="SYS-X", category=category)
    # When / Then
    command = place_order(lines=(a_laptop(), system))
    assert rejection(command, None) == "non_standing_offer_system"


def test_rule4_given_an_add_on_without_standing_offer_system_when_placed_then_rejected():
    # Given a standing-offer display (not a system) and a non-NMSO upgrade
    display = a_laptop(sku="MON-P2425", category="display", unit_price="229.00")
    # When / Then
    command = place_order(lines=(display, a_non_standing_offer_upgrade()))
    assert rejection(command, None) == "non_standing_offer_without_system"


def test_rule4_given_a_non_standing_offer_item_with_a_price_when_placed_then_rejected():
    # Given
    priced = a_non_standing_offer_upgrade(unit_price="150.00")
    # When / Then
    command = place_order(lines=(a_laptop(), priced))
    assert rejection(command, None) == "non_standing_offer_price"


def test_rule4_given_an_upgrade_at_zero_when_placed_then_accepted_and_priced_at_zero():
    # When
    placed = only_event(with_upgrade(), None)
    # Then the upgrade adds nothing to the totals until it is priced
    assert isinstance(placed, OrderPlaced)
    assert placed.pricing.totals.total == DEFAULT_TOTAL
    assert placed.pricing.totals.non_standing_offer_total == Decimal("0.00")


def test_rule4_given_an_unpriced_upgrade_when_priced_then_totals_include_it():
    # Given
    order = given(with_upgrade())
    # When the procurement officer prices the upgrade at 150.00 (GST 5 %: 7.50)
    priced = only_event(price_upgrade("150.00"), order)
    # Then
    assert isinstance(priced, NonStandingOfferLinePriced)
    assert priced.unit_price == Decimal("150.00")
    totals = priced.pricing.totals
    assert totals.net == Decimal("2728.00")
    assert totals.tax == Decimal("136.47")
    assert totals.total == Decimal("2865.87")
    assert totals.non_standing_offer_total == Decimal("157.50")
    assert evolve(order, priced).pricing.totals.total == Decimal("2865.87")


def test_rule4_given_a_placed_order_when_a_standing_offer_item_is_priced_then_rejected():
    # Given
    order = given(with_upgrade())
    # When / Then
    command = PriceNonStandingOfferLine(sku="LAT-5450", unit_price="999.00", priced_on=date(2026, 6, 20))
    assert rejection(command, order) == "standing_offer_item_price"


def test_rule4_given_an_unpriced_upgrade_when_awarded_then_rejected_unpriced_items():
    # Given
    order = given(with_upgrade())
    # When / Then
    assert rejection(award(), order) == "unpriced_items"


def test_rule4_given_a_priced_upgrade_when_awarded_then_accepted():
    # Given
    order = given(with_upgrade(), price_upgrade("150.00"))
    # When
    awarded = only_event(award(), order)
    # Then
    assert isinstance(awarded, CallUpAwarded)


# ---------------------------------------------------------------- rule 5: 25,000.00 limits

# In Alberta a laptop carries 0.45 EHF and GST 5 % applies on net + EHF:
#   23,809.07 + 0.45 = 23,809.52; GST 1,190.476 -> 1,190.48; total 25,000.00
#   23,809.08 + 0.45 = 23,809.53; GST 1,190.4765 -> 1,190.48; total 25,000.01


def alberta_laptop_order(unit_price: str, processing: str = "delegated") -> PlaceOrder:
    return place_order(
        lines=(a_laptop(quantity=1, unit_price=unit_price),),
        delivery_locations=(EDMONTON,),
        processing=processing,
    )


def test_rule5_given_a_delegated_order_of_exactly_25000_with_taxes_when_placed_then_accepted():
    # When
    placed = only_event(alberta_laptop_order("23809.07"), None)
    # Then
    assert isinstance(placed, OrderPlaced)
    assert placed.pricing.totals.total == Decimal("25000.00")
    assert placed.processing == "delegated"


def test_rule5_given_a_delegated_order_over_25000_with_taxes_when_placed_then_rejected():
    # When / Then: 25,000.01 with taxes
    command = alberta_laptop_order("23809.08")
    assert rejection(command, None) == "delegated_limit_exceeded"


def test_rule5_given_broker_processing_above_25000_when_placed_then_accepted():
    # When
    placed = only_event(alberta_laptop_order("23809.08", processing="broker"), None)
    # Then
    assert isinstance(placed, OrderPlaced)
    assert placed.pricing.totals.total == Decimal("25000.01")
    assert placed.processing == "broker"


# A non-NMSO upgrade delivered in QC to a federal client: GST 5 %, no EHF for upgrades.
#   23,809.52 + GST 1,190.48 = 25,000.00; 23,809.53 + GST 1,190.48 = 25,000.01


def test_rule5_given_broker_order_when_non_nmso_priced_to_25000_01_then_rejected_limit():
    # Given
    order = given(with_upgrade(processing="broker"))
    # When / Then
    assert rejection(price_upgrade("23809.53"), order) == "non_standing_offer_limit_exceeded"


def test_rule5_given_broker_order_when_non_nmso_priced_to_exactly_25000_then_accepted():
    # Given
    order = given(with_upgrade(processing="broker"))
    # When
    priced = only_event(price_upgrade("23809.52"), order)
    # Then
    assert isinstance(priced, NonStandingOfferLinePriced)
    assert priced.pricing.totals.non_standing_offer_total == Decimal("25000.00")


def test_rule5_given_delegated_order_when_pricing_passes_25000_then_rerouted_to_broker():
    # Given a delegated order of 2,708.37
    order = given(with_upgrade())
    assert order.processing == "delegated"
    # When the upgrade is priced at 22,000.00 (23,100.00 with GST): 25,808.37 in all
    priced = only_event(price_upgrade("22000.00"), order)
    # Then
    assert isinstance(priced, NonStandingOfferLinePriced)
    assert priced.pricing.totals.total == Decimal("25808.37")
    assert priced.processing == "broker"
    assert evolve(order, priced).processing == "broker"


def test_rule5_given_delegated_order_when_pricing_stays_under_25000_then_still_delegated():
    # Given
    order = given(with_upgrade())
    # When
    priced = only_event(price_upgrade("1000.00"), order)
    # Then
    assert isinstance(priced, NonStandingOfferLinePriced)
    assert priced.processing == "delegated"


# ---------------------------------------------------------------- rule 6: financial reference


def test_rule6_given_a_financial_reference_of_50_characters_when_placed_then_accepted():
    # Given
    reference = "F" * 50
    # When
    placed = only_event(place_order(financial_reference=reference), None)
    # Then
    assert isinstance(placed, OrderPlaced)
    assert placed.financial_reference == reference


def test_rule6_given_a_financial_reference_of_51_characters_when_placed_then_rejected():
    # When / Then
    command = place_order(financial_reference="F" * 51)
    assert rejection(command, None) == "financial_reference_too_long"


# ---------------------------------------------------------------- rule 7: Section 32


def test_rule7_given_section32_equal_to_net_plus_ehf_without_taxes_when_placed_then_accepted():
    # When: 2,578.00 net + 1.40 EHF, taxes excluded
    placed = only_event(place_order(section32_amount="2579.40"), None)
    # Then
    assert isinstance(placed, OrderPlaced)
    assert placed.pricing.totals.commitment_basis == DEFAULT_COMMITMENT_BASIS
    assert placed.section32_amount == Decimal("2579.40")


def test_rule7_given_section32_one_cent_short_when_placed_then_rejected_insufficient():
    # When / Then
    command = place_order(section32_amount="2579.39")
    assert rejection(command, None) == "section32_insufficient"


def test_rule7_given_section32_short_of_ehf_when_placed_then_rejected_insufficient():
    # When / Then: the net alone (2,578.00) leaves the EHF uncovered
    command = place_order(section32_amount="2578.00")
    assert rejection(command, None) == "section32_insufficient"


def test_rule7_given_a_tight_section32_when_pricing_raises_the_basis_then_rejected():
    # Given a commitment that covers the order as placed, and no more
    order = given(with_upgrade(section32_amount="2579.40"))
    # When / Then
    assert rejection(price_upgrade("100.00"), order) == "section32_insufficient"


def test_rule7_given_a_tight_section32_when_amended_upwards_then_pricing_is_accepted():
    # Given
    order = given(with_upgrade(section32_amount="2579.40"))
    # When
    amended = only_event(AmendSection32(section32_amount="2679.40", amended_on=date(2026, 6, 18)), order)
    # Then
    assert amended == Section32Amended(
        section32_amount=Decimal("2679.40"),
        previous_amount=Decimal("2579.40"),
        amended_on=date(2026, 6, 18),
    )
    order = evolve(order, amended)
    assert order.section32_amount == Decimal("2679.40")
    priced = only_event(price_upgrade("100.00"), order)
    assert isinstance(priced, NonStandingOfferLinePriced)
    assert priced.pricing.totals.commitment_basis == Decimal("2679.40")


def test_rule7_given_a_placed_order_when_section32_amended_below_basis_then_rejected():
    # Given
    order = given(place_order())
    # When / Then
    command = AmendSection32(section32_amount="2579.39", amended_on=date(2026, 6, 18))
    assert rejection(command, order) == "section32_insufficient"


# ---------------------------------------------------------------- rule 8: delivery locations


def split(*locations: DeliveryLocation, each: int = 1) -> tuple[DeliveryLocation, ...]:
    return tuple(location.model_copy(update={"quantities": {"LAT-5450": each}}) for location in locations)


def test_rule8_given_4_delivery_locations_when_placed_then_accepted_and_flagged():
    # Given 4 laptops, one to each of 4 locations
    command = place_order(
        lines=(a_laptop(quantity=4),),
        delivery_locations=split(GATINEAU, OTTAWA, HALIFAX, EDMONTON),
    )
    # When
    placed = only_event(command, None)
    # Then
    assert isinstance(placed, OrderPlaced)
    assert len(placed.delivery_locations) == 4
    assert "more_than_3_locations" in placed.review_flags


def test_rule8_given_3_delivery_locations_when_placed_then_accepted_without_flag():
    # Given
    command = place_order(lines=(a_laptop(quantity=3),), delivery_locations=split(GATINEAU, OTTAWA, HALIFAX))
    # When
    placed = only_event(command, None)
    # Then
    assert isinstance(placed, OrderPlaced)
    assert "more_than_3_locations" not in placed.review_flags


def test_rule8_given_location_quantities_not_adding_up_when_placed_then_rejected():
    # Given 4 laptops ordered but 1 + 2 allocated
    locations = (
        GATINEAU.model_copy(update={"quantities": {"LAT-5450": 1}}),
        OTTAWA.model_copy(update={"quantities": {"LAT-5450": 2}}),
    )
    command = place_order(lines=(a_laptop(quantity=4),), delivery_locations=locations)
    # When / Then
    assert rejection(command, None) == "location_quantities_mismatch"


def test_rule8_given_one_location_without_quantities_when_placed_then_it_gets_everything():
    # Given
    command = with_upgrade()
    # When
    placed = only_event(command, None)
    # Then
    assert isinstance(placed, OrderPlaced)
    assert placed.delivery_locations[0].quantities == {"LAT-5450": 2, "RAM-16GB": 1}


def test_rule8_given_an_unknown_province_when_building_a_location_then_validation_error():
    with pytest.raises(ValidationError):
        DeliveryLocation(province="ZZ", address="1 Nowhere St")


def test_rule8_given_two_provinces_when_placed_then_ehf_and_taxes_follow_each_province():
    # Given 2 laptops at 1,000.00: one to Halifax (NS), one to Edmonton (AB)
    command = place_order(lines=(a_laptop(unit_price="1000.00"),), delivery_locations=split(HALIFAX, EDMONTON))
    # When
    placed = only_event(command, None)
    # Then
    assert isinstance(placed, OrderPlaced)
    halifax, edmonton = placed.pricing.lines
    # NS: EHF 1.25; HST 14 % of 1,001.25 = 140.175 -> 140.18
    assert (halifax.location, halifax.ehf, halifax.taxes) == (
        0,
        Decimal("1.25"),
        {"HST": Decimal("140.18")},
    )
    # AB: EHF 0.45; GST 5 % of 1,000.45 = 50.0225 -> 50.02
    assert (edmonton.location, edmonton.ehf, edmonton.taxes) == (
        1,
        Decimal("0.45"),
        {"GST": Decimal("50.02")},
    )
    assert placed.pricing.totals.total == Decimal("2191.90")


# ---------------------------------------------------------------- rule 9: time-sensitive orders

JUSTIFICATION = "Payroll system migration blocked: 300 employees cannot be paid on time"


def test_rule9_given_a_time_sensitive_order_without_justification_when_placed_then_rejected():
    # When / Then
    command = place_order(urgency="time_sensitive", supplier_quote="Quote NM-2026-118")
    assert rejection(command, None) == "justification_required"


def test_rule9_given_a_time_sensitive_order_with_a_terse_justification_then_rejected():
    # When / Then: not a detailed justification
    command = place_order(urgency="time_sensitive", justification="urgent", supplier_quote="Quote NM-2026-118")
    assert rejection(command, None) == "justification_required"


def test_rule9_given_a_time_sensitive_order_without_quote_when_placed_then_rejected():
    # When / Then
    command = place_order(urgency="time_sensitive", justification=JUSTIFICATION)
    assert rejection(command, None) == "supplier_quote_required"


def test_rule9_given_a_time_sensitive_order_with_justification_and_quote_then_accepted():
    # When
    placed = only_event(
        place_order(
            urgency="time_sensitive",
            justification=JUSTIFICATION,
            supplier_quote="Quote NM-2026-118",
        ),
        None,
    )
    # Then
    assert isinstance(placed, OrderPlaced)
    assert placed.urgency == "time_sensitive"


def test_rule9_given_a_standard_order_when_cancelled_for_missing_justification_then_rejected():
    # Given
    order = given(place_order())
    # When / Then
    command = cancel("missing_justification", date(2026, 6, 16))
    assert rejection(command, order) == "not_time_sensitive"


def test_rule9_given_a_time_sensitive_order_when_cancelled_for_missing_justification_then_ok():
    # Given
    order = given(
        place_order(
            urgency="time_sensitive",
            justification=JUSTIFICATION,
            supplier_quote="Quote NM-2026-118",
        )
    )
    # When
    cancelled = only_event(cancel("missing_justification", date(2026, 6, 16)), order)
    # Then
    assert isinstance(cancelled, OrderCancelled)
    assert cancelled.reason == "missing_justification"


# ---------------------------------------------------------------- rule 10: security assessment


def assessed(risk: str) -> RecordSecurityAssessment:
    return RecordSecurityAssessment(risk=risk, assessed_on=date(2026, 7, 1))


def test_rule10_given_an_order_with_non_standard_items_when_assessed_then_recorded():
    # Given
    order = given(with_upgrade())
    # When
    recorded = only_event(assessed("medium"), order)
    # Then
    assert recorded == SecurityAssessmentRecorded(risk="medium", assessed_on=date(2026, 7, 1))


def test_rule10_given_a_medium_risk_without_approvals_when_awarded_then_rejected():
    # Given
    order = given(with_upgrade(), price_upgrade("150.00"), assessed("medium"))
    # When / Then
    assert rejection(award(), order) == "security_approvals_missing"


@pytest.mark.parametrize("missing", ["cse", "ssc_security", "technical_authority"])
def test_rule10_given_a_medium_risk_missing_one_approval_when_awarded_then_rejected(missing):
    # Given two of the three authorities approved
    approvals = [
        approve(authority) for authority in ("cse", "ssc_security", "technical_authority") if authority != missing
    ]
    order = given(with_upgrade(), price_upgrade("150.00"), assessed("medium"), *approvals)
    # When / Then
    assert rejection(award(), order) == "security_approvals_missing"


def test_rule10_given_a_medium_risk_approved_by_all_three_when_awarded_then_accepted():
    # Given
    order = given(
        with_upgrade(),
        price_upgrade("150.00"),
        assessed("medium"),
        approve("cse"),
        approve("ssc_security"),
        approve("technical_authority"),
    )
    # When
    awarded = only_event(award(), order)
    # Then
    assert isinstance(awarded, CallUpAwarded)


def test_rule10_given_a_high_risk_when_awarded_then_rejected_security_risk_high():
    # Given
    order = given(with_upgrade(), price_upgrade("150.00"), assessed("high"))
    # When / Then
    assert rejection(award(), order) == "security_risk_high"


def test_rule10_given_a_low_risk_when_awarded_then_accepted_without_approvals():
    # Given
    order = given(with_upgrade(), price_upgrade("150.00"), assessed("low"))
    # When / Then
    assert isinstance(only_event(award(), order), CallUpAwarded)


def test_rule10_given_only_standing_offer_items_when_assessed_then_rejected():
    # Given
    order = given(place_order())
    # When / Then
    assert rejection(assessed("medium"), order) == "no_non_standard_items"


def test_rule10_given_an_approval_already_given_when_given_again_then_rejected():
    # Given
    order = given(with_upgrade(), assessed("medium"), approve("cse"))
    # When / Then
    assert rejection(approve("cse"), order) == "already_approved"


def test_rule10_given_a_medium_risk_when_an_authority_approves_then_approval_recorded():
    # Given
    order = given(with_upgrade(), assessed("medium"))
    # When
    approved = only_event(approve("ssc_security"), order)
    # Then
    assert isinstance(approved, SecurityRiskApproved)
    assert approved.authority == "ssc_security"
    assert evolve(order, approved).security_approvals == frozenset({"ssc_security"})


def test_rule10_given_a_low_risk_when_an_authority_approves_then_rejected_no_medium_risk():
    # Given
    order = given(with_upgrade(), assessed("low"))
    # When / Then
    assert rejection(approve("cse"), order) == "no_medium_risk"


# ---------------------------------------------------------------- rule 11: delivery

# Award on Mon 2026-11-23; 30 federal working days, the award day not counted:
#   Nov 24-27 (4), Nov 30-Dec 4 (9), Dec 7-11 (14), Dec 14-18 (19),
#   Dec 21-24 (23; Fri Dec 25 Christmas), Dec 29-31 (26; Mon Dec 28 Boxing Day observed),
#   Jan 4-7 (30; Fri Jan 1 New Year's Day)  ->  Thu 2027-01-07.
AWARDED_ON = date(2026, 11, 23)
AGREED = date(2027, 1, 7)


def awarded_order(*more: OrderCommand) -> Order:
    return given(place_order(), award(AWARDED_ON), *more)


def test_rule11_given_no_agreed_date_when_awarded_then_due_30_federal_working_days_later():
    # Given
    order = given(place_order())
    # When
    awarded = only_event(award(AWARDED_ON), order)
    # Then
    assert awarded == CallUpAwarded(
        contract_number="EW-2026-0042",
        awarded_on=AWARDED_ON,
        agreed_delivery_date=AGREED,
        standard_delivery_date=True,
    )


def test_rule11_given_a_date_agreed_in_writing_when_awarded_then_that_date_is_kept():
    # Given
    order = given(place_order())
    # When
    awarded = only_event(award(AWARDED_ON, agreed_delivery_date=date(2026, 12, 15)), order)
    # Then
    assert isinstance(awarded, CallUpAwarded)
    assert awarded.agreed_delivery_date == date(2026, 12, 15)
    assert awarded.standard_delivery_date is False


def test_rule11_given_an_awarded_order_when_part_delivered_then_not_fully_delivered():
    # Given
    order = awarded_order()
    # When
    delivered = only_event(deliver(1, date(2026, 12, 10)), order)
    # Then
    assert isinstance(delivered, DeliveryRecorded)
    assert (delivered.location, delivered.fully_delivered) == (0, False)
    assert evolve(order, delivered).status == "partially_delivered"


def test_rule11_given_a_part_delivered_order_when_the_rest_arrives_then_fully_delivered():
    # Given
    order = awarded_order(deliver(1, date(2026, 12, 10)))
    # When
    delivered = only_event(deliver(1, date(2026, 12, 11)), order)
    # Then
    assert isinstance(delivered, DeliveryRecorded)
    assert delivered.fully_delivered is True
    assert evolve(order, delivered).status == "delivered"


def test_rule11_given_an_awarded_order_when_more_than_ordered_delivered_then_rejected():
    # Given 2 laptops ordered
    order = awarded_order()
    # When / Then
    assert rejection(deliver(3, date(2026, 12, 10)), order) == "over_delivery"


def test_rule11_given_a_part_delivered_order_when_the_rest_plus_one_arrives_then_rejected():
    # Given 1 of 2 laptops delivered
    order = awarded_order(deliver(1, date(2026, 12, 10)))
    # When / Then
    assert rejection(deliver(2, date(2026, 12, 11)), order) == "over_delivery"


def test_rule11_given_a_cancelled_order_when_a_delivery_arrives_then_rejected_cancelled():
    # Given
    order = awarded_order(cancel("client_request", date(2026, 11, 30)))
    # When / Then
    assert rejection(deliver(1, date(2026, 12, 10)), order) == "order_cancelled"


def test_rule11_given_an_order_not_awarded_when_a_delivery_arrives_then_rejected():
    # Given
    order = given(place_order())
    # When / Then
    assert rejection(deliver(1, date(2026, 7, 10)), order) == "not_awarded"


def test_rule11_given_a_fully_delivered_order_when_cancelled_then_rejected():
    # Given
    order = awarded_order(deliver(2, date(2026, 12, 10)))
    # When / Then
    command = cancel("client_request", date(2026, 12, 11))
    assert rejection(command, order) == "order_fully_delivered"


def test_rule11_given_the_agreed_date_when_cancelled_for_late_delivery_then_not_late_yet():
    # Given an order due on 2027-01-07 and nothing delivered
    order = awarded_order()
    # When / Then: on the agreed date itself the supplier is not late yet
    command = cancel("late_delivery", AGREED, by="client")
    assert rejection(command, order) == "not_late_yet"


def test_rule11_given_an_order_past_its_agreed_date_when_client_cancels_as_late_then_ok():
    # Given
    order = awarded_order()
    # When
    cancelled = only_event(cancel("late_delivery", date(2027, 1, 8), by="client"), order)
    # Then
    assert cancelled == OrderCancelled(
        reason="late_delivery", cancelled_on=date(2027, 1, 8), note="", requested_by="client"
    )


def test_rule11_given_an_order_not_awarded_when_cancelled_for_late_delivery_then_rejected():
    # Given
    order = given(place_order())
    # When / Then
    command = cancel("late_delivery", date(2026, 7, 1), by="client")
    assert rejection(command, order) == "not_awarded"


def test_rule11_given_an_awarded_order_when_client_cancels_on_request_then_needs_broker():
    # Given
    order = awarded_order()
    # When / Then
    command = cancel("client_request", date(2026, 12, 1), by="client")
    assert rejection(command, order) == "cancellation_needs_broker"


def test_rule11_given_an_awarded_order_when_broker_cancels_on_client_request_then_ok():
    # Given
    order = awarded_order()
    # When
    cancelled = only_event(cancel("client_request", date(2026, 12, 1)), order)
    # Then
    assert isinstance(cancelled, OrderCancelled)
    assert cancelled.requested_by == "broker"


def test_rule11_given_an_order_not_awarded_when_client_cancels_on_request_then_accepted():
    # Given
    order = given(place_order())
    # When
    cancelled = only_event(cancel("client_request", date(2026, 7, 1), by="client"), order)
    # Then
    assert isinstance(cancelled, OrderCancelled)


def rebate(amount: str, on: date) -> ApplyLateDeliveryRebate:
    return ApplyLateDeliveryRebate(amount=amount, reason="Delivered after agreed date", applied_on=on)


def test_rule11_given_an_order_not_yet_due_when_a_rebate_is_applied_then_rejected_not_late():
    # Given
    order = awarded_order()
    # When / Then
    assert rejection(rebate("100.00", date(2026, 12, 20)), order) == "not_late"


def test_rule11_given_an_order_delivered_on_time_when_a_rebate_is_applied_then_not_late():
    # Given everything delivered on the agreed date
    order = awarded_order(deliver(2, AGREED))
    # When / Then
    assert rejection(rebate("100.00", date(2027, 1, 20)), order) == "not_late"


def test_rule11_given_a_late_delivery_when_a_rebate_is_applied_then_accepted():
    # Given everything delivered the day after the agreed date
    order = awarded_order(deliver(2, date(2027, 1, 8)))
    # When
    applied = only_event(rebate("100.00", date(2027, 1, 20)), order)
    # Then
    assert isinstance(applied, LateDeliveryRebateApplied)
    assert applied.amount == Decimal("100.00")
    assert evolve(order, applied).rebates == Decimal("100.00")


def test_rule11_given_a_late_delivery_when_rebates_reach_exactly_the_total_then_accepted():
    # Given
    order = awarded_order(deliver(2, date(2027, 1, 8)), rebate("708.37", date(2027, 1, 20)))
    # When
    applied = only_event(rebate("2000.00", date(2027, 1, 21)), order)
    # Then rebates now come to the order total, 2,708.37
    assert evolve(order, applied).rebates == DEFAULT_TOTAL


def test_rule11_given_a_late_delivery_when_rebates_exceed_the_total_then_rejected():
    # Given 708.37 already rebated on an order of 2,708.37
    order = awarded_order(deliver(2, date(2027, 1, 8)), rebate("708.37", date(2027, 1, 20)))
    # When / Then
    assert rejection(rebate("2000.01", date(2027, 1, 21)), order) == "rebate_exceeds_total"


def test_rule11_given_an_awarded_order_when_delivery_date_revised_then_new_date_agreed():
    # Given
    order = awarded_order()
    # When
    revised = only_event(
        ReviseDeliveryDate(agreed_delivery_date=date(2027, 1, 29), agreed_on=date(2026, 12, 2)),
        order,
    )
    # Then
    assert revised == DeliveryDateRevised(
        agreed_delivery_date=date(2027, 1, 29),
        previous_delivery_date=AGREED,
        agreed_on=date(2026, 12, 2),
    )
    assert evolve(order, revised).agreed_delivery_date == date(2027, 1, 29)


def test_rule11_given_a_revised_delivery_date_when_cancelled_as_late_before_it_then_rejected():
    # Given the delivery date moved from 2027-01-07 to 2027-01-29
    revise = ReviseDeliveryDate(agreed_delivery_date=date(2027, 1, 29), agreed_on=date(2026, 12, 2))
    order = awarded_order(revise)
    # When / Then: past the first date, not the agreed one
    command = cancel("late_delivery", date(2027, 1, 8), by="client")
    assert rejection(command, order) == "not_late_yet"


def test_rule11_given_a_revised_delivery_date_when_delivered_before_it_then_no_rebate():
    # Given delivered after the original date but before the revised one
    revise = ReviseDeliveryDate(agreed_delivery_date=date(2027, 1, 29), agreed_on=date(2026, 12, 2))
    order = awarded_order(revise, deliver(2, date(2027, 1, 15)))
    # When / Then
    assert rejection(rebate("100.00", date(2027, 2, 5)), order) == "not_late"


def test_rule11_given_an_open_order_when_closed_then_rejected_order_still_open():
    # Given 1 of 2 laptops delivered
    order = awarded_order(deliver(1, date(2026, 12, 10)))
    # When / Then
    assert rejection(CloseOrder(closed_on=date(2027, 2, 1)), order) == "order_still_open"


def test_rule11_given_a_fully_delivered_order_when_closed_then_accepted():
    # Given
    order = awarded_order(deliver(2, date(2026, 12, 10)))
    # When
    closed = only_event(CloseOrder(closed_on=date(2027, 2, 1)), order)
    # Then
    assert closed == OrderClosed(closed_on=date(2027, 2, 1))
    assert evolve(order, closed).status == "closed"


def test_rule11_given_a_cancelled_order_when_closed_then_accepted():
    # Given
    order = given(place_order(), cancel("client_request", date(2026, 6, 20)))
    # When / Then
    assert isinstance(only_event(CloseOrder(closed_on=date(2026, 7, 1)), order), OrderClosed)


@pytest.mark.parametrize(
    "command",
    [
        AmendSection32(section32_amount="5000.00", amended_on=date(2027, 2, 2)),
        award(date(2027, 2, 2)),
        deliver(1, date(2027, 2, 2)),
        rebate("10.00", date(2027, 2, 2)),
        cancel("other", date(2027, 2, 2)),
        CloseOrder(closed_on=date(2027, 2, 2)),
    ],
    ids=lambda command: type(command).__name__,
)
def test_rule11_given_a_closed_order_when_anything_is_recorded_then_rejected_closed(command):
    # Given
    order = awarded_order(deliver(2, date(2027, 1, 8)), CloseOrder(closed_on=date(2027, 2, 1)))
    # When / Then
    assert rejection(command, order) == "order_closed"


# ---------------------------------------------------------------- rule 15: fiscal year end


def test_rule15_given_an_order_placed_on_8_december_when_placed_then_flagged_year_end():
    # When
    placed = only_event(place_order(placed_at=datetime(2026, 12, 8, 9, 0, tzinfo=EASTERN)), None)
    # Then
    assert isinstance(placed, OrderPlaced)
    assert "year_end_award_not_guaranteed" in placed.review_flags


def test_rule15_given_an_order_placed_on_7_december_when_placed_then_not_flagged():
    # When
    placed = only_event(place_order(placed_at=datetime(2026, 12, 7, 23, 59, tzinfo=EASTERN)), None)
    # Then
    assert isinstance(placed, OrderPlaced)
    assert "year_end_award_not_guaranteed" not in placed.review_flags


def test_rule15_given_8_december_in_utc_but_7_december_in_ottawa_then_not_flagged():
    # Given 03:30 UTC on 8 December is 22:30 on 7 December, Eastern time
    placed_at = datetime(2026, 12, 8, 3, 30, tzinfo=ZoneInfo("UTC"))
    # When
    placed = only_event(place_order(placed_at=placed_at), None)
    # Then
    assert isinstance(placed, OrderPlaced)
    assert placed.pricing.tax_date == date(2026, 12, 7)
    assert "year_end_award_not_guaranteed" not in placed.review_flags


# ---------------------------------------------------------------- serial numbers (DeliveryRecorded v2)


def deliver_serials(quantity: int, on: date, *serials: str) -> RecordDelivery:
    return deliver(quantity, on).model_copy(update={"serial_numbers": {"LAT-5450": serials}})


def test_given_an_awarded_order_when_delivered_with_serial_numbers_then_each_item_carries_them():
    # Given 2 laptops ordered
    order = awarded_order()
    # When
    delivered = only_event(deliver_serials(2, date(2026, 12, 10), "5CG1", "5CG2"), order)
    # Then
    assert isinstance(delivered, DeliveryRecorded)
    assert delivered.schema_version == 2
    assert delivered.items == (DeliveredItem(sku="LAT-5450", quantity=2, serial_numbers=("5CG1", "5CG2")),)
    assert delivered.quantities == {"LAT-5450": 2}
    assert evolve(order, delivered).serial_numbers == {"5CG1", "5CG2"}


def test_given_a_delivery_without_serial_numbers_then_its_items_have_none():
    delivered = only_event(deliver(1, date(2026, 12, 10)), awarded_order())
    assert isinstance(delivered, DeliveryRecorded)
    assert delivered.items == (DeliveredItem(sku="LAT-5450", quantity=1),)
    assert delivered.serial_numbers == {}


def test_given_more_serial_numbers_than_units_received_then_rejected():
    assert rejection(deliver_serials(1, date(2026, 12, 10), "5CG1", "5CG2"), awarded_order()) == (
        "too_many_serial_numbers"
    )


def test_given_serial_numbers_for_a_sku_not_in_the_delivery_then_rejected():
    command = deliver(1, date(2026, 12, 10)).model_copy(update={"serial_numbers": {"MON-24": ("X1",)}})
    assert rejection(command, awarded_order()) == "serial_numbers_unknown_sku"


def test_given_a_serial_number_twice_in_a_delivery_or_already_delivered_on_the_order_then_rejected():
    assert rejection(deliver_serials(2, date(2026, 12, 10), "5CG1", "5CG1"), awarded_order()) == (
        "serial_number_repeated"
    )
    order = awarded_order(deliver_serials(1, date(2026, 12, 10), "5CG1"))
    assert rejection(deliver_serials(1, date(2026, 12, 11), "5CG1"), order) == "serial_number_repeated"
    assert only_event(deliver_serials(1, date(2026, 12, 11), "5CG2"), order).fully_delivered is True
