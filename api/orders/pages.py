"""Public, bilingual status pages: order lookup, order timeline, weekly order status report."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.app.access import DECLARE_PUBLIC, App, LedgerRoute
from api.pages.layout import Lang, page
from api.pages.words import pick_language, translator
from projections.order_status import ORDER_STATUS, OrderStatus, TimelineEntry, lateness

EASTERN = ZoneInfo("America/Toronto")
ORDER_NUMBER = re.compile(r"^[A-Za-z0-9-]{1,40}$")
router = APIRouter(
    prefix="/status",
    tags=["status pages"],
    include_in_schema=False,
    route_class=LedgerRoute,
    dependencies=DECLARE_PUBLIC,
)


@router.get("", response_class=HTMLResponse)
def home(request: Request, lang: Lang = None) -> HTMLResponse:
    return page(request, "home.html", lang)


@router.get("/orders", response_model=None)
def lookup(request: Request, number: Annotated[str, Query(max_length=200)] = "", lang: Lang = None) -> Response:
    number = number.strip().upper()
    if not ORDER_NUMBER.match(number):
        return page(request, "not_found.html", lang, 404, number=number[:40])
    suffix = f"?lang={lang}" if lang else ""
    return RedirectResponse(f"/status/orders/{number}{suffix}", status_code=303)


def _timeline_entry(entry: TimelineEntry, t: Any) -> dict[str, str]:
    """Date, ledger time and a short note; never an amount, a name or an address."""
    details = entry.details
    note = ""
    if entry.type == "DeliveryRecorded":
        province = t("pv_" + str(details.get("province")))
        note = t("delivered_units", province=province, n=sum(details.get("quantities", {}).values()))
    elif entry.type == "DeliveryDateRevised":
        note = t("new_date", day=details.get("agreed_delivery_date"))
    elif entry.type == "OrderCancelled":
        note = t("reason", reason=t("rs_" + str(details.get("reason"))))
    return {
        "type": entry.type,
        "note": note,
        "day": entry.occurred_at.astimezone(EASTERN).date().isoformat(),
        "recorded": entry.recorded_at.astimezone(EASTERN).strftime("%Y-%m-%d %H:%M"),
        "recorded_iso": entry.recorded_at.astimezone(EASTERN).isoformat(timespec="seconds"),
    }


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(request: Request, order_id: str, app: App, lang: Lang = None) -> HTMLResponse:
    row: OrderStatus | None = app.projections.get(ORDER_STATUS, order_id) if ORDER_NUMBER.match(order_id) else None
    if row is None:
        return page(request, "not_found.html", lang, 404, number=order_id[:40])
    language = pick_language(lang, request.headers.get("accept-language"))
    t = translator(language)
    today = app.clock().astimezone(EASTERN).date()
    return page(
        request,
        "order.html",
        lang,
        order=row,
        lateness=lateness(row, today),
        placed_on=row.placed_at.astimezone(EASTERN).date().isoformat(),
        descriptions={line.sku: line.description for line in row.lines},
        timeline=[_timeline_entry(e, t) for e in row.timeline],
    )


@router.get("/weekly", response_class=HTMLResponse)
def weekly(
    request: Request,
    app: App,
    lang: Lang = None,
    org: Annotated[str, Query(max_length=16, pattern="^[A-Z0-9-]*$")] = "",
) -> HTMLResponse:
    today = app.clock().astimezone(EASTERN).date()
    # The 7 calendar days up to today, in Eastern Time (not 7 × 24 hours back from now, which would move the
    # first day's start with the hour and the clock changes).
    since = datetime.combine(today - timedelta(days=6), time(0), EASTERN).astimezone(ZoneInfo("UTC")).isoformat()
    where, params = "last_changed_at >= ?", [since]
    if org:
        where += " AND client_org = ?"
        params.append(org)
    rows = app.projections.query(ORDER_STATUS, where, tuple(params), order_by="last_changed_at DESC", limit=2000)
    organisations = [r[0] for r in app.projections.distinct(ORDER_STATUS, "client_org")]
    orders = [
        {
            "order_id": r.order_id,
            "client_org": r.client_org,
            "status": r.status,
            "expected": r.agreed_delivery_date.isoformat() if r.agreed_delivery_date else None,
            "lateness": lateness(r, today),
            "changed": r.last_changed_at.astimezone(EASTERN).date().isoformat(),
        }
        for r in rows
    ]
    return page(
        request, "weekly.html", lang, orders=orders, organisations=organisations, org=org, today=today.isoformat()
    )
