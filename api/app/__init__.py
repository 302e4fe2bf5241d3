"""The FastAPI application: JSON API under /v1, public status pages, health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.app import problems
from api.app.access import DECLARE_PUBLIC, OPERATIONS, LedgerRoute, every_route_declares_its_access
from api.app.domain_gauges import DomainGauges
from api.app.limits import BodyLimit
from api.app.methods import AnswerOptions, PathMethods
from api.app.problems import UnexpectedErrors
from api.app.request_log import RequestLog
from api.billing import chargeback
from api.billing import pages as statement_pages
from api.billing import routes as billing
from api.contracts import pages as contract_pages
from api.contracts import routes as contracts
from api.integrators import event_catalogue, event_feed, subscriptions
from api.orders import batch
from api.orders import pages as status_pages
from api.orders import routes as orders
from api.services import pages as service_pages
from api.services import routes as services
from processors import metrics
from processors.flow import FlowCollector, readiness
from processors.ops_server import HEALTH_PATH, METRICS_PATH, READY_PATH
from processors.verification import ScheduledVerifier
from processors.wiring import Orderledger

__all__ = [
    "access",
    "commands",
    "create_app",
    "problems",
    "request_body",
]  # what other packages may import (tests/unit/test_dependency_rule.py)

VERSION = version("orderledger")  # pyproject.toml's, as installed

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
    settings = ledger_app.settings
    verifier = None
    if settings.verify_every_seconds:
        verifier = ScheduledVerifier(
            ledger_app.ledger, ledger_app.verifications, ledger_app.clock, settings.verify_every_seconds
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Stops only what it started: with start_runner=False the caller runs (and stops) them itself.
        started: list[Any] = []
        if start_runner and ledger_app.runner:
            started.append(ledger_app.runner)
        if start_runner and ledger_app.settings.run_webhooks:
            started.append(ledger_app.dispatcher)
        if start_runner and verifier:
            started.append(verifier)
        for component in started:
            component.start()
        yield
        for component in reversed(started):
            component.stop()

    app = FastAPI(
        title="orderledger",
        version=VERSION,
        description="Event-sourced order ledger of an IT procurement broker. Errors are RFC 9457"
        " problem+json with a stable `code`. Money is CAD as decimal strings.",
        lifespan=lifespan,
        responses=PROBLEM_RESPONSES,
    )
    app.router.route_class = LedgerRoute
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
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parents[1] / "pages" / "static")), name="static")

    state = [
        FlowCollector(ledger_app.flow, VERSION, "server" if ledger_app.server_mode else "embedded"),
        DomainGauges(ledger_app),
    ]

    operations = {"tags": ["operations"], "dependencies": [Depends(OPERATIONS)]}

    @app.get(HEALTH_PATH, summary="The process is alive (it answers; nothing else is checked)", **operations)
    async def healthz() -> dict[str, Any]:
        return {"status": "ok"}

    @app.get(
        READY_PATH,
        **operations,
        summary="Ready for traffic: the ledger answers and no cursor is ahead of it (a restored backup); in server mode"
        " Kafka answers and lag is under the threshold",
        responses={503: {"description": "Not ready: `problems` says what is wrong"}},
    )
    def readyz() -> JSONResponse:
        ready, body = readiness(ledger_app.flow, settings.ready_max_lag_events)
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get(METRICS_PATH, summary="Prometheus metrics", response_class=Response, **operations)
    def prometheus_metrics() -> Response:
        return Response(metrics.exposition(state), media_type=metrics.CONTENT_TYPE)

    @app.get("/", include_in_schema=False, dependencies=DECLARE_PUBLIC)
    def root() -> RedirectResponse:
        return RedirectResponse("/status")

    every_route_declares_its_access(app)
    app.state.path_methods = PathMethods(app)
    app.add_middleware(UnexpectedErrors)  # innermost: the ones outside it see its 500 as any answer
    app.add_middleware(AnswerOptions, methods=app.state.path_methods)
    app.add_middleware(
        BodyLimit,
        max_bytes=ledger_app.settings.max_body_bytes,
        per_path={"/v1/batch": ledger_app.settings.max_batch_body_bytes},
    )
    app.add_middleware(RequestLog)  # outermost: it times and counts what BodyLimit refuses too
    return app
