"""Dependencies point inward, and a context reaches another only through what that one exports.

- The pure parts (events/kernel, each context's facts, commands and deciders, events/publishing, the ledger's port,
  chain, cursors and catalogue, and projections/) import only the standard library, pydantic, the holidays data and
  other pure parts.
- Only the ledger adapters, processors/ and the wiring (api/app/, api/cli.py) import a database, broker, metrics
  or HTTP-client library.
- Layers: events/ imports nothing outer; projections/ only events/; processors/ never api/.
- A package of events/ or api/ whose __init__ lists `__all__` is imported from outside only through those
  modules and names; no module imports a private (`_name`) from another package.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PURE_THIRD_PARTY = {"pydantic", "holidays", "dateutil"}
IO_LIBRARIES = {
    "sqlite3",
    "psycopg",
    "psycopg_pool",
    "faust",
    "aiokafka",
    "confluent_kafka",
    "prometheus_client",
    "httpx",
}
MAY_DO_IO = ("events/ledger/sqlite.py", "events/ledger/postgres.py", "processors/", "api/app/", "api/cli.py")
IMPURE_EVENTS = ("events/handling/", "events/ledger/sqlite.py", "events/ledger/postgres.py")
LAYERS = {"events": {"api", "processors", "projections"}, "projections": {"api", "processors"}, "processors": {"api"}}


def imported(source: str) -> Iterator[tuple[str, str | None]]:
    """(module, name imported from it or None) for every absolute import of a module's source."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from ((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield from ((node.module, alias.name) for alias in node.names)


def module_path(module: str) -> str | None:
    """events.orders.facts -> events/orders/facts.py (or a package's __init__.py), None if not ours."""
    relative = module.replace(".", "/")
    for candidate in (f"{relative}.py", f"{relative}/__init__.py"):
        if (ROOT / candidate).exists():
            return candidate
    return None


def is_pure(path: str) -> bool:
    return path.startswith("projections/") or (path.startswith("events/") and not path.startswith(IMPURE_EVENTS))


def exports_of(package: str) -> set[str] | None:
    """The `__all__` of a package's __init__.py, or None when it lists none (then everything is exported)."""
    init = ROOT / package / "__init__.py"
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    return None


def package_of(path: str) -> str:
    """The context a module belongs to: events/orders/facts.py -> events/orders; events/__init__.py -> events."""
    parts = path.split("/")
    return "/".join(parts[:2]) if len(parts) > 2 else parts[0]


def offences(path: str, source: str) -> list[str]:
    """What a module at `path` (relative to the repository) imports against the rules above."""
    found = []
    top = path.split("/")[0]
    for module, name in imported(source):
        root = module.split(".")[0]
        target = module_path(module)
        if name is not None and module_path(f"{module}.{name}"):
            target, module = module_path(f"{module}.{name}"), f"{module}.{name}"
        if root in LAYERS.get(top, set()):
            found.append(f"{path}: imports {module}, an outer layer")
        if root in IO_LIBRARIES and not path.startswith(MAY_DO_IO):
            found.append(f"{path}: imports {root}; only the ledger adapters, processors/ and api/app/ do I/O")
        if is_pure(path):
            ours = target is not None
            if ours and not is_pure(target):
                found.append(f"{path}: a pure module imports {module}, which is not pure")
            if not ours and root not in sys.stdlib_module_names and root not in PURE_THIRD_PARTY:
                found.append(f"{path}: a pure module imports {root}")
        if target is None or root not in ("events", "api"):
            continue
        package = package_of(target)
        if package != package_of(path) and package.count("/") == 1:
            exported = exports_of(package)
            leaf = module.split(".")[2] if module.count(".") >= 2 else name
            if exported is not None and leaf not in exported:
                found.append(f"{path}: imports {module}, which {package} does not export ({sorted(exported)})")
        if name is not None and name.startswith("_") and package_of(target) != package_of(path):
            found.append(f"{path}: imports {module}.{name}, private to {package_of(target)}")
    return found


def our_modules() -> Iterator[tuple[str, str]]:
    for package in ("events", "projections", "processors", "api"):
        for file in sorted((ROOT / package).rglob("*.py")):
            yield file.relative_to(ROOT).as_posix(), file.read_text()


def test_every_module_keeps_the_dependency_rule() -> None:
    assert [offence for path, source in our_modules() for offence in offences(path, source)] == []


def test_the_rule_catches_each_kind_of_offence() -> None:
    """The checker is not vacuous: each rule, broken on purpose, is named."""
    assert offences("events/orders/decider.py", "import sqlite3") == [
        "events/orders/decider.py: imports sqlite3; only the ledger adapters, processors/ and api/app/ do I/O"
    ]
    assert offences("events/orders/decider.py", "import requests") == [
        "events/orders/decider.py: a pure module imports requests"
    ]
    assert offences("events/billing/decider.py", "from events.handling.desk import Desk") == [
        "events/billing/decider.py: a pure module imports events.handling.desk, which is not pure"
    ]
    assert offences("events/billing/decider.py", "from events.orders.pricing import price_order") == [
        "events/billing/decider.py: imports events.orders.pricing, which events/orders does not export"
        " (['commands', 'decider', 'facts'])"
    ]
    assert offences("events/billing/decider.py", "from events.orders import pricing") == [
        "events/billing/decider.py: imports events.orders.pricing, which events/orders does not export"
        " (['commands', 'decider', 'facts'])"
    ]
    assert offences("projections/order_status/__init__.py", "from processors.wiring import build") == [
        "projections/order_status/__init__.py: imports processors.wiring, an outer layer",
        "projections/order_status/__init__.py: a pure module imports processors.wiring, which is not pure",
    ]
    assert offences("api/services/pages.py", "from api.orders.routes import _late") == [
        "api/services/pages.py: imports api.orders.routes._late, private to api/orders"
    ]
    assert offences("api/services/pages.py", "from api.app.limits import BodyLimit") == [
        "api/services/pages.py: imports api.app.limits, which api/app does not export"
        " (['access', 'commands', 'create_app', 'problems', 'request_body'])"
    ]
    assert offences("api/orders/pages.py", "import prometheus_client") == [
        "api/orders/pages.py: imports prometheus_client; only the ledger adapters, processors/ and api/app/ do I/O"
    ]
    # Inside a context anything goes; through an export too.
    assert offences("events/orders/decider.py", "from events.orders.pricing import price_order") == []
    assert offences("events/billing/decider.py", "from events.orders.facts import OrgCode") == []
