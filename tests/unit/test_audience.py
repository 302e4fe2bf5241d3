"""Who may see an event: the organisations it concerns, and what an integrator key was granted.

Pure: every event comes from the real deciders (or the real event models), never from the ledger.
Each test reads Given / When / Then in the broker's words.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from events.billing.commands import (
    AssignInvoiceLine,
    CloseBillingPeriod,
    DisputeInvoiceLine,
    ReceiveSupplierInvoice,
    RegisterOrganisation,
    ResolveDispute,
)
from events.billing.decider import (
    BillingCalendar,
    InvoiceContext,
    decide_invoice,
    decide_organisation,
    decide_period,
    evolve_invoice,
    fold_invoice,
)
from events.billing.facts import (
    BillingPeriodClosed,
    CreditGranted,
    InvoiceLine,
    OrganisationRegistered,
    SupplierInvoiceReceived,
)
from events.contracts import decider as contracting
from events.contracts.commands import RecordConsumption, RegisterContract
from events.contracts.facts import CapacityThresholdReached, ContractRegistered
from events.kernel.rates import bundled_rate_book
from events.ledger.catalogue import CLOUD_TYPES
from events.orders import decider as ordering
from events.orders.commands import AwardCallUp, PlaceOrder
from events.orders.facts import DeliveryLocation, OrderLine, OrderPlaced
from events.publishing.audience import (
    BROKERS_OWN,
    EVERYTHING,
    NOTHING,
    EventGrant,
    concerned_organisations,
    type_patterns,
)
from events.services.commands import OpenIncident, RegisterService, RestoreService
from events.services.decider import decide_incident, fold_service, open_incident, register_service
from events.services.facts import IncidentLogged, IncidentOpened, ServiceRegistered, ServiceRestored

RATES = bundled_rate_book()
EASTERN = ZoneInfo("America/Toronto")
PLACED = "ca.orderledger.order.placed.v1"
AWARDED = "ca.orderledger.order.call_up_awarded.v1"
CONTRACT_REGISTERED = "ca.orderledger.contract.registered.v1"
INCIDENT_OPENED = "ca.orderledger.incident.opened.v1"
PERIOD_CLOSED = "ca.orderledger.billing_period.closed.v1"


# ---------------------------------------------------------------- givens (real deciders, no I/O)


def an_order_placed(client_org: str = "ESDC") -> OrderPlaced:
    command = PlaceOrder(
        order_id="ORD-2026-000123",
        placed_at=datetime(2026, 6, 15, 10, 30, tzinfo=EASTERN),
        client_org=client_org,
        requester="A. Tremblay",
        standing_offer="NMSO-E60PQ-140003/LAPTOP",
        supplier="Northern Micro Inc.",
        processing="delegated",
        financial_reference="ESDC-FC1001-IO12345",
        section32_amount="100000.00",
        lines=(
            OrderLine(
                sku="LAT-5450",
                description="Notebook 14-inch",
                category="laptop",
                standing_offer_item=True,
                quantity=2,
                unit_price="1289.00",
            ),
        ),
        delivery_locations=(DeliveryLocation(province="QC", address="140 promenade du Portage, Gatineau"),),
    )
    [placed] = ordering.decide(command, None, RATES)
    assert isinstance(placed, OrderPlaced)
    return placed


def its_award(placed: OrderPlaced) -> Any:
    [awarded] = ordering.decide(
        AwardCallUp(contract_number="EW-2026-0042", awarded_on=date(2026, 6, 20)), ordering.fold([placed]), RATES
    )
    return awarded


INVOICE_CONTEXT = InvoiceContext(
    rates=RATES,
    organisations={"ESDC": "federal", "SQI": "other"},
    calendar=BillingCalendar(),
    contract_known=True,
    contract_kind="cloud",
    fee_rate=Decimal("0.02"),
)


def an_invoice(*client_orgs: str | None) -> SupplierInvoiceReceived:
    """A cloud invoice with one line per organisation named (None: the supplier left the line unassigned)."""
    lines = tuple(
        InvoiceLine(
            client_org=org,
            reference=f"USAGE-2026-10-{org or 'NONE'}",
            charge_period="2026-10",
            amount="1000.00",
            province="QC" if org == "SQI" else "ON",
        )
        for org in client_orgs
    )
    command = ReceiveSupplierInvoice(
        invoice_number="NC-1", supplier="Nimbus Cloud", contract_id="CLOUD-T", issued_on=date(2026, 11, 5), lines=lines
    )
    [received] = decide_invoice(command, None, INVOICE_CONTEXT)
    assert isinstance(received, SupplierInvoiceReceived)
    return received


def a_contract_registered() -> ContractRegistered:
    [registered] = contracting.decide(
        RegisterContract(
            contract_id="CLOUD-T",
            kind="cloud",
            supplier="Nimbus Cloud",
            ceiling="1000.00",
            start_date=date(2026, 1, 1),
            end_date=date(2027, 12, 31),
            fee_rate="0.02",
        ),
        None,
    )
    assert isinstance(registered, ContractRegistered)
    return registered


def a_service_registered(*organisations: str) -> ServiceRegistered:
    [registered] = register_service(
        RegisterService(
            service_id="SVC-MAIL",
            name="Hosted mail",
            contract_id="CLOUD-T",
            organisations=organisations,
            monthly_charge="500.00",
            registered_on=date(2026, 1, 5),
        ),
        exists=False,
        supplier="Nimbus Cloud",
        registered=set(organisations),
    )
    return registered


NOW = datetime(2026, 11, 23, 12, 0, tzinfo=EASTERN)


def an_incident(service: ServiceRegistered, *organisations: str) -> tuple[IncidentOpened, IncidentLogged]:
    opened, logged = open_incident(
        OpenIncident(
            incident_id="INC-1",
            service_id=service.service_id,
            priority="P2",
            detected_at=datetime(2026, 11, 23, 9, 0, tzinfo=EASTERN),
            organisations=organisations,
        ),
        exists=False,
        service=fold_service([service]),
        now=NOW,
    )
    assert isinstance(opened, IncidentOpened) and isinstance(logged, IncidentLogged)
    return opened, logged


# ---------------------------------------------------------------- concerned_organisations


def test_given_an_order_placed_for_esdc_then_it_concerns_esdc_alone():
    # Given / When
    placed = an_order_placed("ESDC")
    # Then
    assert concerned_organisations(placed) == frozenset({"ESDC"})
    assert concerned_organisations(placed, placed) == frozenset({"ESDC"})  # an opening is its own opening


def test_given_an_award_on_an_esdc_order_then_it_concerns_esdc_through_the_orders_opening():
    # Given
    placed = an_order_placed("ESDC")
    awarded = its_award(placed)
    # When
    concerned = concerned_organisations(awarded, placed)
    # Then: the award names no organisation; the order it belongs to does
    assert not hasattr(awarded, "client_org")
    assert concerned == frozenset({"ESDC"})


def test_given_a_later_order_event_read_without_its_opening_then_it_is_the_brokers_own():
    # Given an award, and nothing to say whose order it is
    awarded = its_award(an_order_placed("CRA"))
    # When / Then: never guessed into an organisation: only a key granted every organisation sees it
    assert concerned_organisations(awarded) == frozenset({BROKERS_OWN})


def test_given_an_invoice_with_lines_for_esdc_sqi_and_an_unassigned_line_then_it_concerns_both_and_the_broker():
    # Given
    invoice = an_invoice("ESDC", "SQI", None)
    # When
    concerned = concerned_organisations(invoice)
    # Then
    assert concerned == frozenset({"ESDC", "SQI", BROKERS_OWN})
    assert "" in concerned


def test_given_an_invoice_line_naming_an_unregistered_organisation_then_that_line_is_the_brokers_own():
    # Given ZZZ is no registered organisation: its line is a reconciliation exception
    invoice = an_invoice("ESDC", "ZZZ")
    # When / Then
    assert concerned_organisations(invoice) == frozenset({"ESDC", BROKERS_OWN})


def test_given_a_disputed_and_a_withdrawn_line_then_each_concerns_the_organisation_it_rebills():
    # Given an invoice for ESDC and SQI, its SQI line disputed, then the dispute withdrawn
    invoice = an_invoice("ESDC", "SQI")
    [disputed] = decide_invoice(
        DisputeInvoiceLine(line_no=2, reason="not our usage", disputed_on=date(2026, 11, 6)),
        fold_invoice([invoice]),
        INVOICE_CONTEXT,
    )
    [resolved] = decide_invoice(
        ResolveDispute(line_no=2, resolution="withdrawn", resolved_on=date(2026, 11, 7)),
        evolve_invoice(fold_invoice([invoice]), disputed),
        INVOICE_CONTEXT,
    )
    # When / Then: the invoice's other organisation is not concerned
    assert concerned_organisations(disputed, invoice) == frozenset({"SQI"})
    assert concerned_organisations(resolved, invoice) == frozenset({"SQI"})


def test_given_an_unassigned_line_when_assigned_to_sqi_then_the_assignment_concerns_sqi():
    # Given
    invoice = an_invoice("ESDC", None)
    # When
    [assigned] = decide_invoice(
        AssignInvoiceLine(line_no=2, client_org="SQI", assigned_on=date(2026, 11, 6)),
        fold_invoice([invoice]),
        INVOICE_CONTEXT,
    )
    # Then
    assert concerned_organisations(assigned, invoice) == frozenset({"SQI"})


def test_given_an_unassigned_line_disputed_then_the_dispute_concerns_the_whole_invoice_brokers_own_included():
    # Given the unassigned line re-bills nobody, so its dispute withholds nothing
    invoice = an_invoice("ESDC", None)
    [disputed] = decide_invoice(
        DisputeInvoiceLine(line_no=2, reason="whose usage is this", disputed_on=date(2026, 11, 6)),
        fold_invoice([invoice]),
        INVOICE_CONTEXT,
    )
    # When / Then
    assert disputed.withheld is None
    assert concerned_organisations(disputed, invoice) == frozenset({"ESDC", BROKERS_OWN})


def test_given_consumption_recorded_for_cra_on_a_contract_then_it_concerns_cra():
    # Given
    registered = a_contract_registered()
    [consumed] = contracting.decide(
        RecordConsumption(
            consumption_id="C-1",
            client_org="CRA",
            amount="100.00",
            period="2026-10",
            source="cloud_usage_report",
            reference="USAGE-2026-10-CRA",
            recorded_on=date(2026, 11, 2),
        ),
        contracting.fold([registered]),
    )
    # When / Then
    assert concerned_organisations(consumed, registered) == frozenset({"CRA"})


def test_given_a_contract_registered_and_its_capacity_threshold_then_both_are_the_brokers_own():
    # Given a 1,000.00 contract consumed to 850.00 by ESDC: the 80 % threshold is reached
    registered = a_contract_registered()
    events = contracting.decide(
        RecordConsumption(
            consumption_id="C-1",
            client_org="ESDC",
            amount="850.00",
            period="2026-10",
            source="cloud_usage_report",
            reference="USAGE-2026-10-ESDC",
            recorded_on=date(2026, 11, 2),
        ),
        contracting.fold([registered]),
    )
    [threshold] = [e for e in events if isinstance(e, CapacityThresholdReached)]
    # When / Then
    assert concerned_organisations(registered) == frozenset({BROKERS_OWN})
    assert concerned_organisations(threshold, registered) == frozenset({BROKERS_OWN})


def test_given_a_service_registered_for_three_organisations_then_it_concerns_those_three():
    # Given / When
    service = a_service_registered("ESDC", "CRA", "DND")
    # Then
    assert concerned_organisations(service) == frozenset({"ESDC", "CRA", "DND"})


def test_given_an_incident_for_two_of_the_services_organisations_then_its_events_concern_those_two():
    # Given a service for ESDC, CRA and DND, and an incident that affects only ESDC and CRA
    service = a_service_registered("ESDC", "CRA", "DND")
    opened, logged = an_incident(service, "ESDC", "CRA")
    [restored] = decide_incident(
        RestoreService(restored_at=datetime(2026, 11, 23, 10, 0, tzinfo=EASTERN)), opened.incident, NOW
    )
    # When / Then: the incident's own record names them, whatever its stream's opening says
    assert concerned_organisations(opened) == frozenset({"ESDC", "CRA"})
    assert isinstance(restored, ServiceRestored)
    assert concerned_organisations(restored, opened) == frozenset({"ESDC", "CRA"})
    # and the service's log of it concerns every organisation the service serves
    assert concerned_organisations(logged, service) == frozenset({"ESDC", "CRA", "DND"})


def test_given_a_billing_period_closed_then_it_is_the_brokers_own():
    # Given / When
    [closed] = decide_period(CloseBillingPeriod(period="2026-10", closed_on=date(2026, 11, 3)), BillingCalendar())
    # Then
    assert isinstance(closed, BillingPeriodClosed)
    assert concerned_organisations(closed) == frozenset({BROKERS_OWN})


def test_given_an_organisation_registered_and_a_credit_granted_then_each_concerns_its_organisation():
    # Given
    [registered] = decide_organisation(
        RegisterOrganisation(
            code="SQI", name_en="SQI", name_fr="SQI", tax_status="other", registered_on=date(2026, 1, 2)
        ),
        known=False,
    )
    credit = CreditGranted(
        credit_id="CR-1",
        kind="service_credit",
        client_org="DND",
        reference="SVC-MAIL/2026-10",
        order_id=None,
        contract_id="CLOUD-T",
        supplier="Nimbus Cloud",
        reason="availability below target",
        granted_on=date(2026, 11, 3),
        province="ON",
        amount=Decimal("25.00"),
        taxes={"HST": Decimal("3.25")},
        tax=Decimal("3.25"),
        fee_rate=Decimal("0.02"),
        fee=Decimal("0.50"),
        based_on=(),
        billed={"charge_period": "2026-10", "billing_period": "2026-10"},
    )
    # When / Then
    assert isinstance(registered, OrganisationRegistered)
    assert concerned_organisations(registered) == frozenset({"SQI"})
    assert concerned_organisations(credit) == frozenset({"DND"})


# ---------------------------------------------------------------- EventGrant


def test_given_a_grant_of_one_exact_type_then_only_that_type_is_allowed():
    # Given
    grant = EventGrant(frozenset({PLACED}), frozenset({"*"}))
    # When / Then
    assert grant.allows(PLACED, frozenset({"ESDC"}))
    assert not grant.allows(AWARDED, frozenset({"ESDC"}))
    assert not grant.allows("ca.orderledger.order.placed.v2", frozenset({"ESDC"}))


def test_given_a_grant_of_the_order_family_then_every_order_type_and_no_other_is_allowed():
    # Given
    grant = EventGrant(frozenset({"ca.orderledger.order.*"}), frozenset({"ESDC"}))
    # When / Then
    assert grant.allows(PLACED, frozenset({"ESDC"}))
    assert grant.allows(AWARDED, frozenset({"ESDC"}))
    assert not grant.allows(CONTRACT_REGISTERED, frozenset({"ESDC"}))
    assert not grant.allows_type("ca.orderledger.orders.placed.v1")  # a family is a whole segment
    assert not grant.allows_type("ca.orderledger.order")


def test_given_a_grant_of_every_type_then_any_type_is_allowed():
    # Given
    grant = EventGrant(frozenset({"*"}), frozenset({"ESDC"}))
    # When / Then
    for ce_type in (PLACED, CONTRACT_REGISTERED, INCIDENT_OPENED, PERIOD_CLOSED):
        assert grant.allows_type(ce_type)
        assert grant.allows(ce_type, frozenset({"ESDC"}))


def test_given_a_grant_of_esdc_then_an_event_concerning_esdc_and_sqi_is_not_shown():
    # Given
    grant = EventGrant(frozenset({"*"}), frozenset({"ESDC"}))
    # When / Then: shown only what concerns nothing but ESDC
    assert grant.allows(PLACED, frozenset({"ESDC"}))
    assert not grant.allows(PLACED, frozenset({"ESDC", "SQI"}))
    assert not grant.allows(PLACED, frozenset({"SQI"}))


def test_given_a_grant_of_esdc_and_sqi_then_an_event_concerning_both_is_shown():
    # Given
    grant = EventGrant(frozenset({"*"}), frozenset({"ESDC", "SQI"}))
    # When / Then
    assert grant.allows(PLACED, frozenset({"ESDC", "SQI"}))
    assert grant.allows(PLACED, frozenset({"SQI"}))
    assert not grant.allows(PLACED, frozenset({"ESDC", "SQI", "CRA"}))


def test_given_a_brokers_own_event_then_only_a_key_granted_every_organisation_sees_it():
    # Given
    brokers_own = frozenset({BROKERS_OWN})
    partly_brokers_own = frozenset({"ESDC", BROKERS_OWN})
    # When / Then
    assert EventGrant(frozenset({"*"}), frozenset({"*"})).allows(CONTRACT_REGISTERED, brokers_own)
    assert EventGrant(frozenset({"*"}), frozenset({"*"})).allows(CONTRACT_REGISTERED, partly_brokers_own)
    for organisations in ({"ESDC"}, {"ESDC", "SQI", "CRA", "DND", "ASPC", "SRC"}):
        grant = EventGrant(frozenset({"*"}), frozenset(organisations))
        assert not grant.allows(CONTRACT_REGISTERED, brokers_own)
        assert not grant.allows(CONTRACT_REGISTERED, partly_brokers_own)


def test_given_a_type_not_granted_then_no_organisation_grant_shows_it():
    # Given
    grant = EventGrant(frozenset({"ca.orderledger.order.*"}), frozenset({"*"}))
    # When / Then
    assert not grant.allows(CONTRACT_REGISTERED, frozenset({BROKERS_OWN}))
    assert not grant.allows(INCIDENT_OPENED, frozenset({"ESDC"}))


def test_given_the_broker_and_the_empty_grants_then_everything_and_nothing_is_allowed():
    # Given / When / Then
    assert EVERYTHING.allows(PERIOD_CLOSED, frozenset({BROKERS_OWN}))
    assert EVERYTHING.allows(PLACED, frozenset({"ESDC", "SQI"}))
    assert not NOTHING.allows(PLACED, frozenset({"ESDC"}))
    assert not NOTHING.allows_type(PLACED)


# ---------------------------------------------------------------- type_patterns


def test_given_known_types_a_family_wildcard_and_star_then_they_are_accepted():
    # Given / When
    patterns = type_patterns(
        [PLACED, " ca.orderledger.incident.* ", "ca.orderledger.billing_period.*", "*", "", "  "], CLOUD_TYPES
    )
    # Then: blanks dropped, spaces trimmed
    assert patterns == frozenset({PLACED, "ca.orderledger.incident.*", "ca.orderledger.billing_period.*", "*"})


@pytest.mark.parametrize(
    "entry",
    [
        "ca.orderledger.order.placed.v2",  # unknown schema version
        "ca.orderledger.order.shipped.v1",  # unknown fact
        "OrderPlaced",  # the ledger's name, not the CloudEvents type
        "ca.orderledger.orders.*",  # unknown family
        "ca.orderledger.nope.*",
        "ca.orderledger.*",  # wider than a family, and not `*`
        "ca.orderledger.order.placed.*",
    ],
)
def test_given_an_unknown_type_or_family_then_the_patterns_are_refused_naming_it(entry):
    # When / Then: a typo never silently matches nothing
    with pytest.raises(ValueError, match="unknown event type") as refused:
        type_patterns([PLACED, entry], CLOUD_TYPES)
    assert repr(entry) in str(refused.value)


def test_given_every_known_type_then_each_is_accepted_and_its_family_wildcard_too():
    # Given / When
    patterns = type_patterns(CLOUD_TYPES, CLOUD_TYPES)
    families = {t.rsplit(".", 2)[0] + ".*" for t in CLOUD_TYPES}
    # Then
    assert patterns == frozenset(CLOUD_TYPES)
    assert type_patterns(families, CLOUD_TYPES) == frozenset(families)
    assert len(families) == 8  # order, contract, organisation, invoice, credit, billing_period, service, incident
