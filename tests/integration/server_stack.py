"""Server mode for the integration tests: Kafka, a fresh database, and orderledger processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from processors.clocks import Clock
from tests.conftest import PostgresDatabase, clock_setting, free_port


class ServerStack:
    """`orderledger serve` (API + relay) and `orderledger worker`s on one database and topic prefix."""

    def __init__(self, database: PostgresDatabase, bootstrap: str, logs: Path, *, clock: Clock) -> None:
        self.clock = clock
        self.database = database
        self.bootstrap = bootstrap
        self.logs = logs
        self.prefix = f"t{uuid.uuid4().hex[:10]}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ORDERLEDGER_")},
            "PYTHONUNBUFFERED": "1",
            "ORDERLEDGER_DATA_DIR": str(logs / "var"),  # the worker's faust directory: not the checkout
            "ORDERLEDGER_DATABASE_URL": database.app_url,
            "ORDERLEDGER_ADMIN_DATABASE_URL": database.admin_url,
            "ORDERLEDGER_KAFKA_BOOTSTRAP": bootstrap,
            "ORDERLEDGER_TOPIC_PREFIX": self.prefix,
            "ORDERLEDGER_WORKER_GROUP": f"{self.prefix}-projections",
            "ORDERLEDGER_TOPIC_PARTITIONS": "3",
        }
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.ops_ports: dict[str, int] = {}
        self.broker_headers: dict[str, str] = {}

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "api.cli", *args],
            env={**self.env, **clock_setting(self.clock)},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the child's life
        self.ops_ports[name] = free_port()  # a worker's or relay's /metrics, /healthz, /readyz
        env = {**self.env, **clock_setting(self.clock), "ORDERLEDGER_OPS_PORT": str(self.ops_ports[name])}
        process = subprocess.Popen([sys.executable, "-m", *args], env=env, stdout=log, stderr=log)
        self.processes[name] = process
        return process

    def start_api(self) -> None:
        if not self.broker_headers:
            created = self.cli("keys", "create", "--role", "broker")
            assert created.returncode == 0, created.stderr
            self.broker_headers = {"Authorization": f"Bearer {created.stdout.strip()}"}
        self.spawn("api", "api.cli", "serve", "--port", str(self.port))
        wait_until(lambda: _healthy(self.url), 60, "the API to answer /healthz")

    def start_worker(self, name: str = "worker") -> None:
        self.spawn(name, "api.cli", "worker")

    def start_relay(self, name: str = "relay") -> None:
        self.spawn(name, "api.cli", "relay")

    def signal(self, name: str, signum: int) -> None:
        process = self.processes[name]
        if process.poll() is None:
            process.send_signal(signum)
        if signum in (signal.SIGKILL, signal.SIGTERM):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def stop(self) -> None:
        for name in list(self.processes):
            self.signal(name, signal.SIGTERM)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until(condition: Any, seconds: float, what: str, every: float = 0.1) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")
