"""Demo services: a clean month, a missed month with credits, a recurrence within 24 h, an approved exclusion,
an outage across a month end, a maintenance window, service-desk calls, and an incident open now.

Loaded through the real commands, before the demo's billing month is closed, so the credits of the
missed month land on that month's statements.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from api.demo.chargeback import CLOUD, first_day, month_of
from events.handling.desk import CommandContext, Desk
from events.handling.services import ServiceDesk
from events.services.commands import (
    ApproveExclusion,
    AssessServiceMonth,
    CloseIncident,
    OpenIncident,
    RecordRecurrence,
    RegisterService,
    ReportDeskCalls,
    RestoreService,
    ScheduleMaintenance,
    UpdateIncident,
)
from events.services.facts import DeskCall, Priority

EASTERN = ZoneInfo("America/Toronto")
CONTACT_CENTRE = "CCAAS"
MAIL = "SECURE-MAIL"


def _calls(within: int, late: int, abandoned_within: int, abandoned_late: int) -> tuple[DeskCall, ...]:
    """Calls answered within 20 s (waits cycling 4–19 s), answered later, abandoned within and after 20 s."""
    return (
        *(DeskCall(outcome="answered", wait_seconds=Decimal(4 + n % 16)) for n in range(within)),
        *(DeskCall(outcome="answered", wait_seconds=Decimal(21 + n % 70)) for n in range(late)),
        *(DeskCall(outcome="abandoned", wait_seconds=Decimal(3 + n % 17)) for n in range(abandoned_within)),
        *(DeskCall(outcome="abandoned", wait_seconds=Decimal(25 + n % 40)) for n in range(abandoned_late)),
    )


def load_services(desk: Desk, new_context: Any, today: date, now: datetime | None = None) -> None:
    services = ServiceDesk(desk)

    def at(moment: datetime) -> CommandContext:
        context: CommandContext = new_context(moment)
        return context

    def moment(day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), EASTERN)

    def incident(
        incident_id: str,
        service_id: str,
        priority: Priority,
        start: datetime,
        minutes: int | None,
        title: str,
        closed_after: int = 30,
    ) -> datetime | None:
        """Open (reported 3 minutes after detection), restore after `minutes`, close; returns the closing time."""
        services.open_incident(
            OpenIncident(
                incident_id=incident_id,
                service_id=service_id,
                title=title,
                priority=priority,
                detected_at=start,
                reported_at=start + timedelta(minutes=3),
            ),
            at(start + timedelta(minutes=5)),
        )
        if minutes is None:
            return None
        restored = start + timedelta(minutes=minutes)
        services.execute_incident(incident_id, RestoreService(restored_at=restored), at(restored))
        closed = restored + timedelta(minutes=closed_after)
        services.execute_incident(incident_id, CloseIncident(closed_at=closed), at(closed))
        return closed

    three_back, two_back, one_back = (month_of(today, back) for back in (3, 2, 1))
    registered = first_day(three_back)
    start = at(moment(registered, 9))
    services.register_service(
        RegisterService(
            service_id=CONTACT_CENTRE,
            name="Contact centre as a service",
            name_fr="Centre de contact en tant que service",
            contract_id=CLOUD[0],
            organisations=("ESDC", "CRA", "SRC"),
            monthly_charge=Decimal("12500.00"),
            registered_on=registered,
        ),
        start,
    )
    services.register_service(
        RegisterService(
            service_id=MAIL,
            name="Secure e-mail",
            name_fr="Courriel sécurisé",
            contract_id=CLOUD[0],
            organisations=("ASPC", "DND", "ESDC"),
            monthly_charge=Decimal("8400.00"),
            registered_on=registered,
        ),
        start,
    )

    # Contact centre. Three months back: a clean month (12 minutes) and a good service desk.
    incident(
        "CC-101", CONTACT_CENTRE, "P3", moment(first_day(three_back) + timedelta(days=9), 14, 20), 12, "Slow queues"
    )
    # Two months back: a 95-minute P1 outage misses the target; the month is assessed and credited.
    incident("CC-114", CONTACT_CENTRE, "P1", moment(first_day(two_back) + timedelta(days=16), 10, 5), 95, "Calls drop")
    # Last month: a 25-minute outage that recurs 6 hours after closing (15 more minutes): reopened, 40 in all.
    closed = incident(
        "CC-127", CONTACT_CENTRE, "P2", moment(first_day(one_back) + timedelta(days=11), 8, 40), 25, "Agents logged out"
    )
    assert closed is not None
    recurred = closed + timedelta(hours=6)
    services.execute_incident("CC-127", RecordRecurrence(recurred_at=recurred), at(recurred))
    back = recurred + timedelta(minutes=15)
    services.execute_incident("CC-127", RestoreService(restored_at=back), at(back))
    services.execute_incident(
        "CC-127", CloseIncident(closed_at=back + timedelta(minutes=20)), at(back + timedelta(minutes=20))
    )

    # Secure e-mail. An outage across the end of the month before last: 25 minutes then, 40 last month.
    crossing = moment(first_day(one_back), 0) - timedelta(minutes=25)
    incident("SM-201", MAIL, "P1", crossing, 65, "Mail delivery stopped")
    # Last month: a maintenance window overrun (30 minutes inside the window, 20 past it count)...
    window_day = first_day(one_back) + timedelta(days=13)
    services.execute_service(
        MAIL,
        ScheduleMaintenance(
            window_id=f"MW-{one_back}",
            starts_at=moment(window_day, 2),
            ends_at=moment(window_day, 4),
            description="Storage upgrade",
        ),
        at(moment(window_day - timedelta(days=7), 10)),
    )
    incident("SM-214", MAIL, "P2", moment(window_day, 3, 30), 50, "Upgrade overran its window")
    # ... and a 2-hour outage caused by another service, excluded with the buyer's approval.
    outage = moment(first_day(one_back) + timedelta(days=20), 13)
    incident("SM-220", MAIL, "P2", outage, 120, "Identity provider down")
    approved = outage + timedelta(days=2)
    services.execute_incident(
        "SM-220",
        ApproveExclusion(reason="other_service_failure", approved_by="SSC service review board", approved_at=approved),
        at(approved),
    )

    # Service desk calls, per month.
    for service_id, month, calls in (
        (CONTACT_CENTRE, three_back, _calls(350, 30, 10, 10)),  # 360 of 400 within 20 s: 90.0 %
        (CONTACT_CENTRE, two_back, _calls(260, 40, 12, 8)),  # 272 of 320: 85.0 %
        (CONTACT_CENTRE, one_back, _calls(200, 70, 20, 10)),  # 220 of 300: 73.3 %, missed
    ):
        day = first_day(month) + timedelta(days=27)
        services.execute_service(
            service_id,
            ReportDeskCalls(report_id=f"{service_id}-{month}", month=month, calls=calls, reported_on=day),
            at(moment(day, 16)),
        )

    # Each month is assessed on the 3rd of the next (rule 28: within 5 working days).
    for service_id, month in (
        (CONTACT_CENTRE, three_back),
        (CONTACT_CENTRE, two_back),
        (MAIL, two_back),
        (CONTACT_CENTRE, one_back),
        (MAIL, one_back),
    ):
        following = (first_day(month) + timedelta(days=32)).replace(day=1)
        day = min(following + timedelta(days=2), today)
        services.assess(service_id, AssessServiceMonth(month=month, assessed_on=day), at(moment(day, 9)))

    # Now: the contact centre has been degraded for 40 minutes; a maintenance window is scheduled next week.
    now = (now or moment(today, 1, 10)) - timedelta(minutes=40)
    services.open_incident(
        OpenIncident(
            incident_id="CC-140",
            service_id=CONTACT_CENTRE,
            title="Reports delayed",
            priority="P3",
            detected_at=now,
            organisations=("ESDC",),
        ),
        at(now + timedelta(minutes=5)),
    )
    services.execute_incident(
        "CC-140",
        UpdateIncident(updated_at=now + timedelta(minutes=20), note="Supplier is replaying the reporting queue"),
        at(now + timedelta(minutes=20)),
    )
    next_week = today + timedelta(days=7)
    services.execute_service(
        MAIL,
        ScheduleMaintenance(
            window_id=f"MW-{next_week.isoformat()}",
            starts_at=moment(next_week, 1),
            ends_at=moment(next_week, 3),
            description="Certificate rotation",
        ),
        at(now + timedelta(minutes=1)),
    )
