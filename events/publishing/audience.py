"""Who may see an event: the organisations it concerns, and what an integrator key was granted.

An event concerns the organisations named on it, or on its stream's opening event (an order's later
events concern the ordering organisation; a service's, every organisation it serves). A fact that
belongs to no single organisation (a contract registered, a month closed, an invoice line left
unassigned) concerns the broker's own business: only a key granted every organisation sees it.
An event that concerns several organisations is shown only to a key granted all of them: nothing
is ever shown that the key was not granted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from events.billing.facts import (
    DisputeResolved,
    InvoiceLineAssigned,
    InvoiceLineDisputed,
    LineRebill,
    OrganisationRegistered,
    SupplierInvoiceReceived,
)
from events.services.facts import IncidentRecord, ServiceRegistered

ALL = "*"
BROKERS_OWN = ""  # concerns no single organisation
FAMILY_WILDCARD = ".*"


def concerned_organisations(event: Any, opening: Any | None = None) -> frozenset[str]:
    """The organisations an event concerns; `opening` is its stream's first event (None if it is that one)."""
    match event:
        case SupplierInvoiceReceived():
            return frozenset(
                line.client_org if line.client_org and line.organisation_known else BROKERS_OWN for line in event.lines
            )
        case InvoiceLineDisputed(withheld=LineRebill() as rebill) | DisputeResolved(rebilled=LineRebill() as rebill):
            return frozenset({rebill.client_org})
        case InvoiceLineAssigned():
            return frozenset({event.rebill.client_org})
        case OrganisationRegistered():
            return frozenset({event.code})
        case ServiceRegistered():
            return frozenset(event.organisations)
    incident = getattr(event, "incident", None)
    if isinstance(incident, IncidentRecord):
        return frozenset(incident.organisations)
    client_org = getattr(event, "client_org", None)
    if isinstance(client_org, str):
        return frozenset({client_org})
    if opening is not None and opening is not event:
        return concerned_organisations(opening)
    return frozenset({BROKERS_OWN})


@dataclass(frozen=True)
class EventGrant:
    """What an integrator key may see: CloudEvents types (or `<prefix>.<family>.*`, or `*`) and organisations."""

    event_types: frozenset[str]
    organisations: frozenset[str]

    def allows_type(self, ce_type: str) -> bool:
        return ALL in self.event_types or any(_matches(pattern, ce_type) for pattern in self.event_types)

    def covers(self, pattern: str) -> bool:
        """Whether everything `pattern` (a type, a family wildcard or `*`) names was granted."""
        if ALL in self.event_types:
            return True
        if pattern == ALL or pattern.endswith(FAMILY_WILDCARD):
            return pattern in self.event_types
        return self.allows_type(pattern)

    def allows(self, ce_type: str, organisations: frozenset[str]) -> bool:
        if not self.allows_type(ce_type):
            return False
        if ALL in self.organisations:
            return True
        return BROKERS_OWN not in organisations and organisations <= self.organisations


EVERYTHING = EventGrant(frozenset({ALL}), frozenset({ALL}))
NOTHING = EventGrant(frozenset(), frozenset())


def _matches(pattern: str, ce_type: str) -> bool:
    if pattern.endswith(FAMILY_WILDCARD):
        return ce_type.startswith(pattern[: -len(FAMILY_WILDCARD)] + ".")
    return pattern == ce_type


def type_patterns(entries: Iterable[str], known: Iterable[str]) -> frozenset[str]:
    """Validated type patterns: each a known CloudEvents type, a known family's wildcard, or `*`.

    ValueError names the first unknown entry, so a typo never silently matches nothing.
    """
    types = set(known)
    families = {t.rsplit(".", 2)[0] for t in types}
    found = set()
    for entry in (e.strip() for e in entries):
        if not entry:
            continue
        if (
            entry != ALL
            and entry not in types
            and not (entry.endswith(FAMILY_WILDCARD) and entry[: -len(FAMILY_WILDCARD)] in families)
        ):
            raise ValueError(f"unknown event type {entry!r}: see GET /v1/schemas for the types")
        found.add(entry)
    return frozenset(found)
