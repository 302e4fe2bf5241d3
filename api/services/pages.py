"""Public, bilingual service status: each service's state now, open incidents, 90 days of uptime, months.

Three views of the same composition: the HTML page, an Atom feed of incidents and a JSON summary.
All figures come from `api.services.levels` (never recomputed here). Public: no API key, and no
amount (no monthly charge, no credit): templates and answers get plain dicts built here, never the
projection rows (which hold the money).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.app.access import DECLARE_PUBLIC, App, LedgerRoute
from api.pages.layout import LangQuery, page
from api.pages.words import Language, number_text, percent_text, pick_language, translator
from api.services.levels import UPTIME_DAYS, availability_view, daily_uptime, month_level, month_row, state_now
from events.services.availability import months_between
from events.services.facts import IncidentRecord
from processors.wiring import Orderledger
from projections.incidents import INCIDENTS, IncidentView
from projections.service_status import SERVICE_STATUS, ServiceStatus

EASTERN = ZoneInfo("America/Toronto")
MAX_SERVICES = 10_000
TABLE_MONTHS = 6  # the monthly table: this month and up to 5 before (none before the service was registered)
FEED_ENTRIES = 50
ATOM = "http://www.w3.org/2005/Atom"
TAG = "tag:orderledger,2026:"  # stable ids: never derived from the host the feed was fetched from
router = APIRouter(prefix="/status", tags=["status pages"], route_class=LedgerRoute, dependencies=DECLARE_PUBLIC)


def number_formatter(language: str) -> Callable[[Decimal | str], str]:
    return lambda value: number_text(value, language)


def percent_formatter(language: str) -> Callable[[Decimal | str], str]:
    return lambda value: percent_text(value, language)


def _eastern(moment: datetime) -> dict[str, str]:
    local = moment.astimezone(EASTERN)
    return {"text": local.strftime("%Y-%m-%d %H:%M"), "iso": local.isoformat(timespec="seconds")}


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _note(entry_kind: str, note: str, t: Any) -> str:
    """An exclusion's note is its reason code: worded; an update's note is the broker's own text."""
    return t("svc_rs_" + note) if entry_kind == "OutageExclusionApproved" and note else note


def _timeline(view: IncidentView | None, t: Any) -> list[dict[str, Any]]:
    if view is None:
        return []
    return [
        {"at": _eastern(e.at), "what": t("svc_ev_" + e.kind), "kind": e.kind, "note": _note(e.kind, e.note, t)}
        for e in view.timeline
    ]


def _incident(record: IncidentRecord) -> dict[str, Any]:
    """What the public sees of an incident: no organisations, no approvers."""
    return {
        "incident_id": record.incident_id,
        "title": record.title,
        "priority": record.priority,
        "impact": record.impact,
        "status": record.status,
        "started_at": record.outages[0].started_at,
    }


def _month(view: dict[str, Any]) -> dict[str, Any]:
    keep = ("month", "complete", "availability_pct", "target_pct", "met", "outage_minutes", "excluded_minutes")
    return {k: view[k] for k in keep}


def _services(app: Orderledger) -> list[ServiceStatus]:
    rows: list[ServiceStatus] = app.projections.query(SERVICE_STATUS, order_by="key", limit=MAX_SERVICES)
    return [r for r in rows if r.registered is not None]


def service_summary(app: Orderledger, service: ServiceStatus, now: datetime, months: int) -> dict[str, Any]:
    """A service as the public may see it: state, open incidents, 90 daily bars, the last `months` months."""
    registered = service.registered
    assert registered is not None
    since = datetime.combine(registered.registered_on, time(0), EASTERN)
    levels = []
    for month in reversed(months_between(since, now)[-months:]):
        row = month_row(app, service.service_id, month)
        levels.append(_month(availability_view(month_level(service, row, month, now), row, month, now)))
    incidents = sorted(service.open_incidents.values(), key=lambda r: (r.outages[0].started_at, r.incident_id))
    return {
        "service_id": service.service_id,
        "name": registered.name,
        "name_fr": registered.name_fr,
        "state": state_now(service, now),
        "open_incidents": [_incident(r) for r in incidents],
        "months": levels,  # newest first
        "uptime": daily_uptime(app, service, now.astimezone(EASTERN).date(), now),
    }


# ---------------------------------------------------------------- the page


def _bars(summary: dict[str, Any], name: str, t: Any, number: Any, pct: Any) -> dict[str, Any]:
    bars = []
    for n, bar in enumerate(summary["uptime"]):
        if bar["state"] == "no_data":
            title = t("svc_bar_title_no_data", day=bar["date"])
        else:
            title = t(
                "svc_bar_title", day=bar["date"], pct=pct(bar["uptime_pct"]), minutes=number(bar["outage_minutes"])
            )
        bars.append({**bar, "x": n * 5, "title": title})
    down = [b for b in bars if b["state"] not in ("operational", "no_data")]
    first, last = summary["uptime"][0]["date"], summary["uptime"][-1]["date"]
    label = t("svc_uptime_label", name=name, first=first, last=last, down=len(down), days=len(bars))
    return {"bars": bars, "down": down, "label": label, "first": first, "last": last, "width": len(bars) * 5 - 1}


@router.get("/services", response_class=HTMLResponse, include_in_schema=False)
def services_page(request: Request, app: App, lang: LangQuery = None) -> HTMLResponse:
    language = pick_language(lang, request.headers.get("accept-language"))
    t = translator(language)
    number, pct = number_formatter(language), percent_formatter(language)
    now = app.clock()
    services = []
    for service in _services(app):
        summary = service_summary(app, service, now, TABLE_MONTHS)
        name = summary["name_fr"] if language == "fr" else summary["name"]
        incidents = [
            {
                **i,
                "started": _eastern(i["started_at"]),
                "timeline": _timeline(app.projections.get(INCIDENTS, i["incident_id"]), t),
            }
            for i in summary["open_incidents"]
        ]
        services.append(
            {
                **summary,
                "display_name": name,
                "open_incidents": incidents,
                "uptime": _bars(summary, name, t, number, pct),
            }
        )
    return page(
        request,
        "services.html",
        lang,
        services=services,
        affected=sum(1 for s in services if s["state"] != "operational"),
        days=UPTIME_DAYS,
        number=number,
        pct=pct,
    )


# ---------------------------------------------------------------- JSON summary


@router.get("/services.json", summary="Public service status: state, open incidents, this month, 90 daily bars")
def services_json(app: App) -> dict[str, Any]:
    now = app.clock()
    services = []
    for service in _services(app):
        summary = service_summary(app, service, now, 1)
        month = summary.pop("months")[0]
        services.append(
            {
                **summary,
                "open_incidents": [{**i, "started_at": i["started_at"].isoformat()} for i in summary["open_incidents"]],
                "current_month": {
                    "month": month["month"],
                    "availability_pct": month["availability_pct"],
                    "target_pct": month["target_pct"],
                    "met": month["met"],
                    "complete": month["complete"],
                },
            }
        )
    return {"generated_at": now.astimezone(UTC).isoformat(), "timezone": "America/Toronto", "services": services}


# ---------------------------------------------------------------- Atom feed


def _latest_incidents(app: Orderledger) -> list[IncidentView]:
    """Up to 50 incidents, the latest updated (timeline time, business time) first."""
    rows: list[IncidentView] = app.projections.query(
        INCIDENTS, order_by="updated_at DESC, key DESC", limit=FEED_ENTRIES
    )
    return rows


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    if text is not None:
        element.text = text
    return element


def _entry_text(view: IncidentView, t: Any) -> str:
    lines = []
    for entry in _timeline(view, t):
        line = f"{entry['at']['text']} {t('svc_et')} — {entry['what']}"
        lines.append(f"{line} — {entry['note']}" if entry["note"] else line)
    return "\n".join(lines)


@router.get("/services/feed.atom", include_in_schema=False)
def services_feed(request: Request, app: App, lang: LangQuery = None) -> Response:
    language: Language = pick_language(lang, request.headers.get("accept-language"))
    t = translator(language)
    names = {
        s.service_id: (s.registered.name_fr if language == "fr" else s.registered.name)
        for s in _services(app)
        if s.registered is not None
    }
    incidents = _latest_incidents(app)
    base = str(request.base_url).rstrip("/")
    page = f"{base}/status/services?lang={language}"
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": language})
    _sub(feed, "id", f"{TAG}status/services")
    _sub(feed, "title", t("svc_feed_title"))
    _sub(feed, "updated", _rfc3339(incidents[0].updated_at if incidents else app.clock()))
    _sub(
        feed, "link", rel="self", type="application/atom+xml", href=f"{base}/status/services/feed.atom?lang={language}"
    )
    _sub(feed, "link", rel="alternate", type="text/html", href=page)
    _sub(_sub(feed, "author"), "name", t("broker"))
    for view in incidents:
        record = view.incident
        entry = _sub(feed, "entry")
        _sub(entry, "id", f"{TAG}incident/{record.incident_id}")
        title = t(
            "svc_feed_entry",
            service=names.get(record.service_id, record.service_id),
            incident=record.incident_id,
            priority=record.priority,
            status=t("svc_is_" + record.status).lower(),
            title=record.title,
        )
        _sub(entry, "title", title)
        _sub(entry, "updated", _rfc3339(view.updated_at))
        _sub(entry, "published", _rfc3339(view.opened_at))
        _sub(entry, "link", rel="alternate", type="text/html", href=f"{page}#service-{record.service_id}")
        _sub(entry, "category", term=record.priority)
        _sub(entry, "content", _entry_text(view, t), type="text")
    body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return Response(content=body, media_type="application/atom+xml", headers={"Content-Language": language})
