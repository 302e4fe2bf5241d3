"""Read workloads: order status lookups at a fixed rate, driven by wrk and bench/status_lookup.lua.

wrk is closed-loop on its own; the Lua script holds an open-loop schedule per wrk thread (see the
script's header for how, and for what wrk 4 cannot correct: latency is measured from the send, not
from the scheduled slot). `ReadFigure.late` says how many sends missed their slot by more than 1 ms:
when it is not close to 0 the rate was not held and the percentiles flatter the server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).with_name("status_lookup.lua")
DEBIAN_WRK = "/usr/bin/wrk"
MARKER = "BENCH_JSON "


class WrkError(RuntimeError):
    """wrk is missing, failed, or printed no BENCH_JSON line."""


@dataclass(frozen=True)
class ReadFigure:
    """One fixed-rate run of status lookups, as wrk and the script measured it (latencies in ms)."""

    target_rps: int
    requests: int
    seconds: float
    achieved_rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    mean_ms: float
    errors: int  # non-2xx responses plus socket errors (connect, read, write, timeout)
    errors_status: int  # non-2xx responses
    errors_socket: int
    late: int  # sends more than 1 ms behind their scheduled slot
    max_behind_ms: float

    def summary(self) -> str:
        """One line for a report."""
        return (
            f"{self.requests} lookups in {self.seconds:.1f} s: {self.achieved_rps:.0f}/s of {self.target_rps}/s, "
            f"p50 {self.p50_ms:.2f} ms, p90 {self.p90_ms:.2f} ms, p99 {self.p99_ms:.2f} ms, max {self.max_ms:.2f} ms, "
            f"{self.errors} errors, {self.late} sent late"
        )


def find_wrk() -> str:
    """The wrk executable: on PATH, else Debian's; raises WrkError naming the package when neither is there."""
    found = shutil.which("wrk") or (DEBIAN_WRK if os.access(DEBIAN_WRK, os.X_OK) else None)
    if found is None:
        raise WrkError("wrk is not installed: install Debian's `wrk` package (apt-get install wrk)")
    return found


def parse_bench_json(stdout: str) -> dict[str, Any]:
    """The object on the script's BENCH_JSON line; raises WrkError when there is none."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(MARKER):
            parsed: dict[str, Any] = json.loads(line[len(MARKER) :])
            return parsed
    raise WrkError("wrk printed no BENCH_JSON line")


def figure_from(report: dict[str, Any], target_rps: int) -> ReadFigure:
    """A ReadFigure from the script's report (microseconds) for a run aimed at target_rps."""
    seconds = report["duration_us"] / 1e6
    socket_errors = sum(int(report[f"errors_{kind}"]) for kind in ("connect", "read", "write", "timeout"))
    status_errors = int(report["errors_status"])
    return ReadFigure(
        target_rps=target_rps,
        requests=int(report["requests"]),
        seconds=seconds,
        achieved_rps=report["requests"] / seconds if seconds > 0 else 0.0,
        p50_ms=report["p50_us"] / 1000,
        p90_ms=report["p90_us"] / 1000,
        p99_ms=report["p99_us"] / 1000,
        p999_ms=report["p999_us"] / 1000,
        max_ms=report["max_us"] / 1000,
        mean_ms=report["mean_us"] / 1000,
        errors=status_errors + socket_errors,
        errors_status=status_errors,
        errors_socket=socket_errors,
        late=int(report["late"]),
        max_behind_ms=report["max_behind_us"] / 1000,
    )


def run_wrk(
    wrk: str, url: str, ids_file: Path, api_key: str, rate: int, seconds: int, connections: int, threads: int
) -> dict[str, Any]:
    """One wrk run of the script; the script's report, or WrkError with wrk's output."""
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(SCRIPT),
        url,
        "--",
        str(ids_file),
        str(rate),
        str(threads),
    ]
    # The key goes through the environment, not argv, which other users can read.
    env = {**os.environ, "ORDERLEDGER_BENCH_API_KEY": api_key}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        raise WrkError(f"wrk did not finish within {seconds + 60} s") from exc
    try:
        return parse_bench_json(done.stdout)
    except (WrkError, json.JSONDecodeError) as exc:
        raise WrkError(
            f"wrk (exit {done.returncode}) printed no usable BENCH_JSON line ({exc}).\n"
            f"stderr:\n{done.stderr.strip()[-4000:]}\nstdout:\n{done.stdout.strip()[-2000:]}"
        ) from exc


def status_lookup(
    base_url: str,
    api_key: str,
    order_ids: list[str],
    rate: int = 1000,
    seconds: int = 30,
    connections: int = 16,
    threads: int = 2,
    warmup_seconds: int = 2,
) -> ReadFigure:
    """Look up the status of `order_ids` (GET /v1/orders/{id}) at `rate` requests/s for `seconds` with wrk.

    A warm-up run of `warmup_seconds` (0 for none) at the same rate comes first and is discarded.
    Latency is wrk's, from send to response; see the module docstring for what `late` means.
    """
    if not order_ids:
        raise ValueError("status_lookup needs at least one order id")
    if any(not order_id or any(c.isspace() for c in order_id) for order_id in order_ids):
        raise ValueError("order ids must be non-empty and hold no whitespace")
    if rate <= 0 or seconds <= 0 or threads <= 0 or connections < threads:
        raise ValueError("rate, seconds and threads must be positive, and connections at least threads")
    wrk = find_wrk()
    url = base_url.rstrip("/") + "/v1/orders/"
    with tempfile.TemporaryDirectory(prefix="orderledger-bench-") as directory:
        ids_file = Path(directory) / "order_ids.txt"
        ids_file.write_text("".join(f"{order_id}\n" for order_id in order_ids), encoding="utf-8")
        if warmup_seconds > 0:
            run_wrk(wrk, url, ids_file, api_key, rate, warmup_seconds, connections, threads)
        report = run_wrk(wrk, url, ids_file, api_key, rate, seconds, connections, threads)
    return figure_from(report, rate)
