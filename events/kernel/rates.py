"""Sales tax rates and environmental handling fees by province, with effective dates."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from functools import cached_property, lru_cache
from importlib import resources
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict

Province = Literal["AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"]
PROVINCES: tuple[str, ...] = get_args(Province)
# What kind of public body the client is decides which taxes it pays: federal departments and
# agencies pay GST/HST but not the provincial QST/PST/RST; other bodies pay every component.
TaxStatus = Literal["federal", "crown_corporation", "other"]


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    province: Province
    effective_from: date
    effective_to: date | None
    source: str

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


class SalesTaxRate(_Row):
    component: Literal["GST", "HST", "QST", "PST", "RST"]
    rate: Decimal
    exempt_tax_statuses: tuple[TaxStatus, ...] = ()


class HandlingFee(_Row):
    category: str
    amount_per_unit: Decimal


class RateBook(BaseModel):
    """The rates file as a value: pure lookups by province, category, status and date."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    sales_taxes: tuple[SalesTaxRate, ...]
    ehf: tuple[HandlingFee, ...]

    def tax_rates(self, province: str, status: TaxStatus, day: date) -> dict[str, Decimal]:
        """The tax components a client of `status` pays on `day` for a delivery in `province`."""
        return {
            row.component: row.rate
            for row in self._taxes_by_province.get(province, ())
            if row.in_force(day) and status not in row.exempt_tax_statuses
        }

    @cached_property
    def _taxes_by_province(self) -> dict[str, tuple[SalesTaxRate, ...]]:
        """The sales tax rows of each province (every priced line looks its province up)."""
        found: dict[str, list[SalesTaxRate]] = {}
        for row in self.sales_taxes:
            found.setdefault(row.province, []).append(row)
        return {province: tuple(rows) for province, rows in found.items()}

    def handling_fee(self, province: str, category: str, day: date) -> Decimal:
        for row in self.ehf:
            if row.province == province and row.category == category and row.in_force(day):
                return row.amount_per_unit
        return Decimal("0")


@lru_cache(maxsize=1)
def bundled_rate_book() -> RateBook:
    """The rates shipped with orderledger (events/kernel/data/rates.json)."""
    text = resources.files("events.kernel").joinpath("data/rates.json").read_text(encoding="utf-8")
    return RateBook.model_validate(json.loads(text))
