"""The published documents stay the same through moves: OpenAPI, every event JSON Schema, AsyncAPI, byte for byte.

tests/published/ holds them as they were served before the code was reorganised into one package per business
context (issue 17). A move that changes a byte of them changes what integrators generated their clients from.
The one deliberate change since is DeliveryRecorded v2 (serial numbers of delivered units): its new schema,
its AsyncAPI message, the `serial_numbers` of a delivery's request body. `without_the_v2_event` takes exactly
those out of what is served now, and the rest must then equal what was published, the documents that do not
mention it byte for byte. Never regenerate the snapshot for a move.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from processors.clocks import clock_started_at
from processors.settings import Settings
from processors.wiring import build

PUBLISHED = Path(__file__).resolve().parents[1] / "published"
START = datetime(2026, 11, 18, 12, tzinfo=ZoneInfo("America/Toronto"))
V2 = "ca.orderledger.order.delivery_recorded.v2"
CHANGED_BY_V2 = {"openapi.json", "asyncapi.json", "schemas.json"}


def served(data_dir: Path) -> dict[str, bytes]:
    """What the app serves: /openapi.json, /asyncapi.json, /v1/schemas and every schema it lists."""
    ledger_app = build(Settings(data_dir=data_dir), clock=clock_started_at(START))
    try:
        with TestClient(create_app(ledger_app, start_runner=False)) as client:
            documents = {name: client.get(f"/{name}").content for name in ("openapi.json", "asyncapi.json")}
            listing = client.get("/v1/schemas")
            documents["schemas.json"] = listing.content
            for entry in listing.json()["schemas"]:
                documents[f"schemas/{entry['ce_type']}.json"] = client.get(f"/v1/schemas/{entry['ce_type']}").content
            return documents
    finally:
        ledger_app.close()


def published() -> dict[str, bytes]:
    return {path.relative_to(PUBLISHED).as_posix(): path.read_bytes() for path in PUBLISHED.rglob("*.json")}


@pytest.fixture(scope="module")
def now_served(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return served(tmp_path_factory.mktemp("published"))


def without_the_v2_event(name: str, document: dict[str, Any]) -> dict[str, Any]:
    """What was published before DeliveryRecorded v2: the served document less exactly what v2 added."""
    if name == "openapi.json":
        del document["components"]["schemas"]["DeliveryBody"]["properties"]["serial_numbers"]
    elif name == "asyncapi.json":
        del document["channels"]["orders"]["messages"][V2]
        del document["components"]["messages"][V2]
        del document["components"]["schemas"][V2]
        del document["components"]["schemas"]["DeliveredItem"]
        receive = document["operations"]["receiveOrders"]
        receive["messages"].remove({"$ref": f"#/channels/orders/messages/{V2}"})
    elif name == "schemas.json":
        document["schemas"] = [entry for entry in document["schemas"] if entry["ce_type"] != V2]
    return document


def test_the_same_documents_are_published_and_the_v2_schema(now_served: dict[str, bytes]) -> None:
    assert sorted(now_served) == sorted([*published(), f"schemas/{V2}.json"])


@pytest.mark.parametrize("name", sorted(published()))
def test_each_document_is_as_published(name: str, now_served: dict[str, bytes]) -> None:
    before = published()[name]
    if name in CHANGED_BY_V2:
        assert now_served[name] != before  # v2 is in it...
        now = without_the_v2_event(name, json.loads(now_served[name]))
        assert now == json.loads(before), f"{name} changed beyond DeliveryRecorded v2"  # ...and nothing else
    else:
        assert now_served[name] == before, f"{name} changed: a move must not change a published document"
