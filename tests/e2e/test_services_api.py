"""Services, incidents and availability end to end over HTTP (issue 6, rules 22–28), checked to the minute and cent.

The ledger's clock is on the suite's fixed today (tests/conftest.py TODAY, 18 November 2026): September and
October 2026 are past months, November 2026 is the current one.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from events.publishing.audience import EventGrant

SERVICE = "CCAAS"
CONTRACT = "CLOUD-S"


# ---------------------------------------------------------------- givens


@pytest.fixture
def served(client, broker, today):
    """ESDC (federal) and SQI (other), a cloud contract at a 2 % fee and a contact-centre service serving both."""
    for code, status in (("ESDC", "federal"), ("SQI", "other")):
        answer = client.post(
            "/v1/organisations",
            json={"code": code, "name_en": f"{code} (en)", "name_fr": f"{code} (fr)", "tax_status": status},
            headers=broker,
        )
        assert answer.status_code == 201, answer.text
    contract = {
        "contract_id": CONTRACT,
        "kind": "cloud",
        "supplier": "Nimbus Cloud",
        "ceiling": "1000000.00",
        "start_date": (today - timedelta(days=200)).isoformat(),
        "end_date": (today + timedelta(days=500)).isoformat(),
        "fee_rate": "0.02",
    }
    answer = client.post("/v1/contracts", json=contract, headers=broker)
    assert answer.status_code == 201, answer.text
    answer = client.post("/v1/services", json=service_body(), headers=broker)
    assert answer.status_code == 201, answer.text
    assert answer.json()["stream_id"] == f"service-{SERVICE}"
    return SERVICE


def service_body(**changes: object) -> dict[str, object]:
    return {
        "service_id": SERVICE,
        "name": "Contact centre",
        "contract_id": CONTRACT,
        "organisations": ["ESDC", "SQI"],
        "monthly_charge": "10000.00",
        "registered_on": "2026-09-01",
    } | changes


def open_body(incident_id: str, **changes: object) -> dict[str, object]:
    return {
        "incident_id": incident_id,
        "service_id": SERVICE,
        "title": "Calls drop",
        "priority": "P1",
        "detected_at": "2026-09-30T23:40:00-04:00",
        "reported_at": "2026-09-30T23:50:00-04:00",
    } | changes


def post(client, headers, path: str, body: dict[str, object], status: int = 201) -> dict:
    answer = client.post(path, json=body, headers=headers)
    assert answer.status_code == status, answer.text
    return answer.json()


def incident(client, broker, incident_id: str, restored: str, closed: str, **opened: object) -> None:
    """An incident opened, restored and closed."""
    post(client, broker, "/v1/incidents", open_body(incident_id, **opened))
    post(client, broker, f"/v1/incidents/{incident_id}/restore", {"restored_at": restored}, 200)
    post(client, broker, f"/v1/incidents/{incident_id}/close", {"closed_at": closed}, 200)


def availability(client, headers, month: str, service: str = SERVICE) -> dict:
    answer = client.get(f"/v1/services/{service}/availability?month={month}", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def figures(level: dict) -> tuple:
    return (
        level["minutes_in_period"],
        level["outage_minutes"],
        level["excluded_minutes"],
        level["maintenance_minutes"],
        level["availability_pct"],
        level["met"],
    )


@pytest.fixture
def across_month_end(client, broker, served):
    """INC-1: detected 23:40 on 30 September (reported 23:50), restored 00:24 on 1 October, closed 01:00."""
    incident(client, broker, "INC-1", "2026-10-01T00:24:00-04:00", "2026-10-01T01:00:00-04:00")
    return "INC-1"


# ---------------------------------------------------------------- 1. outage across a month end, recurrence


def test_given_an_outage_across_a_month_end_then_each_month_counts_its_minutes_from_the_first_of_detected_or_reported(
    client, broker, across_month_end, today
):
    # Then: September counts 23:40–24:00 (detected before reported: rule 22), October 00:00–00:24
    assert figures(availability(client, broker, "2026-09")) == (43200, "20.000", "0.000", "0.000", "99.953", True)
    october = availability(client, broker, "2026-10")
    assert figures(october) == (44640, "24.000", "0.000", "0.000", "99.946", True)
    assert october["target_pct"] == "99.900" and october["timezone"] == "America/Toronto"
    assert october["complete"] is True
    [share] = october["exceptions"]
    assert (share["incident_id"], share["status"], share["outage_minutes"]) == ("INC-1", "closed", "24.000")
    shown = client.get("/v1/incidents/INC-1", headers=broker).json()
    assert shown["incident"]["outages"] == [
        {"started_at": "2026-09-30T23:40:00-04:00", "ended_at": "2026-10-01T00:24:00-04:00"}
    ]
    assert shown["incident"]["months"][:2] == ["2026-09", "2026-10"]  # and the month it was recorded in
    # The month it was recorded in (the current one) counts none of it
    now = availability(client, broker, today.strftime("%Y-%m"))
    assert (now["outage_minutes"], now["exceptions"], now["complete"]) == ("0.000", [], False)


def test_given_a_closed_incident_when_it_recurs_within_24_hours_then_it_reopens_and_the_combined_outage_counts(
    client, broker, across_month_end, ledger_app
):
    # When: it recurs 23 h after closing, is restored 30 minutes later and closed again
    recurred = post(client, broker, "/v1/incidents/INC-1/recurrence", {"recurred_at": "2026-10-02T00:00:00-04:00"}, 200)
    assert recurred["events"] == ["IncidentRecurred"]
    assert recurred["stream_id"] == "incident-INC-1"
    assert recurred["incident"]["incident"]["status"] == "open"
    post(client, broker, "/v1/incidents/INC-1/restore", {"restored_at": "2026-10-02T00:30:00-04:00"}, 200)
    closed = post(client, broker, "/v1/incidents/INC-1/close", {"closed_at": "2026-10-02T01:00:00-04:00"}, 200)
    assert closed["events"] == ["IncidentClosed"]
    # Then: October's outage is the combined 24 + 30 minutes, below the 99.900 % target
    assert figures(availability(client, broker, "2026-10")) == (44640, "54.000", "0.000", "0.000", "99.879", False)
    assert figures(availability(client, broker, "2026-09")) == (43200, "20.000", "0.000", "0.000", "99.953", True)
    shown = client.get("/v1/incidents/INC-1", headers=broker).json()
    record = shown["incident"]
    assert (record["status"], record["recurrences"], record["recurrence_of"]) == ("closed", 1, None)
    assert len(record["outages"]) == 2
    assert [(e["kind"], e["status"]) for e in shown["timeline"]] == [
        ("IncidentOpened", "open"),
        ("ServiceRestored", "restored"),
        ("IncidentClosed", "closed"),
        ("IncidentRecurred", "open"),
        ("ServiceRestored", "restored"),
        ("IncidentClosed", "closed"),
    ]
    # and the second closing freezes the combined duration: 20 + 24 + 30 minutes (rule 24)
    [event] = ledger_app.ledger.read_all(closed["position"] - 1, 1)
    assert (event.type, event.data["outage_minutes"]) == ("IncidentClosed", "74.000")


def test_given_a_closed_incident_when_it_recurs_after_24_hours_then_a_new_incident_refers_to_it(
    client, broker, across_month_end, ledger_app
):
    # When: it recurs 25 h after closing
    head = ledger_app.ledger.head()
    recurred = post(
        client,
        broker,
        "/v1/incidents/INC-1/recurrence",
        {"recurred_at": "2026-10-02T02:00:00-04:00", "new_incident_id": "INC-2"},
        200,
    )
    # Then: a new incident, referring to the old one, logged on the service; the old one stays closed and unchanged
    assert recurred["stream_id"] == "incident-INC-2"
    assert recurred["events"] == ["IncidentOpened"]
    assert [e.type for e in ledger_app.ledger.read_all(head, 10)] == ["IncidentOpened", "IncidentLogged"]
    assert recurred["incident"]["incident"]["recurrence_of"] == "INC-1"
    assert recurred["incident"]["incident"]["status"] == "open"
    new = client.get("/v1/incidents/INC-2", headers=broker).json()["incident"]
    assert (new["recurrence_of"], new["status"], new["outages"][0]["started_at"]) == (
        "INC-1",
        "open",
        "2026-10-02T02:00:00-04:00",
    )
    old = client.get("/v1/incidents/INC-1", headers=broker).json()["incident"]
    assert (old["status"], old["recurrences"], len(old["outages"])) == ("closed", 0, 1)
    assert "INC-2" in client.get(f"/v1/services/{SERVICE}", headers=broker).json()["open_incidents"]


def test_given_a_recurrence_after_24_hours_without_a_new_id_then_the_new_incident_is_named_after_the_old(
    client, broker, across_month_end, ledger_app
):
    recurred = post(client, broker, "/v1/incidents/INC-1/recurrence", {"recurred_at": "2026-10-03T00:00:00-04:00"}, 200)
    assert recurred["stream_id"] == "incident-INC-1-R"
    assert recurred["incident"]["incident"]["recurrence_of"] == "INC-1"
    # A second late recurrence would need another name: the default one is taken
    head = ledger_app.ledger.head()
    again = client.post(
        "/v1/incidents/INC-1/recurrence", json={"recurred_at": "2026-10-03T00:00:00-04:00"}, headers=broker
    )
    assert (again.status_code, again.json()["code"]) == (409, "incident_exists")
    assert ledger_app.ledger.head() == head


@pytest.mark.parametrize(
    ("month", "minutes"),
    [("2026-02", 40320), ("2026-03", 44580), ("2026-09", 43200), ("2026-10", 44640), ("2026-11", 43260)],
)
def test_given_a_month_then_its_minutes_are_counted_in_eastern_time_across_daylight_saving_changes(
    client, broker, served, month, minutes
):
    level = availability(client, broker, month)
    assert (level["minutes_in_period"], level["outage_minutes"], level["availability_pct"], level["met"]) == (
        minutes,
        "0.000",
        "100.000",
        True,
    )


# ---------------------------------------------------------------- 3. assessment and service credits


@pytest.fixture
def missed_october(client, broker, across_month_end):
    """INC-1 recurred within 24 h: October's outage is 54 minutes, 99.879 %."""
    post(client, broker, "/v1/incidents/INC-1/recurrence", {"recurred_at": "2026-10-02T00:00:00-04:00"}, 200)
    post(client, broker, "/v1/incidents/INC-1/restore", {"restored_at": "2026-10-02T00:30:00-04:00"}, 200)
    post(client, broker, "/v1/incidents/INC-1/close", {"closed_at": "2026-10-02T01:00:00-04:00"}, 200)


def credit_lines(client, headers, org: str, period: str) -> list[tuple]:
    answer = client.get(f"/v1/chargeback/{org}?period={period}", headers=headers)
    assert answer.status_code == 200, answer.text
    return [(ln["category"], ln["tax_component"], ln["amount"], ln["reference"]) for ln in answer.json()["lines"]]


def test_given_a_missed_month_when_assessed_then_each_organisation_is_credited_with_tax_and_fee(
    client, broker, missed_october, ledger_app, today
):
    # When: the broker assesses October
    assessed = post(client, broker, f"/v1/services/{SERVICE}/assessments", {"month": "2026-10"})
    # Then: missed, 5 % of the 10,000.00 monthly charge to each organisation served
    assessment = assessed["assessment"]
    assert assessed["events"][0] == "ServiceMonthAssessed"
    assert (assessment["met"], assessment["availability_pct"], assessment["outage_minutes"]) == (
        False,
        "99.879",
        "54.000",
    )
    assert assessment["credit_pct"] == "5"
    assert assessment["incidents"] == ["INC-1"]
    assert [(c["client_org"], c["amount"]) for c in assessment["credits"]] == [
        ("ESDC", "500.00"),
        ("SQI", "500.00"),
    ]
    # and October's statements carry the credit, its HST (Ontario 13 %) and the 2 % management fee credited back
    reference = f"{SERVICE} 2026-10"
    for org in ("ESDC", "SQI"):
        assert credit_lines(client, broker, org, "2026-10") == [
            ("credit", None, "-500.00", reference),
            ("tax", "HST", "-65.00", reference),
            ("management_fee", None, "-10.00", reference),
        ], org
    statement = client.get("/v1/chargeback/ESDC?period=2026-10", headers=broker).json()
    assert statement["totals"]["total"] == "-575.00"
    # and the month shows its assessment
    assert availability(client, broker, "2026-10")["assessment"]["credit_pct"] == "5"
    assert client.get(f"/v1/services/{SERVICE}", headers=broker).json()["assessed_months"] == ["2026-10"]
    # When: assessed again, or the current month assessed
    head = ledger_app.ledger.head()
    again = client.post(f"/v1/services/{SERVICE}/assessments", json={"month": "2026-10"}, headers=broker)
    assert (again.status_code, again.json()["code"]) == (409, "month_assessed")
    early = client.post(f"/v1/services/{SERVICE}/assessments", json={"month": today.strftime("%Y-%m")}, headers=broker)
    assert (early.status_code, early.json()["code"]) == (422, "month_not_over")
    # Then: nothing appended
    assert ledger_app.ledger.head() == head


def test_given_a_month_that_met_its_target_when_assessed_then_no_credit(client, broker, across_month_end):
    assessed = post(client, broker, f"/v1/services/{SERVICE}/assessments", {"month": "2026-09"})
    assessment = assessed["assessment"]
    assert (assessment["met"], assessment["availability_pct"], assessment["credit_pct"]) == (True, "99.953", "0")
    assert assessment["credits"] == []
    assert credit_lines(client, broker, "ESDC", "2026-09") == []


def test_given_a_long_outage_of_one_organisation_when_assessed_then_the_10_percent_tier_credits_only_it(
    client, broker, served
):
    # Given: 8 hours down on 15 September for ESDC only: 480 of 43,200 minutes, 98.888 %, below 99.000 %
    incident(
        client,
        broker,
        "INC-L",
        "2026-09-15T16:00:00-04:00",
        "2026-09-15T17:00:00-04:00",
        detected_at="2026-09-15T08:00:00-04:00",
        reported_at="2026-09-15T08:05:00-04:00",
        organisations=["ESDC"],
    )
    # When: September is assessed
    assessment = post(client, broker, f"/v1/services/{SERVICE}/assessments", {"month": "2026-09"})["assessment"]
    # Then: 10 % of 10,000.00 to ESDC, the only organisation affected
    assert (assessment["outage_minutes"], assessment["availability_pct"], assessment["credit_pct"]) == (
        "480.000",
        "98.888",
        "10",
    )
    assert [(c["client_org"], c["amount"]) for c in assessment["credits"]] == [("ESDC", "1000.00")]
    reference = f"{SERVICE} 2026-09"
    assert credit_lines(client, broker, "ESDC", "2026-09") == [
        ("credit", None, "-1000.00", reference),
        ("tax", "HST", "-130.00", reference),
        ("management_fee", None, "-20.00", reference),
    ]
    assert credit_lines(client, broker, "SQI", "2026-09") == []


@pytest.mark.parametrize(
    ("restored_at", "outage", "shown", "met"),
    [
        ("2026-09-15T10:43:12-04:00", "43.200", "99.900", True),  # exactly the 0.1 % a 30-day month allows
        ("2026-09-15T10:43:13-04:00", "43.217", "99.899", False),  # one second more: truncated, never rounded up
    ],
)
def test_given_an_outage_at_the_target_boundary_then_the_month_is_met_only_up_to_the_exact_target(
    client, broker, served, restored_at, outage, shown, met
):
    incident(
        client,
        broker,
        "INC-B",
        restored_at,
        "2026-09-15T12:00:00-04:00",
        detected_at="2026-09-15T10:00:00-04:00",
        reported_at=None,
    )
    level = availability(client, broker, "2026-09")
    assert (level["outage_minutes"], level["availability_pct"], level["met"]) == (outage, shown, met)


def test_given_overlapping_incidents_then_the_minutes_they_share_count_once(client, broker, served):
    incident(
        client,
        broker,
        "INC-A",
        "2026-09-20T11:00:00-04:00",
        "2026-09-20T12:00:00-04:00",
        detected_at="2026-09-20T10:00:00-04:00",
        reported_at=None,
    )
    incident(
        client,
        broker,
        "INC-B",
        "2026-09-20T11:30:00-04:00",
        "2026-09-20T12:00:00-04:00",
        detected_at=None,
        reported_at="2026-09-20T10:30:00-04:00",
        priority="P3",
    )
    level = availability(client, broker, "2026-09")
    assert (level["outage_minutes"], level["availability_pct"]) == ("90.000", "99.791")
    assert [(e["incident_id"], e["outage_minutes"], e["priority"]) for e in level["exceptions"]] == [
        ("INC-A", "60.000", "P1"),
        ("INC-B", "60.000", "P3"),
    ]


def test_given_an_incident_not_closed_when_the_month_is_assessed_then_refused(client, broker, served, ledger_app):
    post(client, broker, "/v1/incidents", open_body("INC-9", detected_at="2026-10-05T10:00:00-04:00", reported_at=None))
    post(client, broker, "/v1/incidents/INC-9/restore", {"restored_at": "2026-10-05T11:00:00-04:00"}, 200)
    head = ledger_app.ledger.head()
    refused = client.post(f"/v1/services/{SERVICE}/assessments", json={"month": "2026-10"}, headers=broker)
    assert (refused.status_code, refused.json()["code"]) == (422, "incidents_not_closed")
    assert ledger_app.ledger.head() == head


# ---------------------------------------------------------------- 4. maintenance windows


def test_given_a_maintenance_window_then_downtime_inside_it_is_maintenance_and_past_its_end_counts(
    client, broker, served
):
    # Given: an approved window 02:00–04:00 on 10 September
    window = {
        "window_id": "MW-1",
        "starts_at": "2026-09-10T02:00:00-04:00",
        "ends_at": "2026-09-10T04:00:00-04:00",
        "description": "platform upgrade",
    }
    post(client, broker, f"/v1/services/{SERVICE}/maintenance-windows", window)
    # When: an outage from 03:00 runs until 04:30, half an hour past the window's end
    incident(
        client,
        broker,
        "INC-M",
        "2026-09-10T04:30:00-04:00",
        "2026-09-10T05:00:00-04:00",
        detected_at="2026-09-10T03:00:00-04:00",
        reported_at=None,
    )
    # Then: 60 minutes inside the window are maintenance, the 30 past its end are outage
    september = availability(client, broker, "2026-09")
    assert figures(september) == (43200, "30.000", "0.000", "60.000", "99.930", True)
    [share] = september["exceptions"]
    assert (share["outage_minutes"], share["maintenance_minutes"]) == ("30.000", "60.000")
    windows = client.get(f"/v1/services/{SERVICE}", headers=broker).json()["maintenance_windows"]
    assert [w["window_id"] for w in windows] == ["MW-1"]


# ---------------------------------------------------------------- 5. exclusions


def test_given_an_approved_exclusion_then_its_minutes_are_excluded_and_an_unlisted_reason_is_refused(
    client, broker, served, ledger_app
):
    # Given: a 45-minute outage on 15 September
    incident(
        client,
        broker,
        "INC-X",
        "2026-09-15T10:45:00-04:00",
        "2026-09-15T11:00:00-04:00",
        detected_at="2026-09-15T10:00:00-04:00",
        reported_at=None,
    )
    # When: an exclusion for the weather (not one of the six reasons of rule 25) is asked for
    head = ledger_app.ledger.head()
    weather = {"reason": "weather", "approved_by": "J. Tremblay", "approved_at": "2026-09-16T09:00:00-04:00"}
    refused = client.post("/v1/incidents/INC-X/exclusions", json=weather, headers=broker)
    # Then: refused, nothing appended
    assert (refused.status_code, refused.json()["code"]) == (422, "invalid_request"), refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert ledger_app.ledger.head() == head
    # When: the first 30 minutes are excluded: another service failed
    approved = post(
        client,
        broker,
        "/v1/incidents/INC-X/exclusions",
        weather
        | {
            "reason": "other_service_failure",
            "starts_at": "2026-09-15T10:00:00-04:00",
            "ends_at": "2026-09-15T10:30:00-04:00",
        },
        200,
    )
    assert approved["events"] == ["OutageExclusionApproved"]
    # Then: 30 minutes excluded, 15 counted
    september = availability(client, broker, "2026-09")
    assert figures(september) == (43200, "15.000", "30.000", "0.000", "99.965", True)
    [share] = september["exceptions"]
    assert [x["reason"] for x in share["exclusions"]] == ["other_service_failure"]


# ---------------------------------------------------------------- 6. service desk


@pytest.mark.parametrize(
    ("calls", "within_pct", "met"),
    [
        # 4 of 5 within 20 s, one of them abandoned within 20 s (counts as met), 20.0 s exactly counts
        (
            [
                ("answered", "12.0"),
                ("answered", "20.0"),
                ("abandoned", "15.0"),
                ("answered", "19.9"),
                ("answered", "45.0"),
            ],
            "80.0",
            True,
        ),
        # 2 of 3: an abandoned call after 20 s does not count
        ([("answered", "3.0"), ("abandoned", "25.0"), ("abandoned", "2.0")], "66.6", False),
    ],
)
def test_given_a_months_service_desk_calls_then_the_share_within_20_seconds_is_exact(
    client, broker, served, calls, within_pct, met
):
    body = {
        "report_id": "DESK-2026-10",
        "month": "2026-10",
        "calls": [{"outcome": outcome, "wait_seconds": wait} for outcome, wait in calls],
    }
    post(client, broker, f"/v1/services/{SERVICE}/service-desk-calls", body)
    desk = availability(client, broker, "2026-10")["service_desk"]
    answered = [c for c in calls if c[0] == "answered"]
    assert desk["calls"] == len(calls) and desk["answered"] == len(answered)
    assert (desk["within_pct"], desk["target_pct"], desk["met"]) == (within_pct, "80.0", met)
    # A month without calls reports no level, not a failure
    empty = availability(client, broker, "2026-09")["service_desk"]
    assert (empty["calls"], empty["within_pct"], empty["met"]) == (0, None, None)


def test_given_two_reports_for_a_month_then_they_add_up_and_the_same_report_twice_is_refused(
    client, broker, served, ledger_app
):
    first = {"report_id": "D-1", "month": "2026-10", "calls": [{"outcome": "answered", "wait_seconds": "30.0"}]}
    second = {"report_id": "D-2", "month": "2026-10", "calls": [{"outcome": "answered", "wait_seconds": "1.0"}] * 4}
    post(client, broker, f"/v1/services/{SERVICE}/service-desk-calls", first)
    post(client, broker, f"/v1/services/{SERVICE}/service-desk-calls", second)
    desk = availability(client, broker, "2026-10")["service_desk"]
    assert (desk["calls"], desk["answered_within_20s"], desk["within_pct"], desk["met"]) == (5, 4, "80.0", True)
    head = ledger_app.ledger.head()
    again = client.post(f"/v1/services/{SERVICE}/service-desk-calls", json=first, headers=broker)
    assert (again.status_code, again.json()["code"]) == (409, "report_exists")
    assert ledger_app.ledger.head() == head


# ---------------------------------------------------------------- 7. bad input


@pytest.fixture
def restored_incident(client, broker, served):
    """INC-R: detected 10:00 on 20 October, restored 10:40, not closed."""
    post(client, broker, "/v1/incidents", open_body("INC-R", detected_at="2026-10-20T10:00:00-04:00", reported_at=None))
    post(client, broker, "/v1/incidents/INC-R/restore", {"restored_at": "2026-10-20T10:40:00-04:00"}, 200)
    return "INC-R"


BAD_REQUESTS = [
    # (path, body, status, code)
    ("/v1/incidents/INC-O/restore", {"restored_at": "2026-10-20T09:59:00-04:00"}, 422, "restored_before_outage"),
    ("/v1/incidents/INC-O/close", {"closed_at": "2026-10-20T12:00:00-04:00"}, 422, "incident_not_restored"),
    ("/v1/incidents/INC-C/restore", {"restored_at": "2026-10-01T00:30:00-04:00"}, 409, "incident_closed"),
    ("/v1/incidents/INC-C/updates", {"updated_at": "2026-10-01T02:00:00-04:00", "note": "x"}, 409, "incident_closed"),
    ("/v1/incidents", open_body("INC-N", service_id="NOPE"), 404, "service_not_found"),
    ("/v1/incidents/NOPE/restore", {"restored_at": "2026-10-20T10:40:00-04:00"}, 404, "incident_not_found"),
    ("/v1/incidents/NOPE/recurrence", {"recurred_at": "2026-10-20T10:40:00-04:00"}, 404, "incident_not_found"),
    ("/v1/incidents", open_body("INC-N", detected_at=None, reported_at=None), 422, "outage_start_missing"),
    ("/v1/incidents", open_body("INC-N", detected_at="2026-10-20T10:00:00"), 422, "invalid_request"),
    ("/v1/incidents", open_body("INC-C"), 409, "incident_exists"),
    # A time past the clock skew, a month after the current one: refused at the edge by the date window
    ("/v1/incidents", open_body("INC-N", detected_at=None, reported_at="FUTURE"), 422, "date_out_of_range"),
    ("/v1/incidents/INC-O/restore", {"restored_at": "FUTURE"}, 422, "date_out_of_range"),
    ("/v1/incidents", open_body("INC-N", organisations=["DND"]), 422, "organisation_not_served"),
    ("/v1/incidents", open_body("INC-N", priority="P0"), 422, "invalid_request"),
    ("/v1/incidents/INC-R/close", {"closed_at": "2026-10-20T10:39:00-04:00"}, 422, "closed_before_restore"),
    (
        "/v1/incidents/INC-O/exclusions",
        {"reason": "planned_downtime", "approved_by": "A", "approved_at": "2026-10-21T00:00:00-04:00"},
        422,
        "incident_not_restored",
    ),
    (
        "/v1/incidents/INC-R/exclusions",
        {
            "reason": "planned_downtime",
            "approved_by": "A",
            "approved_at": "2026-10-21T00:00:00-04:00",
            "starts_at": "2026-10-20T09:00:00-04:00",
        },
        422,
        "exclusion_outside_outage",
    ),
    ("/v1/incidents/INC-R/recurrence", {"recurred_at": "2026-10-21T00:00:00-04:00"}, 422, "incident_not_closed"),
    ("/v1/incidents/INC-C/recurrence", {"recurred_at": "2026-10-01T00:50:00-04:00"}, 422, "recurred_before_close"),
    ("/v1/services", service_body(service_id="S-2", target_pct="99.9001"), 422, "invalid_request"),
    ("/v1/services", service_body(service_id="S-2", target_pct="100.001"), 422, "invalid_request"),
    ("/v1/services", service_body(service_id="S-2", monthly_charge="10.001"), 422, "invalid_request"),
    ("/v1/services", service_body(service_id="S-2", organisations=["DND"]), 422, "unknown_organisation"),
    ("/v1/services", service_body(service_id="S-2", contract_id="NOPE"), 422, "unknown_contract"),
    ("/v1/services", service_body(), 409, "service_exists"),
    (
        "/v1/services/NOPE/maintenance-windows",
        {"window_id": "W", "starts_at": "2026-10-01T00:00:00-04:00", "ends_at": "2026-10-01T01:00:00-04:00"},
        404,
        "service_not_found",
    ),
    (
        f"/v1/services/{SERVICE}/maintenance-windows",
        {"window_id": "W", "starts_at": "2026-10-01T01:00:00-04:00", "ends_at": "2026-10-01T00:00:00-04:00"},
        422,
        "window_inverted",
    ),
    (
        f"/v1/services/{SERVICE}/maintenance-windows",
        {"window_id": "W", "starts_at": "2026-10-01T00:00:00-04:00", "ends_at": "2026-10-09T00:00:00-04:00"},
        422,
        "window_too_long",
    ),
    (
        f"/v1/services/{SERVICE}/service-desk-calls",
        {"report_id": "D", "month": "2026-10", "calls": [{"outcome": "hung_up", "wait_seconds": "1.0"}]},
        422,
        "invalid_request",
    ),
    (
        f"/v1/services/{SERVICE}/service-desk-calls",
        {"report_id": "D", "month": "2026-10", "calls": []},
        422,
        "invalid_request",
    ),
    (
        f"/v1/services/{SERVICE}/service-desk-calls",
        {"report_id": "D", "month": "2099-01", "calls": [{"outcome": "answered", "wait_seconds": "1.0"}]},
        422,
        "date_out_of_range",
    ),
    (f"/v1/services/{SERVICE}/assessments", {"month": "2026-13"}, 422, "invalid_request"),
    ("/v1/services/NOPE/assessments", {"month": "2026-10"}, 404, "service_not_found"),
]


@pytest.mark.parametrize(
    ("path", "body", "status", "code"), BAD_REQUESTS, ids=[f"{r[3]}-{n}" for n, r in enumerate(BAD_REQUESTS)]
)
def test_given_bad_input_then_a_clear_4xx_problem_and_nothing_appended(
    client, broker, across_month_end, restored_incident, ledger_app, clock, path, body, status, code
):
    # Given: INC-C closed (30 September–1 October), INC-R restored, INC-O open since 10:00 on 20 October
    incident(client, broker, "INC-C", "2026-10-01T00:24:00-04:00", "2026-10-01T01:00:00-04:00")
    post(client, broker, "/v1/incidents", open_body("INC-O", detected_at="2026-10-20T10:00:00-04:00", reported_at=None))
    future = (clock() + timedelta(hours=2)).isoformat()  # past the clock skew the ledger tolerates
    body = {k: future if v == "FUTURE" else v for k, v in body.items()}
    head = ledger_app.ledger.head()
    refused = client.post(path, json=body, headers=broker)
    assert (refused.status_code, refused.json()["code"]) == (status, code), refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["detail"]
    assert ledger_app.ledger.head() == head


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        (f"/v1/services/{SERVICE}/availability?month=2026-13", 422, "invalid_request"),
        (f"/v1/services/{SERVICE}/availability?month=2026-1", 422, "invalid_request"),
        (f"/v1/services/{SERVICE}/availability", 422, "invalid_request"),
        ("/v1/services/NOPE/availability?month=2026-10", 404, "service_not_found"),
        ("/v1/services/NOPE", 404, "service_not_found"),
        ("/v1/incidents/NOPE", 404, "incident_not_found"),
    ],
)
def test_given_bad_reads_then_a_clear_4xx_problem(client, broker, served, path, status, code):
    refused = client.get(path, headers=broker)
    assert (refused.status_code, refused.json()["code"]) == (status, code), refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_given_a_closed_incident_then_its_outage_duration_cannot_be_changed(client, broker, across_month_end):
    # Rule 23: restoring (correcting the end of) a closed incident is refused; its outage stays 44 minutes
    refused = client.post(
        "/v1/incidents/INC-1/restore", json={"restored_at": "2026-10-01T00:05:00-04:00"}, headers=broker
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "incident_closed")
    record = client.get("/v1/incidents/INC-1", headers=broker).json()["incident"]
    assert record["outages"][0]["ended_at"] == "2026-10-01T00:24:00-04:00"
    assert availability(client, broker, "2026-10")["outage_minutes"] == "24.000"


def test_given_a_restored_incident_when_its_restore_time_is_corrected_before_closing_then_the_outage_follows(
    client, broker, served
):
    post(client, broker, "/v1/incidents", open_body("INC-K", detected_at="2026-10-20T10:00:00-04:00", reported_at=None))
    post(client, broker, "/v1/incidents/INC-K/restore", {"restored_at": "2026-10-20T11:00:00-04:00"}, 200)
    post(client, broker, "/v1/incidents/INC-K/restore", {"restored_at": "2026-10-20T10:10:00-04:00"}, 200)
    closed = post(client, broker, "/v1/incidents/INC-K/close", {"closed_at": "2026-10-20T12:00:00-04:00"}, 200)
    assert closed["incident"]["incident"]["outages"][0]["ended_at"] == "2026-10-20T10:10:00-04:00"
    assert availability(client, broker, "2026-10")["outage_minutes"] == "10.000"


# ---------------------------------------------------------------- 8. access


def test_given_client_keys_then_each_sees_the_services_it_uses_and_only_its_own_credits(
    client, broker, missed_october, key_for, ledger_app
):
    post(client, broker, f"/v1/services/{SERVICE}/assessments", {"month": "2026-10"})
    esdc = key_for("client:ESDC")
    # ESDC sees the service, its availability and the incident, but only its own credit
    seen = availability(client, esdc, "2026-10")
    assert (seen["outage_minutes"], seen["availability_pct"], seen["met"]) == ("54.000", "99.879", False)
    assert [(c["client_org"], c["amount"]) for c in seen["assessment"]["credits"]] == [("ESDC", "500.00")]
    assert availability(client, broker, "2026-10")["assessment"]["credits"][1]["client_org"] == "SQI"
    assert client.get(f"/v1/services/{SERVICE}", headers=esdc).status_code == 200
    assert [s["service_id"] for s in client.get("/v1/services", headers=esdc).json()["services"]] == [SERVICE]
    assert client.get("/v1/incidents/INC-1", headers=esdc).status_code == 200
    # A client of an organisation the service does not serve does not know it exists
    dnd = key_for("client:DND")
    for path in (
        f"/v1/services/{SERVICE}",
        f"/v1/services/{SERVICE}/availability?month=2026-10",
        "/v1/incidents/INC-1",
    ):
        hidden = client.get(path, headers=dnd)
        assert hidden.status_code == 404, path
        assert hidden.json()["code"] in ("service_not_found", "incident_not_found")
    assert client.get("/v1/services", headers=dnd).json()["services"] == []
    # An integrator sees a service only if granted every organisation it serves
    granted = EventGrant(frozenset({"*"}), frozenset({"ESDC", "SQI", "CRA"}))
    integrator = {"Authorization": f"Bearer {ledger_app.keys.create('integrator', 't', granted)}"}
    assert availability(client, integrator, "2026-10")["outage_minutes"] == "54.000"
    assert client.get(f"/v1/services/{SERVICE}", headers=key_for("integrator")).status_code == 404


@pytest.mark.parametrize("role", ["client:ESDC", "integrator"])
def test_given_a_non_broker_key_then_every_service_command_is_refused_and_nothing_appended(
    client, broker, restored_incident, key_for, ledger_app, role
):
    headers = key_for(role)
    head = ledger_app.ledger.head()
    commands = [
        ("/v1/services", service_body(service_id="S-2")),
        (
            f"/v1/services/{SERVICE}/maintenance-windows",
            {"window_id": "W", "starts_at": "2026-10-01T00:00:00-04:00", "ends_at": "2026-10-01T01:00:00-04:00"},
        ),
        (
            f"/v1/services/{SERVICE}/service-desk-calls",
            {"report_id": "D", "month": "2026-10", "calls": [{"outcome": "answered", "wait_seconds": "1.0"}]},
        ),
        (f"/v1/services/{SERVICE}/assessments", {"month": "2026-09"}),
        ("/v1/incidents", open_body("INC-N")),
        ("/v1/incidents/INC-R/updates", {"updated_at": "2026-10-20T10:50:00-04:00", "note": "looking"}),
        ("/v1/incidents/INC-R/restore", {"restored_at": "2026-10-20T10:30:00-04:00"}),
        ("/v1/incidents/INC-R/close", {"closed_at": "2026-10-20T11:00:00-04:00"}),
        ("/v1/incidents/INC-R/recurrence", {"recurred_at": "2026-10-20T11:00:00-04:00"}),
        (
            "/v1/incidents/INC-R/exclusions",
            {"reason": "planned_downtime", "approved_by": "A", "approved_at": "2026-10-21T00:00:00-04:00"},
        ),
    ]
    for path, body in commands:
        refused = client.post(path, json=body, headers=headers)
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden_role"), path
    assert ledger_app.ledger.head() == head
    assert client.post("/v1/incidents", json=open_body("INC-N")).status_code == 401


# ---------------------------------------------------------------- 9. idempotency


def test_given_an_idempotency_key_when_an_incident_is_opened_twice_then_it_replays_without_new_events(
    client, broker, served, ledger_app
):
    headers = broker | {"Idempotency-Key": "open-INC-I"}
    body = open_body("INC-I", detected_at="2026-10-20T10:00:00-04:00", reported_at=None)
    first = client.post("/v1/incidents", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["events"] == ["IncidentOpened"]
    assert "Idempotent-Replayed" not in first.headers
    assert first.headers["Location"] == "/v1/incidents/INC-I"
    head = ledger_app.ledger.head()
    assert [e.type for e in ledger_app.ledger.read_all(0, 100)][-2:] == ["IncidentOpened", "IncidentLogged"]
    again = client.post("/v1/incidents", json=body, headers=headers)
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["replayed"] is True
    assert (again.json()["stream_id"], again.json()["position"]) == (
        first.json()["stream_id"],
        first.json()["position"],
    )
    assert ledger_app.ledger.head() == head
    # Another body under the same key is refused, not appended
    assert again.json()["incident"] == first.json()["incident"]
    other = client.post("/v1/incidents", json=body | {"priority": "P2"}, headers=headers)
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused"), other.text
    assert ledger_app.ledger.head() == head
    # Without the key, the same body is a duplicate incident
    duplicate = client.post("/v1/incidents", json=body, headers=broker)
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "incident_exists")
    assert ledger_app.ledger.head() == head
