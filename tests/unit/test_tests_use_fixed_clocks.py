"""No test depends on the day it runs: the tests read no wall clock, and every orderledger they start runs on a
fixed clock (tests/conftest.py: the `today` and `clock` fixtures)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
# module (or class) name → attribute names whose use reads the wall clock
WALL_CLOCK = {
    "date": {"today"},
    "datetime": {"now", "utcnow", "today"},
    "time": {"time", "time_ns"},
}
# The wall-clock reads a test may keep, each with why: only what is wall-clock by protocol. Waits and
# timeouts use time.monotonic(), which tells no date and is not listed above.
ALLOWED = {
    ("e2e/test_webhooks.py", "time.time"): "the dispatcher's clock: Standard Webhooks signatures carry wall-clock"
    " timestamps, which the receiver (the standardwebhooks library) checks against its own clock",
}
# What starts an orderledger in a test: each takes the test's clock (`clock=`), or it would run on the wall clock.
STARTERS = {"build", "LiveServer", "ServerStack", "orderledger_cli"}


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def wall_clock_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """`date.today`, `datetime.now`, `time.time` (called or passed along), also as `datetime.datetime.now`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            owner = _dotted(node.value).rsplit(".", 1)[-1]
            if node.attr in WALL_CLOCK.get(owner, set()):
                found.append((node.lineno, f"{owner}.{node.attr}"))
    return found


def starts_without_a_clock(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _dotted(node.func).rsplit(".", 1)[-1]
            if name in STARTERS and not any(k.arg == "clock" for k in node.keywords):
                found.append((node.lineno, name))
    return found


def _sources() -> dict[str, ast.AST]:
    return {path.relative_to(TESTS).as_posix(): ast.parse(path.read_text()) for path in sorted(TESTS.rglob("*.py"))}


def test_no_test_reads_the_wall_clock_but_where_a_protocol_does():
    reads = {
        f"{module}:{line}": name
        for module, tree in _sources().items()
        for line, name in wall_clock_reads(tree)
        if (module, name) not in ALLOWED
    }
    assert reads == {}, "take today from the `today` fixture and now from the `clock` fixture (tests/conftest.py)"


def test_every_orderledger_a_test_starts_runs_on_the_tests_clock():
    unclocked = {
        f"{module}:{line}": name for module, tree in _sources().items() for line, name in starts_without_a_clock(tree)
    }
    assert unclocked == {}, "pass clock=clock (the fixture) or another fixed clock"


def test_the_scan_finds_each_kind_of_wall_clock_read_and_unclocked_start():
    sample = ast.parse(
        "import datetime as dt, time\n"
        "a = date.today()\n"
        "b = datetime.now(UTC)\n"
        "c = dt.datetime.utcnow()\n"
        "d = time.time()\n"
        "e = Clock(clock=time.time)\n"
        "f = time.monotonic()\n"
        "g = build(settings)\n"
        "h = build(settings, clock=clock)\n"
        "i = LiveServer(path)\n"
    )
    assert [name for _, name in wall_clock_reads(sample)] == [
        "date.today",
        "datetime.now",
        "datetime.utcnow",
        "time.time",
        "time.time",
    ]
    assert starts_without_a_clock(sample) == [(8, "build"), (10, "LiveServer")]
