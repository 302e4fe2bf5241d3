"""API keys: stored as SHA-256 hashes with a role; the secret is shown once, when created."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from events.ledger.sqlite import SqliteConnections

ROLE = re.compile(r"^(broker|integrator|client:[A-Z][A-Z0-9-]{1,15})$")
SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id     TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL,
    role       TEXT NOT NULL,
    label      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;
"""


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: str
    label: str

    @property
    def is_broker(self) -> bool:
        return self.role == "broker"

    @property
    def client_org(self) -> str | None:
        return self.role.removeprefix("client:") if self.role.startswith("client:") else None

    def may_see(self, org: str) -> bool:
        return self.role in ("broker", "integrator") or self.client_org == org


class InvalidRole(ValueError):
    pass


class SqliteKeyStore:
    """Keys live beside the ledger (not in it: a key is a credential, not a business fact)."""

    def __init__(self, path: Path | str) -> None:
        self._connections = SqliteConnections(path)
        self._db().executescript(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        return self._connections.get()

    def close(self) -> None:
        self._connections.close()

    def create(self, role: str, label: str = "") -> str:
        if not ROLE.match(role):
            raise InvalidRole(f"role must be broker, integrator or client:<ORG> (got {role!r})")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        self._db().execute(
            "INSERT INTO api_keys (key_id, secret_sha256, role, label, created_at) VALUES (?, ?, ?, ?, ?)",
            (key_id, _digest(secret), role, label, datetime.now(UTC).isoformat()),
        )
        return f"olk_{key_id}_{secret}"

    def authenticate(self, presented: str) -> Principal | None:
        parts = presented.split("_", 2)
        if len(parts) != 3 or parts[0] != "olk":
            return None
        row = (
            self._db()
            .execute(
                "SELECT secret_sha256, role, label FROM api_keys WHERE key_id = ? AND revoked_at IS NULL",
                (parts[1],),
            )
            .fetchone()
        )
        if row is None or not hmac.compare_digest(row[0], _digest(parts[2])):
            return None
        return Principal(key_id=parts[1], role=row[1], label=row[2])

    def revoke(self, key_id: str) -> bool:
        cursor = self._db().execute(
            "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
            (datetime.now(UTC).isoformat(), key_id),
        )
        return cursor.rowcount == 1

    def list(self) -> list[dict[str, str | None]]:
        rows = (
            self._db()
            .execute("SELECT key_id, role, label, created_at, revoked_at FROM api_keys ORDER BY created_at")
            .fetchall()
        )
        return [dict(zip(("key_id", "role", "label", "created_at", "revoked_at"), r, strict=True)) for r in rows]


def _digest(secret: str) -> str:
    # Keys are 256-bit random secrets, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(secret.encode()).hexdigest()
