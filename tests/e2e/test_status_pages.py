"""The public order status pages over HTTP: each order's lateness and the weekly order status report, as of
the ledger's today.

Date-sensitive: the tests run on each fixed today (tests/conftest.py FIXED_TODAYS); the browser test
(test_status_pages_browser.py) walks the same pages once, on the default today.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest

from events.kernel.working_days import STANDARD_DELIVERY_WORKING_DAYS, add_working_days
from tests.conftest import EASTERN
from tests.orders_given import OTTAWA, days_ago, order_body


def _post(client, broker, path: str, body: dict[str, object]) -> dict[str, object]:
    answer = client.post(path, json=body, headers=broker)
    assert answer.status_code in (200, 201), answer.text
    result: dict[str, object] = answer.json()
    return result


def awarded_order(client, broker, today: date, placed_days_ago: int, awarded_days_ago: int) -> str:
    """An ESDC order placed at 10:00 Eastern Time `placed_days_ago` days before today, awarded later."""
    placed_at = datetime.combine(today - timedelta(days=placed_days_ago), time(10), EASTERN)
    order_id = str(_post(client, broker, "/v1/orders", order_body(placed_at=placed_at.isoformat()))["order_id"])
    award = {"contract_number": f"CU-{order_id}", "awarded_on": days_ago(awarded_days_ago, today)}
    _post(client, broker, f"/v1/orders/{order_id}/award", award)
    return order_id


@pytest.fixture
def orders(client, broker, today: date) -> dict[str, str]:
    """Four orders as of today, by what they show:
    on_time: placed 3 days ago, awarded 2 days ago, partly delivered yesterday (30 working days to deliver);
    at_risk: its delivery date agreed yesterday for today (due, not late);
    late: its delivery date agreed yesterday for yesterday;
    quiet: placed 8 days ago and awarded 7 days ago, nothing since (out of the weekly report's 7 days)."""
    on_time = awarded_order(client, broker, today, 3, 2)
    delivery = {"delivered_on": days_ago(1, today), "location": OTTAWA, "quantities": {"LAT-5450": 1}}
    _post(client, broker, f"/v1/orders/{on_time}/deliveries", delivery)
    at_risk = awarded_order(client, broker, today, 3, 2)
    due = {"agreed_delivery_date": today.isoformat(), "agreed_on": days_ago(1, today)}
    _post(client, broker, f"/v1/orders/{at_risk}/delivery-date", due)
    late = awarded_order(client, broker, today, 3, 2)
    overdue = {"agreed_delivery_date": days_ago(1, today), "agreed_on": days_ago(1, today)}
    _post(client, broker, f"/v1/orders/{late}/delivery-date", overdue)
    quiet = awarded_order(client, broker, today, 8, 7)
    return {"on_time": on_time, "at_risk": at_risk, "late": late, "quiet": quiet}


def weekly_rows(html: str) -> dict[str, str]:
    """The weekly report's orders and the lateness each shows."""
    table = re.search(r'<table id="weekly">.*?</table>', html, re.S)
    if table is None:
        return {}
    link = r'<a href="/status/orders/([^?"]+)\?[^"]*"'
    rows = re.findall(link + r'.*?<span class="badge badge-([a-z_]+)">', table.group(0), re.S)
    return dict(rows)


@pytest.mark.date_sensitive
def test_each_order_page_and_the_api_show_its_lateness_as_of_today(client, broker, orders, today):
    expected = add_working_days(today - timedelta(days=2), STANDARD_DELIVERY_WORKING_DAYS)
    for lateness, agreed in (("on_time", expected), ("at_risk", today), ("late", today - timedelta(days=1))):
        order_id = orders[lateness]
        page = client.get(f"/status/orders/{order_id}?lang=en").text
        assert f'<span id="lateness" class="badge badge-{lateness}">' in page, lateness
        assert f'<time datetime="{agreed.isoformat()}">' in page, lateness
        shown = client.get(f"/v1/orders/{order_id}", headers=broker).json()
        assert (shown["lateness"], shown["expected_delivery_date"]) == (lateness, agreed.isoformat())
    listed = client.get("/v1/orders?late=late&limit=50", headers=broker).json()["orders"]
    assert [o["order_id"] for o in listed] == [orders["late"]]


@pytest.mark.date_sensitive
def test_the_weekly_report_lists_the_orders_changed_in_the_7_days_up_to_today(client, orders, today):
    page = client.get("/status/weekly?lang=en").text
    assert f"in the 7 days up to {today.isoformat()}" in page
    assert weekly_rows(page) == {orders[k]: k for k in ("on_time", "at_risk", "late")}
    french = client.get("/status/weekly?lang=fr&org=ESDC").text
    assert weekly_rows(french) == {orders[k]: k for k in ("on_time", "at_risk", "late")}


# The report's 7 days are calendar days in Eastern Time, whatever the hour: a change dated 7 days ago is out,
# one dated 6 days ago is in, in the morning (and just after the clocks sprang forward) as at noon.
@pytest.mark.parametrize(
    ("today", "clock"),
    [
        (date(2026, 3, 9), datetime(2026, 3, 9, 0, 30, tzinfo=EASTERN)),
        (date(2026, 6, 17), datetime(2026, 6, 17, 9, 0, tzinfo=EASTERN)),
    ],
    ids=["00:30 after spring forward", "09:00"],
    indirect=["clock"],
)
def test_the_weekly_report_counts_calendar_days_whatever_the_hour(client, broker, today):
    in_window = awarded_order(client, broker, today, 6, 6)  # placed (10:00) and awarded 6 days ago
    out_of_window = awarded_order(client, broker, today, 7, 7)  # placed (10:00) and awarded 7 days ago
    listed = weekly_rows(client.get("/status/weekly?lang=en").text)
    assert in_window in listed and out_of_window not in listed, listed
