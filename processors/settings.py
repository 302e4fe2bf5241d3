"""Settings, read once from command-line options and ORDERLEDGER_* variables; typos fail at start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

PREFIX = "ORDERLEDGER_"


class SettingsError(Exception):
    pass


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = Field(default=Path("var"), description="where the embedded ledger keeps its files")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"

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
