"""Fixtures: an embedded orderledger in a temp dir, an HTTP client, keys, and a live server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from processors.settings import Settings
from processors.wiring import Orderledger, build


@pytest.fixture
def ledger_app(tmp_path: Path) -> Iterator[Orderledger]:
    app = build(Settings(data_dir=tmp_path / "var"))
    yield app
    app.close()


@pytest.fixture
def client(ledger_app: Orderledger) -> Iterator[TestClient]:
    with TestClient(create_app(ledger_app), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def key_for(ledger_app: Orderledger) -> Callable[[str], dict[str, str]]:
    """Headers carrying a fresh API key of the given role."""

    def make(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {ledger_app.keys.create(role, 'test')}"}

    return make


@pytest.fixture
def broker(key_for: Callable[[str], dict[str, str]]) -> dict[str, str]:
    return key_for("broker")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def orderledger_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class LiveServer:
    """`orderledger serve` in a child process, on a free loopback port."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        created = orderledger_cli(data_dir, "keys", "create", "--role", "broker")
        assert created.returncode == 0, created.stderr
        self.broker = {"Authorization": f"Bearer {created.stdout.strip()}"}

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "--data-dir", str(self.data_dir), "serve", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("orderledger serve did not start within 30 s")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path / "live")
    server.start()
    yield server
    server.stop()
