"""The FastAPI application: JSON API under /v1, public status pages, health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from api import (
    batch,
    billing,
    chargeback,
    contract_pages,
    contracts,
    event_catalogue,
    event_feed,
    orders,
    problems,
    service_pages,
    services,
    statement_pages,
    status_pages,
    subscriptions,
)
from api.limits import BodyLimit
from processors.wiring import Orderledger

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {"application/problem+json": {}}}
    for status, text in (
        (400, "Malformed request"),
        (401, "No or unknown API key"),
        (403, "Not allowed for this key"),
        (404, "Not found"),
        (409, "Version conflict"),
        (413, "Body too large"),
        (422, "Invalid request or refused by a business rule"),
        (503, "Ledger unavailable"),
    )
}


def create_app(ledger_app: Orderledger, start_runner: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_runner and ledger_app.runner:
            ledger_app.runner.start()
        if start_runner and ledger_app.settings.run_webhooks:
            ledger_app.dispatcher.start()
        yield
        ledger_app.dispatcher.stop()
        if ledger_app.runner:
            ledger_app.runner.stop()

    app = FastAPI(
        title="orderledger",
        version="0.1.0",
        description="Event-sourced order ledger of an IT procurement broker. Errors are RFC 9457"
        " problem+json with a stable `code`. Money is CAD as decimal strings.",
        lifespan=lifespan,
        responses=PROBLEM_RESPONSES,
    )
    app.state.orderledger = ledger_app
    problems.install(app)
    app.include_router(orders.router)
    app.include_router(batch.router)
    app.include_router(contracts.router)
    app.include_router(billing.router)
    app.include_router(chargeback.router)
    app.include_router(services.router)
    app.include_router(event_feed.router)
    app.include_router(subscriptions.router)
    app.include_router(status_pages.router)
    app.include_router(contract_pages.router)
    app.include_router(service_pages.router)
    app.include_router(statement_pages.router)
    app.include_router(event_catalogue.router)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")

    @app.get("/healthz", tags=["health"], summary="The process is alive")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "ledger_head": ledger_app.ledger.head()}

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/status")

    app.add_middleware(
        BodyLimit,
        max_bytes=ledger_app.settings.max_body_bytes,
        per_path={"/v1/batch": ledger_app.settings.max_batch_body_bytes},
    )
    return app
