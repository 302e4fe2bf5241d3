"""The benchmark harness at tiny sizes (no thresholds): every workload still runs and reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO

WORKLOADS = (
    "append embedded",
    "append server",
    "rebuild ledger (SQLite)",
    "rebuild ledger (PostgreSQL)",
    "rebuild kafka+faust",
    "e2e embedded",
    "e2e server",
    "reads GET /v1/orders/{id}",
    "memory worker",
    "memory rebuild ledger (SQLite)",
    "peer SQLite",
    "peer PostgreSQL",
    "limit PostgreSQL",
    "limit Kafka",
)


def test_given_the_smoke_profile_then_every_workload_reports_a_figure_and_the_ratios(
    pg_cluster, kafka_broker, tmp_path
):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ORDERLEDGER_")},
        "TEST_PG_DATA_DIR": str(pg_cluster.data_dir),
        "TEST_KAFKA_DATA_DIR": str(kafka_broker.data_dir),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--profile", "smoke", "--out", str(tmp_path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "latest.json").read_text())
    assert report["machine"]["cores"] and report["machine"]["memory_mb"] and report["machine"]["packages"]
    for workload in WORKLOADS:
        found = [f for f in report["figures"] if f["workload"].startswith(workload)]
        assert found, f"no figure for {workload}"
        assert all(f["min"] <= f["median"] <= f["max"] for f in found)
    rates = [f for f in report["figures"] if f["unit"] == "events/s"]
    assert all(f["median"] > 0 for f in rates)
    assert len(report["ratios"]) == 7
    table = (tmp_path / "latest.md").read_text()
    assert "| workload | figure | median | min | max |" in table and "ours ÷ eventsourcing" in table
