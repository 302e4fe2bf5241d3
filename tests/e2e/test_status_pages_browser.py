"""End to end in a real browser: an order placed, awarded and partly delivered over HTTP is
found on the public, bilingual status pages, with its timeline and lateness, and nothing private.

Needs Debian's chromium at /usr/bin/chromium (`make test` installs it); skipped without it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from events.kernel.working_days import STANDARD_DELIVERY_WORKING_DAYS, add_working_days
from tests.conftest import LiveServer
from tests.e2e.browser import EASTERN, LAUNCH_ARGS, assert_absent, assert_screenshot, post
from tests.orders_given import GATINEAU, OTTAWA, days_ago, order_body

# What the public pages must never show: amounts, the requester, the street addresses.
PRIVATE = (
    "$",
    "1289.00",
    "1289",
    "229.00",
    "7000.00",
    "7000",
    "A. Tremblay",
    "Tremblay",
    OTTAWA["address"],
    "North River",
    GATINEAU["address"],
    "promenade du Portage",
    "ESDC-FC1001-IO12345",
    "NMSO-E60PQ-140003",
    "Northern Micro",
)


@pytest.mark.browser
def test_a_placed_awarded_partly_delivered_order_is_found_on_the_bilingual_status_pages(
    chromium: Path, live_server: LiveServer, tmp_path: Path, today: date
) -> None:
    # Given: an order placed 3 days ago, awarded 2 days ago,
    # and part of Ottawa's share delivered yesterday.
    placed_at = datetime.combine(today - timedelta(days=3), time(10, 0), tzinfo=EASTERN)
    placed = post(live_server, "/v1/orders", order_body(placed_at=placed_at.isoformat()))
    order_id = str(placed["order_id"])
    assert re.fullmatch(r"[A-Z0-9-]+", order_id), order_id
    awarded_on = days_ago(2, today)
    post(live_server, f"/v1/orders/{order_id}/award", {"contract_number": "CALLUP-2026-0042", "awarded_on": awarded_on})
    delivered = post(
        live_server,
        f"/v1/orders/{order_id}/deliveries",
        {
            "delivered_on": days_ago(1, today),
            "location": {"province": OTTAWA["province"], "address": OTTAWA["address"]},
            "quantities": {"LAT-5450": 1, "MON-P2425": 2},
        },
    )
    expected_delivery = add_working_days(date.fromisoformat(awarded_on), STANDARD_DELIVERY_WORKING_DAYS)
    seen = httpx.get(
        f"{live_server.url}/v1/orders/{order_id}",
        headers=live_server.broker,
        params={"after_position": delivered["position"]},
        timeout=10,
    )
    assert seen.status_code == 200, seen.text
    assert seen.json()["status"] == "partially_delivered"
    assert seen.json()["expected_delivery_date"] == expected_delivery.isoformat()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(locale="en-CA", viewport={"width": 1024, "height": 768})
            page = context.new_page()

            # When: someone looks the order up by number on the English lookup page.
            page.goto(f"{live_server.url}/status")
            expect(page.locator("html")).to_have_attribute("lang", "en")
            page.get_by_label("Order number", exact=True).fill(order_id)
            page.get_by_role("button", name="Show status").click()
            page.wait_for_url(re.compile(rf"/status/orders/{re.escape(order_id)}(\?.*)?$"))

            # Then: the order, its timeline in order, its expected date and "On time".
            expect(page).to_have_title(re.compile(re.escape(order_id)))
            expect(page.get_by_role("heading", level=1)).to_contain_text(order_id)
            expect(page.locator("#timeline li .what")).to_have_text(
                ["Order placed", "Call-up awarded", "Delivery received"]
            )
            expect(page.locator("#timeline li").nth(2)).to_contain_text("Ontario: 3 units")
            expect(page.locator("#expected")).to_contain_text(expected_delivery.isoformat())
            expect(page.locator("#lateness")).to_have_text("On time")
            expect(page.locator("#status")).to_have_text("Partially delivered")
            assert_absent(page, PRIVATE)
            assert_screenshot(page, tmp_path / "status-order-en.png")

            # When: they switch to French.
            page.get_by_role("link", name="Français").click()
            page.wait_for_url(re.compile(r"[?&]lang=fr(&|$)"))

            # Then: the same page, in French, declared as French.
            expect(page.locator("html")).to_have_attribute("lang", "fr")
            expect(page.get_by_role("heading", level=1)).to_contain_text(order_id)
            expect(page.locator("#timeline li .what")).to_have_text(
                ["Commande passée", "Commande subséquente attribuée", "Livraison reçue"]
            )
            expect(page.locator("#expected")).to_contain_text(expected_delivery.isoformat())
            expect(page.locator("#timeline li").nth(2)).to_contain_text("Ontario : 3 unités")
            expect(page.locator("#lateness")).to_have_text("Dans les délais")
            expect(page.locator("#status")).to_have_text("Livrée en partie")
            expect(page.get_by_role("link", name="English")).to_be_visible()
            assert_absent(page, PRIVATE)
            assert_screenshot(page, tmp_path / "status-order-fr.png")

            # And: the weekly order status report lists it, linked, on time.
            page.goto(f"{live_server.url}/status/weekly?lang=en")
            row = page.locator("#weekly tbody tr").filter(has_text=order_id)
            expect(row).to_have_count(1)
            expect(row.get_by_role("link", name=order_id)).to_have_attribute(
                "href", f"/status/orders/{order_id}?lang=en"
            )
            expect(row).to_contain_text("ESDC")
            expect(row).to_contain_text("Partially delivered")
            expect(row).to_contain_text(expected_delivery.isoformat())
            expect(row).to_contain_text("On time")
            assert_absent(page, PRIVATE)
            assert_screenshot(page, tmp_path / "status-weekly-en.png")
        finally:
            browser.close()
