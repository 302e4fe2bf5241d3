"""The event feed end to end: ledger events as CloudEvents by page (/v1/events) and as Server-Sent Events.

Given the demo data set (organisations ESDC, CRA, DND, ASPC and SRC, contracts, about 50 orders,
invoices, credits, services and incidents), every expectation is computed independently from the
ledger itself: what each event concerns comes from `concerned_organisations` on the decoded event
and its stream's opening, never from the feed's own audience cache.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import httpx
import pytest

from api.demo import load_demo
from events.ledger import RecordedEvent
from events.ledger.catalogue import CLOUD_TYPES, decode
from events.publishing.audience import BROKERS_OWN, EventGrant, concerned_organisations
from processors.wiring import Orderledger
from tests.conftest import LiveServer
from tests.orders_given import order_body

PROBLEM = "application/problem+json"
PLACED = "ca.orderledger.order.placed.v1"
ESDC_ORDERS = EventGrant(frozenset({"ca.orderledger.order.*"}), frozenset({"ESDC"}))
ANYTHING_OF_ESDC = EventGrant(frozenset({"*"}), frozenset({"ESDC"}))
CLOUD_TYPE = re.compile(r"^ca\.orderledger\.[a-z_]+\.[a-z_]+\.v\d+$")
DEMO_DAY = date(2026, 11, 23)
SSE_SECONDS = 20  # the longest any stream is read, whatever arrives


# ---------------------------------------------------------------- givens


@pytest.fixture
def today() -> date:
    """The demo's day: the ledger's clock runs on it too."""
    return DEMO_DAY


@pytest.fixture
def demo(ledger_app: Orderledger, today: date) -> Orderledger:
    """The demo data set, loaded through the real commands as of 23 November 2026."""
    load_demo(ledger_app.desk, today)
    assert ledger_app.ledger.head() > 200
    return ledger_app


@pytest.fixture
def live(demo: Orderledger) -> Iterator[LiveServer]:
    """`orderledger serve` on the demo's own data directory: the same ledger and keys."""
    server = LiveServer(demo.settings.data_dir, clock=demo.clock)
    server.start()
    yield server
    server.stop()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def integrator(app: Orderledger, grant: EventGrant | None) -> dict[str, str]:
    return bearer(app.keys.create("integrator", "t", grant))


def ledger_events(app: Orderledger) -> list[RecordedEvent]:
    return app.ledger.read_all(0, 100_000)


def concerns(app: Orderledger, recorded: RecordedEvent) -> frozenset[str]:
    """The organisations an event concerns, worked out from the ledger alone."""
    opening = None if recorded.stream_version == 1 else decode(app.ledger.read_stream(recorded.stream_id)[0])
    return concerned_organisations(decode(recorded), opening)


def order_owners(events: list[RecordedEvent]) -> dict[str, str]:
    """Order stream -> the organisation that placed the order (its OrderPlaced's client_org)."""
    return {e.stream_id: e.data["client_org"] for e in events if e.type == "OrderPlaced"}


def ce_type(recorded: RecordedEvent) -> str:
    [found] = [
        t for t, known in CLOUD_TYPES.items() if known == (recorded.type, recorded.schema_version, recorded.stream_type)
    ]
    return found


def read_feed(http: Any, headers: dict[str, str], limit: int = 100, **params: str) -> list[dict[str, Any]]:
    """Every event the key sees, page by page from position 0 until the cursor reaches the head."""
    after, found = 0, []
    for _ in range(10_000):
        page = http.get("/v1/events", params={"after": after, "limit": limit, **params}, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["events"]) <= limit
        found += body["events"]
        if body["next_after"] == body["head"]:
            return found
        assert body["next_after"] > after, "the cursor did not move"
        after = body["next_after"]
    raise AssertionError("the feed never reached its head")


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    if code:
        assert response.json()["code"] == code, response.text


# ---------------------------------------------------------------- Server-Sent Events


class SseReader:
    """Reads an open text/event-stream response event by event: (id, event, data as JSON)."""

    def __init__(self, response: httpx.Response) -> None:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        self.lines = response.iter_lines()
        self.deadline = time.monotonic() + SSE_SECONDS

    def take(self, count: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        fields: dict[str, str] = {}
        for line in self.lines:
            assert time.monotonic() < self.deadline, f"only {len(found)} of {count} events in {SSE_SECONDS} s"
            if line.startswith(":"):
                continue  # a comment: keep-alive
            if line:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
                continue
            if "data" in fields:
                found.append({"id": fields.get("id"), "event": fields.get("event"), "data": json.loads(fields["data"])})
                if len(found) == count:
                    return found
            fields = {}
        raise AssertionError(f"the stream ended after {len(found)} of {count} events")


def organisation(code: str) -> dict[str, str]:
    return {"code": code, "name_en": f"{code} (en)", "name_fr": f"{code} (fr)", "tax_status": "other"}


# ---------------------------------------------------------------- 1. the broker pages through everything


def test_given_the_demo_when_the_broker_pages_through_the_feed_then_every_event_comes_once_in_order_as_a_cloudevent(
    demo, client, broker
):
    # Given
    recorded = ledger_events(demo)
    head = demo.ledger.head()
    # When
    first = client.get("/v1/events", params={"after": 0, "limit": 100}, headers=broker).json()
    seen = read_feed(client, broker, limit=100)
    # Then: one page of 100, the cursor at its last event, and the head of the ledger
    assert [e["position"] for e in first["events"]] == [str(e.position) for e in recorded[:100]]
    assert first["next_after"] == recorded[99].position
    assert first["head"] == head
    # every ledger event exactly once, in position order
    assert [e["id"] for e in seen] == [str(e.event_id) for e in recorded]
    assert len({e["id"] for e in seen}) == len(recorded) == head
    assert [int(e["position"]) for e in seen] == list(range(1, head + 1))
    for cloud_event, event in zip(seen, recorded, strict=True):
        assert cloud_event["specversion"] == "1.0"
        assert cloud_event["id"] == str(event.event_id)
        assert CLOUD_TYPE.match(cloud_event["type"]), cloud_event["type"]
        assert cloud_event["type"] == ce_type(event)
        assert cloud_event["type"].startswith(f"ca.orderledger.{event.stream_type}.")
        assert cloud_event["source"] == f"/orderledger/{event.stream_type}s"
        assert cloud_event["subject"] == cloud_event["partitionkey"] == event.stream_id
        assert cloud_event["sequence"] == f"{event.stream_version:010d}"
        assert datetime.fromisoformat(cloud_event["time"]) == event.occurred_at
        assert cloud_event["datacontenttype"] == "application/json"
        assert cloud_event["hash"] == event.hash and cloud_event["prevhash"] == event.prev_hash
        assert cloud_event["data"] == event.data


# ---------------------------------------------------------------- 2. filters and bad input


def test_given_the_demo_when_the_broker_asks_for_orders_placed_then_only_orders_placed_come(demo, client, broker):
    # Given
    placed = [str(e.event_id) for e in ledger_events(demo) if e.type == "OrderPlaced"]
    # When
    seen = read_feed(client, broker, limit=17, types=PLACED)
    # Then
    assert len(placed) >= 50
    assert [e["id"] for e in seen] == placed
    assert {e["type"] for e in seen} == {PLACED}


def test_given_the_demo_when_the_broker_asks_for_the_incident_family_then_only_incident_events_come(
    demo, client, broker
):
    # Given
    incidents = [e for e in ledger_events(demo) if e.stream_type == "incident"]
    # When
    seen = read_feed(client, broker, types="ca.orderledger.incident.*")
    # Then
    assert len({ce_type(e) for e in incidents}) > 1  # opened, restored, closed...
    assert [e["id"] for e in seen] == [str(e.event_id) for e in incidents]
    assert all(e["type"].startswith("ca.orderledger.incident.") for e in seen)


def test_given_the_demo_when_the_broker_asks_for_two_patterns_then_it_gets_their_union(demo, client, broker):
    # Given
    wanted = [e for e in ledger_events(demo) if e.type == "OrderPlaced" or e.stream_type == "billing_period"]
    # When
    seen = read_feed(client, broker, types=f"{PLACED}, ca.orderledger.billing_period.*")
    # Then
    assert [e["id"] for e in seen] == [str(e.event_id) for e in wanted]


@pytest.mark.parametrize(
    "types", ["ca.orderledger.order.shipped.v1", f"{PLACED},ca.orderledger.orders.*", "OrderPlaced"]
)
def test_given_an_unknown_event_type_when_asked_for_then_it_is_refused_not_an_empty_feed(demo, client, broker, types):
    # When
    answer = client.get("/v1/events", params={"types": types}, headers=broker)
    # Then
    assert_problem(answer, 422, "unknown_event_type")


@pytest.mark.parametrize(
    "params",
    [{"after": "-1"}, {"after": "abc"}, {"after": "1.5"}, {"limit": "0"}, {"limit": "5000"}, {"limit": "ten"}],
)
def test_given_a_malformed_cursor_or_limit_when_asked_for_then_it_is_a_422_problem(demo, client, broker, params):
    # When
    answer = client.get("/v1/events", params=params, headers=broker)
    # Then
    assert_problem(answer, 422, "invalid_request")


def test_given_a_cursor_at_the_head_then_the_page_is_empty_and_the_cursor_stays(demo, client, broker):
    # Given
    head = demo.ledger.head()
    # When
    answer = client.get("/v1/events", params={"after": head}, headers=broker)
    # Then
    assert answer.status_code == 200
    assert answer.json() == {"events": [], "next_after": head, "head": head}


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/v1/events?after={past}", {}),
        ("/v1/events/stream?after={past}", {}),
        ("/v1/events/stream", {"Last-Event-ID": "{past}"}),
    ],
)
def test_given_a_cursor_past_the_head_then_it_is_refused_naming_the_head_never_a_quiet_empty_page(
    demo, client, broker, path, headers
):
    # Given a consumer's cursor from another (or a longer, since restored) ledger
    head = demo.ledger.head()
    past = str(head + 1)
    # When
    answer = client.get(
        path.format(past=past), headers={**broker, **{k: v.format(past=past) for k, v in headers.items()}}
    )
    # Then: the consumer is told where the ledger ends, instead of polling an empty page for ever
    assert_problem(answer, 409, "cursor_past_head")
    assert answer.json()["head"] == head


@pytest.mark.parametrize("types", ["", ",", " "])
def test_given_an_empty_type_filter_then_it_is_refused_or_ignored_never_an_empty_feed_that_moves_the_cursor(
    demo, client, broker, types
):
    # When
    answer = client.get("/v1/events", params={"after": 0, "types": types}, headers=broker)
    # Then: either a 422 problem, or the filter is ignored; never nothing with the cursor at the head
    if answer.status_code == 422:
        assert_problem(answer, 422)
    else:
        assert answer.status_code == 200
        assert answer.json()["events"], answer.json()


# ---------------------------------------------------------------- 3. who sees what


def test_given_an_integrator_granted_esdc_orders_then_it_sees_every_esdc_order_event_and_nothing_else(demo, client):
    # Given
    recorded = ledger_events(demo)
    owners = order_owners(recorded)
    expected = [e for e in recorded if e.stream_type == "order" and owners[e.stream_id] == "ESDC"]
    headers = integrator(demo, ESDC_ORDERS)
    # When
    seen = read_feed(client, headers, limit=7)
    # Then: exactly ESDC's order events, in ledger order
    assert len(expected) > 20
    assert len(owners) > len({s for s, o in owners.items() if o == "ESDC"}) > 0  # other organisations' orders exist
    assert [e["id"] for e in seen] == [str(e.event_id) for e in expected]
    for cloud_event in seen:
        assert cloud_event["type"].startswith("ca.orderledger.order.")
        assert owners[cloud_event["subject"]] == "ESDC"
    # and a filter for what it was not granted is refused (it is no way round the grant, nor a quiet feed)
    refused = client.get("/v1/events", params={"types": "ca.orderledger.incident.*"}, headers=headers)
    assert_problem(refused, 403, "event_type_not_granted")
    assert refused.json()["not_granted"] == ["ca.orderledger.incident.*"]
    assert read_feed(client, headers, types="*") == seen


def test_given_an_integrator_granted_every_type_of_esdc_then_it_never_sees_another_organisation_or_the_brokers_own(
    demo, client
):
    # Given
    recorded = ledger_events(demo)
    audience = {str(e.event_id): concerns(demo, e) for e in recorded}
    expected = [e for e in recorded if audience[str(e.event_id)] <= {"ESDC"}]
    headers = integrator(demo, ANYTHING_OF_ESDC)
    # When
    seen = read_feed(client, headers)
    # Then
    assert any("ESDC" in orgs and len(orgs) > 1 for orgs in audience.values())  # shared events exist...
    assert any(BROKERS_OWN in orgs for orgs in audience.values())  # ...and the broker's own
    assert [e["id"] for e in seen] == [str(e.event_id) for e in expected]
    for cloud_event in seen:
        assert audience[cloud_event["id"]] == frozenset({"ESDC"})
    types = {e["type"] for e in seen}
    assert "ca.orderledger.contract.registered.v1" not in types
    assert "ca.orderledger.billing_period.closed.v1" not in types
    assert {PLACED, "ca.orderledger.organisation.registered.v1"} <= types
    assert [e["data"]["code"] for e in seen if e["type"] == "ca.orderledger.organisation.registered.v1"] == ["ESDC"]


def test_given_an_integrator_granted_contracts_of_every_organisation_then_it_sees_the_contracts_registered(
    demo, client
):
    # Given
    contracts = [e for e in ledger_events(demo) if e.stream_type == "contract"]
    headers = integrator(demo, EventGrant(frozenset({"ca.orderledger.contract.*"}), frozenset({"*"})))
    # When
    seen = read_feed(client, headers)
    # Then: the broker's own facts too
    assert [e["id"] for e in seen] == [str(e.event_id) for e in contracts]
    assert "ca.orderledger.contract.registered.v1" in {e["type"] for e in seen}


def test_given_keys_that_may_not_read_the_feed_then_they_are_refused(demo, client, key_for):
    # Given
    ungranted = key_for("integrator")
    no_organisation = integrator(demo, EventGrant(frozenset({"*"}), frozenset()))
    # When / Then
    assert_problem(client.get("/v1/events", headers=ungranted), 403, "no_event_grant")
    assert_problem(client.get("/v1/events", headers=no_organisation), 403, "no_event_grant")
    assert_problem(client.get("/v1/events/stream", headers=ungranted), 403, "no_event_grant")
    assert_problem(client.get("/v1/events", headers=key_for("client:ESDC")), 403, "forbidden_role")
    assert_problem(client.get("/v1/events/stream", headers=key_for("client:ESDC")), 403, "forbidden_role")
    assert_problem(client.get("/v1/events"), 401, "unauthenticated")
    assert_problem(client.get("/v1/events/stream"), 401, "unauthenticated")
    assert_problem(client.get("/v1/events", headers=bearer("olk_nope_nope")), 401, "invalid_api_key")


# ---------------------------------------------------------------- 4. Server-Sent Events


def test_given_a_live_server_when_the_broker_streams_then_it_gets_the_last_events_new_ones_and_resumes(
    demo: Orderledger, live: LiveServer
):
    # Given
    head = demo.ledger.head()
    last_three = demo.ledger.read_all(head - 3, 10)
    with httpx.Client(base_url=live.url, timeout=10) as http:
        # When the broker opens the stream three events before the head
        with http.stream("GET", "/v1/events/stream", params={"after": head - 3}, headers=live.broker) as response:
            stream = SseReader(response)
            got = stream.take(3)
            # Then the last three events come, in order, as CloudEvents
            assert [g["id"] for g in got] == [str(e.position) for e in last_three]
            assert [g["data"]["id"] for g in got] == [str(e.event_id) for e in last_three]
            assert [g["event"] for g in got] == [ce_type(e) for e in last_three]
            assert all(g["event"] == g["data"]["type"] for g in got)
            assert [g["data"]["data"] for g in got] == [e.data for e in last_three]
            # When an organisation is registered while the stream is open
            registered = http.post("/v1/organisations", json=organisation("SQI"), headers=live.broker)
            assert registered.status_code == 201, registered.text
            [new] = stream.take(1)
        # Then it arrives on the open stream
        [recorded] = demo.ledger.read_all(head, 10)
        assert new["id"] == str(recorded.position) == str(head + 1)
        assert new["event"] == "ca.orderledger.organisation.registered.v1"
        assert new["data"]["id"] == str(recorded.event_id)
        assert new["data"]["data"]["code"] == "SQI"

        # Given another event recorded while the broker was disconnected
        missed = http.post("/v1/organisations", json=organisation("OPQ"), headers=live.broker)
        assert missed.status_code == 201, missed.text
        # When it reconnects with the last id it received (the header wins over `after`)
        resume = {**live.broker, "Last-Event-ID": new["id"]}
        with http.stream("GET", "/v1/events/stream", params={"after": 0}, headers=resume) as response:
            [first] = SseReader(response).take(1)
        # Then only what came after it
        assert first["id"] == str(head + 2)
        assert first["data"]["data"]["code"] == "OPQ"

        # And a Last-Event-ID that is no position is refused
        bad = http.get("/v1/events/stream", headers={**live.broker, "Last-Event-ID": "abc"})
        assert_problem(bad, 400, "invalid_last_event_id")


def test_given_a_last_event_id_past_any_position_then_it_is_refused_before_the_stream_opens(
    demo: Orderledger, live: LiveServer
):
    # Given a Last-Event-ID that fits the header's 20 characters but no ledger position
    headers = {**live.broker, "Last-Event-ID": "99999999999999999999"}
    # When
    with (
        httpx.Client(base_url=live.url, timeout=10) as http,
        http.stream("GET", "/v1/events/stream", headers=headers) as response,
    ):
        status, content_type = response.status_code, response.headers["content-type"]
    # Then
    assert status == 400
    assert content_type.startswith(PROBLEM)


def test_given_a_live_server_when_an_integrator_streams_then_it_gets_only_esdc_order_events(
    demo: Orderledger, live: LiveServer
):
    # Given
    recorded = ledger_events(demo)
    owners = order_owners(recorded)
    expected = [e for e in recorded if e.stream_type == "order" and owners[e.stream_id] == "ESDC"]
    headers = integrator(demo, ESDC_ORDERS)
    # When it streams from the start of the ledger
    with (
        httpx.Client(base_url=live.url, timeout=10) as http,
        http.stream("GET", "/v1/events/stream", params={"after": 0}, headers=headers) as response,
    ):
        stream = SseReader(response)
        got = stream.take(len(expected))
        # Then it gets every ESDC order event, in ledger order
        assert [g["id"] for g in got] == [str(e.position) for e in expected]
        assert all(g["event"].startswith("ca.orderledger.order.") for g in got)
        assert all(owners[g["data"]["subject"]] == "ESDC" for g in got)
        # When an organisation is registered, a CRA order placed, then an ESDC order placed
        for path, body in (
            ("/v1/organisations", organisation("SQI")),
            ("/v1/orders", order_body(client_org="CRA")),
            ("/v1/orders", order_body(client_org="ESDC")),
        ):
            done = http.post(path, json=body, headers=live.broker)
            assert done.status_code == 201, done.text
        [new] = stream.take(1)
    # Then the next event it gets is the ESDC order: the other two were not granted
    after = demo.ledger.read_all(recorded[-1].position, 10)
    assert [e.type for e in after] == ["OrganisationRegistered", "OrderPlaced", "OrderPlaced"]
    assert new["id"] == str(after[2].position)
    assert new["event"] == PLACED
    assert new["data"]["data"]["client_org"] == "ESDC"
