"""Bilingual chargeback statement pages for client finance teams: a month, a line's events, a fiscal year.

Not public: statements show amounts. A page takes the same API keys as the JSON API, from the
`Authorization` / `X-API-Key` headers or from the `orderledger_key` cookie that signing in here sets
(HttpOnly, SameSite=Strict, only sent to /chargeback and, for the CSV and FOCUS downloads, to
/v1/chargeback). The key travels in a POST body or a cookie, never in a URL. Templates get plain
dicts and strings built here; amounts are formatted here, in the page's language.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.app.access import (
    DECLARE_PUBLIC,
    DECLARE_STATEMENT_PAGE,
    KEY_COOKIE,
    App,
    LedgerRoute,
    authenticate,
    presented_key,
)
from api.app.commands import business_today
from api.app.problems import Problem
from api.billing.chargeback import fiscal_year_view, line_events, statement_view
from api.pages.layout import LangQuery, templates
from api.pages.words import MINUS, THIN_SPACE, WORDS, Language, percent_text, pick_language, translator
from events.kernel.business_dates import MONTH_PATTERN
from processors.access_keys import Principal
from processors.wiring import Orderledger
from projections.chargeback import CATEGORIES, ChargebackLine, fiscal_year

EASTERN = ZoneInfo("America/Toronto")
ORG = re.compile(r"^[A-Z][A-Z0-9-]{0,15}$")
PERIOD = re.compile(MONTH_PATTERN)
YEAR = re.compile(r"^(20[0-9][0-9]|2100)$")
TOTALS = (*CATEGORIES, "total")
# The cookie goes to the pages, and to the JSON/CSV reads under /v1/chargeback for the download links
# (the API accepts it on GET only); the browser sends it nowhere else.
COOKIE_PATHS = ("/chargeback", "/v1/chargeback")
MAX_FORM_BYTES = 4096

router = APIRouter(prefix="/chargeback", tags=["chargeback pages"], include_in_schema=False, route_class=LedgerRoute)


# ---------------------------------------------------------------- rendering


def _language(request: Request, lang: str | None) -> Language:
    return pick_language(lang, request.headers.get("accept-language"))


def _render(
    request: Request,
    name: str,
    lang: str | None,
    status_code: int = 200,
    switch_query: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page in the request's language; never cached (it shows amounts or a key's access)."""
    language = _language(request, lang)
    other: Language = "fr" if language == "en" else "en"
    query = switch_query if switch_query is not None else dict(request.query_params)
    query = {k: v for k, v in query.items() if k != "lang"} | {"lang": other}
    response = templates.TemplateResponse(
        request,
        name,
        {
            "lang": language,
            "other_lang": other,
            "t": translator(language),
            "other_t": translator(other),
            "switch_url": f"{request.url.path}?{urlencode(query)}",
            "money": money_formatter(language),
            **context,
        },
        status_code=status_code,
        headers={
            "Content-Language": language,
            "Cache-Control": "no-store",
            "Vary": "Cookie, Authorization, X-API-Key, Accept-Language",
            "X-Robots-Tag": "noindex",
            "Referrer-Policy": "same-origin",
        },
    )
    return response


def money_formatter(language: str) -> Callable[[Decimal | str], str]:
    """1,234.56 in English; 1 234,56 in French (narrow no-break space); a real minus sign."""

    def money(value: Decimal | str) -> str:
        amount = Decimal(value)
        text = f"{abs(amount):,.2f}"
        if language == "fr":
            text = text.replace(",", THIN_SPACE).replace(".", ",")
        return f"{MINUS}{text}" if amount < 0 else text

    return money


def _percent(rate: Decimal | str, language: str) -> str:
    return percent_text((Decimal(rate) * 100).normalize(), language)


def month_name(period: str, language: Language) -> str:
    """September 2026, septembre 2026."""
    year, month = period.split("-")
    return str(translator(language)("cb_month_name", month=WORDS[f"cb_m{int(month):02d}"][language], year=year))


def _shift(period: str, months: int) -> str:
    year, month = (int(part) for part in period.split("-"))
    index = year * 12 + month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _eastern(iso: str) -> dict[str, str]:
    moment = datetime.fromisoformat(iso).astimezone(EASTERN)
    return {"text": moment.strftime("%Y-%m-%d %H:%M"), "iso": moment.isoformat(timespec="seconds")}


# ---------------------------------------------------------------- who is asking


def _safe_next(value: str | None) -> str | None:
    """Only a path of these pages: never another site, never a scheme-relative or odd URL."""
    if not value or len(value) > 1000 or not value.startswith("/chargeback/"):
        return None
    if "\\" in value or "//" in value or not value.isprintable() or any(c.isspace() for c in value):
        return None
    return value


def _same_origin(request: Request) -> bool:
    """A form post from this site (browsers send Origin on POST); no Origin (a script, a test) is fine."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _sign_in_url(next_path: str | None, lang: str | None, **flags: str) -> str:
    query: dict[str, str] = {}
    if next_path:
        query["next"] = next_path
    if lang in ("en", "fr"):
        query["lang"] = lang
    query |= flags
    return "/chargeback/sign-in" + (f"?{urlencode(query)}" if query else "")


def _set_key_cookie(request: Request, response: Response, key: str) -> None:
    for path in COOKIE_PATHS:
        response.set_cookie(
            KEY_COOKIE,
            key,
            path=path,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )


def _clear_key_cookie(request: Request, response: Response) -> None:
    for path in COOKIE_PATHS:
        response.delete_cookie(
            KEY_COOKIE, path=path, httponly=True, samesite="strict", secure=request.url.scheme == "https"
        )


def _signed_in(request: Request, app: Orderledger, lang: str | None) -> Principal | Response:
    """The caller, or the response to give instead: the sign-in page (303) or a 401 page for a bad header key."""
    presented, from_cookie = presented_key(request)
    if presented is None:
        return RedirectResponse(_sign_in_url(_here(request), lang), status_code=303)
    found = authenticate(app, presented)
    if found is not None:
        return found
    if from_cookie:  # revoked since signing in: sign in again
        response = RedirectResponse(_sign_in_url(_here(request), lang, expired="1"), status_code=303)
        _clear_key_cookie(request, response)
        return response
    return _sign_in_page(request, lang, 401, next_path=_here(request), error="cb_invalid_key")


def _sign_in_page(
    request: Request,
    lang: str | None,
    status_code: int = 200,
    next_path: str | None = None,
    error: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    switch = {"next": next_path} if next_path else {}
    return _render(
        request,
        "statement_sign_in.html",
        lang,
        status_code,
        switch_query=switch,
        mode="sign_in",
        next_path=next_path or "",
        error=error,
        notice=notice,
    )


def _problem_page(
    request: Request, lang: str | None, caller: Principal, problem: Problem, org: str, template: str
) -> HTMLResponse:
    """403 (another organisation's statement) on the sign-in page, so another key can be given; 404 in place."""
    if problem.status == 403:
        return _render(
            request,
            "statement_sign_in.html",
            lang,
            403,
            mode="forbidden",
            next_path=_here(request),
            org=org,
            own=caller.client_org or "",
            caller=_caller_view(caller),
            error=None,
            notice=None,
        )
    return _not_found(request, lang, template, "cb_org_not_found", caller, org=org)


def _not_found(
    request: Request, lang: str | None, template: str, message: str, caller: Principal | None, **values: str
) -> HTMLResponse:
    return _render(
        request,
        template,
        lang,
        404,
        missing={"message": message, "params": values},
        caller=_caller_view(caller) if caller else None,
    )


def _caller_view(caller: Principal) -> dict[str, str]:
    return {"key_id": caller.key_id, "role": caller.role}


# ---------------------------------------------------------------- sign in and out


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form body (what a browser's form posts), first value of each field."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {name: values[0] for name, values in fields.items() if values}


@router.get("/sign-in", response_class=HTMLResponse, dependencies=DECLARE_PUBLIC)
def sign_in_form(
    request: Request,
    lang: LangQuery = None,
    next: str | None = None,
    expired: str | None = None,
    signed_out: str | None = None,
) -> HTMLResponse:
    notice = "cb_expired" if expired else "cb_signed_out" if signed_out else None
    return _sign_in_page(request, lang, next_path=_safe_next(next), notice=notice)


@router.post("/sign-in", response_model=None, dependencies=DECLARE_PUBLIC)
async def sign_in(request: Request, app: App, lang: LangQuery = None) -> Response:
    form = await _form(request)
    lang = lang or form.get("lang")
    next_path = _safe_next(form.get("next") or request.query_params.get("next"))
    if not _same_origin(request):
        return _sign_in_page(request, lang, 403, next_path=next_path, error="cb_cross_site")
    key = form.get("api_key", "").strip()
    if not key:
        return _sign_in_page(request, lang, 401, next_path=next_path, error="cb_missing_key")
    found = authenticate(app, key)
    if found is None:
        return _sign_in_page(request, lang, 401, next_path=next_path, error="cb_invalid_key")
    suffix = f"?lang={lang}" if lang in ("en", "fr") else ""
    response = RedirectResponse(next_path or f"/chargeback{suffix}", status_code=303)
    _set_key_cookie(request, response, key)
    return response


@router.post("/sign-out", response_model=None, dependencies=DECLARE_PUBLIC)
async def sign_out(request: Request, lang: LangQuery = None) -> Response:
    form = await _form(request)
    lang = lang or form.get("lang")
    if not _same_origin(request):
        return _sign_in_page(request, lang, 403, error="cb_cross_site")
    response = RedirectResponse(_sign_in_url(None, lang, signed_out="1"), status_code=303)
    _clear_key_cookie(request, response)
    return response


@router.get("", response_model=None, dependencies=DECLARE_STATEMENT_PAGE)
def choose(
    request: Request,
    app: App,
    lang: LangQuery = None,
    org: str = "",
    period: str = "",
) -> Response:
    """A client key goes to its own statement of this month; the broker picks an organisation and a month."""
    caller = _signed_in(request, app, lang)
    if not isinstance(caller, Principal):
        return caller
    suffix = f"?lang={lang}" if lang in ("en", "fr") else ""
    this_month = business_today(app).strftime("%Y-%m")
    asked = bool(org.strip() or period.strip())
    org = org.strip().upper() or (caller.client_org or "")
    period = period.strip() or this_month
    if ORG.match(org) and PERIOD.match(period):
        return RedirectResponse(f"/chargeback/{org}/{period}{suffix}", status_code=303)
    return _render(
        request,
        "statement_sign_in.html",
        lang,
        422 if asked else 200,
        mode="choose",
        caller=_caller_view(caller),
        org=org[:16],
        period=period[:16],
        next_path="",
        error="cb_choose_invalid" if asked else None,
        notice=None,
    )


# ---------------------------------------------------------------- a month


def _what(line: ChargebackLine, t: Any, language: str) -> str:
    """The line in words: the item (and tax component, fee rate) and why it is there."""
    if line.item == "tax":
        component = line.tax_component or ""
        item = t("cb_item_tax", component=t(f"cb_tc_{component}") if f"cb_tc_{component}" in WORDS else component)
    elif line.item == "fee" and line.fee_rate is not None:
        item = t("cb_item_fee_rate", rate=_percent(line.fee_rate, language))
    else:
        item = t(f"cb_item_{line.item}")
    return str(t("cb_what_format", item=item, action=t(f"cb_act_{line.action}")))


def _category(line: ChargebackLine, t: Any, language: Language) -> str:
    if line.category == "correction" and line.corrects:
        label = t(f"cb_cat_{line.corrects}")
        return str(
            t(
                "cb_correction_of",
                category=label.lower() if language == "en" else label,
                period=month_name(line.charge_period, language),
            )
        )
    return str(t(f"cb_cat_{line.category}"))


def _line_view(org: str, period: str, line: ChargebackLine, t: Any, language: Language) -> dict[str, Any]:
    return {
        "line_id": line.line_id,
        "category": line.category,
        "category_label": _category(line, t, language),
        "what": _what(line, t, language),
        "amount": line.amount,
        "charge_period": line.charge_period,
        "reference": line.reference,
        "order_id": line.order_id,
        "invoice_number": line.invoice_number,
        "invoice_line": line.invoice_line,
        "credit_id": line.credit_id,
        "supplier": line.supplier,
        "contract_id": line.contract_id,
        "province": line.province,
        "tax_component": t(f"cb_tc_{line.tax_component}")
        if f"cb_tc_{line.tax_component}" in WORDS
        else line.tax_component,
        "fee_rate": _percent(line.fee_rate, language) if line.fee_rate is not None else None,
        "source_events": list(line.source_events),
        "href": f"/chargeback/{org}/{period}/lines?{urlencode({'line_id': line.line_id, 'lang': language})}",
    }


def _line(view: dict[str, Any]) -> ChargebackLine:
    return ChargebackLine.model_validate(view)


def _organisation_name(organisation: dict[str, Any], language: str) -> str:
    return str(organisation["name_fr" if language == "fr" else "name_en"])


@router.get("/{org}", response_model=None, dependencies=DECLARE_STATEMENT_PAGE)
def current_statement(request: Request, org: str, app: App, lang: LangQuery = None) -> Response:
    caller = _signed_in(request, app, lang)
    if not isinstance(caller, Principal):
        return caller
    if not ORG.match(org):
        return _not_found(request, lang, "statement.html", "cb_org_not_found", caller, org=org[:16])
    suffix = f"?lang={lang}" if lang in ("en", "fr") else ""
    return RedirectResponse(f"/chargeback/{org}/{business_today(app):%Y-%m}{suffix}", status_code=303)


@router.get("/{org}/{period}", response_model=None, dependencies=DECLARE_STATEMENT_PAGE)
def statement_page(request: Request, org: str, period: str, app: App, lang: LangQuery = None) -> Response:
    caller = _signed_in(request, app, lang)
    if not isinstance(caller, Principal):
        return caller
    if not ORG.match(org):
        return _not_found(request, lang, "statement.html", "cb_org_not_found", caller, org=org[:16])
    if not PERIOD.match(period):
        return _not_found(request, lang, "statement.html", "cb_bad_period", caller, period=period[:16])
    try:
        view = statement_view(app, caller, org, period)
    except Problem as problem:
        return _problem_page(request, lang, caller, problem, org, "statement.html")
    language = _language(request, lang)
    t = translator(language)
    # The lines of the same read as the totals (statement_view), so the two always agree.
    lines = [_line_view(org, period, _line(line), t, language) for line in view["lines"]]
    fiscal = view.get("fiscal_year") or fiscal_year(period)
    previous, following = _shift(period, -1), _shift(period, 1)
    this_month = business_today(app).strftime("%Y-%m")
    exports = urlencode({"period": period})
    return _render(
        request,
        "statement.html",
        lang,
        caller=_caller_view(caller),
        org=org,
        organisation_name=_organisation_name(view["organisation"], language),
        period=period,
        month=month_name(period, language),
        status=view["status"],
        position=view.get("position", 0),
        fiscal_year=fiscal,
        fiscal_label=f"{fiscal}-{fiscal + 1}",
        totals=[{"name": name, "amount": view["totals"][name]} for name in TOTALS],
        lines=lines,
        csv_href=f"/v1/chargeback/{quote(org)}?{exports}&format=csv",
        focus_href=f"/v1/chargeback/{quote(org)}/focus?{exports}",
        previous={"period": previous, "month": month_name(previous, language)},
        following={"period": following, "month": month_name(following, language)} if following <= this_month else None,
    )


# ---------------------------------------------------------------- a line and its events


def _event_view(event: dict[str, Any], t: Any) -> dict[str, Any]:
    label_key = f"ev_{event['type']}"
    return {
        "event_id": event["event_id"],
        "type": event["type"],
        "label": t(label_key) if label_key in WORDS else event["type"],
        "position": event["position"],
        "stream_id": event["stream_id"],
        "stream_type": event.get("stream_type", ""),
        "stream_version": event["stream_version"],
        "occurred": _eastern(event["occurred_at"]),
        "recorded": _eastern(event["recorded_at"]),
        "actor": event["actor"],
        "redacted": bool(event.get("redacted")),
        "data": json.dumps(event["data"], indent=2, ensure_ascii=False),
    }


@router.get("/{org}/{period}/lines", response_model=None, dependencies=DECLARE_STATEMENT_PAGE)
def line_page(
    request: Request,
    org: str,
    period: str,
    app: App,
    lang: LangQuery = None,
    line_id: str = "",
) -> Response:
    caller = _signed_in(request, app, lang)
    if not isinstance(caller, Principal):
        return caller
    template = "statement_line.html"
    if not ORG.match(org):
        return _not_found(request, lang, template, "cb_org_not_found", caller, org=org[:16])
    if not PERIOD.match(period):
        return _not_found(request, lang, template, "cb_bad_period", caller, period=period[:16])
    try:
        view = statement_view(app, caller, org, period)
    except Problem as problem:
        return _problem_page(request, lang, caller, problem, org, template)
    language = _language(request, lang)
    t = translator(language)
    found = next((_line(line) for line in view["lines"] if line["line_id"] == line_id), None)
    month = month_name(period, language)
    if found is None:
        return _render(
            request,
            template,
            lang,
            404,
            missing={"message": "cb_line_not_found", "params": {"org": org, "month": month, "line": line_id[:200]}},
            caller=_caller_view(caller),
            org=org,
            period=period,
            month=month,
        )
    events = [_event_view(event, t) for event in line_events(app, org, found)]
    return _render(
        request,
        template,
        lang,
        caller=_caller_view(caller),
        org=org,
        organisation_name=_organisation_name(view["organisation"], language),
        period=period,
        month=month,
        status=view["status"],
        line=_line_view(org, period, found, t, language),
        events=events,
    )


# ---------------------------------------------------------------- a fiscal year


@router.get("/{org}/fiscal-year/{year}", response_model=None, dependencies=DECLARE_STATEMENT_PAGE)
def fiscal_year_page(request: Request, org: str, year: str, app: App, lang: LangQuery = None) -> Response:
    caller = _signed_in(request, app, lang)
    if not isinstance(caller, Principal):
        return caller
    template = "statement_year.html"
    if not ORG.match(org):
        return _not_found(request, lang, template, "cb_org_not_found", caller, org=org[:16])
    if not YEAR.match(year):
        return _not_found(request, lang, template, "cb_bad_year", caller, year=year[:16])
    try:
        view = fiscal_year_view(app, caller, org, int(year))
    except Problem as problem:
        return _problem_page(request, lang, caller, problem, org, template)
    language = _language(request, lang)
    months = [
        {
            "period": month["period"],
            "month": month_name(month["period"], language),
            "status": month["status"],
            "lines": month["lines"],
            "totals": [month["totals"][name] for name in TOTALS],
            "href": f"/chargeback/{org}/{month['period']}?lang={language}",
        }
        for month in view["months"]
    ]
    first = int(year)
    return _render(
        request,
        template,
        lang,
        caller=_caller_view(caller),
        org=org,
        organisation_name=_organisation_name(view["organisation"], language),
        year=first,
        label=view.get("label", f"{first}-{first + 1}"),
        columns=TOTALS,
        months=months,
        totals=[view["totals"][name] for name in TOTALS],
        previous_year=first - 1 if first > 2000 else None,
        next_year=first + 1 if first < 2100 else None,
    )
