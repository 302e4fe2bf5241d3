"""Several server processes behind one port: with PROMETHEUS_MULTIPROC_DIR, /metrics sums their counters."""

from __future__ import annotations

import os
import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families

COUNT = (
    "from processors import metrics\n"
    "import sys\n"
    "metrics.EVENTS_APPENDED.labels('OrderPlaced').inc(int(sys.argv[1]))\n"
    "metrics.APPEND_SECONDS.observe(0.01)\n"
)
EXPOSE = "from processors import metrics\nimport sys\nsys.stdout.write(metrics.exposition().decode())\n"


def test_given_two_processes_counting_when_either_is_scraped_then_both_counts_are_summed(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for appended in ("3", "4"):
        subprocess.run([sys.executable, "-c", COUNT, appended], env=env, check=True, timeout=60)
    text = subprocess.run(
        [sys.executable, "-c", EXPOSE], env=env, check=True, timeout=60, capture_output=True, text=True
    ).stdout
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("orderledger_ledger_events_appended_total", (("type", "OrderPlaced"),))] == 7
    assert samples[("orderledger_ledger_append_duration_seconds_count", ())] == 2
