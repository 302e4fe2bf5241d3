"""RFC 9457 problem+json responses, each with a stable machine-readable `code`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from events.kernel.errors import CommandRejected
from events.ledger import LedgerUnavailable
from processors import metrics

log = logging.getLogger("orderledger.api")
MEDIA_TYPE = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


class Problem(Exception):
    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.extra = status, code, detail, extra


def problem_response(
    status: int,
    code: str,
    detail: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": f"urn:orderledger:problem:{code}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    if instance:
        body["instance"] = instance
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def count_rejection(method: str, code: str) -> None:
    """A command (any request that is not a read) answered with a problem: counted by its stable code."""
    if method not in _READS:
        metrics.COMMANDS_REJECTED.labels(code).inc()


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        count_rejection(request.method, exc.code)
        return problem_response(exc.status, exc.code, exc.detail, request.url.path, **exc.extra)

    @app.exception_handler(CommandRejected)
    async def _rejected(request: Request, exc: CommandRejected) -> JSONResponse:
        count_rejection(request.method, exc.code)
        return problem_response(exc.status, exc.code, exc.message, request.url.path)

    @app.exception_handler(LedgerUnavailable)
    async def _unavailable(request: Request, exc: LedgerUnavailable) -> JSONResponse:
        count_rejection(request.method, "ledger_unavailable")
        return problem_response(
            503,
            "ledger_unavailable",
            "the ledger cannot be reached just now; retry shortly",
            request.url.path,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [field_error(e) for e in exc.errors()]
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            count_rejection(request.method, "malformed_json")
            return problem_response(
                400, "malformed_json", "the request body is not valid JSON", request.url.path, errors=errors
            )
        fields = ", ".join(e["field"] for e in errors[:5])
        count_rejection(request.method, "invalid_request")
        return problem_response(
            422, "invalid_request", f"the request has invalid fields: {fields}", request.url.path, errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, f"http_{exc.status_code}")
        count_rejection(request.method, code)
        headers = getattr(exc, "headers", None)
        path_methods = getattr(request.app.state, "path_methods", None)
        if exc.status_code == 405 and path_methods is not None:
            headers = {**(headers or {}), "Allow": ", ".join(path_methods.allowed(request.url.path))}
        return problem_response(exc.status_code, code, str(exc.detail), request.url.path, headers=headers)


class UnexpectedErrors:
    """An error no handler expected: logged, answered as a 500 problem, and the connection kept.

    Starlette's own catch-all answers and then raises again, so the server closes the client's
    keep-alive connection after every 500; here the error ends with the answer.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            if started:  # part of an answer is out (a stream): nothing else can be said on this connection
                raise
            log.exception("unexpected error on %s %s", scope["method"], scope["path"])
            count_rejection(scope["method"], "internal_error")
            response = problem_response(
                500, "internal_error", "an unexpected error occurred; it has been logged", scope["path"]
            )
            await response(scope, receive, send)


def field_error(error: Any) -> dict[str, str]:
    location = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
    message = str(error.get("msg", "invalid"))
    message = message.removeprefix("Value error, ")
    return {"field": ".".join(location) or "body", "message": message, "type": str(error.get("type", ""))}
