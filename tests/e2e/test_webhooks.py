"""Webhooks end to end: subscriptions over HTTP, deliveries to a loopback receiver, verified with `standardwebhooks`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from api.app import create_app
from events.publishing.audience import EventGrant
from processors.clocks import Clock as LedgerClock
from processors.settings import Settings
from processors.webhook_dispatcher import RETRY_SCHEDULE_S
from processors.wiring import Orderledger, build
from tests.conftest import clock_setting
from tests.webhook_receiver import Receiver

REPO = Path(__file__).resolve().parents[2]


class Clock:
    """The dispatcher's clock, moved by hand through the retry schedule."""

    def __init__(self) -> None:
        # Wall clock by protocol: the dispatcher's clock stamps Standard Webhooks signatures, which receivers
        # check against their own clock; the ledger's clock (the `clock` fixture) is another.
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def hooked(tmp_path: Path, clock: LedgerClock) -> Iterator[Orderledger]:
    """An embedded ledger whose webhooks may reach loopback, with no dispatcher thread (tests drive it)."""
    app = build(Settings(data_dir=tmp_path / "var", webhook_allowed_hosts="127.0.0.1", run_webhooks=False), clock=clock)
    yield app
    app.close()


@pytest.fixture
def api(hooked: Orderledger) -> Iterator[TestClient]:
    with TestClient(create_app(hooked), raise_server_exceptions=False) as test_client:
        yield test_client


def bearer(app: Orderledger, role: str = "broker", grant: EventGrant | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {app.keys.create(role, 'test', grant)}"}


def register(api: TestClient, headers: dict[str, str], code: str) -> dict[str, Any]:
    answer = api.post(
        "/v1/organisations",
        json={"code": code, "name_en": code, "name_fr": code, "tax_status": "federal"},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def subscribe(api: TestClient, headers: dict[str, str], url: str, **more: Any) -> dict[str, Any]:
    body = {"url": url, "event_types": ["ca.orderledger.organisation.*"], **more}
    answer = api.post("/v1/subscriptions", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_given_a_subscription_when_an_event_is_recorded_then_a_signed_cloudevent_arrives_and_verifies(
    hooked, api, receiver
):
    # Given
    broker = bearer(hooked)
    subscription = subscribe(api, broker, receiver.url)
    assert subscription["secret"].startswith("whsec_")
    assert "secret" not in api.get(f"/v1/subscriptions/{subscription['subscription_id']}", headers=broker).json()
    # When
    register(api, broker, "ESDC")
    hooked.dispatcher.run_until_idle()
    # Then: the standardwebhooks package verifies it and gets back the ledger's event as a CloudEvent
    [delivery] = receiver.received
    payload = Webhook(subscription["secret"]).verify(delivery["body"], delivery["headers"])
    [event] = hooked.ledger.read_stream("organisation-ESDC")
    assert delivery["headers"]["webhook-id"] == payload["id"] == str(event.event_id)
    assert payload["type"] == "ca.orderledger.organisation.registered.v1"
    assert payload["data"] == event.data and payload["subject"] == "organisation-ESDC"
    assert delivery["headers"]["content-type"] == "application/json"
    log = api.get(f"/v1/subscriptions/{subscription['subscription_id']}/deliveries?attempts=true", headers=broker)
    [entry] = log.json()["deliveries"]
    assert entry["status"] == "delivered" and entry["attempts"] == 1
    assert entry["attempt_log"][0]["http_status"] == 200


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"url": "ftp://127.0.0.1/x"}, 422, "destination_not_allowed"),
        ({"url": "http://10.1.2.3/hook"}, 422, "destination_not_allowed"),
        ({"url": "http://169.254.169.254/latest"}, 422, "destination_not_allowed"),
        ({"url": "http://user:pw@127.0.0.1/hook"}, 422, "destination_not_allowed"),
        ({"event_types": ["ca.orderledger.order.shipped.v9"]}, 422, "unknown_event_type"),
        ({"event_types": []}, 422, "invalid_request"),
    ],
)
def test_given_bad_subscriptions_then_a_clear_4xx(hooked, api, receiver, body, status, code):
    answer = api.post(
        "/v1/subscriptions",
        json={"url": receiver.url, "event_types": ["ca.orderledger.order.*"], **body},
        headers=bearer(hooked),
    )
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_given_loopback_not_allowed_by_the_operator_then_a_subscription_to_it_is_refused(tmp_path, receiver, clock):
    app = build(Settings(data_dir=tmp_path / "var", run_webhooks=False), clock=clock)
    try:
        with TestClient(create_app(app)) as client:
            answer = client.post(
                "/v1/subscriptions",
                json={"url": receiver.url, "event_types": ["*"]},
                headers=bearer(app),
            )
        assert answer.status_code == 422 and answer.json()["code"] == "destination_not_allowed"
        assert "ORDERLEDGER_WEBHOOK_ALLOWED_HOSTS" in answer.json()["detail"]
    finally:
        app.close()


def test_given_an_integrator_then_it_subscribes_only_within_its_grant_and_receives_nothing_else(hooked, api, receiver):
    broker = bearer(hooked)
    integrator = bearer(
        hooked, "integrator", EventGrant(frozenset({"ca.orderledger.organisation.*"}), frozenset({"ESDC"}))
    )
    refused = api.post(
        "/v1/subscriptions", json={"url": receiver.url, "event_types": ["ca.orderledger.order.*"]}, headers=integrator
    )
    assert refused.status_code == 403 and refused.json()["code"] == "event_type_not_granted"
    other_org = api.post(
        "/v1/subscriptions",
        json={"url": receiver.url, "event_types": ["ca.orderledger.organisation.*"], "organisations": ["CRA"]},
        headers=integrator,
    )
    assert other_org.status_code == 403 and other_org.json()["code"] == "organisation_not_granted"
    subscription = subscribe(api, integrator, receiver.url)
    for code in ("CRA", "ESDC", "DND"):
        register(api, broker, code)
    hooked.dispatcher.run_until_idle()
    payloads = [Webhook(subscription["secret"]).verify(r["body"], r["headers"]) for r in receiver.received]
    assert [p["subject"] for p in payloads] == ["organisation-ESDC"]
    assert api.get("/v1/subscriptions", headers=integrator).json()["subscriptions"][0]["organisations"] == ["ESDC"]
    assert api.get(f"/v1/subscriptions/{subscription['subscription_id']}", headers=bearer(hooked, "integrator"))
    other = api.get(f"/v1/subscriptions/{subscription['subscription_id']}", headers=bearer(hooked, "integrator"))
    assert other.status_code == 404


def test_given_failures_then_retries_follow_the_schedule_honour_retry_after_and_end_as_dead_letters(
    hooked, api, receiver
):
    clock = Clock()
    hooked.dispatcher.clock = clock
    broker = bearer(hooked)
    subscription = subscribe(api, broker, receiver.url)
    sid = subscription["subscription_id"]
    receiver.script = [(500, {}), (429, {"Retry-After": "120"})]
    register(api, broker, "ESDC")
    hooked.dispatcher.run_until_idle()
    [pending] = api.get(f"/v1/subscriptions/{sid}/deliveries", headers=broker).json()["deliveries"]
    assert pending["status"] == "pending" and pending["attempts"] == 1 and pending["last_http_status"] == 500
    # The first retry comes after 5 s (± 10 %): not before.
    clock.now += 4.4
    hooked.dispatcher.run_until_idle()
    assert len(receiver.received) == 1
    clock.now += 1.2
    hooked.dispatcher.run_until_idle()
    [throttled] = api.get(f"/v1/subscriptions/{sid}/deliveries", headers=broker).json()["deliveries"]
    assert throttled["attempts"] == 2 and throttled["last_http_status"] == 429
    assert throttled["next_attempt_at_ms"] == int(clock.now * 1000) + 120_000  # Retry-After honoured
    # Then the receiver keeps failing through the whole schedule: parked as a dead letter after > 3 days.
    receiver.script = [(500, {})] * 20
    started = clock.now
    while api.get(f"/v1/subscriptions/{sid}/dead-letters", headers=broker).json()["dead_letters"] == []:
        clock.now += 3600 * 25
        hooked.dispatcher.run_until_idle()
        assert clock.now - started < 3600 * 24 * 20
    [dead] = api.get(f"/v1/subscriptions/{sid}/dead-letters", headers=broker).json()["dead_letters"]
    assert dead["attempts"] == len(RETRY_SCHEDULE_S) + 1
    assert sum(RETRY_SCHEDULE_S) >= 3 * 24 * 3600
    # Replaying the dead event delivers it again once the receiver is back.
    receiver.script = []
    replay = api.post(f"/v1/subscriptions/{sid}/replay", json={"event_id": dead["event_id"]}, headers=broker)
    assert replay.status_code == 202 and replay.json()["queued"] == 1
    hooked.dispatcher.run_until_idle()
    assert receiver.ids()[-1] == dead["event_id"]


def test_given_a_receiver_answering_410_then_the_subscription_is_disabled(hooked, api, receiver):
    broker = bearer(hooked)
    sid = subscribe(api, broker, receiver.url)["subscription_id"]
    receiver.script = [(410, {})]
    register(api, broker, "ESDC")
    hooked.dispatcher.run_until_idle()
    shown = api.get(f"/v1/subscriptions/{sid}", headers=broker).json()
    assert shown["status"] == "disabled" and "410" in shown["status_reason"]
    register(api, broker, "CRA")
    hooked.dispatcher.run_until_idle()
    assert len(receiver.received) == 1  # nothing more is sent


# Webhook times (signatures, retries, rotation overlaps, replays due now) are the dispatcher's, on the system
# clock, whichever day the ledger's clock says: the same whether the ledger's clock is behind or ahead of it.
LEDGER_CLOCKS = pytest.mark.parametrize(
    "clock",
    [None, datetime(2099, 1, 1, 12, tzinfo=UTC)],
    ids=["ledger clock on the fixed today", "ledger clock years ahead"],
    indirect=True,
)


@LEDGER_CLOCKS
def test_given_a_secret_rotation_then_deliveries_carry_both_signatures_during_the_overlap(hooked, api, receiver):
    broker = bearer(hooked)
    subscription = subscribe(api, broker, receiver.url)
    rotated = api.post(f"/v1/subscriptions/{subscription['subscription_id']}/secret-rotation", headers=broker).json()
    assert rotated["secret"] != subscription["secret"] and rotated["rotation_overlap_until_ms"]
    register(api, broker, "ESDC")
    hooked.dispatcher.run_until_idle()
    [delivery] = receiver.received
    assert len(delivery["headers"]["webhook-signature"].split(" ")) == 2
    for secret in (subscription["secret"], rotated["secret"]):  # a receiver on either secret verifies it
        assert Webhook(secret).verify(delivery["body"], delivery["headers"])["subject"] == "organisation-ESDC"


def test_given_a_failing_event_then_later_events_of_its_stream_wait_and_other_streams_go_on(
    hooked, api, receiver, today
):
    from tests.orders_given import days_ago, order_body

    clock = Clock()
    hooked.dispatcher.clock = clock
    broker = bearer(hooked)
    subscribe(api, broker, receiver.url, event_types=["*"])
    # Given an order placed and awarded, whose first event the receiver refuses once
    placed = api.post("/v1/orders", json=order_body(), headers=broker).json()["order_id"]
    awarded = api.post(
        f"/v1/orders/{placed}/award", json={"contract_number": "CU-1", "awarded_on": days_ago(0, today)}, headers=broker
    )
    assert awarded.status_code == 200, awarded.text
    receiver.script = [(503, {})]
    hooked.dispatcher.run_until_idle()
    # When another stream's event comes meanwhile
    register(api, broker, "ESDC")
    hooked.dispatcher.run_until_idle()
    # Then it is delivered, and the award waits behind the order's placement
    delivered = [json.loads(r["body"]) for r in receiver.received if r["status"] < 300]
    assert [p["subject"] for p in delivered] == ["organisation-ESDC"]
    clock.now += 10
    hooked.dispatcher.run_until_idle()
    delivered = [json.loads(r["body"]) for r in receiver.received if r["status"] < 300]
    assert [p["type"] for p in delivered if p["subject"] == placed] == [
        "ca.orderledger.order.placed.v1",
        "ca.orderledger.order.call_up_awarded.v1",
    ]


def test_given_a_hanging_receiver_then_other_subscriptions_are_still_served(hooked, api, receiver):
    broker = bearer(hooked)
    hanging = Receiver()
    hanging.delay = 5.0
    hooked.dispatcher.timeout_s = 2.0
    try:
        subscribe(api, broker, hanging.url)
        subscribe(api, broker, receiver.url)
        hooked.dispatcher.start()
        register(api, broker, "ESDC")
        deadline = time.monotonic() + 1.5
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(receiver.received) == 1  # served while the other receiver still hangs
    finally:
        hooked.dispatcher.stop()
        hanging.close()


def test_given_the_dispatcher_killed_mid_delivery_then_every_event_arrives_at_least_once_and_once_after_dedup(
    tmp_path, receiver, clock
):
    # Given 30 events to deliver to a slow receiver, and a dispatcher process
    data = tmp_path / "var"
    setup = build(Settings(data_dir=data, run_webhooks=False, webhook_allowed_hosts="127.0.0.1"), clock=clock)
    with TestClient(create_app(setup)) as client:
        broker = bearer(setup)
        subscribe(client, broker, receiver.url, from_position=0)
        for n in range(30):
            register(client, broker, f"ORG{n:02d}")
    expected = {str(e.event_id) for e in setup.ledger.read_all(0, 1000) if e.stream_type == "organisation"}
    setup.close()
    receiver.delay = 0.1
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ORDERLEDGER_")},
        "ORDERLEDGER_DATA_DIR": str(data),
        "ORDERLEDGER_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "ORDERLEDGER_WEBHOOK_LEASE_SECONDS": "16",
        **clock_setting(clock),
    }
    command = [sys.executable, "-m", "api.cli", "webhooks"]
    # When it is killed after a few deliveries, mid-delivery
    dispatcher = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while len(receiver.received) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    dispatcher.send_signal(signal.SIGKILL)
    dispatcher.wait(10)
    seen_before = len(receiver.received)
    assert 5 <= seen_before < 30
    # And a new one starts (the killed one's leases end after 16 s)
    again = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while set(receiver.ids()) != expected and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(20)
    # Then every event arrived at least once; de-duplicated by webhook-id, each exactly once
    ids = receiver.ids()
    assert set(ids) == expected
    assert len(ids) >= len(expected)
    assert len(dict.fromkeys(ids)) == 30


@LEDGER_CLOCKS
def test_given_delivered_events_when_replayed_by_position_or_ledger_time_then_they_come_again(hooked, api, receiver):
    broker = bearer(hooked)
    sid = subscribe(api, broker, receiver.url)["subscription_id"]
    for code in ("ESDC", "CRA", "DND"):
        register(api, broker, code)
    hooked.dispatcher.run_until_idle()
    events = [e for e in hooked.ledger.read_all(0, 100) if e.stream_type == "organisation"]
    assert sorted(receiver.ids()) == sorted(str(e.event_id) for e in events)
    # By position: everything after the first organisation
    by_position = api.post(
        f"/v1/subscriptions/{sid}/replay", json={"after_position": events[0].position}, headers=broker
    )
    assert by_position.status_code == 202 and by_position.json()["queued"] == 2
    hooked.dispatcher.run_until_idle()
    assert sorted(receiver.ids()[3:]) == sorted(str(e.event_id) for e in events[1:])  # order is per stream
    # By ledger time: the range holding only the last one
    last = events[-1].recorded_at
    by_time = api.post(
        f"/v1/subscriptions/{sid}/replay",
        json={"recorded_from": last.isoformat(), "recorded_until": (last + timedelta(seconds=1)).isoformat()},
        headers=broker,
    )
    assert by_time.json()["queued"] == 1
    hooked.dispatcher.run_until_idle()
    assert receiver.ids()[-1] == str(events[-1].event_id)
    both = api.post(
        f"/v1/subscriptions/{sid}/replay",
        json={"after_position": 0, "event_id": str(events[0].event_id)},
        headers=broker,
    )
    assert both.status_code == 422 and both.json()["code"] == "replay_selection"


class Answers:
    """A resolver giving its answers in turn, one a lookup, the last one again to every later lookup."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def deliveries(api: TestClient, headers: dict[str, str], sid: str) -> list[dict[str, Any]]:
    return api.get(f"/v1/subscriptions/{sid}/deliveries", headers=headers).json()["deliveries"]


def test_given_a_name_that_rebinds_after_its_check_then_deliveries_reach_only_the_checked_address(
    hooked, api, receiver
):
    # Given hooks.example answering the allowed 127.0.0.1 to the subscription's and the first delivery's
    # checks, then 127.0.0.2 (loopback, not allowed), where an internal service listens on the same port
    internal = Receiver("127.0.0.2", receiver.port)
    resolver = Answers(["127.0.0.1"], ["127.0.0.1"], ["127.0.0.2"])
    hooked.dispatcher.resolve = resolver
    broker = bearer(hooked)
    try:
        sid = subscribe(api, broker, f"http://hooks.example:{receiver.port}/hook")["subscription_id"]
        # When an event is delivered
        register(api, broker, "ESDC")
        hooked.dispatcher.run_until_idle()
        # Then it went to the checked address, named for the host, with no lookup behind the check
        [delivery] = receiver.received
        assert delivery["headers"]["Host"] == f"hooks.example:{receiver.port}"
        assert resolver.lookups == ["hooks.example", "hooks.example"]
        # And once the name answers the internal address at a check, the delivery is refused there
        register(api, broker, "CRA")
        hooked.dispatcher.run_until_idle()
        assert internal.received == [] and len(receiver.received) == 1
        refused = [d for d in deliveries(api, broker, sid) if d["status"] == "pending"]
        assert [d["last_error"].split(":")[0] for d in refused] == ["destination refused"]
    finally:
        internal.close()


def test_given_a_name_with_several_checked_addresses_then_an_unreachable_one_gives_way_to_the_next(
    hooked, api, receiver
):
    hooked.dispatcher.allowed_hosts = "127.0.0.0/8"
    hooked.dispatcher.resolve = Answers(["127.0.0.1"], ["127.0.0.3", "127.0.0.1"])  # nothing listens on .3
    broker = bearer(hooked)
    subscribe(api, broker, f"http://hooks.example:{receiver.port}/hook")
    register(api, broker, "ESDC")
    hooked.dispatcher.run_until_idle()
    assert len(receiver.received) == 1


def test_given_a_receiver_answering_a_redirect_then_it_is_not_followed(hooked, api, receiver):
    internal = Receiver("127.0.0.2", receiver.port)
    try:
        broker = bearer(hooked)
        sid = subscribe(api, broker, receiver.url)["subscription_id"]
        receiver.script = [(307, {"Location": internal.url})]
        register(api, broker, "ESDC")
        hooked.dispatcher.run_until_idle()
        assert internal.received == []
        assert [d["last_http_status"] for d in deliveries(api, broker, sid)] == [307]
    finally:
        internal.close()


def certificate_for(name: str, directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A self-signed certificate for `name`: the server's TLS context and the file a client trusts."""
    if not shutil.which("openssl"):
        pytest.skip("the openssl command makes this test's certificate")
    key, certificate = directory / "key.pem", directory / "certificate.pem"
    command = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    command += ["-keyout", str(key), "-out", str(certificate), "-days", "2", "-subj", f"/CN={name}"]
    subprocess.run(
        [*command, "-addext", f"subjectAltName=DNS:{name}"],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    return context, certificate


def test_given_an_https_receiver_then_the_pinned_delivery_keeps_the_host_name_for_sni_and_the_certificate(
    hooked, api, tmp_path, monkeypatch
):
    # Given a TLS receiver on 127.0.0.1 whose certificate names hooks.example, trusted by the dispatcher
    tls, certificate = certificate_for("hooks.example", tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
    secure = Receiver(tls=tls)
    hooked.dispatcher.resolve = lambda host, port: ["127.0.0.1"]
    broker = bearer(hooked)
    try:
        named = subscribe(api, broker, f"https://hooks.example:{secure.port}/hook")["subscription_id"]
        misnamed = subscribe(api, broker, f"https://other.example:{secure.port}/hook")["subscription_id"]
        # When an event is delivered to both names, pinned to the same address
        register(api, broker, "ESDC")
        hooked.dispatcher.run_until_idle()
    finally:
        secure.close()
    # Then the right name's delivery arrives with its SNI and Host; the other fails the certificate check
    [delivery] = secure.received
    assert delivery["headers"]["Host"] == f"hooks.example:{secure.port}"
    assert "hooks.example" in secure.server_names
    assert [d["status"] for d in deliveries(api, broker, named)] == ["delivered"]
    [failed] = deliveries(api, broker, misnamed)
    assert failed["status"] == "pending" and "CERTIFICATE_VERIFY_FAILED" in failed["last_error"]
