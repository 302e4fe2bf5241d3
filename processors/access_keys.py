"""API keys: stored as SHA-256 hashes with a role; the secret is shown once, when created."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from events.publishing.audience import ALL, EVERYTHING, NOTHING, EventGrant
from processors.sql import SqlDatabase

ROLE = re.compile(r"^(broker|integrator|client:[A-Z][A-Z0-9-]{1,15})$")


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: str
    label: str
    granted: EventGrant = NOTHING  # an integrator's event types and organisations (feed, stream, webhooks)

    @property
    def events(self) -> EventGrant:
        """What this key may see of the event feed: a broker everything, an integrator its grant."""
        return EVERYTHING if self.is_broker else self.granted if self.role == "integrator" else NOTHING

    @property
    def is_broker(self) -> bool:
        return self.role == "broker"

    @property
    def client_org(self) -> str | None:
        return self.role.removeprefix("client:") if self.role.startswith("client:") else None

    @property
    def kind(self) -> str:
        """broker, integrator or client (any client:<ORG>): what a route's access names."""
        return "client" if self.client_org else self.role

    def may_see(self, org: str) -> bool:
        """Whether this key sees what belongs to `org`: the broker every organisation's, a client its own,
        an integrator the organisations it was granted (none unless granted)."""
        if self.is_broker:
            return True
        if self.role == "integrator":
            return ALL in self.granted.organisations or org in self.granted.organisations
        return self.client_org == org

    def may_see_shared(self, organisations: Iterable[str]) -> bool:
        """Whether this key sees something several organisations share (a service): a client if its own is
        among them; an integrator only if granted all of them (nothing is shown beyond a grant)."""
        shared = frozenset(organisations)
        if self.client_org:
            return self.client_org in shared
        return all(self.may_see(org) for org in shared)

    @property
    def visible_organisations(self) -> frozenset[str] | None:
        """The organisations whose rows a list may show this key (None: every organisation)."""
        if self.sees_every_organisation:
            return None
        return frozenset({self.client_org}) if self.client_org else self.granted.organisations

    @property
    def sees_every_organisation(self) -> bool:
        """The broker, or an integrator granted every organisation: who sees the broker's own business
        (contracts, suppliers), which concerns no single organisation (as on the event feed)."""
        return self.is_broker or (self.role == "integrator" and ALL in self.granted.organisations)


class InvalidRole(ValueError):
    pass


class KeyStore:
    """Keys live beside the ledger, not in it: a key is a credential, not a business fact."""

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        self._table = f"{db.namespace}api_keys"
        db.script(
            f"""CREATE TABLE IF NOT EXISTS {self._table} (
                key_id TEXT PRIMARY KEY, secret_sha256 TEXT NOT NULL, role TEXT NOT NULL, label TEXT NOT NULL,
                created_at TEXT NOT NULL, revoked_at TEXT);
            CREATE TABLE IF NOT EXISTS {self._table}_grants (
                key_id TEXT PRIMARY KEY, event_types TEXT NOT NULL, organisations TEXT NOT NULL);"""
        )

    def close(self) -> None:
        self.db.close()

    def create(self, role: str, label: str = "", grant: EventGrant | None = None) -> str:
        """A new key; `grant` (integrators only): the event types and organisations it may see."""
        if not ROLE.match(role):
            raise InvalidRole(f"role must be broker, integrator or client:<ORG> (got {role!r})")
        if grant is not None and role != "integrator":
            raise InvalidRole("only an integrator key is granted event types and organisations")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        with self.db.transaction() as tx:
            tx.execute(
                f"INSERT INTO {self._table} (key_id, secret_sha256, role, label, created_at) VALUES (?, ?, ?, ?, ?)",
                (key_id, _digest(secret), role, label, datetime.now(UTC).isoformat()),
            )
            if grant is not None:
                tx.execute(
                    f"INSERT INTO {self._table}_grants (key_id, event_types, organisations) VALUES (?, ?, ?)",
                    (key_id, ",".join(sorted(grant.event_types)), ",".join(sorted(grant.organisations))),
                )
        return f"olk_{key_id}_{secret}"

    def authenticate(self, presented: str) -> Principal | None:
        parts = presented.split("_", 2)
        if len(parts) != 3 or parts[0] != "olk":
            return None
        row = self.db.session().fetchone(self._select_key("k.secret_sha256, "), (parts[1],))
        if row is None or not hmac.compare_digest(row[0], _digest(parts[2])):
            return None
        return _principal(parts[1], row[1:])

    def _select_key(self, extra: str) -> str:
        """A live key by id, with its role, label and grant (`extra`: more columns first)."""
        return (
            f"SELECT {extra}k.role, k.label, g.event_types, g.organisations FROM {self._table} k"
            f" LEFT JOIN {self._table}_grants g ON g.key_id = k.key_id WHERE k.key_id = ? AND k.revoked_at IS NULL"
        )

    def find(self, key_id: str) -> Principal | None:
        """The key by id, if not revoked (what a webhook subscription's owner may still see)."""
        row = self.db.session().fetchone(self._select_key(""), (key_id,))
        return _principal(key_id, row) if row else None

    def revoke(self, key_id: str) -> bool:
        with self.db.transaction() as tx:
            changed = tx.execute(
                f"UPDATE {self._table} SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                (datetime.now(UTC).isoformat(), key_id),
            )
        return changed == 1

    def list(self) -> list[dict[str, str | None]]:
        rows = self.db.session().fetchall(
            f"SELECT key_id, role, label, created_at, revoked_at FROM {self._table} ORDER BY created_at"
        )
        return [dict(zip(("key_id", "role", "label", "created_at", "revoked_at"), r, strict=True)) for r in rows]


def _principal(key_id: str, row: tuple[Any, ...]) -> Principal:
    """From (role, label, granted event types, granted organisations)."""
    role, label, types, organisations = row
    granted = (
        EventGrant(frozenset(filter(None, types.split(","))), frozenset(filter(None, organisations.split(","))))
        if types is not None
        else NOTHING
    )
    return Principal(key_id=key_id, role=role, label=label, granted=granted)


def _digest(secret: str) -> str:
    # Keys are 256-bit random secrets, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(secret.encode()).hexdigest()
