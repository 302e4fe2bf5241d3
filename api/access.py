"""Who is calling: the API key in `Authorization: Bearer` (or `X-API-Key`) and what its role allows.

A GET may also carry the key in the `orderledger_key` cookie that the chargeback statement pages set
when a person signs in (HttpOnly, SameSite=Strict), so their CSV and FOCUS download links work in a
browser. Never for another method: a cookie is sent by the browser on its own, so accepting it on a
command would open the API to cross-site request forgery.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.problems import Problem
from processors.access_keys import Principal
from processors.wiring import Orderledger

_bearer = HTTPBearer(auto_error=False, description="An orderledger API key: `orderledger keys create`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False)
KEY_COOKIE = "orderledger_key"


async def ledger_app(request: Request) -> Orderledger:
    """Async (it does no I/O): a sync dependency would cost a thread-pool hop on every request."""
    app: Orderledger = request.app.state.orderledger
    return app


def principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> Principal:
    presented = bearer.credentials if bearer else header
    if not presented and request.method == "GET":
        presented = request.cookies.get(KEY_COOKIE)  # reads only: see the module docstring
    if not presented:
        raise Problem(
            401,
            "unauthenticated",
            "send an API key as `Authorization: Bearer <key>`",
        )
    found = request.app.state.orderledger.keys.authenticate(presented)
    if found is None:
        raise Problem(401, "invalid_api_key", "this API key is unknown or revoked")
    request.state.principal = found
    return found


Caller = Annotated[Principal, Depends(principal)]
App = Annotated[Orderledger, Depends(ledger_app)]


def require(caller: Principal, *roles: str) -> None:
    """Refuse unless the caller's role is one of `roles` ("client" means any client:<ORG>)."""
    kind = "client" if caller.client_org else caller.role
    if kind not in roles:
        raise Problem(403, "forbidden_role", f"a {caller.role} key may not do this (needs: {', '.join(roles)})")
