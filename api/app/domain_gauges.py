"""The business at a glance, as Prometheus gauges read from the read models at each scrape."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from api.app.commands import business_today
from api.orders.routes import LATE
from api.services.levels import month_level, month_row
from events.services.availability import month_of
from processors.wiring import Orderledger
from projections.contract_capacity import CONTRACT_CAPACITY
from projections.order_status import ORDER_STATUS
from projections.service_status import SERVICE_STATUS, ServiceStatus

NEAR_CEILING_BASIS_POINTS = 9000  # 90 % of the ceiling committed or consumed


class DomainGauges:
    def __init__(self, app: Orderledger) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        app = self.app
        today = business_today(app)
        yield GaugeMetricFamily(
            "orderledger_order_status_late_orders",
            "Orders with deliveries still open past their agreed delivery date (Eastern Time)",
            app.projections.count(ORDER_STATUS, LATE, (today.isoformat(),)),
        )
        yield GaugeMetricFamily(
            "orderledger_contract_capacity_near_ceiling_contracts",
            "Active contracts with at least 90 % of their ceiling committed or consumed",
            app.projections.count(
                CONTRACT_CAPACITY, "status = 'active' AND used_basis_points >= ?", (NEAR_CEILING_BASIS_POINTS,)
            ),
        )
        now = app.clock()
        month = month_of(now)
        percent = GaugeMetricFamily(
            "orderledger_service_availability_month_percent",
            "Availability of each service this calendar month so far (Eastern Time), in percent",
            labels=["service"],
        )
        below = 0
        services: list[ServiceStatus] = app.projections.query(SERVICE_STATUS, limit=10_000)
        for service in services:
            if service.registered is None:
                continue
            level = month_level(service, month_row(app, service.service_id, month), month, now)
            percent.add_metric([service.service_id], float(level.availability_pct))
            below += not level.met
        yield GaugeMetricFamily(
            "orderledger_service_availability_below_target_services",
            "Services whose availability this month is below their target (99.9 % unless registered otherwise)",
            below,
        )
        yield percent
