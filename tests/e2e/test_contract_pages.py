"""The public contracts dashboard over HTTP: each contract's use, expiry and next renewal decision, and the
renewal calendar of the next 180 days, as of the ledger's today.

Date-sensitive: the tests run on each fixed today (tests/conftest.py FIXED_TODAYS); the browser test
(test_contracts_dashboard_browser.py) walks the same pages once, on the default today.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.contracts_given import near_ceiling_and_unused_inventory

pytestmark = pytest.mark.date_sensitive


def _post(client, broker, path: str, body: dict[str, object]) -> None:
    answer = client.post(path, json=body, headers=broker)
    assert answer.status_code in (200, 201), answer.text


@pytest.fixture
def contracts(client, broker, today: date) -> date:
    return near_ceiling_and_unused_inventory(lambda path, body: _post(client, broker, path, body), today)


def _table(html: str, table_id: str) -> str:
    found = re.search(rf'<table id="{table_id}".*?</table>', html, re.S)
    assert found, f"no table #{table_id}"
    return found.group(0)


def test_the_dashboard_shows_use_expiry_and_the_next_decision_as_of_today(client, contracts, today):
    expires = contracts
    html = client.get("/status/contracts?lang=en").text
    assert f"As of {today.isoformat()}." in html
    table = _table(html, "contracts")
    assert re.findall(r'<tr data-contract="([^"]+)">', table) == ["SO-NEAR", "INV-7"]  # by expiry
    row = re.search(r'<tr data-contract="SO-NEAR">.*?</tr>', table, re.S)
    assert row
    near = row.group(0)
    assert ">92.0%</span>" in near
    # The 120- and 90-day notices are past: the next decision is the 30-day one.
    dates = re.findall(r'<time datetime="([\d-]+)">', near)
    assert dates[:2] == [expires.isoformat(), (expires - timedelta(days=30)).isoformat()]
    assert "before expiry" in near  # 8 % left at the last 90 days' rate lasts less than 60 days


def test_the_renewal_calendar_lists_the_next_180_days_by_date(client, contracts, today):
    expires = contracts
    html = client.get("/status/contracts?lang=en").text
    assert f"from {today.isoformat()} to {(today + timedelta(days=180)).isoformat()}." in html
    calendar = _table(html, "calendar")
    entries = re.findall(r'<tr data-contract="([^"]+)">\s*<th scope="row"><time datetime="([\d-]+)">', calendar)
    # INV-7's expiry and its decisions are more than 180 days away.
    assert entries == [("SO-NEAR", (expires - timedelta(days=30)).isoformat()), ("SO-NEAR", expires.isoformat())]
    assert "Renewal decision due (30 days before expiry)" in calendar and "Contract expires" in calendar
