"""Schemathesis fuzzes every operation of /openapi.json: whatever it sends, never a 5xx."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from api.app import create_app
from processors.settings import Settings
from processors.wiring import build
from tests.conftest import TODAY, clock_on
from tests.e2e.fuzz_given import draft
from tests.orders_given import order_body

_data = Path(tempfile.mkdtemp(prefix="orderledger-fuzz-"))
_clock = clock_on(TODAY)  # built at import, outside any fixture: the default fixed today
_app = build(Settings(data_dir=_data), clock=_clock)
_key = _app.keys.create("broker", "fuzz")
_asgi = create_app(_app, start_runner=False)
# A few real orders so that generated ids sometimes hit something.
for _ in range(3):
    _app.desk.place(*draft(order_body(), _clock()))
_app.runner.start()  # the ASGI transport runs no lifespan: start the projection runner here

schema = schemathesis.openapi.from_asgi("/openapi.json", _asgi)
schema.config.update(headers={"Authorization": f"Bearer {_key}"})
schema.config.generation.update(max_examples=25)


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=25)
def test_no_operation_answers_with_a_server_error(case):
    case.call_and_validate(checks=[not_a_server_error])
