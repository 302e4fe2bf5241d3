"""Webhook subscriptions, their delivery queue and delivery log: beside the ledger, not in it.

A subscription and its secret are configuration, not business facts, and a secret must never
reach Kafka: they live in their own tables. Times are epoch milliseconds (they compare as numbers
in both databases). A delivery is claimed with a lease (`locked_until`), so a dispatcher killed
mid-delivery leaves it to be claimed again once the lease ends: at least once, never lost.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from processors.sql import SqlDatabase

ACTIVE, DISABLED = "active", "disabled"
PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    owner_key_id: str
    url: str
    event_types: frozenset[str]
    organisations: frozenset[str]  # empty: every organisation the key was granted
    orders: frozenset[str]  # empty: every order
    secret: str
    previous_secret: str | None
    previous_until: int | None
    status: str
    status_reason: str | None
    cursor: int
    created_at: int

    def secrets_at(self, now: int) -> list[str]:
        """The secrets to sign with: during a rotation's overlap, the new one and the previous one."""
        if self.previous_secret and self.previous_until and now < self.previous_until:
            return [self.secret, self.previous_secret]
        return [self.secret]

    def public(self) -> dict[str, Any]:
        """What the API shows: never a secret."""
        return {
            "subscription_id": self.subscription_id,
            "url": self.url,
            "event_types": sorted(self.event_types),
            "organisations": sorted(self.organisations),
            "orders": sorted(self.orders),
            "status": self.status,
            "status_reason": self.status_reason,
            "cursor": self.cursor,
            "created_at_ms": self.created_at,
            "rotation_overlap_until_ms": self.previous_until,
        }


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    subscription_id: str
    position: int
    event_id: str
    stream_id: str
    status: str
    attempts: int
    next_attempt_at: int
    last_status: int | None
    last_error: str | None
    delivered_at: int | None


_SUBSCRIPTION_COLUMNS = (
    "subscription_id, owner_key_id, url, event_types, organisations, orders, secret, previous_secret,"
    " previous_until, status, status_reason, cursor, created_at"
)
_DELIVERY_COLUMNS = (
    "delivery_id, subscription_id, position, event_id, stream_id, status, attempts, next_attempt_at,"
    " last_status, last_error, delivered_at"
)


def _words(text: str) -> frozenset[str]:
    return frozenset(filter(None, text.split(",")))


def _subscription(row: tuple[Any, ...]) -> Subscription:
    return Subscription(
        subscription_id=row[0],
        owner_key_id=row[1],
        url=row[2],
        event_types=_words(row[3]),
        organisations=_words(row[4]),
        orders=_words(row[5]),
        secret=row[6],
        previous_secret=row[7],
        previous_until=row[8],
        status=row[9],
        status_reason=row[10],
        cursor=int(row[11]),
        created_at=int(row[12]),
    )


def _delivery(row: tuple[Any, ...]) -> Delivery:
    return Delivery(*row[:2], int(row[2]), *row[3:6], int(row[6]), int(row[7]), *row[8:11])


class WebhookStore:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        ns = db.namespace
        self._subs, self._deliveries, self._attempts = (
            f"{ns}webhook_subscriptions",
            f"{ns}webhook_deliveries",
            f"{ns}webhook_attempts",
        )
        db.script(
            f"""CREATE TABLE IF NOT EXISTS {self._subs} (
                subscription_id TEXT PRIMARY KEY, owner_key_id TEXT NOT NULL, url TEXT NOT NULL,
                event_types TEXT NOT NULL, organisations TEXT NOT NULL, orders TEXT NOT NULL,
                secret TEXT NOT NULL, previous_secret TEXT, previous_until BIGINT,
                status TEXT NOT NULL, status_reason TEXT, cursor BIGINT NOT NULL, created_at BIGINT NOT NULL);
            CREATE TABLE IF NOT EXISTS {self._deliveries} (
                delivery_id TEXT PRIMARY KEY, subscription_id TEXT NOT NULL, position BIGINT NOT NULL,
                event_id TEXT NOT NULL, stream_id TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
                next_attempt_at BIGINT NOT NULL, last_status INTEGER, last_error TEXT, delivered_at BIGINT,
                locked_until BIGINT, created_at BIGINT NOT NULL);
            CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON {self._deliveries} (status, next_attempt_at);
            CREATE INDEX IF NOT EXISTS webhook_deliveries_stream
                ON {self._deliveries} (subscription_id, stream_id, status, position);
            CREATE TABLE IF NOT EXISTS {self._attempts} (
                delivery_id TEXT NOT NULL, attempt INTEGER NOT NULL, at BIGINT NOT NULL, http_status INTEGER,
                error TEXT, duration_ms INTEGER NOT NULL, PRIMARY KEY (delivery_id, attempt));"""
        )

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------ subscriptions

    def create(
        self,
        owner_key_id: str,
        url: str,
        event_types: frozenset[str],
        organisations: frozenset[str],
        orders: frozenset[str],
        secret: str,
        cursor: int,
        now: int,
    ) -> Subscription:
        subscription_id = "sub_" + secrets.token_hex(8)
        with self.db.transaction() as tx:
            tx.execute(
                f"INSERT INTO {self._subs} ({_SUBSCRIPTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, NULL,"
                " ?, ?)",
                (
                    subscription_id,
                    owner_key_id,
                    url,
                    ",".join(sorted(event_types)),
                    ",".join(sorted(organisations)),
                    ",".join(sorted(orders)),
                    secret,
                    ACTIVE,
                    cursor,
                    now,
                ),
            )
        found = self.get(subscription_id)
        assert found is not None
        return found

    def get(self, subscription_id: str) -> Subscription | None:
        row = self.db.session().fetchone(
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM {self._subs} WHERE subscription_id = ?", (subscription_id,)
        )
        return _subscription(row) if row else None

    def of_owner(self, owner_key_id: str | None) -> list[Subscription]:
        """The owner's subscriptions (None: every subscription)."""
        where, params = ("WHERE owner_key_id = ?", (owner_key_id,)) if owner_key_id else ("", ())
        rows = self.db.session().fetchall(
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM {self._subs} {where} ORDER BY created_at", params
        )
        return [_subscription(r) for r in rows]

    def active(self) -> list[Subscription]:
        rows = self.db.session().fetchall(
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM {self._subs} WHERE status = ? ORDER BY created_at", (ACTIVE,)
        )
        return [_subscription(r) for r in rows]

    def set_status(self, subscription_id: str, status: str, reason: str | None) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                f"UPDATE {self._subs} SET status = ?, status_reason = ? WHERE subscription_id = ?",
                (status, reason, subscription_id),
            )

    def rotate(self, subscription_id: str, secret: str, previous_until: int) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                f"UPDATE {self._subs} SET previous_secret = secret, previous_until = ?, secret = ?"
                " WHERE subscription_id = ?",
                (previous_until, secret, subscription_id),
            )

    # ------------------------------------------------------------ the queue

    def enqueue(
        self, subscription_id: str, events: list[tuple[int, str, str]], cursor: int | None, now: int, replay: int = 0
    ) -> int:
        """Queue deliveries of (position, event id, stream id); move the cursor with them, in one transaction.

        A delivery's id names the subscription, the event's position and the replay number, so
        queueing the same page twice (a dispatcher that crashed before moving the cursor) adds nothing.
        """
        added = 0
        with self.db.transaction() as tx:
            for position, event_id, stream_id in events:
                added += tx.execute(
                    f"INSERT INTO {self._deliveries} (delivery_id, subscription_id, position, event_id, stream_id,"
                    " status, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)"
                    " ON CONFLICT (delivery_id) DO NOTHING",
                    (
                        f"{subscription_id}:{position}:{replay}",
                        subscription_id,
                        position,
                        event_id,
                        stream_id,
                        PENDING,
                        now,
                        now,
                    ),
                )
            if cursor is not None:
                tx.execute(f"UPDATE {self._subs} SET cursor = ? WHERE subscription_id = ?", (cursor, subscription_id))
        return added

    def due(self, now: int, limit: int = 200) -> list[Delivery]:
        """Pending deliveries whose time has come, not leased, first in their stream (per-stream order)."""
        rows = self.db.session().fetchall(
            f"SELECT {_DELIVERY_COLUMNS} FROM {self._deliveries} d WHERE d.status = ? AND d.next_attempt_at <= ?"
            " AND (d.locked_until IS NULL OR d.locked_until < ?)"
            f" AND NOT EXISTS (SELECT 1 FROM {self._deliveries} e WHERE e.subscription_id = d.subscription_id"
            " AND e.stream_id = d.stream_id AND e.status = ? AND e.position < d.position)"
            " ORDER BY d.position LIMIT ?",
            (PENDING, now, now, PENDING, limit),
        )
        return [_delivery(r) for r in rows]

    def claim(self, delivery_id: str, now: int, lease_ms: int) -> bool:
        with self.db.transaction() as tx:
            changed = tx.execute(
                f"UPDATE {self._deliveries} SET locked_until = ? WHERE delivery_id = ? AND status = ?"
                " AND (locked_until IS NULL OR locked_until < ?)",
                (now + lease_ms, delivery_id, PENDING, now),
            )
        return changed == 1

    def record_attempt(
        self,
        delivery: Delivery,
        at: int,
        http_status: int | None,
        error: str | None,
        duration_ms: int,
        status: str,
        next_attempt_at: int,
    ) -> None:
        attempt = delivery.attempts + 1
        with self.db.transaction() as tx:
            tx.execute(
                f"INSERT INTO {self._attempts} (delivery_id, attempt, at, http_status, error, duration_ms)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (delivery.delivery_id, attempt, at, http_status, error, duration_ms),
            )
            tx.execute(
                f"UPDATE {self._deliveries} SET status = ?, attempts = ?, next_attempt_at = ?, last_status = ?,"
                " last_error = ?, delivered_at = ?, locked_until = NULL WHERE delivery_id = ?",
                (
                    status,
                    attempt,
                    next_attempt_at,
                    http_status,
                    error,
                    at if status == DELIVERED else None,
                    delivery.delivery_id,
                ),
            )

    def delivery_counts(self) -> dict[str, tuple[int, int, int]]:
        """Per subscription: (pending, pending after a failed attempt, dead) deliveries; zeros included."""
        session = self.db.session()
        counts = {str(s): (0, 0, 0) for (s,) in session.fetchall(f"SELECT subscription_id FROM {self._subs}")}
        for subscription_id, status, failed, number in session.fetchall(
            f"SELECT subscription_id, status, attempts > 0, COUNT(*) FROM {self._deliveries}"
            " WHERE status IN (?, ?) GROUP BY subscription_id, status, attempts > 0",
            (PENDING, DEAD),
        ):
            pending, retrying, dead = counts.get(subscription_id, (0, 0, 0))
            if status == DEAD:
                dead += int(number)
            else:
                pending += int(number)
                retrying += int(number) if failed else 0
            counts[subscription_id] = (pending, retrying, dead)
        return counts

    def deliveries(self, subscription_id: str, status: str | None = None, limit: int = 100) -> list[Delivery]:
        clause, params = ("AND status = ?", (subscription_id, status)) if status else ("", (subscription_id,))
        rows = self.db.session().fetchall(
            f"SELECT {_DELIVERY_COLUMNS} FROM {self._deliveries} WHERE subscription_id = ? {clause}"
            " ORDER BY position DESC, delivery_id DESC LIMIT ?",
            (*params, limit),
        )
        return [_delivery(r) for r in rows]

    def attempts(self, delivery_id: str) -> list[dict[str, Any]]:
        rows = self.db.session().fetchall(
            f"SELECT attempt, at, http_status, error, duration_ms FROM {self._attempts} WHERE delivery_id = ?"
            " ORDER BY attempt",
            (delivery_id,),
        )
        keys = ("attempt", "at_ms", "http_status", "error", "duration_ms")
        return [dict(zip(keys, r, strict=True)) for r in rows]
