"""End to end in a real browser: a contract registered and consumed over HTTP to 92 % of its ceiling
shows on the public, bilingual contracts dashboard with its burn-down chart and in the renewal
calendar, and no amount is shown anywhere.

Needs Debian's chromium at /usr/bin/chromium (`make test` installs it); skipped without it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.conftest import LiveServer
from tests.contracts_given import near_ceiling_and_unused_inventory
from tests.e2e.browser import LAUNCH_ARGS, assert_absent, assert_screenshot, post

# Public pages show percentages, dates, suppliers, contract ids and stock counts: never money.
PRIVATE = ("$", "100000", "100 000", "30000", "32000", "60000", "1289", "0.02", "INV-1001", "ESDC")


@pytest.mark.browser
def test_a_contract_near_its_ceiling_shows_on_the_bilingual_contracts_dashboard(
    chromium: Path, live_server: LiveServer, tmp_path: Path, today: date
) -> None:
    # Given: a standing offer started ~300 days ago, expiring in 60 days, consumed to 92 %,
    # and an inventory contract expiring in 400 days with nothing consumed.
    expires = near_ceiling_and_unused_inventory(lambda path, body: post(live_server, path, body), today)
    seen = httpx.get(f"{live_server.url}/v1/contracts/SO-NEAR", headers=live_server.broker, timeout=10)
    assert seen.status_code == 200, seen.text
    assert seen.json()["used_pct"] == "92.0"
    decision = (expires - timedelta(days=30)).isoformat()  # the 120- and 90-day notices have passed

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(locale="en-CA", viewport={"width": 1280, "height": 800})
            page = context.new_page()

            # When: someone follows the dashboard link from the status home page.
            page.goto(f"{live_server.url}/status")
            page.get_by_role("link", name="Contracts dashboard: capacity and renewals").click()
            page.wait_for_url(re.compile(r"/status/contracts(\?.*)?$"))

            # Then: the contracts sorted by expiry, with the share used and a labelled burn-down chart.
            expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page.get_by_role("heading", level=1)).to_have_text("Contracts dashboard")
            expect(page.locator("#contracts tbody tr")).to_have_count(2)
            expect(page.locator("#contracts tbody tr th a")).to_have_text(["SO-NEAR", "INV-7"])
            row = page.locator("#contracts tbody tr[data-contract='SO-NEAR']")
            expect(row.locator(".used-pct")).to_have_text("92.0%")
            expect(row).to_contain_text("Compugen Inc.")
            expect(row).to_contain_text("Standing offer")
            expect(row).to_contain_text(expires.isoformat())
            expect(row).to_contain_text(decision)
            expect(row).to_contain_text("OPT-1")
            expect(row).to_contain_text("before expiry")  # 8 % left at the last 90 days' rate
            chart = page.locator('svg.burn-down[data-contract="SO-NEAR"]')
            expect(chart).to_have_count(1)
            expect(chart).to_have_attribute("role", "img")
            expect(chart.locator("title")).to_have_text("Remaining capacity of SO-NEAR")
            expect(chart.locator("desc")).to_contain_text("8.0% of the ceiling left")
            expect(chart.locator("polyline.actual")).to_have_count(1)
            expect(chart.locator("line.forecast")).to_have_count(1)
            expect(page.get_by_role("img", name="Remaining capacity of SO-NEAR")).to_have_count(1)

            # And: the renewal calendar lists its decision date and its expiry, by date; not INV-7.
            calendar = page.locator("#calendar tbody tr[data-contract='SO-NEAR']")
            expect(calendar).to_have_count(2)
            expect(calendar.nth(0)).to_contain_text(decision)
            expect(calendar.nth(0)).to_contain_text("Renewal decision due (30 days before expiry)")
            expect(calendar.nth(1)).to_contain_text(expires.isoformat())
            expect(calendar.nth(1)).to_contain_text("Contract expires")
            expect(page.locator("#calendar tbody tr[data-contract='INV-7']")).to_have_count(0)
            assert_absent(page, PRIVATE)
            assert_screenshot(page, tmp_path / "contracts-en.png")

            # When: they switch to French.
            page.get_by_role("link", name="Français").click()
            page.wait_for_url(re.compile(r"[?&]lang=fr(&|$)"))

            # Then: the same dashboard, in French, declared as French.
            expect(page.locator("html")).to_have_attribute("lang", "fr")
            expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord des contrats")
            expect(page.get_by_role("heading", level=2, name="Calendrier des renouvellements")).to_be_visible()
            row = page.locator("#contracts tbody tr[data-contract='SO-NEAR']")
            expect(row.locator(".used-pct")).to_have_text("92,0\u00a0%")
            expect(row).to_contain_text("Offre à commandes")
            expect(page.locator('svg.burn-down[data-contract="SO-NEAR"] title')).to_have_text(
                "Capacité restante de SO-NEAR"
            )
            expect(page.locator("#calendar tbody tr[data-contract='SO-NEAR']").nth(1)).to_contain_text("Fin du contrat")
            assert_absent(page, PRIVATE)
            assert_screenshot(page, tmp_path / "contracts-fr.png")

            # When: they open the contract.
            page.get_by_role("link", name="SO-NEAR").first.click()
            page.wait_for_url(re.compile(r"/status/contracts/SO-NEAR\?lang=fr$"))

            # Then: a larger chart, and the 80 and 90 % thresholds reached, not 100 %.
            expect(page.get_by_role("heading", level=1)).to_contain_text("SO-NEAR")
            large = page.locator('svg.burn-down-large[data-contract="SO-NEAR"]')
            expect(large.locator("title")).to_have_text("Capacité restante de SO-NEAR")
            expect(large).to_contain_text("Aujourd'hui")
            expect(page.locator("#thresholds tbody tr td")).to_have_text(["Atteint", "Atteint", "Non atteint"])
            expect(page.locator("#renewals tbody tr")).to_contain_text("OPT-1")
            expect(page.locator("#stock")).to_have_count(0)
            assert_absent(page, PRIVATE)
            assert_screenshot(page, tmp_path / "contract-so-near-fr.png")

            # And: the inventory contract shows its stock per item, in English, with no price.
            page.goto(f"{live_server.url}/status/contracts/INV-7?lang=en")
            stock = page.locator("#stock tbody tr")
            expect(stock).to_have_count(1)
            expect(stock.locator("th, td")).to_have_text(["LAT-5450", "40", "40", "Offered"])
            expect(page.locator("#thresholds tbody tr td")).to_have_text(["Not reached"] * 3)
            assert_absent(page, PRIVATE)
            assert_screenshot(page, tmp_path / "contract-inv-7-en.png")

            # And: an unknown contract is a 404 page, not an error.
            response = page.goto(f"{live_server.url}/status/contracts/NOPE-1?lang=en")
            assert response is not None and response.status == 404
            expect(page.get_by_role("heading", level=1)).to_have_text("Contract not found")
        finally:
            browser.close()
