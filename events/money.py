"""Exact money: Canadian dollars as Decimal, given as decimal strings, rounded half-up to cents."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import BeforeValidator, PlainSerializer

Currency = Literal["CAD"]
CENT = Decimal("0.01")
ZERO = Decimal("0.00")

_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
_PRICE = re.compile(r"^\d{1,12}(\.\d{1,4})?$")


def cents(value: Decimal) -> Decimal:
    """Round half-up to the cent, the rule for every line amount."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _parser(pattern: re.Pattern[str], what: str) -> BeforeValidator:
    def parse(value: object) -> Decimal:
        # Floats are refused on purpose: 0.1 + 0.2 is not money.
        if isinstance(value, Decimal):
            text = format(value, "f")
        elif isinstance(value, str):
            text = value.strip()
        else:
            raise ValueError(f'{what} must be a decimal string such as "1234.50", not a number')
        if not pattern.match(text):
            raise ValueError(f'{what} must be a non-negative decimal string such as "1234.50" (got {text[:40]!r})')
        try:
            return Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the pattern already guards it
            raise ValueError(f"{what} is not a decimal number") from exc

    return BeforeValidator(parse)


_as_text = PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="always")

# An amount of money in CAD with at most 2 decimals, never negative.
Amount = Annotated[Decimal, _parser(_AMOUNT, "an amount"), _as_text]
# A unit price: up to 4 decimals (suppliers price some items to the tenth of a cent).
UnitPrice = Annotated[Decimal, _parser(_PRICE, "a unit price"), _as_text]
# A computed amount (already rounded by the ledger); serialised as text, never as a float.
Money = Annotated[Decimal, _as_text]
