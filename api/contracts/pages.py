"""Public, bilingual contracts dashboard: use of each ceiling, burn-down, renewal calendar, stock.

Public pages show no amount: only percentages, dates, supplier names, contract ids and stock counts.
Templates get plain dicts built here, never the projection row (which holds the money).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.app.access import DECLARE_PUBLIC, App, LedgerRoute
from api.app.commands import business_today
from api.pages.layout import Lang, page
from api.pages.words import percent_text, pick_language
from events.contracts.facts import RENEWAL_NOTICES
from projections.contract_capacity import CONTRACT_CAPACITY, ContractStatus, next_decision_date
from projections.contract_capacity.burn_down import LARGE, SMALL, THRESHOLDS, burn_down, plot

CALENDAR_DAYS = 180
MAX_CONTRACTS = 2000
CONTRACT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
router = APIRouter(
    prefix="/status/contracts",
    tags=["status pages"],
    include_in_schema=False,
    route_class=LedgerRoute,
    dependencies=DECLARE_PUBLIC,
)


def percent_formatter(language: str) -> Callable[[Decimal | int], str]:
    """92.5% in English, 92,5 % in French (no-break space)."""

    def pct(value: Decimal | int) -> str:
        return percent_text(value.quantize(Decimal("0.1")) if isinstance(value, Decimal) else value, language)

    return pct


def _summary(row: ContractStatus, today: date) -> dict[str, Any]:
    """What the public may see of a contract: no ceiling, no amount."""
    chart = burn_down(row, today)
    exhaustion = chart.exhaustion
    return {
        "contract_id": row.contract_id,
        "supplier": row.supplier,
        "kind": row.kind,
        "status": row.status,
        "used_pct": chart.used_pct,
        "start_date": row.start_date.isoformat(),
        "expires_on": row.end_date.isoformat(),
        "original_end_date": row.original_end_date.isoformat(),
        "next_decision": next_decision_date(row, today),
        "options": [
            {"option_id": o.option_id, "months": o.months, "exercised": o.exercised} for o in row.renewal_options
        ],
        "options_left": [o.option_id for o in row.renewal_options if not o.exercised],
        "exhaustion": exhaustion.isoformat() if exhaustion else None,
        "exhausts_before_expiry": exhaustion is not None and exhaustion <= row.end_date,
        "chart": chart,
        "small": plot(chart, SMALL),
    }


def _calendar(rows: list[ContractStatus], today: date) -> list[dict[str, Any]]:
    """Renewal decisions (120, 90, 30 days before expiry) and expiries of active contracts, by date."""
    horizon = today + timedelta(days=CALENDAR_DAYS)
    entries: list[dict[str, Any]] = []
    for row in rows:
        if row.status != "active":
            continue
        common = {
            "contract_id": row.contract_id,
            "supplier": row.supplier,
            "options_left": [o.option_id for o in row.renewal_options if not o.exercised],
        }
        for days in sorted(RENEWAL_NOTICES, reverse=True):
            day = row.end_date - timedelta(days=days)
            if today <= day <= horizon:
                entries.append({**common, "on": day.isoformat(), "what": "decision", "days": days, "order": 0})
        if today <= row.end_date <= horizon:
            entries.append({**common, "on": row.end_date.isoformat(), "what": "expiry", "days": 0, "order": 1})
    return sorted(entries, key=lambda e: (e["on"], e["order"], e["contract_id"]))


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request, app: App, lang: Lang = None) -> HTMLResponse:
    today = business_today(app)
    rows: list[ContractStatus] = app.projections.query(CONTRACT_CAPACITY, order_by="end_date, key", limit=MAX_CONTRACTS)
    language = pick_language(lang, request.headers.get("accept-language"))
    return page(
        request,
        "contracts.html",
        lang,
        today=today.isoformat(),
        horizon=(today + timedelta(days=CALENDAR_DAYS)).isoformat(),
        contracts=[_summary(row, today) for row in rows],
        calendar=_calendar(rows, today),
        pct=percent_formatter(language),
    )


@router.get("/{contract_id:path}", response_class=HTMLResponse)
def contract_page(request: Request, contract_id: str, app: App, lang: Lang = None) -> HTMLResponse:
    language = pick_language(lang, request.headers.get("accept-language"))
    row: ContractStatus | None = (
        app.projections.get(CONTRACT_CAPACITY, contract_id) if CONTRACT_ID.match(contract_id) else None
    )
    if row is None:
        return page(request, "contract.html", lang, 404, contract=None, missing_id=contract_id[:64])
    today = business_today(app)
    summary = _summary(row, today)
    return page(
        request,
        "contract.html",
        lang,
        today=today.isoformat(),
        contract=summary,
        large=plot(summary["chart"], LARGE),
        thresholds=[{"threshold": t, "reached": t in row.thresholds_reached} for t in THRESHOLDS],
        stock=[
            {"sku": i.sku, "available": i.available, "initial": i.initial, "withdrawn": i.withdrawn}
            for i in row.inventory
        ],
        pct=percent_formatter(language),
    )
