"""Structured logs: one JSON line per event, the request's correlation id, and never a secret or an API key."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import logging.config
import re
import secrets
import sys
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from processors.structured_logs import (
    ROUTED_LOGGERS,
    JsonFormatter,
    configure,
    correlated,
    correlation_id,
    faust_logging_config,
    redact,
)
from processors.webhook_signing import new_secret

TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def an_api_key() -> tuple[str, str, str]:
    """A key as processors.access_keys.KeyStore.create makes one (without its database): key, key id, secret."""
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    return f"olk_{key_id}_{secret}", key_id, secret


class Captured:
    """A logger of the ledger writing JSON lines to memory, outside the process's logger tree (and pytest's)."""

    def __init__(self, name: str) -> None:
        self.stream = io.StringIO()
        handler = logging.StreamHandler(self.stream)
        handler.setFormatter(JsonFormatter())
        self.logger = logging.Logger(name, logging.DEBUG)
        self.logger.addHandler(handler)

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines()]


@pytest.fixture
def ledger_log(request: pytest.FixtureRequest) -> Captured:
    return Captured(f"orderledger.test.{request.node.name}")


@pytest.fixture
def logging_restored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """configure() and dictConfig change (and close) the process's handlers: set them aside, then put them back."""
    saved = []
    for logger in [logging.getLogger(), *(logging.getLogger(name) for name in ROUTED_LOGGERS)]:
        saved.append((logger, logger.handlers[:], logger.level, logger.propagate))
        logger.handlers[:] = []
    # dictConfig closes every handler of the process (pytest's too): let it see only this test's.
    monkeypatch.setattr(logging, "_handlerList", [])
    monkeypatch.setattr(logging, "_handlers", weakref.WeakValueDictionary())
    yield
    for logger, handlers, level, propagate in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


# --- the lines ---------------------------------------------------------------------------------------------------


def test_given_two_events_when_logged_then_each_is_one_json_object_on_its_own_line(ledger_log: Captured) -> None:
    ledger_log.logger.info("order %s accepted", "ORD-2026-000123", extra={"org": "ACME", "amount": 1234.5})
    ledger_log.logger.warning("order %s\nrefused", "ORD-2026-000124")

    lines = ledger_log.lines()
    assert len(lines) == 2 == len(ledger_log.text.splitlines())
    first, second = lines
    assert list(first) == ["ts", "level", "logger", "message", "amount", "org"]
    assert TS.match(first["ts"])
    assert (first["level"], first["logger"]) == ("info", ledger_log.logger.name)
    assert first["message"] == "order ORD-2026-000123 accepted"
    assert (first["org"], first["amount"]) == ("ACME", 1234.5)
    assert (second["level"], second["message"]) == ("warning", "order ORD-2026-000124\nrefused")


def test_given_an_extra_json_cannot_hold_then_it_is_written_as_text(ledger_log: Captured) -> None:
    class Invoice:
        def __str__(self) -> str:
            return "invoice INV-7"

    ledger_log.logger.info("invoiced", extra={"invoice": Invoice(), "lines": [1, 2], "ratio": float("nan")})

    (line,) = ledger_log.lines()
    assert (line["invoice"], line["lines"], line["ratio"]) == ("invoice INV-7", [1, 2], "nan")


def test_given_a_broken_record_when_logged_then_a_line_is_still_written(ledger_log: Captured) -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no")

        def __repr__(self) -> str:
            raise RuntimeError("no")

    ledger_log.logger.info("%d orders", "many", extra={"what": Unprintable()})

    (line,) = ledger_log.lines()
    assert "%d orders" in line["message"]
    assert line["what"] == "<unprintable Unprintable>"


# --- correlation ids ---------------------------------------------------------------------------------------------


def test_given_a_correlated_request_when_logged_then_the_line_carries_its_correlation_id(ledger_log: Captured) -> None:
    with correlated("req-42"):
        ledger_log.logger.info("order placed")
    ledger_log.logger.info("after the request")

    inside, after = ledger_log.lines()
    assert list(inside)[:5] == ["ts", "level", "logger", "message", "correlation_id"]
    assert inside["correlation_id"] == "req-42"
    assert "correlation_id" not in after


def test_given_a_correlation_id_passed_as_extra_then_it_wins_over_the_request_one(ledger_log: Captured) -> None:
    with correlated("req-42"):
        ledger_log.logger.info("replayed", extra={"correlation_id": "replay-7"})
    ledger_log.logger.info("relayed", extra={"correlation_id": "evt-9"})

    assert [line["correlation_id"] for line in ledger_log.lines()] == ["replay-7", "evt-9"]


def test_given_nested_correlations_when_each_ends_then_the_outer_one_is_back() -> None:
    assert correlation_id.get() is None
    with correlated("outer"):
        with correlated("inner"):
            assert correlation_id.get() == "inner"
        assert correlation_id.get() == "outer"
    assert correlation_id.get() is None


def test_given_two_threads_serving_two_requests_then_each_logs_only_its_own_correlation_id(
    ledger_log: Captured,
) -> None:
    both_inside = threading.Barrier(3, timeout=10)
    both_logged = threading.Barrier(3, timeout=10)

    def serve(request: str | None) -> None:
        if request is None:
            both_inside.wait()
            ledger_log.logger.info("background job")
            both_logged.wait()
            return
        with correlated(request):
            both_inside.wait()
            ledger_log.logger.info("serving %s", request)
            both_logged.wait()

    with correlated("main-thread"):
        threads = [threading.Thread(target=serve, args=(request,)) for request in ("req-A", "req-B", None)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)

    by_message = {line["message"]: line.get("correlation_id") for line in ledger_log.lines()}
    assert by_message == {"serving req-A": "req-A", "serving req-B": "req-B", "background job": None}
    assert correlation_id.get() is None


def test_given_two_asyncio_tasks_then_each_keeps_its_own_correlation_id(ledger_log: Captured) -> None:
    async def handle(request: str, other_started: asyncio.Event, started: asyncio.Event) -> None:
        with correlated(request):
            started.set()
            await other_started.wait()
            ledger_log.logger.info("handled %s", request)

    async def main() -> None:
        a, b = asyncio.Event(), asyncio.Event()
        await asyncio.gather(handle("req-A", b, a), handle("req-B", a, b))

    asyncio.run(main())

    assert {line["message"]: line["correlation_id"] for line in ledger_log.lines()} == {
        "handled req-A": "req-A",
        "handled req-B": "req-B",
    }


# --- exceptions --------------------------------------------------------------------------------------------------


def test_given_a_failure_when_logged_with_its_exception_then_the_traceback_is_in_exc(ledger_log: Captured) -> None:
    try:
        raise ValueError("order ORD-2026-000123 has no lines")
    except ValueError:
        ledger_log.logger.exception("order refused")

    (line,) = ledger_log.lines()
    assert line["message"] == "order refused"
    assert line["exc"].startswith("Traceback (most recent call last):")
    assert "ValueError: order ORD-2026-000123 has no lines" in line["exc"]
    assert list(line)[-1] == "exc"


# --- no secrets --------------------------------------------------------------------------------------------------


def test_given_an_api_key_in_a_message_an_extra_and_an_exception_then_its_secret_is_never_written(
    ledger_log: Captured,
) -> None:
    key, key_id, secret = an_api_key()
    assert key.split("_", 2) == ["olk", key_id, secret]  # as KeyStore.authenticate reads it

    ledger_log.logger.info("request with key %s", key)
    ledger_log.logger.info("request", extra={"api_key": key, "headers": {"x-api-key": key}, "presented": key})
    try:
        raise PermissionError(f"key {key} is revoked")
    except PermissionError:
        ledger_log.logger.exception("refused")

    assert secret not in ledger_log.text
    message, extras, failure = ledger_log.lines()
    assert message["message"] == f"request with key olk_{key_id}_***"
    assert extras["api_key"] == extras["presented"] == f"olk_{key_id}_***"
    assert extras["headers"] == {"x-api-key": f"olk_{key_id}_***"}
    assert f"PermissionError: key olk_{key_id}_*** is revoked" in failure["exc"]


def test_given_a_webhook_signing_secret_then_it_is_never_written(ledger_log: Captured) -> None:
    secret = new_secret()
    ledger_log.logger.info("subscription sub_0123 created with %s", secret, extra={"secret": secret})

    assert secret.removeprefix("whsec_") not in ledger_log.text
    (line,) = ledger_log.lines()
    assert line["message"] == "subscription sub_0123 created with whsec_***"
    assert line["secret"] == "whsec_***"


def test_given_a_postgresql_url_with_a_password_then_only_the_password_is_hidden(ledger_log: Captured) -> None:
    url = "postgresql://orderledger:s3cr3t-p@ss@db.internal:5432/ledger?sslmode=require"
    ledger_log.logger.info("connecting to %s", url, extra={"database_url": url})

    assert "s3cr3t" not in ledger_log.text
    (line,) = ledger_log.lines()
    assert line["message"] == "connecting to postgresql://orderledger:***@db.internal:5432/ledger?sslmode=require"
    assert line["database_url"] == "postgresql://orderledger:***@db.internal:5432/ledger?sslmode=require"


def test_given_a_bearer_header_then_its_token_is_hidden(ledger_log: Captured) -> None:
    key, key_id, secret = an_api_key()
    ledger_log.logger.info("Authorization: Bearer eyJhbGciOi.payload.signature")
    ledger_log.logger.info("headers %s", {"authorization": f"Bearer {key}"})

    first, second = ledger_log.lines()
    assert first["message"] == "Authorization: Bearer ***"
    assert second["message"] == f"headers {{'authorization': 'Bearer olk_{key_id}_***'}}"
    assert "eyJhbGciOi" not in ledger_log.text and secret not in ledger_log.text


def test_given_extras_named_like_credentials_then_their_values_are_hidden(ledger_log: Captured) -> None:
    ledger_log.logger.info("kafka client ready", extra={"sasl_plain_password": "hunter2", "token_count": 3})

    (line,) = ledger_log.lines()
    assert (line["sasl_plain_password"], line["token_count"]) == ("***", 3)
    assert "hunter2" not in ledger_log.text


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("Kafka at SASL_SSL://relay:hunter2@broker:9093", "Kafka at SASL_SSL://relay:***@broker:9093"),
        ("https://user:pw@hooks.example.com/in", "https://user:***@hooks.example.com/in"),
        ("host=db user=app password='it\\'s' dbname=ledger", "host=db user=app password='***' dbname=ledger"),
        ("host=db password=hunter2 dbname=ledger", "host=db password=*** dbname=ledger"),
        (
            "GET /v1/feed?access_token=abc&org=ACME&client_secret=x",
            "GET /v1/feed?access_token=***&org=ACME&client_secret=***",
        ),
        ("bearer abc123", "bearer ***"),
        ("olk_not-a-key", "olk_***"),
    ],
)
def test_given_a_credential_in_text_then_redact_hides_it(text: str, redacted: str) -> None:
    assert redact(text) == redacted
    assert redact(redacted) == redacted


def test_given_ordinary_ledger_text_then_redact_leaves_it_unchanged() -> None:
    text = (
        "order ORD-2026-000123 for ACME: event 3f2a9c1e-8b7d-4e2f-9a61-0c5d7e8f9a10 at position 42,"
        " total EUR 1,234.56 (tax 20.00%), key_id=0123456789ab, subscription sub_00ff00ff00ff00ff,"
        " https://hooks.example.com:8443/in?org=ACME http://127.0.0.1:8000/status"
    )
    assert redact(text) == text


# --- configuration -----------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("logging_restored")
def test_given_configure_called_twice_then_the_root_logger_has_exactly_one_json_handler() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure("info", stream=first)
    configure("INFO", stream=second)

    root = logging.getLogger()
    assert len(root.handlers) == 1
    assert isinstance(root.handlers[0].formatter, JsonFormatter)
    logging.getLogger("orderledger.api").info("ready")
    assert first.getvalue() == ""
    assert json.loads(second.getvalue())["message"] == "ready"


@pytest.mark.usefixtures("logging_restored")
def test_given_configure_then_server_and_kafka_loggers_write_json_through_root_and_chatty_ones_only_warn() -> None:
    logging.getLogger("uvicorn.access").addHandler(logging.StreamHandler(io.StringIO()))
    logging.getLogger("uvicorn").propagate = False
    stream = io.StringIO()
    configure("info", stream=stream)

    for name in ROUTED_LOGGERS:
        assert logging.getLogger(name).handlers == [] and logging.getLogger(name).propagate
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "10.0.0.1:5", "GET", "/v1/feed", "1.1", 200)
    logging.getLogger("aiokafka.consumer").info("fetching")
    logging.getLogger("faust.agents").warning("agent slow")

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["logger"], line["level"]) for line in lines] == [
        ("uvicorn.access", "info"),
        ("faust.agents", "warning"),
    ]

    configure("debug", stream=stream)
    assert logging.getLogger("aiokafka").getEffectiveLevel() == logging.DEBUG


@pytest.mark.usefixtures("logging_restored")
def test_given_the_faust_worker_logging_config_then_mode_adds_no_handler_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mode_logging = pytest.importorskip("mode.utils.logging")
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)

    mode_logging.setup_logging(loglevel="info", logging_config=faust_logging_config("info"), loghandlers=[])
    logging.getLogger("orderledger.worker").info("projections caught up")
    logging.getLogger("aiokafka.consumer").info("fetching")

    assert len(logging.getLogger().handlers) == 1
    assert [json.loads(line)["message"] for line in stderr.getvalue().splitlines()] == ["projections caught up"]
