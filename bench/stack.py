"""The orderledger processes a benchmark drives: the API (embedded or server mode) and faust workers.

Each is a real `orderledger` command in its own process on loopback, started from the same
settings an operator would use (environment variables), with its memory read from /proc.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, what: str, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM) so far, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


@dataclass(frozen=True)
class Postgres:
    """A database for one benchmark run on the cluster `deploy/test-services.sh` started."""

    admin_url: str  # owner: migrations
    app_url: str  # the application role

    @classmethod
    def create(cls, data_dir: Path) -> Postgres:
        port = (data_dir / "port").read_text().strip()
        superuser = f"postgresql://orderledger_admin@127.0.0.1:{port}/postgres"
        name = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(superuser, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}" OWNER orderledger_owner')
        host = f"127.0.0.1:{port}"
        return cls(f"postgresql://orderledger_owner@{host}/{name}", f"postgresql://orderledger_app@{host}/{name}")

    def version(self) -> str:
        with psycopg.connect(self.admin_url) as db:
            row = db.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "?"

    def reset_read_models(self) -> None:
        """Empty read models and consumer offsets: a worker with a new group then rebuilds from nothing."""
        with psycopg.connect(self.app_url, autocommit=True) as db:  # the application role owns them
            tables = db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'readmodels'").fetchall()
            for (table,) in tables:
                db.execute(f'TRUNCATE readmodels."{table}"')


@dataclass
class Orderledger:
    """`orderledger serve` (and workers) with one data dir and, in server mode, one database and topic prefix."""

    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    key: str = ""

    @classmethod
    def embedded(cls, data_dir: Path) -> Orderledger:
        return cls(data_dir, {"ORDERLEDGER_DATA_DIR": str(data_dir)})

    @classmethod
    def server(cls, data_dir: Path, database: Postgres, bootstrap: str, partitions: int = 6) -> Orderledger:
        prefix = f"bench{uuid.uuid4().hex[:8]}"
        return cls(
            data_dir,
            {
                "ORDERLEDGER_DATA_DIR": str(data_dir),
                "ORDERLEDGER_DATABASE_URL": database.app_url,
                "ORDERLEDGER_ADMIN_DATABASE_URL": database.admin_url,
                "ORDERLEDGER_KAFKA_BOOTSTRAP": bootstrap,
                "ORDERLEDGER_TOPIC_PREFIX": prefix,
                "ORDERLEDGER_TOPIC_PARTITIONS": str(partitions),
                "ORDERLEDGER_WORKER_GROUP": f"{prefix}-projections",
            },
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}

    def _env(self, **extra: str) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("ORDERLEDGER_")}
        quiet = {
            "PYTHONUNBUFFERED": "1",
            "ORDERLEDGER_LOG_LEVEL": "warning",
            "ORDERLEDGER_VERIFY_EVERY_SECONDS": "0",  # an hourly walk of the chain would land inside a measurement
        }
        return {**inherited, **quiet, **self.env, **extra}

    def cli(self, *args: str, timeout: float = 3600) -> tuple[str, float]:
        """Run `orderledger ARGS` to completion; its output and peak RSS (MB)."""
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", *args],
            env=self._env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        assert process.stdout is not None
        output = process.stdout.read().decode()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise RuntimeError(f"orderledger {' '.join(args)} failed ({process.returncode}): {output[-2000:]}")
        return output, usage.ru_maxrss / 1024

    def spawn(self, name: str, *args: str, **env: str) -> subprocess.Popen[bytes]:
        log = open(self.data_dir / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the child's life
        env = {"ORDERLEDGER_OPS_PORT": str(free_port()), **env}  # workers' /metrics: one port each
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", *args], env=self._env(**env), stdout=log, stderr=log, cwd=REPO
        )
        self.processes[name] = process
        return process

    def start_api(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.key:
            output, _ = self.cli("keys", "create", "--role", "broker", "--label", "bench")
            self.key = output.split()[0]  # the key, then a note on stderr
        self.spawn("api", "serve", "--port", str(self.port))
        wait_until(self._healthy, 120, "the API to answer /healthz")

    def _healthy(self) -> bool:
        process = self.processes["api"]
        if process.poll() is not None:
            raise RuntimeError(f"the API exited ({process.returncode}): {self.log('api')[-2000:]}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self, name: str) -> str:
        path = self.data_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def settings(self) -> Any:
        from processors.settings import load_settings

        return load_settings(environ=self.env)
