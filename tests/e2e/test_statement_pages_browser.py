"""End to end in a real browser: a finance officer signs in with their organisation's API key, reads the
chargeback statement in English and in French, downloads the CSV, follows a line to the ledger events
behind it, and prints the statement (print media: no navigation or forms, the whole lines table).

Needs Debian's chromium at /usr/bin/chromium (`make test` installs it); skipped without it.
"""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from processors.clocks import Clock
from tests.conftest import LiveServer, orderledger_cli
from tests.e2e.browser import LAUNCH_ARGS, assert_absent, assert_screenshot, post

SUPPLIER = "Northern Micro Inc."
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September")
MONTHS_EN += ("October", "November", "December")
MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre")
MONTHS_FR += ("octobre", "novembre", "décembre")
NNBSP = "\u202f"
MINUS = "\u2212"


def first_of_month(day: date, months_back: int) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def month(period: str, names: tuple[str, ...]) -> str:
    return f"{names[int(period[5:]) - 1]} {period[:4]}"


def wait_for_lines(server: LiveServer, org: str, period: str, count: int) -> dict[str, Any]:
    """The statement once the projection has caught up (the pages read the same projection)."""
    deadline = time.monotonic() + 20
    while True:
        response = httpx.get(
            f"{server.url}/v1/chargeback/{org}", params={"period": period}, headers=server.broker, timeout=10
        )
        assert response.status_code == 200, response.text
        statement: dict[str, Any] = response.json()
        if len(statement["lines"]) >= count or time.monotonic() > deadline:
            assert len(statement["lines"]) == count, statement
            return statement
        time.sleep(0.1)


@pytest.fixture
def server(chromium: Path, tmp_path: Path, clock: Clock) -> Any:
    live = LiveServer(tmp_path / "live", clock=clock)
    created = orderledger_cli(
        live.data_dir, "keys", "create", "--role", "client:ESDC", "--label", "ESDC finance", clock=clock
    )
    assert created.returncode == 0, created.stderr
    live.start()
    yield live, created.stdout.strip()
    live.stop()


@pytest.mark.browser
def test_a_finance_officer_reads_prints_and_drills_into_a_bilingual_statement(
    chromium: Path, server: tuple[LiveServer, str], tmp_path: Path, today: date
) -> None:
    live, esdc_key = server
    # Given: one supplier invoice two months ago for ESDC and CRA, that month closed,
    # then a late invoice for it (a correction in last month).
    closed_day, last_day = first_of_month(today, 2), first_of_month(today, 1)
    closed, last = closed_day.strftime("%Y-%m"), last_day.strftime("%Y-%m")
    post(
        live,
        "/v1/organisations",
        {
            "code": "ESDC",
            "name_en": "Employment and Social Development Canada",
            "name_fr": "Emploi et Développement social Canada",
            "tax_status": "federal",
        },
    )
    post(
        live,
        "/v1/organisations",
        {
            "code": "CRA",
            "name_en": "Canada Revenue Agency",
            "name_fr": "Agence du revenu du Canada",
            "tax_status": "federal",
        },
    )
    post(
        live,
        "/v1/contracts",
        {
            "contract_id": "SO-1",
            "kind": "standing_offer",
            "supplier": SUPPLIER,
            "ceiling": "1000000.00",
            "start_date": (today - timedelta(days=400)).isoformat(),
            "end_date": (today + timedelta(days=400)).isoformat(),
            "fee_rate": "0.02",
        },
    )
    line = {"charge_period": closed, "province": "ON"}
    post(
        live,
        "/v1/invoices",
        {
            "invoice_number": "INV-1",
            "supplier": SUPPLIER,
            "contract_id": "SO-1",
            "issued_on": closed_day.isoformat(),
            "lines": [
                {**line, "client_org": "ESDC", "reference": "ESDC-PO-1", "amount": "1234.56", "ehf": "5.00"},
                {**line, "client_org": "CRA", "reference": "CRA-REF-9", "amount": "777.00"},
            ],
        },
    )
    post(live, f"/v1/periods/{closed}/close", {})
    post(
        live,
        "/v1/invoices",
        {
            "invoice_number": "INV-2",
            "supplier": SUPPLIER,
            "contract_id": "SO-1",
            "issued_on": last_day.isoformat(),
            "lines": [{**line, "client_org": "ESDC", "reference": "LATE-1", "amount": "50.00"}],
        },
    )
    statement = wait_for_lines(live, "ESDC", closed, 4)  # charge, EHF, HST, fee
    wait_for_lines(live, "ESDC", last, 3)  # the late charge, its HST and fee: corrections
    first_line = statement["lines"][0]
    statement_url = f"{live.url}/chargeback/ESDC/{closed}"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(
                locale="en-CA", viewport={"width": 1280, "height": 900}, accept_downloads=True
            )
            page = context.new_page()

            # When: the officer opens the statement without being signed in.
            page.goto(statement_url)

            # Then: the sign-in form, and the key typed there never shows in a URL.
            page.wait_for_url(re.compile(r"/chargeback/sign-in\?next="))
            expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the chargeback statements")
            page.get_by_label("API key").fill("olk_000000000000_wrong")
            page.get_by_role("button", name="Sign in").click()
            expect(page.locator("#error")).to_contain_text("This API key is unknown or revoked.")
            expect(page.locator("#error")).to_contain_text("Cette clé d'API est inconnue ou révoquée.")
            page.get_by_label("API key").fill(esdc_key)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(re.compile(rf"/chargeback/ESDC/{closed}$"))
            cookies = {c["path"]: c for c in context.cookies() if c["name"] == "orderledger_key"}
            assert set(cookies) == {"/chargeback", "/v1/chargeback"}
            assert all(c["httpOnly"] and c["sameSite"] == "Strict" for c in cookies.values())
            assert esdc_key not in page.url
            assert page.evaluate("document.cookie") == ""  # HttpOnly: no script can read the key

            # And: the statement, in English.
            expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page.get_by_role("heading", level=1)).to_have_text(
                f"Chargeback statement: {month(closed, MONTHS_EN)}"
            )
            expect(page.locator("#organisation-name")).to_have_text("Employment and Social Development Canada")
            expect(page.locator("#statement-status")).to_have_text("Final: month closed")
            rows = page.locator("#lines tbody tr")
            expect(rows).to_have_count(4)
            expect(rows.nth(0).locator("td.amount")).to_have_text("1,234.56")
            expect(rows.nth(0).locator("td.what")).to_have_text("Charge — billed")
            expect(rows.nth(2).locator("td.what")).to_have_text("Tax HST — billed")
            expect(page.get_by_role("table", name=re.compile("Totals of"))).to_be_visible()
            assert_absent(page, ("CRA-REF-9", "777.00", "Canada Revenue Agency", esdc_key))
            assert_screenshot(page, tmp_path / "statement-en.png")

            # And: the CSV download opens with the cookie (a GET under /v1/chargeback).
            with page.expect_download() as download:
                page.locator("#csv-export").click()
            csv = Path(download.value.path()).read_text(encoding="utf-8")
            assert csv.startswith("organisation,billing_period,line_id")
            assert first_line["line_id"] in csv and "CRA-REF-9" not in csv

            # When: they switch to French.
            page.get_by_role("link", name="Français").click()
            page.wait_for_url(re.compile(r"[?&]lang=fr(&|$)"))

            # Then: the same statement in French, with French amounts.
            expect(page.locator("html")).to_have_attribute("lang", "fr")
            expect(page.get_by_role("heading", level=1)).to_have_text(
                f"Relevé de rétrofacturation : {month(closed, MONTHS_FR)}"
            )
            expect(page.locator("#organisation-name")).to_have_text("Emploi et Développement social Canada")
            expect(page.locator("#statement-status")).to_have_text("Définitif : mois fermé")
            expect(rows.nth(0).locator("td.amount")).to_have_text(f"1{NNBSP}234,56")
            expect(rows.nth(2).locator("td.what")).to_have_text("Taxe TVH — facturation")
            assert_screenshot(page, tmp_path / "statement-fr.png")

            # When: they follow the first line's drill-down link.
            rows.nth(0).locator("a.drill-down").click()
            page.wait_for_url(re.compile(r"/lines\?line_id="))

            # Then: the line and the event it comes from, with only ESDC's line of the invoice.
            expect(page.get_by_role("heading", level=1)).to_have_text(
                f"Une ligne du relevé pour {month(closed, MONTHS_FR)}"
            )
            expect(page.locator("#line-id")).to_have_text(first_line["line_id"])
            events = page.locator("li.event")
            expect(events).to_have_count(len(first_line["source_events"]))
            expect(events.first.locator(".event-id")).to_have_text(first_line["source_events"][0])
            expect(events.first.locator("pre.event-data")).to_contain_text('"type": "SupplierInvoiceReceived"')
            expect(events.first.locator(".redacted-note")).to_be_visible()
            assert_absent(page, ("CRA-REF-9", "777.00", '"client_org": "CRA"'))
            assert_screenshot(page, tmp_path / "line-fr.png")

            # When: they open last month's statement in English.
            page.goto(f"{live.url}/chargeback/ESDC/{last}?lang=en")

            # Then: the late invoice's lines are corrections of the closed month.
            expect(page.locator("#statement-status")).to_have_text("Open: may still change")
            corrections = page.locator("#lines tbody tr td.category")
            expect(corrections).to_have_count(3)
            expect(corrections.first).to_have_text(f"Correction of purchases for {month(closed, MONTHS_EN)}")

            # When: they print it.
            page.emulate_media(media="print")

            # Then: no navigation, language switch, forms or download links; the title, the period,
            # the status and the whole lines table, not clipped by a scrolling box.
            expect(page.locator("header nav")).to_be_hidden()
            expect(page.locator("#lang-switch")).to_be_hidden()
            forms = page.locator("form")
            assert forms.count() >= 1
            for index in range(forms.count()):
                expect(forms.nth(index)).to_be_hidden()
            expect(page.locator("#csv-export")).to_be_hidden()
            expect(page.locator("#previous-month")).to_be_hidden()
            expect(page.locator("a.drill-down").first).to_be_hidden()
            expect(page.locator("#statement-title")).to_be_visible()
            expect(page.locator("#statement-status")).to_be_visible()
            expect(page.locator("#lines")).to_be_visible()
            expect(page.locator("#lines tbody tr")).to_have_count(3)
            for index in range(3):
                expect(page.locator("#lines tbody tr").nth(index)).to_be_visible()
            wrap = page.locator("#lines").locator("xpath=..")
            assert wrap.evaluate("el => getComputedStyle(el).overflowX") == "visible"
            assert page.locator("#lines tbody tr").first.evaluate("el => getComputedStyle(el).breakInside") == "avoid"
            assert_screenshot(page, tmp_path / "statement-print.png")
            pdf = tmp_path / "statement.pdf"
            page.pdf(path=str(pdf))
            assert pdf.read_bytes()[:5] == b"%PDF-"

            # When: back on screen, they sign out.
            page.emulate_media(media="screen")
            page.get_by_role("button", name="Sign out").click()

            # Then: the sign-in form again, and the statement is closed to them.
            page.wait_for_url(re.compile(r"/chargeback/sign-in\?"))
            expect(page.locator("#notice")).to_have_text("You are signed out.")
            assert not [c for c in context.cookies() if c["name"] == "orderledger_key"]
            page.goto(statement_url)
            page.wait_for_url(re.compile(r"/chargeback/sign-in\?next="))
        finally:
            browser.close()
