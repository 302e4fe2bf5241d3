"""What each path allows: `OPTIONS` and the `Allow` header of a 405 name every method of the path.

Starlette answers a method a path does not take with the methods of the first route that matched,
so `/v1/orders` (GET and POST, two routes) claimed to allow only one. The table here is built once
from every route of the app.
"""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send


class PathMethods:
    """Each route's path pattern and methods; `allowed(path)` is their union over the patterns that match.

    Built from the app's routes on first use (an OPTIONS or a 405 is rare; building it at start would make
    FastAPI resolve every route of every router for every app, tests' apps included).
    """

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._routes: list[tuple[re.Pattern[str], frozenset[str]]] | None = None

    def allowed(self, path: str) -> list[str]:
        if self._routes is None:
            self._routes = [
                (compile_path(route.path)[0], frozenset(route.methods))
                for route in iter_route_contexts(self._app.routes)
                if route.path and route.methods
            ]
        methods: set[str] = set()
        for pattern, route_methods in self._routes:
            if pattern.match(path):
                methods |= route_methods
        return sorted(methods | {"OPTIONS"}) if methods else []


class AnswerOptions:
    """`OPTIONS <path>`: 204 with `Allow` listing every method of the path (404 for a path that is none)."""

    def __init__(self, app: ASGIApp, methods: PathMethods) -> None:
        self.app = app
        self.methods = methods

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return
        allowed = self.methods.allowed(scope["path"])
        if not allowed:
            await self.app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [(b"allow", ", ".join(allowed).encode()), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})
