"""Dependencies point inward: pure modules import no database, broker or metrics library."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS = {"events/ledger/sqlite.py", "events/ledger/postgres.py"}
FORBIDDEN_IN_PURE = {
    "sqlite3",
    "psycopg",
    "faust",
    "confluent_kafka",
    "prometheus_client",
    "fastapi",
    "uvicorn",
    "httpx",
    "processors",
    "api",
}
LAYERS = {"events": {"api", "processors", "projections"}, "projections": {"api", "processors"}, "processors": {"api"}}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_pure_modules_import_only_the_standard_library_pydantic_and_events():
    offenders = {}
    for package in ("events", "projections"):
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative in ADAPTERS:
                continue
            bad = imports_of(path) & FORBIDDEN_IN_PURE
            if bad:
                offenders[relative] = sorted(bad)
    assert offenders == {}


def test_no_layer_imports_an_outer_one():
    offenders = {}
    for package, outer in LAYERS.items():
        for path in (ROOT / package).rglob("*.py"):
            bad = imports_of(path) & outer
            if bad:
                offenders[path.relative_to(ROOT).as_posix()] = sorted(bad)
    assert offenders == {}
