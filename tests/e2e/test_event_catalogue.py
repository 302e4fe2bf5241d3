"""Event schemas over HTTP: the list, one schema, an unknown type, the AsyncAPI document (checked by the
AsyncAPI CLI itself), and the bilingual event catalogue page. All public: no API key is sent."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.pages.words import WORDS
from events.ledger.catalogue import STREAM_TYPES
from events.publishing.json_schemas import FAMILIES, SCHEMAS_DIR, entries
from processors.relay import topic_for
from processors.settings import Settings
from processors.wiring import Orderledger

ROOT = Path(__file__).resolve().parents[2]
VALIDATE = ROOT / "deploy" / "asyncapi" / "asyncapi-validate.sh"
CE_TYPES = [e.ce_type for e in entries()]


# ---------------------------------------------------------------- JSON


def test_the_list_names_every_event_type_its_topic_and_schema_url(client: TestClient):
    answer = client.get("/v1/schemas")
    assert answer.status_code == 200
    body = answer.json()
    assert [s["ce_type"] for s in body["schemas"]] == CE_TYPES
    placed = body["schemas"][0]
    assert placed == {
        "ce_type": "ca.orderledger.order.placed.v1",
        "event_type": "OrderPlaced",
        "schema_version": 1,
        "stream_type": "order",
        "topic": "orderledger.orders.v1",
        "schema_url": "http://127.0.0.1:8000/v1/schemas/ca.orderledger.order.placed.v1.json",
    }
    for entry in body["schemas"]:
        assert entry["topic"] == topic_for("orderledger", entry["stream_type"])  # what the relay publishes to
    assert {s["stream_type"] for s in body["schemas"]} == set(STREAM_TYPES)
    assert body["asyncapi_url"] == "http://127.0.0.1:8000/asyncapi.json"
    assert body["catalogue_url"] == "http://127.0.0.1:8000/events/catalogue"


def test_every_schema_is_served_as_committed(client: TestClient):
    for ce_type in CE_TYPES:
        answer = client.get(f"/v1/schemas/{ce_type}.json")
        assert answer.status_code == 200, ce_type
        assert answer.headers["content-type"] == "application/schema+json"
        assert answer.text == (SCHEMAS_DIR / f"{ce_type}.json").read_text("utf-8")
        assert answer.json()["$id"] == f"/v1/schemas/{ce_type}.json"


def test_a_schema_url_in_the_list_is_where_the_schema_is(client: TestClient):
    first = client.get("/v1/schemas").json()["schemas"][0]
    path = first["schema_url"].removeprefix("http://127.0.0.1:8000")
    assert client.get(path).json()["title"] == "OrderPlaced (schema version 1)"


@pytest.mark.parametrize(
    "ce_type", ["ca.orderledger.order.placed.v9", "OrderPlaced", "ca.orderledger.order.placed.v1.json"]
)
def test_an_unknown_type_is_a_404_problem(client: TestClient, ce_type: str):
    answer = client.get(f"/v1/schemas/{ce_type}.json")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "unknown_event_type"
    assert ce_type in answer.json()["detail"]


def test_the_asyncapi_document_follows_the_settings(ledger_app: Orderledger, tmp_path: Path):
    settings = Settings(
        data_dir=tmp_path / "other",
        topic_prefix="acme.ledger",
        kafka_bootstrap="k1.example.ca:9092, k2.example.ca:9093",
        public_url="https://ledger.example.ca/orderledger",
        topic_partitions=12,
        topic_replication=3,
    )
    with TestClient(create_app(replace(ledger_app, settings=settings), start_runner=False)) as client:
        document = client.get("/asyncapi.json").json()
    assert document["asyncapi"] == "3.0.0"
    assert {name: s["host"] for name, s in document["servers"].items()} == {
        "kafka": "k1.example.ca:9092",
        "kafka-2": "k2.example.ca:9093",
    }
    assert {c["address"] for c in document["channels"].values()} == {
        topic_for("acme.ledger", kind) for kind in STREAM_TYPES
    }
    orders = document["channels"]["orders"]
    assert orders["bindings"]["kafka"]["partitions"] == 12
    assert orders["bindings"]["kafka"]["replicas"] == 3
    message = document["components"]["messages"]["ca.orderledger.order.placed.v1"]
    assert message["headers"]["properties"]["ce_dataschema"]["const"] == (
        "https://ledger.example.ca/orderledger/v1/schemas/ca.orderledger.order.placed.v1.json"
    )
    assert document["info"]["externalDocs"]["url"] == "https://ledger.example.ca/orderledger/events/catalogue"


def test_the_asyncapi_document_has_every_topic_message_and_guarantee(client: TestClient):
    document = client.get("/asyncapi.json").json()
    assert document["servers"] == {
        "kafka": {
            "host": "localhost:9092",
            "protocol": "kafka",
            "title": "Kafka (placeholder)",
            "description": document["servers"]["kafka"]["description"],
        }
    }
    assert sorted(document["components"]["messages"]) == sorted(CE_TYPES)
    assert {op["action"] for op in document["operations"].values()} == {"receive"}
    received = {ref["$ref"].rsplit("/", 1)[1] for op in document["operations"].values() for ref in op["messages"]}
    assert received == set(CE_TYPES)
    description = document["info"]["description"]
    assert "Ordering is guaranteed per stream (key = stream id), not across streams" in description
    assert "Delivery is at least once" in description and "de-duplicate by `ce_id`" in description
    for ce_type in CE_TYPES:
        message = document["components"]["messages"][ce_type]
        assert message["bindings"]["kafka"]["key"]["type"] == "string"
        assert message["payload"] == {"$ref": f"#/components/schemas/{ce_type}"}
        assert message["examples"][0]["payload"]["type"] == message["name"]
    refs = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(document)))
    assert refs <= set(document["components"]["schemas"]), "a dangling $ref"


# ---------------------------------------------------------------- the AsyncAPI CLI


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(VALIDATE), str(path)], capture_output=True, text=True, timeout=900, check=False)


@pytest.fixture(scope="module")
def asyncapi_cli() -> None:
    """The CLI, installed by `make test` (which sets TEST_REQUIRE_ASYNCAPI=1, so it never skips there)."""
    installed = subprocess.run(["bash", str(VALIDATE), "--installed"], capture_output=True, timeout=120, check=False)
    if installed.returncode != 0 and not os.environ.get("TEST_REQUIRE_ASYNCAPI"):
        pytest.skip(
            "the AsyncAPI CLI is not installed: run `bash deploy/asyncapi/asyncapi-validate.sh --install`"
            " (or set TEST_REQUIRE_ASYNCAPI=1 to have this test install it)"
        )


def test_the_served_asyncapi_document_is_valid_for_the_asyncapi_cli(
    asyncapi_cli: None, client: TestClient, tmp_path: Path
):
    path = tmp_path / "asyncapi.json"
    path.write_text(client.get("/asyncapi.json").text, "utf-8")
    done = validate(path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"File {path} is valid" in done.stdout
    assert "0 errors, 0 warnings" in done.stdout  # only the info that 3.1.0 exists


def test_the_validate_script_fails_on_a_broken_document(asyncapi_cli: None, client: TestClient, tmp_path: Path):
    served = client.get("/asyncapi.json").text
    wrong_action = json.loads(served)
    wrong_action["operations"]["receiveOrders"]["action"] = "publish"  # AsyncAPI 2 wording: 3.0 has send/receive
    dangling = json.loads(served)
    del dangling["components"]["messages"]["ca.orderledger.order.closed.v1"]
    for name, document, said in (
        ("wrong-action", wrong_action, "operations.receiveOrders.action"),
        ("dangling-ref", dangling, "'#/components/messages/ca.orderledger.order.closed.v1' does not exist"),
    ):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(document), "utf-8")
        done = validate(path)
        assert done.returncode == 1, done.stdout + done.stderr
        assert said in done.stdout and "1 error" in done.stdout
    not_json = tmp_path / "not.json"
    not_json.write_text("{ this is not an AsyncAPI document", "utf-8")
    assert validate(not_json).returncode != 0
    assert validate(tmp_path / "missing.json").returncode == 2


# ---------------------------------------------------------------- the page


class Catalogue(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.types: list[str] = []
        self.schema_links: list[str] = []
        self.examples = 0
        self.lang = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.lang = found.get("lang") or ""
        if tag == "article" and found.get("data-ce-type"):
            self.types.append(found["data-ce-type"] or "")
        if tag == "a" and "schema-link" in (found.get("class") or ""):
            self.schema_links.append(found.get("href") or "")
        if tag == "pre":
            self.examples += 1


def page(client: TestClient, query: str = "", **headers: str) -> tuple[Catalogue, str]:
    answer = client.get(f"/events/catalogue{query}", headers=headers)
    assert answer.status_code == 200
    parsed = Catalogue()
    parsed.feed(answer.text)
    return parsed, answer.text


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_catalogue_page_lists_every_type_with_its_schema_and_an_example(client: TestClient, lang: str):
    parsed, text = page(client, f"?lang={lang}")
    assert parsed.lang == lang
    assert parsed.types == CE_TYPES
    assert parsed.schema_links == [f"/v1/schemas/{ce_type}.json" for ce_type in CE_TYPES]
    assert parsed.examples == len(CE_TYPES)
    for stream_type in STREAM_TYPES:
        assert f'id="family-{stream_type}"' in text
        assert WORDS[f"evc_family_{stream_type}"][lang] in text
    for link in parsed.schema_links[:3]:
        assert client.get(link).status_code == 200


def test_the_page_is_in_french_when_asked_and_falls_back_instead_of_failing(client: TestClient):
    french, text = page(client, "?lang=fr")
    assert french.lang == "fr"
    assert "Catalogue des événements" in text and "dédoublonnez par ce_id" in text
    assert 'href="/events/catalogue?lang=en"' in text
    unknown, text = page(client, "?lang=de")  # an unknown language: English, not a 422
    assert unknown.lang == "en" and "Event catalogue" in text
    by_header, _ = page(client, "?lang=xx", **{"Accept-Language": "fr-CA,fr;q=0.9"})
    assert by_header.lang == "fr"
    english, text = page(client)
    assert english.lang == "en" and "de-duplicate by ce_id" in text


def test_every_stream_family_has_its_words():
    assert set(FAMILIES) == set(STREAM_TYPES)
    for stream_type, family in FAMILIES.items():
        for key in (f"evc_family_{stream_type}", f"evc_family_{stream_type}_desc", f"evc_key_{stream_type}"):
            assert set(WORDS[key]) == {"en", "fr"}, key
        assert WORDS[f"evc_family_{stream_type}_desc"]["en"] == family.description
        assert WORDS[f"evc_key_{stream_type}"]["en"] == family.stream_id
        assert set(WORDS[f"evc_fact_{stream_type}"]) == {"en", "fr"}
