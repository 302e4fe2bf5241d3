"""Settings, read once from command-line options and ORDERLEDGER_* variables; typos fail at start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

PREFIX = "ORDERLEDGER_"


class SettingsError(Exception):
    pass


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = Field(default=Path("var"), description="where the embedded ledger keeps its files")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # POST /v1/batch carries up to 5,000 commands (an order with many lines is a few kB).
    max_batch_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    # Server mode: set a PostgreSQL URL (the application role) to leave the embedded default.
    database_url: str | None = Field(default=None, pattern=r"^postgres(ql)?://")
    # The schema owner's URL, used to migrate; the application role then only SELECTs and
    # INSERTs on the ledger. Without it the application role migrates (and owns) the schema.
    admin_database_url: str | None = Field(default=None, pattern=r"^postgres(ql)?://")
    kafka_bootstrap: str | None = Field(default=None, description="host:port[,host:port]; enables the relay")
    topic_prefix: str = Field(default="orderledger", pattern=r"^[a-z][a-z0-9.-]*$")
    worker_group: str = "orderledger-projections"
    run_relay: bool = Field(default=True, description="serve also runs the outbox relay (one is active at a time)")
    topic_partitions: int = Field(default=6, ge=1, le=1000)
    topic_replication: int = Field(default=1, ge=1, le=10)
    run_webhooks: bool = Field(default=True, description="serve also runs the webhook dispatcher")
    webhook_allowed_hosts: str = Field(
        default="",
        max_length=4000,
        description="comma list of hosts or CIDRs webhooks may reach although not public (e.g. 10.0.0.0/8)",
    )
    webhook_lease_seconds: int = Field(default=30, ge=16, le=3600, description="a claimed delivery's lease")
    ops_port: int = Field(
        default=9180, ge=1, le=65535, description="worker, relay, webhooks: where /metrics, /healthz, /readyz answer"
    )
    ready_max_lag_events: int = Field(
        default=100_000, ge=0, description="/readyz fails past this relay backlog or projection lag (0: never)"
    )
    verify_every_seconds: int = Field(
        default=3600, ge=0, description="serve walks the hash chain this often; 0: never (run `verify` instead)"
    )
    clock: AwareDatetime | None = Field(
        default=None,
        description="an ISO 8601 instant with its offset where the ledger's clock starts (then runs at real speed);"
        " default: the system clock. For demos, replays and tests of a given day",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        pattern=r"^https?://[^/\s]+(/[^\s]*)?$",
        description="where integrators reach the API: the base of CloudEvents `dataschema` and links",
    )

    @property
    def app_role(self) -> str | None:
        """The user name in the database URL: the role granted SELECT and INSERT on the ledger."""
        if not self.database_url or not self.admin_database_url:
            return None
        from urllib.parse import urlparse

        return urlparse(self.database_url).username

    @property
    def ledger_path(self) -> Path:
        return self.data_dir / "ledger.db"

    @property
    def projections_path(self) -> Path:
        return self.data_dir / "projections.db"


def load_settings(options: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Options given on the command line win over ORDERLEDGER_* variables, which win over defaults."""
    environ = os.environ if environ is None else environ
    known = set(Settings.model_fields)
    values: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(PREFIX):
            continue
        field = name.removeprefix(PREFIX).lower()
        if field not in known:
            raise SettingsError(
                f"unknown setting {name}; known settings: " + ", ".join(PREFIX + k.upper() for k in sorted(known))
            )
        values[field] = value
    values.update({k: v for k, v in (options or {}).items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SettingsError(f"invalid settings: {problems}") from exc
