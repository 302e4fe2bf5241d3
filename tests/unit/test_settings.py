"""Settings are read once from options and ORDERLEDGER_* variables; a typo stops the start."""

from __future__ import annotations

from pathlib import Path

import pytest

from processors.settings import SettingsError, load_settings


def test_given_nothing_then_the_embedded_default_needs_no_settings():
    settings = load_settings({}, environ={})
    assert settings.data_dir == Path("var")
    assert settings.ledger_path == Path("var/ledger.db")
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_given_a_variable_and_an_option_then_the_option_wins():
    settings = load_settings({"port": 9001}, environ={"ORDERLEDGER_PORT": "9000", "ORDERLEDGER_DATA_DIR": "/srv"})
    assert settings.port == 9001
    assert settings.data_dir == Path("/srv")


def test_given_a_misspelled_variable_then_start_fails_naming_it_and_the_known_ones():
    with pytest.raises(SettingsError) as error:
        load_settings({}, environ={"ORDERLEDGER_DATADIR": "/srv"})
    assert "ORDERLEDGER_DATADIR" in str(error.value)
    assert "ORDERLEDGER_DATA_DIR" in str(error.value)


def test_given_an_invalid_value_then_start_fails_saying_which():
    with pytest.raises(SettingsError, match="port"):
        load_settings({}, environ={"ORDERLEDGER_PORT": "eighty"})


def test_given_settings_then_they_cannot_be_changed_after_start():
    settings = load_settings({}, environ={})
    with pytest.raises(ValueError):
        settings.port = 1  # type: ignore[misc]


def test_given_a_clock_instant_then_the_ledgers_clock_starts_there_and_runs_on():
    from datetime import UTC, datetime, timedelta

    from processors.clocks import clock_started_at

    settings = load_settings({}, environ={"ORDERLEDGER_CLOCK": "2026-03-08T12:00:00-04:00"})
    assert settings.clock == datetime(2026, 3, 8, 16, 0, tzinfo=UTC)
    assert load_settings({}, environ={}).clock is None  # the system clock
    clock = clock_started_at(settings.clock)
    first, second = clock(), clock()
    assert settings.clock <= first <= second < settings.clock + timedelta(seconds=5)
    assert first.tzinfo == UTC


def test_given_a_clock_instant_without_its_utc_offset_then_start_fails_saying_which():
    with pytest.raises(SettingsError, match="clock"):
        load_settings({}, environ={"ORDERLEDGER_CLOCK": "2026-03-08T12:00:00"})
