"""The published documents stay the same through moves: OpenAPI, every event JSON Schema, AsyncAPI, byte for byte.

tests/published/ holds them as they were served before the code was reorganised into one package per business
context (issue 17). A move that changes a byte of them changes what integrators generated their clients from.
The one deliberate change since is listed in DELIBERATE: it is compared everywhere else, not skipped.
Regenerate only for a deliberate change, and say which: `python -m tests.e2e.test_published_documents --write`.
"""

from __future__ import annotations

import json
import sys
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


def test_the_same_documents_are_published(now_served: dict[str, bytes]) -> None:
    assert sorted(now_served) == sorted(published())


@pytest.mark.parametrize("name", sorted(published()))
def test_each_document_is_byte_equal(name: str, now_served: dict[str, bytes]) -> None:
    assert now_served[name] == published()[name], f"{name} changed: a move must not change a published document"


def _write(documents: dict[str, Any]) -> None:
    for name, content in documents.items():
        target = PUBLISHED / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.e2e.test_published_documents --write")
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        _write(served(Path(scratch)))
    print(json.dumps(sorted(p.name for p in PUBLISHED.rglob("*.json")))[:200])
