"""The bilingual chargeback statement pages over HTTP: signing in with an API key (cookie flags, redirects,
403 for another organisation), French amounts, correction lines, and the drill-down to the events behind
a line, which never shows another organisation's invoice lines.

The data is posted through the JSON API as the broker: two organisations on one supplier invoice issued
two months ago, that month closed, then a late invoice and a dispute for it, which land in last month as
corrections. The month views (corrections, the links between months, the fiscal year, the landing month) are
date-sensitive: they run on every fixed today (tests/conftest.py FIXED_TODAYS).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from processors.wiring import Orderledger
from projections.chargeback import CHARGEBACK, statement_key
from tests.orders_given import order_body

MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
MONTHS_FR = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
NNBSP = "\u202f"
MINUS = "\u2212"
SUPPLIER = "Northern Micro Inc."


def month_en(period: str) -> str:
    year, month = period.split("-")
    return f"{MONTHS_EN[int(month) - 1]} {year}"


def month_fr(period: str) -> str:
    year, month = period.split("-")
    return f"{MONTHS_FR[int(month) - 1]} {year}"


def first_of_month(day: date, months_back: int) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Given:
    closed: str  # two months ago: closed after the first invoice
    last: str  # last month: the late invoice and the dispute land here as corrections
    order_id: str
    esdc_key: str
    cra_key: str


def _post(client: TestClient, broker: dict[str, str], path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body, headers=broker)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture
def given(client: TestClient, broker: dict[str, str], ledger_app: Orderledger, today: date) -> Given:
    closed_day, last_day = first_of_month(today, 2), first_of_month(today, 1)
    closed, last = closed_day.strftime("%Y-%m"), last_day.strftime("%Y-%m")
    for code, name_en, name_fr in (
        ("ESDC", "Employment and Social Development Canada", "Emploi et Développement social Canada"),
        ("CRA", "Canada Revenue Agency", "Agence du revenu du Canada"),
    ):
        _post(
            client,
            broker,
            "/v1/organisations",
            {"code": code, "name_en": name_en, "name_fr": name_fr, "tax_status": "federal"},
        )
    _post(
        client,
        broker,
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
    order_id = str(_post(client, broker, "/v1/orders", order_body())["order_id"])
    _post(
        client,
        broker,
        "/v1/invoices",
        {
            "invoice_number": "INV-1",
            "supplier": SUPPLIER,
            "contract_id": "SO-1",
            "issued_on": closed_day.isoformat(),
            "lines": [
                {
                    "client_org": "ESDC",
                    "reference": order_id,
                    "charge_period": closed,
                    "amount": "1234.56",
                    "shipping": "10.00",
                    "ehf": "5.00",
                    "province": "ON",
                },
                {
                    "client_org": "CRA",
                    "reference": "CRA-REF-9",
                    "charge_period": closed,
                    "amount": "777.00",
                    "province": "QC",
                },
                {
                    "client_org": "ESDC",
                    "reference": "ESDC-REF-2",
                    "charge_period": closed,
                    "amount": "100.00",
                    "province": "QC",
                },
            ],
        },
    )
    _post(client, broker, f"/v1/periods/{closed}/close", {})
    _post(
        client,
        broker,
        "/v1/invoices",
        {
            "invoice_number": "INV-2",
            "supplier": SUPPLIER,
            "contract_id": "SO-1",
            "issued_on": last_day.isoformat(),
            "lines": [
                {
                    "client_org": "ESDC",
                    "reference": "LATE-1",
                    "charge_period": closed,
                    "amount": "50.00",
                    "province": "ON",
                }
            ],
        },
    )
    disputed = _post(
        client, broker, "/v1/invoices/northern-micro-inc--INV-1/lines/3/disputes", {"reason": "wrong price"}
    )
    assert ledger_app.wait_for(CHARGEBACK, statement_key("ESDC", last), int(disputed["position"]), timeout=10)
    assert ledger_app.wait_for(CHARGEBACK, statement_key("ESDC", closed), 1, timeout=10)
    return Given(
        closed=closed,
        last=last,
        order_id=order_id,
        esdc_key=ledger_app.keys.create("client:ESDC", "finance"),
        cra_key=ledger_app.keys.create("client:CRA", "finance"),
    )


def sign_in(client: TestClient, key: str, next_path: str = "") -> Any:
    response = client.post("/chargeback/sign-in", data={"api_key": key, "next": next_path}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response


def cookie_headers(response: Any) -> list[str]:
    return [h for h in response.headers.get_list("set-cookie") if h.startswith("orderledger_key=")]


def attributes(header: str) -> dict[str, str]:
    parts = [part.strip() for part in header.split(";")]
    return {p.split("=", 1)[0].lower(): (p.split("=", 1)[1] if "=" in p else "") for p in parts[1:]}


def text_of(html: str) -> str:
    """The page's text, tags dropped and entities decoded (what a reader sees, roughly)."""
    return unescape(re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html)))  # keeps no-break spaces


def rows(html: str, table_id: str) -> list[str]:
    body = re.search(rf'<table id="{table_id}".*?<tbody>(.*?)</tbody>', html, re.S)
    assert body, f"no table #{table_id}"
    return re.findall(r"<tr\b.*?</tr>", body.group(1), re.S)


def found(pattern: str, text: str) -> str:
    match = re.search(pattern, text, re.S)
    assert match, f"{pattern!r} not found"
    return match.group(1)


def drill_down_links(html: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'class="drill-down" href="([^"]+)"', html)]


# ---------------------------------------------------------------- signing in


def test_without_a_key_a_statement_redirects_to_the_sign_in_form(client: TestClient, given: Given) -> None:
    page = f"/chargeback/ESDC/{given.closed}"
    response = client.get(f"{page}?lang=fr", follow_redirects=False)
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/chargeback/sign-in"
    assert parse_qs(location.query) == {"next": [f"{page}?lang=fr"], "lang": ["fr"]}

    form = client.get(response.headers["location"])
    assert form.status_code == 200
    assert '<html lang="fr">' in form.text
    assert 'method="post" action="/chargeback/sign-in' in form.text
    assert 'type="password" id="api_key" name="api_key"' in form.text
    assert f'name="next" value="{page}?lang=fr"' in form.text
    assert form.headers["cache-control"] == "no-store"


def test_signing_in_sets_an_httponly_samestrict_cookie_and_goes_to_next(client: TestClient, given: Given) -> None:
    page = f"/chargeback/ESDC/{given.closed}"
    response = sign_in(client, given.esdc_key, page)
    assert response.headers["location"] == page
    assert given.esdc_key not in response.headers["location"]

    cookies = {attributes(h)["path"]: h for h in cookie_headers(response)}
    # The pages' cookie, and the same one for the CSV and FOCUS downloads under /v1/chargeback.
    assert set(cookies) == {"/chargeback", "/v1/chargeback"}
    for header in cookies.values():
        flags = attributes(header)
        assert header.startswith(f"orderledger_key={given.esdc_key};")
        assert "httponly" in flags
        assert flags["samesite"].lower() == "strict"
        assert "max-age" not in flags and "expires" not in flags  # a session cookie

    statement = client.get(page)
    assert statement.status_code == 200, statement.text
    assert "Employment and Social Development Canada" in statement.text
    assert given.esdc_key not in statement.text


def test_an_unknown_key_shows_the_form_again_with_a_bilingual_error(client: TestClient, given: Given) -> None:
    response = client.post(
        "/chargeback/sign-in",
        data={"api_key": "olk_000000000000_not-a-key", "next": f"/chargeback/ESDC/{given.closed}"},
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert not cookie_headers(response)
    text = text_of(response.text)
    assert "This API key is unknown or revoked. Check it and try again." in text
    assert "Cette clé d'API est inconnue ou révoquée. Vérifiez-la et réessayez." in text
    assert 'role="alert"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert f'name="next" value="/chargeback/ESDC/{given.closed}"' in response.text

    empty = client.post("/chargeback/sign-in", data={"api_key": ""}, follow_redirects=False)
    assert empty.status_code == 401
    assert "Enter your API key." in text_of(empty.text)


@pytest.mark.parametrize(
    "next_path",
    ["https://evil.example/", "//evil.example/chargeback/", "/v1/invoices", "/chargeback/\\evil", ""],
)
def test_sign_in_goes_only_to_a_statement_page(client: TestClient, given: Given, today: date, next_path: str) -> None:
    response = sign_in(client, given.esdc_key, next_path)
    assert response.headers["location"] == "/chargeback"
    # A client key lands on its own statement of this month.
    landing = client.get("/chargeback", follow_redirects=False)
    assert landing.status_code == 303
    assert landing.headers["location"] == f"/chargeback/ESDC/{today:%Y-%m}"


@pytest.mark.date_sensitive
def test_a_client_key_lands_on_its_own_statement_of_this_month(client: TestClient, given: Given, today: date) -> None:
    sign_in(client, given.esdc_key)
    landing = client.get("/chargeback", follow_redirects=False)
    assert (landing.status_code, landing.headers["location"]) == (303, f"/chargeback/ESDC/{today:%Y-%m}")


def test_a_sign_in_posted_from_another_site_is_refused(client: TestClient, given: Given) -> None:
    response = client.post(
        "/chargeback/sign-in",
        data={"api_key": given.esdc_key},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert not cookie_headers(response)


def test_signing_out_clears_the_cookie(client: TestClient, given: Given) -> None:
    page = f"/chargeback/ESDC/{given.closed}"
    sign_in(client, given.esdc_key, page)
    assert client.get(page, follow_redirects=False).status_code == 200

    out = client.post("/chargeback/sign-out", follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["location"] == "/chargeback/sign-in?signed_out=1"
    cleared = cookie_headers(out)
    assert {attributes(h)["path"] for h in cleared} == {"/chargeback", "/v1/chargeback"}
    assert all(attributes(h)["max-age"] == "0" for h in cleared)
    assert client.get(page, follow_redirects=False).status_code == 303
    assert "You are signed out." in text_of(client.get(out.headers["location"]).text)


def test_a_revoked_key_in_the_cookie_sends_back_to_sign_in(
    client: TestClient, given: Given, ledger_app: Orderledger
) -> None:
    page = f"/chargeback/ESDC/{given.closed}"
    sign_in(client, given.esdc_key, page)
    assert ledger_app.keys.revoke(given.esdc_key.split("_")[1])
    response = client.get(page, follow_redirects=False)
    assert response.status_code == 303
    assert parse_qs(urlsplit(response.headers["location"]).query)["expired"] == ["1"]
    assert all(attributes(h)["max-age"] == "0" for h in cookie_headers(response))


def test_pages_also_take_the_key_in_a_header(client: TestClient, given: Given) -> None:
    page = f"/chargeback/ESDC/{given.closed}"
    assert client.get(page, headers={"X-API-Key": given.esdc_key}).status_code == 200
    assert client.get(page, headers={"Authorization": f"Bearer {given.esdc_key}"}).status_code == 200
    wrong = client.get(page, headers={"X-API-Key": "olk_0_nope"}, follow_redirects=False)
    assert wrong.status_code == 401
    assert "This API key is unknown or revoked." in text_of(wrong.text)


def test_a_key_of_another_organisation_gets_a_bilingual_403_page(client: TestClient, given: Given) -> None:
    sign_in(client, given.cra_key)
    for path in (
        f"/chargeback/ESDC/{given.closed}",
        f"/chargeback/ESDC/{given.closed}/lines?line_id=x",
        "/chargeback/ESDC/fiscal-year/2026",
    ):
        response = client.get(f"{path}?lang=en" if "?" not in path else f"{path}&lang=en")
        assert response.status_code == 403, path
        text = text_of(response.text)
        assert "This statement is not your organisation's" in text
        assert "The key you signed in with shows only the statements of CRA, not those of ESDC." in text
        assert "La clé avec laquelle vous êtes connecté ne donne accès qu'aux relevés de CRA" in text
        assert "1,234.56" not in text and "1234.56" not in response.text
        assert 'href="/chargeback/CRA?lang=en"' in response.text
        assert 'method="post" action="/chargeback/sign-in' in response.text  # to sign in with another key


# ---------------------------------------------------------------- the cookie and the JSON/CSV API


def test_the_cookie_opens_the_csv_and_focus_downloads_but_never_a_command(client: TestClient, given: Given) -> None:
    sign_in(client, given.esdc_key)
    page = client.get(f"/chargeback/ESDC/{given.closed}")
    csv_href = unescape(found(r'id="csv-export" href="([^"]+)"', page.text))
    focus_href = unescape(found(r'id="focus-export" href="([^"]+)"', page.text))
    assert csv_href == f"/v1/chargeback/ESDC?period={given.closed}&format=csv"
    assert focus_href == f"/v1/chargeback/ESDC/focus?period={given.closed}"

    csv = client.get(csv_href)  # the client sends the /v1/chargeback cookie, as a browser would
    assert csv.status_code == 200, csv.text
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.startswith("organisation,billing_period,line_id")
    assert "CRA-REF-9" not in csv.text
    assert client.get(focus_href).status_code == 200
    assert client.get(f"/v1/chargeback/CRA?period={given.closed}").status_code == 403

    # Commands never take the cookie (cross-site request forgery): only a header key.
    cookie = {"Cookie": f"orderledger_key={given.esdc_key}"}
    refused = client.post(f"/v1/periods/{given.last}/close", json={}, headers=cookie)
    assert refused.status_code == 401
    assert refused.json()["code"] == "unauthenticated"
    # And a header key still wins over the cookie on a read.
    header = client.get(f"/v1/chargeback/ESDC?period={given.closed}", headers={**cookie, "X-API-Key": "olk_0_nope"})
    assert header.status_code == 401


# ---------------------------------------------------------------- the statement


def test_the_french_statement_formats_amounts_the_french_way(client: TestClient, given: Given) -> None:
    sign_in(client, given.esdc_key)
    response = client.get(f"/chargeback/ESDC/{given.closed}", headers={"Accept-Language": "fr-CA,fr;q=0.9"})
    assert response.status_code == 200
    assert response.headers["content-language"] == "fr"
    html = response.text
    assert '<html lang="fr">' in html
    assert "Emploi et Développement social Canada" in html
    assert f"Relevé de rétrofacturation : {month_fr(given.closed)}" in text_of(html)
    assert "Définitif : mois fermé" in html
    charge = next(r for r in rows(html, "lines") if "/1/charge" in r)
    assert f'<td class="num amount">1{NNBSP}234,56</td>' in charge
    assert "Coût — facturation" in charge
    totals = text_of(" ".join(rows(html, "totals")))
    assert f"Achats 1{NNBSP}344,56" in totals  # 1234.56 + 10.00 shipping + 100.00
    assert "1,234.56" not in html and "1234.56" not in html

    last = client.get(f"/chargeback/ESDC/{given.last}?lang=fr").text
    withheld = next(r for r in rows(last, "lines") if "tax-GST" in r)
    assert f'<td class="num amount">{MINUS}5,00</td>' in withheld
    assert "Taxe TPS — retenue (en litige)" in withheld

    english = client.get(f"/chargeback/ESDC/{given.closed}?lang=en").text
    assert '<html lang="en">' in english
    assert '<td class="num amount">1,234.56</td>' in english
    assert "Final: month closed" in english


@pytest.mark.date_sensitive
def test_correction_lines_say_what_closed_month_they_correct(client: TestClient, given: Given) -> None:
    sign_in(client, given.esdc_key)
    html = client.get(f"/chargeback/ESDC/{given.last}?lang=en").text
    lines = rows(html, "lines")
    assert len(lines) == 6  # the late invoice: charge, HST, fee; the dispute: charge, GST, fee withheld
    assert all('data-category="correction"' in line for line in lines)
    late = next(r for r in lines if "/1/charge" in r)
    assert f'<td class="category">Correction of purchases for {month_en(given.closed)}</td>' in late
    assert "Charge — billed" in late
    assert f'<time datetime="{given.closed}">{given.closed}</time>' in late
    withheld = [r for r in lines if "INV-1, line 3" in r]
    assert [found(r'<td class="what">(.*?)</td>', r) for r in withheld] == [
        "Charge — withheld (in dispute)",
        "Tax GST — withheld (in dispute)",
        "Management fee (2%) — withheld (in dispute)",
    ]
    assert f"Correction of taxes for {month_en(given.closed)}" in withheld[1]
    assert f"{MINUS}100.00" in withheld[0]
    assert 'data-status="open"' in html and "Open: may still change" in html
    french = client.get(f"/chargeback/ESDC/{given.last}?lang=fr").text
    assert f"Correction de la catégorie « Achats » pour {month_fr(given.closed)}" in french


@pytest.mark.date_sensitive
def test_the_statement_links_orders_months_exports_and_is_accessible(client: TestClient, given: Given) -> None:
    sign_in(client, given.esdc_key)
    html = client.get(f"/chargeback/ESDC/{given.closed}?lang=en").text
    assert f'href="/status/orders/{given.order_id}?lang=en">{given.order_id}</a>' in html
    previous = first_of_month(date.fromisoformat(f"{given.closed}-01"), 1).strftime("%Y-%m")
    assert f'href="/chargeback/ESDC/{previous}?lang=en"' in html
    assert f'href="/chargeback/ESDC/{given.last}?lang=en"' in html
    fiscal = int(given.closed[:4]) - (1 if int(given.closed[5:]) < 4 else 0)
    assert f'href="/chargeback/ESDC/fiscal-year/{fiscal}?lang=en"' in html
    assert html.count("<caption") == 2
    assert '<th scope="col">Category</th>' in html and '<th scope="row" class="num">1</th>' in html
    assert 'class="skip" href="#main"' in html
    assert "Print" in html  # the print hint
    for href in drill_down_links(html):
        assert href.startswith(f"/chargeback/ESDC/{given.closed}/lines?line_id=")
        assert "/" not in href.split("line_id=", 1)[1].split("&")[0]  # the line id is URL-encoded


# ---------------------------------------------------------------- drill-down


@pytest.mark.date_sensitive
def test_the_drill_down_shows_the_events_of_each_line(client: TestClient, given: Given, broker: dict[str, str]) -> None:
    sign_in(client, given.esdc_key)
    for period in (given.closed, given.last):
        statement = client.get(f"/v1/chargeback/ESDC?period={period}", headers=broker).json()
        html = client.get(f"/chargeback/ESDC/{period}?lang=en").text
        links = drill_down_links(html)
        assert len(links) == len(statement["lines"]) > 0
        for line, href in zip(statement["lines"], links, strict=True):
            assert parse_qs(urlsplit(href).query)["line_id"] == [line["line_id"]]
            page = client.get(href)
            assert page.status_code == 200, href
            assert f'<td class="mono" id="line-id">{line["line_id"]}</td>' in page.text
            shown = re.findall(r'data-event-id="([^"]+)"', page.text)
            assert shown == line["source_events"]
            for event_id in line["source_events"]:
                assert f'<dd class="mono event-id">{event_id}</dd>' in page.text


def test_the_invoice_event_shown_to_one_organisation_holds_none_of_another_s_lines(
    client: TestClient, given: Given
) -> None:
    sign_in(client, given.esdc_key)
    html = client.get(f"/chargeback/ESDC/{given.closed}?lang=en").text
    href = next(h for h in drill_down_links(html) if "%2F1%2Fcharge" in h)
    page = client.get(href).text
    data = json.loads(unescape(found(r'<pre class="event-data"[^>]*>(.*?)</pre>', page)))
    assert data["type"] == "SupplierInvoiceReceived"
    # ESDC's two lines of the invoice (its other line is its business too); CRA's line and the total left out.
    assert [(line["line_no"], line["client_org"]) for line in data["lines"]] == [(1, "ESDC"), (3, "ESDC")]
    assert "total" not in data
    assert "CRA-REF-9" not in page and "777.00" not in page
    assert "the lines of any other organisation and the invoice total are left out" in text_of(page)
    assert "Business time" in page and "Ledger time" in page and "Recorded by" in page
    assert f'href="/status/orders/{given.order_id}?lang=en"' in page


# ---------------------------------------------------------------- fiscal year, and what is not there


@pytest.mark.date_sensitive
def test_the_fiscal_year_lists_april_to_march_with_each_month_s_status(client: TestClient, given: Given) -> None:
    sign_in(client, given.esdc_key)
    fiscal = int(given.closed[:4]) - (1 if int(given.closed[5:]) < 4 else 0)
    response = client.get(f"/chargeback/ESDC/fiscal-year/{fiscal}?lang=en")
    assert response.status_code == 200
    months = rows(response.text, "months")
    periods = [found(r'data-period="([^"]+)"', r) for r in months]
    assert periods[0] == f"{fiscal}-04" and periods[-1] == f"{fiscal + 1}-03" and len(periods) == 12
    closed = months[periods.index(given.closed)]
    assert f'href="/chargeback/ESDC/{given.closed}?lang=en"' in closed
    assert ">Final<" in closed and 'data-status="closed"' in closed
    assert "1,543.69" in closed  # 1344.56 purchases + 5.00 EHF + 167.44 taxes + 26.69 fees
    assert "Fiscal year total" in response.text
    assert "<caption" in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/chargeback/ESDC/2026-13",
        "/chargeback/ESDC/26-01",
        "/chargeback/ESDC/fiscal-year",
        "/chargeback/ESDC/2026-01/lines?line_id=nope",
        "/chargeback/ESDC/2026-1/lines?line_id=nope",
        "/chargeback/ESDC/fiscal-year/abc",
        "/chargeback/ESDC/fiscal-year/1999",
        "/chargeback/NOPE/2026-01",
        "/chargeback/nope/2026-01",
        "/chargeback/NOPE/fiscal-year/2026",
        "/chargeback/NOPE/2026-01/lines?line_id=x",
    ],
)
def test_an_unknown_organisation_or_a_malformed_month_is_a_404_page(
    client: TestClient, given: Given, broker: dict[str, str], path: str
) -> None:
    response = client.get(path, headers=broker)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in response.text
    assert "Statement not found" in response.text


def test_a_broker_key_may_open_any_organisation_s_statement(
    client: TestClient, given: Given, key_for: Callable[[str], dict[str, str]]
) -> None:
    bearer = key_for("broker")["Authorization"].removeprefix("Bearer ")
    sign_in(client, bearer)
    choose = client.get("/chargeback?lang=fr")
    assert choose.status_code == 200
    assert "Ouvrir un relevé" in choose.text
    opened = client.get(f"/chargeback?org=cra&period={given.closed}", follow_redirects=False)
    assert opened.headers["location"] == f"/chargeback/CRA/{given.closed}"
    cra = client.get(f"/chargeback/CRA/{given.closed}?lang=en").text
    assert "Canada Revenue Agency" in cra and "777.00" in cra
