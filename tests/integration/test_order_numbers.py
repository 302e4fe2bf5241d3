"""Order numbers in server mode: many clients placing orders at once all get one, none a conflict."""

from __future__ import annotations

import re
import threading
from collections import Counter

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.orders_given import order_body

pytestmark = pytest.mark.integration

CLIENTS = 64


def place_at_once(url: str, headers: dict[str, str], bodies: list[tuple[dict, dict[str, str]]]) -> list[httpx.Response]:
    """Each body from its own client thread, all released together."""
    answers: list[httpx.Response | None] = [None] * len(bodies)
    start = threading.Barrier(len(bodies))

    def client(index: int) -> None:
        body, extra = bodies[index]
        with httpx.Client(base_url=url, headers={**headers, **extra}, timeout=60) as http:
            start.wait()
            answers[index] = http.post("/v1/orders", json=body)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(answer is not None for answer in answers), "a client got no answer"
    return [answer for answer in answers if answer is not None]


def ledger_conflicts(url: str) -> float:
    """The API's count of appends the ledger refused because a stream had moved on."""
    scraped = text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=10).text)
    (count,) = [s.value for f in scraped for s in f.samples if s.name == "orderledger_ledger_conflicts_total"]
    return count


def test_given_64_clients_placing_orders_at_once_then_every_one_gets_its_own_number_and_none_a_conflict(server_stack):
    # Given: `orderledger serve` on PostgreSQL (and Kafka)
    stack = server_stack
    stack.start_api()
    # When: 64 clients place an order at the same moment
    answers = place_at_once(stack.url, stack.broker_headers, [(order_body(), {})] * CLIENTS)
    # Then: 64 orders placed, 64 distinct numbers, not one 409
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses == {201: CLIENTS}, {s: n for s, n in statuses.items()} | {
        "first refusal": next((a.json() for a in answers if a.status_code != 201), None)
    }
    numbers = [answer.json()["order_id"] for answer in answers]
    assert len(set(numbers)) == CLIENTS
    assert all(re.fullmatch(r"ORD-\d{4}-\d{6}", number) for number in numbers), numbers
    # and the ledger did not refuse one append on the way (no placement was decided twice)
    assert ledger_conflicts(stack.url) == 0


def test_given_one_idempotency_key_sent_by_8_clients_at_once_then_all_get_the_same_number(server_stack):
    # Given
    stack = server_stack
    stack.start_api()
    with httpx.Client(base_url=stack.url, headers=stack.broker_headers, timeout=60) as http:
        before = http.post("/v1/orders", json=order_body()).json()["order_id"]
    # When: the same placement (one key) arrives 8 times at once, beside 8 other placements
    same = (order_body(), {"Idempotency-Key": "placement-once"})
    answers = place_at_once(stack.url, stack.broker_headers, [same] * 8 + [(order_body(), {})] * 8)
    # Then: the 8 copies answer one number, placed once; the others their own
    assert [a.status_code for a in answers] == [201] * 16, [a.text for a in answers if a.status_code != 201]
    copies = {a.json()["order_id"] for a in answers[:8]}
    others = {a.json()["order_id"] for a in answers[8:]}
    assert len(copies) == 1 and len(others) == 8 and not copies & others and before not in copies | others
    assert sum(1 for a in answers[:8] if a.headers.get("Idempotent-Replayed") == "true") == 7
