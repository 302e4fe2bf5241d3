"""Shared shape of every event and command: frozen pydantic models that refuse unknown fields."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Fact(BaseModel):
    """Base of events, commands and their parts: immutable, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")
