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

    - `keys(event)`: the rows an event touches (none if the projection ignores it); an event may
      touch several, e.g. a supplier invoice touches the statement of each organisation it bills;
    - `project(row, event, key)`: the row at `key` after the event (None deletes it); pure;
    - `columns`: query columns (name -> portable SQL type) extracted by `index(row)`.
    """

    name: str
    version: int
    row_model: type[Row]
    keys: Callable[[RecordedEvent], tuple[str, ...]]
    project: Callable[[Row | None, RecordedEvent, str], Row | None]
    columns: dict[str, str]
    index: Callable[[Row], dict[str, Any]]
