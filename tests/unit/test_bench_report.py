"""The benchmark's report: ratios between the right figures, and the table (no I/O)."""

from __future__ import annotations

from pathlib import Path

from bench.figures import percentile
from bench.run import PROFILES, Bench, ratios, render


def given_a_bench() -> Bench:
    bench = Bench(PROFILES["smoke"], Path("/nonexistent"))
    bench.add("peer SQLite", "ours: ledger append (hash chain, expected versions)", "events/s", [90.0, 100.0, 110.0])
    bench.add("peer SQLite", "eventsourcing: insert_events", "events/s", [50.0])
    bench.add("rebuild kafka+faust 900 events", "events/s (first commit to caught up)", "events/s", [300.0])
    bench.add("rebuild kafka+faust 900 events", "worker start-up (start to first commit)", "s", [2.5])
    bench.add("limit Kafka", "confluent-kafka consume", "events/s", [30_000.0])
    return bench


def test_given_figures_then_each_ratio_divides_the_medians_of_the_figures_it_names():
    found = {r["ratio"]: r["value"] for r in ratios(given_a_bench())}
    assert found["ours ÷ eventsourcing, append, SQLite"] == 2.0
    # the worker's throughput, not its start-up time (whose name also mentions the first commit)
    assert found["ours (faust worker rebuild, largest) ÷ raw consume"] == 0.01
    assert "ours ÷ eventsourcing, append, PostgreSQL" not in found  # not measured: no ratio


def test_given_figures_then_the_table_has_a_row_each_with_median_min_and_max():
    bench = given_a_bench()
    report = {
        "profile": "smoke",
        "started_at": "2026-11-24T00:00:00+00:00",
        "machine": {
            "cores": 2,
            "memory_mb": 24_105,
            "platform": "Linux",
            "python": "3.11.7",
            "sqlite": "3.40.1",
            "kafka": "4.4.0",
            "load_average_at_start": [0.5, 0.4, 0.3],
            "packages": {"fastapi": "0.165.0"},
        },
        "figures": [f.summary() for f in bench.figures],
        "ratios": ratios(bench),
    }
    table = render(report)
    assert "| peer SQLite | ours: ledger append (hash chain, expected versions) | 100.00 | 90.00 | 110.00 |" in table
    assert table.count("\n| ") == len(bench.figures) + 1 + len(report["ratios"]) + 1


def test_given_latencies_then_percentiles_are_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (50.0, 99.0, 100.0)
    assert percentile([7.0], 99) == 7.0
