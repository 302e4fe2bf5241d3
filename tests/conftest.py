"""Fixtures: a fixed clock, an embedded orderledger in a temp dir, an HTTP client, keys, and a live server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from processors.clocks import Clock, clock_started_at
from processors.settings import Settings
from processors.wiring import Orderledger, build

# ---------------------------------------------------------------- the clock

EASTERN = ZoneInfo("America/Toronto")
# No test depends on the day it runs: each runs on a fixed business day, this one unless it says otherwise
# (a Wednesday in the middle of a month; tests that name months, such as September and October 2026 in the
# services tests, are written as of it).
TODAY = date(2026, 11, 18)
# The days a date-sensitive test (`@pytest.mark.date_sensitive`) runs on, each as a case of its own:
# where "20 days ago", "this month" and "the last 90 days" cross a month, a year or a clock change.
FIXED_TODAYS = (
    date(2026, 1, 1),  # the 1st of a month, and of a year
    date(2026, 2, 28),  # the last day of a month, February's (and a Saturday)
    date(2026, 3, 8),  # Eastern Time springs forward: a 23-hour day, in a 743-hour month
    date(2026, 5, 15),  # the 15th
    date(2026, 11, 1),  # Eastern Time falls back: a 25-hour day
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A date-sensitive test runs once on each of FIXED_TODAYS: its `today` (and so its clock) is each in turn."""
    if metafunc.definition.get_closest_marker("date_sensitive"):
        if "today" not in metafunc.fixturenames:  # it would run once, on TODAY, and look guarded
            raise pytest.UsageError(f"{metafunc.definition.nodeid} is date_sensitive but uses no `today` or `clock`")
        metafunc.parametrize("today", FIXED_TODAYS, ids=date.isoformat)


@pytest.fixture
def today() -> date:
    """The business day (Eastern Time) the test runs on."""
    return TODAY


def clock_on(day: date) -> Clock:
    """A ledger clock at noon Eastern Time on `day`, then running at real speed (ledger times keep rising)."""
    return clock_started_at(datetime(day.year, day.month, day.day, 12, tzinfo=EASTERN))


@pytest.fixture
def clock(request: pytest.FixtureRequest, today: date) -> Clock:
    """The ledger's clock, on `today`; a test that needs another hour parametrizes it (indirect) with the instant."""
    start = getattr(request, "param", None)
    return clock_started_at(start) if start else clock_on(today)


def clock_setting(clock: Clock) -> dict[str, str]:
    """ORDERLEDGER_CLOCK for a child process: its clock starts where ours is now, so both read the same."""
    return {"ORDERLEDGER_CLOCK": clock().isoformat()}


# ---------------------------------------------------------------- an embedded orderledger


@pytest.fixture
def ledger_app(tmp_path: Path, clock: Clock) -> Iterator[Orderledger]:
    app = build(Settings(data_dir=tmp_path / "var"), clock=clock)
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


def orderledger_cli(data_dir: Path, *args: str, clock: Clock) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **clock_setting(clock)},
    )


class LiveServer:
    """`orderledger serve` in a child process, on a free loopback port, on the test's clock."""

    def __init__(self, data_dir: Path, *, clock: Clock, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.clock = clock
        self._env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        created = subprocess.run(
            [sys.executable, "-m", "api.cli", "--data-dir", str(data_dir), "keys", "create", "--role", "broker"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=self.env,
        )
        assert created.returncode == 0, created.stderr
        self.broker = {"Authorization": f"Bearer {created.stdout.strip()}"}

    @property
    def env(self) -> dict[str, str]:
        """The environment of a process on this server's data: its settings, and the clock as it reads now."""
        return {**self._env, **clock_setting(self.clock)}

    def start(self) -> None:
        env = self.env
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
def live_server(tmp_path: Path, clock: Clock) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path / "live", clock=clock)
    server.start()
    yield server
    server.stop()


# ---------------------------------------------------------------- PostgreSQL (server mode)

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class PostgresDatabase:
    admin_url: str  # the schema owner (migrations)
    app_url: str  # the application role: SELECT and INSERT on the ledger only
    name: str


@contextmanager
def service(given_by: str, script: str, prefix: str, timeout: float) -> Iterator[Path]:
    """The data directory of a real service: the one `make test` started (named by `given_by`),
    or one started here with the repo's own `script start DIR` and stopped after."""
    given = os.environ.get(given_by)
    if given:
        yield Path(given)
        return
    # Not under pytest's 0700 tmp root: PostgreSQL runs as an unprivileged user who must reach it.
    data_dir = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path = str(REPO / script)
    started = subprocess.run(
        ["bash", path, "start", str(data_dir)], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert started.returncode == 0, started.stderr[-2000:]
    try:
        yield data_dir
    finally:
        subprocess.run(["bash", path, "stop", str(data_dir)], capture_output=True, timeout=60, check=False)
        shutil.rmtree(data_dir, ignore_errors=True)


@dataclass(frozen=True)
class PostgresCluster:
    data_dir: Path

    @property
    def superuser_url(self) -> str:
        port = (self.data_dir / "port").read_text().strip()
        return f"postgresql://orderledger_admin@127.0.0.1:{port}/postgres"

    def restart(self) -> None:
        script = REPO / "deploy/postgres/postgres.sh"
        done = subprocess.run(
            ["bash", str(script), "restart", str(self.data_dir)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster on a free loopback port.

    `make test` starts one and passes its directory as TEST_PG_DATA_DIR; run alone, the tests
    start their own with deploy/postgres/postgres.sh.
    """
    with service("TEST_PG_DATA_DIR", "deploy/postgres/postgres.sh", "orderledger-pg-", 300) as data_dir:
        yield PostgresCluster(data_dir)


@pytest.fixture
def pg_database(pg_cluster: PostgresCluster) -> Iterator[PostgresDatabase]:
    """A fresh database owned by orderledger_owner, for one test."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    superuser = pg_cluster.superuser_url
    with psycopg.connect(superuser, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" OWNER orderledger_owner')
    base = superuser.rsplit("/", 1)[0]
    host = base.split("@", 1)[1]
    yield PostgresDatabase(
        admin_url=f"postgresql://orderledger_owner@{host}/{name}",
        app_url=f"postgresql://orderledger_app@{host}/{name}",
        name=name,
    )
    with psycopg.connect(superuser, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------- Kafka (server mode)


@dataclass(frozen=True)
class KafkaBroker:
    data_dir: Path

    @property
    def bootstrap(self) -> str:
        return (self.data_dir / "bootstrap").read_text().strip()

    @property
    def pid(self) -> int:
        return int((self.data_dir / "kafka.pid").read_text().strip())


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[KafkaBroker]:
    """A single-node KRaft broker on loopback: `make test` passes TEST_KAFKA_DATA_DIR, else our own."""
    with service("TEST_KAFKA_DATA_DIR", "deploy/kafka/kafka.sh", "orderledger-kafka-", 900) as data_dir:
        yield KafkaBroker(data_dir)


@pytest.fixture
def server_stack(
    pg_database: PostgresDatabase, kafka_broker: KafkaBroker, tmp_path: Path, clock: Clock
) -> Iterator[Any]:
    from tests.integration.server_stack import ServerStack

    stack = ServerStack(pg_database, kafka_broker.bootstrap, tmp_path, clock=clock)
    yield stack
    stack.stop()


# ---------------------------------------------------------------- browser


@pytest.fixture
def chromium() -> Path:
    """Debian's chromium; asked for before `live_server`, so a missing browser skips before any server starts."""
    from tests.e2e.browser import CHROMIUM

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (`make test` does)")
    return CHROMIUM
