"""Hash-chain verifications: every run's result is kept, and serve walks the chain on a schedule."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from events.ledger import Ledger, VerifyReport
from processors.sql import SqlDatabase

log = logging.getLogger("orderledger.verify")


@dataclass(frozen=True)
class Verification:
    checked_at: datetime
    ok: bool
    checked: int
    first_bad_position: int | None
    reason: str | None


class VerificationLog:
    """`ledger_verifications`: one row per walk of the chain (by `orderledger verify` or the schedule)."""

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        self._table = f"{db.namespace}ledger_verifications"
        db.script(
            f"""CREATE TABLE IF NOT EXISTS {self._table} (
                checked_at_ms BIGINT NOT NULL, ok INTEGER NOT NULL, checked BIGINT NOT NULL,
                first_bad_position BIGINT, reason TEXT);
            CREATE INDEX IF NOT EXISTS ledger_verifications_at ON {self._table} (checked_at_ms);"""
        )

    def record(self, report: VerifyReport, at: datetime) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                f"INSERT INTO {self._table} (checked_at_ms, ok, checked, first_bad_position, reason)"
                " VALUES (?, ?, ?, ?, ?)",
                (int(at.timestamp() * 1000), int(report.ok), report.checked, report.first_bad_position, report.reason),
            )

    def latest(self) -> Verification | None:
        row = self.db.session().fetchone(
            f"SELECT checked_at_ms, ok, checked, first_bad_position, reason FROM {self._table}"
            " ORDER BY checked_at_ms DESC LIMIT 1"
        )
        if row is None:
            return None
        at_ms, ok, checked, first_bad, reason = row
        return Verification(
            checked_at=datetime.fromtimestamp(int(at_ms) / 1000).astimezone(),
            ok=bool(ok),
            checked=int(checked),
            first_bad_position=int(first_bad) if first_bad is not None else None,
            reason=reason,
        )

    def close(self) -> None:
        self.db.close()


def verify_and_record(ledger: Ledger, verifications: VerificationLog, clock: Callable[[], datetime]) -> VerifyReport:
    report = ledger.verify()
    verifications.record(report, clock())
    if report.ok:
        log.info("hash chain verified: %d events intact", report.checked)
    else:
        log.error("hash chain verification FAILED at position %s: %s", report.first_bad_position, report.reason)
    return report


class ScheduledVerifier:
    """A thread that verifies the whole chain every `every_seconds` (the first run soon after start)."""

    def __init__(
        self,
        ledger: Ledger,
        verifications: VerificationLog,
        clock: Callable[[], datetime],
        every_seconds: float,
        first_after_seconds: float = 60.0,
    ) -> None:
        self.ledger = ledger
        self.verifications = verifications
        self.clock = clock
        self.every_seconds = every_seconds
        self.first_after_seconds = first_after_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chain-verifier", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        wait = self.first_after_seconds
        while not self._stop.wait(wait):
            started = time.monotonic()
            try:
                verify_and_record(self.ledger, self.verifications, self.clock)
            except Exception:  # the ledger may be unreachable for a while: try at the next turn
                log.exception("hash chain verification could not run")
            wait = max(1.0, self.every_seconds - (time.monotonic() - started))
