"""The public service status page, its Atom feed and its JSON summary: bilingual, no key, no amount.

Incidents are opened, restored and closed over the JSON API at times relative to the ledger's clock (noon
Eastern Time on the test's `today`), so the last 90 days' bars show their outages. Date-sensitive: each test
runs on every fixed today (a 1st, a month's last day, a 15th, the clock-change days).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from processors.clocks import Clock

pytestmark = pytest.mark.date_sensitive

EASTERN = ZoneInfo("America/Toronto")
ATOM = "{http://www.w3.org/2005/Atom}"
CHARGES = ("12345.67", "12345,67", "12 345", "12,345", "9876.54", "9876,54", "9 876", "9,876")
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _post(client, broker, path: str, body: dict[str, object]) -> dict[str, object]:
    answer = client.post(path, json=body, headers=broker)
    assert answer.status_code in (200, 201), answer.text
    result: dict[str, object] = answer.json()
    return result


def _at(today: date, days_ago: int, hour: int, minute: int = 0) -> datetime:
    """A moment `days_ago` days before `today`, at a time of day in Eastern Time."""
    return datetime.combine(today - timedelta(days=days_ago), time(hour, minute), EASTERN)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def given(client, broker, today: date, clock: Clock) -> dict[str, datetime]:
    """Two services of a cloud contract; MAIL has a closed P1 (20 days ago, 2 h) and an open P2 (now);
    STORE has a P3 restored (5 days ago, 15 minutes) but not closed."""
    for code in ("ESDC", "SQI"):
        _post(
            client,
            broker,
            "/v1/organisations",
            {"code": code, "name_en": f"{code} (en)", "name_fr": f"{code} (fr)", "tax_status": "federal"},
        )
    _post(
        client,
        broker,
        "/v1/contracts",
        {
            "contract_id": "CLOUD-S",
            "kind": "cloud",
            "supplier": "Nimbus Cloud",
            "ceiling": "1000000.00",
            "start_date": (today - timedelta(days=400)).isoformat(),
            "end_date": (today + timedelta(days=500)).isoformat(),
            "fee_rate": "0.02",
        },
    )
    registered_on = (today - timedelta(days=150)).isoformat()
    for service_id, name, name_fr, charge in (
        ("MAIL", "Email", "Courriel", "12345.67"),
        ("STORE", "Storage", "Stockage", "9876.54"),
    ):
        _post(
            client,
            broker,
            "/v1/services",
            {
                "service_id": service_id,
                "name": name,
                "name_fr": name_fr,
                "contract_id": "CLOUD-S",
                "organisations": ["ESDC", "SQI"],
                "monthly_charge": charge,
                "registered_on": registered_on,
            },
        )
    now = clock()
    old = {"start": _at(today, 20, 10), "restored": _at(today, 20, 12), "closed": _at(today, 19, 9)}
    _post(
        client,
        broker,
        "/v1/incidents",
        {
            "incident_id": "INC-OLD",
            "service_id": "MAIL",
            "title": "Mail down",
            "priority": "P1",
            "detected_at": old["start"].isoformat(),
        },
    )
    _post(client, broker, "/v1/incidents/INC-OLD/restore", {"restored_at": old["restored"].isoformat()})
    _post(client, broker, "/v1/incidents/INC-OLD/close", {"closed_at": old["closed"].isoformat()})
    store = {"start": _at(today, 5, 9), "restored": _at(today, 5, 9, 15)}
    _post(
        client,
        broker,
        "/v1/incidents",
        {
            "incident_id": "INC-S",
            "service_id": "STORE",
            "title": "Slow uploads",
            "priority": "P3",
            "reported_at": store["start"].isoformat(),
        },
    )
    _post(client, broker, "/v1/incidents/INC-S/restore", {"restored_at": store["restored"].isoformat()})
    current = {"start": now - timedelta(minutes=40), "update": now - timedelta(minutes=20)}
    _post(
        client,
        broker,
        "/v1/incidents",
        {
            "incident_id": "INC-NOW",
            "service_id": "MAIL",
            "title": "Mail delayed",
            "priority": "P2",
            "detected_at": current["start"].isoformat(),
            "reported_at": (current["start"] + timedelta(minutes=5)).isoformat(),
        },
    )
    _post(
        client,
        broker,
        "/v1/incidents/INC-NOW/updates",
        {"updated_at": current["update"].isoformat(), "note": "Engineers are rerouting mail"},
    )
    return {
        "old_start": old["start"],
        "old_closed": old["closed"],
        "store_start": store["start"],
        "store_restored": store["restored"],
        "now_start": current["start"],
        "now_update": current["update"],
    }


def _svg(html: str, service_id: str) -> str:
    found = re.search(rf'<svg id="uptime-{service_id}"[^>]*>.*?</svg>', html, re.S)
    assert found, f"no uptime chart for {service_id}"
    return found.group(0)


def _bars(svg: str) -> list[dict[str, str]]:
    pattern = r'<rect class="bar bar-[a-z_]+"[^>]*data-date="([\d-]+)" data-state="([a-z_]+)"><title>([^<]*)</title>'
    return [{"date": d, "state": s, "title": t} for d, s, t in re.findall(pattern, svg)]


def _months(html: str, service_id: str) -> list[str]:
    found = re.search(rf'<table id="months-{service_id}".*?</table>', html, re.S)
    assert found, f"no monthly table for {service_id}"
    return re.findall(r'<tr data-month="(\d{4}-\d{2})">', found.group(0))


def _no_amount(text: str) -> None:
    for charge in CHARGES:
        assert charge not in text, f"{charge!r} is shown"


def _month_figures(html: str, service_id: str, month: str) -> list[str]:
    """The monthly table's figures of one month: availability, target, outage minutes, excluded minutes."""
    table = re.search(rf'<table id="months-{service_id}".*?</table>', html, re.S)
    assert table, f"no monthly table for {service_id}"
    row = re.search(rf'<tr data-month="{month}">.*?</tr>', table.group(0), re.S)
    assert row, f"no row for {month} in {service_id}'s monthly table"
    return re.findall(r'<td class="num">([^<]+)</td>', row.group(0))


def test_the_english_page_shows_states_open_incidents_their_timeline_90_bars_and_months(client, broker, given, today):
    # When: anyone (no key) opens the service status page
    answer = client.get("/status/services")
    # Then: English, public, the state of each service in words
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-language"] == "en"
    html = answer.text
    assert '<html lang="en">' in html
    assert '<h2 id="name-MAIL">Email</h2>' in html and '<h2 id="name-STORE">Storage</h2>' in html
    assert re.search(r'id="state-MAIL"[^>]*data-state="partial_outage">Partial outage<', html)
    assert re.search(r'id="state-STORE"[^>]*data-state="operational">Operational<', html)
    assert "Services not fully operational: 1 of 2." in html
    # And: the open incident with its timeline in Eastern Time; restored-not-closed is listed too; closed is not
    assert 'id="incident-INC-NOW"' in html and "Mail delayed" in html
    assert 'id="incident-INC-S"' in html and "Service restored" in html
    assert 'id="incident-INC-OLD"' not in html
    article = re.search(r'<article class="incident" id="incident-INC-NOW".*?</article>', html, re.S)
    assert article
    rows = re.findall(
        r'<tr data-kind="(\w+)"><td><time datetime="([^"]+)">([^<]+)</time></td>'
        r'<td class="what">([^<]+)</td><td>([^<]*)</td>',
        article.group(0),
    )
    update_local = given["now_update"].astimezone(EASTERN)
    assert [(kind, what, note) for kind, _, _, what, note in rows] == [
        ("IncidentOpened", "Incident opened", ""),
        ("IncidentUpdated", "Update", "Engineers are rerouting mail"),
    ]
    assert rows[1][2] == update_local.strftime("%Y-%m-%d %H:%M")
    assert datetime.fromisoformat(rows[1][1]) == given["now_update"].replace(microsecond=0)
    assert "<dd>P2</dd>" in article.group(0) and "Partial outage" in article.group(0)
    # And: 90 daily bars per service, an accessible chart, outages where the incidents were
    for service_id in ("MAIL", "STORE"):
        svg = _svg(html, service_id)
        assert svg.count("<rect") == 90
        assert 'role="img"' in svg and 'aria-label="Daily uptime of ' in svg
        bars = _bars(svg)
        assert len(bars) == 90
        assert [b["date"] for b in bars] == [(today - timedelta(days=89 - n)).isoformat() for n in range(90)]
    mail = {b["date"]: b for b in _bars(_svg(html, "MAIL"))}
    old_day = given["old_start"].date().isoformat()
    assert mail[old_day]["state"] == "major_outage"
    assert mail[old_day]["title"].startswith(f"{old_day}: ")
    assert "120.000 minutes of outage" in mail[old_day]["title"]
    assert mail[max(mail)]["state"] != "operational"  # the open incident, today
    store = {b["date"]: b for b in _bars(_svg(html, "STORE"))}
    store_day = given["store_start"].date().isoformat()
    assert store[store_day]["state"] == "degraded"
    assert "15.000 minutes of outage" in store[store_day]["title"]
    assert sum(b["state"] != "operational" for b in store.values()) == 1
    # And: the monthly table, newest first, 3 to 6 months, same figures as the broker's API
    months = _months(html, "MAIL")
    this_month = today.strftime("%Y-%m")
    assert months[0] == this_month and 3 <= len(months) <= 6 and months == sorted(months, reverse=True)
    # (the open incident's outage grows while we look: the page is read between two API reads)
    before = client.get(f"/v1/services/MAIL/availability?month={this_month}", headers=broker).json()
    again = client.get("/status/services").text
    after = client.get(f"/v1/services/MAIL/availability?month={this_month}", headers=broker).json()
    figures = _month_figures(again, "MAIL", this_month)
    assert figures[0] in (f"{before['availability_pct']}%", f"{after['availability_pct']}%")
    assert figures[1] == "99.900%"
    assert Decimal(before["outage_minutes"]) <= Decimal(figures[2]) <= Decimal(after["outage_minutes"])
    # The open P2 began 40 minutes before the test did; the closed P1 (2 h, 20 days ago) counts in its own
    # month, which is this one only from the 21st on.
    old_month = given["old_start"].strftime("%Y-%m")
    open_p2 = Decimal(figures[2]) - (120 if old_month == this_month else 0)
    assert 40 <= open_p2 < 45, figures
    assert figures[3] == "0.000"
    if old_month != this_month:
        assert old_month in months and _month_figures(again, "MAIL", old_month)[2] == "120.000"
    for header in ("Month", "Availability", "Target", "Result", "Outage minutes", "Excluded minutes"):
        assert f">{header}</th>" in html
    # And: never an amount
    _no_amount(html)


def test_the_french_page_words_and_numbers_everything_in_french(client, given, today):
    answer = client.get("/status/services?lang=fr")
    assert answer.status_code == 200
    assert answer.headers["content-language"] == "fr"
    html = answer.text
    assert '<html lang="fr">' in html
    assert '<h2 id="name-MAIL">Courriel</h2>' in html and '<h2 id="name-STORE">Stockage</h2>' in html
    assert re.search(r'id="state-MAIL"[^>]*>Panne partielle<', html)
    assert re.search(r'id="state-STORE"[^>]*>Fonctionnel<', html)
    assert "Incidents en cours" in html and "Service rétabli" in html
    assert "Incident ouvert" in html and "Mise à jour" in html and "Engineers are rerouting mail" in html
    svg = _svg(html, "MAIL")
    assert svg.count("<rect") == 90 and 'aria-label="Disponibilité quotidienne de Courriel du ' in svg
    store = {b["date"]: b for b in _bars(_svg(html, "STORE"))}
    store_day = given["store_start"].date().isoformat()
    assert store[store_day]["title"].startswith(f"{store_day} : disponibilité de ")
    assert "15,000 minutes de panne" in store[store_day]["title"]
    # numbers with a decimal comma and a no-break space before %, dates numeric
    assert '<td class="num">99,900\u00a0%</td>' in html
    assert re.search(r'<td class="num">\d{2,3},\d{3}\u00a0%</td>', html)
    assert "99.900" not in html
    assert _months(html, "MAIL")[0] == today.strftime("%Y-%m")
    for header in ("Mois", "Disponibilité", "Cible", "Résultat", "Minutes de panne", "Minutes exclues"):
        assert f">{header}</th>" in html
    assert "Atteinte" in html
    _no_amount(html)


def test_an_unknown_language_falls_back_and_no_key_is_needed(client, key_for, given):
    # an unknown lang: English, or French when the browser asks for it
    answer = client.get("/status/services?lang=de")
    assert answer.status_code == 200 and answer.headers["content-language"] == "en"
    assert ">Partial outage<" in answer.text
    answer = client.get("/status/services?lang=xx", headers={"Accept-Language": "fr-CA,fr;q=0.9"})
    assert answer.status_code == 200 and answer.headers["content-language"] == "fr"
    assert ">Panne partielle<" in answer.text
    # the switch link keeps the page and flips the language
    assert 'href="/status/services?lang=en"' in answer.text
    # no key anywhere, and a client key changes nothing
    for path in ("/status/services", "/status/services.json", "/status/services/feed.atom"):
        assert client.get(path).status_code == 200, path
        with_key = client.get(path, headers=key_for("client:ESDC"))
        assert with_key.status_code == 200, path


def test_the_atom_feed_has_one_entry_per_incident_latest_updated_first(client, given):
    answer = client.get("/status/services/feed.atom")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(answer.content)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}title") == "Service incidents"
    assert feed.findtext(f"{ATOM}id", "").startswith("tag:")
    entries = feed.findall(f"{ATOM}entry")
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert ids == [
        "tag:orderledger,2026:incident/INC-NOW",
        "tag:orderledger,2026:incident/INC-S",
        "tag:orderledger,2026:incident/INC-OLD",
    ]
    updated = [e.findtext(f"{ATOM}updated", "") for e in entries]
    assert all(RFC3339_UTC.match(u) for u in updated), updated
    assert updated == sorted(updated, reverse=True)
    assert updated == [_utc(given["now_update"]), _utc(given["store_restored"]), _utc(given["old_closed"])]
    assert feed.findtext(f"{ATOM}updated") == updated[0]
    titles = [e.findtext(f"{ATOM}title", "") for e in entries]
    assert titles[0] == "Email: incident INC-NOW (P2, open) — Mail delayed"
    assert titles[1] == "Storage: incident INC-S (P3, service restored) — Slow uploads"
    assert titles[2] == "Email: incident INC-OLD (P1, closed) — Mail down"
    content = entries[0].find(f"{ATOM}content")
    assert content is not None and content.get("type") == "text"
    lines = (content.text or "").splitlines()
    opened = given["now_start"].astimezone(EASTERN).strftime("%Y-%m-%d %H:%M")
    assert lines[0] == f"{opened} ET — Incident opened"
    assert lines[1].endswith("ET — Update — Engineers are rerouting mail")
    old_lines = (entries[2].findtext(f"{ATOM}content") or "").splitlines()
    assert [line.split(" — ", 1)[1] for line in old_lines] == ["Incident opened", "Service restored", "Incident closed"]
    # the ids are stable: fetched again, from another host, the same
    again = ET.fromstring(client.get("/status/services/feed.atom", headers={"Host": "status.example"}).content)
    assert [e.findtext(f"{ATOM}id") for e in again.findall(f"{ATOM}entry")] == ids
    _no_amount(answer.text)
    # in French
    french = ET.fromstring(client.get("/status/services/feed.atom?lang=fr").content)
    assert french.findtext(f"{ATOM}title") == "Incidents des services"
    first = french.findall(f"{ATOM}entry")[0]
    assert first.findtext(f"{ATOM}title") == "Courriel : incident INC-NOW (P2, ouvert) — Mail delayed"
    assert "HE — Incident ouvert" in (first.findtext(f"{ATOM}content") or "")


def test_the_feed_keeps_the_50_latest_updated_incidents(client, broker, given, clock):
    start = clock() - timedelta(days=3)
    for n in range(50):
        _post(
            client,
            broker,
            "/v1/incidents",
            {
                "incident_id": f"BULK-{n:02d}",
                "service_id": "STORE",
                "priority": "P4",
                "detected_at": (start + timedelta(minutes=n)).isoformat(),
            },
        )
    feed = ET.fromstring(client.get("/status/services/feed.atom").content)
    ids = [e.findtext(f"{ATOM}id", "").rsplit("/", 1)[1] for e in feed.findall(f"{ATOM}entry")]
    # 53 incidents: the latest updated first, the 3 updated the longest ago left out
    assert len(ids) == 50
    assert ids == ["INC-NOW", *(f"BULK-{n:02d}" for n in range(49, 0, -1))]
    assert not {"BULK-00", "INC-S", "INC-OLD"} & set(ids)


def test_the_json_summary_has_state_open_incidents_this_month_and_90_bars(client, given, today):
    answer = client.get("/status/services.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["timezone"] == "America/Toronto"
    services = {s["service_id"]: s for s in body["services"]}
    assert sorted(services) == ["MAIL", "STORE"]
    mail = services["MAIL"]
    assert set(mail) == {"service_id", "name", "name_fr", "state", "open_incidents", "current_month", "uptime"}
    assert (mail["name"], mail["name_fr"], mail["state"]) == ("Email", "Courriel", "partial_outage")
    assert mail["open_incidents"] == [
        {
            "incident_id": "INC-NOW",
            "title": "Mail delayed",
            "priority": "P2",
            "impact": "partial_outage",
            "status": "open",
            "started_at": given["now_start"].isoformat(),
        }
    ]
    month = mail["current_month"]
    assert month["month"] == today.strftime("%Y-%m")
    assert month["target_pct"] == "99.900" and isinstance(month["met"], bool) and month["complete"] is False
    assert re.fullmatch(r"\d{2,3}\.\d{3}", month["availability_pct"])
    assert len(mail["uptime"]) == 90
    assert set(mail["uptime"][0]) == {"date", "state", "uptime_pct", "outage_minutes"}
    store = services["STORE"]
    assert store["state"] == "operational"
    assert [(i["incident_id"], i["status"], i["impact"]) for i in store["open_incidents"]] == [
        ("INC-S", "restored", "degraded")
    ]
    day = next(b for b in store["uptime"] if b["date"] == given["store_start"].date().isoformat())
    assert (day["state"], day["outage_minutes"]) == ("degraded", "15.000")
    _no_amount(answer.text)
    assert "monthly_charge" not in answer.text and "credit" not in answer.text


def test_with_no_service_the_page_feed_and_summary_are_empty(client):
    page = client.get("/status/services?lang=fr")
    assert page.status_code == 200 and "Aucun service n'est encore inscrit." in page.text.replace("&#39;", "'")
    feed = ET.fromstring(client.get("/status/services/feed.atom").content)
    assert feed.findall(f"{ATOM}entry") == [] and RFC3339_UTC.match(feed.findtext(f"{ATOM}updated", ""))
    assert client.get("/status/services.json").json()["services"] == []
