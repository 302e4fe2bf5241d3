"""The `orderledger` command line: keys, demo, verify, rebuild, and settings errors."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pytest

from tests.conftest import clock_on, orderledger_cli


def test_given_keys_create_then_a_key_is_printed_once_and_listed_without_its_secret(tmp_path, clock):
    created = orderledger_cli(tmp_path, "keys", "create", "--role", "client:ASPC", "--label", "finance", clock=clock)
    assert created.returncode == 0
    key = created.stdout.strip()
    assert key.startswith("olk_") and "shown once" in created.stderr
    listed = orderledger_cli(tmp_path, "keys", "list", clock=clock)
    assert "client:ASPC" in listed.stdout and key.split("_", 2)[2] not in listed.stdout
    key_id = key.split("_")[1]
    assert orderledger_cli(tmp_path, "keys", "revoke", key_id, clock=clock).returncode == 0
    assert orderledger_cli(tmp_path, "keys", "revoke", key_id, clock=clock).returncode == 1


def test_given_a_bad_role_then_keys_create_refuses_with_a_clear_message(tmp_path, clock):
    refused = orderledger_cli(tmp_path, "keys", "create", "--role", "admin", clock=clock)
    assert refused.returncode == 2
    assert "broker, integrator or client:<ORG>" in refused.stderr


def test_given_the_demo_then_it_loads_once_and_verify_and_rebuild_pass(tmp_path, clock):
    loaded = orderledger_cli(tmp_path, "demo", "--if-empty", clock=clock)
    assert loaded.returncode == 0 and "52 orders loaded" in loaded.stdout
    again = orderledger_cli(tmp_path, "demo", "--if-empty", clock=clock)
    assert "nothing loaded" in again.stdout
    head = int(loaded.stdout.rsplit("position", 1)[1])
    verified = orderledger_cli(tmp_path, "verify", clock=clock)
    assert verified.returncode == 0 and f"{head} events, hash chain intact" in verified.stdout
    rebuilt = orderledger_cli(tmp_path, "rebuild", "order_status", clock=clock)
    assert rebuilt.returncode == 0 and f"up to position {head}" in rebuilt.stdout


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("ORDERLEDGER_PROT", "9000", "unknown setting ORDERLEDGER_PROT"),
        ("ORDERLEDGER_CLOCK", "2026-03-08T12:00:00", "invalid settings: clock:"),  # no UTC offset
    ],
)
def test_given_a_misspelled_or_invalid_setting_then_the_command_stops_with_exit_2(tmp_path, variable, value, says):
    env = {**os.environ, variable: value}
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "--data-dir", str(tmp_path), "verify"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert says in result.stderr


def test_given_the_demo_when_the_contract_clock_runs_twice_then_notices_are_recorded_once(tmp_path, clock):
    assert orderledger_cli(tmp_path, "demo", clock=clock).returncode == 0
    # The contract clock runs as of the ledger's today at the latest: years later, every demo contract expired.
    later = clock_on(date(2030, 1, 1))
    first = orderledger_cli(tmp_path, "contract-clock", "--today", "2030-01-01", clock=later)
    assert first.returncode == 0, first.stderr
    assert "ContractExpired" in first.stdout
    again = orderledger_cli(tmp_path, "contract-clock", clock=later)
    assert "contract clock as of 2030-01-01: 0 events recorded" in again.stdout
    assert orderledger_cli(tmp_path, "verify", clock=later).returncode == 0


def test_given_a_database_url_option_then_the_command_uses_it_and_says_when_it_cannot_be_reached(tmp_path):
    # Given a URL on the command line where no PostgreSQL listens (port 1 of loopback)
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "--database-url", "postgresql://nobody:pw-123@127.0.0.1:1/none", "verify"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("ORDERLEDGER_")}
        | {"ORDERLEDGER_DATA_DIR": str(tmp_path)},
        timeout=60,
        check=False,
    )
    # Then it did not quietly verify the embedded ledger instead: it names the database and keeps the password out
    assert result.returncode == 2, result.stdout
    assert "orderledger: cannot open the database" in result.stderr
    assert "ledger verified" not in result.stdout and "pw-123" not in result.stderr


def test_given_orderledger_clock_then_the_ledger_and_the_contract_clock_run_from_that_instant(tmp_path, clock, today):
    from events.ledger.sqlite import SqliteLedger
    from tests.conftest import EASTERN

    # Given: the demo loaded by a process whose ORDERLEDGER_CLOCK is the test's clock (orderledger_cli sets it)
    assert orderledger_cli(tmp_path, "demo", clock=clock).returncode == 0
    # When: the contract clock runs without --today
    ran = orderledger_cli(tmp_path, "contract-clock", clock=clock)
    # Then: it runs as of that clock's day, and the ledger stamped its events with that clock
    assert ran.returncode == 0, ran.stderr
    assert f"contract clock as of {today.isoformat()}:" in ran.stdout
    ledger = SqliteLedger(tmp_path / "ledger.db")
    try:
        recorded = {e.recorded_at.astimezone(EASTERN).date() for e in ledger.read_all(0, 100_000)}
    finally:
        ledger.close()
    assert recorded == {today}
