"""The ledger port's guarantees, run against every adapter (the PostgreSQL one joins in server mode)."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from events.ledger import (
    NO_STREAM,
    CommandRecord,
    DuplicateCommand,
    Ledger,
    NewEvent,
    StreamAppend,
    StreamVersionConflict,
)
from events.ledger.chain import GENESIS_HASH
from events.ledger.postgres import PostgresLedger, migrate
from events.ledger.sqlite import SqliteLedger
from tests.conftest import PostgresDatabase
from tests.contract.test_modes import ticking_clock


def sqlite_ledger(tmp_path: Path) -> SqliteLedger:
    return SqliteLedger(tmp_path / "ledger.db", clock=ticking_clock())


def postgres_ledger(database: PostgresDatabase) -> PostgresLedger:
    migrate(database.admin_url, "orderledger_app")
    return PostgresLedger(database.app_url, clock=ticking_clock())


@pytest.fixture(params=["sqlite", "postgres"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    if request.param == "sqlite":
        adapter: Ledger = sqlite_ledger(tmp_path)
    else:
        adapter = postgres_ledger(request.getfixturevalue("pg_database"))
    yield adapter
    adapter.close()


def fact(n: int = 0, kind: str = "Noted") -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4(),
        type=kind,
        schema_version=1,
        stream_type="test",
        data={"n": n, "amount": "10.05"},
        occurred_at=datetime(2026, 11, 2, tzinfo=UTC),
        actor="test",
        correlation_id=uuid.uuid4(),
    )


def test_given_a_new_stream_when_events_are_appended_then_versions_and_positions_count_up_without_gaps(ledger):
    # When
    first = ledger.append("s-1", NO_STREAM, [fact(1), fact(2)])
    second = ledger.append("s-2", NO_STREAM, [fact(3)])
    third = ledger.append("s-1", 2, [fact(4)])
    # Then
    assert (first.stream_version, first.first_position, first.last_position) == (2, 1, 2)
    assert (second.first_position, third.first_position, third.stream_version) == (3, 4, 3)
    assert [e.position for e in ledger.read_all(0)] == [1, 2, 3, 4]
    assert [e.data["n"] for e in ledger.read_stream("s-1")] == [1, 2, 4]
    assert ledger.head() == 4


def test_given_a_stream_at_version_2_when_appending_expecting_1_then_conflict_and_nothing_appended(ledger):
    # Given
    ledger.append("s-1", NO_STREAM, [fact(1), fact(2)])
    # When / Then
    with pytest.raises(StreamVersionConflict) as conflict:
        ledger.append("s-1", 1, [fact(3)])
    assert (conflict.value.expected, conflict.value.actual) == (1, 2)
    assert ledger.head() == 2
    with pytest.raises(StreamVersionConflict):
        ledger.append("s-1", NO_STREAM, [fact(3)])


def test_given_a_batch_with_one_conflicting_stream_when_appended_then_nothing_of_it_is_appended(ledger):
    # Given
    ledger.append("s-2", NO_STREAM, [fact(1)])
    # When
    with pytest.raises(StreamVersionConflict):
        ledger.append_batch(
            [
                StreamAppend(stream_id="s-1", expected_version=NO_STREAM, events=(fact(2), fact(3))),
                StreamAppend(stream_id="s-2", expected_version=NO_STREAM, events=(fact(4),)),
            ]
        )
    # Then
    assert ledger.head() == 1
    assert ledger.read_stream("s-1") == []


def test_given_events_when_read_back_then_each_holds_its_predecessors_hash_and_verify_passes(ledger):
    # Given
    ledger.append("s-1", NO_STREAM, [fact(1), fact(2), fact(3)])
    # When
    events = ledger.read_all(0)
    # Then
    assert events[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert len({e.hash for e in events}) == 3
    report = ledger.verify()
    assert report.ok and report.checked == 3


def test_given_business_and_ledger_time_when_recorded_then_both_are_kept(ledger):
    ledger.append("s-1", NO_STREAM, [fact(1)])
    event = ledger.read_all(0)[0]
    assert event.occurred_at == datetime(2026, 11, 2, tzinfo=UTC)
    assert event.recorded_at > event.occurred_at


def test_given_an_idempotency_key_when_used_twice_then_the_second_append_is_refused_and_the_first_found(ledger):
    # Given
    ledger.append("s-1", NO_STREAM, [fact(1)], CommandRecord(key="k-1", request_hash="h"))
    # When / Then
    with pytest.raises(DuplicateCommand):
        ledger.append("s-2", NO_STREAM, [fact(2)], CommandRecord(key="k-1", request_hash="h"))
    outcome = ledger.find_command("k-1")
    assert outcome is not None and outcome.results[0].stream_id == "s-1"
    assert ledger.head() == 1


def test_given_many_writers_at_once_then_positions_are_unique_gapless_and_the_chain_holds(ledger):
    # When: 8 threads each append 25 events to their own stream
    def writer(n: int) -> None:
        version = NO_STREAM
        for i in range(25):
            version = ledger.append(f"w-{n}", version, [fact(i)]).stream_version

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then
    assert [e.position for e in ledger.read_all(0, 1000)] == list(range(1, 201))
    assert ledger.verify().ok


# ---------------------------------------------------------------- number series (order numbers)


def test_given_number_series_when_numbers_are_allocated_then_each_series_counts_up_on_its_own(ledger):
    assert list(ledger.allocate_numbers("ORD-2026-")) == [1]
    assert list(ledger.allocate_numbers("ORD-2026-", 3)) == [2, 3, 4]
    assert list(ledger.allocate_numbers("ORD-2027-")) == [1]
    assert list(ledger.allocate_numbers("ORD-2026-")) == [5]


def test_given_numbered_streams_written_before_the_series_then_its_first_number_follows_the_highest(ledger):
    # Given: orders of a ledger that numbered them by reading the last one (before number series)
    for stream_id in ("ORD-2026-000009", "ORD-2026-000010", "ORD-2026-000010-note", "ORD-2027-000001"):
        ledger.append(stream_id, NO_STREAM, [fact()])
    ledger.append("ORD-2026-000010", 1, [fact()])
    # When / Then: the digits-only ids of the series count, nothing else
    assert list(ledger.allocate_numbers("ORD-2026-")) == [11]
    assert list(ledger.allocate_numbers("ORD-2025-")) == [1]


def test_given_many_threads_allocating_at_once_then_no_number_is_handed_out_twice(ledger):
    # Given: 8 threads released together, each taking 25 allocations of 1 or 3 numbers from two series,
    # the first allocation of each series among them
    start = threading.Barrier(8)
    taken: dict[str, list[int]] = {"ORD-2026-": [], "ORD-2027-": []}
    failures: list[BaseException] = []

    def allocator(n: int) -> None:
        try:
            start.wait()
            for i in range(25):
                series = "ORD-2026-" if (n + i) % 2 else "ORD-2027-"
                taken[series].extend(ledger.allocate_numbers(series, 1 + 2 * (i % 2)))
        except BaseException as failure:  # reported by the test thread below
            failures.append(failure)

    threads = [threading.Thread(target=allocator, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then: every number once, none skipped
    assert failures == []
    for numbers in taken.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    assert sum(len(numbers) for numbers in taken.values()) == 8 * (13 * 1 + 12 * 3)


# ---------------------------------------------------------------- SQLite only: the database refuses


def test_given_the_sqlite_ledger_when_a_row_is_updated_or_deleted_then_the_database_refuses(tmp_path):
    # Given
    ledger = sqlite_ledger(tmp_path)
    ledger.append("s-1", NO_STREAM, [fact(1)])
    raw = sqlite3.connect(tmp_path / "ledger.db")
    # When / Then
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("UPDATE ledger_events SET data = '{}' WHERE position = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("DELETE FROM ledger_events")
    raw.close()
    assert ledger.verify().ok


def test_given_a_tampered_row_with_the_trigger_dropped_when_verified_then_that_position_is_named(tmp_path):
    # Given
    ledger = sqlite_ledger(tmp_path)
    for n in range(5):
        ledger.append(f"s-{n}", NO_STREAM, [fact(n)])
    raw = sqlite3.connect(tmp_path / "ledger.db")
    raw.execute("DROP TRIGGER ledger_events_no_update")
    raw.execute("""UPDATE ledger_events SET data = '{"amount":"99.99","n":3}' WHERE position = 4""")
    raw.commit()
    raw.close()
    # When
    report = ledger.verify()
    # Then
    assert not report.ok
    assert report.first_bad_position == 4
    assert report.checked == 3


def in_threads_that_end(work: Callable[[], object], threads: int = 10) -> None:
    """Runs `work` once in each of `threads` threads, one after another, as a server's idle workers come and go."""
    for _ in range(threads):
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()


def test_given_threads_that_came_and_went_then_the_sqlite_ledger_keeps_no_file_open_for_them(tmp_path):
    # Given: a ledger read by threads that have ended (a server's worker threads end when idle)
    ledger = sqlite_ledger(tmp_path)
    counted: list[int] = []

    def read_and_count() -> None:
        ledger.read_all(0)
        counted.append(sum(1 for fd in Path("/proc/self/fd").iterdir() if fd.resolve() == ledger.path.resolve()))

    for threads in (10, 40):
        in_threads_that_end(lambda: ledger.read_all(0), threads)
        # When: a new thread reads
        in_threads_that_end(read_and_count, 1)
    # Then: the database is open for the thread that made the ledger and the one reading (and SQLite
    # keeps one closed connection's descriptor while the process holds a lock on the file), however
    # many threads came before
    assert counted[0] == counted[1] <= 3
    ledger.close()


# ---------------------------------------------------------------- PostgreSQL only


def test_given_threads_that_came_and_went_then_the_postgres_ledger_keeps_no_connection_for_them(pg_database):
    import psycopg

    # Given: a ledger read by 10 threads that have ended (a server's worker threads end when idle)
    ledger = postgres_ledger(pg_database)
    in_threads_that_end(ledger.head)
    # When: a new thread reads
    counted: list[int] = []

    def read_and_count() -> None:
        ledger.head()
        with psycopg.connect(pg_database.admin_url, autocommit=True) as owner:
            row = owner.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND usename = 'orderledger_app'"
            ).fetchone()
            counted.append(row[0] if row else -1)

    in_threads_that_end(read_and_count, 1)
    # Then: one connection, the reading thread's: those of the ended threads were closed
    assert counted == [1]
    ledger.close()


def test_given_the_postgres_ledger_then_the_app_role_may_not_update_and_the_owner_hits_the_trigger(pg_database):
    import psycopg

    # Given
    ledger = postgres_ledger(pg_database)
    ledger.append("s-1", NO_STREAM, [fact(1)])
    # When / Then: the application role has no UPDATE or DELETE privilege at all
    with psycopg.connect(pg_database.app_url, autocommit=True) as app:
        for statement in ("UPDATE ledger.ledger_events SET actor = 'x'", "DELETE FROM ledger.ledger_events"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                app.execute(statement)
    # and even the owner is stopped by the trigger
    with psycopg.connect(pg_database.admin_url, autocommit=True) as owner:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            owner.execute("UPDATE ledger.ledger_events SET actor = 'x'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            owner.execute("TRUNCATE ledger.ledger_events")
    assert ledger.verify().ok
    ledger.close()


def test_given_a_tampered_postgres_row_when_verified_then_that_position_is_named(pg_database):
    import psycopg

    ledger = postgres_ledger(pg_database)
    for n in range(4):
        ledger.append(f"s-{n}", NO_STREAM, [fact(n)])
    with psycopg.connect(pg_database.admin_url, autocommit=True) as owner:
        owner.execute("ALTER TABLE ledger.ledger_events DISABLE TRIGGER ledger_events_append_only")
        owner.execute("""UPDATE ledger.ledger_events SET data = '{"amount": "0.01", "n": 2}' WHERE position = 3""")
    report = ledger.verify()
    assert (report.ok, report.first_bad_position) == (False, 3)
    ledger.close()


def test_given_an_append_held_open_then_no_reader_ever_sees_a_later_position_first(pg_database):
    """The trap of sequence-based positions: a reader past 12 never sees 11 commit late."""
    # Given: one append that holds its transaction open for 2 s before committing
    release = threading.Event()
    holding = threading.Event()

    def hold() -> None:
        holding.set()
        release.wait(5)

    slow = postgres_ledger(pg_database)
    slow.before_commit = hold
    fast = PostgresLedger(pg_database.app_url, clock=ticking_clock())
    reader = PostgresLedger(pg_database.app_url)
    slow_thread = threading.Thread(target=lambda: slow.append("slow", NO_STREAM, [fact(0)]))
    slow_thread.start()
    assert holding.wait(5)
    # When: others append meanwhile, and a reader tails the ledger as a processor would
    writers = [threading.Thread(target=lambda n=n: fast.append(f"fast-{n}", NO_STREAM, [fact(n)])) for n in range(5)]
    for writer in writers:
        writer.start()
    seen: list[int] = []
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        seen.extend(e.position for e in reader.read_all(seen[-1] if seen else 0))
        time.sleep(0.05)
    assert seen == []  # nothing may be visible past the open append
    release.set()
    slow_thread.join()
    for writer in writers:
        writer.join()
    while len(seen) < 6:
        seen.extend(e.position for e in reader.read_all(seen[-1] if seen else 0))
    # Then: the reader saw every position, in order, none skipped
    assert seen == [1, 2, 3, 4, 5, 6]
    assert reader.read_all(0)[0].stream_id == "slow"
    for adapter in (slow, fast, reader):
        adapter.close()


def test_given_an_append_held_open_then_numbers_are_still_allocated_at_once(pg_database):
    """Numbers are taken outside the append lock: a slow append (or a group commit) holds up no one's number."""
    import psycopg

    # Given: an append holding its transaction (and the append lock) open
    release, holding = threading.Event(), threading.Event()

    def hold() -> None:
        holding.set()
        release.wait(10)

    slow = postgres_ledger(pg_database)
    slow.before_commit = hold
    numbers = PostgresLedger(pg_database.app_url)
    slow_thread = threading.Thread(target=lambda: slow.append("slow", NO_STREAM, [fact(0)]))
    slow_thread.start()
    assert holding.wait(5)
    try:
        # When: numbers of a series are allocated meanwhile
        started = time.monotonic()
        allocated = [n for _ in range(5) for n in numbers.allocate_numbers("ORD-2026-")]
        # Then: at once, and the application role may move the counters but not remove them
        assert time.monotonic() - started < 1
        assert allocated == [1, 2, 3, 4, 5]
        with psycopg.connect(pg_database.app_url, autocommit=True) as app:
            for statement in ("DELETE FROM ledger.number_series", "TRUNCATE ledger.number_series"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                    app.execute(statement)
    finally:
        release.set()
        slow_thread.join()
        slow.close()
        numbers.close()
