"""The public contracts dashboard over HTTP: each contract's use, expiry and next renewal decision, and the
renewal calendar of the next 180 days, as of the ledger's today.

Date-sensitive: the tests run on each fixed today (tests/conftest.py FIXED_TODAYS); the browser test
(test_contracts_dashboard_browser.py) walks the same pages once, on the default today.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

pytestmark = pytest.mark.date_sensitive


def _post(client, broker, path: str, body: dict[str, object]) -> None:
    answer = client.post(path, json=body, headers=broker)
    assert answer.status_code in (200, 201), answer.text


@pytest.fixture
def contracts(client, broker, today: date) -> date:
    """SO-NEAR: started 300 days ago, expires in 60 days, used to 92 % (the last 32 % in the last 90 days);
    INV-7: started 30 days ago, expires in 400 days, nothing used. Returns SO-NEAR's expiry."""
    expires = today + timedelta(days=60)
    _post(
        client,
        broker,
        "/v1/contracts",
        {
            "contract_id": "SO-NEAR",
            "kind": "standing_offer",
            "supplier": "Compugen Inc.",
            "ceiling": "100000.00",
            "start_date": (today - timedelta(days=300)).isoformat(),
            "end_date": expires.isoformat(),
            "renewal_options": [{"option_id": "OPT-1", "months": 12}],
            "fee_rate": "0.02",
        },
    )
    for days_ago, amount in ((250, "30000.00"), (150, "30000.00"), (40, "32000.00")):
        on = today - timedelta(days=days_ago)
        consumption = {
            "client_org": "ESDC",
            "amount": amount,
            "period": on.strftime("%Y-%m"),
            "source": "supplier_invoice_line",
            "reference": "INV-1001",
            "recorded_on": on.isoformat(),
        }
        _post(client, broker, "/v1/contracts/SO-NEAR/consumption", consumption)
    _post(
        client,
        broker,
        "/v1/contracts",
        {
            "contract_id": "INV-7",
            "kind": "inventory",
            "supplier": "Northern Micro",
            "ceiling": "60000.00",
            "start_date": (today - timedelta(days=30)).isoformat(),
            "end_date": (today + timedelta(days=400)).isoformat(),
            "inventory": [{"sku": "LAT-5450", "quantity": 40, "unit_price": "1289.00"}],
        },
    )
    return expires


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
