"""Order numbers, ORD-<year>-NNNNNN: taken from the ledger's number series, never read and incremented."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from events.ledger import Ledger
from events.orders.commands import PlaceOrder

EASTERN = ZoneInfo("America/Toronto")


def order_series(draft: PlaceOrder) -> str:
    """Numbers run per calendar year of placement, Eastern Time: ORD-2026-000001, ORD-2026-000002, ..."""
    return f"ORD-{draft.placed_at.astimezone(EASTERN).year}-"


def order_number(series: str, number: int) -> str:
    return f"{series}{number:06d}"


class HeldNumbers:
    """The numbers one request (a placement, a batch) was given, by series.

    A request that is decided again after a conflict hands out the same numbers in the same order
    (`rewind`), and a refused command of a batch gives its numbers to the next one (`give_back`), so
    retries and refusals inside a request leave no gaps. Numbers are taken from the ledger when first
    needed, as many at once as `expect` announced. Not shared between threads: one per request.
    """

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._held: dict[str, list[int]] = {}
        self._used: dict[str, int] = {}
        self._expected: dict[str, int] = {}

    def expect(self, series: str, count: int) -> None:
        """The request will want about `count` numbers of the series: take them in one allocation."""
        self._expected[series] = count

    def take(self, series: str) -> int:
        held = self._held.setdefault(series, [])
        used = self._used.get(series, 0)
        if used == len(held):
            held.extend(self.ledger.allocate_numbers(series, max(1, self._expected.pop(series, 1))))
        self._used[series] = used + 1
        return held[used]

    def mark(self) -> dict[str, int]:
        """Where each series stands now, for `give_back`."""
        return dict(self._used)

    def give_back(self, mark: dict[str, int]) -> None:
        """The numbers taken since `mark` go to the next command (the one that took them was refused)."""
        self._used = dict(mark)

    def rewind(self) -> None:
        """The request is decided again: hand out the same numbers from the first."""
        self._used = {}
