"""Who may call each route and what they see, route by route, from the app's own route table.

Every route is tried as six callers (no key, an unknown key, the broker, an integrator granted ESDC,
an integrator granted nothing, a client:ESDC key) on ESDC's resource (A) and on CRA's (B). The
expected answer of each route is declared in ROUTES below, in this test, not read from the app: a
route the app has and this table does not (or the other way round) fails the first test, so a new
route cannot ship without a policy someone wrote down.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from api.app import create_app
from events.publishing.audience import EventGrant
from processors.settings import Settings
from processors.wiring import Orderledger, build
from tests.orders_given import order_body

NOW = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)  # noon in Ottawa, a Monday
A, B = "ESDC", "CRA"
CALLERS = ("anonymous", "bad_key", "broker", "integrator_a", "integrator_none", "client_a")
PERIOD = "2026-10"


# ---------------------------------------------------------------- the declared policies


@dataclass(frozen=True)
class Rule:
    """What a route answers each caller.

    keys: the kinds of key admitted (broker, integrator, client); empty: a public route, no key needed.
    scoped: the route shows (or acts on) one organisation's resource: a key that may not see it gets `hidden`.
    ok: what an admitted caller gets on a resource it may see (None: anything but 401/403/hidden and 5xx).
    every_org: the broker's own business, for keys that see every organisation.
    feed: an integrator granted nothing is refused (403) like a wrong role.
    page: an HTML page that signs its reader in: no key is a 303 to the sign-in page.
    """

    keys: frozenset[str] = frozenset()
    scoped: bool = False
    hidden: tuple[int, str] = (404, "")
    ok: frozenset[int] | None = frozenset({200})
    every_org: bool = False
    feed: bool = False
    page: bool = False
    path: str = ""  # the path to call, with {placeholders}, when it is not the route's own
    body: dict[str, Any] | None = field(default=None, hash=False)


BROKER = frozenset({"broker"})
PARTIES = frozenset({"broker", "client"})
EVERY_KEY = frozenset({"broker", "integrator", "client"})
BROKER_INTEGRATOR = frozenset({"broker", "integrator"})
PUBLIC_OK = Rule()
COMMAND = Rule(keys=BROKER, ok=None, body={})  # `{}` is refused (422) once the caller is admitted


def _order_command(body: dict[str, Any]) -> Rule:
    return Rule(keys=PARTIES, scoped=True, hidden=(404, "order_not_found"), ok=None, body=body)


ORDER_HIDDEN = (404, "order_not_found")
CHARGEBACK_HIDDEN = (403, "forbidden_organisation")
ROUTES: dict[str, Rule] = {
    # ------------------------------------------------ orders
    "POST /v1/orders": Rule(keys=PARTIES, ok=None, body={}),
    "POST /v1/orders/{order_id}/award": _order_command({"contract_number": "CALL-1", "awarded_on": "2026-11-03"}),
    "POST /v1/orders/{order_id}/deliveries": _order_command(
        {"delivered_on": "2026-11-10", "location": {"province": "ON", "address": "x"}, "quantities": {"NONE": 1}}
    ),
    "POST /v1/orders/{order_id}/delivery-date": _order_command(
        {"agreed_delivery_date": "2026-12-20", "agreed_on": "2026-11-04"}
    ),
    "POST /v1/orders/{order_id}/cancellation": _order_command({"reason": "other", "cancelled_on": "2026-11-30"}),
    "POST /v1/orders/{order_id}/section32": _order_command({"section32_amount": "1.00"}),
    "POST /v1/orders/{order_id}/rebates": COMMAND,
    "POST /v1/orders/{order_id}/pricing": COMMAND,
    "POST /v1/orders/{order_id}/security-assessment": COMMAND,
    "POST /v1/orders/{order_id}/security-approvals": COMMAND,
    "POST /v1/orders/{order_id}/close": COMMAND,
    "GET /v1/orders/{order_id}": Rule(keys=EVERY_KEY, scoped=True, hidden=ORDER_HIDDEN),
    "GET /v1/orders": Rule(
        keys=EVERY_KEY, scoped=True, hidden=(403, "forbidden_organisation"), path="/v1/orders?client_org={org}"
    ),
    "POST /v1/batch": Rule(keys=PARTIES, ok=None, body={}),
    # ------------------------------------------------ contracts
    "POST /v1/contracts": COMMAND,
    "POST /v1/contracts/{contract_id}/consumption": COMMAND,
    "POST /v1/contracts/{contract_id}/reversals": COMMAND,
    "POST /v1/contracts/{contract_id}/amendments": COMMAND,
    "POST /v1/contracts/{contract_id}/renewals": COMMAND,
    "POST /v1/contracts/{contract_id}/termination": COMMAND,
    "POST /v1/contract-clock": Rule(keys=BROKER, ok=None, body={"today": 0}),
    "GET /v1/contracts/{contract_id}": Rule(keys=BROKER_INTEGRATOR, every_org=True),
    "GET /v1/contracts": Rule(keys=BROKER_INTEGRATOR, every_org=True),
    "GET /v1/organisations/{org}/consumption": Rule(
        keys=EVERY_KEY,
        scoped=True,
        hidden=(404, "organisation_not_found"),
        path=f"/v1/organisations/{{org}}/consumption?period={PERIOD}",
    ),
    "GET /v1/suppliers/concentration": Rule(keys=BROKER_INTEGRATOR, every_org=True),
    # ------------------------------------------------ billing
    "POST /v1/organisations": COMMAND,
    "GET /v1/organisations/{code}": Rule(keys=EVERY_KEY, scoped=True, hidden=(403, "forbidden_organisation")),
    "POST /v1/invoices": COMMAND,
    "GET /v1/invoices/{invoice}": Rule(keys=BROKER),
    "POST /v1/invoices/{invoice}/lines/{line_no}/disputes": COMMAND,
    "POST /v1/invoices/{invoice}/lines/{line_no}/resolution": COMMAND,
    "POST /v1/invoices/{invoice}/lines/{line_no}/assignment": COMMAND,
    "GET /v1/periods": Rule(keys=EVERY_KEY),
    "POST /v1/periods/{period}/close": Rule(keys=BROKER, ok=None, body={"closed_on": 0}),
    "POST /v1/periods/{period}/reopen": COMMAND,
    # ------------------------------------------------ chargeback
    "GET /v1/chargeback/{org}": Rule(
        keys=EVERY_KEY, scoped=True, hidden=CHARGEBACK_HIDDEN, path=f"/v1/chargeback/{{org}}?period={PERIOD}"
    ),
    "GET /v1/chargeback/{org}/focus": Rule(
        keys=EVERY_KEY, scoped=True, hidden=CHARGEBACK_HIDDEN, path=f"/v1/chargeback/{{org}}/focus?period={PERIOD}"
    ),
    "GET /v1/chargeback/{org}/fiscal-year/{year}": Rule(keys=EVERY_KEY, scoped=True, hidden=CHARGEBACK_HIDDEN),
    "GET /v1/chargeback/{org}/lines": Rule(
        keys=EVERY_KEY,
        scoped=True,
        hidden=CHARGEBACK_HIDDEN,
        path=f"/v1/chargeback/{{org}}/lines?period={PERIOD}&line_id={{line_id}}",
    ),
    "GET /v1/reconciliation": Rule(keys=BROKER, path=f"/v1/reconciliation?period={PERIOD}"),
    # ------------------------------------------------ services and incidents
    "POST /v1/services": COMMAND,
    "POST /v1/services/{service_id}/maintenance-windows": COMMAND,
    "POST /v1/services/{service_id}/service-desk-calls": COMMAND,
    "POST /v1/services/{service_id}/assessments": COMMAND,
    "GET /v1/services": Rule(keys=EVERY_KEY),
    "GET /v1/services/{service_id}": Rule(keys=EVERY_KEY, scoped=True, hidden=(404, "service_not_found")),
    "GET /v1/services/{service_id}/availability": Rule(
        keys=EVERY_KEY,
        scoped=True,
        hidden=(404, "service_not_found"),
        path=f"/v1/services/{{service_id}}/availability?month={PERIOD}",
    ),
    "POST /v1/incidents": COMMAND,
    "GET /v1/incidents/{incident_id}": Rule(keys=EVERY_KEY, scoped=True, hidden=(404, "incident_not_found")),
    "POST /v1/incidents/{incident_id}/updates": COMMAND,
    "POST /v1/incidents/{incident_id}/restore": COMMAND,
    "POST /v1/incidents/{incident_id}/close": COMMAND,
    "POST /v1/incidents/{incident_id}/recurrence": COMMAND,
    "POST /v1/incidents/{incident_id}/exclusions": COMMAND,
    # ------------------------------------------------ event feed and webhooks
    "GET /v1/events": Rule(keys=BROKER_INTEGRATOR, feed=True),
    # An admitted caller is refused for its cursor (409), which is checked after who it is: the stream never opens.
    "GET /v1/events/stream": Rule(
        keys=BROKER_INTEGRATOR, feed=True, ok=frozenset({409}), path="/v1/events/stream?after=999999999"
    ),
    "POST /v1/subscriptions": Rule(keys=BROKER_INTEGRATOR, ok=None, body={}),
    "GET /v1/subscriptions": Rule(keys=BROKER_INTEGRATOR),
    "GET /v1/subscriptions/{subscription_id}": Rule(
        keys=BROKER_INTEGRATOR, scoped=True, hidden=(404, "subscription_not_found")
    ),
    "DELETE /v1/subscriptions/{subscription_id}": Rule(
        keys=BROKER_INTEGRATOR, scoped=True, hidden=(404, "subscription_not_found")
    ),
    "POST /v1/subscriptions/{subscription_id}/enable": Rule(
        keys=BROKER_INTEGRATOR, scoped=True, hidden=(404, "subscription_not_found"), body={}
    ),
    "GET /v1/subscriptions/{subscription_id}/deliveries": Rule(
        keys=BROKER_INTEGRATOR, scoped=True, hidden=(404, "subscription_not_found")
    ),
    "GET /v1/subscriptions/{subscription_id}/dead-letters": Rule(
        keys=BROKER_INTEGRATOR, scoped=True, hidden=(404, "subscription_not_found")
    ),
    "POST /v1/subscriptions/{subscription_id}/replay": Rule(
        keys=BROKER_INTEGRATOR, scoped=True, hidden=(404, "subscription_not_found"), ok=None, body={"event_id": "x"}
    ),
    "POST /v1/subscriptions/{subscription_id}/secret-rotation": Rule(
        keys=BROKER_INTEGRATOR, scoped=True, hidden=(404, "subscription_not_found"), body={}
    ),
    # ------------------------------------------------ public pages and documents
    "GET /status": PUBLIC_OK,
    "GET /status/orders": Rule(ok=frozenset({303}), path="/status/orders?number={order_id}"),
    "GET /status/orders/{order_id}": PUBLIC_OK,
    "GET /status/weekly": PUBLIC_OK,
    "GET /status/contracts": PUBLIC_OK,
    "GET /status/contracts/{contract_id:path}": Rule(path="/status/contracts/{contract_id}"),
    "GET /status/services": PUBLIC_OK,
    "GET /status/services.json": PUBLIC_OK,
    "GET /status/services/feed.atom": PUBLIC_OK,
    "GET /v1/schemas": PUBLIC_OK,
    "GET /v1/schemas/{ce_type}.json": PUBLIC_OK,
    "GET /asyncapi.json": PUBLIC_OK,
    "GET /events/catalogue": PUBLIC_OK,
    "GET /openapi.json": PUBLIC_OK,
    "GET /docs": PUBLIC_OK,
    "GET /docs/oauth2-redirect": PUBLIC_OK,
    "GET /redoc": PUBLIC_OK,
    "GET /static": Rule(path="/static/status.css"),
    "GET /healthz": PUBLIC_OK,
    "GET /readyz": PUBLIC_OK,
    "GET /metrics": PUBLIC_OK,
    "GET /": Rule(ok=frozenset({307})),
    # ------------------------------------------------ statement pages (a person signs in)
    "GET /chargeback/sign-in": PUBLIC_OK,
    "POST /chargeback/sign-in": Rule(ok=frozenset({401}), body={}),  # no key in the form: the page says so
    "POST /chargeback/sign-out": Rule(ok=frozenset({303}), body={}),
    # A client goes to its own statement (303), others choose an organisation (200).
    "GET /chargeback": Rule(keys=EVERY_KEY, page=True, ok=frozenset({200, 303})),
    # The month is not checked here: the statement it redirects to is.
    "GET /chargeback/{org}": Rule(keys=EVERY_KEY, page=True, ok=frozenset({303})),
    "GET /chargeback/{org}/{period}": Rule(keys=EVERY_KEY, page=True, scoped=True, hidden=(403, "")),
    "GET /chargeback/{org}/{period}/lines": Rule(
        keys=EVERY_KEY,
        page=True,
        scoped=True,
        hidden=(403, ""),
        path="/chargeback/{org}/{period}/lines?line_id={line_id}",
    ),
    "GET /chargeback/{org}/fiscal-year/{year}": Rule(keys=EVERY_KEY, page=True, scoped=True, hidden=(403, "")),
}


# ---------------------------------------------------------------- the world: ESDC's (A) and CRA's (B)


@dataclass
class World:
    app: Any  # the FastAPI app
    client: TestClient
    headers: dict[str, dict[str, str]]
    values: dict[str, dict[str, str]]  # A and B: what each path placeholder is


def _post(client: TestClient, headers: dict[str, str], path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(path, json=body, headers=headers)
    assert answer.status_code in (200, 201), f"{path}: {answer.text}"
    result: dict[str, Any] = answer.json()
    return result


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data = Path(tmp_path_factory.mktemp("matrix"))
    app: Orderledger = build(
        Settings(data_dir=data / "var", webhook_allowed_hosts="127.0.0.1", run_webhooks=False), clock=lambda: NOW
    )
    keys = {
        "broker": app.keys.create("broker", "matrix"),
        "integrator_a": app.keys.create("integrator", "matrix", EventGrant(frozenset({"*"}), frozenset({A}))),
        "integrator_none": app.keys.create("integrator", "matrix"),
        "client_a": app.keys.create(f"client:{A}", "matrix"),
    }
    headers = {name: {"Authorization": f"Bearer {key}"} for name, key in keys.items()}
    headers |= {"anonymous": {}, "bad_key": {"Authorization": "Bearer olk_000000000000_not-a-key"}}
    api = create_app(app)
    with TestClient(api, raise_server_exceptions=False) as client:
        broker = headers["broker"]
        for code in (A, B):
            _post(
                client,
                broker,
                "/v1/organisations",
                {"code": code, "name_en": code, "name_fr": code, "tax_status": "federal"},
            )
        _post(
            client,
            broker,
            "/v1/contracts",
            {
                "contract_id": "CLOUD-M",
                "kind": "cloud",
                "supplier": "Nimbus Cloud",
                "ceiling": "1000000.00",
                "start_date": "2026-01-01",
                "end_date": "2027-12-31",
                "fee_rate": "0.02",
            },
        )
        values: dict[str, dict[str, str]] = {}
        for org in (A, B):
            placed = _post(
                client, broker, "/v1/orders", order_body(client_org=org, placed_at="2026-11-02T10:00:00-05:00")
            )
            _post(
                client,
                broker,
                "/v1/services",
                {
                    "service_id": f"MAIL-{org}",
                    "name": "Mail",
                    "contract_id": "CLOUD-M",
                    "organisations": [org],
                    "monthly_charge": "100.00",
                    "registered_on": "2026-09-01",
                },
            )
            _post(
                client,
                broker,
                "/v1/incidents",
                {
                    "incident_id": f"INC-{org}",
                    "service_id": f"MAIL-{org}",
                    "title": "Mail is down",
                    "priority": "P2",
                    "detected_at": "2026-10-05T10:00:00-04:00",
                },
            )
            values[org] = {
                "org": org,
                "code": org,
                "order_id": placed["order_id"],
                "service_id": f"MAIL-{org}",
                "incident_id": f"INC-{org}",
                "contract_id": "CLOUD-M",
                "period": PERIOD,
                "year": "2026",
                "ce_type": "ca.orderledger.order.placed.v1",
            }
        invoice = _post(
            client,
            broker,
            "/v1/invoices",
            {
                "invoice_number": "NC-M",
                "supplier": "Nimbus Cloud",
                "contract_id": "CLOUD-M",
                "issued_on": "2026-11-05",
                "lines": [
                    {
                        "reference": f"USAGE-{org}",
                        "charge_period": PERIOD,
                        "amount": "10.00",
                        "client_org": org,
                        "province": "ON",
                    }
                    for org in (A, B)
                ],
            },
        )
        # A's subscription is the ESDC integrator's own; B's is the broker's.
        owners = {A: headers["integrator_a"], B: broker}
        for org in (A, B):
            subscription = _post(
                client, owners[org], "/v1/subscriptions", {"url": "http://127.0.0.1:9/hook", "event_types": ["*"]}
            )
            statement = client.get(f"/v1/chargeback/{org}?period={PERIOD}", headers=broker).json()
            assert statement["lines"], statement
            values[org] |= {
                "invoice": invoice["stream_id"].removeprefix("invoice-"),
                "line_no": "1",
                "subscription_id": subscription["subscription_id"],
                "line_id": statement["lines"][0]["line_id"],
            }
        yield World(api, client, headers, {"A": values[A], "B": values[B]})
    app.close()


# ---------------------------------------------------------------- the answers expected


def _route_table(app: Any) -> set[str]:
    return {f"{method} {route.path}" for route in iter_route_contexts(app.routes) for method in _methods(route)}


def _methods(route: Any) -> list[str]:
    methods = set(route.methods or {"GET"}) - {"HEAD"}
    return sorted(methods)


def visible(caller: str, resource: str) -> bool:
    return caller == "broker" or (caller in ("integrator_a", "client_a") and resource == "A")


def expected(rule: Rule, caller: str) -> tuple[int, str] | None:
    """The refusal `caller` must get on any resource of the route (None: it is admitted)."""
    if not rule.keys:
        return None
    if caller == "anonymous":
        return (303, "") if rule.page else (401, "unauthenticated")
    if caller == "bad_key":
        return (401, "") if rule.page else (401, "invalid_api_key")
    kind = caller.split("_")[0]
    if kind not in rule.keys:
        return (403, "") if rule.page else (403, "forbidden_role")
    if rule.every_org and kind == "integrator":
        return 403, "forbidden_organisation"
    if rule.feed and caller == "integrator_none":
        return 403, "no_event_grant"
    return None


def test_every_route_of_the_app_has_a_declared_policy_here_and_no_other(world: World):
    routes = _route_table(world.app)
    assert sorted(routes - set(ROUTES)) == [], "routes without a declared policy in ROUTES"
    assert sorted(set(ROUTES) - routes) == [], "policies of routes the app does not have"
    print(f"authorisation matrix: {len(routes)} routes x {len(CALLERS)} callers x 2 resources")


def test_the_app_declares_the_same_keys_as_this_table(world: World):
    spec = world.app.openapi()
    for name, rule in ROUTES.items():
        method, path = name.split(" ", 1)
        operation = spec["paths"].get(path, {}).get(method.lower())
        if operation is None:
            continue  # not in the document (pages, FastAPI's own)
        assert set(operation["x-orderledger-access"]["keys"]) == set(rule.keys), name


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_each_caller_gets_the_declared_answer_on_a_and_on_b(world: World, route: str):
    rule = ROUTES[route]
    method, template = route.split(" ", 1)
    template = rule.path or template
    wrong: list[str] = []
    for caller in CALLERS:
        for resource in ("A", "B"):
            path = template.format(**world.values[resource])
            answer = world.client.request(
                method,
                path,
                headers=world.headers[caller],
                follow_redirects=False,
                **({"json": rule.body} if rule.body is not None else {}),
            )
            got = (answer.status_code, _code(answer))
            refusal = expected(rule, caller)
            if refusal is None and rule.scoped and not visible(caller, resource):
                refusal = rule.hidden
            if refusal is not None:
                status, code = refusal
                ok = got[0] == status and (not code or got[1] == code)
                want = f"{status} {code}".strip()
            elif rule.ok is not None:
                ok = got[0] in rule.ok
                want = f"one of {sorted(rule.ok)}"
            else:
                ok = got[0] < 500 and got[0] not in (401, 403) and (not rule.scoped or got != rule.hidden)
                want = "admitted (not 401, 403, hidden, nor 5xx)"
            if not ok:
                wrong.append(f"{caller} on {resource} ({path}): got {got[0]} {got[1]}, want {want}")
    assert not wrong, "\n".join(wrong)


def _code(answer: Any) -> str:
    if answer.headers.get("content-type", "").startswith("application/problem+json"):
        return str(answer.json().get("code", ""))
    return ""


@pytest.mark.parametrize(
    ("path", "field", "key"),
    [
        ("/v1/orders", "orders", "client_org"),
        ("/v1/services", "services", "service_id"),
        ("/v1/subscriptions", "subscriptions", "subscription_id"),
    ],
)
def test_lists_show_each_key_only_what_it_may_see(world: World, path: str, field: str, key: str):
    def listed(caller: str) -> set[str]:
        answer = world.client.get(path, headers=world.headers[caller])
        assert answer.status_code == 200, answer.text
        return {str(row[key]) for row in answer.json()[field]}

    own = {"client_org": A, "service_id": "MAIL-ESDC", "subscription_id": world.values["A"]["subscription_id"]}[key]
    other = {"client_org": B, "service_id": "MAIL-CRA", "subscription_id": world.values["B"]["subscription_id"]}[key]
    assert {own, other} <= listed("broker")
    assert own in listed("integrator_a") and other not in listed("integrator_a")
    assert listed("integrator_none") == set()
    if path != "/v1/subscriptions":  # a client key has no subscriptions (403, in the matrix)
        assert own in listed("client_a") and other not in listed("client_a")


def test_a_route_without_a_declaration_cannot_be_built_and_an_app_with_one_does_not_start():
    from fastapi import APIRouter, FastAPI

    from api.app.access import DECLARE_PUBLIC, LedgerRoute, UndeclaredAccess, every_route_declares_its_access

    declared = APIRouter(route_class=LedgerRoute)
    with pytest.raises(UndeclaredAccess, match="declares 0 accesses"):
        declared.get("/v1/new-report")(lambda: {})
    declared.get("/v1/new-report", dependencies=DECLARE_PUBLIC)(lambda: {})
    plain = APIRouter()  # a router someone forgot to make declare its routes
    plain.get("/v1/forgotten")(lambda: {})
    app = FastAPI()
    app.include_router(declared)
    every_route_declares_its_access(app)
    app.include_router(plain)
    with pytest.raises(UndeclaredAccess, match="/v1/forgotten"):
        every_route_declares_its_access(app)
