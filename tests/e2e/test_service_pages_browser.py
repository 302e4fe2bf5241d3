"""End to end in a real browser: a service with an open incident, registered over HTTP, is shown on the
public, bilingual service status page with its state in words and 90 daily uptime bars, and no amount.

Needs Debian's chromium at /usr/bin/chromium (`make test` installs it); skipped without it.
"""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.conftest import LiveServer
from tests.e2e.browser import LAUNCH_ARGS, assert_absent, assert_screenshot, post

MONTHLY_CHARGE = "4321.98"
PRIVATE = (MONTHLY_CHARGE, "4321", "4 321", "4,321", "$")


def _given_a_service_with_an_open_incident(server: LiveServer, today: date) -> None:
    for code in ("ESDC", "SQI"):
        post(
            server,
            "/v1/organisations",
            {"code": code, "name_en": f"{code} (en)", "name_fr": f"{code} (fr)", "tax_status": "federal"},
        )
    post(
        server,
        "/v1/contracts",
        {
            "contract_id": "CLOUD-B",
            "kind": "cloud",
            "supplier": "Nimbus Cloud",
            "ceiling": "1000000.00",
            "start_date": (today - timedelta(days=400)).isoformat(),
            "end_date": (today + timedelta(days=500)).isoformat(),
            "fee_rate": "0.02",
        },
    )
    post(
        server,
        "/v1/services",
        {
            "service_id": "MAIL",
            "name": "Email",
            "name_fr": "Courriel",
            "contract_id": "CLOUD-B",
            "organisations": ["ESDC", "SQI"],
            "monthly_charge": MONTHLY_CHARGE,
            "registered_on": (today - timedelta(days=120)).isoformat(),
        },
    )
    now = server.clock()  # the server's clock started where the test's was: they read the same
    post(
        server,
        "/v1/incidents",
        {
            "incident_id": "INC-9",
            "service_id": "MAIL",
            "title": "Mail delayed",
            "priority": "P1",
            "detected_at": (now - timedelta(minutes=45)).isoformat(),
        },
    )
    post(
        server,
        "/v1/incidents/INC-9/updates",
        {"updated_at": (now - timedelta(minutes=15)).isoformat(), "note": "Failover under way"},
    )
    # The page reads projections: wait until the update is in them.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        summary = httpx.get(f"{server.url}/status/services.json", timeout=10).json()
        if summary["services"] and summary["services"][0]["state"] == "major_outage":
            feed = httpx.get(f"{server.url}/status/services/feed.atom", timeout=10).text
            if "Failover under way" in feed:
                return
        time.sleep(0.1)
    raise AssertionError("the incident never reached the service status projections")


@pytest.mark.browser
def test_the_service_status_page_shows_the_state_and_90_uptime_bars_in_english_and_french(
    chromium: Path, live_server: LiveServer, tmp_path: Path, today: date
) -> None:
    # Given: a service with a P1 incident open for 45 minutes, updated 15 minutes ago
    _given_a_service_with_an_open_incident(live_server, today)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(locale="en-CA", viewport={"width": 1024, "height": 900})
            page = context.new_page()

            # When: anyone opens the service status page (no key)
            page.goto(f"{live_server.url}/status/services")

            # Then: English, the state in words, the open incident and its timeline
            expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page.get_by_role("heading", level=1)).to_have_text("Service status")
            expect(page.get_by_role("heading", level=2)).to_have_text(["Email"])
            expect(page.locator("#state-MAIL")).to_have_text("Major outage")
            expect(page.locator("#incident-INC-9")).to_contain_text("Mail delayed")
            expect(page.locator("#incident-INC-9 tbody tr td.what")).to_have_text(["Incident opened", "Update"])
            expect(page.locator("#incident-INC-9 tbody tr").nth(1)).to_contain_text("Failover under way")

            # And: the uptime chart is an image with a name, and holds 90 bars, today's not operational
            chart = page.get_by_role("img", name=re.compile(r"^Daily uptime of Email from "))
            expect(chart).to_have_count(1)
            bars = page.locator("svg#uptime-MAIL rect")
            expect(bars).to_have_count(90)
            expect(bars.last).to_have_attribute("data-date", today.isoformat())
            expect(bars.last).not_to_have_attribute("data-state", "operational")
            expect(bars.last.locator("title")).to_contain_text(f"{today.isoformat()}: ")
            expect(bars.last.locator("title")).to_contain_text("minutes of outage")
            assert bars.first.bounding_box() is not None, "the bars are not drawn"
            # And: the monthly table, this month first
            expect(page.locator("#months-MAIL tbody tr").first).to_have_attribute("data-month", today.strftime("%Y-%m"))
            assert_absent(page, PRIVATE)
            assert_screenshot(page, tmp_path / "status-services-en.png")

            # When: they switch to French
            page.get_by_role("link", name="Français").click()
            page.wait_for_url(re.compile(r"/status/services\?lang=fr$"))

            # Then: the same page in French, the state and the bars' titles in French
            expect(page.locator("html")).to_have_attribute("lang", "fr")
            expect(page.get_by_role("heading", level=1)).to_have_text("État des services")
            expect(page.get_by_role("heading", level=2)).to_have_text(["Courriel"])
            expect(page.locator("#state-MAIL")).to_have_text("Panne majeure")
            expect(page.locator("#incident-INC-9 tbody tr td.what")).to_have_text(["Incident ouvert", "Mise à jour"])
            expect(
                page.get_by_role("img", name=re.compile(r"^Disponibilité quotidienne de Courriel du "))
            ).to_have_count(1)
            bars = page.locator("svg#uptime-MAIL rect")
            expect(bars).to_have_count(90)
            expect(bars.last.locator("title")).to_contain_text(f"{today.isoformat()} : disponibilité de ")
            expect(page.locator("#months-MAIL tbody tr").first.locator("td").nth(1)).to_have_text(
                re.compile(r"^99,900\u00a0%$")
            )
            assert_absent(page, PRIVATE)
            assert_screenshot(page, tmp_path / "status-services-fr.png")
        finally:
            browser.close()
