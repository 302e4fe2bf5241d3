"""Exact money: Canadian dollars as Decimal, given as decimal strings, rounded half-up to cents."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import BeforeValidator, PlainSerializer

Currency = Literal["CAD"]
CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# ASCII digits only (a regex's \d also takes Arabic-Indic and other digits), nothing around them.
_AMOUNT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")
_PRICE = re.compile(r"[0-9]{1,12}(\.[0-9]{1,4})?")
_DECIMAL = re.compile(r"[0-9]{1,12}(\.[0-9]{1,12})?")


def cents(value: Decimal) -> Decimal:
    """Round half-up to the cent, the rule for every line amount."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _parser(pattern: re.Pattern[str], what: str) -> BeforeValidator:
    def parse(value: object) -> Decimal:
        # Floats are refused on purpose: 0.1 + 0.2 is not money.
        if isinstance(value, Decimal):
            text = format(value, "f")
        elif isinstance(value, str):
            text = value
        else:
            raise ValueError(f'{what} must be a decimal string such as "1234.50", not a number')
        if not pattern.fullmatch(text):
            raise ValueError(f'{what} must be a non-negative decimal string such as "1234.50" (got {text[:40]!r})')
        try:
            return Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the pattern already guards it
            raise ValueError(f"{what} is not a decimal number") from exc

    return BeforeValidator(parse)


_as_text = PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="always")

# An amount of money in CAD: ASCII digits, at most 2 decimals (cents), never negative.
Amount = Annotated[Decimal, _parser(_AMOUNT, "an amount"), _as_text]
# A unit price: up to 4 decimals (suppliers price some items to the hundredth of a cent); every amount computed
# from it (a line's net, fees, taxes, totals) is rounded half-up to the cent, so only unit prices carry more.
UnitPrice = Annotated[Decimal, _parser(_PRICE, "a unit price"), _as_text]
# A computed amount (already rounded by the ledger); serialised as text, never as a float.
Money = Annotated[Decimal, _as_text]


def decimal_text(what: str) -> BeforeValidator:
    """A non-money decimal given as text (a rate, a percentage, seconds): ASCII digits, no exponent, never a
    JSON number; its places and bounds are the field's own constraints."""
    return _parser(_DECIMAL, what)
