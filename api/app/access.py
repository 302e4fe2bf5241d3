"""Who may call each route and what they see through it: every route declares its `Access`, decided here.

The caller is the API key in `Authorization: Bearer` (or `X-API-Key`). A GET may also carry the key
in the `orderledger_key` cookie that the chargeback statement pages set when a person signs in
(HttpOnly, SameSite=Strict), so their CSV and FOCUS download links work in a browser. Never for
another method: a cookie is sent by the browser on its own, so accepting it on a command would open
the API to cross-site request forgery.

Every route of the app is a `LedgerRoute` and names one declaration among its dependencies: `Access`
(a key of one of these kinds) or `PUBLIC` (no key). `create_app` refuses to start with a route that
declares none, the OpenAPI document shows each declaration (`x-orderledger-access`), and
`tests/e2e/test_authorisation_matrix.py` checks each against its own table. The route admits the
caller before it reads the body; what the caller may then see of an organisation's data is
`Principal.may_see` (processors/access_keys.py), the one rule every read uses.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass
from email.message import Message
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response, params
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.routing import BaseRoute

from api.app.problems import Problem
from api.app.request_body import StrictBody
from processors.access_keys import Principal
from processors.wiring import Orderledger

_bearer = HTTPBearer(auto_error=False, description="An orderledger API key: `orderledger keys create`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False)
KEY_COOKIE = "orderledger_key"
MAX_KEY_LENGTH = 200
KINDS = ("broker", "integrator", "client")

# What a caller sees through a route, in words (the OpenAPI document shows them).
EVERYTHING = "everything it asks for"
ORGANISATIONS = (
    "what belongs to an organisation the key may see: a client key its own organisation, an integrator key the"
    " organisations it was granted, the broker every organisation; another's is not found (or 403 where named)"
)
BROKERS_OWN = (
    "the broker's own business (contracts, suppliers), which concerns no single organisation: the broker, and"
    " integrator keys granted every organisation"
)
SHARED = (
    "services and their incidents: a client key those its organisation uses, an integrator key those whose"
    " organisations were all granted, the broker every one"
)
GRANTED_EVENTS = "the event types and organisations the key was granted (the broker: every event)"
OWN_SUBSCRIPTIONS = "the subscriptions the key made (the broker: every subscription)"
CALENDAR = "which billing months are closed (nothing of any organisation)"
STATEMENTS = "a signed-in reader's statements: " + ORGANISATIONS
PUBLIC_PAGES = "what the public pages show: no amount, no key needed"


async def ledger_app(request: Request) -> Orderledger:
    """Async (it does no I/O): a sync dependency would cost a thread-pool hop on every request."""
    app: Orderledger = request.app.state.orderledger
    return app


App = Annotated[Orderledger, Depends(ledger_app)]


def presented_key(request: Request) -> tuple[str | None, bool]:
    """The key the request carries, and whether it came from the cookie (GET only: see the module docstring)."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip(), False
    header = request.headers.get("x-api-key")
    if header:
        return header, False
    cookie = request.cookies.get(KEY_COOKIE) if request.method in ("GET", "HEAD") else None
    return (cookie, True) if cookie else (None, False)


def authenticate(app: Orderledger, presented: str) -> Principal | None:
    return app.keys.authenticate(presented) if len(presented) <= MAX_KEY_LENGTH else None


@dataclass(frozen=True)
class Access:
    """A route needs a key of one of `kinds` (broker, integrator, client); `sees` says what it shows them."""

    kinds: tuple[str, ...]
    sees: str
    every_organisation: bool = False  # only keys that see every organisation (the broker's own business)

    async def __call__(
        self,
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        header: Annotated[str | None, Depends(_header)],
    ) -> Principal:
        # LedgerRoute admitted the caller before the body was read (bearer and header are declared for
        # the OpenAPI document's security section).
        admitted: Principal = request.state.principal
        return admitted

    def admit(self, request: Request) -> Principal:
        """The caller, if its key is known and of an allowed kind (401 / 403 otherwise)."""
        presented, _ = presented_key(request)
        if not presented:
            raise Problem(401, "unauthenticated", "send an API key as `Authorization: Bearer <key>`")
        found = authenticate(request.app.state.orderledger, presented)
        if found is None:
            raise Problem(401, "invalid_api_key", "this API key is unknown or revoked")
        self.allow(found)
        return found

    def allow(self, caller: Principal) -> None:
        if caller.kind not in self.kinds:
            raise Problem(
                403, "forbidden_role", f"a {caller.role} key may not do this (needs: {', '.join(self.kinds)})"
            )
        if self.every_organisation and not caller.sees_every_organisation:
            raise Problem(
                403,
                "forbidden_organisation",
                "this concerns every organisation: only the broker and integrator keys granted every organisation"
                " (`--organisations '*'`) see it",
            )

    def declaration(self) -> dict[str, Any]:
        return {
            "keys": list(self.kinds),
            "sees": self.sees,
            "signs_in": isinstance(self, SignInPage),
            "every_organisation": self.every_organisation,
        }


@dataclass(frozen=True)
class SignInPage(Access):
    """An HTML page that admits its reader itself: a missing key is a redirect to the sign-in page, not a
    401 (statement_pages.py), with the same keys and the same `Principal.may_see` as the API."""

    async def __call__(self) -> None:  # type: ignore[override]
        return None


@dataclass(frozen=True)
class Public:
    """A route anyone may call without a key; `sees` says what it shows."""

    sees: str

    async def __call__(self) -> None:
        return None

    def declaration(self) -> dict[str, Any]:
        return {"keys": [], "sees": self.sees, "signs_in": False, "every_organisation": False}


Declaration = Access | Public

BROKER = Access(("broker",), EVERYTHING)
ORDER_PARTIES = Access(("broker", "client"), ORGANISATIONS)  # who sends order commands
READERS = Access(KINDS, ORGANISATIONS)  # every kind of key, each seeing its organisations
BROKERS_OWN_READERS = Access(("broker", "integrator"), BROKERS_OWN, every_organisation=True)
SERVICE_READERS = Access(KINDS, SHARED)
CALENDAR_READERS = Access(KINDS, CALENDAR)
EVENT_READERS = Access(("broker", "integrator"), GRANTED_EVENTS)
SUBSCRIBERS = Access(("broker", "integrator"), OWN_SUBSCRIPTIONS)
STATEMENT_READERS = SignInPage(KINDS, STATEMENTS)
PUBLIC = Public(PUBLIC_PAGES)
OPERATIONS = Public("the process's health and metrics: counts and states, no organisation's data")

Broker = Annotated[Principal, Depends(BROKER)]
OrderParty = Annotated[Principal, Depends(ORDER_PARTIES)]
Reader = Annotated[Principal, Depends(READERS)]
BrokersOwnReader = Annotated[Principal, Depends(BROKERS_OWN_READERS)]
ServiceReader = Annotated[Principal, Depends(SERVICE_READERS)]
CalendarReader = Annotated[Principal, Depends(CALENDAR_READERS)]
EventReader = Annotated[Principal, Depends(EVENT_READERS)]
Subscriber = Annotated[Principal, Depends(SUBSCRIBERS)]
DECLARE_PUBLIC = [Depends(PUBLIC)]  # `dependencies=` of a public route
DECLARE_STATEMENT_PAGE = [Depends(STATEMENT_READERS)]  # `dependencies=` of a statement page


class UndeclaredAccess(RuntimeError):
    pass


def declared(dependant: Dependant, route: str) -> Declaration:
    """The one access declaration among a route's dependencies (UndeclaredAccess if none or several)."""
    found = {d.call for d in _dependencies(dependant) if isinstance(d.call, Access | Public)}
    if len(found) != 1:
        raise UndeclaredAccess(
            f"{route} declares {len(found)} accesses: give it exactly one (api/app/access.py: a caller such as"
            " `caller: Broker`, or `dependencies=DECLARE_PUBLIC`)"
        )
    return found.pop()


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from _dependencies(dependency)


def every_route_declares_its_access(app: FastAPI) -> None:
    """Refuse to build an app with a route that is not a LedgerRoute (so declares no access).

    FastAPI's own documentation routes (/openapi.json, /docs, /redoc) and the static files are public.
    """
    for route in _original_routes(app.routes):
        if isinstance(route, APIRoute) and not isinstance(route, LedgerRoute):
            raise UndeclaredAccess(f"{route.path} is not a LedgerRoute: give its router route_class=LedgerRoute")


def _original_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """The routes as declared, through included routers (FastAPI keeps an included router whole and resolves
    its routes on first request: walking them as declared does not make it resolve all of them now)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _original_routes(included.routes)
        else:
            yield route


class LedgerRoute(APIRoute):
    """A route of this API: its declared access is decided first, then its JSON body is read strictly."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.openapi_extra = {**(self.openapi_extra or {}), "x-orderledger-access": self._access().declaration()}

    def _access(self) -> Declaration:
        """The route's declaration, found once (FastAPI asks for the handler again for each app including it)."""
        if not hasattr(self, "_declaration"):
            self._declaration = declared(self.dependant, f"{','.join(sorted(self.methods))} {self.path}")
        return self._declaration

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        access = self._access()
        admits = isinstance(access, Access) and not isinstance(access, SignInPage)
        body = self._strict_body()

        async def admit_then_read(request: Request) -> Response:
            if admits:
                assert isinstance(access, Access)
                request.state.principal = await run_in_threadpool(access.admit, request)
            if body is not None and _is_json(request):
                raw = await request.body()
                if raw:
                    request._json = body.read(raw)  # FastAPI takes the validated model as it is
            return await handler(request)

        return admit_then_read

    def _strict_body(self) -> StrictBody | None:
        """Built once per route (a TypeAdapter takes milliseconds), though each app including it asks again."""
        if not hasattr(self, "_body_reader"):
            reads_json = not (
                self.body_field is None
                or self._embed_body_fields
                or isinstance(self.body_field.field_info, params.Form)
            )
            self._body_reader = StrictBody(self.body_field.field_info.annotation) if reads_json else None
        return self._body_reader


def _is_json(request: Request) -> bool:
    content_type = request.headers.get("content-type")
    if not content_type:
        return False
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))
