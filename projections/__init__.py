"""Read models built from the ledger: each is a pure function (row, event) -> row plus its columns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from events.ledger import RecordedEvent

Row = TypeVar("Row", bound=BaseModel)


@dataclass(frozen=True)
class Projection(Generic[Row]):
    """How one read model is built; every runner (embedded, faust) applies it the same way.

    - `key(event)`: the row an event touches, or None if the projection ignores it;
    - `project(row, event)`: the row after the event (None deletes it); pure;
    - `columns`: query columns (name -> portable SQL type) extracted by `index(row)`.
    """

    name: str
    version: int
    row_model: type[Row]
    key: Callable[[RecordedEvent], str | None]
    project: Callable[[Row | None, RecordedEvent], Row | None]
    columns: dict[str, str]
    index: Callable[[Row], dict[str, Any]]
